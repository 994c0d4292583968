//! A reader of product A sees nothing of product B, through any endpoint; roles gate writes.

use crate::app::TestApp;
use domain::Role;
use serde_json::json;
use store::testing::TestDb;

store::both_backends!(a_reader_of_a_sees_nothing_of_b, roles_gate_changes);

async fn a_reader_of_a_sees_nothing_of_b(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    let pt_b = app.post("/api/v1/product-types", a, json!({"name": "B's org"})).await.body["id"].as_i64().unwrap();
    let (pa, ea, ta) = app.world("A").await;
    let (pb, eb, tb) = app.world("B").await;
    app.patch(&format!("/api/v1/products/{pb}"), a, json!({"product_type": pt_b})).await;
    let fa = app.finding(ta, "A's finding", "high").await;
    let fb = app.finding(tb, "B's finding", "critical").await;
    let gb = app.post("/api/v1/finding-groups", a, json!({"test": tb, "name": "B's group", "findings": [fb]})).await.body["id"].as_i64().unwrap();

    let (reader_id, r) = app.user("reader", None).await;
    let put = app.put(&format!("/api/v1/products/{pa}/members/{}", reader_id.0), a, json!({"role": "reader"})).await;
    assert_eq!(put.status, 200, "{}", put.body);

    // Lists hold only A.
    for (path, n) in [
        ("/api/v1/products", 1),
        ("/api/v1/engagements", 1),
        ("/api/v1/tests", 1),
        ("/api/v1/findings", 1),
        ("/api/v1/finding-groups", 0),
        ("/api/v1/product-types", 0),
    ] {
        let resp = app.get(path, &r).await;
        assert_eq!(resp.body["count"], n, "{path}: {}", resp.body);
        let text = resp.body.to_string();
        assert!(!text.contains("B's"), "{path} leaks B: {text}");
    }
    // Filtering by B's ids finds nothing either.
    for path in [
        format!("/api/v1/findings?product={pb}"),
        format!("/api/v1/findings?engagement={eb}"),
        format!("/api/v1/findings?test={tb}"),
        format!("/api/v1/findings?finding_group={gb}"),
        format!("/api/v1/tests?product={pb}"),
    ] {
        assert_eq!(app.get(&path, &r).await.body["count"], 0, "{path}");
    }
    // B's objects look absent.
    for path in [
        format!("/api/v1/products/{pb}"),
        format!("/api/v1/products/{pb}/members"),
        format!("/api/v1/engagements/{eb}"),
        format!("/api/v1/tests/{tb}"),
        format!("/api/v1/findings/{fb}"),
        format!("/api/v1/findings/{fb}/history"),
        format!("/api/v1/finding-groups/{gb}"),
        format!("/api/v1/product-types/{pt_b}"),
    ] {
        app.get(&path, &r).await.problem(404, None);
    }
    // …and so do they when changed, or named in a body.
    app.patch(&format!("/api/v1/findings/{fb}"), &r, json!({"status": "closed"})).await.problem(404, None);
    app.delete(&format!("/api/v1/products/{pb}"), &r).await.problem(404, None);
    app.post("/api/v1/engagements", &r, json!({"product": pb, "name": "sneaky"})).await.problem(422, Some("product"));
    app.post("/api/v1/findings", &r, json!({"test": tb, "title": "x", "severity": "low"})).await.problem(422, Some("test"));
    // A's own objects are readable.
    assert_eq!(app.get(&format!("/api/v1/findings/{fa}"), &r).await.status, 200);
    assert_eq!(app.get(&format!("/api/v1/engagements/{ea}"), &r).await.status, 200);
    // And B is untouched.
    let b = app.get(&format!("/api/v1/findings/{fb}"), a).await;
    assert_eq!(b.body["status"], "active");
}

async fn roles_gate_changes(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    let (pa, ea, ta) = app.world("A").await;
    let fa = app.finding(ta, "f", "low").await;
    let (reader, r) = app.user("reader", None).await;
    let (writer, w) = app.user("writer", None).await;
    let (maint, m) = app.user("maintainer", None).await;
    for (id, role) in [(reader, "reader"), (writer, "writer"), (maint, "maintainer")] {
        app.put(&format!("/api/v1/products/{pa}/members/{}", id.0), a, json!({"role": role})).await;
    }

    let denied = app.patch(&format!("/api/v1/findings/{fa}"), &r, json!({"status": "closed"})).await;
    denied.problem(403, None);
    assert!(denied.detail().contains("writer role"), "{}", denied.detail());
    assert_eq!(app.patch(&format!("/api/v1/findings/{fa}"), &w, json!({"status": "in_progress"})).await.status, 200);
    app.post("/api/v1/engagements", &w, json!({"product": pa, "name": "new"})).await.problem(403, None);
    assert_eq!(app.post("/api/v1/engagements", &m, json!({"product": pa, "name": "new"})).await.status, 201);
    app.delete(&format!("/api/v1/findings/{fa}"), &w).await.problem(403, None);
    app.patch(&format!("/api/v1/engagements/{ea}"), &w, json!({"name": "renamed"})).await.problem(403, None);
    // A product maintainer still cannot create products or product types (global roles).
    app.post("/api/v1/products", &m, json!({"name": "Mine"})).await.problem(403, None);
    app.post("/api/v1/product-types", &m, json!({"name": "Mine"})).await.problem(403, None);
    app.put(&format!("/api/v1/products/{pa}/members/{}", reader.0), &w, json!({"role": "admin"})).await.problem(403, None);
    // A global reader sees all, changes nothing.
    let (_, gr) = app.user("auditor", Some(Role::Reader)).await;
    assert_eq!(app.get("/api/v1/findings", &gr).await.body["count"], 1);
    app.patch(&format!("/api/v1/findings/{fa}"), &gr, json!({"verified": true})).await.problem(403, None);
    // A global maintainer creates products.
    let (_, gm) = app.user("lead", Some(Role::Maintainer)).await;
    assert_eq!(app.post("/api/v1/products", &gm, json!({"name": "Lead's"})).await.status, 201);
}
