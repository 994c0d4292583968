//! `/`: the dashboard. Open findings by severity and by product (each count links to the
//! findings list so filtered), recent imports, and the push queue: its depth and, per tracker
//! instance, when it is expected to be through. Everything follows the user's roles; the
//! queue (which spans all products) is shown to users with a global role.

use super::error::{UiResult, render};
use super::layout::Layout;
use super::session::CurrentUser;
use super::view;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use domain::{ProductId, Severity, Status};
use std::collections::HashMap;
use store::jobs::JobStatus;
use store::{PageRequest, findings, imports, products};

/// The list of open findings, optionally of one severity and product.
fn open_url(severity: Option<Severity>, product: Option<ProductId>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for s in Status::ALL.iter().filter(|s| s.is_open()) {
        q.append_pair("status", s.as_str());
    }
    if let Some(s) = severity {
        q.append_pair("severity", s.as_str());
    }
    if let Some(p) = product {
        q.append_pair("product", &p.0.to_string());
    }
    format!("/findings?{}", q.finish())
}

pub struct Count {
    pub label: &'static str,
    pub class: &'static str,
    pub n: i64,
    pub url: String,
}

pub struct ProductRow {
    pub name: String,
    pub total: i64,
    pub total_url: String,
    pub counts: Vec<Count>,
}

pub struct ImportRow {
    pub at: String,
    pub product: String,
    pub scan_type: String,
    pub file: String,
    pub kind: String,
    pub created: i64,
    pub closed: i64,
    pub reactivated: i64,
    pub actor: String,
}

pub struct InstanceQueue {
    pub label: String,
    pub icon: &'static str,
    pub queued: i64,
    pub running: i64,
    pub dead: i64,
    pub expected_finish: String,
    pub blocked: Option<String>,
}

pub struct SyncRow {
    pub connector_id: i64,
    pub connector: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub at: String,
    pub error: String,
}

/// Something that failed and waits for a person: a mapping's error table, a failed operation.
pub struct Attention {
    pub what: String,
    pub href: String,
}

pub struct Queue {
    pub queued: i64,
    pub running: i64,
    pub dead: i64,
    pub instances: Vec<InstanceQueue>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    total_open: i64,
    total_url: String,
    by_severity: Vec<Count>,
    by_product: Vec<ProductRow>,
    imports: Vec<ImportRow>,
    queue: Option<Queue>,
    /// Global roles only (connectors and integrations span every product).
    syncs: Option<Vec<SyncRow>>,
    attention: Vec<Attention>,
}

/// Open findings per severity over all products.
fn sum(per_product: &[(ProductId, [i64; 5])]) -> [i64; 5] {
    let mut out = [0i64; 5];
    for (_, n) in per_product {
        for (o, x) in out.iter_mut().zip(n) {
            *o += x;
        }
    }
    out
}

/// Severities from Critical down, with their counts (`[info … critical]` in, as the store gives).
fn counts(n: &[i64; 5], product: Option<ProductId>) -> Vec<Count> {
    Severity::ALL
        .iter()
        .rev()
        .map(|s| Count {
            label: s.label(),
            class: view::severity_class(*s),
            n: usize::try_from(s.rank()).ok().and_then(|i| n.get(i)).copied().unwrap_or(0),
            url: open_url(Some(*s), product),
        })
        .collect()
}

pub async fn show(State(s): State<AppState>, CurrentUser(session): CurrentUser) -> UiResult<Html<String>> {
    let actor = &session.actor;
    let vis = actor.visibility();
    let mut c = s.app.db().conn().await?;
    // One grouped scan of the open findings gives both views (the totals are its sums).
    let per_product = findings::open_counts_by_product(&mut c, &vis).await?;
    let totals = sum(&per_product);
    let names = super::lookup::product_names(&mut c, &vis).await?;
    let mut by_product = Vec::with_capacity(per_product.len());
    for (p, n) in &per_product {
        let name = match names.get(p) {
            Some(n) => n.clone(),
            None => products::get(&mut c, *p).await?.name,
        };
        by_product.push(ProductRow { name, total: n.iter().sum(), total_url: open_url(None, Some(*p)), counts: counts(n, Some(*p)) });
    }
    // Most open findings first: where attention is needed.
    by_product.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));

    let recent = imports::list(&mut c, &Default::default(), &vis, PageRequest::new(Some(10), None)).await?;
    let imports = recent
        .results
        .into_iter()
        .map(|i| ImportRow {
            at: view::time(Some(i.finished_at)),
            product: super::lookup::product_name(&names, i.product),
            scan_type: i.scan_type,
            file: i.file_name.unwrap_or_default(),
            kind: i.kind,
            created: i.counts.created,
            closed: i.counts.closed,
            reactivated: i.counts.reactivated,
            actor: i.actor,
        })
        .collect();

    let (queue, syncs, attention) = if actor.global_role.is_some() {
        let jobs = store::jobs::counts(&mut c).await?;
        let (syncs, attention) = syncs_and_attention(&mut c).await?;
        drop(c);
        (Some(queue(&s, &jobs).await?), Some(syncs), attention)
    } else {
        (None, None, Vec::new())
    };

    let page = Dashboard {
        layout: Layout::new(&session, "Dashboard", "dashboard"),
        total_open: totals.iter().sum(),
        total_url: open_url(None, None),
        by_severity: counts(&totals, None),
        by_product,
        imports,
        queue,
        syncs,
        attention,
    };
    render(&page)
}

/// The latest connector operations, and what failed and waits for a person: mappings with
/// failed pushes, connectors whose latest operation failed.
async fn syncs_and_attention(c: &mut store::PooledConn) -> store::Result<(Vec<SyncRow>, Vec<Attention>)> {
    let connectors: HashMap<domain::ConnectorId, String> = store::connectors::list(c).await?.into_iter().map(|k| (k.id, k.label)).collect();
    let ops = store::connectors::list_operations(c, &Default::default(), PageRequest::new(Some(10), None)).await?;
    let mut attention = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let syncs = ops
        .results
        .into_iter()
        .map(|o| {
            let name = connectors.get(&o.connector).cloned().unwrap_or_else(|| format!("connector {}", o.connector.0));
            // Only a connector's latest operation says whether it is failing now.
            if seen.insert(o.connector) && o.status == domain::connector::OperationStatus::Failed {
                attention.push(Attention { what: format!("{name}: its latest {} failed", o.kind.as_str()), href: format!("/connectors/{}", o.connector.0) });
            }
            SyncRow {
                connector_id: o.connector.0,
                connector: name,
                kind: o.kind.as_str(),
                status: o.status.as_str(),
                at: view::time(o.finished_at.or(o.started_at).or(Some(o.created_at))),
                error: o.error.unwrap_or_default(),
            }
        })
        .collect();
    let errors = store::push_errors::counts(c).await?;
    let mut failing: Vec<_> = errors.into_iter().filter(|(_, n)| *n > 0).collect();
    failing.sort();
    for (m, n) in failing {
        let label = store::mappings::get(c, m).await?.label;
        attention.push(Attention {
            what: format!("{n} failed push{} to {label}", if n == 1 { "" } else { "es" }),
            href: format!("/settings/integrations/mappings/{}/errors", m.0),
        });
    }
    Ok((syncs, attention))
}

async fn queue(s: &AppState, jobs: &[(String, JobStatus, i64)]) -> UiResult<Queue> {
    let push_queue = <engine::jobs::PushTicket as engine::Job>::QUEUE;
    let of = |st: JobStatus| jobs.iter().filter(|(q, s, _)| q == push_queue && *s == st).map(|(_, _, n)| n).sum::<i64>();
    let mut c = s.app.db().conn().await?;
    let list = store::instances::list(&mut c).await?;
    drop(c);
    let mut instances = Vec::with_capacity(list.len());
    for i in &list {
        let q = engine::integrations::queue::status(&s.app, i).await.map_err(crate::error::ApiError::internal)?;
        instances.push(InstanceQueue {
            label: i.label.clone(),
            icon: view::vendor_icon(i.vendor),
            queued: q.queued,
            running: q.running,
            dead: q.dead,
            expected_finish: if q.queued + q.running == 0 { "—".into() } else { view::time(Some(q.expected_finish)) },
            blocked: q.blocked_until.map(|u| {
                format!("paused by the tracker until {}{}", view::time(Some(u)), q.blocked_reason.map(|r| format!(": {r}")).unwrap_or_default())
            }),
        });
    }
    Ok(Queue { queued: of(JobStatus::Queued), running: of(JobStatus::Running), dead: of(JobStatus::Dead), instances })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_products() {
        assert_eq!(sum(&[(ProductId(1), [1, 0, 2, 0, 3]), (ProductId(2), [0, 4, 0, 5, 0])]), [1, 4, 2, 5, 3]);
        assert_eq!(sum(&[]), [0; 5]);
    }

    #[test]
    fn counts_run_from_critical_down_and_link_to_open_findings() {
        let c = counts(&[1, 2, 3, 4, 5], Some(ProductId(7)));
        assert_eq!(c.iter().map(|c| (c.label, c.n)).collect::<Vec<_>>(), [("Critical", 5), ("High", 4), ("Medium", 3), ("Low", 2), ("Info", 1)]);
        assert_eq!(c[0].url, "/findings?status=active&status=in_progress&status=awaiting_validation&severity=critical&product=7");
    }
}
