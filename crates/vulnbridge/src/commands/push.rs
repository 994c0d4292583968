//! `vulnbridge push`: "Push to Integrators" from the command line. The pushes are queued like
//! the API's, then (unless `--no-wait`) run by a worker in this process, with a progress bar,
//! until the queue of the mappings involved is empty. The rate budgets are the same shared
//! ones a server's workers use.

use crate::cli::PushArgs;
use crate::config::Config;
use crate::runtime;
use anyhow::{Context, bail};
use domain::tracker::Subject;
use domain::{FindingGroupId, FindingId, Visibility};
use engine::integrations::enqueue;
use engine::{Job, Worker, WorkerOptions};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeSet;
use std::time::Duration;
use store::jobs::JobStatus;
use store::{PageRequest, findings, groups, products, push_errors};

/// How many of the queued pushes have an outcome: a ticket linked (or deleted), or an error.
async fn settled(app: &engine::App, queued: &[enqueue::Queued]) -> anyhow::Result<usize> {
    let mut c = app.db().conn().await?;
    let findings: Vec<FindingId> = queued.iter().filter_map(|q| match q.subject { Subject::Finding(f) => Some(f), Subject::Group(_) => None }).collect();
    let groups: Vec<FindingGroupId> = queued.iter().filter_map(|q| match q.subject { Subject::Group(g) => Some(g), Subject::Finding(_) => None }).collect();
    let mut done: BTreeSet<(domain::MappingId, Subject)> = store::tickets::for_findings(&mut c, &findings)
        .await?
        .into_iter()
        .chain(store::tickets::for_groups(&mut c, &groups).await?)
        .filter(|t| t.link_state != domain::tracker::LinkState::Creating && t.last_pushed_at.is_some())
        .map(|t| (t.mapping, t.subject))
        .collect();
    let mappings: BTreeSet<domain::MappingId> = queued.iter().map(|q| q.mapping).collect();
    for m in mappings {
        for e in push_errors::all_for(&mut c, m).await? {
            done.insert((e.mapping, e.subject));
        }
    }
    Ok(queued.iter().filter(|q| done.contains(&(q.mapping, q.subject))).count())
}

pub async fn run(config: Config, args: PushArgs) -> anyhow::Result<()> {
    let app = runtime::app(&config).await?;
    let mut subjects: Vec<Subject> = Vec::new();
    let mut c = app.db().conn().await?;
    for f in &args.findings {
        findings::get(&mut c, FindingId(*f)).await.with_context(|| format!("finding {f}"))?;
        subjects.push(Subject::Finding(FindingId(*f)));
    }
    for g in &args.groups {
        groups::get(&mut c, FindingGroupId(*g)).await.with_context(|| format!("finding group {g}"))?;
        subjects.push(Subject::Group(FindingGroupId(*g)));
    }
    if let Some(name) = &args.product {
        let p = products::get_by_name(&mut c, name.trim()).await?.with_context(|| format!("no product named '{name}'"))?;
        let filter = findings::Filter { product: Some(p.id), open: args.open.then_some(true), ..Default::default() };
        let all = findings::list(&mut c, &filter, &Visibility::All, PageRequest::all()).await?;
        subjects.extend(all.results.into_iter().map(|f| Subject::Finding(f.id)));
    }
    drop(c);
    if subjects.is_empty() {
        bail!("name what to push: --finding ID, --group ID or --product NAME");
    }
    let by = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "local".into()));
    let mut tx = app.db().begin().await?;
    let (queued, not_queued) = enqueue::manual(&mut tx, &subjects, &by).await?;
    tx.commit().await?;
    for n in &not_queued {
        out!("Not pushed: {}: {}", n.subject, n.reason);
    }
    if queued.is_empty() {
        bail!("nothing to push: no mapping is assigned to these findings' products");
    }
    let mappings: BTreeSet<i64> = queued.iter().map(|q| q.mapping.0).collect();
    let mapping_ids: Vec<i64> = mappings.iter().copied().collect();
    if args.no_wait {
        out!("Queued {} push(es); a running server's workers will send them.", queued.len());
        return Ok(());
    }

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = Worker::new(
        app.clone(),
        engine::jobs::registry(),
        WorkerOptions { poll_interval: Duration::from_millis(200), ..config.worker_options(config.workers.clamp(1, 8)) },
    );
    let handle = tokio::spawn(worker.run(stopped));
    let bar = ProgressBar::new(queued.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bar:32.green/blue} {pos}/{len} pushes · {msg} · {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    loop {
        let mut c = app.db().conn().await?;
        let counts = store::jobs::counts_by_payload_id(&mut c, engine::jobs::PushTicket::QUEUE, "mapping", &mapping_ids).await?;
        drop(c);
        let waiting: i64 = counts.iter().filter(|(s, _)| matches!(s, JobStatus::Queued | JobStatus::Running)).map(|(_, n)| n).sum();
        bar.set_position(settled(&app, &queued).await? as u64);
        bar.set_message(if waiting > 0 { format!("{waiting} job(s) waiting") } else { "done".into() });
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bar.finish_and_clear();
    let _ = stop.send(true);
    let _ = handle.await;

    let mut c = app.db().conn().await?;
    let mut failed = 0;
    for m in &mapping_ids {
        for e in push_errors::all_for(&mut c, domain::MappingId(*m)).await? {
            if queued.iter().any(|q| q.mapping == e.mapping && q.subject == e.subject) {
                failed += 1;
                out!("Failed: {} in mapping {}: {} ({})", e.subject, e.mapping, e.reason, e.code);
            }
        }
    }
    let tickets = store::tickets::for_findings(
        &mut c,
        &queued.iter().filter_map(|q| match q.subject { Subject::Finding(f) => Some(f), Subject::Group(_) => None }).collect::<Vec<_>>(),
    )
    .await?;
    let group_tickets = store::tickets::for_groups(
        &mut c,
        &queued.iter().filter_map(|q| match q.subject { Subject::Group(g) => Some(g), Subject::Finding(_) => None }).collect::<Vec<_>>(),
    )
    .await?;
    for t in tickets.iter().chain(group_tickets.iter()) {
        if queued.iter().any(|q| q.mapping == t.mapping && q.subject == t.subject) {
            out!("{:<14} {:<28} {}", t.subject.to_string(), t.key.as_deref().unwrap_or("(creating)"), t.url.as_deref().unwrap_or(""));
        }
    }
    out!("Pushed {} ticket(s), {} failed.", queued.len() - failed, failed);
    if failed > 0 {
        bail!("{failed} push(es) failed; see `vulnbridge mapping errors MAPPING`");
    }
    Ok(())
}
