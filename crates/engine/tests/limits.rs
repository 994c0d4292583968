//! The database-backed rate limiter (`engine::limits::DbLimiter`) as connectors use it on
//! PostgreSQL (the limiter itself is tested on both databases): two
//! processes' limiters of one connector share its budget and wait in place; a tool's "wait"
//! seen by one holds the other; other connectors are not held; a tracker-style limiter gives
//! up instead of sleeping past its patience.

use domain::connector::{ConnectorSettings, Tool};
use engine::limits::{DbLimiter, Patience};
use outbound::limit::ALL;
use outbound::{Budget, CallError, Limiter, RateInfo, RequestClass};
use std::time::{Duration, Instant};
use store::testing::TestDb;

store::both_backends!(connector_budgets_are_shared_through_the_database);

async fn connector(db: &store::Db, label: &str) -> domain::connector::Connector {
    let cipher = secrets::Cipher::new(&secrets::MasterKey::generate());
    let mut c = db.conn().await.unwrap();
    store::connectors::create(
        &mut c,
        store::connectors::NewConnector {
            tool: Tool::Semgrep,
            label: label.into(),
            location: "https://semgrep.dev".into(),
            secrets: cipher.seal("connector-secrets", r#"{"token":"x"}"#),
            settings: ConnectorSettings::default(),
        },
    )
    .await
    .unwrap()
}

fn limiter(db: &store::Db, k: &domain::connector::Connector, budget: Budget, patience: Patience) -> DbLimiter {
    DbLimiter { db: db.clone(), owner: k.id.into(), budgets: vec![budget], patience }
}

async fn connector_budgets_are_shared_through_the_database(t: TestDb) {
    let k = connector(&t.db, "Semgrep").await;
    let other = connector(&t.db, "Semgrep too").await;
    let pace = Budget { name: "api-second", classes: ALL, limit: 2, per: Duration::from_millis(600) };
    // Two processes (a worker's Sync, the web server's Check connection) of one connector.
    let worker = limiter(&t.db, &k, pace.clone(), Patience::Wait);
    let web = limiter(&t.db, &k, pace.clone(), Patience::Wait);
    let start = Instant::now();
    worker.acquire(RequestClass::Read).await.unwrap();
    web.acquire(RequestClass::Read).await.unwrap();
    // The budget of 2 is spent between them: the third request waits for the window, in place.
    worker.acquire(RequestClass::Read).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(500), "waited {:?}", start.elapsed());

    // A tracker-style limiter gives the request up instead of waiting past its patience.
    let hourly = Budget { name: "api-hour", classes: ALL, limit: 1, per: Duration::from_secs(3600) };
    let impatient = limiter(&t.db, &k, hourly.clone(), Patience::GiveUpAfter(Duration::from_secs(3)));
    impatient.acquire(RequestClass::Read).await.unwrap();
    match impatient.acquire(RequestClass::Read).await {
        Err(CallError::RateLimited { until: Some(_), reason }) => {
            assert_eq!(reason, "the connector's read budget (1 an hour) is spent");
        }
        other => panic!("expected a spent budget, got {other:?}"),
    }

    // The tool says "wait" to one process: every process of that connector holds, others not.
    web.observe(RequestClass::Read, &RateInfo { retry_after: Some(Duration::from_secs(120)), ..Default::default() }).await;
    let roomy = Budget { name: "roomy", classes: ALL, limit: 1000, per: Duration::from_secs(1) };
    let held = limiter(&t.db, &k, roomy.clone(), Patience::GiveUpAfter(Duration::ZERO));
    match held.acquire(RequestClass::Read).await {
        Err(CallError::RateLimited { reason, .. }) => assert_eq!(reason, "the scanner asked to wait: Retry-After 120 s"),
        other => panic!("expected the block, got {other:?}"),
    }
    let free = limiter(&t.db, &other, roomy, Patience::GiveUpAfter(Duration::ZERO));
    free.acquire(RequestClass::Read).await.expect("another connector is not held");
    let (until, why) = store::rate_limits::blocked(&t.db, k.id, store::now()).await.unwrap().expect("blocked");
    assert!(until > store::now() + chrono::TimeDelta::seconds(100));
    assert_eq!(why, "Retry-After 120 s");
}
