//! The control API under `/_sim/`, for people and browser tests driving `vulnbridge simulate
//! github`: the whole state, faults, request counts, webhooks sent, and acting as a person
//! (close or reopen an issue, set a project field, delete an issue).

use super::{GitHubSim, Sim};
use crate::Fault;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<Sim> {
    Router::new()
        .route("/_sim/state", get(state))
        .route(
            "/_sim/faults",
            post(add_fault).delete(clear_faults).get(list_faults),
        )
        .route("/_sim/requests", get(requests).delete(reset_requests))
        .route("/_sim/webhooks", get(webhooks))
        .route(
            "/_sim/repos/{owner}/{repo}/issues/{number}/close",
            post(close),
        )
        .route(
            "/_sim/repos/{owner}/{repo}/issues/{number}/reopen",
            post(reopen),
        )
        .route(
            "/_sim/repos/{owner}/{repo}/issues/{number}/delete",
            post(delete_issue),
        )
        .route(
            "/_sim/projects/{owner}/{number}/items/{issue_node_id}/field",
            post(set_field),
        )
}

fn handle(sim: Sim) -> GitHubSim {
    GitHubSim::from_inner(sim)
}

fn outcome(r: Result<(), String>) -> Response {
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({ "error": e })),
        )
            .into_response(),
    }
}

fn bad_json(e: &serde_json::Error) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": format!("the body is not the expected JSON: {e}") })),
    )
        .into_response()
}

async fn state(State(sim): State<Sim>) -> Response {
    axum::Json(handle(sim).state_json()).into_response()
}

async fn add_fault(State(sim): State<Sim>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Fault>(&body) {
        Ok(f) => {
            sim.faults.push(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_json(&e),
    }
}

async fn list_faults(State(sim): State<Sim>) -> Response {
    axum::Json(sim.faults.pending()).into_response()
}

async fn clear_faults(State(sim): State<Sim>) -> Response {
    sim.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn requests(State(sim): State<Sim>) -> Response {
    axum::Json(json!({ "total": sim.log.total(), "counts": sim.log.counts() })).into_response()
}

async fn reset_requests(State(sim): State<Sim>) -> Response {
    sim.log.reset();
    StatusCode::NO_CONTENT.into_response()
}

async fn webhooks(State(sim): State<Sim>) -> Response {
    axum::Json(sim.outbox.sent()).into_response()
}

#[derive(Deserialize)]
struct Actor {
    #[serde(rename = "as")]
    login: String,
    #[serde(default)]
    state_reason: Option<String>,
}

/// The acting person and the issue number, or the answer refusing them.
fn actor_and_number(body: &[u8], raw: &str) -> Result<(Actor, u64), Box<Response>> {
    let a = serde_json::from_slice::<Actor>(body).map_err(|e| Box::new(bad_json(&e)))?;
    let n = raw.parse().map_err(|_| {
        Box::new(
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({ "error": format!("no issue number {raw}") })),
            )
                .into_response(),
        )
    })?;
    Ok((a, n))
}

async fn close(
    State(sim): State<Sim>,
    Path((owner, repo, n)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let (a, n) = match actor_and_number(&body, &n) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let reason = a.state_reason.unwrap_or_else(|| "completed".into());
    outcome(handle(sim).close_issue_as(&a.login, &owner, &repo, n, &reason))
}

async fn reopen(
    State(sim): State<Sim>,
    Path((owner, repo, n)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let (a, n) = match actor_and_number(&body, &n) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    outcome(handle(sim).reopen_issue_as(&a.login, &owner, &repo, n))
}

async fn delete_issue(
    State(sim): State<Sim>,
    Path((owner, repo, n)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let (a, n) = match actor_and_number(&body, &n) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    outcome(handle(sim).delete_issue_as(&a.login, &owner, &repo, n))
}

#[derive(Deserialize)]
struct FieldSet {
    #[serde(rename = "as")]
    login: String,
    field: String,
    option: String,
}

async fn set_field(
    State(sim): State<Sim>,
    Path((owner, number, node)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let f = match serde_json::from_slice::<FieldSet>(&body) {
        Ok(f) => f,
        Err(e) => return bad_json(&e),
    };
    let Ok(number) = number.parse::<u32>() else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": format!("no project number {number}") })),
        )
            .into_response();
    };
    outcome(handle(sim).set_project_field_as(&f.login, &owner, number, &node, &f.field, &f.option))
}
