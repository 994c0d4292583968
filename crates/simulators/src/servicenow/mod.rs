//! The ServiceNow simulator: one instance's REST API as its documentation describes it — the
//! OAuth token endpoint (`/oauth_token.do`), the Table API over `task` and the tables extending
//! it (Incident, Problem, Change Request, Security Incident) and the system tables clients read
//! (`sys_choice`, `sys_db_object`, `sys_user`, `sys_user_group`, `sys_journal_field`), the Batch
//! API, inbound rate limit rules — with the platform's rules on writes (ACLs by role, priority
//! from impact and urgency, active from the state, closure fields mandatory to resolve), the
//! business rule of docs/servicenow-business-rule.md posting changes back, and a control API
//! under `/_sim/` for tests, the demo and `vulnbridge simulate servicenow`.

mod api;
mod auth;
mod batch;
mod control;
mod limits;
mod oauth;
mod query;
mod render;
mod reply;
mod routes;
mod rules;
mod schema;
mod state;
mod table;
mod write;

pub use limits::{Limits, RateLimitRule};

use crate::common::{Faults, RequestLog, SimServer, WebhookOutbox};
use auth::Caller;
use chrono::{TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use state::{Account, IssuedToken, OAuthClient, Record, State};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use write::Change;

/// The seeded OAuth client (Application Registry entry).
pub const CLIENT_ID: &str = "vulnbridge";
pub const CLIENT_SECRET: &str = "snow-client-secret";
/// The seeded integration user and the refresh token issued to it.
pub const BOT_USER: &str = "vulnbridge.bot";
pub const BOT_PASSWORD: &str = "snow-bot-password";
pub const BOT_REFRESH_TOKEN: &str = "snow-refresh-0";
/// A service desk agent (role `itil`) who resolves incidents.
pub const AGENT_USER: &str = "itil.erin";
pub const AGENT_PASSWORD: &str = "snow-erin-password";
/// An administrator.
pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "snow-admin-password";

/// One record of a task table as the simulator holds it, for tests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordSnapshot {
    pub table: String,
    pub sys_id: String,
    pub number: String,
    pub short_description: String,
    pub description: String,
    /// The state's value (`6`) and label (`Resolved`).
    pub state: String,
    pub state_label: String,
    pub impact: String,
    pub urgency: String,
    pub priority: String,
    pub correlation_id: String,
    pub correlation_display: String,
    pub active: bool,
    /// `close_code` (Incident, Change Request, Security Incident) or `resolution_code` (Problem).
    pub close_code: String,
    pub close_notes: String,
    /// The group's sys_id.
    pub assignment_group: String,
    /// `YYYY-MM-DD HH:MM:SS`, or empty.
    pub due_date: String,
    /// Journal entries, oldest first.
    pub comments: Vec<String>,
    pub work_notes: Vec<String>,
    pub sys_updated_on: String,
    pub sys_updated_by: String,
    pub sys_mod_count: u64,
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

    /// `http://127.0.0.1:PORT`: the instance's address.
    fn base(&self) -> &str {
        self.base.get().map_or("http://127.0.0.1", String::as_str)
    }

    /// Runs the business rules for these writes.
    fn deliver(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        let out: Vec<rules::Outgoing> = {
            let s = self.lock();
            changes
                .iter()
                .flat_map(|c| rules::deliveries(&s, c))
                .collect()
        };
        for o in out {
            self.outbox.send(&o.url, o.headers, o.body);
        }
    }

    fn add_user(&self, user_name: &str, password: &str, roles: &[&str]) -> String {
        let mut s = self.lock();
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        if let Some(a) = s.accounts.get_mut(user_name) {
            a.password = password.to_owned();
            a.roles = roles;
            return a.sys_id.clone();
        }
        let mut v = s.blank("sys_user", Utc::now(), "system");
        let id = v["sys_id"].clone();
        v.insert("user_name".into(), user_name.into());
        v.insert("name".into(), state::display_name(user_name));
        v.insert("email".into(), format!("{user_name}@example.com"));
        s.put(Record {
            table: "sys_user",
            values: v,
        });
        s.accounts.insert(
            user_name.to_owned(),
            Account {
                sys_id: id.clone(),
                password: password.to_owned(),
                roles,
            },
        );
        id
    }

    fn add_group(&self, name: &str) -> String {
        let mut s = self.lock();
        let mut v = s.blank("sys_user_group", Utc::now(), "system");
        let id = v["sys_id"].clone();
        v.insert("name".into(), name.into());
        s.put(Record {
            table: "sys_user_group",
            values: v,
        });
        id
    }

    /// A new refresh token for `user_name` from the first OAuth client.
    fn issue_refresh_token(&self, user_name: &str) -> String {
        let mut s = self.lock();
        let client = s.clients.values().next().cloned();
        let (client_id, lifespan) = client.map_or((CLIENT_ID.to_owned(), 8_640_000), |c| {
            (c.client_id, c.refresh_token_lifespan)
        });
        let t = state::token();
        s.refresh_tokens.push(IssuedToken {
            token: t.clone(),
            client_id,
            user_name: user_name.to_owned(),
            expires_at: Utc::now() + TimeDelta::seconds(lifespan),
        });
        t
    }

    /// Writes as a person in the instance (the control API), through the same rules as the
    /// Table API.
    fn update_as(
        &self,
        user: &str,
        table: &str,
        sys_id: &str,
        input: &Map<String, Value>,
    ) -> Result<(), String> {
        let t = schema::table(table).ok_or_else(|| format!("Invalid table {table}"))?;
        let change = {
            let mut s = self.lock();
            let caller = caller(&s, user)?;
            match write::update(&mut s, &caller, t, sys_id, input, Utc::now()) {
                Ok((_, change)) => change,
                Err(e) => return Err(error_text(&e)),
            }
        };
        self.deliver(&change.into_iter().collect::<Vec<_>>());
        Ok(())
    }
}

/// The message and detail of a refusal, for the control API's callers.
fn error_text(e: &reply::ApiResponse) -> String {
    let body = e.body.clone().unwrap_or(Value::Null);
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("refused");
    match body.pointer("/error/detail").and_then(Value::as_str) {
        Some(d) => format!("{message}: {}", d.trim()),
        None => message.to_owned(),
    }
}

fn caller(s: &State, user: &str) -> Result<Caller, String> {
    let a = s
        .accounts
        .get(user)
        .ok_or_else(|| format!("no simulated user '{user}'"))?;
    Ok(Caller {
        user_name: user.to_owned(),
        sys_id: a.sys_id.clone(),
        roles: a.roles.clone(),
    })
}

type Sh = Arc<Shared>;

/// A running ServiceNow simulator. Clones share it; dropping the last clone stops the server.
#[derive(Clone)]
pub struct ServiceNowSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for ServiceNowSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceNowSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl ServiceNowSim {
    /// A new instance: its tables and choice lists, no users, no OAuth clients.
    pub async fn start(bind: SocketAddr) -> std::io::Result<ServiceNowSim> {
        let limits = limits::RateLimits::default();
        limits.set(Limits::default());
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new()),
            limits,
            faults: Faults::default(),
            requests: RequestLog::default(),
            outbox: WebhookOutbox::start(),
            base: OnceLock::new(),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        let _ = shared.base.set(server.base_url());
        Ok(ServiceNowSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// The demo world: the OAuth client `vulnbridge` / `snow-client-secret`; the integration
    /// user `vulnbridge.bot` / `snow-bot-password` (role `itil`) with the refresh token
    /// `snow-refresh-0` issued; `itil.erin` / `snow-erin-password` (role `itil`), who resolves
    /// incidents; `admin` / `snow-admin-password`; the groups `Security Operations` and
    /// `Service Desk`.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<ServiceNowSim> {
        let sim = ServiceNowSim::start(bind).await?;
        sim.add_oauth_client(CLIENT_ID, CLIENT_SECRET);
        sim.add_user(BOT_USER, BOT_PASSWORD, &["itil"]);
        sim.add_user(AGENT_USER, AGENT_PASSWORD, &["itil"]);
        sim.add_user(ADMIN_USER, ADMIN_PASSWORD, &["admin"]);
        sim.add_group("Security Operations");
        sim.add_group("Service Desk");
        {
            let mut s = sim.shared().lock();
            let until = Utc::now() + TimeDelta::seconds(8_640_000);
            s.refresh_tokens.push(IssuedToken {
                token: BOT_REFRESH_TOKEN.into(),
                client_id: CLIENT_ID.into(),
                user_name: BOT_USER.into(),
                expires_at: until,
            });
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

    /// Adds a user (`sys_user`) with a password and roles (`itil`, `snc_read_only`, `admin`),
    /// or replaces the password and roles of an existing one. Returns the user's sys_id.
    pub fn add_user(&self, user_name: &str, password: &str, roles: &[&str]) -> String {
        self.shared().add_user(user_name, password, roles)
    }

    /// Makes a user inactive (or active again): an inactive user cannot sign in.
    pub fn set_user_active(&self, user_name: &str, active: bool) {
        let mut s = self.shared().lock();
        let Some(id) = s.accounts.get(user_name).map(|a| a.sys_id.clone()) else {
            return;
        };
        if let Some(r) = s.get_mut(&id) {
            r.values.insert("active".into(), active.to_string());
        }
    }

    /// Adds a group (`sys_user_group`) and returns its sys_id.
    pub fn add_group(&self, name: &str) -> String {
        self.shared().add_group(name)
    }

    /// Adds a choice to a table's list (`sys_choice`), after its existing ones.
    pub fn add_choice(&self, table: &str, element: &str, value: &str, label: &str) {
        let mut s = self.shared().lock();
        let seq = (s.records.len() as i64 + 1) * 100;
        s.add_choice(table, element, value, label, seq);
    }

    /// Registers an OAuth client with the default token lifespans (30 minutes, 100 days).
    pub fn add_oauth_client(&self, client_id: &str, client_secret: &str) {
        self.shared().lock().clients.insert(
            client_id.to_owned(),
            OAuthClient {
                client_id: client_id.to_owned(),
                client_secret: client_secret.to_owned(),
                access_token_lifespan: 1800,
                refresh_token_lifespan: 8_640_000,
            },
        );
    }

    /// Issues a new refresh token to a user for the first OAuth client (as the password grant
    /// would) and returns it.
    pub fn issue_refresh_token(&self, user_name: &str) -> String {
        self.shared().issue_refresh_token(user_name)
    }

    /// Makes a refresh token expired.
    pub fn expire_refresh_token(&self, token: &str) {
        let past = Utc::now() - TimeDelta::seconds(1);
        for t in self
            .shared()
            .lock()
            .refresh_tokens
            .iter_mut()
            .filter(|t| t.token == token)
        {
            t.expires_at = past;
        }
    }

    /// Makes every access token issued so far expired (the next call with one gets 401).
    pub fn expire_access_tokens(&self) {
        let past = Utc::now() - TimeDelta::seconds(1);
        for t in &mut self.shared().lock().access_tokens {
            t.expires_at = past;
        }
    }

    /// The lifespan of access tokens issued from now on, for every client (default 1,800 s).
    pub fn set_access_token_lifetime(&self, seconds: i64) {
        for c in self.shared().lock().clients.values_mut() {
            c.access_token_lifespan = seconds.max(1);
        }
    }

    /// The lifespan of refresh tokens issued from now on (default 8,640,000 s).
    pub fn set_refresh_token_lifetime(&self, seconds: i64) {
        for c in self.shared().lock().clients.values_mut() {
            c.refresh_token_lifespan = seconds.max(1);
        }
    }

    /// The records of `table` and of the tables extending it, oldest first.
    pub fn records(&self, table: &str) -> Vec<RecordSnapshot> {
        let s = self.shared().lock();
        let Some(t) = schema::table(table) else {
            return Vec::new();
        };
        s.of_table(t).map(|r| snapshot(&s, r)).collect()
    }

    /// A person sets a record's state in the instance (with a resolution code and notes when
    /// one is given), through the same ACLs, rules and data policies as the Table API; the
    /// business rules run.
    pub fn set_state_as(
        &self,
        user: &str,
        table: &str,
        sys_id: &str,
        state: &str,
        close_code: Option<&str>,
    ) -> Result<(), String> {
        let mut input = Map::new();
        input.insert("state".into(), json!(state));
        if let Some(code) = close_code {
            let field = if schema::table(table).is_some_and(|t| t.is_a("problem")) {
                "resolution_code"
            } else {
                "close_code"
            };
            input.insert(field.into(), json!(code));
            input.insert("close_notes".into(), json!(format!("Closed by {user}")));
        }
        self.shared().update_as(user, table, sys_id, &input)
    }

    /// A person adds a comment (`comments`) to a record.
    pub fn comment_as(
        &self,
        user: &str,
        table: &str,
        sys_id: &str,
        text: &str,
    ) -> Result<(), String> {
        let mut input = Map::new();
        input.insert("comments".into(), json!(text));
        self.shared().update_as(user, table, sys_id, &input)
    }

    /// A person writes these fields of a record (`{"urgency": "1"}`).
    pub fn update_as(
        &self,
        user: &str,
        table: &str,
        sys_id: &str,
        fields: Value,
    ) -> Result<(), String> {
        let input = fields
            .as_object()
            .cloned()
            .ok_or_else(|| "the fields must be a JSON object".to_owned())?;
        self.shared().update_as(user, table, sys_id, &input)
    }

    /// An admin deletes a record in the instance; the business rules run.
    pub fn delete_as(&self, user: &str, table: &str, sys_id: &str) -> Result<(), String> {
        let t = schema::table(table).ok_or_else(|| format!("Invalid table {table}"))?;
        let change = {
            let mut s = self.shared().lock();
            let c = caller(&s, user)?;
            write::delete(&mut s, &c, t, sys_id).map_err(|e| error_text(&e))?
        };
        self.shared().deliver(&[change]);
        Ok(())
    }

    /// Installs the business rule of docs/servicenow-business-rule.md on `table` (and the
    /// tables extending it), posting to `url` with `X-Vulnbridge-Secret: secret`.
    pub fn register_business_rule(&self, url: &str, secret: &str, table: &str) {
        self.shared()
            .lock()
            .business_rules
            .push(state::BusinessRule {
                url: url.to_owned(),
                secret: secret.to_owned(),
                table: table.to_owned(),
            });
    }

    /// Replaces the rate limit rules and batch limits (every window starts empty).
    pub fn set_limits(&self, limits: Limits) {
        self.shared().limits.set(limits);
    }

    pub fn limits(&self) -> Limits {
        self.shared().limits.get()
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

    /// What `vulnbridge simulate servicenow` prints: where it listens and how to sign in.
    pub fn summary(&self) -> String {
        let s = self.shared().lock();
        let base = self.base_url();
        let mut out = vec![
            format!(
                "ServiceNow simulator at {base}/ (Table API: {base}/api/now/table/incident, token endpoint: {base}/oauth_token.do, control API: {base}/_sim/state)"
            ),
            "OAuth clients (client id / secret):".to_owned(),
        ];
        for c in s.clients.values() {
            out.push(format!("  {} / {}", c.client_id, c.client_secret));
        }
        out.push("Users (user / password, roles):".to_owned());
        for (name, a) in &s.accounts {
            out.push(format!(
                "  {name} / {} ({})",
                a.password,
                a.roles.join(", ")
            ));
        }
        let now = Utc::now();
        let refresh: Vec<String> = s
            .refresh_tokens
            .iter()
            .filter(|t| t.expires_at > now)
            .map(|t| format!("  {} for {} (client {})", t.token, t.user_name, t.client_id))
            .collect();
        if !refresh.is_empty() {
            out.push("Refresh tokens:".to_owned());
            out.extend(refresh);
        }
        out.push(
            "Tables: incident, problem, change_request, sn_si_incident (extending task)".to_owned(),
        );
        out.join("\n")
    }

    /// Serves until the server stops (for `vulnbridge simulate servicenow`).
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

fn snapshot(s: &State, r: &Record) -> RecordSnapshot {
    let schema = r.schema();
    let journal = s.journal(r.sys_id());
    let entries = |element: &str| {
        journal
            .iter()
            .filter(|e| e.get("element") == element)
            .map(|e| e.get("value").to_owned())
            .collect()
    };
    let close_code = if schema.is_a("problem") {
        r.get("resolution_code")
    } else {
        r.get("close_code")
    };
    RecordSnapshot {
        table: r.table.to_owned(),
        sys_id: r.sys_id().to_owned(),
        number: r.get("number").to_owned(),
        short_description: r.get("short_description").to_owned(),
        description: r.get("description").to_owned(),
        state: r.get("state").to_owned(),
        state_label: s
            .choice_label(schema, "state", r.get("state"))
            .unwrap_or_default(),
        impact: r.get("impact").to_owned(),
        urgency: r.get("urgency").to_owned(),
        priority: r.get("priority").to_owned(),
        correlation_id: r.get("correlation_id").to_owned(),
        correlation_display: r.get("correlation_display").to_owned(),
        active: r.get("active") == "true",
        close_code: close_code.to_owned(),
        close_notes: r.get("close_notes").to_owned(),
        assignment_group: r.get("assignment_group").to_owned(),
        due_date: r.get("due_date").to_owned(),
        comments: entries("comments"),
        work_notes: entries("work_notes"),
        sys_updated_on: r.get("sys_updated_on").to_owned(),
        sys_updated_by: r.get("sys_updated_by").to_owned(),
        sys_mod_count: r.get("sys_mod_count").parse().unwrap_or(0),
    }
}
