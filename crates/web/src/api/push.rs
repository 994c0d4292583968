//! "Push to Integrators": findings and groups pushed by hand, one or many at once. Pushes are
//! queued (manual pushes before automatic ones) and run by the workers; the answer says which
//! tickets will be pushed, and why a subject was not.

use crate::api::{ApiPath, findings, groups, require};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::tracker::Subject;
use domain::{Action, Actor, FindingGroupId, FindingId};
use engine::integrations::enqueue::{self, NotQueued, Queued};
use serde::{Deserialize, Serialize};
use store::AsConn;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(push_many)).routes(routes!(push_finding)).routes(routes!(push_group))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PushQueued {
    /// One push per mapping the subject's product or engagement is assigned to (a grouped
    /// finding is pushed as its group).
    pub queued: Vec<Queued>,
    /// Subjects nothing was queued for, and why.
    pub not_queued: Vec<NotQueued>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    #[serde(default)]
    pub findings: Vec<FindingId>,
    #[serde(default)]
    pub groups: Vec<FindingGroupId>,
}

/// At most this many subjects in one request (larger sets: several requests, or the CLI).
pub const MAX_SUBJECTS: usize = 10_000;

async fn check(c: &mut impl AsConn, actor: &Actor, subjects: &[Subject]) -> ApiResult<()> {
    for (i, s) in subjects.iter().enumerate() {
        let product = match s {
            Subject::Finding(f) => findings::visible(c, actor, *f, Some(&format!("findings[{i}]"))).await?.product,
            Subject::Group(g) => groups::visible(c, actor, *g).await.map_err(|_| ApiError::invalid(format!("groups[{i}]"), format!("finding group {g} not found")))?.product,
        };
        require(actor, Action::Write, product, "pushing to integrators")?;
    }
    Ok(())
}

/// Checks the actor may push every subject, then queues the pushes (API and UI alike).
pub async fn queue(s: &AppState, actor: &Actor, subjects: Vec<Subject>) -> ApiResult<PushQueued> {
    let mut tx = s.app.db().begin().await?;
    check(&mut tx, actor, &subjects).await?;
    let (queued, not_queued) = enqueue::manual(&mut tx, &subjects, &actor.username).await?;
    tx.commit().await?;
    Ok(PushQueued { queued, not_queued })
}

async fn push(s: &AppState, actor: &Actor, subjects: Vec<Subject>) -> ApiResult<(StatusCode, Json<PushQueued>)> {
    Ok((StatusCode::ACCEPTED, Json(queue(s, actor, subjects).await?)))
}

/// Pushes many findings and groups at once. Needs the writer role on their products.
#[utoipa::path(post, path = "/api/v1/push", tag = "integrations", request_body = PushRequest,
    responses((status = 202, body = PushQueued), (status = 403, body = Problem), (status = 422, body = Problem)), security(("token" = [])))]
async fn push_many(State(s): State<AppState>, Auth(actor): Auth, ApiJson(req): ApiJson<PushRequest>) -> ApiResult<(StatusCode, Json<PushQueued>)> {
    let subjects: Vec<Subject> = req
        .findings
        .iter()
        .map(|f| Subject::Finding(*f))
        .chain(req.groups.iter().map(|g| Subject::Group(*g)))
        .collect();
    if subjects.is_empty() {
        return Err(ApiError::invalid("findings", "name at least one finding or group to push"));
    }
    if subjects.len() > MAX_SUBJECTS {
        return Err(ApiError::invalid("findings", format!("at most {MAX_SUBJECTS} findings and groups per request")));
    }
    push(&s, &actor, subjects).await
}

/// Pushes a finding (as its group's ticket if it is grouped). Needs the writer role.
#[utoipa::path(post, path = "/api/v1/findings/{id}/push", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 202, body = PushQueued), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn push_finding(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<(StatusCode, Json<PushQueued>)> {
    let mut c = s.app.db().conn().await?;
    findings::visible(&mut c, &actor, FindingId(id), None).await?;
    drop(c);
    push(&s, &actor, vec![Subject::Finding(FindingId(id))]).await
}

/// Pushes a finding group as one ticket listing its findings. Needs the writer role.
#[utoipa::path(post, path = "/api/v1/finding-groups/{id}/push", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 202, body = PushQueued), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn push_group(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<(StatusCode, Json<PushQueued>)> {
    let mut c = s.app.db().conn().await?;
    groups::visible(&mut c, &actor, FindingGroupId(id)).await?;
    drop(c);
    push(&s, &actor, vec![Subject::Group(FindingGroupId(id))]).await
}
