//! Security Hub's documented throttling (API reference, "throttling limits"): `GetFindings` at
//! 3 requests a second with bursts of 6; every other operation used here at 10 a second with
//! bursts of 30. Token buckets per access key; an empty bucket answers 429
//! `TooManyRequestsException` (AWS sends no `Retry-After`).

use std::collections::HashMap;
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

pub(crate) const GET_FINDINGS: Rate = Rate {
    per_second: 3.0,
    burst: 6.0,
};
pub(crate) const OTHER: Rate = Rate {
    per_second: 10.0,
    burst: 30.0,
};

#[derive(Debug)]
pub(crate) struct Throttle {
    pub enabled: bool,
    buckets: HashMap<(String, bool), Bucket>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            enabled: true,
            buckets: HashMap::new(),
        }
    }
}

impl Throttle {
    /// Takes a token for `key`'s operation, if one is left.
    pub fn take(&mut self, key: &str, get_findings: bool, now: Instant) -> bool {
        if !self.enabled {
            return true;
        }
        let rate = if get_findings { GET_FINDINGS } else { OTHER };
        let b = self
            .buckets
            .entry((key.to_owned(), get_findings))
            .or_insert(Bucket {
                tokens: rate.burst,
                at: now,
            });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * rate.per_second;
        b.tokens = (b.tokens + refill).min(rate.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn reset(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_the_sustained_rate() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        assert_eq!(
            (0..8).filter(|_| t.take("k", true, t0)).count(),
            6,
            "a burst of 6"
        );
        assert!(!t.take("k", true, t0 + Duration::from_millis(100)));
        assert!(
            t.take("k", true, t0 + Duration::from_millis(340)),
            "3 a second refill"
        );
        assert_eq!(
            (0..40).filter(|_| t.take("k", false, t0)).count(),
            30,
            "other operations: 30"
        );
        assert!(t.take("other-key", true, t0), "per key");
    }
}
