//! `Snyk Scan` against DefectDojo's sample files (fixtures/scans/snyk/), checking what
//! fixtures/scans/EXPECTED.md lists for each.

mod json_fuzz;

use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::snyk::SnykScan;
use scanners::testing::{parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&SnykScan, &format!("snyk/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn registered_under_defectdojos_name() {
    let t = scanners::find_scan_type("Snyk Scan").expect("registered");
    assert_eq!(t.name, "Snyk Scan");
}

#[test]
fn all_projects_counts() {
    assert_eq!(parse("all-projects_many_vulns.json").len(), 4);
    assert_eq!(parse("all-projects_no_vulns.json").len(), 0);
    assert_eq!(parse("all-projects_one_vuln.json").len(), 1);
    assert_eq!(parse("single_project_no_vulns.json").len(), 0);
    assert_eq!(parse("single_project_one_vuln.json").len(), 1);
}

#[test]
fn all_projects_issue4277() {
    let findings = parse("all_projects_issue4277.json");
    assert_eq!(findings.len(), 82);
    for (i, sev, name, version, id, cve, cwe, vector) in [
        (
            0,
            Severity::High,
            "Microsoft.AspNetCore",
            "2.2.0",
            "SNYK-DOTNET-MICROSOFTASPNETCORE-174184",
            "CVE-2019-0815",
            200,
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        ),
        (
            40,
            Severity::High,
            "lodash",
            "4.17.11",
            "SNYK-JS-LODASH-1040724",
            "CVE-2021-23337",
            78,
            "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H/E:P/RL:U/RC:C",
        ),
        (
            81,
            Severity::Medium,
            "yargs-parser",
            "5.0.0",
            "SNYK-JS-YARGSPARSER-560381",
            "CVE-2020-7608",
            400,
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L/E:P/RL:O/RC:C",
        ),
    ] {
        let f = &findings[i];
        assert_eq!(f.severity, sev, "{i}");
        assert_eq!(f.component_name.as_deref(), Some(name), "{i}");
        assert_eq!(f.component_version.as_deref(), Some(version), "{i}");
        assert_eq!(f.vuln_id_from_tool.as_deref(), Some(id), "{i}");
        assert_eq!(f.vulnerability_ids, [cve], "{i}");
        assert_eq!(f.cwe, Some(cwe), "{i}");
        assert_eq!(f.cvss_v3_vector.as_deref(), Some(vector), "{i}");
    }
}

#[test]
fn none_cvss_score_falls_back_to_snyks_rating() {
    let findings = parse("single_project_None_cvss.json");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Low);
    assert_eq!(
        findings[0].vuln_id_from_tool.as_deref(),
        Some("SNYK-SLES153-PERMISSIONS-2648113")
    );
}

#[test]
fn single_project_finding_fields() {
    let findings = parse("single_project_one_vuln.json");
    let f = &findings[0];
    assert_eq!(
        f.title.as_str(),
        "com.test:myframework@1.0.0-SNAPSHOT: XML External Entity (XXE) Injection"
    );
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(
        f.severity_justification.as_deref(),
        Some("Issue severity of: **Medium** from a base CVSS score of: **6.5**")
    );
    assert_eq!(
        f.vuln_id_from_tool.as_deref(),
        Some("SNYK-JAVA-ORGAPACHESANTUARIO-460281")
    );
    assert_eq!(f.vulnerability_ids, ["CVE-2019-12400"]);
    assert_eq!(f.cwe, Some(611));
    assert_eq!(
        f.cvss_v3_vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:L")
    );
    assert_eq!(f.cvss_v3_score, Some(6.5));
    assert_eq!(
        f.mitigation.as_deref(),
        Some(
            "## Remediation\nUpgrade `org.apache.santuario:xmlsec` to version 2.1.4 or higher.\n\n\
             Upgrade Location: pom.xml\n\
             Upgrade from org.apache.santuario:xmlsec@2.1.1 to org.apache.santuario:xmlsec@2.1.4 to fix this issue, \
             as well as updating the following:\n - org.apache.santuario:xmlsec@2.1.1"
        )
    );
    assert_eq!(
        f.references.as_deref(),
        Some(
            "**SNYK ID**: https://app.snyk.io/vuln/SNYK-JAVA-ORGAPACHESANTUARIO-460281\n\n\
             **GitHub Commit**: https://github.com/apache/santuario-java/commit/52ae824cf5f5c873a0e37bb33fedcc3b387cdba6\n\
             **GitHub Commit**: https://github.com/apache/santuario-java/commit/c5210f77a77105fba81311d16c07ceacc21f39d5\n\
             **Possible Jira Issue**: https://issues.apache.org/jira/browse/SANTUARIO-504?jql=project%20%3D%20SANTUARIO\n\
             **Security Release**: http://santuario.apache.org/secadv.data/CVE-2019-12400.asc?version=1&modificationDate=1566573083000&api=v2\n"
        )
    );
    assert_eq!(
        f.file_path.as_deref(),
        Some("com.test:myframework > org.apache.santuario:xmlsec")
    );
    assert_eq!(
        f.component_purl.as_deref(),
        Some("pkg:maven/org.apache.santuario/xmlsec@2.1.1")
    );
    assert_eq!(
        f.tags,
        [
            "target_file:pom.xml",
            "upgrade_to:org.apache.santuario:xmlsec@2.1.4"
        ]
    );
    assert!(f.static_finding && !f.dynamic_finding);
    assert_eq!(f.status, Status::Active);
}

#[test]
fn ampersands_in_the_path_are_kept() {
    let findings = parse("single_project_one_vuln_with_ampersands.json");
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].file_path.as_deref(),
        Some("myproject > @angular/localize > @babel/core > lodash")
    );
}

#[test]
fn upgrade_libs_become_tags_and_mitigation() {
    let findings = parse("single_project_upgrade_libs.json");
    assert_eq!(findings.len(), 254);
    let f = &findings[227];
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.tags.iter().any(|t| t == "target_file:package-lock.json"),
        "{:?}",
        f.tags
    );
    assert!(
        f.tags.iter().any(|t| t == "upgrade_to:react-scripts@5.0.0"),
        "{:?}",
        f.tags
    );
    assert!(
        f.mitigation
            .as_deref()
            .unwrap_or("")
            .contains("shell-quote@1.7.2")
    );
}

#[test]
fn snyk_code_sarif_is_delegated() {
    assert_eq!(parse("snykcode_issue_9270.json").len(), 39);
}

#[test]
fn container_scan_includes_application_vulnerabilities() {
    // DefectDojo asserts 25: it reads only the image's OS packages. `snyk container test`
    // also reports the application dependencies found in the image under `applications`
    // (12 here, for /juice-shop/package.json); those are real vulnerabilities shipped in the
    // image, so they are imported too.
    let findings = parse("snykcontainer_issue_9270.json");
    assert_eq!(findings.len(), 25 + 12);
    let app = &findings[25];
    assert_eq!(app.file_path.as_deref(), Some("juice-shop > express-jwt"));
    assert!(
        app.tags
            .iter()
            .any(|t| t == "target_file:/juice-shop/package.json")
    );
}

#[test]
fn container_scan_epss() {
    // DefectDojo asserts one finding (the OS package); the image's application findings come
    // after it (see `container_scan_includes_application_vulnerabilities`).
    let findings = parse("snykcontainer_issue_epss.json");
    assert_eq!(findings.len(), 1 + 12);
    let f = &findings[0];
    assert_eq!(f.epss_score, Some(0.00046));
    assert_eq!(f.epss_percentile, Some(0.14414));
    assert_eq!(
        f.title.as_str(),
        "docker-image|sarim04/juiceshop@latest: CVE-2023-4039"
    );
    assert_eq!(
        f.file_path.as_deref(),
        Some("docker-image|sarim04/juiceshop > gcc-10/libgcc-s1")
    );
    assert_eq!(f.publish_date, chrono::NaiveDate::from_ymd_opt(2023, 9, 14));
}

#[test]
fn every_fixture_finding_is_importable() {
    for rel in [
        "all-projects_many_vulns.json",
        "all_projects_issue4277.json",
        "single_project_None_cvss.json",
        "single_project_one_vuln.json",
        "single_project_one_vuln_with_ampersands.json",
        "single_project_upgrade_libs.json",
        "snykcode_issue_9270.json",
        "snykcontainer_issue_9270.json",
        "snykcontainer_issue_epss.json",
    ] {
        for f in parse(rel) {
            f.normalize().unwrap_or_else(|e| panic!("{rel}: {e}"));
        }
    }
}

#[test]
fn sink_error_stops_the_parse() {
    json_fuzz::assert_sink_error_stops(
        &SnykScan,
        &json_fuzz::fixture_bytes("snyk/all-projects_many_vulns.json"),
    );
}

#[test]
fn bad_input_is_located() {
    let err = parse_bytes(
        &SnykScan,
        b"{\n  \"vulnerabilities\": [\n    {\"id\": 7}\n  ]\n}",
    )
    .unwrap_err();
    let loc = err.location.clone().expect("location");
    assert_eq!(loc.line, Some(3));
    assert_eq!(loc.path.as_deref(), Some("vulnerabilities[0].id"));
    assert!(err.to_string().contains("expected a string"), "{err}");

    let err = parse_bytes(&SnykScan, b"\"just a string\"").unwrap_err();
    assert!(
        err.to_string().contains("expected a Snyk project object"),
        "{err}"
    );
    assert!(parse_bytes(&SnykScan, b"").is_err());
    assert!(parse_bytes(&SnykScan, b"{\"vulnerabilities\": [").is_err());
}

const ALL_FIXTURES: [&str; 12] = [
    "snyk/all-projects_many_vulns.json",
    "snyk/all-projects_no_vulns.json",
    "snyk/all-projects_one_vuln.json",
    "snyk/all_projects_issue4277.json",
    "snyk/single_project_None_cvss.json",
    "snyk/single_project_no_vulns.json",
    "snyk/single_project_one_vuln.json",
    "snyk/single_project_one_vuln_with_ampersands.json",
    "snyk/single_project_upgrade_libs.json",
    "snyk/snykcode_issue_9270.json",
    "snyk/snykcontainer_issue_9270.json",
    "snyk/snykcontainer_issue_epss.json",
];

/// The fixtures small enough to re-serialize for every mutation case.
const SMALL_FIXTURES: [&str; 4] = [
    "snyk/single_project_one_vuln.json",
    "snyk/single_project_None_cvss.json",
    "snyk/all-projects_many_vulns.json",
    "snyk/single_project_one_vuln_with_ampersands.json",
];

const KEYS: &[&str] = &[
    "vulnerabilities",
    "applications",
    "displayTargetFile",
    "remediation",
    "upgrade",
    "upgradeTo",
    "upgrades",
    "vulns",
    "runs",
    "id",
    "title",
    "severity",
    "cvssScore",
    "CVSSv3",
    "semver",
    "vulnerable",
    "from",
    "packageName",
    "version",
    "description",
    "identifiers",
    "CVE",
    "CWE",
    "references",
    "url",
    "epssDetails",
    "probability",
    "percentile",
    "fixedIn",
    "isUpgradable",
    "isPatchable",
    "publicationTime",
    "packageManager",
];

#[test]
fn every_fixture_truncated_never_panics() {
    json_fuzz::check_truncations(&SnykScan, &ALL_FIXTURES, 48);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        json_fuzz::check(&SnykScan, &bytes);
    }

    #[test]
    fn truncated_fixtures_never_panic(which in 0..ALL_FIXTURES.len(), cut in any::<prop::sample::Index>()) {
        let bytes = json_fuzz::fixture_bytes(ALL_FIXTURES[which]);
        json_fuzz::check(&SnykScan, json_fuzz::truncated(&bytes, cut));
    }

    #[test]
    fn mutated_fixtures_never_panic(which in 0..SMALL_FIXTURES.len(), at in any::<usize>(), with in json_fuzz::arb_json(KEYS)) {
        let mut doc: serde_json::Value = serde_json::from_slice(&json_fuzz::fixture_bytes(SMALL_FIXTURES[which])).unwrap();
        json_fuzz::replace_node(&mut doc, at, with);
        json_fuzz::check(&SnykScan, &serde_json::to_vec(&doc).unwrap());
    }

    #[test]
    fn generated_documents_never_panic(doc in json_fuzz::arb_json(KEYS)) {
        json_fuzz::check(&SnykScan, &serde_json::to_vec(&doc).unwrap());
    }
}
