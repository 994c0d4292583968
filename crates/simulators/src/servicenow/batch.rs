//! The Batch API, `POST /api/now/v1/batch`: `{batch_request_id, rest_requests: [{id, method,
//! url, headers: [{name, value}], body: <base64>, exclude_response_headers}]}` served item by
//! item as the batch's caller (each item through its own ACLs), answered with
//! `{batch_request_id, serviced_requests: [{id, status_code, status_text, headers, body:
//! <base64>, execution_time}], unserviced_requests: [ids]}`. An item over the size limit, or
//! past the transaction quota, ends the batch: it and every later item come back unserviced.

use super::Shared;
use super::api::{self, Endpoint};
use super::auth::Caller;
use super::reply::{self, ApiRequest, ApiResponse};
use super::write::Change;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use base64::Engine;
use serde_json::{Value, json};
use std::time::Instant;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// An item the batch could not even run (a malformed item), answered in its place.
fn item_error(id: &str, status: StatusCode, message: &str) -> Value {
    let body = reply::error(status, message, None).body_bytes();
    json!({
        "id": id,
        "status_code": status.as_u16(),
        "status_text": status.canonical_reason().unwrap_or(""),
        "headers": [],
        "body": b64().encode(body),
        "error_message": message,
        "execution_time": 0,
    })
}

/// Reads one item into a request; `Err` is the item's answer.
fn request(item: &Value, id: &str) -> Result<(Endpoint, ApiRequest), Value> {
    let bad = |m: &str| item_error(id, StatusCode::BAD_REQUEST, m);
    let method = item
        .get("method")
        .and_then(Value::as_str)
        .and_then(|m| Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).ok())
        .ok_or_else(|| bad("rest_requests.method is required"))?;
    let url = item
        .get("url")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|u| u.starts_with('/'))
        .ok_or_else(|| bad("rest_requests.url must be a relative path"))?;
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (url.to_owned(), None),
    };
    let endpoint = match api::route(&path) {
        Some(Endpoint::Batch) | None => {
            return Err(bad("Requested URI does not represent any resource"));
        }
        Some(e) => e,
    };
    let mut headers = HeaderMap::new();
    for h in item
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(value)) = (
            h.get("name").and_then(Value::as_str),
            h.get("value").and_then(Value::as_str),
        ) else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(n, v);
        }
    }
    // Credentials in an item are not used: the batch's caller makes every call.
    headers.remove(axum::http::header::AUTHORIZATION);
    let body = match item.get("body").and_then(Value::as_str) {
        // The docs' own example wraps the base64 text over several lines.
        Some(text) => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            b64()
                .decode(compact)
                .map_err(|_| bad("rest_requests.body is not valid base64"))?
        }
        None => Vec::new(),
    };
    Ok((
        endpoint,
        ApiRequest {
            method,
            path,
            query,
            headers,
            body,
        },
    ))
}

fn served(id: &str, r: &ApiResponse, exclude_headers: bool, started: Instant) -> Value {
    let headers: Vec<Value> = if exclude_headers {
        Vec::new()
    } else {
        r.all_headers()
            .into_iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect()
    };
    json!({
        "id": id,
        "status_code": r.status.as_u16(),
        "status_text": r.status.canonical_reason().unwrap_or(""),
        "headers": headers,
        "body": b64().encode(r.body_bytes()),
        "execution_time": started.elapsed().as_millis() as u64,
    })
}

/// `POST /api/now/v1/batch`.
pub fn serve(sh: &Shared, caller: &Caller, req: &ApiRequest) -> (ApiResponse, Vec<Change>) {
    if req.method != Method::POST {
        return (reply::method_not_allowed(), Vec::new());
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return (
            reply::unreadable("The payload is not valid JSON."),
            Vec::new(),
        );
    };
    let Some(items) = body.get("rest_requests").and_then(Value::as_array) else {
        return (
            reply::unreadable("Missing required field: rest_requests"),
            Vec::new(),
        );
    };
    let limits = sh.limits.get();
    let mut serviced = Vec::new();
    let mut unserviced = Vec::new();
    let mut changes = Vec::new();
    let mut ended = false;
    for item in items {
        let id = match item.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let oversized = item
            .get("body")
            .and_then(Value::as_str)
            .is_some_and(|b| b.len() / 4 * 3 > limits.batch_item_max_bytes);
        let quota = limits.batch_serviced_max > 0 && serviced.len() >= limits.batch_serviced_max;
        if ended || oversized || quota {
            ended = true;
            unserviced.push(json!(id));
            continue;
        }
        if id.is_empty() {
            serviced.push(item_error(
                &id,
                StatusCode::BAD_REQUEST,
                "rest_requests.id is required",
            ));
            continue;
        }
        let started = Instant::now();
        match request(item, &id) {
            Ok((endpoint, inner)) => {
                let (r, c) = api::endpoint(sh, caller, &endpoint, &inner);
                changes.extend(c);
                let exclude = item
                    .get("exclude_response_headers")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                serviced.push(served(&id, &r, exclude, started));
            }
            Err(answer) => serviced.push(answer),
        }
    }
    let batch_id = body.get("batch_request_id").cloned().unwrap_or(Value::Null);
    let answer = json!({
        "batch_request_id": batch_id,
        "serviced_requests": serviced,
        "unserviced_requests": unserviced,
    });
    (ApiResponse::json(StatusCode::OK, answer), changes)
}
