//! `SARIF`: OASIS Static Analysis Results Interchange Format 2.1.0, from any tool.
//!
//! Streaming: the document is walked with serde visitors, never loaded whole. Each
//! `runs[i].results[j]` is read into a small typed value, turned into findings and handed to
//! the sink before the next result is read, so memory stays flat however many results a
//! run has. What a result needs from the rest of its run (the rules of `tool.driver` and
//! `tool.extensions[]`, and `artifacts` for index-only file references) is kept per run. In
//! practice `tool` and `artifacts` come before `results`; when a run puts `tool` after its
//! results, the results read before it are held until the end of that run and handed out
//! then, and so are results that reference an artifact by index before `artifacts` was read.
//! The findings' date is the end of the run's last invocation when `invocations` comes
//! before the result (as tools write it); otherwise the importer's day.
//!
//! Mapping (DefectDojo's conventions, `dojo/tools/sarif/parser.py`):
//! - only results of kind `fail` (the default) are findings; one finding per location;
//! - title: the result message (with `messageStrings` arguments filled in), else the rule's
//!   short description, full description, name or id; cut to 150 characters;
//! - severity: `level` (else the rule's default level): error → High, warning → Medium,
//!   note/none → Info; a `security-severity` property (rule or result) overrides it: a
//!   CVSS score gives the band and `cvss_v3_score`;
//! - CWEs: rule relationships / `properties.cwe` / tags (`external/cwe/cwe-79`), the
//!   result's `properties.cwe` and CWE taxa; the first found is the primary;
//! - file and line from `physicalLocation`; `vuln_id_from_tool` = rule id, and CVE / GHSA ids
//!   in it become vulnerability ids;
//! - `unique_id_from_tool`: `fingerprints` (first method, newest version), else
//!   `partialFingerprints` as `method:value|…`, else `correlationGuid`;
//! - accepted suppressions make a false positive; `baselineState: absent` a closed finding.

use super::common::cvss::severity_from_cvss;
use super::common::date::day_of;
use super::common::finding::{fit_to_domain, send_all};
use super::common::ids::{advisory_ids_in, cwes_in};
use super::common::json::null_as_default;
use super::common::json_walk::{EachElement, JsonWalk, TopLevelArrays, walk_top_level};
use super::common::text::markdown_code_block;
use super::common::title::title_from_candidates;
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, Severity, Status};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::BufRead;

pub const NAME: &str = "SARIF";

/// The `SARIF` parser.
pub struct Sarif;

/// Titles longer than this are cut at a word boundary (DefectDojo shortens to 150 too):
/// the whole message stays in the description.
const TITLE_CHARS: usize = 150;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct Message {
    text: Option<String>,
    markdown: Option<String>,
    id: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    arguments: Vec<Value>,
}

/// The parts of a property bag this parser reads; bags are free-form, so values stay
/// untyped and are interpreted leniently.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct PropertyBag {
    tags: Option<Value>,
    cwe: Option<Value>,
    #[serde(rename = "security-severity")]
    security_severity: Option<Value>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ReportingConfiguration {
    level: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ComponentReference {
    name: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct DescriptorReference {
    id: Option<Value>,
    index: Option<i64>,
    #[serde(rename = "toolComponent")]
    tool_component: Option<ComponentReference>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct Relationship {
    target: Option<DescriptorReference>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct Rule {
    id: Option<String>,
    name: Option<String>,
    #[serde(rename = "shortDescription")]
    short_description: Option<Message>,
    #[serde(rename = "fullDescription")]
    full_description: Option<Message>,
    help: Option<Message>,
    #[serde(rename = "helpUri")]
    help_uri: Option<String>,
    #[serde(rename = "messageStrings", deserialize_with = "null_as_default")]
    message_strings: BTreeMap<String, Message>,
    #[serde(rename = "defaultConfiguration")]
    default_configuration: Option<ReportingConfiguration>,
    properties: Option<PropertyBag>,
    #[serde(deserialize_with = "null_as_default")]
    relationships: Vec<Relationship>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ToolComponent {
    name: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    rules: Vec<Rule>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tool {
    driver: ToolComponent,
    #[serde(deserialize_with = "null_as_default")]
    extensions: Vec<ToolComponent>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Invocation {
    #[serde(rename = "endTimeUtc")]
    end_time_utc: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArtifactLocation {
    uri: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Artifact {
    location: Option<ArtifactLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Snippet {
    text: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Region {
    #[serde(rename = "startLine")]
    start_line: Option<i64>,
    #[serde(rename = "startColumn")]
    start_column: Option<i64>,
    snippet: Option<Snippet>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PhysicalLocation {
    #[serde(rename = "artifactLocation")]
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
    #[serde(rename = "contextRegion")]
    context_region: Option<Region>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResultLocation {
    #[serde(rename = "physicalLocation")]
    physical_location: Option<PhysicalLocation>,
    message: Option<Message>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ThreadFlowLocation {
    location: Option<ResultLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ThreadFlow {
    #[serde(deserialize_with = "null_as_default")]
    locations: Vec<ThreadFlowLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeFlow {
    #[serde(rename = "threadFlows", deserialize_with = "null_as_default")]
    thread_flows: Vec<ThreadFlow>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Suppression {
    status: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Fix {
    description: Option<Message>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Taxon {
    id: Option<Value>,
    #[serde(rename = "toolComponent")]
    tool_component: Option<ComponentReference>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SarifResult {
    #[serde(rename = "ruleId")]
    rule_id: Option<String>,
    #[serde(rename = "ruleIndex")]
    rule_index: Option<i64>,
    rule: Option<DescriptorReference>,
    kind: Option<String>,
    level: Option<String>,
    message: Option<Message>,
    #[serde(deserialize_with = "null_as_default")]
    locations: Vec<ResultLocation>,
    suppressions: Option<Vec<Suppression>>,
    #[serde(rename = "baselineState")]
    baseline_state: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    fingerprints: BTreeMap<String, Value>,
    #[serde(rename = "partialFingerprints", deserialize_with = "null_as_default")]
    partial_fingerprints: BTreeMap<String, Value>,
    #[serde(rename = "correlationGuid")]
    correlation_guid: Option<String>,
    properties: Option<PropertyBag>,
    #[serde(deserialize_with = "null_as_default")]
    taxa: Vec<Taxon>,
    #[serde(deserialize_with = "null_as_default")]
    fixes: Vec<Fix>,
    #[serde(rename = "codeFlows", deserialize_with = "null_as_default")]
    code_flows: Vec<CodeFlow>,
}

/// Strings in a free-form value: a string, a number, or a list of those.
fn value_strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn index(i: Option<i64>) -> Option<usize> {
    i.and_then(|i| usize::try_from(i).ok())
}

/// What a run says about its results: its rules and artifact URIs.
#[derive(Default)]
struct RunContext {
    driver_name: Option<String>,
    driver: Vec<Rule>,
    extensions: Vec<(Option<String>, Vec<Rule>)>,
    /// Rule id → (extension index or `None` for the driver, rule index); driver first.
    by_id: HashMap<String, (Option<usize>, usize)>,
    tool_seen: bool,
    artifacts: Option<Vec<Option<String>>>,
    /// The day the last invocation ended: the findings' date, as in DefectDojo.
    date: Option<chrono::NaiveDate>,
}

impl RunContext {
    fn set_tool(&mut self, tool: Tool) {
        self.driver_name = tool.driver.name;
        self.driver = tool.driver.rules;
        self.extensions = tool
            .extensions
            .into_iter()
            .map(|e| (e.name, e.rules))
            .collect();
        for (ext, rules) in self.extensions.iter().enumerate().rev() {
            for (i, r) in rules.1.iter().enumerate().rev() {
                if let Some(id) = &r.id {
                    self.by_id.insert(id.clone(), (Some(ext), i));
                }
            }
        }
        for (i, r) in self.driver.iter().enumerate().rev() {
            if let Some(id) = &r.id {
                self.by_id.insert(id.clone(), (None, i));
            }
        }
        self.tool_seen = true;
    }

    fn component(&self, reference: Option<&ComponentReference>) -> Option<&[Rule]> {
        let Some(c) = reference else {
            return Some(&self.driver);
        };
        if let Some(i) = index(c.index) {
            return self.extensions.get(i).map(|e| e.1.as_slice());
        }
        let name = c.name.as_deref()?;
        if self.driver_name.as_deref() == Some(name) {
            return Some(&self.driver);
        }
        self.extensions
            .iter()
            .find(|e| e.0.as_deref() == Some(name))
            .map(|e| e.1.as_slice())
    }

    /// The rule a result refers to: by index in the referenced component (SARIF §3.27.6–7),
    /// else by id, the driver's rules first.
    fn rule_for(&self, r: &SarifResult) -> Option<&Rule> {
        let reference = r.rule.as_ref();
        let rules = self.component(reference.and_then(|x| x.tool_component.as_ref()));
        let at = index(reference.and_then(|x| x.index)).or(index(r.rule_index));
        if let (Some(rules), Some(at)) = (rules, at)
            && let Some(rule) = rules.get(at)
        {
            return Some(rule);
        }
        let id = r
            .rule_id
            .clone()
            .or_else(|| reference.and_then(|x| x.id.as_ref()).and_then(value_text))?;
        // Hierarchical ids ("CA2101/subrule") fall back to their root rule.
        let found = self
            .by_id
            .get(&id)
            .or_else(|| id.split('/').next().and_then(|root| self.by_id.get(root)))?;
        match found {
            (None, i) => self.driver.get(*i),
            (Some(e), i) => self.extensions.get(*e).and_then(|x| x.1.get(*i)),
        }
    }

    /// Whether the result can be turned into findings now: its rule may be known only
    /// once `tool` was read, and an index-only file reference only once `artifacts` was.
    fn ready_for(&self, r: &SarifResult) -> bool {
        self.tool_seen
            && (self.artifacts.is_some()
                || r.locations.iter().all(|l| {
                    l.physical_location
                        .as_ref()
                        .and_then(|p| p.artifact_location.as_ref())
                        .is_none_or(|a| a.uri.is_some() || a.index.is_none())
                }))
    }

    fn uri(&self, a: &ArtifactLocation) -> Option<String> {
        let raw = a.uri.clone().or_else(|| {
            let artifacts = self.artifacts.as_ref()?;
            artifacts.get(index(a.index)?).cloned().flatten()
        })?;
        // Local file URIs name a path; the scheme is noise for file matching.
        Some(
            raw.strip_prefix("file://")
                .map(str::to_owned)
                .unwrap_or(raw),
        )
    }
}

/// The UTC day of an RFC 3339 timestamp (`2016-07-16T14:19:01Z`).
fn utc_day(s: &str) -> Option<chrono::NaiveDate> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc).date_naive())
        .or_else(|| day_of(s))
}

/// A message's text: `text`, else `markdown`, else the rule's `messageStrings[id]` with
/// `{0}`… replaced by the arguments (SARIF §3.11.5).
fn message_text(m: &Message, rule: Option<&Rule>) -> Option<String> {
    if let Some(t) = m.text.as_ref().or(m.markdown.as_ref()) {
        return Some(t.clone());
    }
    let template = rule?.message_strings.get(m.id.as_deref()?)?;
    let mut text = template
        .text
        .clone()
        .or_else(|| template.markdown.clone())?;
    // Templates name a handful of placeholders; arguments past the first hundred would only
    // cost time.
    for (i, arg) in m.arguments.iter().enumerate().take(100) {
        let arg = value_text(arg).unwrap_or_else(|| arg.to_string());
        text = text.replace(&format!("{{{i}}}"), &arg);
    }
    Some(text)
}

/// Collapses whitespace and cuts at a word boundary before `max` characters, ending in "…".
fn shorten(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut.get(..i).unwrap_or(&cut).to_owned(),
        _ => cut,
    };
    format!("{at_word}…")
}

fn level_severity(level: Option<&str>) -> Severity {
    match level.map(str::trim) {
        Some("error") => Severity::High,
        Some("note") | Some("none") => Severity::Info,
        // "warning" and the SARIF default when no level is given.
        _ => Severity::Medium,
    }
}

/// A `security-severity` property: a CVSS score (GitHub code scanning's convention) gives
/// the band and the score; a severity name gives the severity alone.
fn security_severity(v: Option<&Value>) -> Option<(Severity, Option<f64>)> {
    let text = value_text(v?)?;
    if let Ok(score) = text.trim().parse::<f64>() {
        return score
            .is_finite()
            .then(|| (severity_from_cvss(score), Some(score)));
    }
    Severity::parse(&text).ok().map(|s| (s, None))
}

fn rule_cwes(rule: &Rule) -> Vec<i32> {
    let mut out = Vec::new();
    for rel in &rule.relationships {
        let Some(target) = &rel.target else { continue };
        let Some(id) = target.id.as_ref().and_then(value_text) else {
            continue;
        };
        let is_cwe_taxonomy = target
            .tool_component
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .is_some_and(|n| n.eq_ignore_ascii_case("CWE"));
        if is_cwe_taxonomy && let Ok(n) = id.trim().parse::<i32>() {
            out.push(n);
        } else {
            out.extend(cwes_in(&id));
        }
    }
    if out.is_empty()
        && let Some(p) = &rule.properties
    {
        out.extend(value_strings(p.cwe.as_ref()).iter().flat_map(|c| {
            // `"cwe": "79"` or `["CWE-79"]`: a bare number is a CWE number.
            c.trim()
                .parse::<i32>()
                .map(|n| vec![n])
                .unwrap_or_else(|_| cwes_in(c))
        }));
        if out.is_empty() {
            out.extend(
                value_strings(p.tags.as_ref())
                    .iter()
                    .flat_map(|t| cwes_in(t)),
            );
        }
    }
    out
}

fn result_cwes(r: &SarifResult) -> Vec<i32> {
    let mut out = Vec::new();
    if let Some(p) = &r.properties {
        out.extend(
            value_strings(p.cwe.as_ref())
                .iter()
                .flat_map(|c| cwes_in(c)),
        );
    }
    for t in &r.taxa {
        let is_cwe = t
            .tool_component
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .is_some_and(|n| n.eq_ignore_ascii_case("CWE"));
        if let (true, Some(id)) = (is_cwe, t.id.as_ref().and_then(value_text)) {
            match id.trim().parse::<i32>() {
                Ok(n) => out.push(n),
                Err(_) => out.extend(cwes_in(&id)),
            }
        }
    }
    out
}

/// `method/vN` keys: the method and its version (0 when unversioned or unreadable).
fn fingerprint_method(key: &str) -> (String, u64) {
    match key.rsplit_once('/') {
        Some((method, version)) => {
            let v = version.trim_start_matches('v').parse().unwrap_or(0);
            let method = method.rsplit('/').next().unwrap_or(method);
            (method.to_owned(), v)
        }
        None => (key.to_owned(), 0),
    }
}

/// The newest version of each fingerprint method; values may be strings or (BlackDuck)
/// `{"value": …}` objects.
fn fingerprints_by_method(values: &BTreeMap<String, Value>) -> BTreeMap<String, (u64, String)> {
    let mut out: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for (key, value) in values {
        let text = match value {
            Value::Object(o) => o.get("value").and_then(value_text),
            other => value_text(other),
        };
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            continue;
        };
        let (method, version) = fingerprint_method(key);
        let newer = out.get(&method).is_none_or(|(v, _)| *v < version);
        if newer {
            out.insert(method, (version, text));
        }
    }
    out
}

fn unique_id(r: &SarifResult) -> Option<String> {
    let full = fingerprints_by_method(&r.fingerprints);
    if let Some((_, (_, value))) = full.into_iter().next() {
        return Some(value);
    }
    let partial = fingerprints_by_method(&r.partial_fingerprints);
    if !partial.is_empty() {
        return Some(
            partial
                .iter()
                .map(|(k, (_, v))| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join("|"),
        );
    }
    r.correlation_guid.clone().filter(|g| !g.trim().is_empty())
}

fn snippet(p: &PhysicalLocation) -> Option<&str> {
    p.region
        .as_ref()
        .and_then(|r| r.snippet.as_ref())
        .and_then(|s| s.text.as_deref())
        .or_else(|| {
            p.context_region
                .as_ref()
                .and_then(|r| r.snippet.as_ref())
                .and_then(|s| s.text.as_deref())
        })
}

fn code_flows_text(run: &RunContext, flows: &[CodeFlow], rule: Option<&Rule>) -> String {
    let mut out = String::new();
    for flow in flows {
        for thread in &flow.thread_flows {
            if thread.locations.is_empty() {
                continue;
            }
            out.push_str("**Code flow:**\n");
            for (n, step) in thread.locations.iter().enumerate() {
                let Some(loc) = &step.location else { continue };
                let physical = loc.physical_location.as_ref();
                let uri = physical
                    .and_then(|p| p.artifact_location.as_ref())
                    .and_then(|a| run.uri(a))
                    .unwrap_or_default();
                let region = physical.and_then(|p| p.region.as_ref());
                out.push_str(&format!("{}. {uri}", n + 1));
                if let Some(l) = region.and_then(|r| r.start_line) {
                    out.push_str(&format!(":L{l}"));
                }
                if let Some(c) = region.and_then(|r| r.start_column) {
                    out.push_str(&format!(":C{c}"));
                }
                if let Some(s) = region
                    .and_then(|r| r.snippet.as_ref())
                    .and_then(|s| s.text.as_deref())
                {
                    out.push_str(&format!("\t-\t{}", s.trim()));
                }
                out.push('\n');
                // Flow steps are shown in Markdown, so their Markdown form is preferred.
                let step_message = loc
                    .message
                    .as_ref()
                    .and_then(|m| m.markdown.clone().or_else(|| message_text(m, rule)));
                if let Some(m) = step_message {
                    out.push_str(&format!("\t{m}\n"));
                }
            }
        }
    }
    out
}

/// The findings of one result: one per location (or one without a location).
fn result_findings(ctx: &Context, run: &RunContext, r: &SarifResult) -> Vec<NewFinding> {
    // SARIF §3.27.9: only `fail` results report a problem; pass, open, review,
    // informational and notApplicable do not.
    if r.kind.as_deref().is_some_and(|k| k != "fail") {
        return Vec::new();
    }
    let rule = run.rule_for(r);
    let message = r.message.as_ref().and_then(|m| message_text(m, rule));
    let short = rule
        .and_then(|x| x.short_description.as_ref())
        .and_then(|m| message_text(m, rule));
    let full = rule
        .and_then(|x| x.full_description.as_ref())
        .and_then(|m| message_text(m, rule));
    let rule_id = r
        .rule_id
        .clone()
        .or_else(|| rule.and_then(|x| x.id.clone()));
    let title_text = [
        message.as_deref(),
        short.as_deref(),
        full.as_deref(),
        rule.and_then(|x| x.name.as_deref()),
        rule_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find(|t| !t.trim().is_empty())
    .map(|t| shorten(t, TITLE_CHARS));
    let title = title_from_candidates([title_text.as_deref()], "SARIF result");

    let mut severity = level_severity(
        r.level
            .as_deref()
            .or_else(|| rule?.default_configuration.as_ref()?.level.as_deref()),
    );
    let mut cvss = None;
    let from_property = security_severity(
        r.properties
            .as_ref()
            .and_then(|p| p.security_severity.as_ref()),
    )
    .or_else(|| {
        security_severity(
            rule.and_then(|x| x.properties.as_ref())
                .and_then(|p| p.security_severity.as_ref()),
        )
    });
    if let Some((s, score)) = from_property {
        severity = s;
        cvss = score;
    }

    let mut cwes = rule.map(rule_cwes).unwrap_or_default();
    for c in result_cwes(r) {
        if !cwes.contains(&c) {
            cwes.push(c);
        }
    }

    let mut tags: Vec<String> = Vec::new();
    for t in value_strings(
        rule.and_then(|x| x.properties.as_ref())
            .and_then(|p| p.tags.as_ref()),
    )
    .into_iter()
    .chain(value_strings(
        r.properties.as_ref().and_then(|p| p.tags.as_ref()),
    )) {
        let t = t.strip_prefix("external/cwe/").unwrap_or(&t).to_owned();
        if !tags.contains(&t) {
            tags.push(t);
        }
    }

    let mitigation = {
        let fixes: Vec<String> = r
            .fixes
            .iter()
            .filter_map(|f| f.description.as_ref().and_then(|m| message_text(m, rule)))
            .collect();
        if fixes.is_empty() {
            // Without fixes, the rule's help is the tool's remediation advice.
            rule.and_then(|x| x.help.as_ref())
                .and_then(|h| h.markdown.clone().or_else(|| h.text.clone()))
                .filter(|h| !h.trim().starts_with("http"))
        } else {
            Some(fixes.join("\n"))
        }
    };
    let references = rule.and_then(|x| {
        x.help_uri.clone().or_else(|| {
            x.help
                .as_ref()
                .and_then(|h| h.text.clone())
                .filter(|h| h.trim().starts_with("http"))
        })
    });

    let suppressed = r.suppressions.as_ref().is_some_and(|s| {
        s.iter().any(|x| {
            x.status
                .as_deref()
                .is_none_or(|st| st.eq_ignore_ascii_case("accepted"))
        })
    });
    let status = if suppressed {
        Status::FalsePositive
    } else if r.baseline_state.as_deref() == Some("absent") {
        // The result was in the baseline and is gone from this run: fixed.
        Status::Closed
    } else {
        Status::Active
    };

    let uid = unique_id(r);
    let vulnerability_ids = rule_id.as_deref().map(advisory_ids_in).unwrap_or_default();
    let flows = code_flows_text(run, &r.code_flows, rule);

    let physical: Vec<Option<&PhysicalLocation>> = if r.locations.is_empty() {
        vec![None]
    } else {
        r.locations
            .iter()
            .map(|l| l.physical_location.as_ref())
            .collect()
    };

    physical
        .into_iter()
        .map(|p| {
            let mut description = String::new();
            if let Some(m) = &message {
                description.push_str(&format!("**Result message:** {m}\n"));
            }
            if let Some(s) = p.and_then(snippet) {
                description.push_str(&format!("**Snippet:**\n{}\n", markdown_code_block(s)));
            }
            if let Some(rule) = rule {
                if let Some(name) = &rule.name {
                    description.push_str(&format!("**Rule name:** {name}\n"));
                }
                if let Some(s) = short.as_ref().filter(|s| Some(*s) != message.as_ref()) {
                    description.push_str(&format!("**Rule short description:** {s}\n"));
                }
                if let Some(s) = full
                    .as_ref()
                    .filter(|s| Some(*s) != message.as_ref() && Some(*s) != short.as_ref())
                {
                    description.push_str(&format!("**Rule full description:** {s}\n"));
                }
            }
            description.push_str(&flows);

            let mut f = NewFinding::new(ctx.test, title.clone(), severity);
            f.description = description.trim_end().to_owned();
            f.file_path = p
                .and_then(|p| p.artifact_location.as_ref())
                .and_then(|a| run.uri(a));
            f.line = p
                .and_then(|p| p.region.as_ref())
                .and_then(|r| r.start_line)
                .and_then(|l| i32::try_from(l).ok());
            f.cwes = cwes.clone();
            f.cwe = cwes.first().copied();
            f.cvss_v3_score = cvss;
            f.vulnerability_ids = vulnerability_ids.clone();
            f.vuln_id_from_tool = rule_id.clone();
            f.unique_id_from_tool = uid.clone();
            f.mitigation = mitigation.clone();
            f.references = references.clone();
            f.tags = tags.clone();
            f.status = status;
            f.date = run.date;
            f.static_finding = true;
            fit_to_domain(f)
        })
        .collect()
}

/// The log's top level: its `runs`, each walked as it is read.
struct Log<'a, 'b> {
    ctx: &'a Context,
    sink: &'a mut Sink<'b>,
}

impl TopLevelArrays for Log<'_, '_> {
    const EXPECTING: &'static str = "a SARIF log: an object with a `runs` array";
    const MISSING: &'static str = "expected a `runs` array (SARIF 2.1.0)";
    const KEYS: &'static [&'static str] = &["runs"];

    fn read_value<'de, A: MapAccess<'de>>(
        &mut self,
        walk: &JsonWalk,
        _key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        map.next_value_seed(Runs {
            walk,
            ctx: self.ctx,
            sink: &mut *self.sink,
        })
    }
}

struct Runs<'a, 'b> {
    walk: &'a JsonWalk,
    ctx: &'a Context,
    sink: &'a mut Sink<'b>,
}

impl<'de> DeserializeSeed<'de> for Runs<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Runs<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of runs")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            self.walk.enter(format!("runs[{i}]"));
            let run = Run {
                walk: self.walk,
                ctx: self.ctx,
                sink: &mut *self.sink,
            };
            if seq.next_element_seed(run)?.is_none() {
                self.walk.leave();
                return Ok(());
            }
            self.walk.leave();
            i += 1;
        }
    }
}

struct Run<'a, 'b> {
    walk: &'a JsonWalk,
    ctx: &'a Context,
    sink: &'a mut Sink<'b>,
}

impl<'de> DeserializeSeed<'de> for Run<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Run<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a run object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Run { walk, ctx, sink } = self;
        let mut run = RunContext::default();
        // Results read before the run's `tool` (or, for index-only file references,
        // before its `artifacts`): held until the end of the run.
        let mut pending: Vec<SarifResult> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tool" => {
                    walk.enter("tool".to_owned());
                    let tool: Tool = map.next_value()?;
                    walk.leave();
                    run.set_tool(tool);
                }
                "artifacts" => {
                    walk.enter("artifacts".to_owned());
                    let artifacts: Option<Vec<Artifact>> = map.next_value()?;
                    walk.leave();
                    run.artifacts = Some(
                        artifacts
                            .unwrap_or_default()
                            .into_iter()
                            .map(|a| a.location.and_then(|l| l.uri))
                            .collect(),
                    );
                }
                "invocations" => {
                    walk.enter("invocations".to_owned());
                    let invocations: Option<Vec<Invocation>> = map.next_value()?;
                    walk.leave();
                    run.date = invocations
                        .unwrap_or_default()
                        .last()
                        .and_then(|i| i.end_time_utc.as_deref())
                        .and_then(utc_day);
                }
                "results" => {
                    let (run, pending, sink) = (&run, &mut pending, &mut *sink);
                    map.next_value_seed(EachElement::new(walk, "results", |r: SarifResult, _| {
                        if run.ready_for(&r) {
                            send_all(result_findings(ctx, run, &r), sink)
                        } else {
                            pending.push(r);
                            Ok(())
                        }
                    }))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for r in &pending {
            send_all(result_findings(ctx, &run, r), sink).map_err(|e| walk.stop(e))?;
        }
        Ok(())
    }
}

impl Parser for Sarif {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        walk_top_level(NAME, input, ctx.size_hint, &mut Log { ctx, sink })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_cut_at_a_word() {
        assert_eq!(shorten("a  b\nc", 150), "a b c");
        let long = "word ".repeat(60);
        let s = shorten(&long, 150);
        assert!(s.chars().count() <= 150, "{s}");
        assert!(s.ends_with("word…"), "{s}");
    }

    #[test]
    fn fingerprint_methods_keep_the_newest_version() {
        let mut m = BTreeMap::new();
        m.insert("matchBasedId/v1".to_owned(), Value::from("old"));
        m.insert("matchBasedId/v2".to_owned(), Value::from("new"));
        m.insert("other".to_owned(), serde_json::json!({"value": "x"}));
        let by = fingerprints_by_method(&m);
        assert_eq!(by.get("matchBasedId").map(|v| v.1.as_str()), Some("new"));
        assert_eq!(by.get("other").map(|v| v.1.as_str()), Some("x"));
    }

    #[test]
    fn security_severity_is_a_score_or_a_name() {
        assert_eq!(
            security_severity(Some(&Value::from("9.8"))),
            Some((Severity::Critical, Some(9.8)))
        );
        assert_eq!(
            security_severity(Some(&Value::from(5.5))),
            Some((Severity::Medium, Some(5.5)))
        );
        assert_eq!(
            security_severity(Some(&Value::from("high"))),
            Some((Severity::High, None))
        );
        assert_eq!(security_severity(Some(&Value::from("bogus"))), None);
    }
}
