//! `Burp Dastardly Scan` on DefectDojo's sample (fixtures/scans/burp_dastardly), asserting
//! what fixtures/scans/EXPECTED.md lists, plus robustness properties.

use domain::{NewFinding, Severity};
use proptest::prelude::*;
use scanners::formats::burp_dastardly::BurpDastardlyParser;
use scanners::testing::{fixture, parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&BurpDastardlyParser, rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn many_findings() {
    let findings = parse("burp_dastardly/many_findings.xml");
    assert_eq!(findings.len(), 4);
    // DefectDojo titles each finding with the failure message ("Cross-site scripting
    // (reflected) found at https://…/catalog"), so every URL makes a new title. Ours is the
    // issue name, with the URL as the endpoint.
    let titles: Vec<&str> = findings.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Cross-site scripting (reflected)",
            "Cross-site scripting (reflected)",
            "Cross-site scripting (reflected)",
            "Vulnerable JavaScript dependency"
        ]
    );
    let severities: Vec<Severity> = findings.iter().map(|f| f.severity).collect();
    assert_eq!(
        severities,
        [
            Severity::High,
            Severity::Info,
            Severity::High,
            Severity::Low
        ]
    );
    let f = &findings[0];
    assert_eq!(
        f.endpoints[0].to_string(),
        "https://ginandjuice.shop/catalog"
    );
    assert!(
        f.description
            .starts_with("The value of the searchTerm request parameter"),
        "{}",
        f.description
    );
    assert!(
        f.impact
            .as_deref()
            .unwrap_or("")
            .starts_with("Reflected cross-site scripting vulnerabilities arise")
    );
    assert!(
        f.mitigation
            .as_deref()
            .unwrap_or("")
            .starts_with("Echoing user-controllable data")
    );
    assert_eq!(f.cwes, [79, 80, 116, 159]);
    assert_eq!(f.cwe, Some(79));
    assert_eq!(f.scanner_confidence.as_deref(), Some("Certain"));
    assert_eq!(f.request_response.len(), 1);
    assert!(
        f.request_response[0]
            .request
            .starts_with("GET /catalog?searchTerm=")
    );
    assert!(f.request_response[0].response.starts_with("HTTP/2 200 OK"));
    assert!(
        f.references
            .as_deref()
            .unwrap_or("")
            .contains("https://portswigger.net/web-security/cross-site-scripting")
    );

    let js = &findings[3];
    assert_eq!(
        js.endpoints[0].to_string(),
        "https://ginandjuice.shop/resources/js/angular_1-7-7.js"
    );
    assert_eq!(js.cwes, [1104]);
    assert_eq!(js.scanner_confidence.as_deref(), Some("Tentative"));
    assert!(
        js.vulnerability_ids.contains(&"CVE-2020-7676".to_owned()),
        "{:?}",
        js.vulnerability_ids
    );
    assert!(
        js.vulnerability_ids
            .contains(&"GHSA-5cp4-xmrw-59wf".to_owned()),
        "{:?}",
        js.vulnerability_ids
    );
    assert_eq!(js.vulnerability_ids.len(), 8, "seven CVEs and one GHSA");
}

#[test]
fn errors_say_where_and_what() {
    let err = parse_bytes(&BurpDastardlyParser, b"<issues/>").unwrap_err();
    assert!(
        err.message.contains("expected a <testsuites> root element"),
        "{err}"
    );
    let err = parse_bytes(&BurpDastardlyParser, b"<testsuites><testsuite name=\"x\">").unwrap_err();
    assert!(err.message.contains("end of the file"), "{err}");
    assert!(err.location.as_ref().and_then(|l| l.byte).is_some());
    assert_eq!(
        parse_bytes(&BurpDastardlyParser, b"<testsuites/>")
            .map(|f| f.len())
            .ok(),
        Some(0)
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&BurpDastardlyParser, &bytes);
    }

    #[test]
    fn truncated_fixture_never_panics(cut in 0.0f64..1.0) {
        let bytes = std::fs::read(fixture("burp_dastardly/many_findings.xml")).unwrap_or_default();
        let at = ((bytes.len() as f64) * cut) as usize;
        let _ = parse_bytes(&BurpDastardlyParser, &bytes[..at.min(bytes.len())]);
    }

    #[test]
    fn any_failure_text_never_panics(text in "(Issue Detail|Evidence|Request:|Response:|Vulnerability Classifications|CWE-[0-9]{1,6}|CVE-[0-9]{4}-[0-9]{1,6}|\n|[a-z ]{1,10}){0,20}", message in ".{0,30}") {
        let xml = format!(
            "<testsuites><testsuite name=\"https://h/\"><testcase name=\"n\"><failure message=\"{}\" type=\"High\"><![CDATA[{}]]></failure></testcase></testsuite></testsuites>",
            message.replace(['"', '<', '&'], ""),
            text
        );
        prop_assert!(parse_bytes(&BurpDastardlyParser, xml.as_bytes()).is_ok());
    }
}
