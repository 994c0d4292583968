//! The push planner: pure functions that decide what to send to a tracker, and whether an
//! automatic push happens at all. No IO: the engine renders the fields, asks here, and sends.

use super::{FieldValue, PushFilters, PushMode, TicketFields, TicketState};
use crate::{Severity, Status};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What one push sends.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Plan {
    /// The ticket already shows what we would send: no call at all.
    Nothing,
    Create(TicketFields),
    Update(Changes),
}

/// The parts of a linked ticket that differ from what we last sent. Only these are sent, so
/// a person's edits to other parts of the ticket survive.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Changes {
    pub title: Option<String>,
    pub body: Option<String>,
    /// Labels we add, and labels we sent before and no longer want (labels a person added in
    /// the tracker are never removed).
    pub labels_added: BTreeSet<String>,
    pub labels_removed: BTreeSet<String>,
    pub severity: Option<FieldValue>,
    pub status: Option<FieldValue>,
    /// A close or reopen.
    pub state: Option<TicketState>,
    /// Custom fields whose value changed (`Null` when no longer set).
    pub custom: BTreeMap<String, serde_json::Value>,
    /// A comment explaining a close or reopen.
    pub comment: Option<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }

    /// The names of what changes, for the changelog: `title, labels, Priority, state`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.title.is_some() {
            parts.push("title".into());
        }
        if self.body.is_some() {
            parts.push("body".into());
        }
        if !self.labels_added.is_empty() || !self.labels_removed.is_empty() {
            parts.push("labels".into());
        }
        if let Some(s) = &self.severity {
            parts.push(format!("{} → {}", s.field, s.value));
        }
        if let Some(s) = &self.status {
            parts.push(format!("{} → {}", s.field, s.value));
        }
        match self.state {
            Some(TicketState::Open) => parts.push("reopened".into()),
            Some(TicketState::Closed(_)) => parts.push("closed".into()),
            None => {}
        }
        parts.extend(self.custom.keys().cloned());
        if self.comment.is_some() {
            parts.push("comment".into());
        }
        parts.join(", ")
    }

    /// Applies the changes to the fields they were planned from: what the ticket shows once
    /// every part was sent.
    pub fn apply_to(&self, fields: &mut TicketFields) {
        if let Some(t) = &self.title {
            fields.title = t.clone();
        }
        if let Some(b) = &self.body {
            fields.body = b.clone();
        }
        for l in &self.labels_removed {
            fields.labels.remove(l);
        }
        fields.labels.extend(self.labels_added.iter().cloned());
        if let Some(s) = &self.severity {
            fields.severity = s.clone();
        }
        if let Some(s) = &self.status {
            fields.status = s.clone();
        }
        if let Some(s) = self.state {
            fields.state = s;
        }
        for (k, v) in &self.custom {
            if v.is_null() {
                fields.custom.remove(k);
            } else {
                fields.custom.insert(k.clone(), v.clone());
            }
        }
    }
}

/// One part of a ticket a call can set. Tracker clients report each part once the tracker has
/// it, so that after a failure halfway the engine knows what was sent and what to send again.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Title,
    Body,
    Labels,
    Severity,
    Status,
    State,
    Custom(String),
    Comment,
}

impl Changes {
    /// Every part of `fields`, to be sent to a ticket whose content is unknown: one found by
    /// its marker after an interrupted create (the interrupted call may have set some parts).
    /// Sending a part a ticket already has changes nothing in the tracker.
    pub fn everything(fields: &TicketFields) -> Changes {
        Changes {
            title: Some(fields.title.clone()),
            body: Some(fields.body.clone()),
            labels_added: fields.labels.clone(),
            labels_removed: BTreeSet::new(),
            severity: Some(fields.severity.clone()),
            status: Some(fields.status.clone()),
            state: (!fields.state.is_open()).then_some(fields.state),
            custom: fields.custom.clone(),
            comment: None,
        }
    }
}

/// What a brand-new ticket shows before any part of it is set: nothing, and open. The base of
/// [`sent_so_far`] for a create.
pub fn blank(like: &TicketFields) -> TicketFields {
    TicketFields {
        title: String::new(),
        body: String::new(),
        labels: BTreeSet::new(),
        severity: FieldValue::new(&like.severity.field, ""),
        status: FieldValue::new(&like.status.field, ""),
        state: TicketState::Open,
        custom: BTreeMap::new(),
    }
}

/// What a ticket shows after a call set only the parts in `done` of `target`, starting from
/// `base` (what it showed before: [`blank`] for a create, the last-sent fields for an update).
/// The next push then plans exactly the parts that did not get through.
pub fn sent_so_far(base: &TicketFields, target: &TicketFields, done: &BTreeSet<Part>) -> TicketFields {
    let mut now = base.clone();
    for part in done {
        match part {
            Part::Title => now.title = target.title.clone(),
            Part::Body => now.body = target.body.clone(),
            Part::Labels => now.labels = target.labels.clone(),
            Part::Severity => now.severity = target.severity.clone(),
            Part::Status => now.status = target.status.clone(),
            Part::State => now.state = target.state,
            Part::Custom(name) => match target.custom.get(name) {
                Some(v) => {
                    now.custom.insert(name.clone(), v.clone());
                }
                None => {
                    now.custom.remove(name);
                }
            },
            Part::Comment => {}
        }
    }
    now
}

/// Decides what to send, given the fields a push wants and the fields last sent (`None`: no
/// ticket yet). `status` is the finding's (or group's) status, for the comment on a close or
/// reopen.
pub fn plan(desired: &TicketFields, last_sent: Option<&TicketFields>, status: Status) -> Plan {
    let Some(last) = last_sent else {
        return Plan::Create(desired.clone());
    };
    if last == desired {
        return Plan::Nothing;
    }
    let differs = |a: &String, b: &String| (a != b).then(|| a.clone());
    let mut custom = BTreeMap::new();
    for (k, v) in &desired.custom {
        if last.custom.get(k) != Some(v) {
            custom.insert(k.clone(), v.clone());
        }
    }
    for k in last.custom.keys() {
        if !desired.custom.contains_key(k) {
            custom.insert(k.clone(), serde_json::Value::Null);
        }
    }
    let state = (desired.state != last.state).then_some(desired.state);
    // A change of close reason alone (false positive → risk accepted) needs no reopen, and
    // says so in a comment only if the tracker records reasons; keep it simple: comment on
    // every state change.
    let comment = state.map(|s| {
        let text = match (s, last.state.is_open()) {
            (TicketState::Open, _) => format!("Reopened by vulnbridge: the finding is {} again.", status.label()),
            (TicketState::Closed(_), true) => format!("Closed by vulnbridge: the finding is now {}.", status.label()),
            (TicketState::Closed(_), false) => format!("The finding is now {}.", status.label()),
        };
        format!("{text}\n\n{}", super::inbound::COMMENT_SIGNATURE)
    });
    let changes = Changes {
        title: differs(&desired.title, &last.title),
        body: differs(&desired.body, &last.body),
        labels_added: desired.labels.difference(&last.labels).cloned().collect(),
        labels_removed: last.labels.difference(&desired.labels).cloned().collect(),
        severity: (desired.severity != last.severity).then(|| desired.severity.clone()),
        status: (desired.status != last.status).then(|| desired.status.clone()),
        state,
        custom,
        comment,
    };
    if changes.is_empty() { Plan::Nothing } else { Plan::Update(changes) }
}

/// Why a push was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// "Push to Integrators" (API, CLI, UI, retry from the error table).
    Manual,
    /// The finding or group is new to the product (created by an import or the API, or
    /// reopened by a reimport while it has no ticket).
    New,
    /// The finding or group changed.
    Changed,
}

/// Whether an automatic push happens, from the Assignment's mode and filters and whether a
/// ticket already exists. Filters decide automatic *creation* only; a ticket that exists is
/// always kept up to date in the update modes, closures included. Duplicates are never linked
/// automatically (their original carries the ticket). A manual push always goes.
pub fn should_push(
    trigger: Trigger,
    mode: PushMode,
    filters: &PushFilters,
    linked: bool,
    severity: Severity,
    status: Status,
) -> bool {
    match (trigger, linked) {
        (Trigger::Manual, _) => true,
        (Trigger::New | Trigger::Changed, true) => mode.updates_existing(),
        (Trigger::New, false) => mode.links_new() && status != Status::Duplicate && filters.admits(severity, status),
        (Trigger::Changed, false) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::CloseReason;
    use proptest::prelude::*;

    fn fields() -> TicketFields {
        TicketFields {
            title: "[VULNBRIDGE] 1 - SQLi".into(),
            body: "body".into(),
            labels: ["vulnbridge".to_owned(), "security".to_owned()].into(),
            severity: FieldValue::new("Priority", "P3"),
            status: FieldValue::new("Status", "In Progress"),
            state: TicketState::Open,
            custom: BTreeMap::new(),
        }
    }

    #[test]
    fn first_push_creates_and_an_unchanged_push_sends_nothing() {
        let f = fields();
        assert_eq!(plan(&f, None, Status::Active), Plan::Create(f.clone()));
        assert_eq!(plan(&f, Some(&f), Status::Active), Plan::Nothing);
    }

    #[test]
    fn only_what_changed_is_sent() {
        let last = fields();
        let mut want = fields();
        want.severity = FieldValue::new("Priority", "P4");
        want.labels.remove("security");
        want.labels.insert("team-a".into());
        let Plan::Update(c) = plan(&want, Some(&last), Status::Active) else { panic!() };
        assert_eq!(c.title, None);
        assert_eq!(c.body, None);
        assert_eq!(c.severity, Some(FieldValue::new("Priority", "P4")));
        assert_eq!(c.labels_added, ["team-a".to_owned()].into());
        assert_eq!(c.labels_removed, ["security".to_owned()].into());
        assert_eq!(c.state, None);
        assert_eq!(c.comment, None);
        assert_eq!(c.describe(), "labels, Priority → P4");
    }

    #[test]
    fn a_close_and_a_reopen_carry_a_comment() {
        let open = fields();
        let mut closed = fields();
        closed.state = TicketState::Closed(CloseReason::NotPlanned);
        closed.status = FieldValue::new("Status", "Done");
        let Plan::Update(c) = plan(&closed, Some(&open), Status::FalsePositive) else { panic!() };
        assert_eq!(c.state, Some(TicketState::Closed(CloseReason::NotPlanned)));
        assert!(c.comment.as_deref().unwrap().starts_with("Closed by vulnbridge: the finding is now False Positive."));
        let Plan::Update(c) = plan(&open, Some(&closed), Status::Active) else { panic!() };
        assert_eq!(c.state, Some(TicketState::Open));
        assert!(c.comment.as_deref().unwrap().starts_with("Reopened by vulnbridge: the finding is Active again."));
    }

    #[test]
    fn custom_fields_removed_are_cleared() {
        let mut last = fields();
        last.custom.insert("Team".into(), "payments".into());
        let want = fields();
        let Plan::Update(c) = plan(&want, Some(&last), Status::Active) else { panic!() };
        assert_eq!(c.custom.get("Team"), Some(&serde_json::Value::Null));
    }

    #[test]
    fn a_half_done_create_leaves_exactly_the_rest_to_send() {
        let mut want = fields();
        want.state = TicketState::Closed(CloseReason::NotPlanned);
        want.custom.insert("Team".into(), "payments".into());
        let done: BTreeSet<Part> = [Part::Title, Part::Body, Part::Labels].into();
        let now = sent_so_far(&blank(&want), &want, &done);
        let Plan::Update(c) = plan(&want, Some(&now), Status::FalsePositive) else { panic!() };
        assert_eq!((c.title, c.body), (None, None));
        assert!(c.labels_added.is_empty());
        assert_eq!(c.severity, Some(want.severity.clone()));
        assert_eq!(c.status, Some(want.status.clone()));
        assert_eq!(c.state, Some(TicketState::Closed(CloseReason::NotPlanned)));
        assert_eq!(c.custom.get("Team"), Some(&serde_json::json!("payments")));
        // Everything done: nothing left.
        let all: BTreeSet<Part> = [Part::Title, Part::Body, Part::Labels, Part::Severity, Part::Status, Part::State, Part::Custom("Team".into())].into();
        assert_eq!(plan(&want, Some(&sent_so_far(&blank(&want), &want, &all)), Status::FalsePositive), Plan::Nothing);
    }

    #[test]
    fn everything_sends_every_part_and_reaches_the_fields_from_anywhere() {
        let mut want = fields();
        want.state = TicketState::Closed(CloseReason::Completed);
        let c = Changes::everything(&want);
        let mut reached = blank(&want);
        c.apply_to(&mut reached);
        assert_eq!(reached, want);
        assert_eq!(c.comment, None);
    }

    /// Every combination of trigger, mode, link and filter outcome, against the seeds' rules.
    #[test]
    fn should_push_table() {
        let strict = PushFilters { minimum_severity: Some(Severity::High), active_only: true };
        for trigger in [Trigger::Manual, Trigger::New, Trigger::Changed] {
            for mode in PushMode::ALL {
                for linked in [false, true] {
                    for (sev, st) in [(Severity::Critical, Status::Active), (Severity::Low, Status::Active), (Severity::Critical, Status::Closed)] {
                        let admitted = strict.admits(sev, st);
                        let expected = match trigger {
                            Trigger::Manual => true,
                            _ if linked => matches!(mode, PushMode::UpdateExisting | PushMode::LinkNewAndUpdate),
                            Trigger::New => matches!(mode, PushMode::LinkNew | PushMode::LinkNewAndUpdate) && admitted,
                            Trigger::Changed => false,
                        };
                        assert_eq!(
                            should_push(trigger, mode, &strict, linked, sev, st),
                            expected,
                            "{trigger:?} {mode:?} linked={linked} {sev:?} {st:?}"
                        );
                    }
                }
            }
        }
        // Duplicates are not linked automatically; their tickets, if any, are kept up to date.
        assert!(!should_push(Trigger::New, PushMode::LinkNew, &PushFilters::default(), false, Severity::Critical, Status::Duplicate));
        assert!(should_push(Trigger::Changed, PushMode::UpdateExisting, &PushFilters::default(), true, Severity::Critical, Status::Duplicate));
        // Explicit never pushes on its own.
        assert!(!should_push(Trigger::New, PushMode::Explicit, &PushFilters::default(), false, Severity::Critical, Status::Active));
    }

    fn arb_fields() -> impl Strategy<Value = TicketFields> {
        (
            "[a-c]{0,3}",
            "[a-c]{0,3}",
            prop::collection::btree_set("[a-d]", 0..4),
            "P[0-4]",
            prop::sample::select(vec!["In Progress", "Done"]),
            prop::sample::select(vec![TicketState::Open, TicketState::Closed(CloseReason::Completed), TicketState::Closed(CloseReason::NotPlanned)]),
            prop::collection::btree_map("[xy]", "[0-2]", 0..2),
        )
            .prop_map(|(title, body, labels, p, s, state, custom)| TicketFields {
                title,
                body,
                labels,
                severity: FieldValue::new("Priority", p),
                status: FieldValue::new("Status", s),
                state,
                custom: custom.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect(),
            })
    }

    proptest! {
        /// Sending exactly what the plan says turns the last-sent fields into the wanted ones;
        /// equal fingerprints mean nothing to send.
        #[test]
        fn applying_the_plan_reaches_the_desired_fields(last in arb_fields(), want in arb_fields()) {
            match plan(&want, Some(&last), Status::Active) {
                Plan::Nothing => prop_assert_eq!(&want, &last),
                Plan::Update(c) => {
                    let mut reached = last.clone();
                    c.apply_to(&mut reached);
                    prop_assert_eq!(&reached, &want);
                    prop_assert_ne!(want.fingerprint(), last.fingerprint());
                }
                Plan::Create(_) => prop_assert!(false, "a linked ticket is never created again"),
            }
            prop_assert_eq!(want.fingerprint() == last.fingerprint(), want == last);
        }
    }
}
