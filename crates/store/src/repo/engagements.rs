use crate::error::{on_foreign_key, on_unique};
use crate::query::{PageRequest, QueryBuf, contains_pattern};
use crate::repo::{fetch_page, parse_stored, push_visibility};
use crate::{AsConn, Page, Result, StoreError, now, on_conn};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    Engagement, EngagementId, EngagementStatus, EngagementType, NewEngagement, ProductId,
    Visibility,
};
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    product_id: i64,
    name: String,
    description: Option<String>,
    engagement_type: String,
    status: String,
    target_start: Option<NaiveDate>,
    target_end: Option<NaiveDate>,
    version: Option<String>,
    build_id: Option<String>,
    commit_hash: Option<String>,
    branch_tag: Option<String>,
    source_code_url: Option<String>,
    tags: Json<Vec<String>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Engagement {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(Engagement {
            id: EngagementId(r.id),
            product: ProductId(r.product_id),
            engagement_type: parse_stored(
                "engagements",
                "engagement_type",
                &r.engagement_type,
                EngagementType::parse,
            )?,
            status: parse_stored("engagements", "status", &r.status, EngagementStatus::parse)?,
            name: r.name,
            description: r.description,
            target_start: r.target_start,
            target_end: r.target_end,
            version: r.version,
            build_id: r.build_id,
            commit_hash: r.commit_hash,
            branch_tag: r.branch_tag,
            source_code_url: r.source_code_url,
            tags: r.tags.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, product_id, name, description, engagement_type, status, target_start, target_end, \
    version, build_id, commit_hash, branch_tag, source_code_url, tags, created_at, updated_at";

fn conflict(name: &str) -> String {
    format!("this product already has an engagement named '{name}'")
}

/// Creates an engagement. The caller has checked that the product exists and may be changed.
pub async fn create(c: &mut impl AsConn, new: NewEngagement) -> Result<Engagement> {
    insert(c, new, false).await?.ok_or_else(|| StoreError::corrupt("engagements", "INSERT returned no row"))
}

/// The product's engagement of this name, created as `new` if there is none. Safe against a
/// concurrent transaction creating the same one (two imports or connector syncs auto-creating
/// it at once): the insert then does nothing (on PostgreSQL it waits for the other to commit)
/// and the engagement the other made is returned.
pub async fn get_or_create(c: &mut impl AsConn, new: NewEngagement) -> Result<Engagement> {
    let (product, name) = (new.product, new.name.as_str().to_owned());
    if let Some(e) = insert(c, new, true).await? {
        return Ok(e);
    }
    get_by_name(c, product, &name).await?.ok_or_else(|| StoreError::corrupt("engagements", "an engagement conflicted but is not there"))
}

async fn insert(c: &mut impl AsConn, new: NewEngagement, if_absent: bool) -> Result<Option<Engagement>> {
    new.check()?;
    let t = now();
    let name = new.name.into_inner();
    let tags = domain::normalize_tags("tags", new.tags)?;
    let mut q = QueryBuf::new(
        "INSERT INTO engagements (product_id, name, description, engagement_type, status, target_start, \
         target_end, version, build_id, commit_hash, branch_tag, source_code_url, tags, created_at, updated_at) VALUES (",
    );
    q.bind(new.product.0).push(", ").bind(name.clone()).push(", ")
        .bind(domain::optional_text(new.description)).push(", ")
        .bind(new.engagement_type.as_str()).push(", ")
        .bind(new.status.as_str()).push(", ")
        .bind(new.target_start).push(", ")
        .bind(new.target_end).push(", ")
        .bind(domain::optional_text(new.version)).push(", ")
        .bind(domain::optional_text(new.build_id)).push(", ")
        .bind(domain::optional_text(new.commit_hash)).push(", ")
        .bind(domain::optional_text(new.branch_tag)).push(", ")
        .bind(domain::optional_text(new.source_code_url)).push(", ")
        .bind(serde_json::json!(tags)).push(", ")
        .bind(t).push(", ").bind(t).push(")");
    if if_absent {
        q.push(" ON CONFLICT DO NOTHING");
    }
    q.push(" RETURNING ").push(COLUMNS);
    let product = new.product;
    let row: Option<Row> = q
        .fetch_optional(c)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                on_foreign_key("product", format!("product {product} does not exist"))(e)
            }
            _ => on_unique("name", conflict(&name))(e),
        })?;
    row.map(TryInto::try_into).transpose()
}

pub async fn get(c: &mut impl AsConn, id: EngagementId) -> Result<Engagement> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM engagements WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<Row>(c)
        .await?
        .ok_or_else(|| StoreError::not_found("engagement", id))?
        .try_into()
}

pub async fn get_by_name(
    c: &mut impl AsConn,
    product: ProductId,
    name: &str,
) -> Result<Option<Engagement>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM engagements WHERE product_id = "));
    q.bind(product.0).push(" AND name = ").bind(name);
    q.fetch_optional::<Row>(c).await?.map(TryInto::try_into).transpose()
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub product: Option<ProductId>,
    pub name: Option<String>,
    pub status: Option<EngagementStatus>,
}

pub async fn list(
    c: &mut impl AsConn,
    filter: &Filter,
    vis: &Visibility,
    page: PageRequest,
) -> Result<Page<Engagement>> {
    let (count, rows) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM engagements WHERE 1 = 1");
            if let Some(p) = filter.product {
                q.push(" AND product_id = ").bind(p.0);
            }
            if let Some(name) = &filter.name {
                q.push(" AND LOWER(name) LIKE ")
                    .bind(contains_pattern(name))
                    .push(" ESCAPE '\\'");
            }
            if let Some(s) = filter.status {
                q.push(" AND status = ").bind(s.as_str());
            }
            push_visibility(q, "product_id", vis);
        },
        "id DESC",
        page,
    )
    .await?;
    Ok(Page {
        count,
        results: rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_>>()?,
    })
}

/// Writes every field of `e` back (an engagement never moves to another product).
pub async fn update(c: &mut impl AsConn, e: &Engagement) -> Result<Engagement> {
    let mut q = QueryBuf::new("UPDATE engagements SET name = ");
    q.bind(e.name.clone())
        .push(", description = ").bind(e.description.clone())
        .push(", engagement_type = ").bind(e.engagement_type.as_str())
        .push(", status = ").bind(e.status.as_str())
        .push(", target_start = ").bind(e.target_start)
        .push(", target_end = ").bind(e.target_end)
        .push(", version = ").bind(e.version.clone())
        .push(", build_id = ").bind(e.build_id.clone())
        .push(", commit_hash = ").bind(e.commit_hash.clone())
        .push(", branch_tag = ").bind(e.branch_tag.clone())
        .push(", source_code_url = ").bind(e.source_code_url.clone())
        .push(", tags = ").bind(serde_json::json!(e.tags))
        .push(", updated_at = ").bind(now())
        .push(" WHERE id = ").bind(e.id.0)
        .push(" RETURNING ").push(COLUMNS);
    let name = e.name.clone();
    q.fetch_optional::<Row>(c)
        .await
        .map_err(on_unique("name", conflict(&name)))?
        .ok_or_else(|| StoreError::not_found("engagement", e.id))?
        .try_into()
}

/// Deletes an engagement with its tests, findings and groups.
pub async fn delete(c: &mut impl AsConn, id: EngagementId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM engagements WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("engagement", id));
    }
    Ok(())
}
