//! Findings as the domain accepts them, and folding repeated ones.

use super::ids::is_cwe;
use crate::{ParseError, Sink};
use domain::{NewFinding, Status};
use std::collections::{HashMap, HashSet};

/// Drops or trims the values `NewFinding::normalize` would refuse, so that one odd value in a
/// report (a line 0, a CWE 0, an EPSS of 97 meaning percent, an id with a space, a 300-character
/// tag) costs that value, not the finding or the whole import.
///
/// CWEs out of 1–99999, lines and counts below 1 and scores out of range are dropped; ids are
/// trimmed, and dropped when empty, longer than 200 bytes or not one word; tags become one line
/// of at most 100 characters, at most 100 of them. Repeats are dropped, and `Duplicate` (which
/// only de-duplication may set) becomes `Active`.
pub(crate) fn fit_to_domain(mut f: NewFinding) -> NewFinding {
    f.cwe = f.cwe.filter(|c| is_cwe(*c));
    let mut seen = HashSet::new();
    f.cwes.retain(|c| is_cwe(*c) && seen.insert(*c));
    f.line = f.line.filter(|l| *l >= 1);
    f.occurrences = f.occurrences.filter(|n| *n >= 1);
    let in_range = |max: f64| move |s: &f64| (0.0..=max).contains(s);
    f.cvss_v3_score = f.cvss_v3_score.filter(in_range(10.0));
    f.cvss_v4_score = f.cvss_v4_score.filter(in_range(10.0));
    f.epss_score = f.epss_score.filter(in_range(1.0));
    f.epss_percentile = f.epss_percentile.filter(in_range(1.0));
    let mut seen = HashSet::new();
    f.vulnerability_ids = std::mem::take(&mut f.vulnerability_ids)
        .into_iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 200
                && !id.chars().any(|c| c.is_whitespace() || c.is_control())
                && seen.insert(id.clone())
        })
        .collect();
    let mut tags: Vec<String> = Vec::new();
    for tag in std::mem::take(&mut f.tags) {
        let tag: String = tag
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(100)
            .collect();
        if !tag.is_empty() && !tags.contains(&tag) && tags.len() < 100 {
            tags.push(tag);
        }
    }
    f.tags = tags;
    if f.status == Status::Duplicate {
        f.status = Status::Active;
    }
    f
}

/// Hands each finding to the sink in order, stopping at the first one it refuses.
pub(crate) fn send_all(
    findings: impl IntoIterator<Item = NewFinding>,
    sink: &mut Sink<'_>,
) -> Result<(), ParseError> {
    findings.into_iter().try_for_each(sink)
}

/// Findings folded by a key, in order of first appearance: formats whose tool lists the same
/// problem several times (Semgrep, SonarQube's aggregated mode) keep one finding and count
/// the rest. Holds one finding per distinct key, never the document.
#[derive(Debug, Default)]
pub(crate) struct FindingsByKey {
    order: Vec<NewFinding>,
    index: HashMap<String, usize>,
}

impl FindingsByKey {
    /// Adds `finding` under `key`; when the key was seen, `merge` folds it into the first.
    pub(crate) fn add(
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
    pub(crate) fn into_findings(self) -> Vec<NewFinding> {
        self.order
    }
}

/// The usual merge: one more occurrence of the first finding.
pub(crate) fn count_occurrence(first: &mut NewFinding, _again: NewFinding) {
    first.occurrences = Some(first.occurrences.unwrap_or(1).saturating_add(1));
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Severity, TestId, Title};

    #[test]
    fn keep_importable_drops_what_normalize_rejects() {
        let mut f = NewFinding::new(TestId(1), Title::parse("t", "t").unwrap(), Severity::Low);
        f.cwe = Some(0);
        f.cwes = vec![79, 0, 100_000, 79];
        f.line = Some(0);
        f.epss_score = Some(97.0);
        f.vulnerability_ids = vec!["CVE-1".into(), "not one".into(), " ".into(), "CVE-1".into()];
        f.tags = vec!["a\nb".into(), "x".repeat(300), "a b".into()];
        let f = fit_to_domain(f);
        assert_eq!(f.cwes, [79]);
        assert_eq!(f.vulnerability_ids, ["CVE-1"]);
        let f = f.normalize().unwrap();
        assert_eq!(f.line, None);
        assert_eq!(f.epss_score, None);
        assert_eq!(f.vulnerability_ids, ["CVE-1"]);
        assert_eq!(f.tags.len(), 2);
    }
}
