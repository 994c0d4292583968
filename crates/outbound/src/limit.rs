//! Rate limits: what a client tells the limiter before and after each request.
//!
//! The [`Limiter`] is the engine's (budgets kept in the database, shared by every process
//! calling one service); clients only say what kind of request they are about to make and
//! what the service's rate-limit headers said. [`Budget`]s are the documented limits the
//! engine enforces *before* the service has to refuse anything.

use crate::CallError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The kind of request, as rate limits count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestClass {
    /// Reads (GET, GraphQL queries).
    Read,
    /// Writes that change existing content (PATCH an issue, set a project field).
    Write,
    /// Requests that create content: an issue, a comment, a project item. GitHub's secondary
    /// limits count these separately (80 a minute, 500 an hour).
    Create,
}

impl RequestClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestClass::Read => "read",
            RequestClass::Write => "write",
            RequestClass::Create => "create",
        }
    }
}

/// What a response said about the rate limit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RateInfo {
    /// Requests left in the current window (`x-ratelimit-remaining`, `RateLimit-Remaining`).
    pub remaining: Option<u64>,
    /// When the window resets (`x-ratelimit-reset`, `RateLimit-Reset`).
    pub reset: Option<DateTime<Utc>>,
    /// How long to wait (`Retry-After`), on a refused request.
    pub retry_after: Option<Duration>,
}

impl RateInfo {
    /// The moment requests may resume, if the response says requests must stop.
    pub fn blocked_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if let Some(after) = self.retry_after {
            return Some(now + chrono::TimeDelta::from_std(after).unwrap_or(chrono::TimeDelta::seconds(60)));
        }
        match (self.remaining, self.reset) {
            (Some(0), Some(reset)) if reset > now => Some(reset),
            _ => None,
        }
    }
}

/// The engine's side of rate limiting.
/// What a client asks before each request and tells after it: the engine's (budgets kept in
/// the database, shared by every process calling one instance or connector).
#[async_trait]
pub trait Limiter: Send + Sync {
    /// Called before every request. `Err(CallError::RateLimited)` when the budget is spent
    /// (the caller gives up the request and the job waits).
    async fn acquire(&self, class: RequestClass) -> Result<(), CallError>;

    /// Called after every response with what it said about the rate limit; a response that
    /// says "stop" blocks every process until the time given.
    async fn observe(&self, class: RequestClass, info: &RateInfo);
}

/// No limits (tests of a client alone, one-off checks).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLimits;

#[async_trait]
impl Limiter for NoLimits {
    async fn acquire(&self, _class: RequestClass) -> Result<(), CallError> {
        Ok(())
    }
    async fn observe(&self, _class: RequestClass, _info: &RateInfo) {}
}

/// A documented limit: at most `limit` requests of these classes per `per`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// A name for the bucket, unique per vendor or tool (`content-minute`).
    pub name: &'static str,
    pub classes: &'static [RequestClass],
    pub limit: u32,
    pub per: Duration,
}

/// Every class of request.
pub const ALL: &[RequestClass] = &[RequestClass::Read, RequestClass::Write, RequestClass::Create];
/// Requests that create content.
pub const CONTENT: &[RequestClass] = &[RequestClass::Create];
/// Requests that change or create.
pub const WRITES: &[RequestClass] = &[RequestClass::Write, RequestClass::Create];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_wins_then_the_reset_when_nothing_remains() {
        let now = Utc::now();
        let info = RateInfo { remaining: Some(0), reset: Some(now + chrono::TimeDelta::seconds(90)), retry_after: Some(Duration::from_secs(5)) };
        assert_eq!(info.blocked_until(now), Some(now + chrono::TimeDelta::seconds(5)));
        let info = RateInfo { retry_after: None, ..info };
        assert_eq!(info.blocked_until(now), Some(now + chrono::TimeDelta::seconds(90)));
        let info = RateInfo { remaining: Some(3), ..info };
        assert_eq!(info.blocked_until(now), None);
    }
}
