//! The Jira simulator: one site serving Jira Cloud's REST API v3 (`/rest/api/3`: rich text as
//! Atlassian Document Format, users by account id, `search/jql` with page tokens) and Jira
//! Data Center's v2 (`/rest/api/2`: rich text as strings, users by name, `search` with
//! offsets), admin webhooks (`/rest/webhooks/1.0/webhook`) delivering signed events back, the
//! Data Center OAuth 2.0 token endpoint with rotating refresh tokens, burst rate limits, and a
//! control API under `/_sim/` for tests, the demo and `vulnbridge simulate jira`.
//!
//! Every project uses one workflow: To Do → In Progress → Done, Done → To Do (reopen), and a
//! "Won't Do" done status reachable only from To Do — so some target statuses take two
//! transitions, and one (Won't Do → Done) takes three.

mod activity;
mod auth;
mod control;
mod events;
mod fields;
mod hooks;
mod issues;
mod jql;
mod limits;
mod meta;
mod oauth;
mod ops;
mod render;
mod reply;
mod routes;
mod search;
mod state;
mod text;

pub use limits::Limits;
pub use state::{Permission, Role};

use crate::common::{Faults, RequestLog, SimServer, WebhookOutbox};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use events::Outgoing;
use reply::ApiError;
use serde::Serialize;
use serde_json::Value;
use state::State;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// One issue as the simulator holds it, for tests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IssueSnapshot {
    pub key: String,
    pub id: String,
    pub issue_type: String,
    pub summary: String,
    /// The description's text (an ADF document's text, or the string as written).
    pub description: Option<String>,
    /// The description exactly as stored: an ADF document, or a string.
    pub description_raw: Option<Value>,
    pub status: String,
    /// `new`, `indeterminate` or `done`.
    pub status_category: String,
    pub resolution: Option<String>,
    pub priority: String,
    /// Sorted.
    pub labels: Vec<String>,
    /// Component names.
    pub components: Vec<String>,
    pub duedate: Option<String>,
    /// Other fields set as sent (`environment`, custom fields).
    pub other: BTreeMap<String, Value>,
    /// `relates to APP-1`, `is blocked by SEC-3`: each link as this issue reads it.
    pub links: Vec<String>,
    /// The comments' text, oldest first.
    pub comments: Vec<String>,
}

/// Which REST API a request came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// Data Center's (and Cloud's legacy) v2: rich text as strings.
    V2,
    /// Cloud's v3: rich text as ADF.
    V3,
}

impl Api {
    pub fn path(self) -> &'static str {
        match self {
            Api::V2 => "/rest/api/2",
            Api::V3 => "/rest/api/3",
        }
    }
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

    /// `http://127.0.0.1:PORT`: the site's base URL.
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
    body: Bytes,
    api: Api,
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let method = req.method().clone();
        let headers = req.headers().clone();
        let query = req.uri().query().map(str::to_owned);
        let api = req.extensions().get::<Api>().copied().unwrap_or(Api::V2);
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Call {
            method,
            headers,
            query,
            body,
            api,
        })
    }
}

impl Call {
    /// The JSON body. Jira (Jersey) takes only `application/json` and answers anything else with
    /// 415; a body that does not parse is Jackson's 400.
    fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "No content to map to Object due to end of input",
            ));
        }
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
        {
            return Err(ApiError::Raw(Box::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response(),
            )));
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::bad_request(format!("Unexpected character in the request body: {e}"))
        })
    }

    /// A query parameter (the first if repeated).
    fn param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Every value of a query parameter, comma lists split (`fields=a,b&fields=c`).
    fn param_list(&self, name: &str) -> Vec<String> {
        let Some(q) = self.query.as_deref() else {
            return Vec::new();
        };
        url::form_urlencoded::parse(q.as_bytes())
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The authenticated user: every API call needs one.
    fn caller(&self, sh: &Shared, state: &State) -> Result<u64, ApiError> {
        auth::authenticate(state, &self.headers, sh.base())
    }
}

/// A running Jira simulator. Clones share it; dropping the last clone stops the server.
#[derive(Clone)]
pub struct JiraSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for JiraSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

/// The seeded bot: an administrator who may delete issues.
pub const BOT_EMAIL: &str = "vulnbridge-bot@example.com";
pub const BOT_API_TOKEN: &str = "jira-bot-token";
pub const BOT_PAT: &str = "jira-pat-bot";
/// The seeded developer, who may not delete issues.
pub const CAROL_EMAIL: &str = "dev-carol@example.com";
pub const CAROL_API_TOKEN: &str = "jira-carol-token";
/// The seeded OAuth client and its first refresh token (the bot's).
pub const OAUTH_CLIENT_ID: &str = "vulnbridge";
pub const OAUTH_CLIENT_SECRET: &str = "jira-oauth-secret";
pub const OAUTH_REFRESH_TOKEN: &str = "jira-refresh-0";

impl JiraSim {
    /// An empty site: no users, no projects.
    pub async fn start(bind: SocketAddr) -> std::io::Result<JiraSim> {
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
        Ok(JiraSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// The demo site: `SEC` (the security team's space: Vulnerability, which needs components,
    /// and Bug) and `APP` (a product space: Bug and Task), both with components `backend` and
    /// `frontend`; the bot (administrator; API token, personal access token, OAuth refresh
    /// token) and Carol (developer, may not delete).
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<JiraSim> {
        let sim = JiraSim::start(bind).await?;
        sim.add_user(BOT_EMAIL, BOT_API_TOKEN, Role::Admin);
        sim.add_pat(BOT_EMAIL, BOT_PAT);
        sim.add_user(CAROL_EMAIL, CAROL_API_TOKEN, Role::Developer);
        sim.add_project("SEC", "Security", &["Vulnerability", "Bug"]);
        sim.add_project("APP", "Application", &["Bug", "Task"]);
        sim.require_field("Vulnerability", "components");
        for p in ["SEC", "APP"] {
            sim.add_component(p, "backend");
            sim.add_component(p, "frontend");
        }
        sim.add_oauth_client(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET);
        sim.add_refresh_token(OAUTH_CLIENT_ID, BOT_EMAIL, OAUTH_REFRESH_TOKEN);
        Ok(sim)
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    /// `http://127.0.0.1:PORT/`: what a user types as the site's location.
    pub fn location(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// Adds a user (or replaces the API token and role of an existing one). The user name is
    /// the e-mail's local part.
    pub fn add_user(&self, email: &str, api_token: &str, role: Role) {
        let mut s = self.shared().lock();
        if let Some(id) = s.user_by_email(email).map(|u| u.id) {
            if let Some(u) = s.users.get_mut(&id) {
                u.api_token = api_token.to_owned();
                u.role = role;
            }
            return;
        }
        let id = s.users.len() as u64 + 1;
        let name = email.split('@').next().unwrap_or(email).to_owned();
        // Cloud account ids are 24 hex digits (older ones) or `712020:` + a UUID.
        let account_id = format!("5b10ac8d82e05b22cc7d{:04x}", 0x4d00 + id);
        s.users.insert(
            id,
            state::User {
                id,
                account_id,
                display_name: state::title_case(&name),
                name,
                key: format!("JIRAUSER{}", 10_000 + id),
                email: email.to_owned(),
                role,
                api_token: api_token.to_owned(),
                pats: Vec::new(),
                active: true,
            },
        );
    }

    /// Adds a personal access token (Data Center; sent as `Bearer`). Naming a user that does
    /// not exist is a bug in the caller: it panics saying which.
    pub fn add_pat(&self, email: &str, pat: &str) {
        let mut s = self.shared().lock();
        let id = s
            .user_by_email(email)
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no simulated user '{email}'"));
        if let Some(u) = s.users.get_mut(&id) {
            u.pats.push(pat.to_owned());
        }
    }

    /// Deactivates a user: every credential of theirs is refused from now on.
    pub fn deactivate_user(&self, email: &str) {
        let mut s = self.shared().lock();
        if let Some(id) = s.user_by_email(email).map(|u| u.id)
            && let Some(u) = s.users.get_mut(&id)
        {
            u.active = false;
        }
    }

    /// Creates a project with these issue types (creating types the site lacks); the first
    /// user added leads it.
    pub fn add_project(&self, key: &str, name: &str, issue_types: &[&str]) {
        let mut s = self.shared().lock();
        if s.project(key).is_some() {
            return;
        }
        let mut type_ids = Vec::new();
        for t in issue_types {
            let existing = s
                .issue_types
                .values()
                .find(|it| it.name.eq_ignore_ascii_case(t))
                .map(|it| it.id.clone());
            let id = match existing {
                Some(id) => id,
                None => {
                    let id = s.next_id();
                    let description = match *t {
                        "Bug" => "A problem or error.",
                        "Task" => "A small, distinct piece of work.",
                        "Vulnerability" => "A security weakness to fix.",
                        _ => "",
                    };
                    s.issue_types.insert(
                        id.clone(),
                        state::IssueType {
                            id: id.clone(),
                            name: (*t).to_owned(),
                            description: description.into(),
                            required: Vec::new(),
                        },
                    );
                    id
                }
            };
            type_ids.push(id);
        }
        let id = s.next_id();
        let lead = s.users.keys().next().copied().unwrap_or(0);
        s.projects.insert(
            key.to_owned(),
            state::Project {
                id,
                key: key.to_owned(),
                name: name.to_owned(),
                lead,
                issue_types: type_ids,
                components: Vec::new(),
                next_number: 1,
                grants: BTreeMap::new(),
            },
        );
    }

    /// Adds a component to a project.
    pub fn add_component(&self, project: &str, name: &str) {
        let mut s = self.shared().lock();
        let id = s.next_id();
        let key = s
            .project(project)
            .map(|p| p.key.clone())
            .unwrap_or_else(|| panic!("no simulated project '{project}'"));
        if let Some(p) = s.projects.get_mut(&key)
            && !p.components.iter().any(|c| c.name == name)
        {
            p.components.push(state::Component {
                id,
                name: name.to_owned(),
                description: String::new(),
            });
        }
    }

    /// Makes a field (`components`, `duedate`, `priority`, `description`, `labels`) required on
    /// create for an issue type, as a field configuration would.
    pub fn require_field(&self, issue_type: &str, field: &str) {
        let mut s = self.shared().lock();
        if let Some(t) = s
            .issue_types
            .values_mut()
            .find(|t| t.name.eq_ignore_ascii_case(issue_type))
            && !t.required.iter().any(|f| f == field)
        {
            t.required.push(field.to_owned());
        }
    }

    /// Replaces a user's permissions in one project (a permission scheme granting exactly these).
    pub fn grant(&self, email: &str, project: &str, permissions: &[Permission]) {
        let mut s = self.shared().lock();
        let user = s
            .user_by_email(email)
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no simulated user '{email}'"));
        let key = s
            .project(project)
            .map(|p| p.key.clone())
            .unwrap_or_else(|| panic!("no simulated project '{project}'"));
        if let Some(p) = s.projects.get_mut(&key) {
            p.grants
                .insert(user, permissions.iter().copied().collect::<BTreeSet<_>>());
        }
    }

    /// Registers an OAuth client (an incoming application link).
    pub fn add_oauth_client(&self, client_id: &str, secret: &str) {
        let mut s = self.shared().lock();
        s.oauth_clients.retain(|c| c.client_id != client_id);
        s.oauth_clients.push(state::OAuthClient {
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
        });
    }

    /// Issues a refresh token to a user of an OAuth client (what the authorization flow ends with).
    pub fn add_refresh_token(&self, client_id: &str, email: &str, token: &str) {
        let mut s = self.shared().lock();
        let user = s
            .user_by_email(email)
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no simulated user '{email}'"));
        s.refresh_tokens.push(state::RefreshToken {
            token: token.to_owned(),
            client_id: client_id.to_owned(),
            user,
            used: false,
        });
    }

    /// How long OAuth access tokens live from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared().lock().token_lifetime_secs =
            i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX).max(1);
    }

    /// Makes every OAuth access token issued so far expired (a client still holding one gets 401).
    pub fn expire_access_tokens(&self) {
        let mut s = self.shared().lock();
        let past = Utc::now() - chrono::TimeDelta::seconds(1);
        for t in &mut s.access_tokens {
            t.expires = past;
        }
    }

    /// How many refresh tokens are still valid (not yet rotated away).
    pub fn live_refresh_tokens(&self) -> usize {
        self.shared()
            .lock()
            .refresh_tokens
            .iter()
            .filter(|t| !t.used)
            .count()
    }

    /// A project's issues, oldest first.
    pub fn issues(&self, project: &str) -> Vec<IssueSnapshot> {
        let s = self.shared().lock();
        let Some(p) = s.project(project) else {
            return Vec::new();
        };
        let mut issues: Vec<&state::Issue> =
            s.issues.values().filter(|i| i.project_id == p.id).collect();
        issues.sort_by_key(|i| i.id.parse::<u64>().unwrap_or(0));
        issues.into_iter().map(|i| snapshot(&s, i)).collect()
    }

    /// One issue by key.
    pub fn issue(&self, key: &str) -> Option<IssueSnapshot> {
        let s = self.shared().lock();
        s.issue(key).map(|i| snapshot(&s, i))
    }

    /// A person moves an issue to a status in Jira, through the transition leading there from
    /// its current status: the same path as `POST …/transitions`, permissions and webhooks
    /// included.
    pub fn transition_as(&self, email: &str, key: &str, to_status: &str) -> Result<(), String> {
        ops::transition_as(self.shared(), email, key, to_status)
    }

    /// A person comments on an issue.
    pub fn comment_as(&self, email: &str, key: &str, text: &str) -> Result<(), String> {
        ops::comment_as(self.shared(), email, key, text)
    }

    /// A person deletes an issue (refused without the Delete Issues permission).
    pub fn delete_as(&self, email: &str, key: &str) -> Result<(), String> {
        ops::delete_as(self.shared(), email, key)
    }

    /// A person edits an issue's summary.
    pub fn edit_summary_as(&self, email: &str, key: &str, summary: &str) -> Result<(), String> {
        ops::edit_summary_as(self.shared(), email, key, summary)
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

    /// Sends again every webhook delivery whose last attempt failed (no answer or not 2xx),
    /// with the same `X-Atlassian-Webhook-Identifier` and `X-Atlassian-Webhook-Retry` one
    /// higher, as Jira retries. Returns how many were sent again.
    pub fn retry_failed_webhooks(&self) -> usize {
        events::retry_failed(&self.shared().outbox)
    }

    /// What `vulnbridge simulate jira` prints: where it listens, the credentials, the projects.
    pub fn summary(&self) -> String {
        let s = self.shared().lock();
        let base = self.base_url();
        let mut out = vec![
            format!(
                "Jira simulator at {base}/ (Cloud REST API: {base}/rest/api/3, Data Center: {base}/rest/api/2, control API: {base}/_sim/state)"
            ),
            "Users (Basic e-mail:API token; personal access tokens as Bearer):".to_owned(),
        ];
        for u in s.users.values() {
            let pats = if u.pats.is_empty() {
                String::new()
            } else {
                format!(", PAT {}", u.pats.join(", "))
            };
            out.push(format!(
                "  {} ({:?}): API token {}{pats}",
                u.email, u.role, u.api_token
            ));
        }
        for c in &s.oauth_clients {
            let live: Vec<&str> = s
                .refresh_tokens
                .iter()
                .filter(|t| t.client_id == c.client_id && !t.used)
                .map(|t| t.token.as_str())
                .collect();
            out.push(format!(
                "OAuth client {} / {} at {base}/rest/oauth2/latest/token; refresh tokens: {}",
                c.client_id,
                c.secret,
                live.join(", ")
            ));
        }
        out.push("Projects:".to_owned());
        for p in s.projects.values() {
            let types: Vec<&str> = p
                .issue_types
                .iter()
                .filter_map(|t| s.issue_types.get(t))
                .map(|t| t.name.as_str())
                .collect();
            let components: Vec<&str> = p.components.iter().map(|c| c.name.as_str()).collect();
            out.push(format!(
                "  {} ({}): issue types {}; components {}",
                p.key,
                p.name,
                types.join(", "),
                components.join(", ")
            ));
        }
        out.join("\n")
    }

    /// Serves until the server stops (for `vulnbridge simulate jira`). Other clones keep their
    /// handle; the server stops when the last one is dropped.
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

fn snapshot(s: &State, i: &state::Issue) -> IssueSnapshot {
    let status = s.status(&i.status);
    let links = s
        .links_of(&i.id)
        .filter_map(|l| {
            let t = s.link_type(&l.type_id)?;
            let (verb, other) = if l.source == i.id {
                (&t.outward, &l.target)
            } else {
                (&t.inward, &l.source)
            };
            Some(format!("{verb} {}", s.issues.get(other)?.key))
        })
        .collect();
    IssueSnapshot {
        key: i.key.clone(),
        id: i.id.clone(),
        issue_type: s
            .issue_types
            .get(&i.issue_type)
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        summary: i.summary.clone(),
        description: i.description.as_ref().map(text::Rich::to_text),
        description_raw: i.description.as_ref().map(|d| match d {
            text::Rich::Adf(v) => v.clone(),
            text::Rich::Plain(t) => Value::String(t.clone()),
        }),
        status: status.map(|st| st.name.clone()).unwrap_or_default(),
        status_category: status
            .map(|st| st.category.key().to_owned())
            .unwrap_or_default(),
        resolution: i
            .resolution
            .as_deref()
            .and_then(|r| s.resolution(r))
            .map(|r| r.name.clone()),
        priority: s
            .priority(&i.priority)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        labels: i.labels.iter().cloned().collect(),
        components: i
            .components
            .iter()
            .filter_map(|c| {
                s.project_by_id(&i.project_id)?
                    .components
                    .iter()
                    .find(|pc| pc.id == *c)
                    .map(|pc| pc.name.clone())
            })
            .collect(),
        duedate: i.duedate.map(|d| d.to_string()),
        other: i.other.clone(),
        links,
        comments: s.comments_of(&i.id).map(|c| c.body.to_text()).collect(),
    }
}
