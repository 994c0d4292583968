//! Scanner API clients, one per connector and process (kept while the connector is unchanged),
//! each with a rate limiter. On PostgreSQL it is the one trackers use (`crate::limits`): the
//! tool's budget is counted in the database, so a Check connection in the web process and a
//! Sync in a worker share it, and a tool's "stop until" (Retry-After) pauses every process's
//! requests to it. On SQLite (one process) it is kept in memory (see `build`). Pulls wait in
//! place for the budget rather than giving up.

use crate::App;
use crate::limits::{DbLimiter, Patience};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ConnectorId;
use domain::connector::Connector;
use outbound::{CallError, Limiter, RateInfo, RequestClass};
use scanners::connectors::{ScannerApi, Setup};
use secrets::{ExposeSecret, SecretString};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The purpose a connector's sealed secrets are bound to.
pub const SECRETS_PURPOSE: &str = "connector-secrets";

type Cached = (DateTime<Utc>, Arc<dyn ScannerApi>);

#[derive(Default)]
pub struct ScannerClients {
    cache: Mutex<HashMap<ConnectorId, Cached>>,
}

impl std::fmt::Debug for ScannerClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScannerClients").finish_non_exhaustive()
    }
}

impl ScannerClients {
    pub async fn get(&self, app: &App, connector: &Connector) -> anyhow::Result<Arc<dyn ScannerApi>> {
        if let Some((stamp, client)) = self.cache.lock().expect("scanner client cache").get(&connector.id)
            && *stamp == connector.updated_at
        {
            return Ok(client.clone());
        }
        let client = build(app, connector).await?;
        self.cache.lock().expect("scanner client cache").insert(connector.id, (connector.updated_at, client.clone()));
        Ok(client)
    }
}

/// Opens a connector's secrets.
pub fn open_secrets(app: &App, sealed: &secrets::Sealed) -> anyhow::Result<BTreeMap<String, SecretString>> {
    let json = app.cipher().open(SECRETS_PURPOSE, sealed).map_err(|e| anyhow::anyhow!("the connector's secrets cannot be opened: {e}"))?;
    let map: BTreeMap<String, String> = serde_json::from_str(json.expose_secret())
        .map_err(|_| anyhow::anyhow!("the connector's stored secrets are not readable by this version"))?;
    Ok(map.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect())
}

/// Builds a connector's client.
pub async fn build(app: &App, connector: &Connector) -> anyhow::Result<Arc<dyn ScannerApi>> {
    let mut c = app.db().conn().await?;
    let sealed = store::connectors::secrets(&mut c, connector.id).await?;
    drop(c);
    let setup = Setup {
        tool: connector.tool,
        location: url::Url::parse(&connector.location).map_err(|e| anyhow::anyhow!("the connector's location '{}' is not a URL: {e}", connector.location))?,
        secrets: open_secrets(app, &sealed)?,
        options: connector.settings.options.clone(),
    };
    let budgets = scanners::connectors::budgets(connector.tool);
    let limiter: Arc<dyn Limiter> = match app.db().backend() {
        // Shared through the database: every process pulling from this connector's tool
        // counts against one budget, and waits in place when it is spent.
        store::Backend::Postgres => {
            Arc::new(DbLimiter { db: app.db().clone(), owner: connector.id.into(), budgets, patience: Patience::Wait })
        }
        // SQLite has one writer, and a Sync holds its write transaction while it pulls (the
        // findings stream into the import): a budget counted in the database would wait on
        // it. A SQLite installation is one process, so the budget is kept in memory there.
        store::Backend::Sqlite => Arc::new(ProcessLimiter::new(budgets)),
    };
    Ok(scanners::connectors::client(setup, limiter, &app.settings().outbound)?)
}

/// A sliding-window limiter kept in this process.
pub struct ProcessLimiter {
    budgets: Vec<(outbound::Budget, Mutex<VecDeque<Instant>>)>,
    blocked_until: Mutex<Option<Instant>>,
}

impl ProcessLimiter {
    pub fn new(budgets: Vec<outbound::Budget>) -> ProcessLimiter {
        ProcessLimiter { budgets: budgets.into_iter().map(|b| (b, Mutex::new(VecDeque::new()))).collect(), blocked_until: Mutex::new(None) }
    }

    /// How long to wait before a request of `class` may go (zero: now, and it is counted).
    fn try_take(&self, class: RequestClass, now: Instant) -> Duration {
        if let Some(until) = *self.blocked_until.lock().expect("limiter")
            && until > now
        {
            return until - now;
        }
        let mut wait = Duration::ZERO;
        for (b, events) in &self.budgets {
            if !b.classes.contains(&class) {
                continue;
            }
            let mut ev = events.lock().expect("limiter");
            while ev.front().is_some_and(|t| now.duration_since(*t) >= b.per) {
                ev.pop_front();
            }
            if ev.len() as u32 >= b.limit
                && let Some(oldest) = ev.front()
            {
                wait = wait.max(b.per.saturating_sub(now.duration_since(*oldest)));
            }
        }
        if wait.is_zero() {
            for (b, events) in &self.budgets {
                if b.classes.contains(&class) {
                    events.lock().expect("limiter").push_back(now);
                }
            }
        }
        wait
    }
}

#[async_trait]
impl Limiter for ProcessLimiter {
    async fn acquire(&self, class: RequestClass) -> Result<(), CallError> {
        loop {
            let wait = self.try_take(class, Instant::now());
            if wait.is_zero() {
                return Ok(());
            }
            // Pulls are long operations already: waiting in place keeps their pages in order.
            tokio::time::sleep(wait.min(Duration::from_secs(300))).await;
        }
    }

    async fn observe(&self, _class: RequestClass, info: &RateInfo) {
        let now = Utc::now();
        if let Some(until) = info.blocked_until(now)
            && let Ok(d) = (until - now).to_std()
        {
            let at = Instant::now() + d.min(Duration::from_secs(3600));
            let mut b = self.blocked_until.lock().expect("limiter");
            if b.is_none_or(|x| x < at) {
                *b = Some(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_limit_in_any_window() {
        let l = ProcessLimiter::new(vec![outbound::Budget { name: "s", classes: outbound::limit::ALL, limit: 2, per: Duration::from_secs(10) }]);
        let t0 = Instant::now();
        assert!(l.try_take(RequestClass::Read, t0).is_zero());
        assert!(l.try_take(RequestClass::Read, t0).is_zero());
        assert_eq!(l.try_take(RequestClass::Read, t0 + Duration::from_secs(4)), Duration::from_secs(6));
        assert!(l.try_take(RequestClass::Read, t0 + Duration::from_secs(10)).is_zero());
    }
}
