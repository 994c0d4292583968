use crate::app::TestApp;
use serde_json::json;
use store::testing::TestDb;

store::both_backends!(crud_through_the_hierarchy, findings_filter_page_and_history, groups_through_the_api, health_and_metrics);

async fn crud_through_the_hierarchy(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    let pt = app.post("/api/v1/product-types", a, json!({"name": "Retail", "critical": true})).await;
    assert_eq!(pt.status, 201, "{}", pt.body);
    let ptid = pt.body["id"].as_i64().unwrap();
    let p = app
        .post("/api/v1/products", a, json!({"name": "Storefront", "product_type": ptid, "business_criticality": "high", "tags": ["web", " web ", "pci"]}))
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    assert_eq!(p.body["tags"], json!(["web", "pci"]));
    let pid = p.body["id"].as_i64().unwrap();

    let p = app.patch(&format!("/api/v1/products/{pid}"), a, json!({"description": "Online shop", "product_type": null})).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["product_type"], json!(null));
    assert_eq!(p.body["description"], "Online shop");

    let e = app.post("/api/v1/engagements", a, json!({"product": pid, "name": "Pentest Q3", "target_start": "2026-07-01", "target_end": "2026-07-31"})).await;
    assert_eq!(e.status, 201, "{}", e.body);
    let eid = e.body["id"].as_i64().unwrap();
    assert_eq!(e.body["status"], "in_progress");
    let e = app.patch(&format!("/api/v1/engagements/{eid}"), a, json!({"status": "completed"})).await;
    assert_eq!(e.body["status"], "completed");

    let tst = app.post("/api/v1/tests", a, json!({"engagement": eid, "title": "Burp", "scan_type": "Burp Scan"})).await;
    assert_eq!(tst.status, 201, "{}", tst.body);
    assert_eq!(tst.body["product"], pid);
    let tid = tst.body["id"].as_i64().unwrap();

    let listed = app.get(&format!("/api/v1/tests?engagement={eid}"), a).await;
    assert_eq!(listed.body["count"], 1);
    let listed = app.get(&format!("/api/v1/engagements?product={pid}&status=completed"), a).await;
    assert_eq!(listed.body["count"], 1);

    assert_eq!(app.delete(&format!("/api/v1/tests/{tid}"), a).await.status, 204);
    assert_eq!(app.get(&format!("/api/v1/tests/{tid}"), a).await.status, 404);
    assert_eq!(app.delete(&format!("/api/v1/products/{pid}"), a).await.status, 204);
    app.get(&format!("/api/v1/engagements/{eid}"), a).await.problem(404, None);
    assert_eq!(app.delete(&format!("/api/v1/product-types/{ptid}"), a).await.status, 204);
}

async fn findings_filter_page_and_history(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    let (pid, _, tid) = app.world("Shop").await;
    let f = app
        .post(
            "/api/v1/findings",
            a,
            json!({
                "test": tid, "title": "Log4Shell", "severity": "critical", "cwe": 502,
                "vulnerability_ids": ["cve-2021-44228"], "component_name": "log4j-core",
                "component_version": "2.14.1", "endpoints": [{"host": "shop.example.com", "port": 443}]
            }),
        )
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    assert_eq!(f.body["vulnerability_ids"], json!(["CVE-2021-44228"]));
    assert_eq!(f.body["product"], pid);
    let fid = f.body["id"].as_i64().unwrap();
    for i in 0..4 {
        app.finding(tid, &format!("XSS {i}"), "medium").await;
    }

    let page = app.get("/api/v1/findings?limit=2&severity=medium,critical&ordering=-severity", a).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["count"], 5);
    assert_eq!(page.body["results"][0]["title"], "Log4Shell");
    assert_eq!(page.body["next"], "/api/v1/findings?severity=medium%2Ccritical&ordering=-severity&limit=2&offset=2");
    assert_eq!(page.body["previous"], json!(null));
    let next = app.get(page.body["next"].as_str().unwrap(), a).await;
    assert_eq!(next.body["results"].as_array().unwrap().len(), 2);

    for (q, n) in [
        ("vulnerability_id=CVE-2021-44228", 1),
        ("cwe=502", 1),
        ("component=LOG4J", 1),
        ("q=xss", 4),
        ("status=active", 5),
        ("open=false", 0),
        (&format!("product={pid}") as &str, 5),
        (&format!("test={tid}"), 5),
        ("scan_type=Semgrep%20JSON%20Report", 5),
    ] {
        let r = app.get(&format!("/api/v1/findings?{q}"), a).await;
        assert_eq!(r.body["count"], n, "{q}: {}", r.body);
    }

    let closed = app.patch(&format!("/api/v1/findings/{fid}"), a, json!({"status": "closed", "verified": true})).await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["mitigated_by"], "admin");
    let again = app.patch(&format!("/api/v1/findings/{fid}"), a, json!({"status": "closed"})).await;
    assert_eq!(again.status, 200);
    let h = app.get(&format!("/api/v1/findings/{fid}/history"), a).await;
    let entries = h.body.as_array().unwrap();
    assert_eq!(entries.len(), 2, "created + one update; the no-op patch records nothing: {}", h.body);
    assert_eq!(entries[0]["action"], "created");
    assert_eq!(entries[1]["changes"]["status"]["to"], "closed");
    assert_eq!(entries[1]["actor"], "admin");

    assert_eq!(app.delete(&format!("/api/v1/findings/{fid}"), a).await.status, 204);
    assert_eq!(app.get(&format!("/api/v1/findings/{fid}"), a).await.status, 404);
}

async fn groups_through_the_api(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    let (_, _, tid) = app.world("G").await;
    let (_, _, other_test) = app.world("H").await;
    let f1 = app.finding(tid, "a", "low").await;
    let f2 = app.finding(tid, "b", "high").await;
    let stranger = app.finding(other_test, "c", "low").await;

    let bad = app.post("/api/v1/finding-groups", a, json!({"test": tid, "name": "log4j", "findings": [f1, stranger]})).await;
    bad.problem(422, Some("findings[1]"));
    assert!(bad.detail().contains("belongs to test"), "{}", bad.detail());
    assert_eq!(app.get("/api/v1/finding-groups", a).await.body["count"], 0, "nothing written");

    let g = app.post("/api/v1/finding-groups", a, json!({"test": tid, "name": "log4j", "findings": [f1, f2]})).await;
    assert_eq!(g.status, 201, "{}", g.body);
    assert_eq!(g.body["finding_count"], 2);
    assert_eq!(g.body["severity"], "high");
    assert_eq!(g.body["status"], "active");
    assert_eq!(g.body["group_by"], "custom");
    let gid = g.body["id"].as_i64().unwrap();
    let members = app.get(&format!("/api/v1/findings?finding_group={gid}"), a).await;
    assert_eq!(members.body["count"], 2);

    app.patch(&format!("/api/v1/findings/{f1}"), a, json!({"status": "false_positive"})).await;
    app.patch(&format!("/api/v1/findings/{f2}"), a, json!({"status": "false_positive"})).await;
    let g = app.get(&format!("/api/v1/finding-groups/{gid}"), a).await;
    assert_eq!(g.body["status"], "false_positive", "the group follows its findings");

    let g = app.patch(&format!("/api/v1/finding-groups/{gid}"), a, json!({"name": "log4j-core", "remove": [f2]})).await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!((g.body["name"].as_str(), g.body["finding_count"].as_i64()), (Some("log4j-core"), Some(1)));
    app.patch(&format!("/api/v1/finding-groups/{gid}"), a, json!({"remove": [f2]})).await.problem(422, Some("remove[0]"));
    assert_eq!(app.delete(&format!("/api/v1/finding-groups/{gid}"), a).await.status, 204);
    let f = app.get(&format!("/api/v1/findings/{f1}"), a).await;
    assert_eq!(f.body["finding_group"], json!(null));
}

async fn health_and_metrics(t: TestDb) {
    let app = TestApp::new(t).await;
    let h = app.get("/healthz", "").await;
    assert_eq!((h.status.as_u16(), h.body["status"].as_str()), (200, Some("ok")));
    let r = app.get("/readyz", "").await;
    assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (200, Some("ok")), "{}", r.body);
    app.get("/api/v1/products", &app.admin).await;
    let m = app.get("/metrics", "").await;
    assert_eq!(m.status, 200);
    let text = m.body.as_str().unwrap();
    assert!(text.contains("vulnbridge_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/products\""), "labelled by route template: {text}");
    let doc = app.get("/api/openapi.json", "").await;
    assert_eq!(doc.body["openapi"], "3.1.0");
}
