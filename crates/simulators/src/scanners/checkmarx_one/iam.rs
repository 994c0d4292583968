//! Checkmarx ONE's IAM (Keycloak): `POST /auth/realms/{tenant}/protocol/openid-connect/token`
//! exchanges an API key — an offline refresh token of the tenant's realm — for a short-lived
//! access token (`grant_type=refresh_token`, `client_id=ast-app`). Refusals use Keycloak's
//! OAuth error bodies (`error`, `error_description`).
//!
//! Tokens are JWT-shaped (header, payload, signature in base64url): the API key's payload
//! names its realm in `aud` and its client in `azp`, as Checkmarx's keys do, so a client can
//! find the token endpoint from the key alone.

use super::Sh;
use super::state::AccessToken;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

/// The client Checkmarx ONE API keys belong to.
pub const CLIENT_ID: &str = "ast-app";

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A JWT-shaped token with this payload (the signature is opaque: nobody verifies it here but
/// the simulator, which knows its tokens).
pub fn jwt(payload: &Value, nonce: u64) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "sim" });
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(super::results::mix(nonce).to_be_bytes());
    format!("{}.{}.{sig}", b64(&header), b64(payload))
}

/// The realm URL of a tenant on this server (what API keys carry in `aud`).
pub fn realm_url(base: &str, tenant: &str) -> String {
    format!("{base}/auth/realms/{tenant}")
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

pub async fn token(
    State(sh): State<Sh>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = sh.lock();
    if tenant != s.tenant {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": "Realm does not exist" })),
        )
            .into_response();
    }
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let form: Vec<(String, String)> = if form_encoded {
        url::form_urlencoded::parse(&body).into_owned().collect()
    } else {
        Vec::new()
    };
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let Some(grant_type) = field("grant_type") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing form parameter: grant_type",
        );
    };
    match field("client_id") {
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "Missing parameter: client_id",
            );
        }
        Some(c) if c != CLIENT_ID => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Invalid client or Invalid client credentials",
            );
        }
        Some(_) => {}
    }
    if grant_type != "refresh_token" {
        // The simulator's realm has no service accounts: client credentials are not offered.
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant_type",
        );
    }
    let Some(refresh) = field("refresh_token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing parameter: refresh_token",
        );
    };
    if !s.api_keys.iter().any(|k| k == refresh) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid refresh token",
        );
    }
    let lifetime = s.token_lifetime_seconds;
    let now = Utc::now();
    let nonce = u64::try_from(now.timestamp_nanos_opt().unwrap_or(0)).unwrap_or(0)
        ^ s.access_tokens.len() as u64;
    let payload = json!({
        "exp": now.timestamp() + i64::try_from(lifetime).unwrap_or(i64::MAX / 2),
        "iat": now.timestamp(),
        "jti": s.uuid(),
        "iss": realm_url(&sh.base(), &tenant),
        "typ": "Bearer",
        "azp": CLIENT_ID,
        "tenant_name": tenant,
        "ast-base-url": sh.base(),
    });
    let access = jwt(&payload, nonce);
    let expires = now + TimeDelta::seconds(i64::try_from(lifetime).unwrap_or(i64::MAX / 2_000));
    // Expired tokens are forgotten so that a long run does not accumulate them.
    s.access_tokens.retain(|_, t| t.expires > now);
    s.access_tokens
        .insert(access.clone(), AccessToken { expires });
    let scope = "openid offline_access profile email";
    axum::Json(json!({
        "access_token": access,
        "expires_in": lifetime,
        "refresh_expires_in": 0,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "session_state": s.uuid(),
        "scope": scope,
    }))
    .into_response()
}

/// Whether the request carries a live access token.
pub fn authorized(sh: &Sh, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
    else {
        return false;
    };
    sh.lock()
        .access_tokens
        .get(token)
        .is_some_and(|t| t.expires > Utc::now())
}
