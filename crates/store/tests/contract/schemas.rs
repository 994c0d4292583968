//! `Db::recreate_own_schema` (the demo's PostgreSQL schema): recreated when it carries the
//! owner's mark, refused when it does not. PostgreSQL only: SQLite has no schemas.

use sqlx::Connection;
use store::{Db, DbOptions};

#[tokio::test]
async fn own_schema_is_recreated_and_a_foreign_one_refused_postgres() {
    let Ok(url) = std::env::var("VULNBRIDGE_TEST_DATABASE_URL") else {
        eprintln!("skipping: VULNBRIDGE_TEST_DATABASE_URL is not set");
        return;
    };
    let schema = format!("vbown_{}", (0..12).map(|_| (b'a' + rand::random::<u8>() % 26) as char).collect::<String>());
    Db::recreate_own_schema(&url, &schema, "contract test").await.unwrap();
    let opts = DbOptions { max_connections: 2, pg_schema: Some(schema.clone()), ..DbOptions::default() };
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let products = format!("SELECT count(*) FROM {schema}.products");
    let db = Db::connect(&url, &opts).await.unwrap();
    db.migrate().await.unwrap();
    crate::common::world(&db, "Storefront").await;
    db.close().await;
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(products.clone())).fetch_one(&mut admin).await.unwrap();
    assert_eq!(n, 1);

    // Its own schema: dropped and made afresh, empty.
    Db::recreate_own_schema(&url, &schema, "contract test").await.unwrap();
    let db = Db::connect(&url, &opts).await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(products)).fetch_one(&mut admin).await.unwrap();
    assert_eq!(n, 0);

    // Someone else's schema of that name is never dropped.
    sqlx::query(sqlx::AssertSqlSafe(format!("COMMENT ON SCHEMA {schema} IS 'precious'"))).execute(&mut admin).await.unwrap();
    let err = Db::recreate_own_schema(&url, &schema, "contract test").await.unwrap_err();
    assert!(err.to_string().contains("was not made by contract test"), "{err}");
    let still: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)").bind(&schema).fetch_one(&mut admin).await.unwrap();
    assert!(still);
    // A name that is not a plain identifier is refused before anything runs.
    assert!(Db::recreate_own_schema(&url, "x; DROP SCHEMA public", "contract test").await.is_err());
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut admin).await.unwrap();
}
