//! The Burp Suite DAST simulator over real HTTP: the GraphQL endpoint refuses a missing or
//! unknown API key, answers document and field errors with 200 and `errors`, filters, sorts
//! and pages scans and issues as Burp's schema says, and its control API and Rust API change
//! what it reports (new sites, fixed issues, false positives, faults, cut-off answers).

use reqwest::StatusCode;
use serde_json::{Value, json};
use simulators::scanners::ScannerSim;
use simulators::scanners::burp::{API_KEY, BurpSim};

async fn seeded() -> BurpSim {
    BurpSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct Answer {
    status: StatusCode,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

async fn post(sim: &BurpSim, key: Option<&str>, body: Value) -> Answer {
    let mut req = reqwest::Client::new()
        .post(format!("{}/graphql/v1", sim.base_url()))
        .json(&body);
    if let Some(k) = key {
        req = req.header("Authorization", k);
    }
    let r = req.send().await.unwrap();
    Answer {
        status: r.status(),
        text: r.text().await.unwrap(),
    }
}

async fn gql(sim: &BurpSim, query: &str, variables: Value) -> Value {
    let a = post(
        sim,
        Some(API_KEY),
        json!({ "query": query, "variables": variables }),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.json()
}

const TREE: &str = "query T { site_tree { sites { id name parent_id scope_v2 { start_urls } } folders { id name parent_id } } }";

#[tokio::test]
async fn the_api_key_is_required() {
    let sim = seeded().await;
    let body = json!({ "query": TREE });
    let none = post(&sim, None, body.clone()).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(
        none.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("API key")
    );
    assert_eq!(
        post(&sim, Some("not-a-key"), body.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(&sim, Some(&format!("Bearer {API_KEY}")), body.clone())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    sim.add_api_key("second-api-user-key");
    assert_eq!(
        post(&sim, Some("second-api-user-key"), body).await.status,
        StatusCode::OK
    );
    let get = reqwest::get(format!("{}/graphql/v1", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn malformed_requests_and_invalid_queries_are_refused() {
    let sim = seeded().await;
    let r = reqwest::Client::new()
        .post(format!("{}/graphql/v1", sim.base_url()))
        .header("Authorization", API_KEY)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        post(&sim, Some(API_KEY), json!({ "variables": {} }))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let unknown = gql(
        &sim,
        "query Q { site_tree { sites { id colour } } }",
        json!({}),
    )
    .await;
    assert!(unknown.get("data").is_none(), "{unknown}");
    assert!(
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{unknown}"
    );
    let bad_enum = gql(
        &sim,
        "query Q { scans(scan_status: [done]) { id } }",
        json!({}),
    )
    .await;
    assert!(
        bad_enum["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{bad_enum}"
    );
    let missing_arg = gql(
        &sim,
        "query Q($s: ID!) { scan(id: $s) { issues(start: 0) { serial_number } } }",
        json!({ "s": "1" }),
    )
    .await;
    assert!(
        missing_arg["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("count"),
        "{missing_arg}"
    );
}

#[tokio::test]
async fn the_site_tree_lists_sites_and_folders() {
    let sim = seeded().await;
    let tree = gql(&sim, TREE, json!({})).await;
    let sites = tree["data"]["site_tree"]["sites"].as_array().unwrap();
    let names: Vec<&str> = sites.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["whitespots.io", "juice-shop", "test.com"]);
    let folder = &tree["data"]["site_tree"]["folders"][0];
    assert_eq!(folder["name"], "Customer sites");
    assert_eq!(sites[0]["parent_id"], folder["id"]);
    assert_eq!(sites[2]["parent_id"], "0");
    assert_eq!(
        sites[0]["scope_v2"]["start_urls"][0],
        "https://whitespots.io"
    );
    assert_eq!(sim.record_ids().len(), 3);
}

const LATEST: &str = "query L($site: ID) { scans(site_id: $site, scan_status: [succeeded], sort_column: end, sort_order: desc, offset: 0, limit: 1) { id status site_id end_time scan_delta { new_issue_count repeated_issue_count resolved_issue_count } issue_counts { total } } }";

#[tokio::test]
async fn scans_filter_sort_and_page() {
    let sim = seeded().await;
    let site = sim.site_id("whitespots.io").unwrap();
    let all = gql(&sim, "query A($site: ID) { scans(site_id: $site, sort_column: start, sort_order: asc) { id status } }", json!({ "site": site })).await;
    let statuses: Vec<&str> = all["data"]["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "succeeded", "succeeded"]);
    let latest = gql(&sim, LATEST, json!({ "site": site })).await;
    let scan = &latest["data"]["scans"][0];
    assert_eq!(latest["data"]["scans"].as_array().unwrap().len(), 1);
    assert_eq!(scan["id"].as_str(), sim.latest_scan_id(&site).as_deref());
    assert_eq!(scan["status"], "succeeded");
    assert_eq!(scan["site_id"], site.as_str());
    assert!(scan["end_time"].as_str().unwrap().ends_with('Z'));
    // The older scan also found an SQL injection since fixed.
    assert_eq!(scan["scan_delta"]["resolved_issue_count"], 1);
    assert_eq!(scan["scan_delta"]["repeated_issue_count"], 5);
    // A running scan is newer but not succeeded.
    let juice = sim.site_id("juice-shop").unwrap();
    let running = gql(
        &sim,
        "query R($site: ID) { scans(site_id: $site, scan_status: [running]) { id end_time } }",
        json!({ "site": juice }),
    )
    .await;
    assert_eq!(running["data"]["scans"][0]["end_time"], Value::Null);
    let paged = gql(
        &sim,
        "query P { scans(sort_column: id, sort_order: asc, offset: 2, limit: 2) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(paged["data"]["scans"].as_array().unwrap().len(), 2);
    let negative = gql(&sim, "query N { scans(limit: -1) { id } }", json!({})).await;
    assert!(
        negative["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("negative")
    );
    let bad_time = gql(
        &sim,
        "query B { scans(scan_end_time_from: \"yesterday\") { id } }",
        json!({}),
    )
    .await;
    assert!(
        bad_time["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Timestamp")
    );
}

const ISSUES: &str = "query I($scan: ID!, $start: Int!, $count: Int!) { scan(id: $scan) { issues(start: $start, count: $count) { serial_number severity confidence accepted_risk novelty origin path issue_type { type_index name vulnerability_classifications_html } } } }";

#[tokio::test]
async fn issues_page_with_start_and_count_and_carry_verdicts() {
    let sim = seeded().await;
    let site = sim.site_id("whitespots.io").unwrap();
    let scan = sim.latest_scan_id(&site).unwrap();
    let first = gql(
        &sim,
        ISSUES,
        json!({ "scan": scan, "start": 0, "count": 3 }),
    )
    .await;
    let second = gql(
        &sim,
        ISSUES,
        json!({ "scan": scan, "start": 3, "count": 3 }),
    )
    .await;
    let a = first["data"]["scan"]["issues"].as_array().unwrap();
    let b = second["data"]["scan"]["issues"].as_array().unwrap();
    assert_eq!((a.len(), b.len()), (3, 2));
    let serials: std::collections::HashSet<&str> = a
        .iter()
        .chain(b)
        .map(|i| i["serial_number"].as_str().unwrap())
        .collect();
    assert_eq!(serials.len(), 5);
    assert!(a.iter().chain(b).all(|i| i["novelty"] == "repeated"));
    let accepted: Vec<&Value> = a
        .iter()
        .chain(b)
        .filter(|i| i["accepted_risk"] == true)
        .collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        accepted[0]["issue_type"]["name"],
        "Cookie without HttpOnly flag set"
    );
    let juice = sim.site_id("juice-shop").unwrap();
    let js = gql(
        &sim,
        ISSUES,
        json!({ "scan": sim.latest_scan_id(&juice).unwrap(), "start": 0, "count": 10 }),
    )
    .await;
    let fp: Vec<&Value> = js["data"]["scan"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["confidence"] == "false_positive")
        .collect();
    assert_eq!(fp.len(), 1);
    let test = sim.site_id("test.com").unwrap();
    let t = gql(
        &sim,
        ISSUES,
        json!({ "scan": sim.latest_scan_id(&test).unwrap(), "start": 0, "count": 10 }),
    )
    .await;
    let first_issue = &t["data"]["scan"]["issues"][0];
    assert_eq!(first_issue["novelty"], "first");
    assert_eq!(
        first_issue["issue_type"]["vulnerability_classifications_html"],
        "CWE-79"
    );
    let negative = gql(
        &sim,
        ISSUES,
        json!({ "scan": scan, "start": -1, "count": 3 }),
    )
    .await;
    assert_eq!(negative["data"]["scan"]["issues"], Value::Null);
    assert!(
        negative["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("negative")
    );
    let missing = gql(
        &sim,
        ISSUES,
        json!({ "scan": "999999", "start": 0, "count": 3 }),
    )
    .await;
    assert_eq!(missing["data"]["scan"], Value::Null);
    assert!(
        missing["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not found")
    );
    let serial = a[0]["serial_number"].as_str().unwrap();
    let one = gql(
        &sim,
        "query One($s: ID!, $n: ID!) { issue(scan_id: $s, serial_number: $n) { path } }",
        json!({ "s": scan, "n": serial }),
    )
    .await;
    assert_eq!(one["data"]["issue"]["path"], a[0]["path"]);
}

#[tokio::test]
async fn the_rust_api_changes_what_burp_reports() {
    let sim = BurpSim::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert!(sim.record_ids().is_empty());
    let id = sim.add_record("Shop front", 12);
    assert_eq!(sim.open_findings(&id), 12);
    let before = sim.latest_scan_id(&id).unwrap();
    sim.fix_findings(&id, 3);
    sim.mark_false_positive(&id);
    assert_eq!(sim.open_findings(&id), 8);
    let after = sim.latest_scan_id(&id).unwrap();
    assert_ne!(before, after);
    let latest = gql(&sim, LATEST, json!({ "site": id })).await;
    assert_eq!(
        latest["data"]["scans"][0]["scan_delta"]["resolved_issue_count"],
        3
    );
    let issues = gql(
        &sim,
        ISSUES,
        json!({ "scan": after, "start": 0, "count": 100 }),
    )
    .await;
    assert_eq!(
        issues["data"]["scan"]["issues"].as_array().unwrap().len(),
        9
    );
    sim.accept_risk(&id);
    assert_eq!(sim.open_findings(&id), 7);
    sim.remove_record(&id);
    assert!(sim.record_ids().is_empty());
    assert!(sim.summary().contains("0 sites"));
    assert_eq!(sim.tool(), domain::connector::Tool::BurpSuite);
    assert_eq!(sim.secrets(), vec![("api_key", API_KEY.to_owned())]);
}

#[tokio::test]
async fn the_control_api_drives_the_simulator() {
    let sim = BurpSim::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let c = reqwest::Client::new();
    let base = sim.base_url();
    let made: Value = c
        .post(format!("{base}/_sim/sites"))
        .json(&json!({ "name": "api", "findings": 4 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!(
        c.post(format!("{base}/_sim/sites/{id}/rescan"))
            .json(&json!({ "fixed": 1 }))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        c.post(format!("{base}/_sim/sites/{id}/false_positive"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(sim.open_findings(&id), 2);
    let state: Value = c
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        state["state"]["sites"][0]["scans"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A fault answers the next matching request instead of the server.
    let fault = json!({ "path_contains": "/graphql", "status": 503, "headers": [["Retry-After", "7"]], "times": 1 });
    assert_eq!(
        c.post(format!("{base}/_sim/faults"))
            .json(&fault)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let refused = post(&sim, Some(API_KEY), json!({ "query": TREE })).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        post(&sim, Some(API_KEY), json!({ "query": TREE }))
            .await
            .status,
        StatusCode::OK
    );

    // A cut-off answer: half the body, then the connection drops.
    c.post(format!("{base}/_sim/cut"))
        .json(&json!({ "path_contains": "/graphql/v1" }))
        .send()
        .await
        .unwrap();
    let r = c
        .post(format!("{base}/graphql/v1"))
        .header("Authorization", API_KEY)
        .json(&json!({ "query": TREE }))
        .send()
        .await;
    let whole = match r {
        Ok(r) => r.text().await.is_ok(),
        Err(_) => false,
    };
    assert!(!whole, "a cut answer cannot be read whole");

    let counts: Value = c
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        counts["counts"]["POST /graphql/v1"].as_u64().unwrap() >= 2,
        "{counts}"
    );
    assert_eq!(
        c.delete(format!("{base}/_sim/sites/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.delete(format!("{base}/_sim/sites/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn generated_worlds_are_large_and_pageable() {
    let sim = BurpSim::generate("127.0.0.1:0".parse().unwrap(), 2, 1200)
        .await
        .unwrap();
    let ids = sim.record_ids();
    assert_eq!(ids.len(), 2);
    let scan = sim.latest_scan_id(&ids[1]).unwrap();
    let last = gql(
        &sim,
        ISSUES,
        json!({ "scan": scan, "start": 1000, "count": 500 }),
    )
    .await;
    assert_eq!(
        last["data"]["scan"]["issues"].as_array().unwrap().len(),
        200
    );
}
