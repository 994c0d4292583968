//! Robustness checks shared by the JSON parsers' tests: whatever the bytes, a parser returns
//! findings or an error and never panics, and every finding it returns passes
//! `NewFinding::normalize` (one odd value must not fail a whole import).

// Each test binary uses some of these helpers.
#![allow(dead_code)]

use proptest::prelude::*;
use scanners::Parser;
use scanners::testing::{fixture, parse_bytes};
use serde_json::{Map, Value};

/// Parses `bytes`; on success every finding must be importable as is.
pub fn check(parser: &dyn Parser, bytes: &[u8]) {
    if let Ok(findings) = parse_bytes(parser, bytes) {
        for f in findings {
            let title = f.title.to_string();
            if let Err(e) = f.normalize() {
                panic!("finding '{title}' would be rejected on import: {e}");
            }
        }
    }
}

pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = fixture(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Any JSON value, with object keys drawn from `keys` (the format's own field names) so that
/// generated documents reach the mapping code rather than being ignored as unknown fields.
pub fn arb_json(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        prop::sample::select(vec![
            "",
            " ",
            "0",
            "-1",
            "CVE-2021-44228",
            "CWE-79",
            "cwe-",
            "x@",
            "@",
            "a@b@c",
            "2024-02-30",
            "2025-07-11T03:16:03Z",
            "NOT_EXPLOITABLE",
            "FALSE_POSITIVE",
            "To Verify",
            "high",
            "critical",
            "sast",
            "kics",
            "sca",
            "code",
            "issue",
            "package_vulnerability",
            "resolved",
            "```",
            "http://",
            "https://example.com:99999/x",
            "é\u{0}\n\t",
            "##  Remediation ## References",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(keys), inner), 0..8).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// Replaces the `at`-th node (pre-order, wrapping around) of `doc` with `with`.
pub fn replace_node(doc: &mut Value, at: usize, with: Value) {
    let total = count_nodes(doc);
    let mut target = at % total.max(1);
    replace_walk(doc, &mut target, with);
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

fn replace_walk(v: &mut Value, target: &mut usize, with: Value) -> Option<Value> {
    if *target == 0 {
        *v = with;
        return None;
    }
    *target -= 1;
    let mut with = Some(with);
    match v {
        Value::Array(a) => {
            for child in a {
                with = replace_walk(child, target, with?);
            }
        }
        Value::Object(o) => {
            for child in o.values_mut() {
                with = replace_walk(child, target, with?);
            }
        }
        _ => {}
    }
    with
}

/// The fixture cut at `cut` (a fraction of its length).
pub fn truncated(bytes: &[u8], cut: prop::sample::Index) -> &[u8] {
    &bytes[..cut.index(bytes.len() + 1)]
}

/// A sink that fails on the first finding stops the parse: the parser returns that error and
/// asks for no further findings.
pub fn assert_sink_error_stops(parser: &dyn Parser, bytes: &[u8]) {
    let mut calls = 0;
    let mut input = bytes;
    let ctx = scanners::Context::new(domain::TestId(1));
    let result = parser.parse(&mut input, &ctx, &mut |_| {
        calls += 1;
        Err(scanners::ParseError::new("sink", None, "database is gone"))
    });
    let err = result.expect_err("the sink's error comes back");
    assert_eq!(err.message, "database is gone");
    assert_eq!(calls, 1);
}

/// Every fixture, cut at `cuts` lengths spread over the file (and one byte short of whole): the
/// proptest picks fixtures at random, this makes sure each of them is cut.
pub fn check_truncations(parser: &dyn Parser, fixtures: &[&str], cuts: usize) {
    for rel in fixtures {
        let bytes = fixture_bytes(rel);
        let len = bytes.len();
        for i in 0..cuts {
            check(parser, &bytes[..len * i / cuts]);
        }
        check(parser, &bytes[..len.saturating_sub(1)]);
    }
}
