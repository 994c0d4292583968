use crate::integrations::push;
use crate::{App, Job, JobContext, JobError};
use domain::MappingId;
use domain::tracker::{Subject, Trigger};
use serde::{Deserialize, Serialize};

/// Brings one ticket — a finding's or a group's, in one mapping — up to date with what the
/// finding says now: creates it, updates what changed, or sends nothing when nothing did (see
/// `integrations::push`). Queued in the transaction of the change that needs it.
#[derive(Debug, Serialize, Deserialize)]
pub struct PushTicket {
    pub mapping: MappingId,
    pub subject: Subject,
    pub trigger: Trigger,
    /// Who asked, for a manual push (the ticket's changelog names them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl Job for PushTicket {
    const KIND: &'static str = "push_ticket";
    const QUEUE: &'static str = "push";
    const MAX_ATTEMPTS: i32 = 8;

    /// One queued push per ticket: later requests collapse into it (it pushes what the
    /// finding says when it runs).
    fn dedupe_key(&self) -> Option<String> {
        Some(format!("push:m{}:{}", self.mapping, self.subject.short()))
    }

    async fn run(self, app: &App, ctx: JobContext) -> Result<(), JobError> {
        let outcome = push::run(app, &self, ctx).await?;
        tracing::debug!(mapping = %self.mapping, subject = %self.subject, trigger = ?self.trigger, ?outcome, "Pushed.");
        Ok(())
    }
}
