//! The demo's trackers: all five simulators (GitHub, GitLab, Jira, Azure DevOps, ServiceNow) on
//! loopback, an instance, mappings and assignments for each (the same calls as the API), a
//! first "Push to Integrators", and tickets closed by people in the trackers coming back as
//! closed findings.

use anyhow::Context;
use domain::tracker::{AssignmentScope, InstanceSettings, JiraSpace, MappingTarget, PushFilters, PushMode, StatusMapping, Subject, Vendor};
use domain::{Severity, Status, Visibility};
use engine::App;
use engine::integrations::configure::{self, AssignmentInput, MappingInput, NewInstanceInput};
use engine::integrations::credentials::CredentialsInput;
use engine::integrations::{check, enqueue};
use secrets::{ExposeSecret, SecretString};
use simulators::azure_devops::AzureDevOpsSim;
use simulators::github::{BOT_TOKEN, GitHubSim};
use simulators::gitlab::GitLabSim;
use simulators::jira::JiraSim;
use simulators::servicenow::ServiceNowSim;
use std::time::Duration;
use store::{PageRequest, findings, groups, products};

/// GitLab's seeded bot token (see `simulators::gitlab::GitLabSim::start_seeded`).
const GITLAB_BOT_TOKEN: &str = "glpat-simulatorBotToken0000";

/// The running simulators (they stop when dropped) and what the demo did with them.
pub struct Trackers {
    pub github: GitHubSim,
    pub gitlab: GitLabSim,
    pub jira: JiraSim,
    pub azure_devops: AzureDevOpsSim,
    pub servicenow: ServiceNowSim,
    pub lines: Vec<String>,
}

fn mapping(label: &str, target: MappingTarget) -> MappingInput {
    MappingInput {
        label: label.into(),
        target,
        severity_mapping: None,
        status_mapping: None,
        title_template: None,
        body_template: None,
        labels: vec!["security".into()],
        custom_fields: Default::default(),
        inbound: None,
        due_days: Default::default(),
    }
}

/// The GitHub repository the demo leaves for the user to map (Internal Tools has no tracker).
pub const UNMAPPED_REPO: &str = "internal-tools";

/// Connects the demo's products to the simulators and pushes. The server must be answering
/// at the app's public URL (webhooks come back to it) and a worker running.
pub async fn connect(app: &App) -> anyhow::Result<Trackers> {
    let loopback = "127.0.0.1:0".parse().expect("a loopback address");
    let github = GitHubSim::start_seeded(loopback).await.context("starting the GitHub simulator")?;
    // A repository no mapping points at yet, for connecting by hand in Settings › Integrations
    // (the browser tests do so).
    github.add_repo("acme", UNMAPPED_REPO);
    github.grant("vulnbridge-bot", "acme", UNMAPPED_REPO, "admin");
    github.grant("dev-alice", "acme", UNMAPPED_REPO, "write");
    let gitlab = GitLabSim::start_seeded(loopback).await.context("starting the GitLab simulator")?;
    let jira = JiraSim::start_seeded(loopback).await.context("starting the Jira simulator")?;
    let azure_devops = AzureDevOpsSim::start_seeded(loopback).await.context("starting the Azure DevOps simulator")?;
    let servicenow = ServiceNowSim::start_seeded(loopback).await.context("starting the ServiceNow simulator")?;

    let mut tx = app.db().begin().await?;
    let token = |t: &str| CredentialsInput::token(SecretString::from(t.to_owned()));
    let mut instances = Vec::new();
    let mut snow_secret = None;
    for (vendor, label, location, credentials) in [
        (Vendor::GitHub, "GitHub (acme)", github.location("acme"), token(BOT_TOKEN)),
        (Vendor::GitLab, "GitLab", gitlab.location(), token(GITLAB_BOT_TOKEN)),
        (
            Vendor::Jira,
            "Jira",
            jira.location(),
            CredentialsInput {
                username: Some(simulators::jira::BOT_EMAIL.into()),
                password: Some(SecretString::from(simulators::jira::BOT_API_TOKEN.to_owned())),
                ..Default::default()
            },
        ),
        (Vendor::AzureDevops, "Azure DevOps (acme)", azure_devops.location(), token(simulators::azure_devops::BOT_PAT)),
        (
            Vendor::ServiceNow,
            "ServiceNow",
            servicenow.location(),
            CredentialsInput {
                oauth: Some(engine::integrations::credentials::OAuthInput {
                    client_id: simulators::servicenow::CLIENT_ID.into(),
                    client_secret: SecretString::from(simulators::servicenow::CLIENT_SECRET.to_owned()),
                    refresh_token: SecretString::from(simulators::servicenow::BOT_REFRESH_TOKEN.to_owned()),
                    token_url: None,
                }),
                ..Default::default()
            },
        ),
    ] {
        let input = NewInstanceInput { vendor, label: label.into(), location, credentials, settings: InstanceSettings::default() };
        let (instance, secret) = configure::create_instance(app, &mut tx, input).await?;
        if vendor == Vendor::ServiceNow {
            snow_secret = Some(secret);
        }
        instances.push(instance);
    }
    let [gh, gl, ji, ado, snow] = instances.as_slice() else { unreachable!("five instances were made") };
    let jira_target = |project: &str, issue_type: &str, space: JiraSpace| MappingTarget::Jira {
        project: project.into(),
        issue_type: issue_type.into(),
        space,
        components: vec!["backend".into()],
        priority: true,
        delete_rejected: false,
        close_security_issue_when_done: space == JiraSpace::Product,
        sync_comments: true,
    };
    let with_statuses = |mut m: MappingInput, vendor: Vendor, in_progress: &str| {
        let mut status: StatusMapping = domain::tracker::default_status_mapping(vendor);
        status.in_progress = Some(in_progress.into());
        m.status_mapping = Some(status);
        m
    };
    let jira_security = with_statuses(mapping("security-team", jira_target("SEC", "Vulnerability", JiraSpace::Security)), Vendor::Jira, "In Progress");
    let jira_product = with_statuses(mapping("storefront-dev", jira_target("APP", "Bug", JiraSpace::Product)), Vendor::Jira, "In Progress");
    let mut ado_payments = mapping("payments-boards", MappingTarget::AzureDevops { project: "Platform".into(), work_item_type: "Issue".into(), area_path: None });
    ado_payments.due_days = [(Severity::Critical, 7), (Severity::High, 30)].into_iter().collect();
    let mut snow_incidents = with_statuses(
        mapping("secops-incidents", MappingTarget::ServiceNow { table: "incident".into(), assignment_group: Some("Security Operations".into()) }),
        Vendor::ServiceNow,
        "In Progress",
    );
    snow_incidents.due_days = [(Severity::Critical, 7), (Severity::High, 30)].into_iter().collect();

    let storefront_map = configure::create_mapping(
        &mut tx,
        gh.id,
        mapping("storefront", MappingTarget::GitHub { repository: "storefront".into(), project_number: Some(1) }),
    )
    .await?;
    let payments_map = configure::create_mapping(
        &mut tx,
        gh.id,
        mapping("payments-api", MappingTarget::GitHub { repository: "payments-api".into(), project_number: Some(1) }),
    )
    .await?;
    let mobile_map = configure::create_mapping(
        &mut tx,
        gl.id,
        mapping("mobile-backend", MappingTarget::GitLab { project: "acme/mobile-backend".into() }),
    )
    .await?;
    let security_map = configure::create_mapping(&mut tx, ji.id, jira_security).await?;
    let app_map = configure::create_mapping(&mut tx, ji.id, jira_product).await?;
    let boards_map = configure::create_mapping(&mut tx, ado.id, ado_payments).await?;
    let incidents_map = configure::create_mapping(&mut tx, snow.id, snow_incidents).await?;
    let mut assigned = Vec::new();
    for (pname, m, mode, min) in [
        ("Storefront", storefront_map.id, PushMode::LinkNewAndUpdate, Some(Severity::High)),
        ("Storefront", security_map.id, PushMode::LinkNewAndUpdate, Some(Severity::Critical)),
        ("Storefront", app_map.id, PushMode::LinkNewAndUpdate, Some(Severity::Critical)),
        ("Payments API", payments_map.id, PushMode::Explicit, None),
        ("Payments API", boards_map.id, PushMode::LinkNewAndUpdate, Some(Severity::High)),
        ("Mobile Backend", mobile_map.id, PushMode::LinkNewAndUpdate, Some(Severity::Medium)),
        ("Mobile Backend", incidents_map.id, PushMode::LinkNewAndUpdate, Some(Severity::High)),
    ] {
        let p = products::get_by_name(&mut tx, pname).await?.with_context(|| format!("the demo's product {pname}"))?;
        configure::create_assignment(
            &mut tx,
            AssignmentInput {
                mapping: m,
                scope: AssignmentScope::Product(p.id),
                push_mode: mode,
                filters: PushFilters { minimum_severity: min, active_only: true },
            },
        )
        .await?;
        assigned.push((p, min.unwrap_or(Severity::Info)));
    }
    tx.commit().await?;

    for m in [&storefront_map, &payments_map, &mobile_map, &security_map, &app_map, &boards_map] {
        check::register_webhook(app, m).await.map_err(|e| anyhow::anyhow!("registering the demo's webhook for {}: {e}", m.label))?;
    }
    // ServiceNow calls back through a business rule its admin installs
    // (docs/servicenow-business-rule.md): the simulator's stand-in for that.
    let secret = snow_secret.context("the ServiceNow instance's webhook secret")?;
    servicenow.register_business_rule(&configure::webhook_url(app.settings(), snow.id), secret.expose_secret(), "task");
    for i in [gh, gl, ji, ado, snow] {
        let report = check::check(app, i, None).await?;
        anyhow::ensure!(report.ok(), "the demo's {} instance does not connect: {}", i.vendor.label(), report.failures());
    }

    // "Push to Integrators" for what is open and severe enough, and the log4j group.
    let mut subjects = Vec::new();
    let mut c = app.db().conn().await?;
    for (p, min) in &assigned {
        let filter = findings::Filter { product: Some(p.id), open: Some(true), ..Default::default() };
        for f in findings::list(&mut c, &filter, &Visibility::All, PageRequest::all()).await?.results {
            if f.severity >= *min && f.status != Status::Duplicate {
                subjects.push(match f.finding_group {
                    Some(g) => Subject::Group(g),
                    None => Subject::Finding(f.id),
                });
            }
        }
    }
    subjects.sort();
    subjects.dedup();
    // At most a screenful per product keeps the demo quick; the rest is one click away.
    let mut per_product: std::collections::HashMap<domain::ProductId, usize> = Default::default();
    let mut chosen = Vec::new();
    for s in subjects {
        let product = match s {
            Subject::Finding(f) => findings::get(&mut c, f).await?.product,
            Subject::Group(g) => groups::get(&mut c, g).await?.product,
        };
        let n = per_product.entry(product).or_default();
        if *n < 12 {
            *n += 1;
            chosen.push(s);
        }
    }
    drop(c);
    let mut tx = app.db().begin().await?;
    let (queued, _) = enqueue::manual(&mut tx, &chosen, "demo").await?;
    tx.commit().await?;
    wait_for_pushes(app, Duration::from_secs(60)).await?;

    let mut lines = Vec::new();
    let gh_issues: usize = ["storefront", "payments-api"].iter().map(|r| github.issues("acme", r).len()).sum();
    let gl_issues = gitlab.issues("acme/mobile-backend").len();
    let (sec, app_issues) = (jira.issues("SEC").len(), jira.issues("APP").len());
    let work_items = azure_devops.work_items("Platform").len();
    let incidents = servicenow.records("incident").len();
    lines.push(format!("pushed     {} tickets to five trackers:", queued.len()));
    lines.push(format!("             GitHub       {gh_issues} issues (acme/storefront, acme/payments-api, project \"Security\")"));
    lines.push(format!("             GitLab       {gl_issues} issues (acme/mobile-backend)"));
    lines.push(format!("             Jira         {sec} security issues (SEC) linked to {app_issues} product issues (APP)"));
    lines.push(format!("             Azure DevOps {work_items} work items (acme/Platform, in one $batch request)"));
    lines.push(format!("             ServiceNow   {incidents} incidents for Security Operations (Batch API)"));

    // Two-way: developers close tickets in their trackers; the findings close here.
    if let Some(issue) = github.issues("acme", "storefront").into_iter().find(|i| i.state == "open") {
        github
            .close_issue_as("dev-alice", "acme", "storefront", issue.number, "completed")
            .map_err(|e| anyhow::anyhow!("closing a demo issue: {e}"))?;
        github.webhooks().wait_idle().await;
        wait_for_pushes(app, Duration::from_secs(30)).await?;
        lines.push(format!("two-way    dev-alice closed acme/storefront#{} in GitHub → its finding is now closed in vulnbridge", issue.number));
    }
    if let Some(issue) = jira.issues("APP").into_iter().find(|i| i.status_category != "done") {
        let carol = simulators::jira::CAROL_EMAIL;
        let steps: &[&str] = if issue.status == "In Progress" { &["Done"] } else { &["In Progress", "Done"] };
        for step in steps {
            jira.transition_as(carol, &issue.key, step).map_err(|e| anyhow::anyhow!("moving a demo Jira issue: {e}"))?;
        }
        jira.webhooks().wait_idle().await;
        wait_for_pushes(app, Duration::from_secs(30)).await?;
        lines.push(format!(
            "two-way    {carol} moved {} to Done in Jira → its finding closed, and its security issue with it",
            issue.key
        ));
    }
    if let Some(incident) = servicenow.records("incident").into_iter().find(|r| r.active) {
        servicenow
            .set_state_as(simulators::servicenow::AGENT_USER, "incident", &incident.sys_id, "7", Some("Solved (Permanently)"))
            .map_err(|e| anyhow::anyhow!("resolving a demo incident: {e}"))?;
        servicenow.webhooks().wait_idle().await;
        wait_for_pushes(app, Duration::from_secs(30)).await?;
        lines.push(format!(
            "two-way    {} closed {} in ServiceNow → its finding is now closed in vulnbridge",
            simulators::servicenow::AGENT_USER,
            incident.number
        ));
    }
    Ok(Trackers { github, gitlab, jira, azure_devops, servicenow, lines })
}

/// Waits until no push is queued or running.
pub(super) async fn wait_for_pushes(app: &App, within: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut c = app.db().conn().await?;
        let pending = store::jobs::counts(&mut c)
            .await?
            .into_iter()
            .filter(|(q, s, _)| q == "push" && matches!(s, store::jobs::JobStatus::Queued | store::jobs::JobStatus::Running))
            .map(|(_, _, n)| n)
            .sum::<i64>();
        drop(c);
        if pending == 0 {
            return Ok(());
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "the demo's pushes did not finish within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
