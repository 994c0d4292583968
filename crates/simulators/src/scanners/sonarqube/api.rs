//! The rest of the web API a connector calls: `api/server/version` and
//! `api/authentication/validate` (both open to anonymous callers), `api/users/current`,
//! `api/projects/search`
//! (Administer System only), `api/components/search` (what the caller may browse) and
//! `api/rules/show`.

use super::params::Params;
use super::reply::ApiError;
use super::state::State;
use super::{Sh, auth, render};
use axum::Json;
use axum::extract::{RawQuery, State as AxState};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn reply(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The version, as plain text.
pub async fn version(AxState(sh): AxState<Sh>) -> Response {
    let v = sh.lock().version.clone();
    ([(header::CONTENT_TYPE, "text/plain")], v).into_response()
}

/// The caller (authentication is forced on the simulated instance, so only a known one).
pub async fn current_user(AxState(sh): AxState<Sh>, headers: HeaderMap) -> Response {
    let s = sh.lock();
    reply(auth::user(&s, &headers).map(|u| {
        let global: Vec<&str> = if u.admin { vec!["admin"] } else { vec![] };
        json!({ "isLoggedIn": true, "login": u.login, "name": u.name, "permissions": { "global": global } })
    }))
}

/// `{"valid": true|false}`: never a 401.
pub async fn validate(AxState(sh): AxState<Sh>, headers: HeaderMap) -> Response {
    let s = sh.lock();
    Json(json!({ "valid": auth::valid(&s, &headers) })).into_response()
}

pub async fn projects(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    reply((|| {
        let user = auth::user(&s, &headers)?;
        let q = Params::parse(raw.as_deref());
        let (p, ps) = q.paging(100, Some(500), false)?;
        q.list("qualifiers", &["TRK", "VW", "APP"])?;
        if !user.admin {
            return Err(ApiError::forbidden());
        }
        let wanted = q.list("projects", &[])?;
        let text = q.get("q").map(str::to_lowercase);
        let all: Vec<_> = s
            .projects
            .values()
            .filter(|pr| wanted.is_empty() || wanted.contains(&pr.key))
            .filter(|pr| {
                text.as_deref().is_none_or(|t| {
                    pr.key.to_lowercase().contains(t) || pr.name.to_lowercase().contains(t)
                })
            })
            .collect();
        Ok(page_of(&all, p, ps, render::project))
    })())
}

pub async fn components(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    reply((|| {
        let user = auth::user(&s, &headers)?;
        let q = Params::parse(raw.as_deref());
        if q.get("qualifiers").is_none() {
            return Err(ApiError::missing("qualifiers"));
        }
        let qualifiers = q.list("qualifiers", &["APP", "TRK", "VW"])?;
        let (p, ps) = q.paging(100, Some(500), true)?;
        let text = q.get("q").map(str::to_lowercase);
        let all: Vec<_> = s
            .projects
            .values()
            .filter(|_| qualifiers.iter().any(|x| x == "TRK"))
            .filter(|pr| user.can_browse(&pr.key))
            .filter(|pr| {
                text.as_deref().is_none_or(|t| {
                    pr.key.to_lowercase().contains(t) || pr.name.to_lowercase().contains(t)
                })
            })
            .collect();
        Ok(page_of(
            &all,
            p,
            ps,
            |pr| json!({ "key": pr.key, "name": pr.name, "qualifier": "TRK", "project": pr.key }),
        ))
    })())
}

fn page_of<T>(all: &[&T], p: u32, ps: u32, render: impl Fn(&T) -> Value) -> Value {
    let start = ((p - 1) as usize)
        .saturating_mul(ps as usize)
        .min(all.len());
    let end = start.saturating_add(ps as usize).min(all.len());
    json!({
        "paging": render::paging(p, ps, all.len()),
        "components": all[start..end].iter().map(|x| render(x)).collect::<Vec<_>>(),
    })
}

pub async fn rule(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let s: std::sync::MutexGuard<'_, State> = sh.lock();
    reply((|| {
        auth::user(&s, &headers)?;
        let q = Params::parse(raw.as_deref());
        let key = q.get("key").ok_or_else(|| ApiError::missing("key"))?;
        let rule = s
            .rules
            .get(key)
            .ok_or_else(|| ApiError::not_found(format!("Rule not found: {key}")))?;
        Ok(json!({ "rule": rule, "actives": [] }))
    })())
}
