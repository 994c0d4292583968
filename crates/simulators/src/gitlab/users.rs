//! `GET /user` and `GET /personal_access_tokens/self`.

use super::auth::{self, Scopes};
use super::reply::{ApiResult, json_reply};
use super::{Call, Sh, render};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;

/// The token's user. Accepts `api`, `read_api` and `read_user` tokens.
pub async fn current(State(sh): State<Sh>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let caller = auth::require(call.auth(&mut s, Scopes::User)?)?;
    let user = s
        .users
        .get(&caller.user_id)
        .ok_or_else(super::reply::ApiError::unauthorized)?;
    Ok(json_reply(
        StatusCode::OK,
        render::current_user(sh.base(), user),
    ))
}

/// The token itself: name, scopes, expiry, whether it is active. Any scope may read itself.
pub async fn token_self(State(sh): State<Sh>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let caller = auth::require(call.auth(&mut s, Scopes::AnyScope)?)?;
    let token = s
        .tokens
        .iter()
        .find(|t| t.id == caller.token_id)
        .ok_or_else(super::reply::ApiError::unauthorized)?;
    Ok(json_reply(
        StatusCode::OK,
        render::token(token, Utc::now().date_naive()),
    ))
}
