//! `Checkmarx One Scan`: the JSON shapes Checkmarx ONE produces.
//!
//! - **Results** (`{"results": [...], "totalCount"}`): the results API and the UI's JSON export,
//!   one result per SAST path, KICS (IaC) issue or SCA vulnerability, told apart by `type`.
//! - **Scan report** (`{"reportType": "scan", "scanResults": {"resultsList": [...]}, …}`): the
//!   report service's JSON, SAST grouped by query and IaC grouped by technology. Its
//!   `scaScanResults`, `containerScanResults` and `apiSecScanResults` sections are not read: no
//!   sample or schema of them is published (DefectDojo does not read them either), and guessing
//!   field names would import wrong data.
//! - **GitLab SAST** (`{"vulnerabilities": [...], "scan": …}`): `cx results --report-format
//!   gl-sast`.
//!
//! Triage state maps to our status: NOT_EXPLOITABLE is a false positive; TO_VERIFY,
//! PROPOSED_NOT_EXPLOITABLE, CONFIRMED and URGENT are open (the last two confirmed by a person);
//! a result whose status is FIXED is closed.

use super::common::finding::fit_to_domain;
use super::common::ids::cwe_in_json;
use super::common::json::{json_date, json_f64, json_line, json_text, read_json_object};
use super::common::text::non_empty;
use super::common::title::title_from_candidates;
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, Severity, Status};
use serde::Deserialize;
use serde_json::Value;
use std::io::BufRead;

pub const SCAN_TYPE: &str = "Checkmarx One Scan";

/// The `Checkmarx One Scan` parser.
pub struct CheckmarxOneScan;

impl Parser for CheckmarxOneScan {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let doc: Document = read_json_object(SCAN_TYPE, input, "a Checkmarx ONE export object")?;
        let cwe_store = doc.vulnerability_details.as_deref().unwrap_or(&[]);
        for query in doc
            .scan_results
            .iter()
            .flat_map(|s| s.results_list.iter().flatten())
        {
            for instance in query.vulnerabilities.iter().flatten() {
                sink(fit_to_domain(report_sast_finding(
                    query, instance, cwe_store, ctx,
                )))?;
            }
        }
        for tech in doc
            .iac_scan_results
            .iter()
            .flat_map(|s| s.technology.iter().flatten())
        {
            for query in tech.queries.iter().flatten() {
                for instance in query.results_list.iter().flatten() {
                    sink(fit_to_domain(report_iac_finding(
                        tech, query, instance, ctx,
                    )))?;
                }
            }
        }
        let scan_day = doc
            .scan
            .as_ref()
            .and_then(|s| s.end_time.as_ref().or(s.start_time.as_ref()))
            .and_then(json_date);
        for v in doc.vulnerabilities.iter().flatten() {
            let mut f = gitlab_finding(v, ctx);
            f.date = scan_day;
            sink(fit_to_domain(f))?;
        }
        for r in doc.results.iter().flatten() {
            sink(fit_to_domain(result_finding(r, ctx)))?;
        }
        Ok(())
    }
}

#[derive(Deserialize, Default)]
#[serde(
    rename_all = "camelCase",
    expecting = "a Checkmarx ONE export: an object with `results`, `scanResults` or `vulnerabilities`"
)]
struct Document {
    #[serde(default)]
    results: Option<Vec<CxResult>>,
    #[serde(default)]
    vulnerabilities: Option<Vec<GitlabVulnerability>>,
    #[serde(default)]
    scan_results: Option<SastSection>,
    #[serde(default)]
    iac_scan_results: Option<IacSection>,
    #[serde(default)]
    vulnerability_details: Option<Vec<QueryDetails>>,
    /// The GitLab report's scan, whose end is the day its findings were seen.
    #[serde(default)]
    scan: Option<GitlabScan>,
}

// ---- results API / UI export ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CxResult {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    similarity_id: Option<Value>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    first_found_at: Option<Value>,
    #[serde(default)]
    data: Option<ResultData>,
    #[serde(default)]
    vulnerability_details: Option<ResultVulnerabilityDetails>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResultData {
    #[serde(default)]
    query_name: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    language_name: Option<String>,
    #[serde(default)]
    nodes: Option<Vec<Node>>,
    #[serde(default)]
    file_name: Option<String>,
    /// KICS results spell it both ways across versions.
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    line: Option<Value>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    issue_type: Option<String>,
    #[serde(default)]
    expected_value: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    package_identifier: Option<String>,
    #[serde(default)]
    package_name: Option<String>,
    #[serde(default)]
    package_version: Option<Value>,
    #[serde(default)]
    recommended_version: Option<Value>,
    #[serde(default)]
    published_at: Option<Value>,
    #[serde(default)]
    package_data: Option<Vec<PackageData>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Node {
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    line: Option<Value>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize, Default)]
struct PackageData {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResultVulnerabilityDetails {
    #[serde(default)]
    cwe_id: Option<Value>,
    #[serde(default)]
    cve_name: Option<Value>,
    #[serde(default)]
    cvss_score: Option<Value>,
}

// ---- scan report ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SastSection {
    #[serde(default)]
    results_list: Option<Vec<SastQuery>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SastQuery {
    #[serde(default)]
    query_name: Option<String>,
    #[serde(default)]
    query_path: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    cwe_id: Option<Value>,
    #[serde(default)]
    categories: Option<Vec<Category>>,
    #[serde(default)]
    vulnerabilities: Option<Vec<SastInstance>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Category {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    sub_categories: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SastInstance {
    #[serde(default)]
    similarity_id: Option<Value>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    first_found_date: Option<Value>,
    #[serde(default)]
    found_date: Option<Value>,
    #[serde(default)]
    destination_file_name: Option<String>,
    #[serde(default)]
    destination_line: Option<Value>,
    #[serde(default)]
    nodes: Option<Vec<Node>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct QueryDetails {
    #[serde(default)]
    vulnerability_name: Option<String>,
    #[serde(default)]
    risk: Option<String>,
    #[serde(default)]
    cause: Option<String>,
    #[serde(default)]
    general_recommendations: Option<String>,
    #[serde(default)]
    cwe_id: Option<Value>,
}

#[derive(Deserialize, Default)]
struct IacSection {
    #[serde(default)]
    technology: Option<Vec<IacTechnology>>,
}

#[derive(Deserialize, Default)]
struct IacTechnology {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    queries: Option<Vec<IacQuery>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct IacQuery {
    #[serde(default)]
    query_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    results_list: Option<Vec<IacInstance>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct IacInstance {
    #[serde(default)]
    similarity_id: Option<Value>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    line: Option<Value>,
    #[serde(default)]
    actual_value: Option<String>,
    #[serde(default)]
    expected_value: Option<String>,
    #[serde(default)]
    issue_type: Option<String>,
    #[serde(default)]
    result_viewer_link: Option<String>,
    #[serde(default)]
    first_detection_date: Option<Value>,
    #[serde(default)]
    last_detection_date: Option<Value>,
}

// ---- GitLab SAST ----

#[derive(Deserialize, Default)]
struct GitlabVulnerability {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    solution: Option<String>,
    #[serde(default)]
    identifiers: Option<Vec<GitlabIdentifier>>,
    #[serde(default)]
    location: Option<GitlabLocation>,
}

#[derive(Deserialize, Default)]
struct GitlabScan {
    #[serde(default)]
    end_time: Option<Value>,
    #[serde(default)]
    start_time: Option<Value>,
}

#[derive(Deserialize, Default)]
struct GitlabIdentifier {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize, Default)]
struct GitlabLocation {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    start_line: Option<Value>,
    #[serde(default)]
    end_line: Option<Value>,
}

/// Checkmarx severities (CRITICAL…INFO, any case); anything else is informational.
fn severity_of(raw: Option<&str>) -> Severity {
    raw.and_then(|s| Severity::parse(s).ok())
        .unwrap_or(Severity::Info)
}

/// `Reflected_XSS` → `Reflected XSS`: Checkmarx query names use underscores for spaces.
fn spaced(s: &str) -> String {
    s.replace('_', " ")
}

/// Our status and `verified` from Checkmarx's triage `state` (results API spells it
/// `TO_VERIFY`, the scan report `To Verify`) and its `status` (NEW, RECURRENT, FIXED).
fn triage(state: Option<&str>, status: Option<&str>) -> (Status, bool) {
    let key = |s: &str| s.trim().to_ascii_uppercase().replace([' ', '-'], "_");
    let (mut out, verified) = match state.map(key).as_deref() {
        None | Some("" | "TO_VERIFY" | "PROPOSED_NOT_EXPLOITABLE") => (Status::Active, false),
        Some("CONFIRMED" | "URGENT") => (Status::Active, true),
        Some("NOT_EXPLOITABLE") => (Status::FalsePositive, true),
        // Tenants define custom states ("Risk Accepted", "Won't Fix"…); read them by name,
        // and keep anything unrecognised open rather than hide it.
        Some(_) => match state.map(Status::parse) {
            Some(Ok(s)) if s != Status::Duplicate => (s, true),
            _ => (Status::Active, false),
        },
    };
    if out.is_open() && status.map(key).as_deref() == Some("FIXED") {
        out = Status::Closed;
    }
    (out, verified)
}

fn id_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().and_then(json_text)
}

fn node_list(nodes: &[Node]) -> String {
    nodes
        .iter()
        .map(|n| {
            let mut s = format!("**File Name**: {}", n.file_name.as_deref().unwrap_or(""));
            if let Some(method) = non_empty(n.method.as_deref()) {
                s.push_str(&format!("\n**Method**: {method}"));
            }
            if let Some(line) = n.line.as_ref().and_then(json_text) {
                s.push_str(&format!("\n**Line**: {line}"));
            }
            if let Some(code) = non_empty(n.code.as_deref()) {
                s.push_str(&format!("\n**Code Snippet**: {code}"));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

pub(crate) fn result_finding(r: &CxResult, ctx: &Context) -> NewFinding {
    let kind = r.kind.as_deref().unwrap_or("").trim();
    let empty = ResultData::default();
    let data = r.data.as_ref().unwrap_or(&empty);
    let severity = severity_of(r.severity.as_deref());
    let id = id_text(&r.id);
    let query = non_empty(data.query_name.as_deref());
    let is_sca = matches!(kind, "sca" | "sca-container");

    let (package, version) = match non_empty(data.package_identifier.as_deref()) {
        Some(ident) => split_package_identifier(&ident),
        None => (
            non_empty(data.package_name.as_deref()),
            data.package_version.as_ref().and_then(json_text),
        ),
    };

    let title = match kind {
        "sast" => query.as_deref().map(spaced),
        "sca" | "sca-container" => id.as_ref().map(|id| match (&package, &version) {
            (Some(p), Some(v)) => format!("{id} in {p} {v}"),
            (Some(p), None) => format!("{id} in {p}"),
            _ => id.clone(),
        }),
        _ => query.clone(),
    };
    let description = non_empty(r.description.as_deref()).unwrap_or_else(|| {
        format!(
            "{} {}",
            severity.label(),
            spaced(query.as_deref().unwrap_or(kind))
        )
    });
    let first_line = description.lines().next().unwrap_or("").to_owned();
    let mut f = NewFinding::new(
        ctx.test,
        title_from_candidates([title.as_deref()], &first_line),
        severity,
    );
    f.static_finding = true;
    f.date = r.first_found_at.as_ref().and_then(json_date);
    (f.status, f.verified) = triage(r.state.as_deref(), r.status.as_deref());
    f.tags = non_empty(Some(kind)).into_iter().collect();

    let details = r.vulnerability_details.as_ref();
    f.cwe = details
        .and_then(|d| d.cwe_id.as_ref())
        .and_then(cwe_in_json);
    f.cwes = f.cwe.into_iter().collect();

    // The results API's `id` is the result's own hash for SAST and KICS; for SCA it is the
    // vulnerability (a CVE), which repeats for every package it affects — qualified with the
    // package, it stays one id per finding.
    let uid = id.clone().or_else(|| id_text(&r.similarity_id));
    f.unique_id_from_tool = match (&uid, is_sca, &package) {
        (Some(u), true, Some(p)) => Some(format!("{u}:{p}@{}", version.as_deref().unwrap_or(""))),
        _ => uid,
    };

    let mut text = description;
    match kind {
        "sast" => {
            let nodes = data.nodes.as_deref().unwrap_or(&[]);
            if let Some(first) = nodes.first() {
                f.file_path = non_empty(first.file_name.as_deref());
                f.line = first.line.as_ref().and_then(json_line);
            }
            let mut extra = Vec::new();
            if let Some(lang) = non_empty(data.language_name.as_deref()) {
                extra.push(format!("**Language**: {lang}"));
            }
            if let Some(group) = non_empty(data.group.as_deref()) {
                extra.push(format!("**Group**: {group}"));
            }
            if !extra.is_empty() {
                text.push_str(&format!("\n\n{}", extra.join("\n")));
            }
            if !nodes.is_empty() {
                text.push_str(&format!("\n\n**Data flow**:\n{}", node_list(nodes)));
            }
        }
        "kics" => {
            f.file_path = non_empty(data.filename.as_deref())
                .or_else(|| non_empty(data.file_name.as_deref()));
            f.line = data.line.as_ref().and_then(json_line);
            let mut extra = Vec::new();
            for (label, value) in [
                ("Platform", &data.platform),
                ("Group", &data.group),
                ("Issue Type", &data.issue_type),
            ] {
                if let Some(v) = non_empty(value.as_deref()) {
                    extra.push(format!("**{label}**: {v}"));
                }
            }
            if !extra.is_empty() {
                text.push_str(&format!("\n\n{}", extra.join("\n")));
            }
            let expected = non_empty(data.expected_value.as_deref());
            let actual = non_empty(data.value.as_deref());
            if expected.is_some() || actual.is_some() {
                f.mitigation = Some(format!(
                    "**Expected Value**: {}\n**Actual Value**: {}",
                    expected.unwrap_or_default(),
                    actual.unwrap_or_default()
                ));
            }
        }
        _ => {}
    }
    if is_sca {
        f.component_name = package.clone();
        f.component_version = version.clone();
        let mut ids: Vec<String> = id.iter().cloned().collect();
        // `cveName` sometimes holds the CWE instead of a CVE; only vulnerability ids count.
        if let Some(cve) = details
            .and_then(|d| d.cve_name.as_ref())
            .and_then(json_text)
            && !cve.to_ascii_uppercase().starts_with("CWE-")
            && !ids.contains(&cve)
        {
            ids.push(cve);
        }
        f.vulnerability_ids = ids;
        // Checkmarx writes 0 when it has no score.
        f.cvss_v3_score = details
            .and_then(|d| d.cvss_score.as_ref())
            .and_then(json_f64)
            .filter(|s| *s > 0.0)
            // Scores arrive as float32 noise (3.700000047683716).
            .map(|s| (s * 10.0).round() / 10.0);
        f.publish_date = data.published_at.as_ref().and_then(json_date);
        if let Some(fix) = data.recommended_version.as_ref().and_then(json_text) {
            f.fix_available = Some(true);
            f.mitigation = Some(format!(
                "Upgrade {} to version {fix}.",
                package.as_deref().unwrap_or("the package")
            ));
            f.fix_version = Some(fix);
        }
        let urls: Vec<String> = data
            .package_data
            .iter()
            .flatten()
            .filter_map(|p| non_empty(p.url.as_deref()))
            .collect();
        if !urls.is_empty() {
            f.references = Some(urls.join("\n"));
        }
    }
    f.description = text;
    f
}

/// `Npm-postcss-7.0.39` → (`postcss`, `7.0.39`): the ecosystem, then the name, then the version
/// from the first `-` followed by a digit (names may contain dashes, versions start with one).
fn split_package_identifier(ident: &str) -> (Option<String>, Option<String>) {
    let rest = ident.split_once('-').map(|(_, r)| r).unwrap_or(ident);
    let bytes = rest.as_bytes();
    let cut = (1..bytes.len())
        .find(|&i| bytes.get(i - 1) == Some(&b'-') && bytes.get(i).is_some_and(u8::is_ascii_digit));
    match cut {
        Some(i) => (non_empty(rest.get(..i - 1)), non_empty(rest.get(i..))),
        None => (non_empty(Some(rest)), None),
    }
}

fn report_sast_finding(
    q: &SastQuery,
    v: &SastInstance,
    store: &[QueryDetails],
    ctx: &Context,
) -> NewFinding {
    let cwe = q.cwe_id.as_ref().and_then(cwe_in_json);
    // The report's per-query details are keyed by query name; DefectDojo matched them by CWE,
    // which picks the wrong text when two queries share a CWE.
    let info = store
        .iter()
        .find(|d| d.vulnerability_name.is_some() && d.vulnerability_name == q.query_name)
        .or_else(|| {
            store
                .iter()
                .find(|d| cwe.is_some() && d.cwe_id.as_ref().and_then(cwe_in_json) == cwe)
        });

    let raw_title = q
        .query_path
        .as_deref()
        .or(q.query_name.as_deref())
        .unwrap_or("SAST Finding");
    let mut f = NewFinding::new(
        ctx.test,
        title_from_candidates([Some(spaced(raw_title).as_str())], "SAST Finding"),
        severity_of(v.severity.as_deref()),
    );
    f.static_finding = true;
    f.cwe = cwe;
    f.cwes = cwe.into_iter().collect();
    f.file_path = non_empty(v.destination_file_name.as_deref());
    f.line = v.destination_line.as_ref().and_then(json_line);
    f.unique_id_from_tool = id_text(&v.similarity_id);
    f.date = v
        .first_found_date
        .as_ref()
        .or(v.found_date.as_ref())
        .and_then(json_date);
    (f.status, f.verified) = triage(v.state.as_deref(), v.status.as_deref());
    f.tags = vec!["sast".to_owned()];

    let mut text = q.description.clone().unwrap_or_default();
    if let Some(cause) = non_empty(info.and_then(|i| i.cause.as_deref())) {
        text.push_str(&format!("\n\n{cause}"));
    }
    let nodes = v.nodes.as_deref().unwrap_or(&[]);
    if !nodes.is_empty() {
        text.push_str(&format!("\n---\n{}", node_list(nodes)));
    }
    f.description = text;
    f.impact = non_empty(info.and_then(|i| i.risk.as_deref()));
    f.mitigation = non_empty(info.and_then(|i| i.general_recommendations.as_deref()));

    let mut refs = String::new();
    for c in q.categories.iter().flatten() {
        refs.push_str(&format!("- {}\n", c.name.as_deref().unwrap_or("")));
        for sub in c.sub_categories.iter().flatten().filter_map(json_text) {
            refs.push_str(&format!("\t- {sub}\n"));
        }
    }
    f.references = (!refs.is_empty()).then_some(refs);
    f
}

fn report_iac_finding(
    tech: &IacTechnology,
    q: &IacQuery,
    v: &IacInstance,
    ctx: &Context,
) -> NewFinding {
    let tech_name = tech.name.as_deref().unwrap_or("IaC Finding");
    let query = q.query_name.as_deref().unwrap_or("");
    let mut f = NewFinding::new(
        ctx.test,
        title_from_candidates([Some(format!("{tech_name}: {query}").as_str())], tech_name),
        severity_of(v.severity.as_deref()),
    );
    f.static_finding = true;
    f.file_path = non_empty(v.file_name.as_deref());
    f.line = v.line.as_ref().and_then(json_line);
    f.unique_id_from_tool = id_text(&v.similarity_id);
    f.date = v
        .first_detection_date
        .as_ref()
        .or(v.last_detection_date.as_ref())
        .and_then(json_date);
    (f.status, f.verified) = triage(v.state.as_deref(), v.status.as_deref());
    f.tags = vec!["iac".to_owned()];
    let mut text = format!(
        "{}\n\n**Category**: {}\n**Issue Type**: {}",
        q.description.as_deref().unwrap_or(""),
        q.category.as_deref().unwrap_or(""),
        v.issue_type.as_deref().unwrap_or("")
    );
    if let Some(link) = non_empty(v.result_viewer_link.as_deref()) {
        text.push_str(&format!("\n[View in Checkmarx One]({link})"));
    }
    f.description = text;
    f.mitigation = Some(format!(
        "**Actual Value**: {}\n**Expected Value**: {}",
        v.actual_value.as_deref().unwrap_or(""),
        v.expected_value.as_deref().unwrap_or("")
    ));
    f
}

fn gitlab_finding(v: &GitlabVulnerability, ctx: &Context) -> NewFinding {
    let idents = v.identifiers.as_deref().unwrap_or(&[]);
    let location = v.location.as_ref();
    let file = location.and_then(|l| non_empty(l.file.as_deref()));
    // DefectDojo titles these `<identifier>_<file>` (`511341974_/src/helpers/Constants.ts`);
    // the query name says what the problem is.
    let name = v.name.as_deref().map(spaced).unwrap_or_default();
    let fallback = v.message.as_deref().unwrap_or("");
    let mut f = NewFinding::new(
        ctx.test,
        title_from_candidates([Some(name.as_str())], fallback),
        severity_of(v.severity.as_deref()),
    );
    f.static_finding = true;
    f.file_path = file.clone();
    f.line = location
        .and_then(|l| l.start_line.as_ref())
        .and_then(json_line);
    f.unique_id_from_tool = idents.first().and_then(|i| id_text(&i.value));
    f.cwes = idents
        .iter()
        .filter(|i| {
            i.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("cwe"))
        })
        .filter_map(|i| i.value.as_ref().and_then(cwe_in_json))
        .collect();
    f.cwe = f.cwes.first().copied();
    f.mitigation = non_empty(v.solution.as_deref());
    let urls: Vec<String> = idents
        .iter()
        .filter_map(|i| non_empty(i.url.as_deref()))
        .collect();
    f.references = (!urls.is_empty()).then(|| urls.join("\n"));
    let mut text = v
        .description
        .clone()
        .or_else(|| v.message.clone())
        .unwrap_or_default();
    if let Some(file) = &file {
        let start = location
            .and_then(|l| l.start_line.as_ref())
            .and_then(json_text)
            .unwrap_or_default();
        let end = location
            .and_then(|l| l.end_line.as_ref())
            .and_then(json_text)
            .unwrap_or_default();
        text.push_str(&format!("\n\n**Location**: {file} (lines {start}–{end})"));
    }
    f.description = text;
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_identifiers() {
        let split = |s| split_package_identifier(s);
        assert_eq!(
            split("Npm-postcss-7.0.39"),
            (Some("postcss".into()), Some("7.0.39".into()))
        );
        assert_eq!(
            split("Npm-uglify-js-2.4.24"),
            (Some("uglify-js".into()), Some("2.4.24".into()))
        );
        assert_eq!(split("Npm-lodash"), (Some("lodash".into()), None));
        assert_eq!(split("-"), (None, None));
    }

    #[test]
    fn triage_states() {
        assert_eq!(
            triage(Some("TO_VERIFY"), Some("NEW")),
            (Status::Active, false)
        );
        assert_eq!(
            triage(Some("To Verify"), Some("Recurrent")),
            (Status::Active, false)
        );
        assert_eq!(
            triage(Some("NOT_EXPLOITABLE"), None),
            (Status::FalsePositive, true)
        );
        assert_eq!(
            triage(Some("CONFIRMED"), Some("FIXED")),
            (Status::Closed, true)
        );
        assert_eq!(
            triage(Some("Risk Accepted"), None),
            (Status::RiskAccepted, true)
        );
        assert_eq!(
            triage(Some("Something custom"), None),
            (Status::Active, false)
        );
        assert_eq!(triage(None, None), (Status::Active, false));
    }
}
