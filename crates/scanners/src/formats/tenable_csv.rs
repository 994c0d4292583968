//! The CSV half of `Tenable Scan`: Nessus and Tenable.sc exports (`Plugin ID`, `Name`, `Risk`,
//! `Host`… or `Plugin`, `Plugin Name`, `Severity`, `IP Address`…), Nessus WAS exports, and
//! Tenable.io / Vulnerability Management exports (`definition.*`, `asset.*`, often `;`-separated).
//!
//! Rows are folded the way DefectDojo folds them (same severity, title, `Host`, `Port` and
//! synopsis make one finding), so the folded findings are sent when the file ends. Each row is
//! read into one reused record; memory grows with the findings, not with the plugin output of
//! rows that fold into an earlier one beyond the description.

use super::common::cvss::{cvss_score, cvss3_vector};
use super::common::endpoint::{endpoint_from_parts, endpoint_from_url, push_endpoint};
use super::common::finding::send_all;
use super::common::ids::{cve_ids_in, cwes_in, is_cwe};
use super::common::number::probability;
use super::common::title::{Overflow, one_line_title};
use super::tenable::{SCAN_TYPE, severity_from_level};
use crate::{Context, Location, ParseError, Sink};
use domain::{NewFinding, Severity, Status};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;

/// A value read under the first of several column names that the header has (the first
/// existing one wins even when empty, as with DefectDojo's nested `row.get`).
struct Column(Option<usize>);

impl Column {
    fn find(headers: &[String], names: &[&str]) -> Column {
        Column(
            names
                .iter()
                .find_map(|n| headers.iter().position(|h| h == n)),
        )
    }

    fn exists(&self) -> bool {
        self.0.is_some()
    }

    fn get<'r>(&self, record: &'r csv::ByteRecord) -> Option<Cow<'r, str>> {
        let i = self.0?;
        record.get(i).map(String::from_utf8_lossy)
    }

    /// The trimmed value, `None` when absent or blank.
    fn text(&self, record: &csv::ByteRecord) -> Option<String> {
        self.get(record)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

struct Columns {
    title: Column,
    risk: Column,
    severity: Column,
    epss: Column,
    synopsis: Column,
    mitigation: Column,
    impact: Column,
    references: Column,
    see_also: Column,
    plugin_for_references: Column,
    plugin_information: Column,
    plugin_publication: Column,
    plugin_modification: Column,
    plugin_id: Column,
    dupe_host: Column,
    dupe_port: Column,
    cvss3_vector: Column,
    cvss3_score: Column,
    cpe: Column,
    output: Column,
    cve: Column,
    cwe: Column,
    xref: Column,
    host: Column,
    dns_name: Column,
    ip: Column,
    fqdn: Column,
    ipv4: Column,
    protocol: Column,
    port: Column,
    finding_id: Column,
    state: Column,
    risk_modified: Column,
    justification: Vec<(String, Column)>,
}

impl Columns {
    fn resolve(h: &[String]) -> Columns {
        let justification = [
            "VPR score",
            "VPR Score",
            "EPSS Score",
            "Risk Factor",
            "STIG Severity",
            "CVSS v4.0 Base Score",
            "CVSS v4.0 Base+Threat Score",
            "CVSS v3.0 Base Score",
            "CVSS V3 Base Score",
            "CVSS v3.0 Temporal Score",
            "Metasploit",
            "Core Impact",
            "CANVAS",
            "XREF",
        ]
        .iter()
        .map(|n| (n.to_string(), Column::find(h, &[n])))
        .filter(|(_, c)| c.exists())
        .collect();
        Columns {
            // `definition.name` before `asset.name`: DefectDojo titles Tenable.io rows with the
            // asset's name, which makes every finding on a host share one title.
            title: Column::find(h, &["Name", "Plugin Name", "definition.name", "asset.name"]),
            risk: Column::find(h, &["Risk", "severity"]),
            severity: Column::find(h, &["Severity"]),
            epss: Column::find(h, &["EPSS Score"]),
            synopsis: Column::find(h, &["Synopsis", "definition.synopsis"]),
            mitigation: Column::find(
                h,
                &["Solution", "definition.solution", "Steps to Remediate"],
            ),
            impact: Column::find(h, &["Description", "definition.description"]),
            references: Column::find(h, &["References"]),
            see_also: Column::find(h, &["See Also", "definition.see_also"]),
            plugin_for_references: Column::find(h, &["Plugin", "Plugin ID", "definition.id"]),
            plugin_information: Column::find(h, &["Plugin Information"]),
            plugin_publication: Column::find(h, &["Plugin Publication Date"]),
            plugin_modification: Column::find(h, &["Plugin Modification Date"]),
            plugin_id: Column::find(h, &["Plugin ID", "Plugin", "definition.id"]),
            dupe_host: Column::find(h, &["Host", "asset.host_name"]),
            dupe_port: Column::find(h, &["Port", "asset.port"]),
            cvss3_vector: Column::find(h, &["CVSS V3 Vector", "definition.cvss3.base_vector"]),
            cvss3_score: Column::find(
                h,
                &[
                    "CVSSv3",
                    "definition.cvss3.base_score",
                    "CVSS V3 Base Score",
                    "CVSS v3.0 Base Score",
                ],
            ),
            cpe: Column::find(h, &["CPE", "definition.cpe"]),
            output: Column::find(h, &["Plugin Output", "output", "Plugin Text"]),
            cve: Column::find(h, &["CVE", "definition.cve"]),
            cwe: Column::find(h, &["definition.cwe", "CWE"]),
            xref: Column::find(h, &["XREF", "Cross References", "definition.references"]),
            host: Column::find(h, &["Host", "asset.host_name"]),
            dns_name: Column::find(h, &["DNS Name"]),
            ip: Column::find(h, &["IP Address"]),
            fqdn: Column::find(h, &["asset.display_fqdn"]),
            ipv4: Column::find(h, &["asset.display_ipv4_address"]),
            protocol: Column::find(h, &["Protocol", "protocol"]),
            port: Column::find(h, &["Port", "asset.port", "port"]),
            finding_id: if Column::find(h, &["definition.id"]).exists() {
                Column::find(h, &["id"])
            } else {
                Column(None)
            },
            state: Column::find(h, &["state"]),
            risk_modified: Column::find(h, &["risk_modified"]),
            justification,
        }
    }
}

pub(crate) fn parse(
    input: &mut dyn BufRead,
    delimiter: u8,
    ctx: &Context,
    sink: &mut Sink<'_>,
) -> Result<(), ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let headers: Vec<String> = reader
        .byte_headers()
        .map_err(|e| csv_error(&e))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_owned())
        .collect();
    let cols = Columns::resolve(&headers);
    if !cols.title.exists() {
        return Err(ParseError::new(
            SCAN_TYPE,
            Some(Location::record(1)),
            "expected a header with a `Name`, `Plugin Name` or `definition.name` column \
             (a Nessus, Tenable.sc or Tenable.io CSV export)",
        ));
    }

    let mut findings: Vec<NewFinding> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(&e))?
    {
        let Some(title) = cols
            .title
            .text(&record)
            .and_then(|t| one_line_title(&t, Overflow::Cut))
        else {
            continue;
        };
        let severity = row_severity(&cols, &record);
        let dupe_key = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            severity.as_str(),
            title.as_str(),
            cols.dupe_host
                .get(&record)
                .unwrap_or(Cow::Borrowed("No host")),
            cols.dupe_port
                .get(&record)
                .unwrap_or(Cow::Borrowed("No port")),
            cols.synopsis
                .get(&record)
                .unwrap_or(Cow::Borrowed("No synopsis")),
        );
        let at = match index.get(&dupe_key) {
            Some(i) => *i,
            None => {
                findings.push(new_finding(&cols, &record, title, severity, ctx));
                index.insert(dupe_key, findings.len() - 1);
                findings.len() - 1
            }
        };
        let Some(f) = findings.get_mut(at) else {
            continue;
        };
        if let Some(output) = cols.output.get(&record).filter(|o| !o.trim().is_empty()) {
            f.description.push_str("\n\n");
            f.description.push_str(&output);
        }
        for id in cve_ids_in(&cols.cve.get(&record).unwrap_or_default()) {
            if !f.vulnerability_ids.contains(&id) {
                f.vulnerability_ids.push(id);
            }
        }
        push_endpoint(&mut f.endpoints, row_endpoint(&cols, &record));
        f.occurrences = Some(f.occurrences.unwrap_or(0).saturating_add(1));
    }
    send_all(findings, sink)
}

fn csv_error(e: &csv::Error) -> ParseError {
    let location = e
        .position()
        .map(|p| Location::record(p.record().saturating_add(1)));
    let message = match e.kind() {
        csv::ErrorKind::Io(io) => format!("could not read the report: {io}"),
        _ => format!("expected a well-formed CSV record: {e}"),
    };
    ParseError::new(SCAN_TYPE, location, message)
}

/// `Risk` / `severity` first, then `Severity`; a number is Nessus' 0–4 level, a word is
/// matched by name; anything else is info (as DefectDojo does).
fn row_severity(cols: &Columns, record: &csv::ByteRecord) -> Severity {
    let raw = cols
        .risk
        .text(record)
        .or_else(|| cols.severity.text(record))
        .unwrap_or_default();
    if let Ok(level) = raw.parse::<i64>() {
        return severity_from_level(level);
    }
    Severity::parse(&raw).unwrap_or(Severity::Info)
}

fn row_endpoint(cols: &Columns, record: &csv::ByteRecord) -> Option<domain::Endpoint> {
    let host = cols
        .host
        .text(record)
        .or_else(|| cols.dns_name.text(record))
        .or_else(|| cols.ip.text(record))
        .or_else(|| cols.fqdn.text(record))
        .or_else(|| cols.ipv4.text(record))?;
    if host.contains("://") {
        return endpoint_from_url(&host);
    }
    let protocol = cols.protocol.text(record);
    let port = cols.port.text(record).and_then(|p| p.parse::<u16>().ok());
    endpoint_from_parts(protocol.as_deref(), &host, port)
}

/// Product and version from the first CPE in the text (`cpe:/a:vendor:product:version` or
/// `cpe:2.3:a:vendor:product:version:…`).
pub(crate) fn cpe_component(text: &str) -> Option<(String, Option<String>)> {
    let start = text.find("cpe:")?;
    let cpe = text.get(start..)?.split_whitespace().next()?;
    let parts: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
        rest.split(':').collect()
    } else {
        cpe.strip_prefix("cpe:/")?.split(':').collect()
    };
    let meaningful = |v: &&&str| !v.is_empty() && **v != "*" && **v != "-";
    let product = parts.get(2).filter(meaningful)?.to_string();
    let version = parts.get(3).filter(meaningful).map(|v| v.to_string());
    Some((product, version))
}

fn new_finding(
    cols: &Columns,
    record: &csv::ByteRecord,
    title: domain::Title,
    severity: Severity,
    ctx: &Context,
) -> NewFinding {
    let mut f = NewFinding::new(ctx.test, title, severity);
    f.description = cols
        .synopsis
        .get(record)
        .map(Cow::into_owned)
        .unwrap_or_default();
    f.mitigation = cols.mitigation.text(record);
    f.impact = cols.impact.text(record);

    // Same layout as DefectDojo's, which users already read and match on.
    let na = |c: &Column| {
        c.get(record)
            .map(Cow::into_owned)
            .unwrap_or_else(|| "N/A".to_owned())
    };
    let mut references = cols
        .references
        .get(record)
        .map(Cow::into_owned)
        .unwrap_or_default();
    references.push_str(&na(&cols.see_also));
    for (label, column) in [
        ("Tenable Plugin ID", &cols.plugin_for_references),
        ("Plugin Information", &cols.plugin_information),
        ("Plugin Publication Date", &cols.plugin_publication),
        ("Plugin Modification Date", &cols.plugin_modification),
    ] {
        references.push_str(&format!("\n{label}: {}", na(column)));
    }
    f.references = Some(references);

    let mut justification = format!("Severity: {}", severity.label());
    for (name, col) in &cols.justification {
        if let Some(v) = col.text(record) {
            justification.push_str(&format!("\n{name}: {v}"));
        }
    }
    f.severity_justification = Some(justification);

    f.epss_score = cols.epss.text(record).and_then(|raw| epss(&raw));
    f.cvss_v3_vector = cols
        .cvss3_vector
        .text(record)
        .as_deref()
        .and_then(cvss3_vector);
    f.cvss_v3_score = cols
        .cvss3_score
        .text(record)
        .as_deref()
        .and_then(cvss_score);
    if let Some((name, version)) = cols.cpe.text(record).as_deref().and_then(cpe_component) {
        f.component_name = Some(name);
        f.component_version = version;
    }
    let mut cwes = cols
        .cwe
        .text(record)
        .map(|c| cwe_list(&c))
        .unwrap_or_default();
    for n in cols
        .xref
        .text(record)
        .map(|x| cwes_in(&x))
        .unwrap_or_default()
    {
        if !cwes.contains(&n) {
            cwes.push(n);
        }
    }
    f.cwe = cwes.first().copied();
    f.cwes = cwes;
    f.vuln_id_from_tool = cols.plugin_id.text(record);
    f.unique_id_from_tool = cols.finding_id.text(record);
    f.status = match (
        cols.risk_modified.text(record).as_deref(),
        cols.state
            .text(record)
            .map(|s| s.to_ascii_uppercase())
            .as_deref(),
    ) {
        (Some(m), _) if m.eq_ignore_ascii_case("ACCEPTED") => Status::RiskAccepted,
        (_, Some("FIXED")) => Status::Closed,
        _ => Status::Active,
    };
    f.dynamic_finding = true;
    f.occurrences = Some(0);
    f
}

/// `definition.cwe` holds bare numbers (`79`, `79,89`) or `CWE-79`.
pub(crate) fn cwe_list(raw: &str) -> Vec<i32> {
    let named = cwes_in(raw);
    if !named.is_empty() {
        return named;
    }
    let mut out = Vec::new();
    for n in raw
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|d| d.parse::<i32>().ok())
    {
        if is_cwe(n) && !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// Nessus writes EPSS as `0.3833` or, in some exports, as the digits after the point
/// (`3833`); DefectDojo reads the latter by prefixing `0.`, and so do we.
pub(crate) fn epss(raw: &str) -> Option<f64> {
    let text = if raw.contains("0.") {
        raw.to_owned()
    } else {
        format!("0.{raw}")
    };
    probability(&text)
}
