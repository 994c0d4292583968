//! `GetFindings` for one account and Region, 100 findings a page, following `NextToken`.
//!
//! - Full: the Record's findings whose `RecordState` is `ACTIVE` (Security Hub archives what
//!   its provider resolved), so what is not among them can be closed.
//! - Since: every finding whose `UpdatedAt` is after the cursor, archived ones included:
//!   that is how closures arrive. The cursor is the time the previous pull started; a pull
//!   reads from an hour before it, because a provider's `UpdatedAt` can be older than the
//!   moment the finding reached Security Hub. Analysts' changes (`BatchUpdateFindings`:
//!   workflow, verification state) do not move `UpdatedAt`; the periodic full pulls see them.
//!
//! Findings are mapped by the `AWS Security Hub Scan` report parser, so a finding pulled here
//! and the same finding in an uploaded report are one finding.

use super::api::Api;
use crate::Context;
use crate::connectors::{BATCH, FindingSink, PullMode, Pulled};
use crate::formats::awssecurityhub::{Asff, finding};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use domain::TestId;
use domain::connector::Record;
use outbound::CallError;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

/// How far before the cursor an incremental pull starts reading.
const OVERLAP: TimeDelta = TimeDelta::hours(1);
pub(crate) const PAGE: u32 = 100;

#[derive(Deserialize)]
struct Page {
    #[serde(rename = "Findings")]
    findings: Vec<Asff>,
    #[serde(rename = "NextToken", default)]
    next: Option<String>,
}

/// The account and Region of a Record (`123456789012:us-east-1`).
pub(crate) fn account_and_region(record: &Record) -> Result<(String, String), CallError> {
    match record.external_id.split_once(':') {
        Some((a, r)) if !a.is_empty() && !r.is_empty() => Ok((a.to_owned(), r.to_owned())),
        _ => Err(CallError::Misconfigured(format!(
            "the AWS Security Hub Record '{}' is not an account and Region (account:region)",
            record.external_id
        ))),
    }
}

fn time(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn equals(v: &str) -> Value {
    json!([{ "Value": v, "Comparison": "EQUALS" }])
}

pub(crate) async fn pull(
    api: &Api,
    record: &Record,
    mode: PullMode,
    sink: &FindingSink,
) -> Result<Pulled, CallError> {
    let (account, region) = account_and_region(record)?;
    let started = Utc::now();
    let since = match &mode {
        PullMode::Since(c) => match DateTime::parse_from_rfc3339(c) {
            Ok(d) => Some(d.with_timezone(&Utc)),
            // A cursor this client did not write: read everything instead of guessing.
            Err(_) => None,
        },
        PullMode::Full => None,
    };
    let mut filters = serde_json::Map::new();
    filters.insert("AwsAccountId".into(), equals(&account));
    filters.insert("Region".into(), equals(&region));
    match since {
        Some(from) => {
            filters.insert(
                "UpdatedAt".into(),
                json!([{ "Start": time(from - OVERLAP), "End": time(started + TimeDelta::days(1)) }]),
            );
        }
        None => {
            filters.insert("RecordState".into(), equals("ACTIVE"));
        }
    }
    let ctx = Context::new(TestId(0));
    let mut seen: HashSet<String> = HashSet::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut sent: u64 = 0;
    let mut next: Option<String> = None;
    let mut page_no = 0u32;
    let done = |sent| Pulled {
        complete: since.is_none(),
        cursor: Some(time(started)),
        findings: sent,
    };
    loop {
        page_no += 1;
        let mut body = json!({
            "Filters": filters,
            "SortCriteria": [{ "Field": "UpdatedAt", "SortOrder": "asc" }],
            "MaxResults": PAGE,
        });
        if let Some(t) = &next {
            body["NextToken"] = json!(t);
        }
        let what = format!(
            "page {page_no} of the findings of account {account} in {region} (GetFindings)"
        );
        let page: Page = api.post("/findings", &body, &what).await?;
        for asff in &page.findings {
            // A finding updated while the pages are read can come twice; once is enough.
            if !seen.insert(asff.id.clone()) {
                continue;
            }
            if let Some(f) = finding(asff, &ctx) {
                batch.push(f);
            }
            if batch.len() >= BATCH {
                sent += batch.len() as u64;
                if sink.send(std::mem::take(&mut batch)).await.is_err() {
                    return Ok(done(sent));
                }
            }
        }
        match page.next.filter(|t| !t.is_empty()) {
            Some(t) if next.as_ref() == Some(&t) => {
                return Err(CallError::Protocol(format!(
                    "{what}: Security Hub answered the same NextToken twice"
                )));
            }
            Some(t) => next = Some(t),
            None => break,
        }
    }
    if !batch.is_empty() {
        let n = batch.len() as u64;
        if sink.send(batch).await.is_ok() {
            sent += n;
        }
    }
    Ok(done(sent))
}
