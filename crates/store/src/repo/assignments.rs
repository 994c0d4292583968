//! Issue Tracker Assignments: a Product or an Engagement pushing through a mapping, with a
//! push mode and push filters. An engagement's assignment carries its product's id too, so
//! that "the assignments that may apply to this finding" is one indexed query by product.

use crate::error::on_unique;
use crate::query::QueryBuf;
use crate::repo::parse_stored;
use crate::{AsConn, Result, StoreError, now, on_conn};
use chrono::{DateTime, Utc};
use domain::tracker::{Assignment, AssignmentScope, PushFilters, PushMode};
use domain::{AssignmentId, EngagementId, MappingId, ProductId, ValidationError};
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    mapping_id: i64,
    product_id: i64,
    engagement_id: Option<i64>,
    push_mode: String,
    filters: Json<PushFilters>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, mapping_id, product_id, engagement_id, push_mode, filters, created_at, updated_at";

impl TryFrom<Row> for Assignment {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Assignment> {
        Ok(Assignment {
            id: AssignmentId(r.id),
            mapping: MappingId(r.mapping_id),
            product: ProductId(r.product_id),
            engagement: r.engagement_id.map(EngagementId),
            push_mode: parse_stored("tracker_assignments", "push_mode", &r.push_mode, PushMode::parse)?,
            filters: r.filters.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Creates an assignment. The product or engagement must exist (the caller checked the
/// actor may see it).
pub async fn create(
    c: &mut impl AsConn,
    mapping: MappingId,
    scope: AssignmentScope,
    mode: PushMode,
    filters: &PushFilters,
) -> Result<Assignment> {
    let (product, engagement) = match scope {
        AssignmentScope::Product(p) => (p, None),
        AssignmentScope::Engagement(e) => (super::engagements::get(c, e).await?.product, Some(e)),
    };
    let t = now();
    let row: Row = on_conn!(c, |conn| sqlx::query_as(
        "INSERT INTO tracker_assignments (mapping_id, product_id, engagement_id, push_mode, filters, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         RETURNING id, mapping_id, product_id, engagement_id, push_mode, filters, created_at, updated_at"
    )
    .bind(mapping.0)
    .bind(product.0)
    .bind(engagement.map(|e| e.0))
    .bind(mode.as_str())
    .bind(Json(filters))
    .bind(t)
    .fetch_one(conn)
    .await)
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::Invalid(ValidationError::new("mapping", format!("mapping {mapping} not found")))
        }
        _ => on_unique(
            match scope {
                AssignmentScope::Product(_) => "product",
                AssignmentScope::Engagement(_) => "engagement",
            },
            match scope {
                AssignmentScope::Product(p) => format!("product {p} is already assigned to mapping {mapping}"),
                AssignmentScope::Engagement(e) => format!("engagement {e} is already assigned to mapping {mapping}"),
            },
        )(e),
    })?;
    row.try_into()
}

pub async fn get(c: &mut impl AsConn, id: AssignmentId) -> Result<Assignment> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM tracker_assignments WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<Row>(c)
        .await?
        .ok_or_else(|| StoreError::not_found("assignment", id))?
        .try_into()
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub mapping: Option<MappingId>,
    pub product: Option<ProductId>,
    pub engagement: Option<EngagementId>,
}

pub async fn list(c: &mut impl AsConn, f: &Filter) -> Result<Vec<Assignment>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM tracker_assignments WHERE 1 = 1"));
    if let Some(m) = f.mapping {
        q.push(" AND mapping_id = ").bind(m.0);
    }
    if let Some(p) = f.product {
        q.push(" AND product_id = ").bind(p.0);
    }
    if let Some(e) = f.engagement {
        q.push(" AND engagement_id = ").bind(e.0);
    }
    q.push(" ORDER BY mapping_id, product_id, engagement_id, id");
    q.fetch_all::<Row>(c).await?.into_iter().map(Assignment::try_from).collect()
}

/// Every assignment of a product, its engagements' included: what may govern its findings
/// (see `domain::tracker::effective_assignments`).
pub async fn for_product(c: &mut impl AsConn, product: ProductId) -> Result<Vec<Assignment>> {
    list(c, &Filter { product: Some(product), ..Filter::default() }).await
}

pub async fn update(c: &mut impl AsConn, id: AssignmentId, mode: PushMode, filters: &PushFilters) -> Result<Assignment> {
    let n = on_conn!(c, |conn| sqlx::query(
        "UPDATE tracker_assignments SET push_mode = $2, filters = $3, updated_at = $4 WHERE id = $1"
    )
    .bind(id.0)
    .bind(mode.as_str())
    .bind(Json(filters))
    .bind(now())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("assignment", id));
    }
    get(c, id).await
}

pub async fn delete(c: &mut impl AsConn, id: AssignmentId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM tracker_assignments WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("assignment", id));
    }
    Ok(())
}
