//! SonarQube Server and SonarQube Cloud (web API, a user token).
//!
//! - Discover: `api/projects/search?qualifiers=TRK` (every project, with its last analysis;
//!   needs Administer System), or, when that is refused, `api/components/search?qualifiers=TRK`
//!   (the projects the token's user may browse): a Record per project, keyed by project key.
//! - Pull: the project's issues of the configured types (`api/issues/search`) and its security
//!   hotspots (`api/hotspots/search`), paged past SonarQube's 10,000-result limit (see
//!   [`pull`]); the cursor is the newest `updateDate` seen. A full pull is complete; an
//!   incremental one (issues updated since the cursor) is not.
//! - Statuses, as the `SonarQube Scan detailed` parser maps them: `issueStatus` (10.4+)
//!   ACCEPTED → Risk accepted, FALSE_POSITIVE → False positive, FIXED → Closed; else resolved
//!   issues by resolution: FALSE-POSITIVE → False positive, WONTFIX → Risk accepted, FIXED and
//!   REMOVED → Closed; hotspots REVIEWED as SAFE → False positive, ACKNOWLEDGED → Risk
//!   accepted, FIXED → Closed; everything else (OPEN, CONFIRMED, REOPENED, TO_REVIEW) → Active.
//!
//! Options: `types` (issue types, a list or comma-separated text of VULNERABILITY, BUG,
//! CODE_SMELL; default VULNERABILITY), `hotspots` (default true), `branch`, `organization`
//! (SonarQube Cloud), `auth` (`basic`, the default, or `bearer`), `rule_details` (CWEs from the
//! rules, default true).

mod api;
mod map;
mod pull;
mod rules;

use crate::connectors::{FindingSink, OptionError, PullMode, Pulled, ScannerApi, Setup};
use api::{Api, Auth, at_least};
use async_trait::async_trait;
use domain::connector::{DiscoveredRecord, Record, Tool};
use outbound::{CallError, CheckReport, HttpClient};
use serde_json::{Value, json};

/// Projects per page in Discover (the most SonarQube gives).
const PROJECTS_PAGE: u32 = 500;

pub struct SonarQube {
    api: Api,
    types: Vec<String>,
    hotspots: bool,
    branch: Option<String>,
    rule_details: bool,
    auth: Auth,
}

/// The SonarQube options, read and checked.
pub(crate) struct Options {
    types: Vec<String>,
    hotspots: bool,
    branch: Option<String>,
    organization: Option<String>,
    rule_details: bool,
    auth: Auth,
}

impl Options {
    pub(crate) fn parse(o: crate::connectors::Options<'_>) -> Result<Options, OptionError> {
        let words = o
            .list("types", "VULNERABILITY, BUG or CODE_SMELL")?
            .unwrap_or_else(|| vec!["VULNERABILITY".into()]);
        let mut types: Vec<String> = Vec::new();
        for w in words.iter().map(|w| w.to_ascii_uppercase()) {
            if !matches!(w.as_str(), "VULNERABILITY" | "BUG" | "CODE_SMELL") {
                return Err(o.bad(
                    "types",
                    format!("has '{w}'; use VULNERABILITY, BUG or CODE_SMELL (hotspots have their own option)"),
                ));
            }
            if !types.contains(&w) {
                types.push(w);
            }
        }
        if types.is_empty() {
            return Err(o.bad("types", "is empty; use VULNERABILITY, BUG or CODE_SMELL"));
        }
        let auth = match o.text("auth").map(str::to_ascii_lowercase).as_deref() {
            None | Some("basic") => Auth::Basic,
            Some("bearer") => Auth::Bearer,
            Some(other) => return Err(o.bad("auth", format!("must be basic or bearer, not {other}"))),
        };
        Ok(Options {
            types,
            hotspots: o.flag("hotspots", true)?,
            rule_details: o.flag("rule_details", true)?,
            branch: o.text("branch").map(str::to_owned),
            organization: o.text("organization").map(str::to_owned),
            auth,
        })
    }
}

impl SonarQube {
    pub fn new(setup: Setup, http: HttpClient) -> Result<SonarQube, CallError> {
        let token = setup.secret("token")?.clone();
        let o = Options::parse(setup.options())?;
        Ok(SonarQube {
            hotspots: o.hotspots,
            rule_details: o.rule_details,
            branch: o.branch,
            api: Api::new(http, &setup.location, token, o.auth, o.organization)?,
            types: o.types,
            auth: o.auth,
        })
    }

    /// One page of projects from `api/projects/search` or `api/components/search`.
    async fn project_page(&self, path: &str, p: u32) -> Result<(u64, Vec<Value>), CallError> {
        let what = format!("SonarQube projects ({path}, page {p})");
        let v = self
            .api
            .get(
                &what,
                path,
                &[
                    ("qualifiers", "TRK".into()),
                    ("p", p.to_string()),
                    ("ps", PROJECTS_PAGE.to_string()),
                ],
            )
            .await?;
        let total = v
            .pointer("/paging/total")
            .and_then(Value::as_u64)
            .ok_or_else(|| CallError::Protocol(format!("{what}: no paging.total")))?;
        let list = v
            .get("components")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| CallError::Protocol(format!("{what}: no components")))?;
        Ok((total, list))
    }
}

#[async_trait]
impl ScannerApi for SonarQube {
    fn tool(&self) -> Tool {
        Tool::SonarQube
    }

    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        let version = match self.api.version().await {
            Ok(v) => {
                report.pass("connection", format!("SonarQube {v}"));
                v
            }
            Err(e) => {
                report.fail(
                    "connection",
                    format!("no SonarQube answered at this location: {e}"),
                );
                return report;
            }
        };
        match self
            .api
            .get("the SonarQube user", "api/users/current", &[])
            .await
        {
            Ok(user) if user.get("isLoggedIn").and_then(Value::as_bool) == Some(true) => {
                let login = user
                    .get("login")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned();
                report.pass("credentials", format!("the token belongs to {login}"));
                report.account = Some(login);
            }
            Ok(_) | Err(CallError::Unauthorized(_)) => {
                let hint = if self.auth == Auth::Bearer && !at_least(&version, 10, 0) {
                    format!(
                        "SonarQube {version} reads tokens only as a Basic login: set the option auth to basic"
                    )
                } else {
                    "create a user token (My Account → Security) and check it has not expired"
                        .to_owned()
                };
                report.fail(
                    "credentials",
                    format!("SonarQube did not accept the token; {hint}"),
                );
                return report;
            }
            Err(e) => {
                report.fail("credentials", format!("cannot check the token: {e}"));
                return report;
            }
        }
        match self.project_page("api/components/search", 1).await {
            Ok((0, _)) => report.fail(
                "projects",
                "the token's user may browse no project: give it the Browse permission",
            ),
            Ok((n, _)) => report.pass("projects", format!("{n} projects to browse")),
            Err(e) => report.fail("projects", format!("cannot list projects: {e}")),
        }
        report
    }

    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError> {
        let mut path = "api/projects/search";
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut p = 1;
        loop {
            let (total, list) = match self.project_page(path, p).await {
                Ok(page) => page,
                // Listing every project needs Administer System; a browsing user lists theirs.
                Err(CallError::Forbidden(_)) if path == "api/projects/search" => {
                    path = "api/components/search";
                    continue;
                }
                Err(e) => return Err(e),
            };
            if path == "api/components/search" && total > 10_000 {
                return Err(CallError::Protocol(format!(
                    "SonarQube lists only the first 10,000 of the {total} projects this token may browse; use the token of a user with Administer System"
                )));
            }
            let n = list.len();
            for c in list {
                let key = c
                    .get("key")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        CallError::Protocol(format!(
                            "SonarQube projects ({path}, page {p}): a project without a key"
                        ))
                    })?
                    .to_owned();
                if !seen.insert(key.clone()) {
                    continue;
                }
                let name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(&key)
                    .to_owned();
                let field = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
                out.push(DiscoveredRecord {
                    metadata: json!({
                        "key": key,
                        "visibility": field("visibility"),
                        "last_analysis_date": field("lastAnalysisDate"),
                        "revision": field("revision"),
                    }),
                    external_id: key,
                    name,
                });
            }
            if n < PROJECTS_PAGE as usize || u64::from(p) * u64::from(PROJECTS_PAGE) >= total {
                break;
            }
            p += 1;
        }
        Ok(out)
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
