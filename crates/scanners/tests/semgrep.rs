//! `Semgrep JSON Report` and `Semgrep Pro JSON Report` on DefectDojo's sample files:
//! each test checks what `fixtures/scans/EXPECTED.md` lists for the file.

mod parser_checks;

use domain::{Severity, Status};
use parser_checks::{damaged, fixture_bytes, never_panics, parse_ok};
use proptest::prelude::*;
use scanners::formats::semgrep::Semgrep;
use scanners::formats::semgrep_pro::SemgrepPro;
use scanners::testing::parse_bytes;

const CBC_RULE: &str = "java.lang.security.audit.cbc-padding-oracle.cbc-padding-oracle";

#[test]
fn registered_under_defectdojo_names() {
    assert!(scanners::find_scan_type("Semgrep JSON Report").is_some());
    assert!(scanners::find_scan_type("semgrep pro json report").is_some());
}

#[test]
fn cwe_list() {
    let f = parse_ok(&Semgrep, "semgrep/cwe_list.json");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.file_path.as_deref(), Some("index.js"));
    assert_eq!(f.line, Some(12));
    assert_eq!(f.cwe, Some(352));
    assert_eq!(f.cwes, [352]);
    assert_eq!(
        f.vuln_id_from_tool.as_deref(),
        Some(
            "javascript.express.security.audit.express-check-csurf-middleware-usage.express-check-csurf-middleware-usage"
        )
    );
    assert!(f.description.contains("const app = express();"));
    assert!(f.description.contains(
        "A CSRF middleware was not detected in your express application. Ensure you are either using one  such as `csurf` or `csrf`"
    ));
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("143cb0c62f3740d62180cbde3ffa976e")
    );
    assert!(f.static_finding && !f.dynamic_finding);
    assert_eq!(f.status, Status::Active);
}

#[test]
fn empty() {
    assert!(parse_ok(&Semgrep, "semgrep/empty.json").is_empty());
}

#[test]
fn fingerprint_requires_login_is_no_fingerprint() {
    let f = parse_ok(&Semgrep, "semgrep/fingerprint_test.json");
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].unique_id_from_tool, None);
    assert_eq!(f[0].file_path.as_deref(), Some("sample/brute.py"));
    assert_eq!(f[0].line, Some(31));
    assert_eq!(f[1].unique_id_from_tool, None);
    assert_eq!(f[1].file_path.as_deref(), Some("sample/function.go"));
    assert_eq!(f[1].line, Some(37));
    // "requires login" also stands in for the snippet; it must not show as code.
    assert!(!f[0].description.contains("requires login"));
}

#[test]
fn low_medium_high_severity() {
    let f = parse_ok(&Semgrep, "semgrep/high-medium-low-severities.json");
    assert_eq!(f.len(), 3);
    // Despite its name, the file holds three LOW results.
    assert!(f.iter().all(|f| f.severity == Severity::Low));
}

#[test]
fn issue_8435() {
    let f = parse_ok(&Semgrep, "semgrep/issue_8435.json");
    assert_eq!(f.len(), 1);
    // DefectDojo rewrites "<![" in snippets as a rendering workaround; ours keeps the code
    // verbatim inside a fenced block, which Markdown renders literally.
    assert!(f[0].description.contains("<![A-Z]>"));
}

#[test]
fn many_findings() {
    let f = parse_ok(&Semgrep, "semgrep/many_findings.json");
    assert_eq!(f.len(), 3);
    assert_eq!(f[0].severity, Severity::Medium);
    assert_eq!(
        f[0].file_path.as_deref(),
        Some("src/main/java/org/owasp/benchmark/testcode/BenchmarkTest02194.java")
    );
    assert_eq!(f[0].line, Some(64));
    assert_eq!(f[0].cwe, Some(696));
    assert_eq!(
        f[0].mitigation.as_deref(),
        Some("javax crypto Cipher.getInstance(\"AES/GCM/NoPadding\");")
    );
    assert_eq!(f[0].vuln_id_from_tool.as_deref(), Some(CBC_RULE));
    assert_eq!(f[2].severity, Severity::Low);
    assert_eq!(
        f[2].file_path.as_deref(),
        Some("src/main/java/org/owasp/benchmark/testcode/BenchmarkTest01150.java")
    );
    assert_eq!(f[2].line, Some(66));
    assert_eq!(f[2].cwe, Some(696));
    assert_eq!(
        f[2].mitigation.as_deref(),
        Some("javax crypto Cipher.getInstance(\"AES/GCM/NoPadding\");")
    );
    assert_eq!(f[2].vuln_id_from_tool.as_deref(), Some(CBC_RULE));
}

#[test]
fn multiple_cwes() {
    let f = parse_ok(&Semgrep, "semgrep/multiple_cwes_fabricated.json");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].cwe, Some(327));
    assert_eq!(f[0].cwes, [327, 696]);
}

#[test]
fn one_finding() {
    let f = parse_ok(&Semgrep, "semgrep/one_finding.json");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(
        f.file_path.as_deref(),
        Some("src/main/java/org/owasp/benchmark/testcode/BenchmarkTest02194.java")
    );
    assert_eq!(f.line, Some(64));
    assert_eq!(f.cwe, Some(696));
    assert_eq!(
        f.mitigation.as_deref(),
        Some("javax crypto Cipher.getInstance(\"AES/GCM/NoPadding\");")
    );
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some(CBC_RULE));
    assert_eq!(f.title.as_str(), CBC_RULE);
    assert!(f.description.contains(
        "javax.crypto.Cipher c = javax.crypto.Cipher.getInstance(\"DES/CBC/PKCS5Padding\");"
    ));
    assert!(
        f.description
            .contains("Using CBC with PKCS5Padding is susceptible to padding orcale attacks")
    );
    assert_eq!(
        f.references.as_deref(),
        Some("https://capec.mitre.org/data/definitions/463.html")
    );
}

#[test]
fn repeated_finding_counts_occurrences() {
    let f = parse_ok(&Semgrep, "semgrep/repeated_findings.json");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(
        f.file_path.as_deref(),
        Some("src/main/java/org/owasp/benchmark/testcode/BenchmarkTest01150.java")
    );
    assert_eq!(f.line, Some(66));
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some(CBC_RULE));
    assert_eq!(f.cwe, Some(696));
    assert_eq!(
        f.mitigation.as_deref(),
        Some("javax crypto Cipher.getInstance(\"AES/GCM/NoPadding\");")
    );
    assert_eq!(f.occurrences, Some(2));
}

#[test]
fn different_lines_same_fingerprint() {
    let first = parse_ok(&Semgrep, "semgrep/semgrep_version_1_30_0_line_26.json");
    let second = parse_ok(&Semgrep, "semgrep/semgrep_version_1_30_0_line_27.json");
    assert_eq!(first.len(), second.len());
    assert_eq!(first.len(), 5);
    for (a, b) in first.iter().zip(&second) {
        assert!(a.unique_id_from_tool.is_some());
        assert_eq!(a.unique_id_from_tool, b.unique_id_from_tool);
    }
}

/// The importer's close-old-findings oracle: the fingerprint survives a moved line and a
/// changed fingerprint is a new finding.
#[test]
fn close_old_findings_reports() {
    let run1 = parse_ok(&Semgrep, "semgrep/close_old_findings_report_line31.json");
    let run2 = parse_ok(
        &Semgrep,
        "semgrep/close_old_findings_report_second_run_line24.json",
    );
    let run3 = parse_ok(
        &Semgrep,
        "semgrep/close_old_findings_report_third_run_different_unique_id.json",
    );
    assert_eq!((run1.len(), run2.len(), run3.len()), (1, 1, 1));
    assert_eq!((run1[0].line, run2[0].line), (Some(31), Some(24)));
    assert!(run1[0].unique_id_from_tool.is_some());
    assert_eq!(run1[0].unique_id_from_tool, run2[0].unique_id_from_tool);
    assert_ne!(run1[0].unique_id_from_tool, run3[0].unique_id_from_tool);
    assert_eq!(run1[0].severity, Severity::High);
}

#[test]
fn ignored_matches_and_supply_chain_vulns() {
    let report = br#"{"results": [
        {"check_id": "r", "path": "a.py", "start": {"line": 3},
         "extra": {"severity": "ERROR", "message": "m", "is_ignored": true,
                   "metadata": {"cwe": null, "references": null}}}
      ],
      "vulns": [
        {"title": "lodash prototype pollution GHSA-jf85-cpcp-j695",
         "advisory": {"severity": "CRITICAL", "description": "d",
                      "references": {"cweIds": ["CWE-1321"], "cveIds": ["CVE-2019-10744"]}},
         "dependencyFileLocation": {"path": "package-lock.json", "startLine": 10},
         "repositoryId": 42, "extra": {"fingerprint": "fp"}}
      ]}"#;
    let f = parse_bytes(&Semgrep, report).unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].status, Status::FalsePositive);
    assert_eq!(f[0].cwe, None);
    assert_eq!(f[1].severity, Severity::Critical);
    assert_eq!(f[1].cwe, Some(1321));
    assert_eq!(f[1].vulnerability_ids, ["CVE-2019-10744"]);
    assert_eq!(f[1].line, Some(10));
    assert_eq!(f[1].vuln_id_from_tool.as_deref(), Some("42"));
    assert_eq!(f[1].unique_id_from_tool.as_deref(), Some("fp"));
}

#[test]
fn errors_say_where_and_what() {
    let err = parse_bytes(&Semgrep, b"{\"results\": [{\"check_id\": 5}]}").unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with("Semgrep JSON Report: line 1, column "),
        "{shown}"
    );
    assert!(
        shown.contains("results[0]") && shown.contains("expected a string"),
        "{shown}"
    );

    let err = parse_bytes(&Semgrep, b"[]").unwrap_err().to_string();
    assert!(err.contains("an object with a `results` array"), "{err}");
    let err = parse_bytes(&Semgrep, b"{\"paths\": {}}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected a `results` array"), "{err}");
    let err = parse_bytes(&Semgrep, b"").unwrap_err();
    assert!(err.location.is_some_and(|l| l.line == Some(1)));
}

#[test]
fn the_sink_can_stop_the_parse() {
    let parser = Semgrep;
    let mut input: &[u8] = &fixture_bytes("semgrep/many_findings.json");
    let mut seen = 0;
    let err = scanners::Parser::parse(
        &parser,
        &mut input,
        &scanners::Context::new(domain::TestId(1)),
        &mut |_| {
            seen += 1;
            Err(scanners::ParseError::aborted(
                "Semgrep JSON Report",
                std::io::Error::other("database down"),
            ))
        },
    )
    .unwrap_err();
    assert_eq!(seen, 1);
    assert!(err.aborted_by.is_some());
}

// Semgrep Pro

#[test]
fn pro_multiple_cwes() {
    let f = parse_ok(&SemgrepPro, "semgrep_pro/multiple_cwes_fabricated.json");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].cwe, Some(319));
    assert_eq!(f[0].cwes, [319, 311]);
}

#[test]
fn pro_no_findings() {
    assert!(parse_ok(&SemgrepPro, "semgrep_pro/no_vuln.json").is_empty());
}

#[test]
fn pro_one_finding() {
    let f = parse_ok(&SemgrepPro, "semgrep_pro/one_vuln.json");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(
        f.vuln_id_from_tool.as_deref(),
        Some("typescript.react.security.audit.react-no-refs.react-no-refs")
    );
    assert_eq!(
        f.file_path.as_deref(),
        Some("frontend/src/corpComponents/Code.tsx")
    );
    assert_eq!(f.line, Some(120));
    assert_eq!(f.cwe, Some(319));
    assert_eq!(f.cwes, [319]);
    assert!(f.static_finding);
    assert!(!f.dynamic_finding);
    assert_eq!(f.status, Status::Active);
    assert!(!f.verified);
    for needle in [
        "Message:",
        "Rule Message:",
        "CWE References:",
        "CWE-319:",
        "OWASP References:",
        "A03:2017",
        "A02:2021",
        "Categories:",
        "security",
    ] {
        assert!(f.description.contains(needle), "description lacks {needle}");
    }
    let impact = f.impact.as_deref().unwrap();
    for needle in [
        "Mishandled Sensitive Information",
        "Confidence: Medium",
        "Repository: semgrep",
    ] {
        assert!(impact.contains(needle), "impact lacks {needle}");
    }
    let mitigation = f.mitigation.as_deref().unwrap();
    for needle in [
        "**Guidance Summary:**",
        "template rendering engine",
        "**Instructions:**",
        "npm install ejs",
        "**Auto-triage Verdict:** false_positive",
        "**Component:** user data",
        "**Risk Level:** high",
    ] {
        assert!(mitigation.contains(needle), "mitigation lacks {needle}");
    }
    let references = f.references.as_deref().unwrap();
    for needle in ["Line of Code:", "CWE-319:", "A03:2017", "External Ticket:"] {
        assert!(references.contains(needle), "references lack {needle}");
    }
    // DefectDojo prints the ticket object as a Python dict; ours names its slug and URL.
    assert!(references.contains("External Ticket: OPS-158"));
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some(
            "0f8c79a6f7e0ff2f908ff5bc366ae1548465069bae8892088051e1c3b4b12c6b8df37d5bcbb181eb868aa79f81f239d14bf2336d552786ab8ccdc7279adf07a6_1"
        )
    );
    assert_eq!(f.date, chrono::NaiveDate::from_ymd_opt(2020, 11, 18));
    // Deliberate difference: DefectDojo sets component_name to the assistant's data tag
    // ("user data"), which is not a software component; ours leaves it empty.
    assert_eq!(f.component_name, None);
}

#[test]
fn pro_errors_name_the_findings_array() {
    let err = parse_bytes(&SemgrepPro, b"{\"results\": []}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected a `findings` array"), "{err}");
    let err = parse_bytes(&SemgrepPro, b"{\"findings\": [{}, {\"location\": 3}]}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("findings[1]"), "{err}");
}

const SEMGREP_FIXTURES: &[&str] = &[
    "semgrep/close_old_findings_report_line31.json",
    "semgrep/cwe_list.json",
    "semgrep/fingerprint_test.json",
    "semgrep/high-medium-low-severities.json",
    "semgrep/issue_8435.json",
    "semgrep/many_findings.json",
    "semgrep/multiple_cwes_fabricated.json",
    "semgrep/one_finding.json",
    "semgrep/repeated_findings.json",
    "semgrep/semgrep_version_1_30_0_line_26.json",
];

const PRO_FIXTURES: &[&str] = &[
    "semgrep_pro/multiple_cwes_fabricated.json",
    "semgrep_pro/one_vuln.json",
];

proptest! {
    #[test]
    fn semgrep_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        never_panics(&Semgrep, &bytes);
        never_panics(&SemgrepPro, &bytes);
    }

    #[test]
    fn semgrep_never_panics_on_damaged_fixtures(
        which in 0..SEMGREP_FIXTURES.len(), cut in any::<usize>(), flip in any::<usize>(), with in any::<u8>()
    ) {
        let (truncated, flipped) = damaged(&fixture_bytes(SEMGREP_FIXTURES[which]), cut, flip, with);
        never_panics(&Semgrep, &truncated);
        never_panics(&Semgrep, &flipped);
    }

    #[test]
    fn semgrep_pro_never_panics_on_damaged_fixtures(
        which in 0..PRO_FIXTURES.len(), cut in any::<usize>(), flip in any::<usize>(), with in any::<u8>()
    ) {
        let (truncated, flipped) = damaged(&fixture_bytes(PRO_FIXTURES[which]), cut, flip, with);
        never_panics(&SemgrepPro, &truncated);
        never_panics(&SemgrepPro, &flipped);
    }
}
