//! `Generic Findings Import`: vulnbridge's own format for tools without a parser, as JSON
//! (`{"findings": [ {...} ]}`) or CSV (a header row, one finding per record). Field and
//! column names are those of the findings API (`NewFinding`); `docs/formats/generic.md`
//! documents them with examples.
//!
//! JSON or CSV is told by the first byte that is not whitespace: `{` or `[` is JSON,
//! anything else CSV. Both are streamed: one finding is read, checked and handed on before
//! the next is read.
//!
//! This is our format, so it is strict where scanner formats are lenient: an unknown field
//! or column, an unknown severity or status, or a value the findings API would refuse (a
//! CWE 0, a line -1) is an error naming the finding and the field, not a silent drop. Only
//! the title is forgiving: empty falls back to `vuln_id_from_tool`, then
//! `unique_id_from_tool`; too long is cut (see `title_from_candidates`).

use super::common::date::day_of;
use super::common::ids::{first_cwe_in, is_cwe};
use super::common::io_error;
use super::common::json::{ScalarText, null_as_default, peek_first_significant_byte};
use super::common::json_walk::{EachElement, JsonWalk, TopLevelArrays, walk_top_level};
use super::common::title::title_from_candidates;
use crate::{Context, Location, ParseError, Parser, Sink};
use domain::{Endpoint, NewFinding, RequestResponse, Severity, Status};
use serde::Deserialize;
use serde::de::{MapAccess, SeqAccess, Visitor};
use std::io::BufRead;

pub const NAME: &str = "Generic Findings Import";

/// The `Generic Findings Import` parser (JSON and CSV).
pub struct Generic;

/// The separator of list values inside one CSV cell (`CVE-2021-1;CVE-2021-2`). Not a comma:
/// a comma is CSV's own delimiter, so a `;` list can stand in a cell without quoting.
pub(crate) const CSV_LIST_SEPARATOR: char = ';';

/// Every field and column name, in the documented order.
pub(crate) const FIELDS: &[&str] = &[
    "title",
    "severity",
    "description",
    "status",
    "verified",
    "cwe",
    "cwes",
    "vulnerability_ids",
    "cvss_v3_vector",
    "cvss_v3_score",
    "cvss_v4_vector",
    "cvss_v4_score",
    "epss_score",
    "epss_percentile",
    "known_exploited",
    "severity_justification",
    "publish_date",
    "component_name",
    "component_version",
    "component_purl",
    "file_path",
    "line",
    "endpoints",
    "service",
    "unique_id_from_tool",
    "vuln_id_from_tool",
    "mitigation",
    "impact",
    "steps_to_reproduce",
    "references",
    "param",
    "payload",
    "request_response",
    "fix_available",
    "fix_version",
    "static_finding",
    "dynamic_finding",
    "scanner_confidence",
    "tags",
    "date",
    "occurrences",
];

/// An endpoint as a URL or host string, or as its parts.
#[derive(Deserialize)]
#[serde(untagged)]
enum EndpointInput {
    Text(String),
    Parts(Endpoint),
}

/// One finding as the JSON form spells it; CSV cells are parsed into the same shape.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct GenericFinding {
    title: Option<String>,
    severity: Option<String>,
    description: Option<String>,
    status: Option<String>,
    verified: Option<bool>,
    cwe: Option<ScalarText>,
    #[serde(deserialize_with = "null_as_default")]
    cwes: Vec<ScalarText>,
    #[serde(deserialize_with = "null_as_default")]
    vulnerability_ids: Vec<String>,
    cvss_v3_vector: Option<String>,
    cvss_v3_score: Option<f64>,
    cvss_v4_vector: Option<String>,
    cvss_v4_score: Option<f64>,
    epss_score: Option<f64>,
    epss_percentile: Option<f64>,
    known_exploited: Option<bool>,
    severity_justification: Option<String>,
    publish_date: Option<String>,
    component_name: Option<String>,
    component_version: Option<String>,
    component_purl: Option<String>,
    file_path: Option<String>,
    line: Option<i64>,
    #[serde(deserialize_with = "null_as_default")]
    endpoints: Vec<EndpointInput>,
    service: Option<String>,
    unique_id_from_tool: Option<String>,
    vuln_id_from_tool: Option<String>,
    mitigation: Option<String>,
    impact: Option<String>,
    steps_to_reproduce: Option<String>,
    references: Option<String>,
    param: Option<String>,
    payload: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    request_response: Vec<RequestResponse>,
    fix_available: Option<bool>,
    fix_version: Option<String>,
    static_finding: Option<bool>,
    dynamic_finding: Option<bool>,
    scanner_confidence: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    tags: Vec<String>,
    date: Option<String>,
    occurrences: Option<i64>,
}

/// A field that could not be turned into a finding: (field, what was expected).
type FieldError = (String, String);

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    (field.to_owned(), message.into())
}

fn parse_cwe(field: &str, raw: &str) -> Result<i32, FieldError> {
    let t = raw.trim();
    let n = match t.parse::<i64>() {
        Ok(n) => i32::try_from(n).ok(),
        Err(_) => first_cwe_in(t),
    };
    n.filter(|n| is_cwe(*n)).ok_or_else(|| {
        field_error(
            field,
            format!("expected a CWE number (1–99999) or `CWE-n`, found '{raw}'"),
        )
    })
}

fn parse_day(field: &str, raw: &str) -> Result<chrono::NaiveDate, FieldError> {
    let t = raw.trim();
    day_of(t)
        .filter(|_| t.len() == 10 || t.as_bytes().get(10) == Some(&b'T'))
        .ok_or_else(|| {
            field_error(
                field,
                format!("expected a date as YYYY-MM-DD, found '{raw}'"),
            )
        })
}

impl GenericFinding {
    fn into_finding(self, ctx: &Context) -> Result<NewFinding, FieldError> {
        let severity_text = self
            .severity
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                field_error(
                    "severity",
                    "expected a severity: info, low, medium, high or critical",
                )
            })?;
        let severity = Severity::parse(severity_text)
            .map_err(|e| field_error("severity", format!("expected {e}")))?;
        let title = title_from_candidates(
            [
                self.title.as_deref(),
                self.vuln_id_from_tool.as_deref(),
                self.unique_id_from_tool.as_deref(),
            ],
            "Untitled finding",
        );
        let mut f = NewFinding::new(ctx.test, title, severity);
        f.description = self.description.unwrap_or_default();
        if let Some(s) = self.status.as_deref().filter(|s| !s.trim().is_empty()) {
            f.status =
                Status::parse(s).map_err(|e| field_error("status", format!("expected {e}")))?;
        }
        f.verified = self.verified.unwrap_or(false);
        f.cwe = self
            .cwe
            .filter(|c| !c.0.trim().is_empty())
            .map(|c| parse_cwe("cwe", &c.0))
            .transpose()?;
        f.cwes = self
            .cwes
            .iter()
            .enumerate()
            .map(|(i, c)| parse_cwe(&format!("cwes[{i}]"), &c.0))
            .collect::<Result<_, _>>()?;
        f.vulnerability_ids = self.vulnerability_ids;
        f.cvss_v3_vector = self.cvss_v3_vector;
        f.cvss_v3_score = self.cvss_v3_score;
        f.cvss_v4_vector = self.cvss_v4_vector;
        f.cvss_v4_score = self.cvss_v4_score;
        f.epss_score = self.epss_score;
        f.epss_percentile = self.epss_percentile;
        f.known_exploited = self.known_exploited.unwrap_or(false);
        f.severity_justification = self.severity_justification;
        f.publish_date = self
            .publish_date
            .filter(|d| !d.trim().is_empty())
            .map(|d| parse_day("publish_date", &d))
            .transpose()?;
        f.component_name = self.component_name;
        f.component_version = self.component_version;
        f.component_purl = self.component_purl;
        f.file_path = self.file_path;
        f.line = self
            .line
            .map(|l| {
                i32::try_from(l)
                    .map_err(|_| field_error("line", format!("{l} is not a line number")))
            })
            .transpose()?;
        f.endpoints = self
            .endpoints
            .into_iter()
            .enumerate()
            .map(|(i, e)| match e {
                EndpointInput::Parts(p) => Ok(p),
                EndpointInput::Text(t) => Endpoint::parse(&t)
                    .map_err(|err| field_error(&format!("endpoints[{i}]"), err.message)),
            })
            .collect::<Result<_, _>>()?;
        f.service = self.service;
        f.unique_id_from_tool = self.unique_id_from_tool;
        f.vuln_id_from_tool = self.vuln_id_from_tool;
        f.mitigation = self.mitigation;
        f.impact = self.impact;
        f.steps_to_reproduce = self.steps_to_reproduce;
        f.references = self.references;
        f.param = self.param;
        f.payload = self.payload;
        f.request_response = self.request_response;
        f.fix_available = self.fix_available;
        f.fix_version = self.fix_version;
        f.static_finding = self.static_finding.unwrap_or(false);
        f.dynamic_finding = self.dynamic_finding.unwrap_or(false);
        f.scanner_confidence = self.scanner_confidence;
        f.tags = self.tags;
        f.date = self
            .date
            .filter(|d| !d.trim().is_empty())
            .map(|d| parse_day("date", &d))
            .transpose()?;
        f.occurrences = self
            .occurrences
            .map(|n| {
                i32::try_from(n)
                    .map_err(|_| field_error("occurrences", format!("{n} is not a count")))
            })
            .transpose()?;
        // The findings API's own checks: what it would refuse, this import refuses too.
        f.normalize().map_err(|e| (e.field, e.message))
    }
}

// JSON

/// The document's top level: `{"findings": [...]}` or the bare list, each finding checked and
/// handed on as it is read.
struct Document<'a, 'b> {
    ctx: &'a Context,
    sink: &'a mut Sink<'b>,
}

impl Document<'_, '_> {
    fn each(&mut self, walk: &JsonWalk, g: GenericFinding) -> Result<(), ParseError> {
        match g.into_finding(self.ctx) {
            Ok(f) => (self.sink)(f),
            Err((field, message)) => {
                let at = walk
                    .path()
                    .map_or(field.clone(), |p| format!("{p}.{field}"));
                Err(ParseError::new(
                    NAME,
                    Some(Location::default().with_path(at)),
                    message,
                ))
            }
        }
    }
}

impl TopLevelArrays for Document<'_, '_> {
    const EXPECTING: &'static str = "an object with a `findings` array, or an array of findings";
    const MISSING: &'static str = "expected a `findings` array";
    // Other top-level keys (a report name, a tool version) describe the report.
    const KEYS: &'static [&'static str] = &["findings"];
    const ARRAY_TOO: bool = true;

    fn read_value<'de, A: MapAccess<'de>>(
        &mut self,
        walk: &JsonWalk,
        _key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        map.next_value_seed(EachElement::new(walk, "findings", |g, _| {
            self.each(walk, g)
        }))
    }

    fn read_array<'de, A: SeqAccess<'de>>(
        &mut self,
        walk: &JsonWalk,
        seq: A,
    ) -> Result<(), A::Error> {
        EachElement::new(walk, "findings", |g, _| self.each(walk, g)).visit_seq(seq)
    }
}

// CSV

fn csv_location(pos: Option<&csv::Position>) -> Option<Location> {
    pos.map(|p| Location {
        record: Some(p.record() + 1),
        line: Some(p.line()),
        byte: Some(p.byte()),
        ..Default::default()
    })
}

fn csv_bool(column: &str, cell: &str) -> Result<bool, FieldError> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Ok(true),
        "false" | "no" | "n" | "0" => Ok(false),
        _ => Err(field_error(
            column,
            format!("expected true or false, found '{cell}'"),
        )),
    }
}

fn csv_number<T: std::str::FromStr>(column: &str, cell: &str, what: &str) -> Result<T, FieldError> {
    cell.trim()
        .parse()
        .map_err(|_| field_error(column, format!("expected {what}, found '{cell}'")))
}

fn csv_list(cell: &str) -> Vec<String> {
    cell.split(CSV_LIST_SEPARATOR)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Sets one CSV cell on the finding; an empty cell leaves the field unset.
fn set_csv_field(g: &mut GenericFinding, column: &str, cell: &str) -> Result<(), FieldError> {
    if cell.trim().is_empty() {
        return Ok(());
    }
    let text = || Some(cell.to_owned());
    match column {
        "title" => g.title = text(),
        "severity" => g.severity = text(),
        "description" => g.description = text(),
        "status" => g.status = text(),
        "verified" => g.verified = Some(csv_bool(column, cell)?),
        "cwe" => g.cwe = Some(ScalarText(cell.to_owned())),
        "cwes" => g.cwes = csv_list(cell).into_iter().map(ScalarText).collect(),
        "vulnerability_ids" => g.vulnerability_ids = csv_list(cell),
        "cvss_v3_vector" => g.cvss_v3_vector = text(),
        "cvss_v3_score" => g.cvss_v3_score = Some(csv_number(column, cell, "a score")?),
        "cvss_v4_vector" => g.cvss_v4_vector = text(),
        "cvss_v4_score" => g.cvss_v4_score = Some(csv_number(column, cell, "a score")?),
        "epss_score" => g.epss_score = Some(csv_number(column, cell, "a probability")?),
        "epss_percentile" => g.epss_percentile = Some(csv_number(column, cell, "a fraction")?),
        "known_exploited" => g.known_exploited = Some(csv_bool(column, cell)?),
        "severity_justification" => g.severity_justification = text(),
        "publish_date" => g.publish_date = text(),
        "component_name" => g.component_name = text(),
        "component_version" => g.component_version = text(),
        "component_purl" => g.component_purl = text(),
        "file_path" => g.file_path = text(),
        "line" => g.line = Some(csv_number(column, cell, "a line number")?),
        "endpoints" => {
            g.endpoints = csv_list(cell)
                .into_iter()
                .map(EndpointInput::Text)
                .collect()
        }
        "service" => g.service = text(),
        "unique_id_from_tool" => g.unique_id_from_tool = text(),
        "vuln_id_from_tool" => g.vuln_id_from_tool = text(),
        "mitigation" => g.mitigation = text(),
        "impact" => g.impact = text(),
        "steps_to_reproduce" => g.steps_to_reproduce = text(),
        "references" => g.references = text(),
        "param" => g.param = text(),
        "payload" => g.payload = text(),
        "request_response" => {
            return Err(field_error(
                column,
                "HTTP request/response pairs can only be given in the JSON form",
            ));
        }
        "fix_available" => g.fix_available = Some(csv_bool(column, cell)?),
        "fix_version" => g.fix_version = text(),
        "static_finding" => g.static_finding = Some(csv_bool(column, cell)?),
        "dynamic_finding" => g.dynamic_finding = Some(csv_bool(column, cell)?),
        "scanner_confidence" => g.scanner_confidence = text(),
        "tags" => g.tags = csv_list(cell),
        "date" => g.date = text(),
        "occurrences" => g.occurrences = Some(csv_number(column, cell, "a count")?),
        other => return Err(field_error(other, "unknown column")),
    }
    Ok(())
}

fn parse_csv(
    input: &mut dyn BufRead,
    ctx: &Context,
    sink: &mut Sink<'_>,
) -> Result<(), ParseError> {
    let csv_error = |e: csv::Error| {
        let loc = csv_location(e.position());
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("expected {expected_len} cells like the header row, found {len}"),
            csv::ErrorKind::Utf8 { .. } => "expected UTF-8 text".to_owned(),
            _ => e.to_string(),
        };
        ParseError::new(NAME, loc, message)
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for (i, h) in headers.iter().enumerate() {
        if !FIELDS.contains(&h.as_str()) {
            return Err(ParseError::new(
                NAME,
                Some(Location::record(1).with_path(format!("column {}", i + 1))),
                format!(
                    "unknown column '{h}'; expected finding field names: {}",
                    FIELDS.join(", ")
                ),
            ));
        }
        if headers.iter().take(i).any(|x| x == h) {
            return Err(ParseError::new(
                NAME,
                Some(Location::record(1).with_path(format!("column {}", i + 1))),
                format!("column '{h}' is given twice"),
            ));
        }
    }
    if !headers.iter().any(|h| h == "severity") {
        return Err(ParseError::new(
            NAME,
            Some(Location::record(1)),
            "expected a `severity` column in the header row",
        ));
    }
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => return Err(csv_error(e)),
        }
        let loc = csv_location(record.position());
        let mut g = GenericFinding::default();
        let outcome = headers
            .iter()
            .zip(record.iter())
            .try_for_each(|(column, cell)| set_csv_field(&mut g, column, cell))
            .and_then(|()| g.into_finding(ctx));
        match outcome {
            Ok(f) => sink(f)?,
            Err((field, message)) => {
                return Err(ParseError::new(
                    NAME,
                    loc.map(|l| l.with_path(field)),
                    message,
                ));
            }
        }
    }
}

impl Parser for Generic {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        match peek_first_significant_byte(input).map_err(|e| io_error(NAME, &e))? {
            None => Err(ParseError::new(
                NAME,
                Some(Location::byte(0)),
                "expected JSON ({\"findings\": [...]}) or CSV with a header row; the report is empty",
            )),
            Some(b'{' | b'[') => walk_top_level(NAME, input, ctx.size_hint, &mut Document { ctx, sink }),
            Some(_) => parse_csv(input, ctx, sink),
        }
    }
}
