//! Weakness (CWE) and advisory (CVE, GHSA) identifiers, from free text and from fields that
//! hold one.

use super::json::json_i64;
use serde_json::Value;

/// Whether `n` is a CWE number the domain accepts (1–99999).
pub(crate) fn is_cwe(n: i32) -> bool {
    (1..=99_999).contains(&n)
}

/// Every CWE named in free text, in order of appearance, without repeats.
///
/// Accepts `CWE-79`, `cwe_79`, `CWE:79`, `CWE #79`, `CWE 79`, `CWE - 79` and `CWE79`: one
/// optional separator (`-`, `:`, `#`, `_`), with spaces around it. `CWE` must start a word, so
/// `MCWE-5` names nothing; numbers outside 1–99999 are skipped.
pub(crate) fn cwes_in(text: &str) -> Vec<i32> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = find_ascii_ci(bytes, from, b"cwe") {
        let mut i = found + 3;
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        if matches!(bytes.get(i), Some(b'-' | b':' | b'#' | b'_')) {
            i += 1;
        }
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if starts_word(bytes, found)
            && let Some(n) = text
                .get(start..i)
                .and_then(|d| d.parse::<i32>().ok())
                .filter(|n| is_cwe(*n))
            && !out.contains(&n)
        {
            out.push(n);
        }
        from = i.max(found + 3);
    }
    out
}

/// The first CWE named in free text (see [`cwes_in`]).
pub(crate) fn first_cwe_in(text: &str) -> Option<i32> {
    cwes_in(text).into_iter().next()
}

/// The CWE of a field that holds one: a number, bare or leading (`79`, ` 079 `, `79 (XSS)`),
/// or else the first CWE the text names (`CWE-79`, `cwe-79: Improper Neutralization…`, see
/// [`cwes_in`]). `None` when out of range.
pub(crate) fn cwe_in_field(text: &str) -> Option<i32> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        return t
            .get(..digits)
            .and_then(|d| d.parse::<i32>().ok())
            .filter(|n| is_cwe(*n));
    }
    first_cwe_in(t)
}

/// [`cwe_in_field`] for a JSON value: a number (`79`, `79.0`) or a string.
pub(crate) fn cwe_in_json(v: &Value) -> Option<i32> {
    match v {
        Value::Number(_) => json_i64(v)
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| is_cwe(*n)),
        Value::String(s) => cwe_in_field(s),
        _ => None,
    }
}

/// CVE and GHSA identifiers in free text, in order of appearance, without repeats.
///
/// `CVE-YYYY-NNNN…` needs at least four digits after the year; a GHSA id is
/// `GHSA-xxxx-xxxx-xxxx` in GitHub's base-32 alphabet and must end a word. Either is found in
/// any case but must start a word (`XCVE-2020-1234` is not one). They come out as
/// `CVE-2024-2529` and `GHSA-frr2-c345-p7c2` (GitHub's lower-case body), so that spellings of
/// one id compare equal.
pub(crate) fn advisory_ids_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = bytes.get(i..).unwrap_or_default();
        let found = if !starts_word(bytes, i) {
            None
        } else if starts_with_ci(rest, b"CVE-") {
            cve_len(rest).and_then(|len| {
                let id = text.get(i + 4..i + len)?;
                Some((format!("CVE-{id}"), len))
            })
        } else if starts_with_ci(rest, b"GHSA-") {
            ghsa_len(rest).and_then(|len| {
                let body = text.get(i + 5..i + len)?;
                Some((format!("GHSA-{}", body.to_ascii_lowercase()), len))
            })
        } else {
            None
        };
        match found {
            Some((id, len)) => {
                if !out.contains(&id) {
                    out.push(id);
                }
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

/// The CVE identifiers of [`advisory_ids_in`].
pub(crate) fn cve_ids_in(text: &str) -> Vec<String> {
    let mut ids = advisory_ids_in(text);
    ids.retain(|id| id.starts_with("CVE-"));
    ids
}

/// The GHSA identifiers of [`advisory_ids_in`].
pub(crate) fn ghsa_ids_in(text: &str) -> Vec<String> {
    let mut ids = advisory_ids_in(text);
    ids.retain(|id| id.starts_with("GHSA-"));
    ids
}

/// The length of the `CVE-YYYY-NNNN…` at the start of `s`.
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

/// The length of the `GHSA-xxxx-xxxx-xxxx` at the start of `s`.
fn ghsa_len(s: &[u8]) -> Option<usize> {
    const ALPHABET: &[u8] = b"23456789cfghjmpqrvwx";
    for group in 0..3 {
        let at = 5 + group * 5;
        let chunk = s.get(at..at + 4)?;
        if !chunk
            .iter()
            .all(|b| ALPHABET.contains(&b.to_ascii_lowercase()))
        {
            return None;
        }
        if group < 2 && s.get(at + 4) != Some(&b'-') {
            return None;
        }
    }
    // `GHSA-5cp4-xmrw-59wfx` is not an id with a letter after it.
    (!s.get(19).is_some_and(u8::is_ascii_alphanumeric)).then_some(19)
}

/// Whether the byte at `at` starts a word: the text's start, or after a non-alphanumeric.
fn starts_word(bytes: &[u8], at: usize) -> bool {
    at == 0
        || bytes
            .get(at - 1)
            .is_some_and(|b| !b.is_ascii_alphanumeric())
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

fn find_ascii_ci(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = haystack.get(from..)?;
    rest.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    // The names these assertions were written against, before the three extractors merged.
    use super::{
        advisory_ids_in as advisory_ids_in_text, cve_ids_in, cwes_in as cwes_in_text,
        cwes_in as cwe_numbers_in, first_cwe_in as cwe_from_text, ghsa_ids_in,
    };

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
}
