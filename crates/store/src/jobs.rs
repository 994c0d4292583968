//! The durable job queue every piece of background work runs on.
//!
//! A job is a row. Workers *claim* rows by setting a lease (`locked_by`, `locked_until`) in one
//! short statement, run the job with no transaction open, then `complete` or `fail` it with an
//! update guarded by their own lease. A worker that dies simply stops renewing its lease; once
//! the lease expires the job is claimable again (and counts an attempt). A job that keeps
//! failing, or keeps killing its worker, ends `dead` after `max_attempts` and waits for a
//! person to retry it.
//!
//! Claiming: PostgreSQL uses `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint rows
//! without waiting on each other. SQLite has one writer at a time; the claim runs inside
//! `BEGIN IMMEDIATE`, which serialises claimers.
//!
//! `enqueue` takes `&mut impl AsConn`: call it with the caller's transaction (the outbox
//! pattern), so a job exists if and only if the change that needs it was committed.

use crate::error::on_unique;
use crate::query::{PageRequest, QueryBuf};
use crate::repo::fetch_page;
use crate::{AsConn, Db, Page, Result, StoreError, on_conn};
use chrono::{DateTime, TimeDelta, Utc};
use domain::{JobId, ValidationError};
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<JobStatus> {
        [JobStatus::Queued, JobStatus::Running, JobStatus::Done, JobStatus::Dead]
            .into_iter()
            .find(|j| j.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: JobId,
    pub queue: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub dedupe_key: Option<String>,
    pub status: JobStatus,
    pub priority: i16,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    queue: String,
    kind: String,
    payload: Json<Value>,
    dedupe_key: Option<String>,
    status: String,
    priority: i16,
    attempts: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    locked_by: Option<String>,
    locked_until: Option<DateTime<Utc>>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for Job {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Job> {
        Ok(Job {
            id: JobId(r.id),
            status: JobStatus::parse(&r.status)
                .ok_or_else(|| StoreError::corrupt("jobs", format!("status = '{}'", r.status)))?,
            queue: r.queue,
            kind: r.kind,
            payload: r.payload.0,
            dedupe_key: r.dedupe_key,
            priority: r.priority,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            run_at: r.run_at,
            locked_by: r.locked_by,
            locked_until: r.locked_until,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
            finished_at: r.finished_at,
        })
    }
}

const COLUMNS: &str = "id, queue, kind, payload, dedupe_key, status, priority, attempts, max_attempts, \
    run_at, locked_by, locked_until, last_error, created_at, updated_at, finished_at";

/// A job to enqueue. `NewJob::new(kind, payload)` then adjust with the builder methods.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub queue: String,
    pub kind: String,
    pub payload: Value,
    /// While a queued job with this key exists, enqueueing another is a no-op.
    pub dedupe_key: Option<String>,
    /// Higher runs first.
    pub priority: i16,
    pub run_at: Option<DateTime<Utc>>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(kind: &str, payload: Value) -> Self {
        NewJob {
            queue: "default".to_owned(),
            kind: kind.to_owned(),
            payload,
            dedupe_key: None,
            priority: 0,
            run_at: None,
            max_attempts: 10,
        }
    }
    pub fn queue(mut self, q: &str) -> Self {
        self.queue = q.to_owned();
        self
    }
    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
    pub fn priority(mut self, p: i16) -> Self {
        self.priority = p;
        self
    }
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }
    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}

/// Enqueues a job on the caller's connection or transaction. `None` when a queued job with
/// the same dedupe key already exists.
pub async fn enqueue(c: &mut impl AsConn, job: NewJob) -> Result<Option<JobId>> {
    let t = crate::now();
    let id: Option<i64> = on_conn!(c, |conn| sqlx::query_scalar(
        "INSERT INTO jobs (queue, kind, payload, dedupe_key, status, priority, attempts, max_attempts, run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, $8, $8)
         ON CONFLICT (dedupe_key) WHERE status = 'queued' DO NOTHING
         RETURNING id"
    )
    .bind(&job.queue)
    .bind(&job.kind)
    .bind(Json(&job.payload))
    .bind(&job.dedupe_key)
    .bind(job.priority)
    .bind(job.max_attempts)
    .bind(job.run_at.unwrap_or(t))
    .bind(t)
    .fetch_optional(conn)
    .await)?;
    Ok(id.map(JobId))
}

/// Enqueues many jobs in few statements (an import linking thousands of findings). Jobs whose
/// dedupe key is already queued are skipped. Returns how many were queued.
pub async fn enqueue_many(c: &mut impl AsConn, mut jobs: Vec<NewJob>) -> Result<u64> {
    let t = crate::now();
    let mut keys = std::collections::HashSet::new();
    jobs.retain(|j| j.dedupe_key.as_ref().is_none_or(|k| keys.insert(k.clone())));
    let mut queued = 0;
    for chunk in jobs.chunks(500) {
        let mut q = QueryBuf::new(
            "INSERT INTO jobs (queue, kind, payload, dedupe_key, status, priority, attempts, max_attempts, run_at, created_at, updated_at) VALUES ",
        );
        for (i, job) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(").bind(job.queue.as_str()).push(", ").bind(job.kind.as_str()).push(", ").bind(job.payload.clone());
            q.push(", ").bind(job.dedupe_key.clone()).push(", 'queued', ").bind(job.priority).push(", 0, ").bind(job.max_attempts);
            q.push(", ").bind(job.run_at.unwrap_or(t)).push(", ").bind(t).push(", ").bind(t).push(")");
        }
        q.push(" ON CONFLICT (dedupe_key) WHERE status = 'queued' DO NOTHING");
        queued += q.execute(c).await?;
    }
    Ok(queued)
}

/// Claims up to `limit` runnable jobs from `queues` for `worker`, leasing them until
/// `now + lease`. Runnable: queued and due, or running with an expired lease (its worker
/// died). Jobs whose expired lease used their last attempt are marked dead instead.
pub async fn claim(
    db: &Db,
    worker: &str,
    queues: &[&str],
    limit: i64,
    lease: TimeDelta,
    now: DateTime<Utc>,
) -> Result<Vec<Job>> {
    if queues.is_empty() || limit < 1 {
        return Ok(Vec::new());
    }
    let mut tx = db.begin().await?;
    let mut bury = QueryBuf::new(
        "UPDATE jobs SET status = 'dead', locked_by = NULL, locked_until = NULL, finished_at = ",
    );
    bury.bind(now)
        .push(", updated_at = ")
        .bind(now)
        .push(", last_error = ")
        .bind("the worker running it stopped (lease expired) on its last attempt")
        .push(" WHERE status = 'running' AND locked_until < ")
        .bind(now)
        .push(" AND attempts >= max_attempts AND queue IN ")
        .bind_list(queues.iter().copied());
    bury.execute(&mut tx).await?;

    let mut q = QueryBuf::new("UPDATE jobs SET status = 'running', locked_by = ");
    q.bind(worker)
        .push(", locked_until = ")
        .bind(now + lease)
        .push(", attempts = attempts + 1, updated_at = ")
        .bind(now)
        .push(" WHERE id IN (SELECT id FROM jobs WHERE queue IN ")
        .bind_list(queues.iter().copied())
        .push(" AND ((status = 'queued' AND run_at <= ")
        .bind(now)
        .push(") OR (status = 'running' AND locked_until < ")
        .bind(now)
        .push(")) ORDER BY priority DESC, run_at, id LIMIT ")
        .bind(limit);
    if db.backend() == crate::Backend::Postgres {
        q.push(" FOR UPDATE SKIP LOCKED");
    }
    q.push(") RETURNING ").push(COLUMNS);
    let rows: Vec<Row> = q.fetch_all(&mut tx).await?;
    tx.commit().await?;
    let mut jobs = rows
        .into_iter()
        .map(Job::try_from)
        .collect::<Result<Vec<_>>>()?;
    jobs.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.run_at.cmp(&b.run_at))
            .then(a.id.cmp(&b.id))
    });
    Ok(jobs)
}

/// Extends a lease. `false` if the lease was lost (expired and taken by another worker):
/// the caller must stop working on the job.
pub async fn heartbeat(
    db: &Db,
    id: JobId,
    worker: &str,
    lease: TimeDelta,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut c = db.conn().await?;
    let n = on_conn!(&mut c, |conn| sqlx::query(
        "UPDATE jobs SET locked_until = $3, updated_at = $4
         WHERE id = $1 AND locked_by = $2 AND status = 'running'"
    )
    .bind(id.0)
    .bind(worker)
    .bind(now + lease)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Marks a job done. `false` if `worker` no longer holds it.
pub async fn complete(db: &Db, id: JobId, worker: &str) -> Result<bool> {
    let mut c = db.conn().await?;
    complete_on(&mut c, id, worker).await
}

/// `complete` on the caller's transaction: a job whose effects are database writes commits
/// them and its completion together.
pub async fn complete_on(c: &mut impl AsConn, id: JobId, worker: &str) -> Result<bool> {
    let t = crate::now();
    let n = on_conn!(c, |conn| sqlx::query(
        "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, finished_at = $3,
                updated_at = $3, last_error = NULL
         WHERE id = $1 AND locked_by = $2 AND status = 'running'"
    )
    .bind(id.0)
    .bind(worker)
    .bind(t)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOutcome {
    /// Queued again, to run at this time.
    Retrying(DateTime<Utc>),
    /// No attempts left, or the failure is permanent.
    Dead,
    /// Another worker holds the job now; nothing was changed.
    LeaseLost,
    /// A newer queued copy (same dedupe key) will do the work; this one is marked done.
    Superseded,
}

/// Records a failure. With `retry_at` and attempts left, the job is queued again; otherwise
/// it is dead.
pub async fn fail(
    db: &Db,
    id: JobId,
    worker: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<FailOutcome> {
    let t = crate::now();
    let error: String = error.chars().take(4000).collect();
    let mut tx = db.begin().await?;
    let held: Option<(i32, i32, Option<String>)> = on_conn!(&mut tx, |conn| sqlx::query_as(
        "SELECT attempts, max_attempts, dedupe_key FROM jobs
         WHERE id = $1 AND locked_by = $2 AND status = 'running'"
    )
    .bind(id.0)
    .bind(worker)
    .fetch_optional(conn)
    .await)?;
    let Some((attempts, max_attempts, dedupe_key)) = held else {
        return Ok(FailOutcome::LeaseLost);
    };
    let outcome = match retry_at {
        Some(at) if attempts < max_attempts => {
            let newer_queued = match &dedupe_key {
                Some(key) => on_conn!(&mut tx, |conn| sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM jobs WHERE dedupe_key = $1 AND status = 'queued'"
                )
                .bind(key)
                .fetch_one(conn)
                .await)? > 0,
                None => false,
            };
            if newer_queued {
                FailOutcome::Superseded
            } else {
                FailOutcome::Retrying(at)
            }
        }
        _ => FailOutcome::Dead,
    };
    let (status, run_at, finished) = match outcome {
        FailOutcome::Retrying(at) => ("queued", Some(at), None),
        FailOutcome::Superseded => ("done", None, Some(t)),
        _ => ("dead", None, Some(t)),
    };
    on_conn!(&mut tx, |conn| sqlx::query(
        "UPDATE jobs SET status = $2, run_at = COALESCE($3, run_at), finished_at = $4, last_error = $5,
                locked_by = NULL, locked_until = NULL, updated_at = $6
         WHERE id = $1"
    )
    .bind(id.0)
    .bind(status)
    .bind(run_at)
    .bind(finished)
    .bind(&error)
    .bind(t)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(outcome)
}

/// Puts a running job back in the queue to run at `run_at`, without counting the attempt: it
/// had to wait (a rate budget, a row another job holds), it did not fail. `false` if `worker`
/// no longer holds it.
pub async fn defer(db: &Db, id: JobId, worker: &str, run_at: DateTime<Utc>, reason: &str) -> Result<bool> {
    give_back(db, id, worker, Some(run_at), Some(reason)).await
}

/// Gives a job back without counting the attempt (a worker shutting down cleanly).
pub async fn release(db: &Db, id: JobId, worker: &str) -> Result<bool> {
    give_back(db, id, worker, None, None).await
}

/// Queues a running job again, uncounted; `run_at` and `note` replace the job's when given.
async fn give_back(db: &Db, id: JobId, worker: &str, run_at: Option<DateTime<Utc>>, note: Option<&str>) -> Result<bool> {
    let mut c = db.conn().await?;
    let t = crate::now();
    let note: Option<String> = note.map(|n| n.chars().take(4000).collect());
    let n = on_conn!(&mut c, |conn| sqlx::query(
        "UPDATE jobs SET status = 'queued', locked_by = NULL, locked_until = NULL,
                run_at = COALESCE($3, run_at), last_error = COALESCE($4, last_error),
                attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = $5
         WHERE id = $1 AND locked_by = $2 AND status = 'running'"
    )
    .bind(id.0)
    .bind(worker)
    .bind(run_at)
    .bind(&note)
    .bind(t)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()));
    match n {
        Ok(rows) => Ok(rows == 1),
        // An identical job was queued meanwhile: it will do the work.
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => complete(db, id, worker).await,
        Err(e) => Err(e.into()),
    }
}

/// Queues a dead job again with fresh attempts ("retry now").
pub async fn retry(c: &mut impl AsConn, id: JobId) -> Result<Job> {
    let t = crate::now();
    let row: Option<Row> = on_conn!(c, |conn| sqlx::query_as(
        "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $2, finished_at = NULL,
                locked_by = NULL, locked_until = NULL, updated_at = $2
         WHERE id = $1 AND status = 'dead'
         RETURNING id, queue, kind, payload, dedupe_key, status, priority, attempts, max_attempts,
                   run_at, locked_by, locked_until, last_error, created_at, updated_at, finished_at"
    )
    .bind(id.0)
    .bind(t)
    .fetch_optional(conn)
    .await)
    .map_err(on_unique("id", "an identical job is already queued"))?;
    match row {
        Some(r) => r.try_into(),
        None => {
            let job = get(c, id).await?;
            Err(StoreError::Invalid(ValidationError::new(
                "status",
                format!("job {id} is {}, only dead jobs can be retried", job.status.as_str()),
            )))
        }
    }
}

pub async fn get(c: &mut impl AsConn, id: JobId) -> Result<Job> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM jobs WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<Row>(c)
        .await?
        .ok_or_else(|| StoreError::not_found("job", id))?
        .try_into()
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<JobStatus>,
    pub kind: Option<String>,
    pub queue: Option<String>,
}

pub async fn list(c: &mut impl AsConn, filter: &Filter, page: PageRequest) -> Result<Page<Job>> {
    let (count, rows) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM jobs WHERE 1 = 1");
            if let Some(s) = filter.status {
                q.push(" AND status = ").bind(s.as_str());
            }
            if let Some(k) = &filter.kind {
                q.push(" AND kind = ").bind(k.clone());
            }
            if let Some(qu) = &filter.queue {
                q.push(" AND queue = ").bind(qu.clone());
            }
        },
        "id DESC",
        page,
    )
    .await?;
    Ok(Page {
        count,
        results: rows
            .into_iter()
            .map(Job::try_from)
            .collect::<Result<_>>()?,
    })
}

/// Jobs per (queue, status): for `/metrics` and the dashboard's queue depth.
pub async fn counts(c: &mut impl AsConn) -> Result<Vec<(String, JobStatus, i64)>> {
    let rows: Vec<(String, String, i64)> =
        QueryBuf::new("SELECT queue, status, COUNT(*) FROM jobs GROUP BY queue, status ORDER BY queue, status")
            .fetch_all(c)
            .await?;
    rows.into_iter()
        .map(|(q, s, n)| {
            let st = JobStatus::parse(&s)
                .ok_or_else(|| StoreError::corrupt("jobs", format!("status = '{s}'")))?;
            Ok((q, st, n))
        })
        .collect()
}

/// Deletes done jobs that finished before `before`. Dead jobs stay until a person acts.
pub async fn prune_done(c: &mut impl AsConn, before: DateTime<Utc>) -> Result<u64> {
    let n = on_conn!(c, |conn| sqlx::query(
        "DELETE FROM jobs WHERE status = 'done' AND finished_at < $1"
    )
    .bind(before)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n)
}

/// Jobs of `queue` per status whose payload field `key` (a name from code, never input) holds
/// one of `ids`: how many pushes an instance's mappings have waiting.
pub async fn counts_by_payload_id(c: &mut impl AsConn, queue: &str, key: &'static str, ids: &[i64]) -> Result<Vec<(JobStatus, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    debug_assert!(key.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'));
    let mut q = QueryBuf::new("SELECT status, COUNT(*) FROM jobs WHERE queue = ");
    q.bind(queue)
        .push(" AND status IN ('queued', 'running', 'dead') AND CAST(payload ->> '")
        .push(key)
        .push("' AS BIGINT) IN ")
        .bind_list(ids.iter().copied())
        .push(" GROUP BY status");
    let rows: Vec<(String, i64)> = q.fetch_all(c).await?;
    rows.into_iter()
        .map(|(s, n)| Ok((JobStatus::parse(&s).ok_or_else(|| StoreError::corrupt("jobs", format!("status = '{s}'")))?, n)))
        .collect()
}
