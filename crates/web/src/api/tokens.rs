//! `/api/v1/tokens`: the caller's own API tokens.

use crate::api::ApiPath;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{TokenId, TokenInfo};
use serde::{Deserialize, Serialize};
use store::tokens;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
}

/// Your tokens (never the secret part).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = Problem)),
    security(("token" = [])))]
async fn list(State(s): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Vec<TokenInfo>>> {
    let mut c = s.app.db().conn().await?;
    Ok(Json(tokens::list_for_user(&mut c, actor.user_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. `gitlab-ci`.
    pub name: String,
    /// Days until it expires; never when absent.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The token. Shown once: store it now.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

/// Creates a token for yourself. The response is the only time the token is shown.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let expires_at = match body.expires_in_days {
        Some(0) => return Err(ApiError::invalid("expires_in_days", "must be at least 1")),
        Some(d) => Some(store::now() + chrono::TimeDelta::days(i64::from(d))),
        None => None,
    };
    let new = secrets::token::generate();
    let mut tx = s.app.db().begin().await?;
    let info = tokens::create(&mut tx, actor.user_id, &body.name, &new, expires_at).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken { token: new.reveal().to_owned(), info }),
    ))
}

/// Revokes one of your tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn delete(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    let mut c = s.app.db().conn().await?;
    tokens::delete(&mut c, actor.user_id, TokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
