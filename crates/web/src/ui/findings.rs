//! `/findings`: the findings the user may see, filtered, sorted and paged by the same store
//! query as `GET /api/v1/findings`, with severity badges and the "Integrator Tickets" column.
//! Filter changes, sorting and paging swap only the table when htmx is there (`#results`).

use super::error::{UiResult, render};
use super::filters::{PAGE_SIZES, Params};
use super::layout::Layout;
use super::session::CurrentUser;
use super::view::{self, TicketView};
use crate::api::tickets;
use crate::state::AppState;
use askama::Template;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{Finding, FindingGroupId, FindingId, ProductId, Severity, Status};
use std::collections::HashMap;
use store::{AsConn, findings, products};

pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

pub struct Row {
    pub id: i64,
    pub title: String,
    pub severity: &'static str,
    pub severity_class: &'static str,
    pub status: &'static str,
    pub product: String,
    pub component: String,
    pub cwe: String,
    pub vulnerability_ids: String,
    pub last_seen: String,
    pub tickets: Vec<TicketView>,
}

/// The selection form for bulk actions, for users who may push.
pub struct Bulk {
    pub csrf: String,
    /// (value, label) of every status, for "Set status".
    pub statuses: Vec<(&'static str, &'static str)>,
    /// The list as it is now, to come back to.
    pub back: String,
}

pub struct Table {
    pub bulk: Option<Bulk>,
    /// Filters that could not be used, naming the parameter.
    pub errors: Vec<String>,
    pub rows: Vec<Row>,
    pub count: i64,
    pub from: i64,
    pub to: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub sort_severity: String,
    pub mark_severity: &'static str,
    pub sort_title: String,
    pub mark_title: &'static str,
    pub sort_id: String,
    pub mark_id: &'static str,
    pub sort_last_seen: String,
    pub mark_last_seen: &'static str,
}

#[derive(Template)]
#[template(path = "findings.html")]
struct FindingsPage {
    layout: Layout,
    params: Params,
    severities: Vec<Choice>,
    statuses: Vec<Choice>,
    products: Vec<Choice>,
    page_sizes: Vec<Choice>,
    cwe: String,
    /// "engagement CI", "test Semgrep (Semgrep JSON Report)" when the list is limited to one.
    scope: Vec<String>,
    table: Table,
}

#[derive(Template)]
#[template(path = "findings_table.html")]
struct FindingsTable {
    table: Table,
}

pub async fn list(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> UiResult<Response> {
    let (params, errors) = Params::parse(uri.query().unwrap_or(""));
    let vis = session.actor.visibility();
    let mut c = s.app.db().conn().await?;
    let products = super::lookup::visible_products(&mut c, &vis).await?;
    let found = if errors.is_empty() {
        findings::list(&mut c, &params.filter(), &vis, params.page()).await?
    } else {
        store::Page { count: 0, results: Vec::new() }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let scope = scope(&mut c, &session.actor, &params).await?;
    let mut table = table(&mut c, &params, found, &products, errors).await?;
    if super::bulk::can_push_any(&session.actor) {
        table.bulk = Some(Bulk {
            csrf: session.csrf.clone(),
            statuses: Status::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
            back: params.url(&params.ordering, params.offset),
        });
    }
    // htmx asks for the table alone when filters change or a header or page link is followed.
    let wants_table = headers.get("hx-target").is_some_and(|t| t == "results");
    if wants_table {
        return Ok((status, render(&FindingsTable { table })?).into_response());
    }
    let page = FindingsPage {
        layout: Layout::new(&session, "Findings", "findings"),
        severities: Severity::ALL
            .iter()
            .rev()
            .map(|s| Choice { value: s.as_str().into(), label: s.label().into(), checked: params.severities.contains(s) })
            .collect(),
        statuses: Status::ALL
            .iter()
            .map(|s| Choice { value: s.as_str().into(), label: s.label().into(), checked: params.statuses.contains(s) })
            .collect(),
        products: products
            .iter()
            .map(|(id, name)| Choice { value: id.0.to_string(), label: name.clone(), checked: params.product == Some(id.0) })
            .collect(),
        page_sizes: PAGE_SIZES
            .iter()
            .map(|n| Choice { value: n.to_string(), label: n.to_string(), checked: params.page_size == *n })
            .collect(),
        cwe: params.cwe.map(|c| c.to_string()).unwrap_or_default(),
        params,
        scope,
        table,
    };
    Ok((status, render(&page)?).into_response())
}

/// Names the engagement and test the list is limited to (by id only when the user may not see
/// them: the list is then empty anyway).
async fn scope(c: &mut impl AsConn, actor: &domain::Actor, params: &Params) -> store::Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(id) = params.engagement {
        out.push(match store::engagements::get(c, domain::EngagementId(id)).await {
            Ok(e) if actor.can_see(e.product) => format!("engagement {}", e.name),
            Err(e) if !e.is_not_found() => return Err(e),
            _ => format!("engagement {id}"),
        });
    }
    if let Some(id) = params.finding_group {
        out.push(match store::groups::get(c, FindingGroupId(id)).await {
            Ok(g) if actor.can_see(g.product) => format!("group {}", g.name),
            Err(e) if !e.is_not_found() => return Err(e),
            _ => format!("group {id}"),
        });
    }
    if let Some(id) = params.test {
        out.push(match store::tests::get(c, domain::TestId(id)).await {
            Ok(t) if actor.can_see(t.product) => format!("test {} ({})", t.title, t.scan_type),
            Err(e) if !e.is_not_found() => return Err(e),
            _ => format!("test {id}"),
        });
    }
    Ok(out)
}

async fn table(
    c: &mut impl AsConn,
    params: &Params,
    found: store::Page<Finding>,
    products: &[(ProductId, String)],
    errors: Vec<String>,
) -> UiResult<Table> {
    let mut names: HashMap<ProductId, String> = products.iter().cloned().collect();
    let mut tickets = tickets_by_finding(c, &found.results, false).await?;
    let mut rows = Vec::with_capacity(found.results.len());
    for f in found.results {
        // Beyond the first thousand products (rare) a name is fetched as needed.
        let product = match names.get(&f.product) {
            Some(n) => n.clone(),
            None => {
                let n = products::get(c, f.product).await?.name;
                names.insert(f.product, n.clone());
                n
            }
        };
        rows.push(Row {
            id: f.id.0,
            severity: f.severity.label(),
            severity_class: view::severity_class(f.severity),
            status: f.status.label(),
            product,
            component: match (&f.component_name, &f.component_version) {
                (Some(n), Some(v)) => format!("{n} {v}"),
                (Some(n), None) => n.clone(),
                _ => String::new(),
            },
            cwe: f.cwe.map(|c| format!("CWE-{c}")).unwrap_or_default(),
            vulnerability_ids: f.vulnerability_ids.join(", "),
            last_seen: view::time(Some(f.last_seen)),
            tickets: tickets.remove(&f.id).unwrap_or_default(),
            title: f.title,
        });
    }
    let page = params.page();
    let shown = rows.len() as i64;
    let ordering = params.ordering.as_str();
    let (prev, next) = view::pager(page, found.count, |offset| params.url(ordering, offset));
    Ok(Table {
        bulk: None,
        errors,
        count: found.count,
        from: if shown == 0 { 0 } else { page.offset + 1 },
        to: page.offset + shown,
        prev,
        next,
        sort_severity: params.sort_url("-severity", "severity"),
        mark_severity: params.sort_mark("-severity", "severity"),
        sort_title: params.sort_url("title", "title"),
        mark_title: params.sort_mark("title", "title"),
        sort_id: params.sort_url("-id", "id"),
        mark_id: params.sort_mark("-id", "id"),
        sort_last_seen: params.sort_url("-last_seen", "-last_seen"),
        mark_last_seen: params.sort_mark("-last_seen", "-last_seen"),
        rows,
    })
}

/// The tickets to show for each finding: its own, then its group's (a grouped finding is
/// pushed as its group), as the API lists them; with their changelogs on request.
pub(super) async fn tickets_by_finding(
    c: &mut impl AsConn,
    list: &[Finding],
    changelogs: bool,
) -> store::Result<HashMap<FindingId, Vec<TicketView>>> {
    let ids: Vec<FindingId> = list.iter().map(|f| f.id).collect();
    let mut groups: Vec<FindingGroupId> = list.iter().filter_map(|f| f.finding_group).collect();
    groups.sort();
    groups.dedup();
    let mut own = tickets::for_findings(c, &ids).await?;
    let by_group = tickets::for_groups(c, &groups).await?;
    let mut out = HashMap::new();
    for f in list {
        let mine = own.remove(&f.id).unwrap_or_default();
        let theirs = f.finding_group.and_then(|g| by_group.get(&g)).cloned().unwrap_or_default();
        let n_mine = mine.len();
        let mut all: Vec<_> = mine.into_iter().chain(theirs).collect();
        if changelogs {
            all = tickets::with_changelogs(c, all).await?;
        }
        let views: Vec<TicketView> = all.into_iter().enumerate().map(|(i, t)| view::ticket(t, i >= n_mine)).collect();
        if !views.is_empty() {
            out.insert(f.id, views);
        }
    }
    Ok(out)
}
