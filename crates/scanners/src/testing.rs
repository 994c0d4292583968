//! Helpers for parser tests: fixture paths and one-call parsing.

use crate::{Context, ParseError, Parser, parse_to_vec};
use domain::{NewFinding, TestId};
use std::path::PathBuf;

/// `fixtures/scans/<rel>` at the repository root.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scans")
        .join(rel)
}

/// Parses a fixture file with a parser, stamping test id 1.
pub fn parse_fixture(parser: &dyn Parser, rel: &str) -> Result<Vec<NewFinding>, ParseError> {
    let path = fixture(rel);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut reader = std::io::BufReader::new(file);
    parse_to_vec(parser, &mut reader, &Context::new(TestId(1)))
}

/// Parses bytes with a parser, stamping test id 1.
pub fn parse_bytes(parser: &dyn Parser, bytes: &[u8]) -> Result<Vec<NewFinding>, ParseError> {
    let mut reader = bytes;
    parse_to_vec(parser, &mut reader, &Context::new(TestId(1)))
}
