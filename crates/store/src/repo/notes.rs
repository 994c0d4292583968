//! Notes on findings: written in vulnbridge, or comments made in a tracker that syncs them.

use crate::{AsConn, Result, on_conn};
use chrono::{DateTime, Utc};
use domain::{FindingId, TicketId};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub id: i64,
    pub finding: FindingId,
    pub at: DateTime<Utc>,
    pub author: String,
    pub text: String,
    /// `vulnbridge` (written here) or `tracker` (a comment made in a tracker).
    pub source: String,
    /// For a tracker's comment: the ticket it was made on.
    pub ticket: Option<TicketId>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    finding_id: i64,
    at: DateTime<Utc>,
    author: String,
    text: String,
    source: String,
    ticket_id: Option<i64>,
}

impl From<Row> for Note {
    fn from(r: Row) -> Note {
        Note { id: r.id, finding: FindingId(r.finding_id), at: r.at, author: r.author, text: r.text, source: r.source, ticket: r.ticket_id.map(TicketId) }
    }
}

pub async fn add(c: &mut impl AsConn, finding: FindingId, author: &str, text: &str, source: &str, ticket: Option<TicketId>) -> Result<Note> {
    let row: Row = on_conn!(c, |conn| sqlx::query_as(
        "INSERT INTO finding_notes (finding_id, at, author, text, source, ticket_id) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, finding_id, at, author, text, source, ticket_id"
    )
    .bind(finding.0)
    .bind(crate::now())
    .bind(author)
    .bind(text)
    .bind(source)
    .bind(ticket.map(|t| t.0))
    .fetch_one(conn)
    .await)?;
    Ok(row.into())
}

/// A finding's notes, oldest first.
pub async fn list(c: &mut impl AsConn, finding: FindingId) -> Result<Vec<Note>> {
    let rows: Vec<Row> = on_conn!(c, |conn| sqlx::query_as(
        "SELECT id, finding_id, at, author, text, source, ticket_id FROM finding_notes WHERE finding_id = $1 ORDER BY id"
    )
    .bind(finding.0)
    .fetch_all(conn)
    .await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
