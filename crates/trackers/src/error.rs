//! How a tracker call failed, in the terms the engine acts on: wait, retry, or stop and tell
//! a person (the mapping's error table). Messages name what is wrong and never carry secrets.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrackerError {
    /// The credentials were refused (bad, expired or revoked token).
    #[error("the tracker refused the credentials: {0}")]
    Unauthorized(String),
    /// Signed in, but not allowed (a missing scope or permission).
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The project, repository or ticket does not exist (or is invisible to this token).
    #[error("not found: {0}")]
    NotFound(String),
    /// The tracker refused the request's content (a validation error).
    #[error("the tracker refused the request: {0}")]
    Rejected(String),
    /// The mapping does not fit the tracker (a field or option the project lacks).
    #[error("{0}")]
    Misconfigured(String),
    /// A rate limit: try again at `until` (from Retry-After or the reset header) or later.
    #[error("rate limited{}: {reason}", until.map(|u| format!(" until {}", u.format("%H:%M:%S UTC"))).unwrap_or_default())]
    RateLimited {
        until: Option<DateTime<Utc>>,
        reason: String,
    },
    /// Worth retrying: a 5xx, a timeout, a dropped connection.
    #[error("{0}")]
    Transient(String),
    /// The outbound policy forbids the address (cloud metadata, link-local…).
    #[error("{0}")]
    Blocked(String),
    /// The tracker answered something we cannot read.
    #[error("unexpected answer from the tracker: {0}")]
    Protocol(String),
}

impl TrackerError {
    /// Retrying the same request later can succeed on its own.
    pub fn is_retryable(&self) -> bool {
        matches!(self, TrackerError::RateLimited { .. } | TrackerError::Transient(_))
    }

    /// A short reason code for metrics and the error table's filter.
    pub fn code(&self) -> &'static str {
        match self {
            TrackerError::Unauthorized(_) => "unauthorized",
            TrackerError::Forbidden(_) => "forbidden",
            TrackerError::NotFound(_) => "not_found",
            TrackerError::Rejected(_) => "rejected",
            TrackerError::Misconfigured(_) => "misconfigured",
            TrackerError::RateLimited { .. } => "rate_limited",
            TrackerError::Transient(_) => "transient",
            TrackerError::Blocked(_) => "blocked",
            TrackerError::Protocol(_) => "protocol",
        }
    }
}
