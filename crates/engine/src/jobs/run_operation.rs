use crate::connectors::run;
use crate::{App, Job, JobContext, JobError};
use domain::OperationId;
use serde::{Deserialize, Serialize};

/// Runs one Discover or Sync of the connectors' operations log (see `connectors::run`).
#[derive(Debug, Serialize, Deserialize)]
pub struct RunOperation {
    pub operation: OperationId,
}

impl Job for RunOperation {
    const KIND: &'static str = "run_operation";
    const QUEUE: &'static str = "connectors";
    const MAX_ATTEMPTS: i32 = 5;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("operation:{}", self.operation))
    }

    async fn run(self, app: &App, ctx: JobContext) -> Result<(), JobError> {
        run::run(app, self.operation, ctx).await
    }
}
