//! Pushes: bring tickets (a finding's or a group's, in one mapping) up to date.
//!
//! 1. Load the mapping, the subject and what governs it; render the fields the ticket should
//!    show (`domain::tracker::desired_fields`).
//! 2. No ticket yet: record a `creating` row (committed before the tracker is called), create,
//!    then link. A ticket still `creating` from an earlier attempt is *in doubt* (its worker may
//!    have died after the tracker created it): search for its marker first, adopt what is
//!    found, create only if nothing is.
//! 3. A linked ticket: plan against what it shows (`domain::tracker::plan`) and send only the
//!    difference — nothing at all when the fingerprints match. (Jira's "delete issues for
//!    rejected findings": a false positive's issue is deleted instead.)
//! 4. Whatever got through is recorded, part by part, so a failure halfway leaves exactly the
//!    rest to send; failures go to the mapping's error table (redacted) and back to the queue.
//!
//! [`run`] pushes one subject (a `PushTicket` job); [`run_batch`] pushes many of one mapping
//! (a `PushBatch` job), creating the new tickets with the tracker's bulk API. A ticket is
//! pushed by one job at a time (`store::tickets::lock`); the tracker is called with no
//! database transaction open.

use super::subject::{self, Loaded};
use crate::jobs::{PushBatch, PushTicket};
use crate::{App, JobContext, JobError};
use chrono::{DateTime, TimeDelta, Utc};
use domain::redact::redact;
use domain::tracker::plan::{blank, sent_so_far};
use domain::tracker::{
    Changes, JiraSpace, LinkState, Mapping, MappingTarget, Marker, Plan, Subject, Ticket, TicketChange, TicketFields,
    TicketState, Trigger, desired_fields, effective_assignments, plan,
};
use domain::Status;
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
    /// Deleted (Jira: the finding is a false positive and the mapping deletes their issues).
    Deleted { key: String },
}

/// How long a push waits for another push of the same ticket to finish.
const BUSY_WAIT: TimeDelta = TimeDelta::seconds(5);
/// A marker search looks this much further back than the create it follows up (clock skew
/// between us and the tracker).
const SEARCH_MARGIN: TimeDelta = TimeDelta::minutes(10);

/// What every push of one job shares: the mapping, its instance's client, who asked.
struct Shared<'a> {
    app: &'a App,
    job: JobContext,
    mapping: Mapping,
    client: Arc<dyn Tracker>,
    /// New tickets per create request: the client's bulk size unless the instance says no.
    bulk_size: usize,
    installation: String,
    actor: String,
}

/// One subject, ready to push.
struct Ctx<'a> {
    s: &'a Shared<'a>,
    loaded: Loaded,
    desired: TicketFields,
    marker: Marker,
    existing: Option<Ticket>,
}

impl<'a> Shared<'a> {
    /// `Ok(Err(outcome))`: nothing to push at all (the mapping is gone). A client that cannot
    /// be built is an error of each of `subjects`.
    async fn load(app: &'a App, mapping: domain::MappingId, job: JobContext, by: Option<&str>, subjects: &[Subject]) -> Result<Result<Shared<'a>, Outcome>, JobError> {
        let mut c = app.db().conn().await?;
        let mapping = match mappings::get(&mut c, mapping).await {
            Ok(m) => m,
            Err(e) if e.is_not_found() => return Ok(Err(Outcome::Skipped(format!("mapping {mapping} was deleted")))),
            Err(e) => return Err(e.into()),
        };
        let instance = instances::get(&mut c, mapping.instance).await?;
        let installation = installation::id(&mut c).await?;
        drop(c);
        let client = match app.trackers().get(app, &instance).await {
            Ok(client) => client,
            Err(e) => {
                let reason = format!("{e:#}");
                let mut last = None;
                for subject in subjects {
                    last = Some(fail(app, &mapping, Some(*subject), job, "misconfigured", &reason, None).await);
                }
                return Err(last.unwrap_or(JobError::Permanent(reason)));
            }
        };
        let actor = by.map(str::to_owned).unwrap_or_else(|| "vulnbridge".to_owned());
        let bulk_size = if instance.settings.no_bulk { 1 } else { client.bulk_size().max(1) };
        Ok(Ok(Shared { app, job, mapping, client, bulk_size, installation, actor }))
    }

    /// Loads a subject and renders what its ticket should show. `Ok(Err(outcome))`: nothing
    /// to push (deleted, no longer assigned).
    async fn item(&self, subject: Subject) -> Result<Result<Ctx<'_>, Outcome>, JobError> {
        let mut c = self.app.db().conn().await?;
        let Some(loaded) = subject::load(&mut c, self.app.settings(), subject).await? else {
            return Ok(Err(Outcome::Skipped(format!("{subject} was deleted"))));
        };
        let governed = effective_assignments(&assignments::for_product(&mut c, loaded.product).await?, loaded.engagement)
            .iter()
            .any(|a| a.mapping == self.mapping.id);
        if !governed {
            return Ok(Err(Outcome::Skipped(format!("{subject} is no longer assigned to mapping {}", self.mapping.id))));
        }
        let existing = tickets::find(&mut c, self.mapping.id, subject).await?;
        drop(c);
        let marker = Marker { installation: self.installation.clone(), mapping: self.mapping.id, subject };
        match desired_fields(&self.mapping.config, &loaded.view, loaded.severity, loaded.status, &marker) {
            Ok(desired) => Ok(Ok(Ctx { s: self, loaded, desired, marker, existing })),
            Err(e) => Err(fail(self.app, &self.mapping, Some(subject), self.job, "render", &e.to_string(), None).await),
        }
    }
}

fn count(vendor: &str, outcome: &Result<Outcome, JobError>) {
    metrics::counter!("vulnbridge_pushes_total", "vendor" => vendor.to_owned(), "outcome" => match outcome {
        Ok(Outcome::Skipped(_)) => "skipped",
        Ok(Outcome::Unchanged) => "unchanged",
        Ok(Outcome::Created { .. }) => "created",
        Ok(Outcome::Adopted { .. }) => "adopted",
        Ok(Outcome::Updated { .. }) => "updated",
        Ok(Outcome::Deleted { .. }) => "deleted",
        Err(JobError::Defer { .. }) => "deferred",
        Err(_) => "failed",
    })
    .increment(1);
}

/// Runs one push job.
pub async fn run(app: &App, req: &PushTicket, job: JobContext) -> Result<Outcome, JobError> {
    let s = match Shared::load(app, req.mapping, job, req.by.as_deref(), &[req.subject]).await? {
        Ok(s) => s,
        Err(skipped) => return Ok(skipped),
    };
    let ctx = match s.item(req.subject).await? {
        Ok(ctx) => ctx,
        Err(skipped) => return Ok(skipped),
    };
    let outcome = match ctx.existing.clone() {
        None => ctx.start().await,
        Some(t) => ctx.continue_with(t, req.trigger == Trigger::Manual).await,
    };
    count(s.mapping.vendor.as_str(), &outcome);
    outcome
}

/// What a batch did, subject by subject.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub outcomes: Vec<(Subject, Result<Outcome, String>)>,
    /// Subjects to push again on their own, and when (a rate limit, a transient failure).
    pub again: Vec<(Subject, DateTime<Utc>)>,
}

/// Runs a batch: new tickets created with the tracker's bulk API, the rest one by one. Each
/// subject's failure is its own (error table, then a push of its own queued again); the batch
/// itself fails only when it cannot start.
pub async fn run_batch(app: &App, req: &PushBatch, job: JobContext) -> Result<BatchOutcome, JobError> {
    let s = match Shared::load(app, req.mapping, job, req.by.as_deref(), &req.subjects).await? {
        Ok(s) => s,
        Err(skipped) => {
            return Ok(BatchOutcome { outcomes: req.subjects.iter().map(|x| (*x, Ok(skipped.clone()))).collect(), again: Vec::new() });
        }
    };
    let vendor = s.mapping.vendor.as_str();
    let mut out = BatchOutcome::default();
    let record = |out: &mut BatchOutcome, subject: Subject, r: Result<Outcome, JobError>| {
        count(vendor, &r);
        match r {
            Ok(o) => out.outcomes.push((subject, Ok(o))),
            Err(JobError::Defer { until, reason }) => {
                out.again.push((subject, until));
                out.outcomes.push((subject, Err(reason)));
            }
            Err(JobError::Retry { reason, after }) => {
                out.again.push((subject, store::now() + TimeDelta::from_std(after.unwrap_or(Duration::from_secs(30))).unwrap_or(TimeDelta::seconds(30))));
                out.outcomes.push((subject, Err(reason)));
            }
            Err(JobError::Permanent(reason)) => out.outcomes.push((subject, Err(reason))),
        }
    };
    let mut creates: Vec<(Ctx<'_>, Ticket)> = Vec::new();
    for subject in &req.subjects {
        let ctx = match s.item(*subject).await {
            Ok(Ok(ctx)) => ctx,
            Ok(Err(skipped)) => {
                record(&mut out, *subject, Ok(skipped));
                continue;
            }
            Err(e) => {
                record(&mut out, *subject, Err(e));
                continue;
            }
        };
        match ctx.existing.clone() {
            Some(t) => {
                let r = ctx.continue_with(t, req.trigger == Trigger::Manual).await;
                record(&mut out, *subject, r);
            }
            None => match ctx.claim().await {
                Ok(Ok(t)) => creates.push((ctx, t)),
                Ok(Err(existing)) => {
                    let r = ctx.continue_with(existing, false).await;
                    record(&mut out, *subject, r);
                }
                Err(e) => record(&mut out, *subject, Err(e)),
            },
        }
    }
    for chunk in creates.chunks(s.bulk_size) {
        let items: Vec<(TicketFields, Marker)> = chunk.iter().map(|(c, _)| (c.desired.clone(), c.marker.clone())).collect();
        let mut progress: Vec<Progress> = vec![Progress::default(); chunk.len()];
        let results = if let [(fields, marker)] = items.as_slice() {
            // One ticket: the plain create (a bulk request of one costs the same and says less).
            vec![s.client.create(&s.mapping.config, fields, marker, &mut progress[0]).await]
        } else {
            s.client.create_many(&s.mapping.config, &items, &mut progress).await
        };
        for (((ctx, t), p), r) in chunk.iter().zip(progress).zip(results) {
            let outcome = ctx.finish_create(t, p, r).await;
            ctx.unlock(t).await;
            record(&mut out, ctx.subject(), outcome);
        }
    }
    Ok(out)
}

impl Ctx<'_> {
    fn subject(&self) -> Subject {
        self.loaded.subject
    }

    /// Jira's "delete issues for rejected findings", when it applies to this finding.
    fn deletes_rejected(&self) -> bool {
        matches!(self.s.mapping.config.target, MappingTarget::Jira { delete_rejected: true, .. })
            && self.loaded.status == Status::FalsePositive
    }

    /// Claims the subject with a `creating` row held by this job; `Err(ticket)` when another
    /// push made one first.
    async fn claim(&self) -> Result<Result<Ticket, Ticket>, JobError> {
        let mut c = self.s.app.db().conn().await?;
        let new = NewTicket {
            instance: self.s.mapping.instance,
            mapping: self.s.mapping.id,
            vendor: self.s.mapping.vendor,
            subject: self.subject(),
            sending: &self.desired,
            job: self.s.job.id,
        };
        match tickets::start_create(&mut c, new).await? {
            Some(t) => Ok(Ok(t)),
            None => match tickets::find(&mut c, self.s.mapping.id, self.subject()).await? {
                Some(t) => Ok(Err(t)),
                None => Err(JobError::retry("the ticket row vanished while being created; trying again")),
            },
        }
    }

    async fn unlock(&self, t: &Ticket) {
        if let Ok(mut c) = self.s.app.db().conn().await {
            let _ = tickets::unlock(&mut c, t.id, self.s.job.id).await;
        }
    }

    /// No ticket yet: claim the subject with a `creating` row, then create.
    async fn start(&self) -> Result<Outcome, JobError> {
        if self.deletes_rejected() {
            return Ok(Outcome::Skipped(format!("{} is a false positive; this mapping deletes their issues, so none is made", self.subject())));
        }
        match self.claim().await? {
            Ok(t) => {
                let mut progress = Progress::default();
                let result = self.s.client.create(&self.s.mapping.config, &self.desired, &self.marker, &mut progress).await;
                let outcome = self.finish_create(&t, progress, result).await;
                self.unlock(&t).await;
                outcome
            }
            Err(existing) => self.continue_with(existing, false).await,
        }
    }

    /// A ticket exists: take it, then follow up a create in doubt, update, or delete.
    async fn continue_with(&self, t: Ticket, manual: bool) -> Result<Outcome, JobError> {
        let mut c = self.s.app.db().conn().await?;
        if !tickets::lock(&mut c, t.id, self.s.job.id, store::now()).await? {
            return Err(JobError::Defer {
                reason: format!("another push of {} is running", self.subject()),
                until: store::now() + BUSY_WAIT,
            });
        }
        drop(c);
        let result = match t.link_state {
            LinkState::Creating => self.in_doubt(t.clone()).await,
            LinkState::Linked if self.deletes_rejected() => self.delete(&t).await,
            LinkState::Linked => self.update(&t).await,
            LinkState::Deleted if manual && !self.deletes_rejected() => {
                // Asked by a person: the deleted ticket is replaced by a new one.
                let mut c = self.s.app.db().conn().await?;
                tickets::delete(&mut c, t.id).await?;
                drop(c);
                return Box::pin(self.start()).await;
            }
            LinkState::Deleted => Ok(Outcome::Skipped(format!("the ticket {} was deleted", t.key.as_deref().unwrap_or("")))),
        };
        self.unlock(&t).await;
        result
    }

    async fn finish_create(&self, t: &Ticket, progress: Progress, result: Result<(), TrackerError>) -> Result<Outcome, JobError> {
        let now = store::now();
        let Some(remote) = progress.remote else {
            let e = match result {
                Ok(()) => TrackerError::Protocol("the tracker client reported success but no ticket".into()),
                Err(e) => e,
            };
            let mut c = self.s.app.db().conn().await?;
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
        let mut tx = self.s.app.db().begin().await?;
        tickets::link(&mut tx, t.id, link(&remote), &shows, now).await?;
        let detail = match &result {
            Ok(()) => format!("{} created", remote.key),
            Err(_) => format!("{} created; some fields are still to be set", remote.key),
        };
        tickets::add_change(&mut tx, t.id, &self.change(now, "created", detail)).await?;
        if result.is_ok() {
            push_errors::clear(&mut tx, self.s.mapping.id, self.subject()).await?;
        }
        tx.commit().await?;
        self.relate_spaces(t.id, &remote).await;
        match result {
            Ok(()) => Ok(Outcome::Created { key: remote.key }),
            Err(e) => Err(self.failed(e).await),
        }
    }

    /// Jira: the security issue and the product issue of one finding are linked.
    async fn relate_spaces(&self, ticket: domain::TicketId, remote: &RemoteRef) {
        let MappingTarget::Jira { space, .. } = &self.s.mapping.config.target else { return };
        let Ok(mut c) = self.s.app.db().conn().await else { return };
        let others = match self.subject() {
            Subject::Finding(f) => tickets::for_findings(&mut c, &[f]).await,
            Subject::Group(g) => tickets::for_groups(&mut c, &[g]).await,
        };
        for other in others.unwrap_or_default() {
            if other.instance != self.s.mapping.instance || other.mapping == self.s.mapping.id || other.link_state != LinkState::Linked {
                continue;
            }
            let Ok(m) = mappings::get(&mut c, other.mapping).await else { continue };
            let MappingTarget::Jira { space: other_space, .. } = m.config.target else { continue };
            if other_space == *space {
                continue;
            }
            let other_ref = RemoteRef {
                id: other.remote_id.clone().unwrap_or_default(),
                key: other.key.clone().unwrap_or_default(),
                url: other.url.clone().unwrap_or_default(),
                data: other.remote_data.clone(),
            };
            let (from, to) = if *space == JiraSpace::Security { (remote, &other_ref) } else { (&other_ref, remote) };
            let now = store::now();
            let (action, detail) = match self.s.client.relate(&self.s.mapping.config, from, to).await {
                Ok(()) => ("linked", format!("{} (security) linked to {} (product)", from.key, to.key)),
                Err(e) => ("link failed", redact(&format!("linking {} to {}: {e}", from.key, to.key), &[])),
            };
            for id in [ticket, other.id] {
                let _ = tickets::add_change(&mut c, id, &self.change(now, action, detail.clone())).await;
            }
        }
    }

    /// A create that may or may not have happened: find it by its marker, else create.
    async fn in_doubt(&self, t: Ticket) -> Result<Outcome, JobError> {
        let since = t.creating_since.unwrap_or_else(store::now) - SEARCH_MARGIN;
        let found = match self.s.client.find_by_marker(&self.s.mapping.config, &self.marker, since).await {
            Ok(f) => f,
            Err(e) => return Err(self.failed(e).await),
        };
        match found {
            Some(found) => self.adopt(&t, found).await,
            None => {
                let mut c = self.s.app.db().conn().await?;
                tickets::restart_create(&mut c, t.id, &self.desired).await?;
                drop(c);
                let mut progress = Progress::default();
                let result = self.s.client.create(&self.s.mapping.config, &self.desired, &self.marker, &mut progress).await;
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
        let result = self.s.client.update(&self.s.mapping.config, &found.remote, &changes, &mut progress).await;
        let shows = match &result {
            Ok(()) => self.desired.clone(),
            Err(_) => sent_so_far(&base, &self.desired, &progress.done),
        };
        let remote = progress.remote.clone().unwrap_or(found.remote.clone());
        let now = store::now();
        let mut tx = self.s.app.db().begin().await?;
        tickets::link(&mut tx, t.id, link(&remote), &shows, now).await?;
        let detail = format!("{} found by its marker after an interrupted create, and brought up to date", remote.key);
        tickets::add_change(&mut tx, t.id, &self.change(now, "adopted", detail)).await?;
        if result.is_ok() {
            push_errors::clear(&mut tx, self.s.mapping.id, self.subject()).await?;
        }
        tx.commit().await?;
        match result {
            Ok(()) => Ok(Outcome::Adopted { key: remote.key }),
            Err(e) => Err(self.failed(e).await),
        }
    }

    fn remote(t: &Ticket) -> RemoteRef {
        RemoteRef {
            id: t.remote_id.clone().unwrap_or_default(),
            key: t.key.clone().unwrap_or_default(),
            url: t.url.clone().unwrap_or_default(),
            data: t.remote_data.clone(),
        }
    }

    /// Sends what differs between what the ticket shows and what it should.
    async fn update(&self, t: &Ticket) -> Result<Outcome, JobError> {
        let last = t.last_sent.clone().unwrap_or_else(|| blank(&self.desired));
        let changes = match plan(&self.desired, Some(&last), self.loaded.status) {
            Plan::Nothing | Plan::Create(_) => {
                let mut c = self.s.app.db().conn().await?;
                push_errors::clear(&mut c, self.s.mapping.id, self.subject()).await?;
                return Ok(Outcome::Unchanged);
            }
            Plan::Update(changes) => changes,
        };
        let remote = Self::remote(t);
        let mut c = self.s.app.db().conn().await?;
        tickets::set_sending(&mut c, t.id, Some(&self.desired)).await?;
        drop(c);
        let mut progress = Progress::default();
        let result = self.s.client.update(&self.s.mapping.config, &remote, &changes, &mut progress).await;
        let mut target = last.clone();
        changes.apply_to(&mut target);
        let shows = match &result {
            Ok(()) => target,
            Err(_) => sent_so_far(&last, &target, &progress.done),
        };
        let data = progress.remote.as_ref().map(|r| r.data.clone()).unwrap_or_else(|| t.remote_data.clone());
        let now = store::now();
        let mut tx = self.s.app.db().begin().await?;
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
            push_errors::clear(&mut tx, self.s.mapping.id, self.subject()).await?;
        }
        tx.commit().await?;
        match result {
            Ok(()) => Ok(Outcome::Updated { detail: changes.describe() }),
            Err(e) => Err(self.failed(e).await),
        }
    }

    /// Deletes the ticket of a false positive (Jira, when the mapping says so).
    async fn delete(&self, t: &Ticket) -> Result<Outcome, JobError> {
        let remote = Self::remote(t);
        if let Err(e) = self.s.client.delete(&self.s.mapping.config, &remote).await {
            return Err(self.failed(e).await);
        }
        let now = store::now();
        let mut tx = self.s.app.db().begin().await?;
        tickets::mark_deleted(&mut tx, t.id).await?;
        let detail = format!("{} deleted: the finding is a false positive and this mapping deletes their issues", remote.key);
        tickets::add_change(&mut tx, t.id, &self.change(now, "deleted", detail)).await?;
        push_errors::clear(&mut tx, self.s.mapping.id, self.subject()).await?;
        tx.commit().await?;
        Ok(Outcome::Deleted { key: remote.key })
    }

    fn change(&self, at: DateTime<Utc>, action: &str, detail: String) -> TicketChange {
        TicketChange { at, action: action.into(), detail, actor: self.s.actor.clone() }
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
                let retry = e.is_retryable().then(|| crate::worker::backoff(self.s.job.attempt, Duration::from_secs(5), Duration::from_secs(3600)));
                fail(self.s.app, &self.s.mapping, Some(self.subject()), self.s.job, code, &reason, retry).await
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

/// Records a failed push in the mapping's error table (for `subject`; without one, a failure
/// of the whole mapping is logged only) and says how the job goes on: again after `retry_in`
/// (a transient failure, unless this was the last attempt), or dead until a person retries it
/// from the error table.
async fn fail(
    app: &App,
    mapping: &Mapping,
    subject: Option<Subject>,
    job: JobContext,
    code: &str,
    reason: &str,
    retry_in: Option<Duration>,
) -> JobError {
    let reason = redact(reason, &[]);
    let retry_in = retry_in.filter(|_| !job.is_last_attempt());
    let now = store::now();
    let retry_at = retry_in.map(|d| now + TimeDelta::from_std(d).unwrap_or(TimeDelta::hours(1)));
    if let Some(subject) = subject {
        match app.db().conn().await {
            Ok(mut c) => {
                if let Err(e) = push_errors::record(&mut c, mapping.id, subject, code, &reason, retry_at, now).await {
                    tracing::error!(error = %e, "Cannot record a push error.");
                }
            }
            Err(e) => tracing::error!(error = %e, "Cannot record a push error."),
        }
    }
    tracing::warn!(mapping = %mapping.id, subject = ?subject, code, %reason, "Push failed.");
    match retry_in {
        Some(after) => JobError::Retry { reason, after: Some(after) },
        None => JobError::Permanent(reason),
    }
}
