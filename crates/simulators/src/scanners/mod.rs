//! Simulators of the nine scanners' APIs that connectors pull from, one module per tool.
//!
//! Each serves the tool's documented paths, fields, pagination, authentication and errors over
//! real HTTP, seeded from the repository's report fixtures, and implements [`ScannerSim`] so
//! tests, the demo and benchmarks can drive any of them the same way.

pub mod aws_security_hub;
pub mod burp;
pub mod checkmarx_one;
pub mod dependency_track;
pub mod probely;
pub mod semgrep;
pub mod snyk;
pub mod sonarqube;
pub mod tenable;

use domain::connector::Tool;

/// What every scanner simulator offers its tests, the demo and the benchmarks.
pub trait ScannerSim: Send + Sync {
    fn tool(&self) -> Tool;
    fn base_url(&self) -> String;
    /// The connector location for this simulator.
    fn location(&self) -> String;
    /// Valid secrets by name (as `scanners::connectors::secret_names` lists them).
    fn secrets(&self) -> Vec<(&'static str, String)>;
    /// Connector options the simulator needs (e.g. an organization), usually empty.
    fn options(&self) -> serde_json::Map<String, serde_json::Value>;
    /// The external ids of the Records Discover should find now.
    fn record_ids(&self) -> Vec<String>;
    /// Adds a Record with `findings` generated findings; returns its external id.
    fn add_record(&self, name: &str, findings: usize) -> String;
    /// The tool stops reporting a Record.
    fn remove_record(&self, external_id: &str);
    /// The tool reports the first `n` open findings of a Record as fixed/resolved.
    fn fix_findings(&self, external_id: &str, n: usize);
    /// The tool marks the first open finding of a Record false positive (or its nearest verdict).
    fn mark_false_positive(&self, external_id: &str);
    /// Open findings of a Record, as the tool reports them.
    fn open_findings(&self, external_id: &str) -> usize;
    fn faults(&self) -> &crate::Faults;
    fn requests(&self) -> &crate::RequestLog;
    fn summary(&self) -> String;
}
