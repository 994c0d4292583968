//! "Check connection": the token, its scopes, and with a mapping the repository, the project
//! and every field and option the mapping writes, each with the exact reason it fails.

use super::project::{self, custom_value, severity_values, single_select_problem, status_values};
use super::{GitHub, target};
use crate::{CheckReport, RequestClass, TrackerError};
use domain::tracker::MappingConfig;
use reqwest::Method;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct UserAnswer {
    login: String,
}

#[derive(Debug, Default, Deserialize)]
struct Permissions {
    #[serde(default)]
    push: bool,
    #[serde(default)]
    admin: bool,
}

#[derive(Debug, Deserialize)]
struct RepoAnswer {
    full_name: String,
    has_issues: bool,
    #[serde(default)]
    permissions: Permissions,
}

impl GitHub {
    pub(super) async fn run_checks(&self, mapping: Option<&MappingConfig>) -> CheckReport {
        let mut report = CheckReport::default();
        let me = self
            .api
            .rest::<UserAnswer>(
                RequestClass::Read,
                "the authenticated user",
                Method::GET,
                "/user",
                None,
            )
            .await;
        let (user, headers) = match me {
            Ok(x) => x,
            Err(TrackerError::Unauthorized(msg)) => {
                report.fail(
                    "credentials",
                    format!(
                        "GitHub refused the token (401 {}): create a new one at {}",
                        msg.trim_end_matches(" (HTTP 401)"),
                        self.api.tokens_page
                    ),
                );
                return report;
            }
            Err(e) => {
                report.fail(
                    "credentials",
                    format!("cannot reach GitHub at {}: {e}", self.api.rest),
                );
                return report;
            }
        };
        report.pass("credentials", format!("signed in as {}", user.login));
        report.account = Some(user.login.clone());
        let scopes: Option<Vec<String>> = headers
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            });
        match &scopes {
            None => report.pass("scopes", "a fine-grained token or app token: it has no OAuth scopes, so the scope check is skipped (GitHub checks its repository and project permissions on each call)"),
            Some(s) => {
                let missing: Vec<&str> = ["repo", "project"].into_iter().filter(|need| !s.iter().any(|h| h == need)).collect();
                if missing.is_empty() {
                    let hooks = if s.iter().any(|h| h == "admin:repo_hook" || h == "write:repo_hook") {
                        ""
                    } else {
                        " (without admin:repo_hook it cannot register webhooks; add it for two-way sync)"
                    };
                    report.pass("scopes", format!("{}{hooks}", s.join(", ")));
                } else {
                    report.fail(
                        "scopes",
                        format!(
                            "the token lacks the {} scope{} (it has: {}); vulnbridge needs repo and project: edit the token at {}",
                            missing.join(" and "),
                            if missing.len() > 1 { "s" } else { "" },
                            if s.is_empty() { "none".to_owned() } else { s.join(", ") },
                            self.api.tokens_page
                        ),
                    );
                }
            }
        }
        if let Some(m) = mapping {
            self.check_mapping(m, &mut report).await;
        }
        report
    }

    async fn check_mapping(&self, m: &MappingConfig, report: &mut CheckReport) {
        let (repo, number) = match target(m) {
            Ok(t) => t,
            Err(e) => {
                report.fail("repository", e.to_string());
                return;
            }
        };
        let owner = &self.api.owner;
        let path = format!("/repos/{owner}/{repo}");
        match self.api.rest::<RepoAnswer>(RequestClass::Read, &format!("repository {owner}/{repo}"), Method::GET, &path, None).await {
            Ok((r, _)) if !r.has_issues => report.fail("repository", format!("{} has issues disabled: enable them in its settings (Features › Issues)", r.full_name)),
            Ok((r, _)) if !r.permissions.push => {
                report.fail("repository", format!("the token's user cannot write to {} (needs the write role or higher)", r.full_name))
            }
            Ok((r, _)) => {
                let admin = if r.permissions.admin { ", admin (can register webhooks)" } else { ", not admin (cannot register webhooks)" };
                report.pass("repository", format!("{}: issues enabled, write access{admin}", r.full_name))
            }
            Err(TrackerError::NotFound(_)) => report.fail(
                "repository",
                format!("{owner}/{repo} does not exist, or the token cannot see it (GitHub answers 404 for both; a classic token needs the repo scope for private repositories)"),
            ),
            Err(e) => report.fail("repository", e.to_string()),
        }
        let sev_check = format!("{} field", m.severity_mapping.field);
        let status_check = format!("{} field", m.status_mapping.field);
        let Some(n) = number else {
            report.pass(
                &sev_check,
                format!(
                    "written as labels \"{}: …\" (the mapping has no project)",
                    m.severity_mapping.field
                ),
            );
            report.pass(
                &status_check,
                format!(
                    "written as labels \"{}: …\" (the mapping has no project)",
                    m.status_mapping.field
                ),
            );
            for name in m.custom_fields.keys() {
                report.fail(
                    format!("custom field {name}"),
                    "custom fields are project fields, and the mapping has no project",
                );
            }
            return;
        };
        // A check reads GitHub now, not what an earlier lookup cached.
        self.cache.forget(n);
        let p = match project::project(&self.api, &self.cache, n).await {
            Ok(p) => p,
            Err(TrackerError::NotFound(_)) => {
                report.fail(
                    "project",
                    format!("project {n} does not exist under {owner}, or the token cannot see it"),
                );
                return;
            }
            Err(e) => {
                report.fail("project", e.to_string());
                return;
            }
        };
        report.pass(
            "project",
            format!("{} ({} fields)", p.describe(), p.fields.len()),
        );
        for (name, field, values) in [
            (&sev_check, &m.severity_mapping.field, severity_values(m)),
            (&status_check, &m.status_mapping.field, status_values(m)),
        ] {
            match single_select_problem(&p, field, &values) {
                Some(problem) => report.fail(name.as_str(), problem),
                None => report.pass(
                    name.as_str(),
                    format!("single-select with {}", values.join(", ")),
                ),
            }
        }
        for (name, value) in &m.custom_fields {
            match custom_value(&p, name, value) {
                Ok(_) => report.pass(
                    format!("custom field {name}"),
                    format!("{} can take {value}", p.describe()),
                ),
                Err(problem) => report.fail(format!("custom field {name}"), problem),
            }
        }
    }
}
