//! `Snyk Code Scan` against DefectDojo's sample files (fixtures/scans/snyk_code/), checking
//! what fixtures/scans/EXPECTED.md lists for each.

mod json_fuzz;

use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::snyk_code::SnykCodeScan;
use scanners::testing::{parse_bytes, parse_fixture};
use std::collections::BTreeMap;

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&SnykCodeScan, &format!("snyk_code/{rel}"))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn score_of(f: &NewFinding) -> Option<i64> {
    f.description
        .lines()
        .find_map(|l| l.strip_prefix("**score**: "))
        .and_then(|s| s.parse().ok())
}

#[test]
fn registered_under_defectdojos_name() {
    assert!(scanners::find_scan_type("Snyk Code Scan").is_some());
}

#[test]
fn single_project_many_vulns() {
    let findings = parse("single_project_many_vulns.json");
    assert_eq!(findings.len(), 206);
    let first = &findings[0];
    assert!(first.title.as_str().contains('_'));
    for needle in [
        "**ruleId**:",
        "**message**:",
        "**score**:",
        "**isAutofixable**:",
    ] {
        assert!(first.description.contains(needle), "{needle}");
    }
    assert!(matches!(
        first.severity,
        Severity::Low | Severity::Medium | Severity::High | Severity::Critical
    ));
    assert!(first.static_finding && !first.dynamic_finding);
}

#[test]
fn issue_9270_first_finding() {
    let findings = parse("snykcode_issue_9270.json");
    assert_eq!(findings.len(), 39);
    let f = &findings[0];
    assert_eq!(
        f.title.as_str(),
        "javascript/XSS_frontend/src/app/score-board/score-board.component.ts"
    );
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.static_finding && !f.dynamic_finding);
    assert_eq!(f.cwe, Some(79));
    for needle in [
        "**ruleId**: javascript/XSS",
        "**ruleIndex**: 0",
        "**score**: 504",
        "**isAutofixable**: False",
        "**uri**: frontend/src/app/score-board/score-board.component.ts",
        "**startLine**: 216",
        "**endLine**: 216",
        "**startColumn**: 44",
        "**endColumn**: 67",
    ] {
        assert!(
            f.description.contains(needle),
            "{needle} not in {}",
            f.description
        );
    }
    assert_eq!(
        f.file_path.as_deref(),
        Some("frontend/src/app/score-board/score-board.component.ts")
    );
    assert_eq!(f.line, Some(216));
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some("javascript/XSS"));
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("041274fc0869f892f98d45c0bd6903f2cfad48bc93a806c69ccfdb2c86f32781")
    );
    assert_eq!(f.status, Status::Active);
}

#[test]
fn issue_9270_all_findings() {
    let findings = parse("snykcode_issue_9270.json");
    let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in &findings {
        *by_severity.entry(f.severity).or_default() += 1;
        assert!(f.title.as_str().contains('_'), "{}", f.title);
        assert!(f.description.contains("**ruleId**:"));
        assert!(f.description.contains("**score**:"));
        assert!(f.static_finding && !f.dynamic_finding);
        assert!(f.severity > Severity::Info);
    }
    assert!(by_severity.len() > 1, "{by_severity:?}");
    let cwes: Vec<i32> = findings.iter().filter_map(|f| f.cwe).collect();
    assert!(!cwes.is_empty());
    assert!(cwes.contains(&79));
    assert!(cwes.iter().all(|c| *c > 0));
}

#[test]
fn severity_follows_priority_score_bands() {
    for rel in ["snykcode_issue_9270.json", "single_project_many_vulns.json"] {
        for f in parse(rel) {
            let score = score_of(&f).expect("score line");
            let band = match f.severity {
                Severity::Low => 0..=399,
                Severity::Medium => 400..=699,
                Severity::High => 700..=899,
                Severity::Critical => 900..=i64::MAX,
                Severity::Info => panic!("no info findings"),
            };
            assert!(
                band.contains(&score),
                "{rel}: {} has score {score}",
                f.severity
            );
        }
    }
}

#[test]
fn suppressions_map_to_status() {
    let doc = |suppressions: &str| {
        format!(
            r#"{{"runs":[{{"tool":{{"driver":{{"rules":[{{"id":"js/X","properties":{{"cwe":["CWE-89","CWE-564"]}}}}]}}}},
            "results":[{{"ruleId":"js/X","message":{{"text":"m"}},"properties":{{"priorityScore":950}},
            "locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"a.js"}},"region":{{"startLine":3}}}}}}],
            "suppressions":{suppressions}}}]}}]}}"#
        )
    };
    let one = |s: &str| {
        parse_bytes(&SnykCodeScan, doc(s).as_bytes())
            .unwrap()
            .remove(0)
    };
    let f = one("[]");
    assert_eq!(
        (f.status, f.severity, f.cwe, f.cwes.clone()),
        (Status::Active, Severity::Critical, Some(89), vec![89, 564])
    );
    assert_eq!(
        one(r#"[{"justification":"x","properties":{"category":"not-vulnerable"}}]"#).status,
        Status::FalsePositive
    );
    assert_eq!(
        one(r#"[{"properties":{"category":"wont-fix"}}]"#).status,
        Status::RiskAccepted
    );
    assert_eq!(
        one(r#"[{"properties":{"category":"temporary-ignore"}}]"#).status,
        Status::RiskAccepted
    );
    assert_eq!(
        one(r#"[{"kind":"external"}]"#).status,
        Status::FalsePositive
    );
    assert_eq!(one(r#"[{"status":"rejected"}]"#).status, Status::Active);
}

#[test]
fn every_fixture_finding_is_importable() {
    for rel in ["single_project_many_vulns.json", "snykcode_issue_9270.json"] {
        for f in parse(rel) {
            f.normalize().unwrap_or_else(|e| panic!("{rel}: {e}"));
        }
    }
}

#[test]
fn sink_error_stops_the_parse() {
    json_fuzz::assert_sink_error_stops(
        &SnykCodeScan,
        &json_fuzz::fixture_bytes("snyk_code/snykcode_issue_9270.json"),
    );
}

#[test]
fn bad_input_is_located() {
    let err = parse_bytes(
        &SnykCodeScan,
        b"{\"runs\": [{\"results\": [{\"locations\": 5}]}]}",
    )
    .unwrap_err();
    let loc = err.location.clone().expect("location");
    assert_eq!(loc.path.as_deref(), Some("runs[0].results[0].locations"));
    assert!(err.to_string().contains("expected a sequence"), "{err}");
    let err = parse_bytes(&SnykCodeScan, b"[]").unwrap_err();
    assert!(err.to_string().contains("SARIF log object"), "{err}");
}

const FIXTURES: [&str; 2] = [
    "snyk_code/single_project_many_vulns.json",
    "snyk_code/snykcode_issue_9270.json",
];

const KEYS: &[&str] = &[
    "runs",
    "tool",
    "driver",
    "extensions",
    "rules",
    "id",
    "helpUri",
    "properties",
    "tags",
    "cwe",
    "invocations",
    "endTimeUtc",
    "results",
    "ruleId",
    "ruleIndex",
    "kind",
    "level",
    "message",
    "text",
    "locations",
    "physicalLocation",
    "artifactLocation",
    "uri",
    "uriBaseId",
    "region",
    "startLine",
    "endLine",
    "startColumn",
    "endColumn",
    "byteOffset",
    "fingerprints",
    "partialFingerprints",
    "priorityScore",
    "isAutofixable",
    "suppressions",
    "status",
    "category",
    "fixes",
    "description",
    "value",
];

/// A small document in the fixtures' shape, to mutate: the fixtures themselves are too large
/// to re-serialize for every case.
const SMALL: &str = r#"{"runs":[{"tool":{"driver":{"rules":[{"id":"javascript/XSS","properties":{"cwe":["CWE-79"],"tags":["javascript"]}}]}},
"invocations":[{"endTimeUtc":"2024-01-02T03:04:05Z"}],
"results":[{"ruleId":"javascript/XSS","ruleIndex":0,"level":"warning","message":{"text":"m"},
"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.ts","uriBaseId":"%SRCROOT%"},"region":{"startLine":2,"endLine":2,"startColumn":1,"endColumn":4}}}],
"fingerprints":{"0":"abc","1":"def"},"properties":{"priorityScore":504,"isAutofixable":false},
"suppressions":[{"properties":{"category":"wont-fix"}}],"fixes":[{"description":{"text":"fix it"}}]}]}]}"#;

#[test]
fn every_fixture_truncated_never_panics() {
    json_fuzz::check_truncations(&SnykCodeScan, &FIXTURES, 48);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        json_fuzz::check(&SnykCodeScan, &bytes);
    }

    #[test]
    fn truncated_fixtures_never_panic(which in 0..FIXTURES.len(), cut in any::<prop::sample::Index>()) {
        let bytes = json_fuzz::fixture_bytes(FIXTURES[which]);
        json_fuzz::check(&SnykCodeScan, json_fuzz::truncated(&bytes, cut));
    }

    #[test]
    fn mutated_documents_never_panic(at in any::<usize>(), with in json_fuzz::arb_json(KEYS)) {
        let mut doc: serde_json::Value = serde_json::from_str(SMALL).unwrap();
        json_fuzz::replace_node(&mut doc, at, with);
        json_fuzz::check(&SnykCodeScan, &serde_json::to_vec(&doc).unwrap());
    }

    #[test]
    fn generated_documents_never_panic(doc in json_fuzz::arb_json(KEYS)) {
        json_fuzz::check(&SnykCodeScan, &serde_json::to_vec(&doc).unwrap());
    }
}
