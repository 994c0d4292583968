//! Helpers the formats of this crate share: text clean-up into domain values, CWE and
//! advisory-id extraction, and the machinery that walks a JSON document one array element
//! at a time so that huge reports never sit in memory whole.

// `ParseError` is the crate-wide error contract (lib.rs), passed by value through every
// parser and sink; clippy's size lint would have it boxed in one module only.
#![allow(clippy::result_large_err)]

use crate::{Location, ParseError};
use domain::{NewFinding, Severity, Title};
use serde::de::{self, DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use std::cell::RefCell;
use std::fmt;
use std::io::BufRead;

/// The first CWE named in `text`: `CWE-79: Improper…`, `cwe-079`, `CWE 79`, `CWE_79` → 79.
/// `None` when there is none, or when its number is not a CWE number (1–99999).
pub fn cwe_from_text(text: &str) -> Option<i32> {
    cwes_in_text(text).into_iter().next()
}

/// Every CWE named in `text`, in order of appearance, without repeats.
pub fn cwes_in_text(text: &str) -> Vec<i32> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(pos) = lower.get(from..).and_then(|rest| rest.find("cwe")) {
        let mut i = from + pos + 3;
        from = i;
        // One optional separator: "CWE-79", "CWE 79", "CWE_79", "CWE:79" and plain "CWE79".
        if matches!(bytes.get(i), Some(b'-' | b' ' | b'_' | b':')) {
            i += 1;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            continue;
        }
        if let Some(n) = lower
            .get(start..i)
            .and_then(|d| d.parse::<i32>().ok())
            .filter(|n| (1..=99_999).contains(n))
            && !out.contains(&n)
        {
            out.push(n);
        }
        from = i;
    }
    out
}

/// A CWE given as a bare number or number-like string ("79", "079"); `None` if out of range.
pub fn cwe_from_number(n: i64) -> Option<i32> {
    i32::try_from(n).ok().filter(|n| (1..=99_999).contains(n))
}

/// CVE and GHSA identifiers in free text, in order, without repeats.
/// `CVE-YYYY-NNNN…` needs at least four digits after the year; GHSA ids are
/// `GHSA-xxxx-xxxx-xxxx` in GitHub's alphabet.
pub fn advisory_ids_in_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = bytes.get(i..).unwrap_or_default();
        // An id starts at a word boundary so "XCVE-…" is not taken.
        let boundary = i == 0 || bytes.get(i - 1).is_some_and(|b| !b.is_ascii_alphanumeric());
        let found = if boundary && rest.starts_with(b"CVE-") {
            cve_len(rest)
        } else if boundary && rest.starts_with(b"GHSA-") {
            ghsa_len(rest)
        } else {
            None
        };
        match found {
            Some(len) => {
                if let Some(id) = text.get(i..i + len) {
                    let id = domain::normalize_vulnerability_id(id);
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

fn cve_len(s: &[u8]) -> Option<usize> {
    let year = s.get(4..8)?;
    if !year.iter().all(u8::is_ascii_digit) || s.get(8) != Some(&b'-') {
        return None;
    }
    let digits = s
        .get(9..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    (digits >= 4).then_some(9 + digits)
}

fn ghsa_len(s: &[u8]) -> Option<usize> {
    // GHSA-xxxx-xxxx-xxxx: three groups of four from GitHub's base-32 alphabet.
    const ALPHABET: &[u8] = b"23456789CFGHJMPQRVWX";
    for group in 0..3 {
        let at = 5 + group * 5;
        let chunk = s.get(at..at + 4)?;
        if !chunk.iter().all(|b| ALPHABET.contains(b)) {
            return None;
        }
        if group < 2 && s.get(at + 4) != Some(&b'-') {
            return None;
        }
    }
    Some(19)
}

/// The severity band of a CVSS base score, as CVSS v3 defines them
/// (0 none → Info, <4 Low, <7 Medium, <9 High, else Critical).
pub fn severity_from_cvss_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// A title from the first candidate that has text; `fallback` when none has.
///
/// Rule: control characters (newlines included) become spaces, runs of whitespace collapse
/// to one, and anything past `Title::MAX_CHARS` characters is cut and ends in "…". Scanners
/// write multi-line and very long messages, and refusing the finding over its title would
/// lose it; `fallback` should be a non-empty rule id or a fixed word.
pub fn title_from_candidates<'a>(
    candidates: impl IntoIterator<Item = Option<&'a str>>,
    fallback: &str,
) -> Title {
    for candidate in candidates.into_iter().flatten() {
        if let Some(t) = clean_title(candidate) {
            return t;
        }
    }
    clean_title(fallback).unwrap_or_else(untitled)
}

fn untitled() -> Title {
    // Not input-derived: a fixed 16-character ASCII title always passes `Title::parse`.
    #[allow(clippy::expect_used)]
    Title::parse("title", "Untitled finding").expect("a fixed title is valid")
}

fn clean_title(raw: &str) -> Option<Title> {
    let one_line: String = raw
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if one_line.is_empty() {
        return None;
    }
    let max = Title::MAX_CHARS;
    let text = if one_line.chars().count() > max {
        let mut cut: String = one_line.chars().take(max - 1).collect();
        cut.push('…');
        cut
    } else {
        one_line
    };
    Title::parse("title", &text).ok()
}

/// Drops or clamps the values `NewFinding::normalize` would refuse, so that one odd value in
/// a report (a line 0, a CWE 0, an id with a space, an endless tag) costs that value, not the
/// finding or the whole import.
pub fn fit_finding_to_domain(mut f: NewFinding) -> NewFinding {
    f.cwe = f.cwe.filter(|c| (1..=99_999).contains(c));
    f.cwes.retain(|c| (1..=99_999).contains(c));
    f.line = f.line.filter(|l| *l >= 1);
    f.occurrences = f.occurrences.filter(|n| *n >= 1);
    f.cvss_v3_score = f.cvss_v3_score.filter(|s| (0.0..=10.0).contains(s));
    f.cvss_v4_score = f.cvss_v4_score.filter(|s| (0.0..=10.0).contains(s));
    f.epss_score = f.epss_score.filter(|s| (0.0..=1.0).contains(s));
    f.epss_percentile = f.epss_percentile.filter(|s| (0.0..=1.0).contains(s));
    f.vulnerability_ids.retain(|id| {
        let id = id.trim();
        id.len() <= 200 && !id.chars().any(|c| c.is_whitespace() || c.is_control())
    });
    f.tags = f
        .tags
        .into_iter()
        .map(|t| {
            t.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(100)
                .collect::<String>()
        })
        .collect();
    f.tags.truncate(100);
    if f.status == domain::Status::Duplicate {
        f.status = domain::Status::Active;
    }
    f
}

/// Text in a Markdown code block whose fence cannot be closed by the text itself.
pub fn markdown_code_block(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}\n{text}\n{fence}")
}

/// The first byte that is not whitespace (after a UTF-8 byte-order mark), without consuming
/// it: formats that come as JSON, CSV, HTML or zip are told apart by it. A byte-order mark
/// is consumed, and so is whitespace longer than the reader's buffer; `None` at end of input.
pub fn peek_first_significant_byte(input: &mut dyn BufRead) -> std::io::Result<Option<u8>> {
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

/// A read failure, as a `ParseError` of `scan_type`.
pub fn io_error(scan_type: &'static str, e: &std::io::Error) -> ParseError {
    ParseError::new(scan_type, None, format!("could not read the report: {e}"))
}

/// `#[serde(deserialize_with = "null_as_default")]`: a JSON `null` reads as the default
/// (scanners write `"references": null` where they mean an empty list).
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: de::Deserializer<'de>,
    T: de::Deserialize<'de> + Default,
{
    Ok(<Option<T> as de::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// One string or a list of them; scanners write either for the same field.
#[derive(Debug, Clone, Default)]
pub struct StringOrList(pub Vec<String>);

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
pub struct ScalarText(pub String);

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

/// Shared state of one streaming walk over a JSON document: where in the document the
/// walker is (for error messages) and why it stopped, when a finding could not be built or
/// the sink refused one. Seeds and visitors borrow it; serde errors cannot carry a
/// `ParseError`, so the real error waits here while a placeholder unwinds serde.
pub struct JsonWalk {
    pub scan_type: &'static str,
    path: RefCell<Vec<String>>,
    stopped: RefCell<Option<ParseError>>,
}

impl JsonWalk {
    pub fn new(scan_type: &'static str) -> Self {
        JsonWalk {
            scan_type,
            path: RefCell::new(Vec::new()),
            stopped: RefCell::new(None),
        }
    }

    /// Entering `segment` (`results[3]`); on success call `leave`. An error leaves the path
    /// as it was, so the error names where it happened.
    pub fn enter(&self, segment: String) {
        self.path.borrow_mut().push(segment);
    }

    pub fn leave(&self) {
        self.path.borrow_mut().pop();
    }

    /// The current path, `runs[0].results[12]`; `None` at the top level.
    pub fn path(&self) -> Option<String> {
        let p = self.path.borrow();
        (!p.is_empty()).then(|| p.join("."))
    }

    /// Keeps `err` and returns a serde error that unwinds the walk.
    pub fn stop<E: de::Error>(&self, err: ParseError) -> E {
        let mut slot = self.stopped.borrow_mut();
        if slot.is_none() {
            *slot = Some(err);
        }
        E::custom("stopped")
    }

    /// A `ParseError` at the current path without a line (for values the walker judged).
    pub fn error_here(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(
            self.scan_type,
            self.path().map(|p| Location::default().with_path(p)),
            message,
        )
    }

    /// Runs `seed` over the whole of `input` as one JSON document and turns the outcome
    /// into a `ParseError` that names the position and the path.
    pub fn run<'de, S>(&self, input: &mut dyn BufRead, seed: S) -> Result<(), ParseError>
    where
        S: DeserializeSeed<'de, Value = ()>,
    {
        let mut de = serde_json::Deserializer::from_reader(input);
        let outcome = seed.deserialize(&mut de).and_then(|()| de.end());
        match outcome {
            Ok(()) => Ok(()),
            Err(e) => {
                if let Some(stopped) = self.stopped.borrow_mut().take() {
                    return Err(stopped);
                }
                if e.is_io() {
                    return Err(ParseError::new(
                        self.scan_type,
                        Some(Location::line_column(e.line() as u64, e.column() as u64)),
                        format!("could not read the report: {e}"),
                    ));
                }
                Err(ParseError::json(self.scan_type, &e, self.path().as_deref()))
            }
        }
    }
}

/// Visits a JSON array element by element: each element is read as a `T` and handed to
/// `each` with its index before the next is read, so only one element is in memory.
/// `name` is the array's key for error paths (`results` → `results[3]`).
pub struct EachElement<'w, T, F> {
    pub walk: &'w JsonWalk,
    pub name: &'static str,
    pub each: F,
    pub marker: std::marker::PhantomData<fn() -> T>,
}

impl<'w, T, F> EachElement<'w, T, F> {
    pub fn new(walk: &'w JsonWalk, name: &'static str, each: F) -> Self {
        EachElement {
            walk,
            name,
            each,
            marker: std::marker::PhantomData,
        }
    }
}

impl<'de, T, F> DeserializeSeed<'de> for EachElement<'_, T, F>
where
    T: DeserializeOwned,
    F: FnMut(T, usize) -> Result<(), ParseError>,
{
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T, F> Visitor<'de> for EachElement<'_, T, F>
where
    T: DeserializeOwned,
    F: FnMut(T, usize) -> Result<(), ParseError>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array for `{}`", self.name)
    }

    // `null` where a list was expected means an empty list (Semgrep Pro, SonarQube do this).
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            self.walk.enter(format!("{}[{index}]", self.name));
            let Some(item) = seq.next_element::<T>()? else {
                self.walk.leave();
                return Ok(());
            };
            if let Err(e) = (self.each)(item, index) {
                return Err(self.walk.stop(e));
            }
            self.walk.leave();
            index += 1;
        }
    }
}

/// Findings folded by a key, in order of first appearance: formats whose tool lists the same
/// problem several times (Semgrep, SonarQube's aggregated mode) keep one finding and count
/// the rest. Holds one finding per distinct key, never the document.
#[derive(Debug, Default)]
pub struct FindingsByKey {
    order: Vec<NewFinding>,
    index: std::collections::HashMap<String, usize>,
}

impl FindingsByKey {
    /// Adds `finding` under `key`; when the key was seen, `merge` folds it into the first.
    pub fn add(
        &mut self,
        key: String,
        finding: NewFinding,
        merge: impl FnOnce(&mut NewFinding, NewFinding),
    ) {
        match self.index.get(&key).and_then(|i| self.order.get_mut(*i)) {
            Some(first) => merge(first, finding),
            None => {
                self.index.insert(key, self.order.len());
                self.order.push(finding);
            }
        }
    }

    /// The folded findings, in order of first appearance.
    pub fn into_findings(self) -> Vec<NewFinding> {
        self.order
    }
}

/// The usual merge: one more occurrence of the first finding.
pub fn count_occurrence(first: &mut NewFinding, _again: NewFinding) {
    first.occurrences = Some(first.occurrences.unwrap_or(1).saturating_add(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cwes_are_found_in_their_spellings() {
        assert_eq!(
            cwe_from_text("CWE-696: Incorrect Behavior Order"),
            Some(696)
        );
        assert_eq!(cwe_from_text("external/cwe/cwe-079"), Some(79));
        assert_eq!(cwe_from_text("MITRE, CWE 783 - x"), Some(783));
        assert_eq!(cwe_from_text("no weakness"), None);
        assert_eq!(cwe_from_text("CWE-0"), None);
        assert_eq!(cwe_from_text("CWE-"), None);
        assert_eq!(cwes_in_text("CWE-120, cwe-79 and CWE-120"), [120, 79]);
    }

    #[test]
    fn advisory_ids_are_found_in_messages() {
        assert_eq!(
            advisory_ids_in_text(
                "Filename: x | Reference: CVE-2024-2529 | GHSA-frr2-c345-p7c2, cve-2023-52428 (7.5) XCVE-2020-1234"
            ),
            ["CVE-2024-2529", "GHSA-frr2-c345-p7c2", "CVE-2023-52428"]
        );
        assert!(advisory_ids_in_text("CVE-20-1 GHSA-zzzz-zzzz-zzzz").is_empty());
    }

    #[test]
    fn titles_are_one_bounded_line() {
        let t = title_from_candidates([None, Some("  \n "), Some("a\nb\t c")], "rule");
        assert_eq!(t.as_str(), "a b c");
        assert_eq!(title_from_candidates([None], "rule.id").as_str(), "rule.id");
        assert_eq!(
            title_from_candidates([None], " ").as_str(),
            "Untitled finding"
        );
        let long = "x".repeat(Title::MAX_CHARS + 5);
        let t = title_from_candidates([Some(long.as_str())], "r");
        assert_eq!(t.as_str().chars().count(), Title::MAX_CHARS);
        assert!(t.as_str().ends_with('…'));
    }

    #[test]
    fn code_blocks_outlast_backticks_inside() {
        assert_eq!(markdown_code_block("a"), "```\na\n```");
        assert_eq!(markdown_code_block("x ```` y"), "`````\nx ```` y\n`````");
    }

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
}
