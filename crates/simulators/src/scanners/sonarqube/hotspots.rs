//! `GET api/hotspots/search`, as `hotspot/ws/SearchAction.java` defines it: a `project` (named
//! `projectKey` before 10.2, still accepted after) or `hotspots` keys, `status` (`TO_REVIEW`,
//! `REVIEWED`), `resolution` (only with `REVIEWED`), `branch`; sorted by file and line; the
//! search engine's paging limits. An unknown project is 404, one the caller may not browse 403.

use super::params::Params;
use super::reply::ApiError;
use super::state::{Hotspot, State};
use super::{Sh, auth, render};
use axum::Json;
use axum::extract::{RawQuery, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const STATUSES: &[&str] = &["TO_REVIEW", "REVIEWED"];
const RESOLUTIONS: &[&str] = &["FIXED", "SAFE", "ACKNOWLEDGED"];

pub async fn search(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    match answer(&s, &headers, &Params::parse(raw.as_deref())) {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn answer(s: &State, headers: &HeaderMap, q: &Params) -> Result<Value, ApiError> {
    let user = auth::user(s, headers)?;
    if s.indexing {
        return Err(ApiError::indexing());
    }
    let (p, ps) = q.paging(100, None, true)?;
    let param = if s.version_at_least(10, 2) {
        "project"
    } else {
        "projectKey"
    };
    let project = q
        .get("project")
        .filter(|_| param == "project")
        .or_else(|| q.get("projectKey"));
    let keys = q.list("hotspots", &[])?;
    if project.is_none() && keys.is_empty() {
        return Err(ApiError::bad_request(format!(
            "A value must be provided for either parameter '{param}' or parameter 'hotspots'"
        )));
    }
    let status = q.one_of("status", STATUSES)?;
    let resolutions = q.list("resolution", RESOLUTIONS)?;
    if !resolutions.is_empty() && status.as_deref() != Some("REVIEWED") {
        return Err(ApiError::bad_request(format!(
            "Value '{}' of parameter 'resolution' can only be provided if value of parameter 'status' is 'REVIEWED'",
            resolutions.join(",")
        )));
    }
    if let Some(branch) = q.get("branch") {
        if project.is_none() {
            return Err(ApiError::bad_request(format!(
                "Parameter 'branch' must be used with parameter '{param}'"
            )));
        }
        if branch != "main" {
            return Err(ApiError::not_found(format!(
                "Project '{}' not found",
                project.unwrap_or_default()
            )));
        }
    }
    if let Some(key) = project {
        if !s.projects.contains_key(key) {
            return Err(ApiError::not_found(format!("Project '{key}' not found")));
        }
        if !user.can_browse(key) {
            return Err(ApiError::forbidden());
        }
    }
    let mut found: Vec<&Hotspot> = s
        .hotspots
        .iter()
        .filter(|(k, _)| project.is_none_or(|p| p == k.as_str()) && user.can_browse(k))
        .flat_map(|(_, v)| v.iter())
        .filter(|h| keys.is_empty() || keys.contains(&h.key))
        .filter(|h| status.as_deref().is_none_or(|st| h.status == st))
        .filter(|h| {
            resolutions.is_empty()
                || h.resolution
                    .as_ref()
                    .is_some_and(|r| resolutions.contains(r))
        })
        .collect();
    // The hotspots sort: by file, then line, then key.
    found.sort_by(|a, b| (&a.path, a.line, &a.key).cmp(&(&b.path, b.line, &b.key)));
    let total = found.len();
    let start = ((p - 1) as usize).saturating_mul(ps as usize).min(total);
    let end = start.saturating_add(ps as usize).min(total);
    let page = &found[start..end];
    Ok(json!({
        "paging": render::paging(p, ps, total),
        "hotspots": page.iter().map(|h| render::hotspot(h)).collect::<Vec<_>>(),
        "components": render::components(s, page.iter().map(|h| (h.project.as_str(), Some(h.path.as_str())))),
    }))
}
