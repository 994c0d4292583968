//! The simulated instance's world: users and their personal access tokens, groups, projects and
//! memberships, issues, notes, labels and project hooks. Plain data; the simulator keeps it
//! behind one mutex and every endpoint works on it under that lock.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// GitLab's roles and their access levels (`Gitlab::Access`).
pub const GUEST: u8 = 10;
pub const PLANNER: u8 = 15;
pub const REPORTER: u8 = 20;
pub const DEVELOPER: u8 = 30;
pub const MAINTAINER: u8 = 40;
pub const OWNER: u8 = 50;

/// The role name of an access level, as GitLab's UI shows it.
pub fn role_name(level: u8) -> &'static str {
    match level {
        OWNER.. => "Owner",
        MAINTAINER.. => "Maintainer",
        DEVELOPER.. => "Developer",
        REPORTER.. => "Reporter",
        PLANNER.. => "Planner",
        GUEST.. => "Guest",
        5.. => "Minimal Access",
        _ => "No access",
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Token {
    pub id: u64,
    pub user_id: u64,
    pub name: String,
    pub token: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// A date: GitLab tokens expire at the start of that day (UTC).
    pub expires_at: Option<NaiveDate>,
    pub revoked: bool,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl Token {
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.expires_at.is_some_and(|d| d <= today)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub parent_id: Option<u64>,
    /// Direct members and their access levels; inherited by subgroups and projects.
    pub members: BTreeMap<u64, u8>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub path_with_namespace: String,
    pub namespace_id: u64,
    pub created_at: DateTime<Utc>,
    pub next_iid: u64,
    pub members: BTreeMap<u64, u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueState {
    Opened,
    Closed,
}

impl IssueState {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueState::Opened => "opened",
            IssueState::Closed => "closed",
        }
    }

    /// GitLab's `state_id` column (`Issuable::STATE_ID_MAP`).
    pub fn id(self) -> u8 {
        match self {
            IssueState::Opened => 1,
            IssueState::Closed => 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Issue {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
    pub description: Option<String>,
    pub state: IssueState,
    pub author_id: u64,
    /// Label titles, sorted (GitLab lists an issue's labels by title).
    pub labels: BTreeSet<String>,
    pub confidential: bool,
    pub issue_type: String,
    pub weight: Option<i64>,
    pub due_date: Option<NaiveDate>,
    pub milestone_id: Option<u64>,
    pub assignee_ids: Vec<u64>,
    pub discussion_locked: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by_id: Option<u64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by_id: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Note {
    pub id: u64,
    pub project_id: u64,
    pub issue_id: u64,
    pub body: String,
    pub author_id: u64,
    pub internal: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Milestone {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Label {
    pub id: u64,
    pub project_id: u64,
    pub name: String,
    pub color: String,
    pub created_at: DateTime<Utc>,
}

/// A project hook. The token is kept in clear: GitLab sends it back in `X-Gitlab-Token`.
#[derive(Clone, Debug, Serialize)]
pub struct Hook {
    pub id: u64,
    pub project_id: u64,
    pub uuid: String,
    pub url: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub token: Option<String>,
    pub push_events: bool,
    pub issues_events: bool,
    pub confidential_issues_events: bool,
    pub merge_requests_events: bool,
    pub tag_push_events: bool,
    pub note_events: bool,
    pub confidential_note_events: bool,
    pub job_events: bool,
    pub pipeline_events: bool,
    pub wiki_page_events: bool,
    pub deployment_events: bool,
    pub releases_events: bool,
    pub feature_flag_events: bool,
    pub enable_ssl_verification: bool,
    pub push_events_branch_filter: String,
    pub created_at: DateTime<Utc>,
}

/// Everything the simulator holds.
#[derive(Debug, Default, Serialize)]
pub struct State {
    pub users: BTreeMap<u64, User>,
    pub tokens: Vec<Token>,
    pub groups: BTreeMap<u64, Group>,
    pub projects: BTreeMap<u64, Project>,
    /// By (project id, iid); shown as a list.
    #[serde(serialize_with = "as_list")]
    pub issues: BTreeMap<(u64, u64), Issue>,
    pub notes: Vec<Note>,
    pub labels: Vec<Label>,
    pub milestones: BTreeMap<u64, Milestone>,
    pub hooks: BTreeMap<u64, Hook>,
    next_id: u64,
}

impl State {
    /// A fresh id for any kind of record. One sequence for all of them keeps ids unique across
    /// kinds, which makes mixing up an issue id and a project id show up in tests.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn user_by_name(&self, username: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub fn token(&self, secret: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.token == secret)
    }

    pub fn group_by_path(&self, full_path: &str) -> Option<&Group> {
        self.groups
            .values()
            .find(|g| g.full_path.eq_ignore_ascii_case(full_path))
    }

    /// A project by numeric id or full path (paths are case-insensitive on GitLab).
    pub fn project_by_ref(&self, id_or_path: &str) -> Option<&Project> {
        if !id_or_path.is_empty() && id_or_path.bytes().all(|b| b.is_ascii_digit()) {
            return id_or_path
                .parse()
                .ok()
                .and_then(|id| self.projects.get(&id));
        }
        self.projects
            .values()
            .find(|p| p.path_with_namespace.eq_ignore_ascii_case(id_or_path))
    }

    /// The user's access level on a project: the highest of the project membership and the
    /// memberships of every enclosing group (GitLab's inherited membership).
    pub fn access_level(&self, user_id: u64, project_id: u64) -> u8 {
        let Some(project) = self.projects.get(&project_id) else {
            return 0;
        };
        let mut level = project.members.get(&user_id).copied().unwrap_or(0);
        let mut group = self.groups.get(&project.namespace_id);
        while let Some(g) = group {
            level = level.max(g.members.get(&user_id).copied().unwrap_or(0));
            group = g.parent_id.and_then(|p| self.groups.get(&p));
        }
        level
    }

    /// The highest level a user holds through the project's groups alone.
    pub fn group_access_level(&self, user_id: u64, project_id: u64) -> Option<u8> {
        let project = self.projects.get(&project_id)?;
        let mut best: Option<u8> = None;
        let mut group = self.groups.get(&project.namespace_id);
        while let Some(g) = group {
            if let Some(l) = g.members.get(&user_id) {
                best = Some(best.map_or(*l, |b| b.max(*l)));
            }
            group = g.parent_id.and_then(|p| self.groups.get(&p));
        }
        best
    }

    /// Creates the group and its parents as needed; returns the innermost group's id.
    pub fn ensure_group(&mut self, full_path: &str) -> u64 {
        let mut parent: Option<u64> = None;
        let mut walked = String::new();
        for segment in full_path.split('/').filter(|s| !s.is_empty()) {
            if !walked.is_empty() {
                walked.push('/');
            }
            walked.push_str(segment);
            let id = match self.group_by_path(&walked) {
                Some(g) => g.id,
                None => {
                    let id = self.next_id();
                    self.groups.insert(
                        id,
                        Group {
                            id,
                            name: title_case(segment),
                            path: segment.to_owned(),
                            full_path: walked.clone(),
                            parent_id: parent,
                            members: BTreeMap::new(),
                        },
                    );
                    id
                }
            };
            parent = Some(id);
        }
        parent.unwrap_or(0)
    }

    pub fn issue(&self, project_id: u64, iid: u64) -> Option<&Issue> {
        self.issues.get(&(project_id, iid))
    }

    pub fn notes_of(&self, issue_id: u64) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(move |n| n.issue_id == issue_id)
    }

    pub fn label(&self, project_id: u64, name: &str) -> Option<&Label> {
        self.labels
            .iter()
            .find(|l| l.project_id == project_id && l.name == name)
    }

    /// GitLab creates a project label the first time an issue names it.
    pub fn ensure_label(&mut self, project_id: u64, name: &str, now: DateTime<Utc>) {
        if self.label(project_id, name).is_none() {
            let id = self.next_id();
            // GitLab picks a colour from its palette; derive one from the name so it is stable.
            let palette = [
                "#009966", "#8fbc8f", "#3cb371", "#6699cc", "#dc143c", "#cd5b45", "#ed9121",
                "#9400d3",
            ];
            let color =
                palette[name.bytes().map(usize::from).sum::<usize>() % palette.len()].to_owned();
            self.labels.push(Label {
                id,
                project_id,
                name: name.to_owned(),
                color,
                created_at: now,
            });
        }
    }
}

fn as_list<S: serde::Serializer>(
    issues: &BTreeMap<(u64, u64), Issue>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(issues.values())
}

/// `mobile-backend` → `Mobile Backend`: how GitLab's seed data names groups and projects.
pub fn title_case(path: &str) -> String {
    path.split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_is_inherited_from_groups() {
        let mut s = State::default();
        let now = Utc::now();
        let g = s.ensure_group("acme/platform");
        let parent = s.group_by_path("acme").map(|g| g.id).unwrap_or(0);
        let p = s.next_id();
        s.projects.insert(
            p,
            Project {
                id: p,
                name: "Api".into(),
                path: "api".into(),
                path_with_namespace: "acme/platform/api".into(),
                namespace_id: g,
                created_at: now,
                next_iid: 1,
                members: [(7, GUEST)].into(),
            },
        );
        if let Some(acme) = s.groups.get_mut(&parent) {
            acme.members.insert(7, DEVELOPER);
        }
        assert_eq!(s.access_level(7, p), DEVELOPER);
        assert_eq!(s.group_access_level(7, p), Some(DEVELOPER));
        assert_eq!(s.access_level(8, p), 0);
        assert_eq!(role_name(PLANNER), "Planner");
        assert!(s.project_by_ref("ACME/platform/API").is_some());
        assert!(s.project_by_ref(&p.to_string()).is_some());
    }
}
