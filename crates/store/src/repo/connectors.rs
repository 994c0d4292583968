//! Connectors, their Records and their operations log.
//!
//! Schedules: `next_discover_at` / `next_sync_at` say when each scheduled operation is due. A
//! replica takes a due one with [`take_due`], which moves the time forward in one guarded
//! statement: of several replicas looking at once, exactly one gets each run.

use crate::error::on_unique;
use crate::query::{PageRequest, QueryBuf};
use crate::repo::{fetch_page, parse_stored};
use crate::{AsConn, Page, Result, StoreError, now, on_conn};
use chrono::{DateTime, Utc};
use domain::connector::{
    Connector, ConnectorSettings, DiscoveredRecord, Operation, OperationKind, OperationStatus, OperationTrigger,
    Record, RecordState, Tool,
};
use domain::{ConnectorId, OperationId, ProductId, RecordId};
use secrets::Sealed;
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct ConnectorRow {
    id: i64,
    tool: String,
    label: String,
    location: String,
    settings: Json<ConnectorSettings>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const CONNECTOR_COLUMNS: &str = "id, tool, label, location, settings, created_at, updated_at";

impl TryFrom<ConnectorRow> for Connector {
    type Error = StoreError;
    fn try_from(r: ConnectorRow) -> Result<Connector> {
        Ok(Connector {
            id: ConnectorId(r.id),
            tool: parse_stored("connectors", "tool", &r.tool, Tool::parse)?,
            label: r.label,
            location: r.location,
            settings: r.settings.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn label_taken(label: &str) -> String {
    format!("a connector labelled '{label}' already exists")
}

pub struct NewConnector {
    pub tool: Tool,
    pub label: String,
    pub location: String,
    pub secrets: Sealed,
    pub settings: ConnectorSettings,
}

/// Creates a connector, its schedules due at once (a first Discover, then Syncs).
pub async fn create(c: &mut impl AsConn, new: NewConnector) -> Result<Connector> {
    let t = now();
    let discover = (new.settings.discover_every_minutes > 0).then_some(t);
    let sync = (new.settings.sync_every_minutes > 0).then_some(t);
    let row: ConnectorRow = on_conn!(c, |conn| sqlx::query_as(
        "INSERT INTO connectors (tool, label, location, secrets, settings, next_discover_at, next_sync_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         RETURNING id, tool, label, location, settings, created_at, updated_at"
    )
    .bind(new.tool.as_str())
    .bind(&new.label)
    .bind(&new.location)
    .bind(new.secrets.as_stored())
    .bind(Json(&new.settings))
    .bind(discover)
    .bind(sync)
    .bind(t)
    .fetch_one(conn)
    .await)
    .map_err(on_unique("label", label_taken(&new.label)))?;
    row.try_into()
}

pub async fn get(c: &mut impl AsConn, id: ConnectorId) -> Result<Connector> {
    let mut q = QueryBuf::new(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<ConnectorRow>(c).await?.ok_or_else(|| StoreError::not_found("connector", id))?.try_into()
}

pub async fn get_by_label(c: &mut impl AsConn, label: &str) -> Result<Option<Connector>> {
    let mut q = QueryBuf::new(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE lower(label) = lower("));
    q.bind(label.trim()).push(")");
    q.fetch_optional::<ConnectorRow>(c).await?.map(Connector::try_from).transpose()
}

pub async fn list(c: &mut impl AsConn) -> Result<Vec<Connector>> {
    let q = QueryBuf::new(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors ORDER BY lower(label), id"));
    q.fetch_all::<ConnectorRow>(c).await?.into_iter().map(Connector::try_from).collect()
}

/// The sealed secrets, opened by the engine just before use.
pub async fn secrets(c: &mut impl AsConn, id: ConnectorId) -> Result<Sealed> {
    let mut q = QueryBuf::new("SELECT secrets FROM connectors WHERE id = ");
    q.bind(id.0);
    let s: Option<(String,)> = q.fetch_optional(c).await?;
    s.map(|(s,)| Sealed::from_stored(s)).ok_or_else(|| StoreError::not_found("connector", id))
}

#[derive(Default)]
pub struct ConnectorChanges {
    pub label: Option<String>,
    pub location: Option<String>,
    pub secrets: Option<Sealed>,
    pub settings: Option<ConnectorSettings>,
}

/// Changes a connector; new schedules take effect from now.
pub async fn update(c: &mut impl AsConn, id: ConnectorId, ch: ConnectorChanges) -> Result<Connector> {
    let t = now();
    let mut q = QueryBuf::new("UPDATE connectors SET updated_at = ");
    q.bind(t);
    if let Some(l) = &ch.label {
        q.push(", label = ").bind(l.as_str());
    }
    if let Some(l) = &ch.location {
        q.push(", location = ").bind(l.as_str());
    }
    if let Some(s) = &ch.secrets {
        q.push(", secrets = ").bind(s.as_stored());
    }
    if let Some(s) = &ch.settings {
        q.push(", settings = ").bind(serde_json::to_value(s).unwrap_or_default());
        q.push(", next_discover_at = ").bind(domain::connector::next_run(t, s.discover_every_minutes));
        q.push(", next_sync_at = ").bind(domain::connector::next_run(t, s.sync_every_minutes));
    }
    q.push(" WHERE id = ").bind(id.0);
    let label = ch.label.clone().unwrap_or_default();
    if q.execute(c).await.map_err(on_unique("label", label_taken(&label)))? == 0 {
        return Err(StoreError::not_found("connector", id));
    }
    get(c, id).await
}

/// Deletes a connector with its Records and operations; the findings it imported stay.
pub async fn delete(c: &mut impl AsConn, id: ConnectorId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM connectors WHERE id = $1").bind(id.0).execute(conn).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("connector", id));
    }
    Ok(())
}

/// Takes a due scheduled operation: moves its next time to `next` if it is due at `at`.
/// `true` for exactly one of several callers racing for the same run.
pub async fn take_due(c: &mut impl AsConn, id: ConnectorId, kind: OperationKind, at: DateTime<Utc>, next: Option<DateTime<Utc>>) -> Result<bool> {
    let sql = match kind {
        OperationKind::Discover => "UPDATE connectors SET next_discover_at = $3 WHERE id = $1 AND next_discover_at <= $2",
        OperationKind::Sync => "UPDATE connectors SET next_sync_at = $3 WHERE id = $1 AND next_sync_at <= $2",
    };
    let n = on_conn!(c, |conn| sqlx::query(sql).bind(id.0).bind(at).bind(next).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Connectors with a scheduled operation due at `at`: `(connector, kind)`.
pub async fn due(c: &mut impl AsConn, at: DateTime<Utc>) -> Result<Vec<(Connector, OperationKind)>> {
    let mut out = Vec::new();
    for (kind, column) in [(OperationKind::Discover, "next_discover_at"), (OperationKind::Sync, "next_sync_at")] {
        let mut q = QueryBuf::new(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE {column} <= "));
        q.bind(at).push(" ORDER BY id");
        for row in q.fetch_all::<ConnectorRow>(c).await? {
            out.push((Connector::try_from(row)?, kind));
        }
    }
    Ok(out)
}

// ---- Records ----

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    connector_id: i64,
    external_id: String,
    name: String,
    state: String,
    product_id: Option<i64>,
    metadata: Json<serde_json::Value>,
    first_discovered_at: DateTime<Utc>,
    last_discovered_at: DateTime<Utc>,
    finalized_by: Option<String>,
    finalized_at: Option<DateTime<Utc>>,
    syncs: i32,
    sync_cursor: Option<String>,
    last_synced_at: Option<DateTime<Utc>>,
}

const RECORD_COLUMNS: &str = "id, connector_id, external_id, name, state, product_id, metadata, first_discovered_at, \
    last_discovered_at, finalized_by, finalized_at, syncs, sync_cursor, last_synced_at";

impl TryFrom<RecordRow> for Record {
    type Error = StoreError;
    fn try_from(r: RecordRow) -> Result<Record> {
        Ok(Record {
            id: RecordId(r.id),
            connector: ConnectorId(r.connector_id),
            external_id: r.external_id,
            name: r.name,
            state: parse_stored("connector_records", "state", &r.state, RecordState::parse)?,
            product: r.product_id.map(ProductId),
            metadata: r.metadata.0,
            first_discovered_at: r.first_discovered_at,
            last_discovered_at: r.last_discovered_at,
            finalized_by: r.finalized_by,
            finalized_at: r.finalized_at,
            syncs: r.syncs,
            cursor: r.sync_cursor,
            last_synced_at: r.last_synced_at,
        })
    }
}

/// A new Record (state `new`, or `good` when mapped at once by auto-map).
pub async fn create_record(c: &mut impl AsConn, connector: ConnectorId, found: &DiscoveredRecord, product: Option<ProductId>, by: Option<&str>) -> Result<Record> {
    let t = now();
    let state = if product.is_some() { RecordState::Good } else { RecordState::New };
    let row: RecordRow = on_conn!(c, |conn| sqlx::query_as(
        "INSERT INTO connector_records (connector_id, external_id, name, state, product_id, metadata, first_discovered_at, last_discovered_at,
                                        finalized_by, finalized_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)
         RETURNING id, connector_id, external_id, name, state, product_id, metadata, first_discovered_at, last_discovered_at,
                   finalized_by, finalized_at, syncs, sync_cursor, last_synced_at"
    )
    .bind(connector.0)
    .bind(&found.external_id)
    .bind(&found.name)
    .bind(state.as_str())
    .bind(product.map(|p| p.0))
    .bind(Json(&found.metadata))
    .bind(t)
    .bind(by)
    .bind(by.map(|_| t))
    .fetch_one(conn)
    .await)
    .map_err(on_unique("external_id", format!("the connector already has a record '{}'", found.external_id)))?;
    row.try_into()
}

/// A Record seen again: name and metadata refreshed, state set.
pub async fn refresh_record(c: &mut impl AsConn, id: RecordId, found: &DiscoveredRecord, state: RecordState) -> Result<()> {
    on_conn!(c, |conn| sqlx::query(
        "UPDATE connector_records SET name = $2, metadata = $3, state = $4, last_discovered_at = $5 WHERE id = $1"
    )
    .bind(id.0)
    .bind(&found.name)
    .bind(Json(&found.metadata))
    .bind(state.as_str())
    .bind(now())
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Sets a Record's state (`missing`, `stale`…), leaving the rest.
pub async fn set_record_state(c: &mut impl AsConn, id: RecordId, state: RecordState) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE connector_records SET state = $2 WHERE id = $1")
        .bind(id.0)
        .bind(state.as_str())
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// A person's decision about a Record: mapped to a product (`good`), ignored, or restored
/// (`new`/`good` by whether it is mapped).
pub async fn decide_record(c: &mut impl AsConn, id: RecordId, state: RecordState, product: Option<ProductId>, by: &str) -> Result<Record> {
    let n = on_conn!(c, |conn| sqlx::query(
        "UPDATE connector_records SET state = $2, product_id = $3, finalized_by = $4, finalized_at = $5 WHERE id = $1"
    )
    .bind(id.0)
    .bind(state.as_str())
    .bind(product.map(|p| p.0))
    .bind(by)
    .bind(now())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("record", id));
    }
    get_record(c, id).await
}

/// After a Sync of a Record: the count, the cursor for the next incremental pull.
pub async fn record_synced(c: &mut impl AsConn, id: RecordId, cursor: Option<&str>, at: DateTime<Utc>) -> Result<()> {
    on_conn!(c, |conn| sqlx::query(
        "UPDATE connector_records SET syncs = syncs + 1, sync_cursor = COALESCE($2, sync_cursor), last_synced_at = $3 WHERE id = $1"
    )
    .bind(id.0)
    .bind(cursor)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn get_record(c: &mut impl AsConn, id: RecordId) -> Result<Record> {
    let mut q = QueryBuf::new(&format!("SELECT {RECORD_COLUMNS} FROM connector_records WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<RecordRow>(c).await?.ok_or_else(|| StoreError::not_found("record", id))?.try_into()
}

/// Deletes a Record (it comes back at the next Discover unless the tool stops reporting it);
/// its findings stay.
pub async fn delete_record(c: &mut impl AsConn, id: RecordId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM connector_records WHERE id = $1").bind(id.0).execute(conn).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("record", id));
    }
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    pub connector: Option<ConnectorId>,
    pub state: Option<RecordState>,
    pub product: Option<ProductId>,
    /// Only mapped (`true`) or unmapped (`false`) Records.
    pub mapped: Option<bool>,
}

pub async fn list_records(c: &mut impl AsConn, f: &RecordFilter, page: PageRequest) -> Result<Page<Record>> {
    let (count, rows) = fetch_page::<RecordRow>(
        c,
        RECORD_COLUMNS,
        |q| {
            q.push(" FROM connector_records WHERE 1 = 1");
            if let Some(x) = f.connector {
                q.push(" AND connector_id = ").bind(x.0);
            }
            if let Some(s) = f.state {
                q.push(" AND state = ").bind(s.as_str());
            }
            if let Some(p) = f.product {
                q.push(" AND product_id = ").bind(p.0);
            }
            match f.mapped {
                Some(true) => {
                    q.push(" AND product_id IS NOT NULL");
                }
                Some(false) => {
                    q.push(" AND product_id IS NULL");
                }
                None => {}
            }
        },
        "connector_id, lower(name), id",
        page,
    )
    .await?;
    Ok(Page { count, results: rows.into_iter().map(Record::try_from).collect::<Result<_>>()? })
}

/// Every Record of a connector, with whether its Product still exists.
pub async fn records_with_products(c: &mut impl AsConn, connector: ConnectorId) -> Result<Vec<(Record, bool)>> {
    let all = list_records(c, &RecordFilter { connector: Some(connector), ..Default::default() }, PageRequest::all()).await?.results;
    let mut out = Vec::with_capacity(all.len());
    for r in all {
        // `product_id` is set to NULL when the product is deleted: a mapped Record whose
        // product is NULL lost it.
        let exists = r.product.is_some();
        out.push((r, exists));
    }
    Ok(out)
}

// ---- Operations ----

#[derive(sqlx::FromRow)]
struct OperationRow {
    id: i64,
    connector_id: i64,
    kind: String,
    status: String,
    trigger: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    duration_ms: Option<i64>,
    counts: Json<serde_json::Value>,
    error: Option<String>,
}

const OPERATION_COLUMNS: &str = "id, connector_id, kind, status, trigger, created_at, started_at, finished_at, duration_ms, counts, error";

impl TryFrom<OperationRow> for Operation {
    type Error = StoreError;
    fn try_from(r: OperationRow) -> Result<Operation> {
        Ok(Operation {
            id: OperationId(r.id),
            connector: ConnectorId(r.connector_id),
            kind: parse_stored("connector_operations", "kind", &r.kind, OperationKind::parse)?,
            status: parse_stored("connector_operations", "status", &r.status, OperationStatus::parse)?,
            trigger: parse_stored("connector_operations", "trigger", &r.trigger, OperationTrigger::parse)?,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
            counts: r.counts.0,
            error: r.error,
        })
    }
}

/// A new operation, pending until a worker starts it.
pub async fn create_operation(c: &mut impl AsConn, connector: ConnectorId, kind: OperationKind, trigger: OperationTrigger) -> Result<Operation> {
    let row: OperationRow = on_conn!(c, |conn| sqlx::query_as(
        "INSERT INTO connector_operations (connector_id, kind, status, trigger, created_at) VALUES ($1, $2, 'pending', $3, $4)
         RETURNING id, connector_id, kind, status, trigger, created_at, started_at, finished_at, duration_ms, counts, error"
    )
    .bind(connector.0)
    .bind(kind.as_str())
    .bind(trigger.as_str())
    .bind(now())
    .fetch_one(conn)
    .await)?;
    row.try_into()
}

/// Starts a pending operation; `false` while another one of its kind runs for the connector
/// (the caller waits and tries again).
pub async fn start_operation(c: &mut impl AsConn, id: OperationId, at: DateTime<Utc>) -> Result<bool> {
    let r = on_conn!(c, |conn| sqlx::query(
        "UPDATE connector_operations SET status = 'running', started_at = $2 WHERE id = $1 AND status = 'pending'"
    )
    .bind(id.0)
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()));
    match r {
        Ok(n) => Ok(n == 1),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Records how a running operation ended.
pub async fn finish_operation(c: &mut impl AsConn, id: OperationId, ok: bool, counts: &serde_json::Value, error: Option<&str>) -> Result<Operation> {
    let t = now();
    let op = get_operation(c, id).await?;
    let duration = op.started_at.map(|s| (t - s).num_milliseconds());
    on_conn!(c, |conn| sqlx::query(
        "UPDATE connector_operations SET status = $2, finished_at = $3, duration_ms = $4, counts = $5, error = $6 WHERE id = $1"
    )
    .bind(id.0)
    .bind(if ok { "succeeded" } else { "failed" })
    .bind(t)
    .bind(duration)
    .bind(Json(counts))
    .bind(error)
    .execute(conn)
    .await
    .map(|_| ()))?;
    get_operation(c, id).await
}

/// Operations left `running` by a worker that died (its job's lease expired and another
/// worker picked the job up): put back to pending so that the job can start them again.
pub async fn reset_operation(c: &mut impl AsConn, id: OperationId) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE connector_operations SET status = 'pending', started_at = NULL WHERE id = $1 AND status = 'running'")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn get_operation(c: &mut impl AsConn, id: OperationId) -> Result<Operation> {
    let mut q = QueryBuf::new(&format!("SELECT {OPERATION_COLUMNS} FROM connector_operations WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<OperationRow>(c).await?.ok_or_else(|| StoreError::not_found("operation", id))?.try_into()
}

#[derive(Clone, Debug, Default)]
pub struct OperationFilter {
    pub connector: Option<ConnectorId>,
    pub kind: Option<OperationKind>,
    pub status: Option<OperationStatus>,
}

/// The operations log, newest first.
pub async fn list_operations(c: &mut impl AsConn, f: &OperationFilter, page: PageRequest) -> Result<Page<Operation>> {
    let (count, rows) = fetch_page::<OperationRow>(
        c,
        OPERATION_COLUMNS,
        |q| {
            q.push(" FROM connector_operations WHERE 1 = 1");
            if let Some(x) = f.connector {
                q.push(" AND connector_id = ").bind(x.0);
            }
            if let Some(k) = f.kind {
                q.push(" AND kind = ").bind(k.as_str());
            }
            if let Some(s) = f.status {
                q.push(" AND status = ").bind(s.as_str());
            }
        },
        "id DESC",
        page,
    )
    .await?;
    Ok(Page { count, results: rows.into_iter().map(Operation::try_from).collect::<Result<_>>()? })
}
