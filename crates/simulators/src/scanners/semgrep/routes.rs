//! The simulator's routes: Semgrep's Web API under `/api/v1`, the control API under `/_sim/`,
//! and what wraps them (fault injection, request counting, the optional rate limit).

use super::reply::ApiError;
use super::{Sh, api, control};
use crate::common::{Faults, RequestLog};
use axum::Router;
use axum::extract::{Request, State as AxState};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Instant;

pub fn router(shared: Sh) -> Router {
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    Router::new()
        .route("/api/v1/ping", get(api::ping))
        .route("/api/v1/deployments", get(api::deployments))
        .route("/api/v1/deployments/{slug}/projects", get(api::projects))
        .route("/api/v1/deployments/{slug}/findings", get(api::findings))
        .route("/_sim/state", get(control::state))
        .merge(crate::common::control::faults_and_requests(shared.faults.clone(), shared.requests.clone()))
        .route(
            "/_sim/limits",
            get(control::limits).post(control::set_limits),
        )
        .route_layer(from_fn_with_state(shared.clone(), throttle))
        .route_layer(from_fn(move |req, next| {
            RequestLog::middleware(log.clone(), req, next)
        }))
        .fallback(not_found)
        .layer(from_fn(move |req, next| {
            Faults::middleware(faults.clone(), req, next)
        }))
        .with_state(shared)
}

async fn not_found() -> Response {
    ApiError::not_found("Not Found").into_response()
}

/// Semgrep publishes no rate limits; when a test sets one, requests past it get 429 with
/// `Retry-After`.
async fn throttle(AxState(sh): AxState<Sh>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/api/")
        && let Some(window) = sh.window()
        && let Err(wait) = window.try_acquire(Instant::now())
    {
        return ApiError::too_many(wait.as_secs().max(1)).into_response();
    }
    next.run(req).await
}
