//! The simulator's routes: the Security Hub operations (each served by [`super::api::serve`];
//! routes exist so that requests are counted by operation), the control API under `/_sim/`,
//! and what wraps them (fault injection, cut-off answers, request counting).

use super::cut::Cut;
use super::{Sh, api, control};
use crate::common::{Faults, RequestLog};
use axum::Router;
use axum::middleware::from_fn;
use axum::routing::{any, delete, get, post};

pub fn router(shared: Sh) -> Router {
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    let cut = shared.cut.clone();
    Router::new()
        .route("/accounts", any(api::serve))
        .route("/findingAggregator/list", any(api::serve))
        .route("/findingAggregator/get/{*arn}", any(api::serve))
        .route("/members", any(api::serve))
        .route("/findings", any(api::serve))
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
        .route("/_sim/throttling", post(control::throttling))
        .route("/_sim/records", post(control::add_record))
        .route("/_sim/records/{id}", delete(control::remove_record))
        .route("/_sim/records/{id}/fix", post(control::fix))
        .route(
            "/_sim/records/{id}/false-positive",
            post(control::false_positive),
        )
        .route_layer(from_fn(move |req, next| {
            RequestLog::middleware(log.clone(), req, next)
        }))
        .fallback(api::serve)
        .layer(from_fn(move |req, next| {
            Faults::middleware(faults.clone(), req, next)
        }))
        .layer(from_fn(move |req, next| {
            Cut::middleware(cut.clone(), req, next)
        }))
        .with_state(shared)
}
