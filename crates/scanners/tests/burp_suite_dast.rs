//! `Burp Suite DAST Scan` (HTML report) on DefectDojo's samples (fixtures/scans/burp_suite_dast),
//! asserting what fixtures/scans/EXPECTED.md lists, plus robustness properties.

use domain::{NewFinding, Severity};
use proptest::prelude::*;
use scanners::formats::burp_suite_dast::BurpSuiteDastParser;
use scanners::testing::{fixture, parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&BurpSuiteDastParser, rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn many_vulns() {
    let findings = parse("burp_suite_dast/many_vulns.html");
    assert_eq!(findings.len(), 12);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::High);
    assert!(f.dynamic_finding);
    assert_eq!(f.cwe, Some(942));
    assert_eq!(f.cwes, [942]);
    assert_eq!(
        f.title.as_str(),
        "Cross-origin resource sharing: arbitrary origin trusted"
    );
    assert!(
        f.description.contains(
            "**Issue detail**:\nThe application implements an HTML5 cross-origin resource sharing (CORS) policy"
        ),
        "{}",
        f.description
    );
    assert!(
        f.impact
            .as_deref()
            .unwrap_or("")
            .contains("An HTML5 cross-origin resource sharing (CORS) policy controls")
    );
    assert!(f.references.as_deref().unwrap_or("").contains(
        "[Web Security Academy: Cross-origin resource sharing (CORS)](https://portswigger.net/web-security/cors)"
    ));
    assert_eq!(f.endpoints.len(), 1);
    assert_eq!(f.endpoints[0].host, "example.com");
    assert_eq!(f.request_response.len(), 1);
    assert!(
        f.request_response[0]
            .request
            .starts_with("POST /redacted HTTP/2\nHost: https://example.com")
    );
    assert!(
        f.request_response[0]
            .response
            .contains("Access-Control-Allow-Credentials: true")
    );

    let f = &findings[3];
    assert_eq!(f.title.as_str(), "TLS certificate");
    assert_eq!(f.cwe, Some(295));
    assert_eq!(f.cwes, [295, 326, 327]);

    let f = &findings[5];
    assert_eq!(f.severity, Severity::Info);
    assert!(f.dynamic_finding);
    assert_eq!(f.cwe, None);
    assert_eq!(f.title.as_str(), "WAF Detected: redacted");
    assert!(
        f.description.contains(
            "**Issue detail**:\nFingerprint Details:\n\nWAF Type : redacted\nWAF tech. details : Cloud-based CDN, WAF & DDoS prevention"
        ),
        "{}",
        f.description
    );

    // "Cookie scoped to parent domain [9]": ten rows over three distinct URLs. DefectDojo lists
    // every row as a location; ours are the distinct URLs, with the rows counted.
    let cookie = findings
        .iter()
        .find(|f| f.title.as_str() == "Cookie scoped to parent domain");
    assert_eq!(
        cookie.map(|f| (f.endpoints.len(), f.occurrences)),
        Some((3, Some(10)))
    );
}

#[test]
fn many_vulns_updated_format() {
    let findings = parse("burp_suite_dast/many_vulns_updated_format.html");
    assert_eq!(findings.len(), 12);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Low);
    assert!(f.dynamic_finding);
    assert_eq!(f.cwe, Some(523));
    assert_eq!(f.title.as_str(), "Strict transport security not enforced");
    assert!(f.description.contains(
        "**Issue description**:\nThe application fails to prevent users from connecting to it over unencrypted connections."
    ));
    // DefectDojo files "Issue remediation" under impact; it is remediation advice, so ours is
    // in mitigation.
    assert!(f.mitigation.as_deref().unwrap_or("").contains(
        "**Issue remediation**:\nThe application should instruct web browsers to only access the application using HTTPS."
    ));
    assert!(f.references.as_deref().unwrap_or("").contains(
        "- [HTTP Strict Transport Security](https://developer.mozilla.org/en-US/docs/Web/Security/HTTP_strict_transport_security)"
    ));
    assert_eq!(f.endpoints.len(), 7);
    assert_eq!(f.endpoints[0].host, "instance.example.com");
    assert_eq!(f.request_response.len(), 7);

    let f = &findings[5];
    assert_eq!(f.severity, Severity::Info);
    assert!(f.dynamic_finding);
    assert_eq!(f.cwe, Some(116));
    assert_eq!(
        f.title.as_str(),
        "Content security policy: allows form hijacking"
    );
    assert!(
        f.description.contains(
            "**Issue detail**:\nThe content security policy doesn't prevent form hijacking"
        ),
        "{}",
        f.description
    );
}

#[test]
fn not_a_burp_report() {
    let err = parse_bytes(
        &BurpSuiteDastParser,
        b"<html><body><p>hello</p></body></html>",
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("expected a Burp Suite DAST HTML report"),
        "{err}"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&BurpSuiteDastParser, &bytes);
    }

    #[test]
    fn html_like_text_never_panics(text in "(<(div|table|tr|td|h1|h2|h3|ul|li|a|br|p|script)( class=\"(section|issue-table|issue-type-row|issue-container|evidence-container|snip)\")?>|</(div|table|tr|td|h1|h2|h3|ul|li|a|p)>|Issues found on https://h|Issue detail:|References|CWE-79: x|[a-z \\[\\]0-9]{1,8}|&[a-z#0-9]{0,5};?){0,40}") {
        let _ = parse_bytes(&BurpSuiteDastParser, text.as_bytes());
    }

    #[test]
    fn truncated_fixture_never_panics(cut in 0.0f64..1.0) {
        let bytes = std::fs::read(fixture("burp_suite_dast/many_vulns.html")).unwrap_or_default();
        let at = ((bytes.len() as f64) * cut) as usize;
        let _ = parse_bytes(&BurpSuiteDastParser, &bytes[..at.min(bytes.len())]);
    }
}
