//! The control API under `/_sim/`: inspect the instance, add users, groups and choices, issue
//! and expire OAuth tokens, set rate limits, inject faults, read request counts and the
//! business rules' deliveries, register a business rule, and act as a person in the instance
//! (set a state, comment).

use super::{Limits, Sh, snapshot};
use crate::common::Fault;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

fn refused(e: String) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": e })),
    )
        .into_response()
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

#[derive(Deserialize)]
pub struct NewUser {
    user_name: String,
    password: String,
    #[serde(default)]
    roles: Vec<String>,
}

pub async fn add_user(State(sh): State<Sh>, Json(u): Json<NewUser>) -> Response {
    let roles: Vec<&str> = u.roles.iter().map(String::as_str).collect();
    let id = sh.add_user(&u.user_name, &u.password, &roles);
    (StatusCode::CREATED, Json(json!({ "sys_id": id }))).into_response()
}

#[derive(Deserialize)]
pub struct NewGroup {
    name: String,
}

pub async fn add_group(State(sh): State<Sh>, Json(g): Json<NewGroup>) -> Response {
    let id = sh.add_group(&g.name);
    (StatusCode::CREATED, Json(json!({ "sys_id": id }))).into_response()
}

#[derive(Deserialize)]
pub struct NewChoice {
    table: String,
    element: String,
    value: String,
    label: String,
}

pub async fn add_choice(State(sh): State<Sh>, Json(c): Json<NewChoice>) -> Response {
    let mut s = sh.lock();
    let seq = (s.records.len() as i64 + 1) * 100;
    s.add_choice(&c.table, &c.element, &c.value, &c.label, seq);
    StatusCode::CREATED.into_response()
}

#[derive(Deserialize)]
pub struct ForUser {
    user_name: String,
}

pub async fn issue_refresh_token(State(sh): State<Sh>, Json(u): Json<ForUser>) -> Response {
    let t = sh.issue_refresh_token(&u.user_name);
    (StatusCode::CREATED, Json(json!({ "refresh_token": t }))).into_response()
}

#[derive(Deserialize)]
pub struct TokenRef {
    token: String,
}

pub async fn expire_refresh_token(State(sh): State<Sh>, Json(t): Json<TokenRef>) -> Response {
    let past = Utc::now() - TimeDelta::seconds(1);
    for r in sh
        .lock()
        .refresh_tokens
        .iter_mut()
        .filter(|r| r.token == t.token)
    {
        r.expires_at = past;
    }
    StatusCode::NO_CONTENT.into_response()
}

pub async fn expire_access_tokens(State(sh): State<Sh>) -> Response {
    let past = Utc::now() - TimeDelta::seconds(1);
    for t in &mut sh.lock().access_tokens {
        t.expires_at = past;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub struct Lifetimes {
    access_token_seconds: Option<i64>,
    refresh_token_seconds: Option<i64>,
}

pub async fn lifetimes(State(sh): State<Sh>, Json(l): Json<Lifetimes>) -> Response {
    for c in sh.lock().clients.values_mut() {
        if let Some(a) = l.access_token_seconds {
            c.access_token_lifespan = a.max(1);
        }
        if let Some(r) = l.refresh_token_seconds {
            c.refresh_token_lifespan = r.max(1);
        }
    }
    StatusCode::NO_CONTENT.into_response()
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
pub struct NewRule {
    url: String,
    secret: String,
    #[serde(default = "task")]
    table: String,
}

fn task() -> String {
    "task".into()
}

pub async fn add_business_rule(State(sh): State<Sh>, Json(r): Json<NewRule>) -> Response {
    sh.lock().business_rules.push(super::state::BusinessRule {
        url: r.url,
        secret: r.secret,
        table: r.table,
    });
    StatusCode::CREATED.into_response()
}

pub async fn records(State(sh): State<Sh>, Path(table): Path<String>) -> Response {
    let s = sh.lock();
    let Some(t) = super::schema::table(&table) else {
        return refused(format!("Invalid table {table}"));
    };
    let list: Vec<_> = s.of_table(t).map(|r| snapshot(&s, r)).collect();
    Json(list).into_response()
}

#[derive(Deserialize)]
pub struct SetState {
    #[serde(rename = "as")]
    user: String,
    state: String,
    close_code: Option<String>,
}

pub async fn set_state(
    State(sh): State<Sh>,
    Path((table, sys_id)): Path<(String, String)>,
    Json(b): Json<SetState>,
) -> Response {
    let mut input = Map::new();
    input.insert("state".into(), json!(b.state));
    if let Some(code) = b.close_code {
        let problem = super::schema::table(&table).is_some_and(|t| t.is_a("problem"));
        input.insert(
            (if problem {
                "resolution_code"
            } else {
                "close_code"
            })
            .into(),
            json!(code),
        );
        input.insert("close_notes".into(), json!(format!("Closed by {}", b.user)));
    }
    done(sh.update_as(&b.user, &table, &sys_id, &input))
}

#[derive(Deserialize)]
pub struct Comment {
    #[serde(rename = "as")]
    user: String,
    text: String,
    #[serde(default)]
    work_note: bool,
}

pub async fn comment(
    State(sh): State<Sh>,
    Path((table, sys_id)): Path<(String, String)>,
    Json(c): Json<Comment>,
) -> Response {
    let mut input = Map::new();
    input.insert(
        (if c.work_note {
            "work_notes"
        } else {
            "comments"
        })
        .into(),
        Value::String(c.text),
    );
    done(sh.update_as(&c.user, &table, &sys_id, &input))
}

fn done(r: Result<(), String>) -> Response {
    match r {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => refused(e),
    }
}
