//! Where GitHub is and how to call it: REST and GraphQL bases from the instance location,
//! GitHub's headers, and GraphQL answers (200 with `errors`) turned into [`TrackerError`]s.

use crate::http::{rate_info, read_json};
use crate::{Connection, Credentials, HttpClient, RequestClass, TrackerError};
use chrono::Utc;
use reqwest::Method;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The REST API version the client speaks.
pub const API_VERSION: &str = "2022-11-28";

#[derive(Clone, Debug)]
pub struct Api {
    pub http: HttpClient,
    /// `https://api.github.com` or `https://ghe.example.com/api/v3` (no trailing slash).
    pub rest: String,
    pub graphql: url::Url,
    /// Where people manage tokens (named in errors).
    pub tokens_page: String,
    /// The organization or user the location names.
    pub owner: String,
    token: SecretString,
}

/// One GraphQL answer: `data` and `errors` as GitHub sent them.
#[derive(Debug)]
pub struct GqlAnswer {
    pub data: Value,
    pub errors: Vec<Value>,
}

impl Api {
    /// Reads the location: `https://github.com/acme` → api.github.com; any other host is a
    /// GitHub Enterprise Server (`/api/v3`, `/api/graphql`).
    pub fn new(conn: &Connection, http: HttpClient) -> Result<Api, TrackerError> {
        let loc = &conn.location;
        let owner = loc
            .path_segments()
            .and_then(|mut s| s.find(|p| !p.is_empty()))
            .map(str::to_owned)
            .ok_or_else(|| {
                TrackerError::Misconfigured(format!(
                    "the GitHub location {loc} names no organization or user; give e.g. https://github.com/your-org"
                ))
            })?;
        let host = loc.host_str().ok_or_else(|| {
            TrackerError::Misconfigured(format!("the GitHub location {loc} has no host"))
        })?;
        let origin = match loc.port() {
            Some(p) => format!("{}://{host}:{p}", loc.scheme()),
            None => format!("{}://{host}", loc.scheme()),
        };
        let dotcom =
            host.eq_ignore_ascii_case("github.com") || host.eq_ignore_ascii_case("www.github.com");
        let (rest, graphql) = if dotcom {
            (
                "https://api.github.com".to_owned(),
                "https://api.github.com/graphql".to_owned(),
            )
        } else {
            (format!("{origin}/api/v3"), format!("{origin}/api/graphql"))
        };
        let graphql = url::Url::parse(&graphql).map_err(|e| {
            TrackerError::Misconfigured(format!("GitHub GraphQL URL {graphql}: {e}"))
        })?;
        let tokens_page = if dotcom {
            "https://github.com/settings/tokens".to_owned()
        } else {
            format!("{origin}/settings/tokens")
        };
        let Credentials::Token(token) = &conn.credentials else {
            return Err(TrackerError::Misconfigured(format!(
                "GitHub needs a personal access token, not {}",
                conn.credentials.kind()
            )));
        };
        Ok(Api {
            http,
            rest,
            graphql,
            tokens_page,
            owner,
            token: token.clone(),
        })
    }

    /// A REST request to `path` (`/repos/acme/api/issues`) or to a full URL (a `Link`).
    pub fn rest_request(
        &self,
        method: Method,
        path_or_url: &str,
    ) -> Result<reqwest::RequestBuilder, TrackerError> {
        let full = if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.rest)
        };
        let url = url::Url::parse(&full)
            .map_err(|e| TrackerError::Protocol(format!("bad GitHub URL {full}: {e}")))?;
        Ok(self.with_headers(self.http.request(method, url)))
    }

    fn with_headers(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.bearer_auth(self.token.expose_secret())
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
    }

    /// Sends a REST request and reads its JSON answer with the headers.
    pub async fn rest<T: DeserializeOwned>(
        &self,
        class: RequestClass,
        what: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(T, HeaderMap), TrackerError> {
        let mut req = self.rest_request(method, path)?;
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = self.http.send(class, what, req).await?;
        let headers = resp.headers().clone();
        Ok((read_json(resp, what).await?, headers))
    }

    /// Sends a REST request whose answer body is not needed (204s).
    pub async fn rest_empty(
        &self,
        class: RequestClass,
        what: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(), TrackerError> {
        let mut req = self.rest_request(method, path)?;
        if let Some(b) = body {
            req = req.json(b);
        }
        self.http.send(class, what, req).await.map(|_| ())
    }

    /// Sends a GraphQL document. Transport and HTTP failures are errors; GraphQL `errors` are
    /// returned for the caller to judge, except a spent rate limit, which is an error here.
    pub async fn graphql(
        &self,
        class: RequestClass,
        what: &str,
        query: &str,
        variables: Value,
    ) -> Result<GqlAnswer, TrackerError> {
        let req = self
            .with_headers(self.http.request(Method::POST, self.graphql.clone()))
            .json(&json!({ "query": query, "variables": variables }));
        let resp = self.http.send(class, what, req).await?;
        let headers = resp.headers().clone();
        let body: Value = read_json(resp, what).await?;
        let errors = body
            .get("errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let limited = errors.iter().any(|e| {
            matches!(
                e.get("type").and_then(Value::as_str),
                Some("RATE_LIMITED" | "RATE_LIMIT")
            )
        });
        if limited {
            let now = Utc::now();
            let info = rate_info(&headers, now);
            return Err(TrackerError::RateLimited {
                until: info
                    .reset
                    .filter(|r| *r > now)
                    .or(Some(now + chrono::TimeDelta::seconds(60))),
                reason: format!("{what}: {}", message(&errors[0])),
            });
        }
        Ok(GqlAnswer {
            data: body.get("data").cloned().unwrap_or(Value::Null),
            errors,
        })
    }
}

/// An error entry's message.
pub fn message(e: &Value) -> String {
    e.get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_owned()
}

/// The error a GraphQL error entry stands for: `NOT_FOUND` → not found, missing scopes or
/// permissions → forbidden, anything else refused.
pub fn gql_error(e: &Value, what: &str) -> TrackerError {
    let msg = message(e);
    match e.get("type").and_then(Value::as_str) {
        Some("NOT_FOUND") => TrackerError::NotFound(format!("{what} ({msg})")),
        Some("INSUFFICIENT_SCOPES" | "FORBIDDEN") => {
            TrackerError::Forbidden(format!("{what}: {msg}"))
        }
        _ => TrackerError::Rejected(format!("{what}: {msg}")),
    }
}

/// The first error of an answer whose errors mean the whole request failed.
pub fn first_error(a: &GqlAnswer, what: &str) -> Result<(), TrackerError> {
    match a.errors.first() {
        Some(e) => Err(gql_error(e, what)),
        None => Ok(()),
    }
}
