use crate::error::{on_foreign_key, on_unique};
use crate::query::{PageRequest, QueryBuf, contains_pattern};
use crate::repo::{fetch_page, push_visibility};
use crate::{AsConn, Page, Result, StoreError, now, on_conn};
use chrono::{DateTime, Utc};
use domain::{NewProduct, Product, ProductId, ProductTypeId, Visibility};
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    description: Option<String>,
    product_type_id: Option<i64>,
    business_criticality: Option<String>,
    tags: Json<Vec<String>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Product {
    fn from(r: Row) -> Self {
        Product {
            id: ProductId(r.id),
            name: r.name,
            description: r.description,
            product_type: r.product_type_id.map(ProductTypeId),
            business_criticality: r.business_criticality,
            tags: r.tags.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str =
    "id, name, description, product_type_id, business_criticality, tags, created_at, updated_at";

fn type_missing(id: Option<ProductTypeId>) -> String {
    format!(
        "product type {} does not exist",
        id.map(|i| i.to_string()).unwrap_or_default()
    )
}

/// Creates a product. The caller has run `NewProduct::check`.
pub async fn create(c: &mut impl AsConn, new: NewProduct) -> Result<Product> {
    insert(c, new, false).await?.ok_or_else(|| StoreError::corrupt("products", "INSERT returned no row"))
}

/// The product of this name, created as `new` if there is none; safe against a concurrent
/// transaction creating it (see `engagements::get_or_create`).
pub async fn get_or_create(c: &mut impl AsConn, new: NewProduct) -> Result<Product> {
    let name = new.name.as_str().to_owned();
    if let Some(p) = insert(c, new, true).await? {
        return Ok(p);
    }
    get_by_name(c, &name).await?.ok_or_else(|| StoreError::corrupt("products", "a product conflicted but is not there"))
}

async fn insert(c: &mut impl AsConn, new: NewProduct, if_absent: bool) -> Result<Option<Product>> {
    let t = now();
    let name = new.name.into_inner();
    let sql = format!(
        "INSERT INTO products (name, description, product_type_id, business_criticality, tags, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6){}
         RETURNING id, name, description, product_type_id, business_criticality, tags, created_at, updated_at",
        if if_absent { " ON CONFLICT DO NOTHING" } else { "" }
    );
    let row: Option<Row> = on_conn!(c, |conn| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
    .bind(&name)
    .bind(&new.description)
    .bind(new.product_type.map(|p| p.0))
    .bind(&new.business_criticality)
    .bind(Json(&new.tags))
    .bind(t)
    .fetch_optional(conn)
    .await)
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            on_foreign_key("product_type", type_missing(new.product_type))(e)
        }
        _ => on_unique("name", format!("a product named '{name}' already exists"))(e),
    })?;
    Ok(row.map(Into::into))
}

pub async fn get(c: &mut impl AsConn, id: ProductId) -> Result<Product> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM products WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<Row>(c)
        .await?
        .map(Into::into)
        .ok_or_else(|| StoreError::not_found("product", id))
}

pub async fn get_by_name(c: &mut impl AsConn, name: &str) -> Result<Option<Product>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM products WHERE name = "));
    q.bind(name);
    Ok(q.fetch_optional::<Row>(c).await?.map(Into::into))
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub name: Option<String>,
    pub product_type: Option<ProductTypeId>,
}

pub async fn list(
    c: &mut impl AsConn,
    filter: &Filter,
    vis: &Visibility,
    page: PageRequest,
) -> Result<Page<Product>> {
    let (count, rows) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM products WHERE 1 = 1");
            if let Some(name) = &filter.name {
                q.push(" AND LOWER(name) LIKE ")
                    .bind(contains_pattern(name))
                    .push(" ESCAPE '\\'");
            }
            if let Some(pt) = filter.product_type {
                q.push(" AND product_type_id = ").bind(pt.0);
            }
            push_visibility(q, "id", vis);
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

/// Writes every field of `p` back.
pub async fn update(c: &mut impl AsConn, p: &Product) -> Result<Product> {
    let row: Option<Row> = on_conn!(c, |conn| sqlx::query_as(
        "UPDATE products SET name = $2, description = $3, product_type_id = $4,
                business_criticality = $5, tags = $6, updated_at = $7
         WHERE id = $1
         RETURNING id, name, description, product_type_id, business_criticality, tags, created_at, updated_at"
    )
    .bind(p.id.0)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.product_type.map(|t| t.0))
    .bind(&p.business_criticality)
    .bind(Json(&p.tags))
    .bind(now())
    .fetch_optional(conn)
    .await)
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            on_foreign_key("product_type", type_missing(p.product_type))(e)
        }
        _ => on_unique("name", format!("a product named '{}' already exists", p.name))(e),
    })?;
    row.map(Into::into)
        .ok_or_else(|| StoreError::not_found("product", p.id))
}

/// Deletes a product with its engagements, tests, findings and groups.
pub async fn delete(c: &mut impl AsConn, id: ProductId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM products WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("product", id));
    }
    Ok(())
}
