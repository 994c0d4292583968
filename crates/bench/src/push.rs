//! `push`: N findings pushed to a tracker simulator by the real push jobs and worker, then
//! pushed again unchanged. Reports API calls per created ticket and per unchanged re-push, and
//! the time taken against the lower bound the tracker's rate limits themselves allow.
//!
//! The simulator enforces the vendor's documented limits on a clock sped up by `--scale`
//! (GitHub's "500 content-creating requests an hour" becomes 500 per 3.6 s at 0.001), and the
//! instance is told the same limits (as a GitHub Enterprise administrator's custom limits would
//! be), so the run shows how close the pacing gets to what the limits permit.

use anyhow::Context;
use domain::tracker::{
    AssignmentScope, InstanceSettings, MappingTarget, PushFilters, PushMode, RateLimitOverride, Subject, Vendor,
};
use domain::{NewFinding, NewEngagement, NewProduct, NewTest, Severity, Title};
use engine::integrations::configure::{self, AssignmentInput, MappingInput, NewInstanceInput};
use engine::integrations::credentials::CredentialsInput;
use engine::integrations::enqueue;
use secrets::SecretString;
use std::time::{Duration, Instant};

pub struct Options {
    pub findings: usize,
    pub vendor: Vendor,
    pub scale: f64,
    pub workers: usize,
    pub no_bulk: bool,
}

pub async fn run(app: &engine::App, backend: &str, o: &Options) -> anyhow::Result<()> {
    let loopback = "127.0.0.1:0".parse().expect("a loopback address");
    // The simulator lives as long as this function (dropping it stops its server).
    let _sim: Box<dyn std::any::Any + Send>;
    let token = |t: &str| CredentialsInput::token(SecretString::from(t.to_owned()));
    let (location, credentials, target, sim_requests, overrides): (String, CredentialsInput, MappingTarget, simulators::RequestLog, Vec<RateLimitOverride>) =
        match o.vendor {
            Vendor::GitHub => {
                let sim = simulators::github::GitHubSim::start_seeded(loopback).await?;
                sim.set_limits(simulators::github::Limits { window_scale: o.scale, ..Default::default() });
                let location = sim.location("acme");
                let requests = sim.requests().clone();
                _sim = Box::new(sim);
                (
                    location,
                    token(simulators::github::BOT_TOKEN),
                    MappingTarget::GitHub { repository: "storefront".into(), project_number: Some(1) },
                    requests,
                    scaled(o.vendor, o.scale),
                )
            }
            Vendor::GitLab => {
                let sim = simulators::gitlab::GitLabSim::start_seeded(loopback).await?;
                sim.set_limits(simulators::gitlab::Limits { window_scale: o.scale, ..Default::default() });
                let location = sim.location();
                let requests = sim.requests().clone();
                _sim = Box::new(sim);
                (
                    location,
                    token("glpat-simulatorBotToken0000"),
                    MappingTarget::GitLab { project: "acme/mobile-backend".into() },
                    requests,
                    scaled(o.vendor, o.scale),
                )
            }
            // Jira, Azure DevOps and ServiceNow publish no fixed request counts (Jira's burst
            // limits, Azure DevOps' TSTUs and ServiceNow's admin-set rules are dynamic), so their
            // simulators run without limits and the instance keeps its own modest pace, scaled.
            Vendor::Jira => {
                use simulators::jira::*;
                let sim = JiraSim::start_seeded(loopback).await?;
                sim.set_limits(Limits { burst: 0, per_issue_writes: 0, ..Default::default() });
                let location = sim.location();
                let requests = sim.requests().clone();
                _sim = Box::new(sim);
                let credentials = CredentialsInput {
                    username: Some(BOT_EMAIL.into()),
                    password: Some(SecretString::from(BOT_API_TOKEN.to_owned())),
                    ..Default::default()
                };
                let target = MappingTarget::Jira {
                    project: "APP".into(),
                    issue_type: "Bug".into(),
                    space: Default::default(),
                    components: vec![],
                    priority: true,
                    delete_rejected: false,
                    close_security_issue_when_done: false,
                    sync_comments: false,
                };
                (location, credentials, target, requests, scaled(o.vendor, o.scale))
            }
            Vendor::AzureDevops => {
                use simulators::azure_devops::*;
                let sim = AzureDevOpsSim::start_seeded(loopback).await?;
                sim.set_limits(Limits { tstu_limit: 0, ..Default::default() });
                let location = sim.location();
                let requests = sim.requests().clone();
                _sim = Box::new(sim);
                let target = MappingTarget::AzureDevops { project: "Platform".into(), work_item_type: "Issue".into(), area_path: None };
                (location, token(BOT_PAT), target, requests, scaled(o.vendor, o.scale))
            }
            Vendor::ServiceNow => {
                use simulators::servicenow::*;
                let sim = ServiceNowSim::start_seeded(loopback).await?;
                let location = sim.location();
                let requests = sim.requests().clone();
                _sim = Box::new(sim);
                let credentials = CredentialsInput {
                    oauth: Some(engine::integrations::credentials::OAuthInput {
                        client_id: CLIENT_ID.into(),
                        client_secret: SecretString::from(CLIENT_SECRET.to_owned()),
                        refresh_token: SecretString::from(BOT_REFRESH_TOKEN.to_owned()),
                        token_url: None,
                    }),
                    ..Default::default()
                };
                let target = MappingTarget::ServiceNow { table: "incident".into(), assignment_group: None };
                (location, credentials, target, requests, scaled(o.vendor, o.scale))
            }
        };

    let mut tx = app.db().begin().await?;
    let (instance, _) = configure::create_instance(
        app,
        &mut tx,
        NewInstanceInput {
            vendor: o.vendor,
            label: "bench".into(),
            location,
            credentials,
            settings: InstanceSettings { rate_limits: overrides.clone(), no_bulk: o.no_bulk },
        },
    )
    .await?;
    let mapping = configure::create_mapping(
        &mut tx,
        instance.id,
        MappingInput {
            label: "bench".into(),
            target,
            severity_mapping: None,
            status_mapping: None,
            title_template: None,
            body_template: None,
            labels: vec![],
            custom_fields: Default::default(),
            inbound: None,
            due_days: Default::default(),
        },
    )
    .await?;
    let product = store::products::create(
        &mut tx,
        NewProduct { name: domain::Name::parse("name", "Bench")?, description: None, product_type: None, business_criticality: None, tags: vec![] },
    )
    .await?;
    let engagement = store::engagements::create(&mut tx, NewEngagement::named(product.id, domain::Name::parse("name", "CI")?)).await?;
    let test = store::tests::create(&mut tx, NewTest::new(engagement.id, domain::Name::parse("name", "SARIF")?, domain::Name::parse("name", "SARIF")?)).await?;
    configure::create_assignment(
        &mut tx,
        AssignmentInput { mapping: mapping.id, scope: AssignmentScope::Product(product.id), push_mode: PushMode::Explicit, filters: PushFilters::default() },
    )
    .await?;
    let now = store::now();
    let severities = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];
    let rows: Vec<_> = (0..o.findings)
        .map(|i| {
            let mut n = NewFinding::new(test.id, Title::parse("title", &format!("Finding {i}: SQL injection in handler {i}")).expect("a title"), severities[i % 4]);
            n.description = format!("User input reaches a query in handler {i}.");
            n.file_path = Some(format!("src/handlers/h{i}.rs"));
            n.line = Some((i % 400) as i32 + 1);
            n.cwe = Some(89);
            n.normalize().expect("a valid finding").into_finding(&test, now, None)
        })
        .collect();
    let stored = store::findings::insert_many(&mut tx, rows, store::findings::Seen::At).await?;
    tx.commit().await?;
    let subjects: Vec<Subject> = stored.iter().map(|f| Subject::Finding(f.id)).collect();

    let budgets = engine::integrations::clients::instance_budgets(&instance);
    let bound = trackers::limit::time_to_create(&budgets, &vec![0; budgets.len()], o.vendor, o.findings as u64);
    // Only GitHub and GitLab publish request counts; for the others the run measures calls.
    let published = matches!(o.vendor, Vendor::GitHub | Vendor::GitLab);
    let mode = if instance.settings.bulk_size(o.vendor) > 1 { "bulk creates" } else { "one create request per ticket" };
    if published {
        println!(
            "{backend}, {} simulator with its documented limits on a clock sped up {:.0}×: {} findings, {} workers, {mode}",
            o.vendor.label(),
            1.0 / o.scale,
            o.findings,
            o.workers
        );
        for r in &overrides {
            println!("  limit {:<16} {} per {:.3} s", r.name, r.limit, r.per_seconds);
        }
    } else {
        println!(
            "{backend}, {} simulator without limits (the vendor publishes no request counts): {} findings, {} workers, {mode}",
            o.vendor.label(),
            o.findings,
            o.workers
        );
    }

    sim_requests.reset();
    let first = push_all(app, &subjects, o.workers).await?;
    let calls = sim_requests.total();
    let tickets = count_linked(app).await?;
    let bound_note = if published {
        format!(
            "; the limits' own bound: {:.1} s (ratio {:.2})",
            bound.as_secs_f64(),
            first.as_secs_f64() / bound.as_secs_f64().max(f64::EPSILON)
        )
    } else {
        String::new()
    };
    println!(
        "  first push: {tickets} tickets in {:.1} s ({:.0} tickets/s){bound_note}; {calls} API calls = {:.2} per ticket",
        first.as_secs_f64(),
        tickets as f64 / first.as_secs_f64(),
        calls as f64 / tickets.max(1) as f64
    );
    let mut routes: Vec<_> = sim_requests.counts().into_iter().collect();
    routes.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (route, n) in routes {
        println!("    {n:>7}  {route}");
    }

    sim_requests.reset();
    let again = push_all(app, &subjects, o.workers).await?;
    println!(
        "  unchanged re-push of all {} findings: {} API calls ({:.2} per ticket) in {:.1} s",
        o.findings,
        sim_requests.total(),
        sim_requests.total() as f64 / tickets.max(1) as f64,
        again.as_secs_f64()
    );
    Ok(())
}

/// The vendor's budgets with every window multiplied by `scale`.
fn scaled(vendor: Vendor, scale: f64) -> Vec<RateLimitOverride> {
    trackers::limit::budgets(vendor)
        .iter()
        .map(|b| RateLimitOverride { name: b.name.to_owned(), limit: b.limit, per_seconds: b.per.as_secs_f64() * scale })
        .collect()
}

async fn count_linked(app: &engine::App) -> anyhow::Result<i64> {
    let mut c = app.db().conn().await?;
    let page = store::tickets::list(
        &mut c,
        &store::tickets::Filter { link_state: Some(domain::tracker::LinkState::Linked), ..Default::default() },
        store::PageRequest::new(Some(1), None),
    )
    .await?;
    Ok(page.count)
}

/// Queues a manual push of every subject and runs workers until the queue is empty.
async fn push_all(app: &engine::App, subjects: &[Subject], workers: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut tx = app.db().begin().await?;
    enqueue::manual(&mut tx, subjects, "bench").await?;
    tx.commit().await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = engine::Worker::new(
        app.clone(),
        engine::jobs::registry(),
        engine::WorkerOptions { concurrency: workers, poll_interval: Duration::from_millis(20), ..Default::default() },
    );
    let handle = tokio::spawn(worker.run(stopped));
    loop {
        let mut c = app.db().conn().await?;
        let pending: i64 = store::jobs::counts(&mut c)
            .await?
            .into_iter()
            .filter(|(q, s, _)| q == "push" && matches!(s, store::jobs::JobStatus::Queued | store::jobs::JobStatus::Running))
            .map(|(_, _, n)| n)
            .sum();
        let dead: i64 = store::jobs::counts(&mut c)
            .await?
            .into_iter()
            .filter(|(q, s, _)| q == "push" && *s == store::jobs::JobStatus::Dead)
            .map(|(_, _, n)| n)
            .sum();
        drop(c);
        anyhow::ensure!(dead == 0, "{dead} pushes failed for good (see the error table)");
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = started.elapsed();
    let _ = stop.send(true);
    handle.await.context("the worker stopped")?;
    Ok(took)
}
