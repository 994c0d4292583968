//! `sync`: a connector pulls N findings from a scanner simulator and imports them, through the
//! same Discover and Sync code the worker runs. Reports the time of the first Sync (everything
//! new), of an unchanged incremental Sync and of an unchanged full Sync, with the requests the
//! simulator served and this process's peak memory.

use anyhow::Context;
use domain::connector::{ConnectorSettings, Tool};
use engine::connectors::configure::{self, ConnectorPatch, NewConnectorInput};
use engine::connectors::{discover, sync};
use secrets::SecretString;
use std::time::Instant;

pub struct Options {
    pub tool: Tool,
    pub findings: usize,
    pub records: usize,
    /// Call the simulator without the connector's rate budget: what the pull and the import
    /// cost when the tool does not pace them.
    pub no_rate_limit: bool,
}

pub async fn run(app: &engine::App, backend: &str, o: &Options) -> anyhow::Result<()> {
    anyhow::ensure!(o.records > 0 && o.findings >= o.records, "--findings must be at least --records (and that at least 1)");
    let per_record = o.findings / o.records;
    let started = Instant::now();
    let sim = simulators::scanners::generate(o.tool, o.records, per_record).await.context("starting the simulator")?;
    let seeded = started.elapsed().as_secs_f64();
    let settings = ConnectorSettings { discover_every_minutes: 0, sync_every_minutes: 0, auto_map: true, options: sim.options(), ..Default::default() };
    let input = NewConnectorInput {
        tool: o.tool,
        label: format!("{} (bench)", o.tool.label()),
        location: sim.location(),
        secrets: sim.secrets().into_iter().map(|(k, v)| (k.to_owned(), SecretString::from(v))).collect(),
        settings: settings.clone(),
    };
    let mut tx = app.db().begin().await?;
    let connector = configure::create(app, &mut tx, input).await?;
    tx.commit().await?;
    let client = if o.no_rate_limit {
        let setup = scanners::connectors::Setup {
            tool: o.tool,
            location: url::Url::parse(&sim.location())?,
            secrets: sim.secrets().into_iter().map(|(k, v)| (k.to_owned(), SecretString::from(v))).collect(),
            options: sim.options(),
        };
        scanners::connectors::client(setup, std::sync::Arc::new(outbound::NoLimits), &outbound::OutboundPolicy::default())?
    } else {
        app.scanners().get(app, &connector).await?
    };

    let t = Instant::now();
    let found = client.discover().await?;
    let d = discover::apply(app, &connector, &found).await?;
    println!(
        "{}{} on {backend}: {} findings in {} {}s (simulator seeded in {seeded:.1} s); Discover: {} records, {} auto-mapped, {:.2} s",
        o.tool.label(),
        if o.no_rate_limit { " (no rate budget)" } else { "" },
        per_record * o.records,
        o.records,
        o.tool.record_kind(),
        d.found,
        d.auto_mapped,
        t.elapsed().as_secs_f64()
    );

    timed_sync(app, &connector, &client, sim.as_ref(), "first Sync (all new)").await?;
    timed_sync(app, &connector, &client, sim.as_ref(), "Sync, nothing changed").await?;
    // Every Sync a full pull from here on: unchanged, it closes nothing and updates nothing.
    let mut tx = app.db().begin().await?;
    let connector = configure::update(app, &mut tx, connector.id, ConnectorPatch { settings: Some(ConnectorSettings { full_sync_every: 1, ..settings }), ..Default::default() }).await?;
    tx.commit().await?;
    timed_sync(app, &connector, &client, sim.as_ref(), "full Sync, nothing changed").await
}

/// One Sync, timed, as one line.
async fn timed_sync(
    app: &engine::App,
    connector: &domain::connector::Connector,
    client: &std::sync::Arc<dyn scanners::connectors::ScannerApi>,
    sim: &dyn simulators::scanners::ScannerSim,
    what: &str,
) -> anyhow::Result<()> {
    sim.requests().reset();
    let t = Instant::now();
    let s = sync::run(app, connector, client.clone()).await?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(s.failed_records == 0, "{} records failed: {}", s.failed_records, s.errors.join("; "));
    println!(
        "  {what:<28} {secs:>7.1} s  {:>8.0} findings/s  pulled {:>7}  created {:>7}  closed {:>3}  untouched {:>7}  {} requests  peak RSS {:.0} MiB",
        s.findings_pulled as f64 / secs.max(1e-9),
        s.findings_pulled,
        s.created,
        s.closed,
        s.untouched,
        sim.requests().total(),
        crate::peak_rss_mib()
    );
    Ok(())
}
