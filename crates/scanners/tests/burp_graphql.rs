//! `Burp GraphQL API` on DefectDojo's samples (fixtures/scans/burp_graphql), asserting what
//! fixtures/scans/EXPECTED.md lists, plus robustness properties.

use domain::{NewFinding, Severity};
use proptest::prelude::*;
use scanners::formats::burp_graphql::BurpGraphqlParser;
use scanners::testing::{fixture, parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&BurpGraphqlParser, rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn no_findings() {
    assert!(parse("burp_graphql/no_findings.json").is_empty());
}

#[test]
fn null_data() {
    let findings = parse("burp_graphql/null_data.json");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].title.as_str(), "Finding");
    assert_eq!(findings[0].severity, Severity::High);
    assert!(findings[0].request_response.is_empty());
}

#[test]
fn null_request_segments() {
    let findings = parse("burp_graphql/null_request_segments.json");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].cwe, Some(295));
    assert_eq!(findings[0].cwes, [295, 326, 327]);
    // DefectDojo keeps an empty request/response pair for the segment-less evidence; an
    // empty pair shows nothing, so it is left out.
    assert!(findings[0].request_response.is_empty());
}

#[test]
fn null_title_is_an_error() {
    let err = parse_fixture(&BurpGraphqlParser, "burp_graphql/null_title.json").unwrap_err();
    assert_eq!(
        err.location.and_then(|l| l.path).as_deref(),
        Some("Issues[0].issue_type.name")
    );
    assert!(
        err.message.contains("expected the issue type's name"),
        "{}",
        err.message
    );
}

#[test]
fn one_finding() {
    let findings = parse("burp_graphql/one_finding.json");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.title.as_str(), "Finding");
    assert_eq!(f.cwe, Some(79));
    assert_eq!(f.cwes, [79]);
    assert!(f.description.contains("description 1"));
    let mitigation = f.mitigation.as_deref().unwrap_or("");
    assert!(mitigation.contains("remediation 1"));
    assert!(mitigation.contains("issue remediation 1"));
    assert!(
        f.impact
            .as_deref()
            .unwrap_or("")
            .contains("issue description 1")
    );
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.endpoints.len(), 1);
    assert_eq!(f.endpoints[0].host, "www.test.com");
    assert_eq!(f.endpoints[0].path.as_deref(), Some("path"));
    assert_eq!(f.endpoints[0].protocol.as_deref(), Some("https"));
    assert_eq!(f.request_response.len(), 1);
    assert_eq!(
        f.request_response[0].request,
        "request data 1/request data 2/request data 3/"
    );
    assert_eq!(
        f.request_response[0].response,
        "response data 1/response data 3/response data 4/"
    );
    let references = f.references.as_deref().unwrap_or("");
    assert!(references.contains("ref 1"));
    assert!(references.contains("CWE-79"));
}

#[test]
fn issues_of_one_type_fold() {
    let json = br#"{"Issues":[
        {"issue_type":{"name":"XSS"},"severity":"medium","origin":"https://a.test","path":"/x","description_html":"<p>one</p>"},
        {"issue_type":{"name":"XSS"},"severity":"medium","origin":"https://a.test","path":"/y","description_html":"<p>two</p>"},
        {"issue_type":{"name":"Other"},"severity":"low","origin":"https://a.test","path":"/"}]}"#;
    let findings = parse_bytes(&BurpGraphqlParser, json).unwrap_or_default();
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].endpoints.len(), 2);
    assert_eq!(findings[0].occurrences, Some(2));
    assert!(findings[0].description.contains("one") && findings[0].description.contains("two"));
}

#[test]
fn errors_say_where_and_what() {
    let err = parse_bytes(&BurpGraphqlParser, b"{\"data\": {}}").unwrap_err();
    assert!(err.message.contains("`Issues`"), "{err}");
    let err =
        parse_bytes(&BurpGraphqlParser, b"{\n  \"Issues\": [{\"severity\": 1}]}").unwrap_err();
    let loc = err.location.clone().unwrap_or_default();
    assert_eq!(
        (loc.line, loc.path.as_deref()),
        (Some(2), Some("Issues[0].severity"))
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&BurpGraphqlParser, &bytes);
    }

    #[test]
    fn truncated_fixture_never_panics(cut in 0.0f64..1.0) {
        let bytes = std::fs::read(fixture("burp_graphql/one_finding.json")).unwrap_or_default();
        let at = ((bytes.len() as f64) * cut) as usize;
        let _ = parse_bytes(&BurpGraphqlParser, &bytes[..at.min(bytes.len())]);
    }

    #[test]
    fn any_html_in_fields_never_panics(html in "[<>/a-z=\"&;# ]{0,80}", idx in proptest::option::of(-2i64..3)) {
        let value = serde_json::json!({"Issues": [{"issue_type": {"name": "n", "description_html": html,
            "vulnerability_classifications_html": html}, "description_html": html, "remediation_html": html,
            "origin": html, "path": html, "evidence": [{"request_index": idx, "request_segments": [{"data_html": html}]},
            {"response_index": idx, "response_segments": [{"highlight_html": html}]}]}]});
        let _ = parse_bytes(&BurpGraphqlParser, value.to_string().as_bytes());
    }
}
