//! Connectors when the scanner misbehaves mid-sync — a timeout, a 401, a 429, malformed JSON,
//! a truncated page: the operation fails with a clear reason in the log, nothing of the failed
//! Record is imported (not even its good first pages), and the next run recovers.

use crate::connectors::{add_connector, open_occurrences as occurrences, records, run, start_sim, succeeded};
use crate::stack::Stack;
use domain::connector::Tool;
use serde_json::{Value, json};
use simulators::Fault;
use store::testing::TestDb;

store::both_backends!(
    semgrep_truncated_page_mid_sync,
    sonarqube_malformed_json_mid_sync,
    dependency_track_revoked_key,
    snyk_rate_limited,
    checkmarx_one_timeout,
    tenable_truncated_chunk,
);

/// A connector synced once; then a big new Record whose sync meets the fault made by `fault`
/// (given the Record's external id): the Sync fails naming `reason`, the big Record gets
/// nothing, the next Sync brings all of it.
async fn fails_cleanly_then_recovers(t: TestDb, tool: Tool, options: Value, big: usize, fault: impl Fn(&str) -> Fault, reason: &str) {
    let mut s = Stack::start(t).await;
    let sim = start_sim(tool).await;
    let k = add_connector(&s, sim.as_ref(), "Scanner", true).await;
    let mut settings = json!({"auto_map": true, "discover_every_minutes": 0, "sync_every_minutes": 0, "full_sync_every": 1, "options": sim.options()});
    for (key, v) in options.as_object().unwrap() {
        settings["options"][key] = v.clone();
    }
    s.call("PATCH", &format!("/api/v1/connectors/{k}"), Some(json!({ "settings": settings }))).await.ok(200);
    s.start_worker();
    succeeded(&run(&s, k, "discover").await);
    let baseline = succeeded(&run(&s, k, "sync").await).clone();
    let findings_before = s.get("/api/v1/findings?limit=1").await["count"].as_i64().unwrap();

    let ext = sim.add_record("Data warehouse", big);
    succeeded(&run(&s, k, "discover").await);
    let rs = records(&s, k).await;
    let r = rs.iter().find(|r| r["external_id"] == ext.as_str()).unwrap().clone();
    let product = r["product"].clone();

    sim.faults().push(fault(&ext));
    let failed = run(&s, k, "sync").await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let why = failed["error"].as_str().unwrap();
    assert!(why.contains("Data warehouse") && why.contains(reason), "the reason should name the record and say '{reason}': {why}");
    for (name, secret) in sim.secrets() {
        assert!(!why.contains(&secret), "secret {name} in the log: {why}");
    }
    assert!(failed["counts"]["failed_records"].as_i64().is_none_or(|n| n >= 1), "{failed}");
    // Nothing of the big Record, not even the pages before the fault; the others as they were.
    assert_eq!(occurrences(&s, &product).await, 0, "half-imported: {failed}");
    let after = s.get("/api/v1/findings?limit=1").await["count"].as_i64().unwrap();
    assert_eq!(after, findings_before, "findings changed during a failed sync: {failed}");
    let r = s.get(&format!("/api/v1/connectors/{k}/records?limit=500")).await["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["external_id"] == ext.as_str())
        .unwrap()
        .clone();
    assert_eq!((r["syncs"].clone(), r["cursor"].clone()), (json!(0), Value::Null), "{r}");

    // The next run recovers, with everything.
    sim.faults().clear();
    let ok = run(&s, k, "sync").await;
    let counts = succeeded(&ok);
    assert_eq!(counts["records"], baseline["records"].as_i64().unwrap() + 1, "{ok}");
    assert_eq!(occurrences(&s, &product).await, sim.open_findings(&ext) as i64, "{ok}");
    s.stop_worker().await;
}

fn fault(path: &str, status: u16) -> Fault {
    Fault { method: Some("GET".into()), path_contains: Some(path.into()), status, times: 1, ..Default::default() }
}

async fn semgrep_truncated_page_mid_sync(t: TestDb) {
    // 250 findings in pages of 100 (0-based): the second page is cut off mid-object.
    let f = |_: &str| Fault {
        query_contains: Some("page=1".into()),
        raw_body: Some(r#"{"findings": [{"id": 9001, "ref": "main", "rule_name": "python.lang.secu"#.into()),
        ..fault("/findings", 200)
    };
    fails_cleanly_then_recovers(t, Tool::Semgrep, json!({"page_size": 100}), 250, f, "the JSON answer is cut short").await
}

async fn sonarqube_malformed_json_mid_sync(t: TestDb) {
    // 1,200 issues in pages of 500: the second page is not JSON at all.
    let f = |_: &str| Fault {
        query_contains: Some("p=2".into()),
        raw_body: Some("<html><body>502 Bad Gateway</body></html>".into()),
        ..fault("api/issues/search", 200)
    };
    fails_cleanly_then_recovers(t, Tool::SonarQube, json!({}), 1200, f, "the answer is not valid JSON").await
}

async fn dependency_track_revoked_key(t: TestDb) {
    let f = |ext: &str| Fault { body: json!({"status": 401, "title": "Unauthorized"}), ..fault(&format!("/api/v1/finding/project/{ext}"), 401) };
    fails_cleanly_then_recovers(t, Tool::DependencyTrack, json!({}), 40, f, "401").await
}

async fn snyk_rate_limited(t: TestDb) {
    let f = |ext: &str| Fault {
        query_contains: Some(ext.to_owned()),
        headers: vec![("Retry-After".into(), "1".into())],
        body: json!({"jsonapi": {"version": "1.0"}, "errors": [{"status": "429", "detail": "Too many requests"}]}),
        times: 50,
        ..fault("/issues", 429)
    };
    fails_cleanly_then_recovers(t, Tool::Snyk, json!({}), 30, f, "429").await
}

async fn checkmarx_one_timeout(t: TestDb) {
    // Longer than the clients' 30-second request timeout.
    let f = |ext: &str| Fault { query_contains: Some(ext.to_owned()), delay_ms: 31_000, ..fault("api/scans", 200) };
    fails_cleanly_then_recovers(t, Tool::CheckmarxOne, json!({}), 30, f, "no answer within 30 s").await
}

async fn tenable_truncated_chunk(t: TestDb) {
    // Every chunk download cut short (exports cannot be told apart by scan from outside).
    let f = |_: &str| Fault {
        raw_body: Some(r#"[{"asset": {"uuid": "a1", "hostname": "db-01"}, "plugin": {"id": 19506, "na"#.into()),
        times: 1000,
        ..fault("/chunks/", 200)
    };
    fails_cleanly_then_recovers(t, Tool::Tenable, json!({}), 30, f, "ended before its JSON array did").await
}
