//! Two-way sync, inbound: changes a tracker reports (webhooks) applied to findings.
//!
//! For each event, in one transaction: a delivery seen before is skipped (trackers retry); an
//! event about a ticket we do not own is ignored (one indexed lookup); an echo of our own write
//! (the change matches what we last sent or are sending, or is a workflow step our account
//! took on the way there) changes nothing; otherwise the ticket's remote state is recorded and the mapping's
//! inbound rules (`domain::tracker::inbound`) decide each finding's new status. Findings that
//! change are pushed on as any change is (their other tickets follow).

use super::enqueue;
use crate::App;
use domain::tracker::inbound::{is_echo, is_passing_step, remote_fields_after, status_after};
use domain::tracker::{
    Instance, JiraSpace, LinkState, Mapping, MappingConfig, MappingTarget, RemoteChange, RemoteState, Subject, Ticket,
    TicketChange, TicketState,
};
use domain::{Finding, FindingId};
use serde::Serialize;
use store::{findings, history, mappings, notes, tickets, webhook_deliveries};
use trackers::webhook::InboundEvent;

/// What happened to one event.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Applied {
    /// A delivery already applied.
    Repeated,
    /// About a ticket vulnbridge does not own.
    NotOurs,
    /// Our own write, reported back.
    Echo,
    /// Recorded on the ticket; these findings changed status.
    Applied { findings: Vec<FindingId> },
    /// A comment, kept as a note on the ticket's findings.
    Noted { findings: Vec<FindingId> },
    /// Recorded on the ticket's changelog only, for the reason given.
    Ignored { reason: String },
}

/// Applies a verified webhook's events for `instance`.
pub async fn apply(app: &App, instance: &Instance, events: Vec<InboundEvent>) -> anyhow::Result<Vec<Applied>> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        out.push(apply_one(app, instance, e).await?);
    }
    Ok(out)
}

async fn apply_one(app: &App, instance: &Instance, e: InboundEvent) -> anyhow::Result<Applied> {
    let now = store::now();
    let mut tx = app.db().begin().await?;
    if let Some(d) = &e.delivery {
        // Deliveries carry one id for several events in some trackers: key it by the ticket too.
        let key = format!("{d}:{}", e.remote_id);
        if !webhook_deliveries::first_time(&mut tx, instance.id, &key, now).await? {
            return Ok(Applied::Repeated);
        }
    }
    let Some(ticket) = tickets::by_remote(&mut tx, instance.id, &e.remote_id).await? else {
        tx.commit().await?;
        return Ok(Applied::NotOurs);
    };
    let actor = e.actor.clone().unwrap_or_else(|| instance.vendor.as_str().to_owned());
    // Echoes are recognised by content, not by who made the change: people often give
    // vulnbridge their own token, and their own changes in the tracker must still count.
    let sent: Vec<_> = ticket.last_sent.iter().chain(ticket.sending.iter()).collect();
    if is_echo(&e.change, &sent) {
        tx.commit().await?;
        return Ok(Applied::Echo);
    }
    if is_passing_step(&e.change, ticket.sending.is_some(), ticket.last_pushed_at, e.actor.as_deref(), instance.account.as_deref(), now) {
        tx.commit().await?;
        return Ok(Applied::Echo);
    }
    let mapping = mappings::get(&mut tx, ticket.mapping).await?;
    let who = format!("{}:{actor}", instance.vendor.as_str());
    if e.change == RemoteChange::Deleted {
        if ticket.link_state == LinkState::Deleted {
            // We deleted it (Jira: a false positive's issue), and the tracker says so.
            tx.commit().await?;
            return Ok(Applied::Echo);
        }
        tickets::mark_deleted(&mut tx, ticket.id).await?;
        tickets::add_change(&mut tx, ticket.id, &TicketChange { at: now, action: "deleted".into(), detail: "deleted in the tracker".into(), actor: actor.clone() }).await?;
        tx.commit().await?;
        return Ok(Applied::Applied { findings: Vec::new() });
    }
    if ticket.link_state != LinkState::Linked {
        tx.commit().await?;
        return Ok(Applied::NotOurs);
    }
    let members = members(&mut tx, ticket.subject).await?;
    if let RemoteChange::Comment { body } = &e.change {
        let outcome = if syncs_comments(&mapping.config) {
            for f in &members {
                notes::add(&mut tx, f.id, &who, body, "tracker", Some(ticket.id)).await?;
            }
            Applied::Noted { findings: members.iter().map(|f| f.id).collect() }
        } else {
            Applied::Ignored { reason: "this mapping does not sync comments".into() }
        };
        tickets::add_change(&mut tx, ticket.id, &TicketChange { at: now, action: "comment".into(), detail: first_line(body), actor }).await?;
        tx.commit().await?;
        return Ok(outcome);
    }
    if security_issue_decides(&mut tx, &mapping, &ticket, &e.change).await? {
        let detail = format!(
            "{}; the finding follows its security issue (the product space does not close security issues: close_security_issue_when_done is off)",
            e.change.describe()
        );
        tickets::add_change(&mut tx, ticket.id, &TicketChange { at: now, action: "inbound".into(), detail, actor }).await?;
        tx.commit().await?;
        return Ok(Applied::Ignored { reason: "the security issue decides".into() });
    }

    // What the ticket now shows: the next push starts from here, so it neither repeats the
    // change nor undoes it by accident.
    let shows = ticket.last_sent.as_ref().map(|l| remote_fields_after(&e.change, l));
    let state = RemoteState {
        state: shows.as_ref().map(|s| s.state).unwrap_or(match e.change {
            RemoteChange::Reopened => TicketState::Open,
            _ => TicketState::Closed(domain::tracker::CloseReason::Completed),
        }),
        status: match &e.change {
            RemoteChange::Field { field, value } if *field == mapping.config.status_mapping.field => Some(value.clone()),
            _ => ticket.remote_state.as_ref().and_then(|r| r.status.clone()),
        },
        changed_by: actor.clone(),
        changed_at: now,
    };
    tickets::record_remote(&mut tx, ticket.id, &state, shows.as_ref()).await?;

    let mut changed = Vec::new();
    let mut said = Vec::new();
    for before in members {
        let Some(status) = status_after(&e.change, &mapping.config, before.status) else { continue };
        let mut after = before.clone();
        after.set_status(status, now, &who);
        findings::update(&mut tx, &after).await?;
        history::record(&mut tx, after.id, &who, "tracker", Finding::diff(&before, &after)).await?;
        said.push(format!("finding {} → {}", after.id, status.label()));
        changed.push(after.id);
    }
    let detail = if said.is_empty() {
        format!("{}; no finding changed", e.change.describe())
    } else {
        format!("{}: {}", e.change.describe(), said.join(", "))
    };
    tickets::add_change(&mut tx, ticket.id, &TicketChange { at: now, action: "inbound".into(), detail, actor }).await?;
    // The findings' other tickets (and this one's other fields) follow.
    enqueue::after_changed(&mut tx, &changed).await?;
    tx.commit().await?;
    Ok(Applied::Applied { findings: changed })
}

/// The findings a ticket stands for.
async fn members(tx: &mut store::Tx, subject: Subject) -> anyhow::Result<Vec<Finding>> {
    Ok(match subject {
        Subject::Finding(f) => vec![findings::get(tx, f).await?],
        Subject::Group(g) => {
            findings::list(tx, &findings::Filter { finding_group: Some(g), ..Default::default() }, &domain::Visibility::All, store::PageRequest::all())
                .await?
                .results
        }
    })
}

/// Whether a mapping keeps comments in sync (Jira's `sync_comments`).
pub fn syncs_comments(config: &MappingConfig) -> bool {
    matches!(config.target, MappingTarget::Jira { sync_comments: true, .. })
}

fn first_line(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let mut short: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        short.push('…');
    }
    short
}

/// Jira with both spaces: a product issue done closes nothing unless the product space's
/// mapping says `close_security_issue_when_done` — the finding follows its security issue.
async fn security_issue_decides(tx: &mut store::Tx, mapping: &Mapping, ticket: &Ticket, change: &RemoteChange) -> anyhow::Result<bool> {
    let MappingTarget::Jira { space: JiraSpace::Product, close_security_issue_when_done: false, .. } = mapping.config.target else {
        return Ok(false);
    };
    // Does the change close a finding that is open?
    if status_after(change, &mapping.config, domain::Status::Active).is_none_or(|s| s.is_open()) {
        return Ok(false);
    }
    let others = match ticket.subject {
        Subject::Finding(f) => tickets::for_findings(tx, &[f]).await?,
        Subject::Group(g) => tickets::for_groups(tx, &[g]).await?,
    };
    for other in others.into_iter().filter(|t| t.instance == ticket.instance && t.mapping != ticket.mapping && t.link_state == LinkState::Linked) {
        let m = mappings::get(tx, other.mapping).await?;
        if matches!(m.config.target, MappingTarget::Jira { space: JiraSpace::Security, .. }) {
            return Ok(true);
        }
    }
    Ok(false)
}
