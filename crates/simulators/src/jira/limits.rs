//! Jira Cloud's rate limits as a client meets them: a burst limit per user, endpoint and
//! method (`RateLimit-Reason: jira-burst-based`) and a per-issue write limit
//! (`jira-per-issue-on-write`). A refused request gets 429 with `Retry-After` (seconds),
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0`, `X-RateLimit-Reset` (ISO 8601,
//! `yyyy-MM-ddTHH:mmZ`) and `RateLimit-Reason`; answers near the limit say
//! `X-RateLimit-NearLimit: true`.

use crate::common::SlidingWindow;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The limits, settable at run time. Jira does not publish its burst numbers; the default
/// (100 requests a second per endpoint) is far above what a polite client sends.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Requests per window per user, endpoint and method (0: no limit).
    pub burst: u32,
    /// Writes per window to one issue (0: no limit).
    pub per_issue_writes: u32,
    /// The window, in milliseconds.
    pub window_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            burst: 100,
            per_issue_writes: 0,
            window_ms: 1000,
        }
    }
}

impl Limits {
    fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms.max(10))
    }
}

/// What the limiter said about one request.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset_at: DateTime<Utc>,
    pub retry_after: u64,
    pub reason: &'static str,
}

impl Verdict {
    /// The headers every limited answer carries.
    pub fn decorate(&self, response: &mut Response) {
        let h = response.headers_mut();
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        };
        put("x-ratelimit-limit", self.limit.to_string());
        put("x-ratelimit-remaining", self.remaining.to_string());
        if self.remaining * 5 < self.limit {
            put("x-ratelimit-nearlimit", "true".into());
        }
    }

    /// The 429.
    pub fn refusal(&self) -> Response {
        let mut r = StatusCode::TOO_MANY_REQUESTS.into_response();
        self.decorate(&mut r);
        let h = r.headers_mut();
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        };
        put("retry-after", self.retry_after.to_string());
        put(
            "x-ratelimit-reset",
            self.reset_at.format("%Y-%m-%dT%H:%MZ").to_string(),
        );
        put("ratelimit-reason", self.reason.to_owned());
        r
    }
}

/// Every window in use.
#[derive(Debug, Default)]
pub struct RateLimits {
    limits: Mutex<Limits>,
    burst: Mutex<HashMap<(u64, String), Arc<SlidingWindow>>>,
    issues: Mutex<HashMap<String, Arc<SlidingWindow>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn whole_seconds(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

impl RateLimits {
    pub fn new(limits: Limits) -> RateLimits {
        RateLimits {
            limits: Mutex::new(limits),
            ..Default::default()
        }
    }

    pub fn get(&self) -> Limits {
        *lock(&self.limits)
    }

    pub fn set(&self, limits: Limits) {
        *lock(&self.limits) = limits;
        lock(&self.burst).clear();
        lock(&self.issues).clear();
    }

    fn check(window: &SlidingWindow, limit: u32, reason: &'static str) -> Verdict {
        let now = Instant::now();
        match window.try_acquire(now) {
            Ok(()) => Verdict {
                allowed: true,
                limit,
                remaining: window.remaining(now),
                reset_at: Utc::now() + chrono::TimeDelta::from_std(window.per).unwrap_or_default(),
                retry_after: 0,
                reason,
            },
            Err(wait) => {
                let retry_after = whole_seconds(wait);
                Verdict {
                    allowed: false,
                    limit,
                    remaining: 0,
                    reset_at: Utc::now()
                        + chrono::TimeDelta::seconds(i64::try_from(retry_after).unwrap_or(60)),
                    retry_after,
                    reason,
                }
            }
        }
    }

    /// Counts a request of `user` to `endpoint` (`POST /rest/api/3/issue`); `None` when off.
    pub fn request(&self, user: u64, endpoint: &str) -> Option<Verdict> {
        let limits = self.get();
        if limits.burst == 0 {
            return None;
        }
        let window = lock(&self.burst)
            .entry((user, endpoint.to_owned()))
            .or_insert_with(|| Arc::new(SlidingWindow::new(limits.burst, limits.window())))
            .clone();
        Some(Self::check(&window, limits.burst, "jira-burst-based"))
    }

    /// Counts a write to an issue; `None` when off.
    pub fn issue_write(&self, issue: &str) -> Option<Verdict> {
        let limits = self.get();
        if limits.per_issue_writes == 0 {
            return None;
        }
        let window = lock(&self.issues)
            .entry(issue.to_ascii_uppercase())
            .or_insert_with(|| {
                Arc::new(SlidingWindow::new(limits.per_issue_writes, limits.window()))
            })
            .clone();
        Some(Self::check(
            &window,
            limits.per_issue_writes,
            "jira-per-issue-on-write",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_are_counted_per_user_and_endpoint() {
        let r = RateLimits::new(Limits {
            burst: 2,
            per_issue_writes: 1,
            window_ms: 200,
        });
        assert!(
            r.request(1, "POST /issue")
                .is_some_and(|v| v.allowed && v.remaining == 1)
        );
        assert!(r.request(1, "POST /issue").is_some_and(|v| v.allowed));
        let refused = r.request(1, "POST /issue").expect("limits on");
        assert!(
            !refused.allowed && refused.retry_after >= 1 && refused.reason == "jira-burst-based"
        );
        assert!(
            r.request(1, "GET /issue").is_some_and(|v| v.allowed),
            "another endpoint"
        );
        assert!(
            r.request(2, "POST /issue").is_some_and(|v| v.allowed),
            "another user"
        );
        assert!(r.issue_write("SEC-1").is_some_and(|v| v.allowed));
        assert!(
            r.issue_write("sec-1")
                .is_some_and(|v| !v.allowed && v.reason == "jira-per-issue-on-write")
        );
        r.set(Limits {
            burst: 0,
            per_issue_writes: 0,
            window_ms: 1000,
        });
        assert!(r.request(1, "POST /issue").is_none());
    }
}
