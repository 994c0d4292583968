//! The Jira client: Jira Cloud (REST API v3, Atlassian Document Format, Basic e-mail and API
//! token or OAuth 2.0 through Atlassian's gateway) and Jira Data Center (REST API v2, wiki
//! markup, personal access tokens, Basic, or OAuth 2.0 against the site). Statuses are reached
//! through the project's workflow; bulk creation goes 50 issues a request; admin webhooks
//! bring changes back, signed.

mod adf;
mod api;
mod check;
mod fields;
mod find;
mod hooks;
mod issues;
mod markdown;
mod meta;
pub mod webhook;
mod wiki;
mod workflow;

pub use api::Flavour;

use crate::{
    CheckReport, Connection, FoundTicket, HttpClient, MappingOptions, Progress, RemoteRef,
    TrackerError,
};
use domain::tracker::{Changes, MappingConfig, Marker, TicketFields, Vendor};
use secrecy::SecretString;

pub struct Jira {
    api: api::Api,
    cache: meta::Cache,
}

impl std::fmt::Debug for Jira {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jira")
            .field("site", &self.api.site())
            .field("flavour", &self.api.flavour())
            .finish_non_exhaustive()
    }
}

impl Jira {
    pub fn new(conn: Connection, http: HttpClient) -> Result<Jira, TrackerError> {
        Ok(Jira {
            api: api::Api::new(&conn, http)?,
            cache: meta::Cache::default(),
        })
    }

    /// Cloud or Data Center, as detected from the location and the credentials.
    pub fn flavour(&self) -> Flavour {
        self.api.flavour()
    }
}

#[async_trait::async_trait]
impl crate::Tracker for Jira {
    fn vendor(&self) -> Vendor {
        Vendor::Jira
    }

    async fn check(&self, mapping: Option<&MappingConfig>) -> CheckReport {
        check::check(&self.api, &self.cache, mapping).await
    }

    async fn create(
        &self,
        mapping: &MappingConfig,
        fields: &TicketFields,
        marker: &Marker,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        issues::create(&self.api, &self.cache, mapping, fields, marker, progress).await
    }

    async fn update(
        &self,
        mapping: &MappingConfig,
        remote: &RemoteRef,
        changes: &Changes,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        issues::update(&self.api, &self.cache, mapping, remote, changes, progress).await
    }

    async fn find_by_marker(
        &self,
        mapping: &MappingConfig,
        marker: &Marker,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<FoundTicket>, TrackerError> {
        find::find_by_marker(&self.api, mapping, marker, since).await
    }

    async fn register_webhook(
        &self,
        mapping: &MappingConfig,
        url: &url::Url,
        secret: &SecretString,
    ) -> Result<(), TrackerError> {
        let t = fields::target(mapping)?;
        hooks::register(&self.api, t.project, url, secret).await
    }

    async fn create_many(
        &self,
        mapping: &MappingConfig,
        items: &[(TicketFields, Marker)],
        progress: &mut [Progress],
    ) -> Vec<Result<(), TrackerError>> {
        issues::create_many(&self.api, &self.cache, mapping, items, progress).await
    }

    fn bulk_size(&self) -> usize {
        issues::BULK_MAX
    }

    async fn delete(
        &self,
        mapping: &MappingConfig,
        remote: &RemoteRef,
    ) -> Result<(), TrackerError> {
        issues::delete(&self.api, mapping, remote).await
    }

    async fn relate(
        &self,
        _mapping: &MappingConfig,
        from: &RemoteRef,
        to: &RemoteRef,
    ) -> Result<(), TrackerError> {
        issues::relate(&self.api, &self.cache, from, to).await
    }

    async fn options(&self, mapping: &MappingConfig) -> Result<MappingOptions, TrackerError> {
        check::options(&self.api, &self.cache, mapping).await
    }
}
