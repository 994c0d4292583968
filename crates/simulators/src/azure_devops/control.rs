//! The control API under `/_sim/`: inspect the state, add tokens and projects, set rate limits,
//! inject faults, read request counts and sent webhooks, and act as a person in Azure DevOps
//! (change a state, comment, delete).

use super::patch::{Op, OpKind};
use super::process::Process;
use super::{Limits, Sh};
use crate::common::Fault;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

fn refused(e: String) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": e })),
    )
        .into_response()
}

fn done(r: Result<(), String>) -> Response {
    match r {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => refused(e),
    }
}

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
pub struct NewPat {
    user: String,
    pat: String,
    #[serde(default)]
    scopes: Vec<String>,
}

pub async fn add_pat(State(sh): State<Sh>, Json(p): Json<NewPat>) -> Response {
    if p.pat.trim().is_empty() || p.user.trim().is_empty() {
        return refused("a token needs a user and a value".into());
    }
    let mut s = sh.lock();
    let user_id = s.ensure_user(p.user.trim());
    s.pats.retain(|t| t.token != p.pat);
    s.pats.push(super::state::Pat {
        token: p.pat,
        user_id,
        scopes: p.scopes,
    });
    (StatusCode::CREATED, Json(json!({ "ok": true }))).into_response()
}

#[derive(Deserialize)]
pub struct NewProject {
    name: String,
    process: String,
}

pub async fn add_project(State(sh): State<Sh>, Json(p): Json<NewProject>) -> Response {
    let Some(process) = Process::parse(&p.process) else {
        return refused(format!(
            "unknown process '{}': Agile, Scrum, Basic or CMMI",
            p.process
        ));
    };
    if p.name.trim().is_empty() {
        return refused("a project needs a name".into());
    }
    let mut s = sh.lock();
    if let Some(existing) = s.project(p.name.trim()) {
        return Json(json!({ "id": existing.id })).into_response();
    }
    let id = super::state::guid();
    let name = p.name.trim().to_owned();
    s.projects.insert(
        id.clone(),
        super::state::Project {
            id: id.clone(),
            description: format!("{name} ({} process)", process.name()),
            areas: vec![name.clone()],
            name,
            process,
            revision: 1,
            last_update: chrono::Utc::now(),
        },
    );
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

#[derive(Deserialize)]
pub struct SetState {
    #[serde(rename = "as")]
    user: String,
    state: String,
}

pub async fn set_state(
    State(sh): State<Sh>,
    Path(id): Path<i64>,
    Json(b): Json<SetState>,
) -> Response {
    let ops = [Op {
        op: OpKind::Add,
        path: "/fields/System.State".into(),
        value: json!(b.state),
    }];
    done(sh.act_update(&b.user, id, &ops))
}

#[derive(Deserialize)]
pub struct AddComment {
    #[serde(rename = "as")]
    user: String,
    text: String,
}

pub async fn comment(
    State(sh): State<Sh>,
    Path(id): Path<i64>,
    Json(b): Json<AddComment>,
) -> Response {
    done(sh.act_comment(&b.user, id, &b.text))
}

#[derive(Deserialize)]
pub struct ActAs {
    #[serde(rename = "as")]
    user: String,
}

pub async fn delete(State(sh): State<Sh>, Path(id): Path<i64>, Json(b): Json<ActAs>) -> Response {
    done(sh.act_delete(&b.user, id))
}
