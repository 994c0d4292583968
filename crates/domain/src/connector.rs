//! Connectors: a scanner pulled through its API on a schedule. Discover learns the tool's own
//! structure as Records (a project, a site, an account and region…); each Record is mapped to
//! a Product, by hand or automatically; Sync reimports each mapped Record's findings.
//!
//! The pure rules live here: the tools, the Record states and how a Discover changes them,
//! and the schedule of full and incremental pulls.

use crate::{ConnectorId, ProductId, RecordId, ValidationError};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// A scanner vulnbridge pulls from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    AwsSecurityHub,
    BurpSuite,
    CheckmarxOne,
    DependencyTrack,
    Probely,
    Semgrep,
    #[serde(rename = "sonarqube")]
    SonarQube,
    Snyk,
    Tenable,
}

impl Tool {
    pub const ALL: [Tool; 9] = [
        Tool::AwsSecurityHub,
        Tool::BurpSuite,
        Tool::CheckmarxOne,
        Tool::DependencyTrack,
        Tool::Probely,
        Tool::Semgrep,
        Tool::SonarQube,
        Tool::Snyk,
        Tool::Tenable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tool::AwsSecurityHub => "aws_security_hub",
            Tool::BurpSuite => "burp_suite",
            Tool::CheckmarxOne => "checkmarx_one",
            Tool::DependencyTrack => "dependency_track",
            Tool::Probely => "probely",
            Tool::Semgrep => "semgrep",
            Tool::SonarQube => "sonarqube",
            Tool::Snyk => "snyk",
            Tool::Tenable => "tenable",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tool::AwsSecurityHub => "AWS Security Hub",
            Tool::BurpSuite => "BurpSuite",
            Tool::CheckmarxOne => "Checkmarx ONE",
            Tool::DependencyTrack => "Dependency-Track",
            Tool::Probely => "Probely",
            Tool::Semgrep => "Semgrep",
            Tool::SonarQube => "SonarQube",
            Tool::Snyk => "Snyk",
            Tool::Tenable => "Tenable",
        }
    }

    /// Accepts the API spelling and the label, ignoring case, spaces, `-` and `_`.
    pub fn parse(input: &str) -> Option<Tool> {
        let norm: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '_')).collect::<String>().to_ascii_lowercase();
        Tool::ALL.into_iter().find(|t| {
            t.as_str().replace('_', "") == norm || t.label().to_ascii_lowercase().replace([' ', '-'], "") == norm
        })
            .or(match norm.as_str() {
                "securityhub" | "awssecurityhub" => Some(Tool::AwsSecurityHub),
                "burp" | "burpsuiteenterprise" | "burpsuitedast" => Some(Tool::BurpSuite),
                "checkmarx" | "cxone" => Some(Tool::CheckmarxOne),
                "dtrack" | "dependencytrack" => Some(Tool::DependencyTrack),
                "sonarcloud" | "sonar" => Some(Tool::SonarQube),
                "tenableio" | "tenablevm" => Some(Tool::Tenable),
                _ => None,
            })
    }

    /// The scan type of the Tests a connector of this tool writes (one Test per connector in
    /// the Record's Product's "Global Connectors" engagement).
    pub fn scan_type(self) -> &'static str {
        match self {
            Tool::AwsSecurityHub => "AWS Security Hub (connector)",
            Tool::BurpSuite => "BurpSuite (connector)",
            Tool::CheckmarxOne => "Checkmarx ONE (connector)",
            Tool::DependencyTrack => "Dependency-Track (connector)",
            Tool::Probely => "Probely (connector)",
            Tool::Semgrep => "Semgrep (connector)",
            Tool::SonarQube => "SonarQube (connector)",
            Tool::Snyk => "Snyk (connector)",
            Tool::Tenable => "Tenable (connector)",
        }
    }

    /// What one Record of this tool is, in the tool's words.
    pub fn record_kind(self) -> &'static str {
        match self {
            Tool::AwsSecurityHub => "account and region",
            Tool::BurpSuite => "site",
            Tool::CheckmarxOne => "project",
            Tool::DependencyTrack => "project",
            Tool::Probely => "target",
            Tool::Semgrep => "project",
            Tool::SonarQube => "project",
            Tool::Snyk => "project",
            Tool::Tenable => "scan",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The engagement connectors' findings go into, in every mapped Product.
pub const CONNECTORS_ENGAGEMENT: &str = "Global Connectors";

/// A connection to one scanner. Its secrets are stored encrypted and never shown.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Connector {
    pub id: ConnectorId,
    pub tool: Tool,
    pub label: String,
    /// Where the tool's API is (`https://semgrep.dev`, `https://sonarqube.example.com`).
    pub location: String,
    pub settings: ConnectorSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How a connector runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSettings {
    /// Minutes between scheduled Discovers (0: by hand only).
    #[serde(default = "daily")]
    pub discover_every_minutes: u32,
    /// Minutes between scheduled Syncs (0: by hand only).
    #[serde(default = "hourly")]
    pub sync_every_minutes: u32,
    /// Map each newly discovered Record to a Product of its own name (made if missing).
    #[serde(default)]
    pub auto_map: bool,
    /// For tools whose API pulls only what changed: every this many Syncs is a full pull,
    /// which also closes findings the tool no longer reports.
    #[serde(default = "every_fourth")]
    pub full_sync_every: u32,
    /// Tool-specific options (Checkmarx `branch`/`per_branch`, SonarQube `organization` and
    /// `hotspots`, Snyk `org`/`api_version`, AWS `regions`, Tenable `states`…).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

fn daily() -> u32 {
    24 * 60
}
fn hourly() -> u32 {
    60
}
fn every_fourth() -> u32 {
    4
}

impl Default for ConnectorSettings {
    fn default() -> Self {
        ConnectorSettings {
            discover_every_minutes: daily(),
            sync_every_minutes: hourly(),
            auto_map: false,
            full_sync_every: every_fourth(),
            options: Default::default(),
        }
    }
}

impl ConnectorSettings {
    pub fn check(&self) -> Result<(), ValidationError> {
        for (field, v) in [("settings.discover_every_minutes", self.discover_every_minutes), ("settings.sync_every_minutes", self.sync_every_minutes)] {
            if v != 0 && !(5..=60 * 24 * 30).contains(&v) {
                return Err(ValidationError::new(field, "must be 0 (by hand only) or 5 to 43,200 minutes"));
            }
        }
        if self.full_sync_every == 0 || self.full_sync_every > 1000 {
            return Err(ValidationError::new("settings.full_sync_every", "must be 1 to 1000"));
        }
        Ok(())
    }

    /// Whether the `n`th Sync of a Record (counting from 0) pulls everything.
    pub fn is_full_sync(&self, syncs_so_far: u32) -> bool {
        syncs_so_far.is_multiple_of(self.full_sync_every.max(1))
    }
}

/// Where a Record is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// Discovered, not mapped to a Product yet.
    New,
    /// Mapped: its findings are synced.
    Good,
    /// A person chose not to sync it; Discover keeps it so.
    Ignored,
    /// Its Product was deleted: not synced until mapped again.
    Stale,
    /// The tool no longer reports it (findings already imported stay).
    Missing,
}

impl RecordState {
    pub const ALL: [RecordState; 5] = [RecordState::New, RecordState::Good, RecordState::Ignored, RecordState::Stale, RecordState::Missing];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::New => "new",
            RecordState::Good => "good",
            RecordState::Ignored => "ignored",
            RecordState::Stale => "stale",
            RecordState::Missing => "missing",
        }
    }

    pub fn parse(s: &str) -> Option<RecordState> {
        RecordState::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One organisational unit of a tool (a project, a site, an account and region…).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Record {
    pub id: RecordId,
    pub connector: ConnectorId,
    /// The tool's own id for it (never its name, which may change).
    pub external_id: String,
    pub name: String,
    pub state: RecordState,
    pub product: Option<ProductId>,
    /// What the tool says about it (branch, URL, last analysis…).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub first_discovered_at: DateTime<Utc>,
    pub last_discovered_at: DateTime<Utc>,
    /// Who last decided about it (mapped, ignored, restored), and when.
    pub finalized_by: Option<String>,
    pub finalized_at: Option<DateTime<Utc>>,
    /// Syncs of it so far (the schedule of full pulls counts them).
    pub syncs: i32,
    /// Where the next incremental pull starts (the tool's watermark).
    pub cursor: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

/// What Discover found in the tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscoveredRecord {
    pub external_id: String,
    pub name: String,
    #[serde(default)]
    pub metadata: serde_json::Value,
}

/// What a Discover does to one Record.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordChange {
    /// New to us: created `new` (or `good`, mapped to a Product by auto-map).
    Create(DiscoveredRecord),
    /// Seen again: name and metadata refreshed; the state becomes `state`.
    Refresh { id: RecordId, found: DiscoveredRecord, state: RecordState },
    /// No longer reported by the tool.
    Missing { id: RecordId },
    /// Its Product is gone.
    Stale { id: RecordId },
}

/// The pure rules of a Discover: `existing` Records (with whether their Product still exists)
/// against what the tool reports now.
/// - new to us → created (`new`);
/// - seen again → refreshed; `missing` comes back (`good` if its Product exists, else `new`);
///   `ignored` stays ignored; a `good` Record whose Product was deleted becomes `stale`;
/// - not reported any more → `missing` (an `ignored` one stays ignored);
/// - a Record deleted by a person is simply not in `existing`: it comes back as new.
pub fn discover_changes(existing: &[(Record, bool)], found: &[DiscoveredRecord]) -> Vec<RecordChange> {
    let by_id: HashMap<&str, &(Record, bool)> = existing.iter().map(|e| (e.0.external_id.as_str(), e)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for f in found {
        if !seen.insert(f.external_id.as_str()) {
            continue;
        }
        match by_id.get(f.external_id.as_str()) {
            None => out.push(RecordChange::Create(f.clone())),
            Some((r, product_exists)) => {
                let mapped = r.product.is_some() && *product_exists;
                let state = match r.state {
                    RecordState::Ignored => RecordState::Ignored,
                    RecordState::Good | RecordState::Stale if !mapped => RecordState::Stale,
                    RecordState::Missing | RecordState::Stale if mapped => RecordState::Good,
                    RecordState::Missing => RecordState::New,
                    other => other,
                };
                out.push(RecordChange::Refresh { id: r.id, found: f.clone(), state });
            }
        }
    }
    for (r, product_exists) in existing {
        if seen.contains(r.external_id.as_str()) {
            continue;
        }
        match r.state {
            RecordState::Ignored | RecordState::Missing => {}
            RecordState::Good if r.product.is_none() || !product_exists => out.push(RecordChange::Stale { id: r.id }),
            _ => out.push(RecordChange::Missing { id: r.id }),
        }
    }
    out
}

/// One run of Discover or Sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    Discover,
    Sync,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Discover => "discover",
            OperationKind::Sync => "sync",
        }
    }
    pub fn parse(s: &str) -> Option<OperationKind> {
        [OperationKind::Discover, OperationKind::Sync].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    /// Queued, waiting for a worker (or for a run of the same kind to finish).
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Pending => "pending",
            OperationStatus::Running => "running",
            OperationStatus::Succeeded => "succeeded",
            OperationStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<OperationStatus> {
        [OperationStatus::Pending, OperationStatus::Running, OperationStatus::Succeeded, OperationStatus::Failed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationTrigger {
    Scheduled,
    Manual,
}

impl OperationTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationTrigger::Scheduled => "scheduled",
            OperationTrigger::Manual => "manual",
        }
    }
    pub fn parse(s: &str) -> Option<OperationTrigger> {
        [OperationTrigger::Scheduled, OperationTrigger::Manual].into_iter().find(|k| k.as_str() == s)
    }
}

/// One run of Discover or Sync, as the operations log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Operation {
    pub id: crate::OperationId,
    pub connector: ConnectorId,
    pub kind: OperationKind,
    pub status: OperationStatus,
    pub trigger: OperationTrigger,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// What it did: records new / refreshed / missing / stale; findings created, updated,
    /// closed, reactivated, untouched; records synced and failed.
    #[schema(value_type = Object)]
    pub counts: serde_json::Value,
    /// Why it failed (redacted).
    pub error: Option<String>,
}

/// When a schedule of `every_minutes` is next due after a run at `from`.
pub fn next_run(from: DateTime<Utc>, every_minutes: u32) -> Option<DateTime<Utc>> {
    (every_minutes > 0).then(|| from + TimeDelta::minutes(i64::from(every_minutes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, ext: &str, state: RecordState, product: Option<i64>) -> Record {
        Record {
            id: RecordId(id),
            connector: ConnectorId(1),
            external_id: ext.into(),
            name: ext.into(),
            state,
            product: product.map(ProductId),
            metadata: serde_json::Value::Null,
            first_discovered_at: Utc::now(),
            last_discovered_at: Utc::now(),
            finalized_by: None,
            finalized_at: None,
            syncs: 0,
            cursor: None,
            last_synced_at: None,
        }
    }

    fn found(ext: &str) -> DiscoveredRecord {
        DiscoveredRecord { external_id: ext.into(), name: format!("{ext} renamed"), metadata: serde_json::Value::Null }
    }

    #[test]
    fn every_record_state_transition() {
        let existing = vec![
            (record(1, "good", RecordState::Good, Some(10)), true),
            (record(2, "new", RecordState::New, None), true),
            (record(3, "ignored", RecordState::Ignored, None), true),
            (record(4, "missing-mapped", RecordState::Missing, Some(11)), true),
            (record(5, "missing-unmapped", RecordState::Missing, None), true),
            (record(6, "product-deleted", RecordState::Good, Some(12)), false),
            (record(7, "stale-remapped", RecordState::Stale, Some(13)), true),
            (record(8, "gone-good", RecordState::Good, Some(14)), true),
            (record(9, "gone-ignored", RecordState::Ignored, None), true),
            (record(10, "gone-new", RecordState::New, None), true),
            (record(11, "gone-missing", RecordState::Missing, None), true),
            (record(12, "gone-product-deleted", RecordState::Good, Some(15)), false),
        ];
        let now = ["good", "new", "ignored", "missing-mapped", "missing-unmapped", "product-deleted", "stale-remapped", "brand-new", "brand-new"]
            .map(found);
        let changes = discover_changes(&existing, &now);
        let refreshed = |id: i64| {
            changes.iter().find_map(|c| match c {
                RecordChange::Refresh { id: i, state, .. } if i.0 == id => Some(*state),
                _ => None,
            })
        };
        assert_eq!(refreshed(1), Some(RecordState::Good));
        assert_eq!(refreshed(2), Some(RecordState::New));
        assert_eq!(refreshed(3), Some(RecordState::Ignored), "ignored stays ignored");
        assert_eq!(refreshed(4), Some(RecordState::Good), "missing comes back mapped");
        assert_eq!(refreshed(5), Some(RecordState::New), "missing comes back unmapped");
        assert_eq!(refreshed(6), Some(RecordState::Stale), "its product was deleted");
        assert_eq!(refreshed(7), Some(RecordState::Good), "remapped after going stale");
        assert_eq!(changes.iter().filter(|c| matches!(c, RecordChange::Create(f) if f.external_id == "brand-new")).count(), 1, "once, however often reported");
        assert!(changes.contains(&RecordChange::Missing { id: RecordId(8) }));
        assert!(changes.contains(&RecordChange::Missing { id: RecordId(10) }));
        assert!(changes.contains(&RecordChange::Stale { id: RecordId(12) }));
        assert!(!changes.iter().any(|c| matches!(c, RecordChange::Missing { id } | RecordChange::Stale { id } if id.0 == 9 || id.0 == 11)));
    }

    #[test]
    fn tools_parse_and_schedules_count() {
        for t in Tool::ALL {
            assert_eq!(Tool::parse(t.as_str()), Some(t));
            assert_eq!(Tool::parse(t.label()), Some(t));
        }
        assert_eq!(Tool::parse("SonarCloud"), Some(Tool::SonarQube));
        assert_eq!(Tool::parse("nessus"), None);
        let s = ConnectorSettings { full_sync_every: 3, ..Default::default() };
        assert_eq!((0..7).map(|n| s.is_full_sync(n)).collect::<Vec<_>>(), [true, false, false, true, false, false, true]);
        assert_eq!(s.check(), Ok(()));
        assert_eq!(ConnectorSettings { sync_every_minutes: 2, ..Default::default() }.check().unwrap_err().field, "settings.sync_every_minutes");
        assert_eq!(next_run(DateTime::from_timestamp(0, 0).unwrap(), 0), None);
    }
}
