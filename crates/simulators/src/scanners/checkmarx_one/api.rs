//! The REST API under `/api`: `GET /api/projects`, `GET /api/scans` and `GET /api/results`,
//! with the parameters, defaults, limits and answer shapes of Checkmarx ONE's published API
//! descriptions (Projects, Scans and "All Scanners Results"):
//! - projects and scans page by `offset` (items to skip) and `limit` (default 20);
//! - results page by `offset` counted in *pages* of `limit` results (1 to 10,000, default 20);
//! - `sort` takes the listed values only; scans sort `+created_at` by default (oldest first).
//!
//! Every call needs a live access token (`Authorization: Bearer`); a missing, unknown or
//! expired one gets `401` with no body, as the API descriptions say.

use super::Sh;
use super::iam::authorized;
use super::state::{Project, SCAN_STATUSES, Scan};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::collections::HashSet;

/// A refused request (boxed: a response is large and refusals are the rare path).
pub struct Refusal(Box<Response>);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Response> for Refusal {
    fn from(r: Response) -> Refusal {
        Refusal(Box::new(r))
    }
}

/// `400` with the projects and scans services' error model.
fn bad_request(message: impl Into<String>) -> Refusal {
    let message = message.into();
    Refusal::from(
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "message": message, "type": "ERROR", "code": 400 })),
        )
            .into_response(),
    )
}

/// `400` with the results service's `WebError`.
fn web_error(status: StatusCode, message: impl Into<String>) -> Refusal {
    let message = message.into();
    Refusal::from(
        (
            status,
            axum::Json(json!({ "code": status.as_u16(), "message": message, "data": {} })),
        )
            .into_response(),
    )
}

fn unauthorized() -> Refusal {
    let mut r = StatusCode::UNAUTHORIZED.into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Refusal::from(r)
}

/// Authentication and the request budget, before any API call.
fn admit(sh: &Sh, headers: &HeaderMap) -> Result<(), Refusal> {
    if !authorized(sh, headers) {
        return Err(unauthorized());
    }
    if let Err(wait) = sh.limiter.admit() {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({ "code": 429, "message": "Too Many Requests" })),
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(Refusal::from(r));
    }
    Ok(())
}

/// Query parameters, repeated or comma-separated lists alike.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// A non-negative integer, or the default when absent.
    fn count(&self, name: &str, default: usize) -> Result<usize, String> {
        match self.one(name) {
            None | Some("") => Ok(default),
            Some(v) => v.trim().parse::<usize>().map_err(|_| {
                format!("invalid value for {name}: '{v}' must be a non-negative integer")
            }),
        }
    }

    fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, String> {
        match self.one(name) {
            None | Some("") => Ok(None),
            Some(v) => DateTime::parse_from_rfc3339(v)
                .map(|d| Some(d.with_timezone(&Utc)))
                .map_err(|_| {
                    format!("invalid value for {name}: '{v}' is not an RFC3339 date-time")
                }),
        }
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn project_json(p: &Project) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "groups": p.groups,
        "repoUrl": p.repo_url,
        "mainBranch": p.main_branch,
        "origin": p.origin,
        "createdAt": stamp(p.created_at),
        "updatedAt": stamp(p.updated_at),
        "tags": p.tags,
        "criticality": 3,
        "applicationIds": [],
    })
}

fn scan_json(p: &Project, s: &Scan) -> Value {
    let details: Vec<Value> = std::iter::once("general")
        .chain(s.engines.iter().copied())
        .map(|name| json!({ "name": name, "status": s.status, "details": "" }))
        .collect();
    json!({
        "id": s.id,
        "status": s.status,
        "statusDetails": details,
        "branch": s.branch,
        "createdAt": stamp(s.created_at),
        "updatedAt": stamp(s.updated_at),
        "projectId": p.id,
        "projectName": p.name,
        "userAgent": "ast-cli/2.3.0",
        "initiator": "ci-bot",
        "tags": {},
        "metadata": { "id": s.id, "type": "git", "configs": [] },
        "engines": s.engines,
        "sourceType": "github",
        "sourceOrigin": "webapp",
    })
}

pub async fn projects(
    State(sh): State<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Refusal> {
    admit(&sh, &headers)?;
    let q = Query::parse(raw.as_deref());
    let offset = q.count("offset", 0).map_err(bad_request)?;
    let limit = q.count("limit", 20).map_err(bad_request)?;
    let ids = q.list("ids");
    let name = q.one("name").map(str::to_ascii_lowercase);
    let s = sh.lock();
    let matching: Vec<&Project> = s
        .projects
        .iter()
        .filter(|p| ids.is_empty() || ids.contains(&p.id))
        .filter(|p| {
            name.as_ref()
                .is_none_or(|n| p.name.to_ascii_lowercase().contains(n))
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|p| project_json(p))
        .collect();
    Ok(axum::Json(json!({
        "totalCount": s.projects.len(),
        "filteredTotalCount": matching.len(),
        "projects": page,
    }))
    .into_response())
}

/// The `sort` values `GET /api/scans` accepts.
const SCAN_SORTS: &[&str] = &[
    "-created_at",
    "+created_at",
    "-status",
    "+status",
    "+branch",
    "-branch",
    "+initiator",
    "-initiator",
    "+user_agent",
    "-user_agent",
    "+name",
    "-name",
];

pub async fn scans(
    State(sh): State<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Refusal> {
    admit(&sh, &headers)?;
    let q = Query::parse(raw.as_deref());
    let offset = q.count("offset", 0).map_err(bad_request)?;
    let limit = q.count("limit", 20).map_err(bad_request)?;
    let mut statuses = Vec::new();
    for s in q.list("statuses") {
        match SCAN_STATUSES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(&s))
        {
            Some(known) => statuses.push(*known),
            None => return Err(bad_request(format!("invalid value for statuses: '{s}'"))),
        }
    }
    let mut sorts = q.list("sort");
    if sorts.len() > 3 {
        return Err(bad_request("sort takes at most 3 values"));
    }
    if let Some(bad) = sorts.iter().find(|s| !SCAN_SORTS.contains(&s.as_str())) {
        return Err(bad_request(format!("invalid value for sort: '{bad}'")));
    }
    if sorts.is_empty() {
        sorts = vec!["+created_at".into(), "+status".into()];
    }
    let from = q.time("from-date").map_err(bad_request)?;
    let to = q.time("to-date").map_err(bad_request)?;
    let project_id = q.one("project-id").map(str::to_owned);
    let mut branches = q.list("branches");
    branches.extend(q.list("branch"));
    let scan_ids = q.list("scan-ids");

    let s = sh.lock();
    let total: usize = s.projects.iter().map(|p| p.scans.len()).sum();
    let mut matching: Vec<(&Project, &Scan)> = s
        .projects
        .iter()
        .filter(|p| project_id.as_ref().is_none_or(|id| *id == p.id))
        .flat_map(|p| p.scans.iter().map(move |scan| (p, scan)))
        .filter(|(_, scan)| statuses.is_empty() || statuses.contains(&scan.status))
        .filter(|(_, scan)| branches.is_empty() || branches.contains(&scan.branch))
        .filter(|(_, scan)| scan_ids.is_empty() || scan_ids.contains(&scan.id))
        .filter(|(_, scan)| {
            from.is_none_or(|f| scan.created_at >= f) && to.is_none_or(|t| scan.created_at <= t)
        })
        .collect();
    // Sort by the last key first so that the first key decides (a stable sort).
    for key in sorts.iter().rev() {
        let (desc, field) = key.split_at(1);
        matching.sort_by(|a, b| {
            let ord = match field {
                "created_at" => a.1.created_at.cmp(&b.1.created_at),
                "status" => a.1.status.cmp(b.1.status),
                "branch" => a.1.branch.cmp(&b.1.branch),
                "name" => a.0.name.cmp(&b.0.name),
                _ => std::cmp::Ordering::Equal,
            };
            if desc == "-" { ord.reverse() } else { ord }
        });
    }
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(p, scan)| scan_json(p, scan))
        .collect();
    Ok(axum::Json(
        json!({ "totalCount": total, "filteredTotalCount": matching.len(), "scans": page }),
    )
    .into_response())
}

/// The `sort` values `GET /api/results` accepts.
const RESULT_SORTS: &[&str] = &[
    "-severity",
    "+severity",
    "-status",
    "+status",
    "-state",
    "+state",
    "-type",
    "+type",
    "-firstfoundat",
    "+firstfoundat",
    "-foundat",
    "+foundat",
    "-firstscanid",
    "+firstscanid",
];

pub async fn results(
    State(sh): State<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Refusal> {
    admit(&sh, &headers)?;
    let q = Query::parse(raw.as_deref());
    let Some(scan_id) = q
        .one("scan-id")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
    else {
        return Err(web_error(
            StatusCode::BAD_REQUEST,
            "scan-id is a required query parameter",
        ));
    };
    let page_number = q
        .count("offset", 0)
        .map_err(|m| web_error(StatusCode::BAD_REQUEST, m))?;
    let limit = q
        .count("limit", 20)
        .map_err(|m| web_error(StatusCode::BAD_REQUEST, m))?;
    if !(1..=10_000).contains(&limit) {
        return Err(web_error(
            StatusCode::BAD_REQUEST,
            format!("limit must be between 1 and 10000, got {limit}"),
        ));
    }
    let mut sorts = q.list("sort");
    if sorts.len() > 3 {
        return Err(web_error(
            StatusCode::BAD_REQUEST,
            "sort takes at most 3 values",
        ));
    }
    if let Some(bad) = sorts.iter().find(|s| !RESULT_SORTS.contains(&s.as_str())) {
        return Err(web_error(
            StatusCode::BAD_REQUEST,
            format!("invalid value for sort: '{bad}'"),
        ));
    }
    if sorts.is_empty() {
        sorts = vec!["+status".into(), "+severity".into()];
    }
    let severities = q.list("severity");
    let states = q.list("state");
    let status_filter = q.list("status");

    let s = sh.lock();
    let Some((project, scan_index)) = s.projects.iter().find_map(|p| {
        p.scans
            .iter()
            .position(|scan| scan.id == scan_id)
            .map(|i| (p, i))
    }) else {
        return Err(web_error(
            StatusCode::NOT_FOUND,
            format!("scan {scan_id} not found"),
        ));
    };
    let scan = &project.scans[scan_index];
    // What the previous completed scan found, to tell NEW results from RECURRENT ones.
    let previous: HashSet<u32> = project.scans[..scan_index]
        .iter()
        .rfind(|s| s.status == "Completed")
        .map(|s| s.found.iter().copied().collect())
        .unwrap_or_default();
    // (position in the scan, result index, status); the position breaks ties, so that pages
    // are stable from one request to the next.
    let mut rows: Vec<(usize, u32, &'static str)> = scan
        .found
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, i)| project.results.get(*i as usize).is_some())
        .map(|(pos, i)| {
            (
                pos,
                i,
                if previous.contains(&i) {
                    "RECURRENT"
                } else {
                    "NEW"
                },
            )
        })
        .filter(|(_, i, status)| {
            let r = &project.results[*i as usize];
            (severities.is_empty()
                || severities
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(&r.severity)))
                && (states.is_empty() || states.iter().any(|x| x.eq_ignore_ascii_case(&r.state)))
                && (status_filter.is_empty()
                    || status_filter.iter().any(|x| x.eq_ignore_ascii_case(status)))
        })
        .collect();
    let keys: Vec<(bool, &str)> = sorts
        .iter()
        .map(|k| (k.starts_with('-'), &k[1..]))
        .collect();
    let cmp = |a: &(usize, u32, &str), b: &(usize, u32, &str)| {
        let (ra, rb) = (
            &project.results[a.1 as usize],
            &project.results[b.1 as usize],
        );
        keys.iter()
            .map(|(desc, field)| {
                let ord = match *field {
                    "severity" => ra.severity_rank().cmp(&rb.severity_rank()),
                    "status" => a.2.cmp(b.2),
                    "state" => ra.state.cmp(&rb.state),
                    "type" => ra.kind.cmp(&rb.kind),
                    "firstfoundat" => ra.first_found_at.cmp(&rb.first_found_at),
                    "firstscanid" => ra.first_scan_id.cmp(&rb.first_scan_id),
                    _ => Ordering::Equal,
                };
                if *desc { ord.reverse() } else { ord }
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.0.cmp(&b.0))
    };
    let total = rows.len();
    let results: Vec<Value> = window(&mut rows, page_number.saturating_mul(limit), limit, cmp)
        .iter()
        .map(|(_, i, status)| project.results[*i as usize].render(status, scan.created_at))
        .collect();
    Ok(axum::Json(json!({ "results": results, "totalCount": total })).into_response())
}

/// The items at `start..start + len` of `items` in `cmp`'s order (a total order), without
/// sorting the rest: a page of a large list costs a linear pass, not a sort.
fn window<T>(items: &mut [T], start: usize, len: usize, cmp: impl Fn(&T, &T) -> Ordering) -> &[T] {
    let n = items.len();
    if start >= n || len == 0 {
        return &[];
    }
    let end = start.saturating_add(len).min(n);
    if start > 0 {
        items.select_nth_unstable_by(start, &cmp);
    }
    let rest = &mut items[start..];
    if end - start < rest.len() {
        rest.select_nth_unstable_by(end - start, &cmp);
    }
    let page = &mut items[start..end];
    page.sort_by(&cmp);
    page
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_window_is_the_slice_of_the_sorted_list() {
        let list: Vec<u32> = (0..200).map(|i| (i * 7919) % 211).collect();
        let mut sorted = list.clone();
        sorted.sort_unstable();
        for (start, len) in [(0, 10), (37, 20), (190, 50), (200, 5), (0, 500)] {
            let mut items = list.clone();
            let got = super::window(&mut items, start, len, |a, b| a.cmp(b)).to_vec();
            let end = (start + len).min(sorted.len());
            assert_eq!(got, sorted.get(start.min(end)..end).unwrap_or(&[]).to_vec());
        }
    }
}
