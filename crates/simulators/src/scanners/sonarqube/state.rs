//! What the SonarQube simulator holds: users and their tokens and permissions, projects, their
//! issues and security hotspots, and rules. Issues are kept per project and compact, and
//! rendered to SonarQube's JSON only for the page asked for.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub login: String,
    pub name: String,
    pub tokens: Vec<String>,
    /// The global "Administer System" permission (needed by `api/projects/search`).
    pub admin: bool,
    /// Projects the user may browse; `None`: every project.
    pub browse: Option<BTreeSet<String>>,
}

impl User {
    pub fn can_browse(&self, project: &str) -> bool {
        self.admin || self.browse.as_ref().is_none_or(|b| b.contains(project))
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub key: String,
    pub name: String,
    pub visibility: String,
    pub last_analysis: DateTime<Utc>,
    pub revision: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Issue {
    pub key: String,
    pub rule: String,
    pub severity: String,
    /// The file's path in the project; `None` for an issue on the project itself.
    pub path: Option<String>,
    pub project: String,
    pub line: Option<u32>,
    /// `BUG`, `VULNERABILITY` or `CODE_SMELL`.
    pub kind: String,
    pub status: String,
    pub resolution: Option<String>,
    pub message: String,
    pub tags: Vec<String>,
    pub effort: Option<String>,
    pub author: String,
    pub creation: DateTime<Utc>,
    pub update: DateTime<Utc>,
    pub close: Option<DateTime<Utc>>,
    /// Fields a fixture issue had that the simulator does not model, served back as they were.
    #[serde(skip)]
    pub extra: Option<Box<Map<String, Value>>>,
}

impl Issue {
    pub fn resolved(&self) -> bool {
        self.resolution.is_some()
    }

    /// The simplified status of SonarQube 10.4+ (`issueStatus`).
    pub fn issue_status(&self) -> &'static str {
        match (self.status.as_str(), self.resolution.as_deref()) {
            (_, Some("FALSE-POSITIVE")) => "FALSE_POSITIVE",
            (_, Some("WONTFIX")) => "ACCEPTED",
            (_, Some(_)) => "FIXED",
            ("CONFIRMED", None) => "CONFIRMED",
            _ => "OPEN",
        }
    }

    /// The Clean Code impact severity (SonarQube 10.2+) of a legacy severity.
    pub fn impact_severity(&self) -> &'static str {
        match self.severity.as_str() {
            "BLOCKER" | "CRITICAL" => "HIGH",
            "MAJOR" => "MEDIUM",
            _ => "LOW",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Hotspot {
    pub key: String,
    pub rule_key: String,
    pub path: String,
    pub project: String,
    pub security_category: String,
    pub vulnerability_probability: String,
    /// `TO_REVIEW` or `REVIEWED`.
    pub status: String,
    /// With `REVIEWED`: `FIXED`, `SAFE` or `ACKNOWLEDGED`.
    pub resolution: Option<String>,
    pub line: Option<u32>,
    pub message: String,
    pub author: String,
    pub creation: DateTime<Utc>,
    pub update: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct State {
    /// The server version (`10.7.0.96327`): decides Bearer tokens (10.0+), `issueStatus`
    /// (10.4+) and the hotspots' `project` parameter (10.2+, `projectKey` before).
    pub version: String,
    pub users: Vec<User>,
    pub projects: BTreeMap<String, Project>,
    pub issues: BTreeMap<String, Vec<Issue>>,
    pub hotspots: BTreeMap<String, Vec<Hotspot>>,
    /// `api/rules/show`'s `rule` objects by key.
    pub rules: BTreeMap<String, Value>,
    /// While true, issue searches answer 503 (the issue index is being rebuilt).
    pub indexing: bool,
    next: u64,
}

impl Default for State {
    fn default() -> Self {
        State {
            version: "10.7.0.96327".into(),
            users: Vec::new(),
            projects: BTreeMap::new(),
            issues: BTreeMap::new(),
            hotspots: BTreeMap::new(),
            rules: BTreeMap::new(),
            indexing: false,
            next: 0,
        }
    }
}

impl State {
    /// A new issue or hotspot key: 20 characters like `AZBx3k1wq9rM0Vd1cE2F`.
    pub fn next_key(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        self.next += 1;
        let mut n = self.next.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut key = String::from("AZ");
        for _ in 0..18 {
            key.push(ALPHABET[(n % 64) as usize] as char);
            n /= 64;
            if n == 0 {
                n = self
                    .next
                    .wrapping_add(key.len() as u64)
                    .wrapping_mul(0xBF58_476D_1CE4_E5B9);
            }
        }
        key
    }

    /// The major and minor version.
    pub fn version_at_least(&self, major: u32, minor: u32) -> bool {
        let mut parts = self
            .version
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (a, b) >= (major, minor)
    }

    pub fn user_by_token(&self, token: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.tokens.iter().any(|t| t == token))
    }

    /// The first `n` unresolved issues of the connector's default kind (vulnerabilities) and
    /// hotspots to review, issues first.
    pub fn open_refs(&self, project: &str) -> (Vec<usize>, Vec<usize>) {
        let issues = self
            .issues
            .get(project)
            .map(|v| {
                v.iter()
                    .enumerate()
                    .filter(|(_, i)| i.kind == "VULNERABILITY" && !i.resolved())
                    .map(|(n, _)| n)
                    .collect()
            })
            .unwrap_or_default();
        let hotspots = self
            .hotspots
            .get(project)
            .map(|v| {
                v.iter()
                    .enumerate()
                    .filter(|(_, h)| h.status == "TO_REVIEW")
                    .map(|(n, _)| n)
                    .collect()
            })
            .unwrap_or_default();
        (issues, hotspots)
    }
}
