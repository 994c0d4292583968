//! The ServiceNow client: records of a table extending `task` (Incident by default) through
//! the Table API, many at once through the Batch API, signed with OAuth (refresh token) or
//! HTTP Basic. The marker is the record's `correlation_id`; changes come back through the
//! business rule of docs/servicenow-business-rule.md, and a reconcile poll on
//! `sys_updated_on` catches what a business rule missed. See `fields` for how ticket fields
//! map to a record.

mod api;
mod batch;
mod check;
mod fields;
mod records;
mod tables;
mod text;
mod tickets;
pub mod webhook;

use crate::{
    CheckReport, Connection, FoundTicket, HttpClient, MappingOptions, PolledChange, Progress,
    RemoteRef, TrackerError,
};
use domain::tracker::{Changes, MappingConfig, MappingTarget, Marker, TicketFields, Vendor};
use secrecy::SecretString;
use std::collections::HashMap;

pub struct ServiceNow {
    conn: Connection,
    api: api::Api,
    tables: tables::Tables,
    /// Assignment groups by name → sys_id, read once.
    groups: tokio::sync::Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for ServiceNow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceNow")
            .field("location", &self.conn.location.as_str())
            .finish_non_exhaustive()
    }
}

/// The table and assignment group a mapping targets.
fn target_of(mapping: &MappingConfig) -> Result<(String, Option<String>), TrackerError> {
    match &mapping.target {
        MappingTarget::ServiceNow {
            table,
            assignment_group,
        } => {
            let t = table.trim();
            if t.is_empty()
                || !t
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(TrackerError::Misconfigured(format!(
                    "'{table}' is not a ServiceNow table name"
                )));
            }
            Ok((
                t.to_owned(),
                assignment_group
                    .as_deref()
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned),
            ))
        }
        other => Err(TrackerError::Misconfigured(format!(
            "the mapping targets {}, which is not a ServiceNow table",
            other.describe()
        ))),
    }
}

/// A sys_id: 32 hex characters.
fn is_sys_id(v: &str) -> bool {
    v.len() == 32 && v.chars().all(|c| c.is_ascii_hexdigit())
}

impl ServiceNow {
    pub fn new(conn: Connection, http: HttpClient) -> Result<ServiceNow, TrackerError> {
        let api = api::Api::new(&conn, http)?;
        Ok(ServiceNow {
            conn,
            api,
            tables: tables::Tables::default(),
            groups: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The mapping's table, and its assignment group's sys_id.
    async fn target(
        &self,
        mapping: &MappingConfig,
    ) -> Result<(String, Option<String>), TrackerError> {
        let (table, group) = target_of(mapping)?;
        let group = match group {
            Some(g) => Some(self.group(&g).await?),
            None => None,
        };
        Ok((table, group))
    }

    /// An assignment group's sys_id: given as one, or found by its name (once).
    async fn group(&self, group: &str) -> Result<String, TrackerError> {
        if is_sys_id(group) {
            return Ok(group.to_owned());
        }
        let mut known = self.groups.lock().await;
        if let Some(id) = known.get(group) {
            return Ok(id.clone());
        }
        let (rows, _) = self
            .api
            .list(
                &format!("the assignment group {group}"),
                "sys_user_group",
                &[
                    ("sysparm_query", format!("name={group}")),
                    ("sysparm_fields", "sys_id,name".into()),
                    ("sysparm_limit", "2".into()),
                ],
            )
            .await?;
        match rows.as_slice() {
            [one] => {
                let id = api::value(one, "sys_id");
                known.insert(group.to_owned(), id.clone());
                Ok(id)
            }
            [] => Err(TrackerError::Misconfigured(format!(
                "the instance has no group named '{group}' (User Administration › Groups)"
            ))),
            _ => Err(TrackerError::Misconfigured(format!(
                "several groups are named '{group}': give the group's sys_id"
            ))),
        }
    }
}

#[async_trait::async_trait]
impl crate::Tracker for ServiceNow {
    fn vendor(&self) -> Vendor {
        self.conn.vendor
    }

    async fn check(&self, mapping: Option<&MappingConfig>) -> CheckReport {
        check::check(self, mapping).await
    }

    async fn create(
        &self,
        mapping: &MappingConfig,
        fields: &TicketFields,
        marker: &Marker,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        tickets::create(self, mapping, fields, marker, progress).await
    }

    async fn update(
        &self,
        mapping: &MappingConfig,
        remote: &RemoteRef,
        changes: &Changes,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        tickets::update(self, mapping, remote, changes, progress).await
    }

    async fn find_by_marker(
        &self,
        mapping: &MappingConfig,
        marker: &Marker,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<FoundTicket>, TrackerError> {
        tickets::find_by_marker(self, mapping, marker, since).await
    }

    /// ServiceNow has no API to subscribe to record changes: an admin installs the business
    /// rule; the reconcile poll keeps tickets in step until then (and after a missed call).
    async fn register_webhook(
        &self,
        _mapping: &MappingConfig,
        url: &url::Url,
        _secret: &SecretString,
    ) -> Result<(), TrackerError> {
        Err(TrackerError::Misconfigured(format!(
            "ServiceNow cannot register a webhook by API: an admin installs the business rule of docs/servicenow-business-rule.md \
             (System Definition › Business Rules) posting to {url} with this instance's webhook secret; until then the reconcile \
             poll keeps tickets in step"
        )))
    }

    async fn create_many(
        &self,
        mapping: &MappingConfig,
        items: &[(TicketFields, Marker)],
        progress: &mut [Progress],
    ) -> Vec<Result<(), TrackerError>> {
        batch::create_many(self, mapping, items, progress).await
    }

    fn bulk_size(&self) -> usize {
        batch::BULK_SIZE
    }

    async fn changes_since(
        &self,
        mapping: &MappingConfig,
        marker_prefix: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Vec<PolledChange>>, TrackerError> {
        tickets::changes_since(self, mapping, marker_prefix, since)
            .await
            .map(Some)
    }

    async fn options(&self, mapping: &MappingConfig) -> Result<MappingOptions, TrackerError> {
        check::options(self, mapping).await
    }
}
