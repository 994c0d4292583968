//! One module per report format. To add one: write a unit struct implementing `Parser`,
//! add its `ScanType` to `ALL`, and test it on its fixtures in `tests/`.

use crate::registry::ScanType;

pub mod common;
pub mod generic;
mod html;
pub mod sarif;
pub mod semgrep;
pub mod semgrep_pro;
pub mod sonarqube;

/// Every supported format, in the order the UI lists them.
pub static ALL: &[ScanType] = &[
    ScanType {
        name: sarif::NAME,
        description: "SARIF 2.1.0 from any static analysis tool (streamed, any size)",
        extensions: &["sarif", "json"],
        parser: &sarif::Sarif,
    },
    ScanType {
        name: generic::NAME,
        description: "vulnbridge's generic findings format, JSON or CSV (docs/formats/generic.md)",
        extensions: &["json", "csv"],
        parser: &generic::Generic,
    },
    ScanType {
        name: semgrep::NAME,
        description: "Semgrep's JSON output (semgrep --json), or its Supply Chain export",
        extensions: &["json"],
        parser: &semgrep::Semgrep,
    },
    ScanType {
        name: semgrep_pro::NAME,
        description: "Findings exported from the Semgrep AppSec Platform API, in JSON",
        extensions: &["json"],
        parser: &semgrep_pro::SemgrepPro,
    },
    ScanType {
        name: sonarqube::NAME,
        description: "SonarQube issues (sonar-report HTML or JSON, API export JSON or zip), aggregated per rule and file",
        extensions: &["html", "json", "zip"],
        parser: &sonarqube::AGGREGATED,
    },
    ScanType {
        name: sonarqube::NAME_DETAILED,
        description: "SonarQube issues (sonar-report HTML or JSON, API export JSON or zip), one finding per issue",
        extensions: &["html", "json", "zip"],
        parser: &sonarqube::DETAILED,
    },
];
