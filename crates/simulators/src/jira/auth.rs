//! Who is calling: HTTP Basic with an e-mail (Cloud) or user name (Data Center) and an API
//! token or password, or `Bearer` with a personal access token (Data Center) or an OAuth 2.0
//! access token from the token endpoint. Anything else is a bare 401 with a challenge; a
//! refused Basic login also carries Seraph's `X-Seraph-LoginReason: AUTHENTICATED_FAILED`.

use super::reply::ApiError;
use super::state::State;
use axum::http::{HeaderMap, header};
use base64::Engine;
use chrono::Utc;

/// The authenticated user's id.
pub fn authenticate(state: &State, headers: &HeaderMap, base: &str) -> Result<u64, ApiError> {
    let realm: String = url::form_urlencoded::byte_serialize(base.as_bytes()).collect();
    let oauth_challenge = || ApiError::Unauthorized {
        challenge: format!("OAuth realm=\"{realm}\""),
        basic_failed: false,
    };
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(oauth_challenge());
    };
    let value = value.trim();
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let refused = || ApiError::Unauthorized {
            challenge: "Basic realm=\"protected-area\"".into(),
            basic_failed: true,
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .map_err(|_| refused())?;
        let text = String::from_utf8(decoded).map_err(|_| refused())?;
        let (login, secret) = text.split_once(':').ok_or_else(refused)?;
        return state
            .user_by_login(login)
            .filter(|u| u.active && !u.api_token.is_empty() && u.api_token == secret)
            .map(|u| u.id)
            .ok_or_else(refused);
    }
    if scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty() {
        if let Some(u) = state
            .users
            .values()
            .find(|u| u.active && u.pats.iter().any(|p| p == credentials))
        {
            return Ok(u.id);
        }
        let now = Utc::now();
        if let Some(t) = state
            .access_tokens
            .iter()
            .find(|t| t.token == credentials && t.expires > now)
            && state.users.get(&t.user).is_some_and(|u| u.active)
        {
            return Ok(t.user);
        }
    }
    Err(oauth_challenge())
}

/// The caller a request names, if its credentials are valid: for rate limits, which count per
/// user and never refuse an unauthenticated request (the 401 comes first).
pub fn identify(state: &State, headers: &HeaderMap) -> Option<u64> {
    authenticate(state, headers, "").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::state::{Role, User};
    use axum::http::HeaderValue;

    fn state() -> State {
        let mut s = State::default();
        s.users.insert(
            1,
            User {
                id: 1,
                account_id: "a".into(),
                name: "bot".into(),
                key: "JIRAUSER10001".into(),
                email: "bot@example.com".into(),
                display_name: "Bot".into(),
                role: Role::Admin,
                api_token: "tok".into(),
                pats: vec!["pat".into()],
                active: true,
            },
        );
        s
    }

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn basic_takes_an_email_or_a_user_name_and_bearer_a_pat() {
        let s = state();
        let basic = |u: &str, p: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        };
        assert_eq!(
            authenticate(&s, &with(&basic("bot@example.com", "tok")), "http://x").ok(),
            Some(1)
        );
        assert_eq!(
            authenticate(&s, &with(&basic("BOT", "tok")), "http://x").ok(),
            Some(1)
        );
        assert!(matches!(
            authenticate(&s, &with(&basic("bot@example.com", "nope")), "http://x"),
            Err(ApiError::Unauthorized {
                basic_failed: true,
                ..
            })
        ));
        assert_eq!(
            authenticate(&s, &with("Bearer pat"), "http://x").ok(),
            Some(1)
        );
        assert!(matches!(
            authenticate(&s, &with("Bearer other"), "http://x"),
            Err(ApiError::Unauthorized {
                basic_failed: false,
                ..
            })
        ));
        assert!(authenticate(&s, &HeaderMap::new(), "http://x").is_err());
    }
}
