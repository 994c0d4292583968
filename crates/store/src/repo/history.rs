//! A finding's history: who changed what, when. Written by whoever makes the change
//! (API, import, inbound sync) in the same transaction as the change.

use crate::query::QueryBuf;
use crate::{AsConn, Result, now, on_conn};
use chrono::{DateTime, Utc};
use domain::{FindingId, HistoryEntry};
use serde_json::Value;

pub async fn record(
    c: &mut impl AsConn,
    finding: FindingId,
    actor: &str,
    action: &str,
    changes: Value,
) -> Result<()> {
    on_conn!(c, |conn| sqlx::query(
        "INSERT INTO finding_history (finding_id, at, actor, action, changes) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(finding.0)
    .bind(now())
    .bind(actor)
    .bind(action)
    .bind(sqlx::types::Json(&changes))
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    at: DateTime<Utc>,
    actor: String,
    action: String,
    changes: sqlx::types::Json<Value>,
}

/// Oldest first.
pub async fn list(c: &mut impl AsConn, finding: FindingId) -> Result<Vec<HistoryEntry>> {
    let mut q = QueryBuf::new(
        "SELECT at, actor, action, changes FROM finding_history WHERE finding_id = ",
    );
    q.bind(finding.0).push(" ORDER BY id");
    Ok(q.fetch_all::<Row>(c)
        .await?
        .into_iter()
        .map(|r| HistoryEntry {
            at: r.at,
            actor: r.actor,
            action: r.action,
            changes: r.changes.0,
        })
        .collect())
}
