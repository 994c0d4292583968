use crate::integrations::inbound::syncs_comments;
use crate::{App, Job, JobContext, JobError};
use domain::TicketId;
use domain::tracker::{Changes, LinkState, TicketChange};
use serde::{Deserialize, Serialize};
use store::{instances, mappings, tickets};
use trackers::{Progress, RemoteRef, TrackerError};

/// Posts a note written on a finding as a comment on one of its tickets (mappings that sync
/// comments: Jira's `sync_comments`). The comment ends with vulnbridge's signature, so that
/// its echo is known when the tracker reports it back.
#[derive(Debug, Serialize, Deserialize)]
pub struct PushComment {
    pub ticket: TicketId,
    /// The comment's text, signed.
    pub text: String,
    pub by: String,
}

impl Job for PushComment {
    const KIND: &'static str = "push_comment";
    const QUEUE: &'static str = "push";
    const MAX_ATTEMPTS: i32 = 8;

    async fn run(self, app: &App, _ctx: JobContext) -> Result<(), JobError> {
        let mut c = app.db().conn().await?;
        let t = match tickets::get(&mut c, self.ticket).await {
            Ok(t) if t.link_state == LinkState::Linked => t,
            Ok(_) | Err(store::StoreError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let mapping = mappings::get(&mut c, t.mapping).await?;
        if !syncs_comments(&mapping.config) {
            return Ok(());
        }
        let instance = instances::get(&mut c, mapping.instance).await?;
        drop(c);
        let client = app.trackers().get(app, &instance).await.map_err(|e| JobError::permanent(format!("{e:#}")))?;
        let remote = RemoteRef {
            id: t.remote_id.clone().unwrap_or_default(),
            key: t.key.clone().unwrap_or_default(),
            url: t.url.clone().unwrap_or_default(),
            data: t.remote_data.clone(),
        };
        let changes = Changes { comment: Some(self.text.clone()), ..Changes::default() };
        match client.update(&mapping.config, &remote, &changes, &mut Progress::default()).await {
            Ok(()) => {}
            Err(TrackerError::RateLimited { until, reason }) => {
                return Err(JobError::Defer { reason, until: until.unwrap_or_else(|| store::now() + chrono::TimeDelta::seconds(60)) });
            }
            Err(e) if e.is_retryable() => return Err(JobError::retry(domain::redact::redact(&e.to_string(), &[]))),
            Err(e) => return Err(JobError::permanent(domain::redact::redact(&e.to_string(), &[]))),
        }
        let mut c = app.db().conn().await?;
        let change = TicketChange { at: store::now(), action: "commented".into(), detail: "a note on the finding".into(), actor: self.by };
        tickets::add_change(&mut c, t.id, &change).await?;
        Ok(())
    }
}
