//! `/finding-groups`: the groups the user may see, with severity, status, their findings, the
//! "Integrator Tickets" column (a group is one ticket per mapping) and Push to Integrators
//! (`api::push::queue`, as the API's group push).

use super::error::{UiError, UiResult, render};
use super::layout::Layout;
use super::session::CurrentUser;
use super::view::{self, TicketView};
use crate::api;
use crate::state::AppState;
use askama::Template;
use axum::extract::{OriginalUri, Path, State};
use axum::response::Html;
use domain::tracker::Subject;
use domain::FindingGroupId;
use store::{PageRequest, groups};

pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub severity: &'static str,
    pub severity_class: &'static str,
    pub status: &'static str,
    pub product: String,
    pub findings: i64,
    pub tickets: Vec<TicketView>,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    layout: Layout,
    rows: Vec<GroupRow>,
    count: i64,
    from: i64,
    to: i64,
    prev: Option<String>,
    next: Option<String>,
    can_push: bool,
    notice: Option<String>,
}

/// `offset` from the query; anything else there is ignored, a bad offset named.
fn offset(query: Option<&str>) -> UiResult<i64> {
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if k == "offset" && !v.is_empty() {
            return v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| UiError::bad_request(format!("offset: '{v}' is not a position in the list")));
        }
    }
    Ok(0)
}

pub async fn list(State(s): State<AppState>, CurrentUser(session): CurrentUser, OriginalUri(uri): OriginalUri) -> UiResult<Html<String>> {
    let offset = offset(uri.query())?;
    page(&s, &session, offset, None).await
}

async fn page(s: &AppState, session: &super::session::Session, offset: i64, notice: Option<String>) -> UiResult<Html<String>> {
    let vis = session.actor.visibility();
    let mut c = s.app.db().conn().await?;
    let req = PageRequest::new(Some(50), Some(offset));
    let found = groups::list(&mut c, &Default::default(), &vis, req).await?;
    let ids: Vec<FindingGroupId> = found.results.iter().map(|g| g.id).collect();
    let mut tickets = api::tickets::for_groups(&mut c, &ids).await?;
    let names = super::lookup::product_names(&mut c, &vis).await?;
    let shown = found.results.len() as i64;
    let rows = found
        .results
        .into_iter()
        .map(|g| GroupRow {
            id: g.id.0,
            severity: g.severity.label(),
            severity_class: view::severity_class(g.severity),
            status: g.status.label(),
            product: super::lookup::product_name(&names, g.product),
            findings: g.finding_count,
            tickets: tickets.remove(&g.id).unwrap_or_default().into_iter().map(|t| view::ticket(t, false)).collect(),
            name: g.name,
        })
        .collect();
    let url = |o: i64| if o == 0 { "/finding-groups".to_owned() } else { format!("/finding-groups?offset={o}") };
    let (prev, next) = super::view::pager(req, found.count, url);
    render(&GroupsPage {
        layout: Layout::new(session, "Finding groups", "groups"),
        rows,
        count: found.count,
        from: if shown == 0 { 0 } else { req.offset + 1 },
        to: req.offset + shown,
        prev,
        next,
        can_push: super::bulk::can_push_any(&session.actor),
        notice,
    })
}

pub async fn push(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let id = FindingGroupId(super::lookup::path_id(&raw, "finding group")?);
    {
        let mut c = s.app.db().conn().await?;
        api::groups::visible(&mut c, &session.actor, id).await?;
    }
    let done = api::push::queue(&s, &session.actor, vec![Subject::Group(id)]).await?;
    let mut notice = format!("Group {}: queued {} push{}.", id.0, done.queued.len(), if done.queued.len() == 1 { "" } else { "es" });
    for n in done.not_queued {
        notice.push(' ');
        notice.push_str(&n.reason);
    }
    page(&s, &session, 0, Some(notice)).await
}
