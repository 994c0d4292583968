//! Report imports over HTTP: DefectDojo's endpoints as its documentation calls them, and ours.

use crate::app::{Resp, TestApp};
use axum::body::Body;
use axum::http::{Request, header};
use domain::Role;
use store::testing::TestDb;

store::both_backends!(defectdojo_import_then_reimport, defectdojo_errors, v1_imports_and_history, scan_types_are_listed, oversized_uploads_are_refused);

const BOUNDARY: &str = "----vulnbridgetestboundary";

/// A multipart/form-data body, as `curl -F` sends it.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/json\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, path: &str, token: &str, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Resp {
    app.raw(
        Request::post(path)
            .header(header::AUTHORIZATION, format!("Token {token}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(Body::from(multipart(fields, file)))
            .unwrap(),
    )
    .await
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(scanners::testing::fixture(rel)).unwrap()
}

/// The fields DefectDojo's "import-scan" documentation uses for a CI pipeline.
fn dd_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("scan_type", "Semgrep JSON Report"),
        ("product_type_name", "Web"),
        ("product_name", "Shop"),
        ("engagement_name", "CI/CD"),
        ("auto_create_context", "True"),
        ("minimum_severity", "Info"),
        ("active", "true"),
        ("verified", "false"),
        ("close_old_findings", "false"),
        ("deduplication_on_engagement", "true"),
        ("push_to_jira", "false"),
        ("lead", "1"),
        ("tags", "ci"),
        ("tags", "semgrep"),
    ]
}

async fn defectdojo_import_then_reimport(t: TestDb) {
    let app = TestApp::new(t).await;
    let report = fixture("semgrep/many_findings.json");
    let r = upload(&app, "/api/v2/import-scan/", &app.admin, &dd_fields(), Some(("semgrep.json", &report))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b = &r.body;
    for key in ["test", "test_id", "engagement_id", "product_id", "product_type_id"] {
        assert!(b[key].is_i64(), "{key} missing: {b}");
    }
    assert_eq!(b["scan_type"], "Semgrep JSON Report");
    assert_eq!(b["tags"], serde_json::json!(["ci", "semgrep"]));
    let total = b["statistics"]["after"]["total"]["total"].as_i64().unwrap();
    assert!(total >= 1, "{b}");
    assert!(b["statistics"].get("before").is_none(), "a new test has no 'before'");
    let test_id = b["test_id"].as_i64().unwrap();
    let findings = app.get(&format!("/api/v1/findings?test={test_id}&limit=1000"), &app.admin).await;
    assert_eq!(findings.body["count"].as_i64().unwrap(), total);
    assert!(findings.body["results"].as_array().unwrap().iter().all(|f| f["tags"].as_array().unwrap().is_empty()), "tags go to the test unless apply_tags_to_findings");

    // The same report again, as a pipeline's next run: everything matched, nothing new.
    let mut fields = dd_fields();
    fields.retain(|(k, _)| *k != "close_old_findings");
    let r = upload(&app, "/api/v2/reimport-scan/", &app.admin, &fields, Some(("semgrep.json", &report))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = &r.body["statistics"];
    assert_eq!(r.body["test_id"].as_i64(), Some(test_id), "found by engagement, scan type (and title)");
    assert_eq!(s["before"]["total"]["total"].as_i64(), Some(total));
    assert_eq!(s["delta"]["untouched"]["total"]["total"].as_i64(), Some(total));
    assert_eq!(s["delta"]["created"]["total"]["total"].as_i64(), Some(0));
    assert_eq!(s["delta"]["closed"]["total"]["total"].as_i64(), Some(0));
    assert_eq!(s["after"]["total"]["total"].as_i64(), Some(total));

    // An empty report, by test id: everything closes (reimport closes by default).
    let r = upload(&app, "/api/v2/reimport-scan/", &app.admin, &[("scan_type", "Semgrep JSON Report"), ("test", &test_id.to_string())], Some(("empty.json", &fixture("semgrep/empty.json")))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["statistics"]["delta"]["closed"]["total"]["total"].as_i64(), Some(total));
    assert_eq!(r.body["statistics"]["after"]["total"]["active"].as_i64(), Some(0));
}

async fn defectdojo_errors(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    let report = fixture("semgrep/one_finding.json");
    let mut f = dd_fields();
    f[0] = ("scan_type", "Nonexistent Scan");
    upload(&app, "/api/v2/import-scan/", a, &f, Some(("r.json", &report))).await.problem(400, Some("scan_type"));
    upload(&app, "/api/v2/import-scan/", a, &dd_fields(), None).await.problem(400, Some("file"));
    let mut f = dd_fields();
    f.push(("product_nmae", "typo"));
    let r = upload(&app, "/api/v2/import-scan/", a, &f, Some(("r.json", &report))).await;
    r.problem(400, Some("product_nmae"));
    let mut f = dd_fields();
    f[4] = ("auto_create_context", "maybe");
    upload(&app, "/api/v2/import-scan/", a, &f, Some(("r.json", &report))).await.problem(400, Some("auto_create_context"));
    let mut f = dd_fields();
    f[5] = ("minimum_severity", "Severe");
    upload(&app, "/api/v2/import-scan/", a, &f, Some(("r.json", &report))).await.problem(400, Some("minimum_severity"));
    let bad = upload(&app, "/api/v2/import-scan/", a, &dd_fields(), Some(("r.json", b"{\"results\": [ {\"check_id\": 7"))).await;
    bad.problem(400, Some("file"));
    assert!(bad.detail().contains("line 1"), "the position in the file: {}", bad.detail());
    let r = upload(&app, "/api/v2/reimport-scan/", a, &[("scan_type", "Semgrep JSON Report"), ("product_name", "Nope"), ("engagement_name", "Nope")], Some(("r.json", &report))).await;
    r.problem(404, Some("product_name"));
    // Nothing above was written.
    assert_eq!(app.get("/api/v1/products", a).await.body["count"], 0);

    let (_, reader) = app.user("viewer", Some(Role::Reader)).await;
    upload(&app, "/api/v2/import-scan/", &reader, &dd_fields(), Some(("r.json", &report))).await.problem(403, None);
    let r = app.raw(Request::post("/api/v2/import-scan/").body(Body::empty()).unwrap()).await;
    r.problem(401, None);
}

async fn v1_imports_and_history(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    let report = fixture("semgrep/many_findings.json");
    let r = upload(&app, "/api/v1/imports", a, &[("scan_type", "semgrep json report"), ("product_name", "Shop"), ("engagement_name", "CI"), ("auto_create_context", "true"), ("group_by", "file_path")], Some(("s.json", &report))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["import"]["id"].as_i64().unwrap();
    assert_eq!(r.body["import"]["kind"], "import");
    assert_eq!(r.body["import"]["file_name"], "s.json");
    assert!(r.body["import"]["counts"]["created"].as_i64().unwrap() > 0);
    let groups = app.get(&format!("/api/v1/finding-groups?test={}", r.body["import"]["test"]), a).await;
    assert!(groups.body["count"].as_i64().unwrap() > 0, "group_by=file_path made groups: {}", groups.body);

    let again = upload(&app, "/api/v1/imports", a, &[("scan_type", "Semgrep JSON Report"), ("product_name", "Shop"), ("engagement_name", "CI"), ("reimport", "true")], Some(("s.json", &report))).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["import"]["kind"], "reimport");
    let listed = app.get("/api/v1/imports", a).await;
    assert_eq!(listed.body["count"], 2);
    assert_eq!(listed.body["results"][0]["kind"], "reimport", "newest first");
    let one = app.get(&format!("/api/v1/imports/{id}"), a).await;
    assert_eq!(one.status, 200);
    assert!(one.body["findings"]["created"].is_array(), "{}", one.body);

    // Another product's reader sees none of it.
    let other = app.post("/api/v1/products", a, serde_json::json!({"name": "Other"})).await.body["id"].as_i64().unwrap();
    let (uid, tok) = app.user("stranger", None).await;
    app.put(&format!("/api/v1/products/{other}/members/{}", uid.0), a, serde_json::json!({"role": "writer"})).await;
    assert_eq!(app.get("/api/v1/imports", &tok).await.body["count"], 0);
    app.get(&format!("/api/v1/imports/{id}"), &tok).await.problem(404, None);
    upload(&app, "/api/v1/imports", &tok, &[("scan_type", "Semgrep JSON Report"), ("product_name", "Shop"), ("engagement_name", "CI"), ("reimport", "true")], Some(("s.json", &report))).await.problem(404, Some("product_name"));
    upload(&app, "/api/v1/imports", a, &[("scan_type", "SARIF"), ("product_name", "Shop"), ("engagement_name", "CI"), ("scan_date", "2999-01-01")], Some(("s.json", &report))).await.problem(422, Some("scan_date"));
}

async fn scan_types_are_listed(t: TestDb) {
    let app = TestApp::new(t).await;
    let r = app.get("/api/v1/scan-types", &app.admin).await;
    let names: Vec<&str> = r.body.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    for n in ["SARIF", "Semgrep JSON Report", "Tenable Scan", "Snyk Scan", "Burp Scan", "AWS Security Hub Scan", "Checkmarx One Scan", "Dependency Track Finding Packaging Format (FPF) Export", "SonarQube Scan", "Probely Scan", "Generic Findings Import"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
}

async fn oversized_uploads_are_refused(t: TestDb) {
    let app = TestApp::with_upload_limit(t, 64 * 1024).await;
    let big = fixture("semgrep/many_findings.json").repeat(20);
    let r = upload(&app, "/api/v2/import-scan/", &app.admin, &dd_fields(), Some(("big.json", &big))).await;
    r.problem(413, None);
    assert!(r.detail().contains("VULNBRIDGE_MAX_UPLOAD_MB"), "{}", r.detail());
    assert_eq!(app.get("/api/v1/products", &app.admin).await.body["count"], 0);
}
