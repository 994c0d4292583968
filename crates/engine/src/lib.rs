//! vulnbridge's behaviour, between the web layer and storage: the shared [`App`] state,
//! typed background jobs (one per file in `jobs/`) and the [`worker`] that runs them.
//! Report imports ([`import`]), and the integrators ([`integrations`]): pushes to trackers and
//! inbound sync.

mod app;
pub mod connectors;
pub mod import;
pub mod integrations;
pub mod jobs;
pub mod limits;
pub mod maintenance;
pub mod worker;

pub use app::{App, Settings};
pub use worker::{Job, JobContext, JobError, Registry, Worker, WorkerOptions, enqueue};
