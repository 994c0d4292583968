//! The simulated organization: users and their personal access tokens, projects (each with a
//! process and its area paths), work items with their revisions' fields and comments, the
//! recycle bin, and service hook subscriptions. Plain data behind one mutex.

use super::process::{Process, TypeDef};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A random (version 4) GUID, lower-case as Azure DevOps writes them.
pub fn guid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    /// The identity id (VSID).
    pub id: String,
    /// What the simulator's Rust API and control API call the user (`dev-dave`).
    pub login: String,
    /// The sign-in name (`dev-dave@acme.example`): `uniqueName` in identity refs.
    pub unique_name: String,
    pub display_name: String,
}

impl User {
    /// `Display Name <unique name>`: how identity fields read in service hook payloads.
    pub fn distinct_name(&self) -> String {
        format!("{} <{}>", self.display_name, self.unique_name)
    }

    pub fn descriptor(&self) -> String {
        format!(
            "aad.{}",
            hex::encode(self.id.replace('-', ""))
                .chars()
                .take(48)
                .collect::<String>()
        )
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Pat {
    pub token: String,
    pub user_id: String,
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    pub process: Process,
    /// Area paths, the root (the project's name) first: `Platform`, `Platform\Web`.
    pub areas: Vec<String>,
    pub revision: u64,
    pub last_update: DateTime<Utc>,
}

impl Project {
    pub fn work_item_type(&self, name: &str) -> Option<&'static TypeDef> {
        self.process.work_item_type(name)
    }

    /// The area path as stored (the project's spelling), if the project has it.
    pub fn area(&self, path: &str) -> Option<&str> {
        let want = path.trim().trim_start_matches('\\');
        self.areas
            .iter()
            .find(|a| a.eq_ignore_ascii_case(want))
            .map(String::as_str)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Comment {
    pub id: i64,
    pub text: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

/// One revision's values of the fields that changed from the one before.
#[derive(Clone, Debug, Serialize)]
pub struct Revision {
    pub rev: i64,
    pub by: String,
    pub at: DateTime<Utc>,
    /// `field → (old, new)`.
    pub changes: BTreeMap<String, (Value, Value)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkItem {
    pub id: i64,
    pub rev: i64,
    pub project_id: String,
    pub type_name: &'static str,
    /// Current values by reference name. Identity fields hold the user's id.
    pub fields: BTreeMap<String, Value>,
    pub relations: Vec<Value>,
    pub comments: Vec<Comment>,
    pub revisions: Vec<Revision>,
}

impl WorkItem {
    pub fn field_str(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    pub fn state(&self) -> &str {
        self.field_str("System.State").unwrap_or("")
    }

    pub fn tags(&self) -> Vec<String> {
        super::fields::split_tags(self.field_str("System.Tags").unwrap_or(""))
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Subscription {
    pub id: String,
    pub publisher_id: String,
    pub event_type: String,
    pub resource_version: String,
    pub consumer_id: String,
    pub consumer_action_id: String,
    pub publisher_inputs: BTreeMap<String, String>,
    pub consumer_inputs: BTreeMap<String, String>,
    pub created_by: String,
    pub created_date: DateTime<Utc>,
    pub modified_by: String,
    pub modified_date: DateTime<Utc>,
    pub status: String,
    /// Deliveries so far (`notificationId` counts per subscription).
    pub notifications: u64,
}

#[derive(Debug, Serialize)]
pub struct State {
    pub org: String,
    pub collection_id: String,
    pub users: BTreeMap<String, User>,
    pub pats: Vec<Pat>,
    pub projects: BTreeMap<String, Project>,
    pub work_items: BTreeMap<i64, WorkItem>,
    /// Deleted work items (`DELETE` without `destroy`).
    pub recycle_bin: BTreeMap<i64, WorkItem>,
    pub subscriptions: BTreeMap<String, Subscription>,
    pub next_work_item: i64,
    pub next_comment: i64,
    /// `System.Watermark`: one counter for every change in the organization.
    pub watermark: i64,
}

impl State {
    pub fn new(org: &str) -> State {
        State {
            org: org.to_owned(),
            collection_id: guid(),
            users: BTreeMap::new(),
            pats: Vec::new(),
            projects: BTreeMap::new(),
            work_items: BTreeMap::new(),
            recycle_bin: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            next_work_item: 1,
            next_comment: 1,
            watermark: 1,
        }
    }

    /// A project by name (ignoring case) or id.
    pub fn project(&self, name_or_id: &str) -> Option<&Project> {
        let key = name_or_id.trim();
        self.projects.get(&key.to_ascii_lowercase()).or_else(|| {
            self.projects
                .values()
                .find(|p| p.name.eq_ignore_ascii_case(key))
        })
    }

    /// A user by login, unique name or id.
    pub fn user(&self, who: &str) -> Option<&User> {
        let w = who.trim();
        self.users.get(w).or_else(|| {
            self.users
                .values()
                .find(|u| u.login.eq_ignore_ascii_case(w) || u.unique_name.eq_ignore_ascii_case(w))
        })
    }

    pub fn next_watermark(&mut self) -> i64 {
        self.watermark += 1;
        self.watermark
    }

    /// The user `who`, created on first use.
    pub fn ensure_user(&mut self, login: &str) -> String {
        if let Some(u) = self.user(login) {
            return u.id.clone();
        }
        let id = guid();
        let display_name = login
            .split(['-', '_', '.'])
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        let unique_name = if login.contains('@') {
            login.to_owned()
        } else {
            format!("{login}@{}.example", self.org)
        };
        self.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                login: login.to_owned(),
                unique_name,
                display_name,
            },
        );
        id
    }
}
