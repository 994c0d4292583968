//! Tickets: our record of each remote ticket (one per finding or group per mapping), and the
//! changelog of everything we did to it or learnt from the tracker.
//!
//! A push owns its ticket while it runs: [`lock`] records the job pushing it, and a second
//! push of the same ticket waits until that job is no longer running (its lease tells). The
//! row of a ticket being created exists before the tracker is called (`creating`), so that a
//! worker killed between the tracker's reply and our commit leaves a trace: the next push
//! searches for the ticket's marker instead of creating a second ticket.

use crate::query::{PageRequest, QueryBuf};
use crate::repo::{fetch_page, parse_stored};
use crate::{AsConn, Page, Result, StoreError, now, on_conn};
use chrono::{DateTime, Utc};
use domain::tracker::{LinkState, RemoteState, Subject, Ticket, TicketChange, TicketFields, Vendor};
use domain::{FindingGroupId, FindingId, InstanceId, JobId, MappingId, TicketId};
use sqlx::types::Json;
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    instance_id: i64,
    mapping_id: i64,
    vendor: String,
    finding_id: Option<i64>,
    group_id: Option<i64>,
    link_state: String,
    remote_id: Option<String>,
    remote_key: Option<String>,
    url: Option<String>,
    remote_data: Json<serde_json::Value>,
    linked_at: Option<DateTime<Utc>>,
    last_pushed_at: Option<DateTime<Utc>>,
    remote_state: Option<Json<RemoteState>>,
    fingerprint: Option<String>,
    last_sent: Option<Json<TicketFields>>,
    sending: Option<Json<TicketFields>>,
    creating_since: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, instance_id, mapping_id, vendor, finding_id, group_id, link_state, remote_id, \
    remote_key, url, remote_data, linked_at, last_pushed_at, remote_state, fingerprint, last_sent, sending, creating_since";

impl TryFrom<Row> for Ticket {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Ticket> {
        let subject = match (r.finding_id, r.group_id) {
            (Some(f), None) => Subject::Finding(FindingId(f)),
            (None, Some(g)) => Subject::Group(FindingGroupId(g)),
            _ => return Err(StoreError::corrupt("tickets", format!("ticket {} has no single subject", r.id))),
        };
        Ok(Ticket {
            id: TicketId(r.id),
            instance: InstanceId(r.instance_id),
            mapping: MappingId(r.mapping_id),
            vendor: parse_stored("tickets", "vendor", &r.vendor, Vendor::parse)?,
            subject,
            link_state: parse_stored("tickets", "link_state", &r.link_state, LinkState::parse)?,
            remote_id: r.remote_id,
            key: r.remote_key,
            url: r.url,
            linked_at: r.linked_at,
            last_pushed_at: r.last_pushed_at,
            remote_state: r.remote_state.map(|j| j.0),
            fingerprint: r.fingerprint,
            last_sent: r.last_sent.map(|j| j.0),
            sending: r.sending.map(|j| j.0),
            remote_data: r.remote_data.0,
            creating_since: r.creating_since,
        })
    }
}

fn subject_columns(s: Subject) -> (Option<i64>, Option<i64>) {
    match s {
        Subject::Finding(f) => (Some(f.0), None),
        Subject::Group(g) => (None, Some(g.0)),
    }
}

fn push_subject(q: &mut QueryBuf, s: Subject) {
    match s {
        Subject::Finding(f) => q.push(" finding_id = ").bind(f.0),
        Subject::Group(g) => q.push(" group_id = ").bind(g.0),
    };
}

fn rows(rows: Vec<Row>) -> Result<Vec<Ticket>> {
    rows.into_iter().map(Ticket::try_from).collect()
}

pub async fn get(c: &mut impl AsConn, id: TicketId) -> Result<Ticket> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM tickets WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<Row>(c).await?.ok_or_else(|| StoreError::not_found("ticket", id))?.try_into()
}

/// The ticket of a finding or group in a mapping, if any.
pub async fn find(c: &mut impl AsConn, mapping: MappingId, subject: Subject) -> Result<Option<Ticket>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM tickets WHERE mapping_id = "));
    q.bind(mapping.0).push(" AND");
    push_subject(&mut q, subject);
    q.fetch_optional::<Row>(c).await?.map(Ticket::try_from).transpose()
}

/// The ticket a tracker names (webhooks): by the instance and the remote id.
pub async fn by_remote(c: &mut impl AsConn, instance: InstanceId, remote_id: &str) -> Result<Option<Ticket>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM tickets WHERE instance_id = "));
    q.bind(instance.0).push(" AND remote_id = ").bind(remote_id);
    q.fetch_optional::<Row>(c).await?.map(Ticket::try_from).transpose()
}

/// The tickets of these findings, in every mapping.
pub async fn for_findings(c: &mut impl AsConn, ids: &[FindingId]) -> Result<Vec<Ticket>> {
    of_subjects(c, "finding_id", &ids.iter().map(|f| f.0).collect::<Vec<_>>()).await
}

/// The tickets of these groups, in every mapping.
pub async fn for_groups(c: &mut impl AsConn, ids: &[FindingGroupId]) -> Result<Vec<Ticket>> {
    of_subjects(c, "group_id", &ids.iter().map(|g| g.0).collect::<Vec<_>>()).await
}

/// `column` is `finding_id` or `group_id` (from code, never input).
async fn of_subjects(c: &mut impl AsConn, column: &'static str, ids: &[i64]) -> Result<Vec<Ticket>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM tickets WHERE {column} IN "));
        q.bind_list(chunk.iter().copied()).push(" ORDER BY id");
        out.extend(rows(q.fetch_all::<Row>(c).await?)?);
    }
    Ok(out)
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub instance: Option<InstanceId>,
    pub mapping: Option<MappingId>,
    pub finding: Option<FindingId>,
    pub group: Option<FindingGroupId>,
    pub link_state: Option<LinkState>,
}

pub async fn list(c: &mut impl AsConn, f: &Filter, page: PageRequest) -> Result<Page<Ticket>> {
    let (count, found) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM tickets WHERE 1 = 1");
            if let Some(i) = f.instance {
                q.push(" AND instance_id = ").bind(i.0);
            }
            if let Some(m) = f.mapping {
                q.push(" AND mapping_id = ").bind(m.0);
            }
            if let Some(x) = f.finding {
                q.push(" AND finding_id = ").bind(x.0);
            }
            if let Some(g) = f.group {
                q.push(" AND group_id = ").bind(g.0);
            }
            if let Some(l) = f.link_state {
                q.push(" AND link_state = ").bind(l.as_str());
            }
        },
        "id DESC",
        page,
    )
    .await?;
    Ok(Page { count, results: rows(found)? })
}

/// Takes a ticket for `job`'s push: `false` when another job, still running, holds it.
pub async fn lock(c: &mut impl AsConn, id: TicketId, job: JobId, at: DateTime<Utc>) -> Result<bool> {
    let n = on_conn!(c, |conn| sqlx::query(
        "UPDATE tickets SET push_job = $2
         WHERE id = $1 AND (push_job IS NULL OR push_job = $2 OR NOT EXISTS (
             SELECT 1 FROM jobs WHERE jobs.id = tickets.push_job AND jobs.status = 'running' AND jobs.locked_until > $3))"
    )
    .bind(id.0)
    .bind(job.0)
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Gives the ticket back (the push is over).
pub async fn unlock(c: &mut impl AsConn, id: TicketId, job: JobId) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE tickets SET push_job = NULL WHERE id = $1 AND push_job = $2")
        .bind(id.0)
        .bind(job.0)
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// What a new ticket row says.
pub struct NewTicket<'a> {
    pub instance: InstanceId,
    pub mapping: MappingId,
    pub vendor: Vendor,
    pub subject: Subject,
    pub sending: &'a TicketFields,
    pub job: JobId,
}

/// Records that a create is about to be sent (state `creating`, held by the job). Returns
/// `None` when the subject already has a ticket in this mapping (a concurrent push made it).
pub async fn start_create(c: &mut impl AsConn, new: NewTicket<'_>) -> Result<Option<Ticket>> {
    let t = now();
    let (finding, group) = subject_columns(new.subject);
    let inserted: Result<i64, sqlx::Error> = on_conn!(c, |conn| sqlx::query_scalar(
        "INSERT INTO tickets (instance_id, mapping_id, vendor, finding_id, group_id, link_state, sending,
                              creating_since, push_job, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'creating', $6, $7, $8, $7, $7) RETURNING id"
    )
    .bind(new.instance.0)
    .bind(new.mapping.0)
    .bind(new.vendor.as_str())
    .bind(finding)
    .bind(group)
    .bind(Json(new.sending))
    .bind(t)
    .bind(new.job.0)
    .fetch_one(conn)
    .await);
    match inserted {
        Ok(id) => Ok(Some(get(c, TicketId(id)).await?)),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Marks the start of a create again (a retry of a create in doubt, after its marker was not
/// found): searches after a later failure start from here.
pub async fn restart_create(c: &mut impl AsConn, id: TicketId, sending: &TicketFields) -> Result<()> {
    let t = now();
    on_conn!(c, |conn| sqlx::query(
        "UPDATE tickets SET sending = $2, creating_since = $3, updated_at = $3 WHERE id = $1 AND link_state = 'creating'"
    )
    .bind(id.0)
    .bind(Json(sending))
    .bind(t)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The remote ticket's identity, as the tracker client gave it.
pub struct RemoteLink<'a> {
    pub remote_id: &'a str,
    pub key: &'a str,
    pub url: &'a str,
    pub data: &'a serde_json::Value,
}

/// What the remote ticket's state is after our own write of `shows`.
fn written_by_us(shows: &TicketFields, at: DateTime<Utc>) -> RemoteState {
    RemoteState {
        state: shows.state,
        status: Some(shows.status.value.clone()).filter(|s| !s.is_empty()),
        changed_by: "vulnbridge".into(),
        changed_at: at,
    }
}

/// Links the ticket to the remote one: what we know it shows (`shows`) is the base of the next
/// push. Clears the push in flight.
pub async fn link(c: &mut impl AsConn, id: TicketId, remote: RemoteLink<'_>, shows: &TicketFields, at: DateTime<Utc>) -> Result<()> {
    let state = written_by_us(shows, at);
    on_conn!(c, |conn| sqlx::query(
        "UPDATE tickets SET link_state = 'linked', remote_id = $2, remote_key = $3, url = $4, remote_data = $5,
                linked_at = COALESCE(linked_at, $6), last_pushed_at = $6, last_sent = $7, fingerprint = $8,
                remote_state = $9, sending = NULL, creating_since = NULL, updated_at = $6
         WHERE id = $1"
    )
    .bind(id.0)
    .bind(remote.remote_id)
    .bind(remote.key)
    .bind(remote.url)
    .bind(Json(remote.data))
    .bind(at)
    .bind(Json(shows))
    .bind(shows.fingerprint())
    .bind(Json(&state))
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Records what a push sent to a linked ticket (`shows`: what it now shows as far as we know).
pub async fn record_push(
    c: &mut impl AsConn,
    id: TicketId,
    shows: &TicketFields,
    remote_data: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<()> {
    let state = written_by_us(shows, at);
    on_conn!(c, |conn| sqlx::query(
        "UPDATE tickets SET last_sent = $2, fingerprint = $3, remote_data = $4, last_pushed_at = $5, remote_state = $6,
                sending = NULL, updated_at = $5
         WHERE id = $1"
    )
    .bind(id.0)
    .bind(Json(shows))
    .bind(shows.fingerprint())
    .bind(Json(remote_data))
    .bind(at)
    .bind(Json(&state))
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Records the fields of a push about to be sent (cleared by `link`/`record_push`), so that
/// webhooks about it are recognised as our own.
pub async fn set_sending(c: &mut impl AsConn, id: TicketId, sending: Option<&TicketFields>) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE tickets SET sending = $2 WHERE id = $1")
        .bind(id.0)
        .bind(sending.map(Json))
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Records a change the tracker reported: the remote state, and what the ticket now shows.
pub async fn record_remote(c: &mut impl AsConn, id: TicketId, state: &RemoteState, shows: Option<&TicketFields>) -> Result<()> {
    on_conn!(c, |conn| sqlx::query(
        "UPDATE tickets SET remote_state = $2, last_sent = COALESCE($3, last_sent), fingerprint = COALESCE($4, fingerprint),
                updated_at = $5
         WHERE id = $1"
    )
    .bind(id.0)
    .bind(Json(state))
    .bind(shows.map(Json))
    .bind(shows.map(TicketFields::fingerprint))
    .bind(now())
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The remote ticket was deleted: nothing more is pushed to it.
pub async fn mark_deleted(c: &mut impl AsConn, id: TicketId) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE tickets SET link_state = 'deleted', sending = NULL, updated_at = $2 WHERE id = $1")
        .bind(id.0)
        .bind(now())
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Removes the row of a create that certainly did not happen (the tracker refused it).
pub async fn abandon_create(c: &mut impl AsConn, id: TicketId) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("DELETE FROM tickets WHERE id = $1 AND link_state = 'creating'")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Appends a changelog line.
pub async fn add_change(c: &mut impl AsConn, ticket: TicketId, change: &TicketChange) -> Result<()> {
    on_conn!(c, |conn| sqlx::query(
        "INSERT INTO ticket_changes (ticket_id, at, action, detail, actor) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(ticket.0)
    .bind(change.at)
    .bind(&change.action)
    .bind(&change.detail)
    .bind(&change.actor)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    ticket_id: i64,
    at: DateTime<Utc>,
    action: String,
    detail: String,
    actor: String,
}

/// The changelogs of these tickets, oldest first.
pub async fn changes(c: &mut impl AsConn, tickets: &[TicketId]) -> Result<HashMap<TicketId, Vec<TicketChange>>> {
    let mut out: HashMap<TicketId, Vec<TicketChange>> = HashMap::new();
    for chunk in tickets.chunks(500) {
        let mut q = QueryBuf::new("SELECT ticket_id, at, action, detail, actor FROM ticket_changes WHERE ticket_id IN ");
        q.bind_list(chunk.iter().map(|t| t.0)).push(" ORDER BY ticket_id, id");
        for r in q.fetch_all::<ChangeRow>(c).await? {
            out.entry(TicketId(r.ticket_id)).or_default().push(TicketChange {
                at: r.at,
                action: r.action,
                detail: r.detail,
                actor: r.actor,
            });
        }
    }
    Ok(out)
}

/// Forgets a ticket record (its remote ticket was deleted and a person asked to push again:
/// a new ticket is made).
pub async fn delete(c: &mut impl AsConn, id: TicketId) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("DELETE FROM tickets WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}
