//! ServiceNow's REST API as the client uses it: where the instance is, how requests are signed
//! (HTTP Basic, or an OAuth access token refreshed when it expires and, once, when the instance
//! refuses it), and the parts of the Table API's answers the client reads.

use crate::{Connection, Credentials, HttpClient, RequestClass, TrackerError};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, Response};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The client's view of one instance.
#[derive(Clone, Debug)]
pub struct Api {
    http: HttpClient,
    /// `https://acme.service-now.com`, without a trailing slash.
    base: String,
    credentials: Credentials,
}

impl Api {
    pub fn new(conn: &Connection, http: HttpClient) -> Result<Api, TrackerError> {
        let loc = &conn.location;
        if !matches!(loc.scheme(), "http" | "https") || loc.host().is_none() {
            return Err(TrackerError::Misconfigured(format!(
                "the ServiceNow location must be an http(s) address like https://acme.service-now.com/, not '{loc}'"
            )));
        }
        if matches!(conn.credentials, Credentials::Token(_)) {
            return Err(TrackerError::Misconfigured(
                "ServiceNow needs OAuth (client id, client secret and refresh token) or a user name and password".into(),
            ));
        }
        let mut root = loc.clone();
        root.set_query(None);
        root.set_fragment(None);
        Ok(Api {
            http,
            base: root.as_str().trim_end_matches('/').to_owned(),
            credentials: conn.credentials.clone(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn url(&self, path: &str) -> Result<url::Url, TrackerError> {
        url::Url::parse(&format!("{}{path}", self.base)).map_err(|e| {
            TrackerError::Misconfigured(format!(
                "cannot build a ServiceNow address from '{path}': {e}"
            ))
        })
    }

    /// A request to `path` without credentials (to see whether the instance answers at all).
    pub fn anonymous(&self, method: Method, path: &str) -> Result<RequestBuilder, TrackerError> {
        Ok(self
            .http
            .request(method, self.url(path)?)
            .header("Accept", "application/json"))
    }

    /// Sends a request to `path` signed with the instance's credentials. With OAuth, an access
    /// token the instance refuses (401) is dropped and the request sent once more with a fresh
    /// one (access tokens can be revoked, or expire early on the instance's clock).
    pub async fn send(
        &self,
        class: RequestClass,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Response, TrackerError> {
        let url = self.url(path)?;
        let build = || {
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("Accept", "application/json")
                .query(query);
            if let Some(b) = body {
                req = req.json(b);
            }
            req
        };
        match &self.credentials {
            Credentials::Basic { username, password } => {
                let req = build().basic_auth(username, Some(password.expose_secret()));
                self.http
                    .send(class, what, req)
                    .await
                    .map_err(|e| basic_refused(e, username))
            }
            Credentials::OAuth(session) => {
                let token = session.access_token(&self.http).await?;
                match self
                    .http
                    .send(class, what, build().bearer_auth(token.expose_secret()))
                    .await
                {
                    Err(TrackerError::Unauthorized(_)) => {
                        session.invalidate(&token).await;
                        let fresh = session.access_token(&self.http).await?;
                        self.http
                            .send(class, what, build().bearer_auth(fresh.expose_secret()))
                            .await
                            .map_err(oauth_refused)
                    }
                    other => other,
                }
            }
            Credentials::Token(_) => Err(TrackerError::Misconfigured(
                "ServiceNow does not take a bare token".into(),
            )),
        }
    }

    /// [`Api::send`], then the JSON answer and its headers.
    pub async fn json<T: DeserializeOwned>(
        &self,
        class: RequestClass,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(T, HeaderMap), TrackerError> {
        let response = self.send(class, what, method, path, query, body).await?;
        let headers = response.headers().clone();
        Ok((crate::http::read_json(response, what).await?, headers))
    }

    /// The records a Table API query answers.
    pub async fn list(
        &self,
        what: &str,
        table: &str,
        query: &[(&str, String)],
    ) -> Result<(Vec<Map<String, Value>>, HeaderMap), TrackerError> {
        let (page, headers) = self
            .json::<Many>(
                RequestClass::Read,
                what,
                Method::GET,
                &format!("/api/now/table/{table}"),
                query,
                None,
            )
            .await?;
        Ok((page.result, headers))
    }
}

fn basic_refused(e: TrackerError, user: &str) -> TrackerError {
    match e {
        TrackerError::Unauthorized(m) => TrackerError::Unauthorized(format!(
            "{m}: the instance does not accept the user '{user}' with this password (wrong password, locked out or inactive user)"
        )),
        other => other,
    }
}

fn oauth_refused(e: TrackerError) -> TrackerError {
    match e {
        TrackerError::Unauthorized(m) => TrackerError::Unauthorized(format!(
            "{m}: the instance refused a freshly refreshed access token; the OAuth user may be inactive or locked out"
        )),
        other => other,
    }
}

/// `{"result": [...]}`.
#[derive(Debug, serde::Deserialize)]
pub struct Many {
    pub result: Vec<Map<String, Value>>,
}

/// `{"result": {...}}`.
#[derive(Debug, serde::Deserialize)]
pub struct One {
    pub result: Map<String, Value>,
}

/// A field of a record as text: a plain value, or the `value` of a reference or of a
/// `sysparm_display_value=all` pair.
pub fn value(record: &Map<String, Value>, field: &str) -> String {
    match record.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A field's display value (`sysparm_display_value=all`), else its value.
pub fn display(record: &Map<String, Value>, field: &str) -> String {
    match record.get(field) {
        Some(Value::Object(o)) => o
            .get("display_value")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| value(record, field)),
        _ => value(record, field),
    }
}

/// `X-Total-Count`.
pub fn total_count(headers: &HeaderMap) -> Option<usize> {
    headers
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// A record's page in the instance's classic UI.
pub fn record_url(base: &str, table: &str, sys_id: &str) -> String {
    format!("{base}/{table}.do?sys_id={sys_id}")
}

/// `2026-01-08 09:30:00`, the instance's date-time format (UTC through the API).
pub fn glide_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Reads a `glide_date_time` value (UTC).
pub fn parse_glide_time(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_read_from_every_shape() {
        let r = json!({"a": "1", "b": {"value": "x", "link": "l"}, "c": {"display_value": "New", "value": "1"}, "d": null});
        let r = r.as_object().unwrap();
        assert_eq!(value(r, "a"), "1");
        assert_eq!(value(r, "b"), "x");
        assert_eq!(value(r, "c"), "1");
        assert_eq!(display(r, "c"), "New");
        assert_eq!(display(r, "a"), "1");
        assert_eq!(value(r, "d"), "");
        assert_eq!(value(r, "missing"), "");
        assert_eq!(
            parse_glide_time("2026-01-08 09:30:00")
                .map(glide_time)
                .as_deref(),
            Some("2026-01-08 09:30:00")
        );
    }
}
