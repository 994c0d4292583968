//! The simulated site's world: users and their credentials, projects with their issue types,
//! workflow, components and permissions, issues with comments and links, admin webhooks and
//! OAuth tokens. Plain data behind one mutex; every endpoint works on it under that lock.

use super::text::Rich;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A status category. Jira has exactly these three for workflow statuses (plus `undefined`,
/// which no status uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    New,
    Indeterminate,
    Done,
}

impl Category {
    /// Jira's fixed ids, keys, names and colours (`GET /statuscategory`).
    pub fn id(self) -> u32 {
        match self {
            Category::New => 2,
            Category::Indeterminate => 4,
            Category::Done => 3,
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            Category::New => "new",
            Category::Indeterminate => "indeterminate",
            Category::Done => "done",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Category::New => "To Do",
            Category::Indeterminate => "In Progress",
            Category::Done => "Done",
        }
    }
    pub fn color(self) -> &'static str {
        match self {
            Category::New => "blue-gray",
            Category::Indeterminate => "yellow",
            Category::Done => "green",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: Category,
}

/// A workflow transition: from a status (`None`: from any status, a global transition) to one.
#[derive(Clone, Debug, Serialize)]
pub struct TransitionDef {
    pub id: String,
    pub name: String,
    pub from: Option<String>,
    pub to: String,
    /// The resolution a transition into a done status sets (`None` clears it).
    pub resolution: Option<String>,
}

/// The project permissions the simulator knows, with Jira's keys, ids and names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Permission {
    BrowseProjects,
    CreateIssues,
    EditIssues,
    TransitionIssues,
    AddComments,
    DeleteIssues,
    LinkIssues,
    AdministerProjects,
}

impl Permission {
    pub const ALL: [Permission; 8] = [
        Permission::BrowseProjects,
        Permission::CreateIssues,
        Permission::EditIssues,
        Permission::TransitionIssues,
        Permission::AddComments,
        Permission::DeleteIssues,
        Permission::LinkIssues,
        Permission::AdministerProjects,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Permission::BrowseProjects => "BROWSE_PROJECTS",
            Permission::CreateIssues => "CREATE_ISSUES",
            Permission::EditIssues => "EDIT_ISSUES",
            Permission::TransitionIssues => "TRANSITION_ISSUES",
            Permission::AddComments => "ADD_COMMENTS",
            Permission::DeleteIssues => "DELETE_ISSUES",
            Permission::LinkIssues => "LINK_ISSUES",
            Permission::AdministerProjects => "ADMINISTER_PROJECTS",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Permission::BrowseProjects => "Browse Projects",
            Permission::CreateIssues => "Create Issues",
            Permission::EditIssues => "Edit Issues",
            Permission::TransitionIssues => "Transition Issues",
            Permission::AddComments => "Add Comments",
            Permission::DeleteIssues => "Delete Issues",
            Permission::LinkIssues => "Link Issues",
            Permission::AdministerProjects => "Administer Projects",
        }
    }

    /// Jira's numeric permission ids (`GET /permissions`).
    pub fn id(self) -> u32 {
        match self {
            Permission::BrowseProjects => 10,
            Permission::CreateIssues => 11,
            Permission::EditIssues => 12,
            Permission::AddComments => 15,
            Permission::DeleteIssues => 16,
            Permission::LinkIssues => 21,
            Permission::AdministerProjects => 23,
            Permission::TransitionIssues => 46,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Permission::BrowseProjects => "Ability to browse projects and the issues within them.",
            Permission::CreateIssues => "Ability to create issues.",
            Permission::EditIssues => "Ability to edit issues.",
            Permission::TransitionIssues => "Ability to transition issues.",
            Permission::AddComments => "Ability to comment on issues.",
            Permission::DeleteIssues => "Ability to delete issues.",
            Permission::LinkIssues => "Ability to link issues together and create linked issues.",
            Permission::AdministerProjects => "Ability to administer a project in Jira.",
        }
    }

    pub fn by_key(key: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// What a user may do everywhere, unless a project says otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A Jira administrator: every project permission, and admin webhooks.
    Admin,
    /// Creates, edits, transitions, comments and links; may not delete.
    Developer,
    /// Browses only.
    Viewer,
}

impl Role {
    pub fn permissions(self) -> BTreeSet<Permission> {
        match self {
            Role::Admin => Permission::ALL.into_iter().collect(),
            Role::Developer => Permission::ALL
                .into_iter()
                .filter(|p| !matches!(p, Permission::DeleteIssues | Permission::AdministerProjects))
                .collect(),
            Role::Viewer => [Permission::BrowseProjects].into(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: u64,
    /// Cloud's opaque id.
    pub account_id: String,
    /// Data Center's user name.
    pub name: String,
    /// Data Center's user key (`JIRAUSER10000`).
    pub key: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// The API token (Cloud) or password (Data Center) Basic authentication accepts.
    #[serde(skip)]
    pub api_token: String,
    /// Personal access tokens (Data Center), sent as `Bearer`.
    #[serde(skip)]
    pub pats: Vec<String>,
    pub active: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct IssueType {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Fields a create must set beyond project, issue type and summary (`components`).
    pub required: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub id: String,
    pub key: String,
    pub name: String,
    pub lead: u64,
    /// Issue type ids, in the order the project lists them.
    pub issue_types: Vec<String>,
    pub components: Vec<Component>,
    pub next_number: u64,
    /// Permissions per user that replace the user's role in this project.
    pub grants: BTreeMap<u64, BTreeSet<Permission>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Priority {
    pub id: String,
    pub name: String,
    pub description: String,
    pub color: String,
    pub default: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Resolution {
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkType {
    pub id: String,
    pub name: String,
    pub inward: String,
    pub outward: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Issue {
    pub id: String,
    pub key: String,
    pub project_id: String,
    pub issue_type: String,
    pub summary: String,
    pub description: Option<Rich>,
    pub status: String,
    pub resolution: Option<String>,
    pub priority: String,
    /// Jira keeps labels as a set and lists them sorted.
    pub labels: BTreeSet<String>,
    /// Component ids.
    pub components: Vec<String>,
    pub duedate: Option<NaiveDate>,
    pub reporter: u64,
    pub creator: u64,
    pub assignee: Option<u64>,
    /// Other fields set through `custom_fields` (`environment`, `customfield_10010`…), as sent.
    pub other: BTreeMap<String, serde_json::Value>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub resolution_date: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comment {
    pub id: String,
    pub issue_id: String,
    pub author: u64,
    pub body: Rich,
    pub created: DateTime<Utc>,
}

/// A link: `source` *outward* `target` ("SEC-1 blocks APP-2").
#[derive(Clone, Debug, Serialize)]
pub struct Link {
    pub id: String,
    pub type_id: String,
    pub source: String,
    pub target: String,
}

/// An admin webhook (`/rest/webhooks/1.0/webhook`).
#[derive(Clone, Debug, Serialize)]
pub struct Webhook {
    pub id: u64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    /// The `issue-related-events-section` filter (JQL); empty: every issue.
    pub jql: String,
    pub exclude_body: bool,
    #[serde(skip)]
    pub secret: Option<String>,
    pub enabled: bool,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub updated_by: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct OAuthClient {
    pub client_id: String,
    #[serde(skip)]
    pub secret: String,
}

/// A refresh token: valid until used once (Atlassian rotates them) or revoked.
#[derive(Clone, Debug, Serialize)]
pub struct RefreshToken {
    #[serde(skip)]
    pub token: String,
    pub client_id: String,
    pub user: u64,
    pub used: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct AccessToken {
    #[serde(skip)]
    pub token: String,
    pub client_id: String,
    pub user: u64,
    pub expires: DateTime<Utc>,
}

/// Everything the simulator holds.
#[derive(Debug, Serialize)]
pub struct State {
    pub users: BTreeMap<u64, User>,
    pub projects: BTreeMap<String, Project>,
    pub issue_types: BTreeMap<String, IssueType>,
    pub statuses: Vec<Status>,
    pub transitions: Vec<TransitionDef>,
    pub priorities: Vec<Priority>,
    pub resolutions: Vec<Resolution>,
    pub link_types: Vec<LinkType>,
    pub issues: BTreeMap<String, Issue>,
    pub comments: Vec<Comment>,
    pub links: Vec<Link>,
    pub webhooks: BTreeMap<u64, Webhook>,
    pub oauth_clients: Vec<OAuthClient>,
    pub refresh_tokens: Vec<RefreshToken>,
    pub access_tokens: Vec<AccessToken>,
    /// How long OAuth access tokens live.
    pub token_lifetime_secs: i64,
    next_id: u64,
    next_webhook: u64,
    next_changelog: u64,
}

/// The status every new issue starts in.
pub const INITIAL_STATUS: &str = "10000";

impl Default for State {
    fn default() -> Self {
        let status = |id: &str, name: &str, description: &str, category| Status {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            category,
        };
        let transition =
            |id: &str, name: &str, from: Option<&str>, to: &str, resolution: Option<&str>| {
                TransitionDef {
                    id: id.into(),
                    name: name.into(),
                    from: from.map(str::to_owned),
                    to: to.into(),
                    resolution: resolution.map(str::to_owned),
                }
            };
        let priority = |id: &str, name: &str, description: &str, color: &str| Priority {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            color: color.into(),
            default: name == "Medium",
        };
        State {
            users: BTreeMap::new(),
            projects: BTreeMap::new(),
            issue_types: BTreeMap::new(),
            // The software project workflow with a "Won't Do" status for work that will not
            // happen: reachable only from To Do, so some targets take two transitions and some
            // (Won't Do → Done) more than two.
            statuses: vec![
                status(
                    INITIAL_STATUS,
                    "To Do",
                    "Work that has not started.",
                    Category::New,
                ),
                status(
                    "3",
                    "In Progress",
                    "This issue is being actively worked on at the moment by the assignee.",
                    Category::Indeterminate,
                ),
                status("10001", "Done", "Work that is finished.", Category::Done),
                status(
                    "10002",
                    "Won't Do",
                    "Work that will not be done.",
                    Category::Done,
                ),
            ],
            transitions: vec![
                transition("11", "Stop Progress", Some("3"), INITIAL_STATUS, None),
                transition("21", "Start Progress", Some(INITIAL_STATUS), "3", None),
                transition("31", "Done", Some("3"), "10001", Some("10000")),
                transition(
                    "41",
                    "Won't Do",
                    Some(INITIAL_STATUS),
                    "10002",
                    Some("10001"),
                ),
                transition("51", "Reopen", Some("10001"), INITIAL_STATUS, None),
                transition("61", "Reopen", Some("10002"), INITIAL_STATUS, None),
            ],
            priorities: vec![
                priority(
                    "1",
                    "Highest",
                    "This problem will block progress.",
                    "#d04437",
                ),
                priority(
                    "2",
                    "High",
                    "Serious problem that could block progress.",
                    "#f15C75",
                ),
                priority(
                    "3",
                    "Medium",
                    "Has the potential to affect progress.",
                    "#f79232",
                ),
                priority(
                    "4",
                    "Low",
                    "Minor problem or easily worked around.",
                    "#707070",
                ),
                priority(
                    "5",
                    "Lowest",
                    "Trivial problem with little or no impact on progress.",
                    "#999999",
                ),
            ],
            resolutions: vec![
                Resolution {
                    id: "10000".into(),
                    name: "Done".into(),
                    description: "Work has been completed on this issue.".into(),
                },
                Resolution {
                    id: "10001".into(),
                    name: "Won't Do".into(),
                    description: "This issue won't be actioned.".into(),
                },
            ],
            link_types: vec![
                LinkType {
                    id: "10000".into(),
                    name: "Blocks".into(),
                    inward: "is blocked by".into(),
                    outward: "blocks".into(),
                },
                LinkType {
                    id: "10001".into(),
                    name: "Cloners".into(),
                    inward: "is cloned by".into(),
                    outward: "clones".into(),
                },
                LinkType {
                    id: "10002".into(),
                    name: "Duplicate".into(),
                    inward: "is duplicated by".into(),
                    outward: "duplicates".into(),
                },
                LinkType {
                    id: "10003".into(),
                    name: "Relates".into(),
                    inward: "relates to".into(),
                    outward: "relates to".into(),
                },
            ],
            issues: BTreeMap::new(),
            comments: Vec::new(),
            links: Vec::new(),
            webhooks: BTreeMap::new(),
            oauth_clients: Vec::new(),
            refresh_tokens: Vec::new(),
            access_tokens: Vec::new(),
            token_lifetime_secs: 3600,
            next_id: 10_000,
            next_webhook: 0,
            next_changelog: 10_000,
        }
    }
}

impl State {
    /// A fresh id. One sequence for projects, issues, comments and links keeps ids unique
    /// across kinds, which makes mixing up an issue id and a project id show up in tests.
    pub fn next_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    pub fn next_webhook_id(&mut self) -> u64 {
        self.next_webhook += 1;
        self.next_webhook
    }

    pub fn next_changelog_id(&mut self) -> String {
        self.next_changelog += 1;
        self.next_changelog.to_string()
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// Basic authentication names a user by e-mail (Cloud) or user name (Data Center).
    pub fn user_by_login(&self, login: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(login) || u.name.eq_ignore_ascii_case(login))
    }

    /// A project by key (case-insensitive, as Jira resolves keys) or id.
    pub fn project(&self, id_or_key: &str) -> Option<&Project> {
        self.projects
            .values()
            .find(|p| p.id == id_or_key || p.key.eq_ignore_ascii_case(id_or_key))
    }

    pub fn project_by_id(&self, id: &str) -> Option<&Project> {
        self.projects.values().find(|p| p.id == id)
    }

    /// The user's permissions in a project: the project's grant if there is one, else the role's.
    pub fn permissions(&self, user: u64, project_id: &str) -> BTreeSet<Permission> {
        let Some(u) = self.users.get(&user).filter(|u| u.active) else {
            return BTreeSet::new();
        };
        match self
            .project_by_id(project_id)
            .and_then(|p| p.grants.get(&user))
        {
            Some(grant) => grant.clone(),
            None => u.role.permissions(),
        }
    }

    pub fn can(&self, user: u64, project_id: &str, p: Permission) -> bool {
        self.permissions(user, project_id).contains(&p)
    }

    pub fn is_admin(&self, user: u64) -> bool {
        self.users
            .get(&user)
            .is_some_and(|u| u.active && u.role == Role::Admin)
    }

    /// An issue by key (case-insensitive) or id.
    pub fn issue(&self, id_or_key: &str) -> Option<&Issue> {
        self.issues.get(id_or_key).or_else(|| {
            self.issues
                .values()
                .find(|i| i.key.eq_ignore_ascii_case(id_or_key))
        })
    }

    pub fn status(&self, id: &str) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    pub fn status_by_name(&self, name: &str) -> Option<&Status> {
        self.statuses
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    pub fn priority(&self, id: &str) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.id == id)
    }

    pub fn default_priority(&self) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.default)
    }

    pub fn resolution(&self, id: &str) -> Option<&Resolution> {
        self.resolutions.iter().find(|r| r.id == id)
    }

    /// The transitions available from a status, in workflow order.
    pub fn transitions_from(&self, status: &str) -> Vec<&TransitionDef> {
        self.transitions
            .iter()
            .filter(|t| t.from.as_deref().is_none_or(|f| f == status) && t.to != status)
            .collect()
    }

    pub fn comments_of<'a>(&'a self, issue_id: &'a str) -> impl Iterator<Item = &'a Comment> + 'a {
        self.comments.iter().filter(move |c| c.issue_id == issue_id)
    }

    pub fn links_of<'a>(&'a self, issue_id: &'a str) -> impl Iterator<Item = &'a Link> + 'a {
        self.links
            .iter()
            .filter(move |l| l.source == issue_id || l.target == issue_id)
    }

    pub fn link_type(&self, id: &str) -> Option<&LinkType> {
        self.link_types.iter().find(|t| t.id == id)
    }
}

/// `dev-carol` → `Dev Carol`: display names from user names.
pub fn title_case(name: &str) -> String {
    name.split(['-', '_', '.'])
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
    fn the_workflow_leaves_won_t_do_only_to_to_do() {
        let s = State::default();
        let names = |from: &str| {
            s.transitions_from(from)
                .iter()
                .filter_map(|t| s.status(&t.to).map(|st| st.name.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(INITIAL_STATUS), ["In Progress", "Won't Do"]);
        assert_eq!(names("3"), ["To Do", "Done"]);
        assert_eq!(names("10002"), ["To Do"]);
        assert!(
            Role::Developer
                .permissions()
                .contains(&Permission::TransitionIssues)
        );
        assert!(
            !Role::Developer
                .permissions()
                .contains(&Permission::DeleteIssues)
        );
        assert_eq!(title_case("dev-carol"), "Dev Carol");
    }
}
