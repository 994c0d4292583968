//! Snyk (REST API, `Authorization: token <API or service-account token>`).
//!
//! - Discover: the organization of the `org` option, or every organization of the token
//!   (`GET /rest/orgs`), then each one's `GET /rest/orgs/{org}/projects`, 100 a page by
//!   `links.next`: a Record per project, keyed by its id, with its organization in the
//!   metadata.
//! - Pull: the project's issues (see [`pull`]); the cursor is the newest `updated_at` seen.
//! - Statuses, as the `Snyk Issue API Scan` parser maps them: resolved → Closed; ignored →
//!   Risk accepted (the issues API does not say why an issue was ignored, so a "not
//!   vulnerable" ignore cannot be told from a "won't fix" one); open → Active.
//!
//! Options: `org` (an organization id), `api_version` (default 2024-10-15). The location is
//! the API host of the Snyk region (`https://api.snyk.io`, `https://api.eu.snyk.io`…).

mod api;
mod pull;

use crate::connectors::{FindingSink, OptionError, PullMode, Pulled, ScannerApi, Setup};
use async_trait::async_trait;
use domain::connector::{DiscoveredRecord, Record, Tool};
use outbound::{CallError, CheckReport, HttpClient};
use serde_json::{Value, json};

pub struct Snyk {
    api: api::Api,
    org: Option<String>,
}

/// Whether `s` is a UUID (Snyk's organization and project ids).
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// The Snyk options, read and checked.
pub(crate) struct Options {
    org: Option<String>,
    version: String,
}

impl Options {
    pub(crate) fn parse(o: crate::connectors::Options<'_>) -> Result<Options, OptionError> {
        let org = o.text("org").map(|v| v.trim().to_owned());
        if let Some(v) = &org
            && !is_uuid(v)
        {
            return Err(o.bad("org", format!("must be an organization id (a UUID, in the organization's settings), not '{v}'")));
        }
        let version = o.text("api_version").unwrap_or(api::DEFAULT_VERSION).trim().to_owned();
        let date = version.split('~').next().unwrap_or("");
        if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
            return Err(o.bad("api_version", format!("must be a date like {}, not '{version}'", api::DEFAULT_VERSION)));
        }
        Ok(Options { org, version })
    }
}

impl Snyk {
    pub fn new(setup: Setup, http: HttpClient) -> Result<Snyk, CallError> {
        let token = setup.secret("token")?.clone();
        let Options { org, version } = Options::parse(setup.options())?;
        Ok(Snyk {
            api: api::Api::new(http, &setup.location, token, version)?,
            org,
        })
    }

    /// The organizations to discover: the configured one, or every one of the token.
    async fn orgs(&self) -> Result<Vec<(String, String)>, CallError> {
        if let Some(org) = &self.org {
            let doc = self
                .api
                .get(
                    "the Snyk organization",
                    self.api.url(&format!("orgs/{org}"), &[])?,
                )
                .await?;
            let name = doc
                .pointer("/data/attributes/name")
                .and_then(Value::as_str)
                .unwrap_or(org)
                .to_owned();
            return Ok(vec![(org.clone(), name)]);
        }
        let mut out = Vec::new();
        let mut pages = self.api.pages(
            "Snyk organizations".into(),
            self.api.url("orgs", &[("limit", "100".into())])?,
        );
        while let Some((data, what)) = pages.next().await? {
            for o in data {
                let id = o.get("id").and_then(Value::as_str).ok_or_else(|| {
                    CallError::Protocol(format!("{what}: an organization without an id"))
                })?;
                let name = o
                    .pointer("/attributes/name")
                    .and_then(Value::as_str)
                    .unwrap_or(id);
                out.push((id.to_owned(), name.to_owned()));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl ScannerApi for Snyk {
    fn tool(&self) -> Tool {
        Tool::Snyk
    }

    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        let me = match self.api.url("self", &[]) {
            Ok(url) => self.api.get("the Snyk user", url).await,
            Err(e) => Err(e),
        };
        match me {
            Ok(doc) => {
                let attrs = doc.pointer("/data/attributes");
                let who = attrs
                    .and_then(|a| {
                        a.get("username")
                            .or_else(|| a.get("email"))
                            .or_else(|| a.get("name"))
                    })
                    .and_then(Value::as_str)
                    .unwrap_or("a service account")
                    .to_owned();
                report.pass("credentials", format!("the token belongs to {who}"));
                report.account = Some(who);
            }
            Err(CallError::Unauthorized(why)) => {
                report.fail("credentials", format!("Snyk refused the token ({why}); use an API token or a service account's token of this region"));
                return report;
            }
            Err(CallError::Rejected(why)) | Err(CallError::NotFound(why)) => {
                report.fail(
                    "api version",
                    format!("Snyk refused version {}: {why}", self.api.version),
                );
                return report;
            }
            Err(e) => {
                report.fail(
                    "connection",
                    format!("Snyk did not answer as expected: {e}"),
                );
                return report;
            }
        }
        match self.orgs().await {
            Ok(orgs) if orgs.is_empty() => {
                report.fail("organizations", "the token belongs to no organization")
            }
            Ok(orgs) => report.pass(
                "organizations",
                orgs.iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Err(CallError::NotFound(_)) => report.fail(
                "organizations",
                "the organization of the org option does not exist or the token is not in it",
            ),
            Err(e) => report.fail(
                "organizations",
                format!("cannot list the organizations: {e}"),
            ),
        }
        report
    }

    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (org, org_name) in self.orgs().await? {
            let url = self
                .api
                .url(&format!("orgs/{org}/projects"), &[("limit", "100".into())])?;
            let mut pages = self
                .api
                .pages(format!("Snyk projects of organization {org_name}"), url);
            while let Some((data, what)) = pages.next().await? {
                for p in data {
                    let id = p
                        .get("id")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            CallError::Protocol(format!("{what}: a project without an id"))
                        })?
                        .to_owned();
                    if !seen.insert(id.clone()) {
                        continue;
                    }
                    let attr = |k: &str| {
                        p.pointer(&format!("/attributes/{k}"))
                            .cloned()
                            .unwrap_or(Value::Null)
                    };
                    let name = attr("name").as_str().unwrap_or(&id).to_owned();
                    out.push(DiscoveredRecord {
                        metadata: json!({
                            "org_id": org,
                            "org_name": org_name,
                            "type": attr("type"),
                            "target_file": attr("target_file"),
                            "target_reference": attr("target_reference"),
                            "origin": attr("origin"),
                            "status": attr("status"),
                            "created": attr("created"),
                        }),
                        external_id: id,
                        name,
                    });
                }
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
        self.pull_project(record, mode, sink).await
    }
}
