//! `/api/v1/connectors`, `/api/v1/records`, `/api/v1/operations`: scanners pulled through
//! their APIs. Connectors (secrets never shown), the Records Discover found and their mapping
//! to Products, Discover and Sync by hand, the operations log.
//!
//! Rights: any global role reads; the global maintainer role (or admin) configures connectors,
//! decides about Records and runs operations.

use crate::api::{ApiPath, page_type, require_global};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use domain::connector::{Connector, Operation, OperationKind, OperationStatus, OperationTrigger, Record, RecordState, Tool};
use domain::{Action, Actor, ConnectorId, OperationId, RecordId};
use engine::connectors::configure::{self, ConnectorPatch, NewConnectorInput, RecordDecision};
use scanners::connectors::SecretSpec;
use serde::{Deserialize, Serialize};
use store::PageRequest;
use store::connectors::{self, OperationFilter, RecordFilter};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tools))
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(check))
        .routes(routes!(discover))
        .routes(routes!(sync))
        .routes(routes!(list_records))
        .routes(routes!(decide_record, delete_record))
        .routes(routes!(list_operations))
        .routes(routes!(get_operation))
}

/// Connectors span every product: reading them needs a global role (API and UI).
pub fn read(actor: &Actor) -> ApiResult<()> {
    if actor.global_role.is_some() { Ok(()) } else { Err(ApiError::forbidden("reading connectors needs a global role")) }
}

/// Configuring connectors, deciding about Records and running operations needs the global
/// maintainer role (API and UI).
pub fn manage(actor: &Actor, doing: &str) -> ApiResult<()> {
    require_global(actor, Action::Manage, doing)
}

/// A tool vulnbridge can connect to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ToolOut {
    pub tool: Tool,
    pub label: &'static str,
    /// What one Record of it is (`project`, `site`, `account and region`).
    pub record_kind: &'static str,
    /// The scan type of the Tests its connectors write.
    pub scan_type: &'static str,
    /// The secrets a connector of it needs.
    pub secrets: &'static [SecretSpec],
}

/// The tools connectors exist for, and what each needs.
#[utoipa::path(get, path = "/api/v1/connectors/tools", tag = "connectors",
    responses((status = 200, body = Vec<ToolOut>)), security(("token" = [])))]
async fn tools(Auth(actor): Auth) -> ApiResult<Json<Vec<ToolOut>>> {
    read(&actor)?;
    Ok(Json(
        Tool::ALL
            .into_iter()
            .map(|t| ToolOut { tool: t, label: t.label(), record_kind: t.record_kind(), scan_type: t.scan_type(), secrets: scanners::connectors::secret_names(t) })
            .collect(),
    ))
}

/// Connectors, by label.
#[utoipa::path(get, path = "/api/v1/connectors", tag = "connectors",
    responses((status = 200, body = Vec<Connector>), (status = 403, body = Problem)), security(("token" = [])))]
async fn list(State(s): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Vec<Connector>>> {
    read(&actor)?;
    let mut c = s.app.db().conn().await?;
    Ok(Json(connectors::list(&mut c).await?))
}

/// Adds a connector; its first Discover and Sync are due at once (per its schedules).
#[utoipa::path(post, path = "/api/v1/connectors", tag = "connectors", request_body = NewConnectorInput,
    responses((status = 201, body = Connector), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create(State(s): State<AppState>, Auth(actor): Auth, ApiJson(input): ApiJson<NewConnectorInput>) -> ApiResult<(StatusCode, Json<Connector>)> {
    Ok((StatusCode::CREATED, Json(add(&s, &actor, input).await?)))
}

/// Adds a connector (global maintainers), all or nothing; API and UI.
pub async fn add(s: &AppState, actor: &Actor, input: NewConnectorInput) -> ApiResult<Connector> {
    manage(actor, "adding a connector")?;
    let mut tx = s.app.db().begin().await?;
    let k = configure::create(&s.app, &mut tx, input).await?;
    tx.commit().await?;
    Ok(k)
}

#[utoipa::path(get, path = "/api/v1/connectors/{id}", tag = "connectors", params(("id" = i64, Path)),
    responses((status = 200, body = Connector), (status = 404, body = Problem)), security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Connector>> {
    read(&actor)?;
    let mut c = s.app.db().conn().await?;
    Ok(Json(connectors::get(&mut c, ConnectorId(id)).await?))
}

/// Changes a connector's label, location, secrets or settings.
#[utoipa::path(patch, path = "/api/v1/connectors/{id}", tag = "connectors", params(("id" = i64, Path)), request_body = ConnectorPatch,
    responses((status = 200, body = Connector), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>, ApiJson(patch): ApiJson<ConnectorPatch>) -> ApiResult<Json<Connector>> {
    Ok(Json(change(&s, &actor, ConnectorId(id), patch).await?))
}

/// Changes a connector (global maintainers), all or nothing; API and UI.
pub async fn change(s: &AppState, actor: &Actor, id: ConnectorId, patch: ConnectorPatch) -> ApiResult<Connector> {
    manage(actor, "changing a connector")?;
    let mut tx = s.app.db().begin().await?;
    let k = configure::update(&s.app, &mut tx, id, patch).await?;
    tx.commit().await?;
    Ok(k)
}

/// Deletes a connector with its Records and log; the findings it imported stay.
#[utoipa::path(delete, path = "/api/v1/connectors/{id}", tag = "connectors", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn delete(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    remove(&s, &actor, ConnectorId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a connector with its Records and log (global maintainers); API and UI.
pub async fn remove(s: &AppState, actor: &Actor, id: ConnectorId) -> ApiResult<()> {
    manage(actor, "deleting a connector")?;
    let mut c = s.app.db().conn().await?;
    connectors::delete(&mut c, id).await?;
    Ok(())
}

/// "Check connection": the location answers, the secrets work and have the rights needed.
#[utoipa::path(post, path = "/api/v1/connectors/{id}/check", tag = "connectors", params(("id" = i64, Path)),
    responses((status = 200, body = outbound::CheckReport), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn check(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<outbound::CheckReport>> {
    Ok(Json(check_connection(&s, &actor, ConnectorId(id)).await?))
}

/// Checks a connector's location and secrets against the tool (global maintainers); API and UI.
pub async fn check_connection(s: &AppState, actor: &Actor, id: ConnectorId) -> ApiResult<outbound::CheckReport> {
    manage(actor, "checking a connector")?;
    let mut c = s.app.db().conn().await?;
    let k = connectors::get(&mut c, id).await?;
    drop(c);
    match s.app.scanners().get(&s.app, &k).await {
        Ok(client) => Ok(client.check().await),
        Err(e) => {
            let mut r = outbound::CheckReport::default();
            r.fail("connector", domain::redact::redact(&format!("{e:#}"), &[]));
            Ok(r)
        }
    }
}

async fn run(s: &AppState, actor: &Actor, id: i64, kind: OperationKind) -> ApiResult<(StatusCode, Json<Operation>)> {
    Ok((StatusCode::ACCEPTED, Json(run_now(s, actor, ConnectorId(id), kind).await?)))
}

/// Queues a Discover or Sync by hand (global maintainers); API and UI.
pub async fn run_now(s: &AppState, actor: &Actor, id: ConnectorId, kind: OperationKind) -> ApiResult<Operation> {
    manage(actor, "running a connector")?;
    let mut tx = s.app.db().begin().await?;
    connectors::get(&mut tx, id).await?;
    let op = configure::run_now(&mut tx, id, kind, OperationTrigger::Manual).await?;
    tx.commit().await?;
    Ok(op)
}

/// Queues a Discover (it waits for one in flight).
#[utoipa::path(post, path = "/api/v1/connectors/{id}/discover", tag = "connectors", params(("id" = i64, Path)),
    responses((status = 202, body = Operation), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn discover(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<(StatusCode, Json<Operation>)> {
    run(&s, &actor, id, OperationKind::Discover).await
}

/// Queues a Sync (it waits for one in flight).
#[utoipa::path(post, path = "/api/v1/connectors/{id}/sync", tag = "connectors", params(("id" = i64, Path)),
    responses((status = 202, body = Operation), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn sync(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<(StatusCode, Json<Operation>)> {
    run(&s, &actor, id, OperationKind::Sync).await
}

page_type!(RecordPage, Record);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// `new`, `good`, `ignored`, `stale` or `missing`.
    state: Option<String>,
    /// Only mapped (`true`) or unmapped (`false`) Records.
    mapped: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A connector's Records.
#[utoipa::path(get, path = "/api/v1/connectors/{id}/records", tag = "connectors", params(("id" = i64, Path), RecordQuery),
    responses((status = 200, body = RecordPage), (status = 404, body = Problem), (status = 422, body = Problem)), security(("token" = [])))]
async fn list_records(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<RecordQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<RecordPage>> {
    read(&actor)?;
    let state = match q.state.as_deref() {
        None => None,
        Some(v) => Some(RecordState::parse(v).ok_or_else(|| ApiError::invalid("state", format!("unknown record state '{v}'; use new, good, ignored, stale or missing")))?),
    };
    let page = PageRequest::new(q.limit, q.offset);
    let mut c = s.app.db().conn().await?;
    connectors::get(&mut c, ConnectorId(id)).await?;
    let found = connectors::list_records(&mut c, &RecordFilter { connector: Some(ConnectorId(id)), state, mapped: q.mapped, product: None }, page).await?;
    Ok(Json(RecordPage::new(&uri, page, found)))
}

/// Maps a Record to a Product (or remaps it), ignores it, or restores it.
#[utoipa::path(patch, path = "/api/v1/records/{id}", tag = "connectors", params(("id" = i64, Path)), request_body = RecordDecision,
    responses((status = 200, body = Record), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn decide_record(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>, ApiJson(d): ApiJson<RecordDecision>) -> ApiResult<Json<Record>> {
    Ok(Json(decide(&s, &actor, RecordId(id), d).await?))
}

/// Maps, ignores or restores a Record (global maintainers); API and UI.
pub async fn decide(s: &AppState, actor: &Actor, id: RecordId, d: RecordDecision) -> ApiResult<Record> {
    manage(actor, "deciding about a record")?;
    let mut tx = s.app.db().begin().await?;
    let r = configure::decide(&mut tx, id, d, &actor.username).await?;
    tx.commit().await?;
    Ok(r)
}

/// Deletes a Record (it comes back at the next Discover while the tool reports it: ignore it
/// to keep it away); the findings it brought stay.
#[utoipa::path(delete, path = "/api/v1/records/{id}", tag = "connectors", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn delete_record(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    remove_record(&s, &actor, RecordId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a Record (global maintainers); API and UI.
pub async fn remove_record(s: &AppState, actor: &Actor, id: RecordId) -> ApiResult<()> {
    manage(actor, "deleting a record")?;
    let mut c = s.app.db().conn().await?;
    connectors::delete_record(&mut c, id).await?;
    Ok(())
}

page_type!(OperationPage, Operation);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OperationQuery {
    /// `discover` or `sync`.
    kind: Option<String>,
    /// `pending`, `running`, `succeeded` or `failed`.
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A connector's operations log, newest first.
#[utoipa::path(get, path = "/api/v1/connectors/{id}/operations", tag = "connectors", params(("id" = i64, Path), OperationQuery),
    responses((status = 200, body = OperationPage), (status = 404, body = Problem), (status = 422, body = Problem)), security(("token" = [])))]
async fn list_operations(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<OperationQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<OperationPage>> {
    read(&actor)?;
    let kind = match q.kind.as_deref() {
        None => None,
        Some(v) => Some(OperationKind::parse(v).ok_or_else(|| ApiError::invalid("kind", format!("unknown operation kind '{v}'; use discover or sync")))?),
    };
    let status = match q.status.as_deref() {
        None => None,
        Some(v) => Some(OperationStatus::parse(v).ok_or_else(|| ApiError::invalid("status", format!("unknown status '{v}'; use pending, running, succeeded or failed")))?),
    };
    let page = PageRequest::new(q.limit, q.offset);
    let mut c = s.app.db().conn().await?;
    connectors::get(&mut c, ConnectorId(id)).await?;
    let found = connectors::list_operations(&mut c, &OperationFilter { connector: Some(ConnectorId(id)), kind, status }, page).await?;
    Ok(Json(OperationPage::new(&uri, page, found)))
}

#[utoipa::path(get, path = "/api/v1/operations/{id}", tag = "connectors", params(("id" = i64, Path)),
    responses((status = 200, body = Operation), (status = 404, body = Problem)), security(("token" = [])))]
async fn get_operation(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Operation>> {
    read(&actor)?;
    let mut c = s.app.db().conn().await?;
    Ok(Json(connectors::get_operation(&mut c, OperationId(id)).await?))
}
