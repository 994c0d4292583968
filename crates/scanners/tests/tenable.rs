//! `Tenable Scan` on DefectDojo's sample files (fixtures/scans/tenable), asserting what
//! fixtures/scans/EXPECTED.md lists, plus robustness properties.

use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::tenable::TenableParser;
use scanners::testing::{fixture, parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&TenableParser, rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn host(f: &NewFinding, i: usize) -> &str {
    f.endpoints.get(i).map_or("", |e| e.host.as_str())
}

fn protocol(f: &NewFinding, i: usize) -> Option<&str> {
    f.endpoints.get(i).and_then(|e| e.protocol.as_deref())
}

#[test]
fn issue_11102_csv() {
    let findings = parse("tenable/issue_11102.csv");
    // Three rows; the two on port 443 fold into one, because this Tenable.sc export has no
    // `Host` column and DefectDojo's fold key uses `Host` (the endpoints keep both IPs).
    assert_eq!(findings.len(), 2);
    let f = &findings[0];
    assert_eq!(
        f.mitigation.as_deref(),
        Some(
            "Reconfigure the affected application if possible to avoid use of medium strength ciphers."
        )
    );
    // test_parse_issue_11127
    assert_eq!(
        f.references.as_deref(),
        Some(
            "https://www.openssl.org/blog/blog/2016/08/24/sweet32/\nhttps://sweet32.info\nTenable Plugin ID: 42873\n\
             Plugin Information: N/A\nPlugin Publication Date: Nov 23, 2009 12:00:00 UTC\n\
             Plugin Modification Date: Feb 3, 2021 12:00:00 UTC"
        )
    );
    let hosts: Vec<&str> = f.endpoints.iter().map(|e| e.host.as_str()).collect();
    assert_eq!(hosts, ["1.2.3.4", "2.3.4.5"]);
    assert_eq!(f.endpoints[0].port, Some(443));
    assert_eq!(protocol(f, 0), Some("tcp"));
    assert_eq!(f.occurrences, Some(2));
    assert_eq!(f.vulnerability_ids, ["CVE-2016-2183"]);
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some("42873"));
}

#[test]
fn issue_9612_csv() {
    let findings = parse("tenable/issue_9612.csv");
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].severity, Severity::Critical);
    assert_eq!(findings[0].component_name.as_deref(), Some("sql_server"));
}

#[test]
fn issue_6992_nessus() {
    let findings = parse("tenable/nessus/issue_6992.nessus");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::High);
}

#[test]
fn nessus_template_csv() {
    let findings = parse("tenable/nessus/nessus-template.csv");
    assert_eq!(findings.len(), 5);
    let f = &findings[0];
    assert_eq!(
        f.title.as_str(),
        "SSL Medium Strength Cipher Suites Supported (SWEET32)"
    );
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.vulnerability_ids, ["CVE-2016-2183"]);
    // DefectDojo says cwe 0 (its "none"); the row's XREF names no CWE, so ours is None.
    assert_eq!(f.cwe, None);
    assert_eq!(f.epss_score, Some(0.3833));
    // "CVSS v3.0 Base Score" is "75" in this sample: not a CVSS score, so not kept.
    assert_eq!(f.cvss_v3_score, None);
    let f = &findings[1];
    assert_eq!(f.title.as_str(), "HTTP TRACE / TRACK Methods Allowed");
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.vulnerability_ids, ["CVE-2003-1567"]);
    // DefectDojo: cwe 0. The row's XREF is "CERT:288308;CERT:867593;CWE:16;CWE:200"; we keep
    // those CWEs (DefectDojo leaves them out only to keep old hash codes stable).
    assert_eq!(f.cwe, Some(16));
    assert_eq!(f.cwes, [16, 200]);
    assert_eq!(f.epss_score, Some(0.8269));
}

#[test]
fn nessus_many_vuln_csv() {
    let findings = parse("tenable/nessus/nessus_many_vuln.csv");
    assert_eq!(findings.len(), 4);
    for f in &findings {
        assert_eq!(f.severity, Severity::Medium);
    }
    let f = &findings[0];
    assert_eq!(f.endpoints.len(), 1);
    assert_eq!(host(f, 0), "10.1.1.1");
    assert_eq!(
        f.cvss_v3_vector.as_deref(),
        Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N/E:P/RL:O/RC:C")
    );
    assert_eq!(f.component_name.as_deref(), Some("md5"));
    assert_eq!(f.vulnerability_ids, ["CVE-2004-2761"]);
    // DefectDojo: cwe 0 for all four. "Cross References" says "CERT #836068,CWE #310".
    assert_eq!(f.cwe, Some(310));
    assert_eq!(
        findings[3].vulnerability_ids,
        ["CVE-2013-2566", "CVE-2015-2808"]
    );
    // "Plugin Text" (the output in this export) is kept, which DefectDojo drops.
    assert!(
        f.description
            .contains("contain hashes that are considered to be weak"),
        "{}",
        f.description
    );
}

fn check_many_vuln2(rel: &str) {
    let findings = parse(rel);
    assert_eq!(findings.len(), 29);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Info);
    assert!(f.vulnerability_ids.is_empty());
    assert_eq!(f.cwe, None, "DefectDojo's 0 is our None");
    assert_eq!(f.title.as_str(), "HTTP Server Type and Version");
    let f = &findings[25];
    assert_eq!(
        f.title.as_str(),
        "SSL Certificate Signed Using Weak Hashing Algorithm (Known CA)"
    );
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.vulnerability_ids, ["CVE-2004-2761"]);
}

#[test]
fn nessus_many_vuln2_all_csv() {
    check_many_vuln2("tenable/nessus/nessus_many_vuln2-all.csv");
}

#[test]
fn nessus_many_vuln2_default_csv() {
    check_many_vuln2("tenable/nessus/nessus_many_vuln2-default.csv");
}

#[test]
fn nessus_many_vuln2_all_csv_as_bytes() {
    // test_parse_some_findings_csv_bytes_nessus_legacy: the same file given as bytes.
    let bytes =
        std::fs::read(fixture("tenable/nessus/nessus_many_vuln2-all.csv")).unwrap_or_default();
    let findings = parse_bytes(&TenableParser, &bytes).unwrap_or_default();
    assert_eq!(findings.len(), 29);
}

#[test]
fn nessus_new_csv_tenable_io() {
    let findings = parse("tenable/nessus/nessus_new.csv");
    assert_eq!(findings.len(), 99);
    let f = &findings[0];
    assert_eq!(host(f, 0).to_lowercase(), "blah1");
    // DefectDojo titles this row "Blah1" (the asset's name, from `asset.name`); the plugin's
    // name is the title that says what the finding is.
    assert_eq!(
        f.title.as_str(),
        "Network daemons not managed by the package system"
    );
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.cvss_v3_score, Some(3.1));
    assert_eq!(
        f.cvss_v3_vector.as_deref(),
        Some("CVSS:3.0/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:L/A:N")
    );
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("0012b94a-f4a1-4f2c-babc-6cac61f3cd0a")
    );
    assert_eq!(f.vuln_id_from_tool.as_deref(), Some("33851"));
    assert_eq!(f.status, Status::Active);
}

#[test]
fn nessus_v_unknown_xml() {
    let findings = parse("tenable/nessus/nessus_v_unknown.xml");
    assert_eq!(findings.len(), 32);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Info);
    assert!(f.vulnerability_ids.is_empty());
    assert_eq!(f.title.as_str(), "Nessus Scan Information");
    let f = &findings[25];
    assert_eq!(f.title.as_str(), "Nessus SYN scanner");
    assert_eq!(f.severity, Severity::Info);
    assert!(f.vulnerability_ids.is_empty());
    assert_eq!(f.endpoints.len(), 38);
    assert_eq!(protocol(f, 26), Some("http"));
    assert_eq!(protocol(f, 37), Some("tcp"));
    assert_eq!(f.occurrences, Some(38));
    // DefectDojo lists CVE-2005-1794 seven times (once per folded item); ids are a set here.
    let f = &findings[9];
    assert_eq!(f.vulnerability_ids, ["CVE-2005-1794"]);
    assert_eq!(f.occurrences, Some(7));
}

#[test]
fn nessus_with_cvssv3() {
    let findings = parse("tenable/nessus/nessus_with_cvssv3.nessus");
    assert_eq!(findings.len(), 48);
    let f = &findings[3];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.cwe, None);
    assert_eq!(protocol(f, 0), Some("http"));
    assert_eq!(
        f.cvss_v3_vector.as_deref(),
        Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N")
    );
    assert_eq!(f.cvss_v3_score, Some(5.3));
}

#[test]
fn nessus_with_cwe() {
    let findings = parse("tenable/nessus/nessus_with_cwe-.nessus");
    assert_eq!(findings[0].cwe, Some(94));
}

#[test]
fn nessus_was_many_vuln_csv() {
    let findings = parse("tenable/nessus_was/nessus_was_many_vuln.csv");
    assert_eq!(findings.len(), 5);
    for f in &findings {
        assert_eq!(host(f, 0), "google.com");
        assert!(f.vulnerability_ids.is_empty());
    }
    let f = &findings[0];
    assert_eq!(f.cvss_v3_score, Some(7.1));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(protocol(f, 0), Some("http"));
    assert_eq!(f.cwe, None, "DefectDojo's 0 is our None");
}

#[test]
fn nessus_was_many_vuln_xml() {
    let findings = parse("tenable/nessus_was/nessus_was_many_vuln.xml");
    assert_eq!(findings.len(), 5);
    for f in &findings {
        assert_eq!(protocol(f, 0), Some("http"));
        assert_eq!(host(f, 0), "google.com");
    }
    let f = &findings[0];
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.title.as_str(), "Cross-Site Scripting (XSS)");
    // DefectDojo: cwe None, because it ignores `<xref>CWE:79</xref>` (to keep old hash codes).
    assert_eq!(f.cwe, Some(79));
}

#[test]
fn nessus_was_no_vuln() {
    assert!(parse("tenable/nessus_was/nessus_was_no_vuln.csv").is_empty());
    assert!(parse("tenable/nessus_was/nessus_was_no_vuln.xml").is_empty());
}

#[test]
fn nessus_was_one_vuln_csv() {
    let findings = parse("tenable/nessus_was/nessus_was_one_vuln.csv");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(host(f, 0), "google.com");
    assert!(f.vulnerability_ids.is_empty());
    assert_eq!(f.cvss_v3_score, Some(7.1));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(protocol(f, 0), Some("http"));
}

#[test]
fn nessus_was_one_vuln_xml() {
    let findings = parse("tenable/nessus_was/nessus_was_one_vuln.xml");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(protocol(f, 0), Some("http"));
    // DefectDojo: None (see nessus_was_many_vuln_xml).
    assert_eq!(f.cwe, Some(79));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.title.as_str(), "Cross-Site Scripting (XSS)");
    assert!(
        f.description.contains("| ()\"&%1'-;<xss_9676200>'"),
        "{}",
        f.description
    );
}

#[test]
fn errors_say_where_and_what() {
    let err = parse_bytes(&TenableParser, b"").unwrap_err();
    assert!(err.message.contains("empty file"), "{err}");

    let err = parse_bytes(
        &TenableParser,
        b"<?xml version=\"1.0\"?>\n<NessusClientData>",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected a <NessusClientData_v2> root element"),
        "{err}"
    );
    assert_eq!(err.location.as_ref().and_then(|l| l.byte), Some(40));

    let truncated = b"<NessusClientData_v2><Report><ReportHost name=\"h\"><ReportItem port=\"1\" pluginName=\"x\">";
    let err = parse_bytes(&TenableParser, truncated).unwrap_err();
    assert!(err.message.contains("end of the file"), "{err}");

    let err = parse_bytes(
        &TenableParser,
        b"<NessusClientData_v2><Report></Host></NessusClientData_v2>",
    )
    .unwrap_err();
    assert!(err.message.starts_with("expected well-formed XML"), "{err}");
    assert!(err.location.as_ref().and_then(|l| l.byte).is_some());

    let err = parse_bytes(&TenableParser, b"Foo,Bar\n1,2\n").unwrap_err();
    assert_eq!(err.location.as_ref().and_then(|l| l.record), Some(1));
    assert!(err.message.contains("`Plugin Name`"), "{err}");
}

#[test]
fn cvss_v3_score_decides_severity_by_the_cvss_bands() {
    // DefectDojo maps a CVSS v3 base score of 4.0–4.9 to Low (its Medium starts at 5.0); the
    // CVSS v3 specification's Medium band starts at 4.0, and so does ours.
    let xml = br#"<NessusClientData_v2><Report><ReportHost name="10.0.0.1">
<HostProperties><tag name="host-ip">10.0.0.1</tag></HostProperties>
<ReportItem port="443" svc_name="https?" protocol="tcp" severity="1" pluginID="1" pluginName="p">
<cvss3_base_score>4.3</cvss3_base_score></ReportItem>
<ReportItem port="0" svc_name="general" protocol="tcp" severity="4" pluginID="2" pluginName="q"/>
</ReportHost></Report></NessusClientData_v2>"#;
    let findings = parse_bytes(&TenableParser, xml).unwrap_or_default();
    assert_eq!(findings[0].severity, Severity::Medium);
    assert_eq!(findings[0].endpoints[0].to_string(), "https://10.0.0.1:443");
    assert_eq!(findings[1].severity, Severity::Critical);
    // Port 0 and svc_name "general" (cleaned to the transport) give host and protocol only.
    assert_eq!(findings[1].endpoints[0].to_string(), "tcp://10.0.0.1");
}

#[test]
fn byte_order_marks_and_leading_blank_lines() {
    let xml = b"\xEF\xBB\xBF\n\n<?xml version=\"1.0\"?><NessusClientData_v2><Report><ReportHost name=\"h\">\
<ReportItem port=\"22\" svc_name=\"ssh\" protocol=\"tcp\" severity=\"2\" pluginID=\"7\" pluginName=\"SSH\"/>\
</ReportHost></Report></NessusClientData_v2>";
    let findings = parse_bytes(&TenableParser, xml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(findings[0].endpoints[0].to_string(), "ssh://h:22");
    let csv = b"\xEF\xBB\xBFPlugin ID,Name,Risk,Host,Protocol,Port\n7,SSH,Medium,h,tcp,22\n";
    let findings = parse_bytes(&TenableParser, csv).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(findings[0].vuln_id_from_tool.as_deref(), Some("7"));
    assert_eq!(findings[0].severity, Severity::Medium);
}

#[test]
fn no_external_entities() {
    // XXE: the entity is declared but never expanded, so no file is read.
    let xml = br#"<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<NessusClientData_v2><Report><ReportHost name="h"><ReportItem port="0" pluginName="x" severity="1">
<plugin_output>&xxe;</plugin_output></ReportItem></ReportHost></Report></NessusClientData_v2>"#;
    let findings = parse_bytes(&TenableParser, xml).unwrap_or_default();
    assert_eq!(findings.len(), 1);
    assert!(findings[0].description.contains("&xxe;"));
    assert!(!findings[0].description.contains("root:"));
}

fn fixture_bytes() -> Vec<Vec<u8>> {
    [
        "tenable/issue_11102.csv",
        "tenable/nessus/nessus-template.csv",
        "tenable/nessus_was/nessus_was_many_vuln.xml",
        "tenable/nessus_was/nessus_was_one_vuln.csv",
    ]
    .iter()
    .map(|rel| std::fs::read(fixture(rel)).unwrap_or_default())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&TenableParser, &bytes);
    }

    #[test]
    fn arbitrary_xml_like_text_never_panics(text in "<(NessusClientData_v2|Report|ReportHost|ReportItem|cve|tag)[ a-z=\"0-9]{0,20}>[<>/&;a-zA-Z0-9 \"]{0,200}") {
        let _ = parse_bytes(&TenableParser, text.as_bytes());
    }

    #[test]
    fn truncated_fixtures_never_panic(which in 0usize..4, cut in 0.0f64..1.0) {
        let all = fixture_bytes();
        let bytes = &all[which];
        let at = ((bytes.len() as f64) * cut) as usize;
        let _ = parse_bytes(&TenableParser, &bytes[..at.min(bytes.len())]);
    }
}
