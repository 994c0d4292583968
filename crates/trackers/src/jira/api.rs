//! Jira's REST API as the client uses it: which flavour the site is (Cloud: `/rest/api/3`,
//! rich text as ADF; Data Center: `/rest/api/2`, rich text as wiki markup), how requests are
//! signed (Basic e-mail and API token, `Bearer` personal access token, `Bearer` OAuth access
//! token — refreshed and retried once on a 401), and the parts of Jira's answers it reads.

use crate::oauth::OAuthSession;
use crate::{Connection, Credentials, HttpClient, RequestClass, TrackerError};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// Which Jira the site is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Jira Cloud: REST API v3, Atlassian Document Format, `search/jql`.
    Cloud,
    /// Jira Data Center (or Server): REST API v2, wiki markup, `search` with offsets.
    DataCenter,
}

impl Flavour {
    /// Cloud when the site is on Atlassian's domains or signs in with an e-mail address (Cloud
    /// API tokens belong to an Atlassian account's e-mail); else Data Center.
    pub fn detect(location: &url::Url, credentials: &Credentials) -> Flavour {
        let host = location.host_str().unwrap_or("").to_ascii_lowercase();
        let cloud_host = host.ends_with(".atlassian.net") || host.ends_with(".jira.com");
        let email_login =
            matches!(credentials, Credentials::Basic { username, .. } if username.contains('@'));
        if cloud_host || email_login {
            Flavour::Cloud
        } else {
            Flavour::DataCenter
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Flavour::Cloud => "3",
            Flavour::DataCenter => "2",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Flavour::Cloud => "Jira Cloud",
            Flavour::DataCenter => "Jira Data Center",
        }
    }
}

/// Where Atlassian's OAuth 2.0 (3LO) tokens are used: a gateway in front of each Cloud site.
const GATEWAY: &str = "https://api.atlassian.com";

/// The client's view of one Jira site.
pub struct Api {
    http: HttpClient,
    /// The site as people open it (`https://acme.atlassian.net`), without a trailing slash.
    site: String,
    flavour: Flavour,
    credentials: Credentials,
    /// Cloud with OAuth: `https://api.atlassian.com/ex/jira/{cloudId}`, found once.
    gateway: tokio::sync::OnceCell<String>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("site", &self.site)
            .field("flavour", &self.flavour)
            .finish_non_exhaustive()
    }
}

/// One of Atlassian's `accessible-resources`: a site an OAuth token may use.
#[derive(Debug, Deserialize)]
pub struct Resource {
    pub id: String,
    pub url: String,
}

impl Api {
    pub fn new(conn: &Connection, http: HttpClient) -> Result<Api, TrackerError> {
        let loc = &conn.location;
        if !matches!(loc.scheme(), "http" | "https") || loc.host().is_none() {
            return Err(TrackerError::Misconfigured(format!(
                "the Jira location must be an http(s) address like https://acme.atlassian.net/, not '{loc}'"
            )));
        }
        let mut root = loc.clone();
        root.set_query(None);
        root.set_fragment(None);
        let site = root.as_str().trim_end_matches('/').to_owned();
        Ok(Api {
            http,
            site,
            flavour: Flavour::detect(loc, &conn.credentials),
            credentials: conn.credentials.clone(),
            gateway: tokio::sync::OnceCell::new(),
        })
    }

    pub fn flavour(&self) -> Flavour {
        self.flavour
    }

    /// The site's address (`https://acme.atlassian.net`): issue pages are `{site}/browse/KEY`.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// How the client signs in, for messages: `the e-mail address and API token (Basic)`.
    pub fn auth_method(&self) -> &'static str {
        match &self.credentials {
            Credentials::Basic { username, .. } if username.contains('@') => {
                "the e-mail address and API token (Basic authentication)"
            }
            Credentials::Basic { .. } => "the user name and password (Basic authentication)",
            Credentials::Token(_) => "the personal access token (Bearer)",
            Credentials::OAuth(_) => "the OAuth 2.0 access token",
        }
    }

    fn session(&self) -> Option<&Arc<OAuthSession>> {
        match &self.credentials {
            Credentials::OAuth(s) => Some(s),
            _ => None,
        }
    }

    /// Where the REST API is: the site, or for Cloud OAuth the gateway for the site's cloud id.
    async fn root(&self) -> Result<String, TrackerError> {
        if self.flavour == Flavour::Cloud && self.session().is_some() {
            return self
                .gateway
                .get_or_try_init(|| self.find_cloud_id())
                .await
                .cloned();
        }
        Ok(self.site.clone())
    }

    /// Cloud OAuth tokens are used through `api.atlassian.com/ex/jira/{cloudId}`: the site's
    /// cloud id comes from the token's accessible resources.
    async fn find_cloud_id(&self) -> Result<String, TrackerError> {
        let url = parse_url(&format!("{GATEWAY}/oauth/token/accessible-resources"))?;
        let resources: Vec<Resource> = self
            .send_json(
                Method::GET,
                url,
                None,
                RequestClass::Read,
                "the sites the OAuth token may use",
            )
            .await?;
        pick_resource(&resources, &self.site).map(|id| format!("{GATEWAY}/ex/jira/{id}"))
    }

    /// `{root}/rest/api/{2|3}{path}`.
    pub async fn rest(&self, path: &str) -> Result<url::Url, TrackerError> {
        parse_url(&format!(
            "{}/rest/api/{}{path}",
            self.root().await?,
            self.flavour.version()
        ))
    }

    /// `{root}{path}`, for APIs outside `/rest/api` (admin webhooks).
    pub async fn at(&self, path: &str) -> Result<url::Url, TrackerError> {
        parse_url(&format!("{}{path}", self.root().await?))
    }

    /// Adds the credentials; returns the OAuth access token used, to forget it after a 401.
    async fn sign(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(reqwest::RequestBuilder, Option<SecretString>), TrackerError> {
        let header = |value: String| {
            let mut v = HeaderValue::from_str(&value).map_err(|_| {
                TrackerError::Misconfigured(
                    "the Jira credentials contain characters a header cannot carry".into(),
                )
            })?;
            // Keeps the secret out of reqwest's debug output.
            v.set_sensitive(true);
            Ok::<_, TrackerError>(v)
        };
        Ok(match &self.credentials {
            // reqwest marks the Basic header sensitive itself.
            Credentials::Basic { username, password } => (
                req.basic_auth(username.trim(), Some(password.expose_secret())),
                None,
            ),
            Credentials::Token(t) => (
                req.header(
                    AUTHORIZATION,
                    header(format!("Bearer {}", t.expose_secret().trim()))?,
                ),
                None,
            ),
            Credentials::OAuth(session) => {
                let token = session.access_token(&self.http).await?;
                let req = req.header(
                    AUTHORIZATION,
                    header(format!("Bearer {}", token.expose_secret()))?,
                );
                (req, Some(token))
            }
        })
    }

    /// Sends a request (a JSON body if given), signed; an OAuth token refused with 401 is
    /// forgotten and the request sent once more with a fresh one.
    pub async fn send(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
        class: RequestClass,
        what: &str,
    ) -> Result<Response, TrackerError> {
        for attempt in 0..2 {
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let (req, used) = self.sign(req).await?;
            match self.http.send(class, what, req).await {
                Err(TrackerError::Unauthorized(_)) if attempt == 0 && used.is_some() => {
                    if let (Some(session), Some(token)) = (self.session(), used) {
                        session.invalidate(&token).await;
                    }
                }
                Err(TrackerError::Unauthorized(m)) => {
                    return Err(TrackerError::Unauthorized(format!(
                        "Jira refused {} ({m})",
                        self.auth_method()
                    )));
                }
                other => return other,
            }
        }
        Err(TrackerError::Unauthorized(format!(
            "Jira refused {} twice, even after refreshing it",
            self.auth_method()
        )))
    }

    /// [`Api::send`], then reads the JSON answer.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
        class: RequestClass,
        what: &str,
    ) -> Result<T, TrackerError> {
        let response = self.send(method, url, body, class, what).await?;
        crate::http::read_json(response, what).await
    }

    /// A request without credentials (`serverInfo` answers anyone, whatever they sign in with).
    pub async fn get_anonymous<T: DeserializeOwned>(
        &self,
        url: url::Url,
        what: &str,
    ) -> Result<T, TrackerError> {
        let req = self
            .http
            .request(Method::GET, url)
            .header("Accept", "application/json");
        let response = self.http.send(RequestClass::Read, what, req).await?;
        crate::http::read_json(response, what).await
    }

    /// `GET {rest}{path}` as JSON.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<T, TrackerError> {
        let url = self.rest(path).await?;
        self.send_json(Method::GET, url, None, RequestClass::Read, what)
            .await
    }
}

fn parse_url(text: &str) -> Result<url::Url, TrackerError> {
    url::Url::parse(text).map_err(|e| {
        TrackerError::Misconfigured(format!(
            "cannot build a Jira API address from '{text}': {e}"
        ))
    })
}

/// The cloud id of the resource whose URL is the site's.
pub fn pick_resource(resources: &[Resource], site: &str) -> Result<String, TrackerError> {
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    };
    let want = host(site);
    resources.iter().find(|r| host(&r.url) == want && want.is_some()).map(|r| r.id.clone()).ok_or_else(|| {
        let sites: Vec<&str> = resources.iter().map(|r| r.url.as_str()).collect();
        TrackerError::Misconfigured(format!(
            "the OAuth token was not granted access to {site}; it may use {}. Authorize vulnbridge for this site again",
            if sites.is_empty() { "no site".to_owned() } else { sites.join(", ") }
        ))
    })
}

/// Path segments are issue keys, project keys and ids: letters, digits, `-` and `_`. Anything
/// else is percent-encoded.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.trim().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A status as Jira shows it, with its category (`new`, `indeterminate`, `done`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub id: String,
    pub name: String,
    #[serde(rename = "statusCategory")]
    pub category: Option<Category>,
}

impl Status {
    pub fn is_done(&self) -> bool {
        self.category.as_ref().is_some_and(|c| c.key == "done")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Category {
    pub key: String,
}

/// Anything with an id and a name (issue types, priorities, components, link types).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Named {
    #[serde(default)]
    pub id: String,
    pub name: String,
}

/// A transition as `GET …/transitions` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Transition {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub to: Status,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds_basic(user: &str) -> Credentials {
        Credentials::Basic {
            username: user.into(),
            password: SecretString::from("t".to_owned()),
        }
    }

    #[test]
    fn the_flavour_follows_the_host_or_the_login() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            Flavour::detect(&u("https://acme.atlassian.net/"), &creds_basic("bot")),
            Flavour::Cloud
        );
        assert_eq!(
            Flavour::detect(
                &u("http://127.0.0.1:8080/"),
                &creds_basic("bot@example.com")
            ),
            Flavour::Cloud
        );
        assert_eq!(
            Flavour::detect(&u("https://jira.example.com/"), &creds_basic("bot")),
            Flavour::DataCenter
        );
        assert_eq!(
            Flavour::detect(
                &u("https://jira.example.com/"),
                &Credentials::Token(SecretString::from("p".to_owned()))
            ),
            Flavour::DataCenter
        );
    }

    #[test]
    fn cloud_ids_are_picked_by_site() {
        let r = vec![
            Resource {
                id: "a1".into(),
                url: "https://other.atlassian.net".into(),
            },
            Resource {
                id: "b2".into(),
                url: "https://acme.atlassian.net".into(),
            },
        ];
        assert_eq!(
            pick_resource(&r, "https://ACME.atlassian.net").unwrap(),
            "b2"
        );
        let e = pick_resource(&r, "https://nope.atlassian.net").unwrap_err();
        assert!(e.to_string().contains("other.atlassian.net"), "{e}");
        assert_eq!(segment("SEC-1"), "SEC-1");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }
}
