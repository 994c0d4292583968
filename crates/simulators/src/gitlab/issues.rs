//! Project issues: list, show, create, edit (close and reopen included), and the same edit for
//! a person acting in GitLab. The rules follow GitLab's API (`lib/api/issues.rb`) and services:
//! Grape validation first (400 `{"error": …}`), then the project (404), the issue (404), the
//! permission (403), then model validation (400 `{"message": {field: […]}}`). Callers below
//! Planner silently lose metadata (labels, assignees, milestone, due date, weight,
//! confidentiality), as `IssuableBaseService#filter_params` drops it.

use super::auth::{self, Caller, Scopes};
use super::events::{self, Outgoing};
use super::fields::{
    Fields, ISSUE_TYPES, apply, apply_dry, can_read, can_update, read_fields, validate,
};
use super::projects::paginated;
use super::reply::{ApiError, ApiResult, json_reply};
use super::state::{GUEST, Issue, IssueState, OWNER, State};
use super::{Call, Sh, Shared, render};
use crate::common::pagination::OffsetPage;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use serde_json::Value;
use std::collections::BTreeSet;

/// What `PUT …/issues/:iid` needs at least one of (GitLab EE's list, in its order).
const UPDATE_AT_LEAST_ONE_OF: [&str; 17] = [
    "assignee_id",
    "assignee_ids",
    "confidential",
    "created_at",
    "description",
    "discussion_locked",
    "due_date",
    "labels",
    "add_labels",
    "remove_labels",
    "milestone_id",
    "state_event",
    "title",
    "issue_type",
    "weight",
    "epic_id",
    "epic_iid",
];
const ORDER_BY: [&str; 10] = [
    "created_at",
    "due_date",
    "label_priority",
    "milestone_due",
    "popularity",
    "priority",
    "relative_position",
    "title",
    "updated_at",
    "weight",
];

fn parse_iid(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .map_err(|_| ApiError::param("issue_iid is invalid"))
}

/// `GET /projects/:id/issues`.
pub async fn list(AxState(sh): AxState<Sh>, Path(id): Path<String>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let caller = call.auth(&mut s, Scopes::Api)?;
    let mut p = call.params()?;
    let state = p.choice("state", &["opened", "closed", "all"]);
    let labels = p.string_list("labels");
    let created_after = p.datetime("created_after");
    let created_before = p.datetime("created_before");
    let updated_after = p.datetime("updated_after");
    let updated_before = p.datetime("updated_before");
    let search = p.string("search").flatten();
    let search_in = p.string("in").flatten();
    let order_by = p
        .choice("order_by", &ORDER_BY)
        .unwrap_or_else(|| "created_at".into());
    let ascending = p
        .choice("sort", &["asc", "desc"])
        .is_some_and(|s| s == "asc");
    let iids = p.integer_list("iids");
    let confidential = p.boolean("confidential");
    let issue_type = p.choice("issue_type", &ISSUE_TYPES);
    let author_id = p.integer("author_id").flatten();
    let page = p.integer("page").flatten();
    let per_page = p.integer("per_page").flatten();
    let details = p.boolean("with_labels_details").unwrap_or(false);
    p.check()?;
    let project_id = auth::visible_project(&s, caller.as_ref(), &id)?;
    let viewer = caller.map_or(0, |c| c.user_id);
    let (in_title, in_description) = match search_in.as_deref() {
        Some(v) => (
            v.split(',').any(|x| x.trim() == "title"),
            v.split(',').any(|x| x.trim() == "description"),
        ),
        None => (true, true),
    };
    let needle = search.map(|q| q.to_lowercase());
    let mut found: Vec<&Issue> = s
        .issues
        .range((project_id, 0)..=(project_id, u64::MAX))
        .map(|(_, i)| i)
        .filter(|i| can_read(&s, viewer, i))
        .filter(|i| {
            state
                .as_deref()
                .is_none_or(|st| st == "all" || st == i.state.as_str())
        })
        .filter(|i| labels.as_ref().is_none_or(|ls| label_filter(ls, &i.labels)))
        .filter(|i| created_after.is_none_or(|t| i.created_at >= t))
        .filter(|i| created_before.is_none_or(|t| i.created_at <= t))
        .filter(|i| updated_after.is_none_or(|t| i.updated_at >= t))
        .filter(|i| updated_before.is_none_or(|t| i.updated_at <= t))
        .filter(|i| {
            iids.as_ref()
                .is_none_or(|set| set.is_empty() || set.contains(&(i.iid as i64)))
        })
        .filter(|i| confidential.is_none_or(|c| i.confidential == c))
        .filter(|i| issue_type.as_deref().is_none_or(|t| i.issue_type == t))
        .filter(|i| author_id.is_none_or(|a| i.author_id as i64 == a))
        .filter(|i| {
            needle.as_deref().is_none_or(|q| {
                (in_title && i.title.to_lowercase().contains(q))
                    || (in_description
                        && i.description
                            .as_deref()
                            .is_some_and(|d| d.to_lowercase().contains(q)))
            })
        })
        .collect();
    found.sort_by(|a, b| {
        let primary = match order_by.as_str() {
            "updated_at" => a.updated_at.cmp(&b.updated_at),
            "title" => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            "due_date" => a.due_date.cmp(&b.due_date),
            "weight" => a.weight.cmp(&b.weight),
            _ => a.created_at.cmp(&b.created_at),
        };
        let primary = if ascending {
            primary
        } else {
            primary.reverse()
        };
        // GitLab breaks ties by id, newest first.
        primary.then(b.id.cmp(&a.id))
    });
    let page = OffsetPage::new(page, per_page);
    let base = sh.base();
    let items: Vec<Value> = page
        .slice(&found)
        .iter()
        .filter_map(|i| {
            s.projects
                .get(&i.project_id)
                .map(|p| render::issue(base, &s, p, i))
                .map(|mut v| {
                    if details {
                        v["labels"] = render::label_details(&s, i);
                    }
                    v
                })
        })
        .collect();
    Ok(paginated(page, found.len(), &call.url(base), items))
}

/// `labels=a,b`: issues with every label; `None`/`Any` (any case) for no label / some label.
fn label_filter(wanted: &[String], has: &BTreeSet<String>) -> bool {
    match wanted {
        [one] if one.eq_ignore_ascii_case("none") || one.eq_ignore_ascii_case("no+label") => {
            has.is_empty()
        }
        [one] if one.eq_ignore_ascii_case("any") => !has.is_empty(),
        _ => wanted.iter().all(|w| has.contains(w)),
    }
}

/// `GET /projects/:id/issues/:issue_iid`.
pub async fn show(
    AxState(sh): AxState<Sh>,
    Path((id, iid)): Path<(String, String)>,
    call: Call,
) -> ApiResult {
    let mut s = sh.lock();
    let caller = call.auth(&mut s, Scopes::Api)?;
    let iid = parse_iid(&iid)?;
    let project_id = auth::visible_project(&s, caller.as_ref(), &id)?;
    let viewer = caller.map_or(0, |c| c.user_id);
    let issue = s
        .issue(project_id, iid)
        .filter(|i| can_read(&s, viewer, i))
        .ok_or_else(ApiError::record_not_found)?;
    let p = s
        .projects
        .get(&project_id)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    Ok(json_reply(
        StatusCode::OK,
        render::issue(sh.base(), &s, p, issue),
    ))
}

/// `DELETE /projects/:id/issues/:issue_iid`: "only for administrators and project owners".
pub async fn delete(
    AxState(sh): AxState<Sh>,
    Path((id, iid)): Path<(String, String)>,
    call: Call,
) -> ApiResult {
    let mut s = sh.lock();
    let caller = auth::require(call.auth(&mut s, Scopes::Api)?)?;
    let iid = parse_iid(&iid)?;
    let project_id = auth::visible_project(&s, Some(&caller), &id)?;
    let issue_id = s
        .issue(project_id, iid)
        .filter(|i| can_read(&s, caller.user_id, i))
        .map(|i| i.id)
        .ok_or_else(|| ApiError::not_found("Issue"))?;
    auth::require_level(&s, &caller, project_id, OWNER)?;
    s.issues.remove(&(project_id, iid));
    s.notes.retain(|n| n.issue_id != issue_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /projects/:id/issues`.
pub async fn create(AxState(sh): AxState<Sh>, Path(id): Path<String>, call: Call) -> ApiResult {
    let (response, out) = {
        let mut s = sh.lock();
        let caller = auth::require(call.auth(&mut s, Scopes::Api)?)?;
        let mut p = call.params()?;
        p.require("title");
        let mut fields = read_fields(&mut p);
        p.check()?;
        let project_id = auth::visible_project(&s, Some(&caller), &id)?;
        auth::require_level(&s, &caller, project_id, GUEST)?;
        if !sh.limits.issue_create(project_id, caller.user_id) {
            return Err(ApiError::Raw(Box::new(json_reply(
                StatusCode::TOO_MANY_REQUESTS,
                serde_json::json!({ "message": { "error": "This endpoint has been requested too many times. Try again later." } }),
            ))));
        }
        let level = s.access_level(caller.user_id, project_id);
        let now = Utc::now();
        let mut issue = Issue {
            id: 0,
            iid: 0,
            project_id,
            title: String::new(),
            description: None,
            state: IssueState::Opened,
            author_id: caller.user_id,
            labels: BTreeSet::new(),
            confidential: false,
            issue_type: "issue".into(),
            weight: None,
            due_date: None,
            milestone_id: None,
            assignee_ids: Vec::new(),
            discussion_locked: None,
            created_at: now,
            updated_at: now,
            updated_by_id: None,
            closed_at: None,
            closed_by_id: None,
        };
        let blank = issue.clone();
        // A new issue is opened whatever `state_event` says; creation ignores it.
        fields.state = None;
        let mut probe = issue.clone();
        apply_dry(level, &mut probe, &fields);
        validate(&probe)?;
        apply(&mut s, level, true, &mut issue, fields, now);
        let Some(project) = s.projects.get_mut(&project_id) else {
            return Err(ApiError::not_found("Project"));
        };
        issue.iid = project.next_iid;
        project.next_iid += 1;
        issue.id = s.next_id();
        s.issues.insert((project_id, issue.iid), issue.clone());
        let changes = events::issue_changes(&s, &blank, &issue);
        let out = events::issue_event(sh.base(), &s, caller.user_id, &issue, "open", changes);
        let project = s
            .projects
            .get(&project_id)
            .ok_or_else(|| ApiError::not_found("Project"))?;
        (
            json_reply(
                StatusCode::CREATED,
                render::issue(sh.base(), &s, project, &issue),
            ),
            out,
        )
    };
    sh.send(out);
    Ok(response)
}

/// `PUT /projects/:id/issues/:issue_iid`.
pub async fn update(
    AxState(sh): AxState<Sh>,
    Path((id, iid)): Path<(String, String)>,
    call: Call,
) -> ApiResult {
    let (response, out) = {
        let mut s = sh.lock();
        let caller = auth::require(call.auth(&mut s, Scopes::Api)?)?;
        let mut p = call.params()?;
        let iid = parse_iid(&iid);
        let fields = read_fields(&mut p);
        p.check()?;
        let iid = iid?;
        if !UPDATE_AT_LEAST_ONE_OF.iter().any(|k| p.has(k)) {
            return Err(ApiError::param(format!(
                "{} are missing, at least one parameter must be provided",
                UPDATE_AT_LEAST_ONE_OF.join(", ")
            )));
        }
        let project_id = auth::visible_project(&s, Some(&caller), &id)?;
        let (issue, out) = edit(&mut s, sh.base(), &caller, project_id, iid, fields)?;
        let project = s
            .projects
            .get(&project_id)
            .ok_or_else(|| ApiError::not_found("Project"))?;
        (
            json_reply(
                StatusCode::OK,
                render::issue(sh.base(), &s, project, &issue),
            ),
            out,
        )
    };
    sh.send(out);
    Ok(response)
}

/// Edits an issue as `caller`: the close or reopen first (its own hook), then the other
/// attributes (an `update` hook when something changed).
fn edit(
    s: &mut State,
    base: &str,
    caller: &Caller,
    project_id: u64,
    iid: u64,
    mut fields: Fields,
) -> Result<(Issue, Vec<Outgoing>), ApiError> {
    let before = s
        .issue(project_id, iid)
        .filter(|i| can_read(s, caller.user_id, i))
        .cloned()
        .ok_or_else(ApiError::record_not_found)?;
    if !can_update(s, caller.user_id, &before) {
        return Err(ApiError::forbidden());
    }
    let level = s.access_level(caller.user_id, project_id);
    let mut probe = before.clone();
    apply_dry(level, &mut probe, &fields);
    validate(&probe)?;
    let now = Utc::now();
    let mut out = Vec::new();
    let mut issue = before.clone();
    if let Some(target) = fields.state.take()
        && target != issue.state
    {
        let was = issue.clone();
        issue.state = target;
        issue.updated_at = now;
        issue.updated_by_id = Some(caller.user_id);
        let action = if target == IssueState::Closed {
            issue.closed_at = Some(now);
            issue.closed_by_id = Some(caller.user_id);
            "close"
        } else {
            issue.closed_at = None;
            issue.closed_by_id = None;
            "reopen"
        };
        s.issues.insert((project_id, iid), issue.clone());
        let changes = events::issue_changes(s, &was, &issue);
        out.extend(events::issue_event(
            base,
            s,
            caller.user_id,
            &issue,
            action,
            changes,
        ));
    }
    let was = issue.clone();
    apply(s, level, false, &mut issue, fields, now);
    let mut content = was.clone();
    content.updated_at = issue.updated_at;
    content.updated_by_id = issue.updated_by_id;
    if content != issue {
        issue.updated_at = now;
        issue.updated_by_id = Some(caller.user_id);
        s.issues.insert((project_id, iid), issue.clone());
        let changes = events::issue_changes(s, &was, &issue);
        out.extend(events::issue_event(
            base,
            s,
            caller.user_id,
            &issue,
            "update",
            changes,
        ));
    }
    Ok((issue, out))
}

/// A person closes or reopens an issue (the control API and `GitLabSim::close_issue_as`).
pub fn set_state_as(
    shared: &Shared,
    username: &str,
    project: &str,
    iid: u64,
    target: IssueState,
) -> Result<(), String> {
    let out = {
        let mut s = shared.lock();
        let user = s
            .user_by_name(username)
            .map(|u| u.id)
            .ok_or_else(|| format!("no user '{username}'"))?;
        let caller = Caller {
            user_id: user,
            token_id: 0,
        };
        let project_id = auth::visible_project(&s, Some(&caller), project.trim_matches('/'))
            .map_err(describe)?;
        let fields = Fields {
            state: Some(target),
            ..Fields::default()
        };
        let (_, out) =
            edit(&mut s, shared.base(), &caller, project_id, iid, fields).map_err(describe)?;
        out
    };
    shared.send(out);
    Ok(())
}

/// An error's text, for the Rust and control APIs.
fn describe(e: ApiError) -> String {
    match e {
        ApiError::Message(_, m) | ApiError::Error(_, m) => m,
        ApiError::Validation(_, fields) => fields
            .iter()
            .map(|(f, p)| format!("{f} {}", p.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::InvalidToken(d) => d.to_owned(),
        ApiError::InsufficientScope(_) => "insufficient_scope".into(),
        ApiError::Raw(r) => format!("HTTP {}", r.status()),
    }
}

/// The issue an iid names in a visible project, for the notes endpoints.
pub fn readable_issue(
    s: &State,
    caller: &Caller,
    project_id: u64,
    iid: &str,
) -> Result<Issue, ApiError> {
    let iid = parse_iid(iid).map_err(|_| ApiError::param("noteable_id is invalid"))?;
    s.issue(project_id, iid)
        .filter(|i| can_read(s, caller.user_id, i))
        .cloned()
        .ok_or_else(|| ApiError::not_found("Issue"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_filters() {
        let has: BTreeSet<String> = ["a".to_owned(), "b".to_owned()].into();
        assert!(label_filter(&["a".into(), "b".into()], &has));
        assert!(!label_filter(&["a".into(), "c".into()], &has));
        assert!(label_filter(&["Any".into()], &has));
        assert!(!label_filter(&["None".into()], &has));
    }
}
