//! Each mapping's error table (when, why, which finding or group) with Retry. Reading needs a
//! global role; retrying needs the writer role on the failed findings' products
//! (`api::integrations::retry_one`, `retry_all`).

use super::mapping_id;
use crate::api::integrations::{read_config, retry_all, retry_one};
use crate::state::AppState;
use crate::ui::error::{UiError, UiResult, render};
use crate::ui::layout::Layout;
use crate::ui::session::CurrentUser;
use crate::ui::view;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::MappingId;
use domain::tracker::Subject;
use serde::Deserialize;
use store::{PageRequest, instances, mappings, push_errors};

pub struct ErrorRow {
    pub id: i64,
    pub subject: String,
    /// The finding's page (groups have none in the UI yet).
    pub link: Option<String>,
    pub first_at: String,
    pub last_at: String,
    pub attempts: i32,
    pub code: String,
    pub reason: String,
    pub retry_at: String,
}

#[derive(Template)]
#[template(path = "push_errors.html")]
struct ErrorsPage {
    layout: Layout,
    mapping_id: i64,
    mapping: String,
    icon: &'static str,
    count: i64,
    rows: Vec<ErrorRow>,
    prev: Option<String>,
    next: Option<String>,
    retried: Option<usize>,
    /// The user may write somewhere, so Retry is offered (each retry checks its finding's product).
    can_retry: bool,
}

#[derive(Deserialize)]
pub struct ErrorsQuery {
    offset: Option<i64>,
    retried: Option<usize>,
}


pub async fn errors(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(raw): Path<String>,
    q: Result<Query<ErrorsQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let Query(q) = q.map_err(|e| UiError::bad_request(e.body_text()))?;
    read_config(&session.actor)?;
    let id = mapping_id(&raw)?;
    let mut c = s.app.db().conn().await?;
    let m = mappings::get(&mut c, id).await?;
    let instance = instances::get(&mut c, m.instance).await?;
    let page = PageRequest::new(Some(50), q.offset);
    let found = push_errors::list(&mut c, m.id, page).await?;
    let url = |offset: i64| format!("/settings/integrations/mappings/{}/errors?offset={offset}", m.id.0);
    let (prev, next) = view::pager(page, found.count, url);
    render(&ErrorsPage {
        layout: Layout::new(&session, format!("Errors of {}", m.label), "integrations"),
        mapping_id: m.id.0,
        mapping: format!("{} › {}", instance.label, m.label),
        icon: view::vendor_icon(m.vendor),
        count: found.count,
        prev,
        next,
        rows: found
            .results
            .into_iter()
            .map(|e| ErrorRow {
                id: e.id,
                link: match e.subject {
                    Subject::Finding(f) => Some(format!("/findings/{}", f.0)),
                    Subject::Group(_) => None,
                },
                subject: e.subject.to_string(),
                first_at: view::time(Some(e.first_at)),
                last_at: view::time(Some(e.last_at)),
                attempts: e.attempts,
                code: e.code,
                reason: e.reason,
                retry_at: e.retry_at.map(|t| view::time(Some(t))).unwrap_or_else(|| "waits for a retry".into()),
            })
            .collect(),
        retried: q.retried,
        can_retry: crate::ui::bulk::can_push_any(&session.actor),
    })
}

fn back_to_errors(mapping: MappingId, retried: usize) -> Response {
    Redirect::to(&format!("/settings/integrations/mappings/{}/errors?retried={retried}", mapping.0)).into_response()
}

pub async fn retry(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    let id = crate::ui::lookup::path_id(&raw, "push error")?;
    let mut tx = s.app.db().begin().await?;
    let mapping = retry_one(&mut tx, &session.actor, id).await?;
    tx.commit().await?;
    Ok(back_to_errors(mapping, 1))
}

pub async fn retry_mapping(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    let id = mapping_id(&raw)?;
    let mut tx = s.app.db().begin().await?;
    let n = retry_all(&mut tx, &session.actor, id).await?;
    tx.commit().await?;
    Ok(back_to_errors(id, n))
}
