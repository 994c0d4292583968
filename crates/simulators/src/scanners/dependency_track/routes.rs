//! The simulator's routes: the API paths, the control API under `/_sim/`, and what wraps them
//! (fault injection, cut-off answers, request counting).

use super::super::aws_security_hub::cut::Cut;
use super::{Sh, api, control};
use crate::common::{Faults, RequestLog};
use axum::Router;
use axum::middleware::from_fn;
use axum::routing::{delete, get, post};

pub fn router(shared: Sh) -> Router {
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    let cut = shared.cut.clone();
    Router::new()
        .route("/api/version", get(api::version))
        .route("/api/v1/team/self", get(api::team_self))
        .route("/api/v1/project", get(api::projects))
        .route("/api/v1/finding/project/{uuid}", get(api::findings))
        .route("/_sim/state", get(control::state))
        .route(
            "/_sim/faults",
            get(control::faults)
                .post(control::add_fault)
                .delete(control::clear_faults),
        )
        .route(
            "/_sim/requests",
            get(control::requests).delete(control::reset_requests),
        )
        .route("/_sim/cut", post(control::cut))
        .route("/_sim/records", post(control::add_record))
        .route("/_sim/records/{id}", delete(control::remove_record))
        .route("/_sim/records/{id}/fix", post(control::fix))
        .route(
            "/_sim/records/{id}/false-positive",
            post(control::false_positive),
        )
        .route("/_sim/records/{id}/analysis", post(control::analysis))
        .route_layer(from_fn(move |req, next| {
            RequestLog::middleware(log.clone(), req, next)
        }))
        .fallback(api::fallback)
        .layer(from_fn(move |req, next| {
            Faults::middleware(faults.clone(), req, next)
        }))
        .layer(from_fn(move |req, next| {
            Cut::middleware(cut.clone(), req, next)
        }))
        .with_state(shared)
}
