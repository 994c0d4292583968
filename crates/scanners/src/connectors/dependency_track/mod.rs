//! The OWASP Dependency-Track connector (4.x API).
//!
//! - Setup: the location is the API server (`https://dtrack.example.com`; paths `/api/…`
//!   below it); secret `api_key`, a team key with VIEW_PORTFOLIO and VIEW_VULNERABILITY.
//! - Discover: active projects, by UUID (see [`projects`]).
//! - Pull: a project's findings, always complete (see [`pull`]). The cursor is the time of
//!   the pull, for the record; every pull reads everything.

mod api;
mod projects;
mod pull;

use super::{FindingSink, PullMode, Pulled, ScannerApi, Setup};
use api::Api;
use async_trait::async_trait;
use domain::connector::{DiscoveredRecord, Record, Tool};
use outbound::{CallError, CheckReport, HttpClient};
use serde::Deserialize;

const NEEDED: [&str; 2] = ["VIEW_PORTFOLIO", "VIEW_VULNERABILITY"];

#[derive(Debug)]
pub struct DependencyTrack {
    api: Api,
}

impl DependencyTrack {
    pub fn new(setup: Setup, http: HttpClient) -> Result<DependencyTrack, CallError> {
        let key = setup.secret("api_key")?.clone();
        Ok(DependencyTrack {
            api: Api::new(http, setup.location, key),
        })
    }
}

#[derive(Deserialize)]
struct Version {
    #[serde(default)]
    application: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct Team {
    name: String,
    #[serde(default)]
    permissions: Vec<Permission>,
}

#[derive(Deserialize)]
struct Permission {
    name: String,
}

#[async_trait]
impl ScannerApi for DependencyTrack {
    fn tool(&self) -> Tool {
        Tool::DependencyTrack
    }

    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        match self
            .api
            .get_public::<Version>("/api/version", "the server's version")
            .await
        {
            Ok(v) if v.application.as_deref() == Some("Dependency-Track") => {
                report.pass(
                    "server",
                    format!(
                        "Dependency-Track {}",
                        v.version.as_deref().unwrap_or("(version unknown)")
                    ),
                );
            }
            Ok(v) => {
                report.fail(
                    "server",
                    format!(
                        "the location answers as {}, not Dependency-Track's API server",
                        v.application.as_deref().unwrap_or("an unknown application")
                    ),
                );
                return report;
            }
            Err(e) => {
                report.fail(
                    "server",
                    format!(
                        "no Dependency-Track API at {}: {e}",
                        self.api.url("/api/version", &[])
                    ),
                );
                return report;
            }
        }
        let team = match self
            .api
            .get::<Team>("/api/v1/team/self", &[], "the API key's team")
            .await
        {
            Ok(t) => t,
            Err(CallError::Unauthorized(msg)) => {
                report.fail(
                    "credentials",
                    format!("Dependency-Track refused the API key ({msg})"),
                );
                return report;
            }
            Err(e) => {
                report.fail(
                    "credentials",
                    format!("cannot read the API key's team: {e}"),
                );
                return report;
            }
        };
        report.pass(
            "credentials",
            format!("the API key belongs to team '{}'", team.name),
        );
        report.account = Some(team.name.clone());
        let missing: Vec<&str> = NEEDED
            .iter()
            .copied()
            .filter(|n| !team.permissions.iter().any(|p| p.name == *n))
            .collect();
        if missing.is_empty() {
            report.pass(
                "permissions",
                "the team may view the portfolio and its vulnerabilities",
            );
        } else {
            report.fail(
                "permissions",
                format!("the team '{}' lacks {}", team.name, missing.join(" and ")),
            );
        }
        report
    }

    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError> {
        projects::records(&self.api).await
    }

    async fn pull(
        &self,
        record: &Record,
        _mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        pull::pull(&self.api, record, sink).await
    }
}
