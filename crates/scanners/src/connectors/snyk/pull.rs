//! A project's issues: `GET /rest/orgs/{org}/issues?scan_item.type=project&scan_item.id=…`,
//! 100 a page, following `links.next`, mapped by the `Snyk Issue API Scan` parser (so an issue
//! keeps its identity, its id, whether imported from an export of this API or pulled; like
//! the parser, only code and open-source vulnerabilities become findings).
//!
//! Resolved issues stay listed for a while (`status: resolved`), so a full pull also reports
//! fixes. An incremental pull asks for issues `updated_after` the cursor (the newest
//! `updated_at` seen, less a second of slack: Snyk compares strictly); resolutions and ignores
//! update an issue, so they arrive too, but issues that vanished do not, so it is not complete.

use super::Snyk;
use crate::Context;
use crate::connectors::{BATCH, FindingSink, PullMode, Pulled};
use crate::formats::common::finding::fit_to_domain;
use crate::formats::snyk_issue_api::{Issue, finding};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use domain::connector::Record;
use domain::{NewFinding, TestId};
use outbound::CallError;
use serde_json::Value;
use std::collections::HashSet;

/// Issues a page (the most Snyk gives).
const LIMIT: u32 = 100;

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Snyk {
    pub(super) async fn pull_project(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        let org = match record.metadata.get("org_id").and_then(Value::as_str) {
            Some(o) if !o.is_empty() => o.to_owned(),
            _ => self.org.clone().ok_or_else(|| {
                CallError::Misconfigured(format!(
                    "the Snyk project {} has no organization; run Discover again",
                    record.name
                ))
            })?,
        };
        let mut query = vec![
            ("limit", LIMIT.to_string()),
            ("scan_item.type", "project".to_owned()),
            ("scan_item.id", record.external_id.clone()),
        ];
        if let PullMode::Since(cursor) = &mode {
            let t = parse_time(cursor).ok_or_else(|| {
                CallError::Misconfigured(format!(
                    "the Snyk cursor '{cursor}' is not a date; run a full sync"
                ))
            })?;
            query.push((
                "updated_after",
                (t - TimeDelta::seconds(1)).to_rfc3339_opts(SecondsFormat::Millis, true),
            ));
        }
        let url = self.api.url(&format!("orgs/{org}/issues"), &query)?;
        let mut pages = self
            .api
            .pages(format!("Snyk issues of project {}", record.name), url);
        let ctx = Context::new(TestId(0));
        let mut buf: Vec<NewFinding> = Vec::new();
        let mut sent = 0u64;
        let mut seen: HashSet<String> = HashSet::new();
        let mut newest: Option<DateTime<Utc>> = None;
        while let Some((data, what)) = pages.next().await? {
            for (i, raw) in data.into_iter().enumerate() {
                let updated = raw
                    .pointer("/attributes/updated_at")
                    .and_then(Value::as_str)
                    .and_then(parse_time);
                if let Some(t) = updated {
                    newest = Some(newest.map_or(t, |n| n.max(t)));
                }
                let issue: Issue = serde_json::from_value(raw)
                    .map_err(|e| outbound::json_error(&format!("{what}, issue {i}"), &e))?;
                let Some(f) = finding(&issue, &ctx) else {
                    continue;
                };
                if let Some(id) = &f.unique_id_from_tool
                    && !seen.insert(id.clone())
                {
                    continue;
                }
                buf.push(fit_to_domain(f));
                if buf.len() >= BATCH {
                    let n = buf.len() as u64;
                    if sink.send(std::mem::take(&mut buf)).await.is_err() {
                        return Ok(Pulled {
                            complete: false,
                            cursor: None,
                            findings: sent,
                        });
                    }
                    sent += n;
                }
            }
        }
        if !buf.is_empty() {
            let n = buf.len() as u64;
            if sink.send(buf).await.is_err() {
                return Ok(Pulled {
                    complete: false,
                    cursor: None,
                    findings: sent,
                });
            }
            sent += n;
        }
        let complete = mode == PullMode::Full;
        let cursor = match (newest, mode) {
            (Some(t), _) => Some(t.to_rfc3339_opts(SecondsFormat::Millis, true)),
            (None, PullMode::Since(c)) => Some(c),
            (None, PullMode::Full) => None,
        };
        Ok(Pulled {
            complete,
            cursor,
            findings: sent,
        })
    }
}
