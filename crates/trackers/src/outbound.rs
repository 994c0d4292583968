//! The outbound address policy (SSRF guard) every tracker client obeys: the `outbound`
//! crate's, shared with the scanner connectors.

pub use outbound::policy::*;
