//! Creating, updating, finding and polling records: one `POST` per create, one `PATCH` per
//! update, exact Table API queries on `correlation_id` for the marker and the reconcile poll.

use super::ServiceNow;
use super::api::{self, One, glide_time, parse_glide_time, value};
use super::records;
use crate::webhook::InboundEvent;
use crate::{FoundTicket, PolledChange, Progress, RemoteRef, RequestClass, TrackerError};
use domain::tracker::{
    Changes, CloseReason, MappingConfig, Marker, RemoteChange, TicketFields, TicketState,
};
use reqwest::Method;

/// A marker search starts this long before the create began (clock differences).
const CLOCK_SKEW_MINUTES: i64 = 10;
/// Records read per page by the reconcile poll.
const POLL_PAGE: usize = 100;
/// At most this many pages are read by one poll: a runaway count must not loop forever.
const MAX_PAGES: usize = 1000;
/// What the create's answer needs to show.
pub const CREATED_FIELDS: &str = "sys_id,number,sys_class_name";

/// `POST /api/now/table/{table}`.
pub async fn create(
    sn: &ServiceNow,
    mapping: &MappingConfig,
    f: &TicketFields,
    marker: &Marker,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    let (table, group) = sn.target(mapping).await?;
    let meta = sn.tables.get(&sn.api, &table).await?;
    let body = records::create(mapping, &meta, group.as_deref(), f, marker)?;
    let what = format!("a new record in ServiceNow table {table}");
    let (created, _) = sn
        .api
        .json::<One>(
            RequestClass::Create,
            &what,
            Method::POST,
            &format!("/api/now/table/{table}"),
            &[
                ("sysparm_fields", CREATED_FIELDS.into()),
                ("sysparm_exclude_reference_link", "true".into()),
            ],
            Some(&serde_json::Value::Object(body.fields)),
        )
        .await?;
    progress.remote = Some(records::remote(sn.api.base(), &table, &created.result)?);
    progress.did_all(body.parts);
    Ok(())
}

/// The table of a linked record: the one stored at creation, else the mapping's.
fn table_of(remote: &RemoteRef, mapping_table: &str) -> String {
    remote
        .data
        .get("table")
        .and_then(serde_json::Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or(mapping_table)
        .to_owned()
}

/// One `PATCH` with every changed part (nothing at all when no part has a field to set).
pub async fn update(
    sn: &ServiceNow,
    mapping: &MappingConfig,
    remote: &RemoteRef,
    changes: &Changes,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    let (mapping_table, _) = sn.target(mapping).await?;
    let table = table_of(remote, &mapping_table);
    let meta = sn.tables.get(&sn.api, &table).await?;
    let body = records::update(mapping, &meta, changes)?;
    if !body.fields.is_empty() {
        let what = format!("ServiceNow record {}", remote.key);
        sn.api
            .json::<One>(
                RequestClass::Write,
                &what,
                Method::PATCH,
                &format!("/api/now/table/{table}/{}", remote.id),
                &[
                    ("sysparm_fields", "sys_id,state".into()),
                    ("sysparm_exclude_reference_link", "true".into()),
                ],
                Some(&serde_json::Value::Object(body.fields)),
            )
            .await?;
    }
    progress.did_all(body.parts);
    Ok(())
}

/// The record whose correlation id is the marker, created since `since` (minus clock skew).
pub async fn find_by_marker(
    sn: &ServiceNow,
    mapping: &MappingConfig,
    marker: &Marker,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Option<FoundTicket>, TrackerError> {
    let (table, _) = sn.target(mapping).await?;
    let after = glide_time(since - chrono::TimeDelta::minutes(CLOCK_SKEW_MINUTES));
    let query = format!(
        "correlation_id={}^sys_created_on>={after}^ORDERBYsys_created_on",
        marker.token()
    );
    let (rows, _) = sn
        .api
        .list(
            &format!("the records of ServiceNow table {table}"),
            &table,
            &[
                ("sysparm_query", query),
                ("sysparm_fields", format!("{CREATED_FIELDS},active")),
                ("sysparm_exclude_reference_link", "true".into()),
                ("sysparm_limit", "1".into()),
            ],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(FoundTicket {
        remote: records::remote(sn.api.base(), &table, r)?,
        open: value(r, "active") != "false",
    }))
}

/// The mapping's records changed since `since`, every page, oldest change first; a record
/// appears once, as it is now.
///
/// Pages follow the change time rather than a bare offset: a record changed while the pages
/// are read moves to the end of the order, and with offsets alone the record behind it would
/// slip into a page already read and never be seen (the next poll starts after it). Each page
/// starts at the last change time seen, skipping only the records of that second already
/// read (`ORDERBYsys_id` keeps their order fixed).
pub async fn changes_since(
    sn: &ServiceNow,
    mapping: &MappingConfig,
    prefix: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<PolledChange>, TrackerError> {
    let (table, _) = sn.target(mapping).await?;
    let what = format!(
        "the records of ServiceNow table {table} changed since {}",
        glide_time(since)
    );
    let mut out: Vec<PolledChange> = Vec::new();
    let mut cursor = glide_time(since);
    let mut skip = 0usize;
    for _ in 0..MAX_PAGES {
        let query = format!(
            "correlation_idSTARTSWITH{prefix}^sys_updated_on>={cursor}^ORDERBYsys_updated_on^ORDERBYsys_id"
        );
        let (rows, _) = sn
            .api
            .list(
                &what,
                &table,
                &[
                    ("sysparm_query", query),
                    (
                        "sysparm_fields",
                        "sys_id,number,state,active,sys_updated_on,sys_updated_by".into(),
                    ),
                    ("sysparm_display_value", "all".into()),
                    ("sysparm_exclude_reference_link", "true".into()),
                    ("sysparm_limit", POLL_PAGE.to_string()),
                    ("sysparm_offset", skip.to_string()),
                    ("sysparm_suppress_pagination_header", "true".into()),
                ],
            )
            .await?;
        let full = rows.len() == POLL_PAGE;
        let last = rows.last().map(|r| value(r, "sys_updated_on"));
        for r in &rows {
            let change = polled(r)?;
            out.retain(|c| c.event.remote_id != change.event.remote_id);
            out.push(change);
        }
        let Some(last) = last.filter(|_| full) else {
            break;
        };
        let at_last = rows
            .iter()
            .filter(|r| value(r, "sys_updated_on") == last)
            .count();
        if last == cursor {
            // A whole page within one second: go on within it.
            skip += at_last;
        } else {
            cursor = last;
            skip = at_last;
        }
    }
    Ok(out)
}

fn polled(r: &serde_json::Map<String, serde_json::Value>) -> Result<PolledChange, TrackerError> {
    let sys_id = value(r, "sys_id");
    let at = parse_glide_time(&value(r, "sys_updated_on")).ok_or_else(|| {
        TrackerError::Protocol(format!("record {sys_id} has no readable sys_updated_on"))
    })?;
    let closed = value(r, "active") == "false";
    let label = api::display(r, "state");
    let actor = value(r, "sys_updated_by");
    Ok(PolledChange {
        event: InboundEvent {
            delivery: None,
            remote_id: sys_id,
            change: RemoteChange::Status {
                value: if label.is_empty() {
                    value(r, "state")
                } else {
                    label
                },
                state: if closed {
                    TicketState::Closed(CloseReason::Completed)
                } else {
                    TicketState::Open
                },
            },
            actor: (!actor.is_empty()).then_some(actor),
        },
        at,
    })
}
