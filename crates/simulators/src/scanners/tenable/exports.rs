//! The vulnerability export (`POST /vulns/export`, `GET /vulns/export/{uuid}/status`,
//! `GET /vulns/export/{uuid}/chunks/{id}`, `POST /vulns/export/{uuid}/cancel`,
//! `GET /vulns/export/status`), as the Vulnerability Management OpenAPI describes it:
//!
//! - `num_assets` 50–5,000 (values outside are raised or lowered to the bounds); chunks hold
//!   the findings of that many assets.
//! - filters: `since` (open findings seen, fixed findings fixed, on or after it; not with
//!   `first_found`, `first_seen`, `last_found`, `last_seen` or `last_fixed`), those dates
//!   (which need `state`), `indexed_at`, `state` (default `OPEN` and `REOPENED`), `severity`,
//!   `severity_modification_type`, `plugin_id`, `scan_uuid` (the scan run that most recently
//!   found the vulnerability); without any time filter, only what was found or fixed in the
//!   last 30 days.
//! - at most 10 exports running per container (429 with `retry-after`), and a request equal to
//!   a running one is refused with 409 and that job's id.
//! - a job is `QUEUED`, then `PROCESSING` with chunks becoming available, then `FINISHED`;
//!   a chunk not yet available answers 400, an unknown one 404.

use super::reply::TenableError;
use super::state::{Job, State};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const MIN_ASSETS: i64 = 50;
const MAX_ASSETS: i64 = 5000;
const MAX_RUNNING: usize = 10;
/// Seconds `retry-after` asks for when the concurrency limit is reached.
const CONCURRENCY_RETRY: u64 = 30;
const DAY: i64 = 86_400;

const TIME_FILTERS: [&str; 8] = [
    "since",
    "first_found",
    "first_seen",
    "last_found",
    "last_seen",
    "last_fixed",
    "indexed_at",
    "resurfaced_date",
];
const STATES: [&str; 3] = ["OPEN", "REOPENED", "FIXED"];
const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];
const MODIFICATIONS: [&str; 3] = ["NONE", "RECASTED", "ACCEPTED"];
/// Filters Tenable accepts that this simulator does not evaluate (refused, not ignored).
const NOT_EVALUATED: [&str; 17] = [
    "time_taken_to_fix",
    "cidr_range",
    "cve_id",
    "cve_category",
    "cvss4_base_score",
    "epss_score",
    "exploit_maturity",
    "initiative_id",
    "network_id",
    "plugin_family",
    "plugin_type",
    "source",
    "vpr_score",
    "vpr_v2_score",
    "vpr_threat_intensity",
    "weaponization",
    "zero_day",
];

/// The parsed filters of one export.
#[derive(Debug, Default)]
struct Filters {
    times: BTreeMap<String, i64>,
    states: Vec<String>,
    severities: Vec<String>,
    modifications: Vec<String>,
    plugins: Vec<i64>,
    scan_uuid: Option<String>,
}

fn strings(
    name: &str,
    v: &Value,
    allowed: &[&str],
    upper: bool,
) -> Result<Vec<String>, TenableError> {
    let list = v
        .as_array()
        .ok_or_else(|| TenableError::bad_request(format!("filters.{name} must be an array")))?;
    list.iter()
        .map(|x| {
            let s = x.as_str().ok_or_else(|| {
                TenableError::bad_request(format!("filters.{name} must contain strings"))
            })?;
            let s = if upper {
                s.to_ascii_uppercase()
            } else {
                s.to_ascii_lowercase()
            };
            if allowed.contains(&s.as_str()) {
                Ok(s)
            } else {
                Err(TenableError::bad_request(format!(
                    "filters.{name} must be one of [{}], not '{s}'",
                    allowed.join(", ")
                )))
            }
        })
        .collect()
}

fn parse_filters(raw: &Map<String, Value>) -> Result<Filters, TenableError> {
    let mut f = Filters::default();
    for (k, v) in raw {
        match k.as_str() {
            t if TIME_FILTERS.contains(&t) => {
                let n = v.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
                    TenableError::bad_request(format!(
                        "filters.{t} must be a Unix timestamp in seconds"
                    ))
                })?;
                f.times.insert(t.to_owned(), n);
            }
            "state" => f.states = strings(k, v, &STATES, true)?,
            "severity" => f.severities = strings(k, v, &SEVERITIES, false)?,
            "severity_modification_type" => f.modifications = strings(k, v, &MODIFICATIONS, true)?,
            "plugin_id" => {
                f.plugins = v
                    .as_array()
                    .and_then(|a| a.iter().map(Value::as_i64).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| {
                        TenableError::bad_request("filters.plugin_id must be an array of integers")
                    })?;
            }
            "scan_uuid" => {
                f.scan_uuid = Some(
                    v.as_str()
                        .ok_or_else(|| {
                            TenableError::bad_request("filters.scan_uuid must be a string")
                        })?
                        .to_owned(),
                );
            }
            t if t.starts_with("tag.") => {
                return Err(TenableError::bad_request(format!(
                    "the simulator has no asset tags to filter on ({t})"
                )));
            }
            t if NOT_EVALUATED.contains(&t) => {
                return Err(TenableError::bad_request(format!(
                    "the simulator does not evaluate filters.{t}"
                )));
            }
            other => {
                return Err(TenableError::bad_request(format!(
                    "Unknown filter: {other}"
                )));
            }
        }
    }
    if f.times.contains_key("since")
        && let Some(other) = [
            "first_found",
            "first_seen",
            "last_found",
            "last_seen",
            "last_fixed",
        ]
        .iter()
        .find(|t| f.times.contains_key(**t))
    {
        return Err(TenableError::bad_request(format!(
            "filters.since cannot be used with filters.{other}"
        )));
    }
    if f.states.is_empty() {
        if let Some(t) = ["first_found", "last_found", "last_fixed"]
            .iter()
            .find(|t| f.times.contains_key(**t))
        {
            return Err(TenableError::bad_request(format!(
                "filters.state is required with filters.{t}"
            )));
        }
        f.states = vec!["OPEN".into(), "REOPENED".into()];
    }
    Ok(f)
}

impl Filters {
    fn matches(&self, x: &super::state::Finding, now: i64) -> bool {
        let fixed = x.state == "FIXED";
        let at = |k: &str| self.times.get(k).copied();
        let ge = |v: Option<i64>, min: Option<i64>| min.is_none_or(|m| v.is_some_and(|v| v >= m));
        if !self.states.contains(&x.state) {
            return false;
        }
        // Without any time filter, only what was found or fixed in the last 30 days.
        if self.times.is_empty() {
            let recent = now - 30 * DAY;
            let current = if fixed {
                x.last_fixed.unwrap_or(0) >= recent
            } else {
                x.last_found >= recent
            };
            if !current {
                return false;
            }
        }
        if let Some(since) = at("since")
            && !(if fixed {
                x.last_fixed.unwrap_or(0) >= since
            } else {
                x.last_found >= since
            })
        {
            return false;
        }
        ge(Some(x.first_found), at("first_found").or(at("first_seen")))
            && ge(Some(x.last_found), at("last_found").or(at("last_seen")))
            && ge(x.last_fixed, at("last_fixed"))
            && ge(Some(x.indexed), at("indexed_at"))
            && (self.severities.is_empty()
                || self
                    .severities
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&x.severity)))
            && (self.modifications.is_empty()
                || self
                    .modifications
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(&x.modification)))
            && (self.plugins.is_empty() || self.plugins.contains(&x.plugin_id))
            && self.scan_uuid.as_ref().is_none_or(|u| *u == x.scan_uuid)
    }
}

fn uuid() -> String {
    let n = rand::random::<u128>();
    let h = format!("{n:032x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// `POST /vulns/export`.
pub(crate) fn request(s: &mut State, body: &[u8]) -> Result<Response, TenableError> {
    let input: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        serde_json::from_slice(body).map_err(|e| {
            TenableError::bad_request(format!("The request body is not valid JSON: {e}"))
        })?
    };
    let mut num_assets = MIN_ASSETS;
    let mut include_unlicensed = false;
    let mut raw_filters = Map::new();
    for (k, v) in &input {
        match k.as_str() {
            "num_assets" => {
                num_assets = v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .ok_or_else(|| TenableError::bad_request("num_assets must be an integer"))?
                    .clamp(MIN_ASSETS, MAX_ASSETS);
            }
            "include_unlicensed" => {
                include_unlicensed = v.as_bool().ok_or_else(|| {
                    TenableError::bad_request("include_unlicensed must be a boolean")
                })?;
            }
            "include_software_vulns" => {
                v.as_bool().ok_or_else(|| {
                    TenableError::bad_request("include_software_vulns must be a boolean")
                })?;
            }
            "filters" => {
                raw_filters = v
                    .as_object()
                    .cloned()
                    .ok_or_else(|| TenableError::bad_request("filters must be an object"))?;
            }
            other => {
                return Err(TenableError::bad_request(format!(
                    "Unknown property: {other}"
                )));
            }
        }
    }
    let filters = parse_filters(&raw_filters)?;
    let request = json!({ "num_assets": num_assets, "include_unlicensed": include_unlicensed, "filters": raw_filters });
    if let Some(dup) = s.jobs.iter().find(|j| j.active() && j.request == request) {
        return Ok((
            StatusCode::CONFLICT,
            Json(json!({
                "active_job_id": dup.uuid,
                "failure_reason": "The request could not be completed due to a conflict with the ongoing export",
            })),
        )
            .into_response());
    }
    if s.jobs.iter().filter(|j| j.active()).count() >= MAX_RUNNING {
        return Err(TenableError::too_many(CONCURRENCY_RETRY));
    }
    let now = Utc::now().timestamp();
    // Findings grouped by asset, assets in order of first appearance.
    let mut by_asset: Vec<(String, Vec<usize>)> = Vec::new();
    let mut slot: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, f) in s.findings.iter().enumerate() {
        if !filters.matches(f, now) {
            continue;
        }
        match slot.get(f.asset.as_str()) {
            Some(&at) => by_asset[at].1.push(i),
            None => {
                slot.insert(f.asset.as_str(), by_asset.len());
                by_asset.push((f.asset.clone(), vec![i]));
            }
        }
    }
    let chunks: Vec<Vec<usize>> = by_asset
        .chunks(num_assets as usize)
        .map(|group| {
            group
                .iter()
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect()
        })
        .collect();
    let mut stored_filters = raw_filters.clone();
    stored_filters
        .entry("state")
        .or_insert_with(|| json!(filters.states));
    let job = Job {
        uuid: uuid(),
        request,
        filters: Value::Object(stored_filters),
        num_assets: num_assets as usize,
        chunks,
        created_ms: Utc::now().timestamp_millis(),
        status: "QUEUED".into(),
        polls: 0,
        available: 0,
        failed: std::mem::take(&mut s.fail_chunks),
    };
    let id = job.uuid.clone();
    s.jobs.push(job);
    if s.jobs.len() > 200 {
        s.jobs.remove(0);
    }
    Ok(Json(json!({ "export_uuid": id })).into_response())
}

fn status_body(j: &Job) -> Value {
    let available: Vec<usize> = (1..=j.available)
        .filter(|c| !j.failed.contains(c))
        .collect();
    let failed: Vec<usize> = j
        .failed
        .iter()
        .copied()
        .filter(|c| *c <= j.available)
        .collect();
    let empty = j.chunks.iter().filter(|c| c.is_empty()).count();
    let mut body = json!({
        "uuid": j.uuid,
        "status": j.status,
        "chunks_available": available,
        "chunks_failed": failed,
        "chunks_cancelled": [],
        "total_chunks": j.chunks.len(),
        "chunks_available_count": available.len(),
        "empty_chunks_count": empty,
        "finished_chunks": j.available,
        "filters": j.filters,
        "num_assets_per_chunk": j.num_assets,
        "created": j.created_ms,
    });
    if !failed.is_empty() && j.status == "FINISHED" {
        body["reason"] = json!(format!(
            "{} of {} chunks failed to process. The remaining chunks are available for download.",
            failed.len(),
            j.chunks.len()
        ));
    }
    body
}

/// `GET /vulns/export/{uuid}/status`: each request moves the job along (see [`super::state::Pace`]).
pub(crate) fn status(s: &mut State, uuid: &str) -> Result<Response, TenableError> {
    let pace = s.pace;
    let j = s
        .job(uuid)
        .ok_or_else(|| TenableError::not_found(format!("Export {uuid} not found")))?;
    if j.active() {
        j.polls += 1;
        let total = j.chunks.len();
        if j.polls > pace.queued_polls + pace.processing_polls {
            j.status = "FINISHED".into();
            j.available = total;
        } else if j.polls > pace.queued_polls {
            j.status = "PROCESSING".into();
            let step = j.polls - pace.queued_polls;
            j.available = total * step as usize / (pace.processing_polls as usize + 1);
        }
    }
    Ok(Json(status_body(j)).into_response())
}

/// `GET /vulns/export/{uuid}/chunks/{id}`.
pub(crate) fn chunk(s: &State, uuid: &str, raw_id: &str) -> Result<Response, TenableError> {
    let id: usize = raw_id
        .parse()
        .map_err(|_| TenableError::bad_request(format!("Invalid chunk id: {raw_id}")))?;
    let j = s
        .jobs
        .iter()
        .find(|j| j.uuid == uuid)
        .ok_or_else(|| TenableError::not_found(format!("Export {uuid} not found")))?;
    if id == 0 || id > j.chunks.len() {
        return Err(TenableError::not_found(format!(
            "Chunk {id} of export {uuid} not found"
        )));
    }
    if id > j.available || j.failed.contains(&id) {
        return Err(TenableError::bad_request(format!(
            "Chunk {id} of export {uuid} is not ready for download"
        )));
    }
    let mut out = String::from("[");
    for (n, i) in j.chunks[id - 1].iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        if let Some(f) = s.findings.get(*i) {
            out.push_str(&f.raw);
        }
    }
    out.push(']');
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
        out,
    )
        .into_response())
}

/// `POST /vulns/export/{uuid}/cancel`.
pub(crate) fn cancel(s: &mut State, uuid: &str) -> Result<Response, TenableError> {
    let j = s
        .job(uuid)
        .ok_or_else(|| TenableError::not_found(format!("Export {uuid} not found")))?;
    if !j.active() {
        return Err(TenableError::bad_request(format!(
            "Export {uuid} is {} and cannot be cancelled",
            j.status
        )));
    }
    j.status = "CANCELLED".into();
    Ok(Json(json!({ "status": "CANCELLED" })).into_response())
}

/// `GET /vulns/export/status`: the recent jobs.
pub(crate) fn list(s: &State) -> Response {
    let exports: Vec<Value> = s
        .jobs
        .iter()
        .map(|j| {
            let mut b = status_body(j);
            if let Some(o) = b.as_object_mut() {
                o.remove("chunks_available");
                o.remove("chunks_failed");
                o.remove("chunks_cancelled");
            }
            b
        })
        .collect();
    Json(json!({ "exports": exports })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(v: Value) -> Result<Filters, TenableError> {
        parse_filters(v.as_object().unwrap())
    }

    #[test]
    fn the_documented_filter_rules() {
        assert!(
            filters(json!({ "since": 1, "last_found": 2, "state": ["OPEN"] })).is_err(),
            "since excludes last_found"
        );
        assert!(
            filters(json!({ "last_found": 2 })).is_err(),
            "last_found needs state"
        );
        assert!(filters(json!({ "state": ["GONE"] })).is_err());
        assert!(filters(json!({ "bogus": 1 })).is_err());
        let f = filters(json!({})).unwrap();
        assert_eq!(f.states, ["OPEN", "REOPENED"], "the default states");
        let f = filters(json!({ "state": ["open", "fixed"], "severity": ["HIGH"] })).unwrap();
        assert_eq!(
            (f.states, f.severities),
            (
                vec!["OPEN".to_owned(), "FIXED".to_owned()],
                vec!["high".to_owned()]
            )
        );
    }
}
