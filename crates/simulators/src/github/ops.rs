//! Issue operations with GitHub's permission rules and webhooks, shared by the REST API, the
//! GraphQL API and the "act as a person" controls (so a person's close fires the same
//! webhooks as an API call).

use super::api::{ApiError, Caller, Tx};
use super::events;
use super::state::{Comment, Issue, Label, Perm, RepoKey, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Map, Value as Json, json};

/// GitHub's limits on issue content.
pub const TITLE_MAX: usize = 256;
pub const BODY_MAX: usize = 65536;
pub const LABEL_MAX: usize = 50;

/// The caller's role on the repository, as the API sees it: a classic token without the
/// `repo` scope sees no private repository.
pub fn role(st: &State, caller: &Caller, key: &RepoKey) -> Option<Perm> {
    let repo = st.repo(key)?;
    if repo.private && !caller.has_scope("repo") {
        return None;
    }
    st.permission(key, &caller.login)
}

/// The repository if the caller can see it, else GitHub's 404.
pub fn visible(st: &State, caller: &Caller, key: &RepoKey, doc: &str) -> Result<Perm, ApiError> {
    role(st, caller, key).ok_or_else(|| ApiError::not_found(doc))
}

/// The 410 of a repository whose issues are disabled.
pub fn issues_enabled(st: &State, key: &RepoKey, doc: &str) -> Result<(), ApiError> {
    match st.repo(key) {
        Some(r) if !r.has_issues => Err(ApiError::new(
            StatusCode::GONE,
            "Issues are disabled for this repo",
            doc,
        )),
        _ => Ok(()),
    }
}

/// A repository's issue, or 404.
pub fn issue_exists(st: &State, key: &RepoKey, number: u64, doc: &str) -> Result<(), ApiError> {
    st.repo(key)
        .and_then(|r| r.issue(number))
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found(doc))
}

/// Checks label names as GitHub's label model does: present and at most 50 characters.
pub fn check_label_names(names: &[String], doc: &str) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for n in names {
        if n.trim().is_empty() {
            errors.push(json!({ "resource": "Label", "field": "name", "code": "missing_field" }));
        } else if n.chars().count() > LABEL_MAX {
            errors.push(
                json!({ "value": n, "resource": "Label", "field": "name", "code": "invalid" }),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors, doc))
    }
}

/// The label's id, creating it on the fly (GitHub creates unknown labels an issue is given,
/// grey `ededed`).
fn ensure_label(st: &mut State, key: &RepoKey, name: &str) -> Option<u64> {
    if let Some(l) = st.repo(key)?.label_by_name(name) {
        return Some(l.id);
    }
    let id = st.id();
    let label = Label {
        id,
        node_id: State::node_id("LA", id),
        name: name.trim().to_owned(),
        color: "ededed".into(),
        description: None,
        default: false,
    };
    st.repo_mut(key)?.labels.push(label);
    Some(id)
}

fn label_json(tx: &Tx<'_>, key: &RepoKey, id: u64) -> Json {
    tx.st
        .repo(key)
        .and_then(|r| {
            r.labels
                .iter()
                .find(|l| l.id == id)
                .map(|l| super::render::label(tx.base, r, l))
        })
        .unwrap_or(Json::Null)
}

fn one(k: &str, v: Json) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert(k.into(), v);
    m
}

/// A new issue.
pub struct NewIssue {
    pub title: String,
    pub body: Option<String>,
    pub labels: Vec<String>,
}

/// Creates an issue (pull access suffices; labels need push access and are silently dropped
/// without it, as GitHub documents). Fires `opened`, then `labeled` for each label.
pub fn create_issue(
    tx: &mut Tx<'_>,
    caller: &Caller,
    key: &RepoKey,
    new: NewIssue,
) -> Result<u64, ApiError> {
    let perm =
        role(tx.st, caller, key).ok_or_else(|| ApiError::not_found(super::rest::DOC_CREATE))?;
    issues_enabled(tx.st, key, super::rest::DOC_CREATE)?;
    let labels = if perm >= Perm::Write {
        new.labels
    } else {
        Vec::new()
    };
    check_label_names(&labels, super::rest::DOC_CREATE)?;
    let mut label_ids = Vec::new();
    for l in &labels {
        if let Some(id) = ensure_label(tx.st, key, l)
            && !label_ids.contains(&id)
        {
            label_ids.push(id);
        }
    }
    let id = tx.st.id();
    let now = Utc::now();
    let repo = tx
        .st
        .repo_mut(key)
        .ok_or_else(|| ApiError::not_found(super::rest::DOC_CREATE))?;
    let number = repo.issues.iter().map(|i| i.number).max().unwrap_or(0) + 1;
    repo.issues.push(Issue {
        id,
        node_id: State::node_id("I", id),
        number,
        title: new.title,
        body: new.body,
        open: true,
        state_reason: None,
        labels: label_ids.clone(),
        comments: Vec::new(),
        author: caller.login.clone(),
        created_at: now,
        updated_at: now,
        closed_at: None,
        closed_by: None,
    });
    events::issue(tx, key, number, "opened", &caller.login, Map::new());
    for lid in label_ids {
        let l = label_json(tx, key, lid);
        events::issue(tx, key, number, "labeled", &caller.login, one("label", l));
    }
    Ok(number)
}

/// The changes of a PATCH.
#[derive(Default)]
pub struct IssuePatch {
    pub title: Option<String>,
    /// `Some(None)` clears the body.
    pub body: Option<Option<String>>,
    /// `Some(true)` open, `Some(false)` closed.
    pub open: Option<bool>,
    pub state_reason: Option<Option<String>>,
    /// Replaces every label.
    pub labels: Option<Vec<String>>,
}

/// Updates an issue: the author or someone with triage access may edit it; labels need push
/// access (silently dropped without, as GitHub documents). Fires `edited`, `closed` /
/// `reopened`, `labeled` / `unlabeled`.
pub fn update_issue(
    tx: &mut Tx<'_>,
    caller: &Caller,
    key: &RepoKey,
    number: u64,
    patch: IssuePatch,
) -> Result<(), ApiError> {
    let doc = super::rest::DOC_UPDATE;
    let perm = role(tx.st, caller, key).ok_or_else(|| ApiError::not_found(doc))?;
    issues_enabled(tx.st, key, doc)?;
    issue_exists(tx.st, key, number, doc)?;
    let author = tx
        .st
        .repo(key)
        .and_then(|r| r.issue(number))
        .map(|i| i.author.clone())
        .unwrap_or_default();
    let edits = patch.title.is_some() || patch.body.is_some() || patch.open.is_some();
    if edits && perm < Perm::Triage && !author.eq_ignore_ascii_case(&caller.login) {
        return Err(ApiError::forbidden(
            "Must have push access to repository",
            doc,
        ));
    }
    let labels = if perm >= Perm::Write {
        patch.labels
    } else {
        None
    };
    if let Some(l) = &labels {
        check_label_names(l, doc)?;
    }
    let mut new_ids = Vec::new();
    for l in labels.iter().flatten() {
        if let Some(id) = ensure_label(tx.st, key, l)
            && !new_ids.contains(&id)
        {
            new_ids.push(id);
        }
    }
    let now = Utc::now();
    let repo = tx
        .st
        .repo_mut(key)
        .ok_or_else(|| ApiError::not_found(doc))?;
    let issue = repo
        .issue_mut(number)
        .ok_or_else(|| ApiError::not_found(doc))?;
    let mut changes = Map::new();
    if let Some(t) = patch.title.filter(|t| *t != issue.title) {
        changes.insert("title".into(), json!({ "from": issue.title }));
        issue.title = t;
    }
    if let Some(b) = patch.body.filter(|b| *b != issue.body) {
        changes.insert(
            "body".into(),
            json!({ "from": issue.body.clone().unwrap_or_default() }),
        );
        issue.body = b;
    }
    let mut state_event = None;
    match patch.open {
        Some(false) if issue.open => {
            issue.open = false;
            let reason = patch
                .state_reason
                .flatten()
                .unwrap_or_else(|| "completed".into());
            issue.state_reason = Some(reason);
            issue.closed_at = Some(now);
            issue.closed_by = Some(caller.login.clone());
            state_event = Some("closed");
        }
        Some(true) if !issue.open => {
            issue.open = true;
            issue.state_reason = Some("reopened".into());
            issue.closed_at = None;
            state_event = Some("reopened");
        }
        _ => {}
    }
    let (added, removed) = match &labels {
        Some(_) => {
            let added: Vec<u64> = new_ids
                .iter()
                .filter(|id| !issue.labels.contains(id))
                .copied()
                .collect();
            let removed: Vec<u64> = issue
                .labels
                .iter()
                .filter(|id| !new_ids.contains(id))
                .copied()
                .collect();
            issue.labels = new_ids;
            (added, removed)
        }
        None => (Vec::new(), Vec::new()),
    };
    let changed =
        !changes.is_empty() || state_event.is_some() || !added.is_empty() || !removed.is_empty();
    if changed {
        issue.updated_at = now;
    }
    if !changes.is_empty() {
        events::issue(
            tx,
            key,
            number,
            "edited",
            &caller.login,
            one("changes", Json::Object(changes)),
        );
    }
    if let Some(ev) = state_event {
        events::issue(tx, key, number, ev, &caller.login, Map::new());
    }
    for id in added {
        let l = label_json(tx, key, id);
        events::issue(tx, key, number, "labeled", &caller.login, one("label", l));
    }
    for id in removed {
        let l = label_json(tx, key, id);
        events::issue(tx, key, number, "unlabeled", &caller.login, one("label", l));
    }
    Ok(())
}

/// Adds labels (creating unknown ones). Triage access is needed.
pub fn add_labels(
    tx: &mut Tx<'_>,
    caller: &Caller,
    key: &RepoKey,
    number: u64,
    names: &[String],
) -> Result<(), ApiError> {
    let doc = super::rest::DOC_ADD_LABELS;
    let perm = role(tx.st, caller, key).ok_or_else(|| ApiError::not_found(doc))?;
    issues_enabled(tx.st, key, doc)?;
    issue_exists(tx.st, key, number, doc)?;
    if perm < Perm::Triage {
        return Err(ApiError::forbidden(
            "Must have push access to repository",
            doc,
        ));
    }
    check_label_names(names, doc)?;
    let mut added = Vec::new();
    for n in names {
        let Some(id) = ensure_label(tx.st, key, n) else {
            continue;
        };
        if let Some(i) = tx.st.repo_mut(key).and_then(|r| r.issue_mut(number))
            && !i.labels.contains(&id)
        {
            i.labels.push(id);
            i.updated_at = Utc::now();
            added.push(id);
        }
    }
    for id in added {
        let l = label_json(tx, key, id);
        events::issue(tx, key, number, "labeled", &caller.login, one("label", l));
    }
    Ok(())
}

/// Removes one label from an issue: 404 `Label does not exist` when the issue lacks it.
pub fn remove_label(
    tx: &mut Tx<'_>,
    caller: &Caller,
    key: &RepoKey,
    number: u64,
    name: &str,
) -> Result<(), ApiError> {
    let doc = super::rest::DOC_REMOVE_LABEL;
    let perm = role(tx.st, caller, key).ok_or_else(|| ApiError::not_found(doc))?;
    issues_enabled(tx.st, key, doc)?;
    issue_exists(tx.st, key, number, doc)?;
    if perm < Perm::Triage {
        return Err(ApiError::forbidden(
            "Must have push access to repository",
            doc,
        ));
    }
    let label = tx
        .st
        .repo(key)
        .and_then(|r| r.label_by_name(name))
        .map(|l| l.id);
    let on_issue = label.filter(|id| {
        tx.st
            .repo(key)
            .and_then(|r| r.issue(number))
            .is_some_and(|i| i.labels.contains(id))
    });
    let Some(id) = on_issue else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Label does not exist",
            doc,
        ));
    };
    let l = label_json(tx, key, id);
    if let Some(i) = tx.st.repo_mut(key).and_then(|r| r.issue_mut(number)) {
        i.labels.retain(|x| *x != id);
        i.updated_at = Utc::now();
    }
    events::issue(tx, key, number, "unlabeled", &caller.login, one("label", l));
    Ok(())
}

/// Adds a comment (read access suffices on a repository one can see).
pub fn add_comment(
    tx: &mut Tx<'_>,
    caller: &Caller,
    key: &RepoKey,
    number: u64,
    body: String,
) -> Result<u64, ApiError> {
    let doc = super::rest::DOC_CREATE_COMMENT;
    role(tx.st, caller, key).ok_or_else(|| ApiError::not_found(doc))?;
    issues_enabled(tx.st, key, doc)?;
    issue_exists(tx.st, key, number, doc)?;
    let id = tx.st.id();
    let now = Utc::now();
    if let Some(i) = tx.st.repo_mut(key).and_then(|r| r.issue_mut(number)) {
        i.comments.push(Comment {
            id,
            node_id: State::node_id("IC", id),
            body,
            author: caller.login.clone(),
            created_at: now,
        });
        i.updated_at = now;
    }
    events::comment_created(tx, key, number, id, &caller.login);
    Ok(id)
}

/// Deletes an issue (repository admins only, as GitHub's `deleteIssue`): fires `deleted`
/// and drops its project items.
pub fn delete_issue(
    tx: &mut Tx<'_>,
    caller: &Caller,
    key: &RepoKey,
    number: u64,
) -> Result<(), ApiError> {
    let doc = super::rest::DOC_UPDATE;
    let perm = role(tx.st, caller, key).ok_or_else(|| ApiError::not_found(doc))?;
    issue_exists(tx.st, key, number, doc)?;
    if perm < Perm::Admin {
        return Err(ApiError::forbidden(
            "Must have admin rights to Repository.",
            doc,
        ));
    }
    events::issue(tx, key, number, "deleted", &caller.login, Map::new());
    let node = tx
        .st
        .repo(key)
        .and_then(|r| r.issue(number))
        .map(|i| i.node_id.clone())
        .unwrap_or_default();
    if let Some(r) = tx.st.repo_mut(key) {
        r.issues.retain(|i| i.number != number);
    }
    for p in &mut tx.st.projects {
        p.items.retain(|i| i.content != node);
    }
    Ok(())
}
