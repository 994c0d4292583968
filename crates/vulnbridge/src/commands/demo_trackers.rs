//! The demo's trackers: the GitHub and GitLab simulators on loopback, an instance, mapping and
//! assignment for each (the same calls as the API), a first "Push to Integrators", and one
//! ticket closed by a developer in the tracker coming back as a closed finding.

use anyhow::Context;
use domain::tracker::{AssignmentScope, InstanceSettings, MappingTarget, PushFilters, PushMode, Subject};
use domain::{Severity, Status, Visibility};
use engine::App;
use engine::integrations::configure::{self, AssignmentInput, MappingInput, NewInstanceInput};
use engine::integrations::credentials::CredentialsInput;
use engine::integrations::{check, enqueue};
use secrets::SecretString;
use simulators::github::{BOT_TOKEN, GitHubSim};
use simulators::gitlab::GitLabSim;
use std::time::Duration;
use store::{PageRequest, findings, groups, products};

/// GitLab's seeded bot token (see `simulators::gitlab::GitLabSim::start_seeded`).
const GITLAB_BOT_TOKEN: &str = "glpat-simulatorBotToken0000";

/// The running simulators (they stop when dropped) and what the demo did with them.
pub struct Trackers {
    pub github: GitHubSim,
    pub gitlab: GitLabSim,
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

/// Connects the demo's products to the simulators and pushes. The server must be answering
/// at the app's public URL (webhooks come back to it) and a worker running.
pub async fn connect(app: &App) -> anyhow::Result<Trackers> {
    let loopback = "127.0.0.1:0".parse().expect("a loopback address");
    let github = GitHubSim::start_seeded(loopback).await.context("starting the GitHub simulator")?;
    let gitlab = GitLabSim::start_seeded(loopback).await.context("starting the GitLab simulator")?;

    let mut tx = app.db().begin().await?;
    let (gh, _) = configure::create_instance(
        app,
        &mut tx,
        NewInstanceInput {
            vendor: domain::tracker::Vendor::GitHub,
            label: "GitHub (acme)".into(),
            location: github.location("acme"),
            credentials: CredentialsInput::token(SecretString::from(BOT_TOKEN.to_owned())),
            settings: InstanceSettings::default(),
        },
    )
    .await?;
    let (gl, _) = configure::create_instance(
        app,
        &mut tx,
        NewInstanceInput {
            vendor: domain::tracker::Vendor::GitLab,
            label: "GitLab".into(),
            location: gitlab.location(),
            credentials: CredentialsInput::token(SecretString::from(GITLAB_BOT_TOKEN.to_owned())),
            settings: InstanceSettings::default(),
        },
    )
    .await?;
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
    let mut assigned = Vec::new();
    for (pname, m, mode, min) in [
        ("Storefront", storefront_map.id, PushMode::LinkNewAndUpdate, Some(Severity::High)),
        ("Payments API", payments_map.id, PushMode::Explicit, None),
        ("Mobile Backend", mobile_map.id, PushMode::LinkNewAndUpdate, Some(Severity::Medium)),
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

    for m in [&storefront_map, &payments_map, &mobile_map] {
        check::register_webhook(app, m).await.map_err(|e| anyhow::anyhow!("registering the demo's webhook: {e}"))?;
    }
    for i in [&gh, &gl] {
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
    lines.push(format!("pushed     {} tickets: {gh_issues} GitHub issues (acme/storefront, acme/payments-api, project \"Security\"), {gl_issues} GitLab issues (acme/mobile-backend)", queued.len()));

    // Two-way: a developer closes a Storefront issue in GitHub; its finding closes here.
    if let Some(issue) = github.issues("acme", "storefront").into_iter().find(|i| i.state == "open") {
        github
            .close_issue_as("dev-alice", "acme", "storefront", issue.number, "completed")
            .map_err(|e| anyhow::anyhow!("closing a demo issue: {e}"))?;
        github.webhooks().wait_idle().await;
        wait_for_pushes(app, Duration::from_secs(30)).await?;
        lines.push(format!("two-way    dev-alice closed acme/storefront#{} in GitHub → its finding is now closed in vulnbridge", issue.number));
    }
    Ok(Trackers { github, gitlab, lines })
}

/// Waits until no push is queued or running.
async fn wait_for_pushes(app: &App, within: Duration) -> anyhow::Result<()> {
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
