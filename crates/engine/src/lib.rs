//! vulnbridge's behaviour, between the web layer and storage: the shared [`App`] state,
//! typed background jobs (one per file in `jobs/`) and the [`worker`] that runs them.
//! Later: imports, pushes to trackers, inbound sync and connector schedules.

mod app;
pub mod import;
pub mod jobs;
pub mod maintenance;
pub mod worker;

pub use app::{App, Settings};
pub use worker::{Job, JobError, Registry, Worker, WorkerOptions, enqueue};
