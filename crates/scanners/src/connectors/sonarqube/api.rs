//! SonarQube's web API as the connector calls it. The user token goes as the login of HTTP
//! Basic with an empty password by default: every SonarQube Server version and SonarQube
//! Cloud read it that way, while `Authorization: Bearer` is read only from Server 10.0 (the
//! `auth` option chooses Bearer). SonarQube Cloud also needs `organization` on most calls.

use outbound::{CallError, HttpClient, RequestClass};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Basic,
    Bearer,
}

pub struct Api {
    http: HttpClient,
    /// `https://sonar.example.com/` (trailing slash; a context path such as `/sonar/` kept).
    base: url::Url,
    token: SecretString,
    auth: Auth,
    organization: Option<String>,
}

impl Api {
    pub fn new(
        http: HttpClient,
        location: &url::Url,
        token: SecretString,
        auth: Auth,
        organization: Option<String>,
    ) -> Result<Api, CallError> {
        if !matches!(location.scheme(), "http" | "https") {
            return Err(CallError::Misconfigured(format!(
                "the SonarQube location must be an http(s) URL, not {location}"
            )));
        }
        let mut base = location.clone();
        // Accept the web API's own URL (`…/api`) as well as the server's.
        let path = base
            .path()
            .trim_end_matches('/')
            .trim_end_matches("/api")
            .to_owned();
        base.set_path(&format!("{path}/"));
        base.set_query(None);
        Ok(Api {
            http,
            base,
            token,
            auth,
            organization,
        })
    }

    fn request(
        &self,
        path: &str,
        query: &[(&str, String)],
        with_org: bool,
    ) -> Result<reqwest::RequestBuilder, CallError> {
        let mut url = self.base.join(path).map_err(|e| {
            CallError::Misconfigured(format!("cannot build the SonarQube URL for {path}: {e}"))
        })?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
            if with_org && let Some(org) = &self.organization {
                pairs.append_pair("organization", org);
            }
        }
        let url = if url.query() == Some("") {
            let mut u = url;
            u.set_query(None);
            u
        } else {
            url
        };
        let req = self
            .http
            .request(reqwest::Method::GET, url)
            .header("accept", "application/json");
        Ok(match self.auth {
            Auth::Basic => req.basic_auth(self.token.expose_secret(), Some("")),
            Auth::Bearer => req.bearer_auth(self.token.expose_secret()),
        })
    }

    /// A JSON web service.
    pub async fn get(
        &self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, CallError> {
        let req = self.request(path, query, true)?;
        let value: Value = self.http.send_json(RequestClass::Read, what, req).await?;
        if !value.is_object() {
            return Err(CallError::Protocol(format!(
                "{what}: expected a JSON object, got {}",
                kind(&value)
            )));
        }
        Ok(value)
    }

    /// `api/server/version`: plain text, no authentication needed.
    pub async fn version(&self) -> Result<String, CallError> {
        let req = self.request("api/server/version", &[], false)?;
        let response = self
            .http
            .send(RequestClass::Read, "the SonarQube server version", req)
            .await?;
        let text = response.text().await.map_err(|e| {
            CallError::Transient(format!("reading the SonarQube server version: {e}"))
        })?;
        let version = text.trim().to_owned();
        if version.is_empty()
            || !version.chars().next().is_some_and(|c| c.is_ascii_digit())
            || version.len() > 40
        {
            return Err(CallError::Protocol(format!(
                "the SonarQube server version: expected a version like 10.7.0.96327, got {:?}",
                version.chars().take(60).collect::<String>()
            )));
        }
        Ok(version)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `version` (`10.7.0.96327`) is at least `major.minor`.
pub fn at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}
