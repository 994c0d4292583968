//! Background jobs, one per file. Each is a struct (its payload) implementing
//! [`crate::Job`]; [`registry`] lists them all for the worker.

mod prune_jobs;
mod push_ticket;

pub use prune_jobs::PruneJobs;
pub use push_ticket::PushTicket;

use crate::Registry;

/// Every job kind this version runs.
pub fn registry() -> Registry {
    Registry::new().register::<PruneJobs>().register::<PushTicket>()
}
