//! `Burp Dastardly Scan`: the JUnit-style XML that PortSwigger's Dastardly CI scanner writes.
//! Each `<failure>` is one issue at one URL; its text holds the sections (detail,
//! background, remediation, evidence, references, classifications) as plain text, which are
//! split into the matching finding fields. Findings go to the sink as each `<failure>` closes.

use super::burp_common::burp_confidence;
use super::common::{
    cve_ids_in, cwe_numbers_in, endpoint_from_url, finding_title, ghsa_ids_in, push_capped,
    push_endpoint, xml_attr, xml_entity_text, xml_reader, xml_syntax_error,
};
use crate::{Context, Location, ParseError, Parser, Sink};
use domain::{NewFinding, RequestResponse, Severity};
use quick_xml::events::Event;
use std::io::BufRead;

pub(crate) const SCAN_TYPE: &str = "Burp Dastardly Scan";

const FIELD_CAP: usize = 4 << 20;
const MAX_DEPTH: usize = 1024;

pub struct BurpDastardlyParser;

impl Parser for BurpDastardlyParser {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let mut reader = xml_reader(input);
        let mut buf = Vec::new();
        let mut depth = 0usize;
        let mut suite = String::new();
        let mut case = String::new();
        let mut failure: Option<(String, String)> = None;
        let mut text = String::new();
        let mut saw_root = false;
        loop {
            buf.clear();
            let event = reader
                .read_event_into(&mut buf)
                .map_err(|e| xml_syntax_error(SCAN_TYPE, reader.error_position(), &e))?;
            match event {
                Event::Start(start) => {
                    let name = start.name();
                    let name = name.as_ref();
                    if depth == 0 {
                        if name != "testsuites" && name != "testsuite" {
                            return Err(at(
                                &reader,
                                format!(
                                    "expected a <testsuites> root element (Dastardly's JUnit XML), found <{name}>"
                                ),
                            ));
                        }
                        saw_root = true;
                    }
                    if depth >= MAX_DEPTH {
                        return Err(at(
                            &reader,
                            format!("expected at most {MAX_DEPTH} nested elements"),
                        ));
                    }
                    depth += 1;
                    match name {
                        "testsuite" => suite = xml_attr(&start, "name").unwrap_or_default(),
                        "testcase" => case = xml_attr(&start, "name").unwrap_or_default(),
                        "failure" => {
                            text.clear();
                            failure = Some((
                                xml_attr(&start, "message").unwrap_or_default(),
                                xml_attr(&start, "type").unwrap_or_default(),
                            ));
                        }
                        _ => {}
                    }
                }
                Event::End(end) => {
                    depth = depth.saturating_sub(1);
                    if end.name().as_ref() == "failure"
                        && let Some((message, kind)) = failure.take()
                        && let Some(f) = finding(&suite, &case, &message, &kind, &text, ctx)
                    {
                        sink(f)?;
                    }
                }
                Event::Text(t) if failure.is_some() => {
                    push_capped(&mut text, &t.xml10_content(), FIELD_CAP);
                }
                Event::CData(t) if failure.is_some() => {
                    push_capped(&mut text, &t.xml10_content(), FIELD_CAP);
                }
                Event::GeneralRef(r) if failure.is_some() && text.len() < FIELD_CAP => {
                    xml_entity_text(&r, &mut text)
                }
                Event::Eof => {
                    if !saw_root {
                        return Err(at(
                            &reader,
                            "expected a <testsuites> root element, found the end of the file"
                                .into(),
                        ));
                    }
                    if depth > 0 {
                        return Err(at(
                            &reader,
                            "expected the closing tags of the open elements, found the end of the file (truncated report?)"
                                .into(),
                        ));
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
    }
}

fn at<R>(reader: &quick_xml::Reader<R>, message: String) -> ParseError {
    ParseError::new(
        SCAN_TYPE,
        Some(Location::byte(reader.buffer_position())),
        message,
    )
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
    let title = finding_title(case).or_else(|| finding_title(message_name))?;
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
    f.cwes = cwe_numbers_in(&classifications);
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
