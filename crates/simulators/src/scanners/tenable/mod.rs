//! The Tenable Vulnerability Management simulator: `cloud.tenable.com`'s scans and
//! vulnerability export APIs as the Vulnerability Management OpenAPI (and pyTenable) describe
//! them — `X-ApiKeys` authentication and roles, `GET /scans`, `GET /scans/{id}/history`, the
//! export job (request, status, chunks, cancel, list) with its filters, chunking by asset,
//! duplicate (409) and concurrency (429) rules — rate limiting with `retry-after`, and a
//! control API under `/_sim/`.
//!
//! Records are scans, by schedule UUID; a scan's findings are those whose export record names
//! it (`scan.schedule_uuid`), attributed to the run that last found them (`scan.uuid`).

mod api;
mod control;
mod exports;
mod reply;
mod routes;
mod seed;
mod state;

pub use seed::{ACCESS_KEY, BASIC_ACCESS_KEY, BASIC_SECRET_KEY, SECRET_KEY};
pub use state::Pace;

use super::ScannerSim;
use super::aws_security_hub::cut::Cut;
use crate::common::{Faults, RequestLog, SimServer, SlidingWindow};
use chrono::Utc;
use domain::connector::Tool;
use serde_json::json;
use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub(crate) struct Shared {
    state: Mutex<State>,
    faults: Faults,
    requests: RequestLog,
    cut: Cut,
    /// The per-key rate limit and the `retry-after` it answers with.
    limit: Mutex<Option<(Arc<SlidingWindow>, u64)>>,
}

type Sh = Arc<Shared>;

impl Shared {
    /// The state, even after a panic elsewhere poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn window(&self) -> Option<(Arc<SlidingWindow>, u64)> {
        self.limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_rate_limit(&self, limit: Option<u32>, per: Duration, retry_after: u64) {
        *self
            .limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            limit.map(|n| (Arc::new(SlidingWindow::new(n, per)), retry_after));
    }

    fn scan_id(s: &State, schedule_uuid: &str) -> Option<u64> {
        s.scan(schedule_uuid).map(|x| x.id)
    }

    fn add_record(&self, name: &str, findings: usize) -> String {
        let mut s = self.lock();
        let id = seed::add_scan(&mut s, name, Utc::now().timestamp() - 86_400);
        seed::generate(&mut s, id, findings);
        s.scans
            .get(&id)
            .map(|x| x.schedule_uuid.clone())
            .unwrap_or_default()
    }

    fn remove_record(&self, schedule_uuid: &str) {
        let mut s = self.lock();
        if let Some(id) = Shared::scan_id(&s, schedule_uuid)
            && let Some(x) = s.scans.get_mut(&id)
        {
            x.deleted = true;
        }
    }

    /// The scan runs again: the first `n` open findings are no longer found (`FIXED`), the
    /// others are found again; all are attributed to the new run.
    fn fix_findings(&self, schedule_uuid: &str, n: usize) {
        let mut s = self.lock();
        let Some(id) = Shared::scan_id(&s, schedule_uuid) else {
            return;
        };
        let now = Utc::now().timestamp();
        let Some(run) = seed::add_run(&mut s, id, now) else {
            return;
        };
        let open: Vec<usize> = s
            .scan_findings(schedule_uuid)
            .filter(|(_, f)| f.state != "FIXED")
            .map(|(i, _)| i)
            .collect();
        let mut fixed = 0;
        for i in open {
            let Some(f) = s.findings.get_mut(i) else {
                continue;
            };
            let fix = fixed < n && f.is_open();
            if fix {
                fixed += 1;
            }
            f.update(|o| {
                if let Some(scan) = o.get_mut("scan").and_then(|x| x.as_object_mut()) {
                    scan.insert("uuid".into(), json!(run));
                    scan.insert("started_at".into(), json!(state::iso(now - 1_800)));
                    scan.insert("completed_at".into(), json!(state::iso(now)));
                }
                if fix {
                    o.insert("state".into(), json!("FIXED"));
                    o.insert("last_fixed".into(), json!(state::iso(now - 900)));
                } else {
                    o.insert("last_found".into(), json!(state::iso(now - 900)));
                }
                o.insert("indexed".into(), json!(now));
            });
        }
    }

    /// Tenable has no false-positive verdict; the nearest is a rule accepting the risk.
    fn accept_first(&self, schedule_uuid: &str) {
        let mut s = self.lock();
        let first = s
            .scan_findings(schedule_uuid)
            .find(|(_, f)| f.is_open())
            .map(|(i, _)| i);
        let now = Utc::now().timestamp();
        if let Some(f) = first.and_then(|i| s.findings.get_mut(i)) {
            f.update(|o| {
                o.insert("severity_modification_type".into(), json!("ACCEPTED"));
                o.insert("indexed".into(), json!(now));
            });
        }
    }
}

/// A running Tenable simulator. Clones share it; dropping the last clone stops the server.
#[derive(Clone)]
pub struct TenableSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for TenableSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenableSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl TenableSim {
    async fn with_state(bind: SocketAddr, state: State) -> std::io::Result<TenableSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Faults::default(),
            requests: RequestLog::default(),
            cut: Cut::default(),
            limit: Mutex::new(None),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        Ok(TenableSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// A container with an administrator ([`ACCESS_KEY`]) and a Basic user
    /// ([`BASIC_ACCESS_KEY`]); no scans.
    pub async fn start(bind: SocketAddr) -> std::io::Result<TenableSim> {
        TenableSim::with_state(bind, seed::users()).await
    }

    /// The fixture world: the repository's Vulnerability Management export split between two
    /// scans, findings open, resurfaced, fixed and accepted.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<TenableSim> {
        TenableSim::with_state(bind, seed::fixture_world()).await
    }

    /// `records` scans of `findings_per_record` open findings each, on loopback; export jobs
    /// finish at the first status request.
    pub async fn generate(
        records: usize,
        findings_per_record: usize,
    ) -> std::io::Result<TenableSim> {
        let mut s = seed::users();
        s.pace = Pace {
            queued_polls: 0,
            processing_polls: 0,
        };
        let now = Utc::now().timestamp();
        for r in 0..records {
            let id = seed::add_scan(&mut s, &format!("Segment {r:04}"), now - 86_400);
            seed::generate(&mut s, id, findings_per_record);
        }
        TenableSim::with_state(SocketAddr::from(([127, 0, 0, 1], 0)), s).await
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// How export jobs advance as their status is polled.
    pub fn set_pace(&self, pace: Pace) {
        self.shared().lock().pace = pace;
    }

    /// Sets (or with `None` removes) a per-key rate limit answered with `retry-after`.
    pub fn set_rate_limit(&self, limit: Option<u32>, per: Duration, retry_after: u64) {
        self.shared().set_rate_limit(limit, per, retry_after);
    }

    /// The next export's chunks with these ids fail to process.
    pub fn fail_next_chunks(&self, ids: &[usize]) {
        self.shared().lock().fail_chunks = ids.to_vec();
    }

    /// Adds `n` open findings to a scan's latest run.
    pub fn add_findings(&self, schedule_uuid: &str, n: usize) {
        let mut s = self.shared().lock();
        if let Some(id) = Shared::scan_id(&s, schedule_uuid) {
            seed::generate(&mut s, id, n);
        }
    }

    /// The UUID of a scan's latest completed run.
    pub fn latest_run(&self, schedule_uuid: &str) -> Option<String> {
        self.shared()
            .lock()
            .scan(schedule_uuid)
            .and_then(|x| x.latest_completed())
            .map(|r| r.uuid.clone())
    }

    /// Starts a run of a scan that has not finished yet (its history shows it `running`).
    pub fn start_run(&self, schedule_uuid: &str) {
        let mut s = self.shared().lock();
        let Some(id) = Shared::scan_id(&s, schedule_uuid) else {
            return;
        };
        s.next_run_id += 1;
        let run = state::Run {
            id: s.next_run_id,
            uuid: seed::uuid(),
            status: "running".into(),
            time_start: Utc::now().timestamp(),
            time_end: None,
        };
        if let Some(x) = s.scans.get_mut(&id) {
            x.runs.push(run);
        }
    }

    /// Export jobs not finished yet.
    pub fn running_exports(&self) -> usize {
        self.shared()
            .lock()
            .jobs
            .iter()
            .filter(|j| j.active())
            .count()
    }

    /// A finding's export record, by `finding_id`.
    pub fn finding(&self, finding_id: &str) -> Option<serde_json::Value> {
        let s = self.shared().lock();
        s.findings
            .iter()
            .find(|f| f.finding_id == finding_id)
            .and_then(|f| serde_json::from_str(&f.raw).ok())
    }

    /// The `finding_id`s of a scan's findings.
    pub fn finding_ids(&self, schedule_uuid: &str) -> Vec<String> {
        self.shared()
            .lock()
            .scan_findings(schedule_uuid)
            .map(|(_, f)| f.finding_id.clone())
            .collect()
    }

    /// The next `times` answers to paths containing `path_contains` are cut off mid-body.
    pub fn cut_next(&self, path_contains: &str, times: u32) {
        self.shared().cut.push(path_contains, times);
    }

    /// Serves until the server stops (for `vulnbridge simulate tenable`).
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

impl ScannerSim for TenableSim {
    fn tool(&self) -> Tool {
        Tool::Tenable
    }

    fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    fn location(&self) -> String {
        self.base_url()
    }

    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![
            ("access_key", ACCESS_KEY.to_owned()),
            ("secret_key", SECRET_KEY.to_owned()),
        ]
    }

    fn options(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    fn record_ids(&self) -> Vec<String> {
        self.shared()
            .lock()
            .scans
            .values()
            .filter(|x| !x.deleted)
            .map(|x| x.schedule_uuid.clone())
            .collect()
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
        self.shared().accept_first(external_id);
    }

    fn open_findings(&self, external_id: &str) -> usize {
        self.shared()
            .lock()
            .scan_findings(external_id)
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
                "Tenable Vulnerability Management simulator at {base} (scans: {base}/scans, exports: {base}/vulns/export, control API: {base}/_sim/state)"
            ),
            "API keys (X-ApiKeys: accessKey=…;secretKey=…):".to_owned(),
        ];
        for u in &s.users {
            out.push(format!(
                "  {} (role {}): accessKey={};secretKey={}",
                u.name, u.role, u.access_key, u.secret_key
            ));
        }
        out.push("Scans (schedule UUID: findings, open):".to_owned());
        for x in s.scans.values().filter(|x| !x.deleted) {
            let all = s.scan_findings(&x.schedule_uuid).count();
            let open = s
                .scan_findings(&x.schedule_uuid)
                .filter(|(_, f)| f.is_open())
                .count();
            out.push(format!(
                "  {} ({}): {all}, {open} open",
                x.name, x.schedule_uuid
            ));
        }
        out.join("\n")
    }
}
