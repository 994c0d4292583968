//! The API paths a connector uses, behind `X-ApiKeys: accessKey=…;secretKey=…` and Tenable's
//! roles: `GET /scans` (Basic [16]), `GET /scans/{scan_id}/history` (Scan Operator [24]) and
//! the vulnerability export (Basic [16], see [`super::exports`]). Every request counts against
//! the per-key rate limit when one is set (429 with `retry-after`).

use super::Sh;
use super::exports;
use super::reply::TenableError;
use super::state::{State, User};
use axum::Json;
use axum::extract::{Path, Request, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};
use std::time::Instant;

const BASIC: u8 = 16;
const SCAN_OPERATOR: u8 = 24;
const BODY_LIMIT: usize = 1024 * 1024;

/// The user whose keys the request carries.
fn caller(s: &State, headers: &HeaderMap) -> Result<User, TenableError> {
    let raw = headers
        .get("x-apikeys")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(TenableError::unauthorized)?;
    let mut access = None;
    let mut secret = None;
    for part in raw.split(';') {
        match part.trim().split_once('=') {
            Some(("accessKey", v)) => access = Some(v.trim()),
            Some(("secretKey", v)) => secret = Some(v.trim()),
            _ => {}
        }
    }
    match (access, secret) {
        (Some(a), Some(k)) => s.user(a, k).cloned().ok_or_else(TenableError::unauthorized),
        _ => Err(TenableError::unauthorized()),
    }
}

/// Authenticates, applies the rate limit and checks the role; then runs `f`.
fn guarded(
    sh: &Sh,
    headers: &HeaderMap,
    role: u8,
    f: impl FnOnce(&mut State) -> Result<Response, TenableError>,
) -> Response {
    let mut s = sh.lock();
    let user = match caller(&s, headers) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    // Tenable computes the limit from its load and says how long to wait; the configured
    // `retry-after` stands for that.
    if let Some((window, retry)) = sh.window()
        && window.try_acquire(Instant::now()).is_err()
    {
        return TenableError::too_many(retry).into_response();
    }
    if user.role < role {
        return TenableError::forbidden("You do not have permission to perform this action")
            .into_response();
    }
    match f(&mut s) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn params(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn int_param(q: &[(String, String)], name: &str) -> Result<Option<i64>, TenableError> {
    match q.iter().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => v.parse().map(Some).map_err(|_| {
            TenableError::bad_request(format!("{name} must be an integer, not '{v}'"))
        }),
    }
}

/// `GET /scans`.
pub(crate) async fn scans(AxState(sh): AxState<Sh>, req: Request) -> Response {
    let q = params(req.uri().query());
    guarded(&sh, req.headers(), BASIC, |s| {
        let folder = int_param(&q, "folder_id")?;
        let since = int_param(&q, "last_modification_date")?;
        if folder.is_some_and(|f| f != 3) {
            return Err(TenableError::not_found("Folder not found"));
        }
        let listed: Vec<Value> = s
            .scans
            .values()
            .filter(|x| !x.deleted)
            .map(|x| x.listed())
            .filter(|v| {
                since.is_none_or(|t| v["last_modification_date"].as_i64().unwrap_or(0) >= t)
            })
            .collect();
        Ok(Json(json!({
            "folders": [
                { "id": 3, "name": "My Scans", "type": "main", "custom": 0, "unread_count": 0, "default_tag": 1 },
                { "id": 4, "name": "Trash", "type": "trash", "custom": 0, "unread_count": 0, "default_tag": 0 },
            ],
            "scans": listed,
            "timestamp": Utc::now().timestamp(),
        }))
        .into_response())
    })
}

/// `GET /scans/{scan_id}/history` (`scan_id`: the numeric id or the schedule UUID).
pub(crate) async fn history(
    AxState(sh): AxState<Sh>,
    Path(scan_id): Path<String>,
    req: Request,
) -> Response {
    let q = params(req.uri().query());
    guarded(&sh, req.headers(), SCAN_OPERATOR, |s| {
        let limit = int_param(&q, "limit")?.unwrap_or(50);
        let offset = int_param(&q, "offset")?.unwrap_or(0);
        if limit < 1 || offset < 0 {
            return Err(TenableError::bad_request(
                "limit must be positive and offset not negative",
            ));
        }
        let exclude = q
            .iter()
            .find(|(k, _)| k == "exclude_rollover")
            .map(|(_, v)| v.as_str())
            .unwrap_or("false");
        if exclude != "true" && exclude != "false" {
            return Err(TenableError::bad_request(format!(
                "exclude_rollover must be true or false, not '{exclude}'"
            )));
        }
        let (field, desc) = match q.iter().find(|(k, _)| k == "sort").map(|(_, v)| v.as_str()) {
            None => ("start_date", true),
            Some(spec) => {
                let (f, o) = spec
                    .split(',')
                    .next()
                    .unwrap_or(spec)
                    .split_once(':')
                    .unwrap_or((spec, "asc"));
                match (f, o.to_ascii_lowercase().as_str()) {
                    ("start_date" | "end_date" | "status", "asc") => (f, false),
                    ("start_date" | "end_date" | "status", "desc") => (f, true),
                    _ => return Err(TenableError::bad_request(format!("Invalid sort: '{spec}'"))),
                }
            }
        };
        let scan = s
            .scan(&scan_id)
            .ok_or_else(|| TenableError::not_found(format!("Scan {scan_id} not found")))?;
        let mut runs = scan.runs.clone();
        runs.sort_by(|a, b| {
            let o = match field {
                "end_date" => a.time_end.cmp(&b.time_end),
                "status" => a.status.cmp(&b.status),
                _ => a.time_start.cmp(&b.time_start),
            }
            .then(a.id.cmp(&b.id));
            if desc { o.reverse() } else { o }
        });
        let total = runs.len();
        let page: Vec<Value> = runs
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|r| {
                json!({
                    "id": r.id,
                    "scan_uuid": r.uuid,
                    "status": r.status,
                    "is_archived": Utc::now().timestamp() - r.time_start > 35 * 86_400,
                    "visibility": "public",
                    "targets": { "custom": false, "default": null },
                    "time_start": r.time_start,
                    "time_end": r.time_end,
                })
            })
            .collect();
        Ok(Json(json!({
            "pagination": { "offset": offset, "total": total, "limit": limit, "sort": [{ "name": field, "order": if desc { "DESC" } else { "ASC" } }] },
            "history": page,
        }))
        .into_response())
    })
}

pub(crate) async fn export(AxState(sh): AxState<Sh>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return TenableError::bad_request("The request body could not be read").into_response();
    };
    guarded(&sh, &parts.headers, BASIC, |s| exports::request(s, &bytes))
}

pub(crate) async fn export_status(
    AxState(sh): AxState<Sh>,
    Path(uuid): Path<String>,
    req: Request,
) -> Response {
    guarded(&sh, req.headers(), BASIC, |s| exports::status(s, &uuid))
}

pub(crate) async fn export_chunk(
    AxState(sh): AxState<Sh>,
    Path((uuid, chunk)): Path<(String, String)>,
    req: Request,
) -> Response {
    guarded(&sh, req.headers(), BASIC, |s| {
        exports::chunk(s, &uuid, &chunk)
    })
}

pub(crate) async fn export_cancel(
    AxState(sh): AxState<Sh>,
    Path(uuid): Path<String>,
    req: Request,
) -> Response {
    guarded(&sh, req.headers(), BASIC, |s| exports::cancel(s, &uuid))
}

pub(crate) async fn export_list(AxState(sh): AxState<Sh>, req: Request) -> Response {
    guarded(&sh, req.headers(), BASIC, |s| Ok(exports::list(s)))
}

/// Paths nothing serves.
pub(crate) async fn fallback() -> Response {
    TenableError::not_found("The requested resource was not found").into_response()
}
