//! Connectors end to end: each of the nine scanners' simulators over HTTP, discovered,
//! mapped (automatically and by hand) and synced through the API and the worker, on SQLite and
//! PostgreSQL; every Record state transition; scheduled operations run once across two
//! replicas; synced findings flowing on to a tracker.

use crate::stack::Stack;
use domain::connector::Tool;
use serde_json::{Value, json};
use simulators::scanners::ScannerSim;
use std::collections::BTreeSet;
use std::time::Duration;
use store::testing::TestDb;

store::both_backends!(
    aws_security_hub_discovers_maps_and_syncs,
    burp_suite_discovers_maps_and_syncs,
    checkmarx_one_discovers_maps_and_syncs,
    dependency_track_discovers_maps_and_syncs,
    probely_discovers_maps_and_syncs,
    semgrep_discovers_maps_and_syncs,
    sonarqube_discovers_maps_and_syncs,
    snyk_discovers_maps_and_syncs,
    tenable_discovers_maps_and_syncs,
    every_record_state_transition,
    two_replicas_run_each_scheduled_operation_once,
    a_manual_run_waits_for_the_one_in_flight,
    synced_findings_flow_on_to_a_tracker,
    checkmarx_one_imports_each_tracked_branch,
    tool_options_are_checked_when_saved,
);

const LONG: Duration = Duration::from_secs(90);

pub async fn start_sim(tool: Tool) -> Box<dyn ScannerSim> {
    simulators::scanners::start_seeded(tool, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// Adds a connector for `sim` (by hand only: no schedule), with `auto_map`.
pub async fn add_connector(s: &Stack, sim: &dyn ScannerSim, label: &str, auto_map: bool) -> i64 {
    add_scheduled_connector(s, sim, label, auto_map, 0, 0).await
}

/// Adds a connector with schedules (minutes; 0: by hand only). A schedule's first run is due
/// at once.
pub async fn add_scheduled_connector(s: &Stack, sim: &dyn ScannerSim, label: &str, auto_map: bool, discover_every: u32, sync_every: u32) -> i64 {
    add_connector_with(s, sim, label, json!({"auto_map": auto_map, "discover_every_minutes": discover_every, "sync_every_minutes": sync_every, "options": sim.options()})).await
}

/// Adds a connector for `sim` with these settings.
pub async fn add_connector_with(s: &Stack, sim: &dyn ScannerSim, label: &str, settings: Value) -> i64 {
    let secrets: serde_json::Map<String, Value> = sim.secrets().into_iter().map(|(k, v)| (k.to_owned(), Value::String(v))).collect();
    let k = s
        .post(
            "/api/v1/connectors",
            json!({
                "tool": sim.tool(),
                "label": label,
                "location": sim.location(),
                "secrets": secrets,
                "settings": settings,
            }),
        )
        .await
        .ok(201);
    assert!(k.get("secrets").is_none_or(|v| !v.to_string().contains(&sim.secrets()[0].1)), "secrets shown: {k}");
    k["id"].as_i64().unwrap()
}

/// Queues a Discover or Sync by hand and waits until it ends; returns the operation.
pub async fn run(s: &Stack, connector: i64, kind: &str) -> Value {
    let op = s.post(&format!("/api/v1/connectors/{connector}/{kind}"), json!({})).await.ok(202);
    wait_operation(s, op["id"].as_i64().unwrap()).await
}

pub async fn wait_operation(s: &Stack, id: i64) -> Value {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let op = s.get(&format!("/api/v1/operations/{id}")).await;
        if matches!(op["status"].as_str(), Some("succeeded" | "failed")) {
            return op;
        }
        assert!(tokio::time::Instant::now() < deadline, "operation {id} still {} after {LONG:?}: {}", op["status"], s.jobs_summary().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[track_caller]
pub fn succeeded(op: &Value) -> &Value {
    assert_eq!(op["status"], "succeeded", "{op}");
    assert!(op["error"].is_null(), "{op}");
    &op["counts"]
}

pub async fn records(s: &Stack, connector: i64) -> Vec<Value> {
    s.get(&format!("/api/v1/connectors/{connector}/records?limit=500")).await["results"].as_array().unwrap().clone()
}

fn record<'a>(all: &'a [Value], external_id: &str) -> &'a Value {
    all.iter().find(|r| r["external_id"] == external_id).unwrap_or_else(|| panic!("no record {external_id} in {all:?}"))
}

/// Findings of a product with `query` (`open=true`, `status=false_positive`), counted.
pub async fn count(s: &Stack, product: &Value, query: &str) -> i64 {
    s.get(&format!("/api/v1/findings?product={product}&{query}&limit=1")).await["count"].as_i64().unwrap()
}

/// Open findings of a product, each counted as often as the tool reported it.
pub async fn open_occurrences(s: &Stack, product: &Value) -> i64 {
    let mut sum = 0;
    let mut next = Some(format!("/api/v1/findings?product={product}&open=true&limit=1000"));
    while let Some(path) = next {
        let page = s.get(&path).await;
        sum += page["results"].as_array().unwrap().iter().map(|f| f["occurrences"].as_i64().unwrap_or(1)).sum::<i64>();
        next = page["next"].as_str().map(|url| url.trim_start_matches(&s.base).to_owned());
    }
    sum
}

/// One tool end to end: auto-map, sync, the tool's verdicts (fixed, false positive) applied,
/// an unchanged re-sync creating nothing; then a new Record mapped by hand.
async fn discovers_maps_and_syncs(t: TestDb, tool: Tool) {
    let mut s = Stack::start(t).await;
    let sim = start_sim(tool).await;
    let k = add_connector(&s, sim.as_ref(), &format!("{} (test)", tool.label()), true).await;
    let check = s.post(&format!("/api/v1/connectors/{k}/check"), json!({})).await.ok(200);
    let checks = check["checks"].as_array().unwrap();
    assert!(!checks.is_empty() && checks.iter().all(|c| c["ok"] == true), "{check}");
    s.start_worker();

    // Discover: one Record per thing the tool reports, each auto-mapped to a product.
    let d = run(&s, k, "discover").await;
    let expected: BTreeSet<String> = sim.record_ids().into_iter().collect();
    assert!(!expected.is_empty());
    assert_eq!(succeeded(&d)["created"].as_u64().unwrap() as usize, expected.len(), "{d}");
    let rs = records(&s, k).await;
    let got: BTreeSet<String> = rs.iter().map(|r| r["external_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got, expected);
    for r in &rs {
        assert_eq!(r["state"], "good", "{r}");
        assert!(r["product"].is_i64(), "{r}");
        assert_eq!(r["finalized_by"], "auto-map", "{r}");
    }

    // Sync: every Record's open findings in its product, in the "Global Connectors" engagement.
    let first = run(&s, k, "sync").await;
    let counts = succeeded(&first);
    assert_eq!(counts["records"].as_u64().unwrap() as usize, expected.len(), "{first}");
    assert!(counts["created"].as_i64().unwrap() > 0, "{first}");
    let busiest = rs.iter().max_by_key(|r| sim.open_findings(r["external_id"].as_str().unwrap())).unwrap();
    let ext = busiest["external_id"].as_str().unwrap().to_owned();
    let product = busiest["product"].clone();
    let open = count(&s, &product, "open=true").await;
    assert!(open > 0, "no findings synced for {busiest}");
    // The import de-duplicates within a report (DefectDojo's rules): findings the tool reports
    // twice are one with two occurrences.
    assert_eq!(open_occurrences(&s, &product).await, sim.open_findings(&ext) as i64, "open findings of {ext} after the first sync");
    let e = s.get(&format!("/api/v1/engagements?product={product}")).await;
    assert_eq!(e["results"][0]["name"], "Global Connectors", "{e}");
    let tests = s.get(&format!("/api/v1/tests?engagement={}", e["results"][0]["id"])).await;
    assert_eq!(tests["count"], 1, "{tests}");
    assert_eq!(tests["results"][0]["title"], format!("{} (test)", tool.label()), "{tests}");

    // The tool's verdicts: one fixed, one false positive; a full pull applies both.
    const VERDICTS: &str = "status=false_positive,risk_accepted";
    let verdicts = count(&s, &product, VERDICTS).await;
    let before = sim.open_findings(&ext);
    sim.fix_findings(&ext, 1);
    sim.mark_false_positive(&ext);
    assert!(sim.open_findings(&ext) < before);
    s.call("PATCH", &format!("/api/v1/connectors/{k}"), Some(json!({"settings": {"auto_map": true, "full_sync_every": 1, "discover_every_minutes": 0, "sync_every_minutes": 0, "options": sim.options()}})))
        .await
        .ok(200);
    let second = run(&s, k, "sync").await;
    let counts = succeeded(&second);
    assert_eq!(counts["created"], 0, "{second}");
    assert_eq!(count(&s, &product, "open=true").await, open - 2, "open findings of {ext} after the verdicts: {second}");
    // Some tools have no "false positive", only their nearest verdict (Snyk's ignore, Tenable's
    // accepted risk).
    assert_eq!(count(&s, &product, VERDICTS).await, verdicts + 1, "the tool's verdict was not applied: {second}");
    assert!(count(&s, &product, "open=false").await >= 2, "{second}");

    // Nothing changed: nothing created, updated or closed.
    let third = run(&s, k, "sync").await;
    let counts = succeeded(&third);
    for field in ["created", "closed", "reactivated"] {
        assert_eq!(counts[field], 0, "{field} in an unchanged sync: {third}");
    }

    // A new Record, with auto-map off, waits as `new` until mapped by hand.
    s.call("PATCH", &format!("/api/v1/connectors/{k}"), Some(json!({"settings": {"auto_map": false, "discover_every_minutes": 0, "sync_every_minutes": 0, "options": sim.options()}})))
        .await
        .ok(200);
    let added = sim.add_record("Payments API", 3);
    succeeded(&run(&s, k, "discover").await);
    let rs = records(&s, k).await;
    let new = record(&rs, &added);
    assert_eq!(new["state"], "new", "{new}");
    assert!(new["product"].is_null(), "{new}");
    let p = s.post("/api/v1/products", json!({"name": "Payments"})).await.ok(201);
    let mapped = s.call("PATCH", &format!("/api/v1/records/{}", new["id"]), Some(json!({"action": "map", "product": p["id"]}))).await.ok(200);
    assert_eq!(mapped["state"], "good");
    assert_eq!(mapped["finalized_by"], "admin");
    assert!(mapped["finalized_at"].is_string());
    succeeded(&run(&s, k, "sync").await);
    assert_eq!(count(&s, &p["id"], "open=true").await, sim.open_findings(&added) as i64);
    assert!(sim.open_findings(&added) > 0);
    s.stop_worker().await;
}

async fn aws_security_hub_discovers_maps_and_syncs(t: TestDb) {
    discovers_maps_and_syncs(t, Tool::AwsSecurityHub).await
}
async fn burp_suite_discovers_maps_and_syncs(t: TestDb) {
    discovers_maps_and_syncs(t, Tool::BurpSuite).await
}
async fn checkmarx_one_discovers_maps_and_syncs(t: TestDb) {
    discovers_maps_and_syncs(t, Tool::CheckmarxOne).await
}
async fn dependency_track_discovers_maps_and_syncs(t: TestDb) {
    discovers_maps_and_syncs(t, Tool::DependencyTrack).await
}
async fn probely_discovers_maps_and_syncs(t: TestDb) {
    discovers_maps_and_syncs(t, Tool::Probely).await
}
async fn semgrep_discovers_maps_and_syncs(t: TestDb) {
    discovers_maps_and_syncs(t, Tool::Semgrep).await
}
async fn sonarqube_discovers_maps_and_syncs(t: TestDb) {
    discovers_maps_and_syncs(t, Tool::SonarQube).await
}
async fn snyk_discovers_maps_and_syncs(t: TestDb) {
    discovers_maps_and_syncs(t, Tool::Snyk).await
}
async fn tenable_discovers_maps_and_syncs(t: TestDb) {
    discovers_maps_and_syncs(t, Tool::Tenable).await
}

/// new → good (mapped) → remapped → ignored (kept so by Discover) → restored → deleted (back as
/// new) → stale (its product deleted) → missing (the tool stops reporting it) → back; nothing
/// imported is ever deleted on the way.
async fn every_record_state_transition(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sim = start_sim(Tool::DependencyTrack).await;
    let k = add_connector(&s, sim.as_ref(), "Dependency-Track", false).await;
    s.start_worker();
    succeeded(&run(&s, k, "discover").await);
    let rs = records(&s, k).await;
    let ext = rs.iter().max_by_key(|r| sim.open_findings(r["external_id"].as_str().unwrap())).unwrap()["external_id"].as_str().unwrap().to_owned();
    let id = record(&rs, &ext)["id"].clone();
    let state = |rs: &[Value]| record(rs, &ext)["state"].as_str().unwrap().to_owned();
    assert!(rs.iter().all(|r| r["state"] == "new" && r["product"].is_null()), "{rs:?}");
    assert!(rs.iter().all(|r| r["first_discovered_at"].is_string() && r["finalized_by"].is_null()));
    let decide = |d: Value| {
        let path = format!("/api/v1/records/{id}");
        let s = &s;
        async move { s.call("PATCH", &path, Some(d)).await.ok(200) }
    };

    // A sync with nothing mapped does nothing.
    assert_eq!(succeeded(&run(&s, k, "sync").await)["records"], 0);

    // new → good, mapped by hand; synced.
    let first = s.post("/api/v1/products", json!({"name": "Storefront"})).await.ok(201);
    let r = decide(json!({"action": "map", "product": first["id"]})).await;
    assert_eq!((r["state"].as_str(), r["product"].clone()), (Some("good"), first["id"].clone()));
    succeeded(&run(&s, k, "sync").await);
    let synced = count(&s, &first["id"], "open=true").await;
    assert_eq!(synced, sim.open_findings(&ext) as i64);

    // Remapped to another product: the next sync fills it; the first keeps what it had.
    let second = s.post("/api/v1/products", json!({"name": "Storefront v2"})).await.ok(201);
    let r = decide(json!({"action": "map", "product": second["id"]})).await;
    assert_eq!(r["product"], second["id"]);
    succeeded(&run(&s, k, "sync").await);
    assert_eq!(count(&s, &second["id"], "open=true").await, synced);
    assert_eq!(count(&s, &first["id"], "open=true").await, synced);

    // good → ignored: Discover keeps it ignored, Sync skips it.
    let r = decide(json!({"action": "ignore"})).await;
    assert_eq!(r["state"], "ignored");
    succeeded(&run(&s, k, "discover").await);
    assert_eq!(state(&records(&s, k).await), "ignored");
    sim.fix_findings(&ext, 1);
    s.call("PATCH", &format!("/api/v1/connectors/{k}"), Some(json!({"settings": {"full_sync_every": 1, "discover_every_minutes": 0, "sync_every_minutes": 0}}))).await.ok(200);
    succeeded(&run(&s, k, "sync").await);
    assert_eq!(count(&s, &second["id"], "open=true").await, synced, "an ignored record was synced");

    // ignored → restored: good again (it has a product), and syncs.
    let r = decide(json!({"action": "restore"})).await;
    assert_eq!(r["state"], "good");
    succeeded(&run(&s, k, "sync").await);
    assert_eq!(count(&s, &second["id"], "open=true").await, synced - 1);

    // Deleted: it comes back at the next Discover, as new; its findings stay.
    s.call("DELETE", &format!("/api/v1/records/{id}"), None).await.ok(204);
    assert!(records(&s, k).await.iter().all(|r| r["external_id"] != ext.as_str()));
    let d = run(&s, k, "discover").await;
    assert_eq!(succeeded(&d)["created"], 1, "{d}");
    let rs = records(&s, k).await;
    assert_eq!(state(&rs), "new");
    assert_eq!(count(&s, &second["id"], "").await, synced);
    let id = record(&rs, &ext)["id"].clone();
    let r = s.call("PATCH", &format!("/api/v1/records/{id}"), Some(json!({"action": "map", "product": second["id"]}))).await.ok(200);
    assert_eq!(r["state"], "good");

    // Its product deleted: stale at the next Discover.
    let scratch = s.post("/api/v1/products", json!({"name": "Scratch"})).await.ok(201);
    s.call("PATCH", &format!("/api/v1/records/{id}"), Some(json!({"action": "map", "product": scratch["id"]}))).await.ok(200);
    s.call("DELETE", &format!("/api/v1/products/{}", scratch["id"]), None).await.ok(204);
    let d = run(&s, k, "discover").await;
    assert_eq!(succeeded(&d)["stale"], 1, "{d}");
    assert_eq!(state(&records(&s, k).await), "stale");
    // Mapped again, it is good.
    let r = s.call("PATCH", &format!("/api/v1/records/{id}"), Some(json!({"action": "map", "product": second["id"]}))).await.ok(200);
    assert_eq!(r["state"], "good");

    // The tool stops reporting it: missing; its findings stay. Reported again: good again.
    sim.remove_record(&ext);
    let d = run(&s, k, "discover").await;
    assert_eq!(succeeded(&d)["missing"], 1, "{d}");
    assert_eq!(state(&records(&s, k).await), "missing");
    assert_eq!(count(&s, &second["id"], "").await, synced);
    succeeded(&run(&s, k, "sync").await);
    assert_eq!(count(&s, &second["id"], "").await, synced, "a missing record's findings changed");
    s.stop_worker().await;
}

/// Two replicas (two apps on one database, each with its scheduler and worker) look for due
/// operations many times over: each due Discover and Sync runs once.
async fn two_replicas_run_each_scheduled_operation_once(t: TestDb) {
    let s = Stack::start(t).await;
    let sim = start_sim(Tool::Semgrep).await;
    // Due at once, then daily / hourly.
    let k = add_scheduled_connector(&s, sim.as_ref(), "Semgrep", true, 1440, 60).await;
    let replicas: Vec<engine::App> = (0..2)
        .map(|_| engine::App::new(s.t.db.clone(), s.app.cipher().clone(), engine::Settings::new(s.base.clone())))
        .collect();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for app in &replicas {
        tasks.push(tokio::spawn(engine::connectors::schedule::schedule(app.clone(), Duration::from_millis(20), stopped.clone())));
        let worker = engine::Worker::new(
            app.clone(),
            engine::jobs::registry(),
            engine::WorkerOptions { concurrency: 2, poll_interval: Duration::from_millis(20), ..engine::WorkerOptions::default() },
        );
        tasks.push(tokio::spawn(worker.run(stopped.clone())));
    }
    // Both schedulers look ~100 times while the operations run.
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let ops = s.get(&format!("/api/v1/connectors/{k}/operations")).await;
        let done = ops["results"].as_array().unwrap().iter().filter(|o| o["status"] == "succeeded").count();
        if done >= 2 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{ops}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let ops = s.get(&format!("/api/v1/connectors/{k}/operations")).await;
    let ops = ops["results"].as_array().unwrap();
    let kinds: Vec<(&str, &str, &str)> = ops.iter().map(|o| (o["kind"].as_str().unwrap(), o["trigger"].as_str().unwrap(), o["status"].as_str().unwrap())).collect();
    assert_eq!(ops.len(), 2, "{kinds:?}");
    assert!(kinds.contains(&("discover", "scheduled", "succeeded")), "{kinds:?}");
    assert!(kinds.contains(&("sync", "scheduled", "succeeded")), "{kinds:?}");
}

/// A Sync queued while another runs waits for it, then runs: two syncs, one after the other.
async fn a_manual_run_waits_for_the_one_in_flight(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sim = start_sim(Tool::Snyk).await;
    let k = add_connector(&s, sim.as_ref(), "Snyk", true).await;
    s.start_worker();
    succeeded(&run(&s, k, "discover").await);
    // Every request of the first sync is slow, so the second is queued while it runs.
    sim.faults().push(simulators::Fault { delay_ms: 300, times: 1000, ..Default::default() });
    let a = s.post(&format!("/api/v1/connectors/{k}/sync"), json!({})).await.ok(202);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let b = s.post(&format!("/api/v1/connectors/{k}/sync"), json!({})).await.ok(202);
    let a = wait_operation(&s, a["id"].as_i64().unwrap()).await;
    sim.faults().clear();
    let b = wait_operation(&s, b["id"].as_i64().unwrap()).await;
    succeeded(&a);
    succeeded(&b);
    let (a_end, b_start) = (a["finished_at"].as_str().unwrap(), b["started_at"].as_str().unwrap());
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
    assert!(parse(b_start) >= parse(a_end), "the second sync started at {b_start}, before the first ended at {a_end}");
    s.stop_worker().await;
}

/// A connector syncs into a product assigned to GitHub: the new findings become issues.
async fn synced_findings_flow_on_to_a_tracker(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sim = start_sim(Tool::Semgrep).await;
    let gh = crate::github::github(&s, None).await;
    let k = add_connector(&s, sim.as_ref(), "Semgrep", false).await;
    s.start_worker();
    succeeded(&run(&s, k, "discover").await);
    let rs = records(&s, k).await;
    let r = rs.iter().max_by_key(|r| sim.open_findings(r["external_id"].as_str().unwrap())).unwrap();
    let p = s.post("/api/v1/products", json!({"name": "Storefront"})).await.ok(201);
    crate::github::assign(&s, gh.mapping, p["id"].as_i64().unwrap(), "link_new_and_update", json!({})).await;
    s.call("PATCH", &format!("/api/v1/records/{}", r["id"]), Some(json!({"action": "map", "product": p["id"]}))).await.ok(200);
    succeeded(&run(&s, k, "sync").await);
    s.drain(LONG).await;
    let open = count(&s, &p["id"], "open=true").await;
    assert!(open > 0);
    assert_eq!(gh.sim.issues("acme", "storefront").len() as i64, open);
    // The tool fixes one: the next full sync closes the finding and its issue.
    sim.fix_findings(r["external_id"].as_str().unwrap(), 1);
    s.call("PATCH", &format!("/api/v1/connectors/{k}"), Some(json!({"settings": {"full_sync_every": 1, "discover_every_minutes": 0, "sync_every_minutes": 0}}))).await.ok(200);
    succeeded(&run(&s, k, "sync").await);
    s.drain(LONG).await;
    let closed = gh.sim.issues("acme", "storefront").into_iter().filter(|i| i.state == "closed").count();
    assert_eq!(closed, 1);
    s.stop_worker().await;
}

/// Checkmarx ONE with `per_branch`: a Record per tracked branch; two branches of one project
/// mapped to one product are imported side by side, and one branch's full sync never closes
/// the other's findings.
async fn checkmarx_one_imports_each_tracked_branch(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sim = simulators::scanners::checkmarx_one::CheckmarxSim::start_seeded("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let project = sim.record_ids().into_iter().max_by_key(|p| sim.open_findings(p)).unwrap();
    let on_main = sim.open_findings(&project) as i64;
    assert!(on_main >= 3);
    // The release branch's scan lacks one of main's results.
    sim.scan_branch(&project, "release/2.0", 1);
    let mut options = sim.options();
    options.insert("per_branch".into(), json!(true));
    let k = add_connector_with(&s, &sim, "Checkmarx ONE", json!({"discover_every_minutes": 0, "sync_every_minutes": 0, "full_sync_every": 1, "options": options})).await;
    s.start_worker();
    succeeded(&run(&s, k, "discover").await);
    let rs = records(&s, k).await;
    let main = record(&rs, &format!("{project}@main")).clone();
    let release = record(&rs, &format!("{project}@release/2.0")).clone();
    assert!(release["name"].as_str().unwrap().ends_with(" › release/2.0"), "{release}");
    assert_eq!(release["metadata"]["branch"], "release/2.0");
    assert!(rs.iter().all(|r| r["external_id"].as_str().unwrap().contains('@')), "{rs:?}");

    let p = s.post("/api/v1/products", json!({"name": "Shop"})).await.ok(201);
    for r in [&main, &release] {
        s.call("PATCH", &format!("/api/v1/records/{}", r["id"]), Some(json!({"action": "map", "product": p["id"]}))).await.ok(200);
    }
    succeeded(&run(&s, k, "sync").await);
    assert_eq!(open_occurrences(&s, &p["id"]).await, on_main + on_main - 1, "each branch's findings, side by side");
    let tests = s.get(&format!("/api/v1/tests?product={}", p["id"])).await;
    assert_eq!(tests["count"], 1, "one Test per connector: {tests}");

    // Full syncs of both, nothing changed: neither closes the other's findings.
    let again = run(&s, k, "sync").await;
    assert_eq!(succeeded(&again)["closed"], 0, "{again}");
    assert_eq!(open_occurrences(&s, &p["id"]).await, on_main + on_main - 1);

    // main fixes one more: only main's copy closes.
    sim.scan_branch(&project, "main", 1);
    let fixed = run(&s, k, "sync").await;
    assert_eq!(succeeded(&fixed)["closed"], 1, "{fixed}");
    assert_eq!(open_occurrences(&s, &p["id"]).await, on_main - 1 + on_main - 1);
    s.stop_worker().await;
}

/// A tool option the client could not use is refused when the connector is saved (422 naming
/// `settings.options.<name>`, nothing written), not at its first Check connection or run.
async fn tool_options_are_checked_when_saved(t: TestDb) {
    let s = Stack::start(t).await;
    let add = |tool: &str, location: &str, secrets: Value, options: Value| {
        s.post("/api/v1/connectors", json!({"tool": tool, "label": format!("{tool} {options}"), "location": location, "secrets": secrets, "settings": {"options": options}}))
    };
    let token = json!({"token": "t0ken"});
    let refused = [
        ("snyk", "https://api.snyk.io", token.clone(), json!({"org": "acme"}), "settings.options.org", "UUID"),
        ("snyk", "https://api.snyk.io", token.clone(), json!({"api_version": "latest"}), "settings.options.api_version", "date"),
        ("sonarqube", "https://sonar.example.com", token.clone(), json!({"types": "VULNERABILITY,HOTSPOT"}), "settings.options.types", "HOTSPOT"),
        ("sonarqube", "https://sonar.example.com", token.clone(), json!({"auth": "token"}), "settings.options.auth", "basic or bearer"),
        ("sonarqube", "https://sonar.example.com", token.clone(), json!({"hotspots": 2}), "settings.options.hotspots", "true or false"),
        ("semgrep", "https://semgrep.dev", token.clone(), json!({"page_size": 20}), "settings.options.page_size", "100 to 3000"),
        ("checkmarx_one", "https://ast.checkmarx.net", json!({"api_key": "k"}), json!({"branch": "main", "per_branch": true}), "settings.options.per_branch", "branch"),
        ("aws_security_hub", "https://proxy.example.com", json!({"access_key_id": "AKIA", "secret_access_key": "s"}), json!({}), "settings.options.region", "Region"),
    ];
    for (tool, location, secrets, options, field, says) in refused {
        let r = add(tool, location, secrets, options.clone()).await;
        assert_eq!(r.status, 422, "{tool} {options}: {}", r.body);
        assert_eq!(r.body["field"], field, "{}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains(says), "{}", r.body);
    }
    assert_eq!(s.get("/api/v1/connectors").await, json!([]), "nothing written");

    // Good options are saved; a change that breaks them is refused, and so is a new location
    // the client could not read the AWS Region from.
    let sim = start_sim(Tool::Snyk).await;
    let k = add_connector(&s, sim.as_ref(), "Snyk", false).await;
    let r = s.call("PATCH", &format!("/api/v1/connectors/{k}"), Some(json!({"settings": {"options": {"org": "not-a-uuid"}}}))).await;
    assert_eq!((r.status, r.body["field"].as_str()), (422, Some("settings.options.org")), "{}", r.body);
    let r = add("aws_security_hub", "https://securityhub.eu-west-1.amazonaws.com", json!({"access_key_id": "AKIA", "secret_access_key": "s"}), json!({"regions": "eu-west-1, us-east-1"})).await;
    let aws = r.ok(201)["id"].as_i64().unwrap();
    let r = s.call("PATCH", &format!("/api/v1/connectors/{aws}"), Some(json!({"location": "https://proxy.example.com"}))).await;
    assert_eq!((r.status, r.body["field"].as_str()), (422, Some("settings.options.region")), "{}", r.body);
    let r = s.call("PATCH", &format!("/api/v1/connectors/{aws}"), Some(json!({"location": "https://proxy.example.com", "settings": {"options": {"region": "eu-west-1"}}}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = s.get(&format!("/api/v1/connectors/{k}")).await;
    assert_eq!(stored["settings"]["options"], Value::Object(sim.options()), "unchanged: {stored}");
}
