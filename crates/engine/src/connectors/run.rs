//! Runs one operation of the log: starts it (waiting while one of its kind runs for the
//! connector), does the Discover or Sync, and records how it ended — counts, duration, and the
//! reason of a failure (redacted).

use super::{discover, sync};
use crate::{App, JobContext, JobError};
use chrono::TimeDelta;
use domain::OperationId;
use domain::connector::{OperationKind, OperationStatus};
use store::connectors;

/// How long a queued operation waits before looking again whether the one in flight is done.
const WAIT: TimeDelta = TimeDelta::seconds(10);

pub async fn run(app: &App, id: OperationId, job: JobContext) -> Result<(), JobError> {
    let mut c = app.db().conn().await?;
    let op = match connectors::get_operation(&mut c, id).await {
        Ok(op) => op,
        Err(e) if e.is_not_found() => return Ok(()), // its connector was deleted
        Err(e) => return Err(e.into()),
    };
    match op.status {
        OperationStatus::Succeeded | OperationStatus::Failed => return Ok(()),
        // Only this job runs this operation: still `running` means an earlier attempt's worker
        // died midway. Nothing it did was committed (each Record is one transaction; a
        // Discover is one), so it starts over.
        OperationStatus::Running => connectors::reset_operation(&mut c, id).await?,
        OperationStatus::Pending => {}
    }
    if !connectors::start_operation(&mut c, id, store::now()).await? {
        return Err(JobError::Defer { reason: format!("another {} of this connector is running", op.kind.as_str()), until: store::now() + WAIT });
    }
    let connector = connectors::get(&mut c, op.connector).await?;
    drop(c);
    let result: anyhow::Result<serde_json::Value> = async {
        let client = app.scanners().get(app, &connector).await?;
        Ok(match op.kind {
            OperationKind::Discover => {
                let found = client.discover().await?;
                serde_json::to_value(discover::apply(app, &connector, &found).await?)?
            }
            OperationKind::Sync => {
                let s = sync::run(app, &connector, client).await?;
                if s.failed_records > 0 && s.failed_records == s.records {
                    anyhow::bail!("every record failed: {}", s.errors.join("; "));
                }
                serde_json::to_value(s)?
            }
        })
    }
    .await;
    let mut c = app.db().conn().await?;
    match result {
        Ok(counts) => {
            let partial = counts.get("failed_records").and_then(|v| v.as_u64()).unwrap_or(0) > 0;
            let error = partial.then(|| counts["errors"].as_array().map(|a| a.iter().filter_map(|e| e.as_str()).collect::<Vec<_>>().join("; ")).unwrap_or_default());
            connectors::finish_operation(&mut c, id, !partial, &counts, error.as_deref()).await?;
            Ok(())
        }
        Err(e) => {
            let why = domain::redact::redact(&format!("{e:#}"), &[]);
            connectors::finish_operation(&mut c, id, false, &serde_json::json!({}), Some(&why)).await?;
            tracing::warn!(operation = %id, connector = %connector.id, kind = op.kind.as_str(), attempt = job.attempt, error = %why, "A connector operation failed.");
            // The log says why; the next scheduled run tries again.
            Ok(())
        }
    }
}
