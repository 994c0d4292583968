//! `/api/v1/tickets`: our links to remote tickets, with their changelogs. Also the `tickets`
//! every finding and group carries in its API answers.

use crate::api::{ApiPath, page_type, require_global};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use domain::tracker::{Subject, Ticket, TicketChange};
use domain::{Action, Actor, FindingGroupId, FindingId, InstanceId, MappingId, TicketId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::{AsConn, PageRequest, tickets};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(get))
}

/// A ticket as the API shows it: the integration's vendor (its icon), the ticket's key and
/// link, when it was linked and last pushed, what we last knew of it, and (on request) the
/// changelog of every change we made to it or learnt from the tracker.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TicketOut {
    #[serde(flatten)]
    pub ticket: Ticket,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changelog: Option<Vec<TicketChange>>,
}

page_type!(TicketPage, TicketOut);

/// The tickets of findings, by finding (no changelogs: lists stay light).
pub async fn for_findings(c: &mut impl AsConn, ids: &[FindingId]) -> store::Result<HashMap<FindingId, Vec<TicketOut>>> {
    let mut out: HashMap<FindingId, Vec<TicketOut>> = HashMap::new();
    for t in tickets::for_findings(c, ids).await? {
        if let Subject::Finding(f) = t.subject {
            out.entry(f).or_default().push(TicketOut { ticket: t, changelog: None });
        }
    }
    Ok(out)
}

/// The tickets of groups, by group.
pub async fn for_groups(c: &mut impl AsConn, ids: &[FindingGroupId]) -> store::Result<HashMap<FindingGroupId, Vec<TicketOut>>> {
    let mut out: HashMap<FindingGroupId, Vec<TicketOut>> = HashMap::new();
    for t in tickets::for_groups(c, ids).await? {
        if let Subject::Group(g) = t.subject {
            out.entry(g).or_default().push(TicketOut { ticket: t, changelog: None });
        }
    }
    Ok(out)
}

/// Adds each ticket's changelog.
pub async fn with_changelogs(c: &mut impl AsConn, list: Vec<TicketOut>) -> store::Result<Vec<TicketOut>> {
    let ids: Vec<TicketId> = list.iter().map(|t| t.ticket.id).collect();
    let mut logs = tickets::changes(c, &ids).await?;
    Ok(list
        .into_iter()
        .map(|t| TicketOut { changelog: Some(logs.remove(&t.ticket.id).unwrap_or_default()), ..t })
        .collect())
}

async fn check_subject(c: &mut impl AsConn, actor: &Actor, s: Subject) -> ApiResult<()> {
    let product = match s {
        Subject::Finding(f) => crate::api::findings::visible(c, actor, f, None).await?.product,
        Subject::Group(g) => crate::api::groups::visible(c, actor, g).await?.product,
    };
    if actor.can_see(product) { Ok(()) } else { Err(ApiError::not_found(format!("{s} not found"))) }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    finding: Option<i64>,
    group: Option<i64>,
    mapping: Option<i64>,
    instance: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Tickets, newest first. Filtered by a finding or group you can see; unfiltered lists need a
/// global role.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(ListQuery),
    responses((status = 200, body = TicketPage), (status = 403, body = Problem), (status = 404, body = Problem)), security(("token" = [])))]
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<TicketPage>> {
    let mut c = s.app.db().conn().await?;
    match (q.finding, q.group) {
        (Some(f), _) => check_subject(&mut c, &actor, Subject::Finding(FindingId(f))).await?,
        (None, Some(g)) => check_subject(&mut c, &actor, Subject::Group(FindingGroupId(g))).await?,
        (None, None) => require_global(&actor, Action::View, "listing all tickets")?,
    }
    let page = PageRequest::new(q.limit, q.offset);
    let filter = tickets::Filter {
        instance: q.instance.map(InstanceId),
        mapping: q.mapping.map(MappingId),
        finding: q.finding.map(FindingId),
        group: q.group.map(FindingGroupId),
        link_state: None,
    };
    let found = tickets::list(&mut c, &filter, page).await?.map(|t| TicketOut { ticket: t, changelog: None });
    Ok(Json(TicketPage::new(&uri, page, found)))
}

/// One ticket with its changelog.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = i64, Path)),
    responses((status = 200, body = TicketOut), (status = 404, body = Problem)), security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<TicketOut>> {
    let mut c = s.app.db().conn().await?;
    let t = tickets::get(&mut c, TicketId(id)).await?;
    check_subject(&mut c, &actor, t.subject).await.map_err(|_| ApiError::not_found(format!("ticket {id} not found")))?;
    let mut out = with_changelogs(&mut c, vec![TicketOut { ticket: t, changelog: None }]).await?;
    Ok(Json(out.remove(0)))
}
