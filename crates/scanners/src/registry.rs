//! Every supported `scan_type`, by the name DefectDojo gives it.

use crate::Parser;
use crate::formats;

/// A report format vulnbridge can import.
pub struct ScanType {
    /// DefectDojo's exact `scan_type` name, e.g. `Semgrep JSON Report`.
    pub name: &'static str,
    /// One line for `--help`, the UI's picker and the API docs.
    pub description: &'static str,
    /// File extensions the UI suggests (`json`, `xml`, `nessus`, `csv`…).
    pub extensions: &'static [&'static str],
    pub parser: &'static dyn Parser,
}

static SCAN_TYPES: &[ScanType] = formats::ALL;

pub fn scan_types() -> &'static [ScanType] {
    SCAN_TYPES
}

/// Finds a scan type by name, ignoring case and surrounding space.
pub fn find(name: &str) -> Option<&'static ScanType> {
    let name = name.trim();
    SCAN_TYPES.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}
