//! Periodic housekeeping, enqueued as ordinary jobs so that with several replicas the work
//! still runs once: each replica enqueues, and the dedupe key keeps one queued copy.

use crate::jobs::{PruneJobs, PruneWebhookDeliveries};
use crate::{App, enqueue};
use std::time::Duration;
use tokio::sync::watch;

/// Enqueues maintenance jobs every `every` until shutdown.
pub async fn schedule(app: App, every: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        match app.db().conn().await {
            Ok(mut c) => {
                let queued = match enqueue(&mut c, &PruneJobs { keep_days: 7 }).await {
                    Ok(_) => enqueue(&mut c, &PruneWebhookDeliveries { keep_hours: 72 }).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = queued {
                    tracing::warn!(error = %e, "Cannot enqueue maintenance jobs.");
                }
            }
            Err(e) => tracing::warn!(error = %e, "Cannot reach the database for maintenance."),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => if *shutdown.borrow() { return },
        }
    }
}
