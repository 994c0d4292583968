//! Two-way sync, inbound: what a change made in the tracker does to a finding. Pure rules; the
//! engine looks up the ticket and the finding, asks here, and writes the answer.

use super::{CloseReason, MappingConfig, TicketFields, TicketState};
use crate::Status;
use serde::{Deserialize, Serialize};

/// One change to a remote ticket, as a tracker's webhook (or a reconcile poll) reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum RemoteChange {
    /// Closed, with the tracker's reason when it has one (`None`: it does not say).
    Closed { reason: Option<CloseReason> },
    Reopened,
    /// A status-like field changed (a GitHub project's `Status` field).
    Field { field: String, value: String },
    /// The ticket moved to another workflow status (a Jira status, an Azure DevOps state, a
    /// ServiceNow state), whose category says whether it counts as closed.
    Status { value: String, state: TicketState },
    /// The ticket was deleted.
    Deleted,
    /// A comment was added in the tracker (only reported for mappings that sync comments).
    Comment { body: String },
}

/// Every comment vulnbridge writes ends with this line: a comment that comes back carrying it
/// is our own.
pub const COMMENT_SIGNATURE: &str = "— vulnbridge";

impl RemoteChange {
    /// For the changelog: `closed (not planned)`, `Status → Done`.
    pub fn describe(&self) -> String {
        match self {
            RemoteChange::Closed { reason: Some(CloseReason::Completed) } => "closed (completed)".into(),
            RemoteChange::Closed { reason: Some(CloseReason::NotPlanned) } => "closed (not planned)".into(),
            RemoteChange::Closed { reason: Some(CloseReason::Duplicate) } => "closed (duplicate)".into(),
            RemoteChange::Closed { reason: None } => "closed".into(),
            RemoteChange::Reopened => "reopened".into(),
            RemoteChange::Field { field, value } => format!("{field} → {value}"),
            RemoteChange::Status { value, .. } => format!("status → {value}"),
            RemoteChange::Deleted => "deleted".into(),
            RemoteChange::Comment { .. } => "commented".into(),
        }
    }
}

/// Does the change only report what we ourselves sent (the fields last sent, or the fields of
/// a push in flight)? Trackers send webhooks for our own writes too; those change nothing.
pub fn is_echo(change: &RemoteChange, sent: &[&TicketFields]) -> bool {
    sent.iter().any(|f| match change {
        RemoteChange::Closed { .. } => !f.state.is_open(),
        RemoteChange::Reopened => f.state.is_open(),
        RemoteChange::Field { field, value } => {
            (f.status.field == *field && f.status.value == *value)
                || (f.severity.field == *field && f.severity.value == *value)
                || f.custom.get(field).and_then(|v| v.as_str()) == Some(value.as_str())
        }
        RemoteChange::Status { value, state } => f.status.value == *value && f.state.is_open() == state.is_open(),
        RemoteChange::Deleted | RemoteChange::Comment { .. } => false,
    }) || matches!(change, RemoteChange::Comment { body } if body.trim_end().ends_with(COMMENT_SIGNATURE))
}

/// How long after a push our own account's status changes may still be steps of it: webhooks
/// arrive late, and a workflow walked in several transitions reports each one.
pub const PASSING_STEP_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Is this status change a step on the way to the status we are sending (or just sent)?
/// Reaching a Jira status may take several transitions (To Do → In Progress → Done), and the
/// tracker reports each; the intermediate ones match nothing we sent, yet must not reopen or
/// close findings. A step is made by vulnbridge's own account (`account`, learnt by "check
/// connection") while a push is in flight or shortly after one. Unknown account: only while a
/// push is in flight — never guess that a person's change is ours.
pub fn is_passing_step(
    change: &RemoteChange,
    pushing: bool,
    last_pushed_at: Option<chrono::DateTime<chrono::Utc>>,
    actor: Option<&str>,
    account: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    if !matches!(change, RemoteChange::Status { .. } | RemoteChange::Field { .. }) {
        return false;
    }
    let ours = match (actor, account) {
        (Some(actor), Some(account)) => actor.trim().eq_ignore_ascii_case(account.trim()),
        (_, None) => return pushing,
        (None, Some(_)) => false,
    };
    ours && (pushing || last_pushed_at.is_some_and(|at| now - at <= PASSING_STEP_WINDOW))
}

/// The status a finding (currently `current`) takes after a tracker change, or `None` when it
/// keeps its status. The rules:
/// - closed as done (or without a reason): an open finding becomes the mapping's
///   `inbound.closed` (`closed`, or `awaiting_validation` to have security confirm the fix);
/// - closed as not planned or duplicate: `inbound.not_planned`, which by default leaves the
///   finding alone (a developer's "won't fix" is not a security decision);
/// - reopened: a finding closed or awaiting validation becomes `inbound.reopened`; one a person
///   triaged (false positive, risk accepted, out of scope, duplicate) keeps that decision;
/// - a status value (a project's Status field, a workflow status): what the status mapping
///   says it means (`StatusMapping::meaning`: an alias, or the status whose value it is). A
///   workflow status the mapping does not name is judged by its category, as a close or a
///   reopen. A field value the mapping does not name changes nothing.
pub fn status_after(change: &RemoteChange, mapping: &MappingConfig, current: Status) -> Option<Status> {
    let inbound = &mapping.inbound;
    if !inbound.enabled {
        return None;
    }
    let closed_as_done = |current: Status| current.is_open().then_some(inbound.closed);
    let reopened = |current: Status| matches!(current, Status::Closed | Status::AwaitingValidation).then_some(inbound.reopened);
    let target = match change {
        RemoteChange::Closed { reason } => match reason {
            Some(CloseReason::NotPlanned | CloseReason::Duplicate) if current.is_open() => inbound.not_planned?,
            _ => closed_as_done(current)?,
        },
        RemoteChange::Reopened => reopened(current)?,
        RemoteChange::Field { field, value } => {
            if *field != mapping.status_mapping.field {
                return None;
            }
            means(mapping.status_mapping.meaning(value)?, current, inbound)?
        }
        RemoteChange::Status { value, state } => match mapping.status_mapping.meaning(value) {
            Some(meant) => means(meant, current, inbound)?,
            None if state.is_open() => reopened(current)?,
            None => closed_as_done(current)?,
        },
        RemoteChange::Deleted | RemoteChange::Comment { .. } => return None,
    };
    (target != current).then_some(target)
}

/// What a tracker value meaning `meant` does to a finding that is `current`.
fn means(meant: Status, current: Status, inbound: &super::InboundMapping) -> Option<Status> {
    match meant {
        // Back to work: only findings closed as fixed reopen (triage decisions stand).
        Status::Active => (current.is_open() || matches!(current, Status::Closed | Status::AwaitingValidation)).then_some(inbound.reopened),
        Status::InProgress | Status::AwaitingValidation => Some(meant),
        Status::Closed => current.is_open().then_some(inbound.closed),
        // A triage decision made in the tracker applies to open findings.
        Status::FalsePositive | Status::RiskAccepted | Status::OutOfScope => current.is_open().then_some(meant),
        Status::Duplicate => None,
    }
}

/// The remote ticket's fields as we now know them, after a change reported by the tracker:
/// the base of the next push, so that it neither repeats the change nor undoes it by accident.
pub fn remote_fields_after(change: &RemoteChange, last: &TicketFields) -> TicketFields {
    let mut f = last.clone();
    match change {
        RemoteChange::Closed { reason } => f.state = TicketState::Closed(reason.unwrap_or(CloseReason::Completed)),
        RemoteChange::Reopened => f.state = TicketState::Open,
        RemoteChange::Field { field, value } => {
            if f.status.field == *field {
                f.status.value = value.clone();
            } else if f.severity.field == *field {
                f.severity.value = value.clone();
            } else if f.custom.contains_key(field) {
                f.custom.insert(field.clone(), serde_json::Value::String(value.clone()));
            }
        }
        RemoteChange::Status { value, state } => {
            f.status.value = value.clone();
            // Keep the reason we sent if the category did not change.
            if f.state.is_open() != state.is_open() {
                f.state = *state;
            }
        }
        RemoteChange::Deleted | RemoteChange::Comment { .. } => {}
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::{FieldValue, MappingTarget};
    use Status::*;

    fn github() -> MappingConfig {
        MappingConfig::defaults(MappingTarget::GitHub { repository: "api".into(), project_number: Some(1) })
    }

    fn sent(state: TicketState, status: &str) -> TicketFields {
        TicketFields {
            title: "t".into(),
            body: "b".into(),
            labels: Default::default(),
            severity: FieldValue::new("Priority", "P3"),
            status: FieldValue::new("Status", status),
            state,
            custom: Default::default(),
        }
    }

    #[test]
    fn our_own_workflow_steps_are_not_changes() {
        let now = chrono::Utc::now();
        let step = RemoteChange::Status { value: "In Progress".into(), state: TicketState::Open };
        let bot = Some("bot@acme.com");
        // In flight, or just pushed, by our account: a step.
        assert!(is_passing_step(&step, true, None, Some("BOT@acme.com"), bot, now));
        assert!(is_passing_step(&step, false, Some(now - chrono::TimeDelta::seconds(30)), Some("bot@acme.com"), bot, now));
        // Long after the push, or by someone else: a real change.
        assert!(!is_passing_step(&step, false, Some(now - chrono::TimeDelta::minutes(10)), Some("bot@acme.com"), bot, now));
        assert!(!is_passing_step(&step, true, Some(now), Some("carol@acme.com"), bot, now));
        assert!(!is_passing_step(&step, true, Some(now), None, bot, now));
        // Account unknown: only while a push is in flight.
        assert!(is_passing_step(&step, true, None, Some("carol@acme.com"), None, now));
        assert!(!is_passing_step(&step, false, Some(now), Some("bot@acme.com"), None, now));
        // Closes, reopens, comments and deletes are never steps.
        for other in [RemoteChange::Reopened, RemoteChange::Closed { reason: None }, RemoteChange::Deleted, RemoteChange::Comment { body: "x".into() }] {
            assert!(!is_passing_step(&other, true, Some(now), Some("bot@acme.com"), bot, now));
        }
    }

    #[test]
    fn a_close_closes_open_findings_or_sends_them_to_validation() {
        let mut m = github();
        let closed = RemoteChange::Closed { reason: Some(CloseReason::Completed) };
        assert_eq!(status_after(&closed, &m, Active), Some(Closed));
        assert_eq!(status_after(&closed, &m, InProgress), Some(Closed));
        assert_eq!(status_after(&closed, &m, FalsePositive), None);
        m.inbound.closed = AwaitingValidation;
        assert_eq!(status_after(&closed, &m, Active), Some(AwaitingValidation));
        assert_eq!(status_after(&closed, &m, AwaitingValidation), None);
        m.inbound.enabled = false;
        assert_eq!(status_after(&closed, &m, Active), None);
    }

    #[test]
    fn not_planned_is_left_alone_unless_mapped() {
        let mut m = github();
        let np = RemoteChange::Closed { reason: Some(CloseReason::NotPlanned) };
        assert_eq!(status_after(&np, &m, Active), None);
        m.inbound.not_planned = Some(RiskAccepted);
        assert_eq!(status_after(&np, &m, Active), Some(RiskAccepted));
    }

    #[test]
    fn a_reopen_reopens_only_what_was_closed_as_fixed() {
        let m = github();
        assert_eq!(status_after(&RemoteChange::Reopened, &m, Closed), Some(Active));
        assert_eq!(status_after(&RemoteChange::Reopened, &m, AwaitingValidation), Some(Active));
        assert_eq!(status_after(&RemoteChange::Reopened, &m, FalsePositive), None);
        assert_eq!(status_after(&RemoteChange::Reopened, &m, Active), None);
    }

    #[test]
    fn status_field_values_map_back() {
        let mut m = github();
        m.status_mapping.in_progress = Some("Doing".into());
        let set = |v: &str| RemoteChange::Field { field: "Status".into(), value: v.into() };
        assert_eq!(status_after(&set("Doing"), &m, Active), Some(InProgress));
        assert_eq!(status_after(&set("Done"), &m, InProgress), Some(Closed));
        assert_eq!(status_after(&set("Done"), &m, RiskAccepted), None);
        assert_eq!(status_after(&set("In Progress"), &m, Closed), Some(Active));
        assert_eq!(status_after(&set("Backlog"), &m, Active), None);
        assert_eq!(status_after(&RemoteChange::Field { field: "Priority".into(), value: "P0".into() }, &m, Active), None);
    }

    #[test]
    fn workflow_statuses_map_or_fall_back_to_their_category() {
        let mut m = MappingConfig::defaults(MappingTarget::ServiceNow { table: "incident".into(), assignment_group: None });
        m.status_mapping.in_progress = Some("In Progress".into());
        m.status_mapping.aliases.insert("Canceled".into(), RiskAccepted);
        let closed = TicketState::Closed(CloseReason::Completed);
        let st = |v: &str, state: TicketState| RemoteChange::Status { value: v.into(), state };
        assert_eq!(status_after(&st("Closed", closed), &m, Active), Some(Closed));
        // Resolved stands for both False Positive and Risk Accepted: nothing certain, so its
        // category decides: done.
        assert_eq!(status_after(&st("Resolved", closed), &m, Active), Some(Closed));
        assert_eq!(status_after(&st("Canceled", closed), &m, Active), Some(RiskAccepted), "an alias");
        assert_eq!(status_after(&st("In Progress", TicketState::Open), &m, Active), Some(InProgress));
        assert_eq!(status_after(&st("On Hold", TicketState::Open), &m, Closed), Some(Active), "unknown, open: a reopen");
        assert_eq!(status_after(&st("On Hold", TicketState::Open), &m, FalsePositive), None);
        assert_eq!(status_after(&st("New", TicketState::Open), &m, Closed), Some(Active));
        assert_eq!(status_after(&st("Closed", closed), &m, RiskAccepted), None);
    }

    #[test]
    fn meanings_prefer_closed_and_refuse_to_guess() {
        let m = MappingConfig::defaults(MappingTarget::GitHub { repository: "r".into(), project_number: None }).status_mapping;
        assert_eq!(m.meaning("Done"), Some(Closed));
        assert_eq!(m.meaning("In Progress"), Some(Active));
        assert_eq!(m.meaning("Backlog"), None);
        let sn = MappingConfig::defaults(MappingTarget::ServiceNow { table: "incident".into(), assignment_group: None }).status_mapping;
        assert_eq!(sn.meaning("Resolved"), None);
    }

    #[test]
    fn our_own_writes_are_echoes() {
        let open = sent(TicketState::Open, "In Progress");
        let closed = sent(TicketState::Closed(CloseReason::Completed), "Done");
        assert!(is_echo(&RemoteChange::Closed { reason: None }, &[&closed]));
        assert!(!is_echo(&RemoteChange::Closed { reason: None }, &[&open]));
        assert!(is_echo(&RemoteChange::Closed { reason: None }, &[&open, &closed]), "a push in flight closing it");
        assert!(is_echo(&RemoteChange::Reopened, &[&open]));
        assert!(is_echo(&RemoteChange::Field { field: "Status".into(), value: "Done".into() }, &[&closed]));
        assert!(!is_echo(&RemoteChange::Field { field: "Status".into(), value: "Done".into() }, &[&open]));
        assert!(!is_echo(&RemoteChange::Deleted, &[&open]));
        assert!(is_echo(&RemoteChange::Comment { body: format!("Closed.\n\n{COMMENT_SIGNATURE}") }, &[]));
        assert!(!is_echo(&RemoteChange::Comment { body: "Fixed in #12".into() }, &[&open]));
    }

    #[test]
    fn remote_changes_update_what_we_know() {
        let open = sent(TicketState::Open, "In Progress");
        let f = remote_fields_after(&RemoteChange::Closed { reason: Some(CloseReason::NotPlanned) }, &open);
        assert_eq!(f.state, TicketState::Closed(CloseReason::NotPlanned));
        let f = remote_fields_after(&RemoteChange::Field { field: "Status".into(), value: "Done".into() }, &open);
        assert_eq!(f.status.value, "Done");
    }
}
