//! "Check connection" for Azure DevOps, and the values a mapping may pick from.
//!
//! Checks: `credentials` (`connectionData`: the token works, whose it is), `scopes` (reading
//! work items; with a mapping also writing them, with a `validateOnly` create that saves
//! nothing: a 401 `TF400813` names the missing scope), and with a mapping: `project`,
//! `work item type` (listing the project's types when it has not this one), `states` (every
//! mapped status is a state of the type, and closing statuses are in a closed category;
//! listing the type's states otherwise), `priority` (the severity field exists and takes the
//! mapped values), `fields` (custom fields, the due date field, the area path).

use super::api::{self, Api, Body, segment};
use super::fields::{self, Target};
use super::states::closed_category;
use crate::{CheckReport, MappingOptions, OptionValue, RequestClass, TrackerError};
use domain::tracker::{FieldValue, MappingConfig, TicketFields, TicketState};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
struct ConnectionData {
    #[serde(rename = "authenticatedUser")]
    user: Identity,
}

#[derive(Debug, Deserialize)]
struct Identity {
    #[serde(rename = "providerDisplayName", default)]
    display_name: String,
    #[serde(default)]
    properties: Value,
}

#[derive(Debug, Deserialize)]
struct Project {
    name: String,
    #[serde(default)]
    capabilities: Value,
}

#[derive(Debug, Deserialize)]
pub struct WorkItemType {
    pub name: String,
    #[serde(default)]
    pub states: Vec<super::states::State>,
    #[serde(rename = "fieldInstances", default)]
    pub field_instances: Vec<FieldInstance>,
}

#[derive(Debug, Deserialize)]
pub struct FieldInstance {
    #[serde(rename = "referenceName")]
    pub reference_name: String,
    #[serde(rename = "allowedValues", default)]
    pub allowed_values: Vec<String>,
}

impl WorkItemType {
    fn field(&self, reference: &str) -> Option<&FieldInstance> {
        self.field_instances
            .iter()
            .find(|f| f.reference_name.eq_ignore_ascii_case(reference))
    }

    fn state(&self, name: &str) -> Option<&super::states::State> {
        self.states
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }

    fn state_list(&self) -> String {
        self.states
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Deserialize)]
struct Named {
    name: String,
}

#[derive(Debug, Deserialize)]
struct List<T> {
    value: Vec<T>,
}

pub async fn work_item_type(api: &Api, t: &Target) -> Result<WorkItemType, TrackerError> {
    api.json(
        RequestClass::Read,
        &format!(
            "work item type {} of Azure DevOps project {}",
            t.work_item_type, t.project
        ),
        Method::GET,
        &format!(
            "/{}/_apis/wit/workitemtypes/{}",
            segment(&t.project),
            segment(&t.work_item_type)
        ),
        api::API_VERSION,
        &[],
        &Body::None,
    )
    .await
}

async fn type_names(api: &Api, project: &str) -> Result<Vec<String>, TrackerError> {
    let list: List<Named> = api
        .json(
            RequestClass::Read,
            &format!("the work item types of Azure DevOps project {project}"),
            Method::GET,
            &format!("/{}/_apis/wit/workitemtypes", segment(project)),
            api::API_VERSION,
            &[],
            &Body::None,
        )
        .await?;
    Ok(list.value.into_iter().map(|n| n.name).collect())
}

fn scope_problem(e: &TrackerError, what: &str) -> String {
    match e {
        TrackerError::Forbidden(_) | TrackerError::Unauthorized(_) => {
            format!(
                "the token cannot {what}: give it the Work Items (Read & write) scope, vso.work_write"
            )
        }
        other => format!("cannot check whether the token may {what}: {other}"),
    }
}

pub async fn check(api: &Api, mapping: Option<&MappingConfig>) -> CheckReport {
    let mut report = CheckReport::default();
    let me = api
        .json::<ConnectionData>(
            RequestClass::Read,
            "the token's user",
            Method::GET,
            "/_apis/connectionData",
            api::CONNECTION_DATA_VERSION,
            &[],
            &Body::None,
        )
        .await;
    match me {
        Ok(c) => {
            let account = c
                .user
                .properties
                .pointer("/Account/$value")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let shown = account.unwrap_or_else(|| c.user.display_name.clone());
            report.pass(
                "credentials",
                format!(
                    "signed in to {} as {} ({shown})",
                    api.base, c.user.display_name
                ),
            );
            report.account = Some(shown);
        }
        Err(e) => {
            report.fail(
                "credentials",
                format!("Azure DevOps refused the personal access token: {e}"),
            );
            return report;
        }
    }
    let read = api
        .send(
            RequestClass::Read,
            "work items",
            Method::POST,
            "/_apis/wit/workitemsbatch",
            api::API_VERSION,
            &[],
            &Body::Json(json!({ "ids": [1], "errorPolicy": "omit", "fields": ["System.Id"] })),
        )
        .await;
    if let Err(e) = read {
        report.fail("scopes", scope_problem(&e, "read work items"));
        return report;
    }
    let Some(m) = mapping else {
        report.pass(
            "scopes",
            "reads work items (writing is checked with a mapping's project)",
        );
        return report;
    };
    if !target_checks(api, &mut report, m).await {
        report.pass(
            "scopes",
            "reads work items (writing is checked once the project and work item type are right)",
        );
    }
    report
}

/// The checks of a mapping's target; `false` when one failed before writing could be checked.
async fn target_checks(api: &Api, report: &mut CheckReport, m: &MappingConfig) -> bool {
    let t = match fields::target(m) {
        Ok(t) => t,
        Err(e) => {
            report.fail("project", e.to_string());
            return false;
        }
    };
    match api
        .json::<Project>(
            RequestClass::Read,
            &format!("Azure DevOps project {}", t.project),
            Method::GET,
            &format!("/_apis/projects/{}", segment(&t.project)),
            api::API_VERSION,
            &[("includeCapabilities", "true".to_owned())],
            &Body::None,
        )
        .await
    {
        Ok(p) => {
            let process = p
                .capabilities
                .pointer("/processTemplate/templateName")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            report.pass("project", format!("{} ({process} process)", p.name));
        }
        Err(TrackerError::NotFound(_)) => {
            report.fail(
                "project",
                format!(
                    "project '{}' does not exist in {}, or the token's user cannot see it",
                    t.project, api.base
                ),
            );
            return false;
        }
        Err(e) => {
            report.fail(
                "project",
                format!("cannot read project '{}': {e}", t.project),
            );
            return false;
        }
    }
    let ty = match work_item_type(api, &t).await {
        Ok(ty) => {
            report.pass(
                "work item type",
                format!("{} (states: {})", ty.name, ty.state_list()),
            );
            ty
        }
        Err(TrackerError::NotFound(_)) => {
            let detail = match type_names(api, &t.project).await {
                Ok(names) => format!(
                    "'{}' is not a work item type of {}; its types are {}",
                    t.work_item_type,
                    t.project,
                    names.join(", ")
                ),
                Err(_) => format!(
                    "'{}' is not a work item type of {}",
                    t.work_item_type, t.project
                ),
            };
            report.fail("work item type", detail);
            return false;
        }
        Err(e) => {
            report.fail(
                "work item type",
                format!("cannot read work item type '{}': {e}", t.work_item_type),
            );
            return false;
        }
    };
    states(report, m, &t, &ty);
    priority(report, m, &t, &ty);
    let fields_ok = custom_fields(report, m, &t, &ty);
    write(api, report, m, &t, &ty, fields_ok).await;
    true
}

/// Every status value the mapping writes or reads: which status, the value, whether it closes.
fn mapped_statuses(m: &MappingConfig) -> Vec<(String, String, bool)> {
    let s = &m.status_mapping;
    let mut out = vec![
        ("active".to_owned(), s.active.clone(), false),
        ("closed".to_owned(), s.closed.clone(), true),
        ("false_positive".to_owned(), s.false_positive.clone(), true),
        ("risk_accepted".to_owned(), s.risk_accepted.clone(), true),
    ];
    if let Some(v) = &s.in_progress {
        out.push(("in_progress".into(), v.clone(), false));
    }
    if let Some(v) = &s.awaiting_validation {
        out.push(("awaiting_validation".into(), v.clone(), true));
    }
    for (value, status) in &s.aliases {
        out.push((
            format!("alias for {}", status.as_str()),
            value.clone(),
            !status.is_open(),
        ));
    }
    out
}

fn states(report: &mut CheckReport, m: &MappingConfig, t: &Target, ty: &WorkItemType) {
    let Ok(path) = fields::path(&m.status_mapping.field) else {
        report.fail(
            "states",
            format!(
                "the status field '{}' is not an Azure DevOps field path",
                m.status_mapping.field
            ),
        );
        return;
    };
    let reference = fields::reference(&path);
    if !reference.eq_ignore_ascii_case("System.State") {
        // Another field carries the status: it must exist; its values are the project's own.
        match ty.field(reference) {
            Some(_) => report.pass(
                "states",
                format!("statuses are written to {reference}, not to the workflow state"),
            ),
            None => report.fail(
                "states",
                format!("{} in {} has no field {reference}", ty.name, t.project),
            ),
        }
        return;
    }
    let mut problems = Vec::new();
    let mut shown = Vec::new();
    for (name, value, closing) in mapped_statuses(m) {
        match ty.state(&value) {
            None => problems.push(format!(
                "'{value}' ({name}) is not a state of {} in {}",
                ty.name, t.project
            )),
            Some(s) => {
                if closing != s.closed() {
                    let why = if closing {
                        "which Azure DevOps does not count as closed"
                    } else {
                        "which counts as closed"
                    };
                    problems.push(format!(
                        "'{}' ({name}) is in the {} category, {why}",
                        s.name, s.category
                    ));
                }
                shown.push(format!("{name} → {} ({})", s.name, s.category));
            }
        }
    }
    if problems.is_empty() {
        report.pass("states", shown.join(", "));
    } else {
        report.fail(
            "states",
            format!(
                "{}; the states of {} are {}",
                problems.join("; "),
                ty.name,
                ty.state_list()
            ),
        );
    }
}

fn priority(report: &mut CheckReport, m: &MappingConfig, t: &Target, ty: &WorkItemType) {
    let sev = &m.severity_mapping;
    let Ok(path) = fields::path(&sev.field) else {
        report.fail(
            "priority",
            format!(
                "the severity field '{}' is not an Azure DevOps field path",
                sev.field
            ),
        );
        return;
    };
    let reference = fields::reference(&path);
    let Some(field) = ty.field(reference) else {
        report.fail(
            "priority",
            format!("{} in {} has no field {reference}", ty.name, t.project),
        );
        return;
    };
    let allowed: Vec<String> = if field.allowed_values.is_empty()
        && reference.eq_ignore_ascii_case("Microsoft.VSTS.Common.Priority")
    {
        ["1", "2", "3", "4"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    } else {
        field.allowed_values.clone()
    };
    let values = [&sev.info, &sev.low, &sev.medium, &sev.high, &sev.critical];
    let bad: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !allowed.is_empty() && !allowed.iter().any(|a| a.eq_ignore_ascii_case(v)))
        .collect();
    if bad.is_empty() {
        report.pass(
            "priority",
            format!(
                "{reference}: info {}, low {}, medium {}, high {}, critical {}",
                sev.info, sev.low, sev.medium, sev.high, sev.critical
            ),
        );
    } else {
        report.fail(
            "priority",
            format!(
                "{reference} takes {}, not {}",
                allowed.join(", "),
                bad.join(", ")
            ),
        );
    }
}

fn custom_fields(
    report: &mut CheckReport,
    m: &MappingConfig,
    t: &Target,
    ty: &WorkItemType,
) -> bool {
    let mut problems = Vec::new();
    let mut names = Vec::new();
    if !m.due_days.is_empty() {
        names.push(fields::reference(fields::DUE_DATE_PATH).to_owned());
    }
    for k in m.custom_fields.keys() {
        match fields::path(k) {
            Ok(p) => names.push(fields::reference(&p).to_owned()),
            Err(e) => problems.push(e.to_string()),
        }
    }
    for n in &names {
        if ty.field(n).is_none() {
            problems.push(format!("{} in {} has no field {n}", ty.name, t.project));
        }
    }
    if problems.is_empty() {
        let mut detail = if names.is_empty() {
            "no custom fields".to_owned()
        } else {
            names.join(", ")
        };
        if let Some(a) = &t.area_path {
            detail.push_str(&format!("; area path {}", fields::area_path(&t.project, a)));
        }
        report.pass("fields", detail);
        true
    } else {
        report.fail("fields", problems.join("; "));
        false
    }
}

/// Writing: a `validateOnly` create (nothing is saved) with the mapping's fields.
async fn write(
    api: &Api,
    report: &mut CheckReport,
    m: &MappingConfig,
    t: &Target,
    ty: &WorkItemType,
    fields_ok: bool,
) {
    let active = if ty.state(&m.status_mapping.active).is_some() {
        m.status_mapping.active.clone()
    } else {
        String::new()
    };
    let probe = TicketFields {
        title: "vulnbridge connection check".into(),
        body: "Checking that vulnbridge may create work items here (nothing is saved).".into(),
        labels: [domain::tracker::MARKER_LABEL.to_owned()].into(),
        severity: FieldValue::new(&m.severity_mapping.field, &m.severity_mapping.medium),
        status: FieldValue::new(&m.status_mapping.field, &active),
        state: TicketState::Open,
        custom: if fields_ok {
            m.custom_fields.clone()
        } else {
            BTreeMap::new()
        },
    };
    let ops = match fields::create_ops(t, &probe, domain::tracker::MARKER_LABEL, !active.is_empty())
    {
        Ok(ops) => ops,
        Err(e) => {
            report.fail("fields", e.to_string());
            return;
        }
    };
    let r = api
        .send(
            RequestClass::Write,
            &format!(
                "a check of creating a {} in {}",
                t.work_item_type, t.project
            ),
            Method::POST,
            &format!(
                "/{}/_apis/wit/workitems/${}",
                segment(&t.project),
                segment(&t.work_item_type)
            ),
            api::API_VERSION,
            &[("validateOnly", "true".to_owned())],
            &Body::Patch(Value::Array(ops)),
        )
        .await;
    match r {
        Ok(_) => report.pass(
            "scopes",
            "reads and writes work items (a validate-only create succeeded)",
        ),
        Err(e @ (TrackerError::Forbidden(_) | TrackerError::Unauthorized(_))) => {
            report.fail(
                "scopes",
                scope_problem(&e, "write work items (it reads them)"),
            );
        }
        Err(TrackerError::Rejected(msg)) if msg.contains("TF401347") => {
            report.pass("scopes", "reads and writes work items");
            report.fail(
                "fields",
                format!("the area path is not one of {}'s areas: {msg}", t.project),
            );
        }
        Err(TrackerError::Rejected(msg)) => {
            report.pass("scopes", "reads and writes work items");
            report.fail(
                "fields",
                format!("Azure DevOps refused a work item with this mapping's fields: {msg}"),
            );
        }
        Err(e) => report.fail("scopes", format!("cannot check writing work items: {e}")),
    }
}

/// The values a mapping of this target may pick from.
pub async fn options(api: &Api, m: &MappingConfig) -> Result<MappingOptions, TrackerError> {
    let t = fields::target(m)?;
    let ty = work_item_type(api, &t).await?;
    let types = type_names(api, &t.project).await?;
    let statuses = ty
        .states
        .iter()
        .map(|s| OptionValue {
            value: s.name.clone(),
            label: format!("{} ({})", s.name, s.category),
            closed: Some(closed_category(&s.category)),
        })
        .collect();
    let sev_ref = fields::path(&m.severity_mapping.field)
        .map(|p| fields::reference(&p).to_owned())
        .unwrap_or_default();
    let mut allowed: Vec<String> = ty
        .field(&sev_ref)
        .map(|f| f.allowed_values.clone())
        .unwrap_or_default();
    if allowed.is_empty() && sev_ref.eq_ignore_ascii_case("Microsoft.VSTS.Common.Priority") {
        allowed = ["1", "2", "3", "4"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
    }
    Ok(MappingOptions {
        statuses,
        severities: allowed
            .into_iter()
            .map(|v| OptionValue {
                label: v.clone(),
                value: v,
                closed: None,
            })
            .collect(),
        types: types
            .into_iter()
            .map(|n| OptionValue {
                label: n.clone(),
                value: n,
                closed: None,
            })
            .collect(),
        components: Vec::new(),
    })
}
