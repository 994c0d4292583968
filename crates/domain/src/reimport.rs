//! What an import does to each finding, decided without IO so that every rule is tested here.
//!
//! Reimport into a Test pairs report findings with the Test's findings one to one (by
//! [`crate::dedup::MatchKey`]) and then, for each pair, applies [`on_match`]; Test findings the
//! report no longer lists go through [`on_missing`]. The rules follow DefectDojo's reimporter
//! (`dojo/importers/default_reimporter.py`), so a pipeline moved from DefectDojo behaves the
//! same: the scanner never overrides a person's triage, a fixed finding reported again is
//! reactivated, and the scanner's own verdicts (fixed, false positive, accepted) are applied.

use crate::{Finding, NewFinding, Status};
use serde::{Deserialize, Serialize};

/// What happened to one finding, as import history and statistics count it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// New to the Test.
    Created,
    /// New to the Test, but the same vulnerability as an earlier finding in the dedup scope.
    Duplicate,
    /// Open before, not open now (no longer reported, or the scanner says fixed).
    Closed,
    /// Closed before, reported again.
    Reactivated,
    /// Matched, and something the scanner owns changed (EPSS, fix version, its own triage…).
    Updated,
    /// Matched, nothing to change.
    Untouched,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Created,
        Outcome::Duplicate,
        Outcome::Closed,
        Outcome::Reactivated,
        Outcome::Updated,
        Outcome::Untouched,
    ];
}

/// A person's triage: the scanner does not override it.
fn is_triaged(s: Status) -> bool {
    matches!(s, Status::FalsePositive | Status::RiskAccepted | Status::OutOfScope)
}

/// The status a matched finding ends in, and how the change is counted.
///
/// | existing \ report       | open        | closed   | FP / accepted / out of scope |
/// |-------------------------|-------------|----------|------------------------------|
/// | open (any open status)  | kept        | closed   | report's verdict (updated)   |
/// | closed                  | reactivated¹| kept     | report's verdict (updated)   |
/// | FP / accepted / OOS     | kept        | kept     | kept                         |
/// | duplicate               | kept        | kept     | kept                         |
///
/// ¹ unless `do_not_reactivate` (triage-less scanners): then it stays closed.
pub fn on_match(existing: Status, reported: Status, do_not_reactivate: bool) -> (Status, Outcome) {
    use Outcome::*;
    if is_triaged(existing) || existing == Status::Duplicate {
        return (existing, Untouched);
    }
    match (existing.is_open(), reported) {
        (true, r) if r.is_open() => (existing, Untouched),
        (true, Status::Closed) => (Status::Closed, Closed),
        (true, r) if is_triaged(r) => (r, Updated),
        (false, r) if r.is_open() && do_not_reactivate => (existing, Untouched),
        (false, r) if r.is_open() => (Status::Active, Reactivated),
        (false, Status::Closed) => (existing, Untouched),
        (false, r) if is_triaged(r) => (r, Updated),
        // A report never says "duplicate" (parsers cannot produce it); keep what we have.
        _ => (existing, Untouched),
    }
}

/// What happens to a finding of the Test that the report no longer lists: open ones close
/// when `close_old_findings` is set; anything else stays as it is.
pub fn on_missing(existing: Status, close_old_findings: bool) -> Option<(Status, Outcome)> {
    (close_old_findings && existing.is_open()).then_some((Status::Closed, Outcome::Closed))
}

/// Refreshes the fields the scanner owns on a matched finding: values that change over time
/// (EPSS, exploitation, fix availability, how often it was seen, where) and values that were
/// missing before. What a person may have edited (title, severity, description…) is left alone.
/// Returns whether anything changed.
pub fn refresh(existing: &mut Finding, report: &NewFinding) -> bool {
    let before = (
        existing.epss_score,
        existing.epss_percentile,
        existing.known_exploited,
        existing.fix_available,
        existing.fix_version.clone(),
        existing.occurrences,
        existing.endpoints.clone(),
        existing.component_name.clone(),
        existing.component_version.clone(),
        existing.component_purl.clone(),
        existing.cvss_v3_vector.clone(),
        existing.cvss_v3_score,
    );
    if report.epss_score.is_some() {
        existing.epss_score = report.epss_score;
        existing.epss_percentile = report.epss_percentile;
    }
    existing.known_exploited |= report.known_exploited;
    if report.fix_available.is_some() {
        existing.fix_available = report.fix_available;
    }
    if report.fix_version.is_some() {
        existing.fix_version = report.fix_version.clone();
    }
    existing.occurrences = report.occurrences.unwrap_or(1);
    if !report.endpoints.is_empty() {
        let mut e = report.endpoints.clone();
        e.sort();
        e.dedup();
        existing.endpoints = e;
    }
    fill(&mut existing.component_name, &report.component_name);
    fill(&mut existing.component_version, &report.component_version);
    fill(&mut existing.component_purl, &report.component_purl);
    fill(&mut existing.cvss_v3_vector, &report.cvss_v3_vector);
    if existing.cvss_v3_score.is_none() {
        existing.cvss_v3_score = report.cvss_v3_score;
    }
    let after = (
        existing.epss_score,
        existing.epss_percentile,
        existing.known_exploited,
        existing.fix_available,
        existing.fix_version.clone(),
        existing.occurrences,
        existing.endpoints.clone(),
        existing.component_name.clone(),
        existing.component_version.clone(),
        existing.component_purl.clone(),
        existing.cvss_v3_vector.clone(),
        existing.cvss_v3_score,
    );
    before != after
}

fn fill(slot: &mut Option<String>, from: &Option<String>) {
    if slot.is_none() {
        slot.clone_from(from);
    }
}

/// A hash of the fields a reimport may refresh (see [`refresh`]): equal on reimport means
/// there is nothing to write, so an unchanged reimport reads and writes no finding rows.
pub fn scanner_fingerprint(f: &NewFinding) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update(s.as_bytes());
        h.update([0x1f]);
    };
    put(&format!("{:?}|{:?}|{}|{:?}", f.epss_score, f.epss_percentile, f.known_exploited, f.fix_available));
    put(f.fix_version.as_deref().unwrap_or(""));
    put(&f.occurrences.unwrap_or(1).to_string());
    let mut endpoints: Vec<String> = f.endpoints.iter().map(|e| e.to_string()).collect();
    endpoints.sort();
    put(&endpoints.join(" "));
    put(f.component_name.as_deref().unwrap_or(""));
    put(f.component_version.as_deref().unwrap_or(""));
    put(f.component_purl.as_deref().unwrap_or(""));
    put(f.cvss_v3_vector.as_deref().unwrap_or(""));
    put(&format!("{:?}", f.cvss_v3_score));
    crate::dedup::sha256_hex(&h.finalize())
}

/// Merges a repeat of a finding within one report into its first copy: counted once, with
/// the occurrences added up and the endpoints and identifiers joined (kept sorted, like
/// `NewFinding::normalize` leaves them).
pub fn merge_repeat(first: &mut Finding, again: &NewFinding) {
    first.occurrences += again.occurrences.unwrap_or(1);
    for e in &again.endpoints {
        if !first.endpoints.contains(e) {
            first.endpoints.push(e.clone());
        }
    }
    if again.vulnerability_ids.iter().any(|v| !first.vulnerability_ids.contains(v)) {
        first.vulnerability_ids.extend(again.vulnerability_ids.iter().cloned());
        first.vulnerability_ids.sort();
        first.vulnerability_ids.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    /// Every combination of existing and reported status, against the table in the docs.
    #[test]
    fn exhaustive_match_table() {
        for existing in Status::ALL {
            for reported in Status::ALL {
                for dnr in [false, true] {
                    let (status, outcome) = on_match(existing, reported, dnr);
                    let expected = if matches!(existing, FalsePositive | RiskAccepted | OutOfScope | Duplicate) {
                        (existing, Outcome::Untouched)
                    } else if existing.is_open() {
                        match reported {
                            r if r.is_open() => (existing, Outcome::Untouched),
                            Closed => (Closed, Outcome::Closed),
                            Duplicate => (existing, Outcome::Untouched),
                            r => (r, Outcome::Updated),
                        }
                    } else {
                        match reported {
                            r if r.is_open() && dnr => (existing, Outcome::Untouched),
                            r if r.is_open() => (Active, Outcome::Reactivated),
                            Closed | Duplicate => (existing, Outcome::Untouched),
                            r => (r, Outcome::Updated),
                        }
                    };
                    assert_eq!((status, outcome), expected, "existing={existing:?} reported={reported:?} dnr={dnr}");
                    // Invariants: a person's triage survives; "closed" means it was open.
                    if matches!(existing, FalsePositive | RiskAccepted | OutOfScope) {
                        assert_eq!(status, existing);
                    }
                    if outcome == Outcome::Closed {
                        assert!(existing.is_open() && !status.is_open());
                    }
                    if outcome == Outcome::Reactivated {
                        assert!(!existing.is_open() && status.is_open());
                    }
                }
            }
        }
    }

    #[test]
    fn missing_findings_close_only_when_asked_and_only_if_open() {
        assert_eq!(on_missing(Active, true), Some((Closed, Outcome::Closed)));
        assert_eq!(on_missing(InProgress, true), Some((Closed, Outcome::Closed)));
        assert_eq!(on_missing(Active, false), None);
        for s in [Closed, FalsePositive, RiskAccepted, OutOfScope, Duplicate] {
            assert_eq!(on_missing(s, true), None, "{s:?}");
        }
    }

    fn nf(title: &str) -> NewFinding {
        NewFinding::new(crate::TestId(1), crate::Title::parse("t", title).unwrap(), crate::Severity::Low)
    }

    #[test]
    fn repeats_merge() {
        let mut a = nf("x");
        a.endpoints = vec![crate::Endpoint::parse("a.example").unwrap()];
        a.vulnerability_ids = vec!["CVE-2".into()];
        let mut first = a.into_finding(&test(), chrono::Utc::now(), None);
        let mut b = nf("x");
        b.endpoints = vec![crate::Endpoint::parse("b.example").unwrap(), crate::Endpoint::parse("a.example").unwrap()];
        b.vulnerability_ids = vec!["CVE-1".into()];
        merge_repeat(&mut first, &b);
        assert_eq!(first.occurrences, 2);
        assert_eq!(first.endpoints.len(), 2);
        assert_eq!(first.vulnerability_ids, ["CVE-1", "CVE-2"], "sorted");
    }

    fn test() -> crate::Test {
        crate::Test {
            id: crate::TestId(1),
            engagement: crate::EngagementId(1),
            product: crate::ProductId(1),
            title: "t".into(),
            scan_type: "SARIF".into(),
            description: None,
            version: None,
            build_id: None,
            commit_hash: None,
            branch_tag: None,
            environment: None,
            tags: vec![],
            last_import_at: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn refresh_changes_only_scanner_owned_fields() {
        let test = test();
        let mut existing = nf("Original title").into_finding(&test, chrono::Utc::now(), None);
        existing.severity = crate::Severity::Critical; // a person raised it
        let unchanged = nf("Original title");
        assert!(!refresh(&mut existing.clone(), &unchanged), "same report: nothing to write");
        let mut report = nf("Renamed by the scanner");
        report.epss_score = Some(0.5);
        report.component_name = Some("lib".into());
        assert!(refresh(&mut existing, &report));
        assert_eq!(existing.title, "Original title");
        assert_eq!(existing.severity, crate::Severity::Critical);
        assert_eq!(existing.epss_score, Some(0.5));
        assert_eq!(existing.component_name.as_deref(), Some("lib"));
    }
}
