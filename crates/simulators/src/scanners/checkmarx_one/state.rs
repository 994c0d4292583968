//! What the Checkmarx ONE simulator holds: the tenant, its API keys and the access tokens
//! exchanged for them, and its projects, each with its results and scans. A scan lists the
//! project results it found; the latest completed scan is what the project "has now", and a
//! result's triage state belongs to the project (it carries over to later scans).

use super::results::{CxResult, generated_result, uuid};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Scan execution statuses, as the scans API spells them.
pub const SCAN_STATUSES: &[&str] = &[
    "Queued",
    "Running",
    "Completed",
    "Failed",
    "Partial",
    "Canceled",
];

#[derive(Clone, Debug, Serialize)]
pub struct Scan {
    pub id: String,
    pub status: &'static str,
    pub branch: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub engines: Vec<&'static str>,
    /// Indexes into the project's results.
    pub found: Vec<u32>,
}

#[derive(Debug, Serialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub ordinal: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub groups: Vec<String>,
    pub tags: HashMap<String, String>,
    pub repo_url: String,
    pub main_branch: String,
    pub origin: String,
    #[serde(skip)]
    pub results: Vec<CxResult>,
    /// Oldest first.
    pub scans: Vec<Scan>,
}

impl Project {
    /// The latest completed scan and its index.
    pub fn latest(&self) -> Option<(usize, &Scan)> {
        self.scans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.status == "Completed")
            .max_by_key(|(_, s)| s.created_at)
    }

    /// Open results of the latest completed scan.
    pub fn open_results(&self) -> usize {
        self.latest().map_or(0, |(_, scan)| {
            scan.found
                .iter()
                .filter(|i| {
                    self.results
                        .get(**i as usize)
                        .is_some_and(CxResult::is_open)
                })
                .count()
        })
    }
}

/// An access token handed out by the token endpoint.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub expires: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct State {
    pub tenant: String,
    /// API keys (offline refresh tokens) of the tenant.
    #[serde(skip)]
    pub api_keys: Vec<String>,
    #[serde(skip)]
    pub access_tokens: HashMap<String, AccessToken>,
    /// How long an access token lives (Checkmarx ONE: 30 minutes).
    pub token_lifetime_seconds: u64,
    pub projects: Vec<Project>,
    counter: u64,
}

impl State {
    pub fn new(tenant: &str) -> State {
        State {
            tenant: tenant.to_owned(),
            api_keys: Vec::new(),
            access_tokens: HashMap::new(),
            token_lifetime_seconds: 1800,
            projects: Vec::new(),
            counter: 0,
        }
    }

    /// A fresh UUID.
    pub fn uuid(&mut self) -> String {
        self.counter += 1;
        uuid(self.counter)
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    pub fn project_mut(&mut self, id: &str) -> Option<&mut Project> {
        self.projects.iter_mut().find(|p| p.id == id)
    }

    /// A project without scans; returns its id.
    pub fn add_project(&mut self, name: &str) -> String {
        let id = self.uuid();
        let now = Utc::now();
        let ordinal = u32::try_from(self.projects.len()).unwrap_or(u32::MAX);
        let slug: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        self.projects.push(Project {
            id: id.clone(),
            name: name.to_owned(),
            ordinal,
            created_at: now - TimeDelta::days(30),
            updated_at: now - TimeDelta::days(1),
            groups: Vec::new(),
            tags: HashMap::new(),
            repo_url: format!("https://github.com/acme/{}", slug.trim_matches('-')),
            main_branch: "main".into(),
            origin: "GitHub".into(),
            results: Vec::new(),
            scans: Vec::new(),
        });
        id
    }

    /// Adds a scan of a project with this status that found these results; returns its id.
    pub fn add_scan(
        &mut self,
        project: &str,
        status: &'static str,
        at: DateTime<Utc>,
        found: Vec<u32>,
    ) -> Option<String> {
        self.add_scan_on(project, None, status, at, found)
    }

    /// [`State::add_scan`] on `branch` (`None`: the project's main branch).
    pub fn add_scan_on(
        &mut self,
        project: &str,
        branch: Option<&str>,
        status: &'static str,
        at: DateTime<Utc>,
        found: Vec<u32>,
    ) -> Option<String> {
        let id = self.uuid();
        let p = self.project_mut(project)?;
        let branch = branch.map_or_else(|| p.main_branch.clone(), str::to_owned);
        p.scans.push(Scan {
            id: id.clone(),
            status,
            branch,
            created_at: at,
            updated_at: at + TimeDelta::minutes(7),
            engines: vec!["sast", "sca", "kics"],
            found,
        });
        p.scans.sort_by_key(|s| s.created_at);
        Some(id)
    }

    /// A project with one completed scan that found `count` generated results.
    pub fn add_generated(&mut self, name: &str, count: usize) -> String {
        let id = self.add_project(name);
        let scan_id = self.uuid();
        let at = Utc::now() - TimeDelta::hours(2);
        if let Some(p) = self.project_mut(&id) {
            let ordinal = p.ordinal;
            let n = u32::try_from(count).unwrap_or(u32::MAX);
            p.results = (0..n)
                .map(|i| generated_result(ordinal, i, &scan_id, at - TimeDelta::days(3)))
                .collect();
            let branch = p.main_branch.clone();
            p.scans.push(Scan {
                id: scan_id,
                status: "Completed",
                branch,
                created_at: at,
                updated_at: at + TimeDelta::minutes(7),
                engines: vec!["sast", "sca"],
                found: (0..n).collect(),
            });
        }
        id
    }

    /// A new completed scan that finds what the latest found except its first `n` open results.
    pub fn rescan_without(&mut self, project: &str, n: usize) -> bool {
        self.rescan_on(project, None, n)
    }

    /// [`State::rescan_without`] as a scan of `branch` (`None`: the main branch), based on that
    /// branch's latest completed scan (else the project's latest).
    pub fn rescan_on(&mut self, project: &str, branch: Option<&str>, n: usize) -> bool {
        let Some(p) = self.project(project) else {
            return false;
        };
        // The branch's own latest completed scan, else the project's latest.
        let branch_name = branch.unwrap_or(&p.main_branch);
        let on_branch = p.scans.iter().filter(|s| s.status == "Completed" && s.branch == branch_name).max_by_key(|s| s.created_at);
        let previous: Vec<u32> = on_branch.or_else(|| p.latest().map(|(_, s)| s)).map(|s| s.found.clone()).unwrap_or_default();
        let mut dropped = 0;
        let kept: Vec<u32> = previous
            .into_iter()
            .filter(|i| {
                let open = p.results.get(*i as usize).is_some_and(CxResult::is_open);
                if open && dropped < n {
                    dropped += 1;
                    false
                } else {
                    true
                }
            })
            .collect();
        self.add_scan_on(project, branch, "Completed", Utc::now(), kept)
            .is_some()
    }

    /// Triages the first open result of the latest completed scan as not exploitable.
    pub fn mark_not_exploitable(&mut self, project: &str) {
        let Some(p) = self.project_mut(project) else {
            return;
        };
        let first = p.latest().and_then(|(_, s)| {
            s.found
                .iter()
                .copied()
                .find(|i| p.results.get(*i as usize).is_some_and(CxResult::is_open))
        });
        if let Some(r) = first.and_then(|i| p.results.get_mut(i as usize)) {
            r.state = "NOT_EXPLOITABLE".into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescans_and_triage() {
        let mut s = State::new("acme");
        let id = s.add_generated("shop", 5);
        s.mark_not_exploitable(&id);
        assert!(s.rescan_without(&id, 2));
        let p = s.project(&id).expect("the project");
        assert_eq!(
            p.latest().map(|(_, l)| l.found.clone()),
            Some(vec![0, 3, 4])
        );
        assert_eq!(p.open_results(), 2);
    }
}
