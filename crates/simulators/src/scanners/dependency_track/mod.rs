//! The OWASP Dependency-Track simulator: the 4.x REST API's paths a connector reads
//! (`/api/version`, `/api/v1/team/self`, `/api/v1/project`, `/api/v1/finding/project/{uuid}`),
//! as the 4.14 sources (and Alpine's filters) answer them — `X-Api-Key` and team permissions,
//! Alpine's pagination with `X-Total-Count`, suppressed findings only on request — with a
//! control API under `/_sim/`.
//!
//! Records are projects, by UUID. A project's findings are its components' vulnerabilities;
//! fixing one (a new BOM without the vulnerable version) makes it disappear.

mod api;
mod control;
mod routes;
mod seed;
mod state;

pub use seed::{API_KEY, PORTFOLIO_ONLY_API_KEY};

use super::ScannerSim;
use super::aws_security_hub::cut::Cut;
use crate::common::{Faults, RequestLog, SimServer};
use chrono::Utc;
use domain::connector::Tool;
use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) struct Shared {
    state: Mutex<State>,
    faults: Faults,
    requests: RequestLog,
    cut: Cut,
}

type Sh = Arc<Shared>;

impl Shared {
    /// The state, even after a panic elsewhere poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn add_record(&self, name: &str, findings: usize) -> String {
        let mut s = self.lock();
        let uuid = seed::uuid_of(
            0x00a0_0000,
            s.projects.len() as u64 + rand::random::<u32>() as u64,
        );
        seed::add_project(
            &mut s,
            &uuid,
            name,
            Some("1.0.0"),
            Utc::now().timestamp_millis(),
        );
        seed::generate(&mut s, &uuid, findings);
        uuid
    }

    fn remove_record(&self, uuid: &str) {
        for p in self.lock().projects.iter_mut().filter(|p| p.uuid == uuid) {
            p.deleted = true;
        }
    }

    /// A new BOM without the vulnerable versions: the first `n` open findings disappear.
    fn fix_findings(&self, uuid: &str, n: usize) {
        let mut s = self.lock();
        let gone: Vec<usize> = s
            .project_findings(uuid)
            .filter(|(_, f)| f.is_open())
            .map(|(i, _)| i)
            .take(n)
            .collect();
        for i in gone.into_iter().rev() {
            s.findings.remove(i);
        }
        let now = Utc::now().timestamp_millis();
        for p in s.projects.iter_mut().filter(|p| p.uuid == uuid) {
            p.last_bom_import = now;
            p.last_analysis = now;
        }
    }

    /// An auditor's verdict on the first open finding (suppressed, as the UI suggests).
    fn analyse_first(&self, uuid: &str, state: &str, suppressed: bool) {
        let mut s = self.lock();
        let first = s
            .project_findings(uuid)
            .find(|(_, f)| f.is_open())
            .map(|(i, _)| i);
        if let Some(f) = first.and_then(|i| s.findings.get_mut(i)) {
            f.analyse(state, suppressed, None);
        }
    }
}

/// A running Dependency-Track simulator. Clones share it; dropping the last clone stops it.
#[derive(Clone)]
pub struct DependencyTrackSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for DependencyTrackSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DependencyTrackSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl DependencyTrackSim {
    async fn with_state(bind: SocketAddr, state: State) -> std::io::Result<DependencyTrackSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Faults::default(),
            requests: RequestLog::default(),
            cut: Cut::default(),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        Ok(DependencyTrackSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// A server with the API keys [`API_KEY`] and [`PORTFOLIO_ONLY_API_KEY`]; no projects.
    pub async fn start(bind: SocketAddr) -> std::io::Result<DependencyTrackSim> {
        DependencyTrackSim::with_state(bind, seed::keys()).await
    }

    /// The fixture world: projects from the repository's FPF exports, with findings open,
    /// exploitable, in triage, not affected, resolved, false positive and suppressed, and an
    /// inactive project.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<DependencyTrackSim> {
        DependencyTrackSim::with_state(bind, seed::fixture_world()).await
    }

    /// `records` projects of `findings_per_record` open findings each, on loopback.
    pub async fn generate(
        records: usize,
        findings_per_record: usize,
    ) -> std::io::Result<DependencyTrackSim> {
        let mut s = seed::keys();
        let at = Utc::now().timestamp_millis();
        for r in 0..records {
            let uuid = seed::uuid_of(0x00b0_0000, r as u64);
            seed::add_project(&mut s, &uuid, &format!("service-{r:04}"), Some("1.0.0"), at);
            seed::generate(&mut s, &uuid, findings_per_record);
        }
        DependencyTrackSim::with_state(SocketAddr::from(([127, 0, 0, 1], 0)), s).await
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Adds `n` open findings to a project.
    pub fn add_findings(&self, uuid: &str, n: usize) {
        seed::generate(&mut self.shared().lock(), uuid, n);
    }

    /// Records an analysis on the first open finding of a project (`EXPLOITABLE`,
    /// `IN_TRIAGE`, `NOT_AFFECTED`, `RESOLVED`…), suppressed or not.
    pub fn analyse_first(&self, uuid: &str, state: &str, suppressed: bool) {
        self.shared().analyse_first(uuid, state, suppressed);
    }

    /// A project stays but is marked inactive.
    pub fn deactivate(&self, uuid: &str) {
        for p in self
            .shared()
            .lock()
            .projects
            .iter_mut()
            .filter(|p| p.uuid == uuid)
        {
            p.active = false;
        }
    }

    /// The `matrix` ids of a project's findings, suppressed ones included.
    pub fn matrices(&self, uuid: &str) -> Vec<String> {
        self.shared()
            .lock()
            .project_findings(uuid)
            .map(|(_, f)| f.matrix.clone())
            .collect()
    }

    /// The next `times` answers to paths containing `path_contains` are cut off mid-body.
    pub fn cut_next(&self, path_contains: &str, times: u32) {
        self.shared().cut.push(path_contains, times);
    }

    /// Serves until the server stops (for `vulnbridge simulate dependency_track`).
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

impl ScannerSim for DependencyTrackSim {
    fn tool(&self) -> Tool {
        Tool::DependencyTrack
    }

    fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    fn location(&self) -> String {
        self.base_url()
    }

    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![("api_key", API_KEY.to_owned())]
    }

    fn options(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    /// Active projects (Discover leaves inactive ones out).
    fn record_ids(&self) -> Vec<String> {
        let s = self.shared().lock();
        let mut list: Vec<_> = s
            .projects
            .iter()
            .filter(|p| !p.deleted && p.active)
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
        list.iter().map(|p| p.uuid.clone()).collect()
    }

    fn add_record(&self, name: &str, findings: usize) -> String {
        self.shared().add_record(name, findings)
    }

    fn remove_record(&self, external_id: &str) {
        self.shared().remove_record(external_id);
    }

    fn fix_findings(&self, external_id: &str, n: usize) {
        self.shared().fix_findings(external_id, n);
    }

    fn mark_false_positive(&self, external_id: &str) {
        self.shared()
            .analyse_first(external_id, "FALSE_POSITIVE", true);
    }

    fn open_findings(&self, external_id: &str) -> usize {
        self.shared()
            .lock()
            .project_findings(external_id)
            .filter(|(_, f)| f.is_open())
            .count()
    }

    fn faults(&self) -> &Faults {
        &self.shared().faults
    }

    fn requests(&self) -> &RequestLog {
        &self.shared().requests
    }

    fn summary(&self) -> String {
        let s = self.shared().lock();
        let base = self.base_url();
        let mut out = vec![
            format!(
                "Dependency-Track simulator at {base} (API: {base}/api/v1, control API: {base}/_sim/state)"
            ),
            "API keys (X-Api-Key):".to_owned(),
        ];
        for k in &s.keys {
            out.push(format!(
                "  {} (team {}: {})",
                k.key,
                k.team,
                k.permissions.join(", ")
            ));
        }
        out.push("Projects (uuid: findings, open):".to_owned());
        for p in s.projects.iter().filter(|p| !p.deleted) {
            let all = s.project_findings(&p.uuid).count();
            let open = s
                .project_findings(&p.uuid)
                .filter(|(_, f)| f.is_open())
                .count();
            let inactive = if p.active { "" } else { " (inactive)" };
            out.push(format!(
                "  {} {}{inactive} ({}): {all}, {open} open",
                p.name,
                p.version.as_deref().unwrap_or(""),
                p.uuid
            ));
        }
        out.join("\n")
    }
}
