//! The OpenAPI document is generated from the router; this snapshot makes every change to the
//! API visible in review. After an intended change: `UPDATE_OPENAPI=1 cargo test -p vulnbridge-web openapi`.

use std::path::PathBuf;

#[test]
fn openapi_document_matches_the_snapshot() {
    let doc = web::openapi().to_pretty_json().unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &doc).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == doc,
        "docs/openapi.json is out of date; run `UPDATE_OPENAPI=1 cargo test -p vulnbridge-web openapi` and review the diff"
    );
}

#[test]
fn every_operation_is_documented_and_secured() {
    let doc: serde_json::Value = serde_json::from_str(&web::openapi().to_json().unwrap()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let public = ["/healthz", "/readyz", "/metrics"].contains(&path.as_str());
            assert_eq!(op.get("security").is_some(), !public, "{method} {path}: security");
            assert!(op.get("responses").and_then(|r| r.as_object()).is_some_and(|r| !r.is_empty()), "{method} {path}");
            assert!(op.get("tags").is_some(), "{method} {path}: tag");
        }
    }
}
