//! `AWS Security Hub Scan` on DefectDojo's samples (fixtures/scans/awssecurityhub), asserting
//! what fixtures/scans/EXPECTED.md lists, plus robustness properties.

use domain::{NewFinding, Severity, Status};
use proptest::prelude::*;
use scanners::formats::awssecurityhub::AwsSecurityHubParser;
use scanners::testing::{fixture, parse_bytes, parse_fixture};

fn parse(rel: &str) -> Vec<NewFinding> {
    parse_fixture(&AwsSecurityHubParser, rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn config_many_findings() {
    let findings = parse("awssecurityhub/config_many_findings.json");
    assert_eq!(findings.len(), 3);
    let f = &findings[0];
    assert_eq!(f.component_name.as_deref(), Some("AwsAccount"));
    assert!(f.description.starts_with(
        "This is a Security Hub Finding \nThis AWS control checks whether AWS Multi-Factor Authentication (MFA) \
         is enabled for all AWS Identity and Access Management (IAM) users that use a console password.\n**AWS Finding ARN:** ar"
    ));
    assert!(f.static_finding);
}

#[test]
fn config_one_finding() {
    let findings = parse("awssecurityhub/config_one_finding.json");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Info);
    // is_mitigated = true, active = false: the control passed.
    assert_eq!(f.status, Status::Closed);
    assert_eq!(
        f.references.as_deref(),
        Some("https://docs.aws.amazon.com/console/securityhub/IAM.5/remediation")
    );
    // test_unique_id
    assert_eq!(
        f.unique_id_from_tool.as_deref(),
        Some(
            "arn:aws:securityhub:us-east-1:012345678912:subscription/aws-foundational-security-best-practices/v/1.0.0/IAM.5/finding/de861909-2d26-4e45-bd86-19d2ab6ceef1"
        )
    );
    assert!(f.endpoints.is_empty());
}

#[test]
fn config_one_finding_active() {
    let findings = parse("awssecurityhub/config_one_finding_active.json");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Medium);
    assert_eq!(findings[0].status, Status::Active);
}

#[test]
fn config_repeated_findings() {
    assert_eq!(
        parse("awssecurityhub/config_repeated_findings.json").len(),
        1
    );
}

#[test]
fn inspector_ec2_cve() {
    let findings = parse("awssecurityhub/inspector_ec2_cve.json");
    assert_eq!(findings.len(), 5);
    let f = &findings[0];
    assert_eq!(
        f.title.as_str(),
        "CVE-2022-3643 - kernel - Resource: i-11111111111111111"
    );
    assert_eq!(f.impact.as_deref(), Some("Resource: i-11111111111111111"));
    assert_eq!(f.vulnerability_ids, ["CVE-2022-3643"]);
    assert_eq!(
        f.mitigation.as_deref(),
        Some("- Update kernel-4.14.301\n\t- yum update kernel\n")
    );
    assert_eq!(
        f.cvss_v3_vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
    );
    assert_eq!(f.cvss_v3_score, Some(10.0));
    let justification = f.severity_justification.as_deref().unwrap_or("");
    assert!(justification.contains("CVSS v3 vector:"), "{justification}");
    assert!(
        justification.contains("AWS severity: CRITICAL"),
        "{justification}"
    );
    assert_eq!(
        f.endpoints[0].host.to_lowercase(),
        "AwsEc2Instance_arn_aws_ec2_us-east-1_XXXXXXXXXXXX_i-11111111111111111".to_lowercase()
    );
    // DefectDojo's component is the resource type (AwsEc2Instance); the vulnerable package is
    // what an upgrade fixes and what findings group by.
    assert_eq!(f.component_name.as_deref(), Some("kernel"));
    assert_eq!(f.component_version.as_deref(), Some("4.14.301"));
    assert_eq!(f.fix_version.as_deref(), Some("0:5.10.162-141.675.amzn2"));
    assert_eq!(f.fix_available, Some(true));
    assert_eq!(f.status, Status::Active);
    assert_eq!(f.date.map(|d| d.to_string()).as_deref(), Some("2023-03-01"));
}

#[test]
fn inspector_ec2_cve_no_vulnerabilities() {
    let findings = parse("awssecurityhub/inspector_ec2_cve_no_vulnerabilities.json");
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].component_name.as_deref(),
        Some("AwsEc2Instance")
    );
}

#[test]
fn inspector_ec2_ghsa() {
    let findings = parse("awssecurityhub/inspector_ec2_ghsa.json");
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.status, Status::Active);
    assert!(f.title.as_str().contains("GHSA-p98r-538v-jgw5"));
    let mut ids = f.vulnerability_ids.clone();
    ids.sort();
    assert_eq!(ids, ["CVE-2023-34256", "GHSA-p98r-538v-jgw5"]);
    assert_eq!(
        f.references.as_deref(),
        Some(
            "https://github.com/bottlerocket-os/bottlerocket/security/advisories/GHSA-p98r-538v-jgw5"
        )
    );
    assert_eq!(f.cvss_v3_vector, None);
    assert_eq!(
        f.endpoints[0].host.to_lowercase(),
        "AwsEc2Instance_arn_aws_ec2_eu-central-1_012345678912_instance_i-07c11cc535d830123"
            .to_lowercase()
    );
}

#[test]
fn issue_10956() {
    let findings = parse("awssecurityhub/issue_10956.json");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].epss_score, Some(0.00239));
}

#[test]
fn missing_account_id() {
    assert_eq!(parse("awssecurityhub/missing_account_id.json").len(), 1);
}

fn one(extra: serde_json::Value) -> NewFinding {
    let mut finding =
        serde_json::json!({"Id": "arn:x", "Title": "T", "Severity": {"Label": "HIGH"}});
    if let (Some(base), Some(extra)) = (finding.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    let doc = serde_json::json!([finding]).to_string();
    parse_bytes(&AwsSecurityHubParser, doc.as_bytes())
        .unwrap_or_default()
        .pop()
        .unwrap_or_else(|| panic!("no finding"))
}

#[test]
fn status_from_asff_flags() {
    // No compliance status: DefectDojo treats it as PASSED (closed); nothing says it is fixed.
    assert_eq!(one(serde_json::json!({})).status, Status::Active);
    assert_eq!(
        one(serde_json::json!({"Compliance": {"Status": "FAILED"}})).status,
        Status::Active
    );
    assert_eq!(
        one(serde_json::json!({"Compliance": {"Status": "PASSED"}})).status,
        Status::Closed
    );
    assert_eq!(
        one(serde_json::json!({"RecordState": "ARCHIVED"})).status,
        Status::Closed
    );
    assert_eq!(
        one(serde_json::json!({"Workflow": {"Status": "RESOLVED"}})).status,
        Status::Closed
    );
    assert_eq!(
        one(serde_json::json!({"Workflow": {"Status": "SUPPRESSED"}})).status,
        Status::RiskAccepted
    );
    assert_eq!(
        one(serde_json::json!({"VerificationState": "FALSE_POSITIVE"})).status,
        Status::FalsePositive
    );
    let verified = one(serde_json::json!({"VerificationState": "TRUE_POSITIVE"}));
    assert!(verified.verified);
    assert_eq!(verified.status, Status::Active);
    let inspector_closed = one(serde_json::json!({"ProductFields": {
        "aws/securityhub/ProductName": "Inspector", "aws/inspector/FindingStatus": "CLOSED"}}));
    assert_eq!(inspector_closed.status, Status::Closed);
    assert_eq!(
        one(serde_json::json!({"Severity": {"Normalized": 75}})).severity,
        Severity::High
    );
}

#[test]
fn errors_say_where_and_what() {
    let err = parse_bytes(&AwsSecurityHubParser, b"{\"Foo\": []}").unwrap_err();
    assert!(err.message.contains("expected a `Findings` array"), "{err}");
    let err = parse_bytes(&AwsSecurityHubParser, b"{\"Findings\": [\n {\"Id\": 7}]}").unwrap_err();
    let loc = err.location.clone().unwrap_or_default();
    assert_eq!(
        (loc.line, loc.path.as_deref()),
        (Some(2), Some("Findings[0].Id"))
    );
    assert!(err.message.contains("expected a string"), "{err}");
    let err = parse_bytes(&AwsSecurityHubParser, b"[{\"Title\": \"no id\"}]").unwrap_err();
    assert!(err.message.contains("missing field `Id`"), "{err}");
    let err = parse_bytes(&AwsSecurityHubParser, b"\"text\"").unwrap_err();
    assert!(
        err.message.contains("an object with a `Findings` array"),
        "{err}"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&AwsSecurityHubParser, &bytes);
    }

    #[test]
    fn truncated_fixture_never_panics(which in 0usize..2, cut in 0.0f64..1.0) {
        let rel = ["awssecurityhub/inspector_ec2_cve.json", "awssecurityhub/config_many_findings.json"][which];
        let bytes = std::fs::read(fixture(rel)).unwrap_or_default();
        let at = ((bytes.len() as f64) * cut) as usize;
        let _ = parse_bytes(&AwsSecurityHubParser, &bytes[..at.min(bytes.len())]);
    }

    #[test]
    fn odd_values_never_panic(id in ".{0,20}", title in ".{0,20}", rtype in ".{0,12}", rid in ".{0,30}", vector in "[A-Z:/.0-9]{0,30}", score in proptest::num::f64::ANY) {
        let doc = serde_json::json!({"Findings": [{"Id": id, "Title": title,
            "ProductFields": {"aws/securityhub/ProductName": "Inspector"},
            "Resources": [{"Type": rtype, "Id": rid, "Details": {"AwsEcrContainerImage": {"ImageTags": [1, "x"]}}}],
            "Vulnerabilities": [{"Id": title, "Cvss": [{"BaseVector": vector, "BaseScore": if score.is_finite() { score } else { 0.0 }}],
                "EpssScore": if score.is_finite() { score } else { 0.0 }}]}]});
        let _ = parse_bytes(&AwsSecurityHubParser, doc.to_string().as_bytes());
    }
}
