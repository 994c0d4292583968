//! `SonarQube Scan` and `SonarQube Scan detailed`: SonarQube issues as exported by
//! soprasteria's sonar-report (its HTML report, or its JSON with `rules` and `issues`), or as
//! returned by SonarQube's `api/issues/search` / `api/hotspots/search` (JSON with `issues`,
//! `components` and `paging`), alone or several pages zipped together.
//!
//! The format is told by the first byte that is not whitespace: `{` JSON, `<` HTML, `P` zip.
//!
//! `SonarQube Scan detailed` gives one finding per issue with the issue key as
//! `unique_id_from_tool`. `SonarQube Scan` (sonar-report sources) folds the issues of one
//! rule (same title, CWE, description) in one file into one finding without a line, listing
//! each occurrence's line in the description, as DefectDojo does; API exports are one
//! finding per issue in both modes, without the key in the aggregated mode.
//!
//! These reports are read whole: SonarQube's search API stops at 10 000 issues and
//! sonar-report pages through it, so they stay small, and the aggregated mode needs them
//! all before it can hand out anything.

use super::common::date::day_of;
use super::common::finding::{FindingsByKey, fit_to_domain, send_all};
use super::common::html::{self, Element, Flow, Walk};
use super::common::ids::{advisory_ids_in, first_cwe_in};
use super::common::io_error;
use super::common::json::{ScalarText, null_as_default, peek_first_significant_byte};
use super::common::title::title_from_candidates;
use crate::{Context, Location, ParseError, Parser, Sink};
use domain::{NewFinding, Severity, Status};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufRead, Read};

pub const NAME: &str = "SonarQube Scan";
pub const NAME_DETAILED: &str = "SonarQube Scan detailed";

/// The SonarQube parser, aggregated (`SonarQube Scan`) or one finding per issue
/// (`SonarQube Scan detailed`).
pub struct SonarQube {
    pub detailed: bool,
}

pub static AGGREGATED: SonarQube = SonarQube { detailed: false };
pub static DETAILED: SonarQube = SonarQube { detailed: true };

/// A zip holding more than this, read or unpacked, is refused: SonarQube exports are a few
/// megabytes, and the bound keeps a zip bomb from filling memory.
const MAX_ZIP_BYTES: u64 = 256 * 1024 * 1024;

impl SonarQube {
    fn name(&self) -> &'static str {
        if self.detailed { NAME_DETAILED } else { NAME }
    }
}

/// sonar-report's severities (SonarQube's legacy five, or the new high/medium/low) to ours:
/// blocker → Critical, critical → High, major → Medium, minor → Low, info → Info.
fn sonar_report_severity(raw: &str) -> Severity {
    match raw.trim().to_ascii_lowercase().as_str() {
        "blocker" => Severity::Critical,
        "critical" | "high" => Severity::High,
        "major" | "medium" => Severity::Medium,
        "minor" | "low" => Severity::Low,
        _ => Severity::Info,
    }
}

/// The API's severities, as DefectDojo maps them for API exports (blocker → High, critical
/// → Critical: the two sources disagree in DefectDojo and we keep each as it is, so that
/// findings compare equal with the ones already imported there).
fn api_severity(raw: &str) -> Severity {
    match raw.trim().to_ascii_uppercase().as_str() {
        "BLOCKER" | "HIGH" => Severity::High,
        "CRITICAL" => Severity::Critical,
        "MAJOR" | "MEDIUM" => Severity::Medium,
        "MINOR" | "LOW" => Severity::Low,
        _ => Severity::Info,
    }
}

/// An issue's or hotspot's state to ours. DefectDojo imports every SonarQube issue as
/// active; a resolved one comes back here as what SonarQube says it is, so a reimport does
/// not reopen what was dismissed there.
fn sonar_status(
    status: Option<&str>,
    resolution: Option<&str>,
    issue_status: Option<&str>,
) -> Status {
    let upper = |s: Option<&str>| s.map(|s| s.trim().to_ascii_uppercase()).unwrap_or_default();
    match upper(issue_status).as_str() {
        "ACCEPTED" => return Status::RiskAccepted,
        "FALSE_POSITIVE" => return Status::FalsePositive,
        "FIXED" => return Status::Closed,
        _ => {}
    }
    match upper(status).as_str() {
        "RESOLVED" | "CLOSED" | "REVIEWED" => match upper(resolution).as_str() {
            "FALSE-POSITIVE" | "SAFE" => Status::FalsePositive,
            "WONTFIX" | "ACKNOWLEDGED" => Status::RiskAccepted,
            _ => Status::Closed,
        },
        _ => Status::Active,
    }
}

fn line_number(raw: Option<&str>) -> Option<i32> {
    raw.and_then(|l| l.trim().parse::<i32>().ok())
        .filter(|l| *l >= 1)
}

/// What one sonar-report issue says, from the HTML table or the JSON.
struct ReportIssue {
    rule: String,
    severity: String,
    status: Option<String>,
    file_path: Option<String>,
    line: Option<String>,
    title: Option<String>,
    message: Option<String>,
    key: Option<String>,
}

/// A rule's description and references, from its HTML description.
struct RuleText {
    description: String,
    references: String,
    cwe: Option<i32>,
}

/// The rule description as DefectDojo renders it: the text of the HTML up to the "See"
/// section, `<h2>` headings in bold, character references decoded; the references are the
/// rule id and the text of every link in the description.
fn rule_text(rule: &str, details: &Element) -> RuleText {
    let mut description = String::new();
    let mut in_h2 = false;
    let mut h2_at = 0;
    details.walk(&mut |event| {
        match event {
            Walk::Start(e) if e.name == "h2" => {
                in_h2 = true;
                h2_at = description.len();
                description.push_str("**");
            }
            Walk::End(e) if e.name == "h2" => {
                in_h2 = false;
                description.push_str("**");
            }
            Walk::Text(t) => {
                if in_h2 && description.len() == h2_at + 2 && t.trim_start().starts_with("See") {
                    description.truncate(h2_at);
                    return Flow::Stop;
                }
                description.push_str(t);
            }
            _ => {}
        }
        Flow::Continue
    });
    let mut references = rule.to_owned();
    for a in details.descendants_named("a") {
        references.push('\n');
        references.push_str(a.text().trim());
    }
    RuleText {
        description: description.trim().to_owned(),
        cwe: first_cwe_in(&references),
        references,
    }
}

/// Turns sonar-report issues into findings, aggregated or detailed.
fn report_findings(
    ctx: &Context,
    detailed: bool,
    issues: Vec<ReportIssue>,
    rules: &HashMap<String, RuleText>,
) -> Vec<NewFinding> {
    let mut found = FindingsByKey::default();
    for (n, issue) in issues.into_iter().enumerate() {
        let rule = rules.get(issue.rule.trim());
        let description = rule.map_or("No description provided", |r| r.description.as_str());
        let references = rule.map(|r| r.references.clone()).filter(|r| !r.is_empty());
        let cwe = rule.and_then(|r| r.cwe);
        let title = title_from_candidates([issue.title.as_deref()], &issue.rule);
        let mut f = NewFinding::new(ctx.test, title, sonar_report_severity(&issue.severity));
        f.cwe = cwe;
        f.file_path = issue.file_path.clone().filter(|p| !p.trim().is_empty());
        f.mitigation = issue.message.clone();
        f.references = references;
        f.static_finding = true;
        f.vuln_id_from_tool = Some(issue.rule.clone()).filter(|r| !r.trim().is_empty());
        f.status = sonar_status(issue.status.as_deref(), None, None);
        if detailed {
            f.description = description.to_owned();
            f.line = line_number(issue.line.as_deref());
            f.unique_id_from_tool = issue.key.clone();
            // Issue keys are unique in SonarQube: an issue listed twice is one finding. An
            // issue without a key is never folded.
            let key = match &issue.key {
                Some(k) => format!("key\u{0}{k}"),
                None => format!("row\u{0}{n}"),
            };
            found.add(key, fit_to_domain(f), |_, _| {});
        } else {
            let occurrence = format!("Line: {}", issue.line.as_deref().unwrap_or("None"));
            f.description = format!("{description}\n\n-----\nOccurrences:\n{occurrence}");
            let key = format!(
                "{}\u{0}{}\u{0}{}\u{0}{}",
                cwe.unwrap_or(0),
                f.title.as_str(),
                description,
                f.file_path.as_deref().unwrap_or("")
            );
            let message = issue.message.clone();
            found.add(key, fit_to_domain(f), |first, _| {
                first.description.push('\n');
                first.description.push_str(&occurrence);
                let m = message.unwrap_or_default();
                first.mitigation = Some(match first.mitigation.take() {
                    Some(prev) => format!("{prev}\n______\n{m}"),
                    None => m,
                });
                first.occurrences = Some(first.occurrences.unwrap_or(1).saturating_add(1));
            });
        }
    }
    found.into_findings()
}

// HTML (sonar-report)

fn parse_html(
    scan_type: &'static str,
    ctx: &Context,
    detailed: bool,
    text: &str,
) -> Result<Vec<NewFinding>, ParseError> {
    let doc = html::parse(text);
    let details: Vec<&Element> = doc
        .descendants_named("div")
        .into_iter()
        .filter(|d| d.has_class_containing("detail"))
        .collect();
    if details.is_empty() {
        return Err(ParseError::new(
            scan_type,
            Some(Location::byte(0)),
            "expected a sonar-report HTML report (a `detail` section with the vulnerability and rule tables)",
        ));
    }
    // sonar-report writes two tables in its detail section: the issues, then the rules.
    // Without issues it writes the rules table alone.
    let bodies: Vec<&Element> = details
        .iter()
        .flat_map(|d| d.children_named("table"))
        .flat_map(|t| t.children_named("tbody"))
        .collect();
    let [issues_body, rules_body] = bodies.as_slice() else {
        return Ok(Vec::new());
    };

    let mut rules = HashMap::new();
    for row in rules_body.children_named("tr") {
        let cells = row.descendants_named("td");
        let name = cells
            .first()
            .and_then(|c| c.descendants_named("a").first().map(|a| a.text()))
            .map(|t| t.trim().to_owned());
        let details_el = cells
            .get(1)
            .and_then(|c| c.descendants_named("details").first().copied());
        if let (Some(name), Some(d)) = (name, details_el) {
            let text = rule_text(&name, d);
            rules.entry(name).or_insert(text);
        }
    }

    let mut issues = Vec::new();
    for row in issues_body.descendants_named("tr") {
        let cells = row.descendants_named("td");
        let cell = |i: usize| cells.get(i).map(|c| c.text().trim().to_owned());
        if cells.len() < 7 {
            return Err(ParseError::new(
                scan_type,
                Some(Location::byte(row.offset as u64)),
                format!(
                    "expected 7 cells (rule, severity, component, line, description, message, key) in a vulnerability row, found {}",
                    cells.len()
                ),
            ));
        }
        let rule = cells
            .first()
            .and_then(|c| c.descendants_named("a").first().map(|a| a.text()))
            .or_else(|| cell(0))
            .unwrap_or_default()
            .trim()
            .to_owned();
        issues.push(ReportIssue {
            rule,
            severity: cell(1).unwrap_or_default(),
            status: None,
            file_path: cell(2),
            line: cell(3),
            title: cell(4),
            message: cell(5).filter(|m| !m.is_empty()),
            key: cell(6).filter(|k| !k.is_empty()),
        });
    }
    Ok(report_findings(ctx, detailed, issues, &rules))
}

// JSON (sonar-report and the SonarQube API)

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonRule {
    #[serde(rename = "htmlDesc")]
    html_desc: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Impact {
    severity: Option<String>,
}

/// An issue of either JSON source; each fills the fields it has.
#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonIssue {
    key: Option<String>,
    rule: Option<String>,
    severity: Option<String>,
    component: Option<String>,
    project: Option<String>,
    line: Option<ScalarText>,
    status: Option<String>,
    resolution: Option<String>,
    #[serde(rename = "issueStatus")]
    issue_status: Option<String>,
    message: Option<String>,
    /// sonar-report: the rule's name, used as the title.
    description: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    scope: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    tags: Vec<String>,
    #[serde(rename = "creationDate")]
    creation_date: Option<String>,
    effort: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    impacts: Vec<Impact>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonHotspot {
    key: Option<String>,
    component: Option<String>,
    project: Option<String>,
    #[serde(rename = "securityCategory")]
    security_category: Option<String>,
    #[serde(rename = "vulnerabilityProbability")]
    vulnerability_probability: Option<String>,
    status: Option<String>,
    resolution: Option<String>,
    line: Option<i64>,
    message: Option<String>,
    #[serde(rename = "ruleKey")]
    rule_key: Option<String>,
    #[serde(rename = "creationDate")]
    creation_date: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonComponent {
    key: Option<String>,
    path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct JsonReport {
    // sonar-report
    #[serde(rename = "projectName")]
    project_name: Option<serde::de::IgnoredAny>,
    #[serde(deserialize_with = "null_as_default")]
    rules: HashMap<String, JsonRule>,
    // both
    #[serde(deserialize_with = "null_as_default")]
    issues: Vec<JsonIssue>,
    // SonarQube API
    paging: Option<serde::de::IgnoredAny>,
    components: Option<Vec<JsonComponent>>,
    #[serde(deserialize_with = "null_as_default")]
    hotspots: Vec<JsonHotspot>,
}

/// What SonarQube's dependency-check plugin writes into an issue message:
/// `Filename: name:version | Reference: CVE-… | CVSS Score: 6.4 | Category: CWE-120 | …`.
struct DependencyMessage {
    cwes: Vec<i32>,
    cvss: Option<f64>,
    component: Option<(String, Option<String>)>,
    ids: Vec<String>,
}

fn dependency_message(message: &str) -> DependencyMessage {
    let parts: Vec<&str> = message.split(" | ").map(str::trim).collect();
    let mut cwes = Vec::new();
    let mut cvss = None;
    let mut component = None;
    for part in &parts {
        if let Some(c) = part.strip_prefix("Category: ")
            && let Some(n) = first_cwe_in(c)
            && !cwes.contains(&n)
        {
            cwes.push(n);
        }
        if cvss.is_none()
            && let Some(at) = part.find("CVSS Score: ")
        {
            let score = part.get(at + 12..).unwrap_or("");
            let score: String = score
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            cvss = score.parse::<f64>().ok();
        }
    }
    // The component is named only when the message has further fields after it.
    if parts.len() > 1
        && let Some(name) = parts.first().and_then(|p| p.strip_prefix("Filename: "))
    {
        let mut split = name.splitn(3, ':');
        let n = split.next().unwrap_or("").to_owned();
        let v = split.next().map(str::to_owned).filter(|v| !v.is_empty());
        component = Some((n, v));
    }
    DependencyMessage {
        cwes,
        cvss,
        component,
        ids: advisory_ids_in(message),
    }
}

pub(crate) fn api_findings(ctx: &Context, detailed: bool, report: JsonReport) -> Vec<NewFinding> {
    let paths: HashMap<String, String> = report
        .components
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| Some((c.key?, c.path?)))
        .collect();
    // A file component's own path rather than its key (`project:src/a.ts`), so that the
    // same file compares equal across tools; project-level issues keep the key.
    let file_of = |component: Option<&String>| {
        component.map(|c| paths.get(c).cloned().unwrap_or_else(|| c.clone()))
    };
    let mut out = Vec::new();
    for issue in report.issues {
        let rule = issue.rule.clone().unwrap_or_default();
        let key = issue.key.clone().unwrap_or_default();
        let title = title_from_candidates(
            [Some(format!("{rule}_{key}").as_str()).filter(|_| !rule.is_empty())],
            "SonarQube issue",
        );
        let severity = match &issue.severity {
            Some(s) => api_severity(s),
            // SonarQube 10's issues carry per-quality impacts instead of one severity.
            None => issue
                .impacts
                .iter()
                .filter_map(|i| i.severity.as_deref().map(api_severity))
                .max()
                .unwrap_or(Severity::Info),
        };
        let mut f = NewFinding::new(ctx.test, title, severity);
        let line = issue.line.as_ref().map(|l| l.0.clone());
        let message = issue.message.clone().unwrap_or_default();
        let mut d = String::new();
        for (label, value) in [
            ("message", issue.message.as_deref()),
            ("key", issue.key.as_deref()),
            ("rule", issue.rule.as_deref()),
            ("component", issue.component.as_deref()),
            ("project", issue.project.as_deref()),
            ("line", line.as_deref()),
            ("status", issue.status.as_deref()),
            ("resolution", issue.resolution.as_deref()),
            ("type", issue.kind.as_deref()),
            ("scope", issue.scope.as_deref()),
            ("effort", issue.effort.as_deref()),
        ] {
            if let Some(v) = value {
                d.push_str(&format!("**{label}:** {v}\n"));
            }
        }
        if !issue.tags.is_empty() {
            d.push_str(&format!("**tags:** {}\n", issue.tags.join(", ")));
        }
        f.description = d.trim_end().to_owned();
        let kind = issue.kind.as_deref().unwrap_or("").to_ascii_uppercase();
        if kind == "VULNERABILITY" {
            let dm = dependency_message(&message);
            f.cwes = dm.cwes;
            f.cwe = f.cwes.first().copied();
            f.cvss_v3_score = dm.cvss;
            if let Some((name, version)) = dm.component {
                f.component_name = Some(name);
                f.component_version = version;
            }
            f.vulnerability_ids = dm.ids;
        }
        let type_tag = match kind.as_str() {
            "BUG" => Some("bug"),
            "VULNERABILITY" => Some("vulnerability"),
            "CODE_SMELL" => Some("code_smell"),
            _ => None,
        };
        f.tags = type_tag.map(str::to_owned).into_iter().collect();
        f.file_path = file_of(issue.component.as_ref());
        f.line = line_number(line.as_deref());
        f.date = issue.creation_date.as_deref().and_then(day_of);
        f.status = sonar_status(
            issue.status.as_deref(),
            issue.resolution.as_deref(),
            issue.issue_status.as_deref(),
        );
        f.static_finding = true;
        f.vuln_id_from_tool = issue.rule;
        if detailed {
            f.unique_id_from_tool = issue.key;
        }
        out.push(fit_to_domain(f));
    }
    for h in report.hotspots {
        let rule = h.rule_key.clone().unwrap_or_default();
        let key = h.key.clone().unwrap_or_default();
        let title = title_from_candidates(
            [Some(format!("{rule}_{key}").as_str()).filter(|_| !rule.is_empty())],
            "SonarQube security hotspot",
        );
        let severity = h
            .vulnerability_probability
            .as_deref()
            .map_or(Severity::Info, api_severity);
        let mut f = NewFinding::new(ctx.test, title, severity);
        let line = h.line.map(|l| l.to_string());
        let mut d = String::new();
        for (label, value) in [
            ("message", h.message.as_deref()),
            ("key", h.key.as_deref()),
            ("ruleKey", h.rule_key.as_deref()),
            ("component", h.component.as_deref()),
            ("project", h.project.as_deref()),
            ("securityCategory", h.security_category.as_deref()),
            ("line", line.as_deref()),
            ("status", h.status.as_deref()),
            ("resolution", h.resolution.as_deref()),
        ] {
            if let Some(v) = value {
                d.push_str(&format!("**{label}:** {v}\n"));
            }
        }
        f.description = d.trim_end().to_owned();
        f.tags = vec!["hotspot".to_owned()];
        f.file_path = file_of(h.component.as_ref());
        f.line = h.line.and_then(|l| i32::try_from(l).ok());
        f.date = h.creation_date.as_deref().and_then(day_of);
        f.status = sonar_status(h.status.as_deref(), h.resolution.as_deref(), None);
        f.static_finding = true;
        f.vuln_id_from_tool = h.rule_key;
        if detailed {
            f.unique_id_from_tool = h.key;
        }
        out.push(fit_to_domain(f));
    }
    out
}

fn sonar_report_json_findings(
    ctx: &Context,
    detailed: bool,
    report: JsonReport,
) -> Vec<NewFinding> {
    let mut rules = HashMap::new();
    for (id, rule) in &report.rules {
        if let Some(desc) = &rule.html_desc {
            let doc = html::parse(desc);
            rules.insert(id.clone(), rule_text(id, &doc));
        }
    }
    let issues = report
        .issues
        .into_iter()
        .map(|i| ReportIssue {
            rule: i.rule.unwrap_or_default(),
            severity: i.severity.unwrap_or_default(),
            status: i.status,
            file_path: i.component,
            line: i.line.map(|l| l.0),
            title: i.description,
            message: i.message,
            key: i.key,
        })
        .collect();
    report_findings(ctx, detailed, issues, &rules)
}

fn json_findings(
    scan_type: &'static str,
    ctx: &Context,
    detailed: bool,
    input: &mut dyn Read,
) -> Result<Vec<NewFinding>, ParseError> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let report: JsonReport = serde::Deserialize::deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r))
        .map_err(|e| ParseError::json(scan_type, &e, None))?;
    if report.paging.is_some() || report.components.is_some() || !report.hotspots.is_empty() {
        Ok(api_findings(ctx, detailed, report))
    } else if report.project_name.is_some() || !report.rules.is_empty() || !report.issues.is_empty()
    {
        Ok(sonar_report_json_findings(ctx, detailed, report))
    } else {
        Err(ParseError::new(
            scan_type,
            Some(Location::line_column(1, 1)),
            "expected a sonar-report JSON report (`projectName`, `rules`, `issues`) or a SonarQube API export (`issues`, `components`, `paging`)",
        ))
    }
}

// zip

fn zip_findings(
    scan_type: &'static str,
    ctx: &Context,
    detailed: bool,
    input: &mut dyn BufRead,
) -> Result<Vec<NewFinding>, ParseError> {
    let mut bytes = Vec::new();
    input
        .take(MAX_ZIP_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(scan_type, &e))?;
    if bytes.len() as u64 > MAX_ZIP_BYTES {
        return Err(ParseError::new(
            scan_type,
            Some(Location::byte(MAX_ZIP_BYTES)),
            format!("expected a zip of at most {} MiB", MAX_ZIP_BYTES >> 20),
        ));
    }
    let zip_error = |e: zip::result::ZipError| {
        ParseError::new(
            scan_type,
            None,
            format!("expected a readable zip archive: {e}"),
        )
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zip_error)?;
    let mut out = Vec::new();
    let mut unpacked: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_error)?;
        let name = entry.name().map_err(zip_error)?.into_owned();
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let mut data = Vec::new();
        let budget = MAX_ZIP_BYTES.saturating_sub(unpacked);
        (&mut entry)
            .take(budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| {
                ParseError::new(
                    scan_type,
                    None,
                    format!("expected a readable zip entry `{name}`: {e}"),
                )
            })?;
        unpacked += data.len() as u64;
        if unpacked > MAX_ZIP_BYTES {
            return Err(ParseError::new(
                scan_type,
                None,
                format!(
                    "expected at most {} MiB of JSON once unpacked; `{name}` goes past it",
                    MAX_ZIP_BYTES >> 20
                ),
            ));
        }
        let found =
            json_findings(scan_type, ctx, detailed, &mut data.as_slice()).map_err(|mut e| {
                let loc = e.location.take().map(|l| *l).unwrap_or_default();
                e.location = Some(Box::new(loc.with_path(name.clone())));
                e
            })?;
        out.extend(found);
    }
    Ok(out)
}

impl Parser for SonarQube {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let scan_type = self.name();
        let findings = match peek_first_significant_byte(input)
            .map_err(|e| io_error(scan_type, &e))?
        {
            Some(b'{') => json_findings(scan_type, ctx, self.detailed, input)?,
            Some(b'P') => zip_findings(scan_type, ctx, self.detailed, input)?,
            Some(b'<') => {
                let mut bytes = Vec::new();
                input
                    .read_to_end(&mut bytes)
                    .map_err(|e| io_error(scan_type, &e))?;
                parse_html(
                    scan_type,
                    ctx,
                    self.detailed,
                    &String::from_utf8_lossy(&bytes),
                )?
            }
            _ => {
                return Err(ParseError::new(
                    scan_type,
                    Some(Location::byte(0)),
                    "expected a SonarQube report: JSON, sonar-report HTML, or a zip of API exports",
                ));
            }
        };
        send_all(findings, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(sonar_status(Some("OPEN"), None, None), Status::Active);
        assert_eq!(sonar_status(Some("TO_REVIEW"), None, None), Status::Active);
        assert_eq!(
            sonar_status(Some("RESOLVED"), Some("FALSE-POSITIVE"), None),
            Status::FalsePositive
        );
        assert_eq!(
            sonar_status(Some("RESOLVED"), Some("WONTFIX"), None),
            Status::RiskAccepted
        );
        assert_eq!(
            sonar_status(Some("CLOSED"), Some("FIXED"), None),
            Status::Closed
        );
        assert_eq!(
            sonar_status(Some("REVIEWED"), Some("SAFE"), None),
            Status::FalsePositive
        );
        assert_eq!(
            sonar_status(Some("REVIEWED"), Some("ACKNOWLEDGED"), None),
            Status::RiskAccepted
        );
        assert_eq!(
            sonar_status(Some("OPEN"), None, Some("ACCEPTED")),
            Status::RiskAccepted
        );
    }

    #[test]
    fn dependency_check_messages() {
        let m = dependency_message(
            "Filename: package:1.1.2 | Reference: CVE-2024-2529 | CVSS Score: 6.4 | Category: CWE-120 | Category: CWE-79 | x",
        );
        assert_eq!(m.cwes, [120, 79]);
        assert_eq!(m.cvss, Some(6.4));
        assert_eq!(
            m.component,
            Some(("package".to_owned(), Some("1.1.2".to_owned())))
        );
        assert_eq!(m.ids, ["CVE-2024-2529"]);
        let m = dependency_message(
            "Filename: nimbus-jose-jwt-9.24.4.jar | Highest CVSS Score: 7.5 | References: CVE-2023-52428 (7.5)",
        );
        assert_eq!(
            m.component,
            Some(("nimbus-jose-jwt-9.24.4.jar".to_owned(), None))
        );
        assert_eq!(m.cvss, Some(7.5));
        assert_eq!(
            dependency_message("Add a description to this table.").component,
            None
        );
    }
}
