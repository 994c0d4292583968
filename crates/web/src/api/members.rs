use crate::api::{ApiPath, require, visible_product};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{Action, Membership, ProductId, Role, UserId};
use serde::Deserialize;
use store::members;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(set, remove))
}

/// Who has which role on a product (besides users with a global role).
#[utoipa::path(get, path = "/api/v1/products/{id}/members", tag = "products", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Membership>), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn list(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<Membership>>> {
    let mut c = s.app.db().conn().await?;
    let p = visible_product(&mut c, &actor, ProductId(id), None).await?;
    Ok(Json(members::list_for_product(&mut c, p.id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    pub role: Role,
}

/// Gives a user a role on a product (replacing any they had). Needs the maintainer role.
#[utoipa::path(put, path = "/api/v1/products/{id}/members/{user_id}", tag = "products",
    params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = SetRole,
    responses((status = 200, body = Vec<Membership>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn set(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, user_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<SetRole>,
) -> ApiResult<Json<Vec<Membership>>> {
    let mut tx = s.app.db().begin().await?;
    let p = visible_product(&mut tx, &actor, ProductId(id), None).await?;
    require(&actor, Action::Manage, p.id, "changing who works on a product")?;
    match store::users::get(&mut tx, UserId(user_id)).await {
        Ok(_) => {}
        Err(e) if e.is_not_found() => {
            return Err(ApiError::invalid("user_id", format!("user {user_id} not found")));
        }
        Err(e) => return Err(e.into()),
    }
    members::set(&mut tx, p.id, UserId(user_id), body.role).await?;
    let out = members::list_for_product(&mut tx, p.id).await?;
    tx.commit().await?;
    Ok(Json(out))
}

/// Removes a user's role on a product. Needs the maintainer role.
#[utoipa::path(delete, path = "/api/v1/products/{id}/members/{user_id}", tag = "products",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn remove(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, user_id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let mut tx = s.app.db().begin().await?;
    let p = visible_product(&mut tx, &actor, ProductId(id), None).await?;
    require(&actor, Action::Manage, p.id, "changing who works on a product")?;
    members::remove(&mut tx, p.id, UserId(user_id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
