//! Calls to Dependency-Track's REST API (`<location>/api/…`) with `X-Api-Key`.

use outbound::{CallError, HttpClient, RequestClass};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

#[derive(Clone)]
pub(crate) struct Api {
    pub http: HttpClient,
    pub base: url::Url,
    key: SecretString,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Api {
    pub fn new(http: HttpClient, base: url::Url, key: SecretString) -> Api {
        Api { http, base, key }
    }

    /// `path` (`/api/v1/project`) under the location, with `query`.
    pub fn url(&self, path: &str, query: &[(&str, String)]) -> url::Url {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    fn request(&self, path: &str, query: &[(&str, String)], key: bool) -> reqwest::RequestBuilder {
        let req = self
            .http
            .request(Method::GET, self.url(path, query))
            .header("Accept", "application/json");
        if key {
            req.header("X-Api-Key", self.key.expose_secret().trim())
        } else {
            req
        }
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, CallError> {
        self.http
            .send_json(RequestClass::Read, what, self.request(path, query, true))
            .await
    }

    /// A GET whose headers and body the caller reads.
    pub async fn get_raw(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<reqwest::Response, CallError> {
        self.http
            .send(RequestClass::Read, what, self.request(path, query, true))
            .await
    }

    /// `/api/version`, which needs no key.
    pub async fn get_public<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<T, CallError> {
        self.http
            .send_json(RequestClass::Read, what, self.request(path, &[], false))
            .await
    }
}

/// `X-Total-Count`, when the answer has it.
pub(crate) fn total_count(r: &reqwest::Response) -> Option<u64> {
    r.headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}
