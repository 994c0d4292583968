//! Snyk's REST API as the connector calls it: `Authorization: token <token>`, the `version`
//! parameter on every call, JSON:API documents, and cursor pagination by `links.next`.
//!
//! `links.next` is a path relative to the API's root, usually without `/rest`
//! (`/orgs/…/issues?…&starting_after=…`), sometimes with it, or an absolute URL. It is
//! followed only on the API's own host: a link elsewhere would carry the token away.

use outbound::{CallError, HttpClient, RequestClass};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

/// The REST API version the connector is written against.
pub const DEFAULT_VERSION: &str = "2024-10-15";

pub struct Api {
    http: HttpClient,
    /// `https://api.snyk.io/` (region hosts alike), without `/rest`.
    origin: url::Url,
    token: SecretString,
    pub version: String,
}

/// One page of a collection.
#[derive(Deserialize)]
struct Page {
    data: Vec<Value>,
    #[serde(default)]
    links: Option<Links>,
}

#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<Value>,
}

impl Api {
    pub fn new(
        http: HttpClient,
        location: &url::Url,
        token: SecretString,
        version: String,
    ) -> Result<Api, CallError> {
        if !matches!(location.scheme(), "http" | "https") {
            return Err(CallError::Misconfigured(format!(
                "the Snyk location must be an http(s) URL, not {location}"
            )));
        }
        let mut origin = location.clone();
        // Accept `https://api.snyk.io/rest` (or `/v1`) as well as the bare API host.
        let path = origin
            .path()
            .trim_end_matches('/')
            .trim_end_matches("/rest")
            .trim_end_matches("/v1")
            .to_owned();
        origin.set_path(&format!("{path}/"));
        origin.set_query(None);
        Ok(Api {
            http,
            origin,
            token,
            version,
        })
    }

    /// `rest/<path>` with `version` and `query`.
    pub fn url(&self, path: &str, query: &[(&str, String)]) -> Result<url::Url, CallError> {
        let mut url = self
            .origin
            .join(&format!("rest/{}", path.trim_start_matches('/')))
            .map_err(|e| {
                CallError::Misconfigured(format!("cannot build the Snyk URL for {path}: {e}"))
            })?;
        url.query_pairs_mut()
            .append_pair("version", &self.version)
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        Ok(url)
    }

    pub async fn get(&self, what: &str, url: url::Url) -> Result<Value, CallError> {
        let req = self
            .http
            .request(reqwest::Method::GET, url)
            .header(
                "authorization",
                format!("token {}", self.token.expose_secret()),
            )
            .header("accept", "application/vnd.api+json");
        let v: Value = self.http.send_json(RequestClass::Read, what, req).await?;
        if !v.is_object() {
            return Err(CallError::Protocol(format!(
                "{what}: expected a JSON:API document"
            )));
        }
        Ok(v)
    }

    /// The pages of a collection, from `first` on.
    pub fn pages(&self, what: String, first: url::Url) -> Pager<'_> {
        Pager {
            api: self,
            what,
            visited: HashSet::from([first.to_string()]),
            next: Some(first),
            n: 0,
        }
    }

    /// `links.next` as a URL on the API's host, with the connector's `version`.
    fn resolve(&self, what: &str, next: &str) -> Result<url::Url, CallError> {
        let rest = self
            .origin
            .join("rest/")
            .map_err(|e| CallError::Misconfigured(e.to_string()))?;
        let url = if next.starts_with("http://") || next.starts_with("https://") {
            url::Url::parse(next)
        } else if next.starts_with("/rest/") || next == "/rest" {
            self.origin.join(next.trim_start_matches('/'))
        } else {
            rest.join(next.trim_start_matches('/'))
        }
        .map_err(|e| {
            CallError::Protocol(format!(
                "{what}: links.next '{next}' is not a URL or a path ({e})"
            ))
        })?;
        if url.origin() != self.origin.origin() {
            return Err(CallError::Protocol(format!(
                "{what}: links.next points to another host ({}); not following it",
                url.origin().ascii_serialization()
            )));
        }
        if url.query_pairs().any(|(k, _)| k == "version") {
            Ok(url)
        } else {
            let mut url = url;
            url.query_pairs_mut().append_pair("version", &self.version);
            Ok(url)
        }
    }
}

/// Reads a collection page by page, following `links.next`.
pub struct Pager<'a> {
    api: &'a Api,
    what: String,
    next: Option<url::Url>,
    visited: HashSet<String>,
    n: usize,
}

impl Pager<'_> {
    /// The next page's `data` and what it was (for messages), or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<(Vec<Value>, String)>, CallError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        self.n += 1;
        let what = format!("{} (page {})", self.what, self.n);
        let doc = self.api.get(&what, url).await?;
        let page: Page =
            serde_json::from_value(doc).map_err(|e| outbound::json_error(&what, &e))?;
        let next = page.links.and_then(|l| l.next).and_then(|n| match n {
            Value::String(s) if !s.is_empty() => Some(s),
            Value::Object(o) => o.get("href").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        });
        if let Some(next) = next {
            let url = self.api.resolve(&what, &next)?;
            if !self.visited.insert(url.to_string()) {
                return Err(CallError::Protocol(format!(
                    "{what}: links.next leads back to a page already read ({next})"
                )));
            }
            self.next = Some(url);
        }
        Ok(Some((page.data, what)))
    }
}
