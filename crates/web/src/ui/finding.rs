//! `/findings/{id}`: every field of a finding, its history, its tickets with their changelogs,
//! and "Push to Integrators" (the API's push, `api::push::queue`).

use super::error::{UiResult, render};
use super::layout::Layout;
use super::session::CurrentUser;
use super::view::{self, TicketView};
use crate::api;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use domain::tracker::Subject;
use domain::{Action, Finding, FindingId};
use store::AsConn;

pub struct HistoryView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub changes: String,
}

/// The outcome of a push, shown above the finding.
pub struct Notice {
    pub queued: usize,
    pub not_queued: Vec<String>,
}

#[derive(Template)]
#[template(path = "finding.html")]
struct FindingPage {
    layout: Layout,
    id: i64,
    title: String,
    severity: &'static str,
    severity_class: &'static str,
    status: &'static str,
    product: String,
    /// Product → engagement → test, each (id, name), for the breadcrumbs.
    product_id: i64,
    engagement: (i64, String),
    test: (i64, String),
    fields: Vec<(&'static str, String)>,
    texts: Vec<(&'static str, String)>,
    endpoints: Vec<String>,
    tickets: Vec<TicketView>,
    history: Vec<HistoryView>,
    can_push: bool,
    notice: Option<Notice>,
    /// (value, label, current) of every status, for the triage form (writers).
    statuses: Vec<(&'static str, &'static str, bool)>,
}

/// A finding's id from the path; anything else is a clear 400, not a panic.
fn finding_id(raw: &str) -> UiResult<FindingId> {
    super::lookup::path_id(raw, "finding").map(FindingId)
}

pub async fn detail(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let id = finding_id(&raw)?;
    page(&s, &session, id, None).await
}

pub async fn push(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let id = finding_id(&raw)?;
    {
        let mut c = s.app.db().conn().await?;
        api::findings::visible(&mut c, &session.actor, id, None).await?;
    }
    let done = api::push::queue(&s, &session.actor, vec![Subject::Finding(id)]).await?;
    let notice = Notice {
        queued: done.queued.len(),
        not_queued: done.not_queued.into_iter().map(|n| n.reason).collect(),
    };
    page(&s, &session, id, Some(notice)).await
}

/// Triage: sets the finding's status through the API's change of a finding (history, tickets
/// follow), then shows it again.
pub async fn set_status(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(raw): Path<String>,
    form: Result<axum::Form<StatusForm>, axum::extract::rejection::FormRejection>,
) -> UiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let id = finding_id(&raw)?;
    let axum::Form(form) = form.map_err(|e| super::error::UiError::bad_request(e.body_text()))?;
    let status = domain::Status::parse(form.status.trim()).map_err(|e| super::error::UiError::bad_request(format!("status: {e}")))?;
    let mut tx = s.app.db().begin().await?;
    let patch = domain::FindingPatch { status: Some(status), ..Default::default() };
    api::findings::change(&mut tx, &session.actor, id, patch, None).await?;
    tx.commit().await?;
    Ok(axum::response::Redirect::to(&format!("/findings/{}", id.0)).into_response())
}

#[derive(serde::Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn page(s: &AppState, session: &super::session::Session, id: FindingId, notice: Option<Notice>) -> UiResult<Html<String>> {
    let mut c = s.app.db().conn().await?;
    let f = api::findings::visible(&mut c, &session.actor, id, None).await?;
    let product = store::products::get(&mut c, f.product).await?.name;
    let engagement = store::engagements::get(&mut c, f.engagement).await?.name;
    let test = store::tests::get(&mut c, f.test).await?;
    let mut fields = fields(&f);
    fields.push(("Engagement", engagement.clone()));
    fields.push(("Test", format!("{} ({})", test.title, test.scan_type)));
    let mut tickets = super::findings::tickets_by_finding(&mut c, std::slice::from_ref(&f), true).await?;
    let history = history(&mut c, f.id).await?;
    let page = FindingPage {
        layout: Layout::new(session, format!("Finding {}", f.id.0), "findings"),
        id: f.id.0,
        severity: f.severity.label(),
        severity_class: view::severity_class(f.severity),
        status: f.status.label(),
        product,
        product_id: f.product.0,
        engagement: (f.engagement.0, engagement),
        test: (f.test.0, test.title),
        fields,
        texts: texts(&f),
        endpoints: f.endpoints.iter().map(|e| e.to_string()).collect(),
        tickets: tickets.remove(&f.id).unwrap_or_default(),
        history,
        can_push: session.actor.can(Action::Write, f.product),
        notice,
        statuses: domain::Status::ALL.iter().map(|s| (s.as_str(), s.label(), *s == f.status)).collect(),
        title: f.title,
    };
    render(&page)
}

async fn history(c: &mut impl AsConn, id: FindingId) -> store::Result<Vec<HistoryView>> {
    Ok(store::history::list(c, id)
        .await?
        .into_iter()
        .map(|h| HistoryView {
            at: view::time(Some(h.at)),
            actor: h.actor,
            action: h.action,
            changes: match h.changes.as_object() {
                Some(m) if m.is_empty() => String::new(),
                _ => h.changes.to_string(),
            },
        })
        .collect())
}

/// Every short field, labelled, in the order a triager reads them; empty ones left out. (The
/// engagement and test are added by name by the page.)
pub fn fields(f: &Finding) -> Vec<(&'static str, String)> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
    let yes = |b: bool| if b { "yes".to_owned() } else { String::new() };
    let list = [
        ("Verified", if f.verified { "yes".into() } else { "no".into() }),
        ("CWE", f.cwe.map(|c| format!("CWE-{c}")).unwrap_or_default()),
        ("Other CWEs", f.cwes.iter().filter(|c| Some(**c) != f.cwe).map(|c| format!("CWE-{c}")).collect::<Vec<_>>().join(", ")),
        ("Vulnerability ids", f.vulnerability_ids.join(", ")),
        ("CVSS v3", [opt(&f.cvss_v3_vector), num(f.cvss_v3_score)].iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(" · ")),
        ("CVSS v4", [opt(&f.cvss_v4_vector), num(f.cvss_v4_score)].iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(" · ")),
        ("EPSS score", num(f.epss_score)),
        ("EPSS percentile", num(f.epss_percentile)),
        ("Known exploited", yes(f.known_exploited)),
        ("Severity justification", opt(&f.severity_justification)),
        ("Published", f.publish_date.map(|d| d.to_string()).unwrap_or_default()),
        ("Component", opt(&f.component_name)),
        ("Component version", opt(&f.component_version)),
        ("Package URL", opt(&f.component_purl)),
        ("Fix available", f.fix_available.map(|b| if b { "yes" } else { "no" }.to_owned()).unwrap_or_default()),
        ("Fixed in", opt(&f.fix_version)),
        ("File", match (&f.file_path, f.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            (Some(p), None) => p.clone(),
            _ => String::new(),
        }),
        ("Service", opt(&f.service)),
        ("Parameter", opt(&f.param)),
        ("Unique id from tool", opt(&f.unique_id_from_tool)),
        ("Rule (vulnerability id from tool)", opt(&f.vuln_id_from_tool)),
        ("Hash code", opt(&f.hash_code)),
        ("Static finding", yes(f.static_finding)),
        ("Dynamic finding", yes(f.dynamic_finding)),
        ("Scanner confidence", opt(&f.scanner_confidence)),
        ("Tags", f.tags.join(", ")),
        ("Date", f.date.to_string()),
        ("First seen", view::time(Some(f.first_seen))),
        ("Last seen", view::time(Some(f.last_seen))),
        ("Mitigated", view::time(f.mitigated_at).replace('—', "")),
        ("Mitigated by", opt(&f.mitigated_by)),
        ("Duplicate of", f.duplicate_of.map(|d| format!("finding {}", d.0)).unwrap_or_default()),
        ("Occurrences", f.occurrences.to_string()),
        ("Finding group", f.finding_group.map(|g| format!("group {}", g.0)).unwrap_or_default()),
        ("Created", view::time(Some(f.created_at))),
        ("Updated", view::time(Some(f.updated_at))),
    ];
    list.into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

/// The long texts, shown as preformatted blocks; empty ones left out.
pub fn texts(f: &Finding) -> Vec<(&'static str, String)> {
    let mut out = vec![("Description", f.description.clone())];
    for (label, v) in [
        ("Mitigation", &f.mitigation),
        ("Impact", &f.impact),
        ("Steps to reproduce", &f.steps_to_reproduce),
        ("References", &f.references),
        ("Payload", &f.payload),
    ] {
        out.push((label, v.clone().unwrap_or_default()));
    }
    for (i, rr) in f.request_response.iter().enumerate() {
        out.push(("Request", format!("#{}\n{}", i + 1, rr.request)));
        out.push(("Response", format!("#{}\n{}", i + 1, rr.response)));
    }
    out.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect()
}
