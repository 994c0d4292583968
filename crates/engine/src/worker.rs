//! Runs background jobs from the jobs table.
//!
//! A job is a typed struct implementing [`Job`]; its fields are the JSON payload. A
//! [`Registry`] maps each `KIND` to the code that runs it, and a [`Worker`] claims jobs in
//! batches, runs up to `concurrency` at once, renews their leases while they run, and records
//! the outcome: done, retry later (with exponential backoff and jitter, or the delay the job
//! asked for, e.g. a tracker's Retry-After), or dead.
//!
//! Several workers (threads of one `serve`, or separate `worker` processes on one PostgreSQL)
//! share the queue safely: the store's claim gives each job to one worker, and a worker that
//! loses its lease (it stalled past the lease) abandons the job rather than run it twice.

use crate::App;
use chrono::TimeDelta;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use store::jobs::{self, FailOutcome, NewJob};
use store::{AsConn, now};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

/// How a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth trying again: after `after` if given (e.g. a Retry-After), else after backoff.
    #[error("{reason}")]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Trying again cannot help (bad credentials, a deleted target): the job goes dead.
    #[error("{0}")]
    Permanent(String),
    /// Not a failure: the job must wait (a rate budget is spent, another job holds what it
    /// needs) and runs again at `until` without counting an attempt.
    #[error("deferred until {until}: {reason}")]
    Defer {
        reason: String,
        until: chrono::DateTime<chrono::Utc>,
    },
}

impl JobError {
    pub fn retry(reason: impl Into<String>) -> Self {
        JobError::Retry {
            reason: reason.into(),
            after: None,
        }
    }
    pub fn permanent(reason: impl Into<String>) -> Self {
        JobError::Permanent(reason.into())
    }
}

/// Unexpected errors (a database hiccup) are retried.
impl From<anyhow::Error> for JobError {
    fn from(e: anyhow::Error) -> Self {
        JobError::retry(format!("{e:#}"))
    }
}

impl From<store::StoreError> for JobError {
    fn from(e: store::StoreError) -> Self {
        JobError::retry(e.to_string())
    }
}

/// Which job is running: its id (jobs that hold other rows while they run name themselves by
/// it) and its attempt.
#[derive(Clone, Copy, Debug)]
pub struct JobContext {
    pub id: domain::JobId,
    /// 1 on the first run.
    pub attempt: i32,
    pub max_attempts: i32,
}

impl JobContext {
    /// Whether a failure now would be the last one (the job goes dead instead of retrying).
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}

/// A kind of background work. The struct is the payload; `run` does the work.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stored in the `kind` column; never rename one that may still be queued.
    const KIND: &'static str;
    const QUEUE: &'static str = "default";
    const MAX_ATTEMPTS: i32 = 10;
    const PRIORITY: i16 = 0;

    /// While a job with this key is queued, enqueueing another is a no-op.
    fn dedupe_key(&self) -> Option<String> {
        None
    }

    fn run(self, app: &App, ctx: JobContext) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// The queue row of a job: its payload, queue, attempts, priority and dedupe key.
pub fn new_job<J: Job>(job: &J) -> NewJob {
    // Serialising a plain payload struct cannot fail; a `null` payload would make the job
    // fail visibly ("payload is not readable") rather than vanish.
    let payload = serde_json::to_value(job).unwrap_or_default();
    let mut new = NewJob::new(J::KIND, payload)
        .queue(J::QUEUE)
        .max_attempts(J::MAX_ATTEMPTS)
        .priority(J::PRIORITY);
    if let Some(key) = job.dedupe_key() {
        new = new.dedupe(key);
    }
    new
}

/// Enqueues a job on the caller's connection or transaction (commit it with the change that
/// needs the job, so neither exists without the other).
pub async fn enqueue<J: Job>(
    c: &mut impl AsConn,
    job: &J,
) -> Result<Option<domain::JobId>, store::StoreError> {
    jobs::enqueue(c, new_job(job)).await
}

type Handler = Arc<
    dyn Fn(serde_json::Value, App, JobContext) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync,
>;

/// Which code runs which job kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
    queues: Vec<&'static str>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register<J: Job>(mut self) -> Self {
        let handler: Handler = Arc::new(|payload, app, ctx| {
            async move {
                let job: J = serde_json::from_value(payload).map_err(|e| {
                    JobError::permanent(format!("the {} payload is not readable: {e}", J::KIND))
                })?;
                job.run(&app, ctx).await
            }
            .boxed()
        });
        self.handlers.insert(J::KIND, handler);
        if !self.queues.contains(&J::QUEUE) {
            self.queues.push(J::QUEUE);
        }
        self
    }

    /// The queues the registered jobs use: what a worker claims from.
    pub fn queues(&self) -> &[&'static str] {
        &self.queues
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort();
        k
    }
}

#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Shown in `locked_by`; unique per worker (host, process, random suffix).
    pub name: String,
    /// Jobs run at once.
    pub concurrency: usize,
    /// How long a claim lasts before another worker may take the job; renewed every third.
    pub lease: Duration,
    /// How often to look for due jobs when not woken.
    pub poll_interval: Duration,
    /// First retry delay; doubles per attempt, with jitter, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// On shutdown, how long running jobs may take to finish before they are released.
    pub shutdown_grace: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            name: default_worker_name(),
            concurrency: 4,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

fn default_worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into());
    format!("{host}:{}:{:04x}", std::process::id(), rand::random::<u16>())
}

/// The delay before retry `attempt` (1-based): base × 2^(attempt−1), capped, then scaled by a
/// random factor in [0.5, 1] so that jobs failing together do not retry together.
pub fn backoff(attempt: i32, base: Duration, max: Duration) -> Duration {
    let exp = attempt.saturating_sub(1).clamp(0, 30) as u32;
    let raw = base.saturating_mul(2u32.saturating_pow(exp)).min(max);
    raw.mul_f64(0.5 + rand::random::<f64>() * 0.5)
}

pub struct Worker {
    app: App,
    registry: Registry,
    opts: WorkerOptions,
    wake: Arc<Notify>,
}

impl Worker {
    pub fn new(app: App, registry: Registry, opts: WorkerOptions) -> Self {
        Worker {
            app,
            registry,
            opts,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Notify this to make the worker look for jobs now (after an in-process enqueue).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `shutdown` turns true, then lets running jobs finish (up to the grace
    /// period) and gives back the rest.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let queues: Vec<&str> = self.registry.queues.clone();
        tracing::info!(worker = %self.opts.name, ?queues, kinds = ?self.registry.kinds(), "Worker started.");
        let mut running: JoinSet<()> = JoinSet::new();
        let mut claim_failures = 0u32;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let free = self.opts.concurrency.saturating_sub(running.len());
            let mut claimed_any = false;
            if free > 0 {
                match jobs::claim(
                    self.app.db(),
                    &self.opts.name,
                    &queues,
                    free as i64,
                    lease_delta(self.opts.lease),
                    now(),
                )
                .await
                {
                    Ok(batch) => {
                        claim_failures = 0;
                        claimed_any = !batch.is_empty();
                        for job in batch {
                            running.spawn(self.run_one(job, shutdown.clone()));
                        }
                    }
                    Err(e) => {
                        claim_failures += 1;
                        tracing::warn!(error = %e, "Cannot claim jobs; retrying.");
                    }
                }
            }
            if claimed_any && running.len() < self.opts.concurrency {
                // There may be more due right now.
                continue;
            }
            let idle = if claim_failures > 0 {
                backoff(claim_failures as i32, Duration::from_secs(1), Duration::from_secs(30))
            } else {
                self.opts.poll_interval
            };
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(running = running.len(), "Worker stopping; letting running jobs finish.");
        let grace = tokio::time::sleep(self.opts.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                next = running.join_next() => if next.is_none() { break },
                _ = &mut grace => {
                    // Each job task sees the shutdown flag and releases its job.
                    running.shutdown().await;
                    break;
                }
            }
        }
        tracing::info!("Worker stopped.");
    }

    /// Runs one claimed job with its lease renewed, then records the outcome.
    fn run_one(
        &self,
        job: jobs::Job,
        mut shutdown: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let app = self.app.clone();
        let handler = self.registry.handlers.get(job.kind.as_str()).cloned();
        let opts = self.opts.clone();
        let span = tracing::info_span!("job", job.id = %job.id, job.kind = %job.kind, attempt = job.attempts);
        async move {
            let db = app.db().clone();
            let Some(handler) = handler else {
                let reason = format!("no handler for job kind '{}' in this version of vulnbridge", job.kind);
                let _ = jobs::fail(&db, job.id, &opts.name, &reason, None).await;
                tracing::error!("{reason}");
                return;
            };
            let started = std::time::Instant::now();
            // The job runs in its own task so that a panic is caught as a JoinError.
            let ctx = JobContext { id: job.id, attempt: job.attempts, max_attempts: job.max_attempts };
            let mut task = tokio::spawn(handler(job.payload.clone(), app.clone(), ctx));
            let mut renew = tokio::time::interval(opts.lease / 3);
            renew.tick().await;
            let result = loop {
                tokio::select! {
                    r = &mut task => break Some(r),
                    _ = renew.tick() => {
                        match jobs::heartbeat(&db, job.id, &opts.name, lease_delta(opts.lease), now()).await {
                            Ok(true) => {}
                            Ok(false) => {
                                tracing::warn!("Lease lost (another worker took the job); abandoning it.");
                                task.abort();
                                return;
                            }
                            Err(e) => tracing::warn!(error = %e, "Cannot renew the lease; will retry."),
                        }
                    }
                    _ = shutdown.changed() => {
                        if *shutdown.borrow() && started.elapsed() > opts.shutdown_grace {
                            task.abort();
                            break None;
                        }
                    }
                }
            };
            let elapsed = started.elapsed();
            metrics::histogram!("vulnbridge_job_duration_seconds", "kind" => job.kind.clone())
                .record(elapsed.as_secs_f64());
            let outcome = match result {
                None => {
                    let _ = jobs::release(&db, job.id, &opts.name).await;
                    "released"
                }
                Some(Ok(Ok(()))) => match jobs::complete(&db, job.id, &opts.name).await {
                    Ok(true) => "done",
                    Ok(false) => "lease_lost",
                    Err(e) => {
                        tracing::error!(error = %e, "Job succeeded but cannot be marked done; it will run again after its lease.");
                        "unrecorded"
                    }
                },
                Some(Ok(Err(err))) => record_failure(&db, &job, &opts, err).await,
                Some(Err(join)) => {
                    let reason = if join.is_panic() {
                        "the job panicked (a bug; see the log)".to_owned()
                    } else {
                        "the job was cancelled".to_owned()
                    };
                    record_failure(&db, &job, &opts, JobError::retry(reason)).await
                }
            };
            metrics::counter!("vulnbridge_jobs_total", "kind" => job.kind.clone(), "outcome" => outcome).increment(1);
            tracing::debug!(outcome, elapsed_ms = elapsed.as_millis() as u64, "Job finished.");
        }
        .instrument(span)
    }
}

async fn record_failure(db: &store::Db, job: &jobs::Job, opts: &WorkerOptions, err: JobError) -> &'static str {
    if let JobError::Defer { reason, until } = &err {
        return match jobs::defer(db, job.id, &opts.name, *until, reason).await {
            Ok(true) => {
                tracing::debug!(%reason, until = %until, "Job deferred.");
                "deferred"
            }
            Ok(false) => "lease_lost",
            Err(e) => {
                tracing::error!(error = %e, %reason, "Cannot defer a job.");
                "unrecorded"
            }
        };
    }
    let (reason, retry_at) = match &err {
        JobError::Retry { reason, after } => {
            let delay = after.unwrap_or_else(|| backoff(job.attempts, opts.base_backoff, opts.max_backoff));
            (reason.clone(), Some(now() + lease_delta(delay)))
        }
        JobError::Permanent(reason) => (reason.clone(), None),
        JobError::Defer { .. } => unreachable!("handled above"),
    };
    match jobs::fail(db, job.id, &opts.name, &reason, retry_at).await {
        Ok(FailOutcome::Retrying(at)) => {
            tracing::warn!(%reason, retry_at = %at, "Job failed; will retry.");
            "retrying"
        }
        Ok(FailOutcome::Dead) => {
            tracing::error!(%reason, attempts = job.attempts, "Job failed for good; it is dead until retried by hand.");
            "dead"
        }
        Ok(FailOutcome::Superseded) => "superseded",
        Ok(FailOutcome::LeaseLost) => "lease_lost",
        Err(e) => {
            tracing::error!(error = %e, %reason, "Cannot record a job failure.");
            "unrecorded"
        }
    }
}

fn lease_delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::seconds(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(60);
        for _ in 0..100 {
            let b1 = backoff(1, base, max);
            assert!(b1 >= Duration::from_millis(2500) && b1 <= base, "{b1:?}");
            let b3 = backoff(3, base, max);
            assert!(b3 >= Duration::from_secs(10) && b3 <= Duration::from_secs(20), "{b3:?}");
            assert!(backoff(30, base, max) <= max);
            assert!(backoff(i32::MAX, base, max) <= max);
        }
    }
}
