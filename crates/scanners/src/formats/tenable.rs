//! `Tenable Scan`: Nessus `.nessus` (XML, `NessusClientData_v2`) files, Nessus / Tenable.sc /
//! Tenable.io CSV exports, and the Nessus WAS variants of both. XML or CSV is told from the
//! content, not the file name, so a renamed upload still parses.

use super::common::io_error;
use super::{tenable_csv, tenable_xml};
/// The CSV mapping's helpers, for the Tenable connector's export records.
pub(crate) use super::tenable_csv::{cpe_component, cwe_list, epss};
use crate::{Context, ParseError, Parser, Sink};
use domain::Severity;
use std::io::{BufRead, Read};

pub(crate) const SCAN_TYPE: &str = "Tenable Scan";

/// How far to look for the first non-blank line when telling XML from CSV.
const SNIFF_LIMIT: u64 = 64 * 1024;

pub struct TenableParser;

impl Parser for TenableParser {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let mut head = Vec::new();
        loop {
            let before = head.len();
            let read = (&mut *input)
                .take(SNIFF_LIMIT.saturating_sub(before as u64))
                .read_until(b'\n', &mut head)
                .map_err(|e| io_error(SCAN_TYPE, &e))?;
            let blank = first_content(&head).is_empty();
            if read == 0 || !blank || head.len() as u64 >= SNIFF_LIMIT {
                break;
            }
        }
        let first = first_content(&head);
        let Some(&lead) = first.first() else {
            return Err(ParseError::new(
                SCAN_TYPE,
                None,
                "expected a .nessus XML document or a Tenable CSV export, found an empty file",
            ));
        };
        let is_xml = lead == b'<';
        let delimiter = if !is_xml
            && first
                .split(|b| *b == b'\n')
                .next()
                .is_some_and(|l| l.contains(&b';'))
        {
            b';'
        } else {
            b','
        };
        let mut whole = std::io::Cursor::new(head).chain(input);
        if is_xml {
            tenable_xml::parse(&mut whole, ctx, sink)
        } else {
            tenable_csv::parse(&mut whole, delimiter, ctx, sink)
        }
    }
}

/// The sniffed bytes from the first non-blank one (a UTF-8 byte order mark skipped).
fn first_content(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    head.get(start..).unwrap_or(&[])
}

/// Nessus' numeric levels: 0 info … 4 critical; anything else is info, as DefectDojo does.
pub(crate) fn severity_from_level(level: i64) -> Severity {
    match level {
        4 => Severity::Critical,
        3 => Severity::High,
        2 => Severity::Medium,
        1 => Severity::Low,
        _ => Severity::Info,
    }
}
