//! The control API under `/_sim/`: the state, faults, cut-off answers, request counts,
//! the export pace and rate limit, and the tool's side of a Record's life (add, remove, fix, false positive).

use super::{Pace, Sh};
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

pub async fn pace(State(sh): State<Sh>, Json(p): Json<Pace>) -> Response {
    sh.lock().pace = p;
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub struct RateLimit {
    limit: Option<u32>,
    #[serde(default = "minute")]
    per_seconds: u64,
    #[serde(default = "half_minute")]
    retry_after: u64,
}

fn minute() -> u64 {
    60
}

fn half_minute() -> u64 {
    30
}

pub async fn rate_limit(State(sh): State<Sh>, Json(r): Json<RateLimit>) -> Response {
    sh.set_rate_limit(
        r.limit,
        std::time::Duration::from_secs(r.per_seconds.max(1)),
        r.retry_after,
    );
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
    sh.accept_first(&id);
    StatusCode::NO_CONTENT.into_response()
}
