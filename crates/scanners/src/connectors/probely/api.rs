//! Calls to Probely's API: `GET <location>/<path>/` with `Authorization: JWT <api key>`, read
//! as a page of Django REST Framework's page-number pagination (`count`, `page_total`, `page`,
//! `length`, `results`).

use outbound::{CallError, HttpClient, RequestClass};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

/// One page of a list.
#[derive(Deserialize)]
pub struct Page {
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub page_total: Option<u64>,
    #[serde(default)]
    pub results: Option<Vec<Value>>,
}

pub(super) struct Api {
    http: HttpClient,
    base: url::Url,
    key: SecretString,
}

/// `<location>/` as a base for relative paths, whatever the location's trailing slash.
pub fn base(location: &url::Url) -> Result<url::Url, CallError> {
    let mut b = location.clone();
    b.set_query(None);
    b.set_fragment(None);
    if !b.path().ends_with('/') {
        let p = format!("{}/", b.path());
        b.set_path(&p);
    }
    if b.cannot_be_a_base() || !matches!(b.scheme(), "http" | "https") {
        return Err(CallError::Misconfigured(format!(
            "the Probely location '{location}' is not an http(s) URL"
        )));
    }
    Ok(b)
}

impl Api {
    pub fn new(http: HttpClient, base: url::Url, key: SecretString) -> Api {
        Api { http, base, key }
    }

    /// One page of the list at `path` (ending in `/`); `what` names what is asked for.
    pub async fn page(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<Page, CallError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| CallError::Misconfigured(format!("{what}: {e}")))?;
        let req = self
            .http
            .request(reqwest::Method::GET, url)
            .query(query)
            .header(
                reqwest::header::AUTHORIZATION,
                format!("JWT {}", self.key.expose_secret()),
            )
            .header(reqwest::header::ACCEPT, "application/json");
        self.http
            .send_json(RequestClass::Read, what, req)
            .await
            .map_err(|e| match e {
                CallError::Unauthorized(m) => {
                    CallError::Unauthorized(format!("Probely refused the API key ({what}): {m}"))
                }
                other => other,
            })
    }
}
