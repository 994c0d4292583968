//! Who is calling. A user token goes as the login of HTTP Basic with an empty password (every
//! version) or, from SonarQube 10.0, as `Authorization: Bearer <token>`; before 10.0 a Bearer
//! header is not read at all, so the call is anonymous. The simulated instance forces
//! authentication (the default since 8.6): an anonymous or unknown caller gets an empty 401.

use super::reply::ApiError;
use super::state::{State, User};
use axum::http::HeaderMap;
use base64::Engine;

/// The token a request carries, if the server reads it.
fn token(s: &State, headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" if s.version_at_least(10, 0) => Some(rest.trim().to_owned()),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            // A token is the login, with an empty password; a real login and password is not
            // something this simulator has.
            match text.split_once(':') {
                Some((login, "")) => Some(login.to_owned()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The caller, or the 401 SonarQube answers.
pub fn user<'s>(s: &'s State, headers: &HeaderMap) -> Result<&'s User, ApiError> {
    token(s, headers)
        .and_then(|t| s.user_by_token(&t))
        .ok_or(ApiError::Unauthenticated)
}

/// For endpoints that never refuse (`api/authentication/validate`): whether the credentials
/// are valid.
pub fn valid(s: &State, headers: &HeaderMap) -> bool {
    user(s, headers).is_ok()
}
