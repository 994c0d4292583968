use crate::{App, Job, JobContext, JobError};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// Forgets webhook deliveries older than `keep_hours`: they are kept only so that a tracker's
/// retry of a delivery is not applied twice, and trackers give up retrying within hours. The
/// worker enqueues this every hour.
#[derive(Debug, Serialize, Deserialize)]
pub struct PruneWebhookDeliveries {
    pub keep_hours: i64,
}

impl Job for PruneWebhookDeliveries {
    const KIND: &'static str = "prune_webhook_deliveries";
    const QUEUE: &'static str = "maintenance";
    const MAX_ATTEMPTS: i32 = 3;

    fn dedupe_key(&self) -> Option<String> {
        Some(Self::KIND.to_owned())
    }

    async fn run(self, app: &App, _ctx: JobContext) -> Result<(), JobError> {
        let before = store::now() - TimeDelta::hours(self.keep_hours.max(1));
        let mut c = app.db().conn().await?;
        let n = store::webhook_deliveries::prune(&mut c, before).await?;
        tracing::info!(deleted = n, "Pruned old webhook deliveries.");
        Ok(())
    }
}
