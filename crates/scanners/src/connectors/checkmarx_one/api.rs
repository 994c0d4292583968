//! Calls to the Checkmarx ONE REST API: `GET <location>/api/...` with a live access token. A
//! `401` means the token was refused (expired early, revoked): it is renewed once and the call
//! repeated; a second refusal is the credentials' fault.

use super::auth::Auth;
use outbound::{CallError, HttpClient, RequestClass};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `GET /api/projects`.
#[derive(Deserialize)]
pub struct Projects {
    #[serde(rename = "filteredTotalCount", default)]
    pub filtered_total: Option<u64>,
    #[serde(default)]
    pub projects: Option<Vec<Value>>,
}

/// `GET /api/scans`.
#[derive(Deserialize)]
pub struct Scans {
    #[serde(default)]
    pub scans: Option<Vec<Scan>>,
}

#[derive(Deserialize)]
pub struct Scan {
    pub id: String,
    #[serde(rename = "projectId", default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
}

/// `GET /api/results`.
#[derive(Deserialize)]
pub struct Results {
    #[serde(default)]
    pub results: Option<Vec<Value>>,
    #[serde(rename = "totalCount", default)]
    pub total: Option<u64>,
}

pub(super) struct Api {
    http: HttpClient,
    base: url::Url,
    pub auth: Auth,
}

/// `<location>/` as a base for `api/...` paths, whatever the location's trailing slash.
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
            "the Checkmarx ONE location '{location}' is not an http(s) URL"
        )));
    }
    Ok(b)
}

impl Api {
    pub fn new(http: HttpClient, base: url::Url, auth: Auth) -> Api {
        Api { http, base, auth }
    }

    /// `GET api/<path>?<query>`, read as `T`; `what` names what is asked for in errors.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, CallError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| CallError::Misconfigured(format!("{what}: {e}")))?;
        let mut refused_once = false;
        loop {
            let token = self.auth.token().await?;
            let req = self
                .http
                .request(reqwest::Method::GET, url.clone())
                .query(query)
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json; version=1.0");
            match self
                .http
                .send_json::<T>(RequestClass::Read, what, req)
                .await
            {
                Err(CallError::Unauthorized(m)) if !refused_once => {
                    tracing::debug!(what, reason = %m, "Checkmarx ONE refused the access token; renewing it.");
                    refused_once = true;
                    self.auth.forget(&token).await;
                }
                Err(CallError::Unauthorized(m)) => {
                    return Err(CallError::Unauthorized(format!(
                        "Checkmarx ONE refused a fresh access token for {what}: {m}; the API key may lack the roles to read it"
                    )));
                }
                other => return other,
            }
        }
    }
}
