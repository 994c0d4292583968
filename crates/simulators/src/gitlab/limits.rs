//! Rate limits, as GitLab applies them to API clients:
//! - the authenticated API throttle (Rack::Attack `throttle_authenticated_api`), per user:
//!   2,000 requests a minute on GitLab.com. Refused requests get `429`, `Retry later` as text
//!   and the `RateLimit-*` headers plus `Retry-After`; normal answers carry the `RateLimit-*`
//!   headers too, as GitLab.com's answers do;
//! - the issue creation limit (`issues_create_limit`, 300 a minute by default), per project and
//!   user. GitLab answers it with `{"message":{"error":"This endpoint has been requested too
//!   many times. Try again later."}}` and, today, no headers at all
//!   (`RateLimitedService::RateLimitedError#headers` is still `{}`).
//!
//! `window_scale` shrinks "a minute" so tests can wait for a window to pass.

use crate::common::SlidingWindow;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The simulator's limits. `0` turns a limit off, as in GitLab's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Authenticated API requests per user per minute (GitLab.com: 2,000).
    pub requests_per_minute: u32,
    /// Issues one user may create in one project per minute (GitLab's default: 300).
    pub issues_create_per_minute: u32,
    /// The length of "a minute", as a fraction of 60 s (1.0 = real time; 0.05 = 3 s).
    pub window_scale: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            requests_per_minute: 2000,
            issues_create_per_minute: 300,
            window_scale: 1.0,
        }
    }
}

impl Limits {
    fn window(&self) -> Duration {
        let scale = if self.window_scale.is_finite() && self.window_scale > 0.0 {
            self.window_scale
        } else {
            1.0
        };
        Duration::from_secs_f64(60.0 * scale).max(Duration::from_millis(10))
    }
}

/// What the API throttle said about one request.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub observed: u32,
    pub remaining: u32,
    /// When the quota is whole again.
    pub reset_at: DateTime<Utc>,
    /// How long a refused caller must wait, in whole seconds (at least 1).
    pub retry_after: u64,
}

impl Verdict {
    /// Adds the `RateLimit-*` headers GitLab.com sends with every API answer.
    pub fn decorate(&self, response: &mut Response) {
        let h = response.headers_mut();
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        };
        put("ratelimit-limit", self.limit.to_string());
        put("ratelimit-observed", self.observed.to_string());
        put("ratelimit-remaining", self.remaining.to_string());
        put("ratelimit-reset", self.reset_at.timestamp().to_string());
        put("ratelimit-resettime", http_date(self.reset_at));
    }

    /// Rack::Attack's throttled answer.
    pub fn refusal(&self) -> Response {
        let mut r = (StatusCode::TOO_MANY_REQUESTS, "Retry later\n").into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        self.decorate(&mut r);
        r.headers_mut().insert(
            "ratelimit-name",
            HeaderValue::from_static("throttle_authenticated_api"),
        );
        if let Ok(v) = HeaderValue::from_str(&self.retry_after.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// `Tue, 05 Jan 2021 11:00:00 GMT`.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The windows of every throttled caller.
#[derive(Debug, Default)]
pub struct RateLimits {
    limits: Mutex<Limits>,
    api: Mutex<HashMap<u64, Arc<SlidingWindow>>>,
    issues: Mutex<HashMap<(u64, u64), Arc<SlidingWindow>>>,
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

    /// New limits; every window starts empty.
    pub fn set(&self, limits: Limits) {
        *lock(&self.limits) = limits;
        lock(&self.api).clear();
        lock(&self.issues).clear();
    }

    /// Counts one authenticated API request of `user`; `None` when the throttle is off.
    pub fn api_request(&self, user: u64) -> Option<Verdict> {
        let limits = self.get();
        if limits.requests_per_minute == 0 {
            return None;
        }
        let per = limits.window();
        let window = lock(&self.api)
            .entry(user)
            .or_insert_with(|| Arc::new(SlidingWindow::new(limits.requests_per_minute, per)))
            .clone();
        let now = Instant::now();
        let limit = limits.requests_per_minute;
        Some(match window.try_acquire(now) {
            Ok(()) => {
                let remaining = window.remaining(now);
                Verdict {
                    allowed: true,
                    limit,
                    observed: limit - remaining,
                    remaining,
                    reset_at: later(per),
                    retry_after: 0,
                }
            }
            Err(wait) => Verdict {
                allowed: false,
                limit,
                // Rack::Attack counts the refused request too.
                observed: limit.saturating_add(1),
                remaining: 0,
                reset_at: later(wait),
                retry_after: whole_seconds(wait),
            },
        })
    }

    /// Counts one issue creation; `false` when the caller is over the limit.
    pub fn issue_create(&self, project: u64, user: u64) -> bool {
        let limits = self.get();
        if limits.issues_create_per_minute == 0 {
            return true;
        }
        let window = lock(&self.issues)
            .entry((project, user))
            .or_insert_with(|| {
                Arc::new(SlidingWindow::new(
                    limits.issues_create_per_minute,
                    limits.window(),
                ))
            })
            .clone();
        window.try_acquire(Instant::now()).is_ok()
    }
}

fn later(d: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::seconds(60))
}

fn whole_seconds(d: Duration) -> u64 {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    s.max(1)
}

/// Locks a mutex even if a panicking thread poisoned it: the data is counters, always usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_throttle_refuses_past_the_limit_and_says_when_to_return() {
        let r = RateLimits::new(Limits {
            requests_per_minute: 2,
            issues_create_per_minute: 1,
            window_scale: 0.05,
        });
        assert!(
            r.api_request(1)
                .is_some_and(|v| v.allowed && v.remaining == 1 && v.observed == 1)
        );
        assert!(
            r.api_request(1)
                .is_some_and(|v| v.allowed && v.remaining == 0)
        );
        let refused = r.api_request(1).expect("throttle on");
        assert!(!refused.allowed);
        assert_eq!((refused.observed, refused.remaining), (3, 0));
        assert!((1..=3).contains(&refused.retry_after));
        // Another user has a window of their own.
        assert!(r.api_request(2).is_some_and(|v| v.allowed));
        assert!(r.issue_create(10, 1));
        assert!(!r.issue_create(10, 1));
        assert!(r.issue_create(11, 1), "the issue limit is per project");
        r.set(Limits {
            requests_per_minute: 0,
            ..Limits::default()
        });
        assert!(r.api_request(1).is_none());
    }
}
