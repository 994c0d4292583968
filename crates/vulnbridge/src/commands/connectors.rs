//! `connector` and `record`: connectors from the command line, with the same checks as the
//! API (`engine::connectors::configure`). Discover and Sync run in this process, with a
//! spinner, and print what they did.

use crate::cli::{ConnectorCommand, RecordCommand};
use crate::config::Config;
use crate::runtime;
use anyhow::{Context, bail};
use domain::connector::{Connector, ConnectorSettings, OperationKind, OperationStatus, OperationTrigger, RecordState};
use domain::{ConnectorId, RecordId};
use engine::connectors::configure::{self, NewConnectorInput, RecordDecision};
use indicatif::{ProgressBar, ProgressStyle};
use secrets::SecretString;
use std::collections::BTreeMap;
use std::time::Duration;
use store::connectors::{self, OperationFilter, RecordFilter};
use store::{AsConn, PageRequest};

async fn find(c: &mut impl AsConn, key: &str) -> anyhow::Result<Connector> {
    if let Ok(id) = key.parse::<i64>()
        && let Ok(k) = connectors::get(c, ConnectorId(id)).await
    {
        return Ok(k);
    }
    match connectors::get_by_label(c, key).await? {
        Some(k) => Ok(k),
        None => {
            let known: Vec<String> = connectors::list(c).await?.into_iter().map(|k| format!("'{}'", k.label)).collect();
            bail!("no connector '{key}'{}", if known.is_empty() { " (none yet: `vulnbridge connector add`)".to_owned() } else { format!("; there are {}", known.join(", ")) })
        }
    }
}

fn pairs(flag: &str, raw: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    raw.iter()
        .map(|p| p.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).with_context(|| format!("--{flag} '{p}' is not KEY=VALUE")))
        .collect()
}

/// Runs an operation in this process (a worker for the connectors' queue), waiting for it.
async fn run_and_wait(app: &engine::App, config: &Config, connector: &Connector, kind: OperationKind) -> anyhow::Result<domain::connector::Operation> {
    let mut tx = app.db().begin().await?;
    let op = configure::run_now(&mut tx, connector.id, kind, OperationTrigger::Manual).await?;
    tx.commit().await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = engine::Worker::new(app.clone(), engine::jobs::registry(), engine::WorkerOptions { poll_interval: Duration::from_millis(100), ..config.worker_options(2) });
    let handle = tokio::spawn(worker.run(stopped));
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(ProgressStyle::with_template("{spinner} {msg} · {elapsed}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let done = loop {
        let mut c = app.db().conn().await?;
        let now = connectors::get_operation(&mut c, op.id).await?;
        drop(c);
        spinner.set_message(format!("{} of '{}': {}", kind.as_str(), connector.label, now.status.as_str()));
        if matches!(now.status, OperationStatus::Succeeded | OperationStatus::Failed) {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    spinner.finish_and_clear();
    let _ = stop.send(true);
    let _ = handle.await;
    Ok(done)
}

fn print_operation(op: &domain::connector::Operation) {
    out!(
        "{} {} ({}), {} in {:.1} s",
        op.kind.as_str(),
        op.id,
        op.trigger.as_str(),
        op.status.as_str(),
        op.duration_ms.unwrap_or(0) as f64 / 1000.0
    );
    if let Some(obj) = op.counts.as_object() {
        let parts: Vec<String> = obj.iter().filter(|(k, _)| *k != "errors").map(|(k, v)| format!("{k} {v}")).collect();
        if !parts.is_empty() {
            out!("  {}", parts.join(" · "));
        }
    }
    if let Some(e) = &op.error {
        out!("  error: {e}");
    }
}

pub async fn connector(config: Config, cmd: ConnectorCommand) -> anyhow::Result<()> {
    let app = runtime::app(&config).await?;
    match cmd {
        ConnectorCommand::Add { tool, label, location, secrets, auto_map, discover_every, sync_every, options } => {
            let mut map = BTreeMap::new();
            for (name, var) in pairs("secret", &secrets)? {
                let v = std::env::var(&var).with_context(|| format!("the environment variable {var} (for the secret {name}) is not set"))?;
                map.insert(name, SecretString::from(v.trim().to_owned()));
            }
            let settings = ConnectorSettings {
                auto_map,
                discover_every_minutes: discover_every,
                sync_every_minutes: sync_every,
                options: pairs("option", &options)?.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect(),
                ..ConnectorSettings::default()
            };
            let mut tx = app.db().begin().await?;
            let k = configure::create(&app, &mut tx, NewConnectorInput { tool, label, location, secrets: map, settings }).await?;
            tx.commit().await?;
            out!("Added {} connector '{}' (id {}) at {}.", k.tool.label(), k.label, k.id, k.location);
            let report = app.scanners().get(&app, &k).await?.check().await;
            for c in &report.checks {
                out!("  {} {:<14} {}", if c.ok { "✔" } else { "✘" }, c.name, c.detail);
            }
        }
        ConnectorCommand::List => {
            let mut c = app.db().conn().await?;
            let list = connectors::list(&mut c).await?;
            if list.is_empty() {
                out!("No connectors yet (`vulnbridge connector add`).");
            }
            for k in list {
                let records = connectors::list_records(&mut c, &RecordFilter { connector: Some(k.id), ..Default::default() }, PageRequest::new(Some(1), None)).await?.count;
                out!(
                    "{:>4}  {:<18} {:<24} {:<36} {records} record(s), sync every {} min{}",
                    k.id,
                    k.tool.label(),
                    k.label,
                    k.location,
                    k.settings.sync_every_minutes,
                    if k.settings.auto_map { ", auto-map" } else { "" }
                );
            }
        }
        ConnectorCommand::Check { connector } => {
            let mut c = app.db().conn().await?;
            let k = find(&mut c, &connector).await?;
            drop(c);
            let report = app.scanners().get(&app, &k).await?.check().await;
            for c in &report.checks {
                out!("  {} {:<14} {}", if c.ok { "✔" } else { "✘" }, c.name, c.detail);
            }
            if !report.ok() {
                bail!("the connection check failed");
            }
        }
        ConnectorCommand::Discover { connector } => {
            let mut c = app.db().conn().await?;
            let k = find(&mut c, &connector).await?;
            drop(c);
            let op = run_and_wait(&app, &config, &k, OperationKind::Discover).await?;
            print_operation(&op);
            if op.status == OperationStatus::Failed {
                bail!("the discover failed");
            }
        }
        ConnectorCommand::Sync { connector } => {
            let mut c = app.db().conn().await?;
            let k = find(&mut c, &connector).await?;
            drop(c);
            let op = run_and_wait(&app, &config, &k, OperationKind::Sync).await?;
            print_operation(&op);
            if op.status == OperationStatus::Failed {
                bail!("the sync failed");
            }
        }
        ConnectorCommand::Log { connector } => {
            let mut c = app.db().conn().await?;
            let k = find(&mut c, &connector).await?;
            for op in connectors::list_operations(&mut c, &OperationFilter { connector: Some(k.id), ..Default::default() }, PageRequest::new(Some(50), None)).await?.results {
                print_operation(&op);
            }
        }
        ConnectorCommand::Remove { connector } => {
            let mut c = app.db().conn().await?;
            let k = find(&mut c, &connector).await?;
            connectors::delete(&mut c, k.id).await?;
            out!("Deleted connector '{}' with its records and log; the findings it imported stay.", k.label);
        }
    }
    Ok(())
}

pub async fn record(config: Config, cmd: RecordCommand) -> anyhow::Result<()> {
    let app = runtime::app(&config).await?;
    let by = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "local".into()));
    let mut tx = app.db().begin().await?;
    match cmd {
        RecordCommand::List { connector, state } => {
            let k = find(&mut tx, &connector).await?;
            let state = match state.as_deref() {
                None => None,
                Some(s) => Some(RecordState::parse(s).with_context(|| format!("unknown state '{s}'; use new, good, ignored, stale or missing"))?),
            };
            for r in connectors::list_records(&mut tx, &RecordFilter { connector: Some(k.id), state, ..Default::default() }, PageRequest::all()).await?.results {
                let product = match r.product {
                    Some(p) => store::products::get(&mut tx, p).await.map(|p| p.name).unwrap_or_default(),
                    None => "—".into(),
                };
                out!("{:>5}  {:<8} {:<36} → {:<24} {} sync(s)", r.id, r.state.as_str(), r.name, product, r.syncs);
            }
        }
        RecordCommand::Map { id, product } => {
            let p = store::products::get_by_name(&mut tx, product.trim()).await?.with_context(|| format!("no product named '{product}'"))?;
            let r = configure::decide(&mut tx, RecordId(id), RecordDecision::Map { product: p.id }, &by).await?;
            out!("Record '{}' now syncs into {}.", r.name, p.name);
        }
        RecordCommand::Ignore { id } => {
            let r = configure::decide(&mut tx, RecordId(id), RecordDecision::Ignore, &by).await?;
            out!("Record '{}' is ignored.", r.name);
        }
        RecordCommand::Restore { id } => {
            let r = configure::decide(&mut tx, RecordId(id), RecordDecision::Restore, &by).await?;
            out!("Record '{}' is {}.", r.name, r.state.as_str());
        }
        RecordCommand::Remove { id } => {
            connectors::delete_record(&mut tx, RecordId(id)).await?;
            out!("Deleted record {id}; the findings it brought stay.");
        }
    }
    tx.commit().await?;
    Ok(())
}
