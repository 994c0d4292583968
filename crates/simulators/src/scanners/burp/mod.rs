//! The Burp Suite DAST (formerly Enterprise Edition) simulator: its GraphQL API at
//! `POST /graphql/v1` with the API key of an API user in `Authorization`, serving the site
//! tree, scans (filtered by site and status, sorted, paged by `offset`/`limit`) and each scan's
//! issues (paged by `start`/`count`), with the verdicts people give issues (false positive,
//! accepted risk) carried across scans. A control API under `/_sim/` drives it.
//!
//! Burp publishes no rate limits, so the simulator has none; faults and cut-off answers are
//! injected through the control API.

mod catalog;
mod control;
mod graphql;
mod routes;
mod seed;
mod state;

use crate::common::{Faults, RequestLog, SimServer};
use crate::scanners::ScannerSim;
use crate::scanners::aws_security_hub::cut::Cut;
use domain::connector::Tool;
use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The API key the simulator accepts from the start.
pub const API_KEY: &str = "bsim0K3yApiUser0000000000000000001";

/// What every handler shares.
pub(crate) struct Shared {
    state: Mutex<State>,
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

/// A running Burp Suite DAST simulator. Clones share it; dropping the last stops the server.
#[derive(Clone)]
pub struct BurpSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for BurpSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BurpSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl BurpSim {
    /// An empty instance (no sites) that accepts [`API_KEY`].
    pub async fn start(bind: SocketAddr) -> std::io::Result<BurpSim> {
        let mut state = State::default();
        state.api_keys.push(API_KEY.to_owned());
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Faults::default(),
            requests: RequestLog::default(),
            cut: Cut::default(),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        Ok(BurpSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// The fixture world (see `seed::seed`): three sites, issues from the repository's Burp
    /// fixtures, scans succeeded, failed and running, one issue fixed since an older scan, one
    /// accepted risk and one false positive.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<BurpSim> {
        let sim = BurpSim::start(bind).await?;
        seed::seed(&mut sim.shared().lock());
        Ok(sim)
    }

    /// `records` sites of `findings_per_record` issues each, for benchmarks.
    pub async fn generate(
        bind: SocketAddr,
        records: usize,
        findings_per_record: usize,
    ) -> std::io::Result<BurpSim> {
        let sim = BurpSim::start(bind).await?;
        for n in 0..records {
            sim.add_record(&format!("site-{n:04}"), findings_per_record);
        }
        Ok(sim)
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Accepts another API key (a second API user).
    pub fn add_api_key(&self, key: &str) {
        self.shared().lock().api_keys.push(key.to_owned());
    }

    /// The id of the site with this name.
    pub fn site_id(&self, name: &str) -> Option<String> {
        self.shared()
            .lock()
            .sites
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id.to_string())
    }

    /// The id of a site's latest succeeded scan.
    pub fn latest_scan_id(&self, site_id: &str) -> Option<String> {
        self.shared()
            .lock()
            .site(site_id)
            .and_then(|s| s.latest())
            .map(|s| s.id.to_string())
    }

    /// A new succeeded scan of the site that finds the same issues as its latest (nothing
    /// fixed, nothing new).
    pub fn rescan(&self, site_id: &str) {
        self.shared().lock().rescan_without(site_id, 0);
    }

    /// Marks the first open issue of the site's latest scan an accepted risk.
    pub fn accept_risk(&self, site_id: &str) {
        let mut s = self.shared().lock();
        let Some(site) = s.site_mut(site_id) else {
            return;
        };
        let first = site.latest().and_then(|scan| {
            scan.issues
                .iter()
                .copied()
                .find(|i| site.issue(*i).is_some_and(state::SiteIssue::is_open))
        });
        if let Some(issue) = first.and_then(|i| site.issues.get_mut(i as usize)) {
            issue.accepted_risk = true;
        }
    }

    fn add_site_to(shared: &Shared, name: &str, findings: usize) -> String {
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
        let origin = format!("https://{}.example.com", slug.trim_matches('-'));
        let issues = state::generated_issues(&origin, findings);
        shared
            .lock()
            .add_site(name, 0, vec![origin], issues)
            .to_string()
    }
}

impl ScannerSim for BurpSim {
    fn tool(&self) -> Tool {
        Tool::BurpSuite
    }

    fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    /// The server's URL: the client posts to `<location>/graphql/v1`.
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
            .sites
            .iter()
            .map(|s| s.id.to_string())
            .collect()
    }

    fn add_record(&self, name: &str, findings: usize) -> String {
        BurpSim::add_site_to(self.shared(), name, findings)
    }

    fn remove_record(&self, external_id: &str) {
        self.shared()
            .lock()
            .sites
            .retain(|s| s.id.to_string() != external_id);
    }

    /// A new scan of the site no longer finds its first `n` open issues.
    fn fix_findings(&self, external_id: &str, n: usize) {
        self.shared().lock().rescan_without(external_id, n);
    }

    fn mark_false_positive(&self, external_id: &str) {
        self.shared().lock().mark_false_positive(external_id);
    }

    fn open_findings(&self, external_id: &str) -> usize {
        self.shared()
            .lock()
            .site(external_id)
            .map_or(0, state::Site::open_issues)
    }

    fn faults(&self) -> &Faults {
        &self.shared().faults
    }

    fn requests(&self) -> &RequestLog {
        &self.shared().requests
    }

    fn summary(&self) -> String {
        let s = self.shared().lock();
        let scans: usize = s.sites.iter().map(|site| site.scans.len()).sum();
        let open: usize = s.sites.iter().map(state::Site::open_issues).sum();
        format!(
            "Burp Suite DAST simulator at {}/graphql/v1: {} sites, {scans} scans, {open} open issues in latest scans; API key {API_KEY}",
            self.base_url(),
            s.sites.len()
        )
    }
}
