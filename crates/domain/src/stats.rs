//! Finding counts by severity and status, in the shape DefectDojo's import API returns
//! (`statistics.before/after`, and per action in `statistics.delta`), so that pipelines which
//! read those numbers keep working.

use crate::{Severity, Status};
use serde::Serialize;

/// DefectDojo's status flags, counted. One finding adds to `total` and to each flag it has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusCounts {
    pub active: i64,
    pub verified: i64,
    pub duplicate: i64,
    pub false_p: i64,
    pub out_of_scope: i64,
    pub is_mitigated: i64,
    pub risk_accepted: i64,
    pub total: i64,
}

impl StatusCounts {
    fn add(&mut self, status: Status, verified: bool, n: i64) {
        self.total += n;
        if status.is_open() {
            self.active += n;
        }
        if verified {
            self.verified += n;
        }
        match status {
            Status::Duplicate => self.duplicate += n,
            Status::FalsePositive => self.false_p += n,
            Status::OutOfScope => self.out_of_scope += n,
            Status::Closed => self.is_mitigated += n,
            Status::RiskAccepted => self.risk_accepted += n,
            _ => {}
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SeverityCounts {
    pub info: StatusCounts,
    pub low: StatusCounts,
    pub medium: StatusCounts,
    pub high: StatusCounts,
    pub critical: StatusCounts,
    pub total: StatusCounts,
}

impl SeverityCounts {
    /// Counts `n` findings of this severity, status and verification.
    pub fn add(&mut self, severity: Severity, status: Status, verified: bool, n: i64) {
        let slot = match severity {
            Severity::Info => &mut self.info,
            Severity::Low => &mut self.low,
            Severity::Medium => &mut self.medium,
            Severity::High => &mut self.high,
            Severity::Critical => &mut self.critical,
        };
        slot.add(status, verified, n);
        self.total.add(status, verified, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_flags_and_totals() {
        let mut c = SeverityCounts::default();
        c.add(Severity::High, Status::Active, true, 2);
        c.add(Severity::High, Status::Closed, false, 1);
        c.add(Severity::Low, Status::FalsePositive, false, 3);
        assert_eq!(c.high.total, 3);
        assert_eq!(c.high.active, 2);
        assert_eq!(c.high.verified, 2);
        assert_eq!(c.high.is_mitigated, 1);
        assert_eq!(c.low.false_p, 3);
        assert_eq!(c.total.total, 6);
        let json = serde_json::to_value(c).unwrap();
        assert_eq!(json["critical"]["total"], 0);
        assert_eq!(json["total"]["active"], 2);
    }
}
