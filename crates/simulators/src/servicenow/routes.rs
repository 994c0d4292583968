//! The simulator's routes: the token endpoint, the REST API's paths (each served by
//! [`super::api::serve`]; the routes exist so that requests are counted by route), the
//! control API under `/_sim/`, and what wraps them (fault injection, request counting).

use super::reply::{self, ApiRequest};
use super::{Sh, api, control, oauth};
use crate::common::{Faults, RequestLog};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};

/// Bodies up to this size are read (the API itself refuses more than 10 MB with its own answer).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

pub fn router(shared: Sh) -> Router {
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    Router::new()
        .route("/oauth_token.do", post(oauth::token_endpoint))
        .route("/api/now/table/{table}", any(rest))
        .route("/api/now/table/{table}/{sys_id}", any(rest))
        .route("/api/now/{version}/table/{table}", any(rest))
        .route("/api/now/{version}/table/{table}/{sys_id}", any(rest))
        .route("/api/now/{version}/batch", any(rest))
        .route("/_sim/state", get(control::state))
        .route("/_sim/users", post(control::add_user))
        .route("/_sim/groups", post(control::add_group))
        .route("/_sim/choices", post(control::add_choice))
        .route(
            "/_sim/oauth/refresh-tokens",
            post(control::issue_refresh_token),
        )
        .route(
            "/_sim/oauth/refresh-tokens/expire",
            post(control::expire_refresh_token),
        )
        .route(
            "/_sim/oauth/access-tokens/expire",
            post(control::expire_access_tokens),
        )
        .route("/_sim/oauth/lifetimes", post(control::lifetimes))
        .route(
            "/_sim/limits",
            get(control::limits).post(control::set_limits),
        )
        .route(
            "/_sim/faults",
            get(control::faults)
                .post(control::add_fault)
                .delete(control::clear_faults),
        )
        .route(
            "/_sim/requests",
            get(control::requests).delete(control::reset_requests),
        )
        .route("/_sim/webhooks", get(control::webhooks))
        .route("/_sim/business-rules", post(control::add_business_rule))
        .route("/_sim/tables/{table}/records", get(control::records))
        .route(
            "/_sim/tables/{table}/records/{sys_id}/state",
            post(control::set_state),
        )
        .route(
            "/_sim/tables/{table}/records/{sys_id}/comments",
            post(control::comment),
        )
        .route_layer(from_fn(move |req, next| {
            RequestLog::middleware(log.clone(), req, next)
        }))
        .fallback(fallback)
        .layer(from_fn(move |req, next| {
            Faults::middleware(faults.clone(), req, next)
        }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

/// A REST API request.
async fn rest(State(sh): State<Sh>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return reply::unreadable("The request body could not be read").into_response();
    };
    let req = ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: bytes.to_vec(),
    };
    api::serve(&sh, &req).into_response()
}

/// Paths nothing serves: under `/api/` the REST API's answer, elsewhere a plain 404.
async fn fallback(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        return reply::no_resource().into_response();
    }
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}
