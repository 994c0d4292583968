//! `Snyk Issue API Scan`: a page of Snyk's REST issues API (`GET /orgs/{org}/issues`), a
//! JSON:API document whose `data` holds the issues.
//!
//! Code issues (`type: code`) and open-source issues (`type: package_vulnerability`) are
//! imported; license, IaC and cloud issues are left out, as in DefectDojo, because their
//! attributes describe policies rather than a vulnerable location.

use super::common::finding::fit_to_domain;
use super::common::ids::cwe_in_field;
use super::common::json::{json_date, json_f64, json_line, json_text, read_json_object};
use super::common::text::non_empty;
use super::common::title::title_from_candidates;
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, Severity, Status};
use serde::Deserialize;
use serde_json::Value;
use std::io::BufRead;

pub const SCAN_TYPE: &str = "Snyk Issue API Scan";

/// The `Snyk Issue API Scan` parser.
pub struct SnykIssueApiScan;

impl Parser for SnykIssueApiScan {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let doc: Document = read_json_object(
            SCAN_TYPE,
            input,
            "a JSON:API document with a `data` array of issues",
        )?;
        for issue in doc.data.iter().flatten() {
            if let Some(f) = finding(issue, ctx) {
                sink(fit_to_domain(f))?;
            }
        }
        Ok(())
    }
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a JSON:API document with a `data` array of issues")]
struct Document {
    #[serde(default)]
    data: Option<Vec<Issue>>,
}

#[derive(Deserialize, Default)]
pub(crate) struct Issue {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    attributes: Option<Attributes>,
}

#[derive(Deserialize, Default)]
struct Attributes {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    ignored: Option<bool>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    effective_severity_level: Option<String>,
    #[serde(default)]
    created_at: Option<Value>,
    #[serde(default)]
    classes: Option<Vec<Class>>,
    #[serde(default)]
    problems: Option<Vec<Problem>>,
    #[serde(default)]
    coordinates: Option<Vec<Coordinate>>,
    #[serde(default)]
    severities: Option<Vec<SeverityEntry>>,
    #[serde(default)]
    risk: Option<Risk>,
    #[serde(default)]
    exploit_details: Option<ExploitDetails>,
}

#[derive(Deserialize, Default)]
struct Class {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize, Default)]
struct Problem {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(Deserialize, Default)]
struct Coordinate {
    #[serde(default)]
    is_fixable_manually: Option<bool>,
    #[serde(default)]
    is_fixable_snyk: Option<bool>,
    #[serde(default)]
    is_fixable_upstream: Option<bool>,
    #[serde(default)]
    is_patchable: Option<bool>,
    #[serde(default)]
    is_pinnable: Option<bool>,
    #[serde(default)]
    is_upgradeable: Option<bool>,
    #[serde(default)]
    reachability: Option<String>,
    #[serde(default)]
    representations: Option<Vec<Representation>>,
}

#[derive(Deserialize, Default)]
struct Representation {
    #[serde(default)]
    dependency: Option<Dependency>,
    #[serde(default, rename = "sourceLocation")]
    source_location: Option<SourceLocation>,
}

#[derive(Deserialize, Default)]
struct Dependency {
    #[serde(default)]
    package_name: Option<String>,
    #[serde(default)]
    package_version: Option<Value>,
}

#[derive(Deserialize, Default)]
struct SourceLocation {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    commit_id: Option<String>,
    #[serde(default)]
    region: Option<SourceRegion>,
}

#[derive(Deserialize, Default)]
struct SourceRegion {
    #[serde(default)]
    start: Option<Position>,
    #[serde(default)]
    end: Option<Position>,
}

#[derive(Deserialize, Default)]
struct Position {
    #[serde(default)]
    line: Option<Value>,
    #[serde(default)]
    column: Option<Value>,
}

#[derive(Deserialize, Default)]
struct SeverityEntry {
    #[serde(default)]
    score: Option<Value>,
    #[serde(default)]
    vector: Option<String>,
    #[serde(default)]
    version: Option<Value>,
}

#[derive(Deserialize, Default)]
struct Risk {
    #[serde(default)]
    score: Option<Value>,
}

#[derive(Deserialize, Default)]
struct ExploitDetails {
    #[serde(default)]
    sources: Option<Vec<Value>>,
}

pub(crate) fn finding(issue: &Issue, ctx: &Context) -> Option<NewFinding> {
    // Other JSON:API resources (packages, projects) can share a page with issues.
    if issue.kind.as_deref() != Some("issue") {
        return None;
    }
    let a = issue.attributes.as_ref()?;
    let is_code = match a.kind.as_deref() {
        Some("code") => true,
        Some("package_vulnerability") => false,
        _ => return None,
    };

    let severity = a
        .effective_severity_level
        .as_deref()
        .and_then(|s| Severity::parse(s).ok())
        .unwrap_or(Severity::Info);
    let title = a.title.as_deref().unwrap_or("");
    let fallback = a.key.as_deref().or(issue.id.as_deref()).unwrap_or("");
    let mut f = NewFinding::new(
        ctx.test,
        title_from_candidates([Some(title)], fallback),
        severity,
    );
    f.description = a.description.clone().unwrap_or_default();
    f.static_finding = true;
    f.unique_id_from_tool = non_empty(issue.id.as_deref());
    f.vuln_id_from_tool = non_empty(a.key.as_deref());
    f.date = a.created_at.as_ref().and_then(json_date);

    f.cwes = a
        .classes
        .iter()
        .flatten()
        .filter(|c| c.source.as_deref() == Some("CWE"))
        .filter_map(|c| c.id.as_deref().and_then(cwe_in_field))
        .collect();
    f.cwe = f.cwes.first().copied();
    if let Some((_, rest)) = f.cwes.split_first()
        && !rest.is_empty()
    {
        let others: Vec<String> = rest.iter().map(|c| format!("CWE-{c}")).collect();
        f.references = Some(format!("Additional CWEs: {}", others.join(", ")));
    }

    let problems = a.problems.as_deref().unwrap_or(&[]);
    f.vulnerability_ids = problems
        .iter()
        .filter_map(|p| non_empty(p.id.as_deref()))
        .collect();

    // Resolved issues are closed; an ignore is a decision not to act on the issue. The API
    // does not say why it was ignored (the reason lives in the ignore itself), so it counts as
    // accepted risk — the state that keeps it in risk reviews — not as a false positive, which
    // would claim the tool was wrong. DefectDojo marks every ignore a false positive.
    let ignored = a.ignored == Some(true);
    let resolved = a.status.as_deref() == Some("resolved");
    f.status = if resolved {
        Status::Closed
    } else if ignored {
        Status::RiskAccepted
    } else {
        Status::Active
    };
    // As DefectDojo: an ignore or a resolution is a human or a rescan having looked at it.
    f.verified = ignored || resolved;

    let coordinates = a.coordinates.as_deref().unwrap_or(&[]);
    let mut impact: Vec<String> = Vec::new();
    if let Some(p) = problems.first() {
        impact.push(format!("id: {}", p.id.as_deref().unwrap_or("Unknown")));
        impact.push(format!(
            "Source: {}",
            p.source.as_deref().unwrap_or("Unknown")
        ));
        impact.push(format!("Type: {}", p.kind.as_deref().unwrap_or("Unknown")));
        if let Some(url) = non_empty(p.url.as_deref()) {
            impact.push(format!("URL: {url}"));
        }
        impact.push(format!(
            "Last Updated: {}",
            p.updated_at.as_deref().unwrap_or("Unknown")
        ));
        impact.push(String::new());
    }
    let exploit_sources: Vec<String> = a
        .exploit_details
        .iter()
        .flat_map(|e| e.sources.iter().flatten())
        .filter_map(json_text)
        .collect();
    if !exploit_sources.is_empty() {
        impact.push(format!("Exploit Sources: {}", exploit_sources.join(", ")));
        impact.push(String::new());
    }

    let mut reachable = false;
    for c in coordinates {
        if !is_code && c.reachability.as_deref() != Some("not-applicable") {
            reachable = true;
        }
        for r in c.representations.iter().flatten() {
            if !is_code {
                if let Some(dep) = &r.dependency {
                    f.component_name = non_empty(dep.package_name.as_deref());
                    f.component_version = dep.package_version.as_ref().and_then(json_text);
                }
            } else if let Some(loc) = &r.source_location {
                let start = loc.region.as_ref().and_then(|r| r.start.as_ref());
                let end = loc.region.as_ref().and_then(|r| r.end.as_ref());
                let show = |p: Option<&Position>, field: fn(&Position) -> &Option<Value>| {
                    p.and_then(|p| field(p).as_ref())
                        .and_then(json_text)
                        .unwrap_or_else(|| "?".to_owned())
                };
                impact.extend([
                    "Source Location:".to_owned(),
                    format!("File: {}", loc.file.as_deref().unwrap_or("Unknown")),
                    format!("Commit: {}", loc.commit_id.as_deref().unwrap_or("Unknown")),
                    format!(
                        "Lines: {}-{}",
                        show(start, |p| &p.line),
                        show(end, |p| &p.line)
                    ),
                    format!(
                        "Columns: {}-{}",
                        show(start, |p| &p.column),
                        show(end, |p| &p.column)
                    ),
                    String::new(),
                ]);
                // The first location is the finding's own.
                if f.file_path.is_none() {
                    f.file_path = non_empty(loc.file.as_deref());
                    f.line = start.and_then(|p| p.line.as_ref()).and_then(json_line);
                }
            }
        }
    }
    // DefectDojo also copies the package name into `file_path` for open-source issues so its
    // hash sees it; here the package is the component, and `file_path` stays a file.
    if let Some(name) = &f.component_name {
        impact.extend([
            "Package Details:".to_owned(),
            format!("Package: {name}"),
            format!(
                "Version: {}",
                f.component_version.as_deref().unwrap_or("Unknown")
            ),
            String::new(),
        ]);
    }
    impact.push(format!(
        "Reachable: {}",
        if reachable { "Yes" } else { "No" }
    ));
    f.impact = Some(impact.join("\n").trim_end().to_owned());

    f.fix_available = Some(coordinates.iter().any(|c| {
        let any = |flags: &[Option<bool>]| flags.contains(&Some(true));
        let common = any(&[
            c.is_fixable_snyk,
            c.is_fixable_upstream,
            c.is_fixable_manually,
        ]);
        common || (!is_code && any(&[c.is_patchable, c.is_pinnable, c.is_upgradeable]))
    }));

    for entry in a.severities.iter().flatten() {
        let version = entry
            .version
            .as_ref()
            .and_then(json_text)
            .unwrap_or_default();
        let (Some(vector), Some(score)) = (
            non_empty(entry.vector.as_deref()),
            entry.score.as_ref().and_then(json_f64),
        ) else {
            continue;
        };
        // The first entry of each CVSS version wins: Snyk lists its own assessment first.
        if version.starts_with('3') && f.cvss_v3_vector.is_none() {
            f.cvss_v3_vector = Some(vector);
            f.cvss_v3_score = Some(score);
        } else if version.starts_with('4') && f.cvss_v4_vector.is_none() {
            f.cvss_v4_vector = Some(vector);
            f.cvss_v4_score = Some(score);
        }
    }

    if let Some(Value::Object(score)) = a.risk.as_ref().and_then(|r| r.score.as_ref()) {
        let value = score
            .get("value")
            .and_then(json_text)
            .unwrap_or_else(|| "N/A".to_owned());
        let model = score
            .get("model")
            .and_then(json_text)
            .unwrap_or_else(|| "N/A".to_owned());
        f.severity_justification = Some(format!("Risk Score: {value} (Model: {model})"));
    }
    Some(f)
}
