//! Webhook deliveries already applied: trackers retry a delivery they think failed, and a
//! retried delivery must not be applied twice.

use crate::{AsConn, Result, on_conn};
use chrono::{DateTime, Utc};
use domain::InstanceId;

/// Records a delivery; `false` when it was seen before.
pub async fn first_time(c: &mut impl AsConn, instance: InstanceId, delivery: &str, at: DateTime<Utc>) -> Result<bool> {
    let n = on_conn!(c, |conn| sqlx::query(
        "INSERT INTO webhook_deliveries (instance_id, delivery, received_at) VALUES ($1, $2, $3)
         ON CONFLICT (instance_id, delivery) DO NOTHING"
    )
    .bind(instance.0)
    .bind(delivery)
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Forgets deliveries received before `before` (trackers stop retrying within hours).
pub async fn prune(c: &mut impl AsConn, before: DateTime<Utc>) -> Result<u64> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
        .bind(before)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n)
}
