//! Issue comments: list (paginated) and create.

use super::super::api::{self, ApiError, Reply, Spec};
use super::super::ops::{self, BODY_MAX};
use super::super::state::repo_key;
use super::super::{Sim, render};
use super::body::Body;
use super::{DOC_CREATE_COMMENT, DOC_LIST_COMMENTS, number, page};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value as Json, json};
use std::collections::HashMap;

pub async fn list(
    State(sim): State<Sim>,
    Path((owner, repo, num)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let spec = Spec {
        accepted: "repo",
        content: false,
        doc: DOC_LIST_COMMENTS,
        needs_auth: false,
    };
    api::rest(&sim, &headers, spec, |caller, tx| {
        let key = repo_key(&owner, &repo);
        let n = number(&num, DOC_LIST_COMMENTS)?;
        ops::visible(tx.st, caller, &key, DOC_LIST_COMMENTS)?;
        ops::issues_enabled(tx.st, &key, DOC_LIST_COMMENTS)?;
        let r = tx
            .st
            .repo(&key)
            .ok_or_else(|| ApiError::not_found(DOC_LIST_COMMENTS))?;
        let i = r
            .issue(n)
            .ok_or_else(|| ApiError::not_found(DOC_LIST_COMMENTS))?;
        let url = format!(
            "{}/repos/{}/issues/{n}/comments",
            render::api(tx.base),
            r.full_name()
        );
        let (slice, link) = page(&i.comments, &q, &url);
        let body: Vec<Json> = slice
            .iter()
            .map(|c| render::comment(tx.st, tx.base, r, i, c))
            .collect();
        let mut reply = Reply::ok(Json::Array(body));
        if let Some(l) = link {
            reply.headers.push(("link", l));
        }
        Ok(reply)
    })
}

pub async fn create(
    State(sim): State<Sim>,
    Path((owner, repo, num)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let spec = Spec {
        accepted: "repo",
        content: true,
        doc: DOC_CREATE_COMMENT,
        needs_auth: true,
    };
    api::rest(&sim, &headers, spec, |caller, tx| {
        let key = repo_key(&owner, &repo);
        let n = number(&num, DOC_CREATE_COMMENT)?;
        ops::visible(tx.st, caller, &key, DOC_CREATE_COMMENT)?;
        let v = api::parse_body(&bytes, DOC_CREATE_COMMENT)?;
        let mut b = Body::new(&v);
        b.require("body");
        let body = b.string("body", false).flatten();
        b.finish(DOC_CREATE_COMMENT)?;
        let body = body.unwrap_or_default();
        if body.trim().is_empty() {
            return Err(ApiError::validation(
                vec![
                    json!({ "resource": "IssueComment", "code": "missing_field", "field": "body" }),
                ],
                DOC_CREATE_COMMENT,
            ));
        }
        if body.chars().count() > BODY_MAX {
            return Err(ApiError::validation(
                vec![
                    json!({ "resource": "IssueComment", "code": "custom", "field": "body", "message": format!("body is too long (maximum is {BODY_MAX} characters)") }),
                ],
                DOC_CREATE_COMMENT,
            ));
        }
        let id = ops::add_comment(tx, caller, &key, n, body)?;
        let r = tx
            .st
            .repo(&key)
            .ok_or_else(|| ApiError::not_found(DOC_CREATE_COMMENT))?;
        let i = r
            .issue(n)
            .ok_or_else(|| ApiError::not_found(DOC_CREATE_COMMENT))?;
        let c = i
            .comments
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ApiError::not_found(DOC_CREATE_COMMENT))?;
        let location = format!(
            "{}/repos/{}/issues/comments/{id}",
            render::api(tx.base),
            r.full_name()
        );
        Ok(Reply::created(
            render::comment(tx.st, tx.base, r, i, c),
            location,
        ))
    })
}
