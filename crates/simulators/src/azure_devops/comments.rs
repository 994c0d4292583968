//! Work item comments (`7.1-preview.4`): `POST /{project}/_apis/wit/workItems/{id}/comments`
//! with `{"text": …}` (`application/json`, `vso.work_write`) and `GET` of the list (`vso.work`).
//! A comment is a new revision of the work item (`System.History`, `System.CommentCount`), so
//! it is delivered as `workitem.updated` and as `workitem.commented`.

use super::auth::Need;
use super::events::Event;
use super::patch::{Op, OpKind};
use super::render;
use super::reply::{ApiError, json_ok};
use super::state::State;
use super::version::Resource;
use super::workitems::{self, Flags};
use super::{Call, Sh};
use axum::extract::{Path, State as AxState};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The latest resource version of the comments API.
pub const RESOURCE_VERSION: u32 = 4;

/// Adds a comment; the new comment's id and the events.
pub fn add(
    s: &mut State,
    base: &str,
    by: &str,
    id: i64,
    project: Option<&str>,
    text: &str,
) -> Result<(i64, Vec<Event>), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::argument(
            "The comment text cannot be null or empty.",
        ));
    }
    let ops = [Op {
        op: OpKind::Add,
        path: "/fields/System.History".into(),
        value: json!(text),
    }];
    let outcome = workitems::update(s, base, by, id, project, &ops, Flags::default())?;
    let comment_id = s
        .work_items
        .get(&id)
        .and_then(|w| w.comments.last())
        .map_or(0, |c| c.id);
    Ok((comment_id, outcome.events))
}

/// `/{org}/{project}/_apis/wit/workItems/{id}/comments`.
pub async fn route(
    AxState(sh): AxState<Sh>,
    Path((org, project, id)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    let result = (|| -> Result<(Response, Vec<Event>), ApiError> {
        let mut s = sh.lock();
        let need = if call.method == Method::GET {
            Need::WorkRead
        } else {
            Need::WorkWrite
        };
        let (caller, version) = call.begin(&s, &org, Resource::Preview(RESOURCE_VERSION), need)?;
        let id: i64 = id.trim().parse().map_err(|_| ApiError::property("A query parameter specified in the request URI is outside the permissible range: workItemId"))?;
        if id <= 0 {
            return Err(ApiError::property(
                "A query parameter specified in the request URI is outside the permissible range: workItemId",
            ));
        }
        s.project(&project)
            .ok_or_else(|| ApiError::project_not_found(&project))?;
        match call.method {
            Method::POST => {
                let ct = call.content_type();
                if ct != "application/json" {
                    return Err(ApiError::content_type(&ct, "POST", "application/json"));
                }
                let body: Value = serde_json::from_slice(&call.body)
                    .map_err(|_| ApiError::argument("The comment text cannot be null or empty."))?;
                let text = body
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let (comment_id, events) = add(
                    &mut s,
                    sh.base(),
                    &caller.user_id,
                    id,
                    Some(&project),
                    &text,
                )?;
                let w = s
                    .work_items
                    .get(&id)
                    .ok_or_else(|| ApiError::work_item_not_found(id))?;
                let c = w
                    .comments
                    .iter()
                    .find(|c| c.id == comment_id)
                    .ok_or_else(|| ApiError::work_item_not_found(id))?;
                Ok((
                    json_ok(
                        StatusCode::OK,
                        render::comment(sh.base(), &s, w, c),
                        &version,
                    ),
                    events,
                ))
            }
            Method::GET => {
                let w = s
                    .work_items
                    .get(&id)
                    .ok_or_else(|| ApiError::work_item_not_found(id))?;
                let list: Vec<Value> = w
                    .comments
                    .iter()
                    .rev()
                    .map(|c| render::comment(sh.base(), &s, w, c))
                    .collect();
                let body = json!({
                    "totalCount": list.len(),
                    "count": list.len(),
                    "comments": list,
                    "url": format!("{}/comments", render::work_item_url(sh.base(), &s, w)),
                });
                Ok((json_ok(StatusCode::OK, body, &version), Vec::new()))
            }
            ref other => Err(ApiError::Plain(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("The requested resource does not support http method '{other}'."),
            )),
        }
    })();
    match result {
        Ok((r, events)) => {
            sh.publish(&events);
            r
        }
        Err(e) => e.into_response(),
    }
}
