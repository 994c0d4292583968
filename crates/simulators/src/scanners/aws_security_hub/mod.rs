//! The AWS Security Hub simulator: one administrator account's hub in its home Region, as
//! botocore's `securityhub/2018-10-26/service-2.json` describes the operations a connector
//! uses (`DescribeHub`, `ListFindingAggregators`, `GetFindingAggregator`, `ListMembers`,
//! `GetFindings` with filters, sorting and `NextToken` paging), behind Signature Version 4
//! checked as AWS checks it, with the documented throttling and AWS's error shapes, and a
//! control API under `/_sim/`.
//!
//! Records are an account and a Region (`012345678912:us-east-1`): the administrator and its
//! associated members, in the home Region and the Regions its aggregator links.

pub mod cut;

mod api;
mod control;
mod filters;
mod limits;
mod reply;
mod routes;
mod seed;
mod sigv4;
mod state;

pub use seed::{
    ACCESS_KEY_ID, ACCOUNT, HOME_REGION, LIMITED_ACCESS_KEY_ID, LIMITED_SECRET_ACCESS_KEY,
    LINKED_REGION, SECRET_ACCESS_KEY,
};

pub use sigv4::sign_request;

use super::ScannerSim;
use crate::common::{Faults, RequestLog, SimServer};
use chrono::{TimeDelta, Utc};
use cut::Cut;
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

    fn set_throttling(&self, enabled: bool) {
        let mut s = self.lock();
        s.throttle.enabled = enabled;
        s.throttle.reset();
    }

    /// A new member account in the home Region with `findings` Inspector findings found last
    /// week; `name` becomes the member's e-mail address.
    fn add_record(&self, name: &str, findings: usize) -> String {
        let mut s = self.lock();
        let account = seed::new_account(&s);
        let local: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
            .collect();
        seed::add_member(
            &mut s,
            &account,
            &format!(
                "{}@example.com",
                if local.is_empty() { "member" } else { &local }
            ),
        );
        let region = s.home_region.clone();
        seed::generate(
            &mut s,
            &account,
            &region,
            findings,
            Utc::now() - TimeDelta::days(7),
        );
        format!("{account}:{region}")
    }

    /// A member is disassociated (all its Records go); a linked Region of the administrator
    /// is unlinked. The administrator's home Region always stays.
    fn remove_record(&self, external_id: &str) {
        let mut s = self.lock();
        let (account, region) = external_id.split_once(':').unwrap_or((external_id, ""));
        if account == s.account {
            if let Some(a) = s.aggregator.as_mut() {
                a.regions.retain(|r| r != region);
            }
            return;
        }
        let now = Utc::now();
        for m in s.members.iter_mut().filter(|m| m.account == account) {
            m.status = "Removed".into();
            m.updated_at = now;
        }
    }

    fn fix_findings(&self, external_id: &str, n: usize) {
        let mut s = self.lock();
        let open: Vec<usize> = s
            .record_findings(external_id)
            .filter(|(_, f)| f.is_open())
            .map(|(i, _)| i)
            .take(n)
            .collect();
        let now = Utc::now();
        for i in open {
            if let Some(f) = s.findings.get_mut(i) {
                seed::resolve(f, now);
            }
        }
    }

    /// What `BatchUpdateFindings` does for an analyst's verdict: `VerificationState` and the
    /// workflow change, `UpdatedAt` does not.
    fn mark_false_positive(&self, external_id: &str) {
        self.triage_first(external_id, Some("FALSE_POSITIVE"), "SUPPRESSED");
    }

    fn triage_first(&self, external_id: &str, verification: Option<&str>, workflow: &str) {
        let mut s = self.lock();
        let first = s
            .record_findings(external_id)
            .find(|(_, f)| f.is_open())
            .map(|(i, _)| i);
        if let Some(f) = first.and_then(|i| s.findings.get_mut(i)) {
            f.update(|o| {
                if let Some(v) = verification {
                    o.insert("VerificationState".into(), serde_json::json!(v));
                }
                o.insert("Workflow".into(), serde_json::json!({ "Status": workflow }));
            });
        }
    }
}

/// A running Security Hub simulator. Clones share it; dropping the last clone stops the server.
#[derive(Clone)]
pub struct AwsSecurityHubSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Sh,
    server: SimServer,
}

impl std::fmt::Debug for AwsSecurityHubSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSecurityHubSim")
            .field("addr", &self.inner.server.addr)
            .finish_non_exhaustive()
    }
}

impl AwsSecurityHubSim {
    async fn with_state(bind: SocketAddr, state: State) -> std::io::Result<AwsSecurityHubSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Faults::default(),
            requests: RequestLog::default(),
            cut: Cut::default(),
        });
        let server = SimServer::start(routes::router(shared.clone()), bind).await?;
        Ok(AwsSecurityHubSim {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    /// The hub of [`ACCOUNT`] in [`HOME_REGION`] with the keys [`ACCESS_KEY_ID`] and
    /// [`LIMITED_ACCESS_KEY_ID`]; no members, no aggregator, no findings.
    pub async fn start(bind: SocketAddr) -> std::io::Result<AwsSecurityHubSim> {
        AwsSecurityHubSim::with_state(bind, seed::hub()).await
    }

    /// The fixture world: the repository's Security Hub reports imported into the hub, their
    /// other accounts as members, [`LINKED_REGION`] linked by the aggregator; Config controls
    /// failed and passed, Inspector findings open and suppressed.
    pub async fn start_seeded(bind: SocketAddr) -> std::io::Result<AwsSecurityHubSim> {
        AwsSecurityHubSim::with_state(bind, seed::fixture_world()).await
    }

    /// `records` accounts (the administrator and members) with `findings_per_record` open
    /// Inspector findings each in the home Region, on loopback, throttling off (AWS's 3
    /// `GetFindings` a second would make a benchmark measure the limit, not the code).
    pub async fn generate(
        records: usize,
        findings_per_record: usize,
    ) -> std::io::Result<AwsSecurityHubSim> {
        let mut s = seed::hub();
        s.throttle.enabled = false;
        let start = Utc::now() - TimeDelta::days(30);
        for r in 0..records {
            let account = if r == 0 {
                s.account.clone()
            } else {
                let a = seed::new_account(&s);
                seed::add_member(&mut s, &a, &format!("team-{r:04}@example.com"));
                a
            };
            let region = s.home_region.clone();
            seed::generate(&mut s, &account, &region, findings_per_record, start);
        }
        AwsSecurityHubSim::with_state(SocketAddr::from(([127, 0, 0, 1], 0)), s).await
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Turns Security Hub's throttling (3 `GetFindings` a second, bursts of 6) on or off.
    pub fn set_throttling(&self, enabled: bool) {
        self.shared().set_throttling(enabled);
    }

    /// Security Hub disabled (`InvalidAccessException`) or enabled again.
    pub fn set_hub_enabled(&self, enabled: bool) {
        self.shared().lock().hub_enabled = enabled;
    }

    /// Adds `n` open Inspector findings, observed now, to a Record.
    pub fn add_findings(&self, external_id: &str, n: usize) {
        let mut s = self.shared().lock();
        let (account, region) = external_id.split_once(':').unwrap_or((external_id, ""));
        seed::generate(
            &mut s,
            account,
            region,
            n,
            Utc::now() - TimeDelta::minutes(5),
        );
    }

    /// An analyst suppresses the first open finding of a Record (`Workflow.Status`
    /// `SUPPRESSED`, no verdict): accepted risk.
    pub fn suppress_first(&self, external_id: &str) {
        self.shared().triage_first(external_id, None, "SUPPRESSED");
    }

    /// The next `times` answers to paths containing `path_contains` are cut off mid-body.
    pub fn cut_next(&self, path_contains: &str, times: u32) {
        self.shared().cut.push(path_contains, times);
    }

    /// A stored finding as `GetFindings` returns it.
    pub fn finding(&self, id: &str) -> Option<serde_json::Value> {
        let s = self.shared().lock();
        let i = *s.by_id.get(id)?;
        serde_json::from_str(&s.findings.get(i)?.raw).ok()
    }

    /// The ids of a Record's findings, in the order they were imported.
    pub fn finding_ids(&self, external_id: &str) -> Vec<String> {
        self.shared()
            .lock()
            .record_findings(external_id)
            .map(|(_, f)| f.id.clone())
            .collect()
    }

    /// Serves until the server stops (for `vulnbridge simulate aws_security_hub`).
    pub async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

impl ScannerSim for AwsSecurityHubSim {
    fn tool(&self) -> Tool {
        Tool::AwsSecurityHub
    }

    fn base_url(&self) -> String {
        self.inner.server.base_url()
    }

    fn location(&self) -> String {
        self.base_url()
    }

    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![
            ("access_key_id", ACCESS_KEY_ID.to_owned()),
            ("secret_access_key", SECRET_ACCESS_KEY.to_owned()),
        ]
    }

    /// The simulator's address names no Region, so the connector is told the home Region.
    fn options(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert(
            "region".into(),
            serde_json::Value::String(self.shared().lock().home_region.clone()),
        );
        m
    }

    fn record_ids(&self) -> Vec<String> {
        self.shared().lock().record_ids()
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
        self.shared().mark_false_positive(external_id);
    }

    fn open_findings(&self, external_id: &str) -> usize {
        self.shared()
            .lock()
            .record_findings(external_id)
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
                "AWS Security Hub simulator at {base} (Region {}, control API: {base}/_sim/state)",
                s.home_region
            ),
            format!("Administrator account {} (hub {})", s.account, s.hub_arn()),
            "Access keys (Signature Version 4, service securityhub):".to_owned(),
        ];
        for (id, k) in &s.keys {
            let allowed = k
                .actions
                .as_ref()
                .map_or("every action".to_owned(), |a| a.join(", "));
            out.push(format!("  {id} / {} ({allowed})", k.secret));
        }
        out.push("Records (account:region, findings, open):".to_owned());
        for id in s.record_ids() {
            let all = s.record_findings(&id).count();
            let open = s.record_findings(&id).filter(|(_, f)| f.is_open()).count();
            out.push(format!("  {id}: {all}, {open} open"));
        }
        out.join("\n")
    }
}
