//! `SonarQube Scan` and `SonarQube Scan detailed` on DefectDojo's sample files: each test
//! checks what `fixtures/scans/EXPECTED.md` lists for the file (the full expected texts come
//! from `unittests/tools/test_sonarqube_parser.py`).

mod parser_checks;

use domain::{Severity, Status};
use parser_checks::{damaged, fixture_bytes, never_panics, parse_ok};
use proptest::prelude::*;
use scanners::formats::sonarqube::{AGGREGATED, DETAILED};
use scanners::testing::parse_bytes;

const HARDCODED_CREDENTIALS: &str = "Because it is easy to extract strings from a compiled application, credentials should never be hard-coded. Do so, and they're almost guaranteed to
end up in the hands of an attacker. This is particularly true for applications that are distributed.
Credentials should be stored outside of the code in a strongly-protected encrypted configuration file or database.
It's recommended to customize the configuration of this rule with additional credential words such as \"oauthToken\", \"secret\", ...
**Noncompliant Code Example**

Connection conn = null;
try {
  conn = DriverManager.getConnection(\"jdbc:mysql://localhost/test?\" +
        \"user=steve&password=blue\"); // Noncompliant
  String uname = \"steve\";
  String password = \"blue\";
  conn = DriverManager.getConnection(\"jdbc:mysql://localhost/test?\" +
        \"user=\" + uname + \"&password=\" + password); // Noncompliant

  java.net.PasswordAuthentication pa = new java.net.PasswordAuthentication(\"userName\", \"1234\".toCharArray());  // Noncompliant

**Compliant Solution**

Connection conn = null;
try {
  String uname = getEncryptedUser();
  String password = getEncryptedPass();
  conn = DriverManager.getConnection(\"jdbc:mysql://localhost/test?\" +
        \"user=\" + uname + \"&password=\" + password);";

const CLONE: &str = "Many consider clone and Cloneable broken in Java, largely because the rules for overriding clone are tricky
and difficult to get right, according to Joshua Bloch:

  Object's clone method is very tricky. It's based on field copies, and it's \"extra-linguistic.\" It creates an object without calling a constructor.
  There are no guarantees that it preserves the invariants established by the constructors. There have been lots of bugs over the years, both in and
  outside Sun, stemming from the fact that if you just call super.clone repeatedly up the chain until you have cloned an object, you have a shallow
  copy of the object. The clone generally shares state with the object being cloned. If that state is mutable, you don't have two independent objects.
  If you modify one, the other changes as well. And all of a sudden, you get random behavior.

A copy constructor or copy factory should be used instead.
This rule raises an issue when clone is overridden, whether or not Cloneable is implemented.
**Noncompliant Code Example**

public class MyClass {
  // ...

  public Object clone() { // Noncompliant
    //...
  }
}

**Compliant Solution**

public class MyClass {
  // ...

  MyClass (MyClass source) {
    //...
  }
}";

#[test]
fn registered() {
    assert!(scanners::find_scan_type("SonarQube Scan").is_some());
    assert!(scanners::find_scan_type("SonarQube Scan detailed").is_some());
}

#[test]
fn empty_zip() {
    assert!(parse_ok(&AGGREGATED, "sonarqube/empty_zip.zip").is_empty());
}

#[test]
fn api_json_multiple_findings() {
    let f = parse_ok(&AGGREGATED, "sonarqube/findings_over_api.json");
    assert_eq!(f.len(), 5);
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(if m == 1 { 2024 } else { 2023 }, m, d);

    assert_eq!(
        f[0].title.as_str(),
        "OWASP:UsingComponentWithKnownVulnerability_fjioefjwoefijo"
    );
    assert_eq!(f[0].severity, Severity::Medium);
    assert_eq!(f[0].vulnerability_ids[0], "CVE-2024-2529");
    assert_eq!(f[0].cwe, Some(120));
    assert_eq!(f[0].cvss_v3_score, Some(6.4));
    assert_eq!(f[0].component_name.as_deref(), Some("package"));
    assert_eq!(f[0].component_version.as_deref(), Some("1.1.2"));
    assert_eq!(f[0].date, day(10, 16));
    assert!(
        f[0].description
            .contains("**message:** Filename: package:1.1.2")
    );

    assert_eq!(
        f[1].title.as_str(),
        "Web:TableWithoutCaptionCheck_asdfwfewfwefewf"
    );
    assert_eq!(f[1].severity, Severity::Low);
    // DefectDojo's CWE 0 means "none"; ours is None (0 is not a CWE number).
    assert_eq!(f[1].cwe, None);
    assert_eq!(f[1].cvss_v3_score, None);
    assert_eq!(f[1].date, day(7, 25));
    assert_eq!(f[1].tags, ["bug"]);
    // Deliberate difference: DefectDojo gives bugs no file and other issues the component
    // key ("testapplication:src/…"); ours gives every issue its file's own path from
    // `components`, which matches what other tools report for the same file.
    assert_eq!(
        f[1].file_path.as_deref(),
        Some("src/app/pages/fjiowefjewio/fjwieof/fjiwoe/details.html")
    );
    assert_eq!(f[1].line, Some(59));

    assert_eq!(
        f[2].title.as_str(),
        "typescript:S1533_fjoiewfjoweifjoihugu-"
    );
    assert_eq!(f[2].severity, Severity::Low);
    assert_eq!(f[2].date, day(1, 29));
    assert_eq!(f[2].tags, ["code_smell"]);

    assert_eq!(f[3].vulnerability_ids[0], "GHSA-frr2-c345-p7c2");
    assert_eq!(f[3].date, day(10, 16));

    assert_eq!(f[4].vulnerability_ids[0], "CVE-2023-52428");
    assert_eq!(
        f[4].component_name.as_deref(),
        Some("nimbus-jose-jwt-9.24.4.jar")
    );
    assert_eq!(f[4].component_version, None);
    assert_eq!(f[4].date, day(10, 16));
    assert_eq!(f[4].severity, Severity::Critical);

    assert!(
        f.iter()
            .all(|f| f.status == Status::Active && f.static_finding)
    );
    // Aggregated mode does not claim the issue key as a stable id.
    assert!(f.iter().all(|f| f.unique_id_from_tool.is_none()));
}

#[test]
fn api_json_detailed_keeps_issue_keys() {
    let f = parse_ok(&DETAILED, "sonarqube/findings_over_api.json");
    assert_eq!(f.len(), 5);
    assert_eq!(f[0].unique_id_from_tool.as_deref(), Some("fjioefjwoefijo"));
    assert_eq!(
        f[2].unique_id_from_tool.as_deref(),
        Some("fjoiewfjoweifjoihugu-")
    );
}

#[test]
fn api_zip_multiple_findings() {
    let f = parse_ok(&AGGREGATED, "sonarqube/findings_over_api.zip");
    assert_eq!(f.len(), 6);
    assert_eq!(
        f[0].title.as_str(),
        "OWASP:UsingComponentWithKnownVulnerability_fjioefjwoefijo"
    );
    assert_eq!(f[0].file_path.as_deref(), Some("testapplication"));
    assert_eq!(f[0].severity, Severity::Medium);
    assert_eq!(
        f[3].title.as_str(),
        "OWASP:UsingComponentWithKnownVulnerability_fjioefjwo1123efijo"
    );
    assert_eq!(f[3].severity, Severity::Low);
    assert_eq!(
        f[5].title.as_str(),
        "typescript:S112533_fjoiewfjo1235gweifjoihugu-"
    );
    assert_eq!(f[5].severity, Severity::Medium);
}

#[test]
fn api_json_empty() {
    assert!(parse_ok(&AGGREGATED, "sonarqube/findings_over_api_empty.json").is_empty());
}

#[test]
fn api_json_multi_cwe() {
    let f = parse_ok(
        &AGGREGATED,
        "sonarqube/findings_over_api_multi_cwe_fabricated.json",
    );
    assert_eq!(f[0].cwe, Some(120));
    assert_eq!(f[0].cwes, [120, 79]);
}

#[test]
fn sonar_report_json_issue_10150() {
    let f = parse_ok(&AGGREGATED, "sonarqube/issue_10150.json");
    assert_eq!(f.len(), 3);
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(f[2].severity, Severity::Medium);
    // The report lists none of these rules: no description, references or CWE.
    assert!(f[0].description.starts_with("No description provided"));
}

#[test]
fn html_aggregates_same_rule_in_same_file() {
    let f = parse_ok(
        &AGGREGATED,
        "sonarqube/sonar-4-findings-3-to-aggregate.html",
    );
    assert_eq!(f.len(), 2);
    let (aggregated, single) = if f[0].occurrences == Some(3) {
        (&f[0], &f[1])
    } else {
        (&f[1], &f[0])
    };
    assert_eq!(aggregated.occurrences, Some(3));
    assert_eq!(single.occurrences, None, "one occurrence: the default of 1");
    // Deliberate differences: DefectDojo leaves HTML escapes in the text ("&amp;") and
    // spells "Occurences"; ours decodes them and spells the heading right.
    let expected = HARDCODED_CREDENTIALS.replace(
        "It's recommended to customize the configuration of this rule with additional credential words such as \"oauthToken\", \"secret\", ...\n",
        "",
    ) + "\n\n-----\nOccurrences:\nLine: 12\nLine: 13\nLine: 14";
    assert_eq!(aggregated.description, expected);
    assert_eq!(aggregated.line, None);
    assert_eq!(aggregated.unique_id_from_tool, None);
    let mitigations = aggregated.mitigation.as_deref().unwrap();
    assert_eq!(mitigations.matches("\n______\n").count(), 2);
}

#[test]
fn html_detailed_keeps_every_issue() {
    let f = parse_ok(&DETAILED, "sonarqube/sonar-4-findings-3-to-aggregate.html");
    assert_eq!(f.len(), 4);
    assert!(
        f.iter()
            .all(|f| f.unique_id_from_tool.is_some() && f.line.is_some())
    );
}

#[test]
fn html_six_findings() {
    let detailed = parse_ok(&DETAILED, "sonarqube/sonar-6-findings.html");
    assert_eq!(detailed.len(), 6);
    let aggregated = parse_ok(&AGGREGATED, "sonarqube/sonar-6-findings.html");
    // EXPECTED.md lists this test with the detailed mode switched on, so both give 6.
    assert_eq!(aggregated.len(), 6);
    // The importer's minimum-severity oracle: 3 Critical, 1 High, 2 Low.
    let count = |s| detailed.iter().filter(|f| f.severity == s).count();
    assert_eq!(
        (
            count(Severity::Critical),
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low)
        ),
        (3, 1, 0, 2)
    );
}

/// The reimport oracle: the second report changes one issue key, so 5 findings match by
/// `unique_id_from_tool`, one is new and one is gone.
#[test]
fn html_six_findings_one_unique_id_changed() {
    let first = parse_ok(&DETAILED, "sonarqube/sonar-6-findings.html");
    let second = parse_ok(
        &DETAILED,
        "sonarqube/sonar-6-findings-1-unique_id_changed.html",
    );
    assert_eq!(second.len(), 6);
    let ids = |v: &[domain::NewFinding]| {
        v.iter()
            .map(|f| f.unique_id_from_tool.clone().unwrap())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!(a.len(), 6);
    assert_eq!(a.intersection(&b).count(), 5);
}

#[test]
fn html_rule_undefined() {
    let f = parse_ok(&DETAILED, "sonarqube/sonar-rule-undefined.html");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(f.title.as_str(), "\"clone\" should not be overridden");
    assert_eq!(f.cwe, None, "DefectDojo's 0: no CWE");
    assert_eq!(f.status, Status::Active);
    assert!(!f.verified);
    assert_eq!(f.description, "No description provided");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(
        f.mitigation.as_deref(),
        Some(
            "Remove this \"clone\" implementation; use a copy constructor or copy factory instead."
        )
    );
    // DefectDojo's "" is our None: empty and absent mean the same.
    assert_eq!(f.references, None);
    assert_eq!(
        f.file_path.as_deref(),
        Some("java/org/apache/catalina/util/URLEncoder.java")
    );
    // DefectDojo keeps the line as the string "190"; ours is a number.
    assert_eq!(f.line, Some(190));
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some("AWK40IMu-pl6AHs22MnV")
    );
    assert!(f.static_finding && !f.dynamic_finding);
}

#[test]
fn html_single_finding_aggregated() {
    let f = parse_ok(&AGGREGATED, "sonarqube/sonar-single-finding.html");
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].description,
        format!("{HARDCODED_CREDENTIALS}\n\n-----\nOccurrences:\nLine: 66")
    );
    assert_eq!(f[0].line, None);
    assert_eq!(f[0].unique_id_from_tool, None);
    assert_eq!(f[0].occurrences, None, "one occurrence: the default of 1");
}

#[test]
fn html_single_finding_detailed() {
    let f = parse_ok(&DETAILED, "sonarqube/sonar-single-finding.html");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].description, HARDCODED_CREDENTIALS);
    assert_eq!(f[0].line, Some(66));
    assert_eq!(
        f[0].unique_id_from_tool.as_deref(),
        Some("AWK40IMu-pl6AHs22MnV")
    );
    assert_eq!(f[0].cwe, Some(798));
}

/// DefectDojo's `sonar-no-finding.html` is not in the snapshot; sonar-report writes such a
/// report with the rules table alone, which this test makes from a one-issue report.
#[test]
fn html_without_the_vulnerability_table_has_no_findings() {
    let html = String::from_utf8(fixture_bytes("sonarqube/sonar-table-in-table.html")).unwrap();
    let start = html
        .find("<h2>Detail of the Detected Vulnerabilities</h2>")
        .unwrap();
    let end = html.find("<h3>Known Security Rules</h3>").unwrap();
    let without = format!("{}{}", &html[..start], &html[end..]);
    assert!(
        parse_bytes(&AGGREGATED, without.as_bytes())
            .unwrap()
            .is_empty()
    );
    assert!(
        parse_bytes(&DETAILED, without.as_bytes())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn sonar_report_json_no_finding() {
    assert!(parse_ok(&DETAILED, "sonarqube/sonar-no-finding.json").is_empty());
}

#[test]
fn sonar_report_json_single_finding() {
    let f = parse_ok(&DETAILED, "sonarqube/sonar-single-finding.json");
    assert_eq!(f.len(), 1);
    // DefectDojo keeps "didn&#8217;t"; ours decodes the reference.
    assert!(f[0].description.starts_with(
        "A cross-site request forgery (CSRF) attack occurs when a trusted user of a web application can be forced, by an attacker, to perform sensitive\nactions that he didn\u{2019}t intend, such as updating his profile or sending"
    ));
    assert!(
        f[0].description
            .contains("\n**Ask Yourself Whether**\n\n   The web application uses cookies")
    );
    assert!(f[0].description.ends_with("submit = SubmitField('submit')"));
    assert_eq!(f[0].line, Some(8));
    assert_eq!(
        f[0].unique_id_from_tool.as_deref(),
        Some("AYvNd32RyD1npIoQXyT1")
    );
    assert_eq!(
        f[0].title.as_str(),
        "Disabling CSRF protections is security-sensitive"
    );
    assert_eq!(f[0].status, Status::Active, "TO_REVIEW is open");
}

#[test]
fn html_table_in_table() {
    for file in [
        "sonarqube/sonar-table-in-table.html",
        "sonarqube/sonar-table-in-table-with-whitespace.html",
    ] {
        let f = parse_ok(&DETAILED, file);
        assert_eq!(f.len(), 1, "{file}");
        let f = &f[0];
        assert_eq!(f.title.as_str(), "\"clone\" should not be overridden");
        assert_eq!(f.cwe, None);
        assert_eq!(f.status, Status::Active);
        assert!(!f.verified);
        assert_eq!(f.description, CLONE, "{file}");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.mitigation.as_deref(),
            Some(
                "Remove this \"clone\" implementation; use a copy constructor or copy factory instead."
            )
        );
        assert_eq!(
            f.references.as_deref(),
            Some("squid:S2975\nCopy Constructor versus Cloning\nS2157\nS1182")
        );
        assert_eq!(
            f.file_path.as_deref(),
            Some("java/org/apache/catalina/util/URLEncoder.java")
        );
        assert_eq!(f.line, Some(190));
        assert_eq!(
            f.unique_id_from_tool.as_deref(),
            Some("AWK40IMu-pl6AHs22MnV")
        );
        assert!(f.static_finding && !f.dynamic_finding);
        assert_eq!(f.vuln_id_from_tool.as_deref(), Some("squid:S2975"));
    }
}

/// No parser test opens sonar.json in DefectDojo; ours checks it parses into its 6 issues.
#[test]
fn sonar_report_json_six_issues() {
    let f = parse_ok(&DETAILED, "sonarqube/sonar.json");
    assert_eq!(f.len(), 6);
    assert!(f.iter().all(|f| f.unique_id_from_tool.is_some()));
}

#[test]
fn errors_say_what_was_expected() {
    let err = parse_bytes(&DETAILED, b"{\"foo\": 1}").unwrap_err();
    assert!(
        err.message.contains("expected a sonar-report JSON"),
        "{}",
        err.message
    );
    let err = parse_bytes(&DETAILED, b"{\"issues\": [{\"line\": []}]}").unwrap_err();
    assert!(err.location.is_some_and(|l| l.line == Some(1)));
    let err = parse_bytes(&DETAILED, b"<html><body><p>hello</p></body></html>").unwrap_err();
    assert!(err.message.contains("sonar-report HTML"), "{}", err.message);
    let err = parse_bytes(&DETAILED, b"PK\x03\x04broken").unwrap_err();
    assert!(err.message.contains("zip"), "{}", err.message);
    let err = parse_bytes(&DETAILED, b"hello").unwrap_err();
    assert!(
        err.message.contains("expected a SonarQube report"),
        "{}",
        err.message
    );
    let err = parse_bytes(
        &DETAILED,
        b"<div class=detail><table><tbody><tr><td>x</td></tr></tbody></table><table><tbody></tbody></table></div>",
    )
    .unwrap_err();
    assert!(err.message.contains("expected 7 cells"), "{}", err.message);
    assert!(err.location.is_some_and(|l| l.byte.is_some()));
}

const FIXTURES: &[&str] = &[
    "sonarqube/findings_over_api.json",
    "sonarqube/findings_over_api.zip",
    "sonarqube/issue_10150.json",
    "sonarqube/sonar-rule-undefined.html",
    "sonarqube/sonar-single-finding.json",
    "sonarqube/sonar-table-in-table.html",
    "sonarqube/sonar-table-in-table-with-whitespace.html",
    "sonarqube/empty_zip.zip",
];

proptest! {
    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        never_panics(&AGGREGATED, &bytes);
        never_panics(&DETAILED, &bytes);
    }

    #[test]
    fn never_panics_on_damaged_fixtures(
        which in 0..FIXTURES.len(), cut in any::<usize>(), flip in any::<usize>(), with in any::<u8>()
    ) {
        let (truncated, flipped) = damaged(&fixture_bytes(FIXTURES[which]), cut, flip, with);
        never_panics(&AGGREGATED, &truncated);
        never_panics(&DETAILED, &flipped);
    }

    /// Arbitrary markup soup in the HTML report shape.
    #[test]
    fn never_panics_on_html_soup(parts in proptest::collection::vec(
        prop::sample::select(vec![
            "<div class=detail>", "</div>", "<table>", "</table>", "<tbody>", "</tbody>", "<tr>",
            "</tr>", "<td>", "</td>", "<a>", "</a>", "<details>", "</details>", "<h2>", "See",
            "</h2>", "x", "&amp;", "&#99999999;", "<!--", "-->", "<script>", "</script>", "CWE-79",
        ]),
        0..64,
    )) {
        let doc: String = parts.concat();
        never_panics(&AGGREGATED, doc.as_bytes());
        never_panics(&DETAILED, doc.as_bytes());
    }
}
