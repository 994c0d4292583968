//! A Sync: every mapped Record's findings pulled and reimported into the "Global Connectors"
//! engagement of its Product, one Test per connector (titled by the connector's label).
//! Several Records of a connector may share a Product (two branches, a monorepo's projects):
//! each Record's findings carry its external id as their `service`, which is part of a
//! finding's identity and limits closing, so one Record's sync never closes another's findings.
//!
//! Each Record is its own import, so its own transaction: a tool that fails halfway (a 401, a
//! 429, a truncated page) leaves that Record as it was, and the next Sync pulls it again. A
//! pull is full (every Nth Sync by the connector's settings, or when there is no cursor yet):
//! findings the tool no longer reports are closed; an incremental pull only adds and updates.
//! New and changed findings flow on to the trackers by the assignments' push modes (the import
//! queues those pushes in its transaction).

use crate::App;
use crate::import::{ImportError, ImportOptions, Source, Target};
use domain::connector::{CONNECTORS_ENGAGEMENT, Connector, Record, RecordState};
use domain::{Actor, Role, UserId};
use scanners::connectors::{PullMode, ScannerApi};
use serde::Serialize;
use std::sync::Arc;
use store::connectors::{self, RecordFilter};
use store::PageRequest;

/// What a Sync did, summed over its Records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Synced {
    pub records: usize,
    pub failed_records: usize,
    pub full_pulls: usize,
    pub findings_pulled: u64,
    pub created: i64,
    pub updated: i64,
    pub closed: i64,
    pub reactivated: i64,
    pub untouched: i64,
    pub duplicate: i64,
    /// Why Records failed (redacted), at most a few.
    pub errors: Vec<String>,
}

/// The actor connectors import as: an administrator named after the connector.
fn actor(connector: &Connector) -> Actor {
    Actor { user_id: UserId(0), username: format!("connector:{}", connector.label), global_role: Some(Role::Admin), product_roles: Default::default() }
}

/// Syncs every mapped (`good`) Record of a connector.
pub async fn run(app: &App, connector: &Connector, client: Arc<dyn ScannerApi>) -> anyhow::Result<Synced> {
    let mut c = app.db().conn().await?;
    let records = connectors::list_records(
        &mut c,
        &RecordFilter { connector: Some(connector.id), state: Some(RecordState::Good), ..Default::default() },
        PageRequest::all(),
    )
    .await?
    .results;
    drop(c);
    let mut s = Synced::default();
    for r in records {
        let Some(product) = r.product else {
            // Its product was deleted since the last Discover.
            let mut c = app.db().conn().await?;
            connectors::set_record_state(&mut c, r.id, RecordState::Stale).await?;
            continue;
        };
        s.records += 1;
        match sync_record(app, connector, client.clone(), &r, product).await {
            Ok((full, pulled, counts)) => {
                s.full_pulls += usize::from(full);
                s.findings_pulled += pulled;
                s.created += counts.created;
                s.updated += counts.updated;
                s.closed += counts.closed;
                s.reactivated += counts.reactivated;
                s.untouched += counts.untouched;
                s.duplicate += counts.duplicate;
            }
            Err(e) => {
                s.failed_records += 1;
                let why = domain::redact::redact(&format!("{} '{}': {e:#}", connector.tool.record_kind(), r.name), &[]);
                tracing::warn!(connector = %connector.id, record = %r.id, error = %why, "A record failed to sync.");
                if s.errors.len() < 5 {
                    s.errors.push(why);
                }
            }
        }
    }
    Ok(s)
}

/// Pulls and reimports one Record: `(full pull, findings pulled, what the import did)`.
async fn sync_record(
    app: &App,
    connector: &Connector,
    client: Arc<dyn ScannerApi>,
    record: &Record,
    product: domain::ProductId,
) -> anyhow::Result<(bool, u64, store::imports::ImportCounts)> {
    let full = record.cursor.is_none() || connector.settings.is_full_sync(u32::try_from(record.syncs).unwrap_or(0));
    let mode = match (&record.cursor, full) {
        (Some(cursor), false) => PullMode::Since(cursor.clone()),
        _ => PullMode::Full,
    };
    let target = Target {
        product: Some(product),
        engagement_name: Some(CONNECTORS_ENGAGEMENT.into()),
        test_title: Some(connector.label.clone()),
        ..Default::default()
    };
    let opts = ImportOptions {
        reimport: true,
        auto_create_context: true,
        close_old_findings: Some(mode == PullMode::Full),
        service: Some(record.external_id.clone()),
        ..Default::default()
    };
    // The client sends batches; they are forwarded to the import, which reads as they come.
    // A failed pull is forwarded as an error, so the import writes nothing.
    let (pull_tx, mut pull_rx) = tokio::sync::mpsc::channel(4);
    let (import_tx, import_rx) = tokio::sync::mpsc::channel::<Result<Vec<domain::NewFinding>, ImportError>>(4);
    let r = record.clone();
    let pulling = tokio::spawn(async move {
        let result = client.pull(&r, mode, &pull_tx).await;
        drop(pull_tx);
        result
    });
    let forwarding = tokio::spawn(async move {
        while let Some(batch) = pull_rx.recv().await {
            if import_tx.send(Ok(batch)).await.is_err() {
                break;
            }
        }
        let pulled = pulling.await.map_err(|e| anyhow::anyhow!("the pull stopped: {e}"))?;
        if let Err(e) = &pulled {
            let _ = import_tx.send(Err(ImportError::Internal(format!("the pull failed: {e}")))).await;
        }
        Ok::<_, anyhow::Error>(pulled)
    });
    let imported = crate::import::run_source(app, &actor(connector), connector.tool.scan_type(), &target, &opts, Source::Findings(import_rx), &|_| {}).await;
    let pulled = forwarding.await.map_err(|e| anyhow::anyhow!("the pull stopped: {e}"))??;
    let pulled = pulled.map_err(|e| anyhow::anyhow!("{e}"))?;
    let outcome = imported.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut c = app.db().conn().await?;
    connectors::record_synced(&mut c, record.id, pulled.cursor.as_deref(), store::now()).await?;
    Ok((full, pulled.findings, outcome.import.counts))
}
