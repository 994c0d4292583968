//! The control API under `/_sim/`: inspect the state, set rate limits and the OAuth token
//! lifetime, inject faults, read request counts and sent webhooks (and retry failed ones), and
//! act as a person in Jira (transition, comment, delete).

use super::{Limits, Sh, ops};
use crate::common::Fault;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
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

pub async fn retry_webhooks(State(sh): State<Sh>) -> Response {
    let n = super::events::retry_failed(&sh.outbox);
    Json(json!({ "retried": n })).into_response()
}

#[derive(Deserialize)]
pub struct OAuthSettings {
    /// Access token lifetime in seconds.
    token_lifetime_secs: Option<i64>,
    /// Expire every access token issued so far.
    #[serde(default)]
    expire_access_tokens: bool,
}

pub async fn oauth(State(sh): State<Sh>, Json(o): Json<OAuthSettings>) -> Response {
    let mut s = sh.lock();
    if let Some(secs) = o.token_lifetime_secs {
        s.token_lifetime_secs = secs.max(1);
    }
    if o.expire_access_tokens {
        let past = Utc::now() - chrono::TimeDelta::seconds(1);
        for t in &mut s.access_tokens {
            t.expires = past;
        }
    }
    Json(json!({ "token_lifetime_secs": s.token_lifetime_secs })).into_response()
}

#[derive(Deserialize)]
pub struct ActAs {
    #[serde(rename = "as")]
    email: String,
    /// The status to move to (transition), or the comment's text (comment).
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

fn done(r: Result<(), String>) -> Response {
    match r {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": e })),
        )
            .into_response(),
    }
}

pub async fn transition(
    State(sh): State<Sh>,
    Path(key): Path<String>,
    Json(a): Json<ActAs>,
) -> Response {
    let Some(status) = a.status else {
        return done(Err("`status` names the status to move to".into()));
    };
    done(ops::transition_as(&sh, &a.email, &key, &status))
}

pub async fn comment(
    State(sh): State<Sh>,
    Path(key): Path<String>,
    Json(a): Json<ActAs>,
) -> Response {
    let Some(body) = a.body else {
        return done(Err("`body` is the comment's text".into()));
    };
    done(ops::comment_as(&sh, &a.email, &key, &body))
}

pub async fn delete(
    State(sh): State<Sh>,
    Path(key): Path<String>,
    Json(a): Json<ActAs>,
) -> Response {
    done(ops::delete_as(&sh, &a.email, &key))
}
