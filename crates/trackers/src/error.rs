//! How a tracker call failed: the `outbound` crate's [`CallError`](outbound::CallError),
//! shared with the scanner connectors, under the name the tracker code uses.

pub use outbound::CallError as TrackerError;
