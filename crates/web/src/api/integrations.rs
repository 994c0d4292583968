//! `/api/v1/integrations/…`: Settings › Integrations. Instances (connections to trackers),
//! their mappings (where tickets go, how fields map), the assignments binding products and
//! engagements to mappings, "check connection", webhook registration, the push queue, and
//! each mapping's error table with retry.
//!
//! Rights: any global role reads instances and mappings (they hold no secrets); only
//! administrators create, change, delete or check them. Assignments are read by those who
//! see their product and managed by its maintainers. Retrying a push needs the writer role on
//! the pushed finding's product.

use crate::api::{ApiPath, page_type, require, require_global, visible_product};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use domain::tracker::{
    Assignment, AssignmentScope, Instance, Mapping, MappingConfig, MappingTarget, Subject, Vendor,
};
use domain::{Action, Actor, AssignmentId, InstanceId, MappingId, ProductId};
use engine::integrations::configure::{self, AssignmentInput, AssignmentPatch, InstancePatch, MappingInput, NewInstanceInput};
use engine::integrations::{check, enqueue, queue};
use secrets::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use store::push_errors::PushError;
use store::{AsConn, PageRequest, assignments, engagements, instances, mappings, push_errors};
use trackers::CheckReport;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_instances, create_instance))
        .routes(routes!(get_instance, update_instance, delete_instance))
        .routes(routes!(check_instance))
        .routes(routes!(rotate_secret))
        .routes(routes!(instance_queue))
        .routes(routes!(mapping_defaults))
        .routes(routes!(instance_options))
        .routes(routes!(mapping_options))
        .routes(routes!(list_mappings, create_mapping))
        .routes(routes!(get_mapping, update_mapping, delete_mapping))
        .routes(routes!(check_mapping))
        .routes(routes!(register_webhook))
        .routes(routes!(list_errors))
        .routes(routes!(retry_all_errors))
        .routes(routes!(retry_error))
        .routes(routes!(list_assignments, create_assignment))
        .routes(routes!(get_assignment, update_assignment, delete_assignment))
}

/// Integrations span every product: reading them needs a global role (API and UI).
pub fn read_config(actor: &Actor) -> ApiResult<()> {
    if actor.global_role.is_some() {
        Ok(())
    } else {
        Err(ApiError::forbidden("reading integrations needs a global role"))
    }
}

/// An instance as the API shows it: never its credentials.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InstanceOut {
    #[serde(flatten)]
    pub instance: Instance,
    /// Where the tracker's webhooks for this instance go.
    pub webhook_url: String,
    /// Mappings of this instance.
    pub mappings: usize,
}

fn instance_out(s: &AppState, instance: Instance, mappings: usize) -> InstanceOut {
    InstanceOut { webhook_url: configure::webhook_url(s.app.settings(), instance.id), instance, mappings }
}

/// An instance just made (or its secret rotated): the webhook secret, shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InstanceCreated {
    #[serde(flatten)]
    pub instance: InstanceOut,
    /// Give it to the tracker's webhook configuration if you set the webhook up by hand. It
    /// is not shown again (rotate it to get a new one).
    pub webhook_secret: String,
}

/// Integration Instances.
#[utoipa::path(get, path = "/api/v1/integrations/instances", tag = "integrations",
    responses((status = 200, body = Vec<InstanceOut>), (status = 403, body = Problem)), security(("token" = [])))]
async fn list_instances(State(s): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Vec<InstanceOut>>> {
    read_config(&actor)?;
    let mut c = s.app.db().conn().await?;
    let all = mappings::list(&mut c, None).await?;
    let list = instances::list(&mut c).await?;
    Ok(Json(
        list.into_iter()
            .map(|i| {
                let n = all.iter().filter(|m| m.instance == i.id).count();
                instance_out(&s, i, n)
            })
            .collect(),
    ))
}

/// Adds an instance. Administrators only. Answers with the webhook secret, shown once.
#[utoipa::path(post, path = "/api/v1/integrations/instances", tag = "integrations", request_body = NewInstanceInput,
    responses((status = 201, body = InstanceCreated), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create_instance(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewInstanceInput>,
) -> ApiResult<(StatusCode, Json<InstanceCreated>)> {
    let (instance, secret) = add_instance(&s, &actor, input).await?;
    let out = instance_out(&s, instance, 0);
    Ok((StatusCode::CREATED, Json(InstanceCreated { instance: out, webhook_secret: secret.expose_secret().to_owned() })))
}

/// Adds an instance (API and UI): administrators only. Returns it with its webhook secret,
/// to be shown this once; learns the credentials' account in the background.
pub async fn add_instance(s: &AppState, actor: &Actor, input: NewInstanceInput) -> ApiResult<(Instance, SecretString)> {
    require_global(actor, Action::Administer, "adding an integration instance")?;
    let mut tx = s.app.db().begin().await?;
    let (instance, secret) = configure::create_instance(&s.app, &mut tx, input).await?;
    tx.commit().await?;
    check::learn_account(&s.app, instance.clone());
    Ok((instance, secret))
}

async fn instance(c: &mut impl AsConn, id: i64) -> ApiResult<Instance> {
    Ok(instances::get(c, InstanceId(id)).await?)
}

#[utoipa::path(get, path = "/api/v1/integrations/instances/{id}", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = InstanceOut), (status = 404, body = Problem)), security(("token" = [])))]
async fn get_instance(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<InstanceOut>> {
    read_config(&actor)?;
    let mut c = s.app.db().conn().await?;
    let i = instance(&mut c, id).await?;
    let n = mappings::list(&mut c, Some(i.id)).await?.len();
    Ok(Json(instance_out(&s, i, n)))
}

/// Changes an instance's label, location, credentials or settings. Administrators only.
#[utoipa::path(patch, path = "/api/v1/integrations/instances/{id}", tag = "integrations", params(("id" = i64, Path)),
    request_body = InstancePatch,
    responses((status = 200, body = InstanceOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update_instance(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<InstancePatch>,
) -> ApiResult<Json<InstanceOut>> {
    let (i, n) = change_instance(&s, &actor, InstanceId(id), patch).await?;
    Ok(Json(instance_out(&s, i, n)))
}

/// Changes an instance (API and UI): administrators only. Returns it with its number of
/// mappings; new credentials or a new location are checked for their account in the background.
pub async fn change_instance(s: &AppState, actor: &Actor, id: InstanceId, patch: InstancePatch) -> ApiResult<(Instance, usize)> {
    require_global(actor, Action::Administer, "changing an integration instance")?;
    let mut tx = s.app.db().begin().await?;
    let learn = patch.credentials.is_some() || patch.location.is_some();
    let i = configure::update_instance(&s.app, &mut tx, id, patch).await?;
    let n = mappings::list(&mut tx, Some(i.id)).await?.len();
    tx.commit().await?;
    if learn {
        check::learn_account(&s.app, i.clone());
    }
    Ok((i, n))
}

/// Deletes an instance with its mappings, assignments and ticket links (the tickets in the
/// tracker stay). Administrators only.
#[utoipa::path(delete, path = "/api/v1/integrations/instances/{id}", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn delete_instance(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    remove_instance(&s, &actor, InstanceId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an instance with its mappings, assignments and ticket links (API and UI):
/// administrators only.
pub async fn remove_instance(s: &AppState, actor: &Actor, id: InstanceId) -> ApiResult<()> {
    require_global(actor, Action::Administer, "deleting an integration instance")?;
    let mut c = s.app.db().conn().await?;
    instances::delete(&mut c, id).await?;
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// Also check this mapping of the instance: its repository or project, fields and values.
    pub mapping: Option<MappingId>,
}

/// "Check connection": each check passed or failed with exactly what is wrong. Administrators only.
#[utoipa::path(post, path = "/api/v1/integrations/instances/{id}/check", tag = "integrations", params(("id" = i64, Path)),
    request_body = CheckRequest,
    responses((status = 200, body = CheckReport), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn check_instance(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<CheckRequest>,
) -> ApiResult<Json<CheckReport>> {
    Ok(Json(check_connection(&s, &actor, InstanceId(id), req.mapping).await?))
}

/// "Check connection" of an instance, and with a mapping of it its target (API and UI):
/// administrators only.
pub async fn check_connection(s: &AppState, actor: &Actor, id: InstanceId, mapping: Option<MappingId>) -> ApiResult<CheckReport> {
    require_global(actor, Action::Administer, "checking an integration instance")?;
    let mut c = s.app.db().conn().await?;
    let i = instances::get(&mut c, id).await?;
    let mapping = match mapping {
        Some(m) => {
            let m = mappings::get(&mut c, m).await.map_err(|_| ApiError::invalid("mapping", format!("mapping {m} not found")))?;
            if m.instance != i.id {
                return Err(ApiError::invalid("mapping", format!("mapping {} belongs to another instance", m.id)));
            }
            Some(m)
        }
        None => None,
    };
    drop(c);
    check::check(&s.app, &i, mapping.as_ref()).await.map_err(ApiError::internal)
}

/// Makes a new webhook secret (the old one stops working) and shows it once. Administrators only.
#[utoipa::path(post, path = "/api/v1/integrations/instances/{id}/webhook-secret", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = InstanceCreated), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn rotate_secret(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<InstanceCreated>> {
    let (i, secret) = rotate_webhook_secret(&s, &actor, InstanceId(id)).await?;
    let mut c = s.app.db().conn().await?;
    let n = mappings::list(&mut c, Some(i.id)).await?.len();
    Ok(Json(InstanceCreated { instance: instance_out(&s, i, n), webhook_secret: secret.expose_secret().to_owned() }))
}

/// Makes a new webhook secret for an instance (API and UI): administrators only. Returns the
/// instance and the secret, to be shown this once.
pub async fn rotate_webhook_secret(s: &AppState, actor: &Actor, id: InstanceId) -> ApiResult<(Instance, SecretString)> {
    require_global(actor, Action::Administer, "rotating a webhook secret")?;
    let mut tx = s.app.db().begin().await?;
    let secret = configure::rotate_webhook_secret(&s.app, &mut tx, id).await?;
    let i = instances::get(&mut tx, id).await?;
    tx.commit().await?;
    Ok((i, secret))
}

/// The instance's push queue: waiting, running and dead pushes, a tracker's block, and when
/// the queue is expected to be through.
#[utoipa::path(get, path = "/api/v1/integrations/instances/{id}/queue", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = queue::QueueStatus), (status = 404, body = Problem)), security(("token" = [])))]
async fn instance_queue(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<queue::QueueStatus>> {
    read_config(&actor)?;
    let mut c = s.app.db().conn().await?;
    let i = instance(&mut c, id).await?;
    drop(c);
    Ok(Json(queue::status(&s.app, &i).await.map_err(ApiError::internal)?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DefaultsQuery {
    /// `github`, `gitlab`, `jira`, `azure_devops` or `servicenow`.
    vendor: String,
    /// ServiceNow: `impact_urgency` for the Impact + Urgency severity preset.
    preset: Option<String>,
}

/// A new mapping's defaults for a vendor (DESIGN.md's table), to pre-fill a form.
#[utoipa::path(get, path = "/api/v1/integrations/mapping-defaults", tag = "integrations", params(DefaultsQuery),
    responses((status = 200, body = MappingConfig), (status = 422, body = Problem)), security(("token" = [])))]
async fn mapping_defaults(Auth(actor): Auth, ApiQuery(q): ApiQuery<DefaultsQuery>) -> ApiResult<Json<MappingConfig>> {
    read_config(&actor)?;
    let Some(vendor) = Vendor::parse(&q.vendor) else {
        return Err(ApiError::invalid(
            "vendor",
            format!("'{}' is not a vendor; use github, gitlab, jira, azure_devops or servicenow", q.vendor),
        ));
    };
    Ok(Json(configure::mapping_defaults(vendor, q.preset.as_deref())?))
}

async fn options_for(s: &AppState, instance: &Instance, target: MappingTarget) -> ApiResult<trackers::MappingOptions> {
    if target.vendor() != instance.vendor {
        return Err(ApiError::invalid("target.vendor", format!("instance '{}' is a {} instance", instance.label, instance.vendor.label())));
    }
    let client = s.app.trackers().get(&s.app, instance).await.map_err(|e| ApiError::invalid("instance", format!("{e:#}")))?;
    client
        .options(&MappingConfig::defaults(target))
        .await
        .map_err(|e| ApiError::invalid("target", domain::redact::redact(&e.to_string(), &[])))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionsRequest {
    pub target: MappingTarget,
}

/// The values a mapping of this target may choose from, read from the tracker: statuses (and
/// which count as closed), priorities, issue or work item types, components. For the mapping
/// form, before the mapping exists. Administrators only.
#[utoipa::path(post, path = "/api/v1/integrations/instances/{id}/options", tag = "integrations", params(("id" = i64, Path)),
    request_body = OptionsRequest,
    responses((status = 200, body = trackers::MappingOptions), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn instance_options(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<OptionsRequest>,
) -> ApiResult<Json<trackers::MappingOptions>> {
    require_global(&actor, Action::Administer, "reading a tracker's options")?;
    let mut c = s.app.db().conn().await?;
    let i = instance(&mut c, id).await?;
    drop(c);
    Ok(Json(options_for(&s, &i, req.target).await?))
}

/// The values an existing mapping may choose from. Administrators only.
#[utoipa::path(get, path = "/api/v1/integrations/mappings/{id}/options", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = trackers::MappingOptions), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn mapping_options(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<trackers::MappingOptions>> {
    require_global(&actor, Action::Administer, "reading a tracker's options")?;
    let mut c = s.app.db().conn().await?;
    let m = mappings::get(&mut c, MappingId(id)).await?;
    let i = instances::get(&mut c, m.instance).await?;
    drop(c);
    Ok(Json(options_for(&s, &i, m.config.target).await?))
}

/// A mapping with its "Total Errors".
#[derive(Serialize, utoipa::ToSchema)]
pub struct MappingOut {
    #[serde(flatten)]
    pub mapping: Mapping,
    pub total_errors: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MappingQuery {
    instance: Option<i64>,
}

/// Issue Tracker Mappings, with their total errors.
#[utoipa::path(get, path = "/api/v1/integrations/mappings", tag = "integrations", params(MappingQuery),
    responses((status = 200, body = Vec<MappingOut>), (status = 403, body = Problem)), security(("token" = [])))]
async fn list_mappings(State(s): State<AppState>, Auth(actor): Auth, ApiQuery(q): ApiQuery<MappingQuery>) -> ApiResult<Json<Vec<MappingOut>>> {
    read_config(&actor)?;
    let mut c = s.app.db().conn().await?;
    let counts = push_errors::counts(&mut c).await?;
    let list = mappings::list(&mut c, q.instance.map(InstanceId)).await?;
    Ok(Json(
        list.into_iter()
            .map(|m| MappingOut { total_errors: counts.get(&m.id).copied().unwrap_or(0), mapping: m })
            .collect(),
    ))
}

/// (Unknown fields are refused by the flattened `MappingInput`.)
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewMapping {
    pub instance: InstanceId,
    #[serde(flatten)]
    pub mapping: MappingInput,
    /// Register the tracker's webhook for the target now (default true); needs the token's
    /// permission to manage webhooks.
    #[serde(default = "yes")]
    pub register_webhook: bool,
}

fn yes() -> bool {
    true
}

/// A mapping just made, and what became of its webhook.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MappingCreated {
    #[serde(flatten)]
    pub mapping: MappingOut,
    /// `registered at <url>`, or why not (then set the webhook up by hand).
    pub webhook: Option<String>,
}

/// Adds a mapping; what is left out takes the vendor's defaults. Administrators only.
#[utoipa::path(post, path = "/api/v1/integrations/mappings", tag = "integrations", request_body = NewMapping,
    responses((status = 201, body = MappingCreated), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create_mapping(State(s): State<AppState>, Auth(actor): Auth, ApiJson(new): ApiJson<NewMapping>) -> ApiResult<(StatusCode, Json<MappingCreated>)> {
    let (m, webhook) = add_mapping(&s, &actor, new).await?;
    Ok((StatusCode::CREATED, Json(MappingCreated { mapping: MappingOut { mapping: m, total_errors: 0 }, webhook })))
}

/// Adds a mapping (API and UI): administrators only. Returns it with what became of its
/// webhook (`registered at <url>` or why not), when asked to register one.
pub async fn add_mapping(s: &AppState, actor: &Actor, new: NewMapping) -> ApiResult<(Mapping, Option<String>)> {
    require_global(actor, Action::Administer, "adding a mapping")?;
    let mut tx = s.app.db().begin().await?;
    let m = configure::create_mapping(&mut tx, new.instance, new.mapping).await?;
    tx.commit().await?;
    let webhook = if new.register_webhook {
        Some(match check::register_webhook(&s.app, &m).await {
            Ok(url) => format!("registered at {url}"),
            Err(e) => format!("not registered: {}", domain::redact::redact(&e.to_string(), &[])),
        })
    } else {
        None
    };
    Ok((m, webhook))
}

#[utoipa::path(get, path = "/api/v1/integrations/mappings/{id}", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = MappingOut), (status = 404, body = Problem)), security(("token" = [])))]
async fn get_mapping(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<MappingOut>> {
    read_config(&actor)?;
    let mut c = s.app.db().conn().await?;
    let m = mappings::get(&mut c, MappingId(id)).await?;
    let total_errors = push_errors::counts(&mut c).await?.get(&m.id).copied().unwrap_or(0);
    Ok(Json(MappingOut { mapping: m, total_errors }))
}

/// Replaces a mapping's configuration (what is left out takes the vendor's defaults).
/// Administrators only. Tickets follow at their next push.
#[utoipa::path(put, path = "/api/v1/integrations/mappings/{id}", tag = "integrations", params(("id" = i64, Path)),
    request_body = MappingInput,
    responses((status = 200, body = MappingOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update_mapping(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MappingInput>,
) -> ApiResult<Json<MappingOut>> {
    Ok(Json(change_mapping(&s, &actor, MappingId(id), input).await?))
}

/// Replaces a mapping's configuration (API and UI): administrators only.
pub async fn change_mapping(s: &AppState, actor: &Actor, id: MappingId, input: MappingInput) -> ApiResult<MappingOut> {
    require_global(actor, Action::Administer, "changing a mapping")?;
    let mut tx = s.app.db().begin().await?;
    let m = configure::update_mapping(&mut tx, id, input).await?;
    let total_errors = push_errors::counts(&mut tx).await?.get(&m.id).copied().unwrap_or(0);
    tx.commit().await?;
    Ok(MappingOut { mapping: m, total_errors })
}

/// Deletes a mapping with its assignments and ticket links (the tickets in the tracker
/// stay). Administrators only.
#[utoipa::path(delete, path = "/api/v1/integrations/mappings/{id}", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn delete_mapping(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    remove_mapping(&s, &actor, MappingId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a mapping with its assignments and ticket links (API and UI): administrators only.
pub async fn remove_mapping(s: &AppState, actor: &Actor, id: MappingId) -> ApiResult<()> {
    require_global(actor, Action::Administer, "deleting a mapping")?;
    let mut c = s.app.db().conn().await?;
    mappings::delete(&mut c, id).await?;
    Ok(())
}

/// "Check connection" for a mapping: its instance's credentials, then its target, fields and
/// values. Administrators only.
#[utoipa::path(post, path = "/api/v1/integrations/mappings/{id}/check", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = CheckReport), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn check_mapping(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<CheckReport>> {
    Ok(Json(check_mapping_target(&s, &actor, MappingId(id)).await?))
}

/// "Check connection" for a mapping (API and UI): administrators only.
pub async fn check_mapping_target(s: &AppState, actor: &Actor, id: MappingId) -> ApiResult<CheckReport> {
    require_global(actor, Action::Administer, "checking a mapping")?;
    let mut c = s.app.db().conn().await?;
    let m = mappings::get(&mut c, id).await?;
    let i = instances::get(&mut c, m.instance).await?;
    drop(c);
    check::check(&s.app, &i, Some(&m)).await.map_err(ApiError::internal)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookRegistered {
    pub url: String,
}

/// Registers (or refreshes) the tracker's webhook for the mapping's target. Administrators only.
#[utoipa::path(post, path = "/api/v1/integrations/mappings/{id}/webhook", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = WebhookRegistered), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn register_webhook(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<WebhookRegistered>> {
    Ok(Json(WebhookRegistered { url: register_mapping_webhook(&s, &actor, MappingId(id)).await? }))
}

/// Registers the tracker's webhook for a mapping (API and UI): administrators only. Returns
/// the URL, or why the tracker refused as a 422 on `webhook`.
pub async fn register_mapping_webhook(s: &AppState, actor: &Actor, id: MappingId) -> ApiResult<String> {
    require_global(actor, Action::Administer, "registering a webhook")?;
    let mut c = s.app.db().conn().await?;
    let m = mappings::get(&mut c, id).await?;
    drop(c);
    check::register_webhook(&s.app, &m)
        .await
        .map_err(|e| ApiError::invalid("webhook", domain::redact::redact(&e.to_string(), &[])))
}

page_type!(PushErrorPage, PushError);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A mapping's error table: when, why, which finding or group, how many attempts.
#[utoipa::path(get, path = "/api/v1/integrations/mappings/{id}/errors", tag = "integrations", params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = PushErrorPage), (status = 404, body = Problem)), security(("token" = [])))]
async fn list_errors(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<PushErrorPage>> {
    read_config(&actor)?;
    let page = PageRequest::new(q.limit, q.offset);
    let mut c = s.app.db().conn().await?;
    let m = mappings::get(&mut c, MappingId(id)).await?;
    Ok(Json(PushErrorPage::new(&uri, page, push_errors::list(&mut c, m.id, page).await?)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Retried {
    /// Pushes queued again.
    pub queued: usize,
}

async fn subject_product(c: &mut impl AsConn, s: Subject) -> store::Result<ProductId> {
    Ok(match s {
        Subject::Finding(f) => store::findings::get(c, f).await?.product,
        Subject::Group(g) => store::groups::get(c, g).await?.product,
    })
}

/// Queues every failed push of a mapping again.
#[utoipa::path(post, path = "/api/v1/integrations/mappings/{id}/errors/retry", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = Retried), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn retry_all_errors(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Retried>> {
    let mut tx = s.app.db().begin().await?;
    let queued = retry_all(&mut tx, &actor, MappingId(id)).await?;
    tx.commit().await?;
    Ok(Json(Retried { queued }))
}

/// Queues again every failed push of a mapping whose finding or group the actor may change;
/// returns how many (API and UI).
pub async fn retry_all(c: &mut impl AsConn, actor: &Actor, mapping: MappingId) -> ApiResult<usize> {
    let m = mappings::get(c, mapping).await?;
    let mut queued = 0;
    for e in push_errors::all_for(c, m.id).await? {
        let product = subject_product(c, e.subject).await?;
        if actor.can(Action::Write, product) {
            enqueue::retry(c, m.id, e.subject, &actor.username).await?;
            queued += 1;
        }
    }
    if queued == 0 && !actor.can_globally(Action::Write) && actor.global_role.is_none() {
        return Err(ApiError::forbidden("retrying pushes needs the writer role on the pushed findings' products"));
    }
    Ok(queued)
}

/// Queues one failed push again.
#[utoipa::path(post, path = "/api/v1/integrations/errors/{id}/retry", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = Retried), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn retry_error(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Retried>> {
    let mut tx = s.app.db().begin().await?;
    retry_one(&mut tx, &actor, id).await?;
    tx.commit().await?;
    Ok(Json(Retried { queued: 1 }))
}

/// Queues one failed push again, if the actor may change its finding or group; returns the
/// error's mapping (API and UI).
pub async fn retry_one(c: &mut impl AsConn, actor: &Actor, id: i64) -> ApiResult<MappingId> {
    let e = push_errors::get(c, id).await?;
    let product = subject_product(c, e.subject).await?;
    if !actor.can_see(product) {
        return Err(ApiError::not_found(format!("push error {id} not found")));
    }
    require(actor, Action::Write, product, "retrying a push")?;
    enqueue::retry(c, e.mapping, e.subject, &actor.username).await?;
    Ok(e.mapping)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentQuery {
    mapping: Option<i64>,
    product: Option<i64>,
    engagement: Option<i64>,
}

/// Issue Tracker Assignments of the products you can see.
#[utoipa::path(get, path = "/api/v1/integrations/assignments", tag = "integrations", params(AssignmentQuery),
    responses((status = 200, body = Vec<Assignment>)), security(("token" = [])))]
async fn list_assignments(State(s): State<AppState>, Auth(actor): Auth, ApiQuery(q): ApiQuery<AssignmentQuery>) -> ApiResult<Json<Vec<Assignment>>> {
    let mut c = s.app.db().conn().await?;
    let filter = assignments::Filter {
        mapping: q.mapping.map(MappingId),
        product: q.product.map(ProductId),
        engagement: q.engagement.map(domain::EngagementId),
    };
    let all = assignments::list(&mut c, &filter).await?;
    Ok(Json(all.into_iter().filter(|a| actor.can_see(a.product)).collect()))
}

async fn scope_product(c: &mut impl AsConn, actor: &Actor, scope: AssignmentScope) -> ApiResult<ProductId> {
    match scope {
        AssignmentScope::Product(p) => Ok(visible_product(c, actor, p, Some("scope.product")).await?.id),
        AssignmentScope::Engagement(e) => {
            let fetched = engagements::get(c, e).await;
            let eng = crate::api::visible_or_hidden(fetched, |e| e.product, actor, "engagement", e, Some("scope.engagement"))?;
            Ok(eng.product)
        }
    }
}

/// Binds a product or an engagement to a mapping, with a push mode and filters. Needs the
/// maintainer role on the product.
#[utoipa::path(post, path = "/api/v1/integrations/assignments", tag = "integrations", request_body = AssignmentInput,
    responses((status = 201, body = Assignment), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create_assignment(State(s): State<AppState>, Auth(actor): Auth, ApiJson(input): ApiJson<AssignmentInput>) -> ApiResult<(StatusCode, Json<Assignment>)> {
    let mut tx = s.app.db().begin().await?;
    let a = add_assignment(&mut tx, &actor, input).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Binds a product or engagement to a mapping (API and UI): needs the maintainer role on
/// the product.
pub async fn add_assignment(c: &mut impl AsConn, actor: &Actor, input: AssignmentInput) -> ApiResult<Assignment> {
    let product = scope_product(c, actor, input.scope).await?;
    require(actor, Action::Manage, product, "assigning a product to a tracker")?;
    Ok(configure::create_assignment(c, input).await?)
}

pub async fn visible_assignment(c: &mut impl AsConn, actor: &Actor, id: i64) -> ApiResult<Assignment> {
    crate::api::visible_or_hidden(assignments::get(c, AssignmentId(id)).await, |a| a.product, actor, "assignment", id, None)
}

#[utoipa::path(get, path = "/api/v1/integrations/assignments/{id}", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = Assignment), (status = 404, body = Problem)), security(("token" = [])))]
async fn get_assignment(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Assignment>> {
    let mut c = s.app.db().conn().await?;
    Ok(Json(visible_assignment(&mut c, &actor, id).await?))
}

/// Changes an assignment's push mode or filters. Needs the maintainer role on its product.
#[utoipa::path(patch, path = "/api/v1/integrations/assignments/{id}", tag = "integrations", params(("id" = i64, Path)),
    request_body = AssignmentPatch,
    responses((status = 200, body = Assignment), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update_assignment(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<AssignmentPatch>,
) -> ApiResult<Json<Assignment>> {
    let mut tx = s.app.db().begin().await?;
    let a = change_assignment(&mut tx, &actor, AssignmentId(id), patch).await?;
    tx.commit().await?;
    Ok(Json(a))
}

/// Changes an assignment's push mode or filters (API and UI): needs the maintainer role on
/// its product.
pub async fn change_assignment(c: &mut impl AsConn, actor: &Actor, id: AssignmentId, patch: AssignmentPatch) -> ApiResult<Assignment> {
    let a = visible_assignment(c, actor, id.0).await?;
    require(actor, Action::Manage, a.product, "changing a tracker assignment")?;
    Ok(configure::update_assignment(c, a.id, patch).await?)
}

/// Removes an assignment (existing tickets stay linked, but are no longer pushed). Needs the
/// maintainer role on its product.
#[utoipa::path(delete, path = "/api/v1/integrations/assignments/{id}", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn delete_assignment(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    let mut tx = s.app.db().begin().await?;
    remove_assignment(&mut tx, &actor, AssignmentId(id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes an assignment (API and UI): needs the maintainer role on its product.
pub async fn remove_assignment(c: &mut impl AsConn, actor: &Actor, id: AssignmentId) -> ApiResult<()> {
    let a = visible_assignment(c, actor, id.0).await?;
    require(actor, Action::Manage, a.product, "removing a tracker assignment")?;
    assignments::delete(c, a.id).await?;
    Ok(())
}
