//! Tracker clients, one per instance and process, kept while the instance is unchanged (they
//! cache ids they looked up: a project's fields, its options), and the rate limiter they call
//! before every request: the instance's budgets, kept in the database so that every process
//! pushing to one instance shares them.

use super::credentials;
use crate::App;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use domain::tracker::{Instance, RateLimitOverride};
use domain::InstanceId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::rate_limits::{self, Bucket};
use trackers::limit::{Budget, budgets};
use trackers::{Limiter, RateInfo, RequestClass, Tracker, TrackerError};

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
    let creds = credentials::open(app.cipher(), &sealed)?;
    let location = url::Url::parse(&instance.location)
        .map_err(|e| anyhow::anyhow!("the instance's location '{}' is not a URL: {e}", instance.location))?;
    let limiter = Arc::new(DbLimiter {
        db: app.db().clone(),
        instance: instance.id,
        budgets: instance_budgets(instance),
    });
    let conn = trackers::Connection { vendor: instance.vendor, location, credentials: creds };
    Ok(trackers::client(conn, limiter, &app.settings().outbound)?)
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

fn bucket(b: &Budget) -> Bucket {
    Bucket {
        name: b.name.to_owned(),
        limit: b.limit,
        per: TimeDelta::from_std(b.per).unwrap_or(TimeDelta::hours(1)),
    }
}

/// The limiter of one instance, over the shared budgets in the database.
pub struct DbLimiter {
    pub db: store::Db,
    pub instance: InstanceId,
    pub budgets: Vec<Budget>,
}

impl DbLimiter {
    fn buckets(&self, class: RequestClass) -> Vec<Bucket> {
        self.budgets.iter().filter(|b| b.classes.contains(&class)).map(bucket).collect()
    }

    fn describe(&self, class: RequestClass) -> String {
        let parts: Vec<String> = self
            .budgets
            .iter()
            .filter(|b| b.classes.contains(&class))
            .map(|b| format!("{} a {}", b.limit, per_words(b.per)))
            .collect();
        format!("the instance's {} budget ({}) is spent", class.as_str(), parts.join(", "))
    }
}

fn per_words(d: Duration) -> String {
    match d.as_secs() {
        3600 => "hour".into(),
        60 => "minute".into(),
        1 => "second".into(),
        _ => format!("{:.1} s", d.as_secs_f64()),
    }
}

#[async_trait]
impl Limiter for DbLimiter {
    async fn acquire(&self, class: RequestClass) -> Result<(), TrackerError> {
        let buckets = self.buckets(class);
        loop {
            let now = store::now();
            let outcome = rate_limits::acquire(&self.db, self.instance, &buckets, now)
                .await
                .map_err(|e| TrackerError::Transient(format!("cannot read the rate budget: {e}")))?;
            let until = match outcome {
                Ok(()) => return Ok(()),
                Err(until) => until,
            };
            let wait = (until - now).to_std().unwrap_or_default();
            if wait > WAIT_IN_PLACE {
                let reason = match rate_limits::blocked(&self.db, self.instance, now).await {
                    Ok(Some((_, why))) => format!("the tracker asked to wait: {why}"),
                    _ => self.describe(class),
                };
                return Err(TrackerError::RateLimited { until: Some(until), reason });
            }
            tokio::time::sleep(wait.max(Duration::from_millis(5))).await;
        }
    }

    async fn observe(&self, _class: RequestClass, info: &RateInfo) {
        let now = store::now();
        if let Some(until) = info.blocked_until(now) {
            let reason = match (info.retry_after, info.remaining) {
                (Some(after), _) => format!("Retry-After {} s", after.as_secs()),
                (None, Some(0)) => format!("no requests remaining until {}", until.format("%H:%M:%S UTC")),
                _ => "rate limited".to_owned(),
            };
            if let Err(e) = rate_limits::block(&self.db, self.instance, until, &reason).await {
                tracing::warn!(instance = %self.instance, error = %e, "Cannot record a tracker's rate-limit block.");
            }
        }
    }
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
