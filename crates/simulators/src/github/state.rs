//! Everything the GitHub simulator holds: accounts, repositories with their issues, labels and
//! hooks, organization hooks, and Projects (v2) with their fields and items.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A repository role, in increasing order of rights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Perm {
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl Perm {
    pub fn parse(s: &str) -> Option<Perm> {
        match s.to_ascii_lowercase().as_str() {
            "read" | "pull" => Some(Perm::Read),
            "triage" => Some(Perm::Triage),
            "write" | "push" => Some(Perm::Write),
            "maintain" => Some(Perm::Maintain),
            "admin" => Some(Perm::Admin),
            _ => None,
        }
    }

    pub fn graphql(self) -> &'static str {
        match self {
            Perm::Read => "READ",
            Perm::Triage => "TRIAGE",
            Perm::Write => "WRITE",
            Perm::Maintain => "MAINTAIN",
            Perm::Admin => "ADMIN",
        }
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: u64,
    pub login: String,
    pub node_id: String,
    /// Classic PAT scopes; `None` for a fine-grained token (`github_pat_…`), which GitHub
    /// answers without `X-OAuth-Scopes`.
    pub scopes: Option<Vec<String>>,
}

/// Whether a token's scopes grant `scope` (a fine-grained token, without scopes, is judged by
/// permissions only). Parent scopes grant their children (`repo` → `public_repo`, `project` →
/// `read:project`, `admin:repo_hook` → `write:repo_hook`).
pub fn has_scope(scopes: Option<&[String]>, scope: &str) -> bool {
    let Some(scopes) = scopes else { return true };
    scopes.iter().any(|s| {
        s == scope
            || matches!(
                (s.as_str(), scope),
                (
                    "repo",
                    "public_repo"
                        | "repo:status"
                        | "repo_deployment"
                        | "repo:invite"
                        | "security_events"
                ) | ("project", "read:project")
                    | ("admin:repo_hook", "write:repo_hook" | "read:repo_hook")
                    | ("write:repo_hook", "read:repo_hook")
                    | ("admin:org_hook", "read:org_hook" | "write:org_hook")
                    | ("admin:org", "write:org" | "read:org")
                    | ("write:org", "read:org")
            )
    })
}

#[derive(Clone, Debug)]
pub struct Org {
    pub id: u64,
    pub login: String,
    pub node_id: String,
    /// Organization owners (lowercase logins): they administer every repository and hook.
    pub owners: BTreeSet<String>,
}

#[derive(Clone, Debug)]
pub struct Label {
    pub id: u64,
    pub node_id: String,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
    pub default: bool,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub node_id: String,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Issue {
    pub id: u64,
    pub node_id: String,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub open: bool,
    pub state_reason: Option<String>,
    /// Label ids, in the order they were applied.
    pub labels: Vec<u64>,
    pub comments: Vec<Comment>,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Repo {
    pub id: u64,
    pub node_id: String,
    /// As created (display case).
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub has_issues: bool,
    /// Collaborators' roles, by lowercase login.
    pub perms: BTreeMap<String, Perm>,
    pub labels: Vec<Label>,
    pub issues: Vec<Issue>,
    pub created_at: DateTime<Utc>,
}

impl Repo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub fn issue(&self, number: u64) -> Option<&Issue> {
        self.issues.iter().find(|i| i.number == number)
    }

    pub fn issue_mut(&mut self, number: u64) -> Option<&mut Issue> {
        self.issues.iter_mut().find(|i| i.number == number)
    }

    pub fn label_by_name(&self, name: &str) -> Option<&Label> {
        self.labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookTarget {
    Repo(RepoKey),
    Org(String),
}

#[derive(Clone, Debug)]
pub struct Hook {
    pub id: u64,
    pub target: HookTarget,
    pub active: bool,
    pub events: Vec<String>,
    pub url: String,
    pub content_type: String,
    pub secret: Option<String>,
    pub insecure_ssl: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Hook {
    pub fn wants(&self, event: &str) -> bool {
        self.active && (event == "ping" || self.events.iter().any(|e| e == event || e == "*"))
    }
}

#[derive(Clone, Debug)]
pub struct SelectOption {
    pub id: String,
    pub name: String,
    pub color: String,
    pub description: String,
}

#[derive(Clone, Debug)]
pub struct ProjectField {
    pub id: u64,
    pub node_id: String,
    pub name: String,
    /// `ProjectV2FieldType`: `SINGLE_SELECT`, `TEXT`, `NUMBER`, `DATE`, `TITLE`…
    pub data_type: String,
    pub options: Vec<SelectOption>,
    pub created_at: DateTime<Utc>,
}

impl ProjectField {
    pub fn is_single_select(&self) -> bool {
        self.data_type == "SINGLE_SELECT"
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemValue {
    Text(String),
    Number(f64),
    Date(String),
    /// A single-select option id.
    Option(String),
}

#[derive(Clone, Debug)]
pub struct ProjectItem {
    pub id: u64,
    pub node_id: String,
    /// The node id of the issue the item stands for.
    pub content: String,
    /// Values by field node id.
    pub values: BTreeMap<String, ItemValue>,
    pub creator: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Project {
    pub id: u64,
    pub node_id: String,
    /// Lowercase login of the organization or user owning it.
    pub owner: String,
    pub number: u32,
    pub title: String,
    pub fields: Vec<ProjectField>,
    pub items: Vec<ProjectItem>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Project {
    pub fn field_by_name(&self, name: &str) -> Option<&ProjectField> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn field_by_node(&self, node: &str) -> Option<&ProjectField> {
        self.fields.iter().find(|f| f.node_id == node)
    }

    pub fn item_by_node(&self, node: &str) -> Option<&ProjectItem> {
        self.items.iter().find(|i| i.node_id == node)
    }

    pub fn item_for_content(&self, content: &str) -> Option<&ProjectItem> {
        self.items.iter().find(|i| i.content == content)
    }
}

/// A repository's key: lowercase owner and name (GitHub names are case-insensitive).
pub type RepoKey = (String, String);

pub fn repo_key(owner: &str, name: &str) -> RepoKey {
    (owner.to_ascii_lowercase(), name.to_ascii_lowercase())
}

/// The simulator's world.
#[derive(Debug, Default)]
pub struct State {
    pub users: BTreeMap<String, User>,
    /// Token → lowercase login.
    pub tokens: HashMap<String, String>,
    pub orgs: BTreeMap<String, Org>,
    pub repos: BTreeMap<RepoKey, Repo>,
    pub hooks: Vec<Hook>,
    pub projects: Vec<Project>,
    next_id: u64,
    next_option: u64,
}

impl State {
    /// A fresh database id (GitHub's ids are global and increasing).
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        1_000_000 + self.next_id
    }

    /// A node id like GitHub's new-style global ids: a type prefix and an opaque tail.
    pub fn node_id(prefix: &str, id: u64) -> String {
        format!("{prefix}_kwDO{}", encode_id(id))
    }

    /// A single-select option id: 8 hex digits, as GitHub's are.
    pub fn option_id(&mut self) -> String {
        use sha2::{Digest, Sha256};
        self.next_option += 1;
        let d = Sha256::digest(format!("option-{}", self.next_option).as_bytes());
        hex::encode(&d[..4])
    }

    pub fn user(&self, login: &str) -> Option<&User> {
        self.users.get(&login.to_ascii_lowercase())
    }

    pub fn org(&self, login: &str) -> Option<&Org> {
        self.orgs.get(&login.to_ascii_lowercase())
    }

    pub fn repo(&self, key: &RepoKey) -> Option<&Repo> {
        self.repos.get(key)
    }

    pub fn repo_mut(&mut self, key: &RepoKey) -> Option<&mut Repo> {
        self.repos.get_mut(key)
    }

    pub fn is_org_owner(&self, org: &str, login: &str) -> bool {
        self.org(org)
            .is_some_and(|o| o.owners.contains(&login.to_ascii_lowercase()))
    }

    /// The user's role on a repository: the owner and organization owners administer it;
    /// collaborators have their role; anyone else none (every simulated repository is
    /// private, so it is invisible to them).
    pub fn permission(&self, key: &RepoKey, login: &str) -> Option<Perm> {
        let repo = self.repo(key)?;
        let login = login.to_ascii_lowercase();
        if repo.owner.eq_ignore_ascii_case(&login) || self.is_org_owner(&repo.owner, &login) {
            return Some(Perm::Admin);
        }
        let explicit = repo.perms.get(&login).copied();
        if explicit.is_some() || repo.private {
            return explicit;
        }
        Some(Perm::Read)
    }

    /// Whether the user belongs to an organization: an owner, or a collaborator on one of its
    /// repositories (the simulator has no separate membership list).
    pub fn org_role(&self, org: &str, login: &str) -> Option<Perm> {
        if self.is_org_owner(org, login) {
            return Some(Perm::Admin);
        }
        let org = org.to_ascii_lowercase();
        self.repos
            .iter()
            .filter(|((o, _), _)| *o == org)
            .filter_map(|(k, _)| self.permission(k, login))
            .max()
    }

    /// The role a user has on a project: its owner (or an organization owner) administers it;
    /// organization members with write access to one of its repositories may edit items; other
    /// members read (GitHub's default base role for organization projects).
    pub fn project_role(&self, project: &Project, login: &str) -> Option<Perm> {
        if project.owner.eq_ignore_ascii_case(login) {
            return Some(Perm::Admin);
        }
        match self.org_role(&project.owner, login)? {
            Perm::Admin => Some(Perm::Admin),
            p if p >= Perm::Write => Some(Perm::Write),
            _ => Some(Perm::Read),
        }
    }

    pub fn project(&self, owner: &str, number: u32) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.owner.eq_ignore_ascii_case(owner) && p.number == number)
    }

    pub fn project_index(&self, owner: &str, number: u32) -> Option<usize> {
        self.projects
            .iter()
            .position(|p| p.owner.eq_ignore_ascii_case(owner) && p.number == number)
    }

    pub fn project_by_node(&self, node: &str) -> Option<usize> {
        self.projects.iter().position(|p| p.node_id == node)
    }

    /// The repository and number of the issue with this node id.
    pub fn issue_by_node(&self, node: &str) -> Option<(RepoKey, u64)> {
        self.repos.iter().find_map(|(k, r)| {
            r.issues
                .iter()
                .find(|i| i.node_id == node)
                .map(|i| (k.clone(), i.number))
        })
    }

    /// The display login of a user or organization.
    pub fn display_login(&self, login: &str) -> String {
        self.user(login)
            .map(|u| u.login.clone())
            .or_else(|| self.org(login).map(|o| o.login.clone()))
            .unwrap_or_else(|| login.to_owned())
    }
}

/// Base-64-like opaque tail of node ids (letters and digits only, like GitHub's).
fn encode_id(mut id: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = Vec::new();
    for _ in 0..8 {
        out.push(ALPHABET[(id % 62) as usize]);
        id /= 62;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}
