//! The error table of each mapping: one row per finding or group whose push is failing, kept
//! until a push of it succeeds. Reasons are stored already redacted by the engine.

use crate::query::{PageRequest, QueryBuf};
use crate::repo::fetch_page;
use crate::{AsConn, Page, Result, StoreError, on_conn};
use chrono::{DateTime, Utc};
use domain::tracker::Subject;
use domain::{FindingGroupId, FindingId, MappingId};
use serde::Serialize;
use std::collections::HashMap;

/// One failing push.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PushError {
    pub id: i64,
    pub mapping: MappingId,
    /// The finding or group that failed to push.
    pub subject: Subject,
    /// When it first failed, and most recently.
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Failed attempts so far.
    pub attempts: i32,
    /// `unauthorized`, `forbidden`, `not_found`, `rejected`, `misconfigured`, `rate_limited`,
    /// `transient`, `blocked`, `protocol`, `render`.
    pub code: String,
    /// What went wrong, in words (never a secret).
    pub reason: String,
    /// When the queue tries again on its own; absent when it waits for a person to retry.
    pub retry_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    mapping_id: i64,
    finding_id: Option<i64>,
    group_id: Option<i64>,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    attempts: i32,
    code: String,
    reason: String,
    retry_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, mapping_id, finding_id, group_id, first_at, last_at, attempts, code, reason, retry_at";

impl TryFrom<Row> for PushError {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<PushError> {
        let subject = match (r.finding_id, r.group_id) {
            (Some(f), None) => Subject::Finding(FindingId(f)),
            (None, Some(g)) => Subject::Group(FindingGroupId(g)),
            _ => return Err(StoreError::corrupt("push_errors", format!("error {} has no single subject", r.id))),
        };
        Ok(PushError {
            id: r.id,
            mapping: MappingId(r.mapping_id),
            subject,
            first_at: r.first_at,
            last_at: r.last_at,
            attempts: r.attempts,
            code: r.code,
            reason: r.reason,
            retry_at: r.retry_at,
        })
    }
}

fn subject_filter(q: &mut QueryBuf, s: Subject) {
    match s {
        Subject::Finding(f) => q.push(" AND finding_id = ").bind(f.0),
        Subject::Group(g) => q.push(" AND group_id = ").bind(g.0),
    };
}

/// Records a failed push of `subject`: a new row, or one more attempt on the existing one.
pub async fn record(
    c: &mut impl AsConn,
    mapping: MappingId,
    subject: Subject,
    code: &str,
    reason: &str,
    retry_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut q = QueryBuf::new("UPDATE push_errors SET attempts = attempts + 1, last_at = ");
    q.bind(at).push(", code = ").bind(code).push(", reason = ").bind(reason).push(", retry_at = ").bind(retry_at);
    q.push(" WHERE mapping_id = ").bind(mapping.0);
    subject_filter(&mut q, subject);
    if q.execute(c).await? > 0 {
        return Ok(());
    }
    let (finding, group) = match subject {
        Subject::Finding(f) => (Some(f.0), None),
        Subject::Group(g) => (None, Some(g.0)),
    };
    on_conn!(c, |conn| sqlx::query(
        "INSERT INTO push_errors (mapping_id, finding_id, group_id, first_at, last_at, attempts, code, reason, retry_at)
         VALUES ($1, $2, $3, $4, $4, 1, $5, $6, $7)"
    )
    .bind(mapping.0)
    .bind(finding)
    .bind(group)
    .bind(at)
    .bind(code)
    .bind(reason)
    .bind(retry_at)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// A push of `subject` succeeded: its error row goes.
pub async fn clear(c: &mut impl AsConn, mapping: MappingId, subject: Subject) -> Result<()> {
    let mut q = QueryBuf::new("DELETE FROM push_errors WHERE mapping_id = ");
    q.bind(mapping.0);
    subject_filter(&mut q, subject);
    q.execute(c).await?;
    Ok(())
}

pub async fn get(c: &mut impl AsConn, id: i64) -> Result<PushError> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM push_errors WHERE id = "));
    q.bind(id);
    q.fetch_optional::<Row>(c).await?.ok_or_else(|| StoreError::not_found("push error", id))?.try_into()
}

/// A mapping's errors, latest first.
pub async fn list(c: &mut impl AsConn, mapping: MappingId, page: PageRequest) -> Result<Page<PushError>> {
    let (count, rows) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM push_errors WHERE mapping_id = ").bind(mapping.0);
        },
        "last_at DESC, id DESC",
        page,
    )
    .await?;
    Ok(Page { count, results: rows.into_iter().map(PushError::try_from).collect::<Result<_>>()? })
}

/// Every error of a mapping (for "retry all").
pub async fn all_for(c: &mut impl AsConn, mapping: MappingId) -> Result<Vec<PushError>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM push_errors WHERE mapping_id = "));
    q.bind(mapping.0).push(" ORDER BY id");
    q.fetch_all::<Row>(c).await?.into_iter().map(PushError::try_from).collect()
}

/// Errors per mapping: the "Total Errors" column.
pub async fn counts(c: &mut impl AsConn) -> Result<HashMap<MappingId, i64>> {
    let rows: Vec<(i64, i64)> =
        QueryBuf::new("SELECT mapping_id, COUNT(*) FROM push_errors GROUP BY mapping_id").fetch_all(c).await?;
    Ok(rows.into_iter().map(|(m, n)| (MappingId(m), n)).collect())
}
