//! The Probely (Snyk API & Web) simulator: its REST API's targets and target findings, with
//! `Authorization: JWT <api key>`, Django REST Framework's paging (`page`, `length`, `count`,
//! `page_total`), ordering, filters, errors (`detail`) and throttling (`429` with
//! `Retry-After`). A control API under `/_sim/` drives it.
//!
//! Probely publishes no rate limits; the simulator throttles beyond a configurable budget.

mod api;
mod control;
mod routes;
mod seed;
mod state;

use crate::common::{Faults, RequestLog, SimServer, SlidingWindow};
use crate::scanners::ScannerSim;
use crate::scanners::aws_security_hub::cut::Cut;
use domain::connector::Tool;
use serde::{Deserialize, Serialize};
use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The API key the simulator accepts from the start.
pub const API_KEY: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzaW0iOiJwcm9iZWx5In0.c2ltdWxhdG9yLWFwaS1rZXk";

/// The simulator's limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Requests per minute across the account; 0 turns throttling off.
    pub requests_per_minute: u32,
    /// The length of "a minute" as a fraction of 60 s, so tests can wait a window out.
    pub window_scale: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            requests_per_minute: 3000,
            window_scale: 1.0,
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

/// An ordering kept under its key at a state version.
type KeptOrder = (String, u64, Arc<Vec<u32>>);

/// The last ordering of a target's findings a client paged through, kept while the state
/// does not change.
#[derive(Default)]
pub(crate) struct Orders {
    last: Mutex<Option<KeptOrder>>,
}

impl Orders {
    /// The order under `key` at state `version`, computed by `make` when not kept.
    pub fn get(&self, key: &str, version: u64, make: impl FnOnce() -> Vec<u32>) -> Arc<Vec<u32>> {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((k, v, order)) = last.as_ref()
            && k == key
            && *v == version
        {
            return order.clone();
        }
        let order = Arc::new(make());
        *last = Some((key.to_owned(), version, order.clone()));
        order
    }
}

/// What every handler shares.
pub(crate) struct Shared {
    state: Mutex<State>,
    orders: Orders,
    limiter: Limiter,
    faults: Faults,
    requests: RequestLog,
    cut: Cut,
}

impl Shared {
    /// The state, even after a panic elsewhere poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

type Sh = Arc<Shared>;

fn add_target_to(shared: &Shared, name: &str, findings: usize) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let url = format!("https://{}.example.com", slug.trim_matches('-'));
    let mut s = shared.lock();
    let id = s.add_target(None, name, &url, "single");
    s.add_generated(&id, findings, &seed::templates());
    id
}

/// A running Probely simulator. Clones share it; dropping the last stops the server.
#[derive(Clone)]
pub struct ProbelySim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for ProbelySim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbelySim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl ProbelySim {
    /// An empty account (no targets) that accepts [`API_KEY`].
    pub async fn start(bind: SocketAddr) -> std::io::Result<ProbelySim> {
        let mut state = State::default();
        state.api_keys.push(API_KEY.to_owned());
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            orders: Orders::default(),
            limiter: Limiter::new(Limits::default()),
            faults: Faults::default(),
            requests: RequestLog::default(),
            cut: Cut::default(),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        Ok(ProbelySim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// The fixture world (see `seed::seed`): the fixture's target with its five findings in
    /// every state, and an API target with generated findings.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<ProbelySim> {
        let sim = ProbelySim::start(bind).await?;
        seed::seed(&mut sim.shared().lock());
        Ok(sim)
    }

    /// `records` targets of `findings_per_record` findings each, for benchmarks.
    pub async fn generate(
        bind: SocketAddr,
        records: usize,
        findings_per_record: usize,
    ) -> std::io::Result<ProbelySim> {
        let sim = ProbelySim::start(bind).await?;
        for n in 0..records {
            sim.add_record(&format!("target-{n:04}"), findings_per_record);
        }
        Ok(sim)
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Accepts another API key.
    pub fn add_api_key(&self, key: &str) {
        self.shared().lock().api_keys.push(key.to_owned());
    }

    pub fn limits(&self) -> Limits {
        self.shared().limiter.get()
    }

    pub fn set_limits(&self, limits: Limits) {
        self.shared().limiter.set(limits);
    }

    /// The id of the target with this name.
    pub fn target_id(&self, name: &str) -> Option<String> {
        self.shared()
            .lock()
            .targets
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.id.clone())
    }

    /// Sets the state (`fixed`, `accepted`, `invalid`) of the first `n` open findings.
    pub fn set_state(&self, target: &str, n: usize, state: &str) {
        self.shared().lock().set_state(target, n, state);
    }

    /// Adds `n` new open findings to a target (found by a new scan).
    pub fn add_findings(&self, target: &str, n: usize) {
        self.shared()
            .lock()
            .add_generated(target, n, &seed::templates());
    }
}

impl ScannerSim for ProbelySim {
    fn tool(&self) -> Tool {
        Tool::Probely
    }

    fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    /// The API's base URL (`https://api.probely.com/` for the real service).
    fn location(&self) -> String {
        format!("{}/", self.base_url())
    }

    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![("api_key", API_KEY.to_owned())]
    }

    fn options(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    fn record_ids(&self) -> Vec<String> {
        self.shared()
            .lock()
            .targets
            .iter()
            .map(|t| t.id.clone())
            .collect()
    }

    fn add_record(&self, name: &str, findings: usize) -> String {
        add_target_to(self.shared(), name, findings)
    }

    fn remove_record(&self, external_id: &str) {
        self.shared().lock().remove_target(external_id);
    }

    /// A rescan finds the first `n` open findings fixed (`state` `fixed`).
    fn fix_findings(&self, external_id: &str, n: usize) {
        self.shared().lock().set_state(external_id, n, "fixed");
    }

    /// Probely's false positive is the `invalid` state.
    fn mark_false_positive(&self, external_id: &str) {
        self.shared().lock().set_state(external_id, 1, "invalid");
    }

    fn open_findings(&self, external_id: &str) -> usize {
        self.shared()
            .lock()
            .target(external_id)
            .map_or(0, state::Target::open_findings)
    }

    fn faults(&self) -> &Faults {
        &self.shared().faults
    }

    fn requests(&self) -> &RequestLog {
        &self.shared().requests
    }

    fn summary(&self) -> String {
        let s = self.shared().lock();
        let open: usize = s.targets.iter().map(state::Target::open_findings).sum();
        format!(
            "Probely simulator at {}/: {} targets, {open} open findings; API key {API_KEY} (Authorization: JWT <key>)",
            self.base_url(),
            s.targets.len()
        )
    }
}
