//! Who is calling: personal access tokens from `PRIVATE-TOKEN`, `Authorization: Bearer` or the
//! `private_token` parameter, checked the way GitLab's `AccessTokenValidationService` does
//! (expired, then revoked, then scopes), and the permission checks endpoints make.

use super::reply::{ApiError, EXPIRED, REVOKED};
use super::state::{GUEST, State};
use axum::http::{HeaderMap, Method, header};
use chrono::Utc;

/// The scopes an endpoint accepts (`allow_access_with_scope`). Every API endpoint takes `api`,
/// and `read_api` for reads (`API::API`); the users API adds `read_user` for reads; a token may
/// always read itself, whatever its scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scopes {
    Api,
    User,
    AnyScope,
}

impl Scopes {
    /// The endpoint's registered scopes, its own class's first, each marked when it applies
    /// to reads only. GitLab's `insufficient_scope` answer names all of them, conditions
    /// aside (a write refused to a `read_api` token says `"scope": "api read_api"`).
    fn registered(self) -> &'static [(&'static str, bool)] {
        match self {
            Scopes::Api => &[("api", false), ("read_api", true)],
            Scopes::User => &[("read_user", true), ("api", false), ("read_api", true)],
            Scopes::AnyScope => &[],
        }
    }

    fn allows(self, token_scopes: &[String], read: bool) -> bool {
        self == Scopes::AnyScope
            || self.registered().iter().any(|(name, reads_only)| {
                (read || !reads_only) && token_scopes.iter().any(|s| s == name)
            })
    }
}

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: u64,
    pub token_id: u64,
}

/// The token a request carries, if any (header first, then bearer, then parameter).
pub fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if !v.is_empty() {
            return Some(v.to_owned());
        }
    }
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            let t = t.trim();
            if !t.is_empty() {
                return Some(t.to_owned());
            }
        }
    }
    let q = query?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "private_token")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// Authenticates a request. `Ok(None)` for an anonymous request (the endpoint decides whether
/// that is a 401 or a 404); an unknown token is a 401 whatever the endpoint.
pub fn authenticate(
    state: &mut State,
    headers: &HeaderMap,
    query: Option<&str>,
    method: &Method,
    scopes: Scopes,
) -> Result<Option<Caller>, ApiError> {
    let Some(secret) = presented_token(headers, query) else {
        return Ok(None);
    };
    let now = Utc::now();
    let Some(token) = state.tokens.iter_mut().find(|t| t.token == secret) else {
        return Err(ApiError::unauthorized());
    };
    if token.expired(now.date_naive()) {
        return Err(ApiError::InvalidToken(EXPIRED));
    }
    if token.revoked {
        return Err(ApiError::InvalidToken(REVOKED));
    }
    let read = *method == Method::GET || *method == Method::HEAD;
    if !scopes.allows(&token.scopes, read) {
        return Err(ApiError::InsufficientScope(
            scopes.registered().iter().map(|(name, _)| *name).collect(),
        ));
    }
    token.last_used_at = Some(now);
    Ok(Some(Caller {
        user_id: token.user_id,
        token_id: token.id,
    }))
}

/// The user a request would authenticate as, without any side effect or error: what rate
/// limits count requests against (Rack::Attack keys authenticated throttles by user).
pub fn identify(state: &State, headers: &HeaderMap, query: Option<&str>) -> Option<u64> {
    let secret = presented_token(headers, query)?;
    let token = state.token(&secret)?;
    (!token.revoked && !token.expired(Utc::now().date_naive())).then_some(token.user_id)
}

/// `authenticate!`: anonymous callers get a 401.
pub fn require(caller: Option<Caller>) -> Result<Caller, ApiError> {
    caller.ok_or_else(ApiError::unauthorized)
}

/// `find_project!`: the project, if it exists and the caller may see it. Every simulated
/// project is private, so a non-member (or an anonymous caller) gets the same 404 as for a
/// project that does not exist.
pub fn visible_project(
    state: &State,
    caller: Option<&Caller>,
    id_or_path: &str,
) -> Result<u64, ApiError> {
    let project = state
        .project_by_ref(id_or_path)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    match caller {
        Some(c) if state.access_level(c.user_id, project.id) >= GUEST => Ok(project.id),
        _ => Err(ApiError::not_found("Project")),
    }
}

/// `authorize!`: a 403 unless the caller holds at least `level` on the project.
pub fn require_level(
    state: &State,
    caller: &Caller,
    project_id: u64,
    level: u8,
) -> Result<(), ApiError> {
    if state.access_level(caller.user_id, project_id) >= level {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}
