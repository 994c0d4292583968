//! Labels on an issue: list, add, remove one.

use super::super::api::{self, ApiError, Reply, Spec, Tx};
use super::super::ops;
use super::super::state::{RepoKey, repo_key};
use super::super::{Sim, render};
use super::body::label_items;
use super::{DOC_ADD_LABELS, DOC_LIST_LABELS, DOC_REMOVE_LABEL, number};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value as Json;

fn spec(doc: &'static str) -> Spec {
    Spec {
        accepted: "repo",
        content: false,
        doc,
        needs_auth: false,
    }
}

/// The issue's labels, as every label endpoint answers.
fn labels_of(tx: &Tx<'_>, key: &RepoKey, n: u64, doc: &str) -> Result<Reply, ApiError> {
    let r = tx.st.repo(key).ok_or_else(|| ApiError::not_found(doc))?;
    let i = r.issue(n).ok_or_else(|| ApiError::not_found(doc))?;
    let out: Vec<Json> = i
        .labels
        .iter()
        .filter_map(|id| r.labels.iter().find(|l| l.id == *id))
        .map(|l| render::label(tx.base, r, l))
        .collect();
    Ok(Reply::ok(Json::Array(out)))
}

pub async fn list(
    State(sim): State<Sim>,
    Path((owner, repo, num)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    api::rest(&sim, &headers, spec(DOC_LIST_LABELS), |caller, tx| {
        let key = repo_key(&owner, &repo);
        let n = number(&num, DOC_LIST_LABELS)?;
        ops::visible(tx.st, caller, &key, DOC_LIST_LABELS)?;
        ops::issues_enabled(tx.st, &key, DOC_LIST_LABELS)?;
        labels_of(tx, &key, n, DOC_LIST_LABELS)
    })
}

/// `POST …/labels`: `{"labels": [...]}` (at least one) or a bare array, as GitHub accepts.
pub async fn add(
    State(sim): State<Sim>,
    Path((owner, repo, num)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    api::rest(&sim, &headers, spec(DOC_ADD_LABELS), |caller, tx| {
        let key = repo_key(&owner, &repo);
        let n = number(&num, DOC_ADD_LABELS)?;
        ops::visible(tx.st, caller, &key, DOC_ADD_LABELS)?;
        let v = api::parse_body(&bytes, DOC_ADD_LABELS)?;
        let mut problems = Vec::new();
        let names = match &v {
            Json::Array(items) => label_items(items, &mut problems),
            Json::Object(o) => match o.get("labels") {
                Some(Json::Array(items)) if !items.is_empty() => label_items(items, &mut problems),
                Some(Json::Array(_)) => {
                    problems.push(
                        "For 'properties/labels', [] is too short (0 for a minimum of 1).".into(),
                    );
                    Vec::new()
                }
                Some(other) => {
                    problems.push(format!("For 'properties/labels', {other} is not an array."));
                    Vec::new()
                }
                None => {
                    problems.push("\"labels\" wasn't supplied.".into());
                    Vec::new()
                }
            },
            other => {
                problems.push(format!("For 'links/0/schema', {other} is not an object."));
                Vec::new()
            }
        };
        if !problems.is_empty() {
            return Err(ApiError::invalid_request(&problems, DOC_ADD_LABELS));
        }
        ops::add_labels(tx, caller, &key, n, &names)?;
        labels_of(tx, &key, n, DOC_ADD_LABELS)
    })
}

pub async fn remove(
    State(sim): State<Sim>,
    Path((owner, repo, num, name)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    api::rest(&sim, &headers, spec(DOC_REMOVE_LABEL), |caller, tx| {
        let key = repo_key(&owner, &repo);
        let n = number(&num, DOC_REMOVE_LABEL)?;
        ops::remove_label(tx, caller, &key, n, &name)?;
        labels_of(tx, &key, n, DOC_REMOVE_LABEL)
    })
}
