//! The GitLab simulator: GitLab's REST API v4 under `/api/v4` (users and token self-info,
//! projects and labels, issues, notes, project hooks), faithful to GitLab's documentation and
//! source in what it accepts, refuses and answers; issue and note webhooks sent back to the
//! project's hooks; GitLab.com's rate limits (scalable in time); and a control API under
//! `/_sim/` for tests, the demo and `vulnbridge simulate gitlab`.
//!
//! Every project is private: a user sees a project only as a member (directly or through its
//! groups). The instance behaves as GitLab Premium (weights, multiple assignees, exclusive scoped
//! labels) with "allow requests to the local network from webhooks" on, so hooks may point at
//! loopback receivers.

mod auth;
mod control;
mod events;
mod fields;
mod hooks;
mod issues;
mod limits;
mod notes;
mod params;
mod projects;
mod render;
mod reply;
mod routes;
mod state;
mod users;

pub use limits::Limits;

use crate::common::{Faults, RequestLog, SimServer, WebhookOutbox};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeDelta, Utc};
use events::Outgoing;
use reply::ApiError;
use serde::Serialize;
use state::{IssueState, State};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// One issue as the simulator holds it, for tests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IssueSnapshot {
    /// The global id (what webhooks name).
    pub id: u64,
    pub iid: u64,
    pub title: String,
    pub description: Option<String>,
    /// `opened` or `closed`.
    pub state: String,
    /// Sorted by title.
    pub labels: Vec<String>,
    pub weight: Option<i64>,
    pub confidential: bool,
    pub issue_type: String,
    pub due_date: Option<String>,
    pub milestone_id: Option<u64>,
    pub assignee_ids: Vec<u64>,
    /// The bodies of its comments, oldest first.
    pub notes: Vec<String>,
}

/// What every handler shares.
pub(crate) struct Shared {
    state: Mutex<State>,
    limits: limits::RateLimits,
    faults: Faults,
    requests: RequestLog,
    outbox: WebhookOutbox,
    base: OnceLock<String>,
}

impl Shared {
    /// The state, even after a panic elsewhere poisoned the lock (a test failing mid-request
    /// must not take every later request down with it).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `http://127.0.0.1:PORT`: the instance's external URL.
    fn base(&self) -> &str {
        self.base.get().map_or("http://127.0.0.1", String::as_str)
    }

    fn send(&self, out: Vec<Outgoing>) {
        for o in out {
            self.outbox.send(&o.url, o.headers, o.body);
        }
    }
}

type Sh = Arc<Shared>;

/// A request as the API layer reads it.
pub(crate) struct Call {
    method: Method,
    headers: HeaderMap,
    query: Option<String>,
    path: String,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let method = req.method().clone();
        let headers = req.headers().clone();
        let query = req.uri().query().map(str::to_owned);
        let path = req.uri().path().to_owned();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Call {
            method,
            headers,
            query,
            path,
            body,
        })
    }
}

impl Call {
    fn params(&self) -> Result<params::Params, ApiError> {
        params::Params::parse(self.query.as_deref(), &self.headers, &self.body)
    }

    fn auth(
        &self,
        state: &mut State,
        scopes: auth::Scopes,
    ) -> Result<Option<auth::Caller>, ApiError> {
        auth::authenticate(
            state,
            &self.headers,
            self.query.as_deref(),
            &self.method,
            scopes,
        )
    }

    /// The full URL of the request, for pagination links.
    fn url(&self, base: &str) -> url::Url {
        let text = match &self.query {
            Some(q) => format!("{base}{}?{q}", self.path),
            None => format!("{base}{}", self.path),
        };
        url::Url::parse(&text)
            .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1/").expect("a constant URL"))
    }
}

/// A running GitLab simulator. Clones share it; dropping the last clone stops the server.
#[derive(Clone)]
pub struct GitLabSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for GitLabSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLabSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl GitLabSim {
    /// An empty instance: no users, no projects.
    pub async fn start(bind: SocketAddr) -> std::io::Result<GitLabSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            limits: limits::RateLimits::new(Limits::default()),
            faults: Faults::default(),
            requests: RequestLog::default(),
            outbox: WebhookOutbox::start(),
            base: OnceLock::new(),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        let _ = shared.base.set(server.base_url());
        Ok(GitLabSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// The demo world: group `acme` with `acme/mobile-backend` and `acme/internal-tools`;
    /// `vulnbridge-bot` (Maintainer on both) and `dev-bob` (Developer on both), each with an
    /// `api` token.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<GitLabSim> {
        let sim = GitLabSim::start(bind).await?;
        sim.add_group("acme");
        sim.add_project("acme/mobile-backend");
        sim.add_project("acme/internal-tools");
        sim.add_user("vulnbridge-bot", "glpat-simulatorBotToken0000", &["api"]);
        sim.add_user("dev-bob", "glpat-simulatorBobToken00000", &["api"]);
        for project in ["acme/mobile-backend", "acme/internal-tools"] {
            sim.grant("vulnbridge-bot", project, state::MAINTAINER);
            sim.grant("dev-bob", project, state::DEVELOPER);
        }
        Ok(sim)
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    /// `http://127.0.0.1:PORT/`: what a user types as the instance location.
    pub fn location(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// Adds a personal access token with these scopes (expiring in a year, as GitLab.com
    /// requires an expiry), creating the user on first use.
    pub fn add_user(&self, username: &str, token: &str, scopes: &[&str]) {
        let mut s = self.shared().lock();
        let now = Utc::now();
        let user_id = match s.user_by_name(username) {
            Some(u) => u.id,
            None => {
                let id = s.next_id();
                s.users.insert(
                    id,
                    state::User {
                        id,
                        username: username.to_owned(),
                        name: state::title_case(username),
                        email: format!("{username}@example.com"),
                        created_at: now,
                    },
                );
                id
            }
        };
        s.tokens.retain(|t| t.token != token);
        let id = s.next_id();
        s.tokens.push(state::Token {
            id,
            user_id,
            name: format!("{username}-token"),
            token: token.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            created_at: now,
            expires_at: Some(now.date_naive() + TimeDelta::days(365)),
            revoked: false,
            last_used_at: None,
        });
    }

    /// Creates a group (and its parent groups).
    pub fn add_group(&self, path: &str) {
        self.shared().lock().ensure_group(path.trim_matches('/'));
    }

    /// Creates a project at `group/…/project` (its groups too) and returns its id; an existing
    /// project's id if it is there already.
    pub fn add_project(&self, path_with_namespace: &str) -> u64 {
        let full = path_with_namespace.trim_matches('/');
        let mut s = self.shared().lock();
        if let Some(p) = s.project_by_ref(full) {
            return p.id;
        }
        let (namespace, path) = full.rsplit_once('/').unwrap_or(("", full));
        let namespace_id = s.ensure_group(namespace);
        let id = s.next_id();
        s.projects.insert(
            id,
            state::Project {
                id,
                name: state::title_case(path),
                path: path.to_owned(),
                path_with_namespace: full.to_owned(),
                namespace_id,
                created_at: Utc::now(),
                next_iid: 1,
                members: BTreeMap::new(),
            },
        );
        id
    }

    /// Gives `username` an access level (10 Guest … 50 Owner) on a project, or on a group (and
    /// so on its projects). Setting up a simulator with a name that does not exist is a bug in
    /// the caller: it panics saying which.
    pub fn grant(&self, username: &str, project: &str, access_level: u8) {
        let mut s = self.shared().lock();
        let user = s
            .user_by_name(username)
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no simulated user '{username}'"));
        let path = project.trim_matches('/');
        if let Some(id) = s.project_by_ref(path).map(|p| p.id) {
            if let Some(p) = s.projects.get_mut(&id) {
                p.members.insert(user, access_level);
            }
        } else if let Some(id) = s.group_by_path(path).map(|g| g.id) {
            if let Some(g) = s.groups.get_mut(&id) {
                g.members.insert(user, access_level);
            }
        } else {
            panic!("no simulated project or group '{project}'");
        }
    }

    /// Creates a milestone in a project and returns its global id (for `milestone_id`).
    pub fn add_milestone(&self, project: &str, title: &str) -> u64 {
        let mut s = self.shared().lock();
        let project_id = s
            .project_by_ref(project)
            .map(|p| p.id)
            .unwrap_or_else(|| panic!("no simulated project '{project}'"));
        let iid = s
            .milestones
            .values()
            .filter(|m| m.project_id == project_id)
            .count() as u64
            + 1;
        let id = s.next_id();
        s.milestones.insert(
            id,
            state::Milestone {
                id,
                iid,
                project_id,
                title: title.to_owned(),
                created_at: Utc::now(),
            },
        );
        id
    }

    /// Makes a token expired (as of yesterday).
    pub fn expire_token(&self, token: &str) {
        let yesterday: NaiveDate = Utc::now().date_naive() - TimeDelta::days(1);
        if let Some(t) = self
            .shared()
            .lock()
            .tokens
            .iter_mut()
            .find(|t| t.token == token)
        {
            t.expires_at = Some(yesterday);
        }
    }

    /// Revokes a token.
    pub fn revoke_token(&self, token: &str) {
        if let Some(t) = self
            .shared()
            .lock()
            .tokens
            .iter_mut()
            .find(|t| t.token == token)
        {
            t.revoked = true;
        }
    }

    /// A project's issues, by iid.
    pub fn issues(&self, project: &str) -> Vec<IssueSnapshot> {
        let s = self.shared().lock();
        let Some(p) = s.project_by_ref(project.trim_matches('/')) else {
            return Vec::new();
        };
        s.issues
            .range((p.id, 0)..=(p.id, u64::MAX))
            .map(|(_, i)| IssueSnapshot {
                id: i.id,
                iid: i.iid,
                title: i.title.clone(),
                description: i.description.clone(),
                state: i.state.as_str().to_owned(),
                labels: i.labels.iter().cloned().collect(),
                weight: i.weight,
                confidential: i.confidential,
                issue_type: i.issue_type.clone(),
                due_date: i.due_date.map(|d| d.to_string()),
                milestone_id: i.milestone_id,
                assignee_ids: i.assignee_ids.clone(),
                notes: s.notes_of(i.id).map(|n| n.body.clone()).collect(),
            })
            .collect()
    }

    /// The id of a user (for `assignee_ids`).
    pub fn user_id(&self, username: &str) -> Option<u64> {
        self.shared().lock().user_by_name(username).map(|u| u.id)
    }

    /// A person closes an issue in GitLab: the same path as `PUT …/issues/:iid` with
    /// `state_event=close`, permissions and webhooks included.
    pub fn close_issue_as(&self, username: &str, project: &str, iid: u64) -> Result<(), String> {
        issues::set_state_as(self.shared(), username, project, iid, IssueState::Closed)
    }

    /// A person reopens an issue in GitLab.
    pub fn reopen_issue_as(&self, username: &str, project: &str, iid: u64) -> Result<(), String> {
        issues::set_state_as(self.shared(), username, project, iid, IssueState::Opened)
    }

    /// Replaces the rate limits (every window starts empty).
    pub fn set_limits(&self, limits: Limits) {
        self.shared().limits.set(limits);
    }

    pub fn faults(&self) -> &Faults {
        &self.shared().faults
    }

    pub fn requests(&self) -> &RequestLog {
        &self.shared().requests
    }

    pub fn webhooks(&self) -> &WebhookOutbox {
        &self.shared().outbox
    }

    /// What `vulnbridge simulate gitlab` prints: where it listens, the tokens, the projects.
    pub fn summary(&self) -> String {
        let s = self.shared().lock();
        let base = self.base_url();
        let mut out = vec![
            format!(
                "GitLab simulator at {base}/ (REST API: {base}/api/v4, control API: {base}/_sim/state)"
            ),
            "Tokens (PRIVATE-TOKEN header):".to_owned(),
        ];
        for t in &s.tokens {
            let user = s.users.get(&t.user_id).map_or("?", |u| u.username.as_str());
            out.push(format!(
                "  {user}: {} (scopes: {})",
                t.token,
                t.scopes.join(", ")
            ));
        }
        out.push("Projects:".to_owned());
        for p in s.projects.values() {
            let members: Vec<String> = s
                .users
                .values()
                .filter_map(|u| {
                    let level = s.access_level(u.id, p.id);
                    (level > 0).then(|| format!("{} ({})", u.username, state::role_name(level)))
                })
                .collect();
            out.push(format!(
                "  {} (id {}): {}",
                p.path_with_namespace,
                p.id,
                members.join(", ")
            ));
        }
        out.join("\n")
    }

    /// Serves until the server stops (for `vulnbridge simulate gitlab`). Other clones keep
    /// their handle; the server stops when the last one is dropped.
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}
