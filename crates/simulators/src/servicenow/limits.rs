//! Inbound REST API rate limiting as the docs describe it ("Inbound REST API rate limiting"):
//! rules in `sys_rate_limit_rules` allow a number of requests per hour to a REST API, for one
//! user, for users with a role, or for all users. A single user's rule wins over role rules,
//! which win over all-users rules; among several role rules the one allowing the fewest
//! requests applies. Answers to matching requests carry `X-RateLimit-Limit`,
//! `X-RateLimit-Reset` (Unix time of the next reset) and `X-RateLimit-Rule` (the rule's
//! sys_id); a request over the limit gets `429` with `Retry-After` and the documented body.
//!
//! Besides the rules: the Batch API's size limit per item and the transaction quota that ends
//! a long batch (items not served come back as `unserviced_requests`).

use super::auth::Caller;
use super::reply::{self, ApiResponse};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One rate limit rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitRule {
    pub name: String,
    /// Shown in `X-RateLimit-Rule`; generated when empty.
    pub sys_id: String,
    /// The REST API it limits: `Table API`, `Batch API`, or empty for every one.
    pub api: String,
    /// `GET`, `POST`…; `None` for every method.
    pub method: Option<String>,
    /// A single user (user name).
    pub user: Option<String>,
    /// Users with this role.
    pub role: Option<String>,
    pub requests_per_hour: u32,
}

/// The simulator's limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub rules: Vec<RateLimitRule>,
    /// The length of "an hour", as a fraction of 3,600 s (1.0 = real time; 0.001 = 3.6 s).
    pub window_scale: f64,
    /// Largest body of one Batch API item (`glide.rest.batch.max.inputSize`, 5 MB).
    pub batch_item_max_bytes: usize,
    /// Batch items served before the transaction quota ends the batch (0: no end); the
    /// rest come back unserviced, as when a batch runs past its 30 s quota.
    pub batch_serviced_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rules: Vec::new(),
            window_scale: 1.0,
            batch_item_max_bytes: 5 * 1024 * 1024,
            batch_serviced_max: 0,
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
        Duration::from_secs_f64(3600.0 * scale).max(Duration::from_millis(10))
    }
}

/// What a rule said about one request.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub rule: String,
    pub api: String,
    pub reset_unix: i64,
    pub retry_after: u64,
}

impl Verdict {
    pub fn decorate(&self, mut r: ApiResponse) -> ApiResponse {
        r.headers
            .push(("X-RateLimit-Limit".into(), self.limit.to_string()));
        r.headers
            .push(("X-RateLimit-Reset".into(), self.reset_unix.to_string()));
        r.headers
            .push(("X-RateLimit-Rule".into(), self.rule.clone()));
        r
    }

    pub fn refusal(&self) -> ApiResponse {
        let api = if self.api.is_empty() {
            "REST API"
        } else {
            self.api.as_str()
        };
        let detail = format!(
            "Rate limit of {} requests per hour for {api} exceeded",
            self.limit
        );
        let r = reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded",
            Some(&detail),
        )
        .with_header("Retry-After", self.retry_after.to_string());
        self.decorate(r)
    }
}

struct Window {
    started: Instant,
    count: u32,
}

#[derive(Default)]
pub struct RateLimits {
    limits: Mutex<Limits>,
    windows: Mutex<HashMap<(String, String), Window>>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RateLimits {
    pub fn get(&self) -> Limits {
        lock(&self.limits).clone()
    }

    /// New limits (rules without a sys_id get one); every window starts empty.
    pub fn set(&self, mut limits: Limits) {
        for r in &mut limits.rules {
            if r.sys_id.is_empty() {
                r.sys_id = super::state::sys_id();
            }
        }
        *lock(&self.limits) = limits;
        lock(&self.windows).clear();
    }

    /// The rule that applies to `caller` calling `api` with `method`, by the documented priority.
    fn rule_for(
        limits: &Limits,
        caller: &Caller,
        api: &str,
        method: &str,
    ) -> Option<RateLimitRule> {
        let matching: Vec<&RateLimitRule> = limits
            .rules
            .iter()
            .filter(|r| r.api.is_empty() || r.api.eq_ignore_ascii_case(api))
            .filter(|r| {
                r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
            })
            .collect();
        let single: Vec<_> = matching
            .iter()
            .filter(|r| r.user.as_deref() == Some(caller.user_name.as_str()))
            .collect();
        let roles: Vec<_> = matching
            .iter()
            .filter(|r| {
                r.user.is_none()
                    && r.role
                        .as_deref()
                        .is_some_and(|role| caller.roles.iter().any(|x| x == role))
            })
            .collect();
        let all: Vec<_> = matching
            .iter()
            .filter(|r| r.user.is_none() && r.role.is_none())
            .collect();
        let tier = if !single.is_empty() {
            single
        } else if !roles.is_empty() {
            roles
        } else {
            all
        };
        tier.into_iter()
            .min_by_key(|r| r.requests_per_hour)
            .map(|r| (**r).clone())
    }

    /// Counts one request; `None` when no rule applies.
    pub fn request(&self, caller: &Caller, api: &str, method: &str) -> Option<Verdict> {
        let limits = self.get();
        let rule = Self::rule_for(&limits, caller, api, method)?;
        let per = limits.window();
        let now = Instant::now();
        let mut windows = lock(&self.windows);
        let w = windows
            .entry((rule.sys_id.clone(), caller.user_name.clone()))
            .or_insert(Window {
                started: now,
                count: 0,
            });
        if now.duration_since(w.started) >= per {
            *w = Window {
                started: now,
                count: 0,
            };
        }
        let left = per.saturating_sub(now.duration_since(w.started));
        let reset_unix = (chrono::Utc::now()
            + chrono::TimeDelta::from_std(left).unwrap_or(chrono::TimeDelta::hours(1)))
        .timestamp();
        let allowed = w.count < rule.requests_per_hour;
        if allowed {
            w.count += 1;
        }
        let retry_after = (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1);
        Some(Verdict {
            allowed,
            limit: rule.requests_per_hour,
            rule: rule.sys_id,
            api: rule.api,
            reset_unix,
            retry_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(name: &str, roles: &[&str]) -> Caller {
        Caller {
            user_name: name.into(),
            sys_id: name.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    #[test]
    fn the_documented_priority_applies() {
        let r = RateLimits::default();
        let rule = |name: &str, user: Option<&str>, role: Option<&str>, n: u32| RateLimitRule {
            name: name.into(),
            api: "Table API".into(),
            user: user.map(str::to_owned),
            role: role.map(str::to_owned),
            requests_per_hour: n,
            ..Default::default()
        };
        r.set(Limits {
            rules: vec![
                rule("user", Some("itil.user"), None, 10),
                rule("import_admin", None, Some("import_admin"), 3),
                rule("itil", None, Some("itil"), 5),
                rule("all", None, None, 2),
            ],
            ..Limits::default()
        });
        let v = r
            .request(&caller("itil.user", &["itil"]), "Table API", "GET")
            .unwrap();
        assert_eq!(v.limit, 10);
        let v = r
            .request(
                &caller("abel", &["itil", "import_admin"]),
                "Table API",
                "GET",
            )
            .unwrap();
        assert_eq!(v.limit, 3);
        let v = r
            .request(&caller("nobody", &[]), "Table API", "GET")
            .unwrap();
        assert_eq!(v.limit, 2);
        assert!(
            r.request(&caller("nobody", &[]), "Table API", "GET")
                .unwrap()
                .allowed
        );
        let refused = r
            .request(&caller("nobody", &[]), "Table API", "GET")
            .unwrap();
        assert!(!refused.allowed && refused.retry_after >= 1);
        assert!(
            r.request(&caller("nobody", &[]), "Batch API", "POST")
                .is_none()
        );
    }
}
