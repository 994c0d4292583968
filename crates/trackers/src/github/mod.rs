//! The GitHub client: issues in a repository (REST), optionally added to a Projects (v2)
//! project whose single-select fields carry priority and status (GraphQL). Without a project,
//! priority and status are labels (`Priority: P2`).
//!
//! Calls per push (warm project cache): a create is the issue, the project item and one
//! request setting every field (+ a close when the ticket starts closed); an update sends
//! only what changed — one PATCH for title/body/state, one call per label change, one request
//! for all project fields, one for the comment.

mod api;
mod check;
mod fields;
mod find;
mod hooks;
mod project;
mod push;
pub mod webhook;

use crate::{CheckReport, Connection, FoundTicket, HttpClient, Progress, RemoteRef, TrackerError};
use api::Api;
use domain::tracker::{Changes, MappingConfig, MappingTarget, Marker, TicketFields, Vendor};
use secrecy::SecretString;

/// A GitHub instance's client. It keeps the projects it looked up (ids of the project, its
/// fields and options), re-reading one when GitHub no longer knows a cached id.
pub struct GitHub {
    api: Api,
    cache: project::Cache,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("rest", &self.api.rest)
            .field("owner", &self.api.owner)
            .finish_non_exhaustive()
    }
}

impl GitHub {
    pub fn new(conn: Connection, http: HttpClient) -> Result<GitHub, TrackerError> {
        Ok(GitHub {
            api: Api::new(&conn, http)?,
            cache: project::Cache::default(),
        })
    }

    /// The owner (organization or user) the instance location names.
    pub fn owner(&self) -> &str {
        &self.api.owner
    }

    /// The REST API base (`https://api.github.com`, `https://ghe.example.com/api/v3`).
    pub fn rest_base(&self) -> &str {
        &self.api.rest
    }

    /// The GraphQL endpoint.
    pub fn graphql_url(&self) -> &url::Url {
        &self.api.graphql
    }
}

/// The mapping's repository and project number.
fn target(m: &MappingConfig) -> Result<(&str, Option<u32>), TrackerError> {
    match &m.target {
        MappingTarget::GitHub {
            repository,
            project_number,
        } => Ok((repository, *project_number)),
        other => Err(TrackerError::Misconfigured(format!(
            "a {} mapping cannot push to GitHub",
            other.vendor().label()
        ))),
    }
}

/// The issue's number from our record: `data.number`, else the key's `#12`.
fn issue_number(remote: &RemoteRef) -> Result<u64, TrackerError> {
    remote
        .data
        .get("number")
        .and_then(serde_json::Value::as_u64)
        .or_else(|| {
            remote
                .key
                .rsplit_once('#')
                .and_then(|(_, n)| n.parse().ok())
        })
        .ok_or_else(|| {
            TrackerError::Misconfigured(format!(
                "the ticket record {} names no issue number",
                remote.key
            ))
        })
}

#[async_trait::async_trait]
impl crate::Tracker for GitHub {
    fn vendor(&self) -> Vendor {
        Vendor::GitHub
    }

    async fn check(&self, mapping: Option<&MappingConfig>) -> CheckReport {
        self.run_checks(mapping).await
    }

    async fn create(
        &self,
        mapping: &MappingConfig,
        fields: &TicketFields,
        marker: &Marker,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        self.push_create(mapping, fields, marker, progress).await
    }

    async fn update(
        &self,
        mapping: &MappingConfig,
        remote: &RemoteRef,
        changes: &Changes,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        self.push_update(mapping, remote, changes, progress).await
    }

    async fn find_by_marker(
        &self,
        mapping: &MappingConfig,
        marker: &Marker,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<FoundTicket>, TrackerError> {
        self.find(mapping, marker, since).await
    }

    async fn register_webhook(
        &self,
        mapping: &MappingConfig,
        url: &url::Url,
        secret: &SecretString,
    ) -> Result<(), TrackerError> {
        self.register_hooks(mapping, url, secret).await
    }
}
