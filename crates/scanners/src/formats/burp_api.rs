//! `Burp REST API`: the JSON that Burp's REST API returns for a scan
//! (`GET /v0.1/scan/{task_id}`): `issue_events[]` with `type: "issue_found"` and an `issue`.
//! One finding per issue, as DefectDojo does (no folding).

use super::burp_common::{burp_confidence, http_message_from_bytes};
use super::common::endpoint::{endpoint_from_url, push_endpoint};
use super::common::html::html_to_markdown;
use super::common::ids::cwes_in;
use super::common::json::{json_text, read_json_document};
use super::common::title::{Overflow, one_line_title};
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, RequestResponse, Severity, Status};
use serde::Deserialize;
use serde_json::Value;
use std::io::BufRead;

pub(crate) const SCAN_TYPE: &str = "Burp REST API";

pub struct BurpApiParser;

#[derive(Deserialize)]
struct Scan {
    #[serde(default)]
    issue_events: Option<Vec<IssueEvent>>,
}

#[derive(Deserialize)]
struct IssueEvent {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    issue: Option<Issue>,
}

#[derive(Deserialize)]
struct Issue {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    type_index: Option<Value>,
    #[serde(default)]
    serial_number: Option<Value>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    confidence: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    remediation: Option<String>,
    #[serde(default)]
    issue_background: Option<String>,
    #[serde(default)]
    remediation_background: Option<String>,
    #[serde(default)]
    references: Option<String>,
    #[serde(default)]
    vulnerability_classifications: Option<String>,
    #[serde(default)]
    evidence: Option<Vec<Evidence>>,
}

#[derive(Deserialize)]
struct Evidence {
    #[serde(default)]
    request_response: Option<Exchange>,
    #[serde(default)]
    request_responses: Option<Vec<Exchange>>,
}

#[derive(Deserialize)]
struct Exchange {
    #[serde(default)]
    request: Option<Vec<Segment>>,
    #[serde(default)]
    response: Option<Vec<Segment>>,
}

#[derive(Deserialize)]
struct Segment {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    length: Option<u64>,
}

impl Parser for BurpApiParser {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let scan: Scan = read_json_document(SCAN_TYPE, input)?;
        for event in scan.issue_events.unwrap_or_default() {
            if event.kind.as_deref() != Some("issue_found") {
                continue;
            }
            if let Some(f) = event.issue.and_then(|issue| finding(issue, ctx)) {
                sink(f)?;
            }
        }
        Ok(())
    }
}

/// `None` only if even the fallback title were rejected, which it is not.
fn finding(issue: Issue, ctx: &Context) -> Option<NewFinding> {
    let title = issue
        .name
        .as_deref()
        .and_then(|n| one_line_title(n, Overflow::Cut))
        .or_else(|| one_line_title("Burp issue", Overflow::Cut))?;
    let severity_raw = issue
        .severity
        .as_deref()
        .unwrap_or("info")
        .trim()
        .to_ascii_lowercase();
    let severity = match severity_raw.as_str() {
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        _ => Severity::Info,
    };
    let mut f = NewFinding::new(ctx.test, title, severity);
    // The REST API reports an analyst's "false positive" verdict as the severity.
    if severity_raw == "false_positive" {
        f.status = Status::FalsePositive;
    }
    f.description = issue
        .description
        .as_deref()
        .map(html_to_markdown)
        .unwrap_or_default();
    f.impact = issue.issue_background.as_deref().map(html_to_markdown);
    let mitigation: Vec<String> = [&issue.remediation, &issue.remediation_background]
        .into_iter()
        .flatten()
        .map(|h| html_to_markdown(h))
        .filter(|t| !t.is_empty())
        .collect();
    f.mitigation = (!mitigation.is_empty()).then(|| mitigation.join("\n\n"));
    f.references = issue.references.as_deref().map(html_to_markdown);
    f.cwes = issue
        .vulnerability_classifications
        .as_deref()
        .map(cwes_in)
        .unwrap_or_default();
    f.cwe = f.cwes.first().copied();
    f.scanner_confidence = issue.confidence.as_deref().and_then(burp_confidence);
    f.unique_id_from_tool = issue.serial_number.as_ref().and_then(json_text);
    f.vuln_id_from_tool = issue.type_index.as_ref().and_then(json_text);
    if let (Some(origin), Some(path)) = (&issue.origin, &issue.path) {
        push_endpoint(
            &mut f.endpoints,
            endpoint_from_url(&format!("{origin}{path}")),
        );
    }
    for evidence in issue.evidence.unwrap_or_default() {
        let exchanges = evidence
            .request_response
            .into_iter()
            .chain(evidence.request_responses.unwrap_or_default());
        for exchange in exchanges {
            let pair = RequestResponse {
                request: message(exchange.request.as_deref()),
                response: message(exchange.response.as_deref()),
            };
            if !pair.request.is_empty() || !pair.response.is_empty() {
                f.request_response.push(pair);
            }
        }
    }
    f.dynamic_finding = true;
    Some(f)
}

/// Reassembles an HTTP message from Burp's segments: data and highlighted data (base64) in
/// order, and a note where Burp cut content out.
fn message(segments: Option<&[Segment]>) -> String {
    use base64::Engine;
    let mut bytes = Vec::new();
    for segment in segments.unwrap_or(&[]) {
        match segment.kind.as_deref() {
            Some("DataSegment" | "HighlightSegment") => {
                if let Some(data) = &segment.data
                    && let Ok(decoded) =
                        base64::engine::general_purpose::STANDARD.decode(data.trim())
                {
                    bytes.extend_from_slice(&decoded);
                }
            }
            Some("SnipSegment") => {
                let note = format!(
                    "\n<…{} bytes snipped by Burp…>\n",
                    segment.length.unwrap_or(0)
                );
                bytes.extend_from_slice(note.as_bytes());
            }
            // Unknown segment kinds carry nothing we can show.
            _ => {}
        }
    }
    http_message_from_bytes(bytes)
}
