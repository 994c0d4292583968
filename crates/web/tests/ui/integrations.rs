//! Settings › Integrations: instances, mappings with Total Errors, the error table and Retry.

use crate::harness::{Browser, Ui};
use domain::Role;
use domain::tracker::Subject;
use serde_json::json;
use store::testing::TestDb;

store::both_backends!(errors_are_listed_and_retried);

async fn errors_are_listed_and_retried(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let pat = ui.user("pat", None).await;
    let shop = ui.world("Shop").await;
    ui.member(shop.product.id, pat, Role::Writer).await;
    let f = ui.findings(&shop.test, vec![json!({"title": "Fails", "severity": "high"}), json!({"title": "Fails too", "severity": "low"})]).await;
    let (_, m) = ui.github(shop.product.id).await;
    {
        let mut c = ui.t.db.conn().await.unwrap();
        for x in &f {
            store::push_errors::record(&mut c, m.id, Subject::Finding(x.id), "forbidden", "GitHub answered 403: Resource not accessible by integration", None, store::now())
                .await
                .unwrap();
        }
    }
    let b = Browser::logged_in(&ui, "admin").await;
    let page = b.get("/settings/integrations").await;
    let body = page.ok();
    assert!(body.contains(r#"href="/settings/integrations" aria-current="page">Integrations"#));
    for want in ["GitHub acme", "https://github.com/acme", "storefront", "Shop", "explicit"] {
        assert!(body.contains(want), "{want} missing: {body}");
    }
    let errors_url = format!("/settings/integrations/mappings/{}/errors", m.id.0);
    assert!(body.contains(&format!(r#"<a href="{errors_url}" class="bad">2</a>"#)), "Total Errors links to the error table: {body}");
    assert!(!body.contains("ghp_secret_never_shown") && !body.contains("whsec"), "no secrets");

    let page = b.get(&errors_url).await;
    let body = page.ok();
    assert!(body.contains("2 failed pushes"));
    assert!(body.contains("Resource not accessible by integration") && body.contains("forbidden"));
    assert!(body.contains(&format!(r#"<a href="/findings/{}">finding {}</a>"#, f[0].id.0, f[0].id.0)));
    assert!(body.contains("waits for a retry"));

    // Retry one, then all: pushes queued again, and the page says so.
    let csrf = page.csrf();
    let mut c = ui.t.db.conn().await.unwrap();
    let one = store::push_errors::list(&mut c, m.id, store::PageRequest::default()).await.unwrap().results[0].id;
    drop(c);
    assert_eq!(b.post(&format!("/settings/integrations/errors/{one}/retry"), &[]).await.status, 403, "CSRF");
    let r = b.post(&format!("/settings/integrations/errors/{one}/retry"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("{errors_url}?retried=1").as_str()));
    assert!(b.get(r.location.as_deref().unwrap()).await.ok().contains("Queued 1 push again."));
    let r = b.post(&format!("{errors_url}/retry"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.location.as_deref(), Some(format!("{errors_url}?retried=2").as_str()));
    let mut c = ui.t.db.conn().await.unwrap();
    let jobs = store::jobs::list(&mut c, &store::jobs::Filter { queue: Some("push".into()), ..Default::default() }, store::PageRequest::all()).await.unwrap();
    assert!(jobs.count >= 1, "retries are queued pushes");
    drop(c);

    // Product roles only: no Integrations in the menu, and the pages say why.
    let p = Browser::logged_in(&ui, "pat").await;
    assert!(!p.get("/").await.ok().contains("/settings/integrations"));
    let r = p.get("/settings/integrations").await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("needs a global role"), "{}", r.body);
    assert_eq!(p.get(&errors_url).await.status, 403);
    assert_eq!(b.get("/settings/integrations/mappings/abc/errors").await.status, 400);
    assert_eq!(b.get("/settings/integrations/mappings/999999/errors").await.status, 404);
}
