//! A site's findings: the issues of its latest succeeded scan, page by page (`start`/`count`),
//! sent to the sink in batches as they come.
//!
//! Burp's scans are snapshots: the latest succeeded scan is everything the site has now, so
//! pulling it is complete whatever the mode, and the cursor is its scan id. An incremental
//! pull whose latest scan is still the cursor's has nothing new: it sends nothing and says
//! `complete: false`, so that nothing is closed for want of findings it did not send. A site
//! that has no succeeded scan yet says the same (nothing known, nothing to close).

use super::BurpSuite;
use super::map::{ISSUE_FIELDS, finding};
use crate::Context;
use crate::connectors::{Batcher, FindingSink, PullMode, Pulled};
use chrono::DateTime;
use domain::connector::Record;
use domain::TestId;
use outbound::CallError;
use serde::Deserialize;
use serde_json::{Value, json};

/// Issues asked for per request.
pub const PAGE: usize = 500;

const LATEST_SCAN: &str = "query LatestScan($site: ID) {
  scans(site_id: $site, scan_status: [succeeded], sort_column: end, sort_order: desc, offset: 0, limit: 1) {
    id site_id end_time status
  }
}";

#[derive(Deserialize)]
struct Scans {
    #[serde(default)]
    scans: Option<Vec<ScanRef>>,
}

#[derive(Deserialize)]
struct ScanRef {
    id: String,
    #[serde(default)]
    site_id: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
}

#[derive(Deserialize)]
struct ScanIssues {
    scan: Option<IssuePage>,
}

#[derive(Deserialize)]
struct IssuePage {
    issues: Option<Vec<Value>>,
}

impl BurpSuite {
    pub(super) async fn pull_site(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        let site = record.external_id.as_str();
        let what = format!(
            "Burp Suite DAST latest succeeded scan of site '{}' ({site})",
            record.name
        );
        let found: Scans = self
            .gql
            .query(&what, LATEST_SCAN, json!({ "site": site }))
            .await?;
        let latest = found.scans.unwrap_or_default().into_iter().next();
        let previous = match &mode {
            PullMode::Since(c) => Some(c.clone()),
            PullMode::Full => None,
        };
        let Some(scan) = latest else {
            return Ok(Pulled {
                complete: false,
                cursor: previous,
                findings: 0,
            });
        };
        if let Some(other) = scan.site_id.as_deref().filter(|s| *s != site) {
            return Err(CallError::Protocol(format!(
                "{what}: Burp answered with a scan of site {other}"
            )));
        }
        if previous.as_deref() == Some(scan.id.as_str()) {
            return Ok(Pulled {
                complete: false,
                cursor: previous,
                findings: 0,
            });
        }
        let day = scan
            .end_time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.date_naive());
        let query = format!(
            "query ScanIssues($scan: ID!, $start: Int!, $count: Int!) {{ scan(id: $scan) {{ issues(start: $start, count: $count) {{ {ISSUE_FIELDS} }} }} }}"
        );
        let ctx = Context::new(TestId(0));
        let mut out = Batcher::new(sink);
        let mut start = 0usize;
        loop {
            let what = format!(
                "Burp Suite DAST issues {start}–{} of scan {} (site '{}')",
                start + PAGE,
                scan.id,
                record.name
            );
            let page: ScanIssues = self
                .gql
                .query(
                    &what,
                    &query,
                    json!({ "scan": scan.id, "start": start, "count": PAGE }),
                )
                .await?;
            let Some(issues) = page.scan.and_then(|s| s.issues) else {
                return Err(CallError::NotFound(format!(
                    "{what} (the scan or its issues are gone)"
                )));
            };
            let n = issues.len();
            if n > PAGE {
                return Err(CallError::Protocol(format!(
                    "{what}: {n} issues in a page of {PAGE}"
                )));
            }
            for (i, raw) in issues.into_iter().enumerate() {
                let f = finding(site, day, raw, &ctx).map_err(|e| {
                    CallError::Protocol(format!("{what}, issue {}: {e}", start + i))
                })?;
                if !out.push(f).await {
                    return Ok(Pulled {
                        complete: false,
                        cursor: None,
                        findings: out.sent,
                    });
                }
            }
            if n < PAGE {
                break;
            }
            start += PAGE;
        }
        if !out.flush().await {
            return Ok(Pulled {
                complete: false,
                cursor: None,
                findings: out.sent,
            });
        }
        Ok(Pulled {
            complete: true,
            cursor: Some(scan.id),
            findings: out.sent,
        })
    }
}
