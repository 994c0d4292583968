use crate::{App, Job, JobContext, JobError};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// Deletes finished jobs older than `keep_days`, so the table stays small. Dead jobs are kept
/// until a person retries or deletes them. The worker enqueues this every hour.
#[derive(Debug, Serialize, Deserialize)]
pub struct PruneJobs {
    pub keep_days: i64,
}

impl Job for PruneJobs {
    const KIND: &'static str = "prune_jobs";
    const QUEUE: &'static str = "maintenance";
    const MAX_ATTEMPTS: i32 = 3;

    fn dedupe_key(&self) -> Option<String> {
        Some(Self::KIND.to_owned())
    }

    async fn run(self, app: &App, _ctx: JobContext) -> Result<(), JobError> {
        let before = store::now() - TimeDelta::days(self.keep_days.max(1));
        let mut c = app.db().conn().await?;
        let n = store::jobs::prune_done(&mut c, before).await?;
        tracing::info!(deleted = n, "Pruned finished jobs.");
        Ok(())
    }
}
