use crate::api::{ApiPath, page_type, require_global};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use domain::{Action, NewProductType, ProductType, ProductTypeId, ProductTypePatch};
use serde::Deserialize;
use store::{PageRequest, product_types};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

page_type!(ProductTypePage, ProductType);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Name contains (case-insensitive).
    name: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Product types holding at least one product you can see (all of them with a global role).
#[utoipa::path(get, path = "/api/v1/product-types", tag = "product types", params(ListQuery),
    responses((status = 200, body = ProductTypePage), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<ProductTypePage>> {
    let page = PageRequest::new(q.limit, q.offset);
    let filter = product_types::Filter { name: q.name };
    let mut c = s.app.db().conn().await?;
    let found = product_types::list(&mut c, &filter, &actor.visibility(), page).await?;
    Ok(Json(ProductTypePage::new(&uri, page, found)))
}

/// Creates a product type. Needs the global maintainer role.
#[utoipa::path(post, path = "/api/v1/product-types", tag = "product types", request_body = NewProductType,
    responses((status = 201, body = ProductType), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(new): ApiJson<NewProductType>,
) -> ApiResult<(StatusCode, Json<ProductType>)> {
    require_global(&actor, Action::Manage, "creating a product type")?;
    let mut tx = s.app.db().begin().await?;
    let pt = product_types::create(&mut tx, new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(pt)))
}

async fn load(s: &AppState, actor: &domain::Actor, id: i64) -> ApiResult<ProductType> {
    let mut c = s.app.db().conn().await?;
    let pt = product_types::get(&mut c, ProductTypeId(id)).await?;
    if actor.global_role.is_none() {
        // Visible only if it holds one of the actor's products.
        let vis = actor.visibility();
        let holding = store::products::list(
            &mut c,
            &store::products::Filter { product_type: Some(pt.id), ..Default::default() },
            &vis,
            PageRequest::new(Some(1), None),
        )
        .await?;
        if holding.count == 0 {
            return Err(crate::error::ApiError::not_found(format!("product type {id} not found")));
        }
    }
    Ok(pt)
}

#[utoipa::path(get, path = "/api/v1/product-types/{id}", tag = "product types", params(("id" = i64, Path)),
    responses((status = 200, body = ProductType), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<ProductType>> {
    Ok(Json(load(&s, &actor, id).await?))
}

/// Changes a product type. Needs the global maintainer role.
#[utoipa::path(patch, path = "/api/v1/product-types/{id}", tag = "product types", params(("id" = i64, Path)),
    request_body = ProductTypePatch,
    responses((status = 200, body = ProductType), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ProductTypePatch>,
) -> ApiResult<Json<ProductType>> {
    let mut pt = load(&s, &actor, id).await?;
    require_global(&actor, Action::Manage, "changing a product type")?;
    pt.apply(patch);
    let mut tx = s.app.db().begin().await?;
    let pt = product_types::update(&mut tx, &pt).await?;
    tx.commit().await?;
    Ok(Json(pt))
}

/// Deletes a product type; its products stay, without a type. Needs the global maintainer role.
#[utoipa::path(delete, path = "/api/v1/product-types/{id}", tag = "product types", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn delete(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    load(&s, &actor, id).await?;
    require_global(&actor, Action::Manage, "deleting a product type")?;
    let mut tx = s.app.db().begin().await?;
    product_types::delete(&mut tx, ProductTypeId(id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
