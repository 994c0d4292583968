//! `Burp REST API` on DefectDojo's samples (fixtures/scans/burp_api), asserting what
//! fixtures/scans/EXPECTED.md lists, plus robustness properties.

use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::burp_api::BurpApiParser;
use scanners::testing::{fixture, parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&BurpApiParser, rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn example_report() {
    let findings = parse("burp_api/example.json");
    assert_eq!(findings.len(), 5);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.title.as_str(), "TLS cookie without secure flag set");
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("5605602767570803712")
    );
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some("5243392"));
    // DefectDojo stores confidence as a number ("3 > scanner_confidence", certain = 2); ours
    // is Burp's word.
    assert_eq!(f.scanner_confidence.as_deref(), Some("Certain"));
    // DefectDojo fills impact with "No impact provided"; this issue has no background text,
    // so ours stays empty rather than holding a placeholder.
    assert_eq!(f.impact, None);
    assert_eq!(
        f.endpoints[0].to_string(),
        "https://whitespots.io/build-ssdlc"
    );
    assert_eq!(f.request_response.len(), 1);
    assert!(
        f.request_response[0]
            .request
            .starts_with("GET /build-ssdlc HTTP/"),
        "{}",
        f.request_response[0].request
    );
    // The highlighted part of the response is kept (DefectDojo replaces it with a rule).
    assert!(
        f.request_response[0].response.contains("Set-Cookie"),
        "{}",
        f.request_response[0].response
    );
    assert!(f.dynamic_finding);
    assert_eq!(f.status, Status::Active);
}

#[test]
fn fix_issue_9128() {
    let findings = parse("burp_api/fix_issue_9128.json");
    assert_eq!(findings.len(), 1);
    for f in &findings {
        // DefectDojo: impact is not None (its placeholder); here it is the issue background.
        assert_eq!(f.impact.as_deref(), Some("Issue background data"));
        assert_eq!(f.mitigation.as_deref(), Some("remediation background data"));
        assert_eq!(f.severity, Severity::Low);
        assert_eq!(f.scanner_confidence.as_deref(), Some("Firm"));
        // Path "" with origin https://pentest-website.com.
        assert_eq!(f.endpoints[0].host, "pentest-website.com");
        // The response body is binary (a font): headers kept, body replaced by a note.
        let response = &f.request_response[0].response;
        assert!(response.contains("<binary body of"), "{response}");
    }
}

#[test]
fn many_reqresp() {
    // No oracle in DefectDojo's tests: one issue with 22 pieces of evidence.
    let findings = parse("burp_api/many_reqresp.json");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].title.as_str(), "Robots.txt file");
    assert_eq!(findings[0].request_response.len(), 22);
}

#[test]
fn false_positive_and_errors() {
    let json = br#"{"issue_events":[{"type":"issue_found","issue":{"name":"X","severity":"false_positive","type_index":1,"serial_number":"2","origin":"http://h","path":"/p"}},{"type":"audit_item_completed"}]}"#;
    let findings = parse_bytes(&BurpApiParser, json).unwrap_or_default();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].status, Status::FalsePositive);
    assert_eq!(findings[0].vuln_id_from_tool.as_deref(), Some("1"));

    let err = parse_bytes(
        &BurpApiParser,
        b"{\"issue_events\": [{\"type\": \"issue_found\", \"issue\": {\"name\": 3}}]}",
    )
    .unwrap_err();
    let loc = err.location.clone().unwrap_or_default();
    assert_eq!(
        (loc.line, loc.path.as_deref()),
        (Some(1), Some("issue_events[0].issue.name"))
    );
    assert!(err.message.contains("expected a string"), "{err}");
    let err = parse_bytes(&BurpApiParser, b"{\"issue_events\": [").unwrap_err();
    assert!(
        err.location.as_ref().and_then(|l| l.column).is_some(),
        "{err}"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&BurpApiParser, &bytes);
    }

    #[test]
    fn truncated_fixture_never_panics(cut in 0.0f64..1.0) {
        let bytes = std::fs::read(fixture("burp_api/fix_issue_9128.json")).unwrap_or_default();
        let at = ((bytes.len() as f64) * cut) as usize;
        let _ = parse_bytes(&BurpApiParser, &bytes[..at.min(bytes.len())]);
    }

    #[test]
    fn odd_segments_never_panic(kind in "(DataSegment|HighlightSegment|SnipSegment|Other)", data in "[A-Za-z0-9+/=!]{0,40}", len in any::<u64>()) {
        let json = format!(r#"{{"issue_events":[{{"type":"issue_found","issue":{{"name":"n","evidence":[{{"request_response":{{"request":[{{"type":"{kind}","data":"{data}","length":{len}}}]}}}}]}}}}]}}"#);
        prop_assert!(parse_bytes(&BurpApiParser, json.as_bytes()).is_ok());
    }
}
