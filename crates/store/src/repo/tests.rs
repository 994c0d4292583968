//! Tests (one stream of results from one tool within an engagement). Not to be confused with
//! unit tests: this module stores `domain::Test`.

use crate::query::{PageRequest, QueryBuf, contains_pattern};
use crate::repo::{fetch_page, push_visibility};
use crate::{AsConn, Page, Result, StoreError, now, on_conn};
use chrono::{DateTime, Utc};
use domain::{EngagementId, NewTest, ProductId, Test, TestId, ValidationError, Visibility};
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    engagement_id: i64,
    product_id: i64,
    title: String,
    scan_type: String,
    description: Option<String>,
    version: Option<String>,
    build_id: Option<String>,
    commit_hash: Option<String>,
    branch_tag: Option<String>,
    environment: Option<String>,
    tags: Json<Vec<String>>,
    last_import_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Test {
    fn from(r: Row) -> Self {
        Test {
            id: TestId(r.id),
            engagement: EngagementId(r.engagement_id),
            product: ProductId(r.product_id),
            title: r.title,
            scan_type: r.scan_type,
            description: r.description,
            version: r.version,
            build_id: r.build_id,
            commit_hash: r.commit_hash,
            branch_tag: r.branch_tag,
            environment: r.environment,
            tags: r.tags.0,
            last_import_at: r.last_import_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, engagement_id, product_id, title, scan_type, description, version, build_id, \
    commit_hash, branch_tag, environment, tags, last_import_at, created_at, updated_at";

/// Creates a test in an engagement; its product is taken from the engagement.
pub async fn create(c: &mut impl AsConn, new: NewTest) -> Result<Test> {
    let t = now();
    let tags = domain::normalize_tags("tags", new.tags)?;
    let mut q = QueryBuf::new(
        "INSERT INTO tests (engagement_id, product_id, title, scan_type, description, version, build_id, \
         commit_hash, branch_tag, environment, tags, created_at, updated_at) SELECT id, product_id, ",
    );
    q.bind(new.title.into_inner()).push(", ")
        .bind(new.scan_type.into_inner()).push(", ")
        .bind(domain::optional_text(new.description)).push(", ")
        .bind(domain::optional_text(new.version)).push(", ")
        .bind(domain::optional_text(new.build_id)).push(", ")
        .bind(domain::optional_text(new.commit_hash)).push(", ")
        .bind(domain::optional_text(new.branch_tag)).push(", ")
        .bind(domain::optional_text(new.environment)).push(", ")
        .bind(serde_json::json!(tags)).push(", ")
        .bind(t).push(", ").bind(t)
        .push(" FROM engagements WHERE id = ").bind(new.engagement.0)
        .push(" RETURNING ").push(COLUMNS);
    let row = q.fetch_optional::<Row>(c).await?.ok_or_else(|| {
        ValidationError::new(
            "engagement",
            format!("engagement {} does not exist", new.engagement),
        )
    })?;
    Ok(row.into())
}

pub async fn get(c: &mut impl AsConn, id: TestId) -> Result<Test> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM tests WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<Row>(c)
        .await?
        .map(Into::into)
        .ok_or_else(|| StoreError::not_found("test", id))
}

/// The newest test of `scan_type` (and `title`, when given) in an engagement: where a
/// reimport lands.
pub async fn find_for_reimport(
    c: &mut impl AsConn,
    engagement: EngagementId,
    scan_type: &str,
    title: Option<&str>,
) -> Result<Option<Test>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM tests WHERE engagement_id = "));
    q.bind(engagement.0).push(" AND scan_type = ").bind(scan_type);
    if let Some(t) = title {
        q.push(" AND title = ").bind(t);
    }
    q.push(" ORDER BY id DESC LIMIT 1");
    Ok(q.fetch_optional::<Row>(c).await?.map(Into::into))
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub product: Option<ProductId>,
    pub engagement: Option<EngagementId>,
    pub scan_type: Option<String>,
    pub title: Option<String>,
}

pub async fn list(
    c: &mut impl AsConn,
    filter: &Filter,
    vis: &Visibility,
    page: PageRequest,
) -> Result<Page<Test>> {
    let (count, rows) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM tests WHERE 1 = 1");
            if let Some(p) = filter.product {
                q.push(" AND product_id = ").bind(p.0);
            }
            if let Some(e) = filter.engagement {
                q.push(" AND engagement_id = ").bind(e.0);
            }
            if let Some(s) = &filter.scan_type {
                q.push(" AND scan_type = ").bind(s.clone());
            }
            if let Some(t) = &filter.title {
                q.push(" AND LOWER(title) LIKE ")
                    .bind(contains_pattern(t))
                    .push(" ESCAPE '\\'");
            }
            push_visibility(q, "product_id", vis);
        },
        "id DESC",
        page,
    )
    .await?;
    Ok(Page {
        count,
        results: rows.into_iter().map(Into::into).collect(),
    })
}

/// Writes every field of `t` back (a test never moves to another engagement).
pub async fn update(c: &mut impl AsConn, t: &Test) -> Result<Test> {
    let mut q = QueryBuf::new("UPDATE tests SET title = ");
    q.bind(t.title.clone())
        .push(", description = ").bind(t.description.clone())
        .push(", version = ").bind(t.version.clone())
        .push(", build_id = ").bind(t.build_id.clone())
        .push(", commit_hash = ").bind(t.commit_hash.clone())
        .push(", branch_tag = ").bind(t.branch_tag.clone())
        .push(", environment = ").bind(t.environment.clone())
        .push(", tags = ").bind(serde_json::json!(t.tags))
        .push(", updated_at = ").bind(now())
        .push(" WHERE id = ").bind(t.id.0)
        .push(" RETURNING ").push(COLUMNS);
    q.fetch_optional::<Row>(c)
        .await?
        .map(Into::into)
        .ok_or_else(|| StoreError::not_found("test", t.id))
}

/// Records that an import into the test finished at `at`: the `last_seen` of every finding
/// it listed.
pub async fn set_last_import(c: &mut impl AsConn, id: TestId, at: DateTime<Utc>) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE tests SET last_import_at = $2 WHERE id = $1")
        .bind(id.0)
        .bind(at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes a test with its findings and groups.
pub async fn delete(c: &mut impl AsConn, id: TestId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM tests WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("test", id));
    }
    Ok(())
}
