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

/// How many failed logins a username may have in a window before its logins are refused for
/// the rest of that window. Counting per username (whoever types it, known or not) stops
/// password guessing against one account from many addresses; the cost is that someone who
/// types a user's name wrongly on purpose can keep that user out of the web UI for a window
/// (API tokens are unaffected, and an administrator can still reset the password).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    pub max_failures: i64,
    pub window: TimeDelta,
}

impl LoginThrottle {
    /// What the web login uses: ten failures within 15 minutes.
    pub const STANDARD: LoginThrottle = LoginThrottle { max_failures: 10, window: TimeDelta::minutes(15) };

    /// Until when logins for a username with `failures` since `window_start` are refused, if
    /// they are. Pure, so that the rule is tested apart from the database.
    pub fn refused_until(&self, failures: i64, window_start: DateTime<Utc>, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let end = window_start + self.window;
        (failures >= self.max_failures && at < end).then_some(end)
    }
}

/// The key a username is counted under: trimmed and lower-cased, so that `Admin` and
/// `admin ` share one count.
fn login_key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Until when logins for `username` are refused, if they are.
pub async fn login_refused_until(c: &mut impl AsConn, username: &str, throttle: LoginThrottle) -> Result<Option<DateTime<Utc>>> {
    let mut q = QueryBuf::new("SELECT failures, window_start FROM login_failures WHERE username = ");
    q.bind(login_key(username));
    let found: Option<(i64, DateTime<Utc>)> = q.fetch_optional(c).await?;
    Ok(found.and_then(|(n, start)| throttle.refused_until(n, start, now())))
}

/// Counts a failed login for `username`: a new window starts when the last one is over.
/// Windows long over are forgotten on the way, so made-up usernames do not pile up.
pub async fn record_failed_login(c: &mut impl AsConn, username: &str, throttle: LoginThrottle) -> Result<()> {
    let t = now();
    let cutoff = t - throttle.window;
    on_conn!(c, |conn| sqlx::query("DELETE FROM login_failures WHERE window_start < $1")
        .bind(cutoff)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    on_conn!(c, |conn| sqlx::query(
        "INSERT INTO login_failures (username, failures, window_start) VALUES ($1, 1, $2)
         ON CONFLICT (username) DO UPDATE SET failures = login_failures.failures + 1"
    )
    .bind(login_key(username))
    .bind(t)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A successful login clears its username's count.
pub async fn clear_failed_logins(c: &mut impl AsConn, username: &str) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(login_key(username))
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_after_the_limit_until_the_window_ends() {
        let th = LoginThrottle { max_failures: 3, window: TimeDelta::minutes(15) };
        let start = DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").unwrap().to_utc();
        let end = start + TimeDelta::minutes(15);
        assert_eq!(th.refused_until(2, start, start + TimeDelta::minutes(1)), None, "under the limit");
        assert_eq!(th.refused_until(3, start, start + TimeDelta::minutes(1)), Some(end));
        assert_eq!(th.refused_until(50, start, end - TimeDelta::seconds(1)), Some(end));
        assert_eq!(th.refused_until(50, start, end), None, "the window is over");
        assert_eq!(login_key("  Admin "), "admin");
    }
}
