//! Settings › Integrations: instances, mappings (with their Total Errors, linking to each
//! mapping's error table with Retry), and assignments. Integrations span every product, so
//! the pages need a global role, as the API's do; retrying needs the writer role on the
//! failed findings' products (`api::integrations::retry_one`, `retry_all`).

use super::error::{UiError, UiResult, render};
use super::layout::Layout;
use super::session::CurrentUser;
use super::view;
use crate::api::integrations::{read_config, retry_all, retry_one};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::tracker::{Subject, Vendor};
use domain::{InstanceId, MappingId};
use serde::Deserialize;
use std::collections::HashMap;
use store::{PageRequest, assignments, instances, mappings, push_errors};

pub struct InstanceRow {
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
    pub label: String,
    pub target: String,
    pub total_errors: i64,
}

pub struct AssignmentRow {
    pub mapping: String,
    pub product: String,
    pub engagement: String,
    pub push_mode: &'static str,
}

#[derive(Template)]
#[template(path = "integrations.html")]
struct IntegrationsPage {
    layout: Layout,
    instances: Vec<InstanceRow>,
    mappings: Vec<MappingRow>,
    assignments: Vec<AssignmentRow>,
}

pub async fn overview(State(s): State<AppState>, CurrentUser(session): CurrentUser) -> UiResult<Html<String>> {
    read_config(&session.actor)?;
    let mut c = s.app.db().conn().await?;
    let insts = instances::list(&mut c).await?;
    let maps = mappings::list(&mut c, None).await?;
    let errors = push_errors::counts(&mut c).await?;
    let assigns = assignments::list(&mut c, &Default::default()).await?;
    let names = super::lookup::product_names(&mut c, &session.actor.visibility()).await?;
    let by_instance: HashMap<InstanceId, (&str, Vendor)> = insts.iter().map(|i| (i.id, (i.label.as_str(), i.vendor))).collect();
    let mapping_label: HashMap<MappingId, String> = maps
        .iter()
        .map(|m| (m.id, format!("{} › {}", by_instance.get(&m.instance).map(|i| i.0).unwrap_or("?"), m.label)))
        .collect();
    let mut engagement_names = HashMap::new();
    for a in &assigns {
        if let Some(e) = a.engagement
            && !engagement_names.contains_key(&e)
        {
            engagement_names.insert(e, store::engagements::get(&mut c, e).await?.name);
        }
    }
    let page = IntegrationsPage {
        layout: Layout::new(&session, "Integrations", "integrations"),
        instances: insts
            .iter()
            .map(|i| InstanceRow {
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
                instance: by_instance.get(&m.instance).map(|i| i.0.to_owned()).unwrap_or_default(),
                label: m.label.clone(),
                target: m.config.target.describe(),
                total_errors: errors.get(&m.id).copied().unwrap_or(0),
            })
            .collect(),
        assignments: assigns
            .iter()
            .map(|a| AssignmentRow {
                mapping: mapping_label.get(&a.mapping).cloned().unwrap_or_default(),
                product: super::lookup::product_name(&names, a.product),
                engagement: a.engagement.and_then(|e| engagement_names.get(&e).cloned()).unwrap_or_default(),
                push_mode: a.push_mode.as_str(),
            })
            .collect(),
    };
    render(&page)
}

pub struct ErrorRow {
    pub id: i64,
    pub subject: String,
    /// The finding's page (groups have none in the UI yet).
    pub link: Option<String>,
    pub first_at: String,
    pub last_at: String,
    pub attempts: i32,
    pub code: String,
    pub reason: String,
    pub retry_at: String,
}

#[derive(Template)]
#[template(path = "push_errors.html")]
struct ErrorsPage {
    layout: Layout,
    mapping_id: i64,
    mapping: String,
    icon: &'static str,
    count: i64,
    rows: Vec<ErrorRow>,
    prev: Option<String>,
    next: Option<String>,
    retried: Option<usize>,
}

#[derive(Deserialize)]
pub struct ErrorsQuery {
    offset: Option<i64>,
    retried: Option<usize>,
}

fn mapping_id(raw: &str) -> UiResult<MappingId> {
    super::lookup::path_id(raw, "mapping").map(MappingId)
}

pub async fn errors(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(raw): Path<String>,
    q: Result<Query<ErrorsQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let Query(q) = q.map_err(|e| UiError::bad_request(e.body_text()))?;
    read_config(&session.actor)?;
    let id = mapping_id(&raw)?;
    let mut c = s.app.db().conn().await?;
    let m = mappings::get(&mut c, id).await?;
    let instance = instances::get(&mut c, m.instance).await?;
    let page = PageRequest::new(Some(50), q.offset);
    let found = push_errors::list(&mut c, m.id, page).await?;
    let url = |offset: i64| format!("/settings/integrations/mappings/{}/errors?offset={offset}", m.id.0);
    render(&ErrorsPage {
        layout: Layout::new(&session, format!("Errors of {}", m.label), "integrations"),
        mapping_id: m.id.0,
        mapping: format!("{} › {}", instance.label, m.label),
        icon: view::vendor_icon(m.vendor),
        count: found.count,
        prev: (page.offset > 0).then(|| url((page.offset - page.limit).max(0))),
        next: (page.offset + page.limit < found.count).then(|| url(page.offset + page.limit)),
        rows: found
            .results
            .into_iter()
            .map(|e| ErrorRow {
                id: e.id,
                link: match e.subject {
                    Subject::Finding(f) => Some(format!("/findings/{}", f.0)),
                    Subject::Group(_) => None,
                },
                subject: e.subject.to_string(),
                first_at: view::time(Some(e.first_at)),
                last_at: view::time(Some(e.last_at)),
                attempts: e.attempts,
                code: e.code,
                reason: e.reason,
                retry_at: e.retry_at.map(|t| view::time(Some(t))).unwrap_or_else(|| "waits for a retry".into()),
            })
            .collect(),
        retried: q.retried,
    })
}

fn back_to_errors(mapping: MappingId, retried: usize) -> Response {
    Redirect::to(&format!("/settings/integrations/mappings/{}/errors?retried={retried}", mapping.0)).into_response()
}

pub async fn retry(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    let id = super::lookup::path_id(&raw, "push error")?;
    let mut tx = s.app.db().begin().await?;
    let mapping = retry_one(&mut tx, &session.actor, id).await?;
    tx.commit().await?;
    Ok(back_to_errors(mapping, 1))
}

pub async fn retry_mapping(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    let id = mapping_id(&raw)?;
    let mut tx = s.app.db().begin().await?;
    let n = retry_all(&mut tx, &session.actor, id).await?;
    tx.commit().await?;
    Ok(back_to_errors(id, n))
}
