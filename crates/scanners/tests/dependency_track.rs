//! `Dependency Track Finding Packaging Format (FPF) Export` against DefectDojo's sample files
//! (fixtures/scans/dependency_track/), checking what fixtures/scans/EXPECTED.md lists for each.

mod json_fuzz;

use chrono::NaiveDate;
use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::dependency_track::DependencyTrackFpf;
use scanners::testing::{parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&DependencyTrackFpf, &format!("dependency_track/{rel}"))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn has_id(f: &NewFinding, id: &str) -> bool {
    f.vulnerability_ids.iter().any(|v| v == id)
}

/// DefectDojo asserts `file_path is not None` for every finding: it stores the purl (or
/// "unknown") there so that its de-duplication has a file to compare. A dependency has no
/// file; the purl is kept as `component_purl`, which is what that check stands for here.
fn assert_identified(findings: &[NewFinding]) {
    for f in findings {
        assert_eq!(f.file_path, None);
        assert!(f.component_purl.is_some(), "{}", f.title);
        assert!(f.vuln_id_from_tool.is_some(), "{}", f.title);
        assert!(f.unique_id_from_tool.is_some(), "{}", f.title);
    }
}

#[test]
fn registered_under_defectdojos_name() {
    assert!(
        scanners::find_scan_type("Dependency Track Finding Packaging Format (FPF) Export")
            .is_some()
    );
}

#[test]
fn v3_8_0() {
    let findings = parse("dependency_track_3.8.0_2021-01-18.json");
    assert_eq!(findings.len(), 9);
    assert_identified(&findings);
}

#[test]
fn v4_10_epss() {
    let findings = parse("dependency_track_4.10_2024_02_11.json");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.epss_score, Some(0.00043));
    assert_eq!(f.epss_percentile, Some(0.07756));
    assert_eq!(f.cvss_v3_score, Some(4.2));
    assert!(has_id(f, "CVE-2023-45803"));
    assert!(has_id(f, "GHSA-g4mx-q9vg-27p4"));
    assert_eq!(f.date, NaiveDate::from_ymd_opt(2024, 1, 31));
    assert_eq!(
        f.title.as_str(),
        "urllib3:1.26.16 affected by: CVE-2023-45803 (NVD)"
    );
}

#[test]
fn php_4_14_1() {
    let findings = parse("deptrack_php_4.14.1.json");
    assert_eq!(findings.len(), 13);
    assert!(has_id(&findings[12], "GHSA-qrr6-mg7r-m243"));
    assert!(has_id(&findings[0], "GHSA-4486-gxhx-5mg7"));
    assert!(has_id(&findings[0], "CVE-2026-25129"));
    // The Composer vendor is part of the package name (DefectDojo keeps only `psysh`).
    assert_eq!(findings[0].component_name.as_deref(), Some("psy/psysh"));
    assert_eq!(
        findings[0].publish_date,
        NaiveDate::from_ymd_opt(2026, 1, 30)
    );
}

#[test]
fn many_findings() {
    let findings = parse("many_findings.json");
    assert_eq!(findings.len(), 4);
    assert!(has_id(&findings[0], "533"));
    assert!(has_id(&findings[1], "48"));
    assert_eq!(findings[2].vulnerability_ids, ["CVE-2016-2097"]);
    assert_eq!(
        findings[2].unique_id_from_tool.as_deref(),
        Some(
            "8d7f5fcd-210b-491d-a29e-904c2e01b281:3e52f829-3317-48c3-bde1-342c610bd223:900991f6-335a-49cb-9bf6-87b545f960ce"
        )
    );
    assert_eq!(
        findings[2].vuln_id_from_tool.as_deref(),
        Some("900991f6-335a-49cb-9bf6-87b545f960ce")
    );
    // false_p, mitigated and inactive in DefectDojo: one status here.
    assert_eq!(findings[2].status, Status::FalsePositive);
    assert!(!findings[2].status.is_open());
    assert_eq!(findings[3].vulnerability_ids, ["CVE-2016-2097"]);
    assert_eq!(findings[3].status, Status::Active);
    assert_eq!(findings[0].severity, Severity::Low);
    assert_eq!(findings[0].cwe, Some(400));
    assert_eq!(
        findings[1].mitigation.as_deref(),
        Some("Update to version 2.6.0 or later.")
    );
}

#[test]
fn many_findings_with_cvss_v3_score() {
    let findings = parse("many_findings_with_cvssV3_score.json");
    assert_eq!(findings.len(), 12);
    assert_identified(&findings);
    assert!(has_id(&findings[0], "CVE-2022-42004"));
    assert_eq!(findings[0].cvss_v3_score, Some(8.3));
}

#[test]
fn many_findings_with_empty_alias() {
    let findings = parse("many_findings_with_empty_alias.json");
    assert_eq!(findings.len(), 12);
    assert!(has_id(&findings[11], "CVE-2022-2053"));
}

#[test]
fn exports_without_findings() {
    for rel in [
        "no_findings_because_findings_key_is_empty_list.json",
        "no_findings_because_findings_key_is_missing.json",
        "no_findings_because_findings_key_is_null.json",
    ] {
        assert!(parse(rel).is_empty(), "{rel}");
    }
}

#[test]
fn one_finding() {
    let findings = parse("one_finding.json");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some(
            "ca4f2da9-0fad-4a13-92d7-f627f3168a56:b815b581-fec1-4374-a871-68862a8f8d52:115b80bb-46c4-41d1-9f10-8a175d4abb46"
        )
    );
    assert_eq!(
        f.cvss_v3_vector.as_deref(),
        Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );
    assert_eq!(
        f.cvss_v4_vector.as_deref(),
        Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N")
    );
    let refs = f.references.as_deref().unwrap_or("");
    assert!(refs.contains("https://example.com"));
    assert!(refs.contains("https://example.org"));
    assert_eq!(f.publish_date, NaiveDate::from_ymd_opt(2025, 7, 11));
    assert_eq!(f.title.as_str(), "timespan:2.3.0 affected by: 533 (NPM)");
    assert_eq!(f.component_purl.as_deref(), Some("pkg:npm/timespan@2.3.0"));
}

#[test]
fn ghsa_with_empty_aliases() {
    let findings = parse("one_finding_ghsa_empty_aliases.json");
    assert_eq!(findings.len(), 1);
    assert!(has_id(&findings[0], "GHSA-w5hq-g745-h8pq"));
}

#[test]
fn analysis_detail_goes_to_the_description() {
    let findings = parse("one_finding_with_analysis_detail.json");
    assert_eq!(findings.len(), 1);
    assert!(findings[0].description.contains(
        "Audit Detail: Reviewed and confirmed vulnerable. Upgrade scheduled for next sprint."
    ));
    // IN_TRIAGE: someone is on it (DefectDojo leaves it plain active).
    assert_eq!(findings[0].status, Status::InProgress);
    assert!(findings[0].status.is_open());
}

#[test]
fn analysis_states() {
    let doc = |analysis: &str| {
        format!(
            r#"{{"findings":[{{"component":{{"name":"c","version":"1"}},"vulnerability":{{"vulnId":"CVE-1-1","source":"NVD","severity":"UNASSIGNED"}},"analysis":{analysis},"matrix":"p:c:v"}}]}}"#
        )
    };
    let status = |a: &str| {
        let f = parse_bytes(&DependencyTrackFpf, doc(a).as_bytes())
            .unwrap()
            .remove(0);
        (f.status, f.verified)
    };
    assert_eq!(
        status(r#"{"state":"NOT_AFFECTED"}"#),
        (Status::FalsePositive, true)
    );
    assert_eq!(
        status(r#"{"state":"FALSE_POSITIVE","isSuppressed":true}"#),
        (Status::FalsePositive, true)
    );
    assert_eq!(status(r#"{"state":"RESOLVED"}"#), (Status::Closed, true));
    assert_eq!(status(r#"{"state":"EXPLOITABLE"}"#), (Status::Active, true));
    assert_eq!(
        status(r#"{"state":"NOT_SET","isSuppressed":true}"#),
        (Status::RiskAccepted, false)
    );
    assert_eq!(
        status(r#"{"state":"EXPLOITABLE","isSuppressed":true}"#),
        (Status::RiskAccepted, true)
    );
    assert_eq!(status("null"), (Status::Active, false));
    let f = parse_bytes(&DependencyTrackFpf, doc("null").as_bytes())
        .unwrap()
        .remove(0);
    assert_eq!((f.severity, f.cwe), (Severity::Info, Some(1035)));
}

#[test]
fn findings_api_list_is_accepted() {
    let doc = br#"[{"component":{"name":"lodash","version":"4.17.15","purl":"pkg:npm/lodash@4.17.15"},
        "vulnerability":{"uuid":"u","vulnId":"CVE-2021-23337","source":"NVD","severity":"HIGH","published":1613347200000,
        "references":["https://a","https://b"]},"attribution":{"attributedOn":1717200000000},"matrix":"p:c:u"}]"#;
    let findings = parse_bytes(&DependencyTrackFpf, doc).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].publish_date,
        NaiveDate::from_ymd_opt(2021, 2, 15)
    );
    assert_eq!(findings[0].date, NaiveDate::from_ymd_opt(2024, 6, 1));
    assert_eq!(
        findings[0].references.as_deref(),
        Some("https://a\nhttps://b")
    );
}

#[test]
fn every_fixture_finding_is_importable() {
    for rel in FIXTURES {
        let rel = rel.trim_start_matches("dependency_track/");
        for f in parse(rel) {
            f.normalize().unwrap_or_else(|e| panic!("{rel}: {e}"));
        }
    }
}

#[test]
fn sink_error_stops_the_parse() {
    json_fuzz::assert_sink_error_stops(
        &DependencyTrackFpf,
        &json_fuzz::fixture_bytes("dependency_track/many_findings.json"),
    );
}

#[test]
fn bad_input_is_located() {
    let err = parse_bytes(
        &DependencyTrackFpf,
        b"{\"findings\": [\n {\"component\": {\"name\": \"x\"}}\n]}",
    )
    .unwrap_err();
    let loc = err.location.clone().expect("location");
    assert_eq!(loc.line, Some(2));
    assert_eq!(loc.path.as_deref(), Some("findings[0]"));
    assert!(
        err.to_string().contains("missing field `vulnerability`"),
        "{err}"
    );
    let err = parse_bytes(&DependencyTrackFpf, b"{\"findings\": 3}").unwrap_err();
    assert!(err.to_string().contains("expected a sequence"), "{err}");
}

const FIXTURES: [&str; 12] = [
    "dependency_track/dependency_track_3.8.0_2021-01-18.json",
    "dependency_track/dependency_track_4.10_2024_02_11.json",
    "dependency_track/deptrack_php_4.14.1.json",
    "dependency_track/many_findings.json",
    "dependency_track/many_findings_with_cvssV3_score.json",
    "dependency_track/many_findings_with_empty_alias.json",
    "dependency_track/no_findings_because_findings_key_is_empty_list.json",
    "dependency_track/no_findings_because_findings_key_is_missing.json",
    "dependency_track/no_findings_because_findings_key_is_null.json",
    "dependency_track/one_finding.json",
    "dependency_track/one_finding_ghsa_empty_aliases.json",
    "dependency_track/one_finding_with_analysis_detail.json",
];

const KEYS: &[&str] = &[
    "findings",
    "component",
    "vulnerability",
    "analysis",
    "attribution",
    "matrix",
    "name",
    "group",
    "version",
    "purl",
    "vulnId",
    "uuid",
    "source",
    "title",
    "subtitle",
    "description",
    "recommendation",
    "severity",
    "cweId",
    "cwes",
    "cvssV3BaseScore",
    "cvssV3Vector",
    "cvssV4Score",
    "cvssV4Vector",
    "epssScore",
    "epssPercentile",
    "references",
    "published",
    "aliases",
    "cveId",
    "ghsaId",
    "state",
    "isSuppressed",
    "detail",
    "attributedOn",
];

#[test]
fn every_fixture_truncated_never_panics() {
    json_fuzz::check_truncations(&DependencyTrackFpf, &FIXTURES, 48);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        json_fuzz::check(&DependencyTrackFpf, &bytes);
    }

    #[test]
    fn truncated_fixtures_never_panic(which in 0..FIXTURES.len(), cut in any::<prop::sample::Index>()) {
        let bytes = json_fuzz::fixture_bytes(FIXTURES[which]);
        json_fuzz::check(&DependencyTrackFpf, json_fuzz::truncated(&bytes, cut));
    }

    #[test]
    fn mutated_fixtures_never_panic(which in 0..FIXTURES.len(), at in any::<usize>(), with in json_fuzz::arb_json(KEYS)) {
        let mut doc: serde_json::Value = serde_json::from_slice(&json_fuzz::fixture_bytes(FIXTURES[which])).unwrap();
        json_fuzz::replace_node(&mut doc, at, with);
        json_fuzz::check(&DependencyTrackFpf, &serde_json::to_vec(&doc).unwrap());
    }

    #[test]
    fn generated_documents_never_panic(doc in json_fuzz::arb_json(KEYS)) {
        json_fuzz::check(&DependencyTrackFpf, &serde_json::to_vec(&doc).unwrap());
    }
}
