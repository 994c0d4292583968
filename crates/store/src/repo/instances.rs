//! Integration Instances: connections to trackers. Credentials and the webhook secret are
//! stored sealed (encrypted by the caller with `secrets::Cipher`); reads of the public view
//! never touch them.

use crate::error::on_unique;
use crate::query::QueryBuf;
use crate::repo::parse_stored;
use crate::{AsConn, Result, StoreError, now, on_conn};
use chrono::{DateTime, Utc};
use domain::tracker::{Instance, InstanceSettings, Vendor};
use domain::InstanceId;
use secrets::Sealed;
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    vendor: String,
    label: String,
    location: String,
    settings: Json<InstanceSettings>,
    account: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, vendor, label, location, settings, account, created_at, updated_at";

impl TryFrom<Row> for Instance {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Instance> {
        Ok(Instance {
            id: InstanceId(r.id),
            vendor: parse_stored("integration_instances", "vendor", &r.vendor, Vendor::parse)?,
            label: r.label,
            location: r.location,
            settings: r.settings.0,
            account: r.account,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A new instance, its secrets already sealed.
pub struct NewInstance {
    pub vendor: Vendor,
    pub label: String,
    pub location: String,
    pub credentials: Sealed,
    pub webhook_secret: Sealed,
    pub settings: InstanceSettings,
}

fn label_taken(label: &str) -> String {
    format!("an integration instance labelled '{label}' already exists")
}

pub async fn create(c: &mut impl AsConn, new: NewInstance) -> Result<Instance> {
    let t = now();
    let row: Row = on_conn!(c, |conn| sqlx::query_as(
        "INSERT INTO integration_instances (vendor, label, location, credentials, webhook_secret, settings, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         RETURNING id, vendor, label, location, settings, account, created_at, updated_at"
    )
    .bind(new.vendor.as_str())
    .bind(&new.label)
    .bind(&new.location)
    .bind(new.credentials.as_stored())
    .bind(new.webhook_secret.as_stored())
    .bind(Json(&new.settings))
    .bind(t)
    .fetch_one(conn)
    .await)
    .map_err(on_unique("label", label_taken(&new.label)))?;
    row.try_into()
}

pub async fn get(c: &mut impl AsConn, id: InstanceId) -> Result<Instance> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM integration_instances WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<Row>(c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration instance", id))?
        .try_into()
}

/// By label, ignoring case.
pub async fn get_by_label(c: &mut impl AsConn, label: &str) -> Result<Option<Instance>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM integration_instances WHERE lower(label) = lower("));
    q.bind(label.trim()).push(")");
    q.fetch_optional::<Row>(c).await?.map(Instance::try_from).transpose()
}

/// Every instance, by label. (An installation has a handful.)
pub async fn list(c: &mut impl AsConn) -> Result<Vec<Instance>> {
    let q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM integration_instances ORDER BY lower(label), id"));
    q.fetch_all::<Row>(c).await?.into_iter().map(Instance::try_from).collect()
}

/// The sealed credentials and webhook secret, for the engine to open just before use.
pub async fn secrets(c: &mut impl AsConn, id: InstanceId) -> Result<(Sealed, Sealed)> {
    let mut q = QueryBuf::new("SELECT credentials, webhook_secret FROM integration_instances WHERE id = ");
    q.bind(id.0);
    let (creds, secret): (String, String) = q
        .fetch_optional(c)
        .await?
        .ok_or_else(|| StoreError::not_found("integration instance", id))?;
    Ok((Sealed::from_stored(creds), Sealed::from_stored(secret)))
}

/// Changes to an instance; `None` keeps a value.
#[derive(Default)]
pub struct InstanceChanges {
    pub label: Option<String>,
    pub location: Option<String>,
    pub credentials: Option<Sealed>,
    pub webhook_secret: Option<Sealed>,
    pub settings: Option<InstanceSettings>,
}

pub async fn update(c: &mut impl AsConn, id: InstanceId, ch: InstanceChanges) -> Result<Instance> {
    let mut q = QueryBuf::new("UPDATE integration_instances SET updated_at = ");
    q.bind(now());
    if let Some(l) = &ch.label {
        q.push(", label = ").bind(l.as_str());
    }
    if let Some(l) = &ch.location {
        q.push(", location = ").bind(l.as_str());
    }
    if let Some(s) = &ch.credentials {
        q.push(", credentials = ").bind(s.as_stored());
    }
    if ch.location.is_some() || ch.credentials.is_some() {
        // A new place or new credentials: what we learnt of the old ones no longer holds.
        // (Once: PostgreSQL refuses a column assigned twice.)
        q.push(", account = NULL, blocked_until = NULL, blocked_reason = NULL");
    }
    if let Some(s) = &ch.webhook_secret {
        q.push(", webhook_secret = ").bind(s.as_stored());
    }
    if let Some(s) = &ch.settings {
        q.push(", settings = ").bind(serde_json::to_value(s).unwrap_or_default());
    }
    q.push(" WHERE id = ").bind(id.0);
    let label = ch.label.clone().unwrap_or_default();
    let n = q.execute(c).await.map_err(on_unique("label", label_taken(&label)))?;
    if n == 0 {
        return Err(StoreError::not_found("integration instance", id));
    }
    get(c, id).await
}

/// Records the tracker account the credentials belong to (from "check connection").
pub async fn set_account(c: &mut impl AsConn, id: InstanceId, account: Option<&str>) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE integration_instances SET account = $2 WHERE id = $1")
        .bind(id.0)
        .bind(account)
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Deletes an instance with its mappings, assignments and tickets (the remote tickets stay).
pub async fn delete(c: &mut impl AsConn, id: InstanceId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM integration_instances WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("integration instance", id));
    }
    Ok(())
}

/// The sealed credentials, locked for a compare-and-swap (an OAuth token refresh) until the
/// transaction ends (PostgreSQL: `FOR UPDATE`; SQLite serialises writers anyway).
pub async fn credentials_for_update(tx: &mut crate::Tx, id: InstanceId) -> Result<Sealed> {
    let sql = match tx.backend() {
        crate::Backend::Postgres => "SELECT credentials FROM integration_instances WHERE id = $1 FOR UPDATE",
        crate::Backend::Sqlite => "SELECT credentials FROM integration_instances WHERE id = $1",
    };
    let sealed: Option<String> = on_conn!(tx, |conn| sqlx::query_scalar(sql).bind(id.0).fetch_optional(conn).await)?;
    sealed.map(Sealed::from_stored).ok_or_else(|| StoreError::not_found("integration instance", id))
}

/// Replaces the sealed credentials in place: the same credentials with fresher OAuth tokens.
/// Unlike `update`, it leaves the instance's `updated_at` (and so its cached client) alone.
pub async fn set_credentials(c: &mut impl AsConn, id: InstanceId, sealed: &Sealed) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE integration_instances SET credentials = $2 WHERE id = $1")
        .bind(id.0)
        .bind(sealed.as_stored())
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}
