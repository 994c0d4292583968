//! The routes: the organization's REST API under `/{org}/…`, the control API under `/_sim/`,
//! and what wraps them (fault injection, request counting, the consumption limit).

use super::limits::{self, Verdict};
use super::{Sh, auth, batch, comments, control, hooks, projects, wiql, workitems};
use crate::common::{Faults, RequestLog};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State as AxState};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};

pub fn router(shared: Sh) -> Router {
    use axum::routing::{any, get, post};
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    Router::new()
        .route(
            "/{org}/_apis/connectionData",
            get(projects::connection_data),
        )
        .route("/{org}/_apis/projects/{project}", get(projects::project))
        .route("/{org}/_apis/wit/workitems/{id}", any(workitems::org_route))
        .route("/{org}/_apis/wit/workitemsbatch", post(batch::get_org))
        .route("/{org}/_apis/wit/wiql", post(wiql::org_route))
        .route("/{org}/_apis/wit/$batch", post(batch::run))
        .route("/{org}/_apis/hooks/subscriptions", any(hooks::collection))
        .route("/{org}/_apis/hooks/subscriptions/{id}", any(hooks::item))
        .route(
            "/{org}/{project}/_apis/wit/workitemtypes",
            get(projects::types),
        )
        .route(
            "/{org}/{project}/_apis/wit/workitemtypes/{type}",
            get(projects::work_item_type),
        )
        .route(
            "/{org}/{project}/_apis/wit/workitemtypes/{type}/states",
            get(projects::states),
        )
        .route(
            "/{org}/{project}/_apis/wit/workitems/{segment}",
            any(workitems::project_route),
        )
        .route(
            "/{org}/{project}/_apis/wit/workItems/{id}/comments",
            any(comments::route),
        )
        .route(
            "/{org}/{project}/_apis/wit/workitems/{id}/comments",
            any(comments::route),
        )
        .route(
            "/{org}/{project}/_apis/wit/workitemsbatch",
            post(batch::get_project),
        )
        .route("/{org}/{project}/_apis/wit/wiql", post(wiql::project_route))
        .route("/_sim/state", get(control::state))
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
        .route("/_sim/pats", post(control::add_pat))
        .route("/_sim/projects", post(control::add_project))
        .route("/_sim/workitems/{id}/state", post(control::set_state))
        .route("/_sim/workitems/{id}/comments", post(control::comment))
        .route("/_sim/workitems/{id}/delete", post(control::delete))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(from_fn_with_state(shared.clone(), throttle))
        .route_layer(from_fn(move |req, next| {
            RequestLog::middleware(log.clone(), req, next)
        }))
        .fallback(not_found)
        .layer(from_fn(move |req, next| {
            Faults::middleware(faults.clone(), req, next)
        }))
        .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
        .with_state(shared)
}

/// An unknown path: the service's 404 page, as an empty answer here.
async fn not_found() -> Response {
    let mut r = StatusCode::NOT_FOUND.into_response();
    super::reply::service_headers(&mut r);
    r
}

async fn method_not_allowed(req: Request) -> Response {
    super::reply::ApiError::Plain(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "The requested resource does not support http method '{}'.",
            req.method()
        ),
    )
    .into_response()
}

/// The global consumption limit, charged per authenticated user before the request is served.
async fn throttle(AxState(shared): AxState<Sh>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/_sim/") {
        return next.run(req).await;
    }
    let user = {
        let s = shared.lock();
        auth::identify(&s, req.headers())
    };
    let Some(user) = user else {
        return next.run(req).await;
    };
    match shared.limits.charge(&user) {
        Verdict::Blocked(r) => *r,
        Verdict::Served(headers) => {
            let mut r = next.run(req).await;
            limits::decorate(&mut r, &headers);
            r
        }
        Verdict::Delayed(delay, headers) => {
            tokio::time::sleep(delay).await;
            let mut r = next.run(req).await;
            limits::decorate(&mut r, &headers);
            r
        }
    }
}
