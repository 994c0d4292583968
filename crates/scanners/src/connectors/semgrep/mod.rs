//! Semgrep AppSec Platform (Web API v1, `Authorization: Bearer <token>` with the Web API scope).
//!
//! - Discover: `GET /api/v1/deployments` (a token sees its one deployment), then each
//!   deployment's `GET …/{slug}/projects` (0-based pages of 100): a Record per project, keyed
//!   by the project's id, with the deployment slug and the project name in its metadata.
//! - Pull: `GET …/{slug}/findings?issue_type=sast|sca&repos=<project>&dedup=true`, 0-based pages
//!   (`page_size` 100–3000; a short page is the last); `since` for incremental pulls (see
//!   [`pull`]). The cursor is the newest `relevant_since` seen, in epoch seconds.
//! - Statuses, as the `Semgrep Pro JSON Report` parser maps them: fixed (or removed) → Closed;
//!   ignored with reason `false_positive` → False positive; ignored otherwise (acceptable risk,
//!   no time, duplicate…) → Risk accepted; open, reviewing, fixing → Active.
//!
//! Options: `issue_types` (a list or comma-separated text of `sast`, `sca`, `ai_sast`; default
//! `sast,sca`), `page_size` (100–3000, default 1000).

mod api;
mod map;
mod pull;

use crate::connectors::{FindingSink, OptionError, PullMode, Pulled, ScannerApi, Setup};
use async_trait::async_trait;
use domain::connector::{DiscoveredRecord, Record, Tool};
use outbound::{CallError, CheckReport, HttpClient};
use serde_json::{Value, json};

/// Projects per page in Discover (the API's default).
const PROJECTS_PAGE: usize = 100;

pub struct Semgrep {
    api: api::Api,
    issue_types: Vec<&'static str>,
    page_size: usize,
}

/// The Semgrep options, read and checked.
pub(crate) struct Options {
    issue_types: Vec<&'static str>,
    page_size: usize,
}

impl Options {
    pub(crate) fn parse(o: crate::connectors::Options<'_>) -> Result<Options, OptionError> {
        let page_size = match o.get("page_size") {
            None => 1000,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n| (100..=3000).contains(n))
                .ok_or_else(|| o.bad("page_size", format!("must be 100 to 3000, not {v}")))? as usize,
        };
        Ok(Options { issue_types: issue_types(o)?, page_size })
    }
}

impl Semgrep {
    pub fn new(setup: Setup, http: HttpClient) -> Result<Semgrep, CallError> {
        let token = setup.secret("token")?.clone();
        let Options { issue_types, page_size } = Options::parse(setup.options())?;
        Ok(Semgrep {
            api: api::Api::new(http, &setup.location, token)?,
            issue_types,
            page_size,
        })
    }
}

fn issue_types(o: crate::connectors::Options<'_>) -> Result<Vec<&'static str>, OptionError> {
    let Some(words) = o.list("issue_types", "sast, sca, ai_sast")? else {
        return Ok(vec!["sast", "sca"]);
    };
    let mut out = Vec::new();
    for w in &words {
        let t = match w.to_ascii_lowercase().as_str() {
            "sast" | "code" => "sast",
            "sca" | "supply_chain" => "sca",
            "ai_sast" => "ai_sast",
            _ => return Err(o.bad("issue_types", format!("has '{w}'; use sast, sca or ai_sast"))),
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(o.bad("issue_types", "is empty; use sast, sca or ai_sast"));
    }
    Ok(out)
}

/// A project id: an integer (the spec types it as a number).
fn project_id(v: &Value) -> Option<String> {
    v.as_u64().map(|n| n.to_string()).or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
            .map(|f| format!("{f:.0}"))
    })
}

#[async_trait]
impl ScannerApi for Semgrep {
    fn tool(&self) -> Tool {
        Tool::Semgrep
    }

    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        let deployments = match self.api.deployments().await {
            Ok(d) => d,
            Err(CallError::Unauthorized(why)) => {
                report.fail("credentials", format!("Semgrep refused the token ({why}); create an API token with the Web API scope in Settings → Tokens"));
                return report;
            }
            Err(CallError::Forbidden(why)) => {
                report.fail(
                    "scopes",
                    format!("the token may not use the Web API ({why}); give it the Web API scope"),
                );
                return report;
            }
            Err(e) => {
                report.fail(
                    "connection",
                    format!("Semgrep did not answer as expected: {e}"),
                );
                return report;
            }
        };
        report.pass("credentials", "Semgrep accepted the token");
        let Some(d) = deployments.first() else {
            report.fail("deployment", "the token sees no deployment (Semgrep Team or Enterprise is needed for the Web API)");
            return report;
        };
        report.account = Some(format!("{} ({})", d.name, d.slug));
        match self.api.projects(&d.slug, 0, 1).await {
            Ok(_) => report.pass(
                "projects",
                format!("the projects of deployment {} are readable", d.slug),
            ),
            Err(e) => report.fail(
                "projects",
                format!("cannot list the projects of deployment {}: {e}", d.slug),
            ),
        }
        report
    }

    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for d in self.api.deployments().await? {
            let mut page = 0;
            loop {
                let projects = self.api.projects(&d.slug, page, PROJECTS_PAGE).await?;
                let n = projects.len();
                let what = format!("Semgrep projects of deployment {} (page {page})", d.slug);
                let before = out.len();
                for p in projects {
                    let id = p.get("id").and_then(project_id).ok_or_else(|| {
                        CallError::Protocol(format!("{what}: a project without an integer id"))
                    })?;
                    if !seen.insert(id.clone()) {
                        continue;
                    }
                    let name = p
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or(&id)
                        .to_owned();
                    let field = |k: &str| p.get(k).cloned().unwrap_or(Value::Null);
                    out.push(DiscoveredRecord {
                        external_id: id,
                        metadata: json!({
                            "deployment_slug": d.slug,
                            "deployment_id": d.id,
                            "deployment_name": d.name,
                            "name": name,
                            "url": field("url"),
                            "primary_branch": field("primary_branch"),
                            "default_branch": field("default_branch"),
                            "latest_scan_at": field("latest_scan_at"),
                            "tags": field("tags"),
                        }),
                        name,
                    });
                }
                if n < PROJECTS_PAGE {
                    break;
                }
                if out.len() == before {
                    return Err(CallError::Protocol(format!(
                        "{what}: a full page of projects already listed; Semgrep is not paging as documented"
                    )));
                }
                page += 1;
            }
        }
        Ok(out)
    }

    async fn pull(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        self.pull_record(record, mode, sink).await
    }
}
