//! `Burp GraphQL API`: issues of a Burp Suite DAST (Enterprise) scan as fetched from its
//! GraphQL API, saved as `{"Issues": [...]}`. Issues of one type (same `issue_type.name`) fold
//! into one finding with every URL as an endpoint, as in DefectDojo.

use super::burp_common::burp_confidence;
use super::common::endpoint::{endpoint_from_url, push_endpoint};
use super::common::finding::send_all;
use super::common::html::{self, html_to_markdown};
use super::common::ids::cwes_in;
use super::common::json::{json_text, read_json_document};
use super::common::title::{Overflow, one_line_title};
use crate::{Context, Location, ParseError, Parser, Sink};
use domain::{NewFinding, RequestResponse, Severity};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::io::BufRead;

pub(crate) const SCAN_TYPE: &str = "Burp GraphQL API";

pub struct BurpGraphqlParser;

#[derive(Deserialize)]
struct Export {
    #[serde(rename = "Issues", default)]
    issues: Option<Vec<Issue>>,
}

#[derive(Deserialize)]
pub(crate) struct Issue {
    #[serde(default)]
    issue_type: Option<IssueType>,
    #[serde(default)]
    description_html: Option<String>,
    #[serde(default)]
    remediation_html: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    confidence: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    evidence: Option<Vec<Evidence>>,
}

#[derive(Deserialize)]
struct IssueType {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    type_index: Option<Value>,
    #[serde(default)]
    description_html: Option<String>,
    #[serde(default)]
    remediation_html: Option<String>,
    #[serde(default)]
    vulnerability_classifications_html: Option<String>,
    #[serde(default)]
    references_html: Option<String>,
}

#[derive(Deserialize)]
struct Evidence {
    #[serde(default)]
    request_index: Option<i64>,
    #[serde(default)]
    request_segments: Option<Vec<Segment>>,
    #[serde(default)]
    response_index: Option<i64>,
    #[serde(default)]
    response_segments: Option<Vec<Segment>>,
}

#[derive(Deserialize)]
struct Segment {
    #[serde(default)]
    data_html: Option<String>,
    #[serde(default)]
    highlight_html: Option<String>,
}

impl Parser for BurpGraphqlParser {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let export: Export = read_json_document(SCAN_TYPE, input)?;
        let Some(issues) = export.issues else {
            return Err(ParseError::new(
                SCAN_TYPE,
                Some(Location::default().with_path("Issues")),
                "expected an `Issues` array at the top level (Burp Suite DAST GraphQL issues)",
            ));
        };
        let mut findings: Vec<NewFinding> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (i, issue) in issues.into_iter().enumerate() {
            let name = issue
                .issue_type
                .as_ref()
                .and_then(|t| t.name.as_deref())
                .unwrap_or("");
            let Some(title) = one_line_title(name, Overflow::Cut) else {
                return Err(ParseError::new(
                    SCAN_TYPE,
                    Some(Location::default().with_path(format!("Issues[{i}].issue_type.name"))),
                    "expected the issue type's name (a non-empty string)",
                ));
            };
            match by_name
                .get(title.as_str())
                .and_then(|at| findings.get_mut(*at))
            {
                Some(f) => fold(f, issue),
                None => {
                    by_name.insert(title.as_str().to_owned(), findings.len());
                    findings.push(first(issue, title, ctx));
                }
            }
        }
        send_all(findings, sink)
    }
}

pub(crate) fn first(issue: Issue, title: domain::Title, ctx: &Context) -> NewFinding {
    let severity = match issue
        .severity
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("critical") => Severity::Critical,
        Some("high") => Severity::High,
        Some("medium") => Severity::Medium,
        Some("low") => Severity::Low,
        _ => Severity::Info,
    };
    let mut f = NewFinding::new(ctx.test, title, severity);
    let kind = issue.issue_type.as_ref();
    let type_description = kind
        .and_then(|t| t.description_html.as_deref())
        .map(html_to_markdown);
    let type_remediation = kind
        .and_then(|t| t.remediation_html.as_deref())
        .map(html_to_markdown);

    // The issue's own text is the description and the type's background its impact; without
    // its own text, the background is the description.
    match issue.description_html.as_deref().map(html_to_markdown) {
        Some(detail) => {
            f.description = format!("**Issue Detail**\n{detail}\n\n");
            f.impact = type_description.map(|d| format!("**Issue Background**\n{d}"));
        }
        None => {
            f.description = type_description
                .map(|d| format!("**Issue Background**\n{d}\n\n"))
                .unwrap_or_default();
        }
    }
    let mut mitigation = String::new();
    if let Some(detail) = issue.remediation_html.as_deref().map(html_to_markdown) {
        mitigation.push_str(&format!("**Remediation Detail**\n{detail}\n\n"));
    }
    if let Some(background) = type_remediation {
        mitigation.push_str(&format!("**Remediation Background**\n{background}"));
    }
    f.mitigation = Some(mitigation);

    let mut references = String::new();
    if let Some(refs) = kind.and_then(|t| t.references_html.as_deref()) {
        references.push_str(&format!("**References**\n{}\n\n", html_to_markdown(refs)));
    }
    if let Some(classes) = kind.and_then(|t| t.vulnerability_classifications_html.as_deref()) {
        references.push_str(&format!(
            "**CWE Information**\n{}",
            html_to_markdown(classes)
        ));
        f.cwes = cwes_in(classes);
        f.cwe = f.cwes.first().copied();
    }
    f.references = Some(references);
    f.vuln_id_from_tool = kind.and_then(|t| t.type_index.as_ref()).and_then(json_text);
    f.scanner_confidence = issue.confidence.as_deref().and_then(burp_confidence);
    f.dynamic_finding = true;
    f.occurrences = Some(0);
    fold(&mut f, issue);
    f
}

/// Adds one issue's URL, evidence and (new) detail text to its type's finding.
fn fold(f: &mut NewFinding, issue: Issue) {
    if f.occurrences.unwrap_or(0) > 0
        && let Some(detail) = issue.description_html.as_deref().map(html_to_markdown)
        && !detail.is_empty()
        && !f.description.contains(&detail)
    {
        f.description.push_str(&detail);
        f.description.push_str("\n\n");
    }
    let url = format!(
        "{}{}",
        issue.origin.as_deref().unwrap_or("").trim(),
        issue.path.as_deref().unwrap_or("").trim()
    );
    push_endpoint(&mut f.endpoints, endpoint_from_url(&url));
    f.request_response
        .extend(pairs(issue.evidence.unwrap_or_default()));
    f.occurrences = Some(f.occurrences.unwrap_or(0).saturating_add(1));
}

/// Pairs each request with the response that follows it when their indexes match.
fn pairs(evidence: Vec<Evidence>) -> Vec<RequestResponse> {
    let mut out = Vec::new();
    let mut items = evidence.into_iter().peekable();
    while let Some(item) = items.next() {
        let request = segments_text(item.request_segments.as_deref());
        let matching_response = items.peek().is_some_and(|next| {
            next.response_segments.is_some()
                && next.response_index.is_some()
                && next.response_index == item.request_index
        });
        let response = if matching_response {
            items
                .next()
                .map(|next| segments_text(next.response_segments.as_deref()))
                .unwrap_or_default()
        } else {
            String::new()
        };
        if !request.is_empty() || !response.is_empty() {
            out.push(RequestResponse { request, response });
        }
    }
    out
}

/// The text of an HTTP message given as HTML segments (line breaks kept, entities decoded).
fn segments_text(segments: Option<&[Segment]>) -> String {
    let mut out = String::new();
    for s in segments.unwrap_or(&[]) {
        if let Some(html) = s.data_html.as_deref().or(s.highlight_html.as_deref()) {
            out.push_str(&html::parse(html).raw_text());
        }
    }
    out
}
