//! The fixture world: sites whose issues come from the repository's Burp fixtures
//! (`fixtures/scans/burp_api`: issues of real Burp scans; `fixtures/scans/burp_graphql`: issues
//! as the GraphQL API returns them), with scans in several states and issues a person marked.

use super::catalog;
use super::state::{
    EXTENSION_GENERATED, Scan, ScanStatus, SiteIssue, State, TypeInfo, confidence_name,
    severity_name,
};
use chrono::{TimeDelta, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

const REST_EXAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/burp_api/example.json"
));
const REST_ROBOTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/burp_api/many_reqresp.json"
));
const REST_CONTENT_TYPE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/burp_api/fix_issue_9128.json"
));
const GRAPHQL_ONE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/burp_graphql/one_finding.json"
));
const GRAPHQL_TLS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/burp_graphql/null_request_segments.json"
));

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Issues of a Burp REST API scan result (`issue_events[].issue`); their types come from the
/// catalogue when it knows them.
fn rest_issues(json: &str, kinds: &mut HashMap<u64, Arc<TypeInfo>>) -> Vec<SiteIssue> {
    let Ok(doc) = serde_json::from_str::<Value>(json) else {
        tracing::warn!("A Burp REST fixture does not parse; its issues are left out.");
        return Vec::new();
    };
    let events = doc
        .get("issue_events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    events
        .iter()
        .filter_map(|e| e.get("issue"))
        .map(|i| {
            let type_index = i
                .get("type_index")
                .and_then(Value::as_u64)
                .unwrap_or(EXTENSION_GENERATED);
            let name = text(i, "name").unwrap_or_else(|| "Unnamed issue".into());
            let kind = kinds
                .entry(type_index)
                .or_insert_with(|| {
                    Arc::new(match catalog::by_index(type_index) {
                        Some(t) => TypeInfo::from_catalog(t),
                        None => TypeInfo {
                            type_index,
                            name: name.clone(),
                            description_html: None,
                            remediation_html: None,
                            vulnerability_classifications_html: None,
                            references_html: None,
                        },
                    })
                })
                .clone();
            SiteIssue {
                kind,
                origin: text(i, "origin").unwrap_or_default(),
                path: text(i, "path").unwrap_or_default(),
                severity: severity_name(&text(i, "severity").unwrap_or_default()),
                confidence: confidence_name(&text(i, "confidence").unwrap_or_default()),
                description_html: text(i, "description"),
                remediation_html: text(i, "remediation"),
                false_positive: false,
                accepted_risk: false,
            }
        })
        .collect()
}

/// Issues saved from the GraphQL API (`{"Issues": [...]}`), with their own type texts.
fn graphql_issues(json: &str) -> Vec<SiteIssue> {
    let Ok(doc) = serde_json::from_str::<Value>(json) else {
        tracing::warn!("A Burp GraphQL fixture does not parse; its issues are left out.");
        return Vec::new();
    };
    let issues = doc
        .get("Issues")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    issues
        .iter()
        .map(|i| {
            let t = i.get("issue_type").cloned().unwrap_or(Value::Null);
            SiteIssue {
                kind: Arc::new(TypeInfo {
                    type_index: t
                        .get("type_index")
                        .and_then(Value::as_u64)
                        .unwrap_or(EXTENSION_GENERATED),
                    name: text(&t, "name").unwrap_or_else(|| "Unnamed issue".into()),
                    description_html: text(&t, "description_html"),
                    remediation_html: text(&t, "remediation_html"),
                    vulnerability_classifications_html: text(
                        &t,
                        "vulnerability_classifications_html",
                    ),
                    references_html: text(&t, "references_html"),
                }),
                origin: text(i, "origin").unwrap_or_default(),
                path: text(i, "path").unwrap_or_default(),
                severity: severity_name(&text(i, "severity").unwrap_or_default()),
                confidence: confidence_name(&text(i, "confidence").unwrap_or_default()),
                description_html: text(i, "description_html"),
                remediation_html: text(i, "remediation_html"),
                false_positive: false,
                accepted_risk: false,
            }
        })
        .collect()
}

/// Builds the fixture world into an empty state:
/// - folder "Customer sites" with site "whitespots.io" (the REST example's five issues; an
///   older scan also found an SQL injection since fixed; one cookie issue accepted as a risk)
///   and site "juice-shop" (robots.txt and a content-type issue, the latter marked false
///   positive; a newer scan was cancelled and the newest is still running);
/// - site "test.com" at the root (the GraphQL fixtures' two issues; a queued and a failed scan
///   after the succeeded one).
pub fn seed(state: &mut State) {
    let mut kinds = HashMap::new();
    let folder = state.node_id();
    state.folders.push(super::state::Folder {
        id: folder,
        name: "Customer sites".into(),
        parent_id: 0,
    });

    let mut issues = rest_issues(REST_EXAMPLE, &mut kinds);
    let sqli = catalog::by_index(1_049_088).map(|t| {
        let kind = Arc::new(TypeInfo::from_catalog(t));
        SiteIssue {
            kind,
            origin: "https://whitespots.io".into(),
            path: "/search".into(),
            severity: "high",
            confidence: "firm",
            description_html: Some(
                "The <b>q</b> parameter appears to be vulnerable to SQL injection attacks.".into(),
            ),
            remediation_html: None,
            false_positive: false,
            accepted_risk: false,
        }
    });
    if let Some(cookie) = issues.iter_mut().find(|i| i.kind.type_index == 5_244_416) {
        cookie.accepted_risk = true;
    }
    let current: Vec<u32> = (0..u32::try_from(issues.len()).unwrap_or(0)).collect();
    let mut older = current.clone();
    if let Some(sqli) = sqli {
        issues.push(sqli);
        older.push(u32::try_from(issues.len() - 1).unwrap_or(0));
    }
    let site = state.add_site(
        "whitespots.io",
        folder,
        vec!["https://whitespots.io".into()],
        issues,
    );
    let (a, b) = (state.scan_id(), state.scan_id());
    if let Some(s) = state.sites.iter_mut().find(|s| s.id == site) {
        let end = Utc::now() - TimeDelta::days(7);
        s.scans.insert(
            0,
            Scan {
                id: a,
                status: ScanStatus::Succeeded,
                start_time: Some(end - TimeDelta::hours(1)),
                end_time: Some(end),
                issues: older,
            },
        );
        // The scan `add_site` made stays the latest; this one is older still and failed.
        s.scans.insert(
            0,
            Scan {
                id: b,
                status: ScanStatus::Failed,
                start_time: Some(end - TimeDelta::days(1)),
                end_time: None,
                issues: Vec::new(),
            },
        );
        if let Some(latest) = s.scans.last_mut() {
            latest.issues = current;
        }
        // Burp numbers scans in the order they start.
        let mut ids: Vec<u64> = s.scans.iter().map(|scan| scan.id).collect();
        ids.sort_unstable();
        for (scan, id) in s.scans.iter_mut().zip(ids) {
            scan.id = id;
        }
    }

    let mut issues = rest_issues(REST_ROBOTS, &mut kinds);
    let mut content_type = rest_issues(REST_CONTENT_TYPE, &mut kinds);
    for i in &mut content_type {
        i.false_positive = true;
    }
    issues.append(&mut content_type);
    let site = state.add_site(
        "juice-shop",
        folder,
        vec!["https://juice-shop.herokuapp.com".into()],
        issues,
    );
    let (cancelled, running) = (state.scan_id(), state.scan_id());
    if let Some(s) = state.sites.iter_mut().find(|s| s.id == site) {
        s.scans.push(Scan {
            id: cancelled,
            status: ScanStatus::Cancelled,
            start_time: Some(Utc::now() - TimeDelta::minutes(50)),
            end_time: Some(Utc::now() - TimeDelta::minutes(45)),
            issues: Vec::new(),
        });
        s.scans.push(Scan {
            id: running,
            status: ScanStatus::Running,
            start_time: Some(Utc::now() - TimeDelta::minutes(5)),
            end_time: None,
            issues: Vec::new(),
        });
    }

    let mut issues = graphql_issues(GRAPHQL_ONE);
    issues.append(&mut graphql_issues(GRAPHQL_TLS));
    let site = state.add_site("test.com", 0, vec!["https://www.test.com".into()], issues);
    let (failed, queued) = (state.scan_id(), state.scan_id());
    if let Some(s) = state.sites.iter_mut().find(|s| s.id == site) {
        s.scans.push(Scan {
            id: queued,
            status: ScanStatus::Queued,
            start_time: None,
            end_time: None,
            issues: Vec::new(),
        });
        s.scans.push(Scan {
            id: failed,
            status: ScanStatus::Failed,
            start_time: Some(Utc::now() - TimeDelta::minutes(20)),
            end_time: Some(Utc::now() - TimeDelta::minutes(19)),
            issues: Vec::new(),
        });
    }
}
