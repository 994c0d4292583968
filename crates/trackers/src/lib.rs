//! Tracker clients: one module per vendor behind the [`Tracker`] trait.
//!
//! A tracker client turns the engine's decisions (create these fields, send these changes)
//! into the vendor's calls, and the vendor's webhooks into [`webhook::InboundEvent`]s. It keeps
//! no state between calls besides caches of ids it looked up; everything durable (what was
//! sent, which remote ticket belongs to which finding) is the engine's.
//!
//! Layering: the engine calls trackers; trackers call the network through [`http::HttpClient`],
//! which asks a [`limit::Limiter`] (the engine's, shared across processes through the database)
//! before every request and classifies every failure into a [`TrackerError`].

pub mod azure_devops;
pub mod check;
pub mod error;
pub mod github;
pub mod gitlab;
pub mod http;
pub mod jira;
pub mod limit;
pub mod oauth;
pub mod outbound;
pub mod servicenow;
pub mod webhook;

pub use check::{Check, CheckReport};
pub use error::TrackerError;
pub use http::HttpClient;
pub use limit::{Limiter, NoLimits, RateInfo, RequestClass};

use async_trait::async_trait;
pub use domain::tracker::Part;
use domain::tracker::{Changes, MappingConfig, Marker, TicketFields, Vendor};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What an Integration Instance gives a client: where the tracker is and how to sign in.
#[derive(Clone, Debug)]
pub struct Connection {
    pub vendor: Vendor,
    /// The instance's location as the user gave it (`https://github.com/acme`,
    /// `https://gitlab.example.com/`).
    pub location: url::Url,
    pub credentials: Credentials,
}

/// An instance's credentials, decrypted only for the call. `Debug` never shows them.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A personal access token: GitHub and GitLab tokens, a Jira Data Center personal access
    /// token (sent as `Bearer`), an Azure DevOps PAT (sent as Basic with an empty user name).
    Token(SecretString),
    /// A user name and a password or API token, sent as HTTP Basic (Jira Cloud: e-mail and API
    /// token; ServiceNow: a user and password).
    Basic { username: String, password: SecretString },
    /// OAuth 2.0 with a refresh token (ServiceNow, Jira): access tokens obtained and refreshed
    /// through the session.
    OAuth(Arc<oauth::OAuthSession>),
}

impl Credentials {
    /// What kind of credentials, for messages (`a token`, `Basic credentials`, `OAuth`).
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::Token(_) => "a token",
            Credentials::Basic { .. } => "a user name and password",
            Credentials::OAuth(_) => "OAuth",
        }
    }
}

/// A remote ticket's identity, as stored on our ticket record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRef {
    /// Stable and unique within the instance; what webhooks name (GitHub issue node id,
    /// GitLab global issue id).
    pub id: String,
    /// What people call it (`acme/api#12`).
    pub key: String,
    pub url: String,
    /// Whatever else the client needs for later calls (issue number, project item id…);
    /// stored as is and handed back.
    #[serde(default)]
    pub data: serde_json::Value,
}

/// A ticket found by its marker, with what it shows now.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundTicket {
    pub remote: RemoteRef,
    pub open: bool,
}

/// A change to a ticket found by a reconcile poll (a tracker whose webhooks may be missed).
#[derive(Clone, Debug, PartialEq)]
pub struct PolledChange {
    pub event: webhook::InboundEvent,
    /// When the tracker says the ticket last changed: the next poll starts from the latest.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Values a mapping may choose from, read from the tracker (the project's statuses,
/// priorities, issue types…), for forms and for checking a mapping.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MappingOptions {
    /// Status values (Jira statuses, Azure DevOps states, ServiceNow state choices), with
    /// whether each counts as closed.
    pub statuses: Vec<OptionValue>,
    /// Values of the severity field (Jira priorities, ServiceNow impact choices, …).
    pub severities: Vec<OptionValue>,
    /// Issue or work item types, or tables.
    pub types: Vec<OptionValue>,
    /// Components (Jira).
    pub components: Vec<OptionValue>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OptionValue {
    /// What the mapping stores (a name, or the tracker's value such as ServiceNow's `6`).
    pub value: String,
    /// What people see.
    pub label: String,
    /// For statuses: whether the tracker counts it as closed (Jira status category `done`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<bool>,
}

/// What a create or update got done, filled in as it goes (also when it fails).
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// Set as soon as the remote ticket exists.
    pub remote: Option<RemoteRef>,
    pub done: BTreeSet<Part>,
}

impl Progress {
    pub fn did(&mut self, part: Part) {
        self.done.insert(part);
    }
    pub fn did_all(&mut self, parts: impl IntoIterator<Item = Part>) {
        self.done.extend(parts);
    }
}

/// One tracker vendor's client, bound to an instance's connection.
#[async_trait]
pub trait Tracker: Send + Sync {
    fn vendor(&self) -> Vendor;

    /// Checks the credentials (valid, scopes), and with a mapping its target: the project
    /// exists and is writable, the severity and status fields and every mapped value exist.
    /// Each failing check says exactly what is wrong.
    async fn check(&self, mapping: Option<&MappingConfig>) -> CheckReport;

    /// Creates a ticket with these fields, the marker hidden in it. Sets `progress.remote` as
    /// soon as the ticket exists, then each part as it is applied.
    async fn create(
        &self,
        mapping: &MappingConfig,
        fields: &TicketFields,
        marker: &Marker,
        progress: &mut Progress,
    ) -> Result<(), TrackerError>;

    /// Sends these changes to an existing ticket, recording each part applied.
    async fn update(
        &self,
        mapping: &MappingConfig,
        remote: &RemoteRef,
        changes: &Changes,
        progress: &mut Progress,
    ) -> Result<(), TrackerError>;

    /// Looks for the ticket carrying this marker, created at or after `since` (a create whose
    /// reply was lost). Uses exact list endpoints, not search indexes that lag.
    async fn find_by_marker(
        &self,
        mapping: &MappingConfig,
        marker: &Marker,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<FoundTicket>, TrackerError>;

    /// Registers (or updates) the tracker's webhook for the mapping's project so that ticket
    /// changes reach `url`, signed or authenticated with `secret`.
    async fn register_webhook(
        &self,
        mapping: &MappingConfig,
        url: &url::Url,
        secret: &SecretString,
    ) -> Result<(), TrackerError>;

    /// Creates several tickets, with the vendor's bulk API where there is one (Jira: 50 a
    /// request; Azure DevOps `$batch`; ServiceNow's Batch API). One result and one progress per
    /// item, in order: a bulk request may succeed for some items and fail for others. The
    /// default creates them one by one.
    async fn create_many(
        &self,
        mapping: &MappingConfig,
        items: &[(TicketFields, Marker)],
        progress: &mut [Progress],
    ) -> Vec<Result<(), TrackerError>> {
        let mut out = Vec::with_capacity(items.len());
        for ((fields, marker), p) in items.iter().zip(progress.iter_mut()) {
            out.push(self.create(mapping, fields, marker, p).await);
        }
        out
    }

    /// The largest batch `create_many` sends in one request (1: no bulk API).
    fn bulk_size(&self) -> usize {
        1
    }

    /// Deletes a ticket (Jira's "delete issues for rejected findings").
    async fn delete(&self, _mapping: &MappingConfig, _remote: &RemoteRef) -> Result<(), TrackerError> {
        Err(TrackerError::Misconfigured(format!("{} tickets are not deleted by vulnbridge", self.vendor().label())))
    }

    /// Relates a ticket to another (Jira: an issue link from the security issue to its
    /// product issue). The default does nothing: the tracker has no such relation.
    async fn relate(&self, _mapping: &MappingConfig, _from: &RemoteRef, _to: &RemoteRef) -> Result<(), TrackerError> {
        Ok(())
    }

    /// Changes to the mapping's tickets since `since`, for a periodic reconcile (ServiceNow,
    /// whose business rules may miss or drop calls). The mapping's tickets are those whose
    /// marker starts with `marker_prefix` (`Marker::mapping_prefix`). `None`: the tracker is
    /// not polled.
    async fn changes_since(
        &self,
        _mapping: &MappingConfig,
        _marker_prefix: &str,
        _since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Vec<PolledChange>>, TrackerError> {
        Ok(None)
    }

    /// The values a mapping of this target may choose from (for forms and checks).
    async fn options(&self, _mapping: &MappingConfig) -> Result<MappingOptions, TrackerError> {
        Ok(MappingOptions::default())
    }
}

/// Builds the client for an instance.
pub fn client(
    conn: Connection,
    limiter: Arc<dyn Limiter>,
    policy: &outbound::OutboundPolicy,
) -> Result<Arc<dyn Tracker>, TrackerError> {
    let http = HttpClient::new(conn.vendor.as_str(), limiter, policy)?;
    match conn.vendor {
        Vendor::GitHub => Ok(Arc::new(github::GitHub::new(conn, http)?)),
        Vendor::GitLab => Ok(Arc::new(gitlab::GitLab::new(conn, http)?)),
        Vendor::AzureDevops => Ok(Arc::new(azure_devops::AzureDevOps::new(conn, http)?)),
        Vendor::Jira => Ok(Arc::new(jira::Jira::new(conn, http)?)),
        Vendor::ServiceNow => Ok(Arc::new(servicenow::ServiceNow::new(conn, http)?)),
    }
}

/// The vendors [`client`] can build.
pub const SUPPORTED: [Vendor; 5] = [Vendor::GitHub, Vendor::GitLab, Vendor::Jira, Vendor::ServiceNow, Vendor::AzureDevops];
