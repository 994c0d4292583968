//! Simulators of the trackers vulnbridge pushes to, for tests, benchmarks, the demo and
//! `vulnbridge simulate VENDOR`.
//!
//! Each simulator is an axum server on loopback holding its state in memory. It follows the
//! vendor's official API description (paths, fields, status codes, error bodies, pagination,
//! rate-limit headers) closely enough that a client which works against it works against the
//! vendor, and it refuses what the vendor refuses. Beside the vendor API, every simulator has
//! a control API under `/_sim/` (and the same operations in Rust): seed users, tokens and
//! projects, act as a person in the tracker (close an issue → a webhook is sent back), inject
//! faults, read the request counts.

pub mod azure_devops;
pub mod common;
pub mod github;
pub mod gitlab;
pub mod jira;
pub mod scanners;
pub mod servicenow;

pub use common::{Fault, Faults, RequestLog, SimServer, SlidingWindow, WebhookOutbox};
