//! A remote ticket as vulnbridge sees it: which finding or group it stands for, what we last
//! sent, and the marker that finds it again after a crash.

use super::Vendor;
use crate::{FindingGroupId, FindingId, InstanceId, MappingId, Status, TicketId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What a ticket is about: one finding, or a finding group (one ticket listing its findings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Finding(FindingId),
    Group(FindingGroupId),
}

impl Subject {
    pub fn kind(self) -> &'static str {
        match self {
            Subject::Finding(_) => "finding",
            Subject::Group(_) => "group",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Subject::Finding(f) => f.0,
            Subject::Group(g) => g.0,
        }
    }

    /// `f17` / `g3`: compact, for markers and job keys.
    pub fn short(self) -> String {
        match self {
            Subject::Finding(f) => format!("f{f}"),
            Subject::Group(g) => format!("g{g}"),
        }
    }

    pub fn parse_short(s: &str) -> Option<Subject> {
        let (kind, id) = s.split_at_checked(1)?;
        let id: i64 = id.parse().ok().filter(|i| *i > 0)?;
        match kind {
            "f" => Some(Subject::Finding(FindingId(id))),
            "g" => Some(Subject::Group(FindingGroupId(id))),
            _ => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.id())
    }
}

/// Why a ticket is closed. Trackers that know reasons write them (GitHub `state_reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Fixed.
    Completed,
    /// Won't be fixed: false positive, risk accepted, out of scope.
    NotPlanned,
    Duplicate,
}

/// Open or closed: the tracker's status *category*, which every tracker has whatever its
/// workflow calls the states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum TicketState {
    Open,
    Closed(CloseReason),
}

impl TicketState {
    /// The state a finding's ticket should be in. Awaiting Validation counts as closed: the
    /// developers' part is done, and the ticket must not reopen while security checks the fix.
    pub fn for_status(s: Status) -> TicketState {
        match s {
            Status::Active | Status::InProgress => TicketState::Open,
            Status::AwaitingValidation | Status::Closed => TicketState::Closed(CloseReason::Completed),
            Status::FalsePositive | Status::RiskAccepted | Status::OutOfScope => {
                TicketState::Closed(CloseReason::NotPlanned)
            }
            Status::Duplicate => TicketState::Closed(CloseReason::Duplicate),
        }
    }

    pub fn is_open(self) -> bool {
        self == TicketState::Open
    }
}

/// A tracker field and the value written to it (`Priority` = `P2`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldValue {
    pub field: String,
    pub value: String,
}

impl FieldValue {
    pub fn new(field: impl Into<String>, value: impl Into<String>) -> FieldValue {
        FieldValue { field: field.into(), value: value.into() }
    }
}

/// Everything vulnbridge controls on a remote ticket. The planner compares the fields a push
/// wants with the fields it last sent; the fingerprint of these fields makes an unchanged push
/// cost nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketFields {
    pub title: String,
    /// Markdown.
    pub body: String,
    pub labels: BTreeSet<String>,
    pub severity: FieldValue,
    pub status: FieldValue,
    pub state: TicketState,
    #[schema(value_type = Object)]
    pub custom: BTreeMap<String, serde_json::Value>,
}

impl TicketFields {
    /// A stable digest of the fields (sorted collections, canonical JSON).
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).unwrap_or_default();
        let d = Sha256::digest(&json);
        d.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// The hidden text every ticket carries, so that a create whose reply was lost can be found
/// again instead of repeated. The installation id keeps two vulnbridge installations pushing
/// to one repository apart.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Marker {
    pub installation: String,
    pub mapping: MappingId,
    pub subject: Subject,
}

/// The label every vulnbridge ticket carries: lets marker searches list only our tickets.
pub const MARKER_LABEL: &str = "vulnbridge";

impl Marker {
    const PREFIX: &'static str = "vulnbridge:";

    /// `vulnbridge:k3x9q2:m3:f17`: short enough for a label, tag or correlation id.
    pub fn token(&self) -> String {
        format!("{}{}:m{}:{}", Self::PREFIX, self.installation, self.mapping, self.subject.short())
    }

    /// What every marker of a mapping's tickets starts with (`vulnbridge:k3x9q2:m3:`): finds
    /// them all, for a reconcile poll.
    pub fn mapping_prefix(installation: &str, mapping: MappingId) -> String {
        format!("{}{installation}:m{mapping}:", Self::PREFIX)
    }

    /// The marker as hidden Markdown (an HTML comment), appended to ticket bodies.
    pub fn html_comment(&self) -> String {
        format!("<!-- {} -->", self.token())
    }

    pub fn parse(token: &str) -> Option<Marker> {
        let rest = token.trim().strip_prefix(Self::PREFIX)?;
        let mut parts = rest.split(':');
        let installation = parts.next().filter(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_alphanumeric()))?;
        let mapping: i64 = parts.next()?.strip_prefix('m')?.parse().ok()?;
        let subject = Subject::parse_short(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Marker { installation: installation.to_owned(), mapping: MappingId(mapping), subject })
    }

    /// Every marker in a text (a ticket body), in order.
    pub fn find_all(text: &str) -> Vec<Marker> {
        let mut found = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find(Self::PREFIX) {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
                .unwrap_or(tail.len());
            if let Some(m) = Marker::parse(&tail[..end]) {
                found.push(m);
            }
            rest = &tail[Self::PREFIX.len()..];
        }
        found
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.token())
    }
}

/// Whether the remote ticket exists yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// A create was started and its result not yet recorded: if its worker died, the ticket
    /// may or may not exist, and the next push searches for its marker before creating.
    Creating,
    Linked,
    /// The remote ticket was deleted in the tracker; nothing is pushed to it any more.
    Deleted,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Creating => "creating",
            LinkState::Linked => "linked",
            LinkState::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<LinkState> {
        [LinkState::Creating, LinkState::Linked, LinkState::Deleted].into_iter().find(|l| l.as_str() == s)
    }
}

/// What we last knew of the remote ticket, and who made it so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RemoteState {
    pub state: TicketState,
    /// The tracker's own status value, when known (`Done`, `closed`).
    pub status: Option<String>,
    /// `vulnbridge` for our own writes, else the tracker user (from a webhook).
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// Our record of one remote ticket.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: TicketId,
    pub instance: InstanceId,
    pub mapping: MappingId,
    pub vendor: Vendor,
    pub subject: Subject,
    pub link_state: LinkState,
    /// The tracker's stable id (GitHub issue node id, GitLab issue id).
    pub remote_id: Option<String>,
    /// What people call it (`acme/api#12`).
    pub key: Option<String>,
    pub url: Option<String>,
    pub linked_at: Option<DateTime<Utc>>,
    pub last_pushed_at: Option<DateTime<Utc>>,
    pub remote_state: Option<RemoteState>,
    /// Digest of the fields last sent (see [`TicketFields::fingerprint`]).
    pub fingerprint: Option<String>,
    /// The fields last sent (plus tracker changes applied): what the planner compares a new
    /// push with.
    #[serde(skip)]
    #[schema(ignore)]
    pub last_sent: Option<TicketFields>,
    /// The fields of a push in flight, so that its webhook echoes are recognised.
    #[serde(skip)]
    #[schema(ignore)]
    pub sending: Option<TicketFields>,
    /// What the tracker client needs for later calls (issue number, project item id…).
    #[serde(skip)]
    #[schema(ignore)]
    pub remote_data: serde_json::Value,
    /// Set while a create is in doubt: when it started (a marker search looks from here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creating_since: Option<DateTime<Utc>>,
}

/// One line of a ticket's changelog: every change vulnbridge made, and every tracker change
/// it applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketChange {
    pub at: DateTime<Utc>,
    /// `created`, `updated`, `closed`, `reopened`, `commented`, `adopted` (found by its marker
    /// after an interrupted create), `inbound` (a tracker change applied to the finding).
    pub action: String,
    /// What changed, in words (`title, Priority`).
    pub detail: String,
    /// `vulnbridge` or the tracker user.
    pub actor: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_status_has_a_ticket_state() {
        assert_eq!(TicketState::for_status(Status::Active), TicketState::Open);
        assert_eq!(TicketState::for_status(Status::InProgress), TicketState::Open);
        assert_eq!(TicketState::for_status(Status::AwaitingValidation), TicketState::Closed(CloseReason::Completed));
        assert_eq!(TicketState::for_status(Status::RiskAccepted), TicketState::Closed(CloseReason::NotPlanned));
        assert_eq!(TicketState::for_status(Status::Duplicate), TicketState::Closed(CloseReason::Duplicate));
        let json = serde_json::to_string(&TicketState::Closed(CloseReason::NotPlanned)).unwrap();
        assert_eq!(json, r#"{"state":"closed","reason":"not_planned"}"#);
    }

    #[test]
    fn markers_are_found_in_text() {
        let m = Marker { installation: "k3x9q2".into(), mapping: MappingId(3), subject: Subject::Group(FindingGroupId(12)) };
        assert_eq!(m.token(), "vulnbridge:k3x9q2:m3:g12");
        let body = format!("Some text vulnbridge: not a marker\n\n{}\n", m.html_comment());
        assert_eq!(Marker::find_all(&body), vec![m.clone()]);
        assert_eq!(Marker::parse("vulnbridge:k3x9q2:m3:g12:extra"), None);
        assert_eq!(Marker::parse("vulnbridge:k3x9q2:m3:x12"), None);
    }

    proptest! {
        #[test]
        fn marker_round_trips(inst in "[a-z0-9]{1,12}", mapping in 1i64..1_000_000, id in 1i64..i64::MAX, group: bool) {
            let subject = if group { Subject::Group(FindingGroupId(id)) } else { Subject::Finding(FindingId(id)) };
            let m = Marker { installation: inst, mapping: MappingId(mapping), subject };
            prop_assert_eq!(Marker::parse(&m.token()), Some(m.clone()));
            prop_assert_eq!(Marker::find_all(&format!("x{}y", m.html_comment())), vec![m]);
        }

        #[test]
        fn find_all_never_panics(text in ".{0,200}") {
            let _ = Marker::find_all(&text);
        }
    }
}
