//! Semgrep's Web API v1 as the connector calls it: `Authorization: Bearer <token>`, JSON
//! answers, every request through the outbound client (policy, rate budget, failures
//! classified).

use outbound::{CallError, HttpClient, RequestClass};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

pub struct Api {
    http: HttpClient,
    /// `https://semgrep.dev/` (always with a trailing slash, without `/api/v1`).
    base: url::Url,
    token: SecretString,
}

/// A deployment as `GET /api/v1/deployments` lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct Deployment {
    pub id: Value,
    pub slug: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Deserialize)]
struct Deployments {
    #[serde(default)]
    deployments: Vec<Deployment>,
}

#[derive(Deserialize)]
struct Projects {
    projects: Vec<Value>,
}

#[derive(Deserialize)]
struct Findings {
    findings: Vec<Value>,
}

impl Api {
    pub fn new(
        http: HttpClient,
        location: &url::Url,
        token: SecretString,
    ) -> Result<Api, CallError> {
        let mut base = location.clone();
        // Accept `https://semgrep.dev/api/v1` as well as the bare host.
        let path = base
            .path()
            .trim_end_matches('/')
            .trim_end_matches("/api/v1")
            .to_owned();
        base.set_path(&format!("{path}/"));
        base.set_query(None);
        if !matches!(base.scheme(), "http" | "https") {
            return Err(CallError::Misconfigured(format!(
                "the Semgrep location must be an http(s) URL, not {location}"
            )));
        }
        Ok(Api { http, base, token })
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<url::Url, CallError> {
        let mut url = self.base.join(path).map_err(|e| {
            CallError::Misconfigured(format!("cannot build the Semgrep URL for {path}: {e}"))
        })?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, CallError> {
        let url = self.url(path, query)?;
        let req = self
            .http
            .request(reqwest::Method::GET, url)
            .bearer_auth(self.token.expose_secret())
            .header("accept", "application/json");
        self.http.send_json(RequestClass::Read, what, req).await
    }

    pub async fn deployments(&self) -> Result<Vec<Deployment>, CallError> {
        let d: Deployments = self
            .get("Semgrep deployments", "api/v1/deployments", &[])
            .await?;
        Ok(d.deployments)
    }

    /// One page (0-based) of a deployment's projects.
    pub async fn projects(
        &self,
        slug: &str,
        page: usize,
        page_size: usize,
    ) -> Result<Vec<Value>, CallError> {
        let what = format!("Semgrep projects of deployment {slug} (page {page})");
        let path = format!("api/v1/deployments/{}/projects", enc(slug));
        let p: Projects = self
            .get(
                &what,
                &path,
                &[
                    ("page", page.to_string()),
                    ("page_size", page_size.to_string()),
                ],
            )
            .await?;
        Ok(p.projects)
    }

    /// One page (0-based) of a deployment's findings with `filters` (`issue_type`, `repos`…).
    pub async fn findings(
        &self,
        slug: &str,
        what: &str,
        filters: &[(&str, String)],
    ) -> Result<Vec<Value>, CallError> {
        let path = format!("api/v1/deployments/{}/findings", enc(slug));
        let f: Findings = self.get(what, &path, filters).await?;
        Ok(f.findings)
    }
}

/// A path segment, percent-encoded.
fn enc(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
