//! `Burp Scan`: Burp Suite's "Report issues" XML export (`<issues><issue>…`), with request and
//! response either base64 (the recommended export option) or plain.
//!
//! Read as a stream of events; each `<issue>` is kept only while it is read. Like DefectDojo,
//! issues of the same type (`<type>`) fold into one finding that lists every URL as an
//! endpoint and keeps every request/response pair; the folded findings are sent at the end.

use super::burp_common::{bracketed, burp_confidence, http_message_from_base64};
use super::common::endpoint::{endpoint_from_url, push_endpoint};
use super::common::finding::send_all;
use super::common::html::html_to_markdown;
use super::common::ids::cwes_in;
use super::common::title::{Overflow, one_line_title};
use super::common::xml::{Root, error_at, push_text, read_document, xml_attr};
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, RequestResponse, Severity, Status};
use quick_xml::events::Event;
use std::collections::HashMap;
use std::io::BufRead;

pub(crate) const SCAN_TYPE: &str = "Burp Scan";

/// Longest text kept from one element (a request or response can be megabytes).
const FIELD_CAP: usize = 4 << 20;

const ROOT: Root = Root {
    names: &["issues"],
    shown: "an <issues>",
    document: "a Burp Scanner XML export",
};

pub struct BurpParser;

#[derive(Default)]
struct Message {
    request: String,
    response: String,
}

#[derive(Default)]
struct Collaborator {
    interaction_type: String,
    origin_ip: String,
    time: String,
    lookup_type: String,
    lookup_host: String,
    messages: Vec<Message>,
}

#[derive(Default)]
struct Issue {
    serial_number: String,
    type_id: String,
    name: String,
    host: String,
    path: String,
    location: String,
    severity: String,
    confidence: String,
    background: String,
    remediation_background: String,
    references: String,
    classifications: String,
    detail: String,
    detail_items: Vec<String>,
    remediation_detail: String,
    messages: Vec<Message>,
    collaborator: Vec<String>,
}

impl Parser for BurpParser {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        // Element names below <issues>: ["issue", "requestresponse", "request"].
        let mut path: Vec<String> = Vec::new();
        let mut text = String::new();
        let mut base64 = false;
        let mut issue = Issue::default();
        let mut message = Message::default();
        let mut collab = Collaborator::default();
        let mut folded = Folded::default();

        read_document(SCAN_TYPE, input, &ROOT, |event, depth, reader| {
            match event {
                Event::Start(start) => {
                    if depth > 0 {
                        path.push(start.name().as_ref().to_owned());
                        match path_str(&path).as_slice() {
                            ["issue"] => issue = Issue::default(),
                            ["issue", "requestresponse"]
                            | ["issue", "collaboratorEvent", "requestresponse"] => {
                                message = Message::default();
                            }
                            ["issue", "collaboratorEvent"] => collab = Collaborator::default(),
                            [.., "request" | "response"] => {
                                base64 = xml_attr(start, "base64").is_some_and(|v| v == "true");
                            }
                            _ => {}
                        }
                    }
                    text.clear();
                }
                Event::End(_) => {
                    let value = std::mem::take(&mut text);
                    match path_str(&path).as_slice() {
                        ["issue"] => {
                            let done = std::mem::take(&mut issue);
                            folded
                                .add(done, ctx)
                                .map_err(|m| error_at(SCAN_TYPE, reader, m))?;
                        }
                        ["issue", "requestresponse"] => {
                            issue.messages.push(std::mem::take(&mut message))
                        }
                        ["issue", "collaboratorEvent", "requestresponse"] => {
                            collab.messages.push(std::mem::take(&mut message));
                        }
                        [.., "requestresponse", "request"] => {
                            message.request = decode(&value, base64)
                        }
                        [.., "requestresponse", "response"] => {
                            message.response = decode(&value, base64)
                        }
                        ["issue", "collaboratorEvent"] => {
                            let done = std::mem::take(&mut collab);
                            issue.collaborator.push(collaborator_text(&done));
                            issue.messages.extend(done.messages);
                        }
                        ["issue", "collaboratorEvent", field] => {
                            let slot = match *field {
                                "interactionType" => Some(&mut collab.interaction_type),
                                "originIp" => Some(&mut collab.origin_ip),
                                "time" => Some(&mut collab.time),
                                "lookupType" => Some(&mut collab.lookup_type),
                                "lookupHost" => Some(&mut collab.lookup_host),
                                _ => None,
                            };
                            if let Some(slot) = slot {
                                *slot = value.trim().to_owned();
                            }
                        }
                        ["issue", "issueDetailItems", "issueDetailItem"] => {
                            issue.detail_items.push(value.trim().to_owned());
                        }
                        ["issue", field] => issue.set(field, value),
                        _ => {}
                    }
                    path.pop();
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    push_text(&mut text, event, FIELD_CAP);
                }
                _ => {}
            }
            Ok(())
        })?;
        send_all(folded.findings, sink)
    }
}

fn path_str(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}

fn decode(value: &str, base64: bool) -> String {
    if base64 {
        // Undecodable base64 is kept as it came rather than lost.
        http_message_from_base64(value).unwrap_or_else(|| value.trim().to_owned())
    } else {
        value.to_owned()
    }
}

fn collaborator_text(c: &Collaborator) -> String {
    match c.interaction_type.as_str() {
        "DNS" => format!(
            "The Collaborator server received a DNS lookup of type {} for the domain name {} at {} originating from {}.",
            c.lookup_type, c.lookup_host, c.time, c.origin_ip
        ),
        "HTTP" => format!(
            "The Collaborator server received an HTTP request at {} originating from {}.",
            c.time, c.origin_ip
        ),
        other => format!(
            "The Collaborator server received a {other} interaction at {} originating from {}.",
            c.time, c.origin_ip
        ),
    }
}

impl Issue {
    fn set(&mut self, field: &str, value: String) {
        let slot = match field {
            "serialNumber" => &mut self.serial_number,
            "type" => &mut self.type_id,
            "name" => &mut self.name,
            "host" => &mut self.host,
            "path" => &mut self.path,
            "location" => &mut self.location,
            "severity" => &mut self.severity,
            "confidence" => &mut self.confidence,
            "issueBackground" => &mut self.background,
            "remediationBackground" => &mut self.remediation_background,
            "references" => &mut self.references,
            "vulnerabilityClassifications" => &mut self.classifications,
            "issueDetail" => &mut self.detail,
            "remediationDetail" => &mut self.remediation_detail,
            _ => return,
        };
        *slot = value;
    }
}

/// Burp's severities; "False positive" is an analyst's verdict, kept as the status.
fn severity_and_status(raw: &str) -> (Severity, Status) {
    match raw.trim().to_ascii_lowercase().as_str() {
        "high" => (Severity::High, Status::Active),
        "medium" => (Severity::Medium, Status::Active),
        "low" => (Severity::Low, Status::Active),
        "false positive" => (Severity::Info, Status::FalsePositive),
        _ => (Severity::Info, Status::Active),
    }
}

#[derive(Default)]
struct Folded {
    findings: Vec<NewFinding>,
    by_type: HashMap<String, usize>,
}

impl Folded {
    fn add(&mut self, issue: Issue, ctx: &Context) -> Result<(), String> {
        let title = if issue.name.trim().is_empty() && !issue.type_id.trim().is_empty() {
            one_line_title(
                &format!("Burp issue type {}", issue.type_id.trim()),
                Overflow::Cut,
            )
        } else {
            one_line_title(&issue.name, Overflow::Cut)
        };
        let Some(title) = title else {
            return Err("expected a <name> or <type> in <issue>".to_owned());
        };
        let (severity, status) = severity_and_status(&issue.severity);
        let url = format!("{}{}", issue.host.trim(), issue.path.trim());
        let mut description = format!("URL: {url}\n\n");
        if !issue.detail.trim().is_empty() {
            description.push_str(&html_to_markdown(&issue.detail));
            description.push('\n');
        }
        if !issue.detail_items.is_empty() {
            description.push('\n');
            for item in &issue.detail_items {
                description.push_str(&format!("- {}\n", html_to_markdown(item)));
            }
        }
        if !issue.collaborator.is_empty() {
            description.push('\n');
            description.push_str(&issue.collaborator.join(" "));
            description.push('\n');
        }
        let endpoint = endpoint_from_url(&url).or_else(|| endpoint_from_url(issue.host.trim()));
        let param = bracketed(&issue.location);
        let messages: Vec<RequestResponse> = issue
            .messages
            .into_iter()
            .map(|m| RequestResponse {
                request: m.request,
                response: m.response,
            })
            .collect();
        let key = if issue.type_id.trim().is_empty() {
            format!("name:{}", title.as_str())
        } else {
            issue.type_id.trim().to_owned()
        };

        if let Some(f) = self
            .by_type
            .get(&key)
            .and_then(|i| self.findings.get_mut(*i))
        {
            push_endpoint(&mut f.endpoints, endpoint);
            f.request_response.extend(messages);
            f.description.push_str("\n\n");
            f.description.push_str(&description);
            if let Some(p) = param {
                match &mut f.param {
                    Some(existing) if existing.split(", ").any(|e| e == p) => {}
                    Some(existing) => {
                        existing.push_str(", ");
                        existing.push_str(&p);
                    }
                    None => f.param = Some(p),
                }
            }
            f.occurrences = Some(f.occurrences.unwrap_or(1).saturating_add(1));
            return Ok(());
        }

        let mut f = NewFinding::new(ctx.test, title, severity);
        f.status = status;
        f.description = description;
        f.impact = Some(html_to_markdown(&issue.background));
        let mut mitigation = html_to_markdown(&issue.remediation_detail);
        let background = html_to_markdown(&issue.remediation_background);
        if !background.is_empty() {
            if !mitigation.is_empty() {
                mitigation.push_str("\n\n");
            }
            mitigation.push_str(&background);
        }
        f.mitigation = Some(mitigation);
        f.references = Some(html_to_markdown(&issue.references));
        f.cwes = cwes_in(&issue.classifications);
        f.cwe = f.cwes.first().copied();
        f.param = param;
        f.scanner_confidence = burp_confidence(&issue.confidence);
        f.unique_id_from_tool = Some(issue.serial_number.trim().to_owned());
        f.vuln_id_from_tool = Some(issue.type_id.trim().to_owned());
        push_endpoint(&mut f.endpoints, endpoint);
        f.request_response = messages;
        f.dynamic_finding = true;
        f.occurrences = Some(1);
        self.findings.push(f);
        self.by_type.insert(key, self.findings.len() - 1);
        Ok(())
    }
}
