//! `SARIF` on DefectDojo's SARIF sample files (`fixtures/scans/sarif/`, copied from
//! `unittests/scans/sarif/` of the same snapshot as the other fixtures); each test checks
//! what `unittests/tools/test_sarif_parser.py` asserts for the file.

mod parser_checks;

use domain::{Severity, Status};
use parser_checks::{damaged, fixture_bytes, never_panics, parse_ok};
use proptest::prelude::*;
use scanners::formats::sarif::Sarif;
use scanners::testing::parse_bytes;

fn day(y: i32, m: u32, d: u32) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn registered() {
    assert!(scanners::find_scan_type("SARIF").is_some());
}

#[test]
fn no_runs_and_no_results() {
    assert!(parse_ok(&Sarif, "sarif/no_runs.sarif").is_empty());
    assert!(parse_ok(&Sarif, "sarif/appendix_k1.sarif").is_empty());
    assert!(parse_ok(&Sarif, "sarif/appendix_k1_double.sarif").is_empty());
}

#[test]
fn appendix_k_full_example() {
    let f = parse_ok(&Sarif, "sarif/appendix_k.sarif");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(f.file_path.as_deref(), Some("collections/list.h"));
    assert_eq!(f.line, Some(15));
    assert_eq!(f.severity, Severity::High);
    let description = "**Result message:** Variable \"ptr\" was used without being initialized. It was declared [here](0).
**Snippet:**
```
add_core(ptr, offset, val);
    return;
```
**Rule short description:** A variable was used without being initialized.
**Rule full description:** A variable was used without being initialized. This can result in runtime errors such as null reference exceptions.
**Code flow:**
1. collections/list.h:L15\t-\tint *ptr;
\tVariable `ptr` declared.
2. collections/list.h:L15\t-\toffset = (y + z) * q + 1;
3. collections/list.h:L25\t-\tadd_core(ptr, offset, val)
\tUninitialized variable `ptr` passed to method `add_core`.";
    assert_eq!(f.description, description);
    assert_eq!(f.date, day(2016, 7, 16));
    assert!(f.static_finding && !f.dynamic_finding);
}

#[test]
fn appendix_k2_rule_by_index() {
    let f = parse_ok(&Sarif, "sarif/appendix_k2.sarif");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(
        f.title.as_str(),
        "Variable \"count\" was used without being initialized."
    );
    assert_eq!(f.file_path.as_deref(), Some("src/collections/list.cpp"));
    assert_eq!(f.line, Some(15));
    assert_eq!(
        f.description,
        "**Result message:** Variable \"count\" was used without being initialized.
**Rule full description:** A variable was used without being initialized. This can result in runtime errors such as null reference exceptions."
    );
}

#[test]
fn appendix_k3_message_strings() {
    let f = parse_ok(&Sarif, "sarif/appendix_k3.sarif");
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].title.as_str(),
        "The insecure method \"Crypto.Sha1.Encrypt\" should not be used."
    );
}

#[test]
fn appendix_k4_fix_is_the_mitigation() {
    let f = parse_ok(&Sarif, "sarif/appendix_k4.sarif");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(
        f.title.as_str(),
        "Variable \"ptr\" was used without being initialized. It was declared [here](0)."
    );
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some("C2001"));
    assert_eq!(f.file_path.as_deref(), Some("collections/list.h"));
    assert_eq!(
        f.mitigation.as_deref(),
        Some("Initialize the variable to null")
    );
}

#[test]
fn suppressions_are_false_positives() {
    let f = parse_ok(&Sarif, "sarif/suppression_test.sarif");
    assert!(!f.is_empty());
    for f in &f {
        if f.title.as_str() == "Suppressed" {
            assert_eq!(f.status, Status::FalsePositive);
        } else {
            assert_eq!(f.status, Status::Active, "{}", f.title);
        }
    }
    assert!(f.iter().any(|f| f.status == Status::FalsePositive));

    let f = parse_ok(&Sarif, "sarif/SuppressionTestCurrent.sarif");
    assert_eq!(f.len(), 4);
    assert_eq!(f[0].title.as_str(), "New suppressed result.");
}

#[test]
fn njsscan() {
    let f = parse_ok(&Sarif, "sarif/njsscan.sarif");
    assert_eq!(f.len(), 3);
    // Deliberate difference: DefectDojo keeps "file:///src/index.js"; a local file URI
    // names a path, and the bare path matches what other tools report for the same file.
    assert_eq!(f[0].file_path.as_deref(), Some("/src/index.js"));
    assert!(f[0].vulnerability_ids.is_empty());
    assert_eq!(f[0].date, day(2021, 3, 23));
    assert_eq!(f[0].cwe, Some(327));
    assert_eq!(f[1].file_path.as_deref(), Some("/src/index.js"));
    assert_eq!(f[1].line, Some(235));
    assert_eq!(f[1].date, day(2021, 3, 23));
    assert_eq!(f[1].cwe, Some(798));
}

#[test]
fn dockle() {
    let f = parse_ok(&Sarif, "sarif/dockle_0_3_15.sarif");
    assert_eq!(f.len(), 4);
    let base = "https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#";
    let expected = [
        (
            "CIS-DI-0010",
            Severity::High,
            "**Result message:** Suspicious ENV key found : DD_ADMIN_PASSWORD, Suspicious ENV key found : DD_CELERY_BROKER_PASSWORD, Suspicious ENV key found : DD_DATABASE_PASSWORD\n**Rule short description:** Do not store credential in ENVIRONMENT vars/files",
        ),
        (
            "CIS-DI-0005",
            Severity::Info,
            "**Result message:** export DOCKER_CONTENT_TRUST=1 before docker pull/build\n**Rule short description:** Enable Content trust for Docker",
        ),
        (
            "CIS-DI-0006",
            Severity::Info,
            "**Result message:** not found HEALTHCHECK statement\n**Rule short description:** Add HEALTHCHECK instruction to the container image",
        ),
        (
            "CIS-DI-0008",
            Severity::Info,
            "**Result message:** setuid file: urwxr-xr-x usr/bin/chfn, setuid file: urwxr-xr-x usr/bin/chsh, setuid file: urwxr-xr-x usr/bin/passwd, setuid file: urwxr-xr-x bin/umount, setuid file: urwxr-xr-x bin/mount, setgid file: grwxr-xr-x usr/bin/wall, setgid file: grwxr-xr-x usr/bin/expiry, setuid file: urwxr-xr-x bin/su, setgid file: grwxr-xr-x sbin/unix_chkpwd, setuid file: urwxr-xr-x usr/bin/gpasswd, setgid file: grwxr-xr-x usr/bin/chage, setuid file: urwxr-xr-x usr/bin/newgrp\n**Rule short description:** Confirm safety of setuid/setgid files",
        ),
    ];
    for (f, (id, severity, description)) in f.iter().zip(expected) {
        assert_eq!(f.vuln_id_from_tool.as_deref(), Some(id));
        assert_eq!(f.severity, severity, "{id}");
        assert_eq!(f.description, description);
        assert_eq!(
            f.references.as_deref(),
            Some(format!("{base}{id}").as_str())
        );
    }
}

#[test]
fn gitleaks() {
    let f = parse_ok(&Sarif, "sarif/gitleaks_7.5.0.sarif");
    assert_eq!(f.len(), 8);
    let snippet = |code: &str| {
        format!(
            "**Result message:** AWS Access Key secret detected\n**Snippet:**\n```\n{code}\n```"
        )
    };
    let checks = [
        (
            0,
            "      \"raw_source_code_extract\": \"AKIAIOSFODNN7EXAMPLE\",",
            "dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_1_vuln.json",
            13,
        ),
        (
            3,
            "      \"raw_source_code_extract\": \"AKIAIOSFODNN7EXAMPLE\",",
            "dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_3_vuln.json",
            44,
        ),
        (
            7,
            "        self.assertEqual(\"AWS\\nAKIAIOSFODNN7EXAMPLE\", first_finding.description)",
            "dojo/unittests/tools/test_gitlab_secret_detection_report_parser.py",
            37,
        ),
    ];
    for (i, code, path, line) in checks {
        assert_eq!(f[i].title.as_str(), "AWS Access Key secret detected");
        assert_eq!(f[i].severity, Severity::Medium);
        assert_eq!(f[i].description, snippet(code));
        assert_eq!(f[i].file_path.as_deref(), Some(path));
        assert_eq!(f[i].line, Some(line));
    }
}

#[test]
fn flawfinder() {
    let f = parse_ok(&Sarif, "sarif/flawfinder.sarif");
    assert_eq!(f.len(), 53);
    let first = &f[0];
    assert_eq!(
        first.title.as_str(),
        "random/setstate:This function is not sufficiently random for security-related functions such as key and nonce creation (CWE-327)."
    );
    assert_eq!(first.severity, Severity::High);
    assert_eq!(
        first.description,
        "**Result message:** random/setstate:This function is not sufficiently random for security-related functions such as key and nonce creation (CWE-327).
**Snippet:**
```
      is.setstate(std::ios::failbit);
```
**Rule name:** random/setstate
**Rule short description:** This function is not sufficiently random for security-related functions such as key and nonce creation (CWE-327)."
    );
    assert_eq!(first.file_path.as_deref(), Some("src/tree/param.cc"));
    assert_eq!(first.line, Some(29));
    assert_eq!(first.cwe, Some(327));
    assert_eq!(first.vuln_id_from_tool.as_deref(), Some("FF1048"));
    assert_eq!(
        first.unique_id_from_tool.as_deref(),
        Some("e6c1ad2b1d96ffc4035ed8df070600566ad240b8ded025dac30620f3fd4aa9fd")
    );
    assert_eq!(
        first.references.as_deref(),
        Some("https://cwe.mitre.org/data/definitions/327.html")
    );

    let f20 = &f[20];
    assert_eq!(
        f20.title.as_str(),
        "buffer/memcpy:Does not check for buffer overflows when copying to destination (CWE-120)."
    );
    assert_eq!(f20.severity, Severity::Info);
    assert_eq!(f20.file_path.as_deref(), Some("src/common/io.cc"));
    assert_eq!(f20.line, Some(31));
    assert_eq!((f20.cwe, f20.cwes.as_slice()), (Some(120), &[120][..]));
    assert_eq!(f20.vuln_id_from_tool.as_deref(), Some("FF1004"));
    assert_eq!(
        f20.unique_id_from_tool.as_deref(),
        Some("327fc54b75ab37bbbb31a1b71431aaefa8137ff755acc103685ad5adf88f5dda")
    );

    let last = &f[52];
    assert_eq!(
        last.title.as_str(),
        "buffer/sscanf:The scanf() family's %s operation, without a limit specification, permits buffer overflows (CWE-120, CWE-20)."
    );
    assert_eq!(last.severity, Severity::High);
    assert_eq!(last.file_path.as_deref(), Some("src/cli_main.cc"));
    assert_eq!(last.line, Some(482));
    // Deliberate difference: DefectDojo makes the *last* CWE the primary (20); the rule
    // lists CWE-120 first and names it first in its text, so ours keeps 120 as primary.
    assert_eq!(last.cwe, Some(120));
    assert_eq!(last.cwes, [120, 20]);
    assert_eq!(last.vuln_id_from_tool.as_deref(), Some("FF1021"));
    assert_eq!(
        last.unique_id_from_tool.as_deref(),
        Some("ad8408027235170e870e7662751a01386beb2d2ed8beb75dd4ba8e4a70e91d65")
    );
}

#[test]
fn grype_security_severity_is_cvss() {
    let f = parse_ok(&Sarif, "sarif/cxf-3.4.6.sarif");
    assert_eq!(f.len(), 22);
    assert_eq!(f[0].severity, Severity::Low);
    assert_eq!(f[0].cvss_v3_score, Some(2.1));
    assert_eq!(f[6].severity, Severity::High);
    assert_eq!(f[6].cvss_v3_score, Some(7.8));
    // Grype's rule ids are advisories: they become vulnerability ids.
    assert!(f.iter().all(|f| !f.vulnerability_ids.is_empty()));
}

#[test]
fn blackduck_nested_fingerprints() {
    let f = parse_ok(&Sarif, "sarif/blackduck_nested_fingerprints.sarif");
    assert_eq!(f.len(), 5);
    for f in &f {
        let uid = f.unique_id_from_tool.as_deref().unwrap();
        assert!(!uid.starts_with('{'));
    }
    assert_eq!(f[0].severity, Severity::Medium);
    assert_eq!(f[0].unique_id_from_tool.as_deref(), Some(&*"a".repeat(64)));
    assert_eq!(f[1].severity, Severity::High);
    assert_eq!(f[1].unique_id_from_tool.as_deref(), Some(&*"b".repeat(64)));
    assert_eq!(f[3].severity, Severity::Info);
    assert_eq!(f[3].unique_id_from_tool.as_deref(), Some(&*"d".repeat(64)));
}

#[test]
fn taint_python_partial_fingerprints_and_tags() {
    let f = parse_ok(&Sarif, "sarif/taint-python-report.sarif");
    assert_eq!(f.len(), 11);
    // Deliberate difference: the "file://" scheme is dropped (see `njsscan`).
    assert_eq!(
        f[0].file_path.as_deref(),
        Some("/home/damien/dd/dojo/tools/veracode/parser.py")
    );
    assert!(f[0].vulnerability_ids.is_empty());
    assert_eq!(f[0].date, day(2021, 3, 8));
    assert_eq!(f[0].tags, ["Scan"]);
    assert_eq!(
        f[2].file_path.as_deref(),
        Some("/home/damien/dd/dojo/tools/qualys_infrascan_webgui/parser.py")
    );
    assert_eq!(f[2].line, Some(169));
    assert_eq!(
        f[6].title.as_str(),
        "XML injection with user data from `filename in parser_helper.py:167` is used for parsing XML at `parser_helper.py:23`."
    );
    assert_eq!(f[6].severity, Severity::High);
    // DefectDojo's test reads this value from the last finding of the file.
    assert_eq!(
        f[10].unique_id_from_tool.as_deref(),
        Some(
            "scanFileHash:4bc9f13947613303|scanPrimaryLocationHash:1a8bbb28fe7380df|scanTagsHash:21de8f8d0eb8d9b2"
        )
    );
}

/// A run that names its tool after its results, refers to rules by index and to files by
/// artifact index, and has non-failing results.
const LATE_TOOL: &str = r#"{
  "version": "2.1.0",
  "runs": [{
    "results": [
      {"ruleIndex": 0, "message": {"text": "first"},
       "locations": [{"physicalLocation": {"artifactLocation": {"index": 1}, "region": {"startLine": 3}}}]},
      {"ruleId": "EXT1", "rule": {"id": "EXT1", "index": 0, "toolComponent": {"index": 0}},
       "message": {"id": "m", "arguments": ["x.y"]}, "kind": "fail",
       "baselineState": "absent", "fingerprints": {"h/v1": "old", "h/v2": "new"}},
      {"ruleId": "R1", "kind": "pass", "message": {"text": "passed"}},
      {"ruleId": "CVE-2021-44228", "level": "error", "message": {"text": "log4shell"},
       "suppressions": [{"kind": "external", "status": "underReview"}],
       "properties": {"tags": ["security", "external/cwe/cwe-502"], "cwe": "CWE-917"},
       "taxa": [{"id": "20", "toolComponent": {"name": "CWE"}}]}
    ],
    "artifacts": [{"location": {"uri": "a.c"}}, {"location": {"uri": "file:///src/b.c"}}],
    "tool": {
      "driver": {"name": "T", "rules": [
        {"id": "R1", "shortDescription": {"text": "Rule one"}, "defaultConfiguration": {"level": "note"},
         "properties": {"tags": ["external/cwe/cwe-079"], "security-severity": "not a number"},
         "help": {"text": "Escape the output."}}
      ]},
      "extensions": [{"name": "pack", "rules": [
        {"id": "EXT1", "messageStrings": {"m": {"text": "Bad {0} here"}},
         "relationships": [{"target": {"id": "89", "toolComponent": {"name": "CWE"}}}],
         "properties": {"security-severity": "9.1"}}
      ]}]
    }
  }]
}"#;

#[test]
fn rules_and_artifacts_after_results() {
    let f = parse_bytes(&Sarif, LATE_TOOL.as_bytes()).unwrap();
    assert_eq!(f.len(), 3, "the `pass` result is not a finding");

    assert_eq!(f[0].title.as_str(), "first");
    assert_eq!(f[0].vuln_id_from_tool.as_deref(), Some("R1"));
    assert_eq!(f[0].severity, Severity::Info, "the rule's default level");
    assert_eq!(f[0].file_path.as_deref(), Some("/src/b.c"));
    assert_eq!(f[0].line, Some(3));
    assert_eq!(f[0].cwe, Some(79));
    assert_eq!(f[0].tags, ["cwe-079"]);
    assert_eq!(f[0].mitigation.as_deref(), Some("Escape the output."));

    assert_eq!(f[1].title.as_str(), "Bad x.y here");
    assert_eq!(f[1].severity, Severity::Critical);
    assert_eq!(f[1].cvss_v3_score, Some(9.1));
    assert_eq!(f[1].cwe, Some(89));
    assert_eq!(f[1].status, Status::Closed, "baselineState absent");
    assert_eq!(f[1].unique_id_from_tool.as_deref(), Some("new"));

    assert_eq!(f[2].vulnerability_ids, ["CVE-2021-44228"]);
    assert_eq!(f[2].severity, Severity::High);
    assert_eq!(
        f[2].status,
        Status::Active,
        "a suppression under review is not accepted"
    );
    assert_eq!(f[2].cwes, [917, 20]);
    assert_eq!(f[2].tags, ["security", "cwe-502"]);
}

#[test]
fn errors_say_where_and_what() {
    let err = parse_bytes(&Sarif, br#"{"runs": [{"results": [{}, {"level": 3}]}]}"#).unwrap_err();
    let shown = err.to_string();
    assert!(shown.starts_with("SARIF: line 1, column "), "{shown}");
    assert!(shown.contains("runs[0].results[1]"), "{shown}");
    assert!(shown.contains("expected a string"), "{shown}");

    let err = parse_bytes(&Sarif, br#"{"version": "2.1.0"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected a `runs` array"), "{err}");
    let err = parse_bytes(&Sarif, b"<xml/>").unwrap_err();
    assert!(err.location.is_some());
}

const FIXTURES: &[&str] = &[
    "sarif/appendix_k.sarif",
    "sarif/appendix_k2.sarif",
    "sarif/appendix_k3.sarif",
    "sarif/appendix_k4.sarif",
    "sarif/SuppressionTestCurrent.sarif",
    "sarif/suppression_test.sarif",
    "sarif/njsscan.sarif",
    "sarif/dockle_0_3_15.sarif",
    "sarif/gitleaks_7.5.0.sarif",
    "sarif/blackduck_nested_fingerprints.sarif",
    "sarif/taint-python-report.sarif",
];

proptest! {
    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        never_panics(&Sarif, &bytes);
    }

    #[test]
    fn never_panics_on_damaged_fixtures(
        which in 0..FIXTURES.len(), cut in any::<usize>(), flip in any::<usize>(), with in any::<u8>()
    ) {
        let (truncated, flipped) = damaged(&fixture_bytes(FIXTURES[which]), cut, flip, with);
        never_panics(&Sarif, &truncated);
        never_panics(&Sarif, &flipped);
    }

    #[test]
    fn never_panics_on_damaged_late_tool_log(cut in any::<usize>(), flip in any::<usize>(), with in any::<u8>()) {
        let (truncated, flipped) = damaged(LATE_TOOL.as_bytes(), cut, flip, with);
        never_panics(&Sarif, &truncated);
        never_panics(&Sarif, &flipped);
    }
}
