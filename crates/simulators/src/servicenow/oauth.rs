//! The OAuth token endpoint, `POST /oauth_token.do` (form-encoded): `grant_type=password`
//! (client id and secret, user name and password) answers an access token and a refresh token;
//! `grant_type=refresh_token` answers a new access token and the current refresh token, as the
//! docs ("OAuth API request parameters") describe: "Access requests made within the expiration
//! time of the access token always return the current access token"; "Access requests made
//! within the refresh token expiration time always return the current refresh token". Every
//! refusal (wrong client, user, password, an expired or unknown refresh token, a JSON body, an
//! unsupported grant) is the instance's one answer: 401
//! `{"error_description":"access_denied","error":"server_error"}`.

use super::Sh;
use super::reply::form_pairs;
use super::state::{IssuedToken, State, token};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{TimeDelta, Utc};
use serde_json::json;

fn denied() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error_description": "access_denied", "error": "server_error" })),
    )
        .into_response()
}

pub async fn token_endpoint(AxState(sh): AxState<Sh>, headers: HeaderMap, body: Bytes) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let Ok(text) = std::str::from_utf8(&body) else {
        return denied();
    };
    if !form {
        return denied();
    }
    let params = form_pairs(text);
    let mut s = sh.lock();
    match grant(&mut s, &params) {
        Some(answer) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            Json(answer),
        )
            .into_response(),
        None => denied(),
    }
}

fn grant(s: &mut State, params: &[(String, String)]) -> Option<serde_json::Value> {
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let (grant_type, client_id, secret) =
        (get("grant_type"), get("client_id"), get("client_secret"));
    let client = s
        .clients
        .get(client_id)
        .filter(|c| c.client_secret == secret)?
        .clone();
    let now = Utc::now();
    let (user, refresh) =
        match grant_type {
            "password" => {
                let user = get("username");
                let account = s
                    .accounts
                    .get(user)
                    .filter(|a| a.password == get("password"))?;
                let active = s
                    .get(&account.sys_id)
                    .is_some_and(|r| r.get("active") == "true");
                if !active {
                    return None;
                }
                // The current refresh token (its life renewed), or a new one.
                let until = now + TimeDelta::seconds(client.refresh_token_lifespan);
                let refresh =
                    match s.refresh_tokens.iter_mut().find(|t| {
                        t.client_id == client_id && t.user_name == user && t.expires_at > now
                    }) {
                        Some(t) => {
                            t.expires_at = until;
                            t.token.clone()
                        }
                        None => {
                            let t = token();
                            s.refresh_tokens.push(IssuedToken {
                                token: t.clone(),
                                client_id: client_id.to_owned(),
                                user_name: user.to_owned(),
                                expires_at: until,
                            });
                            t
                        }
                    };
                (user.to_owned(), refresh)
            }
            "refresh_token" => {
                let presented = get("refresh_token");
                let t = s.refresh_tokens.iter().find(|t| {
                    t.token == presented && t.client_id == client_id && t.expires_at > now
                })?;
                let user = t.user_name.clone();
                let active = s
                    .accounts
                    .get(&user)
                    .and_then(|a| s.get(&a.sys_id))
                    .is_some_and(|r| r.get("active") == "true");
                if !active {
                    return None;
                }
                (user, presented.to_owned())
            }
            _ => return None,
        };
    let until = now + TimeDelta::seconds(client.access_token_lifespan);
    let reuse = grant_type == "password";
    let access =
        match s.access_tokens.iter_mut().find(|t| {
            reuse && t.client_id == client_id && t.user_name == user && t.expires_at > now
        }) {
            Some(t) => {
                t.expires_at = until;
                t.token.clone()
            }
            None => {
                let t = token();
                s.access_tokens.push(IssuedToken {
                    token: t.clone(),
                    client_id: client_id.to_owned(),
                    user_name: user.clone(),
                    expires_at: until,
                });
                t
            }
        };
    // Expired tokens are of no use to anyone: keep the lists short.
    s.access_tokens.retain(|t| t.expires_at > now);
    Some(json!({
        "access_token": access,
        "refresh_token": refresh,
        "scope": "useraccount",
        "token_type": "Bearer",
        "expires_in": (client.access_token_lifespan - 1).max(0),
    }))
}
