//! The trackers' rate limits. The machinery (request classes, budgets, the [`Limiter`] the
//! engine implements) is the `outbound` crate's, shared with the scanner connectors; here are
//! each vendor's documented limits ([`budgets`]), which the engine enforces *before* the
//! tracker has to refuse anything, and what one ticket costs.

use domain::tracker::Vendor;
use std::time::Duration;

pub use outbound::limit::{ALL, Budget, CONTENT, Limiter, NoLimits, RateInfo, RequestClass, WRITES};

/// The vendors' documented limits (see research/trackers.md): what the engine keeps under
/// without waiting to be refused.
pub fn budgets(vendor: Vendor) -> Vec<Budget> {
    match vendor {
        // Primary: 5,000 requests an hour per token. Secondary: 80 content-creating requests a
        // minute and 500 an hour; writes are best serialised (900 points a minute per endpoint).
        Vendor::GitHub => vec![
            Budget { name: "primary-hour", classes: ALL, limit: 5000, per: Duration::from_secs(3600) },
            Budget { name: "content-minute", classes: CONTENT, limit: 80, per: Duration::from_secs(60) },
            Budget { name: "content-hour", classes: CONTENT, limit: 500, per: Duration::from_secs(3600) },
        ],
        // GitLab.com: 2,000 authenticated API requests a minute; issue creation is limited per
        // user (300 a minute by default on self-managed, `issues_create_limit`).
        Vendor::GitLab => vec![
            Budget { name: "api-minute", classes: ALL, limit: 2000, per: Duration::from_secs(60) },
            Budget { name: "issues-minute", classes: CONTENT, limit: 300, per: Duration::from_secs(60) },
        ],
        // Jira Cloud's burst limits are not published as numbers; stay well under them.
        Vendor::Jira => vec![Budget { name: "api-second", classes: ALL, limit: 10, per: Duration::from_secs(1) }],
        // Azure DevOps throttles by TSTU, not counts; a steady pace keeps clear of delays.
        Vendor::AzureDevops => vec![Budget { name: "writes-second", classes: WRITES, limit: 10, per: Duration::from_secs(1) }],
        // ServiceNow limits are per instance, set by its admin; be modest by default.
        Vendor::ServiceNow => vec![Budget { name: "api-second", classes: ALL, limit: 10, per: Duration::from_secs(1) }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_secondary_limits_are_the_documented_ones() {
        let b = budgets(Vendor::GitHub);
        let content: Vec<_> = b.iter().filter(|b| b.classes == CONTENT).map(|b| (b.limit, b.per.as_secs())).collect();
        assert_eq!(content, [(80, 60), (500, 3600)]);
    }
}

/// What creating one ticket costs in requests, by class (the clients' own counts, checked by
/// their tests): used to estimate how long a queue of pushes takes under the budgets.
pub fn requests_per_create(vendor: Vendor) -> &'static [(RequestClass, u32)] {
    match vendor {
        // The issue and its project item are content; the project fields one write.
        Vendor::GitHub => &[(RequestClass::Create, 2), (RequestClass::Write, 1)],
        Vendor::GitLab => &[(RequestClass::Create, 1)],
        // One POST with every field; a status one transition from where issues start rides
        // along with it. (Two transitions away: one write more. A client's first create in a
        // project also reads where issues start, once.)
        Vendor::Jira => &[(RequestClass::Create, 1)],
        // One POST with every field, the state included.
        Vendor::AzureDevops => &[(RequestClass::Create, 1)],
        // One POST: state, closure fields and all set in it. (A client's first create also reads
        // the table's definition and choice lists once.)
        Vendor::ServiceNow => &[(RequestClass::Create, 1)],
    }
}

/// How long `pushes` creates take at the most under `budgets`, given the requests each bucket
/// has already counted in its current window (`used`, in the order of `budgets`): the slowest
/// bucket decides. A bucket with room sends at once; beyond, each further `limit` requests
/// take one more window.
pub fn time_to_create(budgets: &[Budget], used: &[i64], vendor: Vendor, pushes: u64) -> Duration {
    let per_create = requests_per_create(vendor);
    budgets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let requests: u64 = per_create.iter().filter(|(c, _)| b.classes.contains(c)).map(|(_, n)| u64::from(*n)).sum::<u64>() * pushes;
            let room = u64::from(b.limit).saturating_sub(used.get(i).copied().unwrap_or(0).max(0) as u64);
            let beyond = requests.saturating_sub(room);
            let windows = beyond.div_ceil(u64::from(b.limit.max(1)));
            b.per.saturating_mul(u32::try_from(windows).unwrap_or(u32::MAX))
        })
        .max()
        .unwrap_or_default()
}

#[cfg(test)]
mod estimate_tests {
    use super::*;

    #[test]
    fn the_hour_bucket_bounds_a_large_github_queue() {
        let b = budgets(Vendor::GitHub);
        // 1,000 tickets: 2,000 content requests; 500 fit this hour, 1,500 more take 3 hours.
        assert_eq!(time_to_create(&b, &[0, 0, 0], Vendor::GitHub, 1000), Duration::from_secs(3 * 3600));
        // 10 tickets fit in every window at once.
        assert_eq!(time_to_create(&b, &[0, 0, 0], Vendor::GitHub, 10), Duration::ZERO);
        // A spent minute bucket makes even a few wait a minute.
        assert_eq!(time_to_create(&b, &[0, 80, 0], Vendor::GitHub, 10), Duration::from_secs(60));
    }
}
