//! `GET /projects/:id` and `GET /projects/:id/labels`.

use super::auth::{self, Scopes};
use super::reply::{ApiResult, json_reply};
use super::{Call, Sh, render};
use crate::common::pagination::OffsetPage;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

/// One project, with the caller's `permissions`.
pub async fn show(State(sh): State<Sh>, Path(id): Path<String>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let caller = call.auth(&mut s, Scopes::Api)?;
    let project_id = auth::visible_project(&s, caller.as_ref(), &id)?;
    let viewer = caller.map_or(0, |c| c.user_id);
    let p = s
        .projects
        .get(&project_id)
        .ok_or_else(|| super::reply::ApiError::not_found("Project"))?;
    Ok(json_reply(
        StatusCode::OK,
        render::project(sh.base(), &s, p, viewer),
    ))
}

/// The project's labels, paginated; `search` filters by name.
pub async fn labels(State(sh): State<Sh>, Path(id): Path<String>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let caller = call.auth(&mut s, Scopes::Api)?;
    let mut params = call.params()?;
    let page = params.integer("page").flatten();
    let per_page = params.integer("per_page").flatten();
    let search = params.string("search").flatten();
    params.boolean("with_counts");
    params.check()?;
    let project_id = auth::visible_project(&s, caller.as_ref(), &id)?;
    let mut all: Vec<_> = s
        .labels
        .iter()
        .filter(|l| l.project_id == project_id)
        .filter(|l| {
            search
                .as_deref()
                .is_none_or(|q| l.name.to_lowercase().contains(&q.to_lowercase()))
        })
        .collect();
    all.sort_by_key(|l| l.name.to_lowercase());
    let page = OffsetPage::new(page, per_page);
    let items: Vec<Value> = page
        .slice(&all)
        .iter()
        .map(|l| render::label(&s, l))
        .collect();
    Ok(paginated(page, all.len(), &call.url(sh.base()), items))
}

/// A JSON array answer with GitLab's pagination headers.
pub fn paginated(page: OffsetPage, total: usize, url: &url::Url, items: Vec<Value>) -> Response {
    let mut r = json_reply(StatusCode::OK, Value::Array(items));
    for (name, value) in page.headers(total, url) {
        super::reply::set_header(&mut r, name, &value);
    }
    r
}
