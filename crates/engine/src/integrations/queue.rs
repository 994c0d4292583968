//! The push queue of an instance: how many pushes wait, whether the tracker asked us to stop,
//! and when the queue is expected to be through (bounded by the instance's rate budgets).

use super::clients::instance_budgets;
use crate::App;
use chrono::{DateTime, TimeDelta, Utc};
use domain::tracker::Instance;
use domain::InstanceId;
use serde::Serialize;
use store::jobs::JobStatus;
use store::{mappings, rate_limits};

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueStatus {
    pub instance: InstanceId,
    /// Push jobs waiting to run (one ticket each, or a batch of new tickets).
    pub queued: i64,
    pub running: i64,
    /// Pushes that failed for good (see the mappings' error tables).
    pub dead: i64,
    /// Set while the tracker has asked us to stop (Retry-After, no requests remaining).
    pub blocked_until: Option<DateTime<Utc>>,
    pub blocked_reason: Option<String>,
    /// When the waiting pushes are expected to be done at the latest, if each created a
    /// ticket, under the instance's rate budgets.
    pub expected_finish: DateTime<Utc>,
}

pub async fn status(app: &App, instance: &Instance) -> anyhow::Result<QueueStatus> {
    let now = store::now();
    let mut c = app.db().conn().await?;
    let ids: Vec<i64> = mappings::list(&mut c, Some(instance.id)).await?.iter().map(|m| m.id.0).collect();
    let counts = store::jobs::counts_by_payload_id(&mut c, <crate::jobs::PushTicket as crate::Job>::QUEUE, "mapping", &ids).await?;
    drop(c);
    let get = |s: JobStatus| counts.iter().find(|(st, _)| *st == s).map(|(_, n)| *n).unwrap_or(0);
    let (queued, running, dead) = (get(JobStatus::Queued), get(JobStatus::Running), get(JobStatus::Dead));
    let budgets = instance_budgets(instance);
    let buckets: Vec<rate_limits::Bucket> = budgets.iter().map(crate::limits::bucket).collect();
    let used = rate_limits::used(app.db(), instance.id, &buckets, now).await?;
    let blocked = rate_limits::blocked(app.db(), instance.id, now).await?;
    let start = blocked.as_ref().map(|(until, _)| *until).unwrap_or(now);
    let pending = u64::try_from(queued + running).unwrap_or(0);
    let took = trackers::limit::time_to_create(&budgets, &used, instance.vendor, pending);
    Ok(QueueStatus {
        instance: instance.id,
        queued,
        running,
        dead,
        blocked_until: blocked.as_ref().map(|b| b.0),
        blocked_reason: blocked.map(|b| b.1),
        expected_finish: start + TimeDelta::from_std(took).unwrap_or(TimeDelta::days(365)),
    })
}
