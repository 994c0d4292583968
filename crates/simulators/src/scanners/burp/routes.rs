//! The simulator's routes: the GraphQL endpoint, the control API under `/_sim/`, and what
//! wraps them (fault injection, cut-off answers, request counting).

use super::{Sh, control, graphql};
use crate::common::{Faults, RequestLog};
use crate::scanners::aws_security_hub::cut::Cut;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

pub fn router(shared: Sh) -> Router {
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    let cut = shared.cut.clone();
    Router::new()
        .route("/graphql/v1", post(graphql::handle))
        .route("/_sim/state", get(control::state))
        .merge(crate::common::control::faults_and_requests(shared.faults.clone(), shared.requests.clone()))
        .route("/_sim/cut", post(control::cut).delete(control::clear_cut))
        .route("/_sim/sites", post(control::add_site))
        .route("/_sim/sites/{id}", delete(control::remove_site))
        .route("/_sim/sites/{id}/rescan", post(control::rescan))
        .route(
            "/_sim/sites/{id}/false_positive",
            post(control::false_positive),
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
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

/// The GraphQL endpoint takes POST only.
async fn method_not_allowed() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").into_response()
}
