//! The control API under `/_sim/`: inspect the state, set the request budget, inject faults
//! and cut-off answers, read request counts, and act as Probely and its users (add and remove
//! targets, set the state of findings).

use super::{Limits, Sh};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

pub async fn state(State(sh): State<Sh>) -> Response {
    let s = sh.lock();
    match serde_json::to_value(&*s) {
        Ok(state) => Json(json!({ "state": state, "limits": sh.limiter.get() })).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub struct CutRule {
    path_contains: String,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

pub async fn cut(State(sh): State<Sh>, Json(rule): Json<CutRule>) -> Response {
    sh.cut.push(&rule.path_contains, rule.times);
    StatusCode::CREATED.into_response()
}

pub async fn clear_cut(State(sh): State<Sh>) -> Response {
    sh.cut.clear();
    StatusCode::NO_CONTENT.into_response()
}

pub async fn limits(State(sh): State<Sh>) -> Response {
    Json(sh.limiter.get()).into_response()
}

pub async fn set_limits(State(sh): State<Sh>, Json(limits): Json<Limits>) -> Response {
    sh.limiter.set(limits);
    Json(sh.limiter.get()).into_response()
}

#[derive(Deserialize)]
pub struct NewTarget {
    name: String,
    #[serde(default)]
    findings: usize,
}

pub async fn add_target(State(sh): State<Sh>, Json(t): Json<NewTarget>) -> Response {
    let id = super::add_target_to(&sh, &t.name, t.findings);
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

pub async fn remove_target(State(sh): State<Sh>, Path(id): Path<String>) -> Response {
    if !sh.lock().remove_target(&id) {
        StatusCode::NOT_FOUND.into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

#[derive(Deserialize)]
pub struct SetState {
    /// `fixed`, `accepted` or `invalid`.
    state: String,
    #[serde(default = "one_finding")]
    count: usize,
}

fn one_finding() -> usize {
    1
}

pub async fn set_state(
    State(sh): State<Sh>,
    Path(id): Path<String>,
    Json(body): Json<SetState>,
) -> Response {
    if !matches!(
        body.state.as_str(),
        "fixed" | "accepted" | "invalid" | "notfixed"
    ) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "state": [format!("\"{}\" is not a valid choice.", body.state)] })),
        )
            .into_response();
    }
    let mut s = sh.lock();
    if s.target(&id).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    s.set_state(&id, body.count, &body.state);
    StatusCode::NO_CONTENT.into_response()
}
