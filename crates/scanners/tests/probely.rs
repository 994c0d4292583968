//! `Probely Scan` against fixtures/probely/findings.json, a page of Probely's findings API
//! written from its documentation (DefectDojo has no Probely sample; see the README beside it).

mod json_fuzz;

use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::probely::ProbelyScan;
use scanners::testing::parse_bytes;
use std::path::PathBuf;

fn fixture_bytes() -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/probely/findings.json");
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn findings() -> Vec<NewFinding> {
    parse_bytes(&ProbelyScan, &fixture_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn registered_under_defectdojos_name() {
    assert!(scanners::find_scan_type("Probely Scan").is_some());
}

#[test]
fn page_of_findings() {
    let findings = findings();
    assert_eq!(findings.len(), 5);
    let titles: Vec<&str> = findings.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "SQL Injection",
            "Unencrypted communications",
            "Clickjacking",
            "Reflected Cross-Site Scripting",
            "Directory listing enabled"
        ]
    );
    let severities: Vec<Severity> = findings.iter().map(|f| f.severity).collect();
    assert_eq!(
        severities,
        [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::High,
            Severity::Low
        ]
    );
    let statuses: Vec<Status> = findings.iter().map(|f| f.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Active,
            Status::AwaitingValidation,
            Status::RiskAccepted,
            Status::FalsePositive,
            Status::Closed
        ]
    );
    assert!(
        findings
            .iter()
            .all(|f| f.dynamic_finding && !f.static_finding)
    );
}

#[test]
fn sql_injection_details() {
    let findings = findings();
    let f = &findings[0];
    assert_eq!(f.unique_id_from_tool.as_deref(), Some("3r5Sjyg7enXp/41"));
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some("xP1LBtqcnBjD"));
    assert_eq!(f.cvss_v3_score, Some(9.8));
    assert_eq!(
        f.cvss_v3_vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );
    assert_eq!(f.param.as_deref(), Some("category (parameter)"));
    assert_eq!(f.payload.as_deref(), Some("1' AND 1=1-- "));
    assert_eq!(
        f.steps_to_reproduce.as_deref(),
        Some("GET https://shop.example.com/products?category=1")
    );
    assert_eq!(f.endpoints.len(), 1);
    let e = &f.endpoints[0];
    assert_eq!(
        (e.protocol.as_deref(), e.host.as_str()),
        (Some("https"), "shop.example.com")
    );
    assert_eq!(
        (e.path.as_deref(), e.query.as_deref()),
        (Some("products"), Some("category=1"))
    );
    assert!(f.description.starts_with("SQL injection happens"));
    assert!(
        f.description
            .contains("**Evidence**: The database error message")
    );
    assert!(
        f.mitigation
            .as_deref()
            .unwrap_or("")
            .starts_with("Use parameterized queries")
    );
    assert_eq!(f.tags, ["pci"]);
    assert!(!f.verified);
    assert_eq!(
        f.date, None,
        "the list has no first-seen date; the import's day is used"
    );
    assert_eq!(f.request_response.len(), 1);
    let rr = &f.request_response[0];
    assert!(
        rr.request.starts_with("GET /products?category="),
        "{}",
        rr.request
    );
    assert!(!rr.request.contains("```"));
    assert!(rr.response.starts_with("HTTP/1.1 500"), "{}", rr.response);
}

#[test]
fn other_findings() {
    let findings = findings();
    assert_eq!(
        findings[1].endpoints[0].to_string(),
        "http://shop.example.com"
    );
    assert_eq!(findings[1].param, None);
    assert_eq!(findings[2].tags, ["accepted-by-ciso"]);
    assert!(findings[2].verified);
    assert!(findings[3].verified);
    assert_eq!(findings[3].param.as_deref(), Some("q (request_body)"));
    assert!(
        findings[3]
            .description
            .contains("**Details**: Marked invalid")
    );
    assert_eq!(findings[4].endpoints[0].port, Some(8443));
    assert!(findings[4].request_response.is_empty());
}

#[test]
fn bare_list_is_accepted() {
    let doc: serde_json::Value = serde_json::from_slice(&fixture_bytes()).unwrap();
    let list = serde_json::to_vec(&doc["results"]).unwrap();
    let from_list = parse_bytes(&ProbelyScan, &list).unwrap();
    let from_page = findings();
    assert_eq!(from_list.len(), from_page.len());
    assert_eq!(
        from_list
            .iter()
            .map(|f| f.unique_id_from_tool.clone())
            .collect::<Vec<_>>(),
        from_page
            .iter()
            .map(|f| f.unique_id_from_tool.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn every_finding_is_importable() {
    for f in findings() {
        f.normalize().unwrap();
    }
}

#[test]
fn sink_error_stops_the_parse() {
    json_fuzz::assert_sink_error_stops(&ProbelyScan, &fixture_bytes());
}

#[test]
fn bad_input_is_located() {
    let err = parse_bytes(
        &ProbelyScan,
        b"{\"results\": [{\"id\": 1, \"definition\": \"SQLi\"}]}",
    )
    .unwrap_err();
    let loc = err.location.clone().expect("location");
    assert_eq!(loc.path.as_deref(), Some("results[0].definition"));
    assert!(
        err.to_string().contains("expected struct Definition"),
        "{err}"
    );
    let err = parse_bytes(&ProbelyScan, b"{\"count\": 0}").unwrap_err();
    assert!(
        err.to_string().contains("expected a `results` array"),
        "{err}"
    );
    assert!(
        parse_bytes(&ProbelyScan, b"{\"count\": 0, \"results\": []}")
            .unwrap()
            .is_empty()
    );
}

const KEYS: &[&str] = &[
    "count",
    "results",
    "id",
    "target",
    "site",
    "url",
    "definition",
    "name",
    "desc",
    "path",
    "method",
    "insertion_point",
    "parameter",
    "value",
    "fix",
    "evidence",
    "extra",
    "requests",
    "request",
    "response",
    "state",
    "severity",
    "cvss_score",
    "cvss_vector",
    "retesting",
    "labels",
];

#[test]
fn fixture_truncated_anywhere_never_panics() {
    let bytes = fixture_bytes();
    for len in 0..bytes.len() {
        json_fuzz::check(&ProbelyScan, &bytes[..len]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        json_fuzz::check(&ProbelyScan, &bytes);
    }

    #[test]
    fn truncated_fixture_never_panics(cut in any::<prop::sample::Index>()) {
        let bytes = fixture_bytes();
        json_fuzz::check(&ProbelyScan, json_fuzz::truncated(&bytes, cut));
    }

    #[test]
    fn mutated_fixture_never_panics(at in any::<usize>(), with in json_fuzz::arb_json(KEYS)) {
        let mut doc: serde_json::Value = serde_json::from_slice(&fixture_bytes()).unwrap();
        json_fuzz::replace_node(&mut doc, at, with);
        json_fuzz::check(&ProbelyScan, &serde_json::to_vec(&doc).unwrap());
    }

    #[test]
    fn generated_documents_never_panic(doc in json_fuzz::arb_json(KEYS)) {
        json_fuzz::check(&ProbelyScan, &serde_json::to_vec(&doc).unwrap());
    }
}
