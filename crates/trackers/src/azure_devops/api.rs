//! Azure DevOps' REST API as the client uses it: the organization (or server collection) URL,
//! how requests are signed (a PAT as Basic with an empty user name; OAuth as Bearer), the
//! `api-version` every call carries, and the answers that need translating: `203` (the sign-in
//! page: the credentials were not accepted), `401 TF400813` (signed in, but the token lacks the
//! scope), `412` (a `test` on `/rev` failed: someone changed the work item).

use crate::{Connection, Credentials, HttpClient, RequestClass, TrackerError};
use base64::Engine;
use reqwest::header::HeaderValue;
use reqwest::{Method, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The released REST API version of every call but comments and `connectionData`.
pub const API_VERSION: &str = "7.1";
/// The comments API is still a preview resource (resource version 4).
pub const COMMENTS_VERSION: &str = "7.1-preview.4";
/// `connectionData` is a preview resource.
pub const CONNECTION_DATA_VERSION: &str = "7.1-preview.1";
pub const PATCH_MEDIA_TYPE: &str = "application/json-patch+json";

/// A request body.
#[derive(Debug)]
pub enum Body {
    None,
    Json(Value),
    /// A JSON Patch document (`application/json-patch+json`).
    Patch(Value),
}

#[derive(Clone, Debug)]
pub struct Api {
    http: HttpClient,
    /// `https://dev.azure.com/acme` or `https://tfs.example.com/tfs/DefaultCollection`, without
    /// a trailing slash.
    pub base: String,
    credentials: Credentials,
}

/// Percent-encodes one path segment (project and type names have spaces).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.trim().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Api {
    pub fn new(conn: &Connection, http: HttpClient) -> Result<Api, TrackerError> {
        let loc = &conn.location;
        if !matches!(loc.scheme(), "http" | "https") || loc.host().is_none() {
            return Err(TrackerError::Misconfigured(format!(
                "the Azure DevOps location must be the organization's address like https://dev.azure.com/your-org, not '{loc}'"
            )));
        }
        let mut root = loc.clone();
        root.set_query(None);
        root.set_fragment(None);
        let base = root.as_str().trim_end_matches('/').to_owned();
        let dev_azure = loc
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case("dev.azure.com"));
        if dev_azure
            && loc
                .path_segments()
                .and_then(|mut s| s.find(|p| !p.is_empty()))
                .is_none()
        {
            return Err(TrackerError::Misconfigured(format!(
                "the Azure DevOps location {loc} names no organization; give https://dev.azure.com/your-org"
            )));
        }
        if let Credentials::Token(t) | Credentials::Basic { password: t, .. } = &conn.credentials
            && t.expose_secret().trim().is_empty()
        {
            return Err(TrackerError::Misconfigured(
                "the Azure DevOps personal access token is empty".into(),
            ));
        }
        Ok(Api {
            http,
            base,
            credentials: conn.credentials.clone(),
        })
    }

    /// `Authorization` for the credentials, and the OAuth token used (for `invalidate`).
    async fn authorization(&self) -> Result<(HeaderValue, Option<SecretString>), TrackerError> {
        let (value, used) = match &self.credentials {
            Credentials::Token(pat) => {
                let b = base64::engine::general_purpose::STANDARD
                    .encode(format!(":{}", pat.expose_secret().trim()));
                (format!("Basic {b}"), None)
            }
            Credentials::Basic { username, password } => {
                let b = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose_secret()));
                (format!("Basic {b}"), None)
            }
            Credentials::OAuth(session) => {
                let token = session.access_token(&self.http).await?;
                (format!("Bearer {}", token.expose_secret()), Some(token))
            }
        };
        let mut v = HeaderValue::from_str(&value).map_err(|_| {
            TrackerError::Misconfigured(
                "the Azure DevOps credentials contain characters a header cannot carry".into(),
            )
        })?;
        v.set_sensitive(true);
        Ok((v, used))
    }

    fn url(
        &self,
        path: &str,
        version: &str,
        query: &[(&str, String)],
    ) -> Result<url::Url, TrackerError> {
        let mut url = url::Url::parse(&format!("{}{path}", self.base)).map_err(|e| {
            TrackerError::Misconfigured(format!(
                "cannot build an Azure DevOps address from '{path}': {e}"
            ))
        })?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
            q.append_pair("api-version", version);
        }
        Ok(url)
    }

    /// Sends a request about `what`; the successful answer.
    #[allow(clippy::too_many_arguments)]
    pub async fn send(
        &self,
        class: RequestClass,
        what: &str,
        method: Method,
        path: &str,
        version: &str,
        query: &[(&str, String)],
        body: &Body,
    ) -> Result<Response, TrackerError> {
        let url = self.url(path, version, query)?;
        let mut retried = false;
        loop {
            let (auth, used) = self.authorization().await?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("Authorization", auth)
                .header("Accept", "application/json")
                // Without it, refused credentials are answered with the sign-in page.
                .header("X-TFS-FedAuthRedirect", "Suppress");
            req = match body {
                Body::None => req,
                Body::Json(v) => req
                    .header("Content-Type", "application/json")
                    .body(v.to_string()),
                Body::Patch(v) => req
                    .header("Content-Type", PATCH_MEDIA_TYPE)
                    .body(v.to_string()),
            };
            match self.http.send(class, what, req).await {
                Ok(r) if r.status() == StatusCode::NON_AUTHORITATIVE_INFORMATION => {
                    return Err(TrackerError::Unauthorized(
                        "Azure DevOps answered with its sign-in page (HTTP 203): the personal access token was not accepted".into(),
                    ));
                }
                Ok(r) => return Ok(r),
                Err(TrackerError::Unauthorized(msg)) if msg.contains("TF400813") => {
                    return Err(TrackerError::Forbidden(format!(
                        "{what}: {msg}; the personal access token lacks the scope this needs (Work Items: Read & write, vso.work_write)"
                    )));
                }
                Err(TrackerError::Unauthorized(msg)) => {
                    if let (Credentials::OAuth(session), Some(used), false) =
                        (&self.credentials, &used, retried)
                    {
                        session.invalidate(used).await;
                        retried = true;
                        continue;
                    }
                    return Err(TrackerError::Unauthorized(format!(
                        "{msg}: the personal access token is wrong, expired or revoked, or belongs to another organization"
                    )));
                }
                Err(TrackerError::Protocol(msg)) if msg.contains("HTTP 412") => {
                    return Err(TrackerError::Rejected(conflict(&msg)));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// [`Api::send`], then reads the JSON answer.
    #[allow(clippy::too_many_arguments)]
    pub async fn json<T: DeserializeOwned>(
        &self,
        class: RequestClass,
        what: &str,
        method: Method,
        path: &str,
        version: &str,
        query: &[(&str, String)],
        body: &Body,
    ) -> Result<T, TrackerError> {
        let response = self
            .send(class, what, method, path, version, query, body)
            .await?;
        crate::http::read_json(response, what).await
    }
}

/// The text of a 412 answer: a `test` operation failed.
fn conflict(msg: &str) -> String {
    format!("{msg} (the work item changed since it was read)")
}

/// Whether an error is a failed `test` on `/rev` (someone changed the work item meanwhile).
pub fn is_conflict(e: &TrackerError) -> bool {
    matches!(e, TrackerError::Rejected(m) if m.contains("HTTP 412"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::OutboundPolicy;
    use std::sync::Arc;

    fn api(loc: &str) -> Result<Api, TrackerError> {
        let http = HttpClient::new(
            domain::tracker::Vendor::AzureDevops.as_str(),
            Arc::new(crate::NoLimits),
            &OutboundPolicy::default(),
        )?;
        let conn = Connection {
            vendor: domain::tracker::Vendor::AzureDevops,
            location: url::Url::parse(loc).expect("a URL"),
            credentials: Credentials::Token(SecretString::from("pat".to_owned())),
        };
        Api::new(&conn, http)
    }

    #[test]
    fn the_organization_is_the_base() {
        assert_eq!(
            api("https://dev.azure.com/acme/").unwrap().base,
            "https://dev.azure.com/acme"
        );
        assert_eq!(
            api("https://tfs.example.com/tfs/DefaultCollection")
                .unwrap()
                .base,
            "https://tfs.example.com/tfs/DefaultCollection"
        );
        assert!(api("https://dev.azure.com/").is_err(), "no organization");
        assert!(api("ftp://dev.azure.com/acme").is_err());
        let u = api("https://dev.azure.com/acme")
            .unwrap()
            .url(
                "/My%20Project/_apis/wit/wiql",
                API_VERSION,
                &[("timePrecision", "true".into())],
            )
            .unwrap();
        assert_eq!(
            u.as_str(),
            "https://dev.azure.com/acme/My%20Project/_apis/wit/wiql?timePrecision=true&api-version=7.1"
        );
        assert_eq!(segment("User Story"), "User%20Story");
    }
}
