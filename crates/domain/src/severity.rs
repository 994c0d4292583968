use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
///
/// Stored as its `rank()` (0–4) so that the database can sort and filter by it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity '{input}'; expected one of info, low, medium, high, critical")]
pub struct ParseSeverityError {
    pub input: String,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The API and database spelling: `info`, `low`, `medium`, `high`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The display spelling, as DefectDojo and the UI show it: `Info` … `Critical`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "Info",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    /// 0 (Info) to 4 (Critical): the stored form.
    pub fn rank(self) -> i16 {
        self as i16
    }

    pub fn from_rank(rank: i16) -> Option<Severity> {
        Severity::ALL.get(usize::try_from(rank).ok()?).copied()
    }

    /// Parses the spellings scanners and trackers use, ignoring case and surrounding space:
    /// `Critical`, `HIGH`, `Moderate` (Snyk, GitHub advisories), `Med`, `Informational`,
    /// `Information`, `None` (CVSS "none" = informational), and DefectDojo's `S0`–`S4`.
    pub fn parse(input: &str) -> Result<Severity, ParseSeverityError> {
        let norm = input.trim().to_ascii_lowercase();
        let sev = match norm.as_str() {
            "info" | "informational" | "information" | "none" | "s4" => Severity::Info,
            "low" | "s3" => Severity::Low,
            "medium" | "moderate" | "med" | "s2" => Severity::Medium,
            "high" | "s1" => Severity::High,
            "critical" | "crit" | "s0" => Severity::Critical,
            _ => {
                return Err(ParseSeverityError {
                    input: input.to_owned(),
                });
            }
        };
        Ok(sev)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Severity {
    type Err = ParseSeverityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vendor_spellings() {
        assert_eq!(Severity::parse("Moderate"), Ok(Severity::Medium));
        assert_eq!(Severity::parse(" INFORMATIONAL "), Ok(Severity::Info));
        assert_eq!(Severity::parse("Critical"), Ok(Severity::Critical));
        assert_eq!(Severity::parse("S0"), Ok(Severity::Critical));
        assert!(Severity::parse("severe").is_err());
        assert!(Severity::parse("").is_err());
    }

    #[test]
    fn error_names_the_input_and_the_choices() {
        let err = Severity::parse("urgent").unwrap_err().to_string();
        assert!(err.contains("'urgent'") && err.contains("critical"), "{err}");
    }

    #[test]
    fn ordering_follows_badness() {
        assert!(Severity::Info < Severity::Low);
        assert!(Severity::High < Severity::Critical);
        let mut sorted = Severity::ALL;
        sorted.sort();
        assert_eq!(sorted, Severity::ALL);
    }

    #[test]
    fn serde_uses_lowercase() {
        assert_eq!(serde_json::to_string(&Severity::High).unwrap(), "\"high\"");
        assert_eq!(
            serde_json::from_str::<Severity>("\"critical\"").unwrap(),
            Severity::Critical
        );
        assert!(serde_json::from_str::<Severity>("\"Critical\"").is_err());
    }

    fn any_severity() -> impl Strategy<Value = Severity> {
        prop::sample::select(Severity::ALL.to_vec())
    }

    /// Randomly re-cases a string, as vendors do.
    fn recase(s: &str, mask: u64) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| {
                if mask >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn parse_inverts_as_str_and_label_in_any_case(s in any_severity(), mask in any::<u64>()) {
            prop_assert_eq!(Severity::parse(&recase(s.as_str(), mask)), Ok(s));
            prop_assert_eq!(Severity::parse(&recase(s.label(), mask)), Ok(s));
        }

        #[test]
        fn rank_round_trips(s in any_severity()) {
            prop_assert_eq!(Severity::from_rank(s.rank()), Some(s));
        }

        #[test]
        fn parse_never_panics_and_errors_keep_input(input in ".*") {
            if let Err(e) = Severity::parse(&input) {
                prop_assert_eq!(e.input, input);
            }
        }
    }
}
