//! vulnbridge's storage: one [`Db`] over SQLite (the default, a file in the data directory)
//! or PostgreSQL (for scale-out), the migrations of both, the repositories, and the jobs
//! table.
//!
//! Every function here is exercised by the contract suite in `tests/contract.rs`, which runs
//! each test on both backends.

mod db;
mod error;
pub mod jobs;
mod query;
mod repo;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use db::{AsConn, Backend, Conn, Db, DbOptions, PooledConn, Tx, now, redact_url};
pub use error::{Result, StoreError};
pub use query::{Page, PageRequest};
pub use repo::{
    assignments, connectors, cursors, engagements, findings, groups, history, imports, installation, instances, mappings, members,
    notes, product_types, products, push_errors, rate_limits, sessions, tests, tickets, tokens, users, webhook_deliveries,
};
