//! The REST API under `/api/v3` (GitHub Enterprise Server's layout), following GitHub's REST
//! API description (`api.github.com.2022-11-28.json`): paths, fields, status codes, errors.

mod body;
mod comments;
mod hooks;
mod issues;
mod labels;
mod users;

use super::Sim;
use super::api::{self, ApiError, DOCS_ROOT};
use axum::Router;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};

pub const DOC_USER: &str = "https://docs.github.com/rest/users/users#get-the-authenticated-user";
pub const DOC_REPO: &str = "https://docs.github.com/rest/repos/repos#get-a-repository";
pub const DOC_LIST: &str = "https://docs.github.com/rest/issues/issues#list-repository-issues";
pub const DOC_CREATE: &str = "https://docs.github.com/rest/issues/issues#create-an-issue";
pub const DOC_GET: &str = "https://docs.github.com/rest/issues/issues#get-an-issue";
pub const DOC_UPDATE: &str = "https://docs.github.com/rest/issues/issues#update-an-issue";
pub const DOC_LIST_LABELS: &str =
    "https://docs.github.com/rest/issues/labels#list-labels-for-an-issue";
pub const DOC_ADD_LABELS: &str =
    "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue";
pub const DOC_REMOVE_LABEL: &str =
    "https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue";
pub const DOC_LIST_COMMENTS: &str =
    "https://docs.github.com/rest/issues/comments#list-issue-comments";
pub const DOC_CREATE_COMMENT: &str =
    "https://docs.github.com/rest/issues/comments#create-an-issue-comment";
pub const DOC_REPO_HOOKS: &str =
    "https://docs.github.com/rest/repos/webhooks#list-repository-webhooks";
pub const DOC_CREATE_REPO_HOOK: &str =
    "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook";
pub const DOC_REPO_HOOK: &str =
    "https://docs.github.com/rest/repos/webhooks#get-a-repository-webhook";
pub const DOC_UPDATE_REPO_HOOK: &str =
    "https://docs.github.com/rest/repos/webhooks#update-a-repository-webhook";
pub const DOC_DELETE_REPO_HOOK: &str =
    "https://docs.github.com/rest/repos/webhooks#delete-a-repository-webhook";
pub const DOC_ORG_HOOKS: &str =
    "https://docs.github.com/rest/orgs/webhooks#list-organization-webhooks";
pub const DOC_CREATE_ORG_HOOK: &str =
    "https://docs.github.com/rest/orgs/webhooks#create-an-organization-webhook";
pub const DOC_ORG_HOOK: &str =
    "https://docs.github.com/rest/orgs/webhooks#get-an-organization-webhook";
pub const DOC_UPDATE_ORG_HOOK: &str =
    "https://docs.github.com/rest/orgs/webhooks#update-an-organization-webhook";
pub const DOC_DELETE_ORG_HOOK: &str =
    "https://docs.github.com/rest/orgs/webhooks#delete-an-organization-webhook";
pub const DOC_RATE_LIMIT: &str = "https://docs.github.com/rest/rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user";

/// The REST routes, relative to `/api/v3`.
pub fn router() -> Router<Sim> {
    Router::new()
        .route("/user", get(users::me))
        .route("/rate_limit", get(users::rate_limit))
        .route("/repos/{owner}/{repo}", get(users::repository))
        .route(
            "/repos/{owner}/{repo}/issues",
            get(issues::list).post(issues::create),
        )
        .route("/repositories/{id}/issues", get(issues::list_by_id))
        .route(
            "/repos/{owner}/{repo}/issues/{number}",
            get(issues::get_one).patch(issues::update),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/labels",
            get(labels::list).post(labels::add),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/labels/{name}",
            delete(labels::remove),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(comments::list).post(comments::create),
        )
        .route(
            "/repos/{owner}/{repo}/hooks",
            get(hooks::list_repo).post(hooks::create_repo),
        )
        .route(
            "/repos/{owner}/{repo}/hooks/{id}",
            get(hooks::get_repo)
                .patch(hooks::update_repo)
                .delete(hooks::delete_repo),
        )
        .route(
            "/orgs/{org}/hooks",
            get(hooks::list_org).post(hooks::create_org),
        )
        .route(
            "/orgs/{org}/hooks/{id}",
            get(hooks::get_org)
                .patch(hooks::update_org)
                .delete(hooks::delete_org),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
}

/// GitHub's answer for a path (or method) it does not serve.
pub async fn not_found(headers: HeaderMap) -> Response {
    let rid = api::request_id();
    let mut r = (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(ApiError::not_found(DOCS_ROOT).body),
    )
        .into_response();
    api::set_headers(
        r.headers_mut(),
        &api::common_headers(&rid, api::check_version(&headers).unwrap_or("2022-11-28")),
    );
    r
}

/// An issue number from the path: GitHub answers 404 for one that is not a number.
pub fn number(raw: &str, doc: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found(doc))
}

/// `page` and `per_page` as GitHub reads them: defaults 1 and 30, `per_page` capped at 100,
/// values that are not positive numbers fall back to the default (GitHub's listings refuse
/// no pagination value).
pub fn paging(q: &std::collections::HashMap<String, String>) -> (usize, usize) {
    let page = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1);
    let per = q
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(30)
        .min(100);
    (page, per)
}

/// One page of `items` and its `Link` header (`prev`, `next`, `last`, `first`, in GitHub's
/// order), built on `url` with the request's other query parameters kept.
pub fn page<T: Clone>(
    items: &[T],
    q: &std::collections::HashMap<String, String>,
    url: &str,
) -> (Vec<T>, Option<String>) {
    let (page, per) = paging(q);
    let total = items.len();
    let last = total.div_ceil(per).max(1);
    let start = (page - 1).saturating_mul(per).min(total);
    let slice = items[start..(start + per).min(total)].to_vec();
    if last <= 1 {
        return (slice, None);
    }
    let mut keep: Vec<(&String, &String)> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "page" && k.as_str() != "per_page")
        .collect();
    keep.sort();
    let link = |p: usize, rel: &str| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &keep {
            ser.append_pair(k, v);
        }
        ser.append_pair("per_page", &per.to_string());
        ser.append_pair("page", &p.to_string());
        format!("<{url}?{}>; rel=\"{rel}\"", ser.finish())
    };
    let mut parts = Vec::new();
    if page > 1 {
        parts.push(link((page - 1).min(last), "prev"));
    }
    if page < last {
        parts.push(link(page + 1, "next"));
        parts.push(link(last, "last"));
    }
    if page > 1 {
        parts.push(link(1, "first"));
    }
    (slice, (!parts.is_empty()).then(|| parts.join(", ")))
}
