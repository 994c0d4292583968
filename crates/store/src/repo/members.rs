//! Per-product roles.

use crate::query::QueryBuf;
use crate::{AsConn, Result, StoreError, now, on_conn};
use domain::{Membership, ProductId, Role, UserId};
use std::collections::BTreeMap;

/// Gives `user` `role` on `product`, replacing any role they had there.
pub async fn set(c: &mut impl AsConn, product: ProductId, user: UserId, role: Role) -> Result<()> {
    on_conn!(c, |conn| sqlx::query(
        "INSERT INTO product_members (product_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (product_id, user_id) DO UPDATE SET role = excluded.role"
    )
    .bind(product.0)
    .bind(user.0)
    .bind(role.as_str())
    .bind(now())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::Invalid(domain::ValidationError::new(
                "user",
                format!("user {user} or product {product} does not exist"),
            ))
        }
        _ => StoreError::Database(e),
    })?;
    Ok(())
}

pub async fn remove(c: &mut impl AsConn, product: ProductId, user: UserId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query(
        "DELETE FROM product_members WHERE product_id = $1 AND user_id = $2"
    )
    .bind(product.0)
    .bind(user.0)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("membership", format!("{user} on product {product}")));
    }
    Ok(())
}

pub async fn list_for_product(c: &mut impl AsConn, product: ProductId) -> Result<Vec<Membership>> {
    let mut q = QueryBuf::new(
        "SELECT m.product_id, m.user_id, u.username, m.role FROM product_members m \
         JOIN users u ON u.id = m.user_id WHERE m.product_id = ",
    );
    q.bind(product.0).push(" ORDER BY lower(u.username)");
    let rows: Vec<(i64, i64, String, String)> = q.fetch_all(c).await?;
    rows.into_iter()
        .map(|(p, u, username, role)| {
            Ok(Membership {
                product: ProductId(p),
                user: UserId(u),
                username,
                role: Role::parse(&role).ok_or_else(|| {
                    StoreError::corrupt("product_members", format!("role = '{role}'"))
                })?,
            })
        })
        .collect()
}

/// Every product role a user holds: what `Actor::product_roles` is built from.
pub async fn roles_of(c: &mut impl AsConn, user: UserId) -> Result<BTreeMap<ProductId, Role>> {
    let mut q = QueryBuf::new("SELECT product_id, role FROM product_members WHERE user_id = ");
    q.bind(user.0);
    let rows: Vec<(i64, String)> = q.fetch_all(c).await?;
    rows.into_iter()
        .map(|(p, role)| {
            Ok((
                ProductId(p),
                Role::parse(&role).ok_or_else(|| {
                    StoreError::corrupt("product_members", format!("role = '{role}'"))
                })?,
            ))
        })
        .collect()
}
