//! Checks every parser test of this branch shares: fixtures parse into findings the domain
//! accepts, and damaged input never panics.
#![allow(dead_code)]

use domain::NewFinding;
use scanners::Parser;
use scanners::testing::{fixture, parse_bytes, parse_fixture};

/// Parses a fixture that must parse, and checks every finding passes `normalize`
/// (what the importer does next).
pub fn parse_ok(parser: &dyn Parser, rel: &str) -> Vec<NewFinding> {
    let findings = parse_fixture(parser, rel).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_normalize(&findings, rel);
    findings
}

pub fn assert_normalize(findings: &[NewFinding], what: &str) {
    for (i, f) in findings.iter().enumerate() {
        if let Err(e) = f.clone().normalize() {
            panic!(
                "{what}: finding {i} ({}) is refused by normalize: {e}",
                f.title
            );
        }
    }
}

pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = fixture(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Any input: findings the domain accepts, or an error; never a panic.
pub fn never_panics(parser: &dyn Parser, bytes: &[u8]) {
    if let Ok(findings) = parse_bytes(parser, bytes) {
        assert_normalize(&findings, "generated input");
    }
}

/// `bytes` cut at `cut` (any index, clamped), and with the byte at `flip` replaced.
pub fn damaged(bytes: &[u8], cut: usize, flip: usize, with: u8) -> (Vec<u8>, Vec<u8>) {
    let cut = cut % (bytes.len() + 1);
    let truncated = bytes.get(..cut).unwrap_or_default().to_vec();
    let mut flipped = bytes.to_vec();
    if !flipped.is_empty() {
        let at = flip % flipped.len();
        if let Some(b) = flipped.get_mut(at) {
            *b = with;
        }
    }
    (truncated, flipped)
}
