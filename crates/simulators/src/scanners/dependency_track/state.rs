//! One Dependency-Track server (4.x API): teams' API keys and their permissions, projects, and
//! each project's findings (component × vulnerability, with its analysis).

use serde_json::{Value, json};

/// An API key and its team's permissions.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub key: String,
    pub team: String,
    pub team_uuid: String,
    pub permissions: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub uuid: String,
    pub name: String,
    pub version: Option<String>,
    pub active: bool,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub last_bom_import: i64,
    pub last_analysis: i64,
    pub deleted: bool,
}

impl Project {
    /// The project as `GET /api/v1/project` lists it.
    pub fn listed(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "classifier": "APPLICATION",
            "uuid": self.uuid,
            "active": self.active,
            "isLatest": true,
            "tags": self.tags.iter().map(|t| json!({ "name": t })).collect::<Vec<_>>(),
            "lastBomImport": self.last_bom_import,
            "lastBomImportFormat": "CycloneDX 1.5",
            "lastVulnerabilityAnalysis": self.last_analysis,
            "lastInheritedRiskScore": 0.0,
        });
        if let Some(ver) = &self.version {
            v["version"] = json!(ver);
        }
        if let Some(p) = &self.parent {
            v["parent"] = json!({ "uuid": p });
        }
        v
    }
}

/// One finding: the JSON `GET /api/v1/finding/project/{uuid}` returns, and what is filtered on.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub project: String,
    pub matrix: String,
    pub source: String,
    pub state: String,
    pub suppressed: bool,
    pub raw: String,
}

impl Finding {
    /// Indexes a finding object (`component`, `vulnerability`, `analysis`, `attribution`,
    /// `matrix`) served under `project`.
    pub fn new(project: &str, v: &Value) -> Finding {
        let text = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        Finding {
            project: project.to_owned(),
            matrix: text("/matrix"),
            source: text("/vulnerability/source"),
            state: v
                .pointer("/analysis/state")
                .and_then(Value::as_str)
                .unwrap_or("NOT_SET")
                .to_owned(),
            suppressed: v
                .pointer("/analysis/isSuppressed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            raw: v.to_string(),
        }
    }

    /// Records an analysis (what an auditor does in the UI or through `PUT /api/v1/analysis`).
    pub fn analyse(&mut self, state: &str, suppressed: bool, justification: Option<&str>) {
        let Ok(mut v) = serde_json::from_str::<Value>(&self.raw) else {
            return;
        };
        let mut analysis = json!({ "state": state, "isSuppressed": suppressed });
        if let Some(j) = justification {
            analysis["justification"] = json!(j);
        }
        v["analysis"] = analysis;
        *self = Finding::new(&self.project, &v);
    }

    /// Open as Dependency-Track shows it: not suppressed, no verdict that closes it.
    pub fn is_open(&self) -> bool {
        !self.suppressed
            && !matches!(
                self.state.as_str(),
                "FALSE_POSITIVE" | "NOT_AFFECTED" | "RESOLVED"
            )
    }
}

#[derive(Default)]
pub(crate) struct State {
    pub version: String,
    pub keys: Vec<Key>,
    pub projects: Vec<Project>,
    pub findings: Vec<Finding>,
}

impl State {
    pub fn key(&self, key: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.key == key)
    }

    pub fn project(&self, uuid: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.uuid == uuid && !p.deleted)
    }

    pub fn project_findings(&self, uuid: &str) -> impl Iterator<Item = (usize, &Finding)> {
        self.findings
            .iter()
            .enumerate()
            .filter(move |(_, f)| f.project == uuid)
    }

    pub fn describe(&self) -> Value {
        json!({
            "version": self.version,
            "api_keys": self.keys.iter().map(|k| json!({ "key": k.key, "team": k.team, "permissions": k.permissions })).collect::<Vec<_>>(),
            "projects": self.projects.iter().filter(|p| !p.deleted).map(|p| {
                let all = self.project_findings(&p.uuid).count();
                let open = self.project_findings(&p.uuid).filter(|(_, f)| f.is_open()).count();
                json!({ "uuid": p.uuid, "name": p.name, "version": p.version, "active": p.active, "findings": all, "open": open })
            }).collect::<Vec<_>>(),
        })
    }
}
