//! Tracker clients, one per instance and process, kept while the instance is unchanged (they
//! cache ids they looked up: a project's fields, its options), and the rate limiter they call
//! before every request: the instance's budgets, kept in the database so that every process
//! pushing to one instance shares them.

use super::credentials::{self, Stored};
use crate::App;
use domain::tracker::Vendor;
use secrets::{ExposeSecret, SecretString};
use trackers::oauth::{OAuth, OAuthSession, OAuthState, OAuthStore, TokenRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::tracker::{Instance, RateLimitOverride};
use domain::InstanceId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use crate::limits::{DbLimiter, Patience};
use trackers::limit::{Budget, budgets};
use trackers::{Tracker, TrackerError};

/// A spent budget that frees up within this long is waited for in place; a longer wait gives
/// the job back to the queue until then (a worker slot should not sleep for minutes).
const WAIT_IN_PLACE: Duration = Duration::from_secs(3);

/// A client, and the instance's `updated_at` it was built for.
type Cached = (DateTime<Utc>, Arc<dyn Tracker>);

#[derive(Default)]
pub struct TrackerClients {
    cache: Mutex<HashMap<InstanceId, Cached>>,
}

impl std::fmt::Debug for TrackerClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackerClients").finish_non_exhaustive()
    }
}

impl TrackerClients {
    /// The client of an instance (built on first use, or again after the instance changed).
    pub async fn get(&self, app: &App, instance: &Instance) -> anyhow::Result<Arc<dyn Tracker>> {
        if let Some((stamp, client)) = self.cache.lock().expect("client cache").get(&instance.id)
            && *stamp == instance.updated_at
        {
            return Ok(client.clone());
        }
        let client = build(app, instance).await?;
        self.cache
            .lock()
            .expect("client cache")
            .insert(instance.id, (instance.updated_at, client.clone()));
        Ok(client)
    }
}

/// Builds a client with the instance's budgets.
pub async fn build(app: &App, instance: &Instance) -> anyhow::Result<Arc<dyn Tracker>> {
    let mut c = app.db().conn().await?;
    let (sealed, _) = store::instances::secrets(&mut c, instance.id).await?;
    drop(c);
    let location = url::Url::parse(&instance.location)
        .map_err(|e| anyhow::anyhow!("the instance's location '{}' is not a URL: {e}", instance.location))?;
    let creds = match credentials::open_stored(app.cipher(), &sealed)? {
        Stored::Token { token } => trackers::Credentials::Token(SecretString::from(token)),
        Stored::Basic { username, password } => trackers::Credentials::Basic { username, password: SecretString::from(password) },
        Stored::OAuth { client_id, client_secret, token_url, .. } => {
            let (token_url, request) = token_endpoint(instance, &location, token_url.as_deref())?;
            let store = Arc::new(InstanceTokens { app: app.clone(), instance: instance.id });
            let oauth = OAuth { client_id, client_secret: SecretString::from(client_secret), token_url, request, store };
            trackers::Credentials::OAuth(Arc::new(OAuthSession::new(oauth)))
        }
    };
    let limiter = Arc::new(DbLimiter {
        db: app.db().clone(),
        owner: instance.id.into(),
        budgets: instance_budgets(instance),
        patience: Patience::GiveUpAfter(WAIT_IN_PLACE),
    });
    let conn = trackers::Connection { vendor: instance.vendor, location, credentials: creds };
    Ok(trackers::client(conn, limiter, &app.settings().outbound)?)
}

/// Where an instance's OAuth tokens are refreshed, and how the endpoint takes its parameters.
fn token_endpoint(instance: &Instance, location: &url::Url, given: Option<&str>) -> anyhow::Result<(url::Url, TokenRequest)> {
    let parse = |u: &str| url::Url::parse(u).map_err(|e| anyhow::anyhow!("the OAuth token URL '{u}' is not a URL: {e}"));
    if let Some(u) = given {
        let url = parse(u)?;
        let request = if url.host_str() == Some("auth.atlassian.com") { TokenRequest::Json } else { TokenRequest::Form };
        return Ok((url, request));
    }
    let base = location.as_str().trim_end_matches('/');
    Ok(match instance.vendor {
        Vendor::Jira if location.host_str().is_some_and(|h| h.ends_with(".atlassian.net")) => {
            (parse("https://auth.atlassian.com/oauth/token")?, TokenRequest::Json)
        }
        Vendor::Jira => (parse(&format!("{base}/rest/oauth2/latest/token"))?, TokenRequest::Form),
        Vendor::ServiceNow => (parse(&format!("{base}/oauth_token.do"))?, TokenRequest::Form),
        other => anyhow::bail!("{} instances do not use OAuth", other.label()),
    })
}

/// An instance's OAuth tokens, kept current in its sealed credentials so that every process
/// uses (and rotates) the same ones.
struct InstanceTokens {
    app: App,
    instance: InstanceId,
}

fn internal(e: impl std::fmt::Display) -> TrackerError {
    TrackerError::Transient(format!("the stored OAuth tokens: {e}"))
}

#[async_trait]
impl OAuthStore for InstanceTokens {
    async fn load(&self) -> Result<OAuthState, TrackerError> {
        let mut c = self.app.db().conn().await.map_err(internal)?;
        let (sealed, _) = store::instances::secrets(&mut c, self.instance).await.map_err(internal)?;
        match credentials::open_stored(self.app.cipher(), &sealed).map_err(internal)? {
            Stored::OAuth { refresh_token, access_token, expires_at, .. } => Ok(OAuthState {
                access_token: access_token.map(SecretString::from),
                expires_at,
                refresh_token: SecretString::from(refresh_token),
            }),
            _ => Err(TrackerError::Misconfigured("the instance's credentials are no longer OAuth".into())),
        }
    }

    async fn replace(&self, previous: &SecretString, new: &OAuthState) -> Result<bool, TrackerError> {
        let mut tx = self.app.db().begin().await.map_err(internal)?;
        let sealed = store::instances::credentials_for_update(&mut tx, self.instance).await.map_err(internal)?;
        let Stored::OAuth { client_id, client_secret, refresh_token, token_url, .. } =
            credentials::open_stored(self.app.cipher(), &sealed).map_err(internal)?
        else {
            return Err(TrackerError::Misconfigured("the instance's credentials are no longer OAuth".into()));
        };
        if refresh_token != previous.expose_secret() {
            return Ok(false);
        }
        let updated = Stored::OAuth {
            client_id,
            client_secret,
            refresh_token: new.refresh_token.expose_secret().to_owned(),
            token_url,
            access_token: new.access_token.as_ref().map(|t| t.expose_secret().to_owned()),
            expires_at: new.expires_at,
        };
        store::instances::set_credentials(&mut tx, self.instance, &credentials::seal_stored(self.app.cipher(), &updated))
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(true)
    }
}

/// The vendor's documented budgets, with the instance's overrides applied by bucket name.
pub fn instance_budgets(instance: &Instance) -> Vec<Budget> {
    apply_overrides(budgets(instance.vendor), &instance.settings.rate_limits)
}

fn apply_overrides(mut budgets: Vec<Budget>, overrides: &[RateLimitOverride]) -> Vec<Budget> {
    for o in overrides {
        if let Some(b) = budgets.iter_mut().find(|b| b.name == o.name) {
            b.limit = o.limit;
            b.per = Duration::from_secs_f64(o.per_seconds);
        }
    }
    budgets
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::tracker::Vendor;

    #[test]
    fn overrides_replace_named_buckets_only() {
        let b = apply_overrides(
            budgets(Vendor::GitHub),
            &[RateLimitOverride { name: "content-hour".into(), limit: 50, per_seconds: 36.0 }, RateLimitOverride { name: "nope".into(), limit: 1, per_seconds: 1.0 }],
        );
        let hour = b.iter().find(|b| b.name == "content-hour").unwrap();
        assert_eq!((hour.limit, hour.per), (50, Duration::from_secs(36)));
        let minute = b.iter().find(|b| b.name == "content-minute").unwrap();
        assert_eq!((minute.limit, minute.per), (80, Duration::from_secs(60)));
    }
}
