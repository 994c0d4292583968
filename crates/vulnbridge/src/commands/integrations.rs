//! `instance`, `mapping` and `assignment`: Settings › Integrations from the command line. The
//! same checks as the API (`engine::integrations::configure`).

use crate::cli::{AssignmentCommand, InstanceCommand, MappingArgs, MappingCommand};
use crate::config::Config;
use crate::runtime;
use anyhow::{Context, bail};
use domain::tracker::{
    AssignmentScope, Instance, InstanceSettings, JiraSpace, Mapping, MappingTarget, PushFilters, SeverityMapping,
    StatusMapping, Vendor, default_severity_mapping, default_status_mapping,
};
use domain::{InstanceId, MappingId};
use engine::integrations::configure::{self, AssignmentInput, MappingInput, NewInstanceInput};
use engine::integrations::credentials::CredentialsInput;
use engine::integrations::{check, enqueue, queue};
use secrets::{ExposeSecret, SecretString};
use std::io::Read;
use store::{AsConn, PageRequest, assignments, engagements, instances, mappings, products, push_errors};

/// An instance by id or label.
pub async fn find_instance(c: &mut impl AsConn, key: &str) -> anyhow::Result<Instance> {
    if let Ok(id) = key.parse::<i64>()
        && let Ok(i) = instances::get(c, InstanceId(id)).await
    {
        return Ok(i);
    }
    match instances::get_by_label(c, key).await? {
        Some(i) => Ok(i),
        None => {
            let known: Vec<String> = instances::list(c).await?.into_iter().map(|i| format!("'{}'", i.label)).collect();
            bail!(
                "no integration instance '{key}'{}",
                if known.is_empty() { " (none yet: `vulnbridge instance add`)".to_owned() } else { format!("; there are {}", known.join(", ")) }
            )
        }
    }
}

/// A mapping by id or label (labels are unique per instance; across instances one must be
/// unambiguous).
pub async fn find_mapping(c: &mut impl AsConn, key: &str) -> anyhow::Result<Mapping> {
    if let Ok(id) = key.parse::<i64>()
        && let Ok(m) = mappings::get(c, MappingId(id)).await
    {
        return Ok(m);
    }
    let all = mappings::list(c, None).await?;
    let mut found: Vec<Mapping> = all.iter().filter(|m| m.label.eq_ignore_ascii_case(key.trim())).cloned().collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!(
            "no mapping '{key}'; there are {}",
            if all.is_empty() { "none yet (`vulnbridge mapping add`)".to_owned() } else { all.iter().map(|m| format!("'{}' (id {})", m.label, m.id)).collect::<Vec<_>>().join(", ") }
        ),
        _ => bail!("several instances have a mapping '{key}'; give its id ({})", found.iter().map(|m| m.id.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

fn read_token(stdin: bool, env: Option<&str>) -> anyhow::Result<SecretString> {
    if stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("cannot read the token from standard input")?;
        return Ok(SecretString::from(s.trim().to_owned()));
    }
    if let Some(var) = env {
        let v = std::env::var(var).with_context(|| format!("the environment variable {var} is not set"))?;
        return Ok(SecretString::from(v.trim().to_owned()));
    }
    bail!("give the token with --token-stdin or --token-env VAR (never on the command line)")
}

pub async fn instance(config: Config, cmd: InstanceCommand) -> anyhow::Result<()> {
    let app = runtime::app(&config).await?;
    match cmd {
        InstanceCommand::Add {
            vendor,
            label,
            location,
            token_stdin,
            token_env,
            username,
            oauth_client_id,
            oauth_client_secret_env,
            oauth_refresh_token_env,
            oauth_token_url,
            rate_limits,
            no_bulk,
        } => {
            let credentials = match (oauth_client_id, username) {
                (Some(client_id), _) => {
                    let var = |name: Option<String>| -> anyhow::Result<SecretString> {
                        let name = name.context("give the variable's name")?;
                        let v = std::env::var(&name).with_context(|| format!("the environment variable {name} is not set"))?;
                        Ok(SecretString::from(v.trim().to_owned()))
                    };
                    CredentialsInput {
                        oauth: Some(engine::integrations::credentials::OAuthInput {
                            client_id,
                            client_secret: var(oauth_client_secret_env)?,
                            refresh_token: var(oauth_refresh_token_env)?,
                            token_url: oauth_token_url,
                        }),
                        ..Default::default()
                    }
                }
                (None, Some(user)) => CredentialsInput {
                    username: Some(user),
                    password: Some(read_token(token_stdin, token_env.as_deref())?),
                    ..Default::default()
                },
                (None, None) => CredentialsInput::token(read_token(token_stdin, token_env.as_deref())?),
            };
            let input = NewInstanceInput { vendor, label, location, credentials, settings: InstanceSettings { rate_limits, no_bulk } };
            let mut tx = app.db().begin().await?;
            let (i, secret) = configure::create_instance(&app, &mut tx, input).await?;
            tx.commit().await?;
            out!("Added {} instance '{}' (id {}) at {}.", i.vendor.label(), i.label, i.id, i.location);
            out!("Webhook URL:    {}", configure::webhook_url(app.settings(), i.id));
            out!("Webhook secret: {}  (shown once; mappings register the webhook themselves)", secret.expose_secret());
            let report = check::check(&app, &i, None).await?;
            print_report(&report);
        }
        InstanceCommand::List => {
            let mut c = app.db().conn().await?;
            let list = instances::list(&mut c).await?;
            if list.is_empty() {
                out!("No integration instances yet (`vulnbridge instance add`).");
            }
            for i in list {
                let n = mappings::list(&mut c, Some(i.id)).await?.len();
                out!(
                    "{:>4}  {:<12} {:<28} {:<40} {} mapping(s){}",
                    i.id,
                    i.vendor.label(),
                    i.label,
                    i.location,
                    n,
                    i.account.map(|a| format!(", as {a}")).unwrap_or_default()
                );
            }
        }
        InstanceCommand::Check { instance, mapping } => {
            let mut c = app.db().conn().await?;
            let i = find_instance(&mut c, &instance).await?;
            let m = match mapping {
                Some(m) => Some(find_mapping(&mut c, &m).await?),
                None => None,
            };
            drop(c);
            let report = check::check(&app, &i, m.as_ref()).await?;
            print_report(&report);
            if !report.ok() {
                bail!("the connection check failed:\n{}", report.failures());
            }
        }
        InstanceCommand::Queue { instance } => {
            let mut c = app.db().conn().await?;
            let i = find_instance(&mut c, &instance).await?;
            drop(c);
            let q = queue::status(&app, &i).await?;
            out!("{} '{}': {} queued, {} running, {} dead", i.vendor.label(), i.label, q.queued, q.running, q.dead);
            if let (Some(until), Some(why)) = (q.blocked_until, q.blocked_reason) {
                out!("blocked by the tracker until {} ({why})", until.format("%H:%M:%S UTC"));
            }
            out!("expected to be through by {}", q.expected_finish.format("%Y-%m-%d %H:%M:%S UTC"));
        }
        InstanceCommand::Remove { instance } => {
            let mut c = app.db().conn().await?;
            let i = find_instance(&mut c, &instance).await?;
            instances::delete(&mut c, i.id).await?;
            out!("Deleted instance '{}' with its mappings and assignments; the tickets in {} stay.", i.label, i.vendor.label());
        }
    }
    Ok(())
}

fn print_report(r: &trackers::CheckReport) {
    for c in &r.checks {
        out!("  {} {:<18} {}", if c.ok { "✔" } else { "✘" }, c.name, c.detail);
    }
}

/// Parses `key=value,key=value`.
fn pairs(field: &str, raw: &str) -> anyhow::Result<Vec<(String, String)>> {
    raw.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .with_context(|| format!("--{field}: '{p}' is not KEY=VALUE"))
        })
        .collect()
}

fn severity_mapping(vendor: Vendor, raw: &str) -> anyhow::Result<SeverityMapping> {
    let mut m = default_severity_mapping(vendor);
    for (k, v) in pairs("severity", raw)? {
        match k.as_str() {
            "field" => m.field = v,
            "info" => m.info = v,
            "low" => m.low = v,
            "medium" => m.medium = v,
            "high" => m.high = v,
            "critical" => m.critical = v,
            other => bail!("--severity: unknown key '{other}'; use field, info, low, medium, high, critical"),
        }
    }
    Ok(m)
}

fn status_mapping(vendor: Vendor, raw: &str) -> anyhow::Result<StatusMapping> {
    let mut m = default_status_mapping(vendor);
    for (k, v) in pairs("status", raw)? {
        match k.as_str() {
            "field" => m.field = v,
            "active" => m.active = v,
            "closed" => m.closed = v,
            "false_positive" => m.false_positive = v,
            "risk_accepted" => m.risk_accepted = v,
            "in_progress" => m.in_progress = Some(v),
            "awaiting_validation" => m.awaiting_validation = Some(v),
            other => bail!("--status: unknown key '{other}'; use field, active, closed, false_positive, risk_accepted, in_progress, awaiting_validation"),
        }
    }
    Ok(m)
}

async fn add_mapping(app: &engine::App, a: MappingArgs) -> anyhow::Result<()> {
    let mut c = app.db().conn().await?;
    let i = find_instance(&mut c, &a.instance).await?;
    drop(c);
    let target = match (i.vendor, a.repository, a.project) {
        (Vendor::GitHub, Some(repository), None) => MappingTarget::GitHub { repository, project_number: a.project_number },
        (Vendor::GitHub, _, _) => bail!("a GitHub mapping needs --repository (and usually --project-number)"),
        (Vendor::GitLab, None, Some(project)) => MappingTarget::GitLab { project },
        (Vendor::GitLab, _, _) => bail!("a GitLab mapping needs --project group/project"),
        (Vendor::Jira, None, Some(project)) => MappingTarget::Jira {
            project,
            issue_type: a.issue_type.unwrap_or_else(|| "Bug".into()),
            space: if a.space.as_deref() == Some("security") { JiraSpace::Security } else { JiraSpace::Product },
            components: a.components,
            priority: !a.no_priority,
            delete_rejected: a.delete_rejected,
            close_security_issue_when_done: a.close_security_issue_when_done,
            sync_comments: a.sync_comments,
        },
        (Vendor::Jira, _, _) => bail!("a Jira mapping needs --project KEY (and --issue-type, --space)"),
        (Vendor::AzureDevops, None, Some(project)) => MappingTarget::AzureDevops {
            project,
            work_item_type: a.work_item_type.unwrap_or_else(|| "Bug".into()),
            area_path: a.area_path,
        },
        (Vendor::AzureDevops, _, _) => bail!("an Azure DevOps mapping needs --project NAME (and --work-item-type)"),
        (Vendor::ServiceNow, None, None) => MappingTarget::ServiceNow {
            table: a.table.unwrap_or_else(|| "incident".into()),
            assignment_group: a.assignment_group,
        },
        (Vendor::ServiceNow, _, _) => bail!("a ServiceNow mapping takes --table (and --assignment-group), not --project or --repository"),
    };
    let due_days = match a.due_days.as_deref() {
        None => Default::default(),
        Some(raw) => pairs("due-days", raw)?
            .into_iter()
            .map(|(k, v)| {
                let sev = domain::Severity::parse(&k).map_err(|e| anyhow::anyhow!("--due-days: {e}"))?;
                let days: u32 = v.parse().with_context(|| format!("--due-days: '{v}' is not a number of days"))?;
                Ok((sev, days))
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let mut inbound = domain::tracker::InboundMapping::default();
    if let Some(s) = a.inbound_closed {
        inbound.closed = s;
    }
    let severity = match (a.impact_urgency, i.vendor) {
        (true, Vendor::ServiceNow) => Some(domain::tracker::servicenow_impact_urgency_preset()),
        (true, other) => bail!("--impact-urgency is ServiceNow's preset; {} has none", other.label()),
        (false, _) => a.severity.as_deref().map(|r| severity_mapping(i.vendor, r)).transpose()?,
    };
    let input = MappingInput {
        label: a.label,
        target,
        severity_mapping: severity,
        status_mapping: a.status.as_deref().map(|r| status_mapping(i.vendor, r)).transpose()?,
        title_template: a.title_template,
        body_template: None,
        labels: a.labels,
        custom_fields: Default::default(),
        inbound: Some(inbound),
        due_days,
    };
    let mut tx = app.db().begin().await?;
    let m = configure::create_mapping(&mut tx, i.id, input).await?;
    tx.commit().await?;
    out!("Added mapping '{}' (id {}) → {} in '{}'.", m.label, m.id, m.config.target.describe(), i.label);
    if !a.no_webhook {
        match check::register_webhook(app, &m).await {
            Ok(url) => out!("Registered the tracker's webhook to {url}."),
            Err(e) => out!(
                "The webhook was not registered ({}); set it up by hand with the instance's webhook URL and secret.",
                domain::redact::redact(&e.to_string(), &[])
            ),
        }
    }
    let report = check::check(app, &i, Some(&m)).await?;
    print_report(&report);
    Ok(())
}

pub async fn mapping(config: Config, cmd: MappingCommand) -> anyhow::Result<()> {
    let app = runtime::app(&config).await?;
    match cmd {
        MappingCommand::Add(a) => add_mapping(&app, *a).await?,
        MappingCommand::List { instance } => {
            let mut c = app.db().conn().await?;
            let filter = match instance {
                Some(i) => Some(find_instance(&mut c, &i).await?.id),
                None => None,
            };
            let counts = push_errors::counts(&mut c).await?;
            let list = mappings::list(&mut c, filter).await?;
            if list.is_empty() {
                out!("No mappings yet (`vulnbridge mapping add`).");
            }
            for m in list {
                out!(
                    "{:>4}  {:<24} {:<10} {:<32} ⚠ {} error(s)",
                    m.id,
                    m.label,
                    m.vendor.label(),
                    m.config.target.describe(),
                    counts.get(&m.id).copied().unwrap_or(0)
                );
            }
        }
        MappingCommand::Errors { mapping } => {
            let mut c = app.db().conn().await?;
            let m = find_mapping(&mut c, &mapping).await?;
            let page = push_errors::list(&mut c, m.id, PageRequest::all()).await?;
            out!("Mapping '{}': {} error(s)", m.label, page.count);
            for e in page.results {
                out!(
                    "{:>5}  {}  {:<14} {} attempt(s)  {}  {}{}",
                    e.id,
                    e.last_at.format("%Y-%m-%d %H:%M"),
                    e.subject.to_string(),
                    e.attempts,
                    e.code,
                    e.reason,
                    e.retry_at.map(|r| format!(" (retrying at {})", r.format("%H:%M:%S"))).unwrap_or_default()
                );
            }
        }
        MappingCommand::Retry { mapping, error } => {
            let mut tx = app.db().begin().await?;
            let m = find_mapping(&mut tx, &mapping).await?;
            let errors = match error {
                Some(id) => {
                    let e = push_errors::get(&mut tx, id).await?;
                    if e.mapping != m.id {
                        bail!("error {id} belongs to another mapping");
                    }
                    vec![e]
                }
                None => push_errors::all_for(&mut tx, m.id).await?,
            };
            for e in &errors {
                enqueue::retry(&mut tx, m.id, e.subject, "cli").await?;
            }
            tx.commit().await?;
            out!("Queued {} push(es) again; a running server's workers (or `vulnbridge push`) will send them.", errors.len());
        }
        MappingCommand::Webhook { mapping } => {
            let mut c = app.db().conn().await?;
            let m = find_mapping(&mut c, &mapping).await?;
            drop(c);
            let url = check::register_webhook(&app, &m).await.map_err(|e| anyhow::anyhow!(domain::redact::redact(&e.to_string(), &[])))?;
            out!("Registered the webhook of mapping '{}' to {url}.", m.label);
        }
        MappingCommand::Remove { mapping } => {
            let mut c = app.db().conn().await?;
            let m = find_mapping(&mut c, &mapping).await?;
            mappings::delete(&mut c, m.id).await?;
            out!("Deleted mapping '{}'; the tickets in the tracker stay.", m.label);
        }
    }
    Ok(())
}

pub async fn assignment(config: Config, cmd: AssignmentCommand) -> anyhow::Result<()> {
    let app = runtime::app(&config).await?;
    match cmd {
        AssignmentCommand::Add { mapping, product, engagement, mode, minimum_severity, active_only } => {
            let mut tx = app.db().begin().await?;
            let m = find_mapping(&mut tx, &mapping).await?;
            let p = products::get_by_name(&mut tx, product.trim()).await?.with_context(|| format!("no product named '{product}'"))?;
            let scope = match engagement {
                Some(e) => AssignmentScope::Engagement(
                    engagements::get_by_name(&mut tx, p.id, e.trim())
                        .await?
                        .with_context(|| format!("product '{}' has no engagement '{e}'", p.name))?
                        .id,
                ),
                None => AssignmentScope::Product(p.id),
            };
            let a = configure::create_assignment(
                &mut tx,
                AssignmentInput { mapping: m.id, scope, push_mode: mode, filters: PushFilters { minimum_severity, active_only } },
            )
            .await?;
            tx.commit().await?;
            out!("Assigned {} to mapping '{}' (assignment {}): {}.", p.name, m.label, a.id, a.push_mode.label());
        }
        AssignmentCommand::List { product } => {
            let mut c = app.db().conn().await?;
            let filter = match product {
                Some(p) => assignments::Filter {
                    product: Some(products::get_by_name(&mut c, p.trim()).await?.with_context(|| format!("no product named '{p}'"))?.id),
                    ..Default::default()
                },
                None => assignments::Filter::default(),
            };
            for a in assignments::list(&mut c, &filter).await? {
                let p = products::get(&mut c, a.product).await?;
                let m = mappings::get(&mut c, a.mapping).await?;
                out!(
                    "{:>4}  {:<24} {:<20} → {:<20} {}{}",
                    a.id,
                    p.name,
                    a.engagement.map(|e| format!("engagement {e}")).unwrap_or_else(|| "whole product".into()),
                    m.label,
                    a.push_mode.label(),
                    a.filters.minimum_severity.map(|s| format!(", from {}", s.label())).unwrap_or_default()
                );
            }
        }
        AssignmentCommand::Remove { id } => {
            let mut c = app.db().conn().await?;
            assignments::delete(&mut c, domain::AssignmentId(id)).await?;
            out!("Removed assignment {id}.");
        }
    }
    Ok(())
}
