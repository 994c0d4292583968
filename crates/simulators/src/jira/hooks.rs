//! Admin webhooks, `/rest/webhooks/1.0/webhook`: Jira administrators list, register, replace
//! and delete them. A webhook names its URL, its events, an optional JQL filter
//! (`filters["issue-related-events-section"]`) and an optional secret, with which deliveries
//! are signed; the secret is never shown back.

use super::jql;
use super::reply::{ApiError, ApiResult, json_reply};
use super::state::{State, Webhook};
use super::{Call, Sh};
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use serde_json::{Value, json};

/// The issue and comment events an admin webhook can subscribe to.
const EVENTS: &[&str] = &[
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issuelink_created",
    "issuelink_deleted",
];
const FILTER: &str = "issue-related-events-section";

fn render(base: &str, s: &State, h: &Webhook) -> Value {
    let user = s.users.get(&h.updated_by);
    json!({
        "self": format!("{base}/rest/webhooks/1.0/webhook/{}", h.id),
        "name": h.name,
        "url": h.url,
        "excludeBody": h.exclude_body,
        "filters": { FILTER: h.jql },
        "events": h.events,
        "enabled": h.enabled,
        "lastUpdated": h.updated.timestamp_millis(),
        "lastUpdatedUser": user.map(|u| u.key.clone()),
        "lastUpdatedDisplayName": user.map(|u| u.display_name.clone()),
    })
}

fn admin(call: &Call, sh: &Sh, s: &State) -> Result<u64, ApiError> {
    let user = call.caller(sh, s)?;
    if !s.is_admin(user) {
        return Err(ApiError::forbidden(
            "You must be a Jira administrator to manage webhooks.",
        ));
    }
    Ok(user)
}

/// What a request body says a webhook is.
struct Spec {
    name: String,
    url: String,
    events: Vec<String>,
    jql: String,
    exclude_body: bool,
    secret: Option<String>,
    enabled: bool,
}

/// The webhook a body describes, checked.
fn read(s: &State, body: &Value) -> Result<Spec, ApiError> {
    let o = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("The webhook must be a JSON object."))?;
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let Some(name) = name else {
        return Err(ApiError::field("name", "The webhook needs a name."));
    };
    let url = o
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    let parsed = url::Url::parse(&url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if parsed.is_none() {
        return Err(ApiError::field(
            "url",
            "The URL must be a valid http(s) URL.",
        ));
    }
    let events: Vec<String> = match o.get("events") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|e| e.as_str().unwrap_or("").to_owned())
            .collect(),
        Some(_) => {
            return Err(ApiError::field(
                "events",
                "Events must be a list of event names.",
            ));
        }
    };
    if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(ApiError::field(
            "events",
            format!("The event '{bad}' is not a valid webhook event."),
        ));
    }
    let jql = o
        .get("filters")
        .and_then(|f| f.get(FILTER))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    if !jql.is_empty() {
        jql::parse(&jql, s).map_err(|e| ApiError::field(FILTER, e))?;
    }
    let exclude_body = o
        .get("excludeBody")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let secret = o
        .get("secret")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|s| !s.is_empty());
    let enabled = o.get("enabled").and_then(Value::as_bool).unwrap_or(true);
    Ok(Spec {
        name: name.to_owned(),
        url,
        events,
        jql,
        exclude_body,
        secret,
        enabled,
    })
}

fn id_of(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::message(
            StatusCode::NOT_FOUND,
            format!("No webhook with id '{text}'."),
        )
    })
}

/// `GET /rest/webhooks/1.0/webhook`.
pub async fn list(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let s = sh.lock();
    admin(&call, &sh, &s)?;
    let all: Vec<Value> = s
        .webhooks
        .values()
        .map(|h| render(sh.base(), &s, h))
        .collect();
    Ok(json_reply(StatusCode::OK, Value::Array(all)))
}

/// `POST /rest/webhooks/1.0/webhook`: 201 with the webhook.
pub async fn create(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let user = admin(&call, &sh, &s)?;
    let body = call.json()?;
    let spec = read(&s, &body)?;
    let now = Utc::now();
    let id = s.next_webhook_id();
    let hook = Webhook {
        id,
        name: spec.name,
        url: spec.url,
        events: spec.events,
        jql: spec.jql,
        exclude_body: spec.exclude_body,
        secret: spec.secret,
        enabled: spec.enabled,
        created: now,
        updated: now,
        updated_by: user,
    };
    let v = render(sh.base(), &s, &hook);
    s.webhooks.insert(id, hook);
    Ok(json_reply(StatusCode::CREATED, v))
}

/// `GET /rest/webhooks/1.0/webhook/{id}`.
pub async fn show(AxState(sh): AxState<Sh>, Path(id): Path<String>, call: Call) -> ApiResult {
    let s = sh.lock();
    admin(&call, &sh, &s)?;
    let id = id_of(&id)?;
    let h = s.webhooks.get(&id).ok_or_else(|| {
        ApiError::message(StatusCode::NOT_FOUND, format!("No webhook with id '{id}'."))
    })?;
    Ok(json_reply(StatusCode::OK, render(sh.base(), &s, h)))
}

/// `PUT /rest/webhooks/1.0/webhook/{id}`: replaces the webhook (a secret left out is kept).
pub async fn update(AxState(sh): AxState<Sh>, Path(id): Path<String>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let user = admin(&call, &sh, &s)?;
    let id = id_of(&id)?;
    let body = call.json()?;
    let spec = read(&s, &body)?;
    let Some(existing) = s.webhooks.get(&id).cloned() else {
        return Err(ApiError::message(
            StatusCode::NOT_FOUND,
            format!("No webhook with id '{id}'."),
        ));
    };
    let hook = Webhook {
        id,
        name: spec.name,
        url: spec.url,
        events: spec.events,
        jql: spec.jql,
        exclude_body: spec.exclude_body,
        secret: spec.secret.or(existing.secret),
        enabled: spec.enabled,
        created: existing.created,
        updated: Utc::now(),
        updated_by: user,
    };
    let v = render(sh.base(), &s, &hook);
    s.webhooks.insert(id, hook);
    Ok(json_reply(StatusCode::OK, v))
}

/// `DELETE /rest/webhooks/1.0/webhook/{id}`: 204.
pub async fn delete(AxState(sh): AxState<Sh>, Path(id): Path<String>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    admin(&call, &sh, &s)?;
    let id = id_of(&id)?;
    if s.webhooks.remove(&id).is_none() {
        return Err(ApiError::message(
            StatusCode::NOT_FOUND,
            format!("No webhook with id '{id}'."),
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
