//! Products → engagements → tests, each leading to its findings.

use crate::harness::{Browser, Ui};
use domain::Role;
use serde_json::json;
use store::testing::TestDb;

store::both_backends!(hierarchy_follows_roles);

async fn hierarchy_follows_roles(t: TestDb) {
    let ui = Ui::start(t).await;
    let bob = ui.user("bob", None).await;
    let shop = ui.world("Shop").await;
    let other = ui.world("Elsewhere").await;
    ui.member(shop.product.id, bob, Role::Reader).await;
    ui.findings(
        &shop.test,
        vec![json!({"title": "Crit", "severity": "critical"}), json!({"title": "High", "severity": "high"}), json!({"title": "Done", "severity": "high", "status": "closed"})],
    )
    .await;
    ui.findings(&other.test, vec![json!({"title": "Theirs", "severity": "low"})]).await;
    let b = Browser::logged_in(&ui, "bob").await;

    let page = b.get("/products").await;
    let body = page.ok();
    assert!(body.contains(&format!(r#"<a href="/products/{}">Shop</a>"#, shop.product.id.0)), "{body}");
    assert!(!body.contains("Elsewhere"));
    assert!(body.contains(r#"href="/products" aria-current="page">Products"#), "in the navigation, as the current page");
    assert!(body.contains(r#"class="sev sev-critical""#));

    let page = b.get(&format!("/products/{}", shop.product.id.0)).await;
    let body = page.ok();
    assert!(body.contains(&format!(r#"<a href="/findings?engagement={}">CI</a>"#, shop.test.engagement.0)), "{body}");
    assert!(body.contains(&format!(r#"<a href="/findings?test={}">Semgrep</a>"#, shop.test.id.0)));
    assert!(body.contains("Semgrep JSON Report"));
    assert!(body.contains(r#"<span class="n">1</span>"#), "one open critical, one open high");

    // The test's link: its findings only, named, and kept when other filters change.
    let list = b.get(&format!("/findings?test={}", shop.test.id.0)).await;
    let body = list.ok();
    assert!(body.contains("Only test Semgrep (Semgrep JSON Report)"), "{body}");
    assert!(body.contains("of 3 findings") && !body.contains("Theirs"));
    assert!(body.contains(&format!(r#"<input type="hidden" name="test" value="{}">"#, shop.test.id.0)));
    let list = b.get(&format!("/findings?engagement={}&status=closed", shop.test.engagement.0)).await;
    assert!(list.ok().contains("of 1 findings") && list.body.contains("Only engagement CI"));

    // Another product's pages are not there for bob.
    assert_eq!(b.get(&format!("/products/{}", other.product.id.0)).await.status, 404);
    assert_eq!(b.get("/products/xyz").await.status, 400);
    let list = b.get(&format!("/findings?test={}", other.test.id.0)).await;
    assert!(list.ok().contains("No findings match.") && !list.body.contains("Semgrep JSON Report)"), "not even its name");
}
