//! Checkmarx ONE authentication: the API key is an offline refresh token of the tenant's IAM
//! realm (Keycloak), exchanged at `<iam>/auth/realms/<tenant>/protocol/openid-connect/token`
//! (`grant_type=refresh_token`) for an access token that lives `expires_in` seconds (30
//! minutes). The access token is kept until shortly before it expires, and renewed at once
//! when the API refuses it.
//!
//! Where IAM is: the `iam_url` option if set; else the host in the key's `aud` claim (what
//! Checkmarx's own CLI reads); else the API's host with `ast.` read as `iam.` (Checkmarx's
//! cloud regions); else the API's host itself. The client id is the key's `azp` claim,
//! `ast-app` when the key does not say (as the CLI does).

use base64::Engine;
use outbound::{CallError, HttpClient, RequestClass};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Renew this long before the token expires, so a request never carries a dying token.
const MARGIN: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct Cached {
    token: SecretString,
    renew_at: Instant,
}

pub(super) struct Auth {
    http: HttpClient,
    token_url: url::Url,
    tenant: String,
    client_id: String,
    key: SecretString,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

/// The claims of a JWT-shaped key, read without verifying it (the IAM does that).
fn claims(key: &str) -> Option<Value> {
    let payload = key.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether `tenant` can be a tenant's name (it goes into the IAM realm's path).
pub(super) fn is_tenant(tenant: &str) -> bool {
    !tenant.contains(['/', '?', '#']) && !tenant.trim().is_empty()
}

/// The origin of IAM at an `iam_url` (`https://iam.example.com/x` → `https://iam.example.com`).
pub(super) fn iam_origin(iam_url: &str) -> Result<String, url::ParseError> {
    Ok(url::Url::parse(iam_url)?.origin().ascii_serialization())
}

/// `(scheme://host[:port], tenant)` of a realm URL such as `https://iam.checkmarx.net/auth/realms/acme`.
fn realm_of(aud: &str) -> Option<(String, String)> {
    let url = url::Url::parse(aud).ok()?;
    let (_, tenant) = url.path().split_once("/auth/realms/")?;
    let tenant = tenant.trim_matches('/');
    (!tenant.is_empty() && !tenant.contains('/'))
        .then(|| (url.origin().ascii_serialization(), tenant.to_owned()))
}

impl Auth {
    pub fn new(
        http: HttpClient,
        api: &url::Url,
        key: SecretString,
        tenant: Option<&str>,
        iam_url: Option<&str>,
    ) -> Result<Auth, CallError> {
        let claims = claims(key.expose_secret());
        let aud = claims.as_ref().and_then(|c| match c.get("aud") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .find(|s| s.contains("/auth/realms/"))
                .map(str::to_owned),
            _ => None,
        });
        let from_key = aud.as_deref().and_then(realm_of);
        let tenant = tenant
            .map(str::to_owned)
            .or_else(|| from_key.as_ref().map(|(_, t)| t.clone()))
            .ok_or_else(|| CallError::Misconfigured("the Checkmarx ONE connector needs the option 'tenant' (the tenant's name in Checkmarx ONE)".into()))?;
        if !is_tenant(&tenant) {
            return Err(CallError::Misconfigured(format!(
                "the Checkmarx ONE tenant '{tenant}' is not a tenant name"
            )));
        }
        let iam = match iam_url {
            Some(u) => iam_origin(u).map_err(|e| {
                CallError::Misconfigured(format!(
                    "the Checkmarx ONE option 'iam_url' ('{u}') is not a URL: {e}"
                ))
            })?,
            None => match from_key {
                Some((origin, _)) => origin,
                None => {
                    let mut u = api.clone();
                    if let Some(host) = api
                        .host_str()
                        .filter(|h| *h == "ast.checkmarx.net" || h.ends_with(".ast.checkmarx.net"))
                    {
                        let iam_host = host.replace("ast.checkmarx.net", "iam.checkmarx.net");
                        u.set_host(Some(&iam_host)).map_err(|e| {
                            CallError::Misconfigured(format!("the IAM host {iam_host}: {e}"))
                        })?;
                    }
                    u.origin().ascii_serialization()
                }
            },
        };
        let token_url = url::Url::parse(&format!(
            "{iam}/auth/realms/{tenant}/protocol/openid-connect/token"
        ))
        .map_err(|e| {
            CallError::Misconfigured(format!(
                "the Checkmarx ONE IAM URL for tenant '{tenant}': {e}"
            ))
        })?;
        let client_id = claims
            .as_ref()
            .and_then(|c| c.get("azp"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("ast-app")
            .to_owned();
        Ok(Auth {
            http,
            token_url,
            tenant,
            client_id,
            key,
            cached: tokio::sync::Mutex::new(None),
        })
    }

    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// A live access token: the kept one, or a new one.
    pub async fn token(&self) -> Result<SecretString, CallError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.renew_at) {
            return Ok(c.token.clone());
        }
        let fresh = self.exchange().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Forgets the kept token if it is still `refused` (another caller may have renewed it).
    pub async fn forget(&self, refused: &SecretString) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|c| c.token.expose_secret() == refused.expose_secret())
        {
            *cached = None;
        }
    }

    async fn exchange(&self) -> Result<Cached, CallError> {
        let what = format!("a Checkmarx ONE access token for tenant '{}'", self.tenant);
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("refresh_token", self.key.expose_secret()),
        ];
        let req = self
            .http
            .request(reqwest::Method::POST, self.token_url.clone())
            .form(&form);
        let answer: TokenAnswer = self
            .http
            .send_json(RequestClass::Read, &what, req)
            .await
            .map_err(|e| match e {
                CallError::Rejected(m) | CallError::Unauthorized(m) | CallError::Forbidden(m) => {
                    CallError::Unauthorized(format!(
                        "Checkmarx ONE refused the API key for tenant '{}': {m}",
                        self.tenant
                    ))
                }
                CallError::NotFound(m) => CallError::Misconfigured(format!(
                    "Checkmarx ONE has no tenant '{}' at {} ({m}); check the 'tenant' option",
                    self.tenant, self.token_url
                )),
                other => other,
            })?;
        if answer.access_token.trim().is_empty() {
            return Err(CallError::Protocol(format!(
                "{what}: the token answer has an empty access_token"
            )));
        }
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(300));
        Ok(Cached {
            token: SecretString::from(answer.access_token),
            renew_at: Instant::now() + lifetime.saturating_sub(MARGIN),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(payload: &Value) -> String {
        let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.sig",
            b(&serde_json::json!({ "alg": "RS256" })),
            b(payload)
        )
    }

    fn auth(
        api: &str,
        key: &str,
        tenant: Option<&str>,
        iam: Option<&str>,
    ) -> Result<Auth, CallError> {
        let http = HttpClient::new(
            "checkmarx_one",
            std::sync::Arc::new(outbound::NoLimits),
            &outbound::OutboundPolicy::default(),
        )?;
        Auth::new(
            http,
            &url::Url::parse(api).expect("a URL"),
            SecretString::from(key.to_owned()),
            tenant,
            iam,
        )
    }

    #[test]
    fn iam_is_found_from_the_option_the_key_or_the_region() {
        let k = key(
            &serde_json::json!({ "aud": "https://eu.iam.checkmarx.net/auth/realms/acme", "azp": "ast-app" }),
        );
        let a = auth("https://eu.ast.checkmarx.net/", &k, None, None).expect("auth");
        assert_eq!(
            a.token_url.as_str(),
            "https://eu.iam.checkmarx.net/auth/realms/acme/protocol/openid-connect/token"
        );
        let a = auth(
            "https://eu.ast.checkmarx.net/",
            "opaque",
            Some("acme"),
            None,
        )
        .expect("auth");
        assert_eq!(
            a.token_url.as_str(),
            "https://eu.iam.checkmarx.net/auth/realms/acme/protocol/openid-connect/token"
        );
        assert_eq!(a.client_id, "ast-app");
        let a = auth(
            "https://ast.checkmarx.net",
            "opaque",
            Some("t1"),
            Some("https://iam.example.com/x"),
        )
        .expect("auth");
        assert_eq!(
            a.token_url.as_str(),
            "https://iam.example.com/auth/realms/t1/protocol/openid-connect/token"
        );
        let a = auth("https://cx.internal:8443/", "opaque", Some("t1"), None).expect("auth");
        assert_eq!(
            a.token_url.as_str(),
            "https://cx.internal:8443/auth/realms/t1/protocol/openid-connect/token"
        );
        assert!(
            matches!(auth("https://ast.checkmarx.net", "opaque", None, None), Err(CallError::Misconfigured(m)) if m.contains("'tenant'"))
        );
        assert!(auth("https://ast.checkmarx.net", "opaque", Some("a/b"), None).is_err());
    }
}
