//! `Snyk Code Scan`: the SARIF 2.1.0 output of `snyk code test --sarif`.
//!
//! One finding per result location, as DefectDojo does. Severity comes from Snyk's
//! `priorityScore` (0–1000) rather than the SARIF level, because the score is what Snyk ranks
//! by; the title is `<ruleId>_<file>` and the description lists the Snyk properties, keeping
//! DefectDojo's layout so that reports and dashboards built on it still read the same.

use super::common::date::day_of;
use super::common::finding::fit_to_domain;
use super::common::ids::{cwe_in_json, first_cwe_in};
use super::common::json::{json_i64, json_line, json_text, read_json_object};
use super::common::title::title_from_candidates;
use crate::{Context, ParseError, Parser, Sink};
use chrono::NaiveDate;
use domain::{NewFinding, Severity, Status};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;

pub const SCAN_TYPE: &str = "Snyk Code Scan";

/// The `Snyk Code Scan` parser.
pub struct SnykCodeScan;

impl Parser for SnykCodeScan {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let log: SarifLog =
            read_json_object(SCAN_TYPE, input, "a SARIF log object with a `runs` array")?;
        emit_sarif(log.runs.as_deref().unwrap_or(&[]), ctx, sink)
    }
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a SARIF log object with a `runs` array")]
struct SarifLog {
    #[serde(default)]
    runs: Option<Vec<Run>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Run {
    #[serde(default)]
    tool: Option<Tool>,
    #[serde(default)]
    results: Option<Vec<SarifResult>>,
    #[serde(default)]
    invocations: Option<Vec<Invocation>>,
}

#[derive(Deserialize, Default)]
struct Tool {
    #[serde(default)]
    driver: Option<ToolComponent>,
    #[serde(default)]
    extensions: Option<Vec<ToolComponent>>,
}

#[derive(Deserialize, Default)]
struct ToolComponent {
    #[serde(default)]
    rules: Option<Vec<Rule>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    help_uri: Option<String>,
    #[serde(default)]
    properties: Option<RuleProperties>,
}

#[derive(Deserialize, Default)]
struct RuleProperties {
    #[serde(default)]
    tags: Option<Vec<Value>>,
    /// `["CWE-79"]` from Snyk; a single string from some other tools.
    #[serde(default)]
    cwe: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    #[serde(default)]
    end_time_utc: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    #[serde(default)]
    rule_id: Option<String>,
    #[serde(default)]
    rule_index: Option<Value>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    locations: Option<Vec<Location>>,
    #[serde(default)]
    fingerprints: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    partial_fingerprints: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    properties: Option<ResultProperties>,
    #[serde(default)]
    suppressions: Option<Vec<Suppression>>,
    #[serde(default)]
    fixes: Option<Vec<Fix>>,
}

#[derive(Deserialize, Default)]
struct Message {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    #[serde(default)]
    priority_score: Option<Value>,
    #[serde(default)]
    is_autofixable: Option<bool>,
    #[serde(default)]
    tags: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
struct Suppression {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    properties: Option<SuppressionProperties>,
}

#[derive(Deserialize, Default)]
struct SuppressionProperties {
    /// Snyk's ignore reason: `not-vulnerable`, `wont-fix` or `temporary-ignore`.
    #[serde(default)]
    category: Option<String>,
}

#[derive(Deserialize, Default)]
struct Fix {
    #[serde(default)]
    description: Option<Message>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(default)]
    physical_location: Option<PhysicalLocation>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    #[serde(default)]
    artifact_location: Option<ArtifactLocation>,
    #[serde(default)]
    region: Option<Region>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    uri_base_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Region {
    #[serde(default)]
    start_line: Option<Value>,
    #[serde(default)]
    end_line: Option<Value>,
    #[serde(default)]
    start_column: Option<Value>,
    #[serde(default)]
    end_column: Option<Value>,
    #[serde(default)]
    byte_offset: Option<Value>,
}

/// Emits the findings of the runs of a Snyk Code SARIF log; `Snyk Scan` calls this too when
/// handed SARIF.
pub(crate) fn emit_sarif(
    runs: &[Run],
    ctx: &Context,
    sink: &mut Sink<'_>,
) -> Result<(), ParseError> {
    for run in runs {
        let rules = rules_of(run);
        let run_date = run
            .invocations
            .iter()
            .flatten()
            .filter_map(|i| i.end_time_utc.as_deref())
            .next_back()
            .and_then(day_of);
        for result in run.results.iter().flatten() {
            // SARIF `kind` other than `fail` (pass, open, review, notApplicable…) is not a
            // problem the tool is reporting.
            if result.kind.as_deref().is_some_and(|k| k != "fail") {
                continue;
            }
            let rule = result
                .rule_id
                .as_deref()
                .and_then(|id| rules.iter().find(|r| r.id.as_deref() == Some(id)).copied())
                .or_else(|| {
                    result
                        .rule_index
                        .as_ref()
                        .and_then(json_i64)
                        .and_then(|i| usize::try_from(i).ok())
                        .and_then(|i| rules.get(i).copied())
                });
            let locations: Vec<Option<&Location>> = match result.locations.as_deref() {
                Some(l) if !l.is_empty() => l.iter().map(Some).collect(),
                _ => vec![None],
            };
            for location in locations {
                let f = finding(ctx, result, rule, location, run_date);
                sink(fit_to_domain(f))?;
            }
        }
    }
    Ok(())
}

fn rules_of(run: &Run) -> Vec<&Rule> {
    let Some(tool) = &run.tool else {
        return Vec::new();
    };
    let driver: Vec<&Rule> = tool
        .driver
        .iter()
        .flat_map(|d| d.rules.iter().flatten())
        .collect();
    if !driver.is_empty() {
        return driver;
    }
    tool.extensions
        .iter()
        .flatten()
        .flat_map(|e| e.rules.iter().flatten())
        .collect()
}

fn finding(
    ctx: &Context,
    result: &SarifResult,
    rule: Option<&Rule>,
    location: Option<&Location>,
    run_date: Option<NaiveDate>,
) -> NewFinding {
    let rule_id = result.rule_id.as_deref().unwrap_or("").trim();
    let physical = location.and_then(|l| l.physical_location.as_ref());
    let artifact = physical.and_then(|p| p.artifact_location.as_ref());
    let region = physical.and_then(|p| p.region.as_ref());
    let uri = artifact
        .and_then(|a| a.uri.as_deref())
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let message = result
        .message
        .as_ref()
        .and_then(|m| m.text.as_deref())
        .unwrap_or("");
    let props = result.properties.as_ref();
    let score = props
        .and_then(|p| p.priority_score.as_ref())
        .and_then(json_i64);

    let raw_title = match uri {
        Some(u) if !rule_id.is_empty() => format!("{rule_id}_{u}"),
        _ => rule_id.to_owned(),
    };
    let severity = match score {
        Some(s) => severity_from_priority_score(s),
        // Without a priority score the SARIF level is the next best signal.
        None => match result.level.as_deref() {
            Some("error") => Severity::High,
            Some("note") => Severity::Low,
            _ => Severity::Medium,
        },
    };
    let mut f = NewFinding::new(
        ctx.test,
        title_from_candidates([Some(raw_title.as_str())], message),
        severity,
    );
    f.static_finding = true;

    // The layout DefectDojo uses, Python's `True`/`False` included, so searches written
    // against DefectDojo descriptions keep matching.
    let mut lines = vec![
        format!("**ruleId**: {rule_id}"),
        format!(
            "**ruleIndex**: {}",
            result
                .rule_index
                .as_ref()
                .and_then(json_text)
                .unwrap_or_default()
        ),
        format!("**message**: {message}"),
    ];
    if let Some(s) = score {
        lines.push(format!("**score**: {s}"));
    }
    let autofix = props.and_then(|p| p.is_autofixable).unwrap_or(false);
    lines.push(format!(
        "**isAutofixable**: {}",
        if autofix { "True" } else { "False" }
    ));
    if let Some(u) = uri {
        lines.push(format!("**uri**: {u}"));
    }
    if let Some(b) = artifact
        .and_then(|a| a.uri_base_id.as_deref())
        .filter(|b| !b.is_empty())
    {
        lines.push(format!("**uriBaseId**: {b}"));
    }
    if let Some(r) = region {
        for (name, v) in [
            ("startLine", &r.start_line),
            ("endLine", &r.end_line),
            ("startColumn", &r.start_column),
            ("endColumn", &r.end_column),
        ] {
            if let Some(n) = v.as_ref().and_then(json_i64).filter(|n| *n != 0) {
                lines.push(format!("**{name}**: {n}"));
            }
        }
    }
    f.description = lines.join("\n");

    f.file_path = uri.map(str::to_owned);
    // A region given as a byte offset has no line number.
    if let Some(r) = region.filter(|r| r.byte_offset.is_none()) {
        f.line = r.start_line.as_ref().and_then(json_line);
    }
    f.vuln_id_from_tool = (!rule_id.is_empty()).then(|| rule_id.to_owned());

    if let Some(rule) = rule {
        f.cwes = rule_cwes(rule);
        f.cwe = f.cwes.first().copied();
        f.references = rule
            .help_uri
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned);
    }

    let fixes: Vec<&str> = result
        .fixes
        .iter()
        .flatten()
        .filter_map(|x| x.description.as_ref().and_then(|d| d.text.as_deref()))
        .collect();
    if !fixes.is_empty() {
        f.mitigation = Some(fixes.join("\n"));
    }
    f.date = run_date;

    let rule_tags = rule
        .and_then(|r| r.properties.as_ref())
        .and_then(|p| p.tags.as_ref());
    let result_tags = props.and_then(|p| p.tags.as_ref());
    f.tags = rule_tags
        .into_iter()
        .chain(result_tags)
        .flatten()
        .filter_map(json_text)
        .map(|t| {
            t.strip_prefix("external/cwe/")
                .map(str::to_owned)
                .unwrap_or(t)
        })
        .collect();

    f.unique_id_from_tool = fingerprint(result);
    f.status = suppression_status(result.suppressions.as_deref().unwrap_or(&[]));
    f
}

/// Snyk's priority score bands, as its UI groups them.
fn severity_from_priority_score(score: i64) -> Severity {
    match score {
        ..=399 => Severity::Low,
        400..=699 => Severity::Medium,
        700..=899 => Severity::High,
        _ => Severity::Critical,
    }
}

/// Every CWE the rule names, in its order: the first is the primary.
fn rule_cwes(rule: &Rule) -> Vec<i32> {
    let props = rule.properties.as_ref();
    let mut out = Vec::new();
    match props.and_then(|p| p.cwe.as_ref()) {
        Some(Value::Array(items)) => out.extend(items.iter().filter_map(cwe_in_json)),
        Some(v) => out.extend(cwe_in_json(v)),
        None => {
            // Other SARIF producers tag rules `external/cwe/cwe-79`.
            for tag in props.and_then(|p| p.tags.as_ref()).into_iter().flatten() {
                if let Some(c) = tag.as_str().and_then(first_cwe_in) {
                    out.push(c);
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(*c));
    out
}

/// Snyk writes two fingerprints, `"0"` (a stable hash of the issue) and `"1"` (a fuzzy
/// location hash); the first in key order is the one that survives code moves. Without
/// `fingerprints`, all partial fingerprints together identify the result.
fn fingerprint(result: &SarifResult) -> Option<String> {
    if let Some(v) = result
        .fingerprints
        .as_ref()
        .and_then(|m| m.values().find_map(fingerprint_text))
    {
        return Some(v);
    }
    let partial = result.partial_fingerprints.as_ref()?;
    let joined: Vec<String> = partial
        .iter()
        .filter_map(|(k, v)| fingerprint_text(v).map(|v| format!("{k}:{v}")))
        .collect();
    (!joined.is_empty()).then(|| joined.join("|"))
}

/// A fingerprint is a string, or `{"value": "…"}` in some producers.
fn fingerprint_text(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => o.get("value").and_then(json_text),
        other => json_text(other),
    }
}

/// A result is suppressed by any suppression not rejected or still under review. Snyk says why
/// it was ignored: "not vulnerable" is a false positive, "won't fix" and temporary ignores are
/// accepted risk. A suppression without a reason counts as a false positive, as in DefectDojo.
fn suppression_status(suppressions: &[Suppression]) -> Status {
    let active: Vec<&Suppression> = suppressions
        .iter()
        .filter(|s| !matches!(s.status.as_deref(), Some("rejected" | "underReview")))
        .collect();
    if active.is_empty() {
        return Status::Active;
    }
    let accepted = active.iter().any(|s| {
        matches!(
            s.properties.as_ref().and_then(|p| p.category.as_deref()),
            Some("wont-fix" | "temporary-ignore")
        )
    });
    if accepted {
        Status::RiskAccepted
    } else {
        Status::FalsePositive
    }
}
