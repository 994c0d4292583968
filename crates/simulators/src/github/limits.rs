//! GitHub's rate limits, per user: the primary limits (REST requests, GraphQL points, an hour
//! each) and the secondary content-creation limits (a minute and an hour), on a clock that
//! `window_scale` can speed up.

use crate::SlidingWindow;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The limits the simulator enforces. The defaults are GitHub's documented ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// REST requests an hour per user (GitHub: 5,000 for a personal access token).
    pub primary_per_hour: u32,
    /// GraphQL points an hour per user (GitHub: 5,000).
    pub graphql_points_per_hour: u32,
    /// Content-creating requests a minute (GitHub: 80).
    pub content_per_minute: u32,
    /// Content-creating requests an hour (GitHub: 500).
    pub content_per_hour: u32,
    /// Multiplies every window: `0.01` makes an hour 36 s and a minute 0.6 s, so benchmarks
    /// can run GitHub's ratios on a faster clock.
    pub window_scale: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            primary_per_hour: 5000,
            graphql_points_per_hour: 5000,
            content_per_minute: 80,
            content_per_hour: 500,
            window_scale: 1.0,
        }
    }
}

impl Limits {
    fn window(&self, secs: u64) -> Duration {
        let scale = if self.window_scale.is_finite() && self.window_scale > 0.0 {
            self.window_scale
        } else {
            1.0
        };
        Duration::from_secs_f64(secs as f64 * scale).max(Duration::from_millis(1))
    }
}

/// Which primary budget a request draws on (`x-ratelimit-resource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Core,
    Graphql,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Graphql => "graphql",
        }
    }
}

/// The `x-ratelimit-*` values of one response.
#[derive(Clone, Debug)]
pub struct RateHeaders {
    pub limit: u32,
    pub remaining: u32,
    pub used: u32,
    /// Epoch seconds.
    pub reset: i64,
    pub resource: Resource,
}

impl RateHeaders {
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-used", self.used.to_string()),
            ("x-ratelimit-reset", self.reset.to_string()),
            ("x-ratelimit-resource", self.resource.as_str().to_owned()),
        ]
    }
}

/// Why a request was refused.
#[derive(Clone, Debug)]
pub enum Refusal {
    /// The primary budget is spent until the reset.
    Primary(RateHeaders),
    /// A secondary limit: wait this long.
    Secondary {
        headers: RateHeaders,
        retry_after: Duration,
    },
}

struct Budget {
    window: SlidingWindow,
    /// When the current window started (its first event since it was last empty): the reset
    /// GitHub reports is this plus the window.
    started: Instant,
}

impl Budget {
    fn new(limit: u32, per: Duration) -> Budget {
        Budget {
            window: SlidingWindow::new(limit, per),
            started: Instant::now(),
        }
    }

    /// Takes `n` events if all fit.
    fn take(&mut self, now: Instant, n: u32) -> Result<(), Duration> {
        let remaining = self.window.remaining(now);
        if remaining == self.window.limit {
            self.started = now;
        }
        if remaining < n {
            return Err(self.wait(now));
        }
        for _ in 0..n {
            self.window.try_acquire(now)?;
        }
        Ok(())
    }

    /// How long until the window has room again: exact when it is full (the oldest event's
    /// expiry), else the window's end counted from its start.
    fn wait(&self, now: Instant) -> Duration {
        if self.window.remaining(now) == 0 {
            // A full window records nothing and says how long until its oldest event expires.
            if let Err(wait) = self.window.try_acquire(now) {
                return wait;
            }
        }
        self.window
            .per
            .saturating_sub(now.saturating_duration_since(self.started))
    }

    fn headers(&self, now: Instant, resource: Resource) -> RateHeaders {
        let remaining = self.window.remaining(now);
        let reset_in = if remaining == self.window.limit {
            self.window.per
        } else {
            self.wait(now)
        };
        let reset = Utc::now() + chrono::TimeDelta::from_std(reset_in).unwrap_or_default();
        // Round up: a client waiting until the reset second must find the window free.
        let reset = reset.timestamp() + i64::from(reset.timestamp_subsec_nanos() > 0);
        RateHeaders {
            limit: self.window.limit,
            remaining,
            used: self.window.limit - remaining,
            reset,
            resource,
        }
    }
}

struct UserBudgets {
    core: Budget,
    graphql: Budget,
    content_minute: Budget,
    content_hour: Budget,
}

/// Every user's budgets under one set of limits.
pub struct RateLimiter {
    limits: Limits,
    users: HashMap<String, UserBudgets>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(Limits::default())
    }
}

impl RateLimiter {
    pub fn new(limits: Limits) -> RateLimiter {
        RateLimiter {
            limits,
            users: HashMap::new(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn budgets(&mut self, login: &str) -> &mut UserBudgets {
        let l = &self.limits;
        self.users
            .entry(login.to_owned())
            .or_insert_with(|| UserBudgets {
                core: Budget::new(l.primary_per_hour, l.window(3600)),
                graphql: Budget::new(l.graphql_points_per_hour, l.window(3600)),
                content_minute: Budget::new(l.content_per_minute, l.window(60)),
                content_hour: Budget::new(l.content_per_hour, l.window(3600)),
            })
    }

    /// Counts a request of `cost` against the user's primary budget, and `content` creations
    /// against the secondary ones. The headers to send either way.
    pub fn charge(
        &mut self,
        login: &str,
        resource: Resource,
        cost: u32,
        content: u32,
    ) -> Result<RateHeaders, Refusal> {
        let now = Instant::now();
        let b = self.budgets(login);
        let primary = match resource {
            Resource::Core => &mut b.core,
            Resource::Graphql => &mut b.graphql,
        };
        if primary.take(now, cost.max(1)).is_err() {
            return Err(Refusal::Primary(primary.headers(now, resource)));
        }
        let headers = primary.headers(now, resource);
        if content > 0 {
            let minute = b.content_minute.window.remaining(now);
            let hour = b.content_hour.window.remaining(now);
            if minute < content || hour < content {
                let wait_minute = if minute < content {
                    b.content_minute.wait(now)
                } else {
                    Duration::ZERO
                };
                let wait_hour = if hour < content {
                    b.content_hour.wait(now)
                } else {
                    Duration::ZERO
                };
                return Err(Refusal::Secondary {
                    headers,
                    retry_after: wait_minute.max(wait_hour),
                });
            }
            // Both have room: neither take can fail.
            let _ = b.content_minute.take(now, content);
            let _ = b.content_hour.take(now, content);
        }
        Ok(headers)
    }

    /// The headers for a user without charging anything (a `rateLimit` query, a refused
    /// request before counting).
    pub fn peek(&mut self, login: &str, resource: Resource) -> RateHeaders {
        let now = Instant::now();
        let b = self.budgets(login);
        match resource {
            Resource::Core => b.core.headers(now, resource),
            Resource::Graphql => b.graphql.headers(now, resource),
        }
    }
}
