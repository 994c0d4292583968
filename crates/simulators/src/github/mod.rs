//! The GitHub simulator: a GitHub Enterprise Server-shaped host with the REST API under
//! `/api/v3` and GraphQL at `/api/graphql` (an instance location `http://127.0.0.1:PORT/acme`
//! means owner `acme`), issues, labels, comments, repository and organization webhooks,
//! Projects (v2) with single-select fields, classic-PAT scopes, repository roles, primary and
//! secondary rate limits, and webhooks sent back for every change, whoever made it.
//!
//! Follows GitHub's REST API description (`api.github.com.2022-11-28.json`) and GraphQL schema
//! (`schema.graphql`) for names, fields, status codes and error bodies.

mod api;
mod control;
mod events;
mod graphql;
mod limits;
mod ops;
mod render;
mod rest;
mod sha1;
mod state;

pub use limits::Limits;

use crate::{Faults, RequestLog, SimServer, WebhookOutbox};
use api::Caller;
use axum::Router;
use axum::routing::post;
use chrono::Utc;
use limits::RateLimiter;
use serde::Serialize;
use serde_json::{Value as Json, json};
use state::{Org, Perm, Project, ProjectField, SelectOption, State as World, User, repo_key};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The seeded bot's token (`start_seeded`).
pub const BOT_TOKEN: &str = "ghp_simulatorBotToken000000000000000000";
/// The seeded developer's token (`start_seeded`).
pub const ALICE_TOKEN: &str = "ghp_simulatorAliceToken00000000000000000";

/// A webhook delivery waiting to be posted.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What the server's handlers share.
pub(crate) struct Inner {
    state: Mutex<World>,
    limiter: Mutex<RateLimiter>,
    outbox: WebhookOutbox,
    faults: Faults,
    log: RequestLog,
    base: OnceLock<String>,
}

pub(crate) type Sim = Arc<Inner>;

impl Inner {
    /// The state. A handler that panicked cannot leave it half-changed in a way later requests
    /// must not see (every change is checked before it is made), so a poisoned lock is reused.
    fn lock(&self) -> MutexGuard<'_, World> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn limiter(&self) -> MutexGuard<'_, RateLimiter> {
        self.limiter.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn base(&self) -> &str {
        self.base
            .get()
            .map(String::as_str)
            .unwrap_or("http://127.0.0.1")
    }
}

/// One issue as the simulator holds it, for tests and benchmarks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IssueSnapshot {
    pub number: u64,
    pub node_id: String,
    pub id: u64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub state_reason: Option<String>,
    pub labels: Vec<String>,
    /// Comment bodies, oldest first.
    pub comments: Vec<String>,
}

/// A running GitHub simulator. Clones share it; dropping the last clone stops the server.
#[derive(Clone)]
pub struct GitHubSim {
    inner: Sim,
    /// Held only so that dropping the last clone stops the server (control handlers build
    /// short-lived handles without it).
    _server: Option<Arc<SimServer>>,
}

impl std::fmt::Debug for GitHubSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubSim")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

/// A person acting in GitHub's web UI: their roles apply, no token scopes.
fn person(st: &World, login: &str) -> Result<Caller, String> {
    let u = st.user(login).ok_or_else(|| format!("no user {login}"))?;
    Ok(Caller {
        login: u.login.clone(),
        id: u.id,
        scopes: None,
    })
}

impl GitHubSim {
    /// Starts an empty simulator on `bind` (`127.0.0.1:0` picks a port).
    pub async fn start(bind: SocketAddr) -> std::io::Result<GitHubSim> {
        let inner = Arc::new(Inner {
            state: Mutex::new(World::default()),
            limiter: Mutex::new(RateLimiter::default()),
            outbox: WebhookOutbox::start(),
            faults: Faults::default(),
            log: RequestLog::default(),
            base: OnceLock::new(),
        });
        let server = SimServer::start(router(inner.clone()), bind).await?;
        let _ = inner.base.set(server.base_url());
        Ok(GitHubSim {
            inner,
            _server: Some(Arc::new(server)),
        })
    }

    /// Starts the demo world: organization `acme` with `storefront` and `payments-api`, the
    /// bot (`repo, project, admin:repo_hook, admin:org_hook`, owner of `acme`) and
    /// `dev-alice` (`repo, project`, write access), project 1 "Security" with Status and a
    /// `Priority` single-select (P0–P4).
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<GitHubSim> {
        let sim = GitHubSim::start(bind).await?;
        sim.add_org("acme");
        sim.add_user(
            "vulnbridge-bot",
            BOT_TOKEN,
            &["repo", "project", "admin:repo_hook", "admin:org_hook"],
        );
        sim.add_user("dev-alice", ALICE_TOKEN, &["repo", "project"]);
        sim.add_org_owner("acme", "vulnbridge-bot");
        for repo in ["storefront", "payments-api"] {
            sim.add_repo("acme", repo);
            sim.grant("vulnbridge-bot", "acme", repo, "admin");
            sim.grant("dev-alice", "acme", repo, "write");
        }
        sim.add_project("acme", 1, "Security");
        sim.add_single_select_field("acme", 1, "Priority", &["P0", "P1", "P2", "P3", "P4"]);
        Ok(sim)
    }

    fn from_inner(inner: Sim) -> GitHubSim {
        GitHubSim {
            inner,
            _server: None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        self.inner.lock()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.base().to_owned()
    }

    /// An instance location for an owner: `http://127.0.0.1:PORT/acme`.
    pub fn location(&self, owner: &str) -> String {
        format!("{}/{owner}", self.base_url())
    }

    /// A user with a classic personal access token and its scopes. A token starting with
    /// `github_pat_` is fine-grained: GitHub sends no scopes for it and judges it by the
    /// user's roles.
    pub fn add_user(&self, login: &str, token: &str, scopes: &[&str]) {
        let mut st = self.lock();
        let id = st.id();
        let fine_grained = token.starts_with("github_pat_");
        let scopes = (!fine_grained).then(|| scopes.iter().map(|s| (*s).to_owned()).collect());
        st.users.insert(
            login.to_ascii_lowercase(),
            User {
                id,
                login: login.to_owned(),
                node_id: World::node_id("U", id),
                scopes,
            },
        );
        st.tokens
            .insert(token.to_owned(), login.to_ascii_lowercase());
    }

    pub fn add_org(&self, login: &str) {
        let mut st = self.lock();
        let id = st.id();
        st.orgs.insert(
            login.to_ascii_lowercase(),
            Org {
                id,
                login: login.to_owned(),
                node_id: World::node_id("O", id),
                owners: Default::default(),
            },
        );
    }

    /// Makes a user an owner of an organization: admin of its repositories, its hooks and its
    /// projects.
    pub fn add_org_owner(&self, org: &str, login: &str) {
        if let Some(o) = self.lock().orgs.get_mut(&org.to_ascii_lowercase()) {
            o.owners.insert(login.to_ascii_lowercase());
        }
    }

    /// A private repository with issues enabled.
    pub fn add_repo(&self, owner: &str, name: &str) {
        let mut st = self.lock();
        let id = st.id();
        let owner = st.display_login(owner);
        let repo = state::Repo {
            id,
            node_id: World::node_id("R", id),
            owner: owner.clone(),
            name: name.to_owned(),
            private: true,
            has_issues: true,
            perms: Default::default(),
            labels: Vec::new(),
            issues: Vec::new(),
            created_at: Utc::now(),
        };
        st.repos.insert(repo_key(&owner, name), repo);
    }

    /// Gives a user a role on a repository: `read`, `triage`, `write`, `maintain` or `admin`.
    pub fn grant(&self, login: &str, owner: &str, repo: &str, permission: &str) {
        let Some(p) = Perm::parse(permission) else {
            return;
        };
        if let Some(r) = self.lock().repos.get_mut(&repo_key(owner, repo)) {
            r.perms.insert(login.to_ascii_lowercase(), p);
        }
    }

    /// A project with GitHub's built-in fields, the single-select `Status` (Todo, In
    /// Progress, Done) among them.
    pub fn add_project(&self, owner: &str, number: u32, title: &str) {
        let mut st = self.lock();
        let id = st.id();
        let now = Utc::now();
        let mut fields = Vec::new();
        for (name, kind) in [
            ("Title", "TITLE"),
            ("Assignees", "ASSIGNEES"),
            ("Status", "SINGLE_SELECT"),
            ("Labels", "LABELS"),
            ("Linked pull requests", "LINKED_PULL_REQUESTS"),
            ("Milestone", "MILESTONE"),
            ("Repository", "REPOSITORY"),
            ("Reviewers", "REVIEWERS"),
            ("Parent issue", "PARENT_ISSUE"),
            ("Sub-issues progress", "SUB_ISSUES_PROGRESS"),
        ] {
            let options = if name == "Status" {
                [
                    ("Todo", "GREEN"),
                    ("In Progress", "YELLOW"),
                    ("Done", "PURPLE"),
                ]
                .iter()
                .map(|(n, c)| SelectOption {
                    id: st.option_id(),
                    name: (*n).into(),
                    color: (*c).into(),
                    description: String::new(),
                })
                .collect()
            } else {
                Vec::new()
            };
            fields.push(new_field(&mut st, name, kind, options));
        }
        st.projects.push(Project {
            id,
            node_id: World::node_id("PVT", id),
            owner: owner.to_ascii_lowercase(),
            number,
            title: title.to_owned(),
            fields,
            items: Vec::new(),
            created_at: now,
            updated_at: now,
        });
    }

    /// A single-select field with these options (grey, as GitHub's default).
    pub fn add_single_select_field(&self, owner: &str, number: u32, name: &str, options: &[&str]) {
        let mut st = self.lock();
        let opts = options
            .iter()
            .map(|o| SelectOption {
                id: st.option_id(),
                name: (*o).into(),
                color: "GRAY".into(),
                description: String::new(),
            })
            .collect();
        let f = new_field(&mut st, name, "SINGLE_SELECT", opts);
        if let Some(i) = st.project_index(owner, number) {
            st.projects[i].fields.push(f);
        }
    }

    /// A custom field of another type: `TEXT`, `NUMBER` or `DATE`.
    pub fn add_field(&self, owner: &str, number: u32, name: &str, data_type: &str) {
        let mut st = self.lock();
        let f = new_field(&mut st, name, &data_type.to_ascii_uppercase(), Vec::new());
        if let Some(i) = st.project_index(owner, number) {
            st.projects[i].fields.push(f);
        }
    }

    pub fn set_issues_enabled(&self, owner: &str, repo: &str, enabled: bool) {
        if let Some(r) = self.lock().repos.get_mut(&repo_key(owner, repo)) {
            r.has_issues = enabled;
        }
    }

    pub fn issues(&self, owner: &str, repo: &str) -> Vec<IssueSnapshot> {
        let st = self.lock();
        let Some(r) = st.repo(&repo_key(owner, repo)) else {
            return Vec::new();
        };
        r.issues
            .iter()
            .map(|i| IssueSnapshot {
                number: i.number,
                node_id: i.node_id.clone(),
                id: i.id,
                title: i.title.clone(),
                body: i.body.clone(),
                state: if i.open { "open" } else { "closed" }.into(),
                state_reason: i.state_reason.clone(),
                labels: i
                    .labels
                    .iter()
                    .filter_map(|id| r.labels.iter().find(|l| l.id == *id))
                    .map(|l| l.name.clone())
                    .collect(),
                comments: i.comments.iter().map(|c| c.body.clone()).collect(),
            })
            .collect()
    }

    /// The value an issue's project item has in a field (option name, text, number, date).
    pub fn project_field_value(
        &self,
        owner: &str,
        number: u32,
        issue_node_id: &str,
        field: &str,
    ) -> Option<String> {
        let st = self.lock();
        let p = st.project(owner, number)?;
        let f = p.field_by_name(field)?;
        let item = p.item_for_content(issue_node_id)?;
        Some(match item.values.get(&f.node_id)? {
            state::ItemValue::Text(t) => t.clone(),
            state::ItemValue::Number(n) => n.to_string(),
            state::ItemValue::Date(d) => d.clone(),
            state::ItemValue::Option(id) => f.options.iter().find(|o| o.id == *id)?.name.clone(),
        })
    }

    pub fn project_item_count(&self, owner: &str, number: u32) -> usize {
        self.lock()
            .project(owner, number)
            .map(|p| p.items.len())
            .unwrap_or(0)
    }

    /// Runs an operation as a person, then posts the webhooks it fired.
    fn act(&self, f: impl FnOnce(&mut api::Tx<'_>) -> Result<(), String>) -> Result<(), String> {
        let mut st = self.lock();
        let base = self.base_url();
        let mut tx = api::Tx {
            st: &mut st,
            base: &base,
            out: Vec::new(),
        };
        let r = f(&mut tx);
        let out = std::mem::take(&mut tx.out);
        drop(st);
        for o in out {
            self.inner.outbox.send(&o.url, o.headers, o.body);
        }
        r
    }

    fn api_error(e: api::ApiError) -> String {
        let msg = e
            .body
            .get("message")
            .and_then(Json::as_str)
            .unwrap_or("refused")
            .to_owned();
        match e.body.get("errors") {
            Some(errs) => format!("{msg}: {errs}"),
            None => msg,
        }
    }

    /// A person closes an issue (`completed`, `not_planned` or `duplicate`).
    pub fn close_issue_as(
        &self,
        login: &str,
        owner: &str,
        repo: &str,
        number: u64,
        state_reason: &str,
    ) -> Result<(), String> {
        if !matches!(state_reason, "completed" | "not_planned" | "duplicate") {
            return Err(format!(
                "{state_reason:?} is not a close reason (completed, not_planned, duplicate)"
            ));
        }
        self.act(|tx| {
            let caller = person(tx.st, login)?;
            let patch = ops::IssuePatch {
                open: Some(false),
                state_reason: Some(Some(state_reason.into())),
                ..Default::default()
            };
            ops::update_issue(tx, &caller, &repo_key(owner, repo), number, patch)
                .map_err(GitHubSim::api_error)
        })
    }

    /// A person reopens an issue.
    pub fn reopen_issue_as(
        &self,
        login: &str,
        owner: &str,
        repo: &str,
        number: u64,
    ) -> Result<(), String> {
        self.act(|tx| {
            let caller = person(tx.st, login)?;
            let patch = ops::IssuePatch {
                open: Some(true),
                ..Default::default()
            };
            ops::update_issue(tx, &caller, &repo_key(owner, repo), number, patch)
                .map_err(GitHubSim::api_error)
        })
    }

    /// A person (a repository admin) deletes an issue.
    pub fn delete_issue_as(
        &self,
        login: &str,
        owner: &str,
        repo: &str,
        number: u64,
    ) -> Result<(), String> {
        self.act(|tx| {
            let caller = person(tx.st, login)?;
            ops::delete_issue(tx, &caller, &repo_key(owner, repo), number)
                .map_err(GitHubSim::api_error)
        })
    }

    /// A person sets a single-select field of an issue's project item to an option (by name).
    pub fn set_project_field_as(
        &self,
        login: &str,
        owner: &str,
        number: u32,
        issue_node_id: &str,
        field: &str,
        option: &str,
    ) -> Result<(), String> {
        self.act(|tx| {
            let caller = person(tx.st, login)?;
            let pi = tx
                .st
                .project_index(owner, number)
                .ok_or_else(|| format!("no project {owner}/{number}"))?;
            let p = &tx.st.projects[pi];
            if tx.st.project_role(p, login).is_none_or(|r| r < Perm::Write) {
                return Err(format!("{login} may not edit project {number}"));
            }
            let f = p
                .field_by_name(field)
                .ok_or_else(|| format!("project {number} has no field {field:?}"))?
                .clone();
            let item = p
                .item_for_content(issue_node_id)
                .ok_or_else(|| format!("issue {issue_node_id} is not in project {number}"))?
                .node_id
                .clone();
            let opt = f
                .options
                .iter()
                .find(|o| o.name == option)
                .ok_or_else(|| format!("field {field:?} has no option {option:?}"))?;
            let value = state::ItemValue::Option(opt.id.clone());
            let rate = self
                .inner
                .limiter()
                .peek(&caller.key(), limits::Resource::Graphql);
            let mut g = graphql::Gql {
                tx,
                caller,
                cost: 0,
                node_count: 0,
                rate,
            };
            g.set_value(pi, &item, &f, Some(value));
            Ok(())
        })
    }

    /// Replaces the rate limits (and starts every budget afresh).
    pub fn set_limits(&self, limits: Limits) {
        *self.inner.limiter() = RateLimiter::new(limits);
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    pub fn requests(&self) -> &RequestLog {
        &self.inner.log
    }

    pub fn webhooks(&self) -> &WebhookOutbox {
        &self.inner.outbox
    }

    /// Everything the simulator holds, as JSON (`GET /_sim/state`).
    pub fn state_json(&self) -> Json {
        let st = self.lock();
        let tokens: Vec<Json> = st
            .tokens
            .iter()
            .map(|(t, l)| json!({ "token": t, "login": st.display_login(l) }))
            .collect();
        let users: Vec<Json> = st.users.values().map(|u| json!({ "login": u.login, "id": u.id, "node_id": u.node_id, "scopes": u.scopes })).collect();
        let orgs: Vec<Json> = st.orgs.values().map(|o| json!({ "login": o.login, "id": o.id, "node_id": o.node_id, "owners": o.owners })).collect();
        let repos: Vec<Json> = st
            .repos
            .values()
            .map(|r| {
                let perms: serde_json::Map<String, Json> = r.perms.iter().map(|(k, v)| (k.clone(), json!(format!("{v:?}").to_ascii_lowercase()))).collect();
                json!({
                    "full_name": r.full_name(), "id": r.id, "node_id": r.node_id, "private": r.private,
                    "has_issues": r.has_issues, "permissions": perms,
                    "labels": r.labels.iter().map(|l| l.name.clone()).collect::<Vec<_>>(),
                    "issues": r.issues.iter().map(|i| render::issue(&st, self.inner.base(), r, i)).collect::<Vec<_>>(),
                })
            })
            .collect();
        let hooks: Vec<Json> = st
            .hooks
            .iter()
            .map(|h| render::hook(&st, self.inner.base(), h))
            .collect();
        let projects: Vec<Json> = st
            .projects
            .iter()
            .map(|p| {
                json!({
                    "owner": st.display_login(&p.owner), "number": p.number, "title": p.title, "node_id": p.node_id,
                    "fields": p.fields.iter().map(|f| json!({
                        "name": f.name, "id": f.node_id, "data_type": f.data_type,
                        "options": f.options.iter().map(|o| json!({ "id": o.id, "name": o.name })).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                    "items": p.items.iter().map(|i| {
                        let values: serde_json::Map<String, Json> = i.values.iter().map(|(fid, v)| {
                            let f = p.field_by_node(fid);
                            let name = f.map(|f| f.name.clone()).unwrap_or_else(|| fid.clone());
                            let shown = match v {
                                state::ItemValue::Text(t) => json!(t),
                                state::ItemValue::Number(n) => json!(n),
                                state::ItemValue::Date(d) => json!(d),
                                state::ItemValue::Option(o) => json!(f.and_then(|f| f.options.iter().find(|x| x.id == *o)).map(|x| x.name.clone())),
                            };
                            (name, shown)
                        }).collect();
                        json!({ "id": i.node_id, "content": i.content, "values": values })
                    }).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "base_url": self.inner.base(), "rest": format!("{}/api/v3", self.inner.base()),
            "graphql": format!("{}/api/graphql", self.inner.base()),
            "tokens": tokens, "users": users, "orgs": orgs, "repos": repos, "hooks": hooks, "projects": projects,
            "limits": self.inner.limiter().limits(),
        })
    }

    /// What `vulnbridge simulate github` prints: where the API is, the tokens, organizations,
    /// repositories and projects.
    pub fn summary(&self) -> String {
        let st = self.lock();
        let base = self.inner.base();
        let mut out = vec![format!(
            "GitHub simulator at {base} (REST {base}/api/v3, GraphQL {base}/api/graphql, control {base}/_sim/state)"
        )];
        let mut tokens: Vec<(&String, &String)> = st.tokens.iter().collect();
        tokens.sort_by(|a, b| a.1.cmp(b.1));
        for (t, l) in tokens {
            let scopes = st
                .user(l)
                .and_then(|u| u.scopes.clone())
                .map(|s| s.join(", "))
                .unwrap_or_else(|| "fine-grained".into());
            out.push(format!(
                "  token {t}  user {}  scopes: {scopes}",
                st.display_login(l)
            ));
        }
        for o in st.orgs.values() {
            out.push(format!(
                "  organization {}  (instance location {base}/{})",
                o.login, o.login
            ));
        }
        for r in st.repos.values() {
            out.push(format!(
                "  repository {}{}",
                r.full_name(),
                if r.has_issues {
                    ""
                } else {
                    " (issues disabled)"
                }
            ));
        }
        for p in &st.projects {
            let fields: Vec<String> = p
                .fields
                .iter()
                .filter(|f| {
                    f.is_single_select()
                        || matches!(f.data_type.as_str(), "TEXT" | "NUMBER" | "DATE")
                })
                .map(|f| {
                    if f.options.is_empty() {
                        f.name.clone()
                    } else {
                        format!(
                            "{} ({})",
                            f.name,
                            f.options
                                .iter()
                                .map(|o| o.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                })
                .collect();
            out.push(format!(
                "  project {}/{} \"{}\": {}",
                st.display_login(&p.owner),
                p.number,
                p.title,
                fields.join("; ")
            ));
        }
        out.join("\n")
    }
}

fn new_field(st: &mut World, name: &str, kind: &str, options: Vec<SelectOption>) -> ProjectField {
    let id = st.id();
    let prefix = if kind == "SINGLE_SELECT" {
        "PVTSSF"
    } else {
        "PVTF"
    };
    ProjectField {
        id,
        node_id: World::node_id(prefix, id),
        name: name.to_owned(),
        data_type: kind.to_owned(),
        options,
        created_at: Utc::now(),
    }
}

fn router(inner: Sim) -> Router {
    let log = inner.log.clone();
    let faults = inner.faults.clone();
    let rest = rest::router().route_layer(axum::middleware::from_fn(move |req, next| {
        RequestLog::middleware(log.clone(), req, next)
    }));
    Router::new()
        .nest("/api/v3", rest)
        .route("/api/graphql", post(graphql::handle))
        .merge(control::router())
        .fallback(rest::not_found)
        .with_state(inner)
        .layer(axum::middleware::from_fn(move |req, next| {
            Faults::middleware(faults.clone(), req, next)
        }))
}
