//! The one HTTP path of every tracker and scanner client: outbound policy, rate-limit budget,
//! timeouts, rate-limit headers, and the classification of failures into [`CallError`]s.

use crate::limit::{Limiter, RateInfo, RequestClass};
use crate::policy::{OutboundPolicy, PolicyResolver};
use crate::CallError;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long one request may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Error bodies are read up to this size for their message.
const ERROR_BODY_MAX: usize = 16 * 1024;

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    limiter: Arc<dyn Limiter>,
    policy: Arc<OutboundPolicy>,
    /// Who is called (`github`, `semgrep`): named in logs.
    service: &'static str,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("service", &self.service).finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(service: &'static str, limiter: Arc<dyn Limiter>, policy: &OutboundPolicy) -> Result<HttpClient, CallError> {
        let policy = Arc::new(policy.clone());
        let redirect_policy = policy.clone();
        let client = reqwest::Client::builder()
            .user_agent(concat!("vulnbridge/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .dns_resolver(Arc::new(PolicyResolver { policy: policy.clone() }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 5 {
                    return attempt.error("too many redirects");
                }
                match literal_ip(attempt.url()) {
                    Some(ip) => match redirect_policy.check(ip) {
                        Ok(()) => attempt.follow(),
                        Err(why) => attempt.error(why),
                    },
                    None => attempt.follow(),
                }
            }))
            .build()
            .map_err(|e| CallError::Misconfigured(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpClient { client, limiter, policy, service })
    }

    pub fn service(&self) -> &'static str {
        self.service
    }

    /// A request builder; send it with [`HttpClient::send`].
    pub fn request(&self, method: reqwest::Method, url: url::Url) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends a request of `class`, about `what` (named in errors: `repository acme/api`), and
    /// returns the response when it succeeded (2xx). Before: the outbound policy and the rate
    /// budget. After: the rate-limit headers go to the limiter, failures become errors.
    pub async fn send(&self, class: RequestClass, what: &str, req: RequestBuilder) -> Result<Response, CallError> {
        let req = req.build().map_err(|e| CallError::Protocol(format!("cannot build the request for {what}: {e}")))?;
        if let Some(ip) = literal_ip(req.url()) {
            self.policy.check(ip).map_err(CallError::Blocked)?;
        }
        self.limiter.acquire(class).await?;
        let method = req.method().clone();
        let path = req.url().path().to_owned();
        let started = std::time::Instant::now();
        let result = self.client.execute(req).await;
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(service = self.service, %method, path, error = %e, "Tracker request failed.");
                return Err(transport_error(what, &e));
            }
        };
        let status = response.status();
        let info = rate_info(response.headers(), Utc::now());
        tracing::debug!(
            service = self.service, %method, path, status = status.as_u16(),
            ms = started.elapsed().as_millis() as u64, remaining = info.remaining,
            "Tracker request."
        );
        self.limiter.observe(class, &info).await;
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let body = read_capped(response).await;
        Err(classify(status, &headers, &body, what, Utc::now()))
    }

    /// [`HttpClient::send`], then reads the JSON body.
    pub async fn send_json<T: DeserializeOwned>(&self, class: RequestClass, what: &str, req: RequestBuilder) -> Result<T, CallError> {
        let response = self.send(class, what, req).await?;
        read_json(response, what).await
    }
}

/// Reads a successful response's JSON body.
pub async fn read_json<T: DeserializeOwned>(response: Response, what: &str) -> Result<T, CallError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| CallError::Transient(format!("reading the answer about {what}: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| json_error(what, &e))
}

/// A JSON body that could not be read, said the way a person can act on: cut short, not JSON
/// at all, or JSON of another shape than the API documents.
pub fn json_error(what: &str, e: &serde_json::Error) -> CallError {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Eof => "the JSON answer is cut short",
        Category::Syntax => "the answer is not valid JSON",
        Category::Data => "the JSON answer is not shaped as documented",
        Category::Io => "the answer could not be read",
    };
    CallError::Protocol(format!("{what}: {kind} ({e})"))
}

fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

fn transport_error(what: &str, e: &reqwest::Error) -> CallError {
    // The chain holds the useful part (connection refused, the policy's reason…).
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !reason.contains(&s_text) {
            reason = format!("{reason}: {s_text}");
        }
        source = s.source();
    }
    // Never show a URL's query string (tokens have been seen there in other tools).
    let reason = strip_queries(&reason);
    if reason.contains("outbound policy") {
        return CallError::Blocked(format!("{what}: {reason}"));
    }
    if e.is_timeout() {
        return CallError::Transient(format!("{what}: no answer within {} s", REQUEST_TIMEOUT.as_secs()));
    }
    CallError::Transient(format!("{what}: {reason}"))
}

fn strip_queries(s: &str) -> String {
    s.split(' ')
        .map(|w| match (w.contains("://"), w.find('?')) {
            (true, Some(q)) => {
                let closing = if w.ends_with(')') { ")" } else { "" };
                format!("{}{closing}", &w[..q])
            }
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn read_capped(mut response: Response) -> String {
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buf.extend_from_slice(&chunk);
        if buf.len() >= ERROR_BODY_MAX {
            buf.truncate(ERROR_BODY_MAX);
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Reads the rate-limit headers GitHub (`x-ratelimit-*`), GitLab (`RateLimit-*`), Jira and
/// ServiceNow (`X-RateLimit-*`) send, and `Retry-After` (seconds or an HTTP date).
pub fn rate_info(h: &HeaderMap, now: DateTime<Utc>) -> RateInfo {
    let get = |names: &[&str]| names.iter().find_map(|n| h.get(*n).and_then(|v| v.to_str().ok()).map(str::trim));
    let remaining = get(&["x-ratelimit-remaining", "ratelimit-remaining"]).and_then(|v| v.parse().ok());
    let reset = get(&["x-ratelimit-reset", "ratelimit-reset"]).and_then(|v| {
        v.parse::<i64>()
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .or_else(|| DateTime::parse_from_rfc3339(v).ok().map(|d| d.with_timezone(&Utc)))
    });
    let retry_after = get(&["retry-after"]).and_then(|v| {
        v.parse::<u64>().ok().map(Duration::from_secs).or_else(|| {
            DateTime::parse_from_rfc2822(v)
                .ok()
                .map(|d| (d.with_timezone(&Utc) - now).to_std().unwrap_or(Duration::ZERO))
        })
    });
    RateInfo { remaining, reset, retry_after }
}

/// The message in a vendor's error body: GitHub and GitLab `message` (GitLab sometimes an
/// object or list), `error`/`error_description` (OAuth), Jira `errorMessages`, ServiceNow
/// `error.message`; else the body's first line.
pub fn error_message(body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| {
        let text = |x: &serde_json::Value| -> Option<String> {
            match x {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Array(a) if !a.is_empty() => {
                    Some(a.iter().map(|i| i.as_str().map(str::to_owned).unwrap_or_else(|| i.to_string())).collect::<Vec<_>>().join("; "))
                }
                serde_json::Value::Object(o) if !o.is_empty() => Some(
                    o.iter()
                        .map(|(k, v)| format!("{k} {}", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                _ => None,
            }
        };
        v.get("message")
            .and_then(text)
            .or_else(|| v.get("errorMessages").and_then(text))
            .or_else(|| v.pointer("/error/message").and_then(text))
            .or_else(|| v.get("error_description").and_then(text))
            .or_else(|| v.get("error").and_then(text))
            .or_else(|| v.get("errors").and_then(text))
    });
    let msg = from_json.unwrap_or_else(|| body.lines().next().unwrap_or("").trim().to_owned());
    let msg: String = msg.chars().take(500).collect();
    if msg.is_empty() { "no message".into() } else { msg }
}

/// A failed response, as an error the engine can act on.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &str, what: &str, now: DateTime<Utc>) -> CallError {
    let info = rate_info(headers, now);
    let msg = error_message(body);
    let limited = |reason: String, fallback: Option<i64>| CallError::RateLimited {
        until: info.blocked_until(now).or(fallback.map(|s| now + TimeDelta::seconds(s))),
        reason,
    };
    match status.as_u16() {
        401 => CallError::Unauthorized(format!("{msg} (HTTP 401)")),
        429 => limited(format!("{what}: {msg} (HTTP 429)"), Some(60)),
        // GitHub answers rate limits with 403 too: with Retry-After, with nothing remaining,
        // or (secondary limits) with a message saying so.
        403 if info.retry_after.is_some() || info.remaining == Some(0) || msg.to_ascii_lowercase().contains("rate limit") => {
            limited(format!("{what}: {msg} (HTTP 403)"), Some(60))
        }
        403 => CallError::Forbidden(format!("{what}: {msg}")),
        404 | 410 => CallError::NotFound(format!("{what} ({msg})")),
        400 | 409 | 422 => CallError::Rejected(format!("{what}: {msg} (HTTP {})", status.as_u16())),
        503 if info.retry_after.is_some() => limited(format!("{what}: {msg} (HTTP 503)"), None),
        500..=599 => CallError::Transient(format!("{what}: the service failed (HTTP {}): {msg}", status.as_u16())),
        other => CallError::Protocol(format!("{what}: HTTP {other}: {msg}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn rate_headers_of_each_vendor_are_read() {
        let now = Utc::now();
        let gh = rate_info(&headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1900000000")]), now);
        assert_eq!(gh.remaining, Some(0));
        assert_eq!(gh.reset.unwrap().timestamp(), 1_900_000_000);
        let gl = rate_info(&headers(&[("RateLimit-Remaining", "17"), ("Retry-After", "30")]), now);
        assert_eq!(gl.remaining, Some(17));
        assert_eq!(gl.retry_after, Some(Duration::from_secs(30)));
        let jira = rate_info(&headers(&[("X-RateLimit-Reset", "2031-01-01T00:00:00Z")]), now);
        assert_eq!(jira.reset.unwrap().to_rfc3339(), "2031-01-01T00:00:00+00:00");
    }

    #[test]
    fn failures_are_classified() {
        let now = Utc::now();
        let none = HeaderMap::new();
        let e = classify(StatusCode::UNAUTHORIZED, &none, r#"{"message":"Bad credentials"}"#, "user", now);
        assert_eq!(e, CallError::Unauthorized("Bad credentials (HTTP 401)".into()));
        let e = classify(StatusCode::FORBIDDEN, &headers(&[("retry-after", "42")]), r#"{"message":"You have exceeded a secondary rate limit"}"#, "issue", now);
        assert!(matches!(e, CallError::RateLimited { until: Some(u), .. } if (u - now).num_seconds() == 42), "{e:?}");
        let e = classify(StatusCode::FORBIDDEN, &none, r#"{"message":"Resource not accessible by personal access token"}"#, "repository acme/api", now);
        assert_eq!(e.code(), "forbidden");
        let e = classify(StatusCode::NOT_FOUND, &none, r#"{"message":"404 Project Not Found"}"#, "project g/p", now);
        assert_eq!(e.to_string(), "not found: project g/p (404 Project Not Found)");
        let e = classify(StatusCode::UNPROCESSABLE_ENTITY, &none, r#"{"message":"Validation Failed","errors":[{"field":"title"}]}"#, "issue", now);
        assert_eq!(e.code(), "rejected");
        let e = classify(StatusCode::BAD_GATEWAY, &none, "<html>bad gateway</html>", "issue", now);
        assert!(e.is_retryable());
    }

    #[test]
    fn messages_come_from_each_vendors_shape() {
        assert_eq!(error_message(r#"{"message":{"title":["is too long"]}}"#), r#"title ["is too long"]"#);
        assert_eq!(error_message(r#"{"errorMessages":["Issue does not exist"],"errors":{}}"#), "Issue does not exist");
        assert_eq!(error_message(r#"{"error":{"message":"No Record found"},"status":"failure"}"#), "No Record found");
        assert_eq!(error_message("plain text\nmore"), "plain text");
        assert_eq!(error_message(""), "no message");
    }

    #[test]
    fn queries_are_stripped_from_transport_errors() {
        assert_eq!(strip_queries("error sending request for url (http://x/a?token=secret)"), "error sending request for url (http://x/a)");
    }
}
