//! The control routes every scanner simulator shares: `/_sim/faults` (GET the pending rules,
//! POST one, DELETE them all) and `/_sim/requests` (GET the counts by operation, DELETE to
//! start counting again).

use super::{Fault, Faults, RequestLog};
use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

pub fn faults_and_requests<S: Clone + Send + Sync + 'static>(faults: Faults, requests: RequestLog) -> Router<S> {
    let (listed, added, cleared) = (faults.clone(), faults.clone(), faults);
    let (counted, reset) = (requests.clone(), requests);
    Router::new()
        .route(
            "/_sim/faults",
            get(move || async move { Json(listed.pending()) })
                .post(move |Json(fault): Json<Fault>| async move {
                    added.push(fault);
                    (StatusCode::CREATED, Json(added.pending()))
                })
                .delete(move || async move {
                    cleared.clear();
                    StatusCode::NO_CONTENT
                }),
        )
        .route(
            "/_sim/requests",
            get(move || async move { Json(json!({ "counts": counted.counts(), "total": counted.total() })).into_response() }).delete(
                move || async move {
                    reset.reset();
                    StatusCode::NO_CONTENT
                },
            ),
        )
}
