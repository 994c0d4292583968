//! Report import and reimport: a scanner's report in, findings created, matched, closed and
//! reactivated, all in one database transaction.
//!
//! The report streams: a blocking task runs the parser and sends findings in batches of 1,000
//! over a bounded channel; this side processes each batch as it arrives, so memory holds a
//! batch plus small indexes (one line per finding of the test), never the report. Nothing is
//! committed until the report has been read to its end: a bad file, a crash or a kill leaves
//! the database as it was.
//!
//! For each report finding, in order:
//! 1. skipped below `minimum_severity`; `active`/`verified`/`service`/tags applied;
//! 2. its identity computed (`domain::dedup`: the tool's id and/or a hash of the scan type's
//!    fields); a repeat within the report is merged into its first copy (counted once);
//! 3. on reimport, paired one to one with a finding of the test by identity, and
//!    `domain::reimport::on_match` decides its status; scanner-owned fields are refreshed only
//!    when their fingerprint changed, so an unchanged reimport writes almost nothing;
//! 4. otherwise created; if an open finding with the same identity exists elsewhere in the
//!    dedup scope, the new one is a duplicate of it.
//!
//! Then findings the report no longer lists are closed (`close_old_findings`), new findings are
//! grouped (`group_by`), and an import record keeps what happened to which finding.

mod context;
mod options;
mod pipeline;

pub use context::resolve_target;
pub use options::{ImportOptions, Target};
pub use pipeline::{ImportError, ImportOutcome, Report, Source, run, run_source};
