//! The simulator's routes: the scans and export APIs, the control API under `/_sim/`, and
//! what wraps them (fault injection, cut-off answers, request counting).

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
        .route("/scans", get(api::scans))
        .route("/scans/{scan_id}/history", get(api::history))
        .route("/vulns/export", post(api::export))
        .route("/vulns/export/status", get(api::export_list))
        .route("/vulns/export/{uuid}/status", get(api::export_status))
        .route(
            "/vulns/export/{uuid}/chunks/{chunk}",
            get(api::export_chunk),
        )
        .route("/vulns/export/{uuid}/cancel", post(api::export_cancel))
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
        .route("/_sim/pace", post(control::pace))
        .route("/_sim/rate-limit", post(control::rate_limit))
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
        .fallback(api::fallback)
        .layer(from_fn(move |req, next| {
            Faults::middleware(faults.clone(), req, next)
        }))
        .layer(from_fn(move |req, next| {
            Cut::middleware(cut.clone(), req, next)
        }))
        .with_state(shared)
}
