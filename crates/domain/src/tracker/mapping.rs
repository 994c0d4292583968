//! What an Issue Tracker Mapping says: where tickets go, how severity and status are written,
//! and how the tracker's changes come back. Plus the Assignment's push mode and filters.

use super::Vendor;
use crate::{Severity, Status, ValidationError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The tracker field that carries severity, and the value written for each severity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityMapping {
    pub field: String,
    pub info: String,
    pub low: String,
    pub medium: String,
    pub high: String,
    pub critical: String,
}

impl SeverityMapping {
    pub fn value(&self, s: Severity) -> &str {
        match s {
            Severity::Info => &self.info,
            Severity::Low => &self.low,
            Severity::Medium => &self.medium,
            Severity::High => &self.high,
            Severity::Critical => &self.critical,
        }
    }

    fn check(&self) -> Result<(), ValidationError> {
        check_value("severity_mapping.field", &self.field)?;
        for (name, v) in [
            ("info", &self.info),
            ("low", &self.low),
            ("medium", &self.medium),
            ("high", &self.high),
            ("critical", &self.critical),
        ] {
            check_value(&format!("severity_mapping.{name}"), v)?;
        }
        Ok(())
    }
}

/// The tracker field that carries status, and the value written for each status. Active,
/// Closed, False Positive and Risk Accepted are required; In Progress and Awaiting Validation
/// are optional and fall back as [`StatusMapping::value`] says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusMapping {
    pub field: String,
    pub active: String,
    pub closed: String,
    pub false_positive: String,
    pub risk_accepted: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_validation: Option<String>,
    /// Further tracker values and the finding status each means, for changes coming back (a
    /// workflow with several "done" statuses: `Won't Fix` → `risk_accepted`). Pushes write
    /// the values above.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub aliases: BTreeMap<String, Status>,
}

impl StatusMapping {
    /// The finding status a tracker value stands for, coming back: an alias, else the status
    /// whose value it is. A value shared by Closed and others reads as Closed; one shared only
    /// by False Positive and Risk Accepted says nothing certain (`None`), nor does an unknown one.
    pub fn meaning(&self, value: &str) -> Option<Status> {
        if let Some(s) = self.aliases.get(value) {
            return Some(*s);
        }
        let mut hits: Vec<Status> = Vec::new();
        for (s, v) in [
            (Status::Active, Some(self.active.as_str())),
            (Status::InProgress, self.in_progress.as_deref()),
            (Status::AwaitingValidation, self.awaiting_validation.as_deref()),
            (Status::Closed, Some(self.closed.as_str())),
            (Status::FalsePositive, Some(self.false_positive.as_str())),
            (Status::RiskAccepted, Some(self.risk_accepted.as_str())),
        ] {
            if v == Some(value) {
                hits.push(s);
            }
        }
        if hits.contains(&Status::Closed) {
            return Some(Status::Closed);
        }
        match hits.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The value for a finding status. Unmapped optional statuses fall back to their nearest
    /// required one: In Progress → Active; Awaiting Validation → Closed (the developers' part is
    /// done; the ticket should not reopen while security checks). Out of Scope is written as
    /// False Positive, Duplicate as Closed.
    pub fn value(&self, s: Status) -> &str {
        match s {
            Status::Active => &self.active,
            Status::InProgress => self.in_progress.as_deref().unwrap_or(&self.active),
            Status::AwaitingValidation => self.awaiting_validation.as_deref().unwrap_or(&self.closed),
            Status::Closed | Status::Duplicate => &self.closed,
            Status::FalsePositive | Status::OutOfScope => &self.false_positive,
            Status::RiskAccepted => &self.risk_accepted,
        }
    }

    fn check(&self) -> Result<(), ValidationError> {
        check_value("status_mapping.field", &self.field)?;
        for (name, v) in [
            ("active", &self.active),
            ("closed", &self.closed),
            ("false_positive", &self.false_positive),
            ("risk_accepted", &self.risk_accepted),
        ] {
            check_value(&format!("status_mapping.{name}"), v)?;
        }
        for (name, v) in [("in_progress", &self.in_progress), ("awaiting_validation", &self.awaiting_validation)] {
            if let Some(v) = v {
                check_value(&format!("status_mapping.{name}"), v)?;
            }
        }
        for k in self.aliases.keys() {
            check_value(&format!("status_mapping.aliases.{k}"), k)?;
        }
        Ok(())
    }
}

fn check_value(field: &str, v: &str) -> Result<(), ValidationError> {
    if v.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty: every severity and status needs a value"));
    }
    if v.chars().count() > 255 || v.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must be one line of at most 255 characters"));
    }
    Ok(())
}

/// The vendor defaults, exactly as DESIGN.md's table gives them (all editable).
pub fn default_severity_mapping(vendor: Vendor) -> SeverityMapping {
    let (field, v): (&str, [&str; 5]) = match vendor {
        Vendor::AzureDevops => ("/fields/Microsoft.VSTS.Common.Priority", ["4", "4", "3", "2", "1"]),
        Vendor::GitHub => ("Priority", ["P0", "P1", "P2", "P3", "P4"]),
        Vendor::GitLab => ("Priority", ["1", "2", "3", "4", "5"]),
        Vendor::ServiceNow => ("Impact", ["1", "1", "2", "3", "3"]),
        // Jira's own default priority scheme; a mapping picks from the project's values.
        Vendor::Jira => ("priority", ["Lowest", "Low", "Medium", "High", "Highest"]),
    };
    SeverityMapping {
        field: field.into(),
        info: v[0].into(),
        low: v[1].into(),
        medium: v[2].into(),
        high: v[3].into(),
        critical: v[4].into(),
    }
}

/// ServiceNow's Impact + Urgency preset (seeds/002): each severity sets both, so that
/// ServiceNow's own priority rule gives the matching priority — Critical 1/1, High 1/2,
/// Medium 2/2, Low 3/2 (and Info, which the seed leaves out, 3/3).
pub fn servicenow_impact_urgency_preset() -> SeverityMapping {
    SeverityMapping {
        field: IMPACT_URGENCY_FIELD.into(),
        info: "3/3".into(),
        low: "3/2".into(),
        medium: "2/2".into(),
        high: "1/2".into(),
        critical: "1/1".into(),
    }
}

/// The severity "field" of the ServiceNow preset: values are `impact/urgency`.
pub const IMPACT_URGENCY_FIELD: &str = "impact+urgency";

pub fn default_status_mapping(vendor: Vendor) -> StatusMapping {
    let (field, v): (&str, [&str; 4]) = match vendor {
        Vendor::AzureDevops => ("/fields/System.State", ["To Do", "Done", "Done", "Done"]),
        Vendor::GitHub => ("Status", ["In Progress", "Done", "Done", "Done"]),
        Vendor::GitLab => ("Status", ["opened", "closed", "closed", "closed"]),
        Vendor::ServiceNow => ("State", ["New", "Closed", "Resolved", "Resolved"]),
        Vendor::Jira => ("status", ["To Do", "Done", "Done", "Done"]),
    };
    StatusMapping {
        field: field.into(),
        active: v[0].into(),
        closed: v[1].into(),
        false_positive: v[2].into(),
        risk_accepted: v[3].into(),
        in_progress: None,
        awaiting_validation: None,
        aliases: BTreeMap::new(),
    }
}

pub const DEFAULT_TITLE_TEMPLATE: &str = "[VULNBRIDGE] {{ id }} - {{ title }}";

/// Where in the tracker a mapping's tickets go. One variant per vendor vulnbridge can push to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "vendor", rename_all = "snake_case", deny_unknown_fields)]
pub enum MappingTarget {
    /// A repository's issues, optionally added to a Projects (v2) project whose single-select
    /// fields carry priority and status.
    #[serde(rename = "github")]
    GitHub {
        /// The repository name, under the instance's owner (`acme` in `https://github.com/acme`).
        repository: String,
        /// The project number from its URL (`…/projects/7`). Without a project, priority and
        /// status are written as labels (`Priority: P2`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        project_number: Option<u32>,
    },
    /// A project's issues.
    #[serde(rename = "gitlab")]
    GitLab {
        /// The project's path (`group/project`) or numeric id.
        project: String,
    },
    /// A Jira project ("team space"): issues of one type.
    Jira {
        /// The project key (`SEC`).
        project: String,
        /// The issue type's name (`Bug`, `Task`, `Vulnerability`).
        issue_type: String,
        /// `product` (the developers' space) or `security` (the security team's). A finding
        /// pushed to both gets a security issue and a product issue, linked.
        #[serde(default)]
        space: JiraSpace,
        /// Components set on every issue.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<String>,
        /// Set the issue's priority from the severity mapping (off: Jira's default priority).
        #[serde(default = "yes")]
        priority: bool,
        /// Delete the issue of a finding marked false positive. Off by default: a deleted
        /// issue cannot be brought back, and dismissing a finding by mistake deletes its issue.
        #[serde(default)]
        delete_rejected: bool,
        /// Product space: an issue done closes its finding (and so its security issue). Off:
        /// the security team closes findings itself.
        #[serde(default)]
        close_security_issue_when_done: bool,
        /// Comments made on the issue come back as notes on the finding, and notes go out as
        /// comments.
        #[serde(default)]
        sync_comments: bool,
    },
    /// An Azure DevOps Boards project: work items of one type.
    AzureDevops {
        /// The project's name or id.
        project: String,
        /// The work item type (`Bug`, `Task`, `Issue`).
        #[serde(default = "bug")]
        work_item_type: String,
        /// The area path work items go under (the project's root if absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        area_path: Option<String>,
    },
    /// A ServiceNow table extending `task`: Incident, Problem, Change Request…
    #[serde(rename = "servicenow")]
    ServiceNow {
        /// The table (`incident`, `problem`, `change_request`, `sn_si_incident`…).
        #[serde(default = "incident")]
        table: String,
        /// The assignment group (its sys_id or name).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignment_group: Option<String>,
    },
}

fn bug() -> String {
    "Bug".into()
}

fn incident() -> String {
    "incident".into()
}

/// Which team's Jira space a mapping is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JiraSpace {
    /// The developers' project: where fixes are tracked.
    #[default]
    Product,
    /// The security team's project.
    Security,
}

impl MappingTarget {
    pub fn vendor(&self) -> Vendor {
        match self {
            MappingTarget::GitHub { .. } => Vendor::GitHub,
            MappingTarget::GitLab { .. } => Vendor::GitLab,
            MappingTarget::Jira { .. } => Vendor::Jira,
            MappingTarget::AzureDevops { .. } => Vendor::AzureDevops,
            MappingTarget::ServiceNow { .. } => Vendor::ServiceNow,
        }
    }

    /// Human-readable, for lists and error messages: `acme/api (project 7)`.
    pub fn describe(&self) -> String {
        match self {
            MappingTarget::GitHub { repository, project_number: Some(n) } => format!("{repository} (project {n})"),
            MappingTarget::GitHub { repository, project_number: None } => repository.clone(),
            MappingTarget::GitLab { project } => project.clone(),
            MappingTarget::Jira { project, issue_type, space, .. } => {
                format!("{project} ({issue_type}, {} space)", match space { JiraSpace::Product => "product", JiraSpace::Security => "security" })
            }
            MappingTarget::AzureDevops { project, work_item_type, .. } => format!("{project} ({work_item_type})"),
            MappingTarget::ServiceNow { table, .. } => table.clone(),
        }
    }

    pub fn check(&self) -> Result<(), ValidationError> {
        match self {
            MappingTarget::GitHub { repository, project_number } => {
                let ok = !repository.is_empty()
                    && repository.len() <= 100
                    && repository.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if !ok {
                    return Err(ValidationError::new(
                        "target.repository",
                        "must be a repository name (letters, digits, '-', '_' and '.'), without the owner",
                    ));
                }
                if *project_number == Some(0) {
                    return Err(ValidationError::new("target.project_number", "must be a positive number"));
                }
            }
            MappingTarget::GitLab { project } => {
                let p = project.trim_matches('/');
                if p.is_empty() || p.len() > 255 || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(ValidationError::new(
                        "target.project",
                        "must be a project path like 'group/project' or a numeric project id",
                    ));
                }
            }
            MappingTarget::Jira { project, issue_type, components, .. } => {
                let ok = !project.is_empty()
                    && project.len() <= 255
                    && project.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && project.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
                if !ok {
                    return Err(ValidationError::new("target.project", "must be a Jira project key like 'SEC' (letters, digits and '_', starting with a letter)"));
                }
                check_value("target.issue_type", issue_type)?;
                for (i, c) in components.iter().enumerate() {
                    check_value(&format!("target.components[{i}]"), c)?;
                }
            }
            MappingTarget::AzureDevops { project, work_item_type, area_path } => {
                check_value("target.project", project)?;
                check_value("target.work_item_type", work_item_type)?;
                if let Some(a) = area_path {
                    check_value("target.area_path", a)?;
                }
            }
            MappingTarget::ServiceNow { table, assignment_group } => {
                let ok = !table.is_empty() && table.len() <= 80 && table.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    return Err(ValidationError::new("target.table", "must be a table name like 'incident' or 'sn_si_incident' (lower-case letters, digits and '_')"));
                }
                if let Some(g) = assignment_group {
                    check_value("target.assignment_group", g)?;
                }
            }
        }
        Ok(())
    }
}

/// What a finding's status becomes when the tracker closes or reopens its ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundMapping {
    /// Apply tracker changes to findings at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A ticket closed as done (GitHub `completed`, GitLab `closed`): `closed`, or
    /// `awaiting_validation` to have security confirm the fix first.
    #[serde(default = "closed")]
    pub closed: Status,
    /// A ticket closed as not planned (GitHub `not_planned`): `None` leaves the finding alone
    /// (a developer's "won't fix" is not a security decision); or e.g. `risk_accepted`.
    #[serde(default)]
    pub not_planned: Option<Status>,
    /// A closed ticket reopened.
    #[serde(default = "active")]
    pub reopened: Status,
}

fn yes() -> bool {
    true
}
fn closed() -> Status {
    Status::Closed
}
fn active() -> Status {
    Status::Active
}

impl Default for InboundMapping {
    fn default() -> Self {
        InboundMapping {
            enabled: true,
            closed: Status::Closed,
            not_planned: None,
            reopened: Status::Active,
        }
    }
}

impl InboundMapping {
    pub fn check(&self) -> Result<(), ValidationError> {
        if !matches!(self.closed, Status::Closed | Status::AwaitingValidation) {
            return Err(ValidationError::new(
                "inbound.closed",
                "must be closed or awaiting_validation",
            ));
        }
        if let Some(s) = self.not_planned
            && s.is_open()
        {
            return Err(ValidationError::new("inbound.not_planned", "must be a closing status"));
        }
        if !self.reopened.is_open() {
            return Err(ValidationError::new("inbound.reopened", "must be an open status (active or in_progress)"));
        }
        Ok(())
    }
}

/// Everything a mapping holds besides its ids and label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MappingConfig {
    pub target: MappingTarget,
    pub severity_mapping: SeverityMapping,
    pub status_mapping: StatusMapping,
    /// minijinja template of the ticket title.
    pub title_template: String,
    /// minijinja template of the ticket body (Markdown); `None` uses the built-in one.
    pub body_template: Option<String>,
    /// Labels every ticket carries, besides `vulnbridge` (the marker label).
    pub labels: Vec<String>,
    /// Vendor-specific fields set on every ticket (GitHub: other project fields by name;
    /// GitLab: `weight`, `confidential`, `issue_type`, `due_date`, `milestone_id`, `assignee_ids`).
    #[schema(value_type = Object)]
    pub custom_fields: BTreeMap<String, serde_json::Value>,
    pub inbound: InboundMapping,
    /// Days to fix, per severity: the ticket's due date is the finding's date plus these
    /// (Jira, GitLab, Azure DevOps, ServiceNow). Severities left out get no due date.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub due_days: BTreeMap<Severity, u32>,
}

impl MappingConfig {
    /// The vendor defaults for a target.
    pub fn defaults(target: MappingTarget) -> MappingConfig {
        let vendor = target.vendor();
        MappingConfig {
            target,
            severity_mapping: default_severity_mapping(vendor),
            status_mapping: default_status_mapping(vendor),
            title_template: DEFAULT_TITLE_TEMPLATE.into(),
            body_template: None,
            labels: Vec::new(),
            custom_fields: BTreeMap::new(),
            inbound: InboundMapping::default(),
            due_days: BTreeMap::new(),
        }
    }

    /// Everything that can be checked without the tracker: values present, templates render,
    /// labels sane. (Whether the project has those options is "check connection"'s job.)
    pub fn check(&self) -> Result<(), ValidationError> {
        self.target.check()?;
        self.severity_mapping.check()?;
        self.status_mapping.check()?;
        self.inbound.check()?;
        super::render::check_templates(&self.title_template, self.body_template.as_deref())?;
        for (i, l) in self.labels.iter().enumerate() {
            if l.trim().is_empty() || l.chars().count() > 50 || l.contains(',') {
                return Err(ValidationError::new(
                    format!("labels[{i}]"),
                    "must be 1–50 characters without commas",
                ));
            }
        }
        if !self.due_days.is_empty() && self.target.vendor() == Vendor::GitHub {
            return Err(ValidationError::new("due_days", "GitHub issues have no due date; set one with a project date field in custom_fields"));
        }
        for (sev, days) in &self.due_days {
            if *days == 0 || *days > 3650 {
                return Err(ValidationError::new(format!("due_days.{}", sev.as_str()), "must be 1 to 3650 days"));
            }
        }
        for (k, v) in &self.custom_fields {
            if k.trim().is_empty() {
                return Err(ValidationError::new("custom_fields", "field names must not be empty"));
            }
            if v.is_null() || v.is_object() {
                return Err(ValidationError::new(
                    format!("custom_fields.{k}"),
                    "must be a string, number, boolean or list",
                ));
            }
        }
        Ok(())
    }
}

/// How an Assignment pushes on its own (a manual push works in every mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushMode {
    /// Explicitly Publish Changes: nothing automatic.
    Explicit,
    /// Automatically Link New Findings: create tickets for new findings, never update them.
    LinkNew,
    /// Automatically Update Existing Link: update tickets that already exist.
    UpdateExisting,
    /// Automatically Link New and Update Existing Link.
    LinkNewAndUpdate,
}

impl PushMode {
    pub const ALL: [PushMode; 4] = [PushMode::Explicit, PushMode::LinkNew, PushMode::UpdateExisting, PushMode::LinkNewAndUpdate];

    pub fn as_str(self) -> &'static str {
        match self {
            PushMode::Explicit => "explicit",
            PushMode::LinkNew => "link_new",
            PushMode::UpdateExisting => "update_existing",
            PushMode::LinkNewAndUpdate => "link_new_and_update",
        }
    }

    /// The seeds' wording, for the UI and the CLI.
    pub fn label(self) -> &'static str {
        match self {
            PushMode::Explicit => "Explicitly Publish Changes",
            PushMode::LinkNew => "Automatically Link New Findings",
            PushMode::UpdateExisting => "Automatically Update Existing Link",
            PushMode::LinkNewAndUpdate => "Automatically Link New and Update Existing Link",
        }
    }

    pub fn parse(s: &str) -> Option<PushMode> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        PushMode::ALL
            .into_iter()
            .find(|m| m.as_str() == norm || m.label().to_ascii_lowercase().replace(' ', "_") == norm)
    }

    pub fn links_new(self) -> bool {
        matches!(self, PushMode::LinkNew | PushMode::LinkNewAndUpdate)
    }

    pub fn updates_existing(self) -> bool {
        matches!(self, PushMode::UpdateExisting | PushMode::LinkNewAndUpdate)
    }
}

/// Which findings an Assignment links automatically. Manual pushes and updates of existing
/// tickets ignore them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushFilters {
    /// Only findings at least this severe.
    #[serde(default)]
    pub minimum_severity: Option<Severity>,
    /// Only findings whose status is open.
    #[serde(default)]
    pub active_only: bool,
}

impl PushFilters {
    pub fn admits(&self, severity: Severity, status: Status) -> bool {
        self.minimum_severity.is_none_or(|min| severity >= min) && (!self.active_only || status.is_open())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_design_table() {
        let gh = default_severity_mapping(Vendor::GitHub);
        assert_eq!(
            [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical].map(|s| gh.value(s).to_owned()),
            ["P0", "P1", "P2", "P3", "P4"]
        );
        let ado = default_severity_mapping(Vendor::AzureDevops);
        assert_eq!(ado.field, "/fields/Microsoft.VSTS.Common.Priority");
        assert_eq!([ado.info.as_str(), &ado.low, &ado.medium, &ado.high, &ado.critical], ["4", "4", "3", "2", "1"]);
        let gl = default_status_mapping(Vendor::GitLab);
        assert_eq!([gl.active.as_str(), &gl.closed, &gl.false_positive, &gl.risk_accepted], ["opened", "closed", "closed", "closed"]);
        let sn = default_status_mapping(Vendor::ServiceNow);
        assert_eq!([sn.active.as_str(), &sn.closed, &sn.false_positive, &sn.risk_accepted], ["New", "Closed", "Resolved", "Resolved"]);
        let snsev = default_severity_mapping(Vendor::ServiceNow);
        assert_eq!([snsev.info.as_str(), &snsev.low, &snsev.medium, &snsev.high, &snsev.critical], ["1", "1", "2", "3", "3"]);
    }

    #[test]
    fn every_status_has_a_value_and_optional_ones_fall_back() {
        let mut m = default_status_mapping(Vendor::GitHub);
        assert_eq!(m.value(Status::InProgress), "In Progress");
        assert_eq!(m.value(Status::AwaitingValidation), "Done");
        m.in_progress = Some("Doing".into());
        m.awaiting_validation = Some("Verify".into());
        assert_eq!(m.value(Status::InProgress), "Doing");
        assert_eq!(m.value(Status::AwaitingValidation), "Verify");
        for s in Status::ALL {
            assert!(!m.value(s).is_empty());
        }
    }

    #[test]
    fn a_mapping_with_an_empty_value_is_refused_naming_it() {
        let mut c = MappingConfig::defaults(MappingTarget::GitHub { repository: "api".into(), project_number: Some(1) });
        assert!(c.check().is_ok());
        c.severity_mapping.high = " ".into();
        assert_eq!(c.check().unwrap_err().field, "severity_mapping.high");
        let mut c = MappingConfig::defaults(MappingTarget::GitLab { project: "g/p".into() });
        c.status_mapping.risk_accepted = String::new();
        assert_eq!(c.check().unwrap_err().field, "status_mapping.risk_accepted");
        let mut c = MappingConfig::defaults(MappingTarget::GitLab { project: "g/p".into() });
        c.title_template = "{{ title".into();
        assert_eq!(c.check().unwrap_err().field, "title_template");
    }

    #[test]
    fn targets_are_checked() {
        let bad = MappingTarget::GitHub { repository: "acme/api".into(), project_number: None };
        assert_eq!(bad.check().unwrap_err().field, "target.repository");
        let bad = MappingTarget::GitLab { project: "has space".into() };
        assert_eq!(bad.check().unwrap_err().field, "target.project");
        let json = r#"{"vendor":"github","repository":"api","project_number":7}"#;
        let t: MappingTarget = serde_json::from_str(json).unwrap();
        assert_eq!(t.describe(), "api (project 7)");
        assert!(serde_json::from_str::<MappingTarget>(r#"{"vendor":"github","repo":"x"}"#).is_err());
    }

    #[test]
    fn push_modes_and_filters() {
        for m in PushMode::ALL {
            assert_eq!(PushMode::parse(m.as_str()), Some(m));
            assert_eq!(PushMode::parse(m.label()), Some(m));
        }
        assert!(PushMode::LinkNewAndUpdate.links_new() && PushMode::LinkNewAndUpdate.updates_existing());
        assert!(!PushMode::Explicit.links_new() && !PushMode::Explicit.updates_existing());
        let f = PushFilters { minimum_severity: Some(Severity::High), active_only: true };
        assert!(f.admits(Severity::Critical, Status::Active));
        assert!(!f.admits(Severity::Medium, Status::Active));
        assert!(!f.admits(Severity::High, Status::FalsePositive));
        assert!(PushFilters::default().admits(Severity::Info, Status::Closed));
    }

    #[test]
    fn inbound_choices_are_checked() {
        let mut i = InboundMapping::default();
        assert!(i.check().is_ok());
        i.closed = Status::Active;
        assert_eq!(i.check().unwrap_err().field, "inbound.closed");
        let i = InboundMapping { not_planned: Some(Status::InProgress), ..Default::default() };
        assert_eq!(i.check().unwrap_err().field, "inbound.not_planned");
    }
}
