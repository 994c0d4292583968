//! What the Semgrep simulator holds: one deployment (a token sees exactly one, as on
//! semgrep.dev), its projects, their Code (SAST) and Supply Chain (SCA) findings, and the API
//! tokens. Findings are kept compact and rendered to Semgrep's JSON only when a page is asked
//! for, so a benchmark world of 100,000 findings stays small.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The deployment (organization) every token of this simulator belongs to.
#[derive(Clone, Debug, Serialize)]
pub struct Deployment {
    pub id: u64,
    pub slug: String,
    pub name: String,
}

/// A project (repository) as `GET /deployments/{slug}/projects` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub id: u64,
    /// `org/repo`: also the finding's `repository.name`, which the `repos` filter matches.
    pub name: String,
    pub url: String,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub latest_scan_at: DateTime<Utc>,
    pub default_branch: String,
    pub primary_branch: String,
    /// Archived projects are not listed (the API "does not return archived repositories").
    pub archived: bool,
}

/// `sast` (Code) or `sca` (Supply Chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueType {
    Sast,
    Sca,
}

/// A Supply Chain finding's package facts.
#[derive(Clone, Debug, Serialize)]
pub struct Sca {
    pub vulnerability_identifier: String,
    pub package: String,
    pub version: String,
    pub ecosystem: String,
    pub transitivity: String,
    pub fixed_version: Option<String>,
    pub reachability: String,
    pub epss_score: Option<f64>,
}

/// One finding. `state` is what scans decide (`unresolved`, `fixed`, `muted`); `triage_state`
/// is what people decide; `status` is derived from both, as Semgrep derives it.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub id: u64,
    pub project_id: u64,
    pub issue_type: IssueType,
    pub rule_name: String,
    pub rule_message: String,
    pub severity: String,
    pub confidence: String,
    pub category: String,
    pub cwe_names: Vec<String>,
    pub owasp_names: Vec<String>,
    pub file_path: String,
    pub line: u32,
    pub match_based_id: String,
    pub syntactic_id: String,
    pub r#ref: String,
    pub created_at: DateTime<Utc>,
    pub relevant_since: DateTime<Utc>,
    pub state: String,
    pub state_updated_at: DateTime<Utc>,
    pub triage_state: String,
    pub triage_reason: Option<String>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub sca: Option<Box<Sca>>,
    /// Fields a fixture finding had that the simulator does not model (assistant, tickets…),
    /// served back as they were.
    #[serde(skip)]
    pub extra: Option<Box<Map<String, Value>>>,
}

impl Finding {
    /// Semgrep's derived status: triage overrides the scan state while the finding is still
    /// detected; a fixed finding is fixed whatever its triage said.
    pub fn status(&self) -> &'static str {
        if self.state == "fixed" {
            return "fixed";
        }
        match self.triage_state.as_str() {
            "ignored" => "ignored",
            "reviewing" => "reviewing",
            "fixing" => "fixing",
            "provisionally_ignored" => "provisionally_ignored",
            _ if self.state == "muted" => "ignored",
            _ => "open",
        }
    }
}

/// An API token. Only tokens with the "Web API" scope may call the Web API (CI tokens, with
/// the agent scope only, may not).
#[derive(Clone, Debug, Serialize)]
pub struct Token {
    pub token: String,
    pub web_api: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct State {
    pub deployment: Option<Deployment>,
    pub projects: BTreeMap<u64, Project>,
    /// By id; ids grow with creation, so iteration is creation order.
    pub findings: BTreeMap<u64, Finding>,
    pub tokens: Vec<Token>,
    next_id: u64,
}

impl State {
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        // Semgrep ids are large integers; start where a real deployment's might.
        1_200_000 + self.next_id
    }

    pub fn token(&self, token: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.token == token)
    }

    /// The first `n` open findings of a project, oldest first.
    pub fn open_ids(&self, project_id: u64, n: usize) -> Vec<u64> {
        self.findings
            .values()
            .filter(|f| f.project_id == project_id && f.status() == "open")
            .take(n)
            .map(|f| f.id)
            .collect()
    }
}

/// A stable hex id derived from `parts` (match-based and syntactic ids look like this).
pub fn hex_id(parts: &[&str], len: usize) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let mut out = hex::encode(h.finalize());
    while out.len() < len {
        let again = hex::encode(Sha256::digest(out.as_bytes()));
        out.push_str(&again);
    }
    out.truncate(len);
    out
}
