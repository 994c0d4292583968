//! Finding groups: the list with its Integrator Tickets column, its findings, and Push.

use crate::harness::{Browser, Ui};
use domain::tracker::Subject;
use domain::{GroupBy, Role};
use serde_json::json;
use store::testing::TestDb;

store::both_backends!(groups_list_tickets_and_push);

async fn groups_list_tickets_and_push(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let rita = ui.user("rita", None).await;
    let shop = ui.world("Shop").await;
    let other = ui.world("Other").await;
    ui.member(shop.product.id, rita, Role::Reader).await;
    let f = ui.findings(&shop.test, vec![json!({"title": "log4j 1", "severity": "critical"}), json!({"title": "log4j 2", "severity": "medium"}), json!({"title": "alone", "severity": "low"})]).await;
    let theirs = ui.findings(&other.test, vec![json!({"title": "theirs", "severity": "low"})]).await;
    let (g, hidden) = {
        let mut c = ui.t.db.conn().await.unwrap();
        let g = store::groups::create(&mut c, &shop.test, "log4j-core", GroupBy::ComponentName).await.unwrap();
        store::findings::set_group(&mut c, &[f[0].id, f[1].id], Some(g.id)).await.unwrap();
        let h = store::groups::create(&mut c, &other.test, "secret group", GroupBy::ComponentName).await.unwrap();
        store::findings::set_group(&mut c, &[theirs[0].id], Some(h.id)).await.unwrap();
        (g, h)
    };
    let (i, m) = ui.github(shop.product.id).await;
    ui.ticket_for(&i, &m, Subject::Group(g.id), "acme/storefront#7", "https://github.com/acme/storefront/issues/7").await;

    let b = Browser::logged_in(&ui, "admin").await;
    let page = b.get("/finding-groups").await;
    let body = page.ok();
    assert!(body.contains(r#"href="/finding-groups" aria-current="page">Groups"#));
    assert!(body.contains(&format!(r#"<a href="/findings?finding_group={}">log4j-core</a>"#, g.id.0)), "{body}");
    assert!(body.contains(r#"aria-label="GitHub""#) && body.contains(r#"href="https://github.com/acme/storefront/issues/7""#), "group tickets");
    assert!(body.contains("Showing 1–2 of 2 groups"));

    // The group's findings, and on the findings list its members show the group's ticket.
    let list = b.get(&format!("/findings?finding_group={}", g.id.0)).await;
    let body = list.ok();
    assert!(body.contains("Only group log4j-core") && body.contains("of 2 findings") && !body.contains(">alone<"), "{body}");
    assert_eq!(body.matches("acme/storefront#7</a>").count(), 2, "both members show the group's ticket");

    // Push the group: queued through the API's push.
    let r = b.post(&format!("/finding-groups/{}/push", g.id.0), &[("csrf", page.csrf().as_str())]).await;
    assert!(r.ok().contains(&format!("Group {}: queued 1 push.", g.id.0)), "{}", r.body);

    // A product reader sees their product's groups only, and cannot push.
    let rb = Browser::logged_in(&ui, "rita").await;
    let page = rb.get("/finding-groups").await;
    assert!(page.ok().contains("log4j-core") && !page.body.contains("secret group"));
    assert!(!page.body.contains("Push to Integrators</button>"));
    let r = rb.post(&format!("/finding-groups/{}/push", g.id.0), &[("csrf", page.csrf().as_str())]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = rb.post(&format!("/finding-groups/{}/push", hidden.id.0), &[("csrf", page.csrf().as_str())]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(b.get("/finding-groups?offset=-3").await.status, 400);
}
