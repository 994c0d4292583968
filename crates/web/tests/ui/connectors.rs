//! Connectors: configured and available, Records, operations, Discover and Sync.

use crate::harness::{Browser, Ui};
use domain::Role;
use domain::connector::{ConnectorSettings, DiscoveredRecord, OperationKind, OperationTrigger, Tool};
use store::testing::TestDb;

store::both_backends!(records_operations_and_runs);

async fn records_operations_and_runs(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    ui.user("reader", Some(Role::Reader)).await;
    let pat = ui.user("pat", None).await;
    let shop = ui.world("Shop").await;
    ui.member(shop.product.id, pat, Role::Maintainer).await;
    let cipher = secrets::Cipher::new(&secrets::MasterKey::generate());
    let k = {
        let mut c = ui.t.db.conn().await.unwrap();
        let k = store::connectors::create(
            &mut c,
            store::connectors::NewConnector {
                tool: Tool::Semgrep,
                label: "Semgrep acme".into(),
                location: "https://semgrep.dev".into(),
                secrets: cipher.seal("connector-secrets", r#"{"token":"sgp_never_shown"}"#),
                settings: ConnectorSettings::default(),
            },
        )
        .await
        .unwrap();
        let found = DiscoveredRecord { external_id: "proj-42".into(), name: "storefront".into(), metadata: serde_json::json!({}) };
        store::connectors::create_record(&mut c, k.id, &found, Some(shop.product.id), Some("admin")).await.unwrap();
        let lonely = DiscoveredRecord { external_id: "proj-43".into(), name: "sandbox".into(), metadata: serde_json::json!({}) };
        store::connectors::create_record(&mut c, k.id, &lonely, None, None).await.unwrap();
        let op = store::connectors::create_operation(&mut c, k.id, OperationKind::Sync, OperationTrigger::Scheduled).await.unwrap();
        store::connectors::start_operation(&mut c, op.id, store::now()).await.unwrap();
        store::connectors::finish_operation(&mut c, op.id, false, &serde_json::json!({"findings_created": 3, "findings_closed": 0}), Some("Semgrep answered 401: token expired"))
            .await
            .unwrap();
        k
    };

    let b = Browser::logged_in(&ui, "admin").await;
    let page = b.get("/connectors").await;
    let body = page.ok();
    assert!(body.contains(r#"href="/connectors" aria-current="page">Connectors"#));
    assert!(body.contains(&format!(r#"<a href="/connectors/{}">Semgrep acme</a>"#, k.id.0)));
    for tool in ["AWS Security Hub", "Tenable", "SonarQube", "Snyk"] {
        assert!(body.contains(tool), "{tool} among the available tools");
    }
    let url = format!("/connectors/{}", k.id.0);
    let page = b.get(&url).await;
    let body = page.ok();
    for want in ["storefront", "proj-42", &format!(r#"<a href="/products/{}">Shop</a>"#, shop.product.id.0), "not mapped", "findings created 3", "token expired", "scheduled"] {
        assert!(body.contains(want), "{want} missing: {body}");
    }
    assert!(!body.contains("sgp_never_shown"));

    let csrf = page.csrf();
    assert_eq!(b.post(&format!("{url}/discover"), &[]).await.status, 403, "CSRF");
    let r = b.post(&format!("{url}/discover"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("{url}?queued=discover").as_str()));
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert!(page.ok().contains("discover queued"));
    assert!(page.body.contains("<td>discover</td><td>pending</td><td>manual</td>"), "{}", page.body);
    let r = b.post(&format!("{url}/sync"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.location.as_deref(), Some(format!("{url}?queued=sync").as_str()));

    // A global reader sees, but may not run; product roles only: not at all.
    let rb = Browser::logged_in(&ui, "reader").await;
    let page = rb.get(&url).await;
    assert!(!page.ok().contains(">Discover</button>"));
    let r = rb.post(&format!("{url}/sync"), &[("csrf", page.csrf().as_str())]).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("maintainer"), "{}", r.body);
    let pb = Browser::logged_in(&ui, "pat").await;
    assert!(!pb.get("/").await.ok().contains(r#"href="/connectors""#));
    assert_eq!(pb.get("/connectors").await.status, 403);
    assert_eq!(pb.get(&url).await.status, 403);
    assert_eq!(b.get("/connectors/nope").await.status, 400);
    assert_eq!(b.get("/connectors/999999").await.status, 404);
}
