//! The simulator's routes: Snyk's REST API under `/rest`, the control API under `/_sim/`, and
//! what wraps them (fault injection, request counting, the per-token rate limit).

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
        .route("/rest/self", get(api::me))
        .route("/rest/orgs", get(api::orgs))
        .route("/rest/orgs/{org_id}", get(api::org))
        .route("/rest/orgs/{org_id}/projects", get(api::projects))
        .route("/rest/orgs/{org_id}/issues", get(api::issues))
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
    ApiError::not_found("The requested resource does not exist").into_response()
}

/// Snyk allows 1,620 REST requests a minute per token; past it, 429 with `Retry-After`.
async fn throttle(AxState(sh): AxState<Sh>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/rest/") {
        let token = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_owned()));
        if let Some(window) = token.and_then(|t| sh.window(&t))
            && let Err(wait) = window.try_acquire(Instant::now())
        {
            return ApiError::too_many(wait.as_secs().max(1)).into_response();
        }
    }
    next.run(req).await
}
