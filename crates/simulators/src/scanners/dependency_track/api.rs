//! Dependency-Track's API as its 4.14 sources serve it (`resources/v1`, Alpine's filters):
//!
//! - `X-Api-Key`: a missing or unknown key answers 401 with no body; a key whose team lacks
//!   the operation's permission answers 403 with no body.
//! - `GET /api/version` (no key), `GET /api/v1/team/self`.
//! - `GET /api/v1/project` (VIEW_PORTFOLIO): `offset` with `limit`/`pageSize`/`size`, or
//!   `pageNumber`/`page` with `pageSize`/`size`; otherwise the first 100; unreadable numbers
//!   fall back to the defaults, as Alpine's `Pagination` does; `X-Total-Count`;
//!   `excludeInactive`, `onlyRoot`, `name`, `sortName`/`sortOrder`.
//! - `GET /api/v1/finding/project/{uuid}` (VIEW_VULNERABILITY): every finding, suppressed ones
//!   only with `suppressed=true`, optionally of one `source`; a malformed UUID answers 400 with
//!   the validation error list, an unknown project 404 "The project could not be found.",
//!   an unknown `source` 404 (Jersey cannot convert the parameter).

use super::Sh;
use super::state::{Key, State};
use axum::Json;
use axum::extract::{Path, Request, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(crate) const VIEW_PORTFOLIO: &str = "VIEW_PORTFOLIO";
pub(crate) const VIEW_VULNERABILITY: &str = "VIEW_VULNERABILITY";
const SOURCES: [&str; 9] = [
    "NVD", "NPM", "GITHUB", "VULNDB", "OSSINDEX", "RETIREJS", "INTERNAL", "OSV", "SNYK",
];
const TOTAL: &str = "X-Total-Count";

fn params(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first non-blank value under any of `names` (Alpine's `multiParam`).
fn param<'a>(q: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| {
        q.iter()
            .find(|(k, v)| k == n && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    })
}

fn int_or(v: Option<&str>, default: i64) -> i64 {
    v.and_then(|s| s.trim().parse().ok()).unwrap_or(default)
}

/// JAX-RS reads a boolean query parameter as `true` only for the text "true".
fn flag(q: &[(String, String)], name: &str) -> bool {
    q.iter()
        .any(|(k, v)| k == name && v.eq_ignore_ascii_case("true"))
}

/// The key's team, or the status Alpine answers with (and no body).
fn authorized(s: &State, headers: &HeaderMap, permission: &str) -> Result<Key, StatusCode> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let Some(k) = key.and_then(|k| s.key(k)) else {
        return Err(StatusCode::UNAUTHORIZED);
    };
    if !permission.is_empty() && !k.permissions.iter().any(|p| p == permission) {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(k.clone())
}

fn with_total(body: Value, total: usize) -> Response {
    let mut r = Json(body).into_response();
    if let Ok(v) = total.to_string().parse() {
        r.headers_mut().insert(TOTAL, v);
    }
    r
}

pub(crate) async fn version(AxState(sh): AxState<Sh>) -> Response {
    let s = sh.lock();
    Json(json!({
        "version": s.version,
        "timestamp": "2025-11-05T10:12:44Z",
        "uuid": "5f4c5a3e-8f25-4b0c-9a51-2d2f1e9b6a11",
        "systemUuid": "0d2bd9b5-1b1e-4d41-8cbe-4bf6f61a5c37",
        "application": "Dependency-Track",
        "framework": { "name": "Alpine", "version": "3.2.0", "timestamp": "2025-10-01T08:00:00Z", "uuid": "7b8d2d2a-0b67-4f23-9d1e-0f2b9b1f8c33" },
    }))
    .into_response()
}

pub(crate) async fn team_self(AxState(sh): AxState<Sh>, headers: HeaderMap) -> Response {
    let s = sh.lock();
    match authorized(&s, &headers, "") {
        Ok(k) => Json(json!({
            "uuid": k.team_uuid,
            "name": k.team,
            "permissions": k.permissions.iter().map(|p| json!({ "name": p, "description": format!("Provides the ability to {}", p.to_lowercase().replace('_', " ")) })).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(status) => status.into_response(),
    }
}

pub(crate) async fn projects(AxState(sh): AxState<Sh>, req: Request) -> Response {
    let s = sh.lock();
    if let Err(status) = authorized(&s, req.headers(), VIEW_PORTFOLIO) {
        return status.into_response();
    }
    let q = params(req.uri().query());
    let offset = param(&q, &["offset"]);
    let page = param(&q, &["page", "pageNumber"]);
    let size = param(&q, &["size", "pageSize", "limit"]);
    let (from, limit) = match (offset, page, size) {
        (Some(o), _, s) => (int_or(Some(o), 0), int_or(s, 100)),
        (None, Some(p), Some(sz)) => {
            let (p, sz) = (int_or(Some(p), 1), int_or(Some(sz), 100));
            (p * sz - sz, sz)
        }
        _ => (0, 100),
    };
    let exclude_inactive = flag(&q, "excludeInactive");
    let only_root = flag(&q, "onlyRoot");
    let name = param(&q, &["name"]);
    let mut list: Vec<_> = s
        .projects
        .iter()
        .filter(|p| {
            !p.deleted && (!exclude_inactive || p.active) && (!only_root || p.parent.is_none())
        })
        .filter(|p| name.is_none_or(|n| p.name == n))
        .collect();
    let desc = param(&q, &["sort", "sortOrder"]).is_some_and(|o| o.eq_ignore_ascii_case("desc"));
    match param(&q, &["orderBy", "sortName"]) {
        Some("version") => list.sort_by(|a, b| a.version.cmp(&b.version)),
        Some("lastBomImport") => list.sort_by_key(|p| p.last_bom_import),
        _ => list.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version))),
    }
    if desc {
        list.reverse();
    }
    let total = list.len();
    let page: Vec<Value> = if limit > 0 {
        list.iter()
            .skip(from.max(0) as usize)
            .take(limit as usize)
            .map(|p| p.listed())
            .collect()
    } else {
        list.iter().map(|p| p.listed()).collect()
    };
    with_total(Value::Array(page), total)
}

fn valid_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |r: std::ops::Range<usize>| {
        b.get(r).is_some_and(|x| {
            x.iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        })
    };
    b.len() == 36
        && b[8] == b'-'
        && b[13] == b'-'
        && b[18] == b'-'
        && b[23] == b'-'
        && hex(0..8)
        && hex(9..13)
        && (b'1'..=b'5').contains(&b[14])
        && hex(15..18)
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
        && hex(20..23)
        && hex(24..36)
}

pub(crate) async fn findings(
    AxState(sh): AxState<Sh>,
    Path(uuid): Path<String>,
    req: Request,
) -> Response {
    let s = sh.lock();
    if let Err(status) = authorized(&s, req.headers(), VIEW_VULNERABILITY) {
        return status.into_response();
    }
    if !valid_uuid(&uuid) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!([{ "message": "Invalid UUID", "messageTemplate": "Invalid UUID", "path": "getFindingsByProject.arg0", "invalidValue": uuid }])),
        )
            .into_response();
    }
    let q = params(req.uri().query());
    let source = q
        .iter()
        .find(|(k, _)| k == "source")
        .map(|(_, v)| v.as_str());
    if source.is_some_and(|v| !SOURCES.contains(&v)) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if s.project(&uuid).is_none() {
        return (StatusCode::NOT_FOUND, "The project could not be found.").into_response();
    }
    let suppressed = flag(&q, "suppressed");
    let mut out = String::from("[");
    let mut n = 0;
    for (_, f) in s.project_findings(&uuid) {
        if (!suppressed && f.suppressed) || source.is_some_and(|v| f.source != v) {
            continue;
        }
        if n > 0 {
            out.push(',');
        }
        out.push_str(&f.raw);
        n += 1;
    }
    out.push(']');
    let mut r = (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        out,
    )
        .into_response();
    if let Ok(v) = n.to_string().parse() {
        r.headers_mut().insert(TOTAL, v);
    }
    r
}

/// Paths nothing serves.
pub(crate) async fn fallback() -> Response {
    StatusCode::NOT_FOUND.into_response()
}
