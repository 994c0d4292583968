//! The control API under `/_sim/`: inspect the state, inject faults and cut-off answers, read
//! request counts, and act as Burp and its users (add and remove sites, rescan a site with
//! issues fixed, mark an issue false positive).

use super::{BurpSim, Sh};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

pub async fn state(State(sh): State<Sh>) -> Response {
    let s = sh.lock();
    match serde_json::to_value(&*s) {
        Ok(state) => Json(json!({ "state": state })).into_response(),
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

#[derive(Deserialize)]
pub struct NewSite {
    name: String,
    #[serde(default)]
    findings: usize,
}

pub async fn add_site(State(sh): State<Sh>, Json(site): Json<NewSite>) -> Response {
    let id = BurpSim::add_site_to(&sh, &site.name, site.findings);
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

pub async fn remove_site(State(sh): State<Sh>, Path(id): Path<String>) -> Response {
    let mut s = sh.lock();
    let before = s.sites.len();
    s.sites.retain(|site| site.id.to_string() != id);
    if s.sites.len() == before {
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

pub async fn false_positive(State(sh): State<Sh>, Path(id): Path<String>) -> Response {
    let mut s = sh.lock();
    if s.site(&id).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    s.mark_false_positive(&id);
    StatusCode::NO_CONTENT.into_response()
}
