//! Connectors, Records, operations and schedules, on both backends.

use crate::common::world;
use chrono::TimeDelta;
use domain::connector::*;
use store::connectors::{self, ConnectorChanges, NewConnector, OperationFilter, RecordFilter};
use store::testing::TestDb;
use store::{Db, PageRequest, StoreError, now};

store::both_backends!(
    connectors_keep_secrets_and_labels_unique,
    records_live_through_discover_and_decisions,
    one_operation_of_a_kind_runs_at_a_time,
    a_due_schedule_is_taken_once,
);

async fn connector(db: &Db, label: &str) -> Connector {
    let cipher = secrets::Cipher::new(&secrets::MasterKey::generate());
    let mut c = db.conn().await.unwrap();
    connectors::create(
        &mut c,
        NewConnector {
            tool: Tool::Semgrep,
            label: label.into(),
            location: "https://semgrep.dev".into(),
            secrets: cipher.seal("connector-secrets", r#"{"token":"sgp_x"}"#),
            settings: ConnectorSettings::default(),
        },
    )
    .await
    .unwrap()
}

async fn connectors_keep_secrets_and_labels_unique(t: TestDb) {
    let k = connector(&t.db, "Semgrep").await;
    let mut c = t.db.conn().await.unwrap();
    assert!(!serde_json::to_string(&k).unwrap().contains("sgp_x"));
    assert!(connectors::secrets(&mut c, k.id).await.unwrap().as_stored().len() > 10);
    let cipher = secrets::Cipher::new(&secrets::MasterKey::generate());
    let e = connectors::create(
        &mut c,
        NewConnector { tool: Tool::Snyk, label: "SEMGREP".into(), location: "https://api.snyk.io".into(), secrets: cipher.seal("x", "y"), settings: ConnectorSettings::default() },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(ref v) if v.field == "label"), "{e:?}");
    let settings = ConnectorSettings { auto_map: true, sync_every_minutes: 30, ..Default::default() };
    let k2 = connectors::update(&mut c, k.id, ConnectorChanges { settings: Some(settings.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(k2.settings, settings);
    assert_eq!(connectors::get_by_label(&mut c, "semgrep").await.unwrap().unwrap().id, k.id);
    assert_eq!(connectors::list(&mut c).await.unwrap().len(), 1);
    connectors::delete(&mut c, k.id).await.unwrap();
    assert!(connectors::get(&mut c, k.id).await.unwrap_err().is_not_found());
}

async fn records_live_through_discover_and_decisions(t: TestDb) {
    let w = world(&t.db, "Shop").await;
    let k = connector(&t.db, "Semgrep").await;
    let mut c = t.db.conn().await.unwrap();
    let found = DiscoveredRecord { external_id: "123".into(), name: "acme/web".into(), metadata: serde_json::json!({"branch": "main"}) };
    let r = connectors::create_record(&mut c, k.id, &found, None, None).await.unwrap();
    assert_eq!((r.state, r.product, r.syncs), (RecordState::New, None, 0));
    assert!(connectors::create_record(&mut c, k.id, &found, None, None).await.is_err(), "one record per external id");
    let auto = connectors::create_record(&mut c, k.id, &DiscoveredRecord { external_id: "456".into(), name: "acme/api".into(), metadata: serde_json::Value::Null }, Some(w.product.id), Some("auto-map"))
        .await
        .unwrap();
    assert_eq!((auto.state, auto.product, auto.finalized_by.as_deref()), (RecordState::Good, Some(w.product.id), Some("auto-map")));
    let renamed = DiscoveredRecord { name: "acme/web-app".into(), ..found.clone() };
    connectors::refresh_record(&mut c, r.id, &renamed, RecordState::New).await.unwrap();
    let mapped = connectors::decide_record(&mut c, r.id, RecordState::Good, Some(w.product.id), "alice").await.unwrap();
    assert_eq!((mapped.name.as_str(), mapped.state, mapped.finalized_by.as_deref()), ("acme/web-app", RecordState::Good, Some("alice")));
    connectors::record_synced(&mut c, r.id, Some("cursor-1"), now()).await.unwrap();
    connectors::record_synced(&mut c, r.id, None, now()).await.unwrap();
    let r2 = connectors::get_record(&mut c, r.id).await.unwrap();
    assert_eq!((r2.syncs, r2.cursor.as_deref()), (2, Some("cursor-1")), "a full pull keeps the cursor");
    let mapped_only = connectors::list_records(&mut c, &RecordFilter { connector: Some(k.id), mapped: Some(true), ..Default::default() }, PageRequest::default()).await.unwrap();
    assert_eq!(mapped_only.count, 2);
    // Deleting the product leaves the records pointing nowhere: stale at the next Discover.
    store::products::delete(&mut c, w.product.id).await.unwrap();
    let with = connectors::records_with_products(&mut c, k.id).await.unwrap();
    assert!(with.iter().all(|(r, exists)| r.product.is_none() && !exists));
    let changes = discover_changes(&with, std::slice::from_ref(&found));
    assert!(changes.contains(&RecordChange::Refresh { id: r.id, found: found.clone(), state: RecordState::Stale }), "{changes:?}");
    connectors::delete_record(&mut c, r.id).await.unwrap();
    assert!(connectors::get_record(&mut c, r.id).await.unwrap_err().is_not_found());
}

async fn one_operation_of_a_kind_runs_at_a_time(t: TestDb) {
    let k = connector(&t.db, "Semgrep").await;
    let mut c = t.db.conn().await.unwrap();
    let a = connectors::create_operation(&mut c, k.id, OperationKind::Sync, OperationTrigger::Scheduled).await.unwrap();
    let b = connectors::create_operation(&mut c, k.id, OperationKind::Sync, OperationTrigger::Manual).await.unwrap();
    let d = connectors::create_operation(&mut c, k.id, OperationKind::Discover, OperationTrigger::Manual).await.unwrap();
    assert!(connectors::start_operation(&mut c, a.id, now()).await.unwrap());
    assert!(!connectors::start_operation(&mut c, b.id, now()).await.unwrap(), "a manual sync waits for the one in flight");
    assert!(connectors::start_operation(&mut c, d.id, now()).await.unwrap(), "a discover may run beside a sync");
    let done = connectors::finish_operation(&mut c, a.id, true, &serde_json::json!({"created": 3}), None).await.unwrap();
    assert_eq!(done.status, OperationStatus::Succeeded);
    assert!(done.duration_ms.is_some_and(|d| d >= 0));
    assert!(connectors::start_operation(&mut c, b.id, now()).await.unwrap(), "then it runs");
    let failed = connectors::finish_operation(&mut c, b.id, false, &serde_json::json!({}), Some("401 from Semgrep")).await.unwrap();
    assert_eq!((failed.status, failed.error.as_deref()), (OperationStatus::Failed, Some("401 from Semgrep")));
    let log = connectors::list_operations(&mut c, &OperationFilter { connector: Some(k.id), ..Default::default() }, PageRequest::default()).await.unwrap();
    assert_eq!(log.results.iter().map(|o| o.id).collect::<Vec<_>>(), [d.id, b.id, a.id], "newest first");
    connectors::reset_operation(&mut c, d.id).await.unwrap();
    assert_eq!(connectors::get_operation(&mut c, d.id).await.unwrap().status, OperationStatus::Pending);
}

async fn a_due_schedule_is_taken_once(t: TestDb) {
    let k = connector(&t.db, "Semgrep").await;
    let at = now() + TimeDelta::seconds(1);
    let mut c = t.db.conn().await.unwrap();
    let due = connectors::due(&mut c, at).await.unwrap();
    assert_eq!(due.iter().map(|(k, kind)| (k.id, *kind)).collect::<Vec<_>>(), [(k.id, OperationKind::Discover), (k.id, OperationKind::Sync)]);
    // Two replicas race for the same run: one wins.
    let other = store::Db::connect(&t.url, &t.options()).await.unwrap();
    let mut c2 = other.conn().await.unwrap();
    let next = Some(at + TimeDelta::hours(1));
    let (a, b) = tokio::join!(
        connectors::take_due(&mut c, k.id, OperationKind::Sync, at, next),
        connectors::take_due(&mut c2, k.id, OperationKind::Sync, at, next),
    );
    assert_eq!(u8::from(a.unwrap()) + u8::from(b.unwrap()), 1);
    assert_eq!(connectors::due(&mut c, at).await.unwrap().len(), 1, "only the discover is still due");
}
