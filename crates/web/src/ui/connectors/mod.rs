//! Connectors: the configured ones and the tools available, and per connector its settings,
//! its Records (filtered by state and mapping, each mapped, ignored, restored or deleted), its
//! operations table, and Discover, Sync and Check connection; adding, editing and deleting
//! connectors is in [`form`].
//!
//! Every change goes through the API's functions (`api::connectors::{add, change, remove,
//! check_connection, run_now, decide, remove_record}`), so the rights are the API's: any
//! global role reads, global maintainers change and run. Other users see the pages without
//! buttons, and a POST is refused (403).

mod form;

use super::error::{UiError, UiResult};
use super::layout::Layout;
use super::lookup;
use super::session::{CurrentUser, Session};
use super::view;
use crate::api::connectors::{decide, read, remove_record, run_now};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use domain::connector::{Connector, OperationKind, RecordState, Tool};
use domain::{Action, ConnectorId, ProductId, RecordId};
use engine::connectors::configure::RecordDecision;
use serde::Deserialize;
use store::PageRequest;
use store::connectors::{self, OperationFilter, RecordFilter};

/// `/connectors…`: the list, the connector form, one connector's page with its Records, and
/// its buttons.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connectors", get(list))
        .route("/connectors/new", get(form::new).post(form::create))
        .route("/connectors/{id}", get(detail))
        .route("/connectors/{id}/edit", get(form::edit).post(form::save))
        .route("/connectors/{id}/delete", post(form::delete))
        .route("/connectors/{id}/check", post(check))
        .route("/connectors/{id}/discover", post(discover))
        .route("/connectors/{id}/sync", post(sync))
        .route("/connectors/{id}/records/{record}", post(decide_record))
        .route("/connectors/{id}/records/{record}/delete", post(delete_record))
}

pub struct ConnectorRow {
    pub id: i64,
    pub label: String,
    pub tool: &'static str,
    pub location: String,
    pub schedule: String,
}

pub struct ToolRow {
    pub tool: &'static str,
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
    can_manage: bool,
    deleted: Option<String>,
}

/// `every 60 min` or `by hand`.
fn every(minutes: u32) -> String {
    if minutes == 0 { "by hand".into() } else { format!("every {minutes} min") }
}

fn can_manage(session: &Session) -> bool {
    session.actor.can_globally(Action::Manage)
}

#[derive(Deserialize)]
pub struct ListQuery {
    deleted: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let Query(q) = q.map_err(|e| UiError::bad_request(e.body_text()))?;
    read(&session.actor)?;
    let mut c = s.app.db().conn().await?;
    let list = connectors::list(&mut c).await?;
    super::error::render(&ConnectorsPage {
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
        tools: Tool::ALL
            .into_iter()
            .map(|t| ToolRow { tool: t.as_str(), label: t.label(), record_kind: t.record_kind(), scan_type: t.scan_type() })
            .collect(),
        can_manage: can_manage(&session),
        deleted: q.deleted.filter(|d| !d.is_empty()),
    })
}

pub struct RecordRow {
    pub id: i64,
    pub name: String,
    pub external_id: String,
    pub state: &'static str,
    /// What the state means, for the badge's tooltip.
    pub state_help: &'static str,
    pub product: Option<(i64, String)>,
    pub last_discovered: String,
    pub finalized: String,
    /// Which decisions the row offers (besides Map and Delete).
    pub can_ignore: bool,
    pub can_restore: bool,
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

/// One line of a Check connection report.
pub struct CheckRow {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

pub struct CheckView {
    pub ok: bool,
    pub account: Option<String>,
    pub checks: Vec<CheckRow>,
}

/// A choice of a `<select>`: value, label, selected.
pub type Choice = (String, String, bool);

#[derive(Template)]
#[template(path = "connector.html")]
struct ConnectorPage {
    layout: Layout,
    id: i64,
    label: String,
    tool: &'static str,
    record_kind: &'static str,
    location: String,
    settings: Vec<(&'static str, String)>,
    can_run: bool,
    notice: Option<String>,
    error: Option<String>,
    check: Option<CheckView>,
    records: Vec<RecordRow>,
    record_count: i64,
    filtered: bool,
    /// The filter's query with the page (`state=new&mapped=false&offset=100`), carried by the
    /// record forms so a decision comes back to the same page.
    filter_query: String,
    /// The page size asked for (`limit`), kept by the filter form; `None`: the default.
    limit: Option<i64>,
    /// `41–80`: the records shown, when there is more than one page.
    showing: Option<String>,
    prev: Option<String>,
    next: Option<String>,
    states: Vec<Choice>,
    mapped: Vec<Choice>,
    products: Vec<(i64, String)>,
    operations: Vec<OperationRow>,
    operation_count: i64,
}

/// Records a page shows unless `limit` says otherwise.
pub const RECORDS_PAGE: i64 = 100;

/// The Records filter: a state and mapped or not, as the API's query names them, and the
/// page (`offset`, `limit`) as the API's lists take it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RecordsFilter {
    state: Option<RecordState>,
    mapped: Option<bool>,
    offset: i64,
    limit: Option<i64>,
}

impl RecordsFilter {
    /// From `state` and `mapped` values (empty: any); a value it does not know is named.
    /// The page is first, [`RECORDS_PAGE`] long.
    fn parse(state: Option<&str>, mapped: Option<&str>) -> UiResult<RecordsFilter> {
        let state = match state.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(v) => Some(RecordState::parse(v).ok_or_else(|| UiError::bad_request(format!("unknown record state '{v}'; use new, good, ignored, stale or missing")))?),
        };
        let mapped = match mapped.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(v) => return Err(UiError::bad_request(format!("mapped must be true or false, not '{v}'"))),
        };
        Ok(RecordsFilter { state, mapped, offset: 0, limit: None })
    }

    /// This filter at `offset`, `limit` long (`None`: the default); out-of-range values are
    /// brought in range, as the API's lists do.
    fn at(self, offset: Option<i64>, limit: Option<i64>) -> RecordsFilter {
        RecordsFilter { offset: offset.unwrap_or(0).max(0), limit: limit.map(|l| l.clamp(1, PageRequest::MAX_LIMIT)), ..self }
    }

    /// Whether it leaves records out by state or mapping (the page aside).
    fn filters(&self) -> bool {
        self.state.is_some() || self.mapped.is_some()
    }

    fn page(&self) -> PageRequest {
        PageRequest::new(Some(self.limit.unwrap_or(RECORDS_PAGE)), Some(self.offset))
    }

    /// From a record form's `filter` field (the page's query); what it cannot read is dropped.
    fn from_query(raw: &str) -> RecordsFilter {
        let mut state = None;
        let mut mapped = None;
        let mut offset = None;
        let mut limit = None;
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            match k.as_ref() {
                "state" => state = Some(v.into_owned()),
                "mapped" => mapped = Some(v.into_owned()),
                "offset" => offset = v.trim().parse().ok(),
                "limit" => limit = v.trim().parse().ok(),
                _ => {}
            }
        }
        let f = RecordsFilter::parse(state.as_deref(), mapped.as_deref()).unwrap_or_default();
        f.at(offset, limit)
    }

    fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(s) = self.state {
            q.append_pair("state", s.as_str());
        }
        if let Some(m) = self.mapped {
            q.append_pair("mapped", if m { "true" } else { "false" });
        }
        if self.offset > 0 {
            q.append_pair("offset", &self.offset.to_string());
        }
        if let Some(l) = self.limit {
            q.append_pair("limit", &l.to_string());
        }
        q.finish()
    }

    /// The connector's page showing this filter's records.
    fn url(&self, k: i64) -> String {
        let q = self.query();
        if q.is_empty() { format!("/connectors/{k}#records") } else { format!("/connectors/{k}?{q}#records") }
    }
}

/// What a state means, in the words of `domain::connector::RecordState`.
fn state_help(s: RecordState) -> &'static str {
    match s {
        RecordState::New => "Discovered, not mapped to a product yet",
        RecordState::Good => "Mapped: its findings are synced",
        RecordState::Ignored => "Not synced by choice; Discover keeps it so",
        RecordState::Stale => "Its product was deleted: not synced until mapped again",
        RecordState::Missing => "The tool no longer reports it (findings already imported stay)",
    }
}

#[derive(Deserialize)]
pub struct DetailQuery {
    queued: Option<String>,
    done: Option<String>,
    state: Option<String>,
    mapped: Option<String>,
    offset: Option<i64>,
    limit: Option<i64>,
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

/// The notice after a change (`?done=…`).
fn done_notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "added" => "Connector added. Check connection tells whether the tool answers; Discover finds its records.",
        "saved" => "Connector saved.",
        "mapped" => "Record mapped; the next Sync imports its findings into the product.",
        "ignored" => "Record ignored; it is not synced, and Discover keeps it ignored.",
        "restored" => "Record restored.",
        "deleted" => "Record deleted; the next Discover brings it back while the tool reports it (ignore it to keep it away). Its findings stay.",
        _ => return None,
    })
}

/// What the connector page shows besides the connector itself.
#[derive(Default)]
struct Extras {
    notice: Option<String>,
    error: Option<String>,
    check: Option<CheckView>,
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
    let filter = RecordsFilter::parse(q.state.as_deref(), q.mapped.as_deref())?.at(q.offset, q.limit);
    let notice = match (q.queued.as_deref(), q.done.as_deref()) {
        (Some(k @ ("discover" | "sync")), _) => Some(format!("{k} queued; the operations table shows it when it runs.")),
        (_, Some(d)) => done_notice(d).map(str::to_owned),
        _ => None,
    };
    page(&s, &session, id, filter, Extras { notice, ..Default::default() }).await
}

/// Renders a connector's page.
async fn page(s: &AppState, session: &Session, id: ConnectorId, mut filter: RecordsFilter, extras: Extras) -> UiResult<Html<String>> {
    let mut c = s.app.db().conn().await?;
    let k = connectors::get(&mut c, id).await?;
    let wanted = RecordFilter { connector: Some(k.id), state: filter.state, mapped: filter.mapped, product: None };
    let mut records = connectors::list_records(&mut c, &wanted, filter.page()).await?;
    if records.results.is_empty() && filter.offset > 0 && records.count > 0 {
        // Past the end (the last records of the last page were mapped away, or deleted): the
        // last page.
        let limit = filter.page().limit;
        filter.offset = (records.count - 1) / limit * limit;
        records = connectors::list_records(&mut c, &wanted, filter.page()).await?;
    }
    let shown = filter.page();
    let paged = shown.offset > 0 || records.count > shown.offset + records.results.len() as i64;
    let ops = connectors::list_operations(&mut c, &OperationFilter { connector: Some(k.id), kind: None, status: None }, PageRequest::new(Some(50), None)).await?;
    let visible = lookup::visible_products(&mut c, &session.actor.visibility()).await?;
    let names: std::collections::HashMap<ProductId, String> = visible.iter().cloned().collect();
    let can_run = can_manage(session);
    let any = |label: &str| (String::new(), label.to_owned(), false);
    let mut states = vec![any("any state")];
    states.extend(RecordState::ALL.into_iter().map(|r| (r.as_str().to_owned(), r.as_str().to_owned(), filter.state == Some(r))));
    let mapped = vec![
        any("mapped or not"),
        ("true".to_owned(), "mapped".to_owned(), filter.mapped == Some(true)),
        ("false".to_owned(), "not mapped".to_owned(), filter.mapped == Some(false)),
    ];
    let (prev, next) = super::view::pager(shown, records.count, |offset| filter.at(Some(offset), filter.limit).url(k.id.0));
    super::error::render(&ConnectorPage {
        layout: Layout::new(session, k.label.clone(), "connectors"),
        id: k.id.0,
        tool: k.tool.label(),
        record_kind: k.tool.record_kind(),
        settings: settings_summary(&k),
        location: k.location,
        can_run,
        notice: extras.notice,
        error: extras.error,
        check: extras.check,
        record_count: records.count,
        filtered: filter.filters(),
        filter_query: filter.query(),
        limit: filter.limit,
        showing: paged.then(|| format!("{}–{}", shown.offset + 1, shown.offset + records.results.len() as i64)),
        prev,
        next,
        states,
        mapped,
        products: if can_run { visible.into_iter().map(|(p, n)| (p.0, n)).collect() } else { Vec::new() },
        records: records
            .results
            .into_iter()
            .map(|r| RecordRow {
                id: r.id.0,
                product: r.product.map(|p| (p.0, lookup::product_name(&names, p))),
                name: r.name,
                external_id: r.external_id,
                state: r.state.as_str(),
                state_help: state_help(r.state),
                last_discovered: view::time(Some(r.last_discovered_at)),
                finalized: match (r.finalized_by, r.finalized_at) {
                    (Some(by), Some(at)) => format!("{by}, {}", view::time(Some(at))),
                    (Some(by), None) => by,
                    _ => String::new(),
                },
                can_ignore: r.state != RecordState::Ignored,
                can_restore: r.state == RecordState::Ignored,
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

/// The connector's settings as the page lists them (never its secrets).
fn settings_summary(k: &Connector) -> Vec<(&'static str, String)> {
    let st = &k.settings;
    let mut out = vec![
        ("Discover", every(st.discover_every_minutes)),
        ("Sync", every(st.sync_every_minutes)),
        ("Full pull", format!("every {} Syncs", st.full_sync_every)),
        ("Auto-map", if st.auto_map { "yes: new records get a product of their own name".into() } else { "no".into() }),
    ];
    if !st.options.is_empty() {
        let opts: Vec<String> = st.options.iter().map(|(k, v)| format!("{k} = {}", form::option_text(v))).collect();
        out.push(("Options", opts.join("; ")));
    }
    out
}

async fn run(s: &AppState, session: &Session, raw: &str, kind: OperationKind) -> UiResult<Response> {
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

/// Check connection: the API's check, its report shown on the connector's page.
pub async fn check(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let id = connector_id(&raw)?;
    let report = crate::api::connectors::check_connection(&s, &session.actor, id).await?;
    let check = CheckView {
        ok: report.ok(),
        account: report.account,
        checks: report.checks.into_iter().map(|c| CheckRow { name: c.name, ok: c.ok, detail: c.detail }).collect(),
    };
    page(&s, &session, id, RecordsFilter::default(), Extras { check: Some(check), ..Default::default() }).await
}

/// A record form: the decision (`action`: map, ignore, restore; `product` for map, as the
/// API's `RecordDecision` names them) and the page's filter to go back to.
struct RecordForm {
    action: String,
    product: String,
    filter: RecordsFilter,
}

fn record_form(body: &[u8]) -> RecordForm {
    let mut f = RecordForm { action: String::new(), product: String::new(), filter: RecordsFilter::default() };
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "action" => f.action = v.trim().to_owned(),
            "product" => f.product = v.trim().to_owned(),
            "filter" => f.filter = RecordsFilter::from_query(&v),
            _ => {}
        }
    }
    f
}

/// The decision a record form asks for; what is wrong is said in the field's words.
fn decision(f: &RecordForm) -> Result<RecordDecision, ApiError> {
    match f.action.as_str() {
        "map" => match f.product.parse::<i64>() {
            Ok(n) if n > 0 => Ok(RecordDecision::Map { product: ProductId(n) }),
            _ if f.product.is_empty() => Err(ApiError::invalid("product", "Choose the product to map the record to.")),
            _ => Err(ApiError::invalid("product", format!("'{}' is not a product id", f.product))),
        },
        "ignore" => Ok(RecordDecision::Ignore),
        "restore" => Ok(RecordDecision::Restore),
        other => Err(ApiError::bad_request(format!("unknown action '{other}'; use map, ignore or restore"))),
    }
}

/// The Record `raw` of connector `k`, or 404 (a Record of another connector is not found here).
async fn record_of(s: &AppState, session: &Session, k: ConnectorId, raw: &str) -> UiResult<RecordId> {
    read(&session.actor)?;
    let id = RecordId(lookup::path_id(raw, "record")?);
    let mut c = s.app.db().conn().await?;
    let r = connectors::get_record(&mut c, id).await?;
    if r.connector != k {
        return Err(ApiError::from(store::StoreError::not_found("record", id.0)).into());
    }
    Ok(id)
}

/// After a record change: back to the page with its filter (and page), and what was done.
fn back(k: ConnectorId, filter: &RecordsFilter, done: &str) -> Response {
    let q = filter.query();
    let sep = if q.is_empty() { "" } else { "&" };
    Redirect::to(&format!("/connectors/{}?{q}{sep}done={done}#records", k.0)).into_response()
}

/// A refused record change: the page again, with the reason (the API's status: 422 for a
/// missing or unknown product, 403 without the rights).
async fn refused(s: &AppState, session: &Session, k: ConnectorId, filter: RecordsFilter, e: ApiError) -> UiResult<Response> {
    if e.status != StatusCode::UNPROCESSABLE_ENTITY {
        return Err(e.into());
    }
    let html = page(s, session, k, filter, Extras { error: Some(form::message(&e)), ..Default::default() }).await?;
    Ok((e.status, html).into_response())
}

pub async fn decide_record(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path((raw, rec)): Path<(String, String)>, body: Bytes) -> UiResult<Response> {
    let k = connector_id(&raw)?;
    let f = record_form(&body);
    let id = record_of(&s, &session, k, &rec).await?;
    let d = match decision(&f) {
        Ok(d) => d,
        Err(e) => {
            // The rights first: a reader learns nothing about the form.
            crate::api::connectors::manage(&session.actor, "deciding about a record")?;
            return refused(&s, &session, k, f.filter, e).await;
        }
    };
    match decide(&s, &session.actor, id, d).await {
        Ok(_) => {
            let done = match d {
                RecordDecision::Map { .. } => "mapped",
                RecordDecision::Ignore => "ignored",
                RecordDecision::Restore => "restored",
            };
            Ok(back(k, &f.filter, done))
        }
        Err(e) => refused(&s, &session, k, f.filter, e).await,
    }
}

pub async fn delete_record(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path((raw, rec)): Path<(String, String)>, body: Bytes) -> UiResult<Response> {
    let k = connector_id(&raw)?;
    let f = record_form(&body);
    let id = record_of(&s, &session, k, &rec).await?;
    remove_record(&s, &session.actor, id).await?;
    Ok(back(k, &f.filter, "deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_words() {
        let v = serde_json::json!({"records_new": 2, "findings_created": 0, "findings_closed": 1});
        assert_eq!(super::counts(&v), "findings closed 1, records new 2");
        assert_eq!(super::every(0), "by hand");
        assert_eq!(super::every(60), "every 60 min");
    }

    #[test]
    fn the_records_filter_round_trips_and_names_bad_values() {
        let f = RecordsFilter::parse(Some("new"), Some("false")).unwrap();
        assert_eq!(f.query(), "state=new&mapped=false");
        assert_eq!(RecordsFilter::from_query(&f.query()), f);
        assert_eq!(RecordsFilter::parse(Some(""), Some("")).unwrap(), RecordsFilter::default());
        assert_eq!(RecordsFilter::from_query("state=bogus&mapped=true"), RecordsFilter::default());
        assert!(RecordsFilter::parse(Some("bogus"), None).unwrap_err().detail.contains("bogus"));
        assert!(RecordsFilter::parse(None, Some("maybe")).unwrap_err().detail.contains("maybe"));
        // The page travels with the filter; out-of-range values are brought in range.
        let paged = f.at(Some(200), Some(25));
        assert_eq!(paged.query(), "state=new&mapped=false&offset=200&limit=25");
        assert_eq!(RecordsFilter::from_query(&paged.query()), paged);
        assert!(paged.filters() && !RecordsFilter::default().at(Some(100), None).filters());
        assert_eq!(RecordsFilter::default().at(Some(-5), Some(0)).query(), "limit=1");
        assert_eq!(RecordsFilter::default().at(None, Some(5000)).page().limit, PageRequest::MAX_LIMIT);
        assert_eq!(RecordsFilter::default().url(3), "/connectors/3#records");
        assert_eq!(paged.url(3), "/connectors/3?state=new&mapped=false&offset=200&limit=25#records");
    }

    #[test]
    fn record_forms_become_the_apis_decisions() {
        let f = record_form(b"action=map&product=7&filter=state%3Dnew");
        assert!(matches!(decision(&f), Ok(RecordDecision::Map { product: ProductId(7) })));
        assert_eq!(f.filter.state, Some(RecordState::New));
        let e = decision(&record_form(b"action=map&product=")).unwrap_err();
        assert_eq!((e.status, e.field.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("product")));
        assert!(matches!(decision(&record_form(b"action=ignore")), Ok(RecordDecision::Ignore)));
        assert!(matches!(decision(&record_form(b"action=restore")), Ok(RecordDecision::Restore)));
        assert_eq!(decision(&record_form(b"action=explode")).unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
