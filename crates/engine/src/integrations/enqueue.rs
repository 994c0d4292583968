//! Which pushes a change needs, enqueued in the transaction that made the change (so a change
//! and the push it needs commit together, or neither does).
//!
//! For each finding that was created or changed, every assignment that governs it (the
//! engagement's for a mapping, else the product's: `effective_assignments`) is asked
//! `should_push` with the finding's severity and status and whether it already has a ticket in
//! that mapping. A finding in a group is pushed as its group (one ticket listing the group's
//! findings), unless the finding already has a ticket of its own in that mapping.
//!
//! Once queued, a push job brings the ticket up to date with what the finding is when the job
//! runs: pushes queued for one ticket collapse into one (the jobs' dedupe key).

use crate::jobs::{PushBatch, PushTicket};
use domain::tracker::{Assignment, Subject, Trigger, effective_assignments, should_push};
use domain::{EngagementId, FindingGroupId, FindingId, MappingId, ProductId, Severity, Status};
use std::collections::{BTreeMap, HashMap, HashSet};
use store::findings::Brief;
use store::jobs::NewJob;
use store::{AsConn, StoreError, assignments, findings, groups, tickets};

/// A push queued (or that would be, for dry runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub mapping: MappingId,
    pub subject: Subject,
}

/// Manual pushes go before automatic ones.
const MANUAL_PRIORITY: i16 = 10;

/// Queues pushes for findings just created (an import, the API).
pub async fn after_created(c: &mut impl AsConn, ids: &[FindingId]) -> store::Result<u64> {
    automatic(c, ids, Trigger::New).await
}

/// Queues the pushes an import needs: its new findings linked, its closed, reactivated and
/// updated findings' tickets updated. Costs one query when the product has no assignment.
pub async fn after_import(c: &mut impl AsConn, product: ProductId, created: &[FindingId], changed: &[FindingId]) -> store::Result<u64> {
    if created.is_empty() && changed.is_empty() || assignments::for_product(c, product).await?.is_empty() {
        return Ok(0);
    }
    Ok(automatic(c, created, Trigger::New).await? + automatic(c, changed, Trigger::Changed).await?)
}

/// Queues pushes for findings that changed (triage, a reimport, a tracker's change).
pub async fn after_changed(c: &mut impl AsConn, ids: &[FindingId]) -> store::Result<u64> {
    automatic(c, ids, Trigger::Changed).await
}

/// Queues pushes for groups whose membership changed (or that were just made): their tickets
/// list their findings.
pub async fn after_groups_changed(c: &mut impl AsConn, ids: &[FindingGroupId]) -> store::Result<u64> {
    let mut jobs = Vec::new();
    let mut assignment_cache: HashMap<ProductId, Vec<Assignment>> = HashMap::new();
    for id in ids {
        let g = match groups::get(c, *id).await {
            Ok(g) => g,
            Err(StoreError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let all = product_assignments(c, &mut assignment_cache, g.product).await?;
        let governing = effective_assignments(all, g.engagement);
        if governing.is_empty() {
            continue;
        }
        let linked: HashSet<MappingId> = tickets::for_groups(c, &[g.id]).await?.into_iter().map(|t| t.mapping).collect();
        for a in governing {
            let has = linked.contains(&a.mapping);
            let trigger = if has { Trigger::Changed } else { Trigger::New };
            if should_push(trigger, a.push_mode, &a.filters, has, g.severity, g.status) {
                jobs.push(job(a.mapping, Subject::Group(g.id), trigger, None));
            }
        }
    }
    store::jobs::enqueue_many(c, jobs).await
}

async fn product_assignments<'a>(
    c: &mut impl AsConn,
    cache: &'a mut HashMap<ProductId, Vec<Assignment>>,
    product: ProductId,
) -> store::Result<&'a Vec<Assignment>> {
    if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(product) {
        e.insert(assignments::for_product(c, product).await?);
    }
    Ok(&cache[&product])
}

/// The automatic pushes for findings, by trigger.
async fn automatic(c: &mut impl AsConn, ids: &[FindingId], trigger: Trigger) -> store::Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let briefs = findings::briefs(c, ids).await?;
    // Most imports land in one product with no assignment: one query decides that.
    let mut assignment_cache: HashMap<ProductId, Vec<Assignment>> = HashMap::new();
    let mut governed: Vec<(Brief, Vec<Assignment>)> = Vec::new();
    for b in briefs {
        let all = product_assignments(c, &mut assignment_cache, b.product).await?;
        let eff: Vec<Assignment> = effective_assignments(all, b.engagement).into_iter().cloned().collect();
        if !eff.is_empty() {
            governed.push((b, eff));
        }
    }
    if governed.is_empty() {
        return Ok(0);
    }
    let finding_ids: Vec<FindingId> = governed.iter().map(|(b, _)| b.id).collect();
    let group_ids: Vec<FindingGroupId> = {
        let set: HashSet<FindingGroupId> = governed.iter().filter_map(|(b, _)| b.group).collect();
        set.into_iter().collect()
    };
    let mut linked: HashSet<(MappingId, Subject)> = HashSet::new();
    for t in tickets::for_findings(c, &finding_ids).await? {
        linked.insert((t.mapping, t.subject));
    }
    for t in tickets::for_groups(c, &group_ids).await? {
        linked.insert((t.mapping, t.subject));
    }
    let mut group_state: HashMap<FindingGroupId, (Severity, Status)> = HashMap::new();
    for g in &group_ids {
        if let Ok(group) = groups::get(c, *g).await {
            group_state.insert(*g, (group.severity, group.status));
        }
    }
    // One decision per (mapping, subject): a group reached through several of its findings
    // is pushed once.
    let mut decided: BTreeMap<(MappingId, Subject), Trigger> = BTreeMap::new();
    for (b, eff) in &governed {
        for a in eff {
            let own = Subject::Finding(b.id);
            let own_linked = linked.contains(&(a.mapping, own));
            // A finding with a ticket of its own keeps it up to date; a finding in a group is
            // also (or, without a ticket of its own, only) listed on its group's ticket.
            let mut candidates = Vec::with_capacity(2);
            if own_linked || b.group.is_none() {
                candidates.push((own, b.severity, b.status));
            }
            if let Some(g) = b.group
                && let Some((sev, st)) = group_state.get(&g)
                && (!own_linked || linked.contains(&(a.mapping, Subject::Group(g))))
            {
                candidates.push((Subject::Group(g), *sev, *st));
            }
            for (subject, severity, status) in candidates {
                let has = linked.contains(&(a.mapping, subject));
                // A new finding joining a group that has a ticket changes that ticket.
                let trig = if has { Trigger::Changed } else { trigger };
                if should_push(trig, a.push_mode, &a.filters, has, severity, status) {
                    decided.entry((a.mapping, subject)).or_insert(trig);
                }
            }
        }
    }
    let decided = decided.into_iter().map(|((m, s), t)| (m, s, t, linked.contains(&(m, s)))).collect();
    let jobs = into_jobs(c, decided, None).await?;
    store::jobs::enqueue_many(c, jobs).await
}

/// Turns push decisions `(mapping, subject, trigger, has a ticket)` into jobs: tickets to
/// create for a tracker with a bulk API go in batches of its bulk size (two or more), the rest
/// one job each.
async fn into_jobs(c: &mut impl AsConn, decided: Vec<(MappingId, Subject, Trigger, bool)>, by: Option<&str>) -> store::Result<Vec<NewJob>> {
    let mut vendors: HashMap<MappingId, usize> = HashMap::new();
    let mut batches: BTreeMap<(MappingId, bool), Vec<Subject>> = BTreeMap::new();
    let mut jobs = Vec::new();
    for (m, s, t, linked) in decided {
        let size = match vendors.get(&m) {
            Some(size) => *size,
            None => {
                let size = match store::mappings::get(c, m).await {
                    Ok(mapping) => store::instances::get(c, mapping.instance).await.map(|i| i.settings.bulk_size(i.vendor)).unwrap_or(1),
                    Err(_) => 1,
                };
                vendors.insert(m, size);
                size
            }
        };
        if !linked && size > 1 {
            batches.entry((m, t == Trigger::Manual)).or_default().push(s);
        } else {
            jobs.push(job(m, s, t, by.map(str::to_owned)));
        }
    }
    for ((m, manual), subjects) in batches {
        let trigger = if manual { Trigger::Manual } else { Trigger::New };
        for chunk in subjects.chunks(vendors[&m]) {
            if let [one] = chunk {
                jobs.push(job(m, *one, trigger, by.map(str::to_owned)));
                continue;
            }
            let batch = PushBatch { mapping: m, subjects: chunk.to_vec(), trigger, by: by.map(str::to_owned) };
            let mut j = crate::worker::new_job(&batch);
            if manual {
                j = j.priority(MANUAL_PRIORITY);
            }
            jobs.push(j);
        }
    }
    Ok(jobs)
}

fn job(mapping: MappingId, subject: Subject, trigger: Trigger, by: Option<String>) -> NewJob {
    let manual = trigger == Trigger::Manual;
    let payload = PushTicket { mapping, subject, trigger, by };
    let mut j = crate::worker::new_job(&payload);
    if manual {
        j = j.priority(MANUAL_PRIORITY);
    }
    j
}

/// Why a manual push of a subject queued nothing.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct NotQueued {
    pub subject: Subject,
    pub reason: String,
}

/// "Push to Integrators": one push per mapping assigned to the subject's product or
/// engagement, whatever the push mode and filters. A finding in a group is pushed as its group
/// unless it has a ticket of its own in that mapping. `subjects` must exist (the caller checked
/// them and the actor's rights).
pub async fn manual(c: &mut impl AsConn, subjects: &[Subject], by: &str) -> store::Result<(Vec<Queued>, Vec<NotQueued>)> {
    let mut cache: HashMap<ProductId, Vec<Assignment>> = HashMap::new();
    let mut queued: Vec<Queued> = Vec::new();
    let mut not_queued = Vec::new();
    let mut decided = Vec::new();
    for s in subjects {
        let (product, engagement, group): (ProductId, EngagementId, Option<FindingGroupId>) = match s {
            Subject::Finding(f) => {
                let f = findings::get(c, *f).await?;
                (f.product, f.engagement, f.finding_group)
            }
            Subject::Group(g) => {
                let g = groups::get(c, *g).await?;
                (g.product, g.engagement, None)
            }
        };
        let all = product_assignments(c, &mut cache, product).await?;
        let governing: Vec<MappingId> = effective_assignments(all, engagement).iter().map(|a| a.mapping).collect();
        if governing.is_empty() {
            not_queued.push(NotQueued {
                subject: *s,
                reason: format!("product {product} has no issue tracker assignment: assign it to a mapping first"),
            });
            continue;
        }
        let own: HashSet<MappingId> = match s {
            Subject::Finding(f) => tickets::for_findings(c, &[*f]).await?.into_iter().map(|t| t.mapping).collect(),
            Subject::Group(g) => tickets::for_groups(c, &[*g]).await?.into_iter().map(|t| t.mapping).collect(),
        };
        let group_own: HashSet<MappingId> = match (s, group) {
            (Subject::Finding(_), Some(g)) => tickets::for_groups(c, &[g]).await?.into_iter().map(|t| t.mapping).collect(),
            _ => HashSet::new(),
        };
        for m in governing {
            let (subject, linked) = match (s, group) {
                (Subject::Finding(_), Some(g)) if !own.contains(&m) => (Subject::Group(g), group_own.contains(&m)),
                _ => (*s, own.contains(&m)),
            };
            let q = Queued { mapping: m, subject };
            if !queued.contains(&q) {
                queued.push(q);
                decided.push((m, subject, Trigger::Manual, linked));
            }
        }
    }
    let jobs = into_jobs(c, decided, Some(by)).await?;
    store::jobs::enqueue_many(c, jobs).await?;
    Ok((queued, not_queued))
}

/// Queues a manual push of exactly this subject in this mapping (a retry from the error
/// table).
pub async fn retry(c: &mut impl AsConn, mapping: MappingId, subject: Subject, by: &str) -> store::Result<()> {
    store::jobs::enqueue_many(c, vec![job(mapping, subject, Trigger::Manual, Some(by.to_owned()))]).await?;
    Ok(())
}

/// Queues a note written on a finding as a comment on its tickets (and its group's) in the
/// mappings that sync comments. Returns how many comments were queued.
pub async fn after_note(c: &mut impl AsConn, finding: FindingId, author: &str, text: &str) -> store::Result<usize> {
    let f = findings::get(c, finding).await?;
    let mut list = tickets::for_findings(c, &[finding]).await?;
    if let Some(g) = f.finding_group {
        list.extend(tickets::for_groups(c, &[g]).await?);
    }
    let body = format!("{author}: {text}\n\n{}", domain::tracker::inbound::COMMENT_SIGNATURE);
    let mut jobs = Vec::new();
    for t in list.into_iter().filter(|t| t.link_state == domain::tracker::LinkState::Linked) {
        let m = store::mappings::get(c, t.mapping).await?;
        if super::inbound::syncs_comments(&m.config) {
            jobs.push(crate::worker::new_job(&crate::jobs::PushComment { ticket: t.id, text: body.clone(), by: author.to_owned() }));
        }
    }
    let n = jobs.len();
    store::jobs::enqueue_many(c, jobs).await?;
    Ok(n)
}
