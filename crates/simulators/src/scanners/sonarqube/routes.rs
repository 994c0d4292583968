//! The simulator's routes: SonarQube's web API under `/api/`, the control API under `/_sim/`,
//! and what wraps them (fault injection, request counting, the optional rate limit of
//! SonarQube Cloud).

use super::reply::ApiError;
use super::{Sh, api, control, hotspots, issues};
use crate::common::{Faults, RequestLog};
use axum::Router;
use axum::extract::{Request, State as AxState};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::time::Instant;

pub fn router(shared: Sh) -> Router {
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    Router::new()
        .route("/api/server/version", get(api::version))
        .route("/api/authentication/validate", get(api::validate))
        .route("/api/users/current", get(api::current_user))
        .route("/api/projects/search", get(api::projects))
        .route("/api/components/search", get(api::components))
        .route("/api/issues/search", get(issues::search))
        .route("/api/hotspots/search", get(hotspots::search))
        .route("/api/rules/show", get(api::rule))
        .route("/_sim/state", get(control::state))
        .merge(crate::common::control::faults_and_requests(shared.faults.clone(), shared.requests.clone()))
        .route(
            "/_sim/limits",
            get(control::limits).post(control::set_limits),
        )
        .route("/_sim/indexing", post(control::set_indexing))
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

/// SonarQube's answer for an unknown web service.
async fn not_found() -> Response {
    ApiError::not_found("Unknown url : the web service does not exist").into_response()
}

/// SonarQube Server has no rate limit; SonarQube Cloud answers 429. A test sets one here.
async fn throttle(AxState(sh): AxState<Sh>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/api/")
        && let Some(window) = sh.window()
        && let Err(wait) = window.try_acquire(Instant::now())
    {
        return ApiError::too_many(wait.as_secs().max(1)).into_response();
    }
    next.run(req).await
}
