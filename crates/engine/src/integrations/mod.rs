//! Integrators: everything between findings and the trackers.
//!
//! - [`configure`]: instances, mappings and assignments, checked and stored (credentials sealed);
//! - [`enqueue`]: which pushes a change needs, queued in the change's own transaction;
//! - [`push`]: one push job — create, adopt after a crash, update only what changed;
//! - [`inbound`]: tracker webhooks applied to findings, echoes of our own writes ignored;
//! - [`check`]: "check connection" and webhook registration;
//! - [`reconcile`]: polling trackers whose webhooks may be missed (ServiceNow);
//! - [`clients`]: one tracker client per instance, and the shared rate budgets it spends.
//!
//! The decisions themselves (what to send, whether to push, what a tracker change means) are
//! pure functions in `domain::tracker`; this module does the IO around them.

pub mod check;
pub mod clients;
pub mod configure;
pub mod credentials;
pub mod enqueue;
pub mod inbound;
pub mod push;
pub mod queue;
pub mod reconcile;
pub mod subject;

pub use clients::TrackerClients;
