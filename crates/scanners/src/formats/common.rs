//! Helpers the formats of this crate share: text clean-up into domain values, CWE and
//! advisory-id extraction, and the machinery that walks a JSON document one array element
//! at a time so that huge reports never sit in memory whole.

use crate::{Location, ParseError};
use domain::{NewFinding, Severity, Title};
use serde::de::{self, DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use std::cell::RefCell;
use std::fmt;
use std::io::BufRead;
use domain::Endpoint;
use quick_xml::events::BytesRef;

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

// ---- Helpers shared by the XML and Tenable/Burp/ASFF parsers ----
/// A title from scanner text: whitespace (newlines included) collapsed, cut to the length a
/// `Title` allows. `None` when nothing is left.
pub(crate) fn finding_title(raw: &str) -> Option<Title> {
    let mut collapsed = String::with_capacity(raw.len().min(Title::MAX_CHARS * 4));
    for word in raw.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(word);
        if collapsed.len() > Title::MAX_CHARS * 4 {
            break;
        }
    }
    let cut: String = collapsed.chars().take(Title::MAX_CHARS).collect();
    Title::parse("title", &cut).ok()
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

/// The CVSS v3 qualitative rating of a base score (0 is "none", shown as info).
pub(crate) fn severity_from_cvss(score: f64) -> Severity {
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

/// A CVSS score if the text is a number between 0 and 10.
pub(crate) fn cvss_score(raw: &str) -> Option<f64> {
    let v: f64 = raw.trim().parse().ok()?;
    (v.is_finite() && (0.0..=10.0).contains(&v)).then_some(v)
}

/// A probability (EPSS) if the text is a number between 0 and 1.
pub(crate) fn probability(raw: &str) -> Option<f64> {
    let v: f64 = raw.trim().parse().ok()?;
    (v.is_finite() && (0.0..=1.0).contains(&v)).then_some(v)
}

const CVSS3_ORDER: [(&str, &[&str]); 22] = [
    ("AV", &["N", "A", "L", "P"]),
    ("AC", &["L", "H"]),
    ("PR", &["N", "L", "H"]),
    ("UI", &["N", "R"]),
    ("S", &["U", "C"]),
    ("C", &["N", "L", "H"]),
    ("I", &["N", "L", "H"]),
    ("A", &["N", "L", "H"]),
    ("E", &["X", "U", "P", "F", "H"]),
    ("RL", &["X", "O", "T", "W", "U"]),
    ("RC", &["X", "U", "R", "C"]),
    ("CR", &["X", "L", "M", "H"]),
    ("IR", &["X", "L", "M", "H"]),
    ("AR", &["X", "L", "M", "H"]),
    ("MAV", &["X", "N", "A", "L", "P"]),
    ("MAC", &["X", "L", "H"]),
    ("MPR", &["X", "N", "L", "H"]),
    ("MUI", &["X", "N", "R"]),
    ("MS", &["X", "U", "C"]),
    ("MC", &["X", "N", "L", "H"]),
    ("MI", &["X", "N", "L", "H"]),
    ("MA", &["X", "N", "L", "H"]),
];

/// A CVSS v3 vector in canonical form (`CVSS:3.x/` prefix, metrics in specification order,
/// "not defined" `X` metrics dropped), or `None` unless all eight base metrics are valid.
/// A vector without prefix (Nessus writes `AV:N/AC:L/…`) is taken as 3.0.
pub(crate) fn cvss3_vector(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (version, body) = if let Some(rest) = raw.strip_prefix("CVSS:3.1/") {
        ("3.1", rest)
    } else if let Some(rest) = raw.strip_prefix("CVSS:3.0/") {
        ("3.0", rest)
    } else if raw.starts_with("CVSS:") {
        return None;
    } else {
        ("3.0", raw)
    };
    let mut values: [Option<&str>; 22] = [None; 22];
    for part in body.split('/') {
        let (key, value) = part.split_once(':')?;
        let slot = CVSS3_ORDER.iter().position(|(k, _)| *k == key)?;
        let allowed = CVSS3_ORDER.get(slot)?.1;
        if !allowed.contains(&value) || values.get(slot).copied().flatten().is_some() {
            return None;
        }
        *values.get_mut(slot)? = Some(value);
    }
    let mut out = format!("CVSS:{version}");
    for (i, ((key, _), value)) in CVSS3_ORDER.iter().zip(values).enumerate() {
        match value {
            Some("X") => {}
            Some(v) => {
                out.push('/');
                out.push_str(key);
                out.push(':');
                out.push_str(v);
            }
            None if i < 8 => return None,
            None => {}
        }
    }
    Some(out)
}

/// A CVSS v4 vector (`CVSS:4.0/…`) when it carries all eleven base metrics, as given.
pub(crate) fn cvss4_vector(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let body = raw.strip_prefix("CVSS:4.0/")?;
    let mut seen = 0usize;
    for part in body.split('/') {
        let (key, value) = part.split_once(':')?;
        if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        if [
            "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
        ]
        .contains(&key)
        {
            seen += 1;
        }
    }
    (seen == 11).then(|| raw.to_owned())
}

/// Every CWE number named in free text: `CWE-79`, `CWE:79`, `CWE #79`, `cwe-79`, in order of
/// appearance, without repeats or numbers outside 1–99999.
pub(crate) fn cwe_numbers_in(text: &str) -> Vec<i32> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(found) = find_ascii_ci(bytes, i, b"cwe") {
        let mut j = found + 3;
        // One separator, optionally surrounded by spaces: "-", ":", "#", " #", "_".
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        if matches!(bytes.get(j), Some(b'-' | b':' | b'#' | b'_')) {
            j += 1;
        }
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        let start = j;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let digits = text.get(start..j).unwrap_or("");
        let preceded_by_letter =
            found > 0 && bytes.get(found - 1).is_some_and(u8::is_ascii_alphanumeric);
        if !digits.is_empty()
            && !preceded_by_letter
            && let Ok(n) = digits.parse::<i32>()
            && (1..=99_999).contains(&n)
            && !out.contains(&n)
        {
            out.push(n);
        }
        i = j.max(found + 3);
    }
    out
}

/// Every `CVE-YYYY-NNNN…` in free text, upper-cased, in order, without repeats.
pub(crate) fn cve_ids_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(found) = find_ascii_ci(bytes, i, b"cve-") {
        let year_start = found + 4;
        let mut j = year_start;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let year_len = j - year_start;
        if year_len == 4 && bytes.get(j) == Some(&b'-') {
            let num_start = j + 1;
            let mut k = num_start;
            while bytes.get(k).is_some_and(u8::is_ascii_digit) {
                k += 1;
            }
            if k - num_start >= 4
                && let (Some(year), Some(num)) = (text.get(year_start..j), text.get(num_start..k))
            {
                let id = format!("CVE-{year}-{num}");
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            i = k;
        } else {
            i = j.max(found + 4);
        }
    }
    out
}

/// Every GitHub advisory id (`GHSA-xxxx-xxxx-xxxx`) in free text, in order, without repeats.
pub(crate) fn ghsa_ids_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(found) = find_ascii_ci(bytes, i, b"ghsa-") {
        let body = bytes.get(found + 5..found + 19);
        let well_formed = body.is_some_and(|b| {
            b.iter().enumerate().all(|(k, c)| {
                if k == 4 || k == 9 {
                    *c == b'-'
                } else {
                    c.is_ascii_alphanumeric()
                }
            })
        }) && !bytes.get(found + 19).is_some_and(u8::is_ascii_alphanumeric);
        if well_formed && let Some(body) = text.get(found + 5..found + 19) {
            let id = format!("GHSA-{}", body.to_ascii_lowercase());
            if !out.contains(&id) {
                out.push(id);
            }
        }
        i = found + 5;
    }
    out
}

fn find_ascii_ci(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = haystack.get(from..)?;
    rest.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// An endpoint from its parts, or `None` when the host is empty or has spaces or control
/// characters (a report's "host" is sometimes a free-text label).
pub(crate) fn endpoint_from_parts(
    protocol: Option<&str>,
    host: &str,
    port: Option<u16>,
) -> Option<Endpoint> {
    let host = host.trim();
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let protocol = protocol
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase);
    Some(Endpoint {
        protocol,
        host: host.to_owned(),
        port: port.filter(|p| *p != 0),
        path: None,
        query: None,
        fragment: None,
    })
}

/// An endpoint from a URL such as `https://shop.example.com/cart?id=1`.
pub(crate) fn endpoint_from_url(url: &str) -> Option<Endpoint> {
    Endpoint::parse(url).ok()
}

/// Appends `endpoint` unless an equal one is already there.
pub(crate) fn push_endpoint(endpoints: &mut Vec<Endpoint>, endpoint: Option<Endpoint>) {
    if let Some(e) = endpoint
        && !endpoints.contains(&e)
    {
        endpoints.push(e);
    }
}

/// Appends `text` to `buf` while `buf` stays under `cap` bytes; returns false once text had to
/// be dropped, so that the caller can say so. Cuts on a character boundary.
pub(crate) fn push_capped(buf: &mut String, text: &str, cap: usize) -> bool {
    let room = cap.saturating_sub(buf.len());
    if text.len() <= room {
        buf.push_str(text);
        return true;
    }
    let mut end = room;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    buf.push_str(text.get(..end).unwrap_or(""));
    false
}

/// The text an XML entity reference stands for: the five predefined entities and character
/// references. Anything else (a DTD-declared entity) is kept literally: DTD entities are never
/// expanded, which is what keeps XXE and "billion laughs" out.
pub(crate) fn xml_entity_text(entity: &BytesRef<'_>, out: &mut String) {
    if let Ok(Some(c)) = entity.resolve_char_ref() {
        out.push(c);
        return;
    }
    match &**entity {
        "lt" => out.push('<'),
        "gt" => out.push('>'),
        "amp" => out.push('&'),
        "apos" => out.push('\''),
        "quot" => out.push('"'),
        other => {
            out.push('&');
            out.push_str(other);
            out.push(';');
        }
    }
}

/// A `ParseError` for a quick-xml failure, at the byte where quick-xml saw it.
pub(crate) fn xml_syntax_error(
    scan_type: &'static str,
    byte: u64,
    err: &quick_xml::Error,
) -> ParseError {
    ParseError::new(
        scan_type,
        Some(Location::byte(byte)),
        format!("expected well-formed XML: {err}"),
    )
}

/// The value of attribute `name` (entities resolved), if present.
pub(crate) fn xml_attr(start: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    start
        .attributes()
        .with_checks(false)
        .flatten()
        .find_map(|a| {
            (a.key.as_ref() == name).then(|| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .unwrap_or_else(|_| a.value.clone().into_owned())
            })
        })
}

/// A reader configured the same way for every XML format: empty elements expanded into a
/// start and an end (one code path), and a lone `&` in text tolerated (scanners write them).
pub(crate) fn xml_reader<R: std::io::BufRead>(input: R) -> quick_xml::Reader<R> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.allow_dangling_amp = true;
    reader
}

/// Deserializes a whole JSON document, reporting errors with line, column and the path of
/// the offending value (`Findings[3].Id`).
pub(crate) fn read_json_document<T: serde::de::DeserializeOwned>(
    scan_type: &'static str,
    input: &mut dyn std::io::BufRead,
) -> Result<T, ParseError> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = (path != ".").then_some(path);
        ParseError::json(scan_type, e.inner(), path.as_deref())
    })?;
    de.end()
        .map_err(|e| ParseError::json(scan_type, &e, None))?;
    Ok(value)
}

/// A JSON identifier that tools write as a number or a string (`"type_index": 5243392`).
#[derive(serde::Deserialize, Clone, Debug)]
#[serde(untagged)]
pub(crate) enum JsonId {
    Number(serde_json::Number),
    Text(String),
}

impl JsonId {
    pub(crate) fn text(&self) -> String {
        match self {
            JsonId::Number(n) => n.to_string(),
            JsonId::Text(s) => s.trim().to_owned(),
        }
    }
}

/// A JSON number that some exports write as a string (`"EpssScore": "0.00239"`).
#[derive(serde::Deserialize, Clone, Copy, Debug)]
#[serde(untagged)]
pub(crate) enum JsonNumber {
    Number(f64),
    #[serde(deserialize_with = "number_in_string")]
    Text(Option<f64>),
}

fn number_in_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(d)?;
    Ok(s.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
}

impl JsonNumber {
    pub(crate) fn value(self) -> Option<f64> {
        match self {
            JsonNumber::Number(v) => v.is_finite().then_some(v),
            JsonNumber::Text(v) => v,
        }
    }
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

#[cfg(test)]
mod xml_json_tests {
    use super::*;

    #[test]
    fn cvss3_is_canonicalised() {
        assert_eq!(
            cvss3_vector("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N/E:P/RL:O/RC:C").as_deref(),
            Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N/E:P/RL:O/RC:C")
        );
        assert_eq!(
            cvss3_vector("CVSS:3.1/S:C/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H/E:X").as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
        );
        assert_eq!(cvss3_vector("AV:N/AC:L"), None);
        assert_eq!(cvss3_vector("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P"), None);
        assert_eq!(
            cvss3_vector("AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"),
            None
        );
    }

    #[test]
    fn cwes_and_cves_in_text() {
        assert_eq!(cwe_numbers_in("CERT:1;CWE:16;CWE:200;cwe-16"), [16, 200]);
        assert_eq!(cwe_numbers_in("CERT #836068,CWE #310"), [310]);
        assert_eq!(cwe_numbers_in("<a>CWE-79: XSS</a> CWE-0 MCWE-5"), [79]);
        assert_eq!(
            cve_ids_in("CVE-2013-2566,cve-2015-2808 CVE-20-1 CVE-2015-2808"),
            ["CVE-2013-2566", "CVE-2015-2808"]
        );
    }

    #[test]
    fn ghsa_ids_in_text() {
        assert_eq!(
            ghsa_ids_in(
                "advisories/GHSA-5cp4-xmrw-59wf (x) ghsa-5CP4-xmrw-59wf GHSA-5cp4-xmrw-59wfx GHSA-12"
            ),
            ["GHSA-5cp4-xmrw-59wf"]
        );
    }

    #[test]
    fn titles_are_one_line_and_bounded() {
        assert_eq!(
            finding_title(" a\n\tb ").map(Title::into_inner).as_deref(),
            Some("a b")
        );
        assert!(finding_title(" \n ").is_none());
        let long = "x".repeat(5000);
        assert_eq!(
            finding_title(&long).map(|t| t.as_str().len()),
            Some(Title::MAX_CHARS)
        );
    }
}
