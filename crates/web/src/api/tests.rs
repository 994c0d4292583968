//! `/api/v1/tests`: Tests, one stream of results from one tool within an engagement.

use crate::api::{ApiPath, engagements, page_type, require, visible_or_hidden};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use domain::{Action, Actor, EngagementId, NewTest, ProductId, Test, TestId, TestPatch};
use serde::Deserialize;
use store::{AsConn, PageRequest, tests};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

page_type!(TestPage, Test);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    product: Option<i64>,
    engagement: Option<i64>,
    /// The report format, exactly (`Semgrep JSON Report`).
    scan_type: Option<String>,
    /// Title contains (case-insensitive).
    title: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/tests", tag = "tests", params(ListQuery),
    responses((status = 200, body = TestPage), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<TestPage>> {
    let page = PageRequest::new(q.limit, q.offset);
    let filter = tests::Filter {
        product: q.product.map(ProductId),
        engagement: q.engagement.map(EngagementId),
        scan_type: q.scan_type,
        title: q.title,
    };
    let mut c = s.app.db().conn().await?;
    let found = tests::list(&mut c, &filter, &actor.visibility(), page).await?;
    Ok(Json(TestPage::new(&uri, page, found)))
}

/// Creates a test in an engagement. Needs the maintainer role on its product.
#[utoipa::path(post, path = "/api/v1/tests", tag = "tests", request_body = NewTest,
    responses((status = 201, body = Test), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(new): ApiJson<NewTest>,
) -> ApiResult<(StatusCode, Json<Test>)> {
    let mut tx = s.app.db().begin().await?;
    let e = engagements::visible(&mut tx, &actor, new.engagement, Some("engagement")).await?;
    require(&actor, Action::Manage, e.product, "creating a test")?;
    let t = tests::create(&mut tx, new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// The test, if the actor can see its product.
pub async fn visible(c: &mut impl AsConn, actor: &Actor, id: TestId, field: Option<&str>) -> ApiResult<Test> {
    visible_or_hidden(tests::get(c, id).await, |x| x.product, actor, "test", id, field)
}

#[utoipa::path(get, path = "/api/v1/tests/{id}", tag = "tests", params(("id" = i64, Path)),
    responses((status = 200, body = Test), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Test>> {
    let mut c = s.app.db().conn().await?;
    Ok(Json(visible(&mut c, &actor, TestId(id), None).await?))
}

/// Changes a test. Needs the maintainer role on its product.
#[utoipa::path(patch, path = "/api/v1/tests/{id}", tag = "tests", params(("id" = i64, Path)),
    request_body = TestPatch,
    responses((status = 200, body = Test), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<TestPatch>,
) -> ApiResult<Json<Test>> {
    let mut tx = s.app.db().begin().await?;
    let mut t = visible(&mut tx, &actor, TestId(id), None).await?;
    require(&actor, Action::Manage, t.product, "changing a test")?;
    t.apply(patch)?;
    let t = tests::update(&mut tx, &t).await?;
    tx.commit().await?;
    Ok(Json(t))
}

/// Deletes a test with its findings. Needs the maintainer role on its product.
#[utoipa::path(delete, path = "/api/v1/tests/{id}", tag = "tests", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn delete(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    let mut tx = s.app.db().begin().await?;
    let t = visible(&mut tx, &actor, TestId(id), None).await?;
    require(&actor, Action::Manage, t.product, "deleting a test")?;
    tests::delete(&mut tx, t.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
