//! Service hook subscriptions (`/_apis/hooks/subscriptions`, organization level): create, list
//! (filtered by `publisherId`, `eventType`, `consumerId`, `consumerActionId`), get, replace,
//! delete. Writing needs `vso.hooks_write` (which `vso.work`, `vso.code` and `vso.build`
//! include), reading `vso.hooks`.
//!
//! The simulator publishes the `tfs` work item events (`workitem.created`, `.updated`,
//! `.deleted`, `.restored`, `.commented`) to the Web Hooks consumer (`webHooks` /
//! `httpRequest`); other publishers, events and consumers are refused as not simulated. Inputs
//! are checked against the descriptors the service publishes (required `url`, the patterns and
//! lengths of `basicAuthUsername`, `basicAuthPassword`, `httpHeaders`, `commentPattern`, the
//! possible values of `resourceDetailsToSend`, `messagesToSend`, `detailedMessagesToSend`), with
//! the service's messages where they are known. The confidential `basicAuthPassword` is shown
//! as `********`, and sending it back masked keeps the stored one.

use super::auth::Need;
use super::fields::format_date_time;
use super::reply::{ApiError, json_ok, list};
use super::state::{State, Subscription, guid};
use super::version::Resource;
use super::{Call, Sh, render};
use axum::extract::{Path, State as AxState};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub const EVENT_TYPES: [&str; 5] = [
    "workitem.created",
    "workitem.updated",
    "workitem.deleted",
    "workitem.restored",
    "workitem.commented",
];
const RESOURCE_VERSIONS: [&str; 3] = ["1.0", "1.0-preview.1", "1.0-preview.2"];
const CONSUMER_INPUTS: [&str; 7] = [
    "url",
    "httpHeaders",
    "basicAuthUsername",
    "basicAuthPassword",
    "resourceDetailsToSend",
    "messagesToSend",
    "detailedMessagesToSend",
];
pub const MASK: &str = "********";

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::hooks(StatusCode::BAD_REQUEST, message)
}

fn missing(id: &str) -> ApiError {
    ApiError::hooks(
        StatusCode::NOT_FOUND,
        format!("The subscription with identifier '{id}' was missing."),
    )
}

fn inputs(v: Option<&Value>, what: &str) -> Result<BTreeMap<String, String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                Value::Null => Err(bad(format!(
                    "Publisher input value for id '{k}' cannot be null."
                ))),
                _ => Err(bad(format!("The {what} input '{k}' must be a string."))),
            })
            .collect(),
        Some(_) => Err(bad(format!(
            "The {what} inputs must be an object of input ids and values."
        ))),
    }
}

fn no_space(v: &str) -> bool {
    !v.is_empty() && !v.chars().any(char::is_whitespace)
}

/// The `httpHeaders` pattern: `Key:value` lines.
fn valid_headers(v: &str) -> bool {
    v.split(['\r', '\n', '\u{c}'])
        .filter(|l| !l.trim().is_empty())
        .all(|line| {
            line.split_once(':')
                .is_some_and(|(k, val)| no_space(k.trim()) && !val.trim().is_empty())
        })
}

/// Checks a subscription's body and returns the subscription it describes.
fn read(
    s: &State,
    body: &Value,
    existing: Option<&Subscription>,
    by: &str,
) -> Result<Subscription, ApiError> {
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
    };
    let publisher = text("publisherId");
    if !publisher.eq_ignore_ascii_case("tfs") {
        return Err(bad(format!(
            "The publisher '{publisher}' is not simulated; the Azure DevOps simulator publishes tfs work item events."
        )));
    }
    let event_type = text("eventType");
    let Some(event_type) = EVENT_TYPES
        .iter()
        .find(|e| e.eq_ignore_ascii_case(event_type))
    else {
        return Err(bad(format!(
            "The event type '{event_type}' is not simulated; the Azure DevOps simulator publishes {}.",
            EVENT_TYPES.join(", ")
        )));
    };
    if !text("consumerId").eq_ignore_ascii_case("webHooks") {
        return Err(bad("Consumer by the specified identifier was not found."));
    }
    if !text("consumerActionId").eq_ignore_ascii_case("httpRequest") {
        return Err(bad(
            "The specified action identifier does not correspond to an action of the consumer.",
        ));
    }
    let resource_version = text("resourceVersion");
    if !resource_version.is_empty() && !RESOURCE_VERSIONS.contains(&resource_version) {
        return Err(bad(format!(
            "Resource version '{resource_version}' is not supported for this action."
        )));
    }
    let mut publisher_inputs = inputs(body.get("publisherInputs"), "publisher")?;
    let project_id = publisher_inputs
        .get("projectId")
        .map(|p| p.trim().to_owned())
        .unwrap_or_default();
    if project_id.is_empty() {
        return Err(bad("A project id or subscriber id is required."));
    }
    // `projectId` is the project's GUID (the input's data type), not its name.
    let project = s.projects.get(&project_id.to_ascii_lowercase()).ok_or_else(|| {
        bad(format!(
            "The value '{project_id}' is not valid for input 'projectId': it must be the id (GUID) of a project of the organization."
        ))
    })?;
    publisher_inputs.insert("projectId".into(), project.id.clone());
    if let Some(t) = publisher_inputs
        .get("workItemType")
        .filter(|t| !t.trim().is_empty())
        && project.work_item_type(t).is_none()
    {
        return Err(bad(format!(
            "The value '{t}' is not valid for input 'workItemType': the project has no such work item type."
        )));
    }
    if let Some(a) = publisher_inputs
        .get("areaPath")
        .filter(|a| !a.trim().is_empty())
        && project.area(a).is_none()
    {
        return Err(bad(format!(
            "The value '{a}' is not valid for input 'areaPath': the project has no such area."
        )));
    }
    if let Some(p) = publisher_inputs.get("commentPattern") {
        let ok = (1..=1024).contains(&p.chars().count())
            && p.trim_start()
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace())
            && !p.chars().any(|c| matches!(c, '&' | '<' | '>' | '\'' | '"'));
        if !ok {
            return Err(bad(
                "Value should contain at least one non whitespace character and cannot contain any of characters: &, <, >, ' (apostrophe), or \" (quote).",
            ));
        }
    }
    publisher_inputs
        .entry("hostId".into())
        .or_insert_with(|| s.collection_id.clone());
    publisher_inputs
        .entry("tfsSubscriptionId".into())
        .or_insert_with(guid);
    let mut consumer_inputs = inputs(body.get("consumerInputs"), "consumer")?;
    for k in consumer_inputs.keys() {
        if !CONSUMER_INPUTS.contains(&k.as_str()) {
            return Err(bad(format!(
                "Unknown subscription input \"{k}\" for consumer \"webHooks\" and action \"httpRequest\""
            )));
        }
    }
    let url = consumer_inputs
        .get("url")
        .map(|u| u.trim().to_owned())
        .unwrap_or_default();
    if url.is_empty() {
        return Err(bad(
            "No value was supplied for consumer input \"url\" (URL) which is a required input for consumer \"webHooks\" action \"httpRequest\"",
        ));
    }
    // The service refuses localhost and special-range targets; the simulator allows them so
    // that tests and the demo can receive its deliveries.
    if !url::Url::parse(&url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
    {
        return Err(bad(format!(
            "The value '{url}' is not valid for input 'url': it must be an absolute http or https URI."
        )));
    }
    if consumer_inputs
        .get("basicAuthPassword")
        .is_some_and(|p| p == MASK)
    {
        match existing.and_then(|e| e.consumer_inputs.get("basicAuthPassword")) {
            Some(old) => {
                consumer_inputs.insert("basicAuthPassword".into(), old.clone());
            }
            None => {
                return Err(bad(
                    "Confidential input values must be provided to make this change. (basicAuthPassword)",
                ));
            }
        }
    }
    for key in ["basicAuthUsername", "basicAuthPassword"] {
        if let Some(v) = consumer_inputs.get(key)
            && !(no_space(v) && v.chars().count() <= 256)
        {
            return Err(bad(format!(
                "The value for input '{key}' is not valid: 1 to 256 characters without spaces."
            )));
        }
    }
    if let Some(h) = consumer_inputs.get("httpHeaders")
        && !valid_headers(h)
    {
        return Err(bad(
            "The value for input 'httpHeaders' is not valid: give HTTP header keys and values separated by a colon (\"Key1:value1\"), one pair a line.",
        ));
    }
    for (key, allowed) in [
        ("resourceDetailsToSend", &["", "minimal", "none"][..]),
        (
            "messagesToSend",
            &["", "text", "html", "markdown", "none"][..],
        ),
        (
            "detailedMessagesToSend",
            &["", "text", "html", "markdown", "none"][..],
        ),
    ] {
        if let Some(v) = consumer_inputs.get(key)
            && !allowed.contains(&v.trim())
        {
            return Err(bad(format!(
                "The value '{v}' is not valid for input '{key}'. Possible values: {}.",
                allowed
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let now = Utc::now();
    Ok(Subscription {
        id: existing.map_or_else(guid, |e| e.id.clone()),
        publisher_id: "tfs".into(),
        event_type: (*event_type).to_owned(),
        resource_version: resource_version.to_owned(),
        consumer_id: "webHooks".into(),
        consumer_action_id: "httpRequest".into(),
        publisher_inputs,
        consumer_inputs,
        created_by: existing.map_or_else(|| by.to_owned(), |e| e.created_by.clone()),
        created_date: existing.map_or(now, |e| e.created_date),
        modified_by: by.to_owned(),
        modified_date: now,
        status: "enabled".into(),
        notifications: existing.map_or(0, |e| e.notifications),
    })
}

/// A subscription as the API shows it (confidential inputs masked).
fn render_subscription(base: &str, s: &State, sub: &Subscription) -> Value {
    let org = render::org_url(base, s);
    let mut consumer = Map::new();
    for (k, v) in &sub.consumer_inputs {
        consumer.insert(
            k.clone(),
            json!(if k == "basicAuthPassword" {
                MASK
            } else {
                v.as_str()
            }),
        );
    }
    let project = sub
        .publisher_inputs
        .get("projectId")
        .and_then(|p| s.projects.get(p))
        .map_or("", |p| p.name.as_str());
    json!({
        "id": sub.id,
        "url": format!("{org}/_apis/hooks/subscriptions/{}", sub.id),
        "status": sub.status,
        "publisherId": sub.publisher_id,
        "eventType": sub.event_type,
        "resourceVersion": if sub.resource_version.is_empty() { Value::Null } else { json!(sub.resource_version) },
        "eventDescription": format!("Any work item in project {project}"),
        "consumerId": sub.consumer_id,
        "consumerActionId": sub.consumer_action_id,
        "actionDescription": format!("To host {}", sub.consumer_inputs.get("url").and_then(|u| url::Url::parse(u).ok()).and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()),
        "createdBy": { "id": sub.created_by },
        "createdDate": format_date_time(sub.created_date),
        "modifiedBy": { "id": sub.modified_by },
        "modifiedDate": format_date_time(sub.modified_date),
        "publisherInputs": sub.publisher_inputs,
        "consumerInputs": consumer,
    })
}

fn json_body(call: &Call) -> Result<Value, ApiError> {
    let ct = call.content_type();
    if ct != "application/json" {
        return Err(ApiError::content_type(
            &ct,
            call.method.as_str(),
            "application/json",
        ));
    }
    serde_json::from_slice(&call.body)
        .map_err(|e| bad(format!("The subscription could not be read: {e}")))
}

/// `/{org}/_apis/hooks/subscriptions`.
pub async fn collection(AxState(sh): AxState<Sh>, Path(org): Path<String>, call: Call) -> Response {
    (|| -> Result<Response, ApiError> {
        let mut s = sh.lock();
        match call.method {
            Method::POST => {
                let (caller, version) =
                    call.begin(&s, &org, Resource::Released, Need::HooksWrite)?;
                let body = json_body(&call)?;
                let sub = read(&s, &body, None, &caller.user_id)?;
                let out = render_subscription(sh.base(), &s, &sub);
                s.subscriptions.insert(sub.id.clone(), sub);
                Ok(json_ok(StatusCode::OK, out, &version))
            }
            Method::GET => {
                let (_, version) = call.begin(&s, &org, Resource::Released, Need::HooksRead)?;
                let filter = |k: &str, have: &str| {
                    call.param(k).is_none_or(|want| {
                        want.trim().is_empty() || want.eq_ignore_ascii_case(have)
                    })
                };
                let all = s
                    .subscriptions
                    .values()
                    .filter(|sub| {
                        filter("publisherId", &sub.publisher_id)
                            && filter("eventType", &sub.event_type)
                            && filter("consumerId", &sub.consumer_id)
                            && filter("consumerActionId", &sub.consumer_action_id)
                    })
                    .map(|sub| render_subscription(sh.base(), &s, sub))
                    .collect();
                Ok(json_ok(StatusCode::OK, list(all), &version))
            }
            ref other => Err(ApiError::Plain(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("The requested resource does not support http method '{other}'."),
            )),
        }
    })()
    .unwrap_or_else(IntoResponse::into_response)
}

/// `/{org}/_apis/hooks/subscriptions/{id}`.
pub async fn item(
    AxState(sh): AxState<Sh>,
    Path((org, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    (|| -> Result<Response, ApiError> {
        let mut s = sh.lock();
        let need = if call.method == Method::GET {
            Need::HooksRead
        } else {
            Need::HooksWrite
        };
        let (caller, version) = call.begin(&s, &org, Resource::Released, need)?;
        let key = s
            .subscriptions
            .keys()
            .find(|k| k.eq_ignore_ascii_case(id.trim()))
            .cloned()
            .ok_or_else(|| missing(&id))?;
        match call.method {
            Method::GET => {
                let sub = s.subscriptions.get(&key).ok_or_else(|| missing(&id))?;
                Ok(json_ok(
                    StatusCode::OK,
                    render_subscription(sh.base(), &s, sub),
                    &version,
                ))
            }
            Method::PUT => {
                let body = json_body(&call)?;
                let existing = s.subscriptions.get(&key).cloned();
                let sub = read(&s, &body, existing.as_ref(), &caller.user_id)?;
                let out = render_subscription(sh.base(), &s, &sub);
                s.subscriptions.insert(key, sub);
                Ok(json_ok(StatusCode::OK, out, &version))
            }
            Method::DELETE => {
                s.subscriptions.remove(&key);
                let mut r = StatusCode::NO_CONTENT.into_response();
                super::reply::service_headers(&mut r);
                Ok(r)
            }
            ref other => Err(ApiError::Plain(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("The requested resource does not support http method '{other}'."),
            )),
        }
    })()
    .unwrap_or_else(IntoResponse::into_response)
}
