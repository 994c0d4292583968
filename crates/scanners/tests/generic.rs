//! `Generic Findings Import` on the documented examples (`fixtures/generic/`) and on the
//! errors `docs/formats/generic.md` promises.

mod parser_checks;

use domain::{Severity, Status};
use parser_checks::{damaged, fixture_bytes, never_panics, parse_ok};
use proptest::prelude::*;
use scanners::formats::generic::Generic;
use scanners::testing::parse_bytes;

const JSON: &str = "../generic/findings.json";
const CSV: &str = "../generic/findings.csv";

#[test]
fn registered() {
    assert!(scanners::find_scan_type("Generic Findings Import").is_some());
}

#[test]
fn json_example() {
    let f = parse_ok(&Generic, JSON);
    assert_eq!(f.len(), 3);

    let sqli = &f[0];
    assert_eq!(sqli.title.as_str(), "SQL injection in order search");
    assert_eq!(sqli.severity, Severity::High);
    assert_eq!(sqli.cwe, Some(89));
    assert_eq!(sqli.file_path.as_deref(), Some("src/orders/search.py"));
    assert_eq!(sqli.line, Some(42));
    assert_eq!(sqli.endpoints.len(), 1);
    assert_eq!(sqli.endpoints[0].host, "shop.example.com");
    assert_eq!(sqli.endpoints[0].path.as_deref(), Some("orders/search"));
    assert_eq!(sqli.param.as_deref(), Some("q"));
    assert_eq!(
        sqli.unique_id_from_tool.as_deref(),
        Some("pentest-2024-017")
    );
    assert_eq!(sqli.vuln_id_from_tool.as_deref(), Some("sqli"));
    assert!(sqli.verified && sqli.dynamic_finding);
    assert_eq!(sqli.tags, ["pentest", "orders"]);
    assert_eq!(sqli.date, chrono::NaiveDate::from_ymd_opt(2024, 5, 2));
    assert_eq!(sqli.request_response.len(), 1);
    assert!(
        sqli.request_response[0]
            .response
            .starts_with("HTTP/1.1 500")
    );

    let log4j = &f[1];
    assert_eq!(log4j.severity, Severity::Critical);
    assert_eq!(
        (log4j.cwe, log4j.cwes.as_slice()),
        (Some(502), &[502, 917][..])
    );
    assert_eq!(
        log4j.vulnerability_ids,
        ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]
    );
    assert_eq!(
        log4j.component_name.as_deref(),
        Some("org.apache.logging.log4j:log4j-core")
    );
    assert_eq!(log4j.component_version.as_deref(), Some("2.14.1"));
    assert_eq!(log4j.cvss_v3_score, Some(10.0));
    assert_eq!(log4j.epss_score, Some(0.97));
    assert!(log4j.known_exploited);
    assert_eq!(log4j.fix_version.as_deref(), Some("2.17.1"));
    assert_eq!(log4j.service.as_deref(), Some("billing-api"));

    let debug = &f[2];
    assert_eq!(debug.status, Status::RiskAccepted);
    assert_eq!(debug.endpoints[0].port, Some(8443));
    assert_eq!(
        debug.endpoints[0].to_string(),
        "https://admin.example.com:8443/debug/vars"
    );
    assert_eq!(debug.occurrences, Some(3));
}

#[test]
fn csv_example_matches_json() {
    let f = parse_ok(&Generic, CSV);
    assert_eq!(f.len(), 3);
    let json = parse_ok(&Generic, JSON);
    for (c, j) in f.iter().zip(&json) {
        assert_eq!(c.title, j.title);
        assert_eq!(c.severity, j.severity);
    }
    assert_eq!(f[0].cwe, Some(89));
    assert_eq!(f[0].line, Some(42));
    assert_eq!(f[0].tags, ["pentest", "orders"]);
    assert_eq!(f[0].endpoints[0].query.as_deref(), Some("q=1"));
    assert_eq!(f[0].date, chrono::NaiveDate::from_ymd_opt(2024, 5, 2));
    assert_eq!(f[1].cwe, Some(502));
    assert_eq!(
        f[1].vulnerability_ids,
        ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]
    );
    assert!(f[1].description.contains("JNDI lookups, in log"));
    assert_eq!(f[2].status, Status::RiskAccepted);
    assert_eq!(f[2].endpoints.len(), 2);
    assert_eq!(f[2].endpoints[1].port, Some(9000));
    assert_eq!(f[2].line, None);
}

#[test]
fn a_bare_array_and_title_fallbacks() {
    let f = parse_bytes(
        &Generic,
        br#"  [{"severity": "info", "vuln_id_from_tool": "rule-7"}, {"severity": "S1", "title": " "}]"#,
    )
    .unwrap();
    assert_eq!(f[0].title.as_str(), "rule-7");
    assert_eq!(f[0].severity, Severity::Info);
    assert_eq!(f[1].title.as_str(), "Untitled finding");
    assert_eq!(f[1].severity, Severity::High);
}

#[test]
fn json_errors_name_the_finding_and_field() {
    let err = parse_bytes(
        &Generic,
        b"{\"findings\": [{\"severity\": \"low\"},\n {\"severity_\": \"low\"}]}",
    )
    .unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("line 2"), "{shown}");
    assert!(
        shown.contains("findings[1]") && shown.contains("unknown field `severity_`"),
        "{shown}"
    );

    let err = parse_bytes(&Generic, br#"{"findings": [{"severity": "urgent"}]}"#).unwrap_err();
    assert_eq!(
        err.location.and_then(|l| l.path).as_deref(),
        Some("findings[0].severity")
    );
    assert!(err.message.contains("'urgent'"), "{}", err.message);

    let err = parse_bytes(
        &Generic,
        br#"{"findings": [{"severity": "low", "cwe": "CWE-0"}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.location.and_then(|l| l.path).as_deref(),
        Some("findings[0].cwe")
    );

    let err = parse_bytes(
        &Generic,
        br#"{"findings": [{"severity": "low", "line": -3}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.location.and_then(|l| l.path).as_deref(),
        Some("findings[0].line")
    );

    let err = parse_bytes(&Generic, br#"{"findings": [{"title": "x"}]}"#).unwrap_err();
    assert!(
        err.message.contains("expected a severity"),
        "{}",
        err.message
    );

    let err = parse_bytes(&Generic, br#"{"results": []}"#).unwrap_err();
    assert!(err.message.contains("`findings`"), "{}", err.message);

    let err = parse_bytes(&Generic, b" \n ").unwrap_err();
    assert!(err.message.contains("empty"), "{}", err.message);
}

#[test]
fn json_line_numbers_count_leading_blank_lines() {
    let err = parse_bytes(&Generic, b"\n\n{\"findings\": [}").unwrap_err();
    assert_eq!(err.location.and_then(|l| l.line), Some(3));
}

#[test]
fn csv_errors_name_the_record_and_column() {
    let err = parse_bytes(&Generic, b"title,severity,line\nok,low,1\nbad,low,forty\n").unwrap_err();
    let loc = err.location.clone().unwrap();
    assert_eq!(loc.record, Some(3));
    assert_eq!(loc.path.as_deref(), Some("line"));
    assert!(
        err.message
            .contains("expected a line number, found 'forty'"),
        "{}",
        err.message
    );

    let err = parse_bytes(&Generic, b"title,sevrity\nx,low\n").unwrap_err();
    assert!(
        err.message.contains("unknown column 'sevrity'"),
        "{}",
        err.message
    );
    assert_eq!(err.location.and_then(|l| l.record), Some(1));

    let err = parse_bytes(&Generic, b"title,severity\nx,low,extra\n").unwrap_err();
    assert_eq!(err.location.clone().and_then(|l| l.record), Some(2));
    assert!(err.message.contains("expected 2 cells"), "{}", err.message);

    let err = parse_bytes(&Generic, b"title\nx\n").unwrap_err();
    assert!(err.message.contains("`severity` column"), "{}", err.message);

    let err = parse_bytes(&Generic, b"title,severity,request_response\nx,low,GET /\n").unwrap_err();
    assert!(err.message.contains("JSON form"), "{}", err.message);
}

#[test]
fn csv_header_is_case_insensitive_and_bom_tolerant() {
    let f = parse_bytes(
        &Generic,
        "\u{feff}Title, SEVERITY ,Verified\nx,Medium,yes\n".as_bytes(),
    )
    .unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Medium);
    assert!(f[0].verified);
}

proptest! {
    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        never_panics(&Generic, &bytes);
    }

    #[test]
    fn never_panics_on_damaged_examples(
        csv in any::<bool>(), cut in any::<usize>(), flip in any::<usize>(), with in any::<u8>()
    ) {
        let bytes = fixture_bytes(if csv { CSV } else { JSON });
        let (truncated, flipped) = damaged(&bytes, cut, flip, with);
        never_panics(&Generic, &truncated);
        never_panics(&Generic, &flipped);
    }

    /// Any text in any cell of a valid header: a finding or an error, never a panic.
    #[test]
    fn never_panics_on_csv_cells(cells in proptest::collection::vec("[^\"]{0,12}", 4)) {
        let row = cells.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(",");
        let doc = format!("title,severity,cwe,endpoints\n{row}\n");
        never_panics(&Generic, doc.as_bytes());
    }
}
