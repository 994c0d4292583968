//! Throwaway databases for tests, on both backends.
//!
//! - SQLite: a file in a temporary directory (not `:memory:`, which vanishes with its last
//!   connection and behaves differently under concurrency).
//! - PostgreSQL: a fresh schema in the database named by `VULNBRIDGE_TEST_DATABASE_URL`,
//!   used through `search_path` and dropped afterwards. Without that variable the PostgreSQL
//!   half of each test is skipped, unless `VULNBRIDGE_TEST_REQUIRE_POSTGRES=1` (set by
//!   `.ci/run`), which turns a skip into a failure.
//!
//! Every id sequence starts at a different offset (products at 2001, findings at 6001…), so
//! a test that passes a product id where a finding id belongs fails instead of passing by
//! coincidence.

use crate::{Backend, Db, DbOptions};
use sqlx::Connection;

pub const PG_URL_VAR: &str = "VULNBRIDGE_TEST_DATABASE_URL";
pub const REQUIRE_PG_VAR: &str = "VULNBRIDGE_TEST_REQUIRE_POSTGRES";

/// Tables with generated ids, and the thousand their ids start after.
const SEQUENCES: [(&str, i64); 20] = [
    ("product_types", 1),
    ("products", 2),
    ("engagements", 3),
    ("tests", 4),
    ("finding_groups", 5),
    ("findings", 6),
    ("finding_history", 7),
    ("users", 8),
    ("api_tokens", 9),
    ("jobs", 10),
    ("integration_instances", 11),
    ("tracker_mappings", 12),
    ("tracker_assignments", 13),
    ("tickets", 14),
    ("ticket_changes", 15),
    ("push_errors", 16),
    ("finding_notes", 17),
    ("connectors", 18),
    ("connector_records", 19),
    ("connector_operations", 20),
];

pub struct TestDb {
    pub db: Db,
    /// The URL another process (a second server, a CLI run) would use to reach this database.
    pub url: String,
    /// PostgreSQL only: the schema to pass as `DbOptions::pg_schema`.
    pub pg_schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
    cleanup: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}/test.db", dir.path().display());
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .expect("open a SQLite test database");
        db.migrate().await.expect("migrate the SQLite test database");
        offset_sequences(&db).await;
        TestDb {
            db,
            url,
            pg_schema: None,
            _dir: Some(dir),
            cleanup: None,
        }
    }

    /// A fresh PostgreSQL schema, or `None` when PostgreSQL tests are not enabled.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(url) = std::env::var(PG_URL_VAR) else {
            if std::env::var(REQUIRE_PG_VAR).is_ok_and(|v| v == "1") {
                panic!("{REQUIRE_PG_VAR}=1 but {PG_URL_VAR} is not set: the PostgreSQL half of the tests would be skipped");
            }
            eprintln!("skipping the PostgreSQL half: {PG_URL_VAR} is not set");
            return None;
        };
        let schema = format!("vbtest_{:016x}", rand::random::<u64>());
        let mut admin = sqlx::PgConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connect to {PG_URL_VAR} ({}): {e}", crate::redact_url(&url)));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .expect("create a test schema");
        let _ = admin.close().await;
        let opts = DbOptions {
            max_connections: 5,
            pg_schema: Some(schema.clone()),
            ..DbOptions::default()
        };
        let db = Db::connect(&url, &opts).await.expect("connect to the test schema");
        db.migrate().await.expect("migrate the PostgreSQL test schema");
        offset_sequences(&db).await;
        Some(TestDb {
            db,
            url: url.clone(),
            pg_schema: Some(schema.clone()),
            _dir: None,
            cleanup: Some((url, schema)),
        })
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The options that reach this same database from a second pool.
    pub fn options(&self) -> DbOptions {
        DbOptions {
            pg_schema: self.pg_schema.clone(),
            ..DbOptions::default()
        }
    }
}

async fn offset_sequences(db: &Db) {
    for (table, thousand) in SEQUENCES {
        let start = thousand * 1000;
        match db {
            Db::Sqlite(p) => {
                sqlx::query("INSERT INTO sqlite_sequence (name, seq) VALUES ($1, $2)")
                    .bind(table)
                    .bind(start)
                    .execute(p)
                    .await
                    .expect("offset a SQLite sequence");
            }
            Db::Postgres(p) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {table} ALTER COLUMN id RESTART WITH {}",
                    start + 1
                )))
                .execute(p)
                .await
                .expect("offset a PostgreSQL sequence");
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((url, schema)) = self.cleanup.take() else {
            return;
        };
        if std::env::var("VULNBRIDGE_TEST_KEEP_DB").is_ok() {
            eprintln!("keeping test schema {schema}");
            return;
        }
        // Drop can't await; a short-lived thread with its own runtime drops the schema.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test schema");
            rt.block_on(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&mut c)
                    .await;
                    let _ = c.close().await;
                }
            });
        })
        .join();
    }
}

/// Declares a storage test that runs on both backends: `both_backends!(name)` expects an
/// `async fn name(t: TestDb)` in scope and generates `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::testing::TestDb::sqlite().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(t) = $crate::testing::TestDb::postgres().await {
                    super::$name(t).await
                }
            }
        }
    )*};
}
