use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a finding is in its life. One value, not DefectDojo's set of booleans (whose
/// combinations had to be kept consistent by hand); `verified` is a separate flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Identified and not yet dealt with ("Active", "Identified", "Open").
    Active,
    /// Someone is working on it.
    InProgress,
    /// Reported fixed; waiting for a rescan or a person to confirm.
    AwaitingValidation,
    /// Mitigated / fixed.
    Closed,
    FalsePositive,
    RiskAccepted,
    OutOfScope,
    /// The same vulnerability as an earlier finding (see `duplicate_of`).
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown status '{input}'; expected one of active, in_progress, awaiting_validation, closed, false_positive, risk_accepted, out_of_scope, duplicate"
)]
pub struct ParseStatusError {
    pub input: String,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Active,
        Status::InProgress,
        Status::AwaitingValidation,
        Status::Closed,
        Status::FalsePositive,
        Status::RiskAccepted,
        Status::OutOfScope,
        Status::Duplicate,
    ];

    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::InProgress => "in_progress",
            Status::AwaitingValidation => "awaiting_validation",
            Status::Closed => "closed",
            Status::FalsePositive => "false_positive",
            Status::RiskAccepted => "risk_accepted",
            Status::OutOfScope => "out_of_scope",
            Status::Duplicate => "duplicate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::InProgress => "In Progress",
            Status::AwaitingValidation => "Awaiting Validation",
            Status::Closed => "Closed",
            Status::FalsePositive => "False Positive",
            Status::RiskAccepted => "Risk Accepted",
            Status::OutOfScope => "Out of Scope",
            Status::Duplicate => "Duplicate",
        }
    }

    /// Still needs work: counted in "open findings", pushed as an open ticket.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Active | Status::InProgress | Status::AwaitingValidation
        )
    }

    /// Parses the spellings of our API, DefectDojo, the scanners and the trackers,
    /// ignoring case, surrounding space, and whether words are joined by space, `_` or `-`:
    /// `Identified`, `open`, `opened`, `new`, `reopened`, `In Progress`, `Mitigated`, `fixed`,
    /// `resolved`, `done`, `false_p`, `not an issue`, `accepted`, `wontfix`, `ignored`, …
    pub fn parse(input: &str) -> Result<Status, ParseStatusError> {
        let norm: String = input
            .trim()
            .to_ascii_lowercase()
            .replace(['\'', '’'], "")
            .split([' ', '_', '-'])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let status = match norm.as_str() {
            "active" | "identified" | "open" | "opened" | "new" | "reopened" | "to do"
            | "todo" | "confirmed" | "detected" => Status::Active,
            "in progress" | "inprogress" | "work in progress" | "wip" => Status::InProgress,
            "awaiting validation" | "pending validation" | "to verify" | "to review" => {
                Status::AwaitingValidation
            }
            "closed" | "mitigated" | "fixed" | "resolved" | "done" | "remediated" | "inactive" => {
                Status::Closed
            }
            "false positive" | "falsepositive" | "false p" | "fp" | "not an issue"
            | "not a vulnerability" => Status::FalsePositive,
            "risk accepted" | "accepted" | "accepted risk" | "wontfix" | "wont fix" | "ignored"
            | "suppressed" => Status::RiskAccepted,
            "out of scope" | "outofscope" | "oos" => Status::OutOfScope,
            "duplicate" | "dup" => Status::Duplicate,
            _ => {
                return Err(ParseStatusError {
                    input: input.to_owned(),
                });
            }
        };
        Ok(status)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Status {
    type Err = ParseStatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vendor_spellings() {
        for (input, want) in [
            ("Identified", Status::Active),
            ("opened", Status::Active),
            ("In Progress", Status::InProgress),
            ("in-progress", Status::InProgress),
            ("Mitigated", Status::Closed),
            ("Resolved", Status::Closed),
            ("false_p", Status::FalsePositive),
            ("False Positive", Status::FalsePositive),
            ("won't fix", Status::RiskAccepted),
            ("wontfix", Status::RiskAccepted),
            ("Out Of Scope", Status::OutOfScope),
            ("Out of Scope", Status::OutOfScope),
            ("Awaiting Validation", Status::AwaitingValidation),
        ] {
            assert_eq!(Status::parse(input), Ok(want), "{input}");
        }
        assert!(Status::parse("maybe").is_err());
    }

    #[test]
    fn open_statuses() {
        let open: Vec<_> = Status::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(
            open,
            [
                &Status::Active,
                &Status::InProgress,
                &Status::AwaitingValidation
            ]
        );
    }

    #[test]
    fn serde_uses_snake_case() {
        assert_eq!(
            serde_json::to_string(&Status::FalsePositive).unwrap(),
            "\"false_positive\""
        );
    }

    fn any_status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn parse_inverts_as_str_and_label(s in any_status(), upper in any::<bool>()) {
            let (a, l) = if upper {
                (s.as_str().to_uppercase(), s.label().to_uppercase())
            } else {
                (s.as_str().to_owned(), s.label().to_lowercase())
            };
            prop_assert_eq!(Status::parse(&a), Ok(s));
            prop_assert_eq!(Status::parse(&l), Ok(s));
        }

        #[test]
        fn separators_do_not_matter(s in any_status(), sep in prop::sample::select(vec![" ", "_", "-", "  ", " - "])) {
            let spelled = s.as_str().replace('_', sep);
            prop_assert_eq!(Status::parse(&spelled), Ok(s));
        }

        #[test]
        fn parse_never_panics(input in ".*") {
            let _ = Status::parse(&input);
        }
    }
}
