//! What every connector test needs: a client built as the engine builds it, Records as
//! Discover would store them, and a pull collected into one list (checking the batches).

#![allow(dead_code, reason = "each test binary uses part of it")]

use chrono::Utc;
use domain::connector::{DiscoveredRecord, Record, RecordState};
use domain::{ConnectorId, NewFinding, RecordId};
use outbound::{CallError, NoLimits, OutboundPolicy};
use scanners::connectors::{BATCH, PullMode, Pulled, ScannerApi, Setup, client};
use std::sync::Arc;

/// A connector's setup as the engine builds it: `tool` at `location` with these secrets (name,
/// value) and options (a JSON object; anything else means none).
pub fn setup(tool: domain::connector::Tool, location: &str, secrets: &[(&str, &str)], options: serde_json::Value) -> Setup {
    Setup {
        tool,
        location: url::Url::parse(location).unwrap(),
        secrets: secrets.iter().map(|(k, v)| ((*k).to_owned(), secrecy::SecretString::from((*v).to_owned()))).collect(),
        options: options.as_object().cloned().unwrap_or_default(),
    }
}

/// The client of `setup`, without rate limits.
pub fn connect(setup: Setup) -> Arc<dyn ScannerApi> {
    client(setup, Arc::new(NoLimits), &OutboundPolicy::default()).unwrap()
}

/// A mapped Record of what Discover found, never synced.
pub fn record(found: &DiscoveredRecord) -> Record {
    Record {
        id: RecordId(1),
        connector: ConnectorId(1),
        external_id: found.external_id.clone(),
        name: found.name.clone(),
        state: RecordState::Good,
        product: None,
        metadata: found.metadata.clone(),
        first_discovered_at: Utc::now(),
        last_discovered_at: Utc::now(),
        finalized_by: None,
        finalized_at: None,
        syncs: 0,
        cursor: None,
        last_synced_at: None,
    }
}

/// A Record of this external id (its name the same).
pub fn record_of(id: &str) -> Record {
    record(&DiscoveredRecord { external_id: id.to_owned(), name: id.to_owned(), metadata: serde_json::json!({}) })
}

/// The discovered Record named `name`.
pub async fn record_named(api: &Arc<dyn ScannerApi>, name: &str) -> Record {
    let found = api.discover().await.unwrap();
    record(found.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no record {name}")))
}

/// Pulls a Record, collecting what the client sent (each batch non-empty and at most
/// [`BATCH`]).
pub async fn pull(api: &Arc<dyn ScannerApi>, r: &Record, mode: PullMode) -> Result<(Pulled, Vec<NewFinding>), CallError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<NewFinding>>(4);
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(batch) = rx.recv().await {
            assert!(!batch.is_empty() && batch.len() <= BATCH, "a batch of {}", batch.len());
            all.extend(batch);
        }
        all
    });
    let pulled = api.pull(r, mode, &tx).await;
    drop(tx);
    let all = collector.await.unwrap();
    pulled.map(|p| (p, all))
}
