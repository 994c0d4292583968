//! Connectors: the configured ones and the tools available, and per connector its Records,
//! its operations table, and Discover and Sync buttons (`api::connectors::run_now`, the API's
//! rights: any global role reads, global maintainers run).

use super::error::{UiError, UiResult, render};
use super::layout::Layout;
use super::lookup;
use super::session::CurrentUser;
use super::view;
use crate::api::connectors::{read, run_now};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::connector::{OperationKind, Tool};
use domain::{Action, ConnectorId};
use serde::Deserialize;
use store::PageRequest;
use store::connectors::{self, OperationFilter, RecordFilter};

pub struct ConnectorRow {
    pub id: i64,
    pub label: String,
    pub tool: &'static str,
    pub location: String,
    pub schedule: String,
}

pub struct ToolRow {
    pub label: &'static str,
    pub record_kind: &'static str,
    pub scan_type: &'static str,
}

#[derive(Template)]
#[template(path = "connectors.html")]
struct ConnectorsPage {
    layout: Layout,
    connectors: Vec<ConnectorRow>,
    tools: Vec<ToolRow>,
}

/// `every 60 min` or `by hand`.
fn every(minutes: u32) -> String {
    if minutes == 0 { "by hand".into() } else { format!("every {minutes} min") }
}

pub async fn list(State(s): State<AppState>, CurrentUser(session): CurrentUser) -> UiResult<Html<String>> {
    read(&session.actor)?;
    let mut c = s.app.db().conn().await?;
    let list = connectors::list(&mut c).await?;
    render(&ConnectorsPage {
        layout: Layout::new(&session, "Connectors", "connectors"),
        connectors: list
            .into_iter()
            .map(|k| ConnectorRow {
                id: k.id.0,
                tool: k.tool.label(),
                location: k.location,
                schedule: format!("Discover {}, Sync {}", every(k.settings.discover_every_minutes), every(k.settings.sync_every_minutes)),
                label: k.label,
            })
            .collect(),
        tools: Tool::ALL.into_iter().map(|t| ToolRow { label: t.label(), record_kind: t.record_kind(), scan_type: t.scan_type() }).collect(),
    })
}

pub struct RecordRow {
    pub name: String,
    pub external_id: String,
    pub state: &'static str,
    pub product: Option<(i64, String)>,
    pub last_discovered: String,
}

pub struct OperationRow {
    pub kind: &'static str,
    pub status: &'static str,
    pub trigger: &'static str,
    pub created: String,
    pub duration: String,
    pub counts: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "connector.html")]
struct ConnectorPage {
    layout: Layout,
    id: i64,
    label: String,
    tool: &'static str,
    location: String,
    can_run: bool,
    queued: Option<String>,
    records: Vec<RecordRow>,
    record_count: i64,
    operations: Vec<OperationRow>,
    operation_count: i64,
}

#[derive(Deserialize)]
pub struct DetailQuery {
    queued: Option<String>,
}

fn connector_id(raw: &str) -> UiResult<ConnectorId> {
    lookup::path_id(raw, "connector").map(ConnectorId)
}

/// `created 3, closed 1` from an operation's counts, zeros left out.
fn counts(v: &serde_json::Value) -> String {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, n)| n.as_i64().is_some_and(|n| n != 0))
                .map(|(k, n)| format!("{} {n}", k.replace('_', " ")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub async fn detail(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(raw): Path<String>,
    q: Result<Query<DetailQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let Query(q) = q.map_err(|e| UiError::bad_request(e.body_text()))?;
    read(&session.actor)?;
    let id = connector_id(&raw)?;
    let mut c = s.app.db().conn().await?;
    let k = connectors::get(&mut c, id).await?;
    let records = connectors::list_records(&mut c, &RecordFilter { connector: Some(k.id), state: None, mapped: None, product: None }, PageRequest::new(Some(200), None)).await?;
    let ops = connectors::list_operations(&mut c, &OperationFilter { connector: Some(k.id), kind: None, status: None }, PageRequest::new(Some(50), None)).await?;
    let names = lookup::product_names(&mut c, &session.actor.visibility()).await?;
    render(&ConnectorPage {
        layout: Layout::new(&session, k.label.clone(), "connectors"),
        id: k.id.0,
        tool: k.tool.label(),
        location: k.location,
        can_run: session.actor.can_globally(Action::Manage),
        queued: q.queued.filter(|k| k == "discover" || k == "sync"),
        record_count: records.count,
        records: records
            .results
            .into_iter()
            .map(|r| RecordRow {
                product: r.product.map(|p| (p.0, lookup::product_name(&names, p))),
                name: r.name,
                external_id: r.external_id,
                state: r.state.as_str(),
                last_discovered: view::time(Some(r.last_discovered_at)),
            })
            .collect(),
        operation_count: ops.count,
        operations: ops
            .results
            .into_iter()
            .map(|o| OperationRow {
                kind: o.kind.as_str(),
                status: o.status.as_str(),
                trigger: o.trigger.as_str(),
                created: view::time(Some(o.created_at)),
                duration: o.duration_ms.map(|ms| format!("{:.1} s", ms as f64 / 1000.0)).unwrap_or_default(),
                counts: counts(&o.counts),
                error: o.error.unwrap_or_default(),
            })
            .collect(),
        label: k.label,
    })
}

async fn run(s: &AppState, session: &super::session::Session, raw: &str, kind: OperationKind) -> UiResult<Response> {
    let id = connector_id(raw)?;
    run_now(s, &session.actor, id, kind).await?;
    Ok(Redirect::to(&format!("/connectors/{}?queued={}", id.0, kind.as_str())).into_response())
}

pub async fn discover(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    run(&s, &session, &raw, OperationKind::Discover).await
}

pub async fn sync(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    run(&s, &session, &raw, OperationKind::Sync).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_read_as_words() {
        let v = serde_json::json!({"records_new": 2, "findings_created": 0, "findings_closed": 1});
        assert_eq!(super::counts(&v), "findings closed 1, records new 2");
        assert_eq!(super::every(0), "by hand");
        assert_eq!(super::every(60), "every 60 min");
    }
}
