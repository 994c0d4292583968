use crate::integrations::push;
use crate::{App, Job, JobContext, JobError};
use domain::MappingId;
use domain::tracker::{Subject, Trigger};
use serde::{Deserialize, Serialize};

/// Pushes many findings or groups of one mapping at once, creating the new tickets with the
/// tracker's bulk API (Jira's bulk create, Azure DevOps' `$batch`, ServiceNow's Batch API) and
/// bringing the others up to date one by one (see `integrations::push::run_batch`). A subject
/// whose push must wait or failed transiently is queued again on its own (a `PushTicket`); the
/// batch is not repeated.
#[derive(Debug, Serialize, Deserialize)]
pub struct PushBatch {
    pub mapping: MappingId,
    pub subjects: Vec<Subject>,
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl Job for PushBatch {
    const KIND: &'static str = "push_batch";
    const QUEUE: &'static str = "push";
    const MAX_ATTEMPTS: i32 = 5;

    async fn run(self, app: &App, ctx: JobContext) -> Result<(), JobError> {
        let outcome = push::run_batch(app, &self, ctx).await?;
        let again: Vec<store::jobs::NewJob> = outcome
            .again
            .iter()
            .map(|(subject, at)| {
                crate::worker::new_job(&super::PushTicket { mapping: self.mapping, subject: *subject, trigger: self.trigger, by: self.by.clone() })
                    .run_at(*at)
            })
            .collect();
        if !again.is_empty() {
            let mut c = app.db().conn().await?;
            store::jobs::enqueue_many(&mut c, again).await?;
        }
        let failed = outcome.outcomes.iter().filter(|(_, r)| r.is_err()).count();
        tracing::debug!(mapping = %self.mapping, subjects = self.subjects.len(), failed, again = outcome.again.len(), "Pushed a batch.");
        Ok(())
    }
}
