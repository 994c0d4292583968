//! How far each polled mapping has been reconciled with its tracker.

use crate::{AsConn, Result, on_conn};
use chrono::{DateTime, Utc};
use domain::MappingId;

pub async fn get(c: &mut impl AsConn, mapping: MappingId) -> Result<Option<DateTime<Utc>>> {
    let at: Option<DateTime<Utc>> = on_conn!(c, |conn| sqlx::query_scalar("SELECT polled_until FROM tracker_cursors WHERE mapping_id = $1")
        .bind(mapping.0)
        .fetch_optional(conn)
        .await)?;
    Ok(at)
}

/// Moves the cursor forward (never back).
pub async fn advance(c: &mut impl AsConn, mapping: MappingId, to: DateTime<Utc>) -> Result<()> {
    on_conn!(c, |conn| sqlx::query(
        "INSERT INTO tracker_cursors (mapping_id, polled_until) VALUES ($1, $2)
         ON CONFLICT (mapping_id) DO UPDATE SET polled_until = $2 WHERE tracker_cursors.polled_until < $2"
    )
    .bind(mapping.0)
    .bind(to)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}
