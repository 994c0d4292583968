//! `Semgrep Pro JSON Report`: findings exported from Semgrep AppSec Platform's API
//! (`{"findings": [...]}`, `GET /deployments/{slug}/findings`).
//!
//! Mapping (as DefectDojo's parser): title and `vuln_id_from_tool` = `rule_name`;
//! `unique_id_from_tool` = `match_based_id`; CWEs from `rule.cwe_names`; the AI assistant's
//! guidance, autofix, auto-triage verdict and component go into the mitigation. Findings
//! with the same `match_based_id` (or, without one, rule, file and line) are one finding
//! whose `occurrences` counts them.

use super::common::date::day_of;
use super::common::finding::{FindingsByKey, count_occurrence, fit_to_domain, send_all};
use super::common::ids::cwes_in;
use super::common::json::{ScalarText, null_as_default};
use super::common::json_walk::{EachElement, JsonWalk, TopLevelArrays, walk_top_level};
use super::common::text::markdown_code_block;
use super::common::title::title_from_candidates;
use super::semgrep::semgrep_severity;
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, Status};
use serde::Deserialize;
use serde::de::MapAccess;
use std::io::BufRead;

pub const NAME: &str = "Semgrep Pro JSON Report";

/// The `Semgrep Pro JSON Report` parser.
pub struct SemgrepPro;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Location {
    file_path: Option<String>,
    line: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Rule {
    message: Option<String>,
    category: Option<String>,
    confidence: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    vulnerability_classes: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    cwe_names: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    owasp_names: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Guidance {
    summary: Option<String>,
    instructions: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Autofix {
    fix_code: Option<String>,
    explanation: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Autotriage {
    verdict: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssistantComponent {
    tag: Option<String>,
    risk: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Assistant {
    guidance: Option<Guidance>,
    autofix: Option<Autofix>,
    autotriage: Option<Autotriage>,
    component: Option<AssistantComponent>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Repository {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExternalTicket {
    external_slug: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ProFinding {
    rule_name: Option<String>,
    rule_message: Option<String>,
    severity: Option<String>,
    confidence: Option<String>,
    status: Option<String>,
    triage_state: Option<String>,
    triage_reason: Option<String>,
    triage_comment: Option<String>,
    match_based_id: Option<ScalarText>,
    line_of_code_url: Option<String>,
    created_at: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    categories: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    location: Location,
    rule: Option<Rule>,
    assistant: Option<Assistant>,
    repository: Option<Repository>,
    external_ticket: Option<ExternalTicket>,
}

/// Semgrep's finding state to ours. DefectDojo only closes `fixed`/`removed`; an `ignored`
/// finding (triaged away in Semgrep) would come back active on every import, so it takes
/// the triage reason instead: `false_positive` → false positive, anything else → accepted.
fn pro_status(status: Option<&str>, triage: Option<&str>, reason: Option<&str>) -> Status {
    let lower = |s: Option<&str>| s.map(|s| s.trim().to_ascii_lowercase()).unwrap_or_default();
    let (status, triage, reason) = (lower(status), lower(triage), lower(reason));
    if matches!(status.as_str(), "fixed" | "removed") {
        Status::Closed
    } else if status == "ignored" || triage == "ignored" {
        if reason == "false_positive" {
            Status::FalsePositive
        } else {
            Status::RiskAccepted
        }
    } else {
        Status::Active
    }
}

fn capitalized(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn description(p: &ProFinding) -> String {
    let mut d = String::new();
    if let Some(m) = &p.rule_message {
        d.push_str(&format!("**Message:** {}\n\n", m.trim()));
    }
    if let Some(rule) = &p.rule {
        if let Some(m) = &rule.message {
            d.push_str(&format!("**Rule Message:** {}\n\n", m.trim()));
        }
        if let Some(c) = &rule.category {
            d.push_str(&format!("**Category:** {c}\n\n"));
        }
        if let Some(c) = &rule.confidence {
            d.push_str(&format!("**Confidence:** {c}\n\n"));
        }
        for (heading, list) in [
            ("Vulnerability Classes", &rule.vulnerability_classes),
            ("CWE References", &rule.cwe_names),
            ("OWASP References", &rule.owasp_names),
        ] {
            if !list.is_empty() {
                d.push_str(&format!("**{heading}:**\n"));
                for item in list {
                    d.push_str(&format!("- {item}\n"));
                }
                d.push('\n');
            }
        }
    }
    if !p.categories.is_empty() {
        d.push_str("**Categories:**\n");
        for c in &p.categories {
            d.push_str(&format!("- {c}\n"));
        }
        d.push('\n');
    }
    if let Some(t) = &p.triage_state {
        d.push_str(&format!("**Triage State:** {t}\n"));
        if let Some(c) = &p.triage_comment {
            d.push_str(&format!("**Triage Comment:** {c}\n"));
        }
        if let Some(r) = &p.triage_reason {
            d.push_str(&format!("**Triage Reason:** {r}\n"));
        }
    }
    d
}

fn mitigation(assistant: Option<&Assistant>) -> Option<String> {
    let a = assistant?;
    let mut parts = Vec::new();
    if let Some(g) = &a.guidance {
        if let Some(s) = &g.summary {
            parts.push(format!("**Guidance Summary:**\n{s}"));
        }
        if let Some(i) = &g.instructions {
            parts.push(format!("**Instructions:**\n{i}"));
        }
    }
    if let Some(fix) = &a.autofix {
        if let Some(code) = &fix.fix_code {
            parts.push(format!("**Suggested Fix:**\n{}", markdown_code_block(code)));
        }
        if let Some(e) = fix.explanation.as_deref().filter(|e| !e.trim().is_empty()) {
            parts.push(format!("**Fix Explanation:**\n{e}"));
        }
    }
    if let Some(t) = &a.autotriage {
        if let Some(v) = &t.verdict {
            parts.push(format!("**Auto-triage Verdict:** {v}"));
        }
        if let Some(r) = &t.reason {
            parts.push(format!("**Auto-triage Reason:** {r}"));
        }
    }
    if let Some(c) = &a.component {
        if let Some(tag) = &c.tag {
            parts.push(format!("**Component:** {tag}"));
        }
        if let Some(r) = &c.risk {
            parts.push(format!("**Risk Level:** {r}"));
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

pub(crate) fn finding(ctx: &Context, p: ProFinding) -> NewFinding {
    let title = title_from_candidates([p.rule_name.as_deref()], "No title");
    // DefectDojo reads an absent severity as INFO, which Semgrep ranks Low.
    let severity = semgrep_severity(p.severity.as_deref().unwrap_or("INFO"));
    let mut f = NewFinding::new(ctx.test, title, severity);
    f.description = description(&p);
    f.mitigation = mitigation(p.assistant.as_ref());

    let rule = p.rule.as_ref();
    f.cwes = rule
        .map(|r| r.cwe_names.iter().flat_map(|c| cwes_in(c)).collect())
        .unwrap_or_default();
    f.cwe = f.cwes.first().copied();

    let mut references = Vec::new();
    if let Some(url) = &p.line_of_code_url {
        references.push(format!("Line of Code: {url}"));
    }
    if let Some(r) = rule {
        references.extend(r.owasp_names.iter().cloned());
        references.extend(r.cwe_names.iter().cloned());
    }
    if let Some(t) = &p.external_ticket {
        let shown: Vec<&str> = [t.external_slug.as_deref(), t.url.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        references.push(format!("External Ticket: {}", shown.join(" ")));
    }
    f.references = (!references.is_empty()).then(|| references.join("\n"));

    let mut impact = rule
        .map(|r| r.vulnerability_classes.clone())
        .unwrap_or_default();
    if let Some(c) = &p.confidence {
        impact.push(format!("Confidence: {}", capitalized(c)));
    }
    if let Some(repo) = &p.repository {
        impact.push(format!(
            "Repository: {} ({})",
            repo.name.as_deref().unwrap_or(""),
            repo.url.as_deref().unwrap_or("")
        ));
    }
    f.impact = (!impact.is_empty()).then(|| impact.join("\n"));

    f.status = pro_status(
        p.status.as_deref(),
        p.triage_state.as_deref(),
        p.triage_reason.as_deref(),
    );
    f.verified = p
        .triage_state
        .as_deref()
        .is_some_and(|t| !t.trim().eq_ignore_ascii_case("untriaged"));
    f.scanner_confidence = p.confidence.clone();
    f.date = p.created_at.as_deref().and_then(day_of);
    f.file_path = p.location.file_path;
    f.line = p
        .location
        .line
        .and_then(|l| i32::try_from(l).ok())
        .filter(|l| *l >= 1);
    f.static_finding = true;
    f.vuln_id_from_tool = p.rule_name;
    f.unique_id_from_tool = p
        .match_based_id
        .map(|m| m.0)
        .filter(|m| !m.trim().is_empty());
    // DefectDojo also copies the assistant's component tag ("user data") into
    // component_name; that field names a software package, so the tag stays in the
    // mitigation text only.
    f
}

fn dedupe_key(f: &NewFinding) -> String {
    match &f.unique_id_from_tool {
        Some(id) => format!("id\u{0}{id}"),
        None => format!(
            "at\u{0}{}\u{0}{}\u{0}{}",
            f.title.as_str(),
            f.file_path.as_deref().unwrap_or(""),
            f.line.unwrap_or(0)
        ),
    }
}

/// The export's top level: its `findings`, folded by identity as they are read.
struct Export<'a> {
    ctx: &'a Context,
    found: FindingsByKey,
}

impl TopLevelArrays for Export<'_> {
    const EXPECTING: &'static str =
        "a Semgrep Pro findings export: an object with a `findings` array";
    const MISSING: &'static str = "expected a `findings` array";
    const KEYS: &'static [&'static str] = &["findings"];

    fn read_value<'de, A: MapAccess<'de>>(
        &mut self,
        walk: &JsonWalk,
        _key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let (ctx, found) = (self.ctx, &mut self.found);
        map.next_value_seed(EachElement::new(walk, "findings", |p, _| {
            let f = fit_to_domain(finding(ctx, p));
            found.add(dedupe_key(&f), f, count_occurrence);
            Ok(())
        }))
    }
}

impl Parser for SemgrepPro {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let mut export = Export {
            ctx,
            found: FindingsByKey::default(),
        };
        walk_top_level(NAME, input, ctx.size_hint, &mut export)?;
        send_all(export.found.into_findings(), sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triage_decides_the_status() {
        assert_eq!(
            pro_status(Some("open"), Some("untriaged"), None),
            Status::Active
        );
        assert_eq!(pro_status(Some("fixed"), None, None), Status::Closed);
        assert_eq!(pro_status(Some("REMOVED"), None, None), Status::Closed);
        assert_eq!(
            pro_status(Some("open"), Some("ignored"), Some("false_positive")),
            Status::FalsePositive
        );
        assert_eq!(
            pro_status(Some("ignored"), None, Some("acceptable_risk")),
            Status::RiskAccepted
        );
    }
}
