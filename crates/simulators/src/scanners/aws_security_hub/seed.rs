//! The simulator's worlds: the hub and keys every world has, the fixture world (the
//! repository's Security Hub reports, imported as their providers would import them), and
//! generated Inspector findings for new Records and benchmarks.

use super::state::{Aggregator, Finding, Key, Member, State, format_time};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

/// The administrator account and its home (aggregation) Region.
pub const ACCOUNT: &str = "012345678912";
pub const HOME_REGION: &str = "us-east-1";
/// An access key allowed every Security Hub action.
pub const ACCESS_KEY_ID: &str = "AKIAVULNBRIDGE0SEC01";
pub const SECRET_ACCESS_KEY: &str = "kP7dQ2vX9mR4tW8yZ1bN6cF3hJ5gL0sA2eU4iO7q";
/// An access key whose policy allows `DescribeHub` and `ListMembers` but not `GetFindings`.
pub const LIMITED_ACCESS_KEY_ID: &str = "AKIAVULNBRIDGE0LIM02";
pub const LIMITED_SECRET_ACCESS_KEY: &str = "Zr3xT9cV1bN5mQ7wE2yU8iO4pA6sD0fG3hJ5kL7z";
/// The Region the seeded aggregator links.
pub const LINKED_REGION: &str = "eu-central-1";

/// The repository's reports (fixtures/scans/awssecurityhub), in the order they are imported:
/// a later copy of a finding (same `Id`) replaces an earlier one.
const FIXTURES: [&str; 5] = [
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/awssecurityhub/config_many_findings.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/awssecurityhub/config_one_finding_active.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/awssecurityhub/inspector_ec2_cve.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/awssecurityhub/inspector_ec2_ghsa.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/awssecurityhub/issue_10956.json"
    )),
];

/// The hub and its two access keys; no members, no aggregator, no findings.
pub fn hub() -> State {
    let mut s = State::new(ACCOUNT, HOME_REGION);
    s.subscribed_at = Utc::now() - TimeDelta::days(400);
    s.keys.insert(
        ACCESS_KEY_ID.into(),
        Key {
            secret: SECRET_ACCESS_KEY.into(),
            user: "vulnbridge-connector".into(),
            actions: None,
        },
    );
    s.keys.insert(
        LIMITED_ACCESS_KEY_ID.into(),
        Key {
            secret: LIMITED_SECRET_ACCESS_KEY.into(),
            user: "vulnbridge-limited".into(),
            actions: Some(vec![
                "DescribeHub".into(),
                "ListMembers".into(),
                "ListFindingAggregators".into(),
            ]),
        },
    );
    s
}

/// The fixture world: the administrator `012345678912` with the fixtures' other accounts as
/// members, `eu-central-1` linked to the home Region, and the reports' findings (passed and
/// failed Config controls, Inspector package vulnerabilities), one of them suppressed.
pub fn fixture_world() -> State {
    let mut s = hub();
    for text in FIXTURES {
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let list = doc
            .get("Findings")
            .or_else(|| doc.get("findings"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for v in list {
            if let Ok(f) = Finding::import(v) {
                s.put(f);
            }
        }
    }
    let mut accounts: Vec<String> = s
        .findings
        .iter()
        .map(|f| f.account.clone())
        .filter(|a| a != ACCOUNT)
        .collect();
    accounts.sort();
    accounts.dedup();
    for a in accounts {
        add_member(&mut s, &a, &format!("security+{a}@example.com"));
    }
    s.aggregator = Some(Aggregator {
        arn: format!(
            "arn:aws:securityhub:{HOME_REGION}:{ACCOUNT}:finding-aggregator/1c9a2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
        ),
        mode: "SPECIFIED_REGIONS".into(),
        regions: vec![LINKED_REGION.into()],
    });
    // A person suppressed one Inspector finding (BatchUpdateFindings leaves UpdatedAt alone).
    if let Some(f) = s
        .findings
        .iter_mut()
        .find(|f| f.product_name == "Inspector" && f.is_open())
    {
        f.update(|o| {
            o.insert("Workflow".into(), json!({ "Status": "SUPPRESSED" }));
        });
    }
    s
}

pub fn add_member(s: &mut State, account: &str, email: &str) {
    let at = Utc::now() - TimeDelta::days(90);
    match s.members.iter_mut().find(|m| m.account == account) {
        Some(m) => {
            m.status = "Enabled".into();
            m.updated_at = Utc::now();
        }
        None => s.members.push(Member {
            account: account.to_owned(),
            email: email.to_owned(),
            status: "Enabled".into(),
            invited_at: at,
            updated_at: at,
        }),
    }
}

/// A new member account id (12 digits) not used yet.
pub fn new_account(s: &State) -> String {
    let mut n: u64 = 210_000_000_000 + s.members.len() as u64;
    loop {
        let id = format!("{n:012}");
        if id != s.account && !s.members.iter().any(|m| m.account == id) {
            return id;
        }
        n += 1;
    }
}

const PACKAGES: [(&str, &str, &str, &str); 6] = [
    ("openssl", "3.0.2", "0ubuntu1.10", "3.0.2-0ubuntu1.15"),
    (
        "openssh-server",
        "8.9p1",
        "3ubuntu0.6",
        "1:8.9p1-3ubuntu0.10",
    ),
    ("curl", "7.81.0", "1ubuntu1.14", "7.81.0-1ubuntu1.16"),
    ("glibc", "2.35", "0ubuntu3.4", "2.35-0ubuntu3.8"),
    (
        "zlib1g",
        "1.2.11",
        "dfsg-2ubuntu9.2",
        "1:1.2.11.dfsg-2ubuntu9.3",
    ),
    ("sudo", "1.9.9", "1ubuntu2.3", "1.9.9-1ubuntu2.4"),
];
const LABELS: [(&str, u32, f64); 4] = [
    ("CRITICAL", 90, 9.8),
    ("HIGH", 70, 7.5),
    ("MEDIUM", 40, 5.3),
    ("LOW", 1, 3.1),
];

/// `n` open Inspector package findings in an account and Region, first seen from `start` on.
pub fn generate(s: &mut State, account: &str, region: &str, n: usize, start: DateTime<Utc>) {
    let base = s.findings.len();
    for i in 0..n {
        let seq = base + i;
        let (pkg, version, release, fixed) = PACKAGES[seq % PACKAGES.len()];
        let (label, normalized, score) = LABELS[seq % LABELS.len()];
        let cve = format!("CVE-2024-{:05}", 10_000 + seq % 90_000);
        let seen = start + TimeDelta::seconds(seq as i64 % 86_400);
        let updated = format_time(seen + TimeDelta::hours(1));
        let first = format_time(seen);
        let instance = format!("i-{:017x}", seq as u64 * 7919 % 0xfff_ffff_ffff);
        let v = json!({
            "SchemaVersion": "2018-10-08",
            "Id": format!("arn:aws:inspector2:{region}:{account}:finding/{:032x}", seq as u128 * 2_654_435_761 + 1),
            "ProductArn": format!("arn:aws:securityhub:{region}::product/aws/inspector"),
            "ProductName": "Inspector",
            "CompanyName": "Amazon",
            "Region": region,
            "GeneratorId": "AWSInspector",
            "AwsAccountId": account,
            "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"],
            "FirstObservedAt": first,
            "LastObservedAt": updated,
            "CreatedAt": first,
            "UpdatedAt": updated,
            "Severity": { "Label": label, "Normalized": normalized },
            "Title": format!("{cve} - {pkg}"),
            "Description": format!("A vulnerability in {pkg} {version} allows a remote attacker to cause a denial of service."),
            "Remediation": { "Recommendation": { "Text": format!("Upgrade {pkg} to {fixed} or later.") } },
            "ProductFields": {
                "aws/inspector/FindingStatus": "ACTIVE",
                "aws/inspector/inspectorScore": score.to_string(),
                "aws/securityhub/ProductName": "Inspector",
                "aws/securityhub/CompanyName": "Amazon",
            },
            "Resources": [{
                "Type": "AwsEc2Instance",
                "Id": format!("arn:aws:ec2:{region}:{account}:instance/{instance}"),
                "Partition": "aws",
                "Region": region,
            }],
            "WorkflowState": "NEW",
            "Workflow": { "Status": "NEW" },
            "RecordState": "ACTIVE",
            "Vulnerabilities": [{
                "Id": cve,
                "VulnerablePackages": [{ "Name": pkg, "Version": version, "Release": release, "PackageManager": "OS", "FixedInVersion": fixed }],
                "Cvss": [{ "Version": "3.1", "BaseScore": score, "BaseVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "Source": "NVD" }],
                "FixAvailable": "YES",
                "ReferenceUrls": [format!("https://nvd.nist.gov/vuln/detail/{cve}")],
            }],
            "FindingProviderFields": { "Severity": { "Label": label }, "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"] },
        });
        if let Ok(f) = Finding::import(v) {
            s.put(f);
        }
    }
}

/// What the tool does when a finding is fixed: Inspector closes it and Security Hub archives
/// the record; a Config control passes.
pub fn resolve(f: &mut Finding, now: DateTime<Utc>) {
    let inspector = f.product_name == "Inspector" || f.inspector_status.is_some();
    f.update(|o| {
        if inspector {
            o.insert("RecordState".into(), json!("ARCHIVED"));
            if let Some(pf) = o.get_mut("ProductFields").and_then(Value::as_object_mut) {
                pf.insert("aws/inspector/FindingStatus".into(), json!("CLOSED"));
            }
        } else {
            o.insert("Compliance".into(), json!({ "Status": "PASSED" }));
        }
        o.insert("UpdatedAt".into(), json!(format_time(now)));
    });
}
