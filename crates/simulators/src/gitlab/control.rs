//! The control API under `/_sim/`: inspect the state, set rate limits, inject faults, read
//! request counts and sent webhooks, and act as a person in GitLab (close, reopen).

use super::state::IssueState;
use super::{Limits, Sh, issues};
use crate::common::Fault;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

pub async fn state(State(sh): State<Sh>) -> Response {
    let s = sh.lock();
    match serde_json::to_value(&*s) {
        Ok(state) => Json(json!({ "state": state, "limits": sh.limits.get() })).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

pub async fn limits(State(sh): State<Sh>) -> Response {
    Json(sh.limits.get()).into_response()
}

pub async fn set_limits(State(sh): State<Sh>, Json(limits): Json<Limits>) -> Response {
    sh.limits.set(limits);
    Json(sh.limits.get()).into_response()
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
    StatusCode::NO_CONTENT.into_response()
}

pub async fn requests(State(sh): State<Sh>) -> Response {
    Json(json!({ "counts": sh.requests.counts(), "total": sh.requests.total() })).into_response()
}

pub async fn reset_requests(State(sh): State<Sh>) -> Response {
    sh.requests.reset();
    StatusCode::NO_CONTENT.into_response()
}

pub async fn webhooks(State(sh): State<Sh>) -> Response {
    Json(sh.outbox.sent()).into_response()
}

#[derive(Deserialize)]
pub struct ActAs {
    #[serde(rename = "as")]
    username: String,
}

pub async fn close(
    State(sh): State<Sh>,
    Path((project, iid)): Path<(String, u64)>,
    Json(who): Json<ActAs>,
) -> Response {
    act(&sh, &who.username, &project, iid, IssueState::Closed)
}

pub async fn reopen(
    State(sh): State<Sh>,
    Path((project, iid)): Path<(String, u64)>,
    Json(who): Json<ActAs>,
) -> Response {
    act(&sh, &who.username, &project, iid, IssueState::Opened)
}

fn act(sh: &Sh, username: &str, project: &str, iid: u64, target: IssueState) -> Response {
    match issues::set_state_as(sh, username, project, iid, target) {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": e })),
        )
            .into_response(),
    }
}
