//! Helpers shared by the JSON report parsers (Snyk, Dependency-Track, Checkmarx ONE, Probely).
//!
//! The vendors these parsers read are loose about types (a score is a number in one release and
//! a string in the next, a date is ISO text or epoch milliseconds), so the readers here accept
//! every spelling seen in the wild and turn anything else into "absent" rather than an error.

use crate::ParseError;
use chrono::{DateTime, NaiveDate};
use domain::{NewFinding, Title};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::io::BufRead;

/// The whole input as bytes, without a UTF-8 byte-order mark (Windows tools write one, and
/// serde_json rejects it).
pub fn read_json_bytes(
    scan_type: &'static str,
    input: &mut dyn BufRead,
) -> Result<Vec<u8>, ParseError> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| ParseError::new(scan_type, None, format!("could not read the report: {e}")))?;
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::new(
            scan_type,
            Some(crate::Location::byte(bytes.len() as u64)),
            "expected a JSON document, found an empty file",
        ));
    }
    Ok(bytes)
}

/// The first byte that is not JSON whitespace: `[` or `{` tells which top-level shape a
/// report has before committing to one.
pub fn first_json_byte(bytes: &[u8]) -> Option<u8> {
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// Fails when the document is a JSON array where `expected` (an object) belongs: serde would
/// otherwise read the array positionally into the object's fields.
pub fn reject_top_level_array(
    scan_type: &'static str,
    bytes: &[u8],
    expected: &str,
) -> Result<(), ParseError> {
    if first_json_byte(bytes) != Some(b'[') {
        return Ok(());
    }
    let line = bytes
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .filter(|b| **b == b'\n')
        .count();
    Err(ParseError::new(
        scan_type,
        Some(crate::Location::line_column(line as u64 + 1, 1)),
        format!("expected {expected}, found an array"),
    ))
}

/// Deserializes a whole document, reporting a syntax or shape error with its line, column and
/// path inside the document (`vulnerabilities[3].identifiers.CVE[0]`).
pub fn deserialize_json<T: DeserializeOwned>(
    scan_type: &'static str,
    bytes: &[u8],
) -> Result<T, ParseError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = (!path.is_empty() && path != ".").then_some(path);
        ParseError::json(scan_type, e.inner(), path.as_deref())
    })?;
    de.end()
        .map_err(|e| ParseError::json(scan_type, &e, None))?;
    Ok(value)
}

/// A finding title from scanner text: whitespace and control characters collapse to single
/// spaces (titles are one line), overlong text is cut at [`Title::MAX_CHARS`], and empty text
/// falls back to `fallback`.
pub fn finding_title(
    scan_type: &'static str,
    raw: &str,
    fallback: &str,
) -> Result<Title, ParseError> {
    let mut text = one_line(raw);
    if text.is_empty() {
        text = one_line(fallback);
    }
    if text.is_empty() {
        text = "Untitled finding".to_owned();
    }
    if text.chars().count() > Title::MAX_CHARS {
        text = text.chars().take(Title::MAX_CHARS - 1).collect::<String>() + "…";
    }
    Title::parse("title", &text).map_err(|e| ParseError::new(scan_type, None, e.to_string()))
}

fn one_line(raw: &str) -> String {
    raw.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Drops or trims what `NewFinding::normalize` would reject, so a quirk in one finding of a
/// report (a CWE of 0, an EPSS of 97 meaning percent, a 300-character tag) never fails the whole
/// import: the value is simply not kept.
pub fn keep_importable(mut f: NewFinding) -> NewFinding {
    let valid_cwe = |c: &i32| (1..=99_999).contains(c);
    f.cwe = f.cwe.filter(valid_cwe);
    f.cwes.retain(valid_cwe);
    let mut seen = std::collections::HashSet::new();
    f.cwes.retain(|c| seen.insert(*c));
    f.line = f.line.filter(|l| *l >= 1);
    let in_range = |max: f64| move |s: &f64| s.is_finite() && (0.0..=max).contains(s);
    f.cvss_v3_score = f.cvss_v3_score.filter(in_range(10.0));
    f.cvss_v4_score = f.cvss_v4_score.filter(in_range(10.0));
    f.epss_score = f.epss_score.filter(in_range(1.0));
    f.epss_percentile = f.epss_percentile.filter(in_range(1.0));
    f.occurrences = f.occurrences.filter(|n| *n >= 1);
    f.vulnerability_ids = std::mem::take(&mut f.vulnerability_ids)
        .into_iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 200
                && !id.chars().any(|c| c.is_whitespace() || c.is_control())
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    f.vulnerability_ids.retain(|id| seen.insert(id.clone()));
    let mut tags: Vec<String> = Vec::new();
    for tag in std::mem::take(&mut f.tags) {
        let tag: String = one_line(&tag).chars().take(100).collect();
        if !tag.is_empty() && !tags.contains(&tag) && tags.len() < 100 {
            tags.push(tag);
        }
    }
    f.tags = tags;
    f
}

/// Text from a string, number or boolean; `None` for null, empty strings and containers.
pub fn json_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A finite number from a JSON number or a numeric string (`"0.00046"`).
pub fn json_f64(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    n.filter(|x| x.is_finite())
}

/// An integer from a JSON integer, an integral float or a numeric string.
pub fn json_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// A line number: positive and within `i32`.
pub fn json_line(v: &Value) -> Option<i32> {
    json_i64(v)
        .and_then(|n| i32::try_from(n).ok())
        .filter(|n| *n >= 1)
}

/// A CWE number from `79`, `"79"`, `"CWE-79"` or `"cwe-79: Improper Neutralization…"`.
pub fn cwe_number(v: &Value) -> Option<i32> {
    match v {
        Value::Number(_) => json_i64(v).and_then(|n| i32::try_from(n).ok()),
        Value::String(s) => cwe_from_text(s),
        _ => None,
    }
    .filter(|c| (1..=99_999).contains(c))
}

/// The number in `CWE-79`, `cwe-79` or a bare `79`.
pub fn cwe_from_text(s: &str) -> Option<i32> {
    let t = s.trim();
    let rest = match t.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("cwe-") => t.get(4..).unwrap_or(""),
        _ => t,
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse::<i32>()
        .ok()
        .filter(|c| (1..=99_999).contains(c))
}

/// The calendar day of ISO-8601 text (`2024-12-13T12:29:59.035Z`, `2025-07-11 03:16:03.563`,
/// `2024-03-27T19:15:48+00:00`): the date part is what a finding keeps.
pub fn date_from_text(s: &str) -> Option<NaiveDate> {
    let day = s.trim().get(..10)?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// A day from ISO text, epoch milliseconds (Dependency-Track) or `{"seconds": n}` (protobuf
/// timestamps in Checkmarx ONE exports).
pub fn json_date(v: &Value) -> Option<NaiveDate> {
    match v {
        Value::String(s) => date_from_text(s),
        Value::Number(_) => json_i64(v)
            .and_then(DateTime::from_timestamp_millis)
            .map(|d| d.date_naive()),
        Value::Object(o) => o
            .get("seconds")
            .and_then(json_i64)
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map(|d| d.date_naive()),
        _ => None,
    }
}

/// Non-empty trimmed text, or `None`.
pub fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Sets the CVSS vector on the v3 or v4 field by its prefix (`CVSS:4.0/…` is v4).
pub fn set_cvss_vector(f: &mut NewFinding, vector: &str) {
    let v = vector.trim();
    if v.is_empty() {
        return;
    }
    if v.starts_with("CVSS:4") {
        f.cvss_v4_vector = Some(v.to_owned());
    } else {
        f.cvss_v3_vector = Some(v.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Severity, TestId};
    use serde_json::json;

    #[test]
    fn titles_are_one_bounded_line() {
        let t = finding_title("x", "  SQL\ninjection\t in  login ", "fb").unwrap();
        assert_eq!(t.as_str(), "SQL injection in login");
        assert_eq!(
            finding_title("x", " \n", "fallback").unwrap().as_str(),
            "fallback"
        );
        assert_eq!(
            finding_title("x", "", "").unwrap().as_str(),
            "Untitled finding"
        );
        let long = "é".repeat(3000);
        assert_eq!(
            finding_title("x", &long, "")
                .unwrap()
                .as_str()
                .chars()
                .count(),
            Title::MAX_CHARS
        );
    }

    #[test]
    fn lenient_readers() {
        assert_eq!(json_f64(&json!("0.00046")), Some(0.00046));
        assert_eq!(json_f64(&json!("n/a")), None);
        assert_eq!(json_i64(&json!(12.0)), Some(12));
        assert_eq!(json_line(&json!(0)), None);
        assert_eq!(cwe_number(&json!("CWE-79")), Some(79));
        assert_eq!(cwe_number(&json!(352)), Some(352));
        assert_eq!(cwe_number(&json!("")), None);
        assert_eq!(cwe_number(&json!(0)), None);
        assert_eq!(json_text(&json!(6.5)).as_deref(), Some("6.5"));
        assert_eq!(
            json_date(&json!("2025-07-11 03:16:03.563")),
            NaiveDate::from_ymd_opt(2025, 7, 11)
        );
        assert_eq!(
            json_date(&json!(1613347200000_i64)),
            NaiveDate::from_ymd_opt(2021, 2, 15)
        );
        assert_eq!(
            json_date(&json!({"seconds": 1613347200})),
            NaiveDate::from_ymd_opt(2021, 2, 15)
        );
        assert_eq!(json_date(&json!("2025-1")), None);
    }

    #[test]
    fn keep_importable_drops_what_normalize_rejects() {
        let mut f = NewFinding::new(TestId(1), Title::parse("t", "t").unwrap(), Severity::Low);
        f.cwe = Some(0);
        f.cwes = vec![79, 0, 100_000, 79];
        f.line = Some(0);
        f.epss_score = Some(97.0);
        f.vulnerability_ids = vec!["CVE-1".into(), "not one".into(), " ".into(), "CVE-1".into()];
        f.tags = vec!["a\nb".into(), "x".repeat(300), "a b".into()];
        let f = keep_importable(f);
        assert_eq!(f.cwes, [79]);
        assert_eq!(f.vulnerability_ids, ["CVE-1"]);
        let f = f.normalize().unwrap();
        assert_eq!(f.line, None);
        assert_eq!(f.epss_score, None);
        assert_eq!(f.vulnerability_ids, ["CVE-1"]);
        assert_eq!(f.tags.len(), 2);
    }

    #[test]
    fn json_errors_carry_position_and_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Doc {
            items: Vec<u32>,
        }
        let err = deserialize_json::<Doc>("T", b"{\n  \"items\": [1, \"two\"]\n}").unwrap_err();
        let loc = err.location.clone().unwrap();
        assert_eq!(loc.line, Some(2));
        assert_eq!(loc.path.as_deref(), Some("items[1]"));
        assert!(err.message.contains("expected u32"), "{err}");
        let empty = read_json_bytes("T", &mut &b" \n"[..]).unwrap_err();
        assert!(empty.message.contains("empty"), "{empty}");
    }
}
