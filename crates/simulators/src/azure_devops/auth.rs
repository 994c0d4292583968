//! Personal access tokens: `Authorization: Basic base64(<any user>:<PAT>)` (the user name is
//! ignored, as the API specs say), and their scopes with the inheritance the scopes reference
//! documents (`vso.work_write` includes `vso.work`, which includes `vso.hooks_write`, `vso.hooks`
//! and `vso.profile`; `app_token` is full access).
//!
//! Refusals: no or a bad token is 401 with the service's challenges and an empty body; a client
//! that asks for HTML (a browser-like `Accept`) without `X-TFS-FedAuthRedirect: Suppress` is sent
//! the sign-in page with 203 instead, which is how Azure DevOps answers such clients. A valid
//! token without the scope an endpoint needs is 401 `TF400813` (`UnauthorizedRequestException`).

use super::reply::{ApiError, service_headers};
use super::state::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine;
use std::collections::BTreeSet;

/// Scopes an endpoint needs (any one of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Any valid token (`connectionData`).
    Any,
    Profile,
    WorkRead,
    WorkWrite,
    HooksRead,
    HooksWrite,
}

impl Need {
    fn scopes(self) -> &'static [&'static str] {
        match self {
            Need::Any => &[],
            Need::Profile => &["vso.profile", "vso.project"],
            Need::WorkRead => &["vso.work"],
            Need::WorkWrite => &["vso.work_write"],
            Need::HooksRead => &["vso.hooks"],
            Need::HooksWrite => &["vso.hooks_write"],
        }
    }
}

/// Who is calling.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: String,
    pub scopes: BTreeSet<String>,
}

impl Caller {
    pub fn require(&self, need: Need) -> Result<(), ApiError> {
        let wanted = need.scopes();
        if wanted.is_empty()
            || self.scopes.contains("app_token")
            || wanted.iter().any(|s| self.scopes.contains(*s))
        {
            Ok(())
        } else {
            Err(ApiError::not_authorized(&self.user_id))
        }
    }
}

/// A scope and every scope it includes.
pub fn expand(scopes: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<String> = scopes
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    while let Some(s) = todo.pop() {
        if !out.insert(s.clone()) {
            continue;
        }
        let implied: &[&str] = match s.as_str() {
            "vso.work_full" => &["vso.work_write"],
            "vso.work_write" => &["vso.work"],
            "vso.work" | "vso.code" | "vso.build" => &["vso.hooks_write"],
            "vso.code_full" => &["vso.code_manage"],
            "vso.code_manage" => &["vso.code_write"],
            "vso.code_write" => &["vso.code"],
            "vso.build_execute" => &["vso.build"],
            "vso.hooks_write" => &["vso.hooks"],
            "vso.hooks" => &["vso.profile"],
            "vso.project_manage" => &["vso.project_write"],
            "vso.project_write" => &["vso.project"],
            "vso.profile_write" => &["vso.profile"],
            _ => &[],
        };
        todo.extend(implied.iter().map(|s| (*s).to_owned()));
    }
    out
}

/// The PAT in a `Basic` authorization header.
fn pat(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, token) = text.split_once(':')?;
    (!token.is_empty()).then(|| token.to_owned())
}

/// The caller, or the service's refusal.
pub fn authenticate(state: &State, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = pat(headers).ok_or_else(|| unauthenticated(headers))?;
    let p = state
        .pats
        .iter()
        .find(|p| p.token == token)
        .ok_or_else(|| unauthenticated(headers))?;
    if !state.users.contains_key(&p.user_id) {
        return Err(unauthenticated(headers));
    }
    Ok(Caller {
        user_id: p.user_id.clone(),
        scopes: expand(&p.scopes),
    })
}

/// The user a request's token belongs to, without refusing (for rate limiting).
pub fn identify(state: &State, headers: &HeaderMap) -> Option<String> {
    let token = pat(headers)?;
    state
        .pats
        .iter()
        .find(|p| p.token == token)
        .map(|p| p.user_id.clone())
}

const SIGN_IN_PAGE: &str = "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body><p>Sign in to continue to Azure DevOps.</p></body></html>";

/// No or an unknown token.
fn unauthenticated(headers: &HeaderMap) -> ApiError {
    let suppressed = headers
        .get("x-tfs-fedauthredirect")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("suppress"));
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let mut r = if wants_html && !suppressed {
        let mut r = (StatusCode::NON_AUTHORITATIVE_INFORMATION, SIGN_IN_PAGE).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r
    } else {
        let mut r = StatusCode::UNAUTHORIZED.into_response();
        let h = r.headers_mut();
        h.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer authorization_uri=https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000"),
        );
        h.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"https://dev.azure.com/\""),
        );
        h.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("TFS-Federated"),
        );
        h.insert(
            "x-tfs-fedauthrealm",
            HeaderValue::from_static("https://app.vssps.visualstudio.com/"),
        );
        h.insert(
            "x-tfs-fedauthissuer",
            HeaderValue::from_static("https://dev.azure.com/"),
        );
        r
    };
    service_headers(&mut r);
    ApiError::Raw(Box::new(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_include_what_the_reference_says() {
        let s = expand(&["vso.work_write".to_owned()]);
        for want in [
            "vso.work_write",
            "vso.work",
            "vso.hooks_write",
            "vso.hooks",
            "vso.profile",
        ] {
            assert!(s.contains(want), "{want} in {s:?}");
        }
        let caller = Caller {
            user_id: "u".into(),
            scopes: s,
        };
        assert!(caller.require(Need::HooksWrite).is_ok());
        assert!(caller.require(Need::Profile).is_ok());
        let reader = Caller {
            user_id: "u".into(),
            scopes: expand(&["vso.work".to_owned()]),
        };
        assert!(reader.require(Need::WorkWrite).is_err());
        let project_only = Caller {
            user_id: "u".into(),
            scopes: expand(&["vso.project".to_owned()]),
        };
        assert!(project_only.require(Need::HooksWrite).is_err());
        assert!(project_only.require(Need::Profile).is_ok());
    }

    #[test]
    fn the_pat_is_the_basic_password_whatever_the_user() {
        let mut h = HeaderMap::new();
        let b = base64::engine::general_purpose::STANDARD.encode(":secret");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {b}")).unwrap(),
        );
        assert_eq!(pat(&h).as_deref(), Some("secret"));
        let b = base64::engine::general_purpose::STANDARD.encode("anyone:secret");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {b}")).unwrap(),
        );
        assert_eq!(pat(&h).as_deref(), Some("secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secret"),
        );
        assert_eq!(pat(&h), None);
    }
}
