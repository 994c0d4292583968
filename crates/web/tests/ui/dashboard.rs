//! The dashboard: open findings by severity and product, recent imports, the push queue.

use crate::harness::{Browser, Ui};
use domain::Role;
use serde_json::json;
use store::testing::TestDb;

store::both_backends!(dashboard_counts_follow_roles);

/// The number on the severity tile labelled `label`.
fn tile(body: &str, label: &str) -> i64 {
    let marker = format!("</span> {label}</a>");
    let end = body.find(&marker).unwrap_or_else(|| panic!("no {label} tile in {body}"));
    let start = body[..end].rfind('>').unwrap() + 1;
    body[start..end].trim().parse().unwrap()
}

async fn dashboard_counts_follow_roles(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let bob = ui.user("bob", None).await;
    let shop = ui.world("Shop").await;
    let other = ui.world("Elsewhere").await;
    ui.member(shop.product.id, bob, Role::Reader).await;
    let f = ui
        .findings(
            &shop.test,
            vec![
                json!({"title": "a", "severity": "critical"}),
                json!({"title": "b", "severity": "critical"}),
                json!({"title": "c", "severity": "high"}),
                json!({"title": "d", "severity": "high", "status": "closed"}),
            ],
        )
        .await;
    ui.findings(&other.test, vec![json!({"title": "e", "severity": "medium"})]).await;
    {
        let mut c = ui.t.db.conn().await.unwrap();
        store::imports::create(
            &mut c,
            store::imports::NewImport {
                test: shop.test.id,
                engagement: shop.test.engagement,
                product: shop.product.id,
                reimport: false,
                scan_type: "Semgrep JSON Report".into(),
                file_name: Some("semgrep-report.json".into()),
                actor: "ci-bot".into(),
                options: json!({}),
                started_at: store::now(),
                findings: Default::default(),
                statistics: json!({}),
            },
        )
        .await
        .unwrap();
    }
    let (_, m) = ui.github(shop.product.id).await;
    {
        let mut c = ui.t.db.conn().await.unwrap();
        store::push_errors::record(&mut c, m.id, domain::tracker::Subject::Finding(f[2].id), "forbidden", "403", None, store::now()).await.unwrap();
        let k = store::connectors::create(
            &mut c,
            store::connectors::NewConnector {
                tool: domain::connector::Tool::Snyk,
                label: "Snyk org".into(),
                location: "https://api.snyk.io".into(),
                secrets: secrets::Cipher::new(&secrets::MasterKey::generate()).seal("connector-secrets", "{}"),
                settings: Default::default(),
            },
        )
        .await
        .unwrap();
        let op = store::connectors::create_operation(&mut c, k.id, domain::connector::OperationKind::Sync, domain::connector::OperationTrigger::Scheduled).await.unwrap();
        store::connectors::finish_operation(&mut c, op.id, false, &json!({}), Some("Snyk answered 401")).await.unwrap();
    }

    let admin = Browser::logged_in(&ui, "admin").await;
    let csrf = admin.get("/").await.csrf();
    admin.post(&format!("/findings/{}/push", f[0].id.0), &[("csrf", &csrf)]).await.ok();

    let page = admin.get("/").await;
    let body = page.ok();
    assert!(body.contains("<h1>Dashboard</h1>"));
    assert_eq!((tile(body, "Critical"), tile(body, "High"), tile(body, "Medium"), tile(body, "Low")), (2, 1, 1, 0));
    assert!(body.contains("Shop") && body.contains("Elsewhere"));
    assert!(body.contains("semgrep-report.json") && body.contains("ci-bot"), "recent imports");
    assert!(body.contains(r#"<strong class="queue-depth">1</strong> waiting"#), "push queue depth: {body}");
    assert!(body.contains("GitHub acme"), "the queue per integration");
    assert!(body.contains("Recent syncs") && body.contains("Snyk answered 401"), "recent syncs");
    assert!(body.contains("Needs attention"), "{body}");
    assert!(body.contains(&format!(r#"<a href="/settings/integrations/mappings/{}/errors">1 failed push to storefront</a>"#, m.id.0)), "{body}");
    assert!(body.contains("Snyk org: its latest sync failed"));
    // Counts link to the findings they count.
    assert!(body.contains("/findings?status=active&#38;status=in_progress&#38;status=awaiting_validation&#38;severity=critical"), "{body}");

    let b = Browser::logged_in(&ui, "bob").await;
    let page = b.get("/").await;
    let body = page.ok();
    assert_eq!((tile(body, "Critical"), tile(body, "High"), tile(body, "Medium")), (2, 1, 0), "only Shop's findings");
    assert!(!body.contains("Elsewhere"));
    assert!(!body.contains("queue-depth"), "the queue spans all products: global roles only");
    assert!(!body.contains("Recent syncs") && !body.contains("Needs attention"));
}
