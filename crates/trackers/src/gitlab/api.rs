//! GitLab's REST API v4 as the client uses it: where it is, how requests are signed, and the
//! parts of GitLab's answers the client reads.

use crate::{Connection, Credentials, HttpClient, RemoteRef, RequestClass, TrackerError};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The client's view of one GitLab instance.
#[derive(Clone, Debug)]
pub struct Api {
    http: HttpClient,
    /// `https://gitlab.example.com/prefix/api/v4`, without a trailing slash.
    base: String,
    token: Credentials,
}

impl Api {
    /// The API of the instance at `conn.location` (`https://gitlab.com/`, or a self-managed
    /// address, possibly under a path prefix).
    pub fn new(conn: &Connection, http: HttpClient) -> Result<Api, TrackerError> {
        let loc = &conn.location;
        if !matches!(loc.scheme(), "http" | "https") || loc.host().is_none() {
            return Err(TrackerError::Misconfigured(format!(
                "the GitLab location must be an http(s) address like https://gitlab.com/, not '{loc}'"
            )));
        }
        let mut root = loc.clone();
        root.set_query(None);
        root.set_fragment(None);
        let base = format!("{}/api/v4", root.as_str().trim_end_matches('/'));
        Ok(Api {
            http,
            base,
            token: conn.credentials.clone(),
        })
    }

    /// A request to `path` (starting with `/`, already encoded), carrying the token.
    pub fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, TrackerError> {
        let url = url::Url::parse(&format!("{}{path}", self.base)).map_err(|e| {
            TrackerError::Misconfigured(format!(
                "cannot build a GitLab API address from '{path}': {e}"
            ))
        })?;
        let secret = match &self.token {
            Credentials::Token(secret) => secret,
            // Other kinds of credentials (for other vendors) cannot sign GitLab requests.
            _ => {
                return Err(TrackerError::Misconfigured(
                    "GitLab needs a personal access token".into(),
                ));
            }
        };
        let mut value = HeaderValue::from_str(secret.expose_secret().trim()).map_err(|_| {
            TrackerError::Misconfigured(
                "the GitLab token contains characters a header cannot carry".into(),
            )
        })?;
        // Keeps the token out of reqwest's debug output.
        value.set_sensitive(true);
        Ok(self
            .http
            .request(method, url)
            .header("PRIVATE-TOKEN", value))
    }

    /// Sends and reads a JSON answer, with the answer's headers.
    pub async fn json<T: DeserializeOwned>(
        &self,
        class: RequestClass,
        what: &str,
        req: RequestBuilder,
    ) -> Result<(T, HeaderMap), TrackerError> {
        let response = self.http.send(class, what, req).await?;
        let headers = response.headers().clone();
        let value = crate::http::read_json(response, what).await?;
        Ok((value, headers))
    }
}

/// A project reference for a path segment: a numeric id as is, a path URL-encoded
/// (`acme/api` → `acme%2Fapi`), as GitLab's "namespaced path encoding" asks.
pub fn project_ref(project: &str) -> String {
    let p = project.trim().trim_matches('/');
    if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
        return p.to_owned();
    }
    let mut out = String::with_capacity(p.len() * 3);
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The next page GitLab announces (`x-next-page`, empty on the last page).
pub fn next_page(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("x-next-page")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// `GET /user`.
#[derive(Debug, Deserialize)]
pub struct User {
    pub username: String,
}

/// `GET /personal_access_tokens/self`.
#[derive(Debug, Deserialize)]
pub struct Token {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub revoked: bool,
    pub expires_at: Option<String>,
}

/// `GET /projects/:id`.
#[derive(Debug, Deserialize)]
pub struct Project {
    pub id: u64,
    pub path_with_namespace: String,
    pub permissions: Option<Permissions>,
}

#[derive(Debug, Deserialize)]
pub struct Permissions {
    pub project_access: Option<Access>,
    pub group_access: Option<Access>,
}

#[derive(Debug, Deserialize)]
pub struct Access {
    pub access_level: u8,
}

impl Project {
    /// The caller's effective access level: the higher of project and group membership.
    pub fn access_level(&self) -> u8 {
        let p = self.permissions.as_ref();
        let project = p
            .and_then(|p| p.project_access.as_ref())
            .map_or(0, |a| a.access_level);
        let group = p
            .and_then(|p| p.group_access.as_ref())
            .map_or(0, |a| a.access_level);
        project.max(group)
    }
}

/// An issue, as `Entities::Issue` shows it.
#[derive(Debug, Deserialize)]
pub struct Issue {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    #[serde(default)]
    pub description: Option<String>,
    pub state: String,
    #[serde(default)]
    pub labels: Vec<String>,
    pub web_url: String,
    #[serde(default)]
    pub weight: Option<i64>,
    pub references: Option<References>,
}

#[derive(Debug, Deserialize)]
pub struct References {
    pub full: String,
}

impl Issue {
    /// Our record of it: the global id (what webhooks name), `group/project#iid`, its page, and
    /// the project id and iid later calls use.
    pub fn remote(&self, project: &str) -> RemoteRef {
        let key = match &self.references {
            Some(r) if r.full.contains('#') => r.full.clone(),
            _ => format!("{}#{}", project.trim_matches('/'), self.iid),
        };
        RemoteRef {
            id: self.id.to_string(),
            key,
            url: self.web_url.clone(),
            data: serde_json::json!({ "project_id": self.project_id, "iid": self.iid }),
        }
    }
}

/// A project hook.
#[derive(Debug, Deserialize)]
pub struct Hook {
    pub id: u64,
    pub url: String,
}

/// GitLab's role names by access level.
pub fn role_name(level: u8) -> &'static str {
    match level {
        50.. => "Owner",
        40.. => "Maintainer",
        30.. => "Developer",
        20.. => "Reporter",
        15.. => "Planner",
        10.. => "Guest",
        5.. => "Minimal Access",
        _ => "no",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_lives_under_the_location_and_its_prefix() {
        let http = HttpClient::new(
            domain::tracker::Vendor::GitLab.as_str(),
            std::sync::Arc::new(crate::NoLimits),
            &crate::outbound::OutboundPolicy::default(),
        )
        .expect("a client");
        let api = |loc: &str| {
            let conn = Connection {
                vendor: domain::tracker::Vendor::GitLab,
                location: url::Url::parse(loc).expect("a URL"),
                credentials: Credentials::Token(secrecy::SecretString::from("t".to_owned())),
            };
            Api::new(&conn, http.clone()).map(|a| a.base)
        };
        assert_eq!(
            api("https://gitlab.com/").unwrap(),
            "https://gitlab.com/api/v4"
        );
        assert_eq!(
            api("https://git.example.com/gitlab").unwrap(),
            "https://git.example.com/gitlab/api/v4"
        );
        assert_eq!(
            api("https://git.example.com/gitlab/").unwrap(),
            "https://git.example.com/gitlab/api/v4"
        );
        assert!(api("ftp://git.example.com/").is_err());
    }

    #[test]
    fn project_paths_are_encoded_and_ids_kept() {
        assert_eq!(project_ref("acme/mobile-backend"), "acme%2Fmobile-backend");
        assert_eq!(
            project_ref("/group/sub group/p.x/"),
            "group%2Fsub%20group%2Fp.x"
        );
        assert_eq!(project_ref("42"), "42");
    }
}
