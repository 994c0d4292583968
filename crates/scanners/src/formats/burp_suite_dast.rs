//! `Burp Suite DAST Scan`: the HTML "Scan Remediation" report of Burp Suite DAST (formerly
//! Burp Suite Enterprise Edition; DefectDojo still accepts its old name, `Burp Enterprise
//! Scan`). Both the 2022 layout and the 2024 one (request/response in `evidence-container`
//! blocks, one `issue-container` per instance) are read.
//!
//! The "Issues found on <site>" tables give each issue type's URLs and severity; the "More
//! details" containers give its texts, classifications and evidence. One finding per issue
//! type, as DefectDojo makes. HTML is read with the forgiving reader in `html_text`: the
//! report is not well-formed XML.

use super::burp_common::burp_confidence;
use super::common::{cwe_numbers_in, endpoint_from_url, finding_title, push_endpoint};
use super::html_text::{Html, NodeId};
use crate::{Context, Location, ParseError, Parser, Sink};
use domain::{Endpoint, NewFinding, RequestResponse, Severity};
use std::collections::HashMap;
use std::io::BufRead;

pub(crate) const SCAN_TYPE: &str = "Burp Suite DAST Scan";

pub struct BurpSuiteDastParser;

#[derive(Default)]
struct Entry {
    title: String,
    severity: Option<Severity>,
    confidence: Option<String>,
    endpoints: Vec<Endpoint>,
    instances: i32,
    description: String,
    impact: String,
    mitigation: String,
    references: String,
    cwes: Vec<i32>,
    requests: Vec<String>,
    responses: Vec<String>,
}

#[derive(Default)]
struct Entries {
    list: Vec<Entry>,
    by_title: HashMap<String, usize>,
}

impl Entries {
    fn get(&mut self, title: &str) -> Option<&mut Entry> {
        let at = match self.by_title.get(title) {
            Some(at) => *at,
            None => {
                self.list.push(Entry {
                    title: title.to_owned(),
                    ..Entry::default()
                });
                self.by_title.insert(title.to_owned(), self.list.len() - 1);
                self.list.len() - 1
            }
        };
        self.list.get_mut(at)
    }
}

impl Parser for BurpSuiteDastParser {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(|e| {
            ParseError::new(SCAN_TYPE, None, format!("could not read the report: {e}"))
        })?;
        let source = String::from_utf8_lossy(&bytes);
        let html = Html::parse(&source);
        let all = html.descendants(html.root());
        let looks_like_burp = all
            .iter()
            .any(|n| html.has_class(*n, "issue-table") || html.has_class(*n, "issue-container"))
            || source.contains("Burp Suite");
        if !looks_like_burp {
            return Err(ParseError::new(
                SCAN_TYPE,
                Some(Location::byte(0)),
                "expected a Burp Suite DAST HTML report (\"Issues found on …\" tables or issue details)",
            ));
        }

        let mut entries = Entries::default();
        for &section in all
            .iter()
            .filter(|n| html.name(**n) == "div" && html.has_class(**n, "section"))
        {
            read_issue_table(&html, section, &mut entries);
        }
        for &container in all
            .iter()
            .filter(|n| html.has_class(**n, "issue-container"))
        {
            read_issue_details(&html, container, &mut entries);
        }
        for entry in entries.list {
            if let Some(f) = finding(entry, ctx) {
                sink(f)?;
            }
        }
        Ok(())
    }
}

fn first_descendant(html: &Html, id: NodeId, pred: impl Fn(NodeId) -> bool) -> Option<NodeId> {
    html.descendants(id).into_iter().find(|n| pred(*n))
}

/// "Issues found on https://site" + its table: issue-type rows ("Title [3]") followed by one
/// row per URL (path, severity, confidence).
fn read_issue_table(html: &Html, section: NodeId, entries: &mut Entries) {
    let Some(heading) = first_descendant(html, section, |n| html.name(n) == "h1") else {
        return;
    };
    let heading = html.text(heading);
    let Some(site) = heading.strip_prefix("Issues found on ") else {
        return;
    };
    let site = site.trim().trim_end_matches('/');
    let Some(table) = first_descendant(html, section, |n| {
        html.name(n) == "table" && html.has_class(n, "issue-table")
    }) else {
        return;
    };
    let mut title: Option<String> = None;
    for row in html
        .descendants(table)
        .into_iter()
        .filter(|n| html.name(*n) == "tr")
    {
        let cells: Vec<NodeId> = html
            .elements(row)
            .filter(|c| html.name(*c) == "td")
            .collect();
        if html.has_class(row, "issue-type-row") {
            let text = cells.first().map(|c| html.text(*c)).unwrap_or_default();
            // "Cookie scoped to parent domain [9]": the count is not part of the title.
            let name = match text.rsplit_once(' ') {
                Some((name, count)) if count.starts_with('[') && count.ends_with(']') => {
                    name.to_owned()
                }
                _ => text,
            };
            title = (!name.is_empty()).then_some(name);
            continue;
        }
        let (Some(t), Some(path_cell)) = (&title, cells.first()) else {
            continue;
        };
        let Some(entry) = entries.get(t) else {
            continue;
        };
        let path = html.text(*path_cell);
        let url = format!("{site}/{}", path.trim_start_matches('/'));
        push_endpoint(&mut entry.endpoints, endpoint_from_url(&url));
        entry.instances = entry.instances.saturating_add(1);
        if let Some(severity) = cells
            .get(1)
            .map(|c| html.text(*c))
            .and_then(|s| Severity::parse(&s).ok())
        {
            // Instances of one type can differ; the finding takes the worst.
            entry.severity = Some(entry.severity.map_or(severity, |s| s.max(severity)));
        }
        if entry.confidence.is_none() {
            entry.confidence = cells
                .get(2)
                .map(|c| html.text(*c))
                .as_deref()
                .and_then(burp_confidence);
        }
    }
}

/// An issue container: `<h2>` title, then `<h3>` headings each followed by a `<div>`;
/// newer reports wrap the request and response pairs in `div.evidence-container`.
fn read_issue_details(html: &Html, container: NodeId, entries: &mut Entries) {
    let Some(title) = html
        .elements(container)
        .find(|c| html.name(*c) == "h2")
        .map(|h| html.text(h))
        .filter(|t| !t.is_empty())
    else {
        return;
    };
    let Some(entry) = entries.get(&title) else {
        return;
    };
    read_headed_blocks(html, container, entry);
    for evidence in html
        .elements(container)
        .filter(|c| html.has_class(*c, "evidence-container"))
    {
        read_headed_blocks(html, evidence, entry);
    }
}

fn read_headed_blocks(html: &Html, parent: NodeId, entry: &mut Entry) {
    let children: Vec<NodeId> = html.elements(parent).collect();
    for (i, &child) in children.iter().enumerate() {
        if html.name(child) != "h3" {
            continue;
        }
        let Some(&block) = children.get(i + 1).filter(|b| html.name(**b) == "div") else {
            continue;
        };
        let header = html.text(child).replace(':', "");
        let header = header.trim();
        let target = match header.to_ascii_lowercase().as_str() {
            "issue detail" | "issue description" => &mut entry.description,
            "issue background" => &mut entry.impact,
            // DefectDojo files "Issue remediation" under impact; it is remediation advice.
            "issue remediation" | "remediation detail" | "remediation background" => {
                &mut entry.mitigation
            }
            "references" | "vulnerability classifications" => {
                let (list, names) = link_list(html, block);
                if header.eq_ignore_ascii_case("vulnerability classifications") {
                    for name in &names {
                        for n in cwe_numbers_in(name.split(':').next().unwrap_or("")) {
                            if !entry.cwes.contains(&n) {
                                entry.cwes.push(n);
                            }
                        }
                    }
                }
                append_once(&mut entry.references, header, &list);
                continue;
            }
            "request" => {
                entry.requests.push(html.raw_text(block));
                continue;
            }
            "response" => {
                entry.responses.push(html.raw_text(block));
                continue;
            }
            _ => continue,
        };
        let content = html.markdown(block);
        append_once(target, header, &content);
    }
}

/// Adds "**Header**:\ncontent" unless the field already has that header: instances of one
/// issue type repeat the same texts.
fn append_once(field: &mut String, header: &str, content: &str) {
    let marker = format!("**{header}**:");
    if field.contains(&marker) {
        return;
    }
    field.push_str(&format!("{marker}\n{content}\n\n---\n"));
}

/// `- [text](href)` lines for the links of a list, and the link texts.
fn link_list(html: &Html, block: NodeId) -> (String, Vec<String>) {
    let mut list = String::new();
    let mut names = Vec::new();
    for a in html
        .descendants(block)
        .into_iter()
        .filter(|n| html.name(*n) == "a")
    {
        let text = html.text(a);
        let href = html.attr(a, "href").unwrap_or("").trim();
        if href.is_empty() {
            list.push_str(&format!("- {text}\n"));
        } else {
            list.push_str(&format!("- [{text}]({href})\n"));
        }
        names.push(text);
    }
    (list, names)
}

fn finding(entry: Entry, ctx: &Context) -> Option<NewFinding> {
    let title = finding_title(&entry.title)?;
    let mut f = NewFinding::new(ctx.test, title, entry.severity.unwrap_or(Severity::Info));
    f.description = entry.description;
    f.impact = Some(entry.impact);
    f.mitigation = Some(entry.mitigation);
    f.references = Some(entry.references);
    f.cwe = entry.cwes.first().copied();
    f.cwes = entry.cwes;
    f.endpoints = entry.endpoints;
    f.scanner_confidence = entry.confidence;
    let pairs = entry.requests.len().max(entry.responses.len());
    let mut requests = entry.requests.into_iter();
    let mut responses = entry.responses.into_iter();
    f.request_response = (0..pairs)
        .map(|_| RequestResponse {
            request: requests.next().unwrap_or_default(),
            response: responses.next().unwrap_or_default(),
        })
        .collect();
    f.dynamic_finding = true;
    f.occurrences = Some(entry.instances.max(1));
    Some(f)
}
