//! Repository and organization webhooks: list, create (a `ping` follows), get, update,
//! delete. Repository hooks need admin rights and a hook scope; organization hooks need an
//! organization owner with `admin:org_hook`. GitHub hides both behind 404s otherwise.

use super::super::api::{self, ApiError, Caller, Reply, Spec, Tx};
use super::super::state::{Hook, HookTarget, Perm, repo_key};
use super::super::{Sim, events, render};
use super::body::Body;
use super::*;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use serde_json::{Map, Value as Json, json};

/// Events a repository hook may subscribe to (GitHub's webhook event names).
const REPO_EVENTS: &[&str] = &[
    "*",
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "code_scanning_alert",
    "commit_comment",
    "create",
    "delete",
    "dependabot_alert",
    "deploy_key",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "gollum",
    "issue_comment",
    "issue_dependencies",
    "issues",
    "label",
    "member",
    "merge_group",
    "meta",
    "milestone",
    "package",
    "page_build",
    "project",
    "project_card",
    "project_column",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_thread",
    "push",
    "registry_package",
    "release",
    "repository",
    "repository_import",
    "repository_vulnerability_alert",
    "secret_scanning_alert",
    "secret_scanning_alert_location",
    "security_and_analysis",
    "star",
    "status",
    "sub_issues",
    "team_add",
    "watch",
    "workflow_dispatch",
    "workflow_job",
    "workflow_run",
];

/// Organization hooks also receive organization-level events, Projects (v2) among them.
const ORG_ONLY_EVENTS: &[&str] = &[
    "membership",
    "organization",
    "org_block",
    "projects_v2",
    "projects_v2_item",
    "projects_v2_status_update",
    "repository",
    "team",
];

enum Target {
    Repo(String, String),
    Org(String),
}

impl Target {
    fn accepted(&self, write: bool) -> &'static str {
        match (self, write) {
            (Target::Repo(..), true) => "admin:repo_hook, repo, write:repo_hook",
            (Target::Repo(..), false) => "admin:repo_hook, read:repo_hook, repo",
            (Target::Org(_), _) => "admin:org_hook",
        }
    }

    /// The hook target if the caller may administer its hooks; else GitHub's 404.
    fn authorise(
        &self,
        tx: &Tx<'_>,
        caller: &Caller,
        write: bool,
        doc: &str,
    ) -> Result<HookTarget, ApiError> {
        match self {
            Target::Repo(o, r) => {
                let key = repo_key(o, r);
                let scoped = if write {
                    caller.has_scope("write:repo_hook") || caller.has_scope("repo")
                } else {
                    caller.has_scope("read:repo_hook") || caller.has_scope("repo")
                };
                let admin = tx.st.permission(&key, &caller.login) == Some(Perm::Admin);
                if !scoped || !admin {
                    return Err(ApiError::not_found(doc));
                }
                Ok(HookTarget::Repo(key))
            }
            Target::Org(org) => {
                let scoped = if write {
                    caller.has_scope("write:org_hook")
                } else {
                    caller.has_scope("read:org_hook")
                };
                if !scoped || tx.st.org(org).is_none() || !tx.st.is_org_owner(org, &caller.login) {
                    return Err(ApiError::not_found(doc));
                }
                Ok(HookTarget::Org(org.to_ascii_lowercase()))
            }
        }
    }
}

fn spec(t: &Target, write: bool, doc: &'static str) -> Spec {
    Spec {
        accepted: t.accepted(write),
        content: false,
        doc,
        needs_auth: false,
    }
}

fn list(sim: &Sim, headers: &HeaderMap, t: Target, doc: &'static str) -> Response {
    api::rest(sim, headers, spec(&t, false, doc), |caller, tx| {
        let target = t.authorise(tx, caller, false, doc)?;
        let out: Vec<Json> = tx
            .st
            .hooks
            .iter()
            .filter(|h| h.target == target)
            .map(|h| render::hook(tx.st, tx.base, h))
            .collect();
        Ok(Reply::ok(Json::Array(out)))
    })
}

/// The hook's settings from a create or update body.
struct HookInput {
    config: Option<Map<String, Json>>,
    events: Option<Vec<String>>,
    add_events: Option<Vec<String>>,
    remove_events: Option<Vec<String>>,
    active: Option<bool>,
}

fn read_input(bytes: &[u8], create: bool, org: bool, doc: &str) -> Result<HookInput, ApiError> {
    let v = api::parse_body(bytes, doc)?;
    let mut b = Body::new(&v);
    if create {
        b.only(&["name", "config", "events", "active"]);
        if org {
            b.require("name");
            b.require("config");
        }
        if let Some(Some(n)) = b.string("name", false)
            && n != "web"
        {
            return Err(ApiError::validation(
                vec![
                    json!({ "resource": "Hook", "code": "custom", "field": "name", "message": format!("Invalid hook name {n:?}: use \"web\"") }),
                ],
                doc,
            ));
        }
    } else {
        b.only(&[
            "config",
            "events",
            "add_events",
            "remove_events",
            "active",
            "name",
        ]);
    }
    let config = b.object("config").cloned();
    let events = b.strings("events");
    let add_events = b.strings("add_events");
    let remove_events = b.strings("remove_events");
    let active = b.boolean("active");
    b.finish(doc)?;
    Ok(HookInput {
        config,
        events,
        add_events,
        remove_events,
        active,
    })
}

/// Checks a hook's config and events as GitHub's hook model does.
fn check(
    url: &str,
    content_type: &str,
    events: &[String],
    org: bool,
    doc: &str,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if url.is_empty() {
        errors.push(json!({ "resource": "Hook", "code": "custom", "message": "Config must contain URL for webhooks" }));
    } else if parsed.is_none() {
        errors.push(json!({ "resource": "Hook", "code": "custom", "message": "Config URL is not a valid URL" }));
    }
    if !matches!(content_type, "json" | "form") {
        errors.push(json!({ "resource": "Hook", "code": "custom", "message": format!("Config content type {content_type:?} is not json or form") }));
    }
    for e in events {
        let known =
            REPO_EVENTS.contains(&e.as_str()) || (org && ORG_ONLY_EVENTS.contains(&e.as_str()));
        if !known {
            errors.push(json!({ "resource": "Hook", "code": "custom", "field": "events", "message": format!("{e:?} is not a valid event name") }));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors, doc))
    }
}

fn config_str(c: &Map<String, Json>, k: &str) -> Option<String> {
    c.get(k).and_then(|v| match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn create(sim: &Sim, headers: &HeaderMap, t: Target, bytes: &[u8], doc: &'static str) -> Response {
    let org = matches!(t, Target::Org(_));
    api::rest(sim, headers, spec(&t, true, doc), |caller, tx| {
        let target = t.authorise(tx, caller, true, doc)?;
        let input = read_input(bytes, true, org, doc)?;
        let config = input.config.unwrap_or_default();
        let url = config_str(&config, "url").unwrap_or_default();
        let content_type = config_str(&config, "content_type").unwrap_or_else(|| "form".into());
        let events = input.events.unwrap_or_else(|| vec!["push".into()]);
        check(&url, &content_type, &events, org, doc)?;
        if tx
            .st
            .hooks
            .iter()
            .any(|h| h.target == target && h.url == url)
        {
            let place = if org { "organization" } else { "repository" };
            return Err(ApiError::validation(
                vec![
                    json!({ "resource": "Hook", "code": "custom", "message": format!("Hook already exists on this {place}") }),
                ],
                doc,
            ));
        }
        let id = tx.st.id();
        let now = Utc::now();
        tx.st.hooks.push(Hook {
            id,
            target,
            active: input.active.unwrap_or(true),
            events,
            url,
            content_type,
            secret: config_str(&config, "secret").filter(|s| !s.is_empty()),
            insecure_ssl: config_str(&config, "insecure_ssl").unwrap_or_else(|| "0".into()),
            created_at: now,
            updated_at: now,
        });
        events::ping(tx, id, &caller.login);
        let h = tx
            .st
            .hooks
            .iter()
            .find(|h| h.id == id)
            .ok_or_else(|| ApiError::not_found(doc))?;
        let body = render::hook(tx.st, tx.base, h);
        let location = body
            .get("url")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(Reply::created(body, location))
    })
}

fn find(tx: &Tx<'_>, target: &HookTarget, id: &str, doc: &str) -> Result<usize, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::not_found(doc))?;
    tx.st
        .hooks
        .iter()
        .position(|h| h.id == id && h.target == *target)
        .ok_or_else(|| ApiError::not_found(doc))
}

fn get_one(sim: &Sim, headers: &HeaderMap, t: Target, id: &str, doc: &'static str) -> Response {
    api::rest(sim, headers, spec(&t, false, doc), |caller, tx| {
        let target = t.authorise(tx, caller, false, doc)?;
        let i = find(tx, &target, id, doc)?;
        Ok(Reply::ok(render::hook(tx.st, tx.base, &tx.st.hooks[i])))
    })
}

fn update(
    sim: &Sim,
    headers: &HeaderMap,
    t: Target,
    id: &str,
    bytes: &[u8],
    doc: &'static str,
) -> Response {
    let org = matches!(t, Target::Org(_));
    api::rest(sim, headers, spec(&t, true, doc), |caller, tx| {
        let target = t.authorise(tx, caller, true, doc)?;
        let i = find(tx, &target, id, doc)?;
        let input = read_input(bytes, false, org, doc)?;
        let mut h = tx.st.hooks[i].clone();
        if let Some(c) = &input.config {
            h.url = config_str(c, "url").unwrap_or_default();
            h.content_type = config_str(c, "content_type").unwrap_or_else(|| "form".into());
            h.insecure_ssl = config_str(c, "insecure_ssl").unwrap_or_else(|| "0".into());
            // GitHub drops the secret of a config replaced without one.
            h.secret = config_str(c, "secret").filter(|s| !s.is_empty());
        }
        if let Some(e) = input.events {
            h.events = e;
        }
        for e in input.add_events.unwrap_or_default() {
            if !h.events.contains(&e) {
                h.events.push(e);
            }
        }
        let remove = input.remove_events.unwrap_or_default();
        h.events.retain(|e| !remove.contains(e));
        if let Some(a) = input.active {
            h.active = a;
        }
        check(&h.url, &h.content_type, &h.events, org, doc)?;
        h.updated_at = Utc::now();
        tx.st.hooks[i] = h;
        Ok(Reply::ok(render::hook(tx.st, tx.base, &tx.st.hooks[i])))
    })
}

fn remove(sim: &Sim, headers: &HeaderMap, t: Target, id: &str, doc: &'static str) -> Response {
    api::rest(sim, headers, spec(&t, true, doc), |caller, tx| {
        let target = t.authorise(tx, caller, true, doc)?;
        let i = find(tx, &target, id, doc)?;
        tx.st.hooks.remove(i);
        Ok(Reply::no_content())
    })
}

pub async fn list_repo(
    State(sim): State<Sim>,
    Path((o, r)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    list(&sim, &headers, Target::Repo(o, r), DOC_REPO_HOOKS)
}

pub async fn create_repo(
    State(sim): State<Sim>,
    Path((o, r)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    create(
        &sim,
        &headers,
        Target::Repo(o, r),
        &bytes,
        DOC_CREATE_REPO_HOOK,
    )
}

pub async fn get_repo(
    State(sim): State<Sim>,
    Path((o, r, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    get_one(&sim, &headers, Target::Repo(o, r), &id, DOC_REPO_HOOK)
}

pub async fn update_repo(
    State(sim): State<Sim>,
    Path((o, r, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    update(
        &sim,
        &headers,
        Target::Repo(o, r),
        &id,
        &bytes,
        DOC_UPDATE_REPO_HOOK,
    )
}

pub async fn delete_repo(
    State(sim): State<Sim>,
    Path((o, r, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    remove(
        &sim,
        &headers,
        Target::Repo(o, r),
        &id,
        DOC_DELETE_REPO_HOOK,
    )
}

pub async fn list_org(
    State(sim): State<Sim>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    list(&sim, &headers, Target::Org(org), DOC_ORG_HOOKS)
}

pub async fn create_org(
    State(sim): State<Sim>,
    Path(org): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    create(
        &sim,
        &headers,
        Target::Org(org),
        &bytes,
        DOC_CREATE_ORG_HOOK,
    )
}

pub async fn get_org(
    State(sim): State<Sim>,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    get_one(&sim, &headers, Target::Org(org), &id, DOC_ORG_HOOK)
}

pub async fn update_org(
    State(sim): State<Sim>,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    update(
        &sim,
        &headers,
        Target::Org(org),
        &id,
        &bytes,
        DOC_UPDATE_ORG_HOOK,
    )
}

pub async fn delete_org(
    State(sim): State<Sim>,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    remove(&sim, &headers, Target::Org(org), &id, DOC_DELETE_ORG_HOOK)
}
