//! Injectable faults: make the next N matching requests fail, stall, or drop the connection,
//! to test retries, timeouts and the error table.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One fault rule. Matching requests (by method and a path substring) get `status` with
/// `body` and `headers` instead of being served, `times` times (then the rule is spent).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    /// `POST`, `PATCH`…; `None` matches any.
    pub method: Option<String>,
    /// A substring of the path (`/issues`); `None` matches any.
    pub path_contains: Option<String>,
    /// A substring of the query string (`page=2`, `cursor=`); `None` matches any.
    pub query_contains: Option<String>,
    /// For GraphQL: a substring of the request body (`addProjectV2ItemById`).
    pub body_contains: Option<String>,
    /// The answer; with `status` 0 the request is served normally after `delay_ms`.
    pub status: u16,
    pub body: serde_json::Value,
    /// Sent as is instead of `body` (as `application/json`): malformed JSON, a truncated page.
    pub raw_body: Option<String>,
    pub headers: Vec<(String, String)>,
    /// Wait this long before answering (or before serving).
    pub delay_ms: u64,
    /// Serve the request, then fail the answer with `status`: the change happened but the
    /// client never learns it (a lost reply).
    pub after_serving: bool,
    /// Let this many matching requests through first: a failure mid-way through pages.
    pub skip: u32,
    pub times: u32,
}

/// The fault rules of one simulator.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<Fault>>>,
}

impl Faults {
    pub fn push(&self, fault: Fault) {
        if fault.times > 0 {
            self.rules.lock().unwrap().push(fault);
        }
    }

    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }

    pub fn pending(&self) -> Vec<Fault> {
        self.rules.lock().unwrap().clone()
    }

    /// Takes one use of the first rule matching the request.
    fn take(&self, method: &str, path: &str, query: &str, body: &[u8]) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        let i = rules.iter().position(|f| {
            f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
                && f.query_contains.as_deref().is_none_or(|q| query.contains(q))
                && f.body_contains.as_deref().is_none_or(|b| {
                    std::str::from_utf8(body).is_ok_and(|text| text.contains(b))
                })
        })?;
        if rules[i].skip > 0 {
            rules[i].skip -= 1;
            return None;
        }
        let fault = rules[i].clone();
        rules[i].times -= 1;
        if rules[i].times == 0 {
            rules.remove(i);
        }
        Some(fault)
    }

    /// axum middleware applying the rules (control paths under `/_sim/` are exempt).
    pub async fn middleware(faults: Faults, req: Request, next: Next) -> Response {
        if req.uri().path().starts_with("/_sim/") || faults.rules.lock().unwrap().is_empty() {
            return next.run(req).await;
        }
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
        let fault = faults.take(parts.method.as_str(), parts.uri.path(), parts.uri.query().unwrap_or(""), &bytes);
        let req = Request::from_parts(parts, Body::from(bytes));
        let Some(fault) = fault else { return next.run(req).await };
        if fault.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        }
        if fault.status == 0 {
            return next.run(req).await;
        }
        if fault.after_serving {
            let _ = next.run(req).await;
        }
        let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = if let Some(raw) = &fault.raw_body {
            (status, [(axum::http::header::CONTENT_TYPE, "application/json")], raw.clone()).into_response()
        } else if fault.body.is_null() {
            status.into_response()
        } else {
            (status, axum::Json(fault.body.clone())).into_response()
        };
        for (k, v) in &fault.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                response.headers_mut().insert(k, v);
            }
        }
        response
    }
}
