//! The control API under `/_sim/`: the state, faults, request counts and the rate limit.

use super::Sh;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub async fn state(State(sh): State<Sh>) -> Response {
    let s = sh.lock();
    match serde_json::to_value(&*s) {
        Ok(state) => Json(json!({ "state": state, "limits": sh.limits() })).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// The simulated rate limit: at most `limit` API requests per `per_seconds` (none when absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub limit: Option<u32>,
    #[serde(default = "minute")]
    pub per_seconds: u64,
}

fn minute() -> u64 {
    60
}

pub async fn limits(State(sh): State<Sh>) -> Response {
    Json(sh.limits()).into_response()
}

pub async fn set_limits(State(sh): State<Sh>, Json(limits): Json<Limits>) -> Response {
    sh.set_limits(limits);
    Json(sh.limits()).into_response()
}
