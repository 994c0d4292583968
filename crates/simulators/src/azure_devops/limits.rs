//! Azure DevOps' global consumption limit, per user: usage counted in TSTUs over a sliding
//! window (200 TSTUs in five minutes on Azure DevOps Services). The simulator charges every
//! request the same (`tstu_per_request`). As usage approaches the limit, answers carry
//! `X-RateLimit-Resource`, `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
//! (the docs: "all these headers are sent before requests start getting delayed"; the simulator
//! starts at half the limit). Over the limit, requests are first delayed (`delay_ms`, with
//! `X-RateLimit-Delay` and `Retry-After` on the still successful answer), and once
//! `delayed_requests` more were delayed, blocked: 429 with `Retry-After` and
//! `TF400733: The request has been canceled: Request was blocked due to exceeding usage of
//! resource '<resource>' in namespace '<namespace>'.`
//!
//! `window_scale` shrinks the window so tests can wait for it to pass.

use super::reply::ApiError;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Shown in `X-RateLimit-Resource` and the TF400733 message (display only, as documented).
pub const RESOURCE: &str = "Core";
const NAMESPACE: &str = "User";

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// TSTUs a user may use in the window before requests are delayed; 0 turns limits off.
    pub tstu_limit: u32,
    /// TSTUs one request costs.
    pub tstu_per_request: u32,
    /// Requests over the limit that are delayed before further ones are blocked with 429.
    pub delayed_requests: u32,
    /// How long a delayed request is held.
    pub delay_ms: u64,
    /// The sliding window, in seconds (five minutes).
    pub window_secs: u64,
    /// The window's length as a fraction of `window_secs` (1.0 = real time).
    pub window_scale: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tstu_limit: 200,
            tstu_per_request: 1,
            delayed_requests: 100,
            delay_ms: 200,
            window_secs: 300,
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
        Duration::from_secs_f64(self.window_secs.max(1) as f64 * scale)
            .max(Duration::from_millis(10))
    }
}

/// What the limiter decided for one request.
#[derive(Debug)]
pub enum Verdict {
    /// Served as usual, with these headers (none while usage is low).
    Served(Vec<(&'static str, String)>),
    /// Served after `delay`, with these headers.
    Delayed(Duration, Vec<(&'static str, String)>),
    Blocked(Box<Response>),
}

#[derive(Debug, Default)]
pub struct RateLimits {
    limits: Mutex<Limits>,
    /// Each user's charged requests: when, and how many TSTUs.
    usage: Mutex<HashMap<String, VecDeque<(Instant, u32)>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RateLimits {
    pub fn new(limits: Limits) -> RateLimits {
        RateLimits {
            limits: Mutex::new(limits),
            usage: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self) -> Limits {
        *lock(&self.limits)
    }

    /// New limits; every user's usage starts at zero.
    pub fn set(&self, limits: Limits) {
        *lock(&self.limits) = limits;
        lock(&self.usage).clear();
    }

    /// Charges one request of `user`.
    pub fn charge(&self, user: &str) -> Verdict {
        let l = self.get();
        if l.tstu_limit == 0 {
            return Verdict::Served(Vec::new());
        }
        let now = Instant::now();
        let per = l.window();
        let mut usage = lock(&self.usage);
        let q = usage.entry(user.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= per)
        {
            q.pop_front();
        }
        let used: u64 = q.iter().map(|(_, c)| u64::from(*c)).sum();
        let cost = u64::from(l.tstu_per_request.max(1));
        let limit = u64::from(l.tstu_limit);
        let after = used + cost;
        // Time until the oldest charge leaves the window: when usage starts falling.
        let free_in = q
            .front()
            .map_or(per, |(t, _)| per.saturating_sub(now.duration_since(*t)));
        let reset = unix_now() + per.as_secs_f64().ceil() as u64;
        let headers = |remaining: u64| {
            vec![
                ("x-ratelimit-resource", RESOURCE.to_owned()),
                ("x-ratelimit-limit", limit.to_string()),
                ("x-ratelimit-remaining", remaining.to_string()),
                ("x-ratelimit-reset", reset.to_string()),
            ]
        };
        if after > limit + u64::from(l.delayed_requests) * cost {
            return Verdict::Blocked(Box::new(blocked(headers(0), whole_seconds(free_in))));
        }
        q.push_back((now, cost as u32));
        if after > limit {
            let delay = Duration::from_millis(l.delay_ms);
            let mut h = headers(0);
            h.push(("x-ratelimit-delay", format!("{:.3}", delay.as_secs_f64())));
            h.push(("retry-after", whole_seconds(free_in).to_string()));
            return Verdict::Delayed(delay, h);
        }
        if after * 2 > limit {
            return Verdict::Served(headers(limit - after));
        }
        Verdict::Served(Vec::new())
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn whole_seconds(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

fn blocked(headers: Vec<(&'static str, String)>, retry_after: u64) -> Response {
    let e = ApiError::Vss {
        status: StatusCode::TOO_MANY_REQUESTS,
        type_key: "RequestBlockedException",
        namespace: "Microsoft.TeamFoundation.Framework.Server",
        assembly: "Microsoft.TeamFoundation.Framework.Server",
        message: format!(
            "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource '{RESOURCE}' in namespace '{NAMESPACE}'."
        ),
        event_id: 3000,
        custom: None,
    };
    let mut r = e.into_response();
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().insert(k, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// Adds the limiter's headers to an answer.
pub fn decorate(response: &mut Response, headers: &[(&'static str, String)]) {
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            response.headers_mut().insert(*k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_served_then_delayed_then_blocked() {
        let r = RateLimits::new(Limits {
            tstu_limit: 4,
            tstu_per_request: 1,
            delayed_requests: 1,
            delay_ms: 0,
            window_secs: 300,
            window_scale: 1.0,
        });
        assert!(matches!(r.charge("u"), Verdict::Served(h) if h.is_empty()));
        assert!(matches!(r.charge("u"), Verdict::Served(h) if h.is_empty()));
        let Verdict::Served(h) = r.charge("u") else {
            panic!("served")
        };
        assert!(
            h.contains(&("x-ratelimit-remaining", "1".to_owned())),
            "{h:?}"
        );
        assert!(matches!(r.charge("u"), Verdict::Served(_)));
        let Verdict::Delayed(_, h) = r.charge("u") else {
            panic!("delayed")
        };
        assert!(h.iter().any(|(k, _)| *k == "x-ratelimit-delay"));
        let Verdict::Blocked(resp) = r.charge("u") else {
            panic!("blocked")
        };
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(resp.headers().get("retry-after").is_some());
        assert!(matches!(r.charge("other"), Verdict::Served(_)), "per user");
        r.set(Limits {
            tstu_limit: 0,
            ..Limits::default()
        });
        assert!(matches!(r.charge("u"), Verdict::Served(h) if h.is_empty()));
    }
}
