//! The reconcile schedule: every few minutes, a `ReconcileMapping` job for each mapping of a
//! polled tracker (ServiceNow), so that changes its business rules did not report are applied
//! anyway. Queued with a dedupe key, so that several replicas poll once.

use crate::jobs::ReconcileMapping;
use crate::{App, enqueue};
use std::time::Duration;
use tokio::sync::watch;

/// How often polled trackers are reconciled.
pub const EVERY: Duration = Duration::from_secs(300);

/// Queues the reconcile jobs due now.
pub async fn queue_due(app: &App) -> anyhow::Result<usize> {
    let mut c = app.db().conn().await?;
    let mut queued = 0;
    for m in store::mappings::list(&mut c, None).await? {
        if m.vendor.polled() && enqueue(&mut c, &ReconcileMapping { mapping: m.id }).await?.is_some() {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Queues reconcile jobs every `every` until shutdown.
pub async fn schedule(app: App, every: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = queue_due(&app).await {
            tracing::warn!(error = %e, "Cannot queue reconcile jobs.");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => if *shutdown.borrow() { return },
        }
    }
}
