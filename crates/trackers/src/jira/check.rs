//! "Check connection" for Jira, each check naming exactly what is wrong: the location is a
//! Jira site (`URL`), the credentials sign in (`credentials`), the user has the permissions
//! vulnbridge uses (`permissions`), and with a mapping: the project, the issue type (and the
//! fields its create screen requires), the mapped priorities, statuses and components. Also
//! the values a mapping may pick from (`options`).

use super::api::{Api, Flavour, Named, segment};
use super::meta::Cache;
use crate::{CheckReport, MappingOptions, OptionValue, TrackerError};
use domain::tracker::{MappingConfig, MappingTarget};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct ServerInfo {
    #[serde(rename = "deploymentType", default)]
    deployment: String,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize)]
struct Myself {
    #[serde(rename = "emailAddress")]
    email: Option<String>,
    name: Option<String>,
    #[serde(rename = "accountId")]
    account_id: Option<String>,
    #[serde(rename = "displayName", default)]
    display_name: String,
}

#[derive(Deserialize)]
struct Permissions {
    permissions: BTreeMap<String, PermissionState>,
}

#[derive(Deserialize)]
struct PermissionState {
    #[serde(rename = "havePermission", default)]
    have: bool,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct CreateField {
    #[serde(rename = "fieldId", default)]
    id: String,
    /// Older Data Center releases name the field only by `key`.
    #[serde(default)]
    key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    required: bool,
    #[serde(rename = "hasDefaultValue", default)]
    has_default: bool,
}

#[derive(Deserialize)]
struct CreateFields {
    #[serde(default)]
    fields: Vec<CreateField>,
    #[serde(default)]
    values: Vec<CreateField>,
}

/// The permissions vulnbridge uses, with why.
const NEEDED: &[(&str, &str)] = &[
    ("BROWSE_PROJECTS", "to see the project"),
    ("CREATE_ISSUES", "to create issues"),
    ("EDIT_ISSUES", "to update them"),
    ("TRANSITION_ISSUES", "to move them through the workflow"),
    ("ADD_COMMENTS", "to explain closes and reopens"),
];

pub async fn check(api: &Api, cache: &Cache, mapping: Option<&MappingConfig>) -> CheckReport {
    let mut report = CheckReport::default();
    if !site(api, &mut report).await {
        return report;
    }
    let account = match api.get::<Myself>("/myself", "the signed-in user").await {
        Ok(me) => {
            let who = me
                .email
                .clone()
                .or(me.name.clone())
                .or(me.account_id.clone())
                .unwrap_or_else(|| me.display_name.clone());
            report.pass(
                "credentials",
                format!(
                    "signed in to {} as {who} with {}",
                    api.flavour().label(),
                    api.auth_method()
                ),
            );
            report.account = Some(who.clone());
            who
        }
        Err(e) => {
            report.fail("credentials", e.to_string());
            return report;
        }
    };
    let target = mapping.and_then(|m| match &m.target {
        MappingTarget::Jira { project, .. } => Some(project.trim().to_owned()),
        _ => None,
    });
    permissions(api, &mut report, mapping, target.as_deref(), &account).await;
    if let Some(m) = mapping {
        project_checks(api, cache, &mut report, m, &account).await;
    }
    report
}

/// `URL`: an anonymous `serverInfo` (open on every Jira) says whether this is Jira, and which.
async fn site(api: &Api, report: &mut CheckReport) -> bool {
    let url = match url::Url::parse(&format!(
        "{}/rest/api/{}/serverInfo",
        api.site(),
        api.flavour().version()
    )) {
        Ok(u) => u,
        Err(e) => {
            report.fail(
                "URL",
                format!("{} is not a usable address: {e}", api.site()),
            );
            return false;
        }
    };
    match api.get_anonymous::<ServerInfo>(url, "the Jira site").await {
        Ok(info) => {
            let cloud = info.deployment.eq_ignore_ascii_case("cloud");
            match (api.flavour(), cloud) {
                (Flavour::Cloud, false) => {
                    report.fail(
                        "URL",
                        format!(
                            "{} is Jira {} {}, not Jira Cloud: sign in with a user name and password or a personal access token, not an e-mail address",
                            api.site(),
                            info.deployment,
                            info.version
                        ),
                    );
                    false
                }
                _ => {
                    report.pass(
                        "URL",
                        format!(
                            "{} is Jira {} {}",
                            api.site(),
                            if info.deployment.is_empty() {
                                "(unknown deployment)"
                            } else {
                                &info.deployment
                            },
                            info.version
                        ),
                    );
                    true
                }
            }
        }
        Err(TrackerError::NotFound(_) | TrackerError::Protocol(_)) => {
            report.fail(
                "URL",
                format!(
                    "{} does not answer as Jira (no REST API at /rest/api/{}): check the location",
                    api.site(),
                    api.flavour().version()
                ),
            );
            false
        }
        Err(e) => {
            report.fail("URL", format!("cannot reach {}: {e}", api.site()));
            false
        }
    }
}

async fn permissions(
    api: &Api,
    report: &mut CheckReport,
    mapping: Option<&MappingConfig>,
    project: Option<&str>,
    account: &str,
) {
    let delete = mapping.is_some_and(|m| {
        matches!(
            m.target,
            MappingTarget::Jira {
                delete_rejected: true,
                ..
            }
        )
    });
    let keys = "BROWSE_PROJECTS,CREATE_ISSUES,EDIT_ISSUES,TRANSITION_ISSUES,ADD_COMMENTS,DELETE_ISSUES,LINK_ISSUES";
    let scoped = project.map(|p| {
        format!(
            "/mypermissions?permissions={keys}&projectKey={}",
            segment(p)
        )
    });
    let answer = match &scoped {
        Some(path) => match api.get::<Permissions>(path, "the user's permissions").await {
            // The project check says what is wrong with the project; here the site's view.
            Err(TrackerError::NotFound(_)) => {
                api.get::<Permissions>(
                    &format!("/mypermissions?permissions={keys}"),
                    "the user's permissions",
                )
                .await
            }
            other => other,
        },
        None => {
            api.get::<Permissions>(
                &format!("/mypermissions?permissions={keys}"),
                "the user's permissions",
            )
            .await
        }
    };
    let perms = match answer {
        Ok(p) => p.permissions,
        Err(e) => {
            report.fail(
                "permissions",
                format!("cannot read {account}'s permissions: {e}"),
            );
            return;
        }
    };
    let have = |k: &str| perms.get(k).is_some_and(|p| p.have);
    let name = |k: &str| {
        perms
            .get(k)
            .map(|p| p.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| k.to_owned())
    };
    let mut missing: Vec<String> = NEEDED
        .iter()
        .filter(|(k, _)| !have(k))
        .map(|(k, why)| format!("\"{}\" ({why})", name(k)))
        .collect();
    if delete && !have("DELETE_ISSUES") {
        missing.push(format!(
            "\"{}\" (the mapping deletes the issues of rejected findings)",
            name("DELETE_ISSUES")
        ));
    }
    let place = project
        .map(|p| format!(" in project {p}"))
        .unwrap_or_default();
    if missing.is_empty() {
        let mut detail =
            format!("{account} may browse, create, edit, transition and comment on issues{place}");
        if !have("LINK_ISSUES") {
            detail.push_str(&format!(
                "; without \"{}\" security and product issues are not linked",
                name("LINK_ISSUES")
            ));
        }
        report.pass("permissions", detail);
    } else {
        report.fail("permissions", format!("{account} lacks {}{place}: ask a Jira administrator to grant them in the project's permission scheme", missing.join(", ")));
    }
}

async fn project_checks(
    api: &Api,
    cache: &Cache,
    report: &mut CheckReport,
    m: &MappingConfig,
    account: &str,
) {
    let MappingTarget::Jira {
        project,
        issue_type,
        components,
        priority,
        ..
    } = &m.target
    else {
        report.fail(
            "project",
            format!(
                "the mapping targets {}, not a Jira project",
                m.target.describe()
            ),
        );
        return;
    };
    let p = match cache.project(api, project).await {
        Ok(p) => {
            report.pass("project", format!("{} ({})", p.key, p.name));
            p
        }
        Err(TrackerError::NotFound(_)) => {
            report.fail(
                "project",
                format!("Jira project '{project}' does not exist, or {account} may not browse it"),
            );
            return;
        }
        Err(e) => {
            report.fail(
                "project",
                format!("cannot read Jira project '{project}': {e}"),
            );
            return;
        }
    };
    let names = |list: &[Named]| {
        list.iter()
            .map(|n| n.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(it) = p.issue_type(issue_type) else {
        report.fail(
            "issue type",
            format!(
                "project {} has no issue type '{issue_type}' (it has {})",
                p.key,
                names(&p.issue_types)
            ),
        );
        return;
    };
    match required_fields(api, &p.key, &it.id).await {
        Ok(fields) => {
            let sets = |id: &str| match id {
                "summary" | "issuetype" | "project" | "description" | "labels" | "reporter" => true,
                "priority" => *priority,
                "components" => !components.is_empty(),
                "duedate" => !m.due_days.is_empty(),
                other => m.custom_fields.contains_key(other),
            };
            let unmet: Vec<String> = fields
                .iter()
                .filter(|f| f.required && !f.has_default && !sets(&f.id))
                .map(|f| format!("{} ({})", f.name, f.id))
                .collect();
            if unmet.is_empty() {
                report.pass("issue type", format!("{} issues in {}", it.name, p.key));
            } else {
                report.fail(
                    "issue type",
                    format!("{} issues in {} require {}, which the mapping does not set: add them to the mapping (components, custom fields) or make them optional in Jira", it.name, p.key, unmet.join(", ")),
                );
            }
        }
        Err(e) => report.fail(
            "issue type",
            format!(
                "cannot read the create screen of {} issues in {}: {e}",
                it.name, p.key
            ),
        ),
    }
    priorities(api, cache, report, m, *priority).await;
    statuses(api, cache, report, m, &p.key, &it.name).await;
    if components.is_empty() {
        report.pass("components", "none set by the mapping");
    } else {
        let unknown: Vec<&String> = components
            .iter()
            .filter(|c| !p.components.iter().any(|pc| pc.name == c.trim()))
            .collect();
        if unknown.is_empty() {
            report.pass("components", components.join(", "));
        } else {
            report.fail(
                "components",
                format!(
                    "project {} has no component {} (it has {})",
                    p.key,
                    unknown
                        .iter()
                        .map(|c| format!("'{c}'"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if p.components.is_empty() {
                        "none".to_owned()
                    } else {
                        names(&p.components)
                    }
                ),
            );
        }
    }
}

async fn required_fields(
    api: &Api,
    project: &str,
    type_id: &str,
) -> Result<Vec<CreateField>, TrackerError> {
    let path = format!(
        "/issue/createmeta/{}/issuetypes/{}?maxResults=200",
        segment(project),
        segment(type_id)
    );
    let page: CreateFields = api.get(&path, "the issue type's create fields").await?;
    let mut fields = if page.fields.is_empty() {
        page.values
    } else {
        page.fields
    };
    for f in &mut fields {
        if f.id.is_empty() {
            f.id = std::mem::take(&mut f.key);
        }
    }
    Ok(fields)
}

async fn priorities(
    api: &Api,
    cache: &Cache,
    report: &mut CheckReport,
    m: &MappingConfig,
    enabled: bool,
) {
    let s = &m.severity_mapping;
    if !s.field.trim().eq_ignore_ascii_case("priority") {
        report.pass(
            "priorities",
            format!(
                "severity is written to the field {} as select options",
                s.field
            ),
        );
        return;
    }
    if !enabled {
        report.pass(
            "priorities",
            "priority mapping is off: issues get the project's default priority",
        );
        return;
    }
    match cache.priorities(api).await {
        Ok(list) => {
            let values = [&s.info, &s.low, &s.medium, &s.high, &s.critical];
            let mut unknown: Vec<&String> = values
                .into_iter()
                .filter(|v| !list.iter().any(|p| p.name == v.trim()))
                .collect();
            unknown.dedup();
            let have = list
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if unknown.is_empty() {
                report.pass(
                    "priorities",
                    format!("every mapped priority exists ({have})"),
                );
            } else {
                let names = unknown
                    .iter()
                    .map(|v| format!("'{v}'"))
                    .collect::<Vec<_>>()
                    .join(", ");
                report.fail(
                    "priorities",
                    format!("Jira has no priority {names} (it has {have})"),
                );
            }
        }
        Err(e) => report.fail("priorities", format!("cannot read the priorities: {e}")),
    }
}

async fn statuses(
    api: &Api,
    cache: &Cache,
    report: &mut CheckReport,
    m: &MappingConfig,
    project: &str,
    issue_type: &str,
) {
    let list = match cache.type_statuses(api, project, issue_type).await {
        Ok(l) => l,
        Err(e) => {
            report.fail(
                "statuses",
                format!("cannot read the statuses of project {project}: {e}"),
            );
            return;
        }
    };
    let st = &m.status_mapping;
    let mut mapped: Vec<&str> = vec![
        &st.active,
        &st.closed,
        &st.false_positive,
        &st.risk_accepted,
    ];
    mapped.extend(st.in_progress.as_deref());
    mapped.extend(st.awaiting_validation.as_deref());
    mapped.extend(st.aliases.keys().map(String::as_str));
    let mut unknown: Vec<&str> = mapped
        .into_iter()
        .filter(|v| !list.iter().any(|s| s.name.eq_ignore_ascii_case(v.trim())))
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    let have = list
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                s.name,
                s.category.as_ref().map(|c| c.key.as_str()).unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    if unknown.is_empty() {
        report.pass(
            "statuses",
            format!("every mapped status is in the workflow of {issue_type} issues: {have}"),
        );
    } else {
        let names = unknown
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(", ");
        report.fail("statuses", format!("the workflow of {issue_type} issues in {project} has no status {names} (it has {have})"));
    }
}

/// The project's statuses (closed: category done), priorities, issue types and components.
pub async fn options(
    api: &Api,
    cache: &Cache,
    mapping: &MappingConfig,
) -> Result<MappingOptions, TrackerError> {
    let t = super::fields::target(mapping)?;
    let p = cache.project(api, t.project).await?;
    let statuses = cache.type_statuses(api, &p.key, t.issue_type).await?;
    let priorities = cache.priorities(api).await?;
    let named = |n: &Named| OptionValue {
        value: n.name.clone(),
        label: n.name.clone(),
        closed: None,
    };
    Ok(MappingOptions {
        statuses: statuses
            .iter()
            .map(|s| OptionValue {
                value: s.name.clone(),
                label: s.name.clone(),
                closed: Some(s.is_done()),
            })
            .collect(),
        severities: priorities.iter().map(named).collect(),
        types: p.issue_types.iter().map(named).collect(),
        components: p.components.iter().map(named).collect(),
    })
}
