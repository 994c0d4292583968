//! Reading JSON reports: whole documents, the first byte of a stream, and the lenient value
//! readers for vendors who are loose about types (a score is a number in one release and a
//! string in the next, a date is ISO text or epoch milliseconds). The readers accept every
//! spelling seen in the wild and turn anything else into "absent" rather than an error.
//!
//! Documents too large to hold are walked instead, see `json_walk`.

use super::date::day_of;
use super::io_error;
use super::number::number_in;
use crate::{Location, ParseError};
use chrono::{DateTime, NaiveDate};
use serde::de::{self, DeserializeOwned, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::io::BufRead;

/// The first byte that is not whitespace (after a UTF-8 byte-order mark), without consuming
/// it: formats that come as JSON, CSV, HTML or zip, or as a JSON object or array, are told
/// apart by it. A byte-order mark is consumed, and so is whitespace longer than the reader's
/// buffer; `None` at end of input.
pub(crate) fn peek_first_significant_byte(input: &mut dyn BufRead) -> std::io::Result<Option<u8>> {
    let mut at_start = true;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        if at_start && buf.first() == Some(&0xEF) {
            // A byte-order mark may straddle a buffer boundary: skip its bytes one by one.
            let bom = [0xEF, 0xBB, 0xBF];
            let mut matched = 0;
            while matched < 3 {
                let buf = input.fill_buf()?;
                match buf.first() {
                    Some(b) if bom.get(matched) == Some(b) => {
                        input.consume(1);
                        matched += 1;
                    }
                    // Not a mark: what was consumed was an invalid start anyway.
                    _ => break,
                }
            }
            at_start = false;
            continue;
        }
        at_start = false;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            // Leading whitespace stays unread when it fits the buffer, so that line numbers
            // in later errors count from the real first line.
            Some(i) => return Ok(buf.get(i).copied()),
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// The whole input as bytes, for a document read whole, without a UTF-8 byte-order mark
/// (Windows tools write one, and serde_json rejects it). Nothing but whitespace is an error.
fn read_json_bytes(
    scan_type: &'static str,
    input: &mut dyn BufRead,
) -> Result<Vec<u8>, ParseError> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(scan_type, &e))?;
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::new(
            scan_type,
            Some(Location::byte(bytes.len() as u64)),
            "expected a JSON document, found an empty file",
        ));
    }
    Ok(bytes)
}

/// Whether the document in `bytes` is a JSON array: `[` or `{` tells which top-level shape a
/// report has before committing to one.
fn is_json_array(bytes: &[u8]) -> bool {
    matches!(peek_first_significant_byte(&mut &*bytes), Ok(Some(b'[')))
}

/// Fails when the document is a JSON array where `expected` (an object) belongs: serde would
/// otherwise read the array positionally into the object's fields.
fn reject_top_level_array(
    scan_type: &'static str,
    bytes: &[u8],
    expected: &str,
) -> Result<(), ParseError> {
    if !is_json_array(bytes) {
        return Ok(());
    }
    let line = bytes
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .filter(|b| **b == b'\n')
        .count();
    Err(ParseError::new(
        scan_type,
        Some(Location::line_column(line as u64 + 1, 1)),
        format!("expected {expected}, found an array"),
    ))
}

/// Deserializes a whole document, reporting a syntax or shape error with its line, column and
/// path inside the document (`vulnerabilities[3].identifiers.CVE[0]`).
fn deserialize_json<T: DeserializeOwned>(
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

/// [`read_json_bytes`] then [`deserialize_json`]: a report whose top level has one shape.
pub(crate) fn read_json_document<T: DeserializeOwned>(
    scan_type: &'static str,
    input: &mut dyn BufRead,
) -> Result<T, ParseError> {
    deserialize_json(scan_type, &read_json_bytes(scan_type, input)?)
}

/// [`read_json_document`] for a report whose top level is an object; a top-level array is
/// refused as not `expected` ("a SARIF log object with a `runs` array").
pub(crate) fn read_json_object<T: DeserializeOwned>(
    scan_type: &'static str,
    input: &mut dyn BufRead,
    expected: &str,
) -> Result<T, ParseError> {
    let bytes = read_json_bytes(scan_type, input)?;
    reject_top_level_array(scan_type, &bytes, expected)?;
    deserialize_json(scan_type, &bytes)
}

/// A report that is a list of `T`, or an object `O` holding one (a page of an API, an
/// export): the list as given, or the one `list_in` takes out of the object.
pub(crate) fn read_json_list<T: DeserializeOwned, O: DeserializeOwned>(
    scan_type: &'static str,
    input: &mut dyn BufRead,
    list_in: impl FnOnce(O) -> Result<Vec<T>, ParseError>,
) -> Result<Vec<T>, ParseError> {
    let bytes = read_json_bytes(scan_type, input)?;
    if is_json_array(&bytes) {
        deserialize_json(scan_type, &bytes)
    } else {
        list_in(deserialize_json(scan_type, &bytes)?)
    }
}

/// Text from a string, number or boolean; `None` for null, empty strings and containers.
pub(crate) fn json_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A finite number from a JSON number or a numeric string (`"0.00046"`).
pub(crate) fn json_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite()),
        Value::String(s) => number_in(s),
        _ => None,
    }
}

/// An integer from a JSON integer, an integral float or a numeric string.
pub(crate) fn json_i64(v: &Value) -> Option<i64> {
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
pub(crate) fn json_line(v: &Value) -> Option<i32> {
    json_i64(v)
        .and_then(|n| i32::try_from(n).ok())
        .filter(|n| *n >= 1)
}

/// A day from ISO text, epoch milliseconds (Dependency-Track) or `{"seconds": n}` (protobuf
/// timestamps in Checkmarx ONE exports).
pub(crate) fn json_date(v: &Value) -> Option<NaiveDate> {
    match v {
        Value::String(s) => day_of(s),
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

/// `#[serde(deserialize_with = "null_as_default")]`: a JSON `null` reads as the default
/// (scanners write `"references": null` where they mean an empty list).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: de::Deserializer<'de>,
    T: de::Deserialize<'de> + Default,
{
    Ok(<Option<T> as de::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// One string or a list of them; scanners write either for the same field.
#[derive(Debug, Clone, Default)]
pub(crate) struct StringOrList(pub(crate) Vec<String>);

impl<'de> de::Deserialize<'de> for StringOrList {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StringOrList(vec![v.to_owned()]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StringOrList(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StringOrList(Vec::new()))
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(StringOrList(vec![v.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(StringOrList(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Option<ScalarText>>()? {
                    if let Some(ScalarText(s)) = item {
                        out.push(s);
                    }
                }
                Ok(StringOrList(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string, or a number written where a string was meant (`"cwe": 79`), as text.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScalarText(pub(crate) String);

impl<'de> de::Deserialize<'de> for ScalarText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ScalarText(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(ScalarText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The name this assertion was written against, before the CWE readers merged.
    use crate::formats::common::ids::cwe_in_json as cwe_number;
    use serde_json::json;

    #[test]
    fn first_significant_byte_skips_bom_and_space() {
        let mut r: &[u8] = b"\xEF\xBB\xBF \n {\"a\":1}";
        assert_eq!(
            peek_first_significant_byte(&mut r).ok().flatten(),
            Some(b'{')
        );
        assert!(r.starts_with(b" \n {"));
        let mut r: &[u8] = b"   ";
        assert_eq!(peek_first_significant_byte(&mut r).ok().flatten(), None);
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
