//! The simulator's routes: the API (targets and their findings, paths ending in `/`), the
//! control API under `/_sim/`, and what wraps them (fault injection, cut-off answers, request
//! counting).

use super::{Sh, api, control};
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
        .route("/targets/", get(api::targets))
        .route("/targets", get(api::append_slash))
        .route("/targets/{id}/findings/", get(api::findings))
        .route("/targets/{id}/findings", get(api::append_slash))
        .route("/_sim/state", get(control::state))
        .route(
            "/_sim/limits",
            get(control::limits).post(control::set_limits),
        )
        .merge(crate::common::control::faults_and_requests(shared.faults.clone(), shared.requests.clone()))
        .route("/_sim/cut", post(control::cut).delete(control::clear_cut))
        .route("/_sim/targets", post(control::add_target))
        .route("/_sim/targets/{id}", delete(control::remove_target))
        .route("/_sim/targets/{id}/state", post(control::set_state))
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

/// Django's answer for a path no view serves.
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "detail": "Not found." })),
    )
        .into_response()
}

/// DRF's answer for a method a view does not serve.
async fn method_not_allowed(method: axum::http::Method) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({ "detail": format!("Method \"{method}\" not allowed.") })),
    )
        .into_response()
}
