//! `Semgrep JSON Report`: the output of `semgrep --json` (`{"results": [...]}`), and the
//! older Semgrep Supply Chain export (`{"vulns": [...]}`).
//!
//! Mapping (as DefectDojo's parser): title and `vuln_id_from_tool` = `check_id`;
//! `unique_id_from_tool` = `extra.fingerprint` unless it is Semgrep's placeholder
//! "requires login"; CWEs from `extra.metadata.cwe` (one string or a list); mitigation from
//! `extra.fix` or `extra.fix_regex`. Results with the same rule, file and line are one
//! finding whose `occurrences` counts them, so findings are held (one per distinct
//! location) until the end of the report, then handed out in order of first appearance.

use super::common::finding::{FindingsByKey, count_occurrence, fit_to_domain, send_all};
use super::common::ids::{advisory_ids_in, cwes_in};
use super::common::json::{ScalarText, StringOrList, null_as_default};
use super::common::json_walk::{EachElement, JsonWalk, TopLevelArrays, walk_top_level};
use super::common::text::markdown_code_block;
use super::common::title::title_from_candidates;
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, Severity, Status};
use serde::Deserialize;
use serde::de::MapAccess;
use std::io::BufRead;

pub const NAME: &str = "Semgrep JSON Report";

/// The `Semgrep JSON Report` parser.
pub struct Semgrep;

/// Semgrep's levels to ours. Semgrep writes `ERROR`/`WARNING`/`INFO` for rules and
/// `CRITICAL`/`HIGH`/`MEDIUM`/`LOW` for supply-chain and Pro findings; `INFO` is Low as in
/// DefectDojo. Levels Semgrep added later (`INVENTORY`, `EXPERIMENT`, …) are not about
/// security, so they read as Info instead of failing the import as DefectDojo does.
pub(crate) fn semgrep_severity(raw: &str) -> Severity {
    match raw.trim().to_ascii_uppercase().as_str() {
        "CRITICAL" => Severity::Critical,
        "ERROR" | "HIGH" => Severity::High,
        "WARNING" | "MEDIUM" => Severity::Medium,
        "INFO" | "LOW" => Severity::Low,
        _ => Severity::Info,
    }
}

/// Semgrep's fingerprint, unless it is the placeholder written for logged-out runs.
fn semgrep_fingerprint(raw: Option<String>) -> Option<String> {
    raw.filter(|f| {
        let f = f.trim();
        !f.is_empty() && f != "requires login"
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Position {
    line: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Metadata {
    cwe: StringOrList,
    #[serde(deserialize_with = "null_as_default")]
    references: StringOrList,
    #[serde(deserialize_with = "null_as_default")]
    owasp: StringOrList,
    confidence: Option<String>,
    source: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Extra {
    message: Option<String>,
    severity: Option<String>,
    fingerprint: Option<String>,
    lines: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    metadata: Metadata,
    fix: Option<String>,
    fix_regex: Option<serde_json::Value>,
    is_ignored: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SemgrepResult {
    check_id: Option<String>,
    path: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    start: Position,
    #[serde(deserialize_with = "null_as_default")]
    extra: Extra,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AdvisoryReferences {
    #[serde(rename = "cweIds")]
    cwe_ids: StringOrList,
    #[serde(rename = "cveIds")]
    cve_ids: StringOrList,
    #[serde(rename = "ghsaIds")]
    ghsa_ids: StringOrList,
    #[serde(rename = "urls")]
    urls: StringOrList,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Advisory {
    severity: Option<String>,
    description: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    references: AdvisoryReferences,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DependencyLocation {
    path: Option<String>,
    #[serde(rename = "startLine")]
    start_line: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FingerprintOnly {
    fingerprint: Option<String>,
}

/// An entry of the Supply Chain export's `vulns`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SupplyChainVuln {
    title: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    advisory: Advisory,
    #[serde(
        rename = "dependencyFileLocation",
        deserialize_with = "null_as_default"
    )]
    location: DependencyLocation,
    #[serde(rename = "repositoryId")]
    repository_id: Option<ScalarText>,
    #[serde(deserialize_with = "null_as_default")]
    extra: FingerprintOnly,
}

fn line_number(raw: Option<i64>) -> Option<i32> {
    raw.and_then(|l| i32::try_from(l).ok()).filter(|l| *l >= 1)
}

fn result_finding(ctx: &Context, r: SemgrepResult) -> NewFinding {
    let extra = r.extra;
    let check_id = r.check_id.unwrap_or_default();
    let title = title_from_candidates([Some(check_id.as_str())], "Semgrep finding");
    let severity = extra
        .severity
        .as_deref()
        .map_or(Severity::Info, semgrep_severity);
    let mut f = NewFinding::new(ctx.test, title, severity);

    let mut description = String::new();
    if let Some(m) = extra
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        description.push_str(&format!("**Result message:** {m}\n"));
    }
    if let Some(snippet) = extra.lines.as_deref().filter(|s| *s != "requires login") {
        description.push_str(&format!("**Snippet:**\n{}\n", markdown_code_block(snippet)));
    }
    let owasp = extra.metadata.owasp.0;
    if !owasp.is_empty() {
        description.push_str(&format!("**OWASP:** {}\n", owasp.join(", ")));
    }
    f.description = description;

    f.cwes = extra
        .metadata
        .cwe
        .0
        .iter()
        .flat_map(|c| cwes_in(c))
        .collect();
    f.cwe = f.cwes.first().copied();

    let mut references = extra.metadata.references.0;
    if let Some(source) = extra.metadata.source {
        references.push(source);
    }
    f.references = (!references.is_empty()).then(|| references.join("\n"));

    f.mitigation = match (extra.fix, extra.fix_regex) {
        (Some(fix), _) => Some(fix),
        (None, Some(regex)) if !regex.is_null() => Some(format!(
            "**You can automatically apply this regex:**\n{}",
            markdown_code_block(&regex.to_string())
        )),
        _ => None,
    };
    f.scanner_confidence = extra.metadata.confidence;
    f.file_path = r.path;
    f.line = line_number(r.start.line);
    f.static_finding = true;
    f.vuln_id_from_tool = (!check_id.is_empty()).then_some(check_id);
    f.unique_id_from_tool = semgrep_fingerprint(extra.fingerprint);
    // A `nosemgrep` comment is a developer's verdict that the match is not a problem;
    // Semgrep reports such matches only with `--disable-nosem`, flagged `is_ignored`.
    if extra.is_ignored == Some(true) {
        f.status = Status::FalsePositive;
    }
    f
}

fn vuln_finding(ctx: &Context, v: SupplyChainVuln) -> NewFinding {
    let repository_id = v.repository_id.map(|r| r.0);
    let title = title_from_candidates(
        [v.title.as_deref(), repository_id.as_deref()],
        "Semgrep Supply Chain finding",
    );
    let severity = v
        .advisory
        .severity
        .as_deref()
        .map_or(Severity::Info, semgrep_severity);
    let mut f = NewFinding::new(ctx.test, title, severity);
    f.description = v.advisory.description.unwrap_or_default();
    let refs = v.advisory.references;
    f.cwes = refs.cwe_ids.0.iter().flat_map(|c| cwes_in(c)).collect();
    f.cwe = f.cwes.first().copied();
    f.vulnerability_ids = refs.cve_ids.0.into_iter().chain(refs.ghsa_ids.0).collect();
    if f.vulnerability_ids.is_empty()
        && let Some(t) = v.title.as_deref()
    {
        f.vulnerability_ids = advisory_ids_in(t);
    }
    f.references = (!refs.urls.0.is_empty()).then(|| refs.urls.0.join("\n"));
    f.file_path = v.location.path;
    f.line = line_number(v.location.start_line);
    f.static_finding = true;
    f.vuln_id_from_tool = repository_id;
    f.unique_id_from_tool = semgrep_fingerprint(v.extra.fingerprint);
    f
}

/// DefectDojo's in-report de-duplication key for Semgrep: title, file and line.
fn location_key(f: &NewFinding) -> String {
    format!(
        "{}\u{0}{}\u{0}{}",
        f.title.as_str(),
        f.file_path.as_deref().unwrap_or(""),
        f.line.map(|l| l.to_string()).unwrap_or_default()
    )
}

/// The report's top level: `results` (semgrep --json) or `vulns` (the Supply Chain export),
/// folded by location as they are read.
struct Report<'a> {
    ctx: &'a Context,
    found: FindingsByKey,
}

impl TopLevelArrays for Report<'_> {
    const EXPECTING: &'static str = "a Semgrep JSON report: an object with a `results` array";
    const MISSING: &'static str =
        "expected a `results` array (semgrep --json) or a `vulns` array (Supply Chain export)";
    const KEYS: &'static [&'static str] = &["results", "vulns"];

    fn read_value<'de, A: MapAccess<'de>>(
        &mut self,
        walk: &JsonWalk,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let (ctx, found) = (self.ctx, &mut self.found);
        if key == "results" {
            map.next_value_seed(EachElement::new(walk, "results", |r, _| {
                let f = fit_to_domain(result_finding(ctx, r));
                found.add(location_key(&f), f, count_occurrence);
                Ok(())
            }))
        } else {
            map.next_value_seed(EachElement::new(walk, "vulns", |v, _| {
                let f = fit_to_domain(vuln_finding(ctx, v));
                found.add(location_key(&f), f, count_occurrence);
                Ok(())
            }))
        }
    }
}

impl Parser for Semgrep {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let mut report = Report {
            ctx,
            found: FindingsByKey::default(),
        };
        walk_top_level(NAME, input, ctx.size_hint, &mut report)?;
        send_all(report.found.into_findings(), sink)
    }
}
