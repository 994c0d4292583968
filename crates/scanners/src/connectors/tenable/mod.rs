//! The Tenable Vulnerability Management connector.
//!
//! - Setup: the location is the container (`https://cloud.tenable.com`); secrets `access_key`
//!   and `secret_key` (an API user with Basic [16] to export and Scan Operator [24] to read scan
//!   history).
//! - Discover: the scans (`GET /scans`), by schedule UUID.
//! - Pull: the vulnerability export of the scan's latest completed run (`scan_uuid`): a full
//!   pull exports all of that run's findings (open, reopened and fixed; complete); an
//!   incremental pull whose cursor names the same run exports only what Tenable re-indexed
//!   since (`indexed_at`: accepted or recast risks, state changes), and one after a new run
//!   exports the new run whole (complete). A finding belongs to the scan that last found it.
//!   The cursor is `<run uuid>@<unix seconds>`.

mod api;
pub(crate) mod array;
mod export;
mod map;
mod scans;

use super::{FindingSink, PullMode, Pulled, ScannerApi, Setup};
use api::Api;
use async_trait::async_trait;
use chrono::Utc;
use domain::connector::{DiscoveredRecord, Record, Tool};
use outbound::{CallError, CheckReport, HttpClient};
use serde_json::{Value, json};

/// How far before the cursor an incremental export starts (findings indexed late).
const OVERLAP: i64 = 3_600;
const DAY: i64 = 86_400;

#[derive(Debug)]
pub struct Tenable {
    api: Api,
}

impl Tenable {
    pub fn new(setup: Setup, http: HttpClient) -> Result<Tenable, CallError> {
        let access = setup.secret("access_key")?.clone();
        let secret = setup.secret("secret_key")?.clone();
        Ok(Tenable {
            api: Api::new(http, setup.location, access, secret),
        })
    }
}

/// `<run uuid>@<unix seconds>`.
fn parse_cursor(c: &str) -> Option<(&str, i64)> {
    let (run, at) = c.rsplit_once('@')?;
    Some((run, at.parse().ok()?)).filter(|(r, _)| !r.is_empty())
}

#[async_trait]
impl ScannerApi for Tenable {
    fn tool(&self) -> Tool {
        Tool::Tenable
    }

    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        let scans = match scans::records(&self.api).await {
            Ok(s) => {
                report.pass(
                    "credentials",
                    format!("Tenable accepted the API keys; {} scan(s) visible", s.len()),
                );
                s
            }
            Err(CallError::Unauthorized(msg)) => {
                report.fail(
                    "credentials",
                    format!("Tenable refused the API keys: {msg}"),
                );
                return report;
            }
            Err(e) => {
                report.fail("credentials", format!("cannot list the scans: {e}"));
                return report;
            }
        };
        match self.api.get::<Value>("/vulns/export/status", &[], "the vulnerability exports").await {
            Ok(_) => report.pass("exports", "the user may export vulnerabilities"),
            Err(e) => report.fail("exports", format!("the user cannot export vulnerabilities (needs Basic [16] and Can View on the assets): {e}")),
        }
        match scans.first() {
            Some(s) => match scans::latest_completed(&self.api, &s.external_id).await {
                Ok(_) => report.pass("scan history", format!("the user may read the history of scan '{}'", s.name)),
                Err(e) => report.fail(
                    "scan history",
                    format!("the user cannot read scan history (needs Scan Operator [24] and Can View on the scans): {e}"),
                ),
            },
            None => report.pass("scan history", "no scans to read yet"),
        }
        report
    }

    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError> {
        scans::records(&self.api).await
    }

    async fn pull(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        let schedule = record.external_id.as_str();
        let Some(run) = scans::latest_completed(&self.api, schedule).await? else {
            // Never completed: the scan reports nothing.
            return Ok(Pulled {
                complete: true,
                cursor: None,
                findings: 0,
            });
        };
        let now = Utc::now().timestamp();
        let states = json!(["OPEN", "REOPENED", "FIXED"]);
        let previous = match &mode {
            PullMode::Since(c) => parse_cursor(c).filter(|(r, _)| *r == run.scan_uuid),
            PullMode::Full => None,
        };
        let (filters, complete) = match previous {
            Some((_, at)) => (
                json!({ "scan_uuid": run.scan_uuid, "indexed_at": (at - OVERLAP).max(0), "state": states }),
                false,
            ),
            None => {
                let from = run.time_start.or(run.time_end).unwrap_or(now) - DAY;
                (
                    json!({ "scan_uuid": run.scan_uuid, "since": from.max(0), "state": states }),
                    true,
                )
            }
        };
        let label = format!("scan '{}' (run {})", record.name, run.scan_uuid);
        let sent = export::run(&self.api, filters, &label, sink).await?;
        Ok(Pulled {
            complete: complete && !sent.stopped,
            cursor: Some(format!("{}@{now}", run.scan_uuid)),
            findings: sent.findings,
        })
    }
}
