use crate::api::{ApiPath, page_type, require, require_global, visible_product};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use domain::{Action, NewProduct, Product, ProductId, ProductPatch, ProductTypeId};
use serde::Deserialize;
use store::{PageRequest, products};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

page_type!(ProductPage, Product);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Name contains (case-insensitive).
    name: Option<String>,
    product_type: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Products you can see.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(ListQuery),
    responses((status = 200, body = ProductPage), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<ProductPage>> {
    let page = PageRequest::new(q.limit, q.offset);
    let filter = products::Filter {
        name: q.name,
        product_type: q.product_type.map(ProductTypeId),
    };
    let mut c = s.app.db().conn().await?;
    let found = products::list(&mut c, &filter, &actor.visibility(), page).await?;
    Ok(Json(ProductPage::new(&uri, page, found)))
}

/// Creates a product. Needs the global maintainer role.
#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = NewProduct,
    responses((status = 201, body = Product), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(mut new): ApiJson<NewProduct>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    require_global(&actor, Action::Manage, "creating a product")?;
    new.check()?;
    let mut tx = s.app.db().begin().await?;
    let p = products::create(&mut tx, new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(p)))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", params(("id" = i64, Path)),
    responses((status = 200, body = Product), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Product>> {
    let mut c = s.app.db().conn().await?;
    Ok(Json(visible_product(&mut c, &actor, ProductId(id), None).await?))
}

/// Changes a product. Needs the maintainer role on it.
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "products", params(("id" = i64, Path)),
    request_body = ProductPatch,
    responses((status = 200, body = Product), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(mut patch): ApiJson<ProductPatch>,
) -> ApiResult<Json<Product>> {
    let mut tx = s.app.db().begin().await?;
    let mut p = visible_product(&mut tx, &actor, ProductId(id), None).await?;
    require(&actor, Action::Manage, p.id, "changing a product")?;
    patch.check()?;
    p.apply(patch);
    let p = products::update(&mut tx, &p).await?;
    tx.commit().await?;
    Ok(Json(p))
}

/// Deletes a product with all its engagements, tests and findings. Needs the global
/// maintainer role.
#[utoipa::path(delete, path = "/api/v1/products/{id}", tag = "products", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn delete(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    let mut tx = s.app.db().begin().await?;
    let p = visible_product(&mut tx, &actor, ProductId(id), None).await?;
    require_global(&actor, Action::Manage, "deleting a product")?;
    products::delete(&mut tx, p.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
