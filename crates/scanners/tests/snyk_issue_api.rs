//! `Snyk Issue API Scan` against DefectDojo's sample files (fixtures/scans/snyk_issue_api/),
//! checking what fixtures/scans/EXPECTED.md lists for each.

mod json_fuzz;

use chrono::NaiveDate;
use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::snyk_issue_api::SnykIssueApiScan;
use scanners::testing::{parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&SnykIssueApiScan, &format!("snyk_issue_api/{rel}"))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn code_findings() -> Vec<NewFinding> {
    parse("snyk_code_scan_api_many_vuln.json")
}

#[test]
fn registered_under_defectdojos_name() {
    assert!(scanners::find_scan_type("Snyk Issue API Scan").is_some());
}

#[test]
fn empty_page_has_no_findings() {
    assert!(parse("empty.json").is_empty());
}

#[test]
fn code_findings_count() {
    assert_eq!(code_findings().len(), 3);
}

#[test]
fn csrf_open() {
    let findings = code_findings();
    let f = &findings[0];
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("3916a413-2fca-45c9-a1bf-a1373258fe69")
    );
    assert_eq!(f.cwe, Some(352));
    assert_eq!(f.fix_available, Some(false));
    assert_eq!(f.file_path.as_deref(), Some("path/path/file.abc"));
    assert_eq!(f.line, Some(65));
    assert_eq!(f.date, NaiveDate::from_ymd_opt(2024, 12, 13));
    assert_eq!(f.description, "Cross-Site Request Forgery (CSRF)");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        f.vuln_id_from_tool.as_deref(),
        Some("9a29d87f-aa94-47eb-b46f-375b293a8631")
    );
    assert_eq!(
        f.vulnerability_ids,
        ["9a29d87f-aa94-47eb-b46f-375b293a8631"]
    );
    let impact = f.impact.as_deref().unwrap_or("");
    for needle in [
        "Source: SNYK",
        "Type: vulnerability",
        "Last Updated: 2025-04-13T04:13:03.151452Z",
    ] {
        assert!(impact.contains(needle), "{needle} not in {impact}");
    }
    assert!(
        f.severity_justification
            .as_deref()
            .unwrap_or("")
            .contains("Risk Score: 829")
    );
    // active, not mitigated, not a false positive
    assert_eq!(f.status, Status::Active);
    assert!(!f.verified);
    assert_eq!(f.title.as_str(), "Cross-Site Request Forgery (CSRF)");
    assert!(f.static_finding && !f.dynamic_finding);
    assert_eq!(f.cvss_v3_vector, None);
    assert_eq!(f.cvss_v4_vector, None);
}

#[test]
fn xss_ignored() {
    let findings = code_findings();
    let f = &findings[1];
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("605a2477-69d4-4317-8649-1f7b92fa7c27")
    );
    assert_eq!(f.cwe, Some(79));
    assert_eq!(f.fix_available, Some(false));
    assert_eq!(f.description, "Cross-site Scripting (XSS)");
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(
        f.vuln_id_from_tool.as_deref(),
        Some("b25fb1d7-c99b-46fb-818b-e94971ee9db0")
    );
    let impact = f.impact.as_deref().unwrap_or("");
    for needle in [
        "Source: SNYK",
        "Type: vulnerability",
        "Last Updated: 2025-05-10T01:45:25.464473Z",
    ] {
        assert!(impact.contains(needle), "{needle} not in {impact}");
    }
    assert_eq!(f.title.as_str(), "Cross-site Scripting (XSS)");
    // DefectDojo asserts false_p == True (and active == False, out_of_scope == False): it
    // reads every Snyk ignore as a false positive. The API does not carry the ignore's reason
    // ("not vulnerable", "won't fix", "temporary"), and an ignore is a decision not to act, not
    // a verdict that the tool was wrong — accepted risk keeps it in risk reviews. It is still
    // not active and not out of scope, as DefectDojo has it.
    assert_eq!(f.status, Status::RiskAccepted);
    assert!(!f.status.is_open());
    assert!(f.verified);
}

#[test]
fn hardcoded_password_temporarily_ignored() {
    let findings = code_findings();
    let f = &findings[2];
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("922e2d65-d2ce-4a5c-818c-ab196ba834c3")
    );
    assert_eq!(f.cwe, Some(259));
    assert_eq!(f.cwes, [259, 798]);
    assert_eq!(f.references.as_deref(), Some("Additional CWEs: CWE-798"));
    assert_eq!(f.fix_available, Some(false));
    assert_eq!(f.date, NaiveDate::from_ymd_opt(2024, 12, 13));
    assert_eq!(f.description, "Use of Hardcoded Passwords");
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(
        f.vuln_id_from_tool.as_deref(),
        Some("a8edd3ae-722f-4668-81da-478b46fdf961")
    );
    assert_eq!(
        f.vulnerability_ids,
        ["a8edd3ae-722f-4668-81da-478b46fdf961"]
    );
    let impact = f.impact.as_deref().unwrap_or("");
    for needle in [
        "Source: SNYK",
        "Type: vulnerability",
        "Last Updated: 2025-05-31T01:32:18.84232Z",
    ] {
        assert!(impact.contains(needle), "{needle} not in {impact}");
    }
    assert_eq!(f.status, Status::Active);
    assert_eq!(f.title.as_str(), "Use of Hardcoded Passwords");
}

#[test]
fn dedup_fields_match_other_snyk_scans() {
    let findings = code_findings();
    assert_eq!(
        findings[0].vuln_id_from_tool.as_deref(),
        Some("9a29d87f-aa94-47eb-b46f-375b293a8631")
    );
    assert_eq!(findings[0].file_path.as_deref(), Some("path/path/file.abc"));
}

#[test]
fn sca_single_finding() {
    let findings = parse("snyk_sca_scan_api_single_vuln.json");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.title.as_str(), "Heap-based Buffer Overflow");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.component_name.as_deref(), Some("pillow"));
    assert_eq!(f.component_version.as_deref(), Some("9.5.0"));
    // DefectDojo also puts the package name in `file_path`; a dependency has no file here.
    assert_eq!(f.file_path, None);
    assert_eq!(
        f.vulnerability_ids,
        ["SNYK-PYTHON-PILLOW-5918878", "CVE-2023-4863"]
    );
    assert_eq!(f.cwe, Some(122));
    assert_eq!(f.fix_available, Some(true));
    // The first CVSS v3 entry is Snyk's own.
    assert_eq!(
        f.cvss_v3_vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H/E:H")
    );
    assert_eq!(f.cvss_v3_score, Some(9.6));
    let impact = f.impact.as_deref().unwrap_or("");
    assert!(
        impact.contains("Exploit Sources: CISA, PoC in GitHub, Snyk"),
        "{impact}"
    );
    assert!(impact.contains("Package: pillow"), "{impact}");
    assert!(impact.ends_with("Reachable: No"), "{impact}");
    assert_eq!(f.status, Status::RiskAccepted);
    assert_eq!(f.date, NaiveDate::from_ymd_opt(2025, 9, 11));
}

#[test]
fn resolved_issues_are_closed_and_other_types_skipped() {
    let doc = br#"{"data":[
        {"id":"a","type":"issue","attributes":{"type":"code","title":"T","status":"resolved","effective_severity_level":"low"}},
        {"id":"b","type":"issue","attributes":{"type":"license","title":"GPL"}},
        {"id":"c","type":"package","attributes":{"type":"code","title":"X"}}
    ]}"#;
    let findings = parse_bytes(&SnykIssueApiScan, doc).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].status, Status::Closed);
    assert!(findings[0].verified);
}

#[test]
fn every_fixture_finding_is_importable() {
    for rel in [
        "snyk_code_scan_api_many_vuln.json",
        "snyk_sca_scan_api_single_vuln.json",
    ] {
        for f in parse(rel) {
            f.normalize().unwrap_or_else(|e| panic!("{rel}: {e}"));
        }
    }
}

#[test]
fn sink_error_stops_the_parse() {
    json_fuzz::assert_sink_error_stops(
        &SnykIssueApiScan,
        &json_fuzz::fixture_bytes("snyk_issue_api/snyk_code_scan_api_many_vuln.json"),
    );
}

#[test]
fn bad_input_is_located() {
    let err = parse_bytes(
        &SnykIssueApiScan,
        b"{\"data\": [{\"id\": \"x\", \"attributes\": {\"ignored\": \"yes\"}}]}",
    )
    .unwrap_err();
    let loc = err.location.clone().expect("location");
    assert_eq!(loc.line, Some(1));
    assert_eq!(loc.path.as_deref(), Some("data[0].attributes.ignored"));
    assert!(err.to_string().contains("expected a boolean"), "{err}");
    let err = parse_bytes(&SnykIssueApiScan, b"[1]").unwrap_err();
    assert!(err.to_string().contains("JSON:API document"), "{err}");
}

const FIXTURES: [&str; 3] = [
    "snyk_issue_api/empty.json",
    "snyk_issue_api/snyk_code_scan_api_many_vuln.json",
    "snyk_issue_api/snyk_sca_scan_api_single_vuln.json",
];

const KEYS: &[&str] = &[
    "data",
    "id",
    "type",
    "attributes",
    "title",
    "description",
    "status",
    "ignored",
    "key",
    "effective_severity_level",
    "created_at",
    "classes",
    "source",
    "problems",
    "url",
    "updated_at",
    "coordinates",
    "is_fixable_manually",
    "is_fixable_snyk",
    "is_fixable_upstream",
    "is_patchable",
    "is_pinnable",
    "is_upgradeable",
    "reachability",
    "representations",
    "dependency",
    "package_name",
    "package_version",
    "sourceLocation",
    "file",
    "commit_id",
    "region",
    "start",
    "end",
    "line",
    "column",
    "severities",
    "score",
    "vector",
    "version",
    "risk",
    "value",
    "model",
    "exploit_details",
    "sources",
];

#[test]
fn every_fixture_truncated_never_panics() {
    json_fuzz::check_truncations(&SnykIssueApiScan, &FIXTURES, 48);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        json_fuzz::check(&SnykIssueApiScan, &bytes);
    }

    #[test]
    fn truncated_fixtures_never_panic(which in 0..FIXTURES.len(), cut in any::<prop::sample::Index>()) {
        let bytes = json_fuzz::fixture_bytes(FIXTURES[which]);
        json_fuzz::check(&SnykIssueApiScan, json_fuzz::truncated(&bytes, cut));
    }

    #[test]
    fn mutated_fixtures_never_panic(which in 1..FIXTURES.len(), at in any::<usize>(), with in json_fuzz::arb_json(KEYS)) {
        let mut doc: serde_json::Value = serde_json::from_slice(&json_fuzz::fixture_bytes(FIXTURES[which])).unwrap();
        json_fuzz::replace_node(&mut doc, at, with);
        json_fuzz::check(&SnykIssueApiScan, &serde_json::to_vec(&doc).unwrap());
    }

    #[test]
    fn generated_documents_never_panic(doc in json_fuzz::arb_json(KEYS)) {
        json_fuzz::check(&SnykIssueApiScan, &serde_json::to_vec(&doc).unwrap());
    }
}
