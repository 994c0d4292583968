//! The rate limiter tracker and connector clients call before every request: the owner's
//! documented budgets (`outbound::Budget`), counted in the database (`store::rate_limits`) so
//! that every process calling one tracker instance or one scanner together stays under them,
//! and a service's "wait" (Retry-After, nothing remaining) holds every process.

use async_trait::async_trait;
use chrono::TimeDelta;
use outbound::{Budget, CallError, Limiter, RateInfo, RequestClass};
use std::time::Duration;
use store::rate_limits::{self, Bucket, Owner};

/// What a caller does when the budget is spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patience {
    /// Waits in place when the budget frees up within this long; otherwise gives the request
    /// up (`CallError::RateLimited`) so that the job goes back to the queue until then (a push
    /// job's worker slot should not sleep for minutes).
    GiveUpAfter(Duration),
    /// Always waits in place: a pull is one long operation, and waiting keeps its pages in
    /// order.
    Wait,
}

/// The longest single sleep of a waiting caller; it then looks at the budget again (a block
/// may have been lifted, or lengthened, by another process).
const LONGEST_SLEEP: Duration = Duration::from_secs(300);

/// The limiter of one owner, over the shared budgets in the database.
pub struct DbLimiter {
    pub db: store::Db,
    pub owner: Owner,
    pub budgets: Vec<Budget>,
    pub patience: Patience,
}

/// A budget as the store counts it.
pub fn bucket(b: &Budget) -> Bucket {
    Bucket { name: b.name.to_owned(), limit: b.limit, per: TimeDelta::from_std(b.per).unwrap_or(TimeDelta::hours(1)) }
}

impl DbLimiter {
    fn buckets(&self, class: RequestClass) -> Vec<Bucket> {
        self.budgets.iter().filter(|b| b.classes.contains(&class)).map(bucket).collect()
    }

    /// What is called, in words: the tracker or the scanner.
    fn service(&self) -> &'static str {
        match self.owner {
            Owner::Instance(_) => "tracker",
            Owner::Connector(_) => "scanner",
        }
    }

    fn describe(&self, class: RequestClass) -> String {
        let parts: Vec<String> =
            self.budgets.iter().filter(|b| b.classes.contains(&class)).map(|b| format!("{} {}", b.limit, per_words(b.per))).collect();
        let whose = match self.owner {
            Owner::Instance(_) => "instance",
            Owner::Connector(_) => "connector",
        };
        format!("the {whose}'s {} budget ({}) is spent", class.as_str(), parts.join(", "))
    }
}

/// `an hour`, `a minute`, `a second`, or `per 2.5 s`.
fn per_words(d: Duration) -> String {
    match (d.as_secs(), d.subsec_nanos()) {
        (3600, 0) => "an hour".into(),
        (60, 0) => "a minute".into(),
        (1, 0) => "a second".into(),
        _ => format!("per {:.1} s", d.as_secs_f64()),
    }
}

#[async_trait]
impl Limiter for DbLimiter {
    async fn acquire(&self, class: RequestClass) -> Result<(), CallError> {
        let buckets = self.buckets(class);
        loop {
            let now = store::now();
            let outcome = rate_limits::acquire(&self.db, self.owner, &buckets, now)
                .await
                .map_err(|e| CallError::Transient(format!("cannot read the rate budget: {e}")))?;
            let until = match outcome {
                Ok(()) => return Ok(()),
                Err(until) => until,
            };
            let wait = (until - now).to_std().unwrap_or_default();
            match self.patience {
                Patience::GiveUpAfter(max) if wait > max => {
                    let reason = match rate_limits::blocked(&self.db, self.owner, now).await {
                        Ok(Some((_, why))) => format!("the {} asked to wait: {why}", self.service()),
                        _ => self.describe(class),
                    };
                    return Err(CallError::RateLimited { until: Some(until), reason });
                }
                _ => tokio::time::sleep(wait.clamp(Duration::from_millis(5), LONGEST_SLEEP)).await,
            }
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
            if let Err(e) = rate_limits::block(&self.db, self.owner, until, &reason).await {
                tracing::warn!(owner = %self.owner, error = %e, "Cannot record a rate-limit block.");
            }
        }
    }
}
