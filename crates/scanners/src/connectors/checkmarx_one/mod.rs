//! Checkmarx ONE, through its REST API (`<location>/api/...`) with access tokens from the
//! tenant's IAM (see `auth`). Options: `tenant` (required unless the API key names it),
//! `iam_url` (when IAM is not where the key or the region says), `branch` (pull only scans of
//! that branch), `per_branch` (a Record per branch: see below).
//!
//! - Discover: the tenant's projects (`GET /api/projects`, `offset`/`limit`). With
//!   `per_branch`, a Record per tracked branch of each project instead — every branch with a
//!   completed scan among the project's last [`BRANCH_SCANS`] — keyed `<project id>@<branch>`,
//!   so each branch is imported on its own (into one Product or several).
//! - Pull: the results of the project's latest completed scan (see `pull`). Triage states map
//!   as the report parser maps them: NOT_EXPLOITABLE is a false positive; TO_VERIFY,
//!   PROPOSED_NOT_EXPLOITABLE, CONFIRMED and URGENT are open (the last two verified); a FIXED
//!   result is closed; results the latest scan no longer finds close when the pull is complete.

mod api;
mod auth;
mod pull;

use crate::connectors::{FindingSink, OptionError, PullMode, Pulled, ScannerApi, Setup};
use api::{Api, Projects};
use async_trait::async_trait;
use auth::Auth;
use domain::connector::{DiscoveredRecord, Record, Tool};
use outbound::{CallError, CheckReport, HttpClient};
use serde_json::{Value, json};

/// Projects asked for per page.
const PROJECT_PAGE: u64 = 100;
/// With `per_branch`, the completed scans of a project whose branches become Records.
pub const BRANCH_SCANS: u64 = 100;

/// The Checkmarx ONE client of one connector.
pub struct CheckmarxOne {
    api: Api,
    location: url::Url,
    branch: Option<String>,
    per_branch: bool,
}

impl std::fmt::Debug for CheckmarxOne {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckmarxOne")
            .field("location", &self.location.as_str())
            .field("tenant", &self.api.auth.tenant())
            .finish_non_exhaustive()
    }
}

/// The Checkmarx ONE options, read and checked. Whether `tenant` is needed depends on the API
/// key (one may name its tenant), so only the client, which has the key, can tell.
pub(crate) struct Options {
    tenant: Option<String>,
    iam_url: Option<String>,
    branch: Option<String>,
    per_branch: bool,
}

impl Options {
    pub(crate) fn parse(o: crate::connectors::Options<'_>) -> Result<Options, OptionError> {
        let tenant = o.text("tenant").map(str::to_owned);
        if let Some(t) = &tenant
            && !auth::is_tenant(t)
        {
            return Err(o.bad("tenant", format!("must be a tenant name, not '{t}'")));
        }
        let iam_url = o.text("iam_url").map(str::to_owned);
        if let Some(u) = &iam_url
            && let Err(e) = auth::iam_origin(u)
        {
            return Err(o.bad("iam_url", format!("must be a URL, not '{u}' ({e})")));
        }
        let branch = o.text("branch").map(str::to_owned);
        let per_branch = o.flag("per_branch", false)?;
        if per_branch && branch.is_some() {
            return Err(o.bad(
                "per_branch",
                "excludes the option 'branch': pin one branch, or import each",
            ));
        }
        Ok(Options { tenant, iam_url, branch, per_branch })
    }
}

impl CheckmarxOne {
    pub fn new(setup: Setup, http: HttpClient) -> Result<CheckmarxOne, CallError> {
        let key = setup.secret("api_key")?.clone();
        let base = api::base(&setup.location)?;
        let Options { tenant, iam_url, branch, per_branch } = Options::parse(setup.options())?;
        let auth = Auth::new(
            http.clone(),
            &base,
            key,
            tenant.as_deref(),
            iam_url.as_deref(),
        )?;
        Ok(CheckmarxOne { api: Api::new(http, base, auth), location: setup.location.clone(), branch, per_branch })
    }

    /// The branches of a project's last completed scans, most recently scanned first.
    async fn branches(&self, project: &str, name: &str) -> Result<Vec<String>, CallError> {
        let what = format!("the completed Checkmarx ONE scans of project '{name}' ({project})");
        let query = [
            ("project-id", project.to_owned()),
            ("statuses", "Completed".to_owned()),
            ("sort", "-created_at".to_owned()),
            ("offset", "0".to_owned()),
            ("limit", BRANCH_SCANS.to_string()),
        ];
        let scans: api::Scans = self.api.get("api/scans", &query, &what).await?;
        let mut branches: Vec<String> = Vec::new();
        for scan in scans.scans.unwrap_or_default() {
            if let Some(b) = scan.branch.filter(|b| !b.is_empty())
                && !branches.contains(&b)
            {
                branches.push(b);
            }
        }
        Ok(branches)
    }

    async fn projects_page(&self, offset: u64, limit: u64) -> Result<Projects, CallError> {
        let what = format!(
            "Checkmarx ONE projects {offset}–{} of tenant '{}'",
            offset + limit,
            self.api.auth.tenant()
        );
        self.api
            .get(
                "api/projects",
                &[("offset", offset.to_string()), ("limit", limit.to_string())],
                &what,
            )
            .await
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

#[async_trait]
impl ScannerApi for CheckmarxOne {
    fn tool(&self) -> Tool {
        Tool::CheckmarxOne
    }

    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        let tenant = self.api.auth.tenant().to_owned();
        match self.api.auth.token().await {
            Ok(_) => report.pass(
                "credentials",
                format!("the API key works for tenant '{tenant}'"),
            ),
            Err(CallError::Misconfigured(m)) => {
                report.fail("tenant", m);
                return report;
            }
            Err(CallError::Unauthorized(m)) => {
                report.fail("credentials", format!("{m}. Create an API key in Checkmarx ONE (Identity and Access Management › API Keys)"));
                return report;
            }
            Err(e) => {
                report.fail(
                    "location",
                    format!(
                        "{e}. Check the location and, if IAM is elsewhere, the 'iam_url' option"
                    ),
                );
                return report;
            }
        }
        match self.projects_page(0, 1).await {
            Ok(p) => {
                report.pass("projects", format!("{} projects visible to this API key", p.filtered_total.unwrap_or(0)));
                report.account = Some(tenant);
            }
            Err(CallError::Unauthorized(m) | CallError::Forbidden(m)) => {
                report.fail("projects", format!("{m}. Give the API key a role that can view projects, scans and results"));
            }
            Err(e) => report.fail("location", format!("{e}. Check the location: it is the API's base URL (e.g. https://eu.ast.checkmarx.net)")),
        }
        report
    }

    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError> {
        let mut found = Vec::new();
        let mut offset = 0u64;
        loop {
            let page = self.projects_page(offset, PROJECT_PAGE).await?;
            let projects = page.projects.unwrap_or_default();
            let total = page.filtered_total.unwrap_or(0);
            let n = projects.len() as u64;
            for (i, p) in projects.into_iter().enumerate() {
                let Some(id) = text(&p, "id").filter(|s| !s.is_empty()) else {
                    return Err(CallError::Protocol(format!(
                        "Checkmarx ONE projects, item {}: a project without an id",
                        offset + i as u64
                    )));
                };
                let name = text(&p, "name")
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| id.clone());
                let metadata = json!({
                        "repo_url": p.get("repoUrl"),
                        "main_branch": p.get("mainBranch"),
                        "origin": p.get("origin"),
                        "groups": p.get("groups"),
                        "tags": p.get("tags"),
                        "created_at": p.get("createdAt"),
                        "updated_at": p.get("updatedAt"),
                });
                if self.per_branch {
                    for branch in self.branches(&id, &name).await? {
                        let mut metadata = metadata.clone();
                        metadata["branch"] = json!(branch);
                        found.push(DiscoveredRecord { external_id: format!("{id}@{branch}"), name: format!("{name} › {branch}"), metadata });
                    }
                } else {
                    found.push(DiscoveredRecord { external_id: id, name, metadata });
                }
            }
            offset += n;
            if offset >= total {
                break;
            }
            if n < PROJECT_PAGE {
                return Err(CallError::Protocol(format!(
                    "Checkmarx ONE projects: the list ended after {offset} of the {total} it reported"
                )));
            }
        }
        Ok(found)
    }

    async fn pull(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        self.pull_project(record, mode, sink).await
    }
}
