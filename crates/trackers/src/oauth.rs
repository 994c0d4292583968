//! OAuth 2.0 with refresh tokens (ServiceNow, Jira): a valid access token on demand, refreshed
//! before it expires or when the tracker refuses it, with the new tokens stored.
//!
//! Refresh tokens may rotate (Atlassian issues a new one with every refresh and revokes the
//! old): the stored state is replaced compare-and-swap on the refresh token it was read with,
//! so two processes refreshing at once do not lock each other out — the loser reloads and
//! uses the winner's tokens. The store is the engine's (sealed in the instance's credentials);
//! this module only talks to the token endpoint.

use crate::{HttpClient, RequestClass, TrackerError};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::{Arc, Mutex};

/// A token is refreshed this long before it expires.
const EARLY: TimeDelta = TimeDelta::seconds(60);

/// The tokens as stored.
#[derive(Clone, Debug)]
pub struct OAuthState {
    pub access_token: Option<SecretString>,
    pub expires_at: Option<DateTime<Utc>>,
    pub refresh_token: SecretString,
}

/// Where an instance's tokens live (the engine: sealed in the instance's credentials).
#[async_trait]
pub trait OAuthStore: Send + Sync {
    async fn load(&self) -> Result<OAuthState, TrackerError>;
    /// Replaces the state if its refresh token is still `previous`; `false` if another process
    /// refreshed first (then `load` again).
    async fn replace(&self, previous: &SecretString, new: &OAuthState) -> Result<bool, TrackerError>;
}

/// How the token endpoint takes its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRequest {
    /// `application/x-www-form-urlencoded` (RFC 6749; ServiceNow `/oauth_token.do`, Jira Data
    /// Center `/rest/oauth2/latest/token`).
    Form,
    /// A JSON body (Atlassian Cloud `https://auth.atlassian.com/oauth/token`).
    Json,
}

/// An OAuth client's registration and its token store.
#[derive(Clone)]
pub struct OAuth {
    pub client_id: String,
    pub client_secret: SecretString,
    pub token_url: url::Url,
    pub request: TokenRequest,
    pub store: Arc<dyn OAuthStore>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth").field("client_id", &self.client_id).field("token_url", &self.token_url.as_str()).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

/// A session: the OAuth registration, and the access token in use by this process.
pub struct OAuthSession {
    oauth: OAuth,
    current: Mutex<Option<(SecretString, DateTime<Utc>)>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSession").field("oauth", &self.oauth).finish_non_exhaustive()
    }
}

impl OAuthSession {
    pub fn new(oauth: OAuth) -> OAuthSession {
        OAuthSession { oauth, current: Mutex::new(None), refreshing: tokio::sync::Mutex::new(()) }
    }

    fn cached(&self, now: DateTime<Utc>) -> Option<SecretString> {
        let cur = self.current.lock().expect("oauth token cache");
        cur.as_ref().filter(|(_, exp)| *exp - EARLY > now).map(|(t, _)| t.clone())
    }

    /// A valid access token: the one in use, the stored one, or a fresh one.
    pub async fn access_token(&self, http: &HttpClient) -> Result<SecretString, TrackerError> {
        let now = Utc::now();
        if let Some(t) = self.cached(now) {
            return Ok(t);
        }
        // One refresh at a time in this process.
        let _guard = self.refreshing.lock().await;
        if let Some(t) = self.cached(Utc::now()) {
            return Ok(t);
        }
        for _ in 0..3 {
            let state = self.oauth.store.load().await?;
            if let (Some(t), Some(exp)) = (&state.access_token, state.expires_at)
                && exp - EARLY > Utc::now()
            {
                *self.current.lock().expect("oauth token cache") = Some((t.clone(), exp));
                return Ok(t.clone());
            }
            let fresh = self.refresh(http, &state.refresh_token).await?;
            if self.oauth.store.replace(&state.refresh_token, &fresh).await? {
                let token = fresh.access_token.clone().expect("a refresh yields an access token");
                *self.current.lock().expect("oauth token cache") = Some((token.clone(), fresh.expires_at.unwrap_or_else(Utc::now)));
                return Ok(token);
            }
            // Another process refreshed first: its tokens are in the store now.
        }
        Err(TrackerError::Transient("the OAuth tokens kept changing while refreshing; trying again later".into()))
    }

    /// The tracker refused `used` (401): forget it, so the next call refreshes.
    pub async fn invalidate(&self, used: &SecretString) {
        // A block, not `drop`: the guard must be out of scope before the await for the future
        // to be `Send`.
        {
            let mut cur = self.current.lock().expect("oauth token cache");
            if cur.as_ref().is_some_and(|(t, _)| t.expose_secret() == used.expose_secret()) {
                *cur = None;
            }
        }
        // The stored one may be the refused one too: mark it expired by storing nothing newer;
        // the next `access_token` sees the cache empty and the stored expiry, and a stored
        // token equal to the refused one is skipped.
        if let Ok(state) = self.oauth.store.load().await
            && state.access_token.as_ref().is_some_and(|t| t.expose_secret() == used.expose_secret())
        {
            let expired = OAuthState { access_token: None, expires_at: None, refresh_token: state.refresh_token.clone() };
            let _ = self.oauth.store.replace(&state.refresh_token, &expired).await;
        }
    }

    async fn refresh(&self, http: &HttpClient, refresh_token: &SecretString) -> Result<OAuthState, TrackerError> {
        let o = &self.oauth;
        let what = format!("the OAuth token endpoint {}", o.token_url);
        let req = http.request(reqwest::Method::POST, o.token_url.clone()).header("Accept", "application/json");
        let req = match o.request {
            TokenRequest::Form => req.form(&[
                ("grant_type", "refresh_token"),
                ("client_id", o.client_id.as_str()),
                ("client_secret", o.client_secret.expose_secret()),
                ("refresh_token", refresh_token.expose_secret()),
            ]),
            TokenRequest::Json => req.json(&serde_json::json!({
                "grant_type": "refresh_token",
                "client_id": o.client_id,
                "client_secret": o.client_secret.expose_secret(),
                "refresh_token": refresh_token.expose_secret(),
            })),
        };
        let answer: TokenAnswer = match http.send_json(RequestClass::Read, &what, req).await {
            Ok(a) => a,
            // RFC 6749: an invalid or expired refresh token (or client) is a 400/401
            // `invalid_grant` / `invalid_client`.
            Err(TrackerError::Rejected(m) | TrackerError::Unauthorized(m)) => {
                return Err(TrackerError::Unauthorized(format!(
                    "the OAuth refresh token was refused ({m}): it has expired or was revoked, or the client id or secret is wrong; authorize vulnbridge again and store the new refresh token"
                )));
            }
            Err(e) => return Err(e),
        };
        let expires_at = Utc::now() + TimeDelta::seconds(answer.expires_in.unwrap_or(1800).clamp(60, 86_400 * 30));
        Ok(OAuthState {
            access_token: Some(SecretString::from(answer.access_token)),
            expires_at: Some(expires_at),
            // Rotating refresh tokens come back new; others stay as they were.
            refresh_token: answer.refresh_token.map(SecretString::from).unwrap_or_else(|| refresh_token.clone()),
        })
    }
}

/// Tokens kept in memory only: for tests, and for a one-off check before an instance is saved.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<OAuthState>,
}

impl MemoryStore {
    pub fn new(refresh_token: SecretString) -> MemoryStore {
        MemoryStore { state: Mutex::new(OAuthState { access_token: None, expires_at: None, refresh_token }) }
    }

    /// The refresh token now stored (after rotations).
    pub fn refresh_token(&self) -> SecretString {
        self.state.lock().expect("oauth memory store").refresh_token.clone()
    }
}

#[async_trait]
impl OAuthStore for MemoryStore {
    async fn load(&self) -> Result<OAuthState, TrackerError> {
        Ok(self.state.lock().expect("oauth memory store").clone())
    }

    async fn replace(&self, previous: &SecretString, new: &OAuthState) -> Result<bool, TrackerError> {
        let mut s = self.state.lock().expect("oauth memory store");
        if s.refresh_token.expose_secret() != previous.expose_secret() {
            return Ok(false);
        }
        *s = new.clone();
        Ok(true)
    }
}
