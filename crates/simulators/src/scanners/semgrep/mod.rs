//! The Semgrep AppSec Platform simulator: the Web API v1 (`/api/v1/deployments`,
//! `…/{slug}/projects`, `…/{slug}/findings`) as `semgrep/semgrep-docs`'
//! `public_v1.openapi.yaml` describes it, behind `Authorization: Bearer <token>` (a token with
//! the "Web API" scope; a CI token is refused), with a control API under `/_sim/`.
//!
//! Records are projects (by id); a project's findings are those whose `repository.name` is the
//! project's name, in Code (`issue_type=sast`) and Supply Chain (`sca`) flavours.

mod api;
mod control;
mod render;
mod reply;
mod routes;
mod seed;
mod state;

pub use control::Limits;
pub use seed::{CI_TOKEN, TOKEN};

use super::ScannerSim;
use crate::common::{Faults, RequestLog, SimServer, SlidingWindow};
use axum::http::HeaderMap;
use chrono::{TimeDelta, Utc};
use domain::connector::Tool;
use reply::ApiError;
use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

pub(crate) struct Shared {
    state: Mutex<State>,
    faults: Faults,
    requests: RequestLog,
    limit: Mutex<(Limits, Option<Arc<SlidingWindow>>)>,
    base: OnceLock<String>,
}

type Sh = Arc<Shared>;

impl Shared {
    /// The state, even after a panic elsewhere poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn base(&self) -> &str {
        self.base.get().map_or("http://127.0.0.1", String::as_str)
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

    /// `Authorization: Bearer <token>` with a known token that has the Web API scope.
    fn authorize(&self, s: &State, headers: &HeaderMap) -> Result<(), ApiError> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        match s.token(token) {
            None => Err(ApiError::unauthorized()),
            Some(t) if !t.web_api => Err(ApiError::forbidden(
                "This token does not have the Web API scope",
            )),
            Some(_) => Ok(()),
        }
    }
}

/// A running Semgrep simulator. Clones share it; dropping the last clone stops the server.
#[derive(Clone)]
pub struct SemgrepSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for SemgrepSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemgrepSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl SemgrepSim {
    async fn with_state(bind: SocketAddr, state: State) -> std::io::Result<SemgrepSim> {
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
            base: OnceLock::new(),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        let _ = shared.base.set(server.base_url());
        Ok(SemgrepSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// A deployment `acme` with the tokens [`TOKEN`] and [`CI_TOKEN`], and no projects.
    pub async fn start(bind: SocketAddr) -> std::io::Result<SemgrepSim> {
        let mut s = State::default();
        seed::deployment(&mut s);
        SemgrepSim::with_state(bind, s).await
    }

    /// The fixture world: `acme/web` and `acme/payments-api` with Code and Supply Chain
    /// findings, open, fixed, ignored (false positive and acceptable risk) and in review.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<SemgrepSim> {
        let mut s = State::default();
        seed::fixture_world(&mut s);
        SemgrepSim::with_state(bind, s).await
    }

    /// `records` projects of `findings_per_record` open Code findings each, on loopback.
    pub async fn generate(
        records: usize,
        findings_per_record: usize,
    ) -> std::io::Result<SemgrepSim> {
        let mut s = State::default();
        seed::deployment(&mut s);
        let start = Utc::now() - TimeDelta::days(30);
        for r in 0..records {
            let id = seed::add_project(&mut s, &format!("acme/service-{r:04}"), start);
            seed::generate(&mut s, id, findings_per_record, start);
        }
        SemgrepSim::with_state(SocketAddr::from(([127, 0, 0, 1], 0)), s).await
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Adds `n` open Code findings, detected now, to a project (by id).
    pub fn add_findings(&self, external_id: &str, n: usize) {
        let mut s = self.shared().lock();
        if let Some(id) = external_id
            .parse::<u64>()
            .ok()
            .filter(|id| s.projects.contains_key(id))
        {
            seed::generate(&mut s, id, n, Utc::now());
        }
    }

    /// Marks the first open finding of a project ignored as acceptable risk.
    pub fn accept_risk(&self, external_id: &str) {
        self.triage_first(external_id, "ignored", Some("acceptable_risk"));
    }

    fn triage_first(&self, external_id: &str, state: &str, reason: Option<&str>) {
        let mut s = self.shared().lock();
        let Ok(project) = external_id.parse::<u64>() else {
            return;
        };
        if let Some(id) = s.open_ids(project, 1).first().copied()
            && let Some(f) = s.findings.get_mut(&id)
        {
            seed::triage(f, state, reason, Utc::now());
        }
    }

    /// Sets (or with `None` removes) the simulated rate limit.
    pub fn set_rate_limit(&self, limit: Option<u32>, per: Duration) {
        self.shared().set_limits(Limits {
            limit,
            per_seconds: per.as_secs().max(1),
        });
    }

    /// Adds a Web API token.
    pub fn add_token(&self, token: &str) {
        self.shared().lock().tokens.push(state::Token {
            token: token.into(),
            web_api: true,
        });
    }

    /// Serves until the server stops (for `vulnbridge simulate semgrep`).
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

impl ScannerSim for SemgrepSim {
    fn tool(&self) -> Tool {
        Tool::Semgrep
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
        self.shared()
            .lock()
            .projects
            .values()
            .filter(|p| !p.archived)
            .map(|p| p.id.to_string())
            .collect()
    }

    fn add_record(&self, name: &str, findings: usize) -> String {
        let mut s = self.shared().lock();
        let now = Utc::now();
        let id = seed::add_project(&mut s, name, now);
        seed::generate(&mut s, id, findings, now);
        id.to_string()
    }

    fn remove_record(&self, external_id: &str) {
        let mut s = self.shared().lock();
        if let Some(p) = external_id
            .parse::<u64>()
            .ok()
            .and_then(|id| s.projects.get_mut(&id))
        {
            p.archived = true;
        }
    }

    fn fix_findings(&self, external_id: &str, n: usize) {
        let mut s = self.shared().lock();
        let Ok(project) = external_id.parse::<u64>() else {
            return;
        };
        let now = Utc::now();
        for id in s.open_ids(project, n) {
            if let Some(f) = s.findings.get_mut(&id) {
                f.state = "fixed".into();
                f.state_updated_at = now;
            }
        }
    }

    fn mark_false_positive(&self, external_id: &str) {
        self.triage_first(external_id, "ignored", Some("false_positive"));
    }

    fn open_findings(&self, external_id: &str) -> usize {
        let s = self.shared().lock();
        let Ok(project) = external_id.parse::<u64>() else {
            return 0;
        };
        s.findings
            .values()
            .filter(|f| f.project_id == project && f.status() == "open")
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
                "Semgrep simulator at {base}/ (Web API: {base}/api/v1, control API: {base}/_sim/state)"
            ),
            format!("Token (Authorization: Bearer …, Web API scope): {TOKEN}"),
        ];
        if let Some(d) = &s.deployment {
            out.push(format!(
                "Deployment: {} (slug {}, id {})",
                d.name, d.slug, d.id
            ));
        }
        out.push("Projects:".into());
        for p in s.projects.values().filter(|p| !p.archived) {
            let n = s.findings.values().filter(|f| f.project_id == p.id).count();
            out.push(format!("  {} (id {}): {n} findings", p.name, p.id));
        }
        out.join("\n")
    }
}
