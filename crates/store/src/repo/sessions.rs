//! Web UI sessions, server-side. The caller hashes the browser's session id (see
//! `secrets::token::hash`); only that hash is stored and looked up.

use crate::query::QueryBuf;
use crate::repo::tokens;
use crate::{AsConn, Result, now, on_conn};
use chrono::{DateTime, TimeDelta, Utc};
use domain::{Actor, UserId};

/// A session found by its id's hash: who it belongs to, and its CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub actor: Actor,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// How long a session lasts without use, and at most in all.
#[derive(Clone, Copy, Debug)]
pub struct Lifetime {
    pub idle: TimeDelta,
    pub absolute: TimeDelta,
}

impl Default for Lifetime {
    fn default() -> Self {
        Lifetime { idle: TimeDelta::hours(12), absolute: TimeDelta::days(7) }
    }
}

/// The idle expiry is pushed forward at most this often, so that browsing is not a write per
/// page (SQLite has one writer).
const TOUCH_GRANULARITY: TimeDelta = TimeDelta::minutes(1);

pub async fn create(c: &mut impl AsConn, id_hash: &str, user: UserId, csrf_token: &str, life: Lifetime) -> Result<()> {
    let t = now();
    on_conn!(c, |conn| sqlx::query(
        "INSERT INTO ui_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $4, $5)"
    )
    .bind(id_hash)
    .bind(user.0)
    .bind(csrf_token)
    .bind(t)
    .bind(t + life.idle.min(life.absolute))
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The live session with this id hash, if it exists, has not expired, and its user is active.
/// Using it pushes its idle expiry forward, never past `created_at + absolute`.
pub async fn authenticate(c: &mut impl AsConn, id_hash: &str, life: Lifetime) -> Result<Option<Session>> {
    let t = now();
    let mut q = QueryBuf::new(
        "SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at \
         FROM ui_sessions s JOIN users u ON u.id = s.user_id WHERE u.is_active AND s.id_hash = ",
    );
    q.bind(id_hash).push(" AND s.expires_at > ").bind(t);
    type Found = (i64, String, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);
    let Some((user_id, csrf_token, created_at, last_seen_at, mut expires_at)): Option<Found> = q.fetch_optional(c).await? else {
        return Ok(None);
    };
    if t - last_seen_at > TOUCH_GRANULARITY {
        expires_at = (t + life.idle).min(created_at + life.absolute);
        on_conn!(c, |conn| sqlx::query("UPDATE ui_sessions SET last_seen_at = $2, expires_at = $3 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(t)
            .bind(expires_at)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
    }
    let actor = tokens::actor_for(c, UserId(user_id)).await?;
    Ok(Some(Session { actor, csrf_token, expires_at }))
}

/// Ends a session (logout). Unknown ids are not an error: the session is gone either way.
pub async fn delete(c: &mut impl AsConn, id_hash: &str) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("DELETE FROM ui_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forgets expired sessions; returns how many.
pub async fn delete_expired(c: &mut impl AsConn) -> Result<u64> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM ui_sessions WHERE expires_at <= $1")
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n)
}
