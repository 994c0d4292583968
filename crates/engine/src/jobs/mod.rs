//! Background jobs, one per file. Each is a struct (its payload) implementing
//! [`crate::Job`]; [`registry`] lists them all for the worker.

mod prune_jobs;

pub use prune_jobs::PruneJobs;

use crate::Registry;

/// Every job kind this version runs.
pub fn registry() -> Registry {
    Registry::new().register::<PruneJobs>()
}
