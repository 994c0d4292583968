use crate::query::{PageRequest, QueryBuf, contains_pattern};
use crate::repo::{fetch_page, push_visibility};
use crate::{AsConn, Page, Result, StoreError, now, on_conn};
use crate::error::on_unique;
use chrono::{DateTime, Utc};
use domain::{NewProductType, ProductType, ProductTypeId, Visibility};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    description: Option<String>,
    critical: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for ProductType {
    fn from(r: Row) -> Self {
        ProductType {
            id: ProductTypeId(r.id),
            name: r.name,
            description: r.description,
            critical: r.critical,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, name, description, critical, created_at, updated_at";

pub async fn create(c: &mut impl AsConn, new: NewProductType) -> Result<ProductType> {
    insert(c, new, false).await?.ok_or_else(|| StoreError::corrupt("product_types", "INSERT returned no row"))
}

/// The product type of this name, created as `new` if there is none; safe against a
/// concurrent transaction creating it (see `engagements::get_or_create`).
pub async fn get_or_create(c: &mut impl AsConn, new: NewProductType) -> Result<ProductType> {
    let name = new.name.as_str().to_owned();
    if let Some(p) = insert(c, new, true).await? {
        return Ok(p);
    }
    get_by_name(c, &name).await?.ok_or_else(|| StoreError::corrupt("product_types", "a product type conflicted but is not there"))
}

async fn insert(c: &mut impl AsConn, new: NewProductType, if_absent: bool) -> Result<Option<ProductType>> {
    let t = now();
    let name = new.name.into_inner();
    let sql = format!(
        "INSERT INTO product_types (name, description, critical, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4){}
         RETURNING id, name, description, critical, created_at, updated_at",
        if if_absent { " ON CONFLICT DO NOTHING" } else { "" }
    );
    let row: Option<Row> = on_conn!(c, |conn| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
    .bind(&name)
    .bind(domain::optional_text(new.description))
    .bind(new.critical)
    .bind(t)
    .fetch_optional(conn)
    .await)
    .map_err(on_unique("name", format!("a product type named '{name}' already exists")))?;
    Ok(row.map(Into::into))
}

pub async fn get(c: &mut impl AsConn, id: ProductTypeId) -> Result<ProductType> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM product_types WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<Row>(c)
        .await?
        .map(Into::into)
        .ok_or_else(|| StoreError::not_found("product type", id))
}

pub async fn get_by_name(c: &mut impl AsConn, name: &str) -> Result<Option<ProductType>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM product_types WHERE name = "));
    q.bind(name);
    Ok(q.fetch_optional::<Row>(c).await?.map(Into::into))
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Name contains (case-insensitive).
    pub name: Option<String>,
}

/// Product types, restricted to those holding a product the caller can see
/// (unless the caller sees everything).
pub async fn list(
    c: &mut impl AsConn,
    filter: &Filter,
    vis: &Visibility,
    page: PageRequest,
) -> Result<Page<ProductType>> {
    let (count, rows) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM product_types WHERE 1 = 1");
            if let Some(name) = &filter.name {
                q.push(" AND LOWER(name) LIKE ")
                    .bind(contains_pattern(name))
                    .push(" ESCAPE '\\'");
            }
            if let Visibility::Only(_) = vis {
                q.push(" AND id IN (SELECT p.product_type_id FROM products p WHERE 1 = 1");
                push_visibility(q, "p.id", vis);
                q.push(")");
            }
        },
        "name, id",
        page,
    )
    .await?;
    Ok(Page {
        count,
        results: rows.into_iter().map(Into::into).collect(),
    })
}

/// Writes every field of `pt` back.
pub async fn update(c: &mut impl AsConn, pt: &ProductType) -> Result<ProductType> {
    let row: Option<Row> = on_conn!(c, |conn| sqlx::query_as(
        "UPDATE product_types SET name = $2, description = $3, critical = $4, updated_at = $5
         WHERE id = $1
         RETURNING id, name, description, critical, created_at, updated_at"
    )
    .bind(pt.id.0)
    .bind(&pt.name)
    .bind(&pt.description)
    .bind(pt.critical)
    .bind(now())
    .fetch_optional(conn)
    .await)
    .map_err(on_unique("name", format!("a product type named '{}' already exists", pt.name)))?;
    row.map(Into::into)
        .ok_or_else(|| StoreError::not_found("product type", pt.id))
}

/// Deletes a product type; its products stay, without a type.
pub async fn delete(c: &mut impl AsConn, id: ProductTypeId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM product_types WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("product type", id));
    }
    Ok(())
}
