//! The one HTTP path of every tracker client (outbound policy, rate budget, timeouts,
//! rate-limit headers, failures classified): the `outbound` crate's, shared with the scanner
//! connectors.

pub use outbound::client::*;
