//! "Check connection" for GitLab: the token works (`credentials`), carries the `api` scope and
//! has not expired (`scopes`), and with a mapping, the project exists for this user with a role
//! that may label issues (`project`) and the mapping's fields fit GitLab (`fields`).

use super::api::{Api, Project, Token, User, project_ref, role_name};
use super::fields;
use crate::{CheckReport, RequestClass, TrackerError};
use domain::tracker::{MappingConfig, MappingTarget};
use reqwest::Method;

/// The lowest role whose label changes GitLab keeps (`set_issue_metadata`): Planner.
const LABELS_LEVEL: u8 = 15;

pub async fn check(api: &Api, mapping: Option<&MappingConfig>) -> CheckReport {
    let mut report = CheckReport::default();
    let user = match get::<User>(api, "/user", "the token's user").await {
        Ok(u) => {
            report.pass(
                "credentials",
                format!("signed in to GitLab as {}", u.username),
            );
            report.account = Some(u.username.clone());
            Some(u.username)
        }
        Err(TrackerError::Unauthorized(msg)) => {
            report.fail("credentials", format!("GitLab refused the token: {msg}"));
            let lower = msg.to_lowercase();
            if lower.contains("expired") {
                report.fail(
                    "scopes",
                    "the token has expired: create a new personal access token with the api scope",
                );
            } else if lower.contains("revoked") {
                report.fail(
                    "scopes",
                    "the token was revoked: create a new personal access token with the api scope",
                );
            }
            return report;
        }
        // A token without a scope that reads users (`api`, `read_api`, `read_user`) still
        // reads itself below, which says what it lacks.
        Err(TrackerError::Forbidden(msg)) => {
            report.fail(
                "credentials",
                format!("GitLab accepted the token but would not show its user: {msg}"),
            );
            None
        }
        Err(e) => {
            report.fail("credentials", format!("cannot check the token: {e}"));
            return report;
        }
    };
    match get::<Token>(api, "/personal_access_tokens/self", "the token itself").await {
        Ok(t) => scopes(&mut report, &t),
        // `400 This endpoint requires token type to be a personal access token`: an OAuth token,
        // whose scopes GitLab does not show.
        Err(TrackerError::Rejected(msg)) => {
            report.pass(
                "scopes",
                format!("not a personal access token, so its scopes cannot be read ({msg})"),
            );
        }
        Err(e) => report.fail("scopes", format!("cannot read the token's scopes: {e}")),
    }
    if let Some(m) = mapping {
        project(
            api,
            &mut report,
            m,
            user.as_deref().unwrap_or("the token's user"),
        )
        .await;
    }
    report
}

async fn get<T: serde::de::DeserializeOwned>(
    api: &Api,
    path: &str,
    what: &str,
) -> Result<T, TrackerError> {
    let req = api.request(Method::GET, path)?;
    Ok(api.json::<T>(RequestClass::Read, what, req).await?.0)
}

fn scopes(report: &mut CheckReport, t: &Token) {
    let expiry = match &t.expires_at {
        Some(d) => format!("expires on {d}"),
        None => "never expires".to_owned(),
    };
    let name = if t.name.is_empty() {
        "the token".to_owned()
    } else {
        format!("the token '{}'", t.name)
    };
    if t.revoked {
        report.fail(
            "scopes",
            format!("{name} was revoked: create a new one with the api scope"),
        );
    } else if !t.active {
        report.fail(
            "scopes",
            format!("{name} is no longer active ({expiry}): create a new one with the api scope"),
        );
    } else if !t.scopes.iter().any(|s| s == "api") {
        let has = if t.scopes.is_empty() {
            "no scopes".to_owned()
        } else {
            format!("the scopes {}", t.scopes.join(", "))
        };
        report.fail(
            "scopes",
            format!("{name} has {has}; vulnbridge needs the api scope to create and edit issues ({expiry})"),
        );
    } else {
        report.pass("scopes", format!("{}; {expiry}", t.scopes.join(", ")));
    }
}

async fn project(api: &Api, report: &mut CheckReport, m: &MappingConfig, user: &str) {
    let MappingTarget::GitLab { project } = &m.target else {
        report.fail(
            "project",
            format!(
                "the mapping targets {}, not a GitLab project",
                m.target.describe()
            ),
        );
        return;
    };
    let what = format!("GitLab project {project}");
    match get::<Project>(api, &format!("/projects/{}", project_ref(project)), &what).await {
        Ok(p) => {
            let level = p.access_level();
            let role = role_name(level);
            if level >= LABELS_LEVEL {
                report.pass(
                    "project",
                    format!("{} (id {}): {user} has the {role} role ({level})", p.path_with_namespace, p.id),
                );
            } else {
                report.fail(
                    "project",
                    format!(
                        "{}: {user} has only the {role} role ({level}); vulnbridge needs at least Planner (15) or \
                         Reporter (20) to label issues (GitLab silently drops labels set by lower roles)",
                        p.path_with_namespace
                    ),
                );
            }
        }
        Err(TrackerError::NotFound(_)) => report.fail(
            "project",
            format!("GitLab project '{project}' does not exist, or {user} is not a member of it (private projects look missing to non-members)"),
        ),
        Err(e) => report.fail("project", format!("cannot read {what}: {e}")),
    }
    match fields::check_mapping(m) {
        Ok(()) => report.pass("fields", field_summary(m)),
        Err(e) => report.fail("fields", e.to_string()),
    }
}

fn field_summary(m: &MappingConfig) -> String {
    let sev = &m.severity_mapping.field;
    let severity = if fields::is_weight(sev) {
        "severity as the issue weight".to_owned()
    } else {
        format!("severity as labels {sev}::…")
    };
    let custom = if m.custom_fields.is_empty() {
        String::new()
    } else {
        format!(
            "; custom fields {}",
            m.custom_fields
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "{severity}; status as the issue state or labels {}::…{custom}",
        m.status_mapping.field
    )
}
