//! Issues: list (filters, sorting, `Link` pagination), create, get, update.

use super::super::api::{self, ApiError, Caller, Reply, Spec, Tx};
use super::super::ops::{self, BODY_MAX, IssuePatch, NewIssue, TITLE_MAX};
use super::super::state::{Issue, RepoKey, repo_key};
use super::super::{Sim, render};
use super::body::Body;
use super::{DOC_CREATE, DOC_GET, DOC_LIST, DOC_UPDATE, number, page};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// The documentation URL GitHub names when it refuses a listing's filter value.
const DOC_LIST_FILTER: &str = "https://docs.github.com/v3/issues/#list-issues";

fn spec(content: bool, doc: &'static str) -> Spec {
    Spec {
        accepted: "repo",
        content,
        doc,
        needs_auth: content,
    }
}

pub async fn list(
    State(sim): State<Sim>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    api::rest(&sim, &headers, spec(false, DOC_LIST), |caller, tx| {
        list_issues(caller, tx, &repo_key(&owner, &repo), &q)
    })
}

/// `GET /repositories/{id}/issues`: the form of the listing GitHub's `Link` headers use.
pub async fn list_by_id(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    api::rest(&sim, &headers, spec(false, DOC_LIST), |caller, tx| {
        let id: u64 = id.parse().map_err(|_| ApiError::not_found(DOC_LIST))?;
        let key = tx
            .st
            .repos
            .iter()
            .find(|(_, r)| r.id == id)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| ApiError::not_found(DOC_LIST))?;
        list_issues(caller, tx, &key, &q)
    })
}

fn invalid_filter(field: &str, value: &str) -> ApiError {
    ApiError::validation(
        vec![json!({ "value": value, "resource": "Issue", "field": field, "code": "invalid" })],
        DOC_LIST_FILTER,
    )
}

fn list_issues(
    caller: &Caller,
    tx: &mut Tx<'_>,
    key: &RepoKey,
    q: &HashMap<String, String>,
) -> Result<Reply, ApiError> {
    ops::visible(tx.st, caller, key, DOC_LIST)?;
    ops::issues_enabled(tx.st, key, DOC_LIST)?;
    let state = q.get("state").map(String::as_str).unwrap_or("open");
    if !matches!(state, "open" | "closed" | "all") {
        return Err(invalid_filter("state", state));
    }
    let sort = q.get("sort").map(String::as_str).unwrap_or("created");
    if !matches!(sort, "created" | "updated" | "comments") {
        return Err(invalid_filter("sort", sort));
    }
    let direction = q.get("direction").map(String::as_str).unwrap_or("desc");
    if !matches!(direction, "asc" | "desc") {
        return Err(invalid_filter("direction", direction));
    }
    let since: Option<DateTime<Utc>> = match q.get("since") {
        None => None,
        Some(s) => Some(parse_time(s).ok_or_else(|| invalid_filter("since", s))?),
    };
    let wanted: Vec<String> = q
        .get("labels")
        .map(|l| {
            l.split(',')
                .map(|x| x.trim().to_ascii_lowercase())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let r = tx
        .st
        .repo(key)
        .ok_or_else(|| ApiError::not_found(DOC_LIST))?;
    let label_names = |i: &Issue| -> Vec<String> {
        i.labels
            .iter()
            .filter_map(|id| r.labels.iter().find(|l| l.id == *id))
            .map(|l| l.name.to_ascii_lowercase())
            .collect()
    };
    let mut found: Vec<&Issue> = r
        .issues
        .iter()
        .filter(|i| match state {
            "open" => i.open,
            "closed" => !i.open,
            _ => true,
        })
        .filter(|i| since.is_none_or(|s| i.updated_at >= s))
        .filter(|i| {
            let names = label_names(i);
            wanted.iter().all(|w| names.contains(w))
        })
        .collect();
    found.sort_by(|a, b| {
        let ord = match sort {
            "updated" => a.updated_at.cmp(&b.updated_at),
            "comments" => a.comments.len().cmp(&b.comments.len()),
            _ => a.created_at.cmp(&b.created_at),
        }
        .then(a.number.cmp(&b.number));
        if direction == "asc" {
            ord
        } else {
            ord.reverse()
        }
    });
    let url = format!("{}/repositories/{}/issues", render::api(tx.base), r.id);
    let (slice, link) = page(&found, q, &url);
    let body: Vec<Json> = slice
        .iter()
        .map(|i| render::issue(tx.st, tx.base, r, i))
        .collect();
    let mut reply = Reply::ok(Json::Array(body));
    if let Some(l) = link {
        reply.headers.push(("link", l));
    }
    Ok(reply)
}

/// ISO 8601 as GitHub accepts it in `since` (`YYYY-MM-DDTHH:MM:SSZ`, offsets, fractions).
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

/// Length checks of the issue model: 422 `Validation Failed` naming the field.
fn check_lengths(title: Option<&str>, body: Option<&str>, doc: &str) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(t) = title {
        if t.trim().is_empty() {
            errors.push(json!({ "resource": "Issue", "code": "missing_field", "field": "title" }));
        } else if t.chars().count() > TITLE_MAX {
            errors.push(json!({ "resource": "Issue", "code": "custom", "field": "title", "message": format!("title is too long (maximum is {TITLE_MAX} characters)") }));
        }
    }
    if let Some(b) = body
        && b.chars().count() > BODY_MAX
    {
        errors.push(json!({ "resource": "Issue", "code": "custom", "field": "body", "message": format!("body is too long (maximum is {BODY_MAX} characters)") }));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors, doc))
    }
}

pub async fn create(
    State(sim): State<Sim>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    api::rest(&sim, &headers, spec(true, DOC_CREATE), |caller, tx| {
        let key = repo_key(&owner, &repo);
        // GitHub authorises before it reads the body: an invisible repository is a 404 whatever
        // was sent.
        ops::visible(tx.st, caller, &key, DOC_CREATE)?;
        ops::issues_enabled(tx.st, &key, DOC_CREATE)?;
        let v = api::parse_body(&bytes, DOC_CREATE)?;
        let mut b = Body::new(&v);
        b.require("title");
        let title = b.string_or_int("title", false).flatten();
        let body = b.string("body", true).flatten();
        let labels = b.labels("labels").unwrap_or_default();
        b.strings("assignees");
        b.finish(DOC_CREATE)?;
        let title = title.unwrap_or_default();
        check_lengths(Some(&title), body.as_deref(), DOC_CREATE)?;
        let number = ops::create_issue(
            tx,
            caller,
            &key,
            NewIssue {
                title,
                body,
                labels,
            },
        )?;
        let r = tx
            .st
            .repo(&key)
            .ok_or_else(|| ApiError::not_found(DOC_CREATE))?;
        let i = r
            .issue(number)
            .ok_or_else(|| ApiError::not_found(DOC_CREATE))?;
        let location = format!(
            "{}/repos/{}/issues/{number}",
            render::api(tx.base),
            r.full_name()
        );
        Ok(Reply::created(
            render::issue(tx.st, tx.base, r, i),
            location,
        ))
    })
}

pub async fn get_one(
    State(sim): State<Sim>,
    Path((owner, repo, num)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    api::rest(&sim, &headers, spec(false, DOC_GET), |caller, tx| {
        let key = repo_key(&owner, &repo);
        let n = number(&num, DOC_GET)?;
        ops::visible(tx.st, caller, &key, DOC_GET)?;
        ops::issues_enabled(tx.st, &key, DOC_GET)?;
        let r = tx
            .st
            .repo(&key)
            .ok_or_else(|| ApiError::not_found(DOC_GET))?;
        let i = r.issue(n).ok_or_else(|| ApiError::not_found(DOC_GET))?;
        Ok(Reply::ok(render::issue(tx.st, tx.base, r, i)))
    })
}

pub async fn update(
    State(sim): State<Sim>,
    Path((owner, repo, num)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    api::rest(&sim, &headers, spec(false, DOC_UPDATE), |caller, tx| {
        let key = repo_key(&owner, &repo);
        let n = number(&num, DOC_UPDATE)?;
        ops::visible(tx.st, caller, &key, DOC_UPDATE)?;
        ops::issues_enabled(tx.st, &key, DOC_UPDATE)?;
        ops::issue_exists(tx.st, &key, n, DOC_UPDATE)?;
        let v = api::parse_body(&bytes, DOC_UPDATE)?;
        let mut b = Body::new(&v);
        let title = b.string_or_int("title", true);
        let body = b.string("body", true);
        let state = b.member("state", &["open", "closed"], false);
        let reason = b.member(
            "state_reason",
            &["completed", "not_planned", "duplicate", "reopened"],
            true,
        );
        let labels = b.labels("labels");
        b.strings("assignees");
        b.finish(DOC_UPDATE)?;
        // A `null` title leaves it unchanged (GitHub treats it as absent).
        let title = title.flatten();
        check_lengths(
            title.as_deref(),
            body.as_ref().and_then(|b| b.as_deref()),
            DOC_UPDATE,
        )?;
        let patch = IssuePatch {
            title,
            body,
            open: state.flatten().map(|s| s == "open"),
            state_reason: reason,
            labels,
        };
        ops::update_issue(tx, caller, &key, n, patch)?;
        let r = tx
            .st
            .repo(&key)
            .ok_or_else(|| ApiError::not_found(DOC_UPDATE))?;
        let i = r.issue(n).ok_or_else(|| ApiError::not_found(DOC_UPDATE))?;
        Ok(Reply::ok(render::issue(tx.st, tx.base, r, i)))
    })
}
