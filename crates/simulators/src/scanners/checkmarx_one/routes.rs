//! The simulator's routes: IAM's token endpoint, the REST API under `/api`, the control API
//! under `/_sim/`, and what wraps them (fault injection, cut-off answers, request counting).

use super::{Sh, api, control, iam};
use crate::common::{Faults, RequestLog};
use crate::scanners::aws_security_hub::cut::Cut;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::json;

pub fn router(shared: Sh) -> Router {
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    let cut = shared.cut.clone();
    Router::new()
        .route(
            "/auth/realms/{tenant}/protocol/openid-connect/token",
            post(iam::token),
        )
        .route("/api/projects", get(api::projects))
        .route("/api/scans", get(api::scans))
        .route("/api/results", get(api::results))
        .route("/_sim/state", get(control::state))
        .route(
            "/_sim/limits",
            get(control::limits).post(control::set_limits),
        )
        .merge(crate::common::control::faults_and_requests(shared.faults.clone(), shared.requests.clone()))
        .route("/_sim/cut", post(control::cut).delete(control::clear_cut))
        .route("/_sim/projects", post(control::add_project))
        .route("/_sim/projects/{id}", delete(control::remove_project))
        .route("/_sim/projects/{id}/rescan", post(control::rescan))
        .route(
            "/_sim/projects/{id}/not_exploitable",
            post(control::not_exploitable),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(from_fn(move |req, next| {
            RequestLog::middleware(log.clone(), req, next)
        }))
        .fallback(not_found)
        .layer(from_fn(move |req, next| {
            Cut::middleware(cut.clone(), req, next)
        }))
        .layer(from_fn(move |req, next| {
            Faults::middleware(faults.clone(), req, next)
        }))
        .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
        .with_state(shared)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "message": "Not Found", "type": "ERROR", "code": 404 })),
    )
        .into_response()
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({ "message": "Method Not Allowed", "type": "ERROR", "code": 405 })),
    )
        .into_response()
}
