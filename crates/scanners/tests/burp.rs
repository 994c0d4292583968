//! `Burp Scan` (XML export) on DefectDojo's samples (fixtures/scans/burp), asserting what
//! fixtures/scans/EXPECTED.md lists, plus robustness properties.
//!
//! `burp/issue4399.xml` (2.2 MB) is NOT COPIED into the fixtures, so its test is not here.

use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::burp::BurpParser;
use scanners::testing::{fixture, parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&BurpParser, rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn one_finding() {
    let findings = parse("burp/one_finding.xml");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some("1049088"));
    // DefectDojo lists three locations: the host `http://bwa` once per folded issue. Ours are
    // the issues' distinct URLs (two of the three are /bodgeit/login.jsp); `occurrences` keeps
    // the count of issues.
    let urls: Vec<String> = f.endpoints.iter().map(ToString::to_string).collect();
    assert_eq!(
        urls,
        [
            "http://bwa/bodgeit/basket.jsp",
            "http://bwa/bodgeit/login.jsp"
        ]
    );
    assert_eq!(f.occurrences, Some(3));
    assert_eq!(
        f.param.as_deref(),
        Some("b_id cookie, password parameter, username parameter")
    );
    assert_eq!(f.request_response.len(), 5);
    assert!(
        f.request_response[0]
            .request
            .starts_with("POST /bodgeit/basket.jsp HTTP/1.1\r\nHost: bwa")
    );
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("7121655797013284864")
    );
}

#[test]
fn one_finding_with_blank_response() {
    let findings = parse("burp/one_finding_with_blank_response.xml");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("7121655797013284864")
    );
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some("1049088"));
    assert_eq!(f.title.as_str(), "SQL injection");
    assert_eq!(f.endpoints.len(), 1);
    assert_eq!(f.endpoints[0].host, "bwa");
    assert_eq!(f.endpoints[0].protocol.as_deref(), Some("http"));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.request_response.len(), 1);
    assert_eq!(f.request_response[0].response, "");
    assert_eq!(f.scanner_confidence.as_deref(), Some("Firm"));
    assert!(f.dynamic_finding);
}

#[test]
fn one_finding_with_cwe() {
    let findings = parse("burp/one_finding_with_cwe.xml");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.unique_id_from_tool.as_deref(), Some("456437653765735"));
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some("7340288"));
    assert_eq!(f.title.as_str(), "Cacheable HTTPS response");
    assert_eq!(f.cwe, Some(524));
    assert_eq!(f.cwes, [524, 525]);
    assert_eq!(f.severity, Severity::Info);
    assert!(
        f.impact
            .as_deref()
            .unwrap_or("")
            .starts_with("Unless directed otherwise")
    );
    assert!(
        f.mitigation
            .as_deref()
            .unwrap_or("")
            .ends_with("- Cache-control: no-store\n- Pragma: no-cache")
    );
    assert!(
        f.request_response[0]
            .request
            .starts_with("GET /test/v4/public/users/fake HTTP/1.1\nHost: exemple.com")
    );
}

#[test]
fn plain_requests_false_positives_and_collaborator() {
    let xml = br#"<?xml version="1.0"?>
<issues burpVersion="2023.1">
  <issue>
    <serialNumber>1</serialNumber><type>3146256</type><name>External service interaction (DNS)</name>
    <host ip="10.0.0.1">https://shop.example.com</host><path>/a</path><location>/a [q parameter]</location>
    <severity>False positive</severity><confidence>Tentative</confidence>
    <requestresponse><request base64="false"><![CDATA[GET /a HTTP/1.1]]></request></requestresponse>
    <collaboratorEvent><interactionType>DNS</interactionType><originIp>1.2.3.4</originIp>
      <time>2023-01-01 10:00:00 UTC</time><lookupType>A</lookupType><lookupHost>x.oastify.com</lookupHost>
    </collaboratorEvent>
  </issue>
</issues>"#;
    let findings = parse_bytes(&BurpParser, xml).unwrap_or_default();
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.status, Status::FalsePositive);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.request_response[0].request, "GET /a HTTP/1.1");
    assert!(
        f.description
            .contains("DNS lookup of type A for the domain name x.oastify.com"),
        "{}",
        f.description
    );
    assert_eq!(f.param.as_deref(), Some("q parameter"));
}

#[test]
fn errors_say_where_and_what() {
    let err = parse_bytes(&BurpParser, b"<report/>").unwrap_err();
    assert!(
        err.message.contains("expected an <issues> root element"),
        "{err}"
    );
    assert!(err.location.as_ref().and_then(|l| l.byte).is_some());
    let err = parse_bytes(&BurpParser, b"<issues><issue><name>x</name>").unwrap_err();
    assert!(err.message.contains("end of the file"), "{err}");
    let err = parse_bytes(
        &BurpParser,
        b"<issues><issue><name>x</nam></issue></issues>",
    )
    .unwrap_err();
    assert!(err.message.starts_with("expected well-formed XML"), "{err}");
    let err = parse_bytes(
        &BurpParser,
        b"<issues><issue><severity>High</severity></issue></issues>",
    )
    .unwrap_err();
    assert!(err.message.contains("expected a <name> or <type>"), "{err}");
    assert_eq!(
        parse_bytes(&BurpParser, b"<issues/>").map(|f| f.len()).ok(),
        Some(0)
    );
}

#[test]
fn no_external_entities() {
    let xml = br#"<?xml version="1.0"?><!DOCTYPE issues [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<issues><issue><type>1</type><name>n &xxe;</name><host>http://h</host><path>/</path></issue></issues>"#;
    let findings = parse_bytes(&BurpParser, xml).unwrap_or_default();
    assert_eq!(findings[0].title.as_str(), "n &xxe;");
}

fn fixture_bytes() -> Vec<Vec<u8>> {
    [
        "burp/one_finding_with_blank_response.xml",
        "burp/one_finding_with_cwe.xml",
    ]
    .iter()
    .map(|rel| std::fs::read(fixture(rel)).unwrap_or_default())
    .collect()
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&BurpParser, &bytes);
    }

    #[test]
    fn xml_like_text_never_panics(text in "<issues><issue>(<(type|name|host|path|location|severity|requestresponse|request|response|collaboratorEvent|interactionType)[ a-z=\"]{0,12}>[a-zA-Z0-9+/=\\[\\] <>&;]{0,40}){0,8}") {
        let _ = parse_bytes(&BurpParser, text.as_bytes());
    }

    #[test]
    fn truncated_fixtures_never_panic(which in 0usize..2, cut in 0.0f64..1.0) {
        let all = fixture_bytes();
        let bytes = &all[which];
        let at = ((bytes.len() as f64) * cut) as usize;
        let _ = parse_bytes(&BurpParser, &bytes[..at.min(bytes.len())]);
    }
}
