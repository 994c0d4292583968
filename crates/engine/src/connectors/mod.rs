//! Connectors: scanners pulled through their APIs on a schedule.
//!
//! - [`configure`]: connectors (secrets sealed), and the decisions about Records (map, ignore,
//!   restore, delete);
//! - [`discover`]: a Discover — the tool's Records found, the pure rules
//!   (`domain::connector::discover_changes`) applied, new Records auto-mapped;
//! - [`sync`]: a Sync — each mapped Record's findings pulled and reimported (one transaction
//!   per Record: a failure leaves that Record as it was) into the "Global Connectors"
//!   engagement of its Product, one Test per connector;
//! - [`schedule`]: due operations taken once across replicas and queued;
//! - [`clients`]: one API client per connector and process, with its rate budget.
//!
//! Every Discover and Sync is an operation in the log, run by the `RunOperation` job; a second
//! run of the same kind waits for the one in flight.

pub mod clients;
pub mod configure;
pub mod discover;
pub mod run;
pub mod schedule;
pub mod sync;

pub use clients::ScannerClients;
