//! "Check connection" for ServiceNow and the values a mapping may choose from.
//!
//! Checks: `URL` (the address answers as a ServiceNow instance: an anonymous Table API call
//! gets the instance's own 401), `credentials` (the OAuth refresh works, or the user and
//! password are accepted; the user named), and with a mapping `table` (exists and extends
//! `task`), `access` (the user reads the table: a `sysparm_limit=1` read; ServiceNow shows no
//! create right before a create), `states` (every mapped state is a choice of the table),
//! `severity` (every mapped value is an impact/urgency choice), `fields` (custom fields) and
//! `assignment group`.

use super::ServiceNow;
use super::api::{self, total_count, value};
use super::fields;
use super::tables::{TableMeta, find};
use crate::{CheckReport, Credentials, MappingOptions, OptionValue, RequestClass, TrackerError};
use domain::tracker::{FieldValue, MappingConfig};
use reqwest::Method;

pub async fn check(sn: &ServiceNow, mapping: Option<&MappingConfig>) -> CheckReport {
    let mut report = CheckReport::default();
    if !url(sn, &mut report).await {
        return report;
    }
    if !credentials(sn, &mut report).await {
        return report;
    }
    if let Some(m) = mapping {
        target(sn, &mut report, m).await;
    }
    report
}

async fn url(sn: &ServiceNow, report: &mut CheckReport) -> bool {
    let base = sn.api.base().to_owned();
    let req = match sn
        .api
        .anonymous(Method::GET, "/api/now/table/sys_db_object")
    {
        Ok(r) => r.query(&[("sysparm_limit", "1"), ("sysparm_fields", "name")]),
        Err(e) => {
            report.fail("URL", e.to_string());
            return false;
        }
    };
    match sn
        .api
        .http()
        .send(
            RequestClass::Read,
            &format!("the ServiceNow instance at {base}"),
            req,
        )
        .await
    {
        // An instance open to anonymous reads: unusual, but ServiceNow.
        Ok(_) => report.pass("URL", format!("{base} is a ServiceNow instance")),
        Err(TrackerError::Unauthorized(m))
            if m.contains("User Not Authenticated") || m.contains("Required to provide Auth") =>
        {
            report.pass("URL", format!("{base} is a ServiceNow instance"))
        }
        Err(TrackerError::Unauthorized(m)) => {
            report.fail("URL", format!("{base} asks for credentials, but not the way ServiceNow does ({m}): is this the instance's address?"));
            return false;
        }
        Err(e @ (TrackerError::Transient(_) | TrackerError::Blocked(_))) => {
            report.fail("URL", format!("cannot reach {base}: {e}"));
            return false;
        }
        Err(e) => {
            report.fail("URL", format!("{base} does not answer like a ServiceNow instance's REST API ({e}): give the instance's address, like https://acme.service-now.com/"));
            return false;
        }
    }
    true
}

async fn credentials(sn: &ServiceNow, report: &mut CheckReport) -> bool {
    let kind = match &sn.conn.credentials {
        Credentials::OAuth(_) => "OAuth",
        Credentials::Basic { .. } => "a user name and password",
        Credentials::Token(_) => "a token",
    };
    let who = sn
        .api
        .list(
            "the signed-in user",
            "sys_user",
            &[
                ("sysparm_query", "sys_id=javascript:gs.getUserID()".into()),
                ("sysparm_fields", "user_name,name".into()),
                ("sysparm_limit", "1".into()),
            ],
        )
        .await;
    match who {
        Ok((rows, _)) => {
            let user = rows
                .first()
                .map(|r| value(r, "user_name"))
                .filter(|u| !u.is_empty());
            let detail = match &user {
                Some(u) => format!("signed in to ServiceNow as {u} with {kind}"),
                None => format!("signed in to ServiceNow with {kind}"),
            };
            report.pass("credentials", detail);
            report.account = user;
            true
        }
        Err(TrackerError::Unauthorized(m)) if m.contains("refresh token") => {
            report.fail(
                "credentials",
                format!(
                    "the refresh token has expired or was revoked (refresh tokens live 100 days unless the OAuth application says otherwise), or the client id or secret is wrong: get a new refresh token with the password grant on {}/oauth_token.do and store it in the instance's credentials ({m})",
                    sn.api.base()
                ),
            );
            false
        }
        Err(e) => {
            report.fail("credentials", format!("cannot sign in with {kind}: {e}"));
            false
        }
    }
}

async fn target(sn: &ServiceNow, report: &mut CheckReport, m: &MappingConfig) {
    let (table, group) = match super::target_of(m) {
        Ok(t) => t,
        Err(e) => {
            report.fail("table", e.to_string());
            return;
        }
    };
    sn.tables.forget(&table).await;
    let meta = match sn.tables.get(&sn.api, &table).await {
        Ok(meta) if meta.extends_task() => {
            report.pass("table", format!("{} ({table}) extends task", meta.label));
            meta
        }
        Ok(meta) => {
            report.fail("table", format!("{} ({table}) does not extend task: pick Incident, Problem, Change Request or another task table", meta.label));
            return;
        }
        Err(e) => {
            report.fail("table", e.to_string());
            return;
        }
    };
    access(sn, report, &table, report.account.clone()).await;
    states(report, m, &meta);
    severity(report, m, &meta);
    match fields::check_mapping(m) {
        Ok(()) => report.pass(
            "fields",
            "the custom fields are columns vulnbridge may write",
        ),
        Err(e) => report.fail("fields", e.to_string()),
    }
    if let Some(g) = group {
        match sn.group(&g).await {
            Ok(id) => report.pass("assignment group", format!("{g} ({id})")),
            Err(e) => report.fail("assignment group", e.to_string()),
        }
    }
}

async fn access(sn: &ServiceNow, report: &mut CheckReport, table: &str, user: Option<String>) {
    let who = user.unwrap_or_else(|| "the user".into());
    let read = sn
        .api
        .list(
            &format!("ServiceNow table {table}"),
            table,
            &[
                ("sysparm_limit", "1".into()),
                ("sysparm_fields", "sys_id".into()),
            ],
        )
        .await;
    match read {
        Ok((rows, headers)) => {
            let total = total_count(&headers).unwrap_or(rows.len());
            if rows.is_empty() && total > 0 {
                report.fail(
                    "access",
                    format!("{who} can read none of the {total} records of {table}: give the user a role that reads and writes them (itil for task tables)"),
                );
            } else {
                report.pass("access", format!("{who} reads {table} ({total} records); creating records needs a role like itil, which the first push proves"));
            }
        }
        Err(e) => report.fail("access", format!("{who} cannot read {table}: {e}")),
    }
}

fn states(report: &mut CheckReport, m: &MappingConfig, meta: &TableMeta) {
    let sm = &m.status_mapping;
    if let Err(e) = fields::check_status_field(&sm.field) {
        report.fail("states", e.to_string());
        return;
    }
    let mut wanted: Vec<&str> = vec![
        &sm.active,
        &sm.closed,
        &sm.false_positive,
        &sm.risk_accepted,
    ];
    wanted.extend(sm.in_progress.as_deref());
    wanted.extend(sm.awaiting_validation.as_deref());
    wanted.extend(sm.aliases.keys().map(String::as_str));
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| meta.state(w).is_none())
        .collect();
    if missing.is_empty() {
        let found: Vec<String> = wanted
            .iter()
            .filter_map(|w| meta.state(w).map(|c| format!("{w} → {}", c.value)))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        report.pass("states", found.join(", "));
    } else {
        report.fail(
            "states",
            format!(
                "{} {} not a state of {}: the states are {}",
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" },
                meta.label,
                meta.state_list()
            ),
        );
    }
}

fn severity(report: &mut CheckReport, m: &MappingConfig, meta: &TableMeta) {
    let sev = &m.severity_mapping;
    let mut problems = Vec::new();
    for v in [&sev.info, &sev.low, &sev.medium, &sev.high, &sev.critical] {
        match fields::severity(meta, &FieldValue::new(&sev.field, v)) {
            Ok(cols) => {
                for (col, val) in cols {
                    let list = match col.as_str() {
                        "impact" => &meta.impact,
                        "urgency" => &meta.urgency,
                        _ => continue,
                    };
                    if find(list, &val).is_none() {
                        problems.push(format!(
                            "'{v}' is not a choice of {col} ({})",
                            list.iter()
                                .map(|c| c.label.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
            }
            Err(e) => {
                report.fail("severity", e.to_string());
                return;
            }
        }
    }
    problems.dedup();
    if problems.is_empty() {
        report.pass(
            "severity",
            format!(
                "{} takes {}, {}, {}, {}, {}",
                sev.field, sev.info, sev.low, sev.medium, sev.high, sev.critical
            ),
        );
    } else {
        report.fail("severity", problems.join("; "));
    }
}

/// The table's states (closed ones marked), the severity field's values, and the tables that
/// extend task.
pub async fn options(sn: &ServiceNow, m: &MappingConfig) -> Result<MappingOptions, TrackerError> {
    let (table, _) = super::target_of(m)?;
    let meta = sn.tables.get(&sn.api, &table).await?;
    let statuses = meta
        .states
        .iter()
        .map(|c| OptionValue {
            value: c.label.clone(),
            label: format!("{} ({})", c.label, c.value),
            closed: Some(TableMeta::is_closed_label(&c.label)),
        })
        .collect();
    let field = m
        .severity_mapping
        .field
        .trim()
        .to_ascii_lowercase()
        .replace(' ', "");
    let severities = match field.as_str() {
        "urgency" => meta
            .urgency
            .iter()
            .map(|c| OptionValue {
                value: c.value.clone(),
                label: c.label.clone(),
                closed: None,
            })
            .collect(),
        "impact+urgency" | "impact/urgency" => meta
            .impact
            .iter()
            .flat_map(|i| {
                meta.urgency.iter().map(move |u| OptionValue {
                    value: format!("{}/{}", i.value, u.value),
                    label: format!("Impact {}, Urgency {}", i.label, u.label),
                    closed: None,
                })
            })
            .collect(),
        _ => meta
            .impact
            .iter()
            .map(|c| OptionValue {
                value: c.value.clone(),
                label: c.label.clone(),
                closed: None,
            })
            .collect(),
    };
    let (rows, _) = sn
        .api
        .json::<api::Many>(
            RequestClass::Read,
            "the tables extending task",
            Method::GET,
            "/api/now/table/sys_db_object",
            &[
                ("sysparm_query", "super_class.name=task^ORDERBYlabel".into()),
                ("sysparm_fields", "name,label".into()),
            ],
            None,
        )
        .await?;
    let types = rows
        .result
        .iter()
        .map(|r| OptionValue {
            value: value(r, "name"),
            label: value(r, "label"),
            closed: None,
        })
        .collect();
    Ok(MappingOptions {
        statuses,
        severities,
        types,
        components: Vec::new(),
    })
}
