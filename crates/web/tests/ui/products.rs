//! Products → engagements → tests, each leading to its findings.

use crate::harness::{Browser, Ui};
use domain::Role;
use serde_json::json;
use store::testing::TestDb;

store::both_backends!(hierarchy_follows_roles, trackers_of_a_product);

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

/// A product's page lists where its findings are pushed; its maintainers get the links to add
/// and change assignments, its readers do not.
async fn trackers_of_a_product(t: TestDb) {
    let ui = Ui::start(t).await;
    let shop = ui.world("Shop").await;
    let quiet = ui.world("Quiet").await;
    let (_, m) = ui.github(shop.product.id).await;
    let mia = ui.user("mia", None).await;
    let rex = ui.user("rex", None).await;
    ui.member(shop.product.id, mia, Role::Maintainer).await;
    ui.member(quiet.product.id, mia, Role::Maintainer).await;
    ui.member(shop.product.id, rex, Role::Reader).await;

    let b = Browser::logged_in(&ui, "mia").await;
    let body = b.get(&format!("/products/{}", shop.product.id.0)).await.ok().to_owned();
    assert!(body.contains("GitHub acme › storefront"), "{body}");
    assert!(body.contains("Explicitly Publish Changes") && body.contains("the whole product"));
    assert!(body.contains(r#"<svg"#), "the vendor's icon");
    let assignment = store::assignments::list(&mut ui.t.db.conn().await.unwrap(), &store::assignments::Filter { mapping: Some(m.id), ..Default::default() }).await.unwrap();
    assert!(body.contains(&format!(r#"href="/settings/integrations/assignments/{}/edit""#, assignment[0].id.0)));
    assert!(body.contains(&format!(r#"href="/settings/integrations/assignments/new?product={}""#, shop.product.id.0)));
    // The link leads to the form with the product chosen.
    let form = b.get(&format!("/settings/integrations/assignments/new?product={}", shop.product.id.0)).await;
    assert!(form.ok().contains(&format!(r#"<option value="{}" selected"#, shop.product.id.0)), "{}", form.body);
    let body = b.get(&format!("/products/{}", quiet.product.id.0)).await.ok().to_owned();
    assert!(body.contains("No tracker assignments"), "{body}");

    let b = Browser::logged_in(&ui, "rex").await;
    let body = b.get(&format!("/products/{}", shop.product.id.0)).await.ok().to_owned();
    assert!(body.contains("GitHub acme › storefront"), "a reader sees where findings go");
    assert!(!body.contains("/settings/integrations/assignments/"), "but gets no links to change it");
}
