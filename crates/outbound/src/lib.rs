//! vulnbridge's calls out to other services: tracker APIs (Jira, GitHub…) and scanner APIs
//! (Semgrep, Snyk…) alike.
//!
//! - [`HttpClient`]: the one HTTP path. Before a request: the outbound address policy (no
//!   cloud metadata, no link-local) and the caller's rate budget ([`Limiter`]). After: the
//!   rate-limit headers back to the limiter, and a failure classified as a [`CallError`]
//!   (wait, retry, or stop and tell a person).
//! - [`CheckReport`]: "check connection", a list of named checks with exact reasons.

pub mod check;
pub mod client;
pub mod error;
pub mod limit;
pub mod policy;

pub use check::{Check, CheckReport};
pub use client::{HttpClient, json_error};
pub use error::CallError;
pub use limit::{Budget, Limiter, NoLimits, RateInfo, RequestClass};
pub use policy::OutboundPolicy;
