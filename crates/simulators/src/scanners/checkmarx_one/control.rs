//! The control API under `/_sim/`: inspect the state, set the limits (request budget, access
//! token lifetime), inject faults and cut-off answers, read request counts, and act as
//! Checkmarx ONE and its users (add and remove projects, rescan a project with results fixed,
//! triage a result as not exploitable).

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
    sh.lock().token_lifetime_seconds = limits.token_lifetime_seconds;
    Json(sh.limiter.get()).into_response()
}

#[derive(Deserialize)]
pub struct NewProject {
    name: String,
    #[serde(default)]
    findings: usize,
}

pub async fn add_project(State(sh): State<Sh>, Json(p): Json<NewProject>) -> Response {
    let id = sh.lock().add_generated(&p.name, p.findings);
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

pub async fn remove_project(State(sh): State<Sh>, Path(id): Path<String>) -> Response {
    let mut s = sh.lock();
    let before = s.projects.len();
    s.projects.retain(|p| p.id != id);
    if s.projects.len() == before {
        StatusCode::NOT_FOUND.into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

#[derive(Deserialize)]
pub struct Rescan {
    #[serde(default)]
    fixed: usize,
}

pub async fn rescan(
    State(sh): State<Sh>,
    Path(id): Path<String>,
    Json(r): Json<Rescan>,
) -> Response {
    if sh.lock().rescan_without(&id, r.fixed) {
        StatusCode::CREATED.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

pub async fn not_exploitable(State(sh): State<Sh>, Path(id): Path<String>) -> Response {
    let mut s = sh.lock();
    if s.project(&id).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    s.mark_not_exploitable(&id);
    StatusCode::NO_CONTENT.into_response()
}
