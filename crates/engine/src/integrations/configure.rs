//! Creating and changing instances, mappings and assignments: input parsed and checked once,
//! here, for the API and the CLI alike. Credentials are sealed before they reach the store.

use super::credentials::{self, CredentialsInput, WEBHOOK_SECRET_PURPOSE};
use crate::{App, Settings};
use domain::tracker::{
    Assignment, AssignmentScope, InboundMapping, Instance, InstanceSettings, Mapping, MappingConfig, MappingTarget,
    PushFilters, PushMode, SeverityMapping, StatusMapping, Vendor, parse_location,
};
use domain::{AssignmentId, InstanceId, MappingId, ValidationError};
use secrets::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::BTreeMap;
use store::{AsConn, StoreError, assignments, instances, mappings};

fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid(ValidationError::new(field, message))
}

fn check_label(label: &str) -> Result<String, StoreError> {
    let l = label.trim();
    if l.is_empty() || l.chars().count() > 100 || l.chars().any(char::is_control) {
        return Err(invalid("label", "must be 1–100 characters on one line"));
    }
    Ok(l.to_owned())
}

/// The URL a tracker's webhooks for an instance are sent to (trailing slash optional).
pub fn webhook_url(settings: &Settings, instance: InstanceId) -> String {
    format!("{}/webhooks/{instance}/", settings.base_url())
}

/// A new Integration Instance.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstanceInput {
    pub vendor: Vendor,
    pub label: String,
    /// GitHub: your user or organisation URL (`https://github.com/acme`); GitLab: the server
    /// (`https://gitlab.com/`).
    pub location: String,
    pub credentials: CredentialsInput,
    #[serde(default)]
    pub settings: InstanceSettings,
}

/// Creates an instance. Returns it with its new webhook secret, shown this once.
pub async fn create_instance(app: &App, c: &mut impl AsConn, input: NewInstanceInput) -> Result<(Instance, SecretString), StoreError> {
    let label = check_label(&input.label)?;
    let location = parse_location(&input.location)?;
    input.credentials.check(input.vendor)?;
    input.settings.check()?;
    let secret = credentials::new_webhook_secret();
    let instance = instances::create(
        c,
        instances::NewInstance {
            vendor: input.vendor,
            label,
            location: location.to_string(),
            credentials: input.credentials.seal(app.cipher()),
            webhook_secret: app.cipher().seal(WEBHOOK_SECRET_PURPOSE, secret.expose_secret()),
            settings: input.settings,
        },
    )
    .await?;
    Ok((instance, secret))
}

/// Changes to an instance; absent fields keep their value.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstancePatch {
    pub label: Option<String>,
    pub location: Option<String>,
    /// New credentials (the old ones are replaced, never shown).
    pub credentials: Option<CredentialsInput>,
    pub settings: Option<InstanceSettings>,
}

pub async fn update_instance(app: &App, c: &mut impl AsConn, id: InstanceId, patch: InstancePatch) -> Result<Instance, StoreError> {
    let current = instances::get(c, id).await?;
    let mut ch = instances::InstanceChanges::default();
    if let Some(l) = &patch.label {
        ch.label = Some(check_label(l)?);
    }
    if let Some(l) = &patch.location {
        ch.location = Some(parse_location(l)?.to_string());
    }
    if let Some(cr) = &patch.credentials {
        cr.check(current.vendor)?;
        ch.credentials = Some(cr.seal(app.cipher()));
    }
    if let Some(s) = patch.settings {
        s.check()?;
        ch.settings = Some(s);
    }
    instances::update(c, id, ch).await
}

/// Makes a new webhook secret for an instance and returns it (shown this once).
pub async fn rotate_webhook_secret(app: &App, c: &mut impl AsConn, id: InstanceId) -> Result<SecretString, StoreError> {
    let secret = credentials::new_webhook_secret();
    let sealed = app.cipher().seal(WEBHOOK_SECRET_PURPOSE, secret.expose_secret());
    instances::update(c, id, instances::InstanceChanges { webhook_secret: Some(sealed), ..Default::default() }).await?;
    Ok(secret)
}

/// A new mapping's defaults for a vendor (DESIGN.md's table), to pre-fill a form (API and UI):
/// an empty target with the vendor's usual issue type or table, and with `preset`
/// `impact_urgency` ServiceNow's Impact + Urgency severity preset.
pub fn mapping_defaults(vendor: Vendor, preset: Option<&str>) -> Result<MappingConfig, ValidationError> {
    let target = match vendor {
        Vendor::GitHub => MappingTarget::GitHub { repository: String::new(), project_number: None },
        Vendor::GitLab => MappingTarget::GitLab { project: String::new() },
        Vendor::Jira => MappingTarget::Jira {
            project: String::new(),
            issue_type: "Bug".into(),
            space: domain::tracker::JiraSpace::Product,
            components: Vec::new(),
            priority: true,
            delete_rejected: false,
            close_security_issue_when_done: false,
            sync_comments: false,
        },
        Vendor::AzureDevops => MappingTarget::AzureDevops { project: String::new(), work_item_type: "Bug".into(), area_path: None },
        Vendor::ServiceNow => MappingTarget::ServiceNow { table: "incident".into(), assignment_group: None },
    };
    let mut config = MappingConfig::defaults(target);
    match (preset, vendor) {
        (None, _) => {}
        (Some("impact_urgency"), Vendor::ServiceNow) => config.severity_mapping = domain::tracker::servicenow_impact_urgency_preset(),
        (Some(other), _) => {
            return Err(ValidationError::new("preset", format!("'{other}' is not a preset of this vendor (ServiceNow has impact_urgency)")));
        }
    }
    Ok(config)
}

/// A mapping as the API and CLI take it: the target, and whatever differs from the vendor's
/// defaults (anything left out takes the default of DESIGN.md's table).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingInput {
    pub label: String,
    pub target: MappingTarget,
    pub severity_mapping: Option<SeverityMapping>,
    pub status_mapping: Option<StatusMapping>,
    pub title_template: Option<String>,
    pub body_template: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: BTreeMap<String, serde_json::Value>,
    pub inbound: Option<InboundMapping>,
    /// Days to fix per severity: tickets get a due date (not GitHub).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub due_days: BTreeMap<domain::Severity, u32>,
}

impl MappingInput {
    /// The full configuration: the vendor's defaults under what was given, checked.
    pub fn config(self) -> Result<(String, MappingConfig), StoreError> {
        let label = check_label(&self.label)?;
        let mut config = MappingConfig::defaults(self.target);
        if let Some(s) = self.severity_mapping {
            config.severity_mapping = s;
        }
        if let Some(s) = self.status_mapping {
            config.status_mapping = s;
        }
        if let Some(t) = self.title_template {
            config.title_template = t;
        }
        config.body_template = self.body_template.filter(|b| !b.trim().is_empty());
        config.labels = self.labels;
        config.custom_fields = self.custom_fields;
        if let Some(i) = self.inbound {
            config.inbound = i;
        }
        config.due_days = self.due_days;
        config.check()?;
        Ok((label, config))
    }
}

pub async fn create_mapping(c: &mut impl AsConn, instance: InstanceId, input: MappingInput) -> Result<Mapping, StoreError> {
    let (label, config) = input.config()?;
    mappings::create(c, instance, &label, &config).await
}

pub async fn update_mapping(c: &mut impl AsConn, id: MappingId, input: MappingInput) -> Result<Mapping, StoreError> {
    let (label, config) = input.config()?;
    mappings::update(c, id, &label, &config).await
}

/// A new assignment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    pub mapping: MappingId,
    /// A product, or an engagement (which overrides its product's assignment to the same mapping).
    pub scope: AssignmentScope,
    #[serde(default = "explicit")]
    pub push_mode: PushMode,
    #[serde(default)]
    pub filters: PushFilters,
}

fn explicit() -> PushMode {
    PushMode::Explicit
}

pub async fn create_assignment(c: &mut impl AsConn, input: AssignmentInput) -> Result<Assignment, StoreError> {
    mappings::get(c, input.mapping).await.map_err(|e| match e {
        StoreError::NotFound { .. } => invalid("mapping", format!("mapping {} not found", input.mapping)),
        other => other,
    })?;
    assignments::create(c, input.mapping, input.scope, input.push_mode, &input.filters).await
}

/// Changes to an assignment's push mode and filters.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentPatch {
    pub push_mode: Option<PushMode>,
    pub filters: Option<PushFilters>,
}

pub async fn update_assignment(c: &mut impl AsConn, id: AssignmentId, patch: AssignmentPatch) -> Result<Assignment, StoreError> {
    let a = assignments::get(c, id).await?;
    assignments::update(c, id, patch.push_mode.unwrap_or(a.push_mode), &patch.filters.unwrap_or(a.filters)).await
}
