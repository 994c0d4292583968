//! UI sessions and CSRF protection.
//!
//! The browser holds a random session id in an `HttpOnly; SameSite=Lax` cookie; the database
//! holds its SHA-256 (`store::sessions`). Every UI request passes through [`guard`], which
//! loads the session once and, for anything but GET/HEAD, demands the session's CSRF token in
//! the `X-CSRF-Token` header (htmx sends it from `hx-headers`) or in a `csrf` form field.
//! The login form, which has no session yet, is protected by a double-submit cookie instead
//! (see `auth`).

use super::error::UiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::Actor;
use store::sessions::Lifetime;

pub const COOKIE: &str = "vb_session";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The logged-in user of a request, and the CSRF token their forms must carry.
#[derive(Clone, Debug)]
pub struct Session {
    pub actor: Actor,
    pub csrf: String,
    /// The stored hash of the session id (logout deletes by it).
    pub id_hash: String,
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite`, `Path`, `Secure` when the server is reached
/// over https, and `Max-Age` (0 deletes the cookie).
pub fn set_cookie(name: &str, value: &str, path: &str, same_site: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let s = format!("{name}={value}; HttpOnly; SameSite={same_site}; Path={path}; Max-Age={max_age}{secure}");
    // Names and values are ours (hex ids, fixed names), so this cannot fail; an empty
    // cookie that expires at once is the safe fallback.
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("vb_invalid=; Max-Age=0"))
}

/// True when cookies should be marked `Secure`: the public URL is https.
pub fn secure(state: &AppState) -> bool {
    state.app.settings().public_url.starts_with("https://")
}

/// Session ids are 32 random bytes in hex; anything else is not looked up.
fn looks_like_session_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Loads the session into the request's extensions and enforces CSRF on every non-GET request.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, mut req: Request) -> Result<Request, UiError> {
    let session = match cookie(req.headers(), COOKIE).filter(|id| looks_like_session_id(id)) {
        Some(id) => {
            let id_hash = secrets::token::hash(id);
            let mut c = state.app.db().conn().await?;
            store::sessions::authenticate(&mut c, &id_hash, Lifetime::default())
                .await?
                .map(|s| Session { actor: s.actor, csrf: s.csrf_token, id_hash })
        }
        None => None,
    };
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Without a session a state-changing request can do nothing (its handler demands a user).
    // The login form carries its own token (it may be sent from a tab opened before another
    // tab logged in, so it is not held to the session's).
    let own_token = checks_own_token(req.uri().path(), req.headers());
    if let (false, false, Some(s)) = (safe, own_token, &session) {
        let (presented, rebuilt) = presented_token(req, state.max_body_bytes).await?;
        req = rebuilt;
        if !presented.is_some_and(|p| same_secret(&p, &s.csrf)) {
            return Err(UiError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "This form was sent without its security token (CSRF), or with one from another session. \
                 Reload the page and try again.",
            ));
        }
    }
    if let Some(s) = session {
        req.extensions_mut().insert(s);
    }
    Ok(req)
}

/// Requests whose handler checks the CSRF token itself: the login form (no session yet: its
/// own double-submit token) and the report upload (multipart, which this guard does not read:
/// `api::imports::import_from_form` demands the token as the form's first field, before the
/// file). Nothing else is exempt.
fn checks_own_token(path: &str, headers: &HeaderMap) -> bool {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    path == "/login" || (path == "/import" && multipart)
}

/// The CSRF token a request presents: the header, or the `csrf` field of a URL-encoded form
/// (the body is read and put back for the handler).
async fn presented_token(req: Request, limit: usize) -> Result<(Option<String>, Request), UiError> {
    if let Some(v) = req.headers().get(CSRF_HEADER) {
        let token = v.to_str().ok().map(str::to_owned);
        return Ok((token, req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| UiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Payload too large", "the form is larger than the server accepts"))?;
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// The logged-in user; without one, a GET is sent to the login page (coming back afterwards),
/// an htmx request is told to go there (`HX-Redirect`), anything else too.
pub struct CurrentUser(pub Session);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Response> {
        if let Some(s) = parts.extensions.get::<Session>() {
            return Ok(CurrentUser(s.clone()));
        }
        let next = (parts.method == Method::GET)
            .then(|| parts.uri.path_and_query().map(|pq| pq.as_str().to_owned()))
            .flatten()
            .and_then(|n| safe_next(&n));
        let to = login_url(next.as_deref());
        if parts.headers.contains_key("hx-request") {
            let mut resp = StatusCode::UNAUTHORIZED.into_response();
            if let Ok(v) = HeaderValue::from_str(&to) {
                resp.headers_mut().insert("hx-redirect", v);
            }
            return Err(resp);
        }
        Err(Redirect::to(&to).into_response())
    }
}

/// `/login`, with `?next=` when there is somewhere to come back to.
pub fn login_url(next: Option<&str>) -> String {
    match next {
        Some(n) if n != "/" => format!(
            "/login?{}",
            form_urlencoded::Serializer::new(String::new()).append_pair("next", n).finish()
        ),
        _ => "/login".to_owned(),
    }
}

/// Where a login may send the browser afterwards: a path on this site only. Absolute URLs,
/// protocol-relative `//host`, backslashes (which browsers treat as slashes) and control
/// characters are refused, so a crafted link cannot bounce a user to another site.
pub fn safe_next(raw: &str) -> Option<String> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(char::is_control)
        && raw.len() <= 2048
        && !raw.starts_with("/login")
        && !raw.starts_with("/logout");
    ok.then(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_paths_are_followed() {
        assert_eq!(safe_next("/findings?severity=high").as_deref(), Some("/findings?severity=high"));
        for bad in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "evil", "/a\nb", "", "/login?next=/x", "/logout"] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; vb_session=abc ; b=2"));
        h.append(header::COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(cookie(&h, "vb_session"), Some("abc"));
        assert_eq!(cookie(&h, "c"), Some("3"));
        assert_eq!(cookie(&h, "vb"), None);
    }

    #[test]
    fn cookie_attributes() {
        let c = set_cookie("vb_session", "ff", "/", "Lax", 60, true);
        assert_eq!(c.to_str().unwrap(), "vb_session=ff; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure");
        let c = set_cookie("vb_session", "", "/", "Lax", 0, false);
        assert!(!c.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }

    #[test]
    fn login_urls_carry_next() {
        assert_eq!(login_url(Some("/findings?a=1&b=2")), "/login?next=%2Ffindings%3Fa%3D1%26b%3D2");
        assert_eq!(login_url(Some("/")), "/login");
        assert_eq!(login_url(None), "/login");
    }
}
