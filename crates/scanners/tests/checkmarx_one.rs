//! `Checkmarx One Scan` against DefectDojo's sample files (fixtures/scans/checkmarx_one/),
//! checking what fixtures/scans/EXPECTED.md lists for each.

mod json_fuzz;

use chrono::NaiveDate;
use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::checkmarx_one::CheckmarxOneScan;
use scanners::testing::{parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&CheckmarxOneScan, &format!("checkmarx_one/{rel}"))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// What DefectDojo checks on every finding of the richer samples. `date` stands for "the
/// report says when": DefectDojo's model defaults it to today, ours leaves that to the importer,
/// so here it must come from the report.
fn assert_complete(findings: &[NewFinding]) {
    for f in findings {
        assert!(f.unique_id_from_tool.is_some(), "{}", f.title);
        assert!(f.date.is_some(), "{}", f.title);
        assert!(!f.description.is_empty(), "{}", f.title);
    }
}

#[test]
fn registered_under_defectdojos_name() {
    assert!(scanners::find_scan_type("Checkmarx One Scan").is_some());
}

#[test]
fn gitlab_sast_report() {
    let findings = parse("checkmarx_one.json");
    assert_eq!(findings.len(), 5);
    assert_complete(&findings);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.file_path.as_deref(), Some("/src/helpers/Constants.ts"));
    assert_eq!(f.line, Some(450));
    assert_eq!(f.unique_id_from_tool.as_deref(), Some("511341974"));
    assert_eq!(f.date, NaiveDate::from_ymd_opt(2024, 1, 18));
    // DefectDojo titles it `511341974_/src/helpers/Constants.ts` (identifier and file); the
    // query's name says what the problem is, and the file is already `file_path`.
    assert_eq!(
        f.title.as_str(),
        "Client HTML5 Store Sensitive data In Web Storage"
    );
    // DefectDojo marks these inactive: the format has no triage state and its mapping treats
    // "no state" as not active. Untriaged results are open.
    assert_eq!(f.status, Status::Active);
    assert_eq!(findings[3].severity, Severity::Info);
}

#[test]
fn format_two_without_description() {
    let findings = parse("checkmarx_one_format_two.json");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Low);
    assert!(
        f.description
            .starts_with("Low Insufficiently Protected Credentials"),
        "{}",
        f.description
    );
    assert_eq!(f.title.as_str(), "Insufficiently Protected Credentials");
    assert_eq!(f.cwe, Some(522));
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("1ZOFSPJzlZAqW4XH/43v0l2qI7w=")
    );
    assert_eq!(
        f.file_path.as_deref(),
        Some(
            "/src/main/java/org/owasp/webgoat/lessons/missingac/MissingAccessControlUserRepository.java"
        )
    );
    assert_eq!(f.line, Some(24));
    assert_eq!(f.tags, ["sast"]);
}

#[test]
fn many_findings() {
    let findings = parse("many_findings.json");
    assert_eq!(findings.len(), 6);
    assert_complete(&findings);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.file_path.as_deref(), Some("/qe/testharness/Dockerfile"));
    assert_eq!(f.line, Some(1));
    assert_eq!(f.title.as_str(), "Missing User Instruction");
    assert_eq!(f.tags, ["kics"]);
    assert_eq!(f.date, NaiveDate::from_ymd_opt(2022, 12, 26));
    assert!(
        f.mitigation
            .as_deref()
            .unwrap_or("")
            .contains("should contain the 'USER' instruction")
    );
}

#[test]
fn no_findings() {
    assert!(parse("no_findings.json").is_empty());
}

#[test]
fn false_positive_state() {
    let findings = parse("one-open-one-false-positive.json");
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].status, Status::FalsePositive);
    assert!(!findings[0].status.is_open());
    assert!(findings[0].verified);
    assert_eq!(findings[1].status, Status::Active);
    assert_eq!(findings[0].severity, Severity::Critical);
    assert_eq!(findings[0].cwe, Some(89));
}

#[test]
fn reimport_sample_marks_both_false_positive() {
    // DefectDojo's reimport test: after `one-open-one-false-positive.json`, this file closes
    // the open one as a false positive. Matching works by unique id, which both files share.
    let before = parse("one-open-one-false-positive.json");
    let after = parse("two-false-positive.json");
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|f| f.status == Status::FalsePositive));
    let ids = |v: &[NewFinding]| {
        v.iter()
            .map(|f| f.unique_id_from_tool.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&before), ids(&after));
}

#[test]
fn scan_report_with_null_details() {
    let findings = parse("vulnerabilities_from_scan_results_null_details.json");
    assert_eq!(findings.len(), 2);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.title.as_str(), "Kotlin/Kotlin High Risk/Reflected XSS");
    // DefectDojo asserts an empty string; "" and absent are the same here.
    assert_eq!(f.mitigation, None);
}

#[test]
fn scan_report_sast_only() {
    let findings = parse("vulnerabilities_from_scan_results_sast_only.json");
    assert_eq!(findings.len(), 2);
    for f in &findings {
        assert!(!f.description.is_empty());
        assert!(f.date.is_some());
        assert_eq!(f.tags, ["sast"]);
    }
    let f = &findings[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.title.as_str(), "Kotlin/Kotlin High Risk/Reflected XSS");
    assert_eq!(
        f.file_path.as_deref(),
        Some("/src/main/kotlin/domain/entity/Customer.kt")
    );
    assert_eq!(f.line, Some(484));
    assert_eq!(f.cwe, Some(79));
    assert_eq!(
        f.mitigation.as_deref(),
        Some("Fully encode all dynamic data before embedding it in output.")
    );
    assert_eq!(
        f.impact.as_deref(),
        Some(
            "A successful XSS exploit would allow an attacker to rewrite web pages and insert malicious scripts."
        )
    );
    assert_eq!(
        f.references.as_deref(),
        Some("- OWASP Top 10 2021\n\t- A3-Injection\n")
    );
    // "To Verify" is the report's spelling of TO_VERIFY: open (DefectDojo marks it inactive
    // because it compares against the API's spelling only).
    assert_eq!(f.status, Status::Active);
    // DefectDojo sets no unique id for this format; the similarity id is Checkmarx's own
    // identity of a result across scans, so reimports can match on it.
    assert_eq!(f.unique_id_from_tool.as_deref(), Some("134962663"));
    assert_eq!(f.date, NaiveDate::from_ymd_opt(2026, 3, 18));
    assert_eq!(findings[1].severity, Severity::Low);
}

#[test]
fn api_export_result_types() {
    // No DefectDojo test opens this file; it has one result of every type.
    let findings = parse("api_export.json");
    assert_eq!(findings.len(), 8);
    assert_complete(&findings);
    let kinds: Vec<&str> = findings.iter().map(|f| f.tags[0].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "kics",
            "sast",
            "sast",
            "sca-container",
            "sast",
            "sca-container",
            "sca",
            "sca"
        ]
    );

    let kics = &findings[0];
    assert_eq!(
        kics.title.as_str(),
        "Unpinned Actions Full Length Commit SHA"
    );
    assert_eq!(
        kics.file_path.as_deref(),
        Some("/.github/workflows/checkmarx.yaml")
    );
    assert_eq!(kics.line, Some(17));

    let sast = &findings[1];
    assert_eq!(sast.title.as_str(), "SSL Verification Bypass");
    assert_eq!(sast.cwe, Some(599));
    assert_eq!(
        sast.file_path.as_deref(),
        Some("/robot/SAC016 atendimento_seller.py")
    );
    assert_eq!(sast.line, Some(50));
    assert_eq!(
        sast.unique_id_from_tool.as_deref(),
        Some("wUBV69FwAKwM2V0JMHrAf1C00Dk=")
    );

    let container = &findings[3];
    assert_eq!(
        container.title.as_str(),
        "CVE-2024-28085 in libuuid1 2.34-0.1ubuntu9.4"
    );
    assert_eq!(container.component_name.as_deref(), Some("libuuid1"));
    assert_eq!(container.vulnerability_ids, ["CVE-2024-28085"]);
    // DefectDojo's id is the bare CVE, which every package the CVE affects repeats (util-linux
    // ships libuuid1, libblkid1, libmount1…); with the package it names one finding.
    assert_eq!(
        container.unique_id_from_tool.as_deref(),
        Some("CVE-2024-28085:libuuid1@2.34-0.1ubuntu9.4")
    );
    assert_eq!(container.cvss_v3_score, None);
    assert_eq!(findings[5].cwe, Some(74));

    let sca = &findings[7];
    assert_eq!(sca.title.as_str(), "CVE-2023-44270 in postcss 7.0.39");
    assert_eq!(sca.component_name.as_deref(), Some("postcss"));
    assert_eq!(sca.component_version.as_deref(), Some("7.0.39"));
    assert_eq!(sca.fix_version.as_deref(), Some("8.4.31"));
    assert_eq!(sca.fix_available, Some(true));
    assert_eq!(sca.cvss_v3_score, Some(5.3));
    assert_eq!(sca.publish_date, NaiveDate::from_ymd_opt(2023, 9, 29));
    // `cveName` holds the CWE here; it is not a vulnerability id.
    assert_eq!(sca.vulnerability_ids, ["CVE-2023-44270"]);
    assert!(
        sca.references
            .as_deref()
            .unwrap_or("")
            .contains("GHSA-7fh5-64p2-3v2j")
    );
    assert_eq!(findings[6].vulnerability_ids, ["Cxda14f253-4e52"]);
    assert_eq!(findings[6].cvss_v3_score, Some(3.7));
}

#[test]
fn every_fixture_finding_is_importable() {
    for rel in FIXTURES {
        let rel = rel.trim_start_matches("checkmarx_one/");
        for f in parse(rel) {
            f.normalize().unwrap_or_else(|e| panic!("{rel}: {e}"));
        }
    }
}

#[test]
fn sink_error_stops_the_parse() {
    json_fuzz::assert_sink_error_stops(
        &CheckmarxOneScan,
        &json_fuzz::fixture_bytes("checkmarx_one/many_findings.json"),
    );
}

#[test]
fn bad_input_is_located() {
    let err = parse_bytes(
        &CheckmarxOneScan,
        b"{\"results\": [\n  {\"type\": \"sast\", \"data\": {\"nodes\": {}}}\n]}",
    )
    .unwrap_err();
    let loc = err.location.clone().expect("location");
    assert_eq!(loc.line, Some(2));
    assert_eq!(loc.path.as_deref(), Some("results[0].data.nodes"));
    assert!(err.to_string().contains("expected a sequence"), "{err}");
    let err = parse_bytes(&CheckmarxOneScan, b"[]").unwrap_err();
    assert!(err.to_string().contains("Checkmarx ONE export"), "{err}");
}

const FIXTURES: [&str; 9] = [
    "checkmarx_one/api_export.json",
    "checkmarx_one/checkmarx_one.json",
    "checkmarx_one/checkmarx_one_format_two.json",
    "checkmarx_one/many_findings.json",
    "checkmarx_one/no_findings.json",
    "checkmarx_one/one-open-one-false-positive.json",
    "checkmarx_one/two-false-positive.json",
    "checkmarx_one/vulnerabilities_from_scan_results_null_details.json",
    "checkmarx_one/vulnerabilities_from_scan_results_sast_only.json",
];

const KEYS: &[&str] = &[
    "results",
    "vulnerabilities",
    "scanResults",
    "iacScanResults",
    "vulnerabilityDetails",
    "scan",
    "end_time",
    "type",
    "id",
    "similarityId",
    "status",
    "state",
    "severity",
    "description",
    "firstFoundAt",
    "data",
    "queryName",
    "group",
    "languageName",
    "nodes",
    "fileName",
    "filename",
    "line",
    "method",
    "code",
    "platform",
    "issueType",
    "expectedValue",
    "value",
    "packageIdentifier",
    "packageName",
    "packageVersion",
    "recommendedVersion",
    "publishedAt",
    "packageData",
    "url",
    "cweId",
    "cveName",
    "cvssScore",
    "resultsList",
    "queryPath",
    "categories",
    "name",
    "subCategories",
    "firstFoundDate",
    "destinationFileName",
    "destinationLine",
    "vulnerabilityName",
    "risk",
    "cause",
    "generalRecommendations",
    "technology",
    "queries",
    "category",
    "actualValue",
    "identifiers",
    "location",
    "file",
    "start_line",
    "solution",
    "message",
];

#[test]
fn every_fixture_truncated_never_panics() {
    json_fuzz::check_truncations(&CheckmarxOneScan, &FIXTURES, 48);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        json_fuzz::check(&CheckmarxOneScan, &bytes);
    }

    #[test]
    fn truncated_fixtures_never_panic(which in 0..FIXTURES.len(), cut in any::<prop::sample::Index>()) {
        let bytes = json_fuzz::fixture_bytes(FIXTURES[which]);
        json_fuzz::check(&CheckmarxOneScan, json_fuzz::truncated(&bytes, cut));
    }

    #[test]
    fn mutated_fixtures_never_panic(which in 0..FIXTURES.len(), at in any::<usize>(), with in json_fuzz::arb_json(KEYS)) {
        let mut doc: serde_json::Value = serde_json::from_slice(&json_fuzz::fixture_bytes(FIXTURES[which])).unwrap();
        json_fuzz::replace_node(&mut doc, at, with);
        json_fuzz::check(&CheckmarxOneScan, &serde_json::to_vec(&doc).unwrap());
    }

    #[test]
    fn generated_documents_never_panic(doc in json_fuzz::arb_json(KEYS)) {
        json_fuzz::check(&CheckmarxOneScan, &serde_json::to_vec(&doc).unwrap());
    }
}
