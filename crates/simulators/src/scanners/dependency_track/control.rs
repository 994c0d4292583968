//! The control API under `/_sim/`: the state, faults, cut-off answers, request counts,
//! and the tool's side of a Record's life (add, remove, fix, false positive, any analysis).

use super::Sh;
use crate::common::Fault;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

pub async fn state(State(sh): State<Sh>) -> Response {
    Json(sh.lock().describe()).into_response()
}

pub async fn faults(State(sh): State<Sh>) -> Response {
    Json(sh.faults.pending()).into_response()
}

pub async fn add_fault(State(sh): State<Sh>, Json(fault): Json<Fault>) -> Response {
    sh.faults.push(fault);
    (StatusCode::CREATED, Json(sh.faults.pending())).into_response()
}

pub async fn clear_faults(State(sh): State<Sh>) -> Response {
    sh.faults.clear();
    sh.cut.clear();
    StatusCode::NO_CONTENT.into_response()
}

pub async fn requests(State(sh): State<Sh>) -> Response {
    Json(json!({ "counts": sh.requests.counts(), "total": sh.requests.total() })).into_response()
}

pub async fn reset_requests(State(sh): State<Sh>) -> Response {
    sh.requests.reset();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub struct CutRule {
    path_contains: String,
    #[serde(default = "once")]
    times: u32,
}

fn once() -> u32 {
    1
}

pub async fn cut(State(sh): State<Sh>, Json(rule): Json<CutRule>) -> Response {
    sh.cut.push(&rule.path_contains, rule.times);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub struct NewRecord {
    name: String,
    #[serde(default)]
    findings: usize,
}

pub async fn add_record(State(sh): State<Sh>, Json(r): Json<NewRecord>) -> Response {
    let id = sh.add_record(&r.name, r.findings);
    (StatusCode::CREATED, Json(json!({ "external_id": id }))).into_response()
}

pub async fn remove_record(State(sh): State<Sh>, Path(id): Path<String>) -> Response {
    sh.remove_record(&id);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub struct Fix {
    #[serde(default = "one")]
    n: usize,
}

fn one() -> usize {
    1
}

pub async fn fix(State(sh): State<Sh>, Path(id): Path<String>, Json(f): Json<Fix>) -> Response {
    sh.fix_findings(&id, f.n);
    StatusCode::NO_CONTENT.into_response()
}

pub async fn false_positive(State(sh): State<Sh>, Path(id): Path<String>) -> Response {
    sh.analyse_first(&id, "FALSE_POSITIVE", true);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub struct Analysis {
    state: String,
    #[serde(default)]
    suppressed: bool,
}

pub async fn analysis(
    State(sh): State<Sh>,
    Path(id): Path<String>,
    Json(a): Json<Analysis>,
) -> Response {
    sh.analyse_first(&id, &a.state, a.suppressed);
    StatusCode::NO_CONTENT.into_response()
}
