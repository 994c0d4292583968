//! The fixture world: projects whose results are the repository's Checkmarx ONE results
//! exports (`fixtures/scans/checkmarx_one`), with scans in several statuses and results in
//! every triage state.

use super::results::{Body, CxResult};
use super::state::State;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use std::sync::Arc;

const API_EXPORT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/checkmarx_one/api_export.json"
));
const FORMAT_TWO: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/checkmarx_one/checkmarx_one_format_two.json"
));
const OPEN_AND_FP: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/checkmarx_one/one-open-one-false-positive.json"
));
const MANY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/checkmarx_one/many_findings.json"
));

/// The results of an export, kept as they are apart from the fields the API computes.
fn results(json: &str, first_scan: &str) -> Vec<CxResult> {
    let Ok(doc) = serde_json::from_str::<Value>(json) else {
        tracing::warn!("A Checkmarx ONE fixture does not parse; its results are left out.");
        return Vec::new();
    };
    let list = doc
        .get("results")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    list.into_iter()
        .map(|r| {
            let text = |k: &str| match r.get(k) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            let first_found = r
                .get("firstFoundAt")
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map_or_else(
                    || Utc::now() - TimeDelta::days(60),
                    |d| d.with_timezone(&Utc),
                );
            CxResult {
                id: text("id"),
                similarity_id: text("similarityId"),
                kind: text("type"),
                severity: text("severity").to_ascii_uppercase(),
                state: match text("state") {
                    s if s.is_empty() => "TO_VERIFY".into(),
                    s => s,
                },
                first_found_at: first_found,
                first_scan_id: first_scan.to_owned(),
                body: Body::Fixture(Arc::new(r)),
            }
        })
        .collect()
}

/// Builds the fixture world:
/// - "robot-automation": the results API export (SAST, KICS, SCA and container results); an
///   older completed scan also found a SAST result fixed since; one result CONFIRMED, one
///   PROPOSED_NOT_EXPLOITABLE; a newer scan is still running;
/// - "webgoat": a NOT_EXPLOITABLE and a TO_VERIFY SQL injection plus six SAST and KICS
///   results, one of them URGENT; the newest scan failed;
/// - "payments-api": a project that was never scanned.
pub fn seed(state: &mut State) {
    let now = Utc::now();

    let robot = state.add_project("robot-automation");
    let older_scan = state.uuid();
    let mut list = results(API_EXPORT, &older_scan);
    if let Some(r) = list.iter_mut().find(|r| r.kind == "sast") {
        r.state = "CONFIRMED".into();
    }
    if let Some(r) = list.iter_mut().find(|r| r.kind == "kics") {
        r.state = "PROPOSED_NOT_EXPLOITABLE".into();
    }
    let current: Vec<u32> = (0..u32::try_from(list.len()).unwrap_or(0)).collect();
    list.extend(results(FORMAT_TWO, &older_scan));
    let everything: Vec<u32> = (0..u32::try_from(list.len()).unwrap_or(0)).collect();
    if let Some(p) = state.project_mut(&robot) {
        p.results = list;
        p.groups = vec!["qa".into()];
        p.tags.insert("team".into(), "automation".into());
    }
    state.add_scan(&robot, "Completed", now - TimeDelta::days(10), everything);
    if let Some(p) = state.project_mut(&robot)
        && let Some(first) = p.scans.first_mut()
    {
        first.id = older_scan;
    }
    state.add_scan(&robot, "Completed", now - TimeDelta::days(1), current);
    state.add_scan(&robot, "Running", now - TimeDelta::minutes(10), Vec::new());

    let webgoat = state.add_project("webgoat");
    let first_scan = state.uuid();
    let mut list = results(OPEN_AND_FP, &first_scan);
    let mut many = results(MANY, &first_scan);
    if let Some(r) = many.first_mut() {
        r.state = "URGENT".into();
    }
    list.append(&mut many);
    let all: Vec<u32> = (0..u32::try_from(list.len()).unwrap_or(0)).collect();
    if let Some(p) = state.project_mut(&webgoat) {
        p.results = list;
        p.repo_url = "https://github.com/WebGoat/WebGoat".into();
    }
    state.add_scan(&webgoat, "Completed", now - TimeDelta::days(2), all);
    if let Some(p) = state.project_mut(&webgoat)
        && let Some(first) = p.scans.first_mut()
    {
        first.id = first_scan;
    }
    state.add_scan(&webgoat, "Failed", now - TimeDelta::hours(3), Vec::new());

    state.add_project("payments-api");
}
