//! Repositories: one module per table family, free functions over `&mut impl AsConn`, so the
//! same function runs inside a caller's transaction or on a plain pooled connection.

pub mod assignments;
pub mod connectors;
pub mod cursors;
pub mod engagements;
pub mod findings;
pub mod groups;
pub mod history;
pub mod imports;
pub mod installation;
pub mod instances;
pub mod mappings;
pub mod members;
pub mod notes;
pub mod product_types;
pub mod products;
pub mod push_errors;
pub mod rate_limits;
pub mod sessions;
pub mod tests;
pub mod tickets;
pub mod tokens;
pub mod users;
pub mod webhook_deliveries;

use crate::query::QueryBuf;
use domain::Visibility;

/// Restricts a query to the products the caller may see; `column` holds a product id.
pub(crate) fn push_visibility(q: &mut QueryBuf, column: &str, vis: &Visibility) {
    match vis {
        Visibility::All => {}
        Visibility::Only(ids) if ids.is_empty() => {
            q.push(" AND 1 = 0");
        }
        Visibility::Only(ids) => {
            q.push(" AND ").push(column).push(" IN ");
            q.bind_list(ids.iter().map(|p| p.0));
        }
    }
}

/// Parses a stored enum spelling, or reports the row as corrupt.
pub(crate) fn parse_stored<T>(
    table: &'static str,
    column: &str,
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, crate::StoreError> {
    parse(value).ok_or_else(|| crate::StoreError::corrupt(table, format!("{column} = '{value}'")))
}

/// Runs a filtered, paged listing: `SELECT COUNT(*)` and `SELECT <columns>` over the same
/// `FROM … WHERE …` (written by `from_where`), so the count always matches the filters.
pub(crate) async fn fetch_page<R>(
    c: &mut impl crate::AsConn,
    columns: &str,
    from_where: impl Fn(&mut QueryBuf),
    order_by: &str,
    page: crate::PageRequest,
) -> crate::Result<(i64, Vec<R>)>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let mut count = QueryBuf::new("SELECT COUNT(*)");
    from_where(&mut count);
    let total = count.fetch_count(c).await?;
    let mut q = QueryBuf::new("SELECT ");
    q.push(columns);
    from_where(&mut q);
    q.push(" ORDER BY ").push(order_by);
    page.push_to(&mut q);
    Ok((total, q.fetch_all::<R>(c).await?))
}
