//! `Burp Suite DAST Scan`: the HTML "Scan Remediation" report of Burp Suite DAST (formerly
//! Burp Suite Enterprise Edition; DefectDojo still accepts its old name, `Burp Enterprise
//! Scan`). Both the 2022 layout and the 2024 one (request/response in `evidence-container`
//! blocks, one `issue-container` per instance) are read.
//!
//! The "Issues found on <site>" tables give each issue type's URLs and severity; the "More
//! details" containers give its texts, classifications and evidence. One finding per issue
//! type, as DefectDojo makes. HTML is read with the forgiving reader in `common::html`: the
//! report is not well-formed XML.

use super::burp_common::burp_confidence;
use super::common::endpoint::{endpoint_from_url, push_endpoint};
use super::common::html::{self, Element};
use super::common::ids::cwes_in;
use super::common::io_error;
use super::common::title::{Overflow, one_line_title};
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
        input
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(SCAN_TYPE, &e))?;
        let source = String::from_utf8_lossy(&bytes);
        let document = html::parse(&source);
        let all = document.descendants();
        let looks_like_burp = all
            .iter()
            .any(|e| e.has_class("issue-table") || e.has_class("issue-container"))
            || source.contains("Burp Suite");
        if !looks_like_burp {
            return Err(ParseError::new(
                SCAN_TYPE,
                Some(Location::byte(0)),
                "expected a Burp Suite DAST HTML report (\"Issues found on …\" tables or issue details)",
            ));
        }

        let mut entries = Entries::default();
        for section in all
            .iter()
            .filter(|e| e.name == "div" && e.has_class("section"))
        {
            read_issue_table(section, &mut entries);
        }
        for container in all.iter().filter(|e| e.has_class("issue-container")) {
            read_issue_details(container, &mut entries);
        }
        for entry in entries.list {
            if let Some(f) = finding(entry, ctx) {
                sink(f)?;
            }
        }
        Ok(())
    }
}

fn first_descendant(e: &Element, pred: impl Fn(&Element) -> bool) -> Option<&Element> {
    e.descendants().into_iter().find(|d| pred(d))
}

/// "Issues found on https://site" + its table: issue-type rows ("Title [3]") followed by one
/// row per URL (path, severity, confidence).
fn read_issue_table(section: &Element, entries: &mut Entries) {
    let Some(heading) = first_descendant(section, |e| e.name == "h1") else {
        return;
    };
    let heading = heading.collapsed_text();
    let Some(site) = heading.strip_prefix("Issues found on ") else {
        return;
    };
    let site = site.trim().trim_end_matches('/');
    let Some(table) =
        first_descendant(section, |e| e.name == "table" && e.has_class("issue-table"))
    else {
        return;
    };
    let mut title: Option<String> = None;
    for row in table.descendants_named("tr") {
        let cells: Vec<&Element> = row.children_named("td").collect();
        if row.has_class("issue-type-row") {
            let text = cells
                .first()
                .map(|c| c.collapsed_text())
                .unwrap_or_default();
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
        let path = path_cell.collapsed_text();
        let url = format!("{site}/{}", path.trim_start_matches('/'));
        push_endpoint(&mut entry.endpoints, endpoint_from_url(&url));
        entry.instances = entry.instances.saturating_add(1);
        if let Some(severity) = cells
            .get(1)
            .map(|c| c.collapsed_text())
            .and_then(|s| Severity::parse(&s).ok())
        {
            // Instances of one type can differ; the finding takes the worst.
            entry.severity = Some(entry.severity.map_or(severity, |s| s.max(severity)));
        }
        if entry.confidence.is_none() {
            entry.confidence = cells
                .get(2)
                .map(|c| c.collapsed_text())
                .as_deref()
                .and_then(burp_confidence);
        }
    }
}

/// An issue container: `<h2>` title, then `<h3>` headings each followed by a `<div>`;
/// newer reports wrap the request and response pairs in `div.evidence-container`.
fn read_issue_details(container: &Element, entries: &mut Entries) {
    let Some(title) = container
        .children_named("h2")
        .next()
        .map(|h| h.collapsed_text())
        .filter(|t| !t.is_empty())
    else {
        return;
    };
    let Some(entry) = entries.get(&title) else {
        return;
    };
    read_headed_blocks(container, entry);
    for evidence in container
        .elements()
        .filter(|c| c.has_class("evidence-container"))
    {
        read_headed_blocks(evidence, entry);
    }
}

fn read_headed_blocks(parent: &Element, entry: &mut Entry) {
    let children: Vec<&Element> = parent.elements().collect();
    for (i, child) in children.iter().enumerate() {
        if child.name != "h3" {
            continue;
        }
        let Some(block) = children.get(i + 1).filter(|b| b.name == "div") else {
            continue;
        };
        let header = child.collapsed_text().replace(':', "");
        let header = header.trim();
        let target = match header.to_ascii_lowercase().as_str() {
            "issue detail" | "issue description" => &mut entry.description,
            "issue background" => &mut entry.impact,
            // DefectDojo files "Issue remediation" under impact; it is remediation advice.
            "issue remediation" | "remediation detail" | "remediation background" => {
                &mut entry.mitigation
            }
            "references" | "vulnerability classifications" => {
                let (list, names) = link_list(block);
                if header.eq_ignore_ascii_case("vulnerability classifications") {
                    for name in &names {
                        for n in cwes_in(name.split(':').next().unwrap_or("")) {
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
                entry.requests.push(block.raw_text());
                continue;
            }
            "response" => {
                entry.responses.push(block.raw_text());
                continue;
            }
            _ => continue,
        };
        let content = block.markdown();
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
fn link_list(block: &Element) -> (String, Vec<String>) {
    let mut list = String::new();
    let mut names = Vec::new();
    for a in block.descendants_named("a") {
        let text = a.collapsed_text();
        let href = a.attr("href").unwrap_or("").trim();
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
    let title = one_line_title(&entry.title, Overflow::Cut)?;
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
