//! "Check connection": a list of named checks, each passed or failed with the exact reason
//! (the `outbound` crate's, shared with the scanner connectors).

pub use outbound::check::{Check, CheckReport};
