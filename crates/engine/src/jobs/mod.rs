//! Background jobs, one per file. Each is a struct (its payload) implementing
//! [`crate::Job`]; [`registry`] lists them all for the worker.

mod prune_jobs;
mod prune_webhook_deliveries;
mod push_batch;
mod push_comment;
mod push_ticket;
mod reconcile_mapping;
mod run_operation;

pub use prune_jobs::PruneJobs;
pub use prune_webhook_deliveries::PruneWebhookDeliveries;
pub use push_batch::PushBatch;
pub use push_comment::PushComment;
pub use push_ticket::PushTicket;
pub use reconcile_mapping::ReconcileMapping;
pub use run_operation::RunOperation;

use crate::Registry;

/// Every job kind this version runs.
pub fn registry() -> Registry {
    Registry::new()
        .register::<PruneJobs>()
        .register::<PruneWebhookDeliveries>()
        .register::<PushBatch>()
        .register::<PushComment>()
        .register::<PushTicket>()
        .register::<ReconcileMapping>()
        .register::<RunOperation>()
}
