//! Calls to Tenable Vulnerability Management with `X-ApiKeys: accessKey=…;secretKey=…`.

use outbound::{CallError, HttpClient, RequestClass};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

#[derive(Clone)]
pub(crate) struct Api {
    pub http: HttpClient,
    pub base: url::Url,
    access_key: SecretString,
    secret_key: SecretString,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Api {
    pub fn new(
        http: HttpClient,
        base: url::Url,
        access_key: SecretString,
        secret_key: SecretString,
    ) -> Api {
        Api {
            http,
            base,
            access_key,
            secret_key,
        }
    }

    /// The URL of `path` (`/scans`) under the location, with `query`.
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

    fn request(&self, method: Method, url: url::Url) -> reqwest::RequestBuilder {
        self.http.request(method, url).header(
            "X-ApiKeys",
            format!(
                "accessKey={};secretKey={}",
                self.access_key.expose_secret().trim(),
                self.secret_key.expose_secret().trim()
            ),
        )
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, CallError> {
        self.http
            .send_json(
                RequestClass::Read,
                what,
                self.request(Method::GET, self.url(path, query)),
            )
            .await
    }

    /// A GET whose body the caller reads (export chunks, read as they arrive).
    pub async fn get_raw(&self, path: &str, what: &str) -> Result<reqwest::Response, CallError> {
        self.http
            .send(
                RequestClass::Read,
                what,
                self.request(Method::GET, self.url(path, &[])),
            )
            .await
    }

    /// Starting or cancelling an export changes nothing in the container: it counts as a read.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<T, CallError> {
        self.http
            .send_json(
                RequestClass::Read,
                what,
                self.request(Method::POST, self.url(path, &[])).json(body),
            )
            .await
    }
}
