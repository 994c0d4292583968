//! `Burp Dastardly Scan`: the JUnit-style XML that PortSwigger's Dastardly CI scanner writes.
//! Each `<failure>` is one issue at one URL; its text holds the sections (detail,
//! background, remediation, evidence, references, classifications) as plain text, which are
//! split into the matching finding fields. Findings go to the sink as each `<failure>` closes.

use super::burp_common::burp_confidence;
use super::common::endpoint::{endpoint_from_url, push_endpoint};
use super::common::ids::{cve_ids_in, cwes_in, ghsa_ids_in};
use super::common::title::{Overflow, one_line_title};
use super::common::xml::{Root, push_text, read_document, xml_attr};
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, RequestResponse, Severity};
use quick_xml::events::Event;
use std::io::BufRead;

pub(crate) const SCAN_TYPE: &str = "Burp Dastardly Scan";

const FIELD_CAP: usize = 4 << 20;

const ROOT: Root = Root {
    names: &["testsuites", "testsuite"],
    shown: "a <testsuites>",
    document: "Dastardly's JUnit XML",
};

pub struct BurpDastardlyParser;

impl Parser for BurpDastardlyParser {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let mut suite = String::new();
        let mut case = String::new();
        let mut failure: Option<(String, String)> = None;
        let mut text = String::new();
        read_document(SCAN_TYPE, input, &ROOT, |event, _, _| {
            match event {
                Event::Start(start) => match start.name().as_ref() {
                    "testsuite" => suite = xml_attr(start, "name").unwrap_or_default(),
                    "testcase" => case = xml_attr(start, "name").unwrap_or_default(),
                    "failure" => {
                        text.clear();
                        failure = Some((
                            xml_attr(start, "message").unwrap_or_default(),
                            xml_attr(start, "type").unwrap_or_default(),
                        ));
                    }
                    _ => {}
                },
                Event::End(end) => {
                    if end.name().as_ref() == "failure"
                        && let Some((message, kind)) = failure.take()
                        && let Some(f) = finding(&suite, &case, &message, &kind, &text, ctx)
                    {
                        sink(f)?;
                    }
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if failure.is_some() => {
                    push_text(&mut text, event, FIELD_CAP);
                }
                _ => {}
            }
            Ok(())
        })
    }
}

const SECTIONS: [&str; 9] = [
    "Issue Detail",
    "Issue Background",
    "Issue Remediation",
    "Remediation Detail",
    "Remediation Background",
    "Evidence",
    "References",
    "Vulnerability Classifications",
    "Repo",
];

/// The text under each section heading (a line that is exactly a heading), and the lines
/// before the first heading (Severity / Confidence / Host / Path).
fn sections(text: &str) -> (String, Vec<(&'static str, String)>) {
    let mut preamble = String::new();
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for line in text.lines() {
        if let Some(heading) = SECTIONS.iter().find(|s| line.trim() == **s) {
            out.push((heading, String::new()));
            continue;
        }
        match out.last_mut() {
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {
                preamble.push_str(line);
                preamble.push('\n');
            }
        }
    }
    (preamble, out)
}

fn section(all: &[(&'static str, String)], names: &[&str]) -> Option<String> {
    let parts: Vec<&str> = all
        .iter()
        .filter(|(h, _)| names.contains(h))
        .map(|(_, body)| body.trim())
        .filter(|b| !b.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Request/response pairs from the Evidence section (`Request:` … `Response:` …).
fn evidence_pairs(evidence: &str) -> Vec<RequestResponse> {
    let mut out: Vec<RequestResponse> = Vec::new();
    let mut current: Option<&mut String> = None;
    for line in evidence.lines() {
        match line.trim() {
            "Request:" => {
                out.push(RequestResponse::default());
                current = out.last_mut().map(|p| &mut p.request);
            }
            "Response:" => {
                if out.last().is_none_or(|p| !p.response.is_empty()) {
                    out.push(RequestResponse::default());
                }
                current = out.last_mut().map(|p| &mut p.response);
            }
            _ => {
                if let Some(body) = current.as_deref_mut() {
                    body.push_str(line);
                    body.push_str("\r\n");
                }
            }
        }
    }
    for pair in &mut out {
        pair.request = pair.request.trim_end().to_owned();
        pair.response = pair.response.trim_end().to_owned();
    }
    out
}

fn finding(
    suite: &str,
    case: &str,
    message: &str,
    kind: &str,
    text: &str,
    ctx: &Context,
) -> Option<NewFinding> {
    // The test case is the name; the message adds " found at <url>".
    let (message_name, message_url) = match message.rsplit_once(" found at ") {
        Some((name, url)) => (name, Some(url)),
        None => (message, None),
    };
    let title = one_line_title(case, Overflow::Cut)
        .or_else(|| one_line_title(message_name, Overflow::Cut))?;
    let severity = Severity::parse(kind).unwrap_or(Severity::Info);
    let mut f = NewFinding::new(ctx.test, title, severity);
    let (preamble, parts) = sections(text);
    f.description = section(&parts, &["Issue Detail"]).unwrap_or_else(|| text.trim().to_owned());
    f.impact = section(&parts, &["Issue Background"]);
    f.mitigation = section(
        &parts,
        &[
            "Issue Remediation",
            "Remediation Detail",
            "Remediation Background",
        ],
    );
    f.references = section(&parts, &["References"]);
    let classifications = section(&parts, &["Vulnerability Classifications"]).unwrap_or_default();
    f.cwes = cwes_in(&classifications);
    f.cwe = f.cwes.first().copied();
    f.vulnerability_ids = cve_ids_in(&f.description);
    f.vulnerability_ids.extend(ghsa_ids_in(&f.description));
    f.request_response = section(&parts, &["Evidence"])
        .map(|e| evidence_pairs(&e))
        .unwrap_or_default();
    f.scanner_confidence = preamble
        .lines()
        .find_map(|l| l.trim().strip_prefix("Confidence:"))
        .and_then(burp_confidence);
    let endpoint = message_url
        .and_then(endpoint_from_url)
        .or_else(|| endpoint_from_url(suite));
    push_endpoint(&mut f.endpoints, endpoint);
    f.dynamic_finding = true;
    Some(f)
}
