//! A project's findings: `GET /api/v1/finding/project/{uuid}?suppressed=true` — every finding,
//! suppressed ones included so that a suppression is seen as a verdict, not as a fix. The 4.x
//! API does not page this list; it is read element by element as it arrives, and its length
//! checked against `X-Total-Count`.
//!
//! Every pull is the project's whole current state (Dependency-Track has no "changed since"
//! for findings, and an audit moves no date of the project), so every pull is complete: a
//! finding that disappeared (its component upgraded or removed) is closed by the import.
//! Findings are mapped by the `Dependency Track Finding Packaging Format (FPF) Export` parser,
//! so a finding pulled here and the same one in an uploaded export are one finding; its one
//! status the connectors' contract lacks, `IN_TRIAGE` (in progress there), is an open finding
//! here.

use super::api::{Api, total_count};
use crate::Context;
use crate::connectors::tenable::array::ArrayReader;
use crate::connectors::{BATCH, FindingSink, Pulled};
use crate::formats::common::finding::fit_to_domain;
use crate::formats::dependency_track::{DtFinding, finding};
use chrono::{SecondsFormat, Utc};
use domain::connector::Record;
use domain::{Status, TestId};
use outbound::CallError;

pub(crate) async fn pull(
    api: &Api,
    record: &Record,
    sink: &FindingSink,
) -> Result<Pulled, CallError> {
    let uuid = record.external_id.as_str();
    let started = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let what = format!("the findings of project {} ({uuid})", record.name);
    let path = format!("/api/v1/finding/project/{uuid}");
    let response = api
        .get_raw(&path, &[("suppressed", "true".to_owned())], &what)
        .await?;
    let total = total_count(&response);
    let mut reader = ArrayReader::new(response, what.clone());
    let ctx = Context::new(TestId(0));
    let mut batch = Vec::with_capacity(BATCH);
    let mut read: u64 = 0;
    let mut sent: u64 = 0;
    while let Some(d) = reader.next::<DtFinding>().await? {
        read += 1;
        let mut f = fit_to_domain(finding(&d, &ctx));
        if f.status == Status::InProgress {
            f.status = Status::Active;
        }
        batch.push(f);
        if batch.len() >= BATCH {
            let n = batch.len() as u64;
            if sink.send(std::mem::take(&mut batch)).await.is_err() {
                return Ok(Pulled {
                    complete: false,
                    cursor: Some(started),
                    findings: sent,
                });
            }
            sent += n;
        }
    }
    if let Some(t) = total
        && t != read
    {
        return Err(CallError::Protocol(format!(
            "{what}: X-Total-Count says {t} findings, the answer held {read}"
        )));
    }
    if !batch.is_empty() {
        let n = batch.len() as u64;
        if sink.send(batch).await.is_err() {
            return Ok(Pulled {
                complete: false,
                cursor: Some(started),
                findings: sent,
            });
        }
        sent += n;
    }
    Ok(Pulled {
        complete: true,
        cursor: Some(started),
        findings: sent,
    })
}
