//! What the Snyk simulator holds: users (API and service-account tokens) and their
//! organizations, projects, and issues. Issues are compact and rendered to the REST API's
//! JSON:API documents only for the page asked for.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub username: String,
    pub email: String,
    pub token: String,
    /// Organizations the user belongs to, by id.
    pub orgs: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub group_id: Option<String>,
    /// Creation order: what cursors page by.
    pub seq: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub id: String,
    pub org_id: String,
    pub name: String,
    /// The package manager or scanner: `npm`, `pip`, `maven`, `sast`…
    pub kind: String,
    pub target_file: String,
    pub target_reference: String,
    pub origin: String,
    /// `active` or `inactive` (deactivated: no longer tested).
    pub status: String,
    pub created: DateTime<Utc>,
    pub target_id: String,
    pub seq: u64,
}

/// The coordinates of an issue: a vulnerable package, or a place in the code.
#[derive(Clone, Debug, Serialize)]
pub enum Place {
    Package {
        name: String,
        version: String,
    },
    Code {
        file: String,
        line: u32,
        commit: String,
    },
    /// Fixture issues carry their own coordinates (in `extra`).
    AsIs,
}

#[derive(Clone, Debug, Serialize)]
pub struct Issue {
    pub id: String,
    pub org_id: String,
    pub project_id: String,
    pub key: String,
    pub title: String,
    /// `package_vulnerability`, `code`, `license`…
    pub kind: String,
    pub severity: String,
    pub status: String,
    pub ignored: bool,
    pub resolution: Option<(String, DateTime<Utc>)>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub cwe: Option<String>,
    pub cve: Option<String>,
    pub cvss: Option<(f64, String)>,
    pub place: Place,
    pub seq: u64,
    /// A fixture issue's attributes the simulator does not model, served back as they were.
    #[serde(skip)]
    pub extra: Option<Box<Map<String, Value>>>,
}

impl Issue {
    /// What the connector imports and `open_findings` counts: open, not ignored, of a type
    /// vulnerability management takes (code and open-source vulnerabilities).
    pub fn is_open_vulnerability(&self) -> bool {
        self.status == "open"
            && !self.ignored
            && matches!(self.kind.as_str(), "package_vulnerability" | "code")
    }
}

#[derive(Debug, Default, Serialize)]
pub struct State {
    pub users: Vec<User>,
    pub orgs: BTreeMap<String, Org>,
    pub projects: BTreeMap<String, Project>,
    /// By `seq` (creation order), which pages follow.
    pub issues: BTreeMap<u64, Issue>,
    next: u64,
}

impl State {
    pub fn next_seq(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// A UUID (version 4 layout) derived from the next sequence number and `salt`, so worlds
    /// are the same on every run.
    pub fn next_uuid(&mut self, salt: &str) -> String {
        let n = self.next_seq();
        uuid_of(&format!("{salt}/{n}"))
    }

    pub fn user_by_token(&self, token: &str) -> Option<&User> {
        self.users.iter().find(|u| u.token == token)
    }
}

pub fn uuid_of(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
