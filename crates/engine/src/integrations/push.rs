//! One push: bring one ticket (a finding's or a group's, in one mapping) up to date.
//!
//! 1. Load the mapping, the subject and what governs it; render the fields the ticket should
//!    show (`domain::tracker::desired_fields`).
//! 2. No ticket yet: record a `creating` row (committed before the tracker is called), create,
//!    then link. A ticket still `creating` from an earlier attempt is *in doubt* (its worker may
//!    have died after the tracker created it): search for its marker first, adopt what is
//!    found, create only if nothing is.
//! 3. A linked ticket: plan against what it shows (`domain::tracker::plan`) and send only the
//!    difference — nothing at all when the fingerprints match.
//! 4. Whatever got through is recorded, part by part, so a failure halfway leaves exactly the
//!    rest to send; failures go to the mapping's error table (redacted) and back to the queue.
//!
//! A ticket is pushed by one job at a time (`store::tickets::lock`); the tracker is called with
//! no database transaction open.

use super::subject::{self, Loaded};
use crate::jobs::PushTicket;
use crate::{App, JobContext, JobError};
use chrono::{DateTime, TimeDelta, Utc};
use domain::redact::redact;
use domain::tracker::plan::{blank, sent_so_far};
use domain::tracker::{
    Changes, LinkState, Mapping, Marker, Plan, Subject, Ticket, TicketChange, TicketFields, TicketState,
    desired_fields, effective_assignments, plan,
};
use std::sync::Arc;
use std::time::Duration;
use store::tickets::{NewTicket, RemoteLink};
use store::{assignments, installation, instances, mappings, push_errors, tickets};
use trackers::{FoundTicket, Progress, RemoteRef, Tracker, TrackerError};

/// What a push did.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Nothing to do: the mapping or subject is gone, or no longer assigned.
    Skipped(String),
    /// The ticket already shows what the finding says: no call made.
    Unchanged,
    Created { key: String },
    /// A ticket from an interrupted create, found by its marker and brought up to date.
    Adopted { key: String },
    Updated { detail: String },
}

/// How long a push waits for another push of the same ticket to finish.
const BUSY_WAIT: TimeDelta = TimeDelta::seconds(5);
/// A marker search looks this much further back than the create it follows up (clock skew
/// between us and the tracker).
const SEARCH_MARGIN: TimeDelta = TimeDelta::minutes(10);

struct Ctx<'a> {
    app: &'a App,
    job: JobContext,
    mapping: Mapping,
    loaded: Loaded,
    desired: TicketFields,
    marker: Marker,
    client: Arc<dyn Tracker>,
    actor: String,
}

/// Runs one push job.
pub async fn run(app: &App, req: &PushTicket, job: JobContext) -> Result<Outcome, JobError> {
    let mut c = app.db().conn().await?;
    let mapping = match mappings::get(&mut c, req.mapping).await {
        Ok(m) => m,
        Err(e) if e.is_not_found() => return Ok(Outcome::Skipped(format!("mapping {} was deleted", req.mapping))),
        Err(e) => return Err(e.into()),
    };
    let Some(loaded) = subject::load(&mut c, app.settings(), req.subject).await? else {
        return Ok(Outcome::Skipped(format!("{} was deleted", req.subject)));
    };
    let governed = effective_assignments(&assignments::for_product(&mut c, loaded.product).await?, loaded.engagement)
        .iter()
        .any(|a| a.mapping == mapping.id);
    if !governed {
        return Ok(Outcome::Skipped(format!("{} is no longer assigned to mapping {}", req.subject, mapping.id)));
    }
    let instance = instances::get(&mut c, mapping.instance).await?;
    let marker = Marker { installation: installation::id(&mut c).await?, mapping: mapping.id, subject: req.subject };
    let existing = tickets::find(&mut c, mapping.id, req.subject).await?;
    drop(c);

    let desired = match desired_fields(&mapping.config, &loaded.view, loaded.severity, loaded.status, &marker) {
        Ok(d) => d,
        Err(e) => return Err(fail(app, &mapping, req.subject, job, "render", &e.to_string(), None).await),
    };
    let client = match app.trackers().get(app, &instance).await {
        Ok(c) => c,
        Err(e) => return Err(fail(app, &mapping, req.subject, job, "misconfigured", &format!("{e:#}"), None).await),
    };
    let actor = req.by.clone().unwrap_or_else(|| "vulnbridge".to_owned());
    let ctx = Ctx { app, job, mapping, loaded, desired, marker, client, actor };
    let outcome = match existing {
        None => ctx.start().await,
        Some(t) => ctx.continue_with(t, req.trigger == domain::tracker::Trigger::Manual).await,
    };
    metrics::counter!("vulnbridge_pushes_total", "vendor" => instance.vendor.as_str(), "outcome" => match &outcome {
        Ok(Outcome::Skipped(_)) => "skipped",
        Ok(Outcome::Unchanged) => "unchanged",
        Ok(Outcome::Created { .. }) => "created",
        Ok(Outcome::Adopted { .. }) => "adopted",
        Ok(Outcome::Updated { .. }) => "updated",
        Err(JobError::Defer { .. }) => "deferred",
        Err(_) => "failed",
    })
    .increment(1);
    outcome
}

impl Ctx<'_> {
    fn subject(&self) -> Subject {
        self.loaded.subject
    }

    /// No ticket yet: claim the subject with a `creating` row, then create.
    async fn start(&self) -> Result<Outcome, JobError> {
        let mut c = self.app.db().conn().await?;
        let new = NewTicket {
            instance: self.mapping.instance,
            mapping: self.mapping.id,
            vendor: self.mapping.vendor,
            subject: self.subject(),
            sending: &self.desired,
            job: self.job.id,
        };
        match tickets::start_create(&mut c, new).await? {
            Some(t) => {
                drop(c);
                self.create(t).await
            }
            // Another push made the row between our look and our insert.
            None => match tickets::find(&mut c, self.mapping.id, self.subject()).await? {
                Some(t) => {
                    drop(c);
                    self.continue_with(t, false).await
                }
                None => Err(JobError::retry("the ticket row vanished while being created; trying again")),
            },
        }
    }

    /// A ticket exists: take it, then follow up a create in doubt or update.
    async fn continue_with(&self, t: Ticket, manual: bool) -> Result<Outcome, JobError> {
        let mut c = self.app.db().conn().await?;
        if !tickets::lock(&mut c, t.id, self.job.id, store::now()).await? {
            return Err(JobError::Defer {
                reason: format!("another push of {} is running", self.subject()),
                until: store::now() + BUSY_WAIT,
            });
        }
        drop(c);
        let result = match t.link_state {
            LinkState::Creating => self.in_doubt(t.clone()).await,
            LinkState::Linked => self.update(&t).await,
            LinkState::Deleted if manual => {
                // Asked by a person: the deleted ticket is replaced by a new one.
                let mut c = self.app.db().conn().await?;
                tickets::delete(&mut c, t.id).await?;
                drop(c);
                return Box::pin(self.start()).await;
            }
            LinkState::Deleted => Ok(Outcome::Skipped(format!(
                "the ticket {} was deleted in the tracker",
                t.key.as_deref().unwrap_or("")
            ))),
        };
        if let Ok(mut c) = self.app.db().conn().await {
            let _ = tickets::unlock(&mut c, t.id, self.job.id).await;
        }
        result
    }

    /// Sends the create for a `creating` row this job holds.
    async fn create(&self, t: Ticket) -> Result<Outcome, JobError> {
        let mut progress = Progress::default();
        let result = self.client.create(&self.mapping.config, &self.desired, &self.marker, &mut progress).await;
        let outcome = self.finish_create(&t, progress, result).await;
        if let Ok(mut c) = self.app.db().conn().await {
            let _ = tickets::unlock(&mut c, t.id, self.job.id).await;
        }
        outcome
    }

    async fn finish_create(&self, t: &Ticket, progress: Progress, result: Result<(), TrackerError>) -> Result<Outcome, JobError> {
        let now = store::now();
        let Some(remote) = progress.remote else {
            let e = match result {
                Ok(()) => TrackerError::Protocol("the tracker client reported success but no ticket".into()),
                Err(e) => e,
            };
            let mut c = self.app.db().conn().await?;
            if certainly_not_created(&e) {
                tickets::abandon_create(&mut c, t.id).await?;
            }
            drop(c);
            return Err(self.failed(e).await);
        };
        let shows = match &result {
            Ok(()) => self.desired.clone(),
            Err(_) => sent_so_far(&blank(&self.desired), &self.desired, &progress.done),
        };
        let mut tx = self.app.db().begin().await?;
        tickets::link(&mut tx, t.id, link(&remote), &shows, now).await?;
        let detail = match &result {
            Ok(()) => format!("{} created", remote.key),
            Err(_) => format!("{} created; some fields are still to be set", remote.key),
        };
        tickets::add_change(&mut tx, t.id, &self.change(now, "created", detail)).await?;
        if result.is_ok() {
            push_errors::clear(&mut tx, self.mapping.id, self.subject()).await?;
        }
        tx.commit().await?;
        match result {
            Ok(()) => Ok(Outcome::Created { key: remote.key }),
            Err(e) => Err(self.failed(e).await),
        }
    }

    /// A create that may or may not have happened: find it by its marker, else create.
    async fn in_doubt(&self, t: Ticket) -> Result<Outcome, JobError> {
        let since = t.creating_since.unwrap_or_else(store::now) - SEARCH_MARGIN;
        let found = match self.client.find_by_marker(&self.mapping.config, &self.marker, since).await {
            Ok(f) => f,
            Err(e) => return Err(self.failed(e).await),
        };
        match found {
            Some(found) => self.adopt(&t, found).await,
            None => {
                let mut c = self.app.db().conn().await?;
                tickets::restart_create(&mut c, t.id, &self.desired).await?;
                drop(c);
                let mut progress = Progress::default();
                let result = self.client.create(&self.mapping.config, &self.desired, &self.marker, &mut progress).await;
                self.finish_create(&t, progress, result).await
            }
        }
    }

    /// Links a ticket found by its marker and sends every part (what the interrupted create
    /// set is unknown; sending a part again changes nothing).
    async fn adopt(&self, t: &Ticket, found: FoundTicket) -> Result<Outcome, JobError> {
        let mut changes = Changes::everything(&self.desired);
        // Whatever it shows besides, only a different open/closed state needs a transition.
        changes.state = (found.open != self.desired.state.is_open()).then_some(self.desired.state);
        let found_state = if found.open { TicketState::Open } else { TicketState::Closed(domain::tracker::CloseReason::Completed) };
        let mut base = blank(&self.desired);
        base.state = found_state;
        let mut progress = Progress::default();
        let result = self.client.update(&self.mapping.config, &found.remote, &changes, &mut progress).await;
        let shows = match &result {
            Ok(()) => self.desired.clone(),
            Err(_) => sent_so_far(&base, &self.desired, &progress.done),
        };
        let remote = progress.remote.clone().unwrap_or(found.remote.clone());
        let now = store::now();
        let mut tx = self.app.db().begin().await?;
        tickets::link(&mut tx, t.id, link(&remote), &shows, now).await?;
        let detail = format!("{} found by its marker after an interrupted create, and brought up to date", remote.key);
        tickets::add_change(&mut tx, t.id, &self.change(now, "adopted", detail)).await?;
        if result.is_ok() {
            push_errors::clear(&mut tx, self.mapping.id, self.subject()).await?;
        }
        tx.commit().await?;
        match result {
            Ok(()) => Ok(Outcome::Adopted { key: remote.key }),
            Err(e) => Err(self.failed(e).await),
        }
    }

    /// Sends what differs between what the ticket shows and what it should.
    async fn update(&self, t: &Ticket) -> Result<Outcome, JobError> {
        let last = t.last_sent.clone().unwrap_or_else(|| blank(&self.desired));
        let changes = match plan(&self.desired, Some(&last), self.loaded.status) {
            Plan::Nothing | Plan::Create(_) => {
                let mut c = self.app.db().conn().await?;
                push_errors::clear(&mut c, self.mapping.id, self.subject()).await?;
                return Ok(Outcome::Unchanged);
            }
            Plan::Update(changes) => changes,
        };
        let remote = RemoteRef {
            id: t.remote_id.clone().unwrap_or_default(),
            key: t.key.clone().unwrap_or_default(),
            url: t.url.clone().unwrap_or_default(),
            data: t.remote_data.clone(),
        };
        let mut c = self.app.db().conn().await?;
        tickets::set_sending(&mut c, t.id, Some(&self.desired)).await?;
        drop(c);
        let mut progress = Progress::default();
        let result = self.client.update(&self.mapping.config, &remote, &changes, &mut progress).await;
        let mut target = last.clone();
        changes.apply_to(&mut target);
        let shows = match &result {
            Ok(()) => target,
            Err(_) => sent_so_far(&last, &target, &progress.done),
        };
        let data = progress.remote.as_ref().map(|r| r.data.clone()).unwrap_or_else(|| t.remote_data.clone());
        let now = store::now();
        let mut tx = self.app.db().begin().await?;
        if progress.done.is_empty() {
            tickets::set_sending(&mut tx, t.id, None).await?;
        } else {
            tickets::record_push(&mut tx, t.id, &shows, &data, now).await?;
            let action = match changes.state {
                Some(TicketState::Open) => "reopened",
                Some(TicketState::Closed(_)) => "closed",
                None => "updated",
            };
            tickets::add_change(&mut tx, t.id, &self.change(now, action, changes.describe())).await?;
        }
        if result.is_ok() {
            push_errors::clear(&mut tx, self.mapping.id, self.subject()).await?;
        }
        tx.commit().await?;
        match result {
            Ok(()) => Ok(Outcome::Updated { detail: changes.describe() }),
            Err(e) => Err(self.failed(e).await),
        }
    }

    fn change(&self, at: DateTime<Utc>, action: &str, detail: String) -> TicketChange {
        TicketChange { at, action: action.into(), detail, actor: self.actor.clone() }
    }

    async fn failed(&self, e: TrackerError) -> JobError {
        let code = e.code();
        match e {
            // Waiting for a rate limit is not a failure: the job runs again when it may.
            TrackerError::RateLimited { until, reason } => JobError::Defer {
                reason: redact(&reason, &[]),
                until: until.unwrap_or_else(|| store::now() + TimeDelta::seconds(60)),
            },
            e => {
                let reason = e.to_string();
                let retry = e.is_retryable().then(|| crate::worker::backoff(self.job.attempt, Duration::from_secs(5), Duration::from_secs(3600)));
                fail(self.app, &self.mapping, self.subject(), self.job, code, &reason, retry).await
            }
        }
    }
}

fn link(remote: &RemoteRef) -> RemoteLink<'_> {
    RemoteLink { remote_id: &remote.id, key: &remote.key, url: &remote.url, data: &remote.data }
}

/// A create answered with one of these certainly made nothing: its `creating` row can go.
/// (A timeout, a 5xx or an unreadable answer may hide a ticket that was made.)
fn certainly_not_created(e: &TrackerError) -> bool {
    !matches!(e, TrackerError::Transient(_) | TrackerError::Protocol(_))
}

/// Records a failed push in the mapping's error table and says how the job goes on: again
/// after `retry_in` (a transient failure, unless this was the last attempt), or dead until a
/// person retries it from the error table.
async fn fail(
    app: &App,
    mapping: &Mapping,
    subject: Subject,
    job: JobContext,
    code: &str,
    reason: &str,
    retry_in: Option<Duration>,
) -> JobError {
    let reason = redact(reason, &[]);
    let retry_in = retry_in.filter(|_| !job.is_last_attempt());
    let now = store::now();
    let retry_at = retry_in.map(|d| now + TimeDelta::from_std(d).unwrap_or(TimeDelta::hours(1)));
    match app.db().conn().await {
        Ok(mut c) => {
            if let Err(e) = push_errors::record(&mut c, mapping.id, subject, code, &reason, retry_at, now).await {
                tracing::error!(error = %e, "Cannot record a push error.");
            }
        }
        Err(e) => tracing::error!(error = %e, "Cannot record a push error."),
    }
    tracing::warn!(mapping = %mapping.id, %subject, code, %reason, "Push failed.");
    match retry_in {
        Some(after) => JobError::Retry { reason, after: Some(after) },
        None => JobError::Permanent(reason),
    }
}
