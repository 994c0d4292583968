//! JQL search. Cloud (v3): `POST|GET /search/jql` with `nextPageToken` / `isLast` pages, ids
//! only unless fields are asked for, bounded queries only; the old `/rest/api/3/search` is
//! gone (410). Data Center (v2): `POST|GET /search` with `startAt` / `maxResults` / `total`.

use super::jql;
use super::render::{self, FieldFilter};
use super::reply::{ApiError, ApiResult, json_reply};
use super::state::{Issue, Permission};
use super::{Api, Call, Sh};
use axum::extract::State as AxState;
use axum::http::{Method, StatusCode};
use base64::Engine;
use serde_json::{Value, json};
use std::hash::{Hash, Hasher};

/// `search/jql` pages: at most 5,000 ids, or 100 issues with fields.
const MAX_IDS: usize = 5000;
const MAX_WITH_FIELDS: usize = 100;
/// Data Center's `jira.search.views.default.max`.
const MAX_DC: usize = 1000;
const DEFAULT_PAGE: usize = 50;

/// The request's parameters, from the JSON body (POST) or the query string (GET).
struct Params {
    jql: String,
    max: Option<usize>,
    start: usize,
    token: Option<String>,
    fields: Vec<String>,
}

fn params(call: &Call, allowed: &[&str]) -> Result<Params, ApiError> {
    if call.method == Method::GET {
        return Ok(Params {
            jql: call.param("jql").unwrap_or_default(),
            max: call.param("maxResults").and_then(|v| v.parse().ok()),
            start: call
                .param("startAt")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            token: call.param("nextPageToken"),
            fields: call.param_list("fields"),
        });
    }
    let body = call.json()?;
    let Some(o) = body.as_object() else {
        return Err(ApiError::bad_request(
            "The search request must be a JSON object.",
        ));
    };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Unrecognized field \"{k}\", not marked as ignorable"
        )));
    }
    let fields = match o.get("fields") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .flat_map(|f| f.split(','))
            .map(|f| f.trim().to_owned())
            .collect(),
        Some(Value::String(s)) => s.split(',').map(|f| f.trim().to_owned()).collect(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "'fields' must be a list of field names.",
            ));
        }
    };
    Ok(Params {
        jql: o
            .get("jql")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        max: o
            .get("maxResults")
            .and_then(Value::as_u64)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        start: o
            .get("startAt")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0),
        token: o
            .get("nextPageToken")
            .and_then(Value::as_str)
            .map(str::to_owned),
        fields,
    })
}

fn jql_hash(jql: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    jql.hash(&mut h);
    h.finish()
}

fn token(offset: usize, jql: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{offset}:{:x}", jql_hash(jql)))
}

fn offset_of(token: &str, jql: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (offset, hash) = text.split_once(':')?;
    (u64::from_str_radix(hash, 16).ok()? == jql_hash(jql)).then(|| offset.parse().ok())?
}

fn found<'a>(s: &'a super::state::State, user: u64, q: &jql::Query) -> Vec<&'a Issue> {
    let mut issues: Vec<&Issue> = s
        .issues
        .values()
        .filter(|i| s.can(user, &i.project_id, Permission::BrowseProjects) && q.matches(s, i))
        .collect();
    q.sort(s, &mut issues);
    issues
}

/// `POST|GET /rest/api/3/search/jql`.
pub async fn jql_search(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let p = params(
        &call,
        &[
            "jql",
            "maxResults",
            "nextPageToken",
            "fields",
            "expand",
            "properties",
            "fieldsByKeys",
            "reconcileIssues",
            "failFast",
        ],
    )?;
    let q = jql::parse(&p.jql, &s).map_err(ApiError::bad_request)?;
    if !q.bounded() {
        return Err(ApiError::bad_request(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        ));
    }
    let filter = FieldFilter::parse(&p.fields, false);
    let cap = if filter.id_only() {
        MAX_IDS
    } else {
        MAX_WITH_FIELDS
    };
    let max = p.max.filter(|m| *m > 0).unwrap_or(DEFAULT_PAGE).min(cap);
    let offset = match &p.token {
        None => 0,
        Some(t) => offset_of(t, &p.jql).ok_or_else(|| {
            ApiError::bad_request("The provided next page token is invalid or expired.")
        })?,
    };
    let all = found(&s, user, &q);
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(max)
        .map(|i| {
            if filter.id_only() {
                json!({ "id": i.id })
            } else {
                render::issue(sh.base(), Api::V3, &s, i, &filter)
            }
        })
        .collect();
    let next = offset + page.len();
    let mut body = json!({ "issues": page, "isLast": next >= all.len() });
    if next < all.len() {
        body["nextPageToken"] = json!(token(next, &p.jql));
    }
    Ok(json_reply(StatusCode::OK, body))
}

/// `POST|GET /rest/api/2/search` (Data Center); on v3 the endpoint has been removed.
pub async fn search(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    if call.api == Api::V3 {
        return Err(ApiError::message(
            StatusCode::GONE,
            "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
        ));
    }
    let p = params(
        &call,
        &[
            "jql",
            "startAt",
            "maxResults",
            "fields",
            "expand",
            "validateQuery",
            "properties",
            "fieldsByKeys",
        ],
    )?;
    let q = jql::parse(&p.jql, &s).map_err(ApiError::bad_request)?;
    let filter = FieldFilter::parse(&p.fields, true);
    let max = p.max.unwrap_or(DEFAULT_PAGE).min(MAX_DC);
    let all = found(&s, user, &q);
    let page: Vec<Value> = all
        .iter()
        .skip(p.start)
        .take(max)
        .map(|i| render::issue(sh.base(), Api::V2, &s, i, &filter))
        .collect();
    Ok(json_reply(
        StatusCode::OK,
        json!({ "expand": "schema,names", "startAt": p.start, "maxResults": max, "total": all.len(), "issues": page }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_belong_to_their_query() {
        let t = token(50, "project = SEC");
        assert_eq!(offset_of(&t, "project = SEC"), Some(50));
        assert_eq!(offset_of(&t, "project = APP"), None);
        assert_eq!(offset_of("garbage", "project = SEC"), None);
    }
}
