//! The OAuth 2.0 token endpoint of a Data Center site (`POST /rest/oauth2/latest/token`,
//! form-encoded): the refresh grant, with rotating refresh tokens as Atlassian issues them —
//! each refresh returns a new refresh token and the old one is refused from then on with
//! `invalid_grant`. Errors are RFC 6749's JSON.

use super::Sh;
use super::state::{AccessToken, RefreshToken};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{TimeDelta, Utc};
use serde_json::json;

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn random_token(prefix: &str) -> String {
    let b: [u8; 24] = rand::random();
    format!("{prefix}{}", hex::encode(b))
}

/// The client's credentials: in the form, or as HTTP Basic (RFC 6749 §2.3.1).
fn client_credentials(headers: &HeaderMap, form: &[(String, String)]) -> Option<(String, String)> {
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let (Some(id), Some(secret)) = (field("client_id"), field("client_secret")) {
        return Some((id, secret));
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?,
    )
    .ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /rest/oauth2/latest/token`.
pub async fn token(AxState(sh): AxState<Sh>, headers: HeaderMap, body: Bytes) -> Response {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The token request must be application/x-www-form-urlencoded.",
        );
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(grant) = field("grant_type") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing grant_type parameter.",
        );
    };
    let mut s = sh.lock();
    let Some((client_id, secret)) = client_credentials(&headers, &form) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed: no client credentials.",
        );
    };
    if !s
        .oauth_clients
        .iter()
        .any(|c| c.client_id == client_id && c.secret == secret)
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        );
    }
    if grant != "refresh_token" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("The grant type '{grant}' is not supported here."),
        );
    }
    let Some(presented) = field("refresh_token").filter(|t| !t.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing refresh_token parameter.",
        );
    };
    let found = s
        .refresh_tokens
        .iter()
        .position(|t| t.token == presented && t.client_id == client_id && !t.used);
    let Some(i) = found else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Unknown or invalid refresh token.",
        );
    };
    let user = s.refresh_tokens[i].user;
    if !s.users.get(&user).is_some_and(|u| u.active) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The user of this refresh token is not active.",
        );
    }
    // Rotation: the presented token is spent; the answer carries its successor.
    s.refresh_tokens[i].used = true;
    let refresh = random_token("jira-refresh-");
    let access = random_token("jira-access-");
    let lifetime = s.token_lifetime_secs;
    s.refresh_tokens.push(RefreshToken {
        token: refresh.clone(),
        client_id: client_id.clone(),
        user,
        used: false,
    });
    s.access_tokens.push(AccessToken {
        token: access.clone(),
        client_id,
        user,
        expires: Utc::now() + TimeDelta::seconds(lifetime),
    });
    let mut r = (
        StatusCode::OK,
        axum::Json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "refresh_token": refresh,
            "scope": "WRITE",
        })),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
