//! What the Burp Suite DAST simulator holds: the site tree (folders and sites), each site's
//! scans, and the issues each scan found.
//!
//! An issue is kept once per site (its type at one URL) with the verdicts a person gave it
//! (false positive, accepted risk), which Burp carries to later scans of the same issue; each
//! scan lists the site issues it found. The latest succeeded scan is what the site "has now".

use super::catalog;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::sync::Arc;

/// The Burp type index of issues that extensions and BChecks report ("Extension generated
/// issue"): the simulator files fixture issues of unknown types under it.
pub const EXTENSION_GENERATED: u64 = 134_217_728;

/// An issue type as scans report it.
#[derive(Debug, Serialize)]
pub struct TypeInfo {
    pub type_index: u64,
    pub name: String,
    pub description_html: Option<String>,
    pub remediation_html: Option<String>,
    pub vulnerability_classifications_html: Option<String>,
    pub references_html: Option<String>,
}

impl TypeInfo {
    pub fn from_catalog(t: &catalog::IssueType) -> TypeInfo {
        TypeInfo {
            type_index: t.type_index,
            name: t.name.to_owned(),
            description_html: Some(t.description.to_owned()),
            remediation_html: Some(t.remediation.to_owned()),
            vulnerability_classifications_html: t.classifications_html(),
            references_html: t.references_html(),
        }
    }
}

/// One issue of a site: a type at one URL, with what people decided about it.
#[derive(Debug, Serialize)]
pub struct SiteIssue {
    #[serde(serialize_with = "type_summary")]
    pub kind: Arc<TypeInfo>,
    pub origin: String,
    pub path: String,
    /// `high`, `medium`, `low` or `info`.
    pub severity: &'static str,
    /// `certain`, `firm` or `tentative`: Burp Scanner's own confidence.
    pub confidence: &'static str,
    /// This occurrence's own text; generated issues have none and get one on output.
    pub description_html: Option<String>,
    pub remediation_html: Option<String>,
    pub false_positive: bool,
    pub accepted_risk: bool,
}

/// An issue's type in the control API's state dump: its index and name.
fn type_summary<S: serde::Serializer>(kind: &Arc<TypeInfo>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut out = s.serialize_struct("IssueType", 2)?;
    out.serialize_field("type_index", &kind.type_index)?;
    out.serialize_field("name", &kind.name)?;
    out.end()
}

impl SiteIssue {
    /// Neither marked false positive nor accepted.
    pub fn is_open(&self) -> bool {
        !self.false_positive && !self.accepted_risk
    }
}

/// `ScanStatus` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    Queued,
    Running,
    Succeeded,
    Cancelled,
    Failed,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Queued => "queued",
            ScanStatus::Running => "running",
            ScanStatus::Succeeded => "succeeded",
            ScanStatus::Cancelled => "cancelled",
            ScanStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Scan {
    pub id: u64,
    pub status: ScanStatus,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    /// Indexes into the site's issues, in the order the scan reports them.
    pub issues: Vec<u32>,
}

#[derive(Debug, Serialize)]
pub struct Site {
    pub id: u64,
    pub name: String,
    pub parent_id: u64,
    pub urls: Vec<String>,
    pub issues: Vec<SiteIssue>,
    /// Oldest first.
    pub scans: Vec<Scan>,
}

impl Site {
    /// The latest succeeded scan.
    pub fn latest(&self) -> Option<&Scan> {
        self.scans
            .iter()
            .filter(|s| s.status == ScanStatus::Succeeded)
            .max_by_key(|s| (s.end_time, s.id))
    }

    /// Open issues of the latest succeeded scan.
    pub fn open_issues(&self) -> usize {
        self.latest().map_or(0, |scan| {
            scan.issues
                .iter()
                .filter(|i| self.issue(**i).is_some_and(SiteIssue::is_open))
                .count()
        })
    }

    pub fn issue(&self, index: u32) -> Option<&SiteIssue> {
        self.issues.get(index as usize)
    }
}

#[derive(Debug, Serialize)]
pub struct Folder {
    pub id: u64,
    pub name: String,
    pub parent_id: u64,
}

#[derive(Debug, Serialize)]
pub struct State {
    /// API keys of API users allowed to read sites and scans.
    #[serde(skip)]
    pub api_keys: Vec<String>,
    pub folders: Vec<Folder>,
    pub sites: Vec<Site>,
    /// Sites and folders share one id space, as in Burp's site tree.
    next_node_id: u64,
    next_scan_id: u64,
}

impl Default for State {
    fn default() -> Self {
        State {
            api_keys: Vec::new(),
            folders: Vec::new(),
            sites: Vec::new(),
            // 0 is the root of the site tree.
            next_node_id: 1,
            next_scan_id: 1,
        }
    }
}

impl State {
    pub fn node_id(&mut self) -> u64 {
        let id = self.next_node_id;
        self.next_node_id += 1;
        id
    }

    pub fn scan_id(&mut self) -> u64 {
        let id = self.next_scan_id;
        self.next_scan_id += 1;
        id
    }

    pub fn site(&self, id: &str) -> Option<&Site> {
        let id: u64 = id.trim().parse().ok()?;
        self.sites.iter().find(|s| s.id == id)
    }

    pub fn site_mut(&mut self, id: &str) -> Option<&mut Site> {
        let id: u64 = id.trim().parse().ok()?;
        self.sites.iter_mut().find(|s| s.id == id)
    }

    /// The site and index of a scan, by its id.
    pub fn scan(&self, id: &str) -> Option<(usize, usize)> {
        let id: u64 = id.trim().parse().ok()?;
        self.sites
            .iter()
            .enumerate()
            .find_map(|(si, site)| site.scans.iter().position(|s| s.id == id).map(|i| (si, i)))
    }

    /// Adds a site under `parent_id` with a succeeded scan that found `issues` (new issues
    /// appended to the site's list) and returns its id.
    pub fn add_site(
        &mut self,
        name: &str,
        parent_id: u64,
        urls: Vec<String>,
        issues: Vec<SiteIssue>,
    ) -> u64 {
        let id = self.node_id();
        let count = u32::try_from(issues.len()).unwrap_or(u32::MAX);
        let mut site = Site {
            id,
            name: name.to_owned(),
            parent_id,
            urls,
            issues,
            scans: Vec::new(),
        };
        let scan_id = self.scan_id();
        let end = Utc::now() - TimeDelta::hours(1);
        site.scans.push(Scan {
            id: scan_id,
            status: ScanStatus::Succeeded,
            start_time: Some(end - TimeDelta::minutes(42)),
            end_time: Some(end),
            issues: (0..count).collect(),
        });
        self.sites.push(site);
        id
    }

    /// A new succeeded scan of a site that finds what its latest scan found except the first
    /// `n` open issues: Burp's way of saying they are fixed. Returns false for an unknown site.
    pub fn rescan_without(&mut self, site_id: &str, n: usize) -> bool {
        let scan_id = self.scan_id();
        let Some(site) = self.site_mut(site_id) else {
            return false;
        };
        let previous: Vec<u32> = site.latest().map(|s| s.issues.clone()).unwrap_or_default();
        let mut dropped = 0;
        let kept: Vec<u32> = previous
            .into_iter()
            .filter(|i| {
                let open = site.issue(*i).is_some_and(SiteIssue::is_open);
                if open && dropped < n {
                    dropped += 1;
                    false
                } else {
                    true
                }
            })
            .collect();
        let end = Utc::now();
        site.scans.push(Scan {
            id: scan_id,
            status: ScanStatus::Succeeded,
            start_time: Some(end - TimeDelta::minutes(30)),
            end_time: Some(end),
            issues: kept,
        });
        true
    }

    /// Marks the first open issue of the site's latest scan a false positive.
    pub fn mark_false_positive(&mut self, site_id: &str) {
        let Some(site) = self.site_mut(site_id) else {
            return;
        };
        let Some(first) = site.latest().and_then(|scan| {
            scan.issues
                .iter()
                .copied()
                .find(|i| site.issue(*i).is_some_and(SiteIssue::is_open))
        }) else {
            return;
        };
        if let Some(issue) = site.issues.get_mut(first as usize) {
            issue.false_positive = true;
        }
    }
}

/// Generated issues for a site at `origin`: the catalogue's types in turn, each at its own
/// path, so that every one is a distinct issue.
pub fn generated_issues(origin: &str, count: usize) -> Vec<SiteIssue> {
    let kinds: Vec<Arc<TypeInfo>> = catalog::TYPES
        .iter()
        .map(|t| Arc::new(TypeInfo::from_catalog(t)))
        .collect();
    (0..count)
        .map(|n| {
            let t = &catalog::TYPES[n % catalog::TYPES.len()];
            SiteIssue {
                kind: kinds[n % kinds.len()].clone(),
                origin: origin.to_owned(),
                path: format!("/app/page-{}", n / catalog::TYPES.len() + 1),
                severity: t.severity,
                confidence: t.confidence,
                description_html: None,
                remediation_html: None,
                false_positive: false,
                accepted_risk: false,
            }
        })
        .collect()
}

/// A serial number for an issue of a scan: unique within the scan, stable across requests,
/// as long as Burp's (a 19-digit decimal).
pub fn serial_number(scan_id: u64, issue: u32) -> String {
    let mut x = scan_id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ u64::from(issue).wrapping_add(0x632B_E59B_D9B4_E019);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    format!(
        "{}",
        1_000_000_000_000_000_000 + x % 8_000_000_000_000_000_000
    )
}

/// A Burp severity name, as the schema's enum spells it.
pub fn severity_name(raw: &str) -> &'static str {
    match raw.trim().to_ascii_lowercase().as_str() {
        "high" => "high",
        "medium" => "medium",
        "low" => "low",
        _ => "info",
    }
}

/// A Burp confidence name, as the schema's enum spells it.
pub fn confidence_name(raw: &str) -> &'static str {
    match raw.trim().to_ascii_lowercase().as_str() {
        "firm" => "firm",
        "tentative" => "tentative",
        _ => "certain",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_are_distinct_and_burp_sized() {
        let a = serial_number(1, 0);
        assert_eq!(a.len(), 19);
        assert_ne!(a, serial_number(1, 1));
        assert_ne!(a, serial_number(2, 0));
        assert_eq!(a, serial_number(1, 0));
    }

    #[test]
    fn a_rescan_drops_open_issues_only() {
        let mut s = State::default();
        let id = s
            .add_site(
                "shop",
                0,
                vec![],
                generated_issues("https://shop.example.com", 4),
            )
            .to_string();
        s.mark_false_positive(&id);
        assert!(s.rescan_without(&id, 2));
        let site = s.site(&id).expect("the site");
        assert_eq!(site.scans.len(), 2);
        assert_eq!(site.latest().map(|l| l.issues.clone()), Some(vec![0, 3]));
        assert_eq!(site.open_issues(), 1);
    }
}
