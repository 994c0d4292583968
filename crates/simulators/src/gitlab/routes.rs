//! The simulator's routes: GitLab's API under `/api/v4`, the control API under `/_sim/`, and
//! what wraps them (fault injection, request counting, the API throttle, Grape's answers for
//! unknown paths and methods).

use super::reply::ApiError;
use super::{Sh, auth, control, hooks, issues, notes, projects, users};
use crate::common::{Faults, RequestLog};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State as AxState};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};

pub fn router(shared: Sh) -> Router {
    use axum::routing::{get as g, post as p};
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    Router::new()
        .route("/api/v4/user", g(users::current))
        .route("/api/v4/personal_access_tokens/self", g(users::token_self))
        .route("/api/v4/projects/{id}", g(projects::show))
        .route("/api/v4/projects/{id}/labels", g(projects::labels))
        .route(
            "/api/v4/projects/{id}/issues",
            g(issues::list).post(issues::create),
        )
        .route(
            "/api/v4/projects/{id}/issues/{iid}",
            g(issues::show).put(issues::update).delete(issues::delete),
        )
        .route(
            "/api/v4/projects/{id}/issues/{iid}/notes",
            g(notes::list).post(notes::create),
        )
        .route(
            "/api/v4/projects/{id}/hooks",
            g(hooks::list).post(hooks::create),
        )
        .route(
            "/api/v4/projects/{id}/hooks/{hook_id}",
            g(hooks::show).put(hooks::update).delete(hooks::delete),
        )
        .route("/_sim/state", g(control::state))
        .route("/_sim/limits", g(control::limits).post(control::set_limits))
        .route(
            "/_sim/faults",
            g(control::faults)
                .post(control::add_fault)
                .delete(control::clear_faults),
        )
        .route(
            "/_sim/requests",
            g(control::requests).delete(control::reset_requests),
        )
        .route("/_sim/webhooks", g(control::webhooks))
        .route(
            "/_sim/projects/{project}/issues/{iid}/close",
            p(control::close),
        )
        .route(
            "/_sim/projects/{project}/issues/{iid}/reopen",
            p(control::reopen),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(from_fn_with_state(shared.clone(), throttle))
        .route_layer(from_fn(move |req, next| {
            RequestLog::middleware(log.clone(), req, next)
        }))
        .fallback(not_found)
        .layer(from_fn(move |req, next| {
            Faults::middleware(faults.clone(), req, next)
        }))
        .layer(DefaultBodyLimit::max(16 * 1024 * 1024))
        .with_state(shared)
}

/// Grape's answer for a path no endpoint serves.
async fn not_found() -> Response {
    ApiError::Error(StatusCode::NOT_FOUND, "404 Not Found".into()).into_response()
}

/// Grape's answer for a method an endpoint does not serve.
async fn method_not_allowed() -> Response {
    ApiError::Error(StatusCode::METHOD_NOT_ALLOWED, "405 Not Allowed".into()).into_response()
}

/// The authenticated API throttle, in front of every API endpoint.
async fn throttle(AxState(shared): AxState<Sh>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let user = {
        let s = shared.lock();
        auth::identify(&s, req.headers(), req.uri().query())
    };
    let Some(verdict) = user.and_then(|u| shared.limits.api_request(u)) else {
        return next.run(req).await;
    };
    if !verdict.allowed {
        return verdict.refusal();
    }
    let mut response = next.run(req).await;
    verdict.decorate(&mut response);
    response
}
