//! The `.nessus` (NessusClientData_v2) half of `Tenable Scan`.
//!
//! Streaming: quick-xml's `read_event_into` hands over one event at a time into a reused
//! buffer, and only the `ReportItem` being read is kept (each of its texts capped at
//! [`FIELD_CAP`]). When a `ReportItem` closes it is folded into the findings found so far.
//!
//! Like DefectDojo, items with the same severity and title (one plugin seen on many hosts and
//! ports) make one finding whose endpoints are the hosts and ports. That fold needs memory per
//! distinct finding, not per item: endpoints are kept as 8-byte keys into tables of distinct
//! hosts and protocols, and per-host plugin output stops being appended to a finding's
//! description after [`OUTPUT_BUDGET`] bytes (the rest is counted, not kept). The folded
//! findings go to the sink when the document ends, because a later item can still join any of
//! them.

use super::common::cvss::{cvss_score, cvss3_vector, cvss4_vector, severity_from_cvss};
use super::common::endpoint::{endpoint_from_parts, endpoint_from_url};
use super::common::ids::{cwes_in, is_cwe};
use super::common::number::probability;
use super::common::title::{Overflow, one_line_title};
use super::common::xml::{Root, error_at, push_text, read_document, xml_attr};
use super::tenable::{SCAN_TYPE, severity_from_level};
use crate::{Context, ParseError, Sink};
use domain::{Endpoint, NewFinding, Severity};
use quick_xml::events::Event;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::io::BufRead;

/// Longest text kept from one element of a `ReportItem` (plugin output can be megabytes).
const FIELD_CAP: usize = 64 * 1024;
/// Longest plugin output of the first host kept in a finding's description.
const FIRST_OUTPUT_CAP: usize = 8 * 1024;
/// Plugin output of further hosts appended to a finding's description, at most.
///
/// Findings are aggregated by title and severity and can only be handed on when the document
/// ends, so what each one holds is multiplied by the number of distinct findings: with 64 KiB
/// a generated 1 GB scan of 20,000 distinct findings peaked near 1 GB. These bounds keep a
/// 1 GB scan under 200 MB; the note on outputs left out still counts every host.
const OUTPUT_BUDGET: usize = 2 * 1024;

const ROOT: Root = Root {
    names: &["NessusClientData_v2"],
    shown: "a <NessusClientData_v2>",
    document: "a .nessus v2 export",
};

/// Where the reader is, as far as the findings care.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ctx {
    Other,
    Root,
    Report,
    Host,
    HostProperties,
    HostTag(HostTag),
    Item,
    Field(Field),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum HostTag {
    Fqdn,
    Ip,
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Field {
    Synopsis,
    Description,
    Solution,
    PluginOutput,
    PluginName,
    RiskFactor,
    Cvss,
    CvssVector,
    CvssBaseScore,
    CvssTemporalScore,
    Cvss3Vector,
    Cvss3BaseScore,
    Cvssv3,
    Cvss4Vector,
    Cvss4BaseScore,
    EpssScore,
    VulnPublicationDate,
    SeeAlso,
    Xref,
    Cve,
    Cwe,
    Ignored,
}

impl Field {
    fn from_name(name: &str) -> Field {
        match name {
            "synopsis" => Field::Synopsis,
            "description" => Field::Description,
            "solution" => Field::Solution,
            "plugin_output" => Field::PluginOutput,
            "plugin_name" => Field::PluginName,
            "risk_factor" => Field::RiskFactor,
            "cvss" => Field::Cvss,
            "cvss_vector" => Field::CvssVector,
            "cvss_base_score" => Field::CvssBaseScore,
            "cvss_temporal_score" => Field::CvssTemporalScore,
            "cvss3_vector" => Field::Cvss3Vector,
            "cvss3_base_score" => Field::Cvss3BaseScore,
            "cvssv3" => Field::Cvssv3,
            "cvss4_vector" => Field::Cvss4Vector,
            "cvss4_base_score" => Field::Cvss4BaseScore,
            "epss_score" => Field::EpssScore,
            "vuln_publication_date" => Field::VulnPublicationDate,
            "see_also" => Field::SeeAlso,
            "xref" => Field::Xref,
            "cve" => Field::Cve,
            "cwe" => Field::Cwe,
            _ => Field::Ignored,
        }
    }
}

/// One `ReportItem` as read.
#[derive(Default)]
struct Item {
    port: Option<String>,
    svc_name: Option<String>,
    protocol: Option<String>,
    severity: Option<String>,
    plugin_id: Option<String>,
    plugin_name: Option<String>,
    plugin_name_element: Option<String>,
    synopsis: Option<String>,
    description: Option<String>,
    solution: Option<String>,
    plugin_output: Option<String>,
    risk_factor: Option<String>,
    cvss: Option<String>,
    cvss_vector: Option<String>,
    cvss_base_score: Option<String>,
    cvss_temporal_score: Option<String>,
    cvss3_vector: Option<String>,
    cvss3_base_score: Option<String>,
    cvssv3: Option<String>,
    cvss4_vector: Option<String>,
    cvss4_base_score: Option<String>,
    epss_score: Option<String>,
    vuln_publication_date: Option<String>,
    see_also: Vec<String>,
    xref: Vec<String>,
    cve: Vec<String>,
    cwe: Vec<String>,
}

impl Item {
    fn set(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::Synopsis => &mut self.synopsis,
            Field::Description => &mut self.description,
            Field::Solution => &mut self.solution,
            Field::PluginOutput => &mut self.plugin_output,
            Field::PluginName => &mut self.plugin_name_element,
            Field::RiskFactor => &mut self.risk_factor,
            Field::Cvss => &mut self.cvss,
            Field::CvssVector => &mut self.cvss_vector,
            Field::CvssBaseScore => &mut self.cvss_base_score,
            Field::CvssTemporalScore => &mut self.cvss_temporal_score,
            Field::Cvss3Vector => &mut self.cvss3_vector,
            Field::Cvss3BaseScore => &mut self.cvss3_base_score,
            Field::Cvssv3 => &mut self.cvssv3,
            Field::Cvss4Vector => &mut self.cvss4_vector,
            Field::Cvss4BaseScore => &mut self.cvss4_base_score,
            Field::EpssScore => &mut self.epss_score,
            Field::VulnPublicationDate => &mut self.vuln_publication_date,
            Field::SeeAlso => return self.see_also.push(value),
            Field::Xref => return self.xref.push(value),
            Field::Cve => return self.cve.push(value),
            Field::Cwe => return self.cwe.push(value),
            Field::Ignored => return,
        };
        *slot = Some(value);
    }
}

/// The `ReportHost` being read.
#[derive(Default)]
struct Host {
    name: String,
    fqdn: Option<String>,
    ip: Option<String>,
}

pub(crate) fn parse(
    input: &mut dyn BufRead,
    ctx: &Context,
    sink: &mut Sink<'_>,
) -> Result<(), ParseError> {
    let mut stack: Vec<Ctx> = Vec::new();
    let mut text = String::new();
    let mut text_truncated = false;
    let mut host = Host::default();
    let mut item = Item::default();
    let mut findings = Aggregator::default();

    read_document(SCAN_TYPE, input, &ROOT, |event, _, reader| {
        match event {
            Event::Start(start) => {
                let name = start.name();
                let name = name.as_ref();
                let here = match stack.last().copied() {
                    None => Ctx::Root,
                    Some(Ctx::Root) if name == "Report" => Ctx::Report,
                    Some(Ctx::Report) if name == "ReportHost" => {
                        host = Host {
                            name: xml_attr(start, "name").unwrap_or_default(),
                            ..Host::default()
                        };
                        Ctx::Host
                    }
                    Some(Ctx::Host) if name == "HostProperties" => Ctx::HostProperties,
                    Some(Ctx::HostProperties) if name == "tag" => {
                        text.clear();
                        text_truncated = false;
                        match xml_attr(start, "name").as_deref() {
                            Some("host-fqdn") => Ctx::HostTag(HostTag::Fqdn),
                            Some("host-ip") => Ctx::HostTag(HostTag::Ip),
                            _ => Ctx::HostTag(HostTag::Other),
                        }
                    }
                    Some(Ctx::Host) if name == "ReportItem" => {
                        item = Item {
                            port: xml_attr(start, "port"),
                            svc_name: xml_attr(start, "svc_name"),
                            protocol: xml_attr(start, "protocol"),
                            severity: xml_attr(start, "severity"),
                            plugin_id: xml_attr(start, "pluginID"),
                            plugin_name: xml_attr(start, "pluginName"),
                            ..Item::default()
                        };
                        Ctx::Item
                    }
                    Some(Ctx::Item) => {
                        text.clear();
                        text_truncated = false;
                        Ctx::Field(Field::from_name(name))
                    }
                    Some(_) => Ctx::Other,
                };
                stack.push(here);
            }
            Event::End(_) => match stack.pop() {
                Some(Ctx::Field(field)) => {
                    let value = finish_text(&mut text, text_truncated);
                    if !value.is_empty() {
                        item.set(field, value);
                    }
                }
                Some(Ctx::HostTag(tag)) => {
                    let value = finish_text(&mut text, text_truncated);
                    if !value.is_empty() {
                        match tag {
                            HostTag::Fqdn => host.fqdn = Some(value),
                            HostTag::Ip => host.ip = Some(value),
                            HostTag::Other => {}
                        }
                    }
                }
                Some(Ctx::Item) => {
                    let done = std::mem::take(&mut item);
                    findings
                        .add(done, &host, ctx)
                        .map_err(|m| error_at(SCAN_TYPE, reader, m))?;
                }
                _ => {}
            },
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)
                if collects_text(stack.last()) =>
            {
                text_truncated |= !push_text(&mut text, event, FIELD_CAP);
            }
            _ => {}
        }
        Ok(())
    })?;
    findings.emit(sink)
}

fn collects_text(top: Option<&Ctx>) -> bool {
    matches!(
        top,
        Some(Ctx::Field(f)) if *f != Field::Ignored
    ) || matches!(top, Some(Ctx::HostTag(HostTag::Fqdn | HostTag::Ip)))
}

fn finish_text(text: &mut String, truncated: bool) -> String {
    let mut value = text.trim().to_owned();
    if truncated {
        value.push_str(&format!(
            "\n… (cut by vulnbridge at {} KiB)",
            FIELD_CAP / 1024
        ));
    }
    text.clear();
    value
}

/// URL schemes DefectDojo accepts as an endpoint protocol (hyperlink's `SCHEME_PORT_MAP`);
/// a Nessus service name outside this list is replaced by the transport (`tcp`, `udp`).
const URL_SCHEMES: &[&str] = &[
    "acap", "afp", "dict", "dns", "file", "ftp", "git", "gopher", "http", "https", "imap", "ipp",
    "ipps", "irc", "ircs", "ldap", "ldaps", "mms", "msrp", "msrps", "mtqp", "nfs", "nntp", "nntps",
    "pop", "prospero", "redis", "rsync", "rtsp", "rtsps", "rtspu", "sftp", "smb", "snmp", "ssh",
    "steam", "svn", "telnet", "ventrilo", "vnc", "wais", "ws", "wss", "xmpp",
];

fn clean_protocol(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '+')
        .collect()
}

/// The endpoint protocol for an item, as DefectDojo derives it.
fn item_protocol(item: &Item) -> Option<String> {
    let svc = clean_protocol(item.svc_name.as_deref().unwrap_or(""));
    if svc.is_empty() {
        return None;
    }
    let svc = if svc == "www" { "http".to_owned() } else { svc };
    if URL_SCHEMES.contains(&svc.as_str()) {
        return Some(svc);
    }
    let transport = clean_protocol(item.protocol.as_deref().unwrap_or(&svc));
    (!transport.is_empty()).then_some(transport)
}

/// Distinct values, each stored once, addressed by index.
struct Interner<T> {
    values: Vec<T>,
    index: HashMap<T, u32>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            values: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T: Hash + Eq + Clone> Interner<T> {
    fn id(&mut self, value: T) -> Option<u32> {
        if let Some(id) = self.index.get(&value) {
            return Some(*id);
        }
        let id = u32::try_from(self.values.len()).ok()?;
        self.values.push(value.clone());
        self.index.insert(value, id);
        Some(id)
    }

    fn get(&self, id: u32) -> Option<&T> {
        self.values.get(id as usize)
    }
}

/// What an endpoint key's host part points at.
#[derive(Clone, PartialEq, Eq, Hash)]
enum HostKey {
    /// A host name or address; protocol and port come from the item.
    Name(String),
    /// A whole URL (Nessus WAS puts the target URL in `host-fqdn`).
    Url(Endpoint),
}

/// A finding being folded together from items.
struct Folded {
    finding: NewFinding,
    /// `host id << 32 | protocol id << 16 | port`, in first-seen order.
    endpoints: Vec<u64>,
    seen_endpoints: HashSet<u64>,
    seen_ids: HashSet<String>,
    /// Plugin output of further hosts, joined to the description at the end. Kept apart, in
    /// a buffer of fixed capacity, because appending to the description would grow it by
    /// doubling: memory here is multiplied by the number of distinct findings.
    more_output: String,
    outputs_left_out: u64,
    occurrences: i32,
}

#[derive(Default)]
struct Aggregator {
    folded: Vec<Folded>,
    index: HashMap<(Severity, String), usize>,
    hosts: Interner<HostKey>,
    /// Index 0 means "no protocol".
    protocols: Interner<Option<String>>,
}

impl Aggregator {
    fn add(&mut self, item: Item, host: &Host, ctx: &Context) -> Result<(), String> {
        let raw_title = item
            .plugin_name
            .as_deref()
            .or(item.plugin_name_element.as_deref())
            .map(str::to_owned)
            .or_else(|| {
                item.plugin_id
                    .as_ref()
                    .map(|id| format!("Nessus plugin {id}"))
            })
            .unwrap_or_default();
        let Some(title) = one_line_title(&raw_title, Overflow::Cut) else {
            return Err("expected a pluginName or pluginID attribute on <ReportItem>".to_owned());
        };
        let level = item
            .severity
            .as_deref()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(0);
        let cvss3_score = item.cvss3_base_score.as_deref().and_then(cvss_score);
        // DefectDojo lets the CVSS v3 base score, when Nessus gives one, decide the severity.
        let severity = cvss3_score.map_or_else(|| severity_from_level(level), severity_from_cvss);

        let port = item
            .port
            .as_deref()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .filter(|p| *p != 0);
        let output_block = item.plugin_output.as_deref().map(|output| {
            let port_suffix = port.map(|p| format!(":{p}")).unwrap_or_default();
            let output = cut_at_char_boundary(output, FIRST_OUTPUT_CAP);
            format!(
                "Plugin Output: {}{port_suffix}\n```\n{output}\n```\n",
                host.name
            )
        });
        let endpoint = self.endpoint_key(&item, host, port);

        let key = (severity, title.as_str().to_owned());
        let index = match self.index.get(&key) {
            Some(i) => *i,
            None => {
                let mut finding =
                    new_finding(&item, title, severity, level, output_block.as_deref(), ctx);
                finding.description.shrink_to_fit();
                let seen_ids = finding.vulnerability_ids.iter().cloned().collect();
                self.folded.push(Folded {
                    finding,
                    endpoints: Vec::new(),
                    seen_endpoints: HashSet::new(),
                    seen_ids,
                    more_output: String::new(),
                    outputs_left_out: 0,
                    occurrences: 0,
                });
                let i = self.folded.len() - 1;
                self.index.insert(key, i);
                // The first item's output is already in the description.
                if let Some(f) = self.folded.get_mut(i) {
                    f.occurrences = 1;
                    f.add_endpoint(endpoint);
                }
                return Ok(());
            }
        };
        let Some(f) = self.folded.get_mut(index) else {
            return Ok(());
        };
        f.occurrences = f.occurrences.saturating_add(1);
        f.add_endpoint(endpoint);
        for cve in &item.cve {
            let id = cve.trim().to_owned();
            if !id.is_empty() && f.seen_ids.insert(id.clone()) {
                f.finding.vulnerability_ids.push(id);
            }
        }
        if let Some(block) = output_block {
            if f.more_output.len() + block.len() < OUTPUT_BUDGET {
                if f.more_output.capacity() == 0 {
                    f.more_output.reserve_exact(OUTPUT_BUDGET);
                }
                f.more_output.push('\n');
                f.more_output.push_str(&block);
            } else {
                f.outputs_left_out += 1;
            }
        }
        Ok(())
    }

    fn endpoint_key(&mut self, item: &Item, host: &Host, port: Option<u16>) -> Option<u64> {
        // DefectDojo's choice: the FQDN when Nessus resolved one, else the ReportHost name;
        // host-ip only when the report names the host nothing else.
        let name = host
            .fqdn
            .as_deref()
            .or(Some(host.name.as_str()).filter(|n| !n.trim().is_empty()))
            .or(host.ip.as_deref())
            .unwrap_or("");
        let (host_key, protocol, port) = if name.contains("://") {
            (HostKey::Url(endpoint_from_url(name)?), None, None)
        } else {
            endpoint_from_parts(None, name, None)?;
            let protocol = item_protocol(item);
            if protocol.as_deref() == Some("general") {
                (HostKey::Name(name.to_owned()), None, None)
            } else {
                (HostKey::Name(name.to_owned()), protocol, port)
            }
        };
        let host_id = self.hosts.id(host_key)?;
        if self.protocols.values.is_empty() {
            self.protocols.id(None)?;
        }
        let protocol_id = u16::try_from(self.protocols.id(protocol)?).ok()?;
        Some(u64::from(host_id) << 32 | u64::from(protocol_id) << 16 | u64::from(port.unwrap_or(0)))
    }

    fn endpoint(&self, key: u64) -> Option<Endpoint> {
        let host = self.hosts.get(u32::try_from(key >> 32).ok()?)?;
        let protocol = self.protocols.get(((key >> 16) & 0xFFFF) as u32)?;
        let port = (key & 0xFFFF) as u16;
        match host {
            HostKey::Url(e) => Some(e.clone()),
            HostKey::Name(name) => endpoint_from_parts(protocol.as_deref(), name, Some(port)),
        }
    }

    fn emit(mut self, sink: &mut Sink<'_>) -> Result<(), ParseError> {
        let folded = std::mem::take(&mut self.folded);
        for f in folded {
            let mut finding = f.finding;
            finding.endpoints = f
                .endpoints
                .iter()
                .filter_map(|k| self.endpoint(*k))
                .collect();
            finding.occurrences = Some(f.occurrences.max(1));
            finding.description.push_str(&f.more_output);
            if f.outputs_left_out > 0 {
                finding.description.push_str(&format!(
                    "\n(Plugin output of {} more occurrence(s) left out to keep this description readable; \
                     the endpoints list all of them.)\n",
                    f.outputs_left_out
                ));
            }
            sink(finding)?;
        }
        Ok(())
    }
}

impl Folded {
    fn add_endpoint(&mut self, key: Option<u64>) {
        if let Some(k) = key
            && self.seen_endpoints.insert(k)
        {
            self.endpoints.push(k);
        }
    }
}

fn new_finding(
    item: &Item,
    title: domain::Title,
    severity: Severity,
    level: i64,
    output_block: Option<&str>,
    ctx: &Context,
) -> NewFinding {
    let mut f = NewFinding::new(ctx.test, title, severity);
    let mut description = String::new();
    if let Some(s) = &item.synopsis {
        description.push_str(s);
        description.push_str("\n\n");
    }
    if let Some(block) = output_block {
        description.push_str(block);
    }
    f.description = description;

    let mut impact = String::new();
    if let Some(d) = &item.description {
        impact.push_str(d);
        impact.push_str("\n\n");
    }
    for (label, value) in [
        ("CVSS Score", &item.cvss),
        ("CVSSv3 Score", &item.cvssv3),
        ("CVSS Vector", &item.cvss_vector),
        ("CVSSv3 Vector", &item.cvss3_vector),
        ("CVSS Base Score", &item.cvss_base_score),
        ("CVSS Temporal Score", &item.cvss_temporal_score),
    ] {
        if let Some(v) = value {
            impact.push_str(&format!("{label}: {v}\n"));
        }
    }
    f.impact = Some(impact);
    f.mitigation = item.solution.clone();

    let mut references = String::new();
    for see in &item.see_also {
        for url in see.split_whitespace() {
            references.push_str(url);
            references.push('\n');
        }
    }
    for xref in &item.xref {
        references.push_str(xref);
        references.push('\n');
    }
    f.references = Some(references);

    // `<cwe>` holds a number ("79" or "CWE-79"); `<xref>CWE:79</xref>` names more.
    let mut cwes: Vec<i32> = Vec::new();
    for raw in &item.cwe {
        let parsed = raw
            .trim()
            .parse::<i32>()
            .ok()
            .map(|n| vec![n])
            .unwrap_or_else(|| cwes_in(raw));
        for n in parsed {
            if is_cwe(n) && !cwes.contains(&n) {
                cwes.push(n);
            }
        }
    }
    for xref in &item.xref {
        if xref
            .trim_start()
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("cwe:"))
        {
            for n in cwes_in(xref) {
                if !cwes.contains(&n) {
                    cwes.push(n);
                }
            }
        }
    }
    f.cwe = cwes.first().copied();
    f.cwes = cwes;

    let mut ids: Vec<String> = Vec::new();
    for cve in &item.cve {
        let id = cve.trim().to_owned();
        if !id.is_empty() && !ids.contains(&id) {
            ids.push(id);
        }
    }
    f.vulnerability_ids = ids;

    f.cvss_v3_vector = item.cvss3_vector.as_deref().and_then(cvss3_vector);
    f.cvss_v3_score = item
        .cvss3_base_score
        .as_deref()
        .and_then(cvss_score)
        .or_else(|| item.cvssv3.as_deref().and_then(cvss_score));
    f.cvss_v4_vector = item
        .cvss4_vector
        .as_deref()
        .and_then(|v| cvss4_vector(v).or_else(|| cvss4_vector(&format!("CVSS:4.0/{}", v.trim()))));
    f.cvss_v4_score = item.cvss4_base_score.as_deref().and_then(cvss_score);
    f.epss_score = item.epss_score.as_deref().and_then(probability);
    f.publish_date = item
        .vuln_publication_date
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y/%m/%d").ok());
    let mut justification = format!("Nessus severity: {level}");
    if let Some(rf) = &item.risk_factor {
        justification.push_str(&format!("\nRisk factor: {rf}"));
    }
    if let Some(score) = item.cvss3_base_score.as_deref().and_then(cvss_score) {
        justification.push_str(&format!(
            "\nCVSS v3 base score: {score} (decides the severity)"
        ));
    }
    f.severity_justification = Some(justification);
    f.vuln_id_from_tool = item.plugin_id.as_ref().map(|p| p.trim().to_owned());
    f.dynamic_finding = true;
    f
}

/// The first `max` bytes of `s`, ending on a character boundary.
fn cut_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
