//! Issue Tracker Mappings: the add form pre-filled with the vendor's defaults (the API's
//! `mapping-defaults`), the edit form pre-filled with the mapping, the mapping page with
//! Check mapping and Register webhook, and deleting.

use crate::ui::form::{self, Form, Kind, SectionSpec, Spec, Values};
use super::instances::ConfirmDelete;
use super::{ReportView, instance_id, is_admin, layout, mapping_id, refused, require_admin};
use crate::api::integrations::{self as api, NewMapping, read_config};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::error::{UiResult, render};
use crate::ui::layout::Layout;
use crate::ui::session::{CurrentUser, Session};
use crate::ui::view;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use domain::tracker::{Instance, Mapping, MappingConfig, Vendor};
use domain::{Action, Severity};
use engine::integrations::configure::{self, MappingInput};
use serde::Deserialize;
use serde_json::json;
use store::{assignments, instances, mappings, push_errors};

fn text(path: &'static str, label: &'static str, help: &'static str) -> Spec {
    Spec::new(path, label, Kind::Text, help)
}

fn flag(path: &'static str, label: &'static str, help: &'static str) -> Spec {
    Spec::new(path, label, Kind::Check, help)
}

/// Where tickets go, per vendor (seeds/000, seeds/003).
fn target_specs(v: Vendor) -> Vec<Spec> {
    match v {
        Vendor::GitHub => vec![
            text("target.repository", "Repository name", "The name of a repository of your organization (or user) that issues are pushed to, without the owner."),
            Spec::new(
                "target.project_number",
                "Project number",
                Kind::Number,
                "The number of a GitHub project to add the issues to, from its URL: https://github.com/orgs/your-org/projects/{project number}. Empty: no project (priority and status become labels).",
            ),
        ],
        Vendor::GitLab => vec![text("target.project", "Project", "The project in GitLab that issues are sent to: its path (group/project) or numeric id.")],
        Vendor::Jira => vec![
            text("target.project", "Project key", "The key of the Jira project (team space) issues go to, e.g. SEC."),
            text("target.issue_type", "Issue type", "The issue type for this space: Bug, Task, Vulnerability…"),
            Spec::new("target.space", "Team space", Kind::Select, "Product team space (the developers') or Security team space (the security team's).")
                .options(vec![("product".into(), "Product team space".into()), ("security".into(), "Security team space".into())]),
            Spec::new("target.components", "Components", Kind::List, "Components set on every issue, comma separated."),
            flag("target.priority", "Enable priority mapping", "Set the issue's priority from the severity mapping below; every project needs the Priority field."),
            flag(
                "target.close_security_issue_when_done",
                "Close the security issue when the product issue is done",
                "An issue done in the product space closes its finding, and so its security issue.",
            ),
            flag(
                "target.delete_rejected",
                "Delete issues of rejected findings",
                "Deletes the issue of a finding marked false positive. Careful: a finding dismissed by mistake deletes its issue, which cannot be brought back.",
            ),
            flag("target.sync_comments", "Sync comments", "Comments on the issue come back as notes on the finding, and notes go out as comments."),
        ],
        Vendor::AzureDevops => vec![
            text("target.project", "Project ID", "The name or the ID of the Project in Azure DevOps."),
            text("target.work_item_type", "Work item type", "Bug, Task, Issue…"),
            Spec::new("target.area_path", "Area path", Kind::Optional, "The area path work items go under. Empty: the project's root."),
        ],
        Vendor::ServiceNow => vec![
            text("target.table", "Table", "A table that extends task: incident, problem, change_request, sn_si_incident…"),
            Spec::new("target.assignment_group", "Assignment group", Kind::Optional, "The group tickets are assigned to (its sys_id or name). Empty: none."),
        ],
    }
}

fn severity_note(v: Vendor) -> &'static str {
    match v {
        Vendor::GitHub => "The Project MUST have a Priority single-select field with an option for each value below, or issues will not push (without a project they are labels).",
        Vendor::GitLab => "Maps to the GitLab Priority field.",
        Vendor::Jira => "Values from the project's priority scheme.",
        Vendor::AzureDevops => "Maps to the work item's Priority field.",
        Vendor::ServiceNow => "Maps to the ServiceNow Impact field (or, with the Impact + Urgency preset, impact/urgency pairs).",
    }
}

fn status_note(v: Vendor) -> &'static str {
    match v {
        Vendor::GitHub => "New GitHub Projects have the statuses In Progress and Done; add columns to the board to track False Positive or Risk Accepted apart.",
        Vendor::GitLab => "GitLab has the statuses opened and closed; add status labels to track False Positive or Risk Accepted apart.",
        _ => "The tracker's values for each finding status. In progress and Awaiting validation are optional.",
    }
}

/// The add (`creating`) and edit form of a vendor's mapping.
fn specs(v: Vendor, creating: bool) -> Vec<SectionSpec> {
    let mut severity = vec![text("severity_mapping.field", "Severity field name", "")];
    let mut due = Vec::new();
    for (sev, sev_label, days, days_label) in [
        ("severity_mapping.info", "Info mapping", "due_days.info", "Info: days to fix"),
        ("severity_mapping.low", "Low mapping", "due_days.low", "Low: days to fix"),
        ("severity_mapping.medium", "Medium mapping", "due_days.medium", "Medium: days to fix"),
        ("severity_mapping.high", "High mapping", "due_days.high", "High: days to fix"),
        ("severity_mapping.critical", "Critical mapping", "due_days.critical", "Critical: days to fix"),
    ] {
        severity.push(text(sev, sev_label, ""));
        due.push(Spec::new(days, days_label, Kind::Number, ""));
    }
    let status = vec![
        text("status_mapping.field", "Status field name", ""),
        text("status_mapping.active", "Active mapping", ""),
        text("status_mapping.closed", "Closed mapping", ""),
        text("status_mapping.false_positive", "False Positive mapping", ""),
        text("status_mapping.risk_accepted", "Risk Accepted mapping", ""),
        Spec::new("status_mapping.in_progress", "In Progress mapping", Kind::Optional, "Optional; empty: the Active value."),
        Spec::new("status_mapping.awaiting_validation", "Awaiting Validation mapping", Kind::Optional, "Optional; empty: the Closed value."),
    ];
    let mut tickets = vec![
        text("title_template", "Title template", "A template of the ticket title: {{ id }}, {{ title }}, {{ severity }}…"),
        Spec::new("body_template", "Body template", Kind::Textarea, "A template of the ticket body (Markdown). Empty: the built-in one."),
        Spec::new("labels", "Labels", Kind::List, "Labels every ticket carries besides vulnbridge, comma separated."),
    ];
    let mut sections = vec![
        SectionSpec::new(
            "Mapping",
            vec![text("label", "Issue Tracker Mapping label", "Identifies the project or repository issues are created in.")],
        ),
        SectionSpec::new("Target", target_specs(v)),
        SectionSpec::new("Severity mapping", severity).note(severity_note(v)),
        SectionSpec::new("Status mapping", status).note(status_note(v)),
    ];
    if v == Vendor::GitHub {
        sections.push(SectionSpec::new("Tickets", tickets));
    } else {
        tickets.extend(due);
        sections.push(SectionSpec::new("Tickets", tickets).note("Days to fix per severity give tickets a due date; empty: no due date."));
    }
    sections.push(
        SectionSpec::new(
            "Advanced",
            vec![
                Spec::new(
                    "custom_fields",
                    "Custom fields (JSON)",
                    Kind::Json,
                    "Vendor-specific fields set on every ticket, as a JSON object (GitHub: other project fields by name; GitLab: weight, confidential, milestone_id…).",
                ),
                Spec::new(
                    "inbound",
                    "Inbound mapping (JSON)",
                    Kind::Json,
                    "What a finding becomes when the tracker closes or reopens its ticket: {\"enabled\": true, \"closed\": \"closed\", \"not_planned\": null, \"reopened\": \"active\"}.",
                ),
                Spec::new(
                    "status_mapping.aliases",
                    "Status aliases (JSON)",
                    Kind::Json,
                    "Further tracker statuses and the finding status each means, coming back: {\"Won't Fix\": \"risk_accepted\"}.",
                ),
            ],
        )
        .advanced(),
    );
    if creating {
        sections.push(SectionSpec::new(
            "Webhook",
            vec![flag(
                "register_webhook",
                "Register webhook",
                "Register the tracker's webhook for the target now, so that changes come back (needs the token's permission to manage webhooks).",
            )],
        ));
    }
    sections
}

/// The form's values for a label and configuration.
fn values_of(specs: &[SectionSpec], label: &str, config: &MappingConfig) -> Result<Values, ApiError> {
    let mut stored = serde_json::to_value(config).map_err(ApiError::internal)?;
    stored["label"] = json!(label);
    Ok(form::prefill(specs, &stored))
}

#[derive(Template)]
#[template(path = "mapping_form.html")]
struct MappingFormPage {
    layout: Layout,
    icon: &'static str,
    heading: String,
    instance: (i64, String),
    action: String,
    back: String,
    /// The instance id, posted with a new mapping.
    new_for: Option<i64>,
    /// ServiceNow's Impact + Urgency preset: (link to the form with it, in use).
    preset: Option<(String, bool)>,
    form: Form,
}

#[derive(Deserialize)]
pub struct NewQuery {
    instance: String,
    preset: Option<String>,
}

fn add_page(session: &Session, i: &Instance, preset: Option<&str>, form: Form) -> MappingFormPage {
    MappingFormPage {
        layout: layout(session, "Add mapping"),
        icon: view::vendor_icon(i.vendor),
        heading: format!("Add a mapping to {}", i.label),
        instance: (i.id.0, i.label.clone()),
        action: "/settings/integrations/mappings".into(),
        back: format!("/settings/integrations/instances/{}", i.id.0),
        new_for: Some(i.id.0),
        preset: (i.vendor == Vendor::ServiceNow).then(|| match preset {
            Some(_) => (format!("/settings/integrations/mappings/new?instance={}", i.id.0), true),
            None => (format!("/settings/integrations/mappings/new?instance={}&preset=impact_urgency", i.id.0), false),
        }),
        form,
    }
}

async fn instance_for(s: &AppState, raw: &str) -> UiResult<Instance> {
    let id = instance_id(raw)?;
    let mut c = s.app.db().conn().await?;
    Ok(instances::get(&mut c, id).await?)
}

/// `/settings/integrations/mappings/new?instance={id}`: the form with the vendor's defaults.
pub async fn new(State(s): State<AppState>, CurrentUser(session): CurrentUser, Query(q): Query<NewQuery>) -> UiResult<Html<String>> {
    require_admin(&session, "adding a mapping")?;
    let i = instance_for(&s, &q.instance).await?;
    let preset = q.preset.as_deref().filter(|p| !p.is_empty());
    let defaults = configure::mapping_defaults(i.vendor, preset).map_err(ApiError::from)?;
    let specs = specs(i.vendor, true);
    let mut values = values_of(&specs, "", &defaults)?;
    values.set("register_webhook", "true");
    render(&add_page(&session, &i, preset, Form::new(&specs, &values)))
}

/// Adds the mapping, then shows it with what became of its webhook.
pub async fn create(State(s): State<AppState>, CurrentUser(session): CurrentUser, body: Bytes) -> UiResult<Response> {
    require_admin(&session, "adding a mapping")?;
    let values = Values::parse(&body);
    let i = instance_for(&s, values.get("instance")).await?;
    let specs = specs(i.vendor, true);
    let parsed = form::to_json(&specs, &values, &[("instance", json!(i.id)), ("target.vendor", json!(i.vendor))])
        .and_then(|j| form::parse::<NewMapping>(&j));
    let result = match parsed {
        Ok(new) => api::add_mapping(&s, &session.actor, new).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((m, webhook)) => {
            let mut page = mapping_page(&s, &session, m).await?;
            page.created = Some(webhook.unwrap_or_else(|| "not registered (set it up later with Register webhook)".into()));
            Ok(render(&page)?.into_response())
        }
        Err(e) if form::is_input_error(&e) => {
            let status = e.status;
            refused(status, &add_page(&session, &i, None, Form::new(&specs, &values).with_error(&e, &specs)))
        }
        Err(e) => Err(e.into()),
    }
}

pub struct AssignmentLine {
    pub id: i64,
    pub scope: String,
    pub push_mode: &'static str,
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "mapping.html")]
struct MappingPage {
    layout: Layout,
    id: i64,
    icon: &'static str,
    label: String,
    instance: (i64, String),
    target: String,
    vendor: Vendor,
    severity: Vec<(&'static str, String)>,
    severity_field: String,
    status: Vec<(&'static str, String)>,
    status_field: String,
    title_template: String,
    custom_body: bool,
    labels: String,
    due_days: String,
    total_errors: i64,
    assignments: Vec<AssignmentLine>,
    can_admin: bool,
    can_assign: bool,
    created: Option<String>,
    saved: bool,
    webhook: Option<Result<String, String>>,
    report: Option<ReportView>,
}

async fn mapping_page(s: &AppState, session: &Session, m: Mapping) -> UiResult<MappingPage> {
    let mut c = s.app.db().conn().await?;
    let i = instances::get(&mut c, m.instance).await?;
    let total_errors = push_errors::counts(&mut c).await?.get(&m.id).copied().unwrap_or(0);
    let assigned = assignments::list(&mut c, &assignments::Filter { mapping: Some(m.id), ..Default::default() }).await?;
    let names = crate::ui::lookup::product_names(&mut c, &session.actor.visibility()).await?;
    let mut lines = Vec::new();
    for a in assigned.iter().filter(|a| session.actor.can_see(a.product)) {
        let product = crate::ui::lookup::product_name(&names, a.product);
        let scope = match a.engagement {
            Some(e) => format!("{product} › {}", store::engagements::get(&mut c, e).await?.name),
            None => product,
        };
        lines.push(AssignmentLine { id: a.id.0, scope, push_mode: a.push_mode.label(), can_manage: session.actor.can(Action::Manage, a.product) });
    }
    let cfg = &m.config;
    let sev = &cfg.severity_mapping;
    let st = &cfg.status_mapping;
    let mut status = vec![
        ("Active", st.active.clone()),
        ("Closed", st.closed.clone()),
        ("False Positive", st.false_positive.clone()),
        ("Risk Accepted", st.risk_accepted.clone()),
    ];
    if let Some(v) = &st.in_progress {
        status.push(("In Progress", v.clone()));
    }
    if let Some(v) = &st.awaiting_validation {
        status.push(("Awaiting Validation", v.clone()));
    }
    Ok(MappingPage {
        layout: layout(session, m.label.clone()),
        id: m.id.0,
        icon: view::vendor_icon(m.vendor),
        instance: (i.id.0, i.label),
        target: cfg.target.describe(),
        vendor: m.vendor,
        severity: Severity::ALL.iter().map(|s| (s.label(), sev.value(*s).to_owned())).collect(),
        severity_field: sev.field.clone(),
        status,
        status_field: st.field.clone(),
        title_template: cfg.title_template.clone(),
        custom_body: cfg.body_template.is_some(),
        labels: cfg.labels.join(", "),
        due_days: cfg.due_days.iter().map(|(s, d)| format!("{} {d} days", s.label())).collect::<Vec<_>>().join(", "),
        total_errors,
        assignments: lines,
        can_admin: is_admin(&session.actor),
        can_assign: super::can_assign(&session.actor),
        created: None,
        saved: false,
        webhook: None,
        report: None,
        label: m.label,
    })
}

async fn load(s: &AppState, session: &Session, raw: &str) -> UiResult<Mapping> {
    read_config(&session.actor)?;
    let id = mapping_id(raw)?;
    let mut c = s.app.db().conn().await?;
    Ok(mappings::get(&mut c, id).await?)
}

/// `/settings/integrations/mappings/{id}`: the mapping, its assignments, and (administrators)
/// Check mapping, Register webhook, Edit, Delete.
pub async fn show(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(raw): Path<String>,
    q: Result<Query<super::SavedQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let m = load(&s, &session, &raw).await?;
    let mut page = mapping_page(&s, &session, m).await?;
    page.saved = q.ok().and_then(|Query(q)| q.saved).is_some();
    render(&page)
}

/// Check mapping: the instance's credentials, then the target, fields and values.
pub async fn check(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let id = mapping_id(&raw)?;
    let report = api::check_mapping_target(&s, &session.actor, id).await?;
    let m = load(&s, &session, &raw).await?;
    let mut page = mapping_page(&s, &session, m).await?;
    page.report = Some(report.into());
    render(&page)
}

/// Registers the tracker's webhook for the mapping's target, and says how that went.
pub async fn register_webhook(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    let id = mapping_id(&raw)?;
    let outcome = match api::register_mapping_webhook(&s, &session.actor, id).await {
        Ok(url) => Ok(url),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => Err(e.detail),
        Err(e) => return Err(e.into()),
    };
    let m = load(&s, &session, &raw).await?;
    let mut page = mapping_page(&s, &session, m).await?;
    let status = if outcome.is_ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page.webhook = Some(outcome);
    Ok((status, render(&page)?).into_response())
}

fn edit_page(session: &Session, m: &Mapping, i: &Instance, form: Form) -> MappingFormPage {
    MappingFormPage {
        layout: layout(session, format!("Edit {}", m.label)),
        icon: view::vendor_icon(m.vendor),
        heading: format!("Edit {}", m.label),
        instance: (i.id.0, i.label.clone()),
        action: format!("/settings/integrations/mappings/{}/edit", m.id.0),
        back: format!("/settings/integrations/mappings/{}", m.id.0),
        new_for: None,
        preset: None,
        form,
    }
}

/// The edit form, pre-filled with the mapping's configuration.
pub async fn edit(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    require_admin(&session, "changing a mapping")?;
    let m = load(&s, &session, &raw).await?;
    let i = instance_for(&s, &m.instance.0.to_string()).await?;
    let specs = specs(m.vendor, false);
    let values = values_of(&specs, &m.label, &m.config)?;
    render(&edit_page(&session, &m, &i, Form::new(&specs, &values)))
}

pub async fn update(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>, body: Bytes) -> UiResult<Response> {
    require_admin(&session, "changing a mapping")?;
    let m = load(&s, &session, &raw).await?;
    let values = Values::parse(&body);
    let specs = specs(m.vendor, false);
    let parsed = form::to_json(&specs, &values, &[("target.vendor", json!(m.vendor))]).and_then(|j| form::parse::<MappingInput>(&j));
    let result = match parsed {
        Ok(input) => api::change_mapping(&s, &session.actor, m.id, input).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/settings/integrations/mappings/{}?saved=1", m.id.0)).into_response()),
        Err(e) if form::is_input_error(&e) => {
            let status = e.status;
            let i = instance_for(&s, &m.instance.0.to_string()).await?;
            refused(status, &edit_page(&session, &m, &i, Form::new(&specs, &values).with_error(&e, &specs)))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn confirm_delete(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    require_admin(&session, "deleting a mapping")?;
    let m = load(&s, &session, &raw).await?;
    render(&ConfirmDelete {
        layout: layout(&session, format!("Delete {}", m.label)),
        icon: view::vendor_icon(m.vendor),
        what: format!("the mapping {}", m.label),
        consequence: format!(
            "Its assignments and ticket links are deleted too; findings are no longer pushed to {}. The tickets in {} stay.",
            m.config.target.describe(),
            m.vendor.label()
        ),
        action: format!("/settings/integrations/mappings/{}/delete", m.id.0),
        back: format!("/settings/integrations/mappings/{}", m.id.0),
    })
}

pub async fn delete(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    let id = mapping_id(&raw)?;
    api::remove_mapping(&s, &session.actor, id).await?;
    Ok(Redirect::to("/settings/integrations?done=mapping-deleted").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_go_through_the_form_unchanged() {
        for v in Vendor::ALL {
            let defaults = configure::mapping_defaults(v, None).unwrap();
            let specs = specs(v, false);
            let mut values = values_of(&specs, "x", &defaults).unwrap();
            values.set(if v == Vendor::GitHub { "target.repository" } else { "target.project" }, "SEC");
            let j = form::to_json(&specs, &values, &[("target.vendor", json!(v))]).unwrap();
            let input: MappingInput = form::parse(&j).unwrap_or_else(|e| panic!("{v:?}: {}", e.detail));
            let (label, config) = input.config().unwrap_or_else(|e| panic!("{v:?}: {e}"));
            assert_eq!(label, "x");
            assert_eq!(MappingConfig { target: defaults.target.clone(), ..config }, defaults, "{v:?}");
        }
    }

    #[test]
    fn the_servicenow_preset_prefills_impact_and_urgency() {
        let d = configure::mapping_defaults(Vendor::ServiceNow, Some("impact_urgency")).unwrap();
        let values = values_of(&specs(Vendor::ServiceNow, true), "", &d).unwrap();
        assert_eq!(values.get("severity_mapping.critical"), "1/1");
    }
}
