//! The demo's connectors: the nine scanner simulators on loopback, a connector for each (the
//! same calls as the API), a Discover, Records mapped to the demo's products (one connector
//! auto-maps), a Sync, and the new findings flowing on to the trackers by the products'
//! assignments.

use anyhow::Context;
use domain::connector::{ConnectorSettings, OperationKind, OperationStatus, OperationTrigger, Record, RecordState, Tool};
use engine::App;
use engine::connectors::configure::{self, ConnectorPatch, NewConnectorInput, RecordDecision};
use secrets::SecretString;
use simulators::scanners::ScannerSim;
use std::time::Duration;
use store::connectors::{self, RecordFilter};
use store::{PageRequest, products};

/// Where each tool's busiest Record goes; `None`: the connector auto-maps every Record to a
/// product of its own name.
const PLAN: [(Tool, Option<&str>); 9] = [
    (Tool::Semgrep, Some("Storefront")),
    (Tool::SonarQube, Some("Storefront")),
    (Tool::BurpSuite, Some("Storefront")),
    (Tool::Snyk, Some("Payments API")),
    (Tool::AwsSecurityHub, Some("Payments API")),
    (Tool::CheckmarxOne, Some("Mobile Backend")),
    (Tool::Probely, Some("Mobile Backend")),
    (Tool::Tenable, Some("Internal Tools")),
    (Tool::DependencyTrack, None),
];

/// The running simulators (they stop when dropped) and what the demo did with them.
pub struct Scanners {
    pub sims: Vec<Box<dyn ScannerSim>>,
    pub lines: Vec<String>,
}

/// Connects, discovers, maps and syncs every scanner. The server's worker must be running
/// (it runs the operations), and the trackers connected first so the synced findings flow on.
pub async fn connect(app: &App) -> anyhow::Result<Scanners> {
    let loopback = "127.0.0.1:0".parse().expect("a loopback address");
    let mut sims = Vec::new();
    let mut lines = vec!["connectors nine scanners discovered, mapped and synced:".to_owned()];
    let tickets_before = tickets(app).await?;
    for (tool, _) in PLAN {
        sims.push(simulators::scanners::start_seeded(tool, loopback).await.with_context(|| format!("starting the {} simulator", tool.label()))?);
    }
    // All nine at once: the server's worker runs their operations side by side.
    let done = futures::future::try_join_all(
        sims.iter().zip(PLAN).map(|(sim, (tool, product))| async move {
            connect_one(app, sim.as_ref(), product).await.with_context(|| format!("the demo's {} connector", tool.label()))
        }),
    )
    .await?;
    let mut totals = (0usize, 0i64);
    for (line, created) in done {
        totals.0 += 1;
        totals.1 += created;
        lines.push(line);
    }
    super::demo_trackers::wait_for_pushes(app, Duration::from_secs(60)).await?;
    let pushed = tickets(app).await? - tickets_before;
    lines.push(format!(
        "             {} findings from {} connectors; {pushed} new tickets pushed on to the trackers by the products' assignments",
        totals.1, totals.0
    ));
    Ok(Scanners { sims, lines })
}

/// One connector: made, checked, discovered, mapped, synced, then put on its schedules.
async fn connect_one(app: &App, sim: &dyn ScannerSim, product: Option<&str>) -> anyhow::Result<(String, i64)> {
    let tool = sim.tool();
    let by_hand = ConnectorSettings { discover_every_minutes: 0, sync_every_minutes: 0, auto_map: product.is_none(), options: sim.options(), ..Default::default() };
    let input = NewConnectorInput {
        tool,
        label: tool.label().to_owned(),
        location: sim.location(),
        secrets: sim.secrets().into_iter().map(|(k, v)| (k.to_owned(), SecretString::from(v))).collect(),
        settings: by_hand.clone(),
    };
    let mut tx = app.db().begin().await?;
    let connector = configure::create(app, &mut tx, input).await?;
    tx.commit().await?;
    let report = app.scanners().get(app, &connector).await?.check().await;
    anyhow::ensure!(report.ok(), "it does not connect: {}", report.failures());

    run(app, connector.id, OperationKind::Discover).await?;
    let mut c = app.db().conn().await?;
    let records = connectors::list_records(&mut c, &RecordFilter { connector: Some(connector.id), ..Default::default() }, PageRequest::all()).await?.results;
    let mapped_to = match product {
        Some(name) => {
            let p = products::get_by_name(&mut c, name).await?.with_context(|| format!("the demo's product {name}"))?;
            let busiest: &Record = records.iter().max_by_key(|r| sim.open_findings(&r.external_id)).context("the simulator reports no records")?;
            configure::decide(&mut c, busiest.id, RecordDecision::Map { product: p.id }, "demo").await?;
            format!("{} → {name}", busiest.name)
        }
        None => format!("each to a product of its name ({})", records.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")),
    };
    drop(c);
    let synced = run(app, connector.id, OperationKind::Sync).await?;
    let created = synced.get("created").and_then(serde_json::Value::as_i64).unwrap_or(0);

    // From now on the server's scheduler runs it: Discover daily, Sync hourly.
    let mut tx = app.db().begin().await?;
    let scheduled = ConnectorSettings { discover_every_minutes: 24 * 60, sync_every_minutes: 60, ..by_hand };
    configure::update(app, &mut tx, connector.id, ConnectorPatch { settings: Some(scheduled), ..Default::default() }).await?;
    tx.commit().await?;

    let mut c = app.db().conn().await?;
    let unmapped = connectors::list_records(&mut c, &RecordFilter { connector: Some(connector.id), state: Some(RecordState::New), ..Default::default() }, PageRequest::all()).await?.count;
    let waiting = if unmapped > 0 { format!(" ({unmapped} more waiting to be mapped)") } else { String::new() };
    let kind = tool.record_kind();
    Ok((format!("             {:<17} {} {kind}(s); {mapped_to}: {created} findings{waiting}", tool.label(), records.len()), created))
}

/// Queues an operation as "Discover" or "Sync" in the UI would, and waits for the server's
/// worker to finish it; returns its counts.
async fn run(app: &App, connector: domain::ConnectorId, kind: OperationKind) -> anyhow::Result<serde_json::Value> {
    let mut tx = app.db().begin().await?;
    let op = configure::run_now(&mut tx, connector, kind, OperationTrigger::Manual).await?;
    tx.commit().await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut c = app.db().conn().await?;
        let now = connectors::get_operation(&mut c, op.id).await?;
        drop(c);
        match now.status {
            OperationStatus::Succeeded => return Ok(now.counts),
            OperationStatus::Failed => anyhow::bail!("its {} failed: {}", kind.as_str(), now.error.unwrap_or_default()),
            OperationStatus::Pending | OperationStatus::Running => {}
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "its {} did not finish within a minute", kind.as_str());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Tickets linked so far, in every tracker.
async fn tickets(app: &App) -> anyhow::Result<i64> {
    let mut c = app.db().conn().await?;
    Ok(store::tickets::list(&mut c, &Default::default(), PageRequest::new(Some(1), None)).await?.count)
}
