//! One module per report format. To add one: write a unit struct implementing `Parser`,
//! add its `ScanType` to `ALL`, and test it on its fixtures in `tests/`.

use crate::registry::ScanType;

pub mod awssecurityhub;
pub mod burp;
pub mod burp_api;
mod burp_common;
pub mod burp_dastardly;
pub mod burp_graphql;
pub mod burp_suite_dast;
pub mod checkmarx_one;
pub(crate) mod common;
pub mod dependency_track;
pub mod generic;
pub mod probely;
pub mod sarif;
pub mod semgrep;
pub mod semgrep_pro;
pub mod snyk;
pub mod snyk_code;
pub mod snyk_issue_api;
pub mod sonarqube;
pub mod tenable;
mod tenable_csv;
mod tenable_xml;

/// Every supported format, in the order the UI lists them.
pub(crate) static ALL: &[ScanType] = &[
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
    ScanType {
        name: awssecurityhub::SCAN_TYPE,
        description: "AWS Security Hub findings in ASFF JSON ({\"Findings\": […]} or a list): Config/compliance \
                      controls, Inspector (EC2, ECR, Lambda) and GuardDuty findings.",
        extensions: &["json"],
        parser: &awssecurityhub::AwsSecurityHubParser,
    },
    ScanType {
        name: burp::SCAN_TYPE,
        description: "Burp Suite \"Report issues\" XML export; base64-encoded requests and responses are decoded.",
        extensions: &["xml"],
        parser: &burp::BurpParser,
    },
    ScanType {
        name: burp_dastardly::SCAN_TYPE,
        description: "Burp Dastardly (CI scanner) JUnit XML results.",
        extensions: &["xml"],
        parser: &burp_dastardly::BurpDastardlyParser,
    },
    ScanType {
        name: burp_graphql::SCAN_TYPE,
        description: "Burp Suite DAST issues from its GraphQL API, saved as JSON ({\"Issues\": […]}).",
        extensions: &["json"],
        parser: &burp_graphql::BurpGraphqlParser,
    },
    ScanType {
        name: burp_api::SCAN_TYPE,
        description: "Burp Suite REST API scan results in JSON (GET /v0.1/scan/{task_id}).",
        extensions: &["json"],
        parser: &burp_api::BurpApiParser,
    },
    ScanType {
        name: burp_suite_dast::SCAN_TYPE,
        description: "Burp Suite DAST HTML report (formerly Burp Suite Enterprise Edition; DefectDojo's old \
                      name for this format is \"Burp Enterprise Scan\").",
        extensions: &["html", "htm"],
        parser: &burp_suite_dast::BurpSuiteDastParser,
    },
    ScanType {
        name: tenable::SCAN_TYPE,
        description: "Tenable / Nessus: .nessus XML (NessusClientData_v2) or a Nessus, Tenable.sc or \
                      Tenable.io CSV export, Nessus WAS included; XML or CSV is detected from the content.",
        extensions: &["nessus", "xml", "csv"],
        parser: &tenable::TenableParser,
    },
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
