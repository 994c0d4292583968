//! The Snyk simulator: Snyk's REST API (`/rest/self`, `/rest/orgs`, `/rest/orgs/{org_id}`,
//! `…/projects`, `…/issues`) as Snyk's REST OpenAPI document describes it: `Authorization:
//! token …`, the mandatory `version` parameter resolved against each endpoint's releases,
//! JSON:API documents and error documents, cursor pagination (`limit` 10–100 by tens,
//! `starting_after`, `links.next`), 1,620 requests a minute per token (429 with `Retry-After`),
//! and a control API under `/_sim/`.
//!
//! Records are projects (by id), in organizations; a project's issues are those whose
//! `scan_item` is the project.

mod api;
mod control;
mod paging;
mod render;
mod reply;
mod routes;
mod seed;
mod state;
mod version;

pub use control::Limits;
pub use seed::{OUTSIDER_TOKEN, TOKEN};

use super::ScannerSim;
use crate::common::{Faults, RequestLog, SimServer, SlidingWindow};
use chrono::{TimeDelta, Utc};
use domain::connector::Tool;
use state::State;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

type Windows = (Limits, HashMap<String, Arc<SlidingWindow>>);

pub(crate) struct Shared {
    state: Mutex<State>,
    faults: Faults,
    requests: RequestLog,
    limit: Mutex<Windows>,
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

    /// The token's window, when a limit is set.
    fn window(&self, token: &str) -> Option<Arc<SlidingWindow>> {
        let mut guard = self
            .limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (limits, windows) = &mut *guard;
        let limit = limits.limit?;
        let per = Duration::from_secs(limits.per_seconds.max(1));
        Some(
            windows
                .entry(token.to_owned())
                .or_insert_with(|| Arc::new(SlidingWindow::new(limit, per)))
                .clone(),
        )
    }

    fn set_limits(&self, limits: Limits) {
        *self
            .limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (limits, HashMap::new());
    }
}

/// A running Snyk simulator. Clones share it; dropping the last clone stops the server.
#[derive(Clone)]
pub struct SnykSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for SnykSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnykSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

/// Snyk's REST limit: 1,620 requests a minute per token.
const SNYK_LIMIT: Limits = Limits {
    limit: Some(1620),
    per_seconds: 60,
};

impl SnykSim {
    async fn with_state(bind: SocketAddr, state: State) -> std::io::Result<SnykSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Faults::default(),
            requests: RequestLog::default(),
            limit: Mutex::new((SNYK_LIMIT, HashMap::new())),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        Ok(SnykSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// Org `acme` and the user of [`TOKEN`] in it; no projects.
    pub async fn start(bind: SocketAddr) -> std::io::Result<SnykSim> {
        let mut s = State::default();
        let acme = seed::add_org(&mut s, "acme", "Acme");
        seed::add_user(&mut s, "vulnbridge", TOKEN, vec![acme]);
        seed::add_user(&mut s, "outsider", OUTSIDER_TOKEN, vec![]);
        SnykSim::with_state(bind, s).await
    }

    /// The fixture world: orgs `acme` (a pip project and a Snyk Code project, from the
    /// fixtures) and `acme-labs` (an npm project) of [`TOKEN`]'s user, and `other-corp`.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<SnykSim> {
        let mut s = State::default();
        seed::fixture_world(&mut s);
        SnykSim::with_state(bind, s).await
    }

    /// `records` npm projects of `findings_per_record` open issues each, in org `acme`.
    pub async fn generate(records: usize, findings_per_record: usize) -> std::io::Result<SnykSim> {
        let mut s = State::default();
        let acme = seed::add_org(&mut s, "acme", "Acme");
        seed::add_user(&mut s, "vulnbridge", TOKEN, vec![acme.clone()]);
        let start = Utc::now() - TimeDelta::days(60);
        for r in 0..records {
            let id = seed::add_project(
                &mut s,
                &acme,
                &format!("acme/service-{r:04}:package.json"),
                "npm",
                "package.json",
                start,
            );
            seed::open_source(&mut s, &id, findings_per_record, start);
        }
        SnykSim::with_state(SocketAddr::from(([127, 0, 0, 1], 0)), s).await
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The id of an organization (by slug).
    pub fn org_id(&self, slug: &str) -> Option<String> {
        self.shared()
            .lock()
            .orgs
            .values()
            .find(|o| o.slug == slug)
            .map(|o| o.id.clone())
    }

    /// Adds `n` open issues, created now, to a project.
    pub fn add_issues(&self, project_id: &str, n: usize) {
        seed::open_source(&mut self.shared().lock(), project_id, n, Utc::now());
    }

    /// Sets (or with `None` removes) the per-token rate limit.
    pub fn set_rate_limit(&self, limit: Option<u32>, per: Duration) {
        self.shared().set_limits(Limits {
            limit,
            per_seconds: per.as_secs().max(1),
        });
    }

    /// Serves until the server stops (for `vulnbridge simulate snyk`).
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

impl ScannerSim for SnykSim {
    fn tool(&self) -> Tool {
        Tool::Snyk
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

    /// No `org`: the connector lists every organization of the token.
    fn options(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    fn record_ids(&self) -> Vec<String> {
        let s = self.shared().lock();
        let Some(user) = s.user_by_token(TOKEN) else {
            return Vec::new();
        };
        let mut projects: Vec<_> = s
            .projects
            .values()
            .filter(|p| user.orgs.contains(&p.org_id))
            .collect();
        projects.sort_by_key(|p| p.seq);
        projects.into_iter().map(|p| p.id.clone()).collect()
    }

    fn add_record(&self, name: &str, findings: usize) -> String {
        let mut s = self.shared().lock();
        let Some(org) = s.user_by_token(TOKEN).and_then(|u| u.orgs.first().cloned()) else {
            return String::new();
        };
        let now = Utc::now();
        let id = seed::add_project(&mut s, &org, name, "npm", "package.json", now);
        seed::open_source(
            &mut s,
            &id,
            findings,
            now - TimeDelta::seconds(findings as i64),
        );
        id
    }

    fn remove_record(&self, external_id: &str) {
        let mut s = self.shared().lock();
        s.projects.remove(external_id);
        s.issues.retain(|_, i| i.project_id != external_id);
    }

    fn fix_findings(&self, external_id: &str, n: usize) {
        let mut s = self.shared().lock();
        let now = Utc::now();
        let open: Vec<u64> = s
            .issues
            .values()
            .filter(|i| i.project_id == external_id && i.is_open_vulnerability())
            .map(|i| i.seq)
            .take(n)
            .collect();
        for seq in open {
            if let Some(i) = s.issues.get_mut(&seq) {
                seed::resolve(i, now);
            }
        }
    }

    /// Snyk's nearest verdict: the issue is ignored (the REST issue does not say why).
    fn mark_false_positive(&self, external_id: &str) {
        let mut s = self.shared().lock();
        let first = s
            .issues
            .values()
            .filter(|i| i.project_id == external_id && i.is_open_vulnerability())
            .map(|i| i.seq)
            .next();
        if let Some(i) = first.and_then(|seq| s.issues.get_mut(&seq)) {
            seed::ignore(i, Utc::now());
        }
    }

    fn open_findings(&self, external_id: &str) -> usize {
        self.shared()
            .lock()
            .issues
            .values()
            .filter(|i| i.project_id == external_id && i.is_open_vulnerability())
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
                "Snyk simulator at {base}/ (REST API: {base}/rest, control API: {base}/_sim/state)"
            ),
            format!("Token (Authorization: token …): {TOKEN}"),
        ];
        for o in s.orgs.values() {
            out.push(format!("Org {} ({}, id {}):", o.name, o.slug, o.id));
            for p in s.projects.values().filter(|p| p.org_id == o.id) {
                let n = s.issues.values().filter(|i| i.project_id == p.id).count();
                out.push(format!(
                    "  {} ({}, id {}): {n} issues",
                    p.name, p.kind, p.id
                ));
            }
        }
        out.join("\n")
    }
}
