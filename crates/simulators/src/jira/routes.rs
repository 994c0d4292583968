//! The simulator's routes: the REST API under `/rest/api/3` (Cloud) and `/rest/api/2` (Data
//! Center), admin webhooks, the OAuth token endpoint, the control API under `/_sim/`, and what
//! wraps them (fault injection, request counting, rate limits, answers for unknown paths).

use super::{Api, Sh, activity, auth, control, hooks, issues, meta, oauth, search};
use crate::common::{Faults, RequestLog};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State as AxState};
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use serde_json::json;

/// One REST API version's routes.
fn api(version: Api) -> Router<Sh> {
    use axum::routing::{get as g, post as p};
    let mut r = Router::new()
        .route("/serverInfo", g(meta::server_info))
        .route("/myself", g(meta::myself))
        .route("/mypermissions", g(meta::my_permissions))
        .route("/project/{key}", g(meta::project))
        .route("/project/{key}/statuses", g(meta::statuses))
        .route("/project/{key}/components", g(meta::components))
        .route("/priority", g(meta::priorities))
        .route(
            "/issue/createmeta/{project}/issuetypes",
            g(meta::create_types),
        )
        .route(
            "/issue/createmeta/{project}/issuetypes/{type_id}",
            g(meta::create_fields),
        )
        .route("/issue", p(issues::create))
        .route("/issue/bulk", p(issues::bulk))
        .route(
            "/issue/{key}",
            g(issues::get).put(issues::edit).delete(issues::delete),
        )
        .route(
            "/issue/{key}/transitions",
            g(activity::list).post(activity::perform),
        )
        .route(
            "/issue/{key}/comment",
            g(activity::comments).post(activity::comment),
        )
        .route("/issueLink", p(activity::link))
        .route("/issueLinkType", g(activity::link_types))
        .route("/search", g(search::search).post(search::search));
    if version == Api::V3 {
        r = r
            .route(
                "/search/jql",
                g(search::jql_search).post(search::jql_search),
            )
            .route("/priority/search", g(meta::priority_search));
    }
    r.layer(Extension(version))
}

pub fn router(shared: Sh) -> Router {
    use axum::routing::{get as g, post as p};
    let faults = shared.faults.clone();
    let log = shared.requests.clone();
    Router::new()
        .nest("/rest/api/2", api(Api::V2))
        .nest("/rest/api/3", api(Api::V3))
        .route(
            "/rest/webhooks/1.0/webhook",
            g(hooks::list).post(hooks::create),
        )
        .route(
            "/rest/webhooks/1.0/webhook/{id}",
            g(hooks::show).put(hooks::update).delete(hooks::delete),
        )
        .route("/rest/oauth2/latest/token", p(oauth::token))
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
        .route("/_sim/webhooks/retry", p(control::retry_webhooks))
        .route("/_sim/oauth", p(control::oauth))
        .route("/_sim/issues/{key}/transition", p(control::transition))
        .route("/_sim/issues/{key}/comment", p(control::comment))
        .route("/_sim/issues/{key}/delete", p(control::delete))
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

/// Jersey's answer for a path no resource serves.
async fn not_found(req: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            json!({ "message": format!("null for uri: {}", req.uri()), "status-code": 404 }),
        ),
    )
        .into_response()
}

async fn method_not_allowed() -> Response {
    StatusCode::METHOD_NOT_ALLOWED.into_response()
}

/// The issue key or id a write to `/rest/api/N/issue/{key}[/…]` is about.
fn written_issue(method: &Method, path: &str) -> Option<String> {
    if *method == Method::GET {
        return None;
    }
    let rest = path.strip_prefix("/rest/api/")?;
    let mut parts = rest.split('/').skip(1);
    if parts.next()? != "issue" {
        return None;
    }
    let key = parts.next()?;
    (!matches!(key, "bulk" | "createmeta" | "")).then(|| key.to_owned())
}

/// Rate limits in front of the REST API: per user, endpoint and method, and per issue for
/// writes. Unauthenticated requests are not counted (their 401 comes first).
async fn throttle(AxState(shared): AxState<Sh>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if !path.starts_with("/rest/") || path.starts_with("/rest/oauth2/") {
        return next.run(req).await;
    }
    let user = {
        let s = shared.lock();
        auth::identify(&s, req.headers())
    };
    let Some(user) = user else {
        return next.run(req).await;
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| path.clone());
    let endpoint = format!("{} {route}", req.method());
    let mut verdicts = Vec::new();
    if let Some(v) = shared.limits.request(user, &endpoint) {
        verdicts.push(v);
    }
    if let Some(issue) = written_issue(req.method(), &path)
        && let Some(v) = shared.limits.issue_write(&issue)
    {
        verdicts.push(v);
    }
    if let Some(refused) = verdicts.iter().find(|v| !v.allowed) {
        return refused.refusal();
    }
    let mut response = next.run(req).await;
    if let Some(v) = verdicts.first() {
        v.decorate(&mut response);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_name_their_issue() {
        assert_eq!(
            written_issue(&Method::PUT, "/rest/api/3/issue/SEC-1"),
            Some("SEC-1".into())
        );
        assert_eq!(
            written_issue(&Method::POST, "/rest/api/2/issue/SEC-1/transitions"),
            Some("SEC-1".into())
        );
        assert_eq!(written_issue(&Method::GET, "/rest/api/3/issue/SEC-1"), None);
        assert_eq!(written_issue(&Method::POST, "/rest/api/3/issue/bulk"), None);
        assert_eq!(written_issue(&Method::POST, "/rest/api/3/issue"), None);
    }
}
