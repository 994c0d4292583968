//! One Tenable Vulnerability Management container: its API users, scans with their runs
//! (history), the findings the exports read, and the export jobs.

use chrono::{DateTime, SecondsFormat};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// An API user: its key pair and role (Tenable's numeric permission levels).
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub name: String,
    pub access_key: String,
    pub secret_key: String,
    /// 16 Basic, 24 Scan Operator, 32 Standard, 40 Scan Manager, 64 Administrator.
    pub role: u8,
}

/// One run of a scan (an entry of its history).
#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub id: u64,
    pub uuid: String,
    /// `completed`, `running`, `canceled`, `aborted`…
    pub status: String,
    pub time_start: i64,
    pub time_end: Option<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct Scan {
    pub id: u64,
    pub schedule_uuid: String,
    pub name: String,
    pub owner: String,
    pub kind: String,
    pub created: i64,
    pub runs: Vec<Run>,
    pub deleted: bool,
}

impl Scan {
    pub fn latest(&self) -> Option<&Run> {
        self.runs.iter().max_by_key(|r| (r.time_start, r.id))
    }

    pub fn latest_completed(&self) -> Option<&Run> {
        self.runs
            .iter()
            .filter(|r| r.status == "completed")
            .max_by_key(|r| (r.time_start, r.id))
    }

    /// What `GET /scans` lists for it.
    pub fn listed(&self) -> Value {
        let latest = self.latest();
        json!({
            "control": true,
            "creation_date": self.created,
            "enabled": true,
            "id": self.id,
            "last_modification_date": latest.map_or(self.created, |r| r.time_end.unwrap_or(r.time_start)),
            "legacy": false,
            "name": self.name,
            "owner": self.owner,
            "policy_id": 30 + self.id,
            "read": false,
            "schedule_uuid": self.schedule_uuid,
            "shared": true,
            "status": latest.map_or("empty", |r| r.status.as_str()),
            "template_uuid": "731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65",
            "has_triggers": false,
            "type": self.kind,
            "permissions": 128,
            "user_permissions": 128,
            "uuid": latest.map_or(Value::Null, |r| json!(r.uuid)),
            "wizard_uuid": "731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65",
            "progress": 100,
            "total_targets": 256,
        })
    }
}

/// One finding as a vulnerability export chunk carries it, with what filters read.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub finding_id: String,
    pub asset: String,
    pub schedule_uuid: String,
    pub scan_uuid: String,
    /// `OPEN`, `REOPENED`, `FIXED`.
    pub state: String,
    pub severity: String,
    pub modification: String,
    pub plugin_id: i64,
    pub first_found: i64,
    pub last_found: i64,
    pub last_fixed: Option<i64>,
    pub indexed: i64,
    /// The chunk record.
    pub raw: String,
}

pub(crate) fn iso(epoch: i64) -> String {
    DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn epoch_of(v: &Value, key: &str) -> Option<i64> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.timestamp())
}

impl Finding {
    /// Indexes a chunk record (as the seed and generator build them).
    pub fn index(v: &Value) -> Option<Finding> {
        let text = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        Some(Finding {
            finding_id: text("/finding_id"),
            asset: text("/asset/uuid"),
            schedule_uuid: text("/scan/schedule_uuid"),
            scan_uuid: text("/scan/uuid"),
            state: text("/state"),
            severity: text("/severity"),
            modification: text("/severity_modification_type"),
            plugin_id: v.pointer("/plugin/id").and_then(Value::as_i64)?,
            first_found: epoch_of(v, "first_found")?,
            last_found: epoch_of(v, "last_found")?,
            last_fixed: epoch_of(v, "last_fixed"),
            indexed: v.get("indexed").and_then(Value::as_i64)?,
            raw: v.to_string(),
        })
    }

    pub fn update(&mut self, change: impl FnOnce(&mut Map<String, Value>)) {
        let Ok(mut v) = serde_json::from_str::<Value>(&self.raw) else {
            return;
        };
        if let Some(o) = v.as_object_mut() {
            change(o);
        }
        if let Some(f) = Finding::index(&v) {
            *self = f;
        }
    }

    /// Open as Tenable reports it: not fixed, and its risk not accepted.
    pub fn is_open(&self) -> bool {
        self.state != "FIXED" && !self.modification.eq_ignore_ascii_case("ACCEPTED")
    }
}

/// An export job: its request and the chunks it produced (finding indices, by asset).
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub uuid: String,
    /// The request as normalised (what a duplicate is compared on).
    pub request: Value,
    pub filters: Value,
    pub num_assets: usize,
    pub chunks: Vec<Vec<usize>>,
    pub created_ms: i64,
    pub status: String,
    /// Status requests answered so far (the job advances as it is polled).
    pub polls: u32,
    pub available: usize,
    pub failed: Vec<usize>,
}

impl Job {
    pub fn active(&self) -> bool {
        matches!(self.status.as_str(), "QUEUED" | "PROCESSING")
    }
}

/// How a job advances: answered `QUEUED` for the first `queued_polls` status requests, then
/// `PROCESSING` with a growing share of the chunks for `processing_polls` more, then
/// `FINISHED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pace {
    pub queued_polls: u32,
    pub processing_polls: u32,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            queued_polls: 1,
            processing_polls: 1,
        }
    }
}

#[derive(Default)]
pub(crate) struct State {
    pub users: Vec<User>,
    pub scans: BTreeMap<u64, Scan>,
    pub findings: Vec<Finding>,
    pub jobs: Vec<Job>,
    pub pace: Pace,
    /// Chunks that fail to process (their ids), for the next export only.
    pub fail_chunks: Vec<usize>,
    pub next_run_id: u64,
}

impl State {
    pub fn user(&self, access: &str, secret: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.access_key == access && u.secret_key == secret)
    }

    /// A scan by numeric id or schedule UUID.
    pub fn scan(&self, id: &str) -> Option<&Scan> {
        self.scans
            .values()
            .filter(|s| !s.deleted)
            .find(|s| s.schedule_uuid == id || s.id.to_string() == id)
    }

    pub fn scan_findings(&self, schedule_uuid: &str) -> impl Iterator<Item = (usize, &Finding)> {
        self.findings
            .iter()
            .enumerate()
            .filter(move |(_, f)| f.schedule_uuid == schedule_uuid)
    }

    pub fn job(&mut self, uuid: &str) -> Option<&mut Job> {
        self.jobs.iter_mut().find(|j| j.uuid == uuid)
    }

    pub fn describe(&self) -> Value {
        json!({
            "users": self.users.iter().map(|u| json!({ "name": u.name, "access_key": u.access_key, "role": u.role })).collect::<Vec<_>>(),
            "scans": self.scans.values().filter(|s| !s.deleted).map(|s| {
                let findings = self.scan_findings(&s.schedule_uuid).count();
                let open = self.scan_findings(&s.schedule_uuid).filter(|(_, f)| f.is_open()).count();
                json!({ "id": s.id, "schedule_uuid": s.schedule_uuid, "name": s.name, "runs": s.runs.len(),
                        "latest_completed": s.latest_completed().map(|r| r.uuid.clone()), "findings": findings, "open": open })
            }).collect::<Vec<_>>(),
            "exports": self.jobs.iter().map(|j| json!({ "uuid": j.uuid, "status": j.status, "total_chunks": j.chunks.len() })).collect::<Vec<_>>(),
            "pace": self.pace,
        })
    }
}
