//! The SonarQube Server simulator: the web services a connector calls (`api/server/version`,
//! `api/authentication/validate`, `api/projects/search`, `api/components/search`,
//! `api/issues/search`, `api/hotspots/search`, `api/rules/show`) as SonarQube's source
//! (`SonarSource/sonarqube`, `server/sonar-webserver-webapi`) defines them: user tokens as
//! Basic login (any version) or Bearer (10.0+), permissions (Browse, Administer System),
//! `{"errors":[{"msg":…}]}` refusals, `p`/`ps` paging with `ps` ≤ 500 and at most the first
//! 10,000 results of a search, and a control API under `/_sim/`.
//!
//! Records are projects (by key). The connector's default findings are a project's
//! vulnerabilities and its security hotspots.

mod api;
mod auth;
mod control;
mod hotspots;
mod issues;
mod params;
mod render;
mod reply;
mod routes;
mod seed;
mod state;

pub use control::Limits;
pub use seed::{ADMIN_TOKEN, OUTSIDER_TOKEN, TOKEN};

use super::ScannerSim;
use crate::common::{Faults, RequestLog, SimServer, SlidingWindow};
use chrono::{DateTime, TimeDelta, Utc};
use domain::connector::Tool;
use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub(crate) struct Shared {
    state: Mutex<State>,
    faults: Faults,
    requests: RequestLog,
    limit: Mutex<(Limits, Option<Arc<SlidingWindow>>)>,
}

type Sh = Arc<Shared>;

impl Shared {
    /// The state, even after a panic elsewhere poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn limits(&self) -> Limits {
        self.limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
    }

    fn window(&self) -> Option<Arc<SlidingWindow>> {
        self.limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
            .clone()
    }

    fn set_limits(&self, limits: Limits) {
        let window = limits.limit.map(|n| {
            Arc::new(SlidingWindow::new(
                n,
                Duration::from_secs(limits.per_seconds.max(1)),
            ))
        });
        *self
            .limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (limits, window);
    }
}

/// A running SonarQube simulator. Clones share it; dropping the last clone stops the server.
#[derive(Clone)]
pub struct SonarQubeSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for SonarQubeSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SonarQubeSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl SonarQubeSim {
    async fn with_state(bind: SocketAddr, state: State) -> std::io::Result<SonarQubeSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Faults::default(),
            requests: RequestLog::default(),
            limit: Mutex::new((
                Limits {
                    limit: None,
                    per_seconds: 60,
                },
                None,
            )),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        Ok(SonarQubeSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// The users and their tokens ([`TOKEN`], [`ADMIN_TOKEN`], [`OUTSIDER_TOKEN`]), no projects.
    pub async fn start(bind: SocketAddr) -> std::io::Result<SonarQubeSim> {
        let mut s = State::default();
        seed::users(&mut s);
        SonarQubeSim::with_state(bind, s).await
    }

    /// The fixture world: `internal.dummy.project` and `testapplication`, with issues and
    /// hotspots in every state.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<SonarQubeSim> {
        let mut s = State::default();
        seed::fixture_world(&mut s);
        SonarQubeSim::with_state(bind, s).await
    }

    /// `records` projects of `findings_per_record` open vulnerabilities each, on loopback.
    pub async fn generate(
        records: usize,
        findings_per_record: usize,
    ) -> std::io::Result<SonarQubeSim> {
        let mut s = State::default();
        seed::users(&mut s);
        let start = Utc::now() - TimeDelta::days(200);
        for r in 0..records {
            let key = format!("acme:service-{r:04}");
            seed::add_project(&mut s, &key, &format!("Service {r:04}"), Utc::now());
            seed::vulnerabilities(&mut s, &key, findings_per_record, start, false);
        }
        SonarQubeSim::with_state(SocketAddr::from(([127, 0, 0, 1], 0)), s).await
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Sets the server version (`9.9.0.65466`, `10.7.0.96327`): before 10.0 Bearer tokens
    /// are not read; before 10.2 hotspots take `projectKey`; before 10.4 issues have no
    /// `issueStatus`.
    pub fn set_version(&self, version: &str) {
        self.shared().lock().version = version.to_owned();
    }

    /// Adds `n` open vulnerabilities created from `created` on, a second apart, or all in
    /// the same second when `same_second`.
    pub fn add_vulnerabilities(
        &self,
        project: &str,
        n: usize,
        created: DateTime<Utc>,
        same_second: bool,
    ) {
        let mut s = self.shared().lock();
        if s.projects.contains_key(project) {
            seed::vulnerabilities(&mut s, project, n, created, same_second);
        }
    }

    /// Adds a security hotspot to review.
    pub fn add_hotspot(&self, project: &str) {
        let mut s = self.shared().lock();
        if s.projects.contains_key(project) {
            seed::hotspot(&mut s, project, "TO_REVIEW", None, Utc::now());
        }
    }

    /// A person accepts the first open vulnerability (SonarQube 10.4+ "Accept"; WONTFIX).
    pub fn accept_first(&self, project: &str) {
        let mut s = self.shared().lock();
        let first = s.open_refs(project).0.first().copied();
        if let (Some(n), Some(issues)) = (first, s.issues.get_mut(project)) {
            seed::resolve(&mut issues[n], "WONTFIX", Utc::now());
        }
    }

    /// While true, issue and hotspot searches answer 503.
    pub fn set_indexing(&self, on: bool) {
        self.shared().lock().indexing = on;
    }

    /// Sets (or with `None` removes) a SonarQube Cloud-like rate limit.
    pub fn set_rate_limit(&self, limit: Option<u32>, per: Duration) {
        self.shared().set_limits(Limits {
            limit,
            per_seconds: per.as_secs().max(1),
        });
    }

    /// Serves until the server stops (for `vulnbridge simulate sonarqube`).
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

impl ScannerSim for SonarQubeSim {
    fn tool(&self) -> Tool {
        Tool::SonarQube
    }

    fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    fn location(&self) -> String {
        format!("{}/", self.base_url())
    }

    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![("token", TOKEN.to_owned())]
    }

    fn options(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    fn record_ids(&self) -> Vec<String> {
        self.shared().lock().projects.keys().cloned().collect()
    }

    fn add_record(&self, name: &str, findings: usize) -> String {
        let mut s = self.shared().lock();
        let key = name
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.:".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect::<String>();
        let now = Utc::now();
        seed::add_project(&mut s, &key, name, now);
        seed::vulnerabilities(
            &mut s,
            &key,
            findings,
            now - TimeDelta::seconds(findings as i64),
            false,
        );
        key
    }

    fn remove_record(&self, external_id: &str) {
        let mut s = self.shared().lock();
        s.projects.remove(external_id);
        s.issues.remove(external_id);
        s.hotspots.remove(external_id);
    }

    fn fix_findings(&self, external_id: &str, n: usize) {
        let mut s = self.shared().lock();
        let (issues, hotspots) = s.open_refs(external_id);
        let now = Utc::now();
        let issue_count = issues.len().min(n);
        if let Some(list) = s.issues.get_mut(external_id) {
            for i in issues.iter().take(issue_count) {
                seed::resolve(&mut list[*i], "FIXED", now);
            }
        }
        if let Some(list) = s.hotspots.get_mut(external_id) {
            for h in hotspots.iter().take(n - issue_count) {
                seed::review(&mut list[*h], "FIXED", now);
            }
        }
    }

    fn mark_false_positive(&self, external_id: &str) {
        let mut s = self.shared().lock();
        let (issues, hotspots) = s.open_refs(external_id);
        let now = Utc::now();
        if let (Some(i), Some(list)) = (issues.first(), s.issues.get_mut(external_id)) {
            seed::resolve(&mut list[*i], "FALSE-POSITIVE", now);
        } else if let (Some(h), Some(list)) = (hotspots.first(), s.hotspots.get_mut(external_id)) {
            seed::review(&mut list[*h], "SAFE", now);
        }
    }

    fn open_findings(&self, external_id: &str) -> usize {
        let (issues, hotspots) = self.shared().lock().open_refs(external_id);
        issues.len() + hotspots.len()
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
                "SonarQube {} simulator at {base}/ (web API: {base}/api, control API: {base}/_sim/state)",
                s.version
            ),
            format!("User token (Basic login with an empty password, or Bearer): {TOKEN}"),
            format!("Administrator token: {ADMIN_TOKEN}"),
            "Projects:".to_owned(),
        ];
        for p in s.projects.values() {
            let issues = s.issues.get(&p.key).map_or(0, Vec::len);
            let hotspots = s.hotspots.get(&p.key).map_or(0, Vec::len);
            out.push(format!(
                "  {} ({}): {issues} issues, {hotspots} hotspots",
                p.key, p.name
            ));
        }
        out.join("\n")
    }
}
