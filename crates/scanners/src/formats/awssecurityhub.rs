//! `AWS Security Hub Scan`: findings in the AWS Security Finding Format (ASFF), as
//! `{"Findings": [...]}` (the GetFindings response, also spelled `findings`) or a bare list.
//!
//! Like DefectDojo, Inspector, GuardDuty and other (Config / compliance) findings get their
//! own description layout; the unique id is the ASFF `Id`, and a repeated `Id` keeps the last
//! copy in the place of the first.

use super::common::cvss::{cvss3_vector, cvss4_vector};
use super::common::date::day_of;
use super::common::endpoint::endpoint_from_parts;
use super::common::finding::send_all;
use super::common::json::{json_f64, read_json_document};
use super::common::title::{Overflow, one_line_title};
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, Severity, Status};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

pub(crate) const SCAN_TYPE: &str = "AWS Security Hub Scan";

pub struct AwsSecurityHubParser;

/// The findings list, wherever the document keeps it.
struct Document(Vec<Asff>);

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DocumentVisitor;
        impl<'de> Visitor<'de> for DocumentVisitor {
            type Value = Document;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with a `Findings` array, or an array of ASFF findings")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
                let mut out = Vec::new();
                while let Some(f) = seq.next_element()? {
                    out.push(f);
                }
                Ok(Document(out))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
                let mut findings = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "Findings" || key == "findings" {
                        findings = Some(map.next_value::<Vec<Asff>>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                findings.map(Document).ok_or_else(|| {
                    de::Error::custom("expected a `Findings` array in the top-level object")
                })
            }
        }
        deserializer.deserialize_any(DocumentVisitor)
    }
}

/// Only `Id` is required; absent optional fields are `None`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Asff {
    pub(crate) id: String,
    title: Option<String>,
    description: Option<String>,
    aws_account_id: Option<String>,
    region: Option<String>,
    generator_id: Option<String>,
    source_url: Option<String>,
    first_observed_at: Option<String>,
    created_at: Option<String>,
    severity: Option<AsffSeverity>,
    remediation: Option<Remediation>,
    product_fields: Option<HashMap<String, serde_json::Value>>,
    resources: Option<Vec<Resource>>,
    compliance: Option<Compliance>,
    record_state: Option<String>,
    workflow: Option<Workflow>,
    workflow_state: Option<String>,
    verification_state: Option<String>,
    vulnerabilities: Option<Vec<Vulnerability>>,
    epss_score: Option<serde_json::Value>,
    finding_provider_fields: Option<ProviderFields>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AsffSeverity {
    label: Option<String>,
    normalized: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Remediation {
    recommendation: Option<Recommendation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Recommendation {
    text: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    #[serde(rename = "Type")]
    kind: Option<String>,
    id: Option<String>,
    details: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Compliance {
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Workflow {
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderFields {
    types: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vulnerability {
    id: Option<String>,
    vulnerable_packages: Option<Vec<Package>>,
    related_vulnerabilities: Option<Vec<String>>,
    vendor: Option<Vendor>,
    cvss: Option<Vec<Cvss>>,
    epss_score: Option<serde_json::Value>,
    fix_available: Option<String>,
    reference_urls: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Package {
    name: Option<String>,
    version: Option<String>,
    fixed_in_version: Option<String>,
    remediation: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vendor {
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Cvss {
    base_score: Option<serde_json::Value>,
    base_vector: Option<String>,
}

impl Parser for AwsSecurityHubParser {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let Document(findings) = read_json_document(SCAN_TYPE, input)?;
        let mut out: Vec<NewFinding> = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for asff in findings {
            let Some(f) = finding(&asff, ctx) else {
                continue;
            };
            match by_id.get(&asff.id).and_then(|at| out.get_mut(*at)) {
                Some(slot) => *slot = f,
                None => {
                    by_id.insert(asff.id.clone(), out.len());
                    out.push(f);
                }
            }
        }
        send_all(out, sink)
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Origin {
    Inspector,
    GuardDuty,
    Other,
}

fn product_field<'a>(asff: &'a Asff, key: &str) -> Option<&'a str> {
    asff.product_fields.as_ref()?.get(key)?.as_str()
}

fn severity(asff: &Asff) -> Severity {
    let s = asff.severity.as_ref();
    match s.and_then(|s| s.label.as_deref()) {
        Some("CRITICAL") => Severity::Critical,
        Some("HIGH") => Severity::High,
        Some("MEDIUM") => Severity::Medium,
        Some("LOW") => Severity::Low,
        Some(_) => Severity::Info,
        // Without a label, ASFF's 0–100 normalized score decides (AWS's own bands).
        None => match s.and_then(|s| s.normalized.as_ref()).and_then(json_f64) {
            Some(n) if n >= 90.0 => Severity::Critical,
            Some(n) if n >= 70.0 => Severity::High,
            Some(n) if n >= 40.0 => Severity::Medium,
            Some(n) if n >= 1.0 => Severity::Low,
            _ => Severity::Info,
        },
    }
}

/// One status from ASFF's several flags: an analyst's verdict first (false positive,
/// suppressed), then anything saying the problem is gone (archived record, resolved
/// workflow, passed control, closed Inspector finding).
fn status(asff: &Asff) -> Status {
    let workflow = asff
        .workflow
        .as_ref()
        .and_then(|w| w.status.as_deref())
        .or(asff.workflow_state.as_deref());
    let inspector = product_field(asff, "aws/inspector/FindingStatus");
    if asff.verification_state.as_deref() == Some("FALSE_POSITIVE") {
        Status::FalsePositive
    } else if workflow == Some("SUPPRESSED") || inspector == Some("SUPPRESSED") {
        Status::RiskAccepted
    } else if asff.record_state.as_deref() == Some("ARCHIVED")
        || workflow == Some("RESOLVED")
        || asff.compliance.as_ref().and_then(|c| c.status.as_deref()) == Some("PASSED")
        || inspector.is_some_and(|s| s != "ACTIVE")
    {
        Status::Closed
    } else {
        Status::Active
    }
}

/// The part of an ARN after the first `/` (`repo/sha256:…` of an ECR image).
fn after_first_slash(arn: &str) -> &str {
    arn.split_once('/').map_or(arn, |(_, rest)| rest)
}

pub(crate) fn finding(asff: &Asff, ctx: &Context) -> Option<NewFinding> {
    let origin = match product_field(asff, "aws/securityhub/ProductName") {
        Some("Inspector") => Origin::Inspector,
        Some("GuardDuty") => Origin::GuardDuty,
        _ => Origin::Other,
    };
    let resources = asff.resources.as_deref().unwrap_or(&[]);
    let mut impact: Vec<String> = Vec::new();
    let mut title_suffix = String::new();
    let mut endpoints = Vec::new();
    let mut resource_type = None;
    for r in resources {
        let kind = r.kind.as_deref().unwrap_or("");
        let id = r.id.as_deref().unwrap_or("");
        resource_type = r.kind.clone();
        let located = match origin {
            Origin::Inspector => true,
            Origin::GuardDuty => matches!(kind, "AwsEcrContainerImage" | "AwsEc2Instance"),
            Origin::Other => false,
        };
        if located {
            // An ARN is no host name; DefectDojo's flattened form keeps it usable as one.
            let host = format!("{kind}_{id}").replace([':', '/'], "_");
            if let Some(e) = endpoint_from_parts(None, &host, None) {
                endpoints.push(e);
            }
        }
        if kind == "AwsEcrContainerImage" {
            if let Some(d) = r
                .details
                .as_ref()
                .and_then(|d| d.get("AwsEcrContainerImage"))
            {
                let field = |k: &str| {
                    d.get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or("None")
                        .to_owned()
                };
                let tags: Vec<&str> = d
                    .get("ImageTags")
                    .and_then(|t| t.as_array())
                    .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                impact.push(format!("Image ARN: {id}"));
                impact.push(format!("Registry: {}", field("RegistryId")));
                impact.push(format!("Repository: {}", field("RepositoryName")));
                impact.push(format!("Image digest: {}", field("ImageDigest")));
                impact.push(format!("Image tags: {}", tags.join(",")));
            }
            title_suffix = format!(" - Image: {}", after_first_slash(id));
        } else {
            let short = id.rsplit(':').next().unwrap_or(id);
            impact.push(format!("Resource: {short}"));
            title_suffix = format!(" - Resource: {short}");
        }
    }

    let raw_title = format!("{}{title_suffix}", asff.title.as_deref().unwrap_or(""));
    let title = one_line_title(&raw_title, Overflow::Cut)
        .or_else(|| one_line_title(&asff.id, Overflow::Cut))?;
    let mut f = NewFinding::new(ctx.test, title, severity(asff));
    f.status = status(asff);
    f.verified = asff.verification_state.as_deref() == Some("TRUE_POSITIVE");
    f.unique_id_from_tool = Some(asff.id.clone());
    f.impact = Some(impact.join("\n"));
    f.endpoints = endpoints;
    f.component_name = resource_type;
    f.static_finding = true;
    f.date = asff
        .first_observed_at
        .as_deref()
        .or(asff.created_at.as_deref())
        .and_then(day_of);
    let recommendation = asff
        .remediation
        .as_ref()
        .and_then(|r| r.recommendation.as_ref());
    let recommendation_url = recommendation
        .and_then(|r| r.url.as_deref())
        .filter(|u| !u.is_empty());
    let mut references: Vec<String> = Vec::new();
    let description = asff.description.as_deref().unwrap_or("");
    let account = asff.aws_account_id.as_deref().unwrap_or("");
    let region = asff.region.as_deref().unwrap_or("");
    let generator = asff.generator_id.as_deref().unwrap_or("");

    match origin {
        Origin::Inspector => {
            f.description = format!(
                "This is an Inspector Finding\n{description}\n**AWS Finding ARN:** {}\n**AwsAccountId:** {account}\n**Region:** {region}\n",
                asff.id
            );
            inspector_details(asff, &mut f, &mut references);
            if f.mitigation.is_none() {
                f.mitigation = recommendation.and_then(|r| r.text.clone());
            }
        }
        Origin::GuardDuty => {
            let mut d = format!(
                "This is a GuardDuty Finding\n{description}\n**AWS Finding ARN:** {}\n",
                asff.id
            );
            if let Some(url) = asff.source_url.as_deref().filter(|u| !u.is_empty()) {
                d.push_str(&format!("**SourceURL:** [{url}]({url})\n"));
            }
            d.push_str(&format!(
                "**AwsAccountId:** {account}\n**Region:** {region}\n**Generator ID:** {generator}\n"
            ));
            f.description = d;
            let mut mitigation = String::new();
            for t in asff
                .finding_provider_fields
                .as_ref()
                .and_then(|p| p.types.as_deref())
                .unwrap_or(&[])
            {
                mitigation.push_str(t);
                mitigation.push('\n');
            }
            mitigation.push_str(
                "[https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-active.html]\
                 (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-active.html)",
            );
            f.mitigation = Some(mitigation);
        }
        Origin::Other => {
            let mut ids: Vec<&str> = resources
                .iter()
                .filter_map(|r| r.id.as_deref())
                .filter(|i| !i.is_empty())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let mut d = format!(
                "This is a Security Hub Finding \n{description}\n**AWS Finding ARN:** {}\n**Resource IDs:** {}\n**AwsAccountId:** {account}\n",
                asff.id,
                ids.join(", ")
            );
            if !region.is_empty() {
                d.push_str(&format!("**Region:** {region}\n"));
            }
            d.push_str(&format!("**Generator ID:** {generator}\n"));
            f.description = d;
            let text = recommendation.and_then(|r| r.text.as_deref()).unwrap_or("");
            f.mitigation = Some(format!("{text}\n{}", recommendation_url.unwrap_or("")));
        }
    }
    if let Some(url) = recommendation_url {
        references.push(url.to_owned());
    }
    f.references = Some(references.join("\n"));
    if f.epss_score.is_none() {
        f.epss_score = asff
            .epss_score
            .as_ref()
            .and_then(json_f64)
            .filter(|e| (0.0..=1.0).contains(e));
    }
    Some(f)
}

/// Inspector's package vulnerabilities: ids, upgrade advice, the vulnerable package as the
/// component, CVSS, EPSS and the vendor's advisory.
fn inspector_details(asff: &Asff, f: &mut NewFinding, references: &mut Vec<String>) {
    let mut mitigation = String::new();
    let mut justification: Vec<String> = Vec::new();
    for v in asff.vulnerabilities.as_deref().unwrap_or(&[]) {
        let id = v.id.as_deref().unwrap_or("").trim();
        let related = v.related_vulnerabilities.as_deref().unwrap_or(&[]);
        for candidate in std::iter::once(id).chain(related.iter().map(|r| r.trim())) {
            if !candidate.is_empty() && !f.vulnerability_ids.iter().any(|x| x == candidate) {
                f.vulnerability_ids.push(candidate.to_owned());
            }
        }
        for p in v.vulnerable_packages.as_deref().unwrap_or(&[]) {
            let name = p.name.as_deref().unwrap_or("");
            let version = p.version.as_deref().unwrap_or("");
            mitigation.push_str(&format!("- Update {name}-{version}\n"));
            if let Some(r) = p.remediation.as_deref().filter(|r| !r.is_empty()) {
                mitigation.push_str(&format!("\t- {r}\n"));
            }
            // The vulnerable package is the component (DefectDojo uses the resource type);
            // it is what the fix upgrades and what findings are grouped by.
            if f.component_version.is_none() && !name.is_empty() {
                f.component_name = Some(name.to_owned());
                f.component_version = p.version.clone();
                f.fix_version = p.fixed_in_version.clone();
            }
        }
        if let Some(fix) = v.fix_available.as_deref() {
            f.fix_available = match fix {
                "YES" | "PARTIAL" => Some(true),
                "NO" => Some(false),
                _ => f.fix_available,
            };
        }
        if let Some(url) = v
            .vendor
            .as_ref()
            .and_then(|x| x.url.as_deref())
            .filter(|u| !u.is_empty())
        {
            references.push(url.to_owned());
        }
        for url in v.reference_urls.as_deref().unwrap_or(&[]) {
            if !references.contains(url) {
                references.push(url.clone());
            }
        }
        if let Some(e) = v
            .epss_score
            .as_ref()
            .and_then(json_f64)
            .filter(|e| (0.0..=1.0).contains(e))
        {
            f.epss_score = Some(e);
        }
        for c in v.cvss.as_deref().unwrap_or(&[]) {
            let Some(vector) = c.base_vector.as_deref() else {
                continue;
            };
            if f.cvss_v3_vector.is_none()
                && f.cvss_v4_vector.is_none()
                && let Some(v3) = vector
                    .starts_with("CVSS:3")
                    .then(|| cvss3_vector(vector))
                    .flatten()
            {
                f.cvss_v3_score = c
                    .base_score
                    .as_ref()
                    .and_then(json_f64)
                    .filter(|s| (0.0..=10.0).contains(s));
                f.cvss_v3_vector = Some(v3);
            } else if f.cvss_v4_vector.is_none()
                && f.cvss_v3_vector.is_none()
                && let Some(v4) = cvss4_vector(vector)
            {
                f.cvss_v4_score = c
                    .base_score
                    .as_ref()
                    .and_then(json_f64)
                    .filter(|s| (0.0..=10.0).contains(s));
                f.cvss_v4_vector = Some(v4);
            }
        }
    }
    if let Some(v) = &f.cvss_v3_vector {
        justification.push(format!("CVSS v3 vector: {v}"));
    }
    if let Some(v) = &f.cvss_v4_vector {
        justification.push(format!("CVSS v4 vector: {v}"));
    }
    if let Some(label) = asff.severity.as_ref().and_then(|s| s.label.as_deref()) {
        justification.push(format!("AWS severity: {label}"));
    }
    if !justification.is_empty() {
        f.severity_justification = Some(justification.join("\n"));
    }
    if !mitigation.is_empty() {
        f.mitigation = Some(mitigation);
    }
    if let Some(e) = asff
        .epss_score
        .as_ref()
        .and_then(json_f64)
        .filter(|e| (0.0..=1.0).contains(e))
    {
        f.epss_score = Some(e);
    }
}
