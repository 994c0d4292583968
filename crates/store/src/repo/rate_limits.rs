//! Rate-limit budgets shared by every process pushing to one instance.
//!
//! Each bucket (at most `limit` requests per `per`) is a sliding window kept as 60 slots of
//! `per / 60`: a request is allowed when the slots overlapping the last `per` hold fewer than
//! `limit` requests. Counting a whole slot that only partly overlaps the window errs on the
//! safe side, so the requests of all replicas together never exceed what a tracker enforcing a
//! true sliding window allows. Acquirers of one instance are serialised: by a row lock on the
//! instance (PostgreSQL) or by SQLite's single writer.
//!
//! A tracker's "stop until" (Retry-After, nothing remaining until the reset) is kept on the
//! instance row and stops every process until then.

use crate::{Backend, Db, Result, on_conn};
use chrono::{DateTime, TimeDelta, Utc};
use domain::InstanceId;

/// Slots per window.
const SLOTS: i64 = 60;

/// One budget: at most `limit` requests per `per`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    pub name: String,
    pub limit: u32,
    pub per: TimeDelta,
}

impl Bucket {
    fn slot_len(&self) -> TimeDelta {
        let micros = (self.per.num_microseconds().unwrap_or(i64::MAX) / SLOTS).max(1);
        TimeDelta::microseconds(micros)
    }

    fn slot_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let len = self.slot_len().num_microseconds().unwrap_or(1).max(1);
        let t = at.timestamp_micros();
        DateTime::from_timestamp_micros(t - t.rem_euclid(len)).unwrap_or(at)
    }
}

/// Takes one request from every bucket at `now`, or answers the time when the instance may
/// be called again (a block set by the tracker, or the moment enough of a window has passed).
pub async fn acquire(db: &Db, instance: InstanceId, buckets: &[Bucket], now: DateTime<Utc>) -> Result<Result<(), DateTime<Utc>>> {
    let mut tx = db.begin().await?;
    let lock = match db.backend() {
        Backend::Postgres => "SELECT blocked_until FROM integration_instances WHERE id = $1 FOR UPDATE",
        Backend::Sqlite => "SELECT blocked_until FROM integration_instances WHERE id = $1",
    };
    let blocked: Option<Option<DateTime<Utc>>> = on_conn!(&mut tx, |conn| sqlx::query_scalar(lock)
        .bind(instance.0)
        .fetch_optional(conn)
        .await)?;
    if let Some(Some(until)) = blocked
        && until > now
    {
        tx.rollback().await?;
        return Ok(Err(until));
    }
    let mut wait_until: Option<DateTime<Utc>> = None;
    for b in buckets {
        let len = b.slot_len();
        let window_start = now - b.per;
        on_conn!(&mut tx, |conn| sqlx::query("DELETE FROM rate_slots WHERE instance_id = $1 AND bucket = $2 AND slot_start <= $3")
            .bind(instance.0)
            .bind(&b.name)
            .bind(window_start - len)
            .execute(conn)
            .await
            .map(|_| ()))?;
        let slots: Vec<(DateTime<Utc>, i32)> = on_conn!(&mut tx, |conn| sqlx::query_as(
            "SELECT slot_start, used FROM rate_slots WHERE instance_id = $1 AND bucket = $2 ORDER BY slot_start"
        )
        .bind(instance.0)
        .bind(&b.name)
        .fetch_all(conn)
        .await)?;
        let used: i64 = slots.iter().map(|(_, n)| i64::from(*n)).sum();
        if used >= i64::from(b.limit) {
            // Wait until enough of the oldest slots have left the window.
            let mut over = used - i64::from(b.limit) + 1;
            let mut until = now;
            for (start, n) in &slots {
                until = *start + len + b.per;
                over -= i64::from(*n);
                if over <= 0 {
                    break;
                }
            }
            wait_until = Some(wait_until.map_or(until, |w| w.max(until)));
        }
    }
    if let Some(until) = wait_until {
        tx.rollback().await?;
        return Ok(Err(until));
    }
    for b in buckets {
        on_conn!(&mut tx, |conn| sqlx::query(
            "INSERT INTO rate_slots (instance_id, bucket, slot_start, used) VALUES ($1, $2, $3, 1)
             ON CONFLICT (instance_id, bucket, slot_start) DO UPDATE SET used = rate_slots.used + 1"
        )
        .bind(instance.0)
        .bind(&b.name)
        .bind(b.slot_start(now))
        .execute(conn)
        .await
        .map(|_| ()))?;
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// Stops every process from calling the instance until `until` (a later block wins).
pub async fn block(db: &Db, instance: InstanceId, until: DateTime<Utc>, reason: &str) -> Result<()> {
    let mut c = db.conn().await?;
    on_conn!(&mut c, |conn| sqlx::query(
        "UPDATE integration_instances SET blocked_until = $2, blocked_reason = $3
         WHERE id = $1 AND (blocked_until IS NULL OR blocked_until < $2)"
    )
    .bind(instance.0)
    .bind(until)
    .bind(reason)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The current block, if any: until when and why.
pub async fn blocked(db: &Db, instance: InstanceId, now: DateTime<Utc>) -> Result<Option<(DateTime<Utc>, String)>> {
    let mut c = db.conn().await?;
    let row: Option<(Option<DateTime<Utc>>, Option<String>)> = on_conn!(&mut c, |conn| sqlx::query_as(
        "SELECT blocked_until, blocked_reason FROM integration_instances WHERE id = $1"
    )
    .bind(instance.0)
    .fetch_optional(conn)
    .await)?;
    Ok(match row {
        Some((Some(until), reason)) if until > now => Some((until, reason.unwrap_or_default())),
        _ => None,
    })
}

/// Requests counted in each bucket's current window (for the queue's expected finish time).
pub async fn used(db: &Db, instance: InstanceId, buckets: &[Bucket], now: DateTime<Utc>) -> Result<Vec<i64>> {
    let mut c = db.conn().await?;
    let mut out = Vec::with_capacity(buckets.len());
    for b in buckets {
        let n: Option<i64> = on_conn!(&mut c, |conn| sqlx::query_scalar(
            "SELECT CAST(SUM(used) AS BIGINT) FROM rate_slots WHERE instance_id = $1 AND bucket = $2 AND slot_start > $3"
        )
        .bind(instance.0)
        .bind(&b.name)
        .bind(now - b.per - b.slot_len())
        .fetch_one(conn)
        .await)?;
        out.push(n.unwrap_or(0));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_divide_the_window() {
        let b = Bucket { name: "m".into(), limit: 80, per: TimeDelta::seconds(60) };
        assert_eq!(b.slot_len(), TimeDelta::seconds(1));
        let t = DateTime::from_timestamp(1_000_000, 700_000_000).unwrap();
        assert_eq!(b.slot_start(t), DateTime::from_timestamp(1_000_000, 0).unwrap());
    }
}
