//! One module per report format. To add one: write a unit struct implementing `Parser`,
//! add its `ScanType` to `ALL`, and test it on its fixtures in `tests/`.

use crate::registry::ScanType;

pub mod checkmarx_one;
pub mod common;
pub mod dependency_track;
pub mod probely;
pub mod snyk;
pub mod snyk_code;
pub mod snyk_issue_api;

/// Every supported format, in the order the UI lists them.
pub static ALL: &[ScanType] = &[
    ScanType {
        name: checkmarx_one::SCAN_TYPE,
        description: "Checkmarx ONE results: the results API / UI export (SAST, KICS, SCA), the scan report JSON, or the GitLab SAST format of the CLI.",
        extensions: &["json"],
        parser: &checkmarx_one::CheckmarxOneScan,
    },
    ScanType {
        name: dependency_track::SCAN_TYPE,
        description: "OWASP Dependency-Track findings: the Finding Packaging Format (FPF) export of a project, or the findings API's list.",
        extensions: &["json"],
        parser: &dependency_track::DependencyTrackFpf,
    },
    ScanType {
        name: probely::SCAN_TYPE,
        description: "Probely (Snyk API & Web) findings: the JSON of the findings API, paginated (`results`) or a bare list.",
        extensions: &["json"],
        parser: &probely::ProbelyScan,
    },
    ScanType {
        name: snyk::SCAN_TYPE,
        description: "Snyk CLI JSON: `snyk test --json` (one project or `--all-projects`), `snyk container test --json`, and `snyk code test --sarif`.",
        extensions: &["json", "sarif"],
        parser: &snyk::SnykScan,
    },
    ScanType {
        name: snyk_code::SCAN_TYPE,
        description: "Snyk Code SARIF: `snyk code test --sarif`.",
        extensions: &["sarif", "json"],
        parser: &snyk_code::SnykCodeScan,
    },
    ScanType {
        name: snyk_issue_api::SCAN_TYPE,
        description: "Snyk REST issues API (`/orgs/{org}/issues`) JSON:API documents: code and open-source issues.",
        extensions: &["json"],
        parser: &snyk_issue_api::SnykIssueApiScan,
    },
];
