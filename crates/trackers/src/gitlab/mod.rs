//! The GitLab client: project issues through the REST API v4, with `PRIVATE-TOKEN`
//! authentication, severity and non-native statuses as scoped labels, and project hooks for
//! two-way sync. See `fields` for how ticket fields map to an issue.

mod api;
mod check;
mod fields;
mod hooks;
mod issues;
pub mod webhook;

use crate::{CheckReport, Connection, FoundTicket, HttpClient, Progress, RemoteRef, TrackerError};
use domain::tracker::{Changes, MappingConfig, MappingTarget, Marker, TicketFields, Vendor};
use secrecy::SecretString;

pub struct GitLab {
    conn: Connection,
    api: api::Api,
}

impl std::fmt::Debug for GitLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLab")
            .field("location", &self.conn.location.as_str())
            .finish_non_exhaustive()
    }
}

impl GitLab {
    pub fn new(conn: Connection, http: HttpClient) -> Result<GitLab, TrackerError> {
        let api = api::Api::new(&conn, http)?;
        Ok(GitLab { conn, api })
    }
}

/// The project a mapping targets (a path or a numeric id).
fn project(mapping: &MappingConfig) -> Result<&str, TrackerError> {
    match &mapping.target {
        MappingTarget::GitLab { project } => Ok(project.trim().trim_matches('/')),
        other => Err(TrackerError::Misconfigured(format!(
            "the mapping targets {}, which is not a GitLab project",
            other.describe()
        ))),
    }
}

#[async_trait::async_trait]
impl crate::Tracker for GitLab {
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
        _marker: &Marker,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        // The marker is already in the body (as hidden text) and its label in the labels.
        issues::create(&self.api, mapping, project(mapping)?, fields, progress).await
    }

    async fn update(
        &self,
        mapping: &MappingConfig,
        remote: &RemoteRef,
        changes: &Changes,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        issues::update(&self.api, mapping, remote, changes, progress).await
    }

    async fn find_by_marker(
        &self,
        mapping: &MappingConfig,
        marker: &Marker,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<FoundTicket>, TrackerError> {
        issues::find_by_marker(&self.api, project(mapping)?, marker, since).await
    }

    async fn register_webhook(
        &self,
        mapping: &MappingConfig,
        url: &url::Url,
        secret: &SecretString,
    ) -> Result<(), TrackerError> {
        hooks::register(&self.api, project(mapping)?, url, secret).await
    }
}
