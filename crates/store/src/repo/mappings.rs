//! Issue Tracker Mappings: where an instance's tickets go and how fields map. The whole
//! configuration is one JSON column (`domain::tracker::MappingConfig`), checked by the caller.

use crate::error::on_unique;
use crate::query::QueryBuf;
use crate::repo::parse_stored;
use crate::{AsConn, Result, StoreError, now, on_conn};
use chrono::{DateTime, Utc};
use domain::tracker::{Mapping, MappingConfig, Vendor};
use domain::{InstanceId, MappingId, ValidationError};
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    instance_id: i64,
    vendor: String,
    label: String,
    config: Json<MappingConfig>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT m.id, m.instance_id, i.vendor, m.label, m.config, m.created_at, m.updated_at
     FROM tracker_mappings m JOIN integration_instances i ON i.id = m.instance_id";

impl TryFrom<Row> for Mapping {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Mapping> {
        Ok(Mapping {
            id: MappingId(r.id),
            instance: InstanceId(r.instance_id),
            vendor: parse_stored("integration_instances", "vendor", &r.vendor, Vendor::parse)?,
            label: r.label,
            config: r.config.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn label_taken(label: &str) -> String {
    format!("this instance already has a mapping labelled '{label}'")
}

async fn check_vendor(c: &mut impl AsConn, instance: InstanceId, config: &MappingConfig) -> Result<()> {
    let inst = super::instances::get(c, instance).await.map_err(|e| match e {
        StoreError::NotFound { .. } => StoreError::Invalid(ValidationError::new("instance", format!("integration instance {instance} not found"))),
        other => other,
    })?;
    if inst.vendor != config.target.vendor() {
        return Err(StoreError::Invalid(ValidationError::new(
            "target.vendor",
            format!("instance '{}' is a {} instance; the target is for {}", inst.label, inst.vendor.label(), config.target.vendor().label()),
        )));
    }
    Ok(())
}

/// Creates a mapping. The caller has run `MappingConfig::check`.
pub async fn create(c: &mut impl AsConn, instance: InstanceId, label: &str, config: &MappingConfig) -> Result<Mapping> {
    check_vendor(c, instance, config).await?;
    let t = now();
    let id: i64 = on_conn!(c, |conn| sqlx::query_scalar(
        "INSERT INTO tracker_mappings (instance_id, label, config, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING id"
    )
    .bind(instance.0)
    .bind(label)
    .bind(Json(config))
    .bind(t)
    .fetch_one(conn)
    .await)
    .map_err(on_unique("label", label_taken(label)))?;
    get(c, MappingId(id)).await
}

pub async fn get(c: &mut impl AsConn, id: MappingId) -> Result<Mapping> {
    let mut q = QueryBuf::new(SELECT);
    q.push(" WHERE m.id = ").bind(id.0);
    q.fetch_optional::<Row>(c)
        .await?
        .ok_or_else(|| StoreError::not_found("mapping", id))?
        .try_into()
}

/// A mapping by its label within an instance, ignoring case.
pub async fn get_by_label(c: &mut impl AsConn, instance: InstanceId, label: &str) -> Result<Option<Mapping>> {
    let mut q = QueryBuf::new(SELECT);
    q.push(" WHERE m.instance_id = ").bind(instance.0).push(" AND lower(m.label) = lower(").bind(label.trim()).push(")");
    q.fetch_optional::<Row>(c).await?.map(Mapping::try_from).transpose()
}

/// The mappings of one instance, or of all.
pub async fn list(c: &mut impl AsConn, instance: Option<InstanceId>) -> Result<Vec<Mapping>> {
    let mut q = QueryBuf::new(SELECT);
    if let Some(i) = instance {
        q.push(" WHERE m.instance_id = ").bind(i.0);
    }
    q.push(" ORDER BY m.instance_id, lower(m.label), m.id");
    q.fetch_all::<Row>(c).await?.into_iter().map(Mapping::try_from).collect()
}

/// Replaces a mapping's label and configuration.
pub async fn update(c: &mut impl AsConn, id: MappingId, label: &str, config: &MappingConfig) -> Result<Mapping> {
    let before = get(c, id).await?;
    check_vendor(c, before.instance, config).await?;
    let n = on_conn!(c, |conn| sqlx::query(
        "UPDATE tracker_mappings SET label = $2, config = $3, updated_at = $4 WHERE id = $1"
    )
    .bind(id.0)
    .bind(label)
    .bind(Json(config))
    .bind(now())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(on_unique("label", label_taken(label)))?;
    if n == 0 {
        return Err(StoreError::not_found("mapping", id));
    }
    get(c, id).await
}

/// Deletes a mapping with its assignments, tickets and errors (the remote tickets stay).
pub async fn delete(c: &mut impl AsConn, id: MappingId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM tracker_mappings WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("mapping", id));
    }
    Ok(())
}
