use chrono::{DateTime, Utc};
use crate::{EngagementId, FindingGroupId, ProductId, Severity, Status, TestId};
use serde::{Deserialize, Serialize};

/// How a Finding Group was formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    ComponentName,
    ComponentNameVersion,
    FilePath,
    VulnerabilityId,
    /// The tool's rule or check (`vuln_id_from_tool`).
    Rule,
    /// The finding title (DefectDojo's `finding_title`).
    Title,
    /// Chosen by a person.
    Custom,
}

impl GroupBy {
    pub const ALL: [GroupBy; 7] = [
        GroupBy::ComponentName,
        GroupBy::ComponentNameVersion,
        GroupBy::FilePath,
        GroupBy::VulnerabilityId,
        GroupBy::Rule,
        GroupBy::Title,
        GroupBy::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::ComponentName => "component_name",
            GroupBy::ComponentNameVersion => "component_name_version",
            GroupBy::FilePath => "file_path",
            GroupBy::VulnerabilityId => "vulnerability_id",
            GroupBy::Rule => "rule",
            GroupBy::Title => "title",
            GroupBy::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// DefectDojo's `group_by` spellings (`component_name+component_version`,
    /// `finding_title`, `vuln_id_from_tool`) as well as ours.
    pub fn parse_defectdojo(s: &str) -> Option<GroupBy> {
        match s {
            "component_name+component_version" => Some(GroupBy::ComponentNameVersion),
            "finding_title" => Some(GroupBy::Title),
            "vuln_id_from_tool" => Some(GroupBy::Rule),
            other => GroupBy::parse(other),
        }
    }
}

/// Findings pushed together as one ticket. A finding belongs to at most one group, and a
/// group's findings all come from one Test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FindingGroup {
    pub id: FindingGroupId,
    pub test: TestId,
    pub engagement: EngagementId,
    pub product: ProductId,
    pub name: String,
    pub group_by: GroupBy,
    /// The highest severity among its findings (`info` when empty).
    pub severity: Severity,
    /// Follows its findings, see [`group_status`].
    pub status: Status,
    pub finding_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A group is as severe as its worst finding.
pub fn group_severity(severities: impl IntoIterator<Item = Severity>) -> Severity {
    severities.into_iter().max().unwrap_or(Severity::Info)
}

/// A group's status follows its findings: open while any finding is open (the least advanced
/// open state wins, so one untouched finding keeps the ticket "Active"); once none is open, a
/// single shared closing status is kept (all false positives → false positive), and any mix
/// of closing statuses is `closed`. An empty group is `closed`.
pub fn group_status(statuses: impl IntoIterator<Item = Status>) -> Status {
    let mut open: Option<Status> = None;
    let mut closing: Option<Status> = None;
    let mut mixed = false;
    for s in statuses {
        if s.is_open() {
            open = Some(match (open, s) {
                (Some(Status::Active), _) | (_, Status::Active) => Status::Active,
                (Some(Status::InProgress), _) | (_, Status::InProgress) => Status::InProgress,
                _ => Status::AwaitingValidation,
            });
        } else {
            match closing {
                None => closing = Some(s),
                Some(c) if c != s => mixed = true,
                _ => {}
            }
        }
    }
    match (open, closing) {
        (Some(o), _) => o,
        (None, Some(c)) if !mixed && c != Status::Duplicate => c,
        _ => Status::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Status::*;

    #[test]
    fn status_examples() {
        assert_eq!(group_status([Active, Closed]), Active);
        assert_eq!(group_status([InProgress, AwaitingValidation, Closed]), InProgress);
        assert_eq!(group_status([AwaitingValidation, Closed]), AwaitingValidation);
        assert_eq!(group_status([FalsePositive, FalsePositive]), FalsePositive);
        assert_eq!(group_status([FalsePositive, RiskAccepted]), Closed);
        assert_eq!(group_status([Duplicate]), Closed);
        assert_eq!(group_status([]), Closed);
    }

    #[test]
    fn severity_is_the_max() {
        assert_eq!(group_severity([Severity::Low, Severity::High, Severity::Medium]), Severity::High);
        assert_eq!(group_severity([]), Severity::Info);
    }

    proptest! {
        #[test]
        fn open_iff_any_member_open(statuses in prop::collection::vec(prop::sample::select(Status::ALL.to_vec()), 0..12)) {
            let any_open = statuses.iter().any(|s| s.is_open());
            prop_assert_eq!(group_status(statuses.clone()).is_open(), any_open);
        }

        #[test]
        fn order_does_not_matter(mut statuses in prop::collection::vec(prop::sample::select(Status::ALL.to_vec()), 0..12)) {
            let a = group_status(statuses.clone());
            statuses.reverse();
            prop_assert_eq!(group_status(statuses), a);
        }
    }
}
