//! `/api/v1/jobs`: the background queue, for administrators.

use crate::api::{ApiPath, page_type, require_global};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use domain::{Action, JobId};
use serde::Deserialize;
use store::PageRequest;
use store::jobs::{self, Job, JobStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(retry))
}

page_type!(JobPage, Job);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `queued`, `running`, `done` or `dead`.
    status: Option<String>,
    kind: Option<String>,
    queue: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Background jobs, newest first. Administrators only.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, body = JobPage), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<JobPage>> {
    require_global(&actor, Action::Administer, "reading the job queue")?;
    let status = match q.status.as_deref() {
        None => None,
        Some(v) => Some(JobStatus::parse(v).ok_or_else(|| {
            crate::error::ApiError::invalid("status", format!("unknown job status '{v}'; use queued, running, done or dead"))
        })?),
    };
    let page = PageRequest::new(q.limit, q.offset);
    let filter = jobs::Filter { status, kind: q.kind, queue: q.queue };
    let mut c = s.app.db().conn().await?;
    let found = jobs::list(&mut c, &filter, page).await?;
    Ok(Json(JobPage::new(&uri, page, found)))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Job>> {
    require_global(&actor, Action::Administer, "reading the job queue")?;
    let mut c = s.app.db().conn().await?;
    Ok(Json(jobs::get(&mut c, JobId(id)).await?))
}

/// Queues a dead job again with fresh attempts.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn retry(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Job>> {
    require_global(&actor, Action::Administer, "retrying jobs")?;
    let mut c = s.app.db().conn().await?;
    Ok(Json(jobs::retry(&mut c, JobId(id)).await?))
}
