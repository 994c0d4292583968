//! Rate-limit budgets shared by every process calling one tracker instance or one connector's
//! tool (an [`Owner`]).
//!
//! Each bucket (at most `limit` requests per `per`) is a sliding window kept as 60 slots of
//! `per / 60`: a request is allowed when the slots overlapping the last `per` hold fewer than
//! `limit` requests. Counting a whole slot that only partly overlaps the window errs on the
//! safe side, so the requests of all replicas together never exceed what a service enforcing
//! a true sliding window allows. Acquirers of one owner are serialised: by a row lock on the
//! owner's row (PostgreSQL) or by SQLite's single writer.
//!
//! A service's "stop until" (Retry-After, nothing remaining until the reset) is kept on the
//! owner's row and stops every process until then.

use crate::{Backend, Db, Result, on_conn};
use chrono::{DateTime, TimeDelta, Utc};
use domain::{ConnectorId, InstanceId};

/// Whose budget: a tracker instance's (`rate_slots`, `integration_instances`) or a connector's
/// (`connector_rate_slots`, `connectors`). The same SQL runs over either pair of tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Instance(InstanceId),
    Connector(ConnectorId),
}

impl From<InstanceId> for Owner {
    fn from(id: InstanceId) -> Owner {
        Owner::Instance(id)
    }
}

impl From<ConnectorId> for Owner {
    fn from(id: ConnectorId) -> Owner {
        Owner::Connector(id)
    }
}

impl Owner {
    fn id(self) -> i64 {
        match self {
            Owner::Instance(i) => i.0,
            Owner::Connector(c) => c.0,
        }
    }

    /// (slots table, its owner column, the owner's table): fixed names, never input.
    fn tables(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Owner::Instance(_) => ("rate_slots", "instance_id", "integration_instances"),
            Owner::Connector(_) => ("connector_rate_slots", "connector_id", "connectors"),
        }
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Instance(i) => write!(f, "instance {i}"),
            Owner::Connector(c) => write!(f, "connector {c}"),
        }
    }
}

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

/// Takes one request from every bucket at `now`, or answers the time when the owner may be
/// called again (a block set by the service, or the moment enough of a window has passed).
pub async fn acquire(db: &Db, owner: impl Into<Owner>, buckets: &[Bucket], now: DateTime<Utc>) -> Result<Result<(), DateTime<Utc>>> {
    let owner = owner.into();
    let (slots_table, owner_col, owner_table) = owner.tables();
    let mut tx = db.begin().await?;
    let lock = match db.backend() {
        Backend::Postgres => format!("SELECT blocked_until FROM {owner_table} WHERE id = $1 FOR UPDATE"),
        Backend::Sqlite => format!("SELECT blocked_until FROM {owner_table} WHERE id = $1"),
    };
    let blocked: Option<Option<DateTime<Utc>>> = on_conn!(&mut tx, |conn| sqlx::query_scalar(sqlx::AssertSqlSafe(lock.clone()))
        .bind(owner.id())
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
        let delete = format!("DELETE FROM {slots_table} WHERE {owner_col} = $1 AND bucket = $2 AND slot_start <= $3");
        on_conn!(&mut tx, |conn| sqlx::query(sqlx::AssertSqlSafe(delete.clone()))
            .bind(owner.id())
            .bind(&b.name)
            .bind(window_start - len)
            .execute(conn)
            .await
            .map(|_| ()))?;
        let select = format!("SELECT slot_start, used FROM {slots_table} WHERE {owner_col} = $1 AND bucket = $2 ORDER BY slot_start");
        let slots: Vec<(DateTime<Utc>, i32)> = on_conn!(&mut tx, |conn| sqlx::query_as(sqlx::AssertSqlSafe(select.clone()))
        .bind(owner.id())
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
    let count = format!(
        "INSERT INTO {slots_table} ({owner_col}, bucket, slot_start, used) VALUES ($1, $2, $3, 1)
         ON CONFLICT ({owner_col}, bucket, slot_start) DO UPDATE SET used = {slots_table}.used + 1"
    );
    for b in buckets {
        on_conn!(&mut tx, |conn| sqlx::query(sqlx::AssertSqlSafe(count.clone()))
        .bind(owner.id())
        .bind(&b.name)
        .bind(b.slot_start(now))
        .execute(conn)
        .await
        .map(|_| ()))?;
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// Stops every process from calling the owner until `until` (a later block wins).
pub async fn block(db: &Db, owner: impl Into<Owner>, until: DateTime<Utc>, reason: &str) -> Result<()> {
    let owner = owner.into();
    let sql = format!(
        "UPDATE {} SET blocked_until = $2, blocked_reason = $3 WHERE id = $1 AND (blocked_until IS NULL OR blocked_until < $2)",
        owner.tables().2
    );
    let mut c = db.conn().await?;
    on_conn!(&mut c, |conn| sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
    .bind(owner.id())
    .bind(until)
    .bind(reason)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The current block, if any: until when and why.
pub async fn blocked(db: &Db, owner: impl Into<Owner>, now: DateTime<Utc>) -> Result<Option<(DateTime<Utc>, String)>> {
    let owner = owner.into();
    let sql = format!("SELECT blocked_until, blocked_reason FROM {} WHERE id = $1", owner.tables().2);
    let mut c = db.conn().await?;
    let row: Option<(Option<DateTime<Utc>>, Option<String>)> = on_conn!(&mut c, |conn| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
    .bind(owner.id())
    .fetch_optional(conn)
    .await)?;
    Ok(match row {
        Some((Some(until), reason)) if until > now => Some((until, reason.unwrap_or_default())),
        _ => None,
    })
}

/// Requests counted in each bucket's current window (for the queue's expected finish time).
pub async fn used(db: &Db, owner: impl Into<Owner>, buckets: &[Bucket], now: DateTime<Utc>) -> Result<Vec<i64>> {
    let owner = owner.into();
    let (slots_table, owner_col, _) = owner.tables();
    let sql = format!("SELECT CAST(SUM(used) AS BIGINT) FROM {slots_table} WHERE {owner_col} = $1 AND bucket = $2 AND slot_start > $3");
    let mut c = db.conn().await?;
    let mut out = Vec::with_capacity(buckets.len());
    for b in buckets {
        let n: Option<i64> = on_conn!(&mut c, |conn| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
        .bind(owner.id())
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
