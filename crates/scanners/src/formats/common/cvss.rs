//! CVSS: base scores, their severity bands, and vectors.

use super::number::number_in;
use domain::{NewFinding, Severity};

/// The severity of a CVSS base score, as the CVSS v3.1 specification rates it: 0.0 is None
/// (Info here), 0.1–3.9 Low, 4.0–6.9 Medium, 7.0–8.9 High, 9.0–10.0 Critical. A score between
/// the table's one-decimal steps (3.95) takes the lower band; anything not above 0 (a negative
/// score, NaN) is Info.
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

/// A CVSS score from text (`"7.5"`, `" 10 "`), if it is a number from 0 to 10.
pub(crate) fn cvss_score(raw: &str) -> Option<f64> {
    number_in(raw).filter(|v| (0.0..=10.0).contains(v))
}

/// Base metrics first (all eight are required), then temporal and environmental ones, each
/// with the values the specification allows.
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

/// Sets a vector as the tool wrote it (trimmed, not checked) on the v4 field when it starts
/// `CVSS:4`, else on the v3 one; blank text sets nothing. For tools whose vectors are taken
/// as given rather than canonicalised by [`cvss3_vector`].
pub(crate) fn set_cvss_vector(f: &mut NewFinding, vector: &str) {
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
}
