//! Small helpers the parsers share: titles, severities, CVSS, CWE/CVE extraction, endpoints,
//! and reading text out of quick-xml events.

use crate::{Location, ParseError};
use domain::{Endpoint, Severity, Title};
use quick_xml::events::BytesRef;

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
#[expect(
    clippy::result_large_err,
    reason = "ParseError is the parser contract's error type (error.rs), not sized here"
)]
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
