//! Settings › Integrations: instances, mappings (with their Total Errors, linking to each
//! mapping's error table with Retry), and assignments, with the forms that add, change and
//! delete them.
//!
//! Integrations span every product, so the pages need a global role, as the API's do; the
//! forms and buttons for instances and mappings are for administrators, those for assignments
//! for maintainers of the product. Every change goes through the same function as the API's
//! (`api::integrations::add_instance`, `add_mapping`, `add_assignment`…), so rights, checks and
//! transactions are the API's. A refused save shows the form again (422) with what was typed
//! and the reason next to the input it names; nothing is written.

mod assignments;
mod errors;
mod instances;
mod mappings;

use super::error::{UiResult, render};
use super::layout::Layout;
use super::session::{CurrentUser, Session};
use super::view;
use crate::api::integrations::read_config;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::{get, post};
use domain::{Action, Actor, InstanceId, MappingId, Role};
use serde::Deserialize;
use std::collections::HashMap;
use trackers::CheckReport;

/// `/settings/integrations…`: the overview, instances, mappings, assignments, each mapping's
/// error table and Retry.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/integrations", get(overview))
        .route("/settings/integrations/instances", post(instances::create))
        .route("/settings/integrations/instances/new", get(instances::new))
        .route("/settings/integrations/instances/{id}", get(instances::show))
        .route("/settings/integrations/instances/{id}/edit", get(instances::edit).post(instances::update))
        .route("/settings/integrations/instances/{id}/delete", get(instances::confirm_delete).post(instances::delete))
        .route("/settings/integrations/instances/{id}/check", post(instances::check))
        .route("/settings/integrations/instances/{id}/webhook-secret", post(instances::rotate_secret))
        .route("/settings/integrations/mappings", post(mappings::create))
        .route("/settings/integrations/mappings/new", get(mappings::new))
        .route("/settings/integrations/mappings/{id}", get(mappings::show))
        .route("/settings/integrations/mappings/{id}/edit", get(mappings::edit).post(mappings::update))
        .route("/settings/integrations/mappings/{id}/delete", get(mappings::confirm_delete).post(mappings::delete))
        .route("/settings/integrations/mappings/{id}/check", post(mappings::check))
        .route("/settings/integrations/mappings/{id}/webhook", post(mappings::register_webhook))
        .route("/settings/integrations/mappings/{id}/errors", get(errors::errors))
        .route("/settings/integrations/mappings/{id}/errors/retry", post(errors::retry_mapping))
        .route("/settings/integrations/errors/{id}/retry", post(errors::retry))
        .route("/settings/integrations/assignments", post(assignments::create))
        .route("/settings/integrations/assignments/new", get(assignments::new))
        .route("/settings/integrations/assignments/{id}/edit", get(assignments::edit).post(assignments::update))
        .route("/settings/integrations/assignments/{id}/delete", get(assignments::confirm_delete).post(assignments::delete))
}

fn mapping_id(raw: &str) -> UiResult<MappingId> {
    super::lookup::path_id(raw, "mapping").map(MappingId)
}

fn instance_id(raw: &str) -> UiResult<InstanceId> {
    super::lookup::path_id(raw, "instance").map(InstanceId)
}

/// Administrators only (the API's rule for changing instances and mappings), checked before a
/// form is read or shown.
fn require_admin(session: &Session, doing: &str) -> UiResult<()> {
    Ok(crate::api::require_global(&session.actor, Action::Administer, doing)?)
}

/// A refused save: the form again, as typed, with the error's status (422; 409 for a clash).
fn refused(status: axum::http::StatusCode, page: &impl Template) -> UiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    Ok((status, render(page)?).into_response())
}

/// True if the actor may add, change and check instances and mappings (the API's rule).
fn is_admin(actor: &Actor) -> bool {
    actor.can_globally(Action::Administer)
}

/// True if the actor maintains some product, so may manage its assignments.
fn can_assign(actor: &Actor) -> bool {
    actor.global_role.is_some_and(|r| r >= Role::Maintainer) || actor.product_roles.values().any(|r| *r >= Role::Maintainer)
}

/// `GitHub acme › storefront`, for lists and selects.
/// `?saved` on an instance's or a mapping's page after its form was saved.
#[derive(serde::Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub(super) fn mapping_name(instances: &HashMap<InstanceId, String>, m: &domain::tracker::Mapping) -> String {
    format!("{} › {}", instances.get(&m.instance).map(String::as_str).unwrap_or("?"), m.label)
}

/// One check of "Check connection", as shown.
pub struct CheckView {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// A "Check connection" report, as shown: each check passed or failed with what is wrong.
pub struct ReportView {
    pub ok: bool,
    pub account: Option<String>,
    pub checks: Vec<CheckView>,
}

impl From<CheckReport> for ReportView {
    fn from(r: CheckReport) -> Self {
        ReportView {
            ok: r.ok(),
            account: r.account.clone(),
            checks: r.checks.into_iter().map(|c| CheckView { name: c.name, ok: c.ok, detail: c.detail }).collect(),
        }
    }
}

pub struct InstanceRow {
    pub id: i64,
    pub icon: &'static str,
    pub label: String,
    pub vendor: &'static str,
    pub location: String,
    pub account: String,
    pub mappings: usize,
}

pub struct MappingRow {
    pub id: i64,
    pub icon: &'static str,
    pub instance: String,
    pub instance_id: i64,
    pub label: String,
    pub target: String,
    pub total_errors: i64,
}

pub struct AssignmentRow {
    pub id: i64,
    pub mapping: String,
    pub product: String,
    pub engagement: String,
    pub push_mode: &'static str,
    pub filters: String,
    /// The actor maintains the product: Edit and Delete are offered.
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "integrations.html")]
struct IntegrationsPage {
    layout: Layout,
    instances: Vec<InstanceRow>,
    mappings: Vec<MappingRow>,
    assignments: Vec<AssignmentRow>,
    can_admin: bool,
    can_assign: bool,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct OverviewQuery {
    done: Option<String>,
}

/// What a form that sends the browser back to the overview did.
fn done_notice(key: &str) -> Option<&'static str> {
    Some(match key {
        "instance-deleted" => "Instance deleted, with its mappings and assignments (the tickets in the tracker stay).",
        "mapping-deleted" => "Mapping deleted, with its assignments (the tickets in the tracker stay).",
        "assignment-added" => "Assignment added.",
        "assignment-saved" => "Assignment saved.",
        "assignment-deleted" => "Assignment removed; its tickets stay linked but are no longer pushed.",
        _ => return None,
    })
}

/// "minimum High, open findings only", or "all findings".
fn describe_filters(f: &domain::tracker::PushFilters) -> String {
    let mut parts = Vec::new();
    if let Some(s) = f.minimum_severity {
        parts.push(format!("{} and above", s.label()));
    }
    if f.active_only {
        parts.push("open findings only".to_owned());
    }
    if parts.is_empty() { "all findings".to_owned() } else { parts.join(", ") }
}

async fn overview(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    q: Result<Query<OverviewQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let notice = q.ok().and_then(|Query(q)| q.done).and_then(|d| done_notice(&d));
    read_config(&session.actor)?;
    let mut c = s.app.db().conn().await?;
    let insts = store::instances::list(&mut c).await?;
    let maps = store::mappings::list(&mut c, None).await?;
    let errors = store::push_errors::counts(&mut c).await?;
    let assigns = store::assignments::list(&mut c, &Default::default()).await?;
    let names = super::lookup::product_names(&mut c, &session.actor.visibility()).await?;
    let instance_labels: HashMap<InstanceId, String> = insts.iter().map(|i| (i.id, i.label.clone())).collect();
    let mapping_label: HashMap<MappingId, String> = maps.iter().map(|m| (m.id, mapping_name(&instance_labels, m))).collect();
    let mut engagement_names = HashMap::new();
    for a in &assigns {
        if let Some(e) = a.engagement
            && !engagement_names.contains_key(&e)
        {
            engagement_names.insert(e, store::engagements::get(&mut c, e).await?.name);
        }
    }
    let actor = &session.actor;
    let page = IntegrationsPage {
        layout: Layout::new(&session, "Integrations", "integrations"),
        instances: insts
            .iter()
            .map(|i| InstanceRow {
                id: i.id.0,
                icon: view::vendor_icon(i.vendor),
                label: i.label.clone(),
                vendor: i.vendor.label(),
                location: i.location.clone(),
                account: i.account.clone().unwrap_or_default(),
                mappings: maps.iter().filter(|m| m.instance == i.id).count(),
            })
            .collect(),
        mappings: maps
            .iter()
            .map(|m| MappingRow {
                id: m.id.0,
                icon: view::vendor_icon(m.vendor),
                instance: instance_labels.get(&m.instance).cloned().unwrap_or_default(),
                instance_id: m.instance.0,
                label: m.label.clone(),
                target: m.config.target.describe(),
                total_errors: errors.get(&m.id).copied().unwrap_or(0),
            })
            .collect(),
        assignments: assigns
            .iter()
            .map(|a| AssignmentRow {
                id: a.id.0,
                mapping: mapping_label.get(&a.mapping).cloned().unwrap_or_default(),
                product: super::lookup::product_name(&names, a.product),
                engagement: a.engagement.and_then(|e| engagement_names.get(&e).cloned()).unwrap_or_default(),
                push_mode: a.push_mode.label(),
                filters: describe_filters(&a.filters),
                can_manage: actor.can(Action::Manage, a.product),
            })
            .collect(),
        can_admin: is_admin(actor),
        can_assign: can_assign(actor),
        notice,
    };
    render(&page)
}

/// The layout of an integrations page.
fn layout(session: &Session, title: impl Into<String>) -> Layout {
    Layout::new(session, title, "integrations")
}
