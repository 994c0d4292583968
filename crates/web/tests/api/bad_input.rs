//! Every kind of bad input gets a 4xx problem naming what is wrong, and changes nothing.

use crate::app::TestApp;
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;
use store::testing::TestDb;

store::both_backends!(bad_bodies, bad_auth, bad_paths_and_queries);

async fn bad_bodies(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    let (pid, _, tid) = app.world("Shop").await;

    // Invalid JSON: 400, saying where.
    let r = app
        .raw(
            Request::post("/api/v1/products")
                .header(header::AUTHORIZATION, format!("Token {a}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"name": "x",,}"#))
                .unwrap(),
        )
        .await;
    r.problem(400, None);
    assert!(r.detail().contains("line 1 column"), "{}", r.detail());

    // Not JSON at all: 415.
    let r = app
        .raw(
            Request::post("/api/v1/products")
                .header(header::AUTHORIZATION, format!("Token {a}"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("name=x"))
                .unwrap(),
        )
        .await;
    r.problem(415, None);

    app.post("/api/v1/products", a, json!({"name": "X", "colour": "red"})).await.problem(422, Some("colour"));
    app.post("/api/v1/products", a, json!({"description": "no name"})).await.problem(422, Some("name"));
    app.post("/api/v1/products", a, json!({"name": "   "})).await.problem(422, Some("name"));
    app.post("/api/v1/products", a, json!({"name": "Y", "business_criticality": "urgent"})).await.problem(422, Some("business_criticality"));
    app.post("/api/v1/products", a, json!({"name": 7})).await.problem(422, Some("name"));
    app.post("/api/v1/products", a, json!({"name": "Shop"})).await.problem(409, Some("name"));
    let r = app.post("/api/v1/findings", a, json!({"test": tid, "title": "x", "severity": "urgent"})).await;
    r.problem(422, Some("severity"));
    assert!(r.detail().contains("urgent"), "{}", r.detail());
    app.post("/api/v1/findings", a, json!({"test": tid, "title": "x", "severity": "low", "status": "nope"})).await.problem(422, Some("status"));
    app.post("/api/v1/findings", a, json!({"test": tid, "title": "x", "severity": "low", "cwe": -1})).await.problem(422, Some("cwe"));
    app.post("/api/v1/findings", a, json!({"test": tid, "title": "x", "severity": "low", "endpoints": [{"host": "h", "prot": "x"}]})).await.problem(422, Some("endpoints[0].prot"));
    app.post("/api/v1/findings", a, json!({"test": 999999, "title": "x", "severity": "low"})).await.problem(422, Some("test"));
    app.post("/api/v1/engagements", a, json!({"product": 424242, "name": "x"})).await.problem(422, Some("product"));
    app.post("/api/v1/engagements", a, json!({"product": pid, "name": "x", "target_start": "2026-02-01", "target_end": "2026-01-01"})).await.problem(422, Some("target_end"));
    app.post("/api/v1/engagements", a, json!({"product": pid, "name": "x", "target_start": "first of May"})).await.problem(422, Some("target_start"));

    // Oversized body: 413.
    let huge = "x".repeat(3 * 1024 * 1024);
    let r = app.post("/api/v1/products", a, json!({"name": "big", "description": huge})).await;
    r.problem(413, None);

    // Nothing above was written.
    let products = app.get("/api/v1/products", a).await;
    assert_eq!(products.body["count"], 1, "{}", products.body);
    let findings = app.get("/api/v1/findings", a).await;
    assert_eq!(findings.body["count"], 0);
    let engagements = app.get("/api/v1/engagements", a).await;
    assert_eq!(engagements.body["count"], 1);
}

async fn bad_auth(t: TestDb) {
    let app = TestApp::new(t).await;
    let r = app.raw(Request::get("/api/v1/products").body(Body::empty()).unwrap()).await;
    r.problem(401, None);
    assert_eq!(r.www_authenticate.as_deref(), Some("Token realm=\"vulnbridge\""));
    let r = app
        .raw(Request::get("/api/v1/products").header(header::AUTHORIZATION, "Basic YWRtaW46YWRtaW4=").body(Body::empty()).unwrap())
        .await;
    r.problem(401, None);
    assert!(r.detail().contains("Basic"), "{}", r.detail());
    app.get("/api/v1/products", "vbt_0000000000000000000000000000000000000000").await.problem(401, None);
    app.get("/api/v1/products", "not-a-token").await.problem(401, None);
    let bearer = app
        .raw(Request::get("/api/v1/products").header(header::AUTHORIZATION, format!("Bearer {}", app.admin)).body(Body::empty()).unwrap())
        .await;
    assert_eq!(bearer.status, 200);
}

async fn bad_paths_and_queries(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    app.get("/api/v1/products/abc", a).await.problem(400, None);
    app.get("/api/v1/products/99999", a).await.problem(404, None);
    app.get("/api/v1/nothing-here", a).await.problem(404, None);
    app.get("/api/v1/findings?severty=high", a).await.problem(422, Some("severty"));
    app.get("/api/v1/findings?severity=high,urgent", a).await.problem(422, Some("severity"));
    app.get("/api/v1/findings?product=abc", a).await.problem(422, Some("product"));
    app.get("/api/v1/findings?ordering=random", a).await.problem(422, Some("ordering"));
    app.get("/api/v1/jobs?status=exploded", a).await.problem(422, Some("status"));
    let limited = app.get("/api/v1/findings?limit=100000", a).await;
    assert_eq!(limited.status, 200, "an over-large limit is clamped, not refused");
}
