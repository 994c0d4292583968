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
use std::net::SocketAddr;

/// Starts the simulator of `tool` seeded with its realistic world (built from the report
/// fixtures): what `vulnbridge simulate <tool>`, the demo and the end-to-end tests run.
pub async fn start_seeded(tool: Tool, bind: SocketAddr) -> std::io::Result<Box<dyn ScannerSim>> {
    Ok(match tool {
        Tool::AwsSecurityHub => Box::new(aws_security_hub::AwsSecurityHubSim::start_seeded(bind).await?),
        Tool::BurpSuite => Box::new(burp::BurpSim::start_seeded(bind).await?),
        Tool::CheckmarxOne => Box::new(checkmarx_one::CheckmarxSim::start_seeded(bind).await?),
        Tool::DependencyTrack => Box::new(dependency_track::DependencyTrackSim::start_seeded(bind).await?),
        Tool::Probely => Box::new(probely::ProbelySim::start_seeded(bind).await?),
        Tool::Semgrep => Box::new(semgrep::SemgrepSim::start_seeded(bind).await?),
        Tool::SonarQube => Box::new(sonarqube::SonarQubeSim::start_seeded(bind).await?),
        Tool::Snyk => Box::new(snyk::SnykSim::start_seeded(bind).await?),
        Tool::Tenable => Box::new(tenable::TenableSim::start_seeded(bind).await?),
    })
}

/// Starts the simulator of `tool` on a loopback port with `records` Records of
/// `findings_per_record` generated findings each, its rate limits relaxed: for benchmarks.
pub async fn generate(tool: Tool, records: usize, findings_per_record: usize) -> std::io::Result<Box<dyn ScannerSim>> {
    let any: SocketAddr = ([127, 0, 0, 1], 0).into();
    Ok(match tool {
        Tool::AwsSecurityHub => Box::new(aws_security_hub::AwsSecurityHubSim::generate(records, findings_per_record).await?),
        Tool::BurpSuite => Box::new(burp::BurpSim::generate(any, records, findings_per_record).await?),
        Tool::CheckmarxOne => Box::new(checkmarx_one::CheckmarxSim::generate(any, records, findings_per_record).await?),
        Tool::DependencyTrack => Box::new(dependency_track::DependencyTrackSim::generate(records, findings_per_record).await?),
        Tool::Probely => Box::new(probely::ProbelySim::generate(any, records, findings_per_record).await?),
        Tool::Semgrep => Box::new(semgrep::SemgrepSim::generate(records, findings_per_record).await?),
        Tool::SonarQube => Box::new(sonarqube::SonarQubeSim::generate(records, findings_per_record).await?),
        Tool::Snyk => Box::new(snyk::SnykSim::generate(records, findings_per_record).await?),
        Tool::Tenable => Box::new(tenable::TenableSim::generate(records, findings_per_record).await?),
    })
}

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
