//! `/api/v1/finding-groups`: findings pushed together as one ticket.

use crate::api::{ApiPath, findings, page_type, require, tests, visible_or_hidden};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use domain::{
    Action, Actor, EngagementId, FindingGroup, FindingGroupId, FindingId, GroupBy, Name, ProductId, TestId,
};
use serde::Deserialize;
use store::{AsConn, PageRequest, groups};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

/// A finding group with its tickets.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct GroupOut {
    #[serde(flatten)]
    pub group: FindingGroup,
    pub tickets: Vec<crate::api::tickets::TicketOut>,
}

async fn with_tickets(c: &mut impl AsConn, list: Vec<FindingGroup>) -> ApiResult<Vec<GroupOut>> {
    let ids: Vec<FindingGroupId> = list.iter().map(|g| g.id).collect();
    let mut by = crate::api::tickets::for_groups(c, &ids).await?;
    Ok(list.into_iter().map(|g| GroupOut { tickets: by.remove(&g.id).unwrap_or_default(), group: g }).collect())
}

page_type!(FindingGroupPage, GroupOut);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    product: Option<i64>,
    engagement: Option<i64>,
    test: Option<i64>,
    /// Name contains (case-insensitive).
    name: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/finding-groups", tag = "finding groups", params(ListQuery),
    responses((status = 200, body = FindingGroupPage), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<FindingGroupPage>> {
    let page = PageRequest::new(q.limit, q.offset);
    let filter = groups::Filter {
        product: q.product.map(ProductId),
        engagement: q.engagement.map(EngagementId),
        test: q.test.map(TestId),
        name: q.name,
    };
    let mut c = s.app.db().conn().await?;
    let found = groups::list(&mut c, &filter, &actor.visibility(), page).await?;
    let count = found.count;
    let results = with_tickets(&mut c, found.results).await?;
    Ok(Json(FindingGroupPage::new(&uri, page, store::Page { count, results })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    pub test: TestId,
    pub name: Name,
    /// How the group was formed; `custom` when chosen by hand (the default).
    #[serde(default = "custom")]
    pub group_by: GroupBy,
    /// Findings of `test` to put in the group (they leave any group they were in).
    #[serde(default)]
    pub findings: Vec<FindingId>,
}

fn custom() -> GroupBy {
    GroupBy::Custom
}

/// Checks that every finding exists, is visible and belongs to `test`.
async fn check_members(
    c: &mut impl AsConn,
    actor: &Actor,
    test: TestId,
    ids: &[FindingId],
    field: &str,
) -> ApiResult<()> {
    for (i, id) in ids.iter().enumerate() {
        let f = findings::visible(c, actor, *id, Some(&format!("{field}[{i}]"))).await?;
        if f.test != test {
            return Err(ApiError::invalid(
                format!("{field}[{i}]"),
                format!("finding {id} belongs to test {}, not to this group's test {test}", f.test),
            ));
        }
    }
    Ok(())
}

/// Groups findings of one test. Needs the writer role on its product.
#[utoipa::path(post, path = "/api/v1/finding-groups", tag = "finding groups", request_body = NewGroup,
    responses((status = 201, body = FindingGroup), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(new): ApiJson<NewGroup>,
) -> ApiResult<(StatusCode, Json<FindingGroup>)> {
    let mut tx = s.app.db().begin().await?;
    let g = create_group(&mut tx, &actor, new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(g)))
}

/// Makes a group of findings of one test (writer role), in the caller's transaction; its
/// tickets follow. API and UI.
pub async fn create_group(c: &mut impl AsConn, actor: &Actor, new: NewGroup) -> ApiResult<FindingGroup> {
    let test = tests::visible(c, actor, new.test, Some("test")).await?;
    require(actor, Action::Write, test.product, "grouping findings")?;
    check_members(c, actor, test.id, &new.findings, "findings").await?;
    let g = groups::create(c, &test, new.name.as_str(), new.group_by).await?;
    store::findings::set_group(c, &new.findings, Some(g.id)).await?;
    let g = groups::get(c, g.id).await?;
    engine::integrations::enqueue::after_groups_changed(c, &[g.id]).await?;
    Ok(g)
}

pub async fn visible(c: &mut impl AsConn, actor: &Actor, id: FindingGroupId) -> ApiResult<FindingGroup> {
    visible_or_hidden(groups::get(c, id).await, |g| g.product, actor, "finding group", id, None)
}

/// A finding group with its tickets and their changelogs.
#[utoipa::path(get, path = "/api/v1/finding-groups/{id}", tag = "finding groups", params(("id" = i64, Path)),
    responses((status = 200, body = GroupOut), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<GroupOut>> {
    let mut c = s.app.db().conn().await?;
    let g = visible(&mut c, &actor, FindingGroupId(id)).await?;
    let mut out = with_tickets(&mut c, vec![g]).await?.remove(0);
    out.tickets = crate::api::tickets::with_changelogs(&mut c, out.tickets).await?;
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    #[serde(default)]
    pub name: Option<Name>,
    /// Findings (of the group's test) to add.
    #[serde(default)]
    pub add: Vec<FindingId>,
    /// Findings to take out of the group.
    #[serde(default)]
    pub remove: Vec<FindingId>,
}

/// Renames a group or changes its members. Needs the writer role on its product.
#[utoipa::path(patch, path = "/api/v1/finding-groups/{id}", tag = "finding groups", params(("id" = i64, Path)),
    request_body = GroupPatch,
    responses((status = 200, body = FindingGroup), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<GroupPatch>,
) -> ApiResult<Json<FindingGroup>> {
    let mut tx = s.app.db().begin().await?;
    let g = visible(&mut tx, &actor, FindingGroupId(id)).await?;
    require(&actor, Action::Write, g.product, "changing a finding group")?;
    check_members(&mut tx, &actor, g.test, &patch.add, "add").await?;
    for (i, fid) in patch.remove.iter().enumerate() {
        let f = findings::visible(&mut tx, &actor, *fid, Some(&format!("remove[{i}]"))).await?;
        if f.finding_group != Some(g.id) {
            return Err(ApiError::invalid(format!("remove[{i}]"), format!("finding {fid} is not in this group")));
        }
    }
    if let Some(name) = &patch.name {
        groups::rename(&mut tx, g.id, name.as_str()).await?;
    }
    store::findings::set_group(&mut tx, &patch.add, Some(g.id)).await?;
    store::findings::set_group(&mut tx, &patch.remove, None).await?;
    if !patch.add.is_empty() || !patch.remove.is_empty() {
        groups::touch(&mut tx, g.id).await?;
        // The group's ticket lists its findings; findings taken out follow their own tickets.
        engine::integrations::enqueue::after_groups_changed(&mut tx, &[g.id]).await?;
        engine::integrations::enqueue::after_changed(&mut tx, &patch.remove).await?;
    }
    let g = groups::get(&mut tx, g.id).await?;
    tx.commit().await?;
    Ok(Json(g))
}

/// Deletes a group; its findings stay, ungrouped. Needs the writer role on its product.
#[utoipa::path(delete, path = "/api/v1/finding-groups/{id}", tag = "finding groups", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn delete(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    let mut tx = s.app.db().begin().await?;
    let g = visible(&mut tx, &actor, FindingGroupId(id)).await?;
    require(&actor, Action::Write, g.product, "deleting a finding group")?;
    groups::delete(&mut tx, g.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
