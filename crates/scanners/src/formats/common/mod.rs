//! What the formats of this crate share, one concern a file: turning scanner text into domain
//! values (identifiers, CVSS, titles, endpoints, dates, numbers), reading JSON, XML and HTML
//! the same way everywhere, and making a finding acceptable to the domain.

pub(crate) mod cvss;
pub(crate) mod date;
pub(crate) mod endpoint;
pub(crate) mod finding;
pub(crate) mod html;
pub(crate) mod ids;
pub(crate) mod json;
pub(crate) mod json_walk;
pub(crate) mod number;
pub(crate) mod text;
pub(crate) mod title;
pub(crate) mod xml;

use crate::ParseError;

/// A read failure of the input itself (not a malformed report), as a `ParseError` of
/// `scan_type`. It has no position: the reader failed, not the report.
pub(crate) fn io_error(scan_type: &'static str, e: &std::io::Error) -> ParseError {
    ParseError::new(scan_type, None, format!("could not read the report: {e}"))
}
