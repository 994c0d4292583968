use crate::common::*;
use domain::*;
use store::testing::TestDb;
use store::{PageRequest, StoreError, engagements, product_types, products, tests};

store::both_backends!(
    product_types_crud,
    products_crud_and_conflicts,
    product_visibility,
    engagements_and_tests,
    delete_cascades,
    timestamps_and_json_round_trip,
    get_or_create_under_concurrency,
);

/// Two transactions auto-creating the same product, product type and engagement at once (two
/// imports, two connector syncs) end with one of each, both transactions succeeding; `create`
/// still refuses a duplicate.
async fn get_or_create_under_concurrency(t: TestDb) {
    let product = || NewProduct { name: name("Raced"), description: None, product_type: None, business_criticality: None, tags: vec![] };
    let kind = || NewProductType { name: name("Raced type"), description: None, critical: false };
    let mut first = t.db.begin().await.unwrap();
    let p1 = products::get_or_create(&mut first, product()).await.unwrap();
    let k1 = product_types::get_or_create(&mut first, kind()).await.unwrap();
    let e1 = engagements::get_or_create(&mut first, NewEngagement::named(p1.id, name("Global Connectors"))).await.unwrap();
    // The second starts while the first is open: it waits (PostgreSQL on the unique index,
    // SQLite on the write lock) and then finds what the first made.
    let db = t.db.clone();
    let second = tokio::spawn(async move {
        let mut tx = db.begin().await.unwrap();
        let p = products::get_or_create(&mut tx, product()).await.unwrap();
        let k = product_types::get_or_create(&mut tx, kind()).await.unwrap();
        let e = engagements::get_or_create(&mut tx, NewEngagement::named(p.id, name("Global Connectors"))).await.unwrap();
        tx.commit().await.unwrap();
        (p.id, k.id, e.id)
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    first.commit().await.unwrap();
    assert_eq!(second.await.unwrap(), (p1.id, k1.id, e1.id));

    let mut c = t.db.conn().await.unwrap();
    let again = engagements::create(&mut c, NewEngagement::named(p1.id, name("Global Connectors"))).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict { .. }), "{again:?}");
    assert!(matches!(products::create(&mut c, product()).await.unwrap_err(), StoreError::Conflict { .. }));
}

async fn product_types_crud(t: TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    let pt = product_types::create(
        &mut tx,
        NewProductType {
            name: name("Web Apps"),
            description: Some("  ".into()),
            critical: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(pt.name, "Web Apps");
    assert_eq!(pt.description, None, "blank descriptions become null");
    assert!(pt.critical);

    let dup = product_types::create(
        &mut tx,
        NewProductType {
            name: name("Web Apps"),
            description: None,
            critical: false,
        },
    )
    .await
    .unwrap_err();
    match dup {
        StoreError::Conflict(v) => assert_eq!(v.field, "name"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    tx.rollback().await.unwrap();

    // The failed insert rolled the whole transaction back.
    let mut c = t.db.conn().await.unwrap();
    let page = product_types::list(&mut c, &Default::default(), &Visibility::All, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.count, 0);

    let mut tx = t.db.begin().await.unwrap();
    let mut pt = product_types::create(
        &mut tx,
        NewProductType { name: name("Platform"), description: None, critical: false },
    )
    .await
    .unwrap();
    pt.apply(ProductTypePatch { name: Some(name("Platform Team")), ..Default::default() });
    let updated = product_types::update(&mut tx, &pt).await.unwrap();
    assert_eq!(updated.name, "Platform Team");
    assert!(updated.updated_at >= updated.created_at);
    assert_eq!(product_types::get_by_name(&mut tx, "Platform Team").await.unwrap().unwrap().id, pt.id);
    product_types::delete(&mut tx, pt.id).await.unwrap();
    assert!(product_types::get(&mut tx, pt.id).await.unwrap_err().is_not_found());
    assert!(product_types::delete(&mut tx, pt.id).await.unwrap_err().is_not_found());
    tx.commit().await.unwrap();
}

async fn products_crud_and_conflicts(t: TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    let missing_type = products::create(
        &mut tx,
        NewProduct {
            name: name("Orphan"),
            description: None,
            product_type: Some(ProductTypeId(999_999)),
            business_criticality: None,
            tags: vec![],
        },
    )
    .await
    .unwrap_err();
    match missing_type {
        StoreError::Invalid(v) => {
            assert_eq!(v.field, "product_type");
            assert!(v.message.contains("999999"), "{}", v.message);
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    tx.rollback().await.unwrap();

    let w = world(&t.db, "Storefront").await;
    assert_eq!(w.product.tags, ["web"]);
    let mut tx = t.db.begin().await.unwrap();
    let err = products::create(
        &mut tx,
        NewProduct {
            name: name("Storefront"),
            description: None,
            product_type: None,
            business_criticality: None,
            tags: vec![],
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(ref v) if v.field == "name"), "{err:?}");
    tx.rollback().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    let pt = product_types::create(
        &mut tx,
        NewProductType { name: name("Retail"), description: None, critical: false },
    )
    .await
    .unwrap();
    let mut p = w.product.clone();
    p.apply(ProductPatch {
        product_type: Some(Some(pt.id)),
        tags: Some(vec!["web".into(), "pci".into()]),
        ..Default::default()
    });
    let p = products::update(&mut tx, &p).await.unwrap();
    assert_eq!(p.product_type, Some(pt.id));
    assert_eq!(p.tags, ["web", "pci"]);
    let listed = products::list(
        &mut tx,
        &products::Filter { product_type: Some(pt.id), ..Default::default() },
        &Visibility::All,
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(listed.count, 1);
    // Deleting the type keeps the product, untyped.
    product_types::delete(&mut tx, pt.id).await.unwrap();
    assert_eq!(products::get(&mut tx, p.id).await.unwrap().product_type, None);
    tx.commit().await.unwrap();
}

async fn product_visibility(t: TestDb) {
    let a = world(&t.db, "Alpha").await;
    let b = world(&t.db, "Beta").await;
    let mut tx = t.db.begin().await.unwrap();
    let pt = product_types::create(
        &mut tx,
        NewProductType { name: name("Only B's"), description: None, critical: false },
    )
    .await
    .unwrap();
    let mut pb = b.product.clone();
    pb.product_type = Some(pt.id);
    products::update(&mut tx, &pb).await.unwrap();
    tx.commit().await.unwrap();

    let only_a = Visibility::Only(vec![a.product.id]);
    let mut c = t.db.conn().await.unwrap();
    let ps = products::list(&mut c, &Default::default(), &only_a, PageRequest::default()).await.unwrap();
    assert_eq!(ps.results.iter().map(|p| p.id).collect::<Vec<_>>(), [a.product.id]);
    let es = engagements::list(&mut c, &Default::default(), &only_a, PageRequest::default()).await.unwrap();
    assert!(es.results.iter().all(|e| e.product == a.product.id));
    assert_eq!(es.count, 1);
    let ts = tests::list(&mut c, &Default::default(), &only_a, PageRequest::default()).await.unwrap();
    assert_eq!(ts.count, 1);
    let pts = product_types::list(&mut c, &Default::default(), &only_a, PageRequest::default()).await.unwrap();
    assert_eq!(pts.count, 0, "a product type holding only B's product is not visible to A's reader");
    let pts = product_types::list(&mut c, &Default::default(), &Visibility::Only(vec![b.product.id]), PageRequest::default()).await.unwrap();
    assert_eq!(pts.count, 1);
    let none = products::list(&mut c, &Default::default(), &Visibility::Only(vec![]), PageRequest::default()).await.unwrap();
    assert_eq!(none.count, 0);
}

async fn engagements_and_tests(t: TestDb) {
    let w = world(&t.db, "Payments").await;
    let mut tx = t.db.begin().await.unwrap();
    let dup = engagements::create(&mut tx, NewEngagement::named(w.product.id, name("CI")))
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(ref v) if v.field == "name"), "{dup:?}");
    tx.rollback().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    let missing = engagements::create(&mut tx, NewEngagement::named(ProductId(424_242), name("X")))
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::Invalid(ref v) if v.field == "product"), "{missing:?}");
    tx.rollback().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    let mut e = NewEngagement::named(w.product.id, name("Pentest 2026"));
    e.target_start = chrono::NaiveDate::from_ymd_opt(2026, 3, 1);
    e.target_end = chrono::NaiveDate::from_ymd_opt(2026, 2, 1);
    let bad_dates = engagements::create(&mut tx, e).await.unwrap_err();
    assert!(matches!(bad_dates, StoreError::Invalid(ref v) if v.field == "target_end"));
    tx.rollback().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    assert_eq!(
        engagements::get_by_name(&mut tx, w.product.id, "CI").await.unwrap().unwrap().id,
        w.engagement.id
    );
    assert_eq!(w.test.product, w.product.id, "a test takes its product from its engagement");
    assert_eq!(w.test.engagement, w.engagement.id);
    let missing = tests::create(
        &mut tx,
        NewTest::new(EngagementId(777_777), name("x"), name("SARIF")),
    )
    .await
    .unwrap_err();
    assert!(matches!(missing, StoreError::Invalid(ref v) if v.field == "engagement"), "{missing:?}");
    tx.rollback().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    let second = tests::create(
        &mut tx,
        NewTest::new(w.engagement.id, name("Semgrep"), name("Semgrep JSON Report")),
    )
    .await
    .unwrap();
    let found = tests::find_for_reimport(&mut tx, w.engagement.id, "Semgrep JSON Report", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, second.id, "the newest matching test receives reimports");
    assert!(tests::find_for_reimport(&mut tx, w.engagement.id, "SARIF", None).await.unwrap().is_none());
    let mut eng = w.engagement.clone();
    eng.apply(EngagementPatch {
        status: Some(EngagementStatus::Completed),
        branch_tag: Some(Some("main".into())),
        ..Default::default()
    })
    .unwrap();
    let eng = engagements::update(&mut tx, &eng).await.unwrap();
    assert_eq!(eng.status, EngagementStatus::Completed);
    assert_eq!(eng.branch_tag.as_deref(), Some("main"));
    let mut test = second.clone();
    test.apply(TestPatch { environment: Some(Some("staging".into())), ..Default::default() }).unwrap();
    assert_eq!(tests::update(&mut tx, &test).await.unwrap().environment.as_deref(), Some("staging"));
    tx.commit().await.unwrap();
}

async fn delete_cascades(t: TestDb) {
    let w = world(&t.db, "Doomed").await;
    let mut tx = t.db.begin().await.unwrap();
    let f = store::findings::insert_many(&mut tx, vec![finding(&w.test, "XSS", Severity::High)], store::findings::Seen::At)
        .await
        .unwrap();
    products::delete(&mut tx, w.product.id).await.unwrap();
    assert!(engagements::get(&mut tx, w.engagement.id).await.unwrap_err().is_not_found());
    assert!(tests::get(&mut tx, w.test.id).await.unwrap_err().is_not_found());
    assert!(store::findings::get(&mut tx, f[0].id).await.unwrap_err().is_not_found());
    tx.commit().await.unwrap();
}

async fn timestamps_and_json_round_trip(t: TestDb) {
    let w = world(&t.db, "Roundtrip").await;
    let mut c = t.db.conn().await.unwrap();
    let again = products::get(&mut c, w.product.id).await.unwrap();
    assert_eq!(again, w.product, "a product reads back exactly as written");
    let e = engagements::get(&mut c, w.engagement.id).await.unwrap();
    assert_eq!(e, w.engagement);
    let ts = tests::get(&mut c, w.test.id).await.unwrap();
    assert_eq!(ts, w.test);
    assert_eq!(again.created_at.timestamp_subsec_nanos() % 1000, 0, "microsecond precision");
}
