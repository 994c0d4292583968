use crate::api::{ApiPath, page_type, require, visible_or_hidden, visible_product};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use domain::{Action, Actor, Engagement, EngagementId, EngagementPatch, EngagementStatus, NewEngagement, ProductId};
use serde::Deserialize;
use store::{AsConn, PageRequest, engagements};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

page_type!(EngagementPage, Engagement);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    product: Option<i64>,
    /// Name contains (case-insensitive).
    name: Option<String>,
    status: Option<EngagementStatus>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/engagements", tag = "engagements", params(ListQuery),
    responses((status = 200, body = EngagementPage), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<EngagementPage>> {
    let page = PageRequest::new(q.limit, q.offset);
    let filter = engagements::Filter {
        product: q.product.map(ProductId),
        name: q.name,
        status: q.status,
    };
    let mut c = s.app.db().conn().await?;
    let found = engagements::list(&mut c, &filter, &actor.visibility(), page).await?;
    Ok(Json(EngagementPage::new(&uri, page, found)))
}

/// Creates an engagement in a product. Needs the maintainer role on the product.
#[utoipa::path(post, path = "/api/v1/engagements", tag = "engagements", request_body = NewEngagement,
    responses((status = 201, body = Engagement), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(new): ApiJson<NewEngagement>,
) -> ApiResult<(StatusCode, Json<Engagement>)> {
    let mut tx = s.app.db().begin().await?;
    let p = visible_product(&mut tx, &actor, new.product, Some("product")).await?;
    require(&actor, Action::Manage, p.id, "creating an engagement")?;
    let e = engagements::create(&mut tx, new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// The engagement, if the actor can see its product; `field` names the body field when the
/// id came from a request body.
pub async fn visible(c: &mut impl AsConn, actor: &Actor, id: EngagementId, field: Option<&str>) -> ApiResult<Engagement> {
    visible_or_hidden(engagements::get(c, id).await, |x| x.product, actor, "engagement", id, field)
}

#[utoipa::path(get, path = "/api/v1/engagements/{id}", tag = "engagements", params(("id" = i64, Path)),
    responses((status = 200, body = Engagement), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Engagement>> {
    let mut c = s.app.db().conn().await?;
    Ok(Json(visible(&mut c, &actor, EngagementId(id), None).await?))
}

/// Changes an engagement. Needs the maintainer role on its product.
#[utoipa::path(patch, path = "/api/v1/engagements/{id}", tag = "engagements", params(("id" = i64, Path)),
    request_body = EngagementPatch,
    responses((status = 200, body = Engagement), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<EngagementPatch>,
) -> ApiResult<Json<Engagement>> {
    let mut tx = s.app.db().begin().await?;
    let mut e = visible(&mut tx, &actor, EngagementId(id), None).await?;
    require(&actor, Action::Manage, e.product, "changing an engagement")?;
    e.apply(patch)?;
    let e = engagements::update(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(Json(e))
}

/// Deletes an engagement with its tests and findings. Needs the maintainer role.
#[utoipa::path(delete, path = "/api/v1/engagements/{id}", tag = "engagements", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn delete(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    let mut tx = s.app.db().begin().await?;
    let e = visible(&mut tx, &actor, EngagementId(id), None).await?;
    require(&actor, Action::Manage, e.product, "deleting an engagement")?;
    engagements::delete(&mut tx, e.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
