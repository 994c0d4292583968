//! One `Db` over SQLite or PostgreSQL.
//!
//! Not `sqlx::AnyPool`: it cannot decode timestamps or JSON. Instead an enum holds the live
//! pool, and the `on_conn!` macro sends the *same SQL text* (with `$1` placeholders, which
//! both drivers accept) to whichever backend is live. Backend-specific SQL is written only
//! where the dialects really differ (claiming jobs).

use crate::StoreError;
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The database: a pool on one of the two backends. Cheap to clone.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Db({})", self.backend().as_str())
    }
}

/// Pool sizes and timeouts. The defaults suit one `serve` process.
#[derive(Clone, Debug)]
pub struct DbOptions {
    pub max_connections: u32,
    /// How long to wait for a connection before failing, also at startup.
    pub acquire_timeout: Duration,
    /// PostgreSQL only: a schema to use as `search_path` (tests isolate themselves this way).
    pub pg_schema: Option<String>,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            pg_schema: None,
        }
    }
}

/// Hides the password in a database URL, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparseable database URL>".to_owned(),
    }
}

impl Db {
    /// PostgreSQL: drops and recreates `schema` for a program that owns it (the demo), which
    /// then connects with `DbOptions::pg_schema`. The schema is marked with `owner` as its
    /// comment; a schema of that name without the mark is someone else's and is refused, so
    /// that nothing but the owner's own data is ever dropped.
    pub async fn recreate_own_schema(url: &str, schema: &str, owner: &str) -> Result<(), StoreError> {
        let shown = redact_url(url);
        let unavailable = |e: sqlx::Error| StoreError::Unavailable { url: shown.clone(), reason: describe_connect_error(&e) };
        if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            return Err(StoreError::Unavailable { url: shown, reason: "the URL must start with postgres://".into() });
        }
        if schema.is_empty() || !schema.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(StoreError::Unavailable { url: shown, reason: format!("'{schema}' is not a plain schema name") });
        }
        let options = PgConnectOptions::from_str(url).map_err(unavailable)?;
        let mut c = PgConnection::connect_with(&options).await.map_err(unavailable)?;
        let mark: Option<Option<String>> = sqlx::query_scalar(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1",
        )
        .bind(schema)
        .fetch_optional(&mut c)
        .await
        .map_err(unavailable)?;
        match mark {
            Some(Some(m)) if m == owner => {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut c).await.map_err(unavailable)?;
            }
            Some(_) => {
                return Err(StoreError::Unavailable {
                    url: shown,
                    reason: format!("schema {schema} exists and was not made by {owner}; refusing to drop it"),
                });
            }
            None => {}
        }
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut c).await.map_err(unavailable)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("COMMENT ON SCHEMA {schema} IS '{}'", owner.replace('\'', "''"))))
            .execute(&mut c)
            .await
            .map_err(unavailable)?;
        let _ = c.close().await;
        Ok(())
    }

    /// Connects to `sqlite://path` or `postgres://…`, failing within `acquire_timeout` with an
    /// error that names the (redacted) URL and the cause.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db, StoreError> {
        let shown = redact_url(url);
        let unavailable = |e: sqlx::Error| StoreError::Unavailable {
            url: shown.clone(),
            reason: describe_connect_error(&e),
        };
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(unavailable)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                // Writers queue behind each other rather than failing with SQLITE_BUSY.
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .pragma("cache_size", "-32000");
            if let Some(parent) = options.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| StoreError::Unavailable {
                    url: shown.clone(),
                    reason: format!("cannot create {}: {e}", parent.display()),
                })?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(options)
                .await
                .map_err(unavailable)?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut options = PgConnectOptions::from_str(url).map_err(unavailable)?;
            if let Some(schema) = &opts.pg_schema {
                options = options.options([("search_path", schema.as_str())]);
            }
            // One direct attempt first: the pool retries until its timeout and then reports
            // only "timed out", hiding the real cause (refused, unknown host, bad password).
            let probe = tokio::time::timeout(opts.acquire_timeout, PgConnection::connect_with(&options))
                .await
                .map_err(|_| unavailable(sqlx::Error::PoolTimedOut))?
                .map_err(unavailable)?;
            let _ = probe.close().await;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(options)
                .await
                .map_err(unavailable)?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::Unavailable {
                url: shown,
                reason: "the URL must start with sqlite:// or postgres://".into(),
            })
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations. On PostgreSQL sqlx takes an advisory lock, so replicas
    /// starting together migrate once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Is the database reachable and fully migrated? `Err` says what is wrong, for `/readyz`.
    pub async fn readiness(&self) -> Result<(), String> {
        let (latest, applied): (i64, Result<Option<i64>, sqlx::Error>) = match self {
            Db::Sqlite(p) => (
                SQLITE_MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0),
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(p)
                    .await,
            ),
            Db::Postgres(p) => (
                POSTGRES_MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0),
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(p)
                    .await,
            ),
        };
        match applied {
            Ok(Some(v)) if v >= latest => Ok(()),
            Ok(v) => Err(format!(
                "migrations pending: database at {}, binary expects {latest}; run `vulnbridge migrate`",
                v.unwrap_or(0)
            )),
            Err(e) if is_missing_table(&e) => {
                Err("database not migrated; run `vulnbridge migrate`".to_owned())
            }
            Err(e) => Err(format!("database unreachable: {}", describe_connect_error(&e))),
        }
    }

    /// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: a deferred transaction
    /// that later writes can fail with SQLITE_BUSY, an immediate one waits its turn.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A pooled connection for reads (each statement commits on its own).
    pub async fn conn(&self) -> Result<PooledConn, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => PooledConn::Sqlite(p.acquire().await?),
            Db::Postgres(p) => PooledConn::Postgres(p.acquire().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

fn is_missing_table(e: &sqlx::Error) -> bool {
    let msg = e.to_string();
    msg.contains("no such table") || msg.contains("does not exist")
}

/// One line saying why a connection failed, without sqlx's nesting.
fn describe_connect_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_owned(),
        sqlx::Error::Tls(t) => format!("TLS: {t}"),
        sqlx::Error::Database(d) => d.message().to_owned(),
        sqlx::Error::Configuration(c) => format!("bad URL: {c}"),
        other => other.to_string(),
    }
}

/// A write transaction. Dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}

pub enum PooledConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// A borrowed connection on either backend; what repository functions run their SQL on.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// Anything repository functions can run on: a transaction or a pooled connection.
pub trait AsConn: Send {
    fn as_conn(&mut self) -> Conn<'_>;
    fn backend(&self) -> Backend;
}

impl AsConn for Tx {
    fn as_conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }
    fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}

impl AsConn for PooledConn {
    fn as_conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(c) => Conn::Sqlite(c),
            PooledConn::Postgres(c) => Conn::Postgres(c),
        }
    }
    fn backend(&self) -> Backend {
        match self {
            PooledConn::Sqlite(_) => Backend::Sqlite,
            PooledConn::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Runs `$body` with `$conn` bound to the live backend's `&mut Connection`. The body is
/// compiled once per backend, so `sqlx::query_as::<_, Row>` infers the right driver.
#[macro_export]
#[doc(hidden)]
macro_rules! on_conn {
    ($c:expr, |$conn:ident| $body:expr) => {
        match $crate::AsConn::as_conn($c) {
            $crate::Conn::Sqlite($conn) => $body,
            $crate::Conn::Postgres($conn) => $body,
        }
    };
}

/// Now, truncated to microseconds: PostgreSQL keeps no more, and values must compare equal
/// after a round trip through either backend.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let t = chrono::Utc::now();
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
