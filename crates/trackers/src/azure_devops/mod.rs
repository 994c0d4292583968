//! The Azure DevOps Boards client: work items of one type in one project, through the REST API
//! 7.1 with JSON Patch, a personal access token as Basic authentication with an empty user name,
//! `$batch` for bulk creation, WIQL to find a ticket by its marker tag, and service hooks for
//! two-way sync. See `fields` for how ticket fields map to a work item.

mod api;
mod check;
mod fields;
mod hooks;
mod html;
mod states;
pub mod webhook;
mod workitems;

use crate::{
    CheckReport, Connection, FoundTicket, HttpClient, MappingOptions, Progress, RemoteRef,
    TrackerError,
};
use domain::tracker::{Changes, MappingConfig, Marker, TicketFields, Vendor};
use secrecy::SecretString;

/// The most work items one `$batch` (and one `workitemsbatch`) takes.
pub const MAX_BATCH: usize = 200;

pub struct AzureDevOps {
    conn: Connection,
    api: api::Api,
    states: states::States,
}

impl std::fmt::Debug for AzureDevOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureDevOps")
            .field("location", &self.conn.location.as_str())
            .finish_non_exhaustive()
    }
}

impl AzureDevOps {
    pub fn new(conn: Connection, http: HttpClient) -> Result<AzureDevOps, TrackerError> {
        let api = api::Api::new(&conn, http)?;
        Ok(AzureDevOps {
            conn,
            api,
            states: states::States::default(),
        })
    }
}

#[async_trait::async_trait]
impl crate::Tracker for AzureDevOps {
    fn vendor(&self) -> Vendor {
        self.conn.vendor
    }

    async fn check(&self, mapping: Option<&MappingConfig>) -> CheckReport {
        check::check(&self.api, mapping).await
    }

    async fn create(
        &self,
        mapping: &MappingConfig,
        fields: &TicketFields,
        marker: &Marker,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        workitems::create(
            &self.api,
            &self.states,
            &fields::target(mapping)?,
            fields,
            marker,
            progress,
        )
        .await
    }

    async fn update(
        &self,
        mapping: &MappingConfig,
        remote: &RemoteRef,
        changes: &Changes,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        workitems::update(
            &self.api,
            &fields::target(mapping)?,
            remote,
            changes,
            progress,
        )
        .await
    }

    async fn find_by_marker(
        &self,
        mapping: &MappingConfig,
        marker: &Marker,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<FoundTicket>, TrackerError> {
        workitems::find_by_marker(
            &self.api,
            &self.states,
            &fields::target(mapping)?,
            marker,
            since,
        )
        .await
    }

    async fn register_webhook(
        &self,
        mapping: &MappingConfig,
        url: &url::Url,
        secret: &SecretString,
    ) -> Result<(), TrackerError> {
        hooks::register(&self.api, &fields::target(mapping)?, url, secret).await
    }

    async fn create_many(
        &self,
        mapping: &MappingConfig,
        items: &[(TicketFields, Marker)],
        progress: &mut [Progress],
    ) -> Vec<Result<(), TrackerError>> {
        let t = match fields::target(mapping) {
            Ok(t) => t,
            Err(e) => return items.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut out = Vec::with_capacity(items.len());
        for (chunk, progress) in items.chunks(MAX_BATCH).zip(progress.chunks_mut(MAX_BATCH)) {
            out.extend(workitems::create_many(&self.api, &self.states, &t, chunk, progress).await);
        }
        out
    }

    fn bulk_size(&self) -> usize {
        MAX_BATCH
    }

    async fn delete(
        &self,
        mapping: &MappingConfig,
        remote: &RemoteRef,
    ) -> Result<(), TrackerError> {
        workitems::delete(&self.api, &fields::target(mapping)?, remote).await
    }

    async fn options(&self, mapping: &MappingConfig) -> Result<MappingOptions, TrackerError> {
        check::options(&self.api, mapping).await
    }
}
