//! `/products` and `/products/{id}`: the Product → Engagement → Test hierarchy the user may see,
//! with open findings by severity; every level links to the findings list filtered to it.

use super::error::{UiResult, render};
use super::layout::Layout;
use super::session::CurrentUser;
use super::view;
use crate::api;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use domain::{ProductId, Severity};
use std::collections::HashMap;
use store::{PageRequest, engagements, findings, products, tests};

pub struct Cell {
    pub n: i64,
    pub class: &'static str,
    pub url: String,
}

pub struct ProductRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub open: i64,
    pub cells: Vec<Cell>,
}

/// Counts from Critical down, each linking to that product's open findings of that severity.
fn cells(counts: &[i64; 5], product: ProductId) -> Vec<Cell> {
    Severity::ALL
        .iter()
        .rev()
        .map(|s| Cell {
            n: usize::try_from(s.rank()).ok().and_then(|i| counts.get(i)).copied().unwrap_or(0),
            class: view::severity_class(*s),
            url: format!("/findings?product={}&severity={}&status=active&status=in_progress&status=awaiting_validation", product.0, s.as_str()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage {
    layout: Layout,
    rows: Vec<ProductRow>,
    count: i64,
}

pub async fn list(State(s): State<AppState>, CurrentUser(session): CurrentUser) -> UiResult<Html<String>> {
    let vis = session.actor.visibility();
    let mut c = s.app.db().conn().await?;
    let found = products::list(&mut c, &products::Filter::default(), &vis, PageRequest::new(Some(PageRequest::MAX_LIMIT), None)).await?;
    let open: HashMap<ProductId, [i64; 5]> = findings::open_counts_by_product(&mut c, &vis).await?.into_iter().collect();
    let rows = found
        .results
        .into_iter()
        .map(|p| {
            let counts = open.get(&p.id).copied().unwrap_or_default();
            ProductRow {
                id: p.id.0,
                open: counts.iter().sum(),
                cells: cells(&counts, p.id),
                description: p.description.unwrap_or_default(),
                name: p.name,
            }
        })
        .collect();
    render(&ProductsPage { layout: Layout::new(&session, "Products", "products"), rows, count: found.count })
}

pub struct TestRow {
    pub id: i64,
    pub title: String,
    pub scan_type: String,
    pub last_import: String,
}

pub struct EngagementRow {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub tests: Vec<TestRow>,
}

/// One of the product's tracker assignments: where its tickets go and when.
pub struct TrackerRow {
    pub id: i64,
    pub icon: &'static str,
    pub mapping: String,
    pub engagement: Option<String>,
    pub push_mode: &'static str,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    layout: Layout,
    product: ProductRow,
    engagements: Vec<EngagementRow>,
    trackers: Vec<TrackerRow>,
    /// Product maintainers add and change its assignments (Settings › Integrations forms).
    can_assign: bool,
}

pub async fn detail(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let id = ProductId(super::lookup::path_id(&raw, "product")?);
    let actor = &session.actor;
    let mut c = s.app.db().conn().await?;
    let p = api::visible_product(&mut c, actor, id, None).await?;
    let only = domain::Visibility::Only(vec![p.id]);
    let counts = findings::open_counts_by_product(&mut c, &only).await?.first().map(|(_, n)| *n).unwrap_or_default();
    let all = PageRequest::new(Some(PageRequest::MAX_LIMIT), None);
    let engs = engagements::list(&mut c, &engagements::Filter { product: Some(p.id), ..Default::default() }, &only, all).await?;
    let mut by_engagement: HashMap<domain::EngagementId, Vec<TestRow>> = HashMap::new();
    for t in tests::list(&mut c, &tests::Filter { product: Some(p.id), ..Default::default() }, &only, all).await?.results {
        by_engagement.entry(t.engagement).or_default().push(TestRow {
            id: t.id.0,
            title: t.title,
            scan_type: t.scan_type,
            last_import: view::time(t.last_import_at),
        });
    }
    let engagements: Vec<EngagementRow> = engs
        .results
        .into_iter()
        .map(|e| EngagementRow {
            id: e.id.0,
            kind: e.engagement_type.as_str(),
            status: e.status.as_str(),
            tests: by_engagement.remove(&e.id).unwrap_or_default(),
            name: e.name,
        })
        .collect();
    let trackers = tracker_rows(&mut c, p.id, &engagements).await?;
    let product = ProductRow {
        id: p.id.0,
        open: counts.iter().sum(),
        cells: cells(&counts, p.id),
        description: p.description.unwrap_or_default(),
        name: p.name,
    };
    render(&ProductPage {
        layout: Layout::new(&session, product.name.clone(), "products"),
        product,
        engagements,
        trackers,
        can_assign: actor.can(domain::Action::Manage, p.id),
    })
}

/// The product's assignments, named `Instance › Mapping` with the vendor's icon.
async fn tracker_rows(c: &mut store::PooledConn, product: ProductId, engagements: &[EngagementRow]) -> UiResult<Vec<TrackerRow>> {
    let assigned = store::assignments::list(c, &store::assignments::Filter { product: Some(product), ..Default::default() }).await?;
    if assigned.is_empty() {
        return Ok(Vec::new());
    }
    let instances: HashMap<_, _> = store::instances::list(c).await?.into_iter().map(|i| (i.id, i.label)).collect();
    let mappings: HashMap<_, _> = store::mappings::list(c, None).await?.into_iter().map(|m| (m.id, m)).collect();
    Ok(assigned
        .into_iter()
        .filter_map(|a| {
            let m = mappings.get(&a.mapping)?;
            Some(TrackerRow {
                id: a.id.0,
                icon: view::vendor_icon(m.vendor),
                mapping: super::integrations::mapping_name(&instances, m),
                engagement: a.engagement.and_then(|e| engagements.iter().find(|r| r.id == e.0).map(|r| r.name.clone())),
                push_mode: a.push_mode.label(),
            })
        })
        .collect())
}
