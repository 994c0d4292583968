//! Project hooks: `GET`/`POST /projects/:id/hooks`, `GET`/`PUT`/`DELETE …/hooks/:hook_id`.
//! Maintainer or above only (`authorize_admin_project`).

use super::auth::{self, Caller, Scopes};
use super::events::uuid;
use super::params::Params;
use super::projects::paginated;
use super::reply::{ApiError, ApiResult, json_reply};
use super::state::{Hook, MAINTAINER, State};
use super::{Call, Sh, render};
use crate::common::pagination::OffsetPage;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use serde_json::Value;

/// `authenticate!`, then `authorize_admin_project`: the project (404) and Maintainer (403).
fn admin_project(s: &mut State, call: &Call, id: &str) -> Result<(Caller, u64), ApiError> {
    let caller = auth::require(call.auth(s, Scopes::Api)?)?;
    let project_id = auth::visible_project(s, Some(&caller), id)?;
    auth::require_level(s, &caller, project_id, MAINTAINER)?;
    Ok((caller, project_id))
}

fn parse_hook_id(text: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::param("hook_id is invalid"))
}

fn find(s: &State, project_id: u64, hook_id: u64) -> Result<&Hook, ApiError> {
    s.hooks
        .get(&hook_id)
        .filter(|h| h.project_id == project_id)
        .ok_or_else(ApiError::record_not_found)
}

/// A hook URL GitLab would accept: absolute http(s) with a host. (The simulated instance
/// allows hooks to the local network, so loopback receivers are fine.)
fn valid_url(text: &str) -> bool {
    url::Url::parse(text.trim())
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

const FLAGS: [&str; 13] = [
    "push_events",
    "issues_events",
    "confidential_issues_events",
    "merge_requests_events",
    "tag_push_events",
    "note_events",
    "confidential_note_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "deployment_events",
    "releases_events",
    "feature_flag_events",
];

/// The hook attributes a request sets.
struct HookParams {
    url: Option<String>,
    token: Option<Option<String>>,
    name: Option<Option<String>>,
    description: Option<Option<String>>,
    branch_filter: Option<Option<String>>,
    ssl: Option<bool>,
    flags: Vec<(&'static str, bool)>,
}

fn read(p: &mut Params) -> HookParams {
    p.require("url");
    HookParams {
        url: p.string("url").flatten(),
        token: p.string("token"),
        name: p.string("name"),
        description: p.string("description"),
        branch_filter: p.string("push_events_branch_filter"),
        ssl: p.boolean("enable_ssl_verification"),
        flags: FLAGS
            .iter()
            .filter_map(|f| p.boolean(f).map(|v| (*f, v)))
            .collect(),
    }
}

fn set_flag(h: &mut Hook, name: &str, v: bool) {
    match name {
        "push_events" => h.push_events = v,
        "issues_events" => h.issues_events = v,
        "confidential_issues_events" => h.confidential_issues_events = v,
        "merge_requests_events" => h.merge_requests_events = v,
        "tag_push_events" => h.tag_push_events = v,
        "note_events" => h.note_events = v,
        "confidential_note_events" => h.confidential_note_events = v,
        "job_events" => h.job_events = v,
        "pipeline_events" => h.pipeline_events = v,
        "wiki_page_events" => h.wiki_page_events = v,
        "deployment_events" => h.deployment_events = v,
        "releases_events" => h.releases_events = v,
        "feature_flag_events" => h.feature_flag_events = v,
        _ => {}
    }
}

fn assign(h: &mut Hook, params: HookParams) {
    if let Some(url) = params.url {
        let url = url.trim().to_owned();
        if url != h.url {
            // GitLab forgets the secret token when the URL changes.
            h.token = None;
        }
        h.url = url;
    }
    if let Some(t) = params.token {
        h.token = t.filter(|t| !t.is_empty());
    }
    if let Some(n) = params.name {
        h.name = n;
    }
    if let Some(d) = params.description {
        h.description = d;
    }
    if let Some(b) = params.branch_filter {
        h.push_events_branch_filter = b.unwrap_or_default();
    }
    if let Some(v) = params.ssl {
        h.enable_ssl_verification = v;
    }
    for (f, v) in params.flags {
        set_flag(h, f, v);
    }
}

pub async fn list(AxState(sh): AxState<Sh>, Path(id): Path<String>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let (_, project_id) = admin_project(&mut s, &call, &id)?;
    let mut p = call.params()?;
    let page = OffsetPage::new(p.integer("page").flatten(), p.integer("per_page").flatten());
    p.check()?;
    let all: Vec<&Hook> = s
        .hooks
        .values()
        .filter(|h| h.project_id == project_id)
        .collect();
    let items: Vec<Value> = page.slice(&all).iter().map(|h| render::hook(h)).collect();
    Ok(paginated(page, all.len(), &call.url(sh.base()), items))
}

pub async fn show(
    AxState(sh): AxState<Sh>,
    Path((id, hook_id)): Path<(String, String)>,
    call: Call,
) -> ApiResult {
    let mut s = sh.lock();
    let (_, project_id) = admin_project(&mut s, &call, &id)?;
    let hook_id = parse_hook_id(&hook_id)?;
    Ok(json_reply(
        StatusCode::OK,
        render::hook(find(&s, project_id, hook_id)?),
    ))
}

pub async fn create(AxState(sh): AxState<Sh>, Path(id): Path<String>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let (_, project_id) = admin_project(&mut s, &call, &id)?;
    let mut p = call.params()?;
    let params = read(&mut p);
    p.check()?;
    if !params.url.as_deref().is_some_and(valid_url) {
        return Err(ApiError::Error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid url given".into(),
        ));
    }
    let mut hook = Hook {
        id: s.next_id(),
        project_id,
        uuid: uuid(),
        url: String::new(),
        name: None,
        description: None,
        token: None,
        // The `web_hooks` table's defaults: push events on, everything else off, TLS verified.
        push_events: true,
        issues_events: false,
        confidential_issues_events: false,
        merge_requests_events: false,
        tag_push_events: false,
        note_events: false,
        confidential_note_events: false,
        job_events: false,
        pipeline_events: false,
        wiki_page_events: false,
        deployment_events: false,
        releases_events: false,
        feature_flag_events: false,
        enable_ssl_verification: true,
        push_events_branch_filter: String::new(),
        created_at: Utc::now(),
    };
    assign(&mut hook, params);
    let body = render::hook(&hook);
    s.hooks.insert(hook.id, hook);
    Ok(json_reply(StatusCode::CREATED, body))
}

pub async fn update(
    AxState(sh): AxState<Sh>,
    Path((id, hook_id)): Path<(String, String)>,
    call: Call,
) -> ApiResult {
    let mut s = sh.lock();
    let (_, project_id) = admin_project(&mut s, &call, &id)?;
    let mut p = call.params()?;
    let hook_id = parse_hook_id(&hook_id);
    let params = read(&mut p);
    p.check()?;
    let hook_id = hook_id?;
    find(&s, project_id, hook_id)?;
    if !params.url.as_deref().is_some_and(valid_url) {
        return Err(ApiError::Error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid url given".into(),
        ));
    }
    let hook = s
        .hooks
        .get_mut(&hook_id)
        .ok_or_else(ApiError::record_not_found)?;
    assign(hook, params);
    Ok(json_reply(StatusCode::OK, render::hook(hook)))
}

pub async fn delete(
    AxState(sh): AxState<Sh>,
    Path((id, hook_id)): Path<(String, String)>,
    call: Call,
) -> ApiResult {
    let mut s = sh.lock();
    let (_, project_id) = admin_project(&mut s, &call, &id)?;
    let hook_id = parse_hook_id(&hook_id)?;
    find(&s, project_id, hook_id)?;
    s.hooks.remove(&hook_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
