//! API tokens, stored as SHA-256 hashes (see `secrets::token`).

use crate::query::QueryBuf;
use crate::repo::{members, users};
use crate::{AsConn, Result, StoreError, now, on_conn};
use chrono::{DateTime, TimeDelta, Utc};
use domain::{Actor, TokenId, TokenInfo, UserId};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    user_id: i64,
    name: String,
    display_prefix: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

impl From<Row> for TokenInfo {
    fn from(r: Row) -> Self {
        TokenInfo {
            id: TokenId(r.id),
            user: UserId(r.user_id),
            name: r.name,
            display_prefix: r.display_prefix,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
        }
    }
}

const COLUMNS: &str = "id, user_id, name, display_prefix, created_at, last_used_at, expires_at";

pub async fn create(
    c: &mut impl AsConn,
    user: UserId,
    name: &str,
    token: &secrets::token::NewToken,
    expires_at: Option<DateTime<Utc>>,
) -> Result<TokenInfo> {
    let name = domain::Name::parse("name", name)?;
    let row: Row = on_conn!(c, |conn| sqlx::query_as(
        "INSERT INTO api_tokens (user_id, name, token_hash, display_prefix, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, user_id, name, display_prefix, created_at, last_used_at, expires_at"
    )
    .bind(user.0)
    .bind(name.as_str())
    .bind(&token.hash)
    .bind(&token.display_prefix)
    .bind(now())
    .bind(expires_at)
    .fetch_one(conn)
    .await)?;
    Ok(row.into())
}

pub async fn list_for_user(c: &mut impl AsConn, user: UserId) -> Result<Vec<TokenInfo>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM api_tokens WHERE user_id = "));
    q.bind(user.0).push(" ORDER BY id");
    Ok(q.fetch_all::<Row>(c).await?.into_iter().map(Into::into).collect())
}

/// Deletes one of `user`'s tokens.
pub async fn delete(c: &mut impl AsConn, user: UserId, id: TokenId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
        .bind(id.0)
        .bind(user.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("token", id));
    }
    Ok(())
}

/// `last_used_at` is refreshed at most this often, so that a busy API client does not turn
/// every request into a write (SQLite has one writer).
const LAST_USED_GRANULARITY: TimeDelta = TimeDelta::minutes(1);

/// The actor behind a presented token (by hash), if the token is known, unexpired, and its
/// user active. `None` for anything else: the caller answers 401 without saying which.
pub async fn authenticate(c: &mut impl AsConn, token_hash: &str) -> Result<Option<Actor>> {
    let t = now();
    let mut q = QueryBuf::new(
        "SELECT t.id, t.user_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE u.is_active AND t.token_hash = ",
    );
    q.bind(token_hash)
        .push(" AND (t.expires_at IS NULL OR t.expires_at > ")
        .bind(t)
        .push(")");
    let Some((token_id, user_id, last_used)): Option<(i64, i64, Option<DateTime<Utc>>)> =
        q.fetch_optional(c).await?
    else {
        return Ok(None);
    };
    if last_used.is_none_or(|l| t - l > LAST_USED_GRANULARITY) {
        on_conn!(c, |conn| sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(token_id)
            .bind(t)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
    }
    actor_for(c, UserId(user_id)).await.map(Some)
}

/// Builds the `Actor` for a user: their global role and every product role.
pub async fn actor_for(c: &mut impl AsConn, user: UserId) -> Result<Actor> {
    let u = users::get(c, user).await?;
    Ok(Actor {
        user_id: u.id,
        username: u.username,
        global_role: u.global_role,
        product_roles: members::roles_of(c, user).await?,
    })
}
