//! How a call to a tracker or a scanner failed, in the terms the engine acts on: wait, retry,
//! or stop and tell a person (an error table, an operations log). Messages name what is wrong
//! and never carry secrets.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The credentials were refused (bad, expired or revoked token).
    #[error("the credentials were refused: {0}")]
    Unauthorized(String),
    /// Signed in, but not allowed (a missing scope or permission).
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The project, repository or ticket does not exist (or is invisible to this token).
    #[error("not found: {0}")]
    NotFound(String),
    /// The request's content was refused (a validation error).
    #[error("the request was refused: {0}")]
    Rejected(String),
    /// The configuration does not fit the service (a field or option the project lacks).
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
    /// The service answered something we cannot read.
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

impl CallError {
    /// Retrying the same request later can succeed on its own.
    pub fn is_retryable(&self) -> bool {
        matches!(self, CallError::RateLimited { .. } | CallError::Transient(_))
    }

    /// A short reason code for metrics and the error table's filter.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Unauthorized(_) => "unauthorized",
            CallError::Forbidden(_) => "forbidden",
            CallError::NotFound(_) => "not_found",
            CallError::Rejected(_) => "rejected",
            CallError::Misconfigured(_) => "misconfigured",
            CallError::RateLimited { .. } => "rate_limited",
            CallError::Transient(_) => "transient",
            CallError::Blocked(_) => "blocked",
            CallError::Protocol(_) => "protocol",
        }
    }
}
