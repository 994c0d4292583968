//! `GET /user`, `GET /rate_limit` and `GET /repos/{owner}/{repo}`.

use super::super::api::{self, Reply, Spec};
use super::super::limits::Resource;
use super::super::state::repo_key;
use super::super::{Sim, ops, render};
use super::{DOC_RATE_LIMIT, DOC_REPO, DOC_USER};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub async fn me(State(sim): State<Sim>, headers: HeaderMap) -> Response {
    let spec = Spec {
        accepted: "",
        content: false,
        doc: DOC_USER,
        needs_auth: true,
    };
    api::rest(&sim, &headers, spec, |caller, tx| {
        Ok(Reply::ok(render::private_user(
            tx.st,
            tx.base,
            &caller.login,
        )))
    })
}

/// `GET /rate_limit`: the caller's budgets; it does not count against them (as GitHub
/// documents).
pub async fn rate_limit(State(sim): State<Sim>, headers: HeaderMap) -> Response {
    let rid = api::request_id();
    let st = sim.lock();
    let caller = match api::authenticate(&st, &headers) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(
                    api::ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "Requires authentication",
                        DOC_RATE_LIMIT,
                    )
                    .body,
                ),
            )
                .into_response();
        }
        Err(e) => return (e.status, axum::Json(e.body)).into_response(),
    };
    drop(st);
    let mut limiter = sim.limiter();
    let core = limiter.peek(&caller.key(), Resource::Core);
    let graphql = limiter.peek(&caller.key(), Resource::Graphql);
    drop(limiter);
    let res = |h: &super::super::limits::RateHeaders| json!({ "limit": h.limit, "used": h.used, "remaining": h.remaining, "reset": h.reset });
    let body = json!({ "resources": { "core": res(&core), "graphql": res(&graphql) }, "rate": res(&core) });
    let mut r = (StatusCode::OK, axum::Json(body)).into_response();
    let mut h = api::common_headers(&rid, "2022-11-28");
    h.extend(core.pairs());
    api::set_headers(r.headers_mut(), &h);
    r
}

pub async fn repository(
    State(sim): State<Sim>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let spec = Spec {
        accepted: "repo",
        content: false,
        doc: DOC_REPO,
        needs_auth: false,
    };
    api::rest(&sim, &headers, spec, |caller, tx| {
        let key = repo_key(&owner, &repo);
        ops::visible(tx.st, caller, &key, DOC_REPO)?;
        let r = tx
            .st
            .repo(&key)
            .ok_or_else(|| api::ApiError::not_found(DOC_REPO))?;
        Ok(Reply::ok(render::repository(
            tx.st,
            tx.base,
            r,
            Some(&caller.login),
        )))
    })
}
