//! The Azure DevOps Boards simulator: one organization (`http://127.0.0.1:PORT/{org}`) with
//! projects on the four system processes, work items through the REST API 7.1 (JSON Patch
//! creates and updates, WIQL, `workitemsbatch`, `$batch`, comments, the recycle bin), service
//! hook subscriptions delivering the documented `workitem.*` payloads, personal access tokens
//! with scopes, `api-version` checks, the global consumption limit, and a control API under
//! `/_sim/` for tests, the demo and `vulnbridge simulate azure_devops`.
//!
//! Sources: `MicrosoftDocs/vsts-rest-api-specs` (`wit/7.1/workItemTracking.json`,
//! `hooks/7.1/serviceHooks.json`, `core/7.1/core.json` and their examples), the Azure DevOps
//! documentation (service hook events and the Web Hooks consumer, rate limits, scopes, workflow
//! states), and the error texts the service is known to answer with. Where the simulator differs
//! from the service on purpose it says so where it does it; notably service hooks may target
//! loopback (the service refuses localhost URLs) so that tests and the demo can receive them.

mod auth;
mod batch;
mod comments;
mod control;
mod events;
mod fields;
mod hooks;
mod limits;
mod patch;
mod process;
mod projects;
mod render;
mod reply;
mod routes;
mod state;
mod version;
mod wiql;
mod workitems;

pub use limits::Limits;
pub use process::Process;

use crate::common::{Faults, RequestLog, SimServer, WebhookOutbox};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use events::{Event, Outgoing};
use reply::ApiError;
use serde::Serialize;
use serde_json::Value;
use state::State;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The organization `start_seeded` creates.
pub const SEEDED_ORG: &str = "acme";
/// The seeded bot's token (`vso.work_write vso.hooks_write`).
pub const BOT_PAT: &str = "ado-pat-bot";
/// The seeded developer's token (`vso.work_write`).
pub const DAVE_PAT: &str = "ado-pat-dave";

/// One work item as the simulator holds it, for tests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkItemSnapshot {
    pub id: i64,
    pub rev: i64,
    pub project: String,
    pub work_item_type: String,
    pub title: String,
    /// `System.Description` (HTML).
    pub description: Option<String>,
    /// `Microsoft.VSTS.TCM.ReproSteps` (Bug only).
    pub repro_steps: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub priority: Option<i64>,
    /// Sorted as the service shows them.
    pub tags: Vec<String>,
    pub area_path: String,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// Comment texts, oldest first.
    pub comments: Vec<String>,
    /// Every stored field (identity fields hold user ids).
    pub fields: BTreeMap<String, Value>,
    pub relations: Vec<Value>,
}

/// A service hook subscription, for tests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubscriptionSnapshot {
    pub id: String,
    pub event_type: String,
    pub project_id: Option<String>,
    pub url: String,
    pub basic_auth_username: Option<String>,
    pub http_headers: Option<String>,
    pub notifications: u64,
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
    /// The state, even after a panic elsewhere poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `http://127.0.0.1:PORT`.
    fn base(&self) -> &str {
        self.base.get().map_or("http://127.0.0.1", String::as_str)
    }

    /// Posts the deliveries these events cause (the state lock must not be held).
    fn publish(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let out: Vec<Outgoing> = {
            let mut s = self.lock();
            events::deliveries(&mut s, self.base(), events)
        };
        for o in out {
            self.outbox.send(&o.url, o.headers, o.body);
        }
    }

    /// The id of a simulated user, for acting as them.
    fn user_id(&self, user: &str) -> Result<String, String> {
        self.lock()
            .user(user)
            .map(|u| u.id.clone())
            .ok_or_else(|| format!("no simulated user '{user}'"))
    }

    /// A person changes a work item: the same path as a `PATCH`, rules and service hooks included.
    fn act_update(&self, user: &str, id: i64, ops: &[patch::Op]) -> Result<(), String> {
        let user_id = self.user_id(user)?;
        let events = {
            let mut s = self.lock();
            workitems::update(
                &mut s,
                self.base(),
                &user_id,
                id,
                None,
                ops,
                workitems::Flags::default(),
            )
            .map_err(refusal)?
            .events
        };
        self.publish(&events);
        Ok(())
    }

    /// A person comments on a work item (the comments API's path).
    fn act_comment(&self, user: &str, id: i64, text: &str) -> Result<(), String> {
        let user_id = self.user_id(user)?;
        let events = {
            let mut s = self.lock();
            comments::add(&mut s, self.base(), &user_id, id, None, text)
                .map_err(refusal)?
                .1
        };
        self.publish(&events);
        Ok(())
    }

    /// A person deletes a work item (to the recycle bin).
    fn act_delete(&self, user: &str, id: i64) -> Result<(), String> {
        let user_id = self.user_id(user)?;
        let events = {
            let mut s = self.lock();
            workitems::delete(&mut s, &user_id, id, None, false).map_err(refusal)?
        };
        self.publish(&events);
        Ok(())
    }
}

type Sh = Arc<Shared>;

/// The message of a refusal, for the Rust and control APIs.
fn refusal(e: ApiError) -> String {
    e.body()["message"].as_str().unwrap_or("refused").to_owned()
}

/// A request as the API layer reads it.
pub(crate) struct Call {
    method: Method,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let method = req.method().clone();
        let headers = req.headers().clone();
        let query = req.uri().query().map(str::to_owned);
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Call {
            method,
            headers,
            query,
            body,
        })
    }
}

impl Call {
    /// A query parameter, its name compared ignoring case.
    fn param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())
    }

    /// A boolean query parameter (`validateOnly=true`).
    fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.param(name) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") || v.is_empty() => Ok(false),
            Some(v) => Err(ApiError::argument(format!(
                "The value '{v}' is not valid for {name}."
            ))),
        }
    }

    /// The media type of the body, without parameters (`application/json-patch+json`).
    fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default()
    }

    /// The organization, the caller and the version served, or the service's refusal: the
    /// token is checked first, then `api-version`, then the scope.
    fn begin(
        &self,
        s: &State,
        org: &str,
        resource: version::Resource,
        need: auth::Need,
    ) -> Result<(auth::Caller, String), ApiError> {
        if !org.eq_ignore_ascii_case(&s.org) {
            return Err(ApiError::Raw(Box::new(
                axum::http::StatusCode::NOT_FOUND.into_response(),
            )));
        }
        let caller = auth::authenticate(s, &self.headers)?;
        let version = version::check(&self.method, self.query.as_deref(), &self.headers, resource)?;
        caller.require(need)?;
        Ok((caller, version))
    }
}

/// A running Azure DevOps simulator. Clones share it; dropping the last stops the server.
#[derive(Clone)]
pub struct AzureDevOpsSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for AzureDevOpsSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureDevOpsSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl AzureDevOpsSim {
    /// An empty organization `acme`: no users, no projects.
    pub async fn start(bind: SocketAddr) -> std::io::Result<AzureDevOpsSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(SEEDED_ORG)),
            limits: limits::RateLimits::new(Limits::default()),
            faults: Faults::default(),
            requests: RequestLog::default(),
            outbox: WebhookOutbox::start(),
            base: OnceLock::new(),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        let _ = shared.base.set(server.base_url());
        Ok(AzureDevOpsSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// The demo organization `acme`: project `Platform` (Basic process, area `Platform\Web`)
    /// and project `Payments` (Agile); `vulnbridge-bot` (PAT `ado-pat-bot` with
    /// `vso.work_write vso.hooks_write`) and `dev-dave` (PAT `ado-pat-dave` with
    /// `vso.work_write`, which includes `vso.hooks_write` by the scopes' inheritance).
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<AzureDevOpsSim> {
        let sim = AzureDevOpsSim::start(bind).await?;
        sim.add_project("Platform", Process::Basic);
        sim.add_area("Platform", "Web");
        sim.add_project("Payments", Process::Agile);
        sim.add_pat(
            "vulnbridge-bot",
            BOT_PAT,
            &["vso.work_write", "vso.hooks_write"],
        );
        sim.add_pat("dev-dave", DAVE_PAT, &["vso.work_write"]);
        Ok(sim)
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    /// `http://127.0.0.1:PORT/acme`: what a user types as the instance location.
    pub fn location(&self) -> String {
        format!("{}/{}", self.base_url(), self.shared().lock().org)
    }

    /// Adds a personal access token with these scopes, creating the user (`login`, signing in
    /// as `<login>@<org>.example`) on first use.
    pub fn add_pat(&self, login: &str, pat: &str, scopes: &[&str]) {
        let mut s = self.shared().lock();
        let user_id = s.ensure_user(login);
        s.pats.retain(|p| p.token != pat);
        s.pats.push(state::Pat {
            token: pat.to_owned(),
            user_id,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        });
    }

    /// Revokes a token: it is refused from now on.
    pub fn revoke_pat(&self, pat: &str) {
        self.shared().lock().pats.retain(|p| p.token != pat);
    }

    /// Creates a project on a process; its id. An existing project's id if it is there.
    pub fn add_project(&self, name: &str, process: Process) -> String {
        let mut s = self.shared().lock();
        if let Some(p) = s.project(name) {
            return p.id.clone();
        }
        let id = state::guid();
        s.projects.insert(
            id.clone(),
            state::Project {
                id: id.clone(),
                name: name.to_owned(),
                description: format!("{name} ({} process)", process.name()),
                process,
                areas: vec![name.to_owned()],
                revision: 1,
                last_update: Utc::now(),
            },
        );
        id
    }

    /// Adds an area under a project's root (`Web` → `Platform\Web`).
    pub fn add_area(&self, project: &str, child: &str) {
        let mut s = self.shared().lock();
        let Some(id) = s.project(project).map(|p| p.id.clone()) else {
            return;
        };
        if let Some(p) = s.projects.get_mut(&id) {
            let path = format!("{}\\{}", p.name, child.trim_matches('\\'));
            if !p.areas.iter().any(|a| a.eq_ignore_ascii_case(&path)) {
                p.areas.push(path);
            }
        }
    }

    /// A project's work items, by id (deleted ones excluded).
    pub fn work_items(&self, project: &str) -> Vec<WorkItemSnapshot> {
        let s = self.shared().lock();
        let Some(p) = s.project(project) else {
            return Vec::new();
        };
        s.work_items
            .values()
            .filter(|w| w.project_id == p.id)
            .map(|w| snapshot(&s, w))
            .collect()
    }

    /// One work item, wherever it is.
    pub fn work_item(&self, id: i64) -> Option<WorkItemSnapshot> {
        let s = self.shared().lock();
        s.work_items.get(&id).map(|w| snapshot(&s, w))
    }

    /// Whether a work item is in the recycle bin.
    pub fn in_recycle_bin(&self, id: i64) -> bool {
        self.shared().lock().recycle_bin.contains_key(&id)
    }

    /// The service hook subscriptions.
    pub fn subscriptions(&self) -> Vec<SubscriptionSnapshot> {
        let s = self.shared().lock();
        s.subscriptions
            .values()
            .map(|sub| SubscriptionSnapshot {
                id: sub.id.clone(),
                event_type: sub.event_type.clone(),
                project_id: sub.publisher_inputs.get("projectId").cloned(),
                url: sub.consumer_inputs.get("url").cloned().unwrap_or_default(),
                basic_auth_username: sub.consumer_inputs.get("basicAuthUsername").cloned(),
                http_headers: sub.consumer_inputs.get("httpHeaders").cloned(),
                notifications: sub.notifications,
            })
            .collect()
    }

    /// A person changes a work item's state in Azure DevOps: the same path as a `PATCH` of
    /// `System.State`, rules and service hooks included.
    pub fn set_state_as(&self, user: &str, id: i64, state: &str) -> Result<(), String> {
        let ops = vec![patch::Op {
            op: patch::OpKind::Add,
            path: "/fields/System.State".into(),
            value: Value::from(state),
        }];
        self.act_as(user, id, &ops)
    }

    /// A person changes fields of a work item (`field → value`), as a `PATCH` would.
    pub fn update_as(&self, user: &str, id: i64, fields: &[(&str, Value)]) -> Result<(), String> {
        let ops: Vec<patch::Op> = fields
            .iter()
            .map(|(f, v)| patch::Op {
                op: patch::OpKind::Add,
                path: format!("/fields/{f}"),
                value: v.clone(),
            })
            .collect();
        self.act_as(user, id, &ops)
    }

    fn act_as(&self, user: &str, id: i64, ops: &[patch::Op]) -> Result<(), String> {
        self.shared().act_update(user, id, ops)
    }

    /// A person comments on a work item (the comments API's path).
    pub fn comment_as(&self, user: &str, id: i64, text: &str) -> Result<(), String> {
        self.shared().act_comment(user, id, text)
    }

    /// A person deletes a work item (to the recycle bin).
    pub fn delete_as(&self, user: &str, id: i64) -> Result<(), String> {
        self.shared().act_delete(user, id)
    }

    /// Replaces the rate limits (every user's usage starts at zero).
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

    /// What `vulnbridge simulate azure_devops` prints: where it listens, the tokens, the projects.
    pub fn summary(&self) -> String {
        let s = self.shared().lock();
        let location = format!("{}/{}", self.base_url(), s.org);
        let mut out = vec![
            format!(
                "Azure DevOps simulator: organization {location} (REST API 7.1; control API: {}/_sim/state)",
                self.base_url()
            ),
            "Personal access tokens (HTTP Basic, empty user name):".to_owned(),
        ];
        for p in &s.pats {
            let user = s.users.get(&p.user_id).map_or("?", |u| u.login.as_str());
            out.push(format!(
                "  {user}: {} (scopes: {})",
                p.token,
                p.scopes.join(" ")
            ));
        }
        out.push("Projects:".to_owned());
        for p in s.projects.values() {
            let types: Vec<&str> = p.process.types().iter().map(|t| t.name).collect();
            out.push(format!(
                "  {} ({} process; work item types: {}; id {})",
                p.name,
                p.process.name(),
                types.join(", "),
                p.id
            ));
        }
        out.join("\n")
    }

    /// Serves until the server stops (for `vulnbridge simulate azure_devops`).
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

fn snapshot(s: &State, w: &state::WorkItem) -> WorkItemSnapshot {
    let text = |f: &str| w.field_str(f).map(str::to_owned);
    WorkItemSnapshot {
        id: w.id,
        rev: w.rev,
        project: s
            .projects
            .get(&w.project_id)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        work_item_type: w.type_name.to_owned(),
        title: text("System.Title").unwrap_or_default(),
        description: text("System.Description"),
        repro_steps: text("Microsoft.VSTS.TCM.ReproSteps"),
        state: w.state().to_owned(),
        reason: text("System.Reason"),
        priority: w
            .fields
            .get("Microsoft.VSTS.Common.Priority")
            .and_then(Value::as_i64),
        tags: w.tags(),
        area_path: text("System.AreaPath").unwrap_or_default(),
        due_date: w
            .field_str("Microsoft.VSTS.Scheduling.DueDate")
            .and_then(fields::parse_date_time)
            .map(|d| d.format("%Y-%m-%d").to_string()),
        comments: w.comments.iter().map(|c| c.text.clone()).collect(),
        fields: w.fields.clone(),
        relations: w.relations.clone(),
    }
}
