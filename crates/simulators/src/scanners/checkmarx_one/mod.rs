//! The Checkmarx ONE simulator: IAM's token endpoint (an API key, i.e. an offline refresh
//! token, exchanged for access tokens that expire), and the REST API's projects, scans and
//! results with their documented parameters, paging (results page by page number), sorting,
//! filters, triage states and errors. A control API under `/_sim/` drives it.
//!
//! Checkmarx publishes no rate limits; the simulator refuses requests beyond a configurable
//! budget with `429` and `Retry-After` so that clients are tested against one.

mod api;
mod control;
mod iam;
mod results;
mod routes;
mod seed;
mod state;

use crate::common::{Faults, RequestLog, SimServer, SlidingWindow};
use crate::scanners::ScannerSim;
use crate::scanners::aws_security_hub::cut::Cut;
use domain::connector::Tool;
use serde::{Deserialize, Serialize};
use serde_json::json;
use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The simulated tenant (the connector's `tenant` option).
pub const TENANT: &str = "acme";

/// The simulator's limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// API requests per minute across the tenant; 0 turns the budget off.
    pub requests_per_minute: u32,
    /// The length of "a minute" as a fraction of 60 s, so tests can wait a window out.
    pub window_scale: f64,
    /// How long an access token lives (Checkmarx ONE: 1,800 s).
    pub token_lifetime_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            requests_per_minute: 3000,
            window_scale: 1.0,
            token_lifetime_seconds: 1800,
        }
    }
}

/// The request budget.
pub(crate) struct Limiter {
    limits: Mutex<Limits>,
    window: Mutex<SlidingWindow>,
}

impl Limiter {
    fn new(limits: Limits) -> Limiter {
        Limiter {
            window: Mutex::new(Self::window_for(&limits)),
            limits: Mutex::new(limits),
        }
    }

    fn window_for(l: &Limits) -> SlidingWindow {
        let scale = if l.window_scale.is_finite() && l.window_scale > 0.0 {
            l.window_scale
        } else {
            1.0
        };
        SlidingWindow::new(
            l.requests_per_minute,
            Duration::from_secs_f64(60.0 * scale).max(Duration::from_millis(10)),
        )
    }

    pub fn get(&self) -> Limits {
        *self
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn set(&self, limits: Limits) {
        *self
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Self::window_for(&limits);
        *self
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = limits;
    }

    /// Counts a request; `Err` with the wait when the budget is spent.
    pub fn admit(&self) -> Result<(), Duration> {
        if self.get().requests_per_minute == 0 {
            return Ok(());
        }
        self.window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .try_acquire(Instant::now())
    }
}

/// What every handler shares.
pub(crate) struct Shared {
    state: Mutex<State>,
    limiter: Limiter,
    faults: Faults,
    requests: RequestLog,
    cut: Cut,
    base: OnceLock<String>,
}

impl Shared {
    /// The state, even after a panic elsewhere poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `http://127.0.0.1:PORT`: where both IAM and the API are.
    fn base(&self) -> String {
        self.base
            .get()
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1".into())
    }
}

type Sh = Arc<Shared>;

/// A running Checkmarx ONE simulator. Clones share it; dropping the last stops the server.
#[derive(Clone)]
pub struct CheckmarxSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
    api_key: String,
}

impl std::fmt::Debug for CheckmarxSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckmarxSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl CheckmarxSim {
    /// An empty tenant [`TENANT`] (no projects) with one API key.
    pub async fn start(bind: SocketAddr) -> std::io::Result<CheckmarxSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(TENANT)),
            limiter: Limiter::new(Limits::default()),
            faults: Faults::default(),
            requests: RequestLog::default(),
            cut: Cut::default(),
            base: OnceLock::new(),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        let _ = shared.base.set(server.base_url());
        let api_key = Self::mint_key(&shared, 1);
        shared.lock().api_keys.push(api_key.clone());
        Ok(CheckmarxSim {
            inner: Arc::new(Inner {
                shared,
                server,
                api_key,
            }),
        })
    }

    /// The fixture world (see `seed::seed`): three projects, results from the repository's
    /// Checkmarx ONE exports in every triage state, scans completed, running and failed.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<CheckmarxSim> {
        let sim = CheckmarxSim::start(bind).await?;
        seed::seed(&mut sim.shared().lock());
        Ok(sim)
    }

    /// `records` projects of `findings_per_record` results each, for benchmarks.
    pub async fn generate(
        bind: SocketAddr,
        records: usize,
        findings_per_record: usize,
    ) -> std::io::Result<CheckmarxSim> {
        let sim = CheckmarxSim::start(bind).await?;
        for n in 0..records {
            sim.add_record(&format!("project-{n:04}"), findings_per_record);
        }
        Ok(sim)
    }

    /// An API key of the tenant: an offline token naming its realm (`aud`) and client (`azp`).
    fn mint_key(shared: &Shared, nonce: u64) -> String {
        let realm = iam::realm_url(&shared.base(), TENANT);
        let payload = json!({
            "iat": chrono::Utc::now().timestamp(),
            "jti": results::uuid(nonce ^ 0xA11CE),
            "iss": realm,
            "aud": realm,
            "sub": results::uuid(nonce ^ 0xB0B),
            "typ": "Offline",
            "azp": iam::CLIENT_ID,
            "scope": "openid offline_access",
        });
        iam::jwt(&payload, nonce)
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The tenant's API key.
    pub fn api_key(&self) -> String {
        self.inner.api_key.clone()
    }

    /// Another valid API key of the tenant.
    pub fn add_api_key(&self) -> String {
        let n = self.shared().lock().api_keys.len() as u64 + 1;
        let key = Self::mint_key(self.shared(), n);
        self.shared().lock().api_keys.push(key.clone());
        key
    }

    /// Revokes every API key (an administrator deleted them).
    pub fn revoke_api_keys(&self) {
        let mut s = self.shared().lock();
        s.api_keys.clear();
        s.access_tokens.clear();
    }

    /// Forgets every access token handed out, as if all had expired.
    pub fn expire_access_tokens(&self) {
        self.shared().lock().access_tokens.clear();
    }

    pub fn limits(&self) -> Limits {
        self.shared().limiter.get()
    }

    pub fn set_limits(&self, limits: Limits) {
        self.shared().limiter.set(limits);
        self.shared().lock().token_lifetime_seconds = limits.token_lifetime_seconds;
    }

    /// The id of the project with this name.
    pub fn project_id(&self, name: &str) -> Option<String> {
        self.shared()
            .lock()
            .projects
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.id.clone())
    }

    /// The id of a project's latest completed scan.
    pub fn latest_scan_id(&self, project: &str) -> Option<String> {
        self.shared()
            .lock()
            .project(project)
            .and_then(|p| p.latest().map(|(_, s)| s.id.clone()))
    }

    /// A new completed scan of the project that finds what its latest found.
    pub fn rescan(&self, project: &str) {
        self.shared().lock().rescan_without(project, 0);
    }

    /// A completed scan of another branch of a project: what its latest scan found, except the
    /// first `without` open results.
    pub fn scan_branch(&self, project: &str, branch: &str, without: usize) {
        self.shared().lock().rescan_on(project, Some(branch), without);
    }
}

impl ScannerSim for CheckmarxSim {
    fn tool(&self) -> Tool {
        Tool::CheckmarxOne
    }

    fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    /// The API's base URL; IAM is on the same server (the API key's `aud` names it).
    fn location(&self) -> String {
        format!("{}/", self.base_url())
    }

    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![("api_key", self.api_key())]
    }

    fn options(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut o = serde_json::Map::new();
        o.insert("tenant".into(), json!(TENANT));
        o
    }

    fn record_ids(&self) -> Vec<String> {
        self.shared()
            .lock()
            .projects
            .iter()
            .map(|p| p.id.clone())
            .collect()
    }

    fn add_record(&self, name: &str, findings: usize) -> String {
        self.shared().lock().add_generated(name, findings)
    }

    fn remove_record(&self, external_id: &str) {
        self.shared()
            .lock()
            .projects
            .retain(|p| p.id != external_id);
    }

    /// A new completed scan of the project no longer finds its first `n` open results.
    fn fix_findings(&self, external_id: &str, n: usize) {
        self.shared().lock().rescan_without(external_id, n);
    }

    fn mark_false_positive(&self, external_id: &str) {
        self.shared().lock().mark_not_exploitable(external_id);
    }

    fn open_findings(&self, external_id: &str) -> usize {
        self.shared()
            .lock()
            .project(external_id)
            .map_or(0, state::Project::open_results)
    }

    fn faults(&self) -> &Faults {
        &self.shared().faults
    }

    fn requests(&self) -> &RequestLog {
        &self.shared().requests
    }

    fn summary(&self) -> String {
        let s = self.shared().lock();
        let open: usize = s.projects.iter().map(state::Project::open_results).sum();
        format!(
            "Checkmarx ONE simulator at {}: tenant '{}', {} projects, {open} open results in latest scans; API key {}",
            self.base_url(),
            s.tenant,
            s.projects.len(),
            self.inner.api_key
        )
    }
}
