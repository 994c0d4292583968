use crate::api::{ApiPath, page_type, parse_list, require, tests, visible_or_hidden};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use domain::{
    Action, Actor, EngagementId, Finding, FindingGroupId, FindingId, FindingPatch, HistoryEntry,
    NewFinding, ProductId, Severity, Status, TestId,
};
use serde::Deserialize;
use store::findings::{self, Filter, Ordering};
use engine::integrations::enqueue;
use store::{AsConn, PageRequest, history};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(get_history))
        .routes(routes!(list_notes, add_note))
}

/// Notes on a finding, oldest first: written here, or comments coming back from a tracker
/// that syncs them.
#[utoipa::path(get, path = "/api/v1/findings/{id}/notes", tag = "findings", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<store::notes::Note>), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn list_notes(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<store::notes::Note>>> {
    let mut c = s.app.db().conn().await?;
    let f = visible(&mut c, &actor, FindingId(id), None).await?;
    Ok(Json(store::notes::list(&mut c, f.id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub text: String,
}

/// Adds a note; on tickets of mappings that sync comments (Jira), it is also posted as a
/// comment. Needs the writer role.
#[utoipa::path(post, path = "/api/v1/findings/{id}/notes", tag = "findings", params(("id" = i64, Path)), request_body = NewNote,
    responses((status = 201, body = store::notes::Note), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn add_note(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewNote>,
) -> ApiResult<(StatusCode, Json<store::notes::Note>)> {
    let text = new.text.trim();
    if text.is_empty() || text.chars().count() > 20_000 {
        return Err(ApiError::invalid("text", "must be 1 to 20,000 characters"));
    }
    let mut tx = s.app.db().begin().await?;
    let f = visible(&mut tx, &actor, FindingId(id), None).await?;
    require(&actor, Action::Write, f.product, "adding a note")?;
    let note = store::notes::add(&mut tx, f.id, &actor.username, text, "vulnbridge", None).await?;
    enqueue::after_note(&mut tx, f.id, &actor.username, text).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// A finding with its tickets (one per mapping it was pushed through).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FindingOut {
    #[serde(flatten)]
    pub finding: Finding,
    pub tickets: Vec<crate::api::tickets::TicketOut>,
}

async fn with_tickets(c: &mut impl AsConn, list: Vec<Finding>) -> ApiResult<Vec<FindingOut>> {
    let ids: Vec<FindingId> = list.iter().map(|f| f.id).collect();
    let mut by = crate::api::tickets::for_findings(c, &ids).await?;
    Ok(list.into_iter().map(|f| FindingOut { tickets: by.remove(&f.id).unwrap_or_default(), finding: f }).collect())
}

page_type!(FindingPage, FindingOut);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    product: Option<i64>,
    engagement: Option<i64>,
    test: Option<i64>,
    finding_group: Option<i64>,
    /// Comma-separated: `high,critical`.
    severity: Option<String>,
    /// Comma-separated: `active,in_progress`.
    status: Option<String>,
    /// Only open (`true`: active, in progress, awaiting validation) or only not-open findings.
    open: Option<bool>,
    verified: Option<bool>,
    /// Primary CWE number.
    cwe: Option<i32>,
    /// An exact identifier: `CVE-2021-44228`, `GHSA-…`.
    vulnerability_id: Option<String>,
    /// Component name contains (case-insensitive).
    component: Option<String>,
    /// Title, component, file path or rule id contains (case-insensitive).
    q: Option<String>,
    /// The report format of the finding's test, exactly.
    scan_type: Option<String>,
    /// `-severity` (default), `severity`, `-id`, `id`, `title`, `-last_seen`.
    ordering: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Findings you can see, filtered.
#[utoipa::path(get, path = "/api/v1/findings", tag = "findings", params(ListQuery),
    responses((status = 200, body = FindingPage), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<FindingPage>> {
    let page = PageRequest::new(q.limit, q.offset);
    let ordering = match q.ordering.as_deref() {
        None => Ordering::default(),
        Some(o) => Ordering::parse(o).ok_or_else(|| {
            ApiError::invalid("ordering", format!("unknown ordering '{o}'; use one of {}", Ordering::CHOICES))
        })?,
    };
    let filter = Filter {
        product: q.product.map(ProductId),
        engagement: q.engagement.map(EngagementId),
        test: q.test.map(TestId),
        finding_group: q.finding_group.map(FindingGroupId),
        severities: parse_list("severity", q.severity.as_deref(), Severity::parse)?,
        statuses: parse_list("status", q.status.as_deref(), Status::parse)?,
        open: q.open,
        verified: q.verified,
        cwe: q.cwe,
        vulnerability_id: q.vulnerability_id,
        component: q.component,
        text: q.q,
        scan_type: q.scan_type,
        ordering,
    };
    let mut c = s.app.db().conn().await?;
    let found = findings::list(&mut c, &filter, &actor.visibility(), page).await?;
    let count = found.count;
    let results = with_tickets(&mut c, found.results).await?;
    Ok(Json(FindingPage::new(&uri, page, store::Page { count, results })))
}

/// Records a finding by hand in a test. Needs the writer role on its product.
#[utoipa::path(post, path = "/api/v1/findings", tag = "findings", request_body = NewFinding,
    responses((status = 201, body = Finding), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(new): ApiJson<NewFinding>,
) -> ApiResult<(StatusCode, Json<Finding>)> {
    let new = new.normalize()?;
    let mut tx = s.app.db().begin().await?;
    let test = tests::visible(&mut tx, &actor, new.test, Some("test")).await?;
    require(&actor, Action::Write, test.product, "recording a finding")?;
    let finding = new.into_finding(&test, store::now(), None);
    let mut stored = findings::insert_many(&mut tx, vec![finding], findings::Seen::At).await?;
    let f = stored.remove(0);
    history::record(&mut tx, f.id, &actor.username, "created", serde_json::json!({})).await?;
    enqueue::after_created(&mut tx, &[f.id]).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(f)))
}

pub async fn visible(c: &mut impl AsConn, actor: &Actor, id: FindingId, field: Option<&str>) -> ApiResult<Finding> {
    visible_or_hidden(findings::get(c, id).await, |f| f.product, actor, "finding", id, field)
}

/// A finding with its tickets and their changelogs.
#[utoipa::path(get, path = "/api/v1/findings/{id}", tag = "findings", params(("id" = i64, Path)),
    responses((status = 200, body = FindingOut), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<FindingOut>> {
    let mut c = s.app.db().conn().await?;
    let f = visible(&mut c, &actor, FindingId(id), None).await?;
    let mut out = with_tickets(&mut c, vec![f]).await?.remove(0);
    out.tickets = crate::api::tickets::with_changelogs(&mut c, out.tickets).await?;
    Ok(Json(out))
}

/// Who changed what on a finding, oldest first.
#[utoipa::path(get, path = "/api/v1/findings/{id}/history", tag = "findings", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get_history(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<HistoryEntry>>> {
    let mut c = s.app.db().conn().await?;
    let f = visible(&mut c, &actor, FindingId(id), None).await?;
    Ok(Json(history::list(&mut c, f.id).await?))
}

/// Changes a finding (triage: status, severity, verified…). Closing stamps `mitigated_at` and
/// `mitigated_by`; reopening clears them. Needs the writer role on its product.
#[utoipa::path(patch, path = "/api/v1/findings/{id}", tag = "findings", params(("id" = i64, Path)),
    request_body = FindingPatch,
    responses((status = 200, body = Finding), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(mut patch): ApiJson<FindingPatch>,
) -> ApiResult<Json<Finding>> {
    patch.check()?;
    let mut tx = s.app.db().begin().await?;
    let saved = change(&mut tx, &actor, FindingId(id), patch, None).await?;
    tx.commit().await?;
    Ok(Json(saved))
}

/// Applies a checked patch to a finding the actor may change, in the caller's transaction:
/// records the history and lets its tickets follow. A patch that changes nothing writes
/// nothing. Shared by the API's PATCH and the UI's bulk status change; `field` names the
/// request field the id came from, if any (a finding the actor cannot see is then a 422).
pub async fn change(c: &mut impl AsConn, actor: &Actor, id: FindingId, patch: FindingPatch, field: Option<&str>) -> ApiResult<Finding> {
    let before = visible(c, actor, id, field).await?;
    require(actor, Action::Write, before.product, "changing a finding")?;
    let mut after = before.clone();
    after.apply(patch, store::now(), &actor.username);
    let changes = Finding::diff(&before, &after);
    if changes.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(before);
    }
    let saved = findings::update(c, &after).await?;
    history::record(c, saved.id, &actor.username, "updated", changes).await?;
    // Its tickets follow (by the assignments' push modes).
    enqueue::after_changed(c, &[saved.id]).await?;
    Ok(saved)
}

/// Deletes a finding. Needs the maintainer role on its product.
#[utoipa::path(delete, path = "/api/v1/findings/{id}", tag = "findings", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn delete(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    let mut tx = s.app.db().begin().await?;
    let f = visible(&mut tx, &actor, FindingId(id), None).await?;
    require(&actor, Action::Manage, f.product, "deleting a finding")?;
    findings::delete(&mut tx, f.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
