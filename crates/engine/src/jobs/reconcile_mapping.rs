use crate::integrations::inbound;
use crate::{App, Job, JobContext, JobError};
use chrono::TimeDelta;
use domain::MappingId;
use domain::tracker::Marker;
use serde::{Deserialize, Serialize};
use store::{cursors, installation, instances, mappings};
use trackers::TrackerError;

/// Asks a polled tracker (ServiceNow) what changed on the mapping's tickets since the last
/// time, and applies it as if a webhook had said so: changes its business rules missed are not
/// lost. Our own writes come back as echoes and change nothing; a change already applied by a
/// webhook is one too.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReconcileMapping {
    pub mapping: MappingId,
}

/// The first poll of a mapping looks back this far.
const FIRST_LOOK_BACK: TimeDelta = TimeDelta::days(1);
/// Each poll overlaps the last by this much (clock skew; records written as the poll ran).
const OVERLAP: TimeDelta = TimeDelta::minutes(2);

impl Job for ReconcileMapping {
    const KIND: &'static str = "reconcile_mapping";
    const QUEUE: &'static str = "push";
    const MAX_ATTEMPTS: i32 = 3;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("reconcile:m{}", self.mapping))
    }

    async fn run(self, app: &App, _ctx: JobContext) -> Result<(), JobError> {
        let mut c = app.db().conn().await?;
        let mapping = match mappings::get(&mut c, self.mapping).await {
            Ok(m) => m,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let instance = instances::get(&mut c, mapping.instance).await?;
        let since = cursors::get(&mut c, mapping.id).await?.unwrap_or_else(|| store::now() - FIRST_LOOK_BACK);
        let prefix = Marker::mapping_prefix(&installation::id(&mut c).await?, mapping.id);
        drop(c);
        let started = store::now();
        let client = app.trackers().get(app, &instance).await.map_err(|e| JobError::permanent(format!("{e:#}")))?;
        let changes = match client.changes_since(&mapping.config, &prefix, since - OVERLAP).await {
            Ok(Some(changes)) => changes,
            Ok(None) => return Ok(()),
            Err(TrackerError::RateLimited { until, reason }) => {
                return Err(JobError::Defer { reason, until: until.unwrap_or_else(|| store::now() + TimeDelta::seconds(60)) });
            }
            Err(e) => return Err(JobError::retry(domain::redact::redact(&e.to_string(), &[]))),
        };
        let latest = changes.iter().map(|p| p.at).max();
        let n = changes.len();
        let applied = inbound::apply(app, &instance, changes.into_iter().map(|p| p.event).collect()).await?;
        let changed = applied.iter().filter(|a| matches!(a, inbound::Applied::Applied { .. } | inbound::Applied::Noted { .. })).count();
        let mut c = app.db().conn().await?;
        // Up to the latest change seen, or to when this poll started if it saw none.
        cursors::advance(&mut c, mapping.id, latest.unwrap_or(started).min(started)).await?;
        tracing::debug!(mapping = %mapping.id, seen = n, changed, "Reconciled a polled mapping.");
        Ok(())
    }
}
