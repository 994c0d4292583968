//! One vulnerability export, start to end: `POST /vulns/export` (a 409 names the same export
//! already running, which is adopted, as pyTenable does), `GET …/status` until `FINISHED`,
//! downloading each chunk as soon as it is listed in `chunks_available` (chunk ids need not
//! be sequential), reading it element by element into batches.
//!
//! An export that errs, is cancelled in Tenable, or finishes with failed chunks is an error:
//! a pull that silently lacked a chunk would close findings that are still open.

use super::api::Api;
use super::array::ArrayReader;
use super::map::Vuln;
use crate::connectors::{BATCH, FindingSink};
use outbound::CallError;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Assets per chunk (Tenable allows 50–5,000).
const NUM_ASSETS: u32 = 500;
/// The first wait between status requests; it doubles up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(500);
const MAX_WAIT: Duration = Duration::from_secs(30);
/// An export still not finished after this long is cancelled and the pull fails.
const DEADLINE: Duration = Duration::from_secs(2 * 60 * 60);

#[derive(Deserialize)]
struct Started {
    export_uuid: String,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    chunks_available: Vec<u64>,
    #[serde(default)]
    chunks_failed: Vec<u64>,
    #[serde(default)]
    reason: Option<String>,
}

/// The export a 409 names (`{"active_job_id": …}`), from the error's message.
fn adopted(e: &CallError) -> Option<String> {
    let CallError::Rejected(msg) = e else {
        return None;
    };
    if !msg.contains("HTTP 409") {
        return None;
    }
    let key = "\"active_job_id\":\"";
    let start = msg.find(key)? + key.len();
    let id: String = msg[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (!id.is_empty()).then_some(id)
}

/// What an export sent: findings, and whether the sink closed before the end.
pub(crate) struct Sent {
    pub findings: u64,
    pub stopped: bool,
}

/// Runs an export with `filters` and sends its findings to `sink`; `label` names the scan.
pub(crate) async fn run(
    api: &Api,
    filters: Value,
    label: &str,
    sink: &FindingSink,
) -> Result<Sent, CallError> {
    let body = json!({ "num_assets": NUM_ASSETS, "include_unlicensed": true, "filters": filters });
    let uuid = match api
        .post::<Started>(
            "/vulns/export",
            &body,
            &format!("a vulnerability export for {label}"),
        )
        .await
    {
        Ok(s) => s.export_uuid,
        Err(e) => adopted(&e).ok_or(e)?,
    };
    let what = format!("vulnerability export {uuid} for {label}");
    let started = Instant::now();
    let mut wait = FIRST_WAIT;
    let mut done: BTreeSet<u64> = BTreeSet::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut sent = Sent {
        findings: 0,
        stopped: false,
    };
    loop {
        let status: Status = api
            .get(
                &format!("/vulns/export/{uuid}/status"),
                &[],
                &format!("the status of {what}"),
            )
            .await?;
        let mut progressed = false;
        for chunk in status
            .chunks_available
            .iter()
            .copied()
            .filter(|c| !done.contains(c))
            .collect::<Vec<_>>()
        {
            let path = format!("/vulns/export/{uuid}/chunks/{chunk}");
            let chunk_what = format!("chunk {chunk} of {what}");
            let response = api.get_raw(&path, &chunk_what).await?;
            let mut reader = ArrayReader::new(response, chunk_what);
            while let Some(v) = reader.next::<Vuln>().await? {
                batch.push(v.finding());
                if batch.len() >= BATCH {
                    let n = batch.len() as u64;
                    if sink.send(std::mem::take(&mut batch)).await.is_err() {
                        sent.stopped = true;
                        cancel(api, &uuid, &what).await;
                        return Ok(sent);
                    }
                    sent.findings += n;
                }
            }
            done.insert(chunk);
            progressed = true;
        }
        match status.status.as_str() {
            "FINISHED" if status.chunks_available.iter().all(|c| done.contains(c)) => {
                if !status.chunks_failed.is_empty() {
                    return Err(CallError::Transient(format!(
                        "{what} finished without chunks {:?}: {}",
                        status.chunks_failed,
                        status.reason.as_deref().unwrap_or("Tenable gave no reason")
                    )));
                }
                break;
            }
            "FINISHED" => {}
            "QUEUED" | "PROCESSING" => {
                if started.elapsed() > DEADLINE {
                    cancel(api, &uuid, &what).await;
                    return Err(CallError::Transient(format!(
                        "{what} was still {} after {} minutes; it was cancelled",
                        status.status,
                        DEADLINE.as_secs() / 60
                    )));
                }
                if !progressed {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(MAX_WAIT);
                }
            }
            "ERROR" => {
                return Err(CallError::Transient(format!(
                    "{what} failed in Tenable: {}",
                    status.reason.as_deref().unwrap_or("no reason given")
                )));
            }
            "CANCELLED" => {
                return Err(CallError::Transient(format!(
                    "{what} was cancelled in Tenable"
                )));
            }
            other => {
                return Err(CallError::Protocol(format!(
                    "{what}: unknown export status '{other}'"
                )));
            }
        }
    }
    if !batch.is_empty() {
        let n = batch.len() as u64;
        if sink.send(batch).await.is_err() {
            sent.stopped = true;
            return Ok(sent);
        }
        sent.findings += n;
    }
    Ok(sent)
}

/// Frees the export's place among the container's running exports (best effort: the pull
/// is ending either way).
async fn cancel(api: &Api, uuid: &str, what: &str) {
    if let Err(e) = api
        .post::<Value>(
            &format!("/vulns/export/{uuid}/cancel"),
            &json!({}),
            &format!("cancelling {what}"),
        )
        .await
    {
        tracing::debug!(error = %e, "Cancelling a Tenable export failed.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_names_the_running_export() {
        let e = CallError::Rejected(
            r#"a vulnerability export for scan x: {"active_job_id":"1f3381e3-a551-4b9b-9c17-b019412cc35c","failure_reason":"conflict"} (HTTP 409)"#.into(),
        );
        assert_eq!(
            adopted(&e).as_deref(),
            Some("1f3381e3-a551-4b9b-9c17-b019412cc35c")
        );
        assert_eq!(
            adopted(&CallError::Rejected("bad filters (HTTP 400)".into())),
            None
        );
    }
}
