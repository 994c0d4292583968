//! The Tenable connector against the Tenable simulator over HTTP: check, Discover, full and
//! incremental pulls through the vulnerability export (chunks read as they become
//! available), statuses, the same identity as the `Tenable Scan` parser reading the same
//! findings as a CSV export, and failures (401, 429 with `retry-after`, 409 adoption, failed
//! and malformed chunks, cut-off answers, a closed sink).

mod support;


use chrono::Utc;
use domain::connector::Tool;
use domain::{NewFinding, Severity, Status};
use outbound::CallError;
use scanners::connectors::{PullMode, ScannerApi, Setup};
use scanners::formats::tenable::TenableParser;
use scanners::testing::parse_fixture;
use serde_json::json;
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::tenable::{
    ACCESS_KEY, BASIC_ACCESS_KEY, BASIC_SECRET_KEY, SECRET_KEY, TenableSim,
};
use std::sync::Arc;
use support::{connect, pull, record_of};

async fn seeded() -> TenableSim {
    TenableSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn setup(sim: &TenableSim, access: &str, secret: &str) -> Setup {
    support::setup(Tool::Tenable, &sim.location(), &[("access_key", access), ("secret_key", secret)], serde_json::Value::Null)
}

fn api(sim: &TenableSim) -> Arc<dyn ScannerApi> {
    connect(setup(sim, ACCESS_KEY, SECRET_KEY))
}

#[tokio::test]
async fn check_passes_and_names_what_is_wrong() {
    let sim = seeded().await;
    let report = api(&sim).check().await;
    assert!(report.ok(), "{}", report.failures());
    let bad = connect(setup(&sim, ACCESS_KEY, "wrong")).check().await;
    let c = bad.checks.iter().find(|c| c.name == "credentials").unwrap();
    assert!(
        !c.ok && c.detail.contains("Invalid credentials"),
        "{}",
        c.detail
    );
    let basic = connect(setup(&sim, BASIC_ACCESS_KEY, BASIC_SECRET_KEY))
        .check()
        .await;
    assert!(
        basic
            .checks
            .iter()
            .find(|c| c.name == "exports")
            .unwrap()
            .ok
    );
    let h = basic
        .checks
        .iter()
        .find(|c| c.name == "scan history")
        .unwrap();
    assert!(!h.ok && h.detail.contains("Scan Operator"), "{}", h.detail);
}

#[tokio::test]
async fn discover_lists_the_scans_by_schedule() {
    let sim = seeded().await;
    let found = api(&sim).discover().await.unwrap();
    assert_eq!(
        found
            .iter()
            .map(|r| r.external_id.clone())
            .collect::<Vec<_>>(),
        sim.record_ids()
    );
    assert_eq!(found[0].name, "Azure Linux hosts");
    assert!(found[0].metadata["id"].as_i64().is_some());
    sim.remove_record(&found[0].external_id);
    assert_eq!(api(&sim).discover().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_full_pull_maps_findings_as_the_csv_parser_does() {
    let sim = seeded().await;
    let api = api(&sim);
    let ids = sim.record_ids();
    let (pa, a) = pull(&api, &record_of(&ids[0]), PullMode::Full)
        .await
        .unwrap();
    let (pb, b) = pull(&api, &record_of(&ids[1]), PullMode::Full)
        .await
        .unwrap();
    assert!(pa.complete && pb.complete);
    assert_eq!(a.len() + b.len(), 99);
    assert_eq!(b.iter().filter(|f| f.status == Status::Closed).count(), 3);
    assert_eq!(
        b.iter()
            .filter(|f| f.status == Status::RiskAccepted)
            .count(),
        2
    );
    assert!(a.iter().all(|f| f.status == Status::Active));
    assert!(
        pa.cursor
            .as_deref()
            .unwrap()
            .starts_with(&sim.latest_run(&ids[0]).unwrap())
    );

    let parsed = parse_fixture(&TenableParser, "tenable/nessus/nessus_new.csv").unwrap();
    let mut compared = 0;
    for g in a.iter().chain(&b) {
        let id = g.unique_id_from_tool.clone().unwrap();
        let Some(p) = parsed
            .iter()
            .find(|p| p.unique_id_from_tool.as_deref() == Some(id.as_str()))
        else {
            continue;
        };
        compared += 1;
        assert_eq!(g.title, p.title, "{id}");
        assert_eq!(g.severity, p.severity, "{id}");
        assert_eq!(g.vuln_id_from_tool, p.vuln_id_from_tool, "{id}");
        assert_eq!(g.vulnerability_ids, p.vulnerability_ids, "{id}");
        assert_eq!(g.mitigation, p.mitigation, "{id}");
        // (The fixture's CSV header leaves the description's column unnamed, so the parser
        // has no impact text to compare with; the export names it.)
        assert!(g.impact.is_some());
        assert_eq!(g.cwe, p.cwe, "{id}");
        assert_eq!(g.cvss_v3_vector, p.cvss_v3_vector, "{id}");
        if g.status == Status::Active {
            assert_eq!(p.status, Status::Active);
        }
    }
    assert!(
        compared >= 90,
        "the parser folds a few rows; {compared} compared"
    );
    assert!(a.iter().chain(&b).all(|f| f.severity == Severity::Low));
    assert!(a.iter().all(|f| !f.endpoints.is_empty()));
}

#[tokio::test]
async fn incremental_pulls_follow_indexing_and_new_runs() {
    let sim = seeded().await;
    let api = api(&sim);
    let id = sim.add_record("payments", 60);
    let r = record_of(&id);
    let (full, got) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!(got.len(), 60);
    let cursor = full.cursor.unwrap();

    // The same run: only what Tenable re-indexed since.
    sim.mark_false_positive(&id);
    let (inc, changed) = pull(&api, &r, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert!(!inc.complete);
    assert_eq!(
        changed.len(),
        1,
        "{:?}",
        changed.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
    assert_eq!(changed[0].status, Status::RiskAccepted);

    // A new run: the whole run, fixed findings closed.
    sim.fix_findings(&id, 2);
    let (next, run) = pull(&api, &r, PullMode::Since(inc.cursor.unwrap()))
        .await
        .unwrap();
    assert!(next.complete, "a new run is a complete snapshot");
    assert_eq!(run.len(), 60);
    assert_eq!(run.iter().filter(|f| f.status == Status::Closed).count(), 2);
    assert_eq!(
        run.iter()
            .filter(|f| f.status == Status::RiskAccepted)
            .count(),
        1
    );
    assert_eq!(
        sim.open_findings(&id),
        run.iter().filter(|f| f.status == Status::Active).count()
    );
    assert!(
        next.cursor
            .unwrap()
            .starts_with(&sim.latest_run(&id).unwrap())
    );
}

#[tokio::test]
async fn large_exports_arrive_in_several_chunks() {
    let sim = TenableSim::generate(1, 12_000).await.unwrap();
    let api = api(&sim);
    let id = sim.record_ids()[0].clone();
    sim.requests().reset();
    let (p, got) = pull(&api, &record_of(&id), PullMode::Full).await.unwrap();
    assert_eq!((p.findings, got.len()), (12_000, 12_000));
    assert_eq!(
        sim.requests().counts()["GET /vulns/export/{uuid}/chunks/{chunk}"],
        2,
        "600 assets, 500 a chunk"
    );
    let ids: std::collections::HashSet<_> =
        got.iter().map(|f| f.unique_id_from_tool.clone()).collect();
    assert_eq!(ids.len(), 12_000);
}

#[tokio::test]
async fn a_running_export_is_adopted_and_limits_are_reported() {
    let sim = seeded().await;
    let api = api(&sim);
    let id = sim.record_ids()[0].clone();
    let run = sim.latest_run(&id).unwrap();
    // The same export already started (by an earlier pull that died): adopted on 409.
    let http = reqwest::Client::new();
    let started: serde_json::Value = http
        .post(format!("{}/vulns/export", sim.base_url()))
        .header("X-ApiKeys", format!("accessKey={ACCESS_KEY};secretKey={SECRET_KEY}"))
        .json(&json!({ "num_assets": 500, "include_unlicensed": true, "filters": { "scan_uuid": run, "since": 0, "state": ["OPEN", "REOPENED", "FIXED"] } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(started["export_uuid"].is_string());
    let history = http
        .get(format!("{}/scans/{id}/history", sim.base_url()))
        .header(
            "X-ApiKeys",
            format!("accessKey={ACCESS_KEY};secretKey={SECRET_KEY}"),
        )
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let time_start = history["history"][0]["time_start"].as_i64().unwrap();
    // The connector asks for `since` a day before the run: start the same request it makes.
    let same = json!({ "num_assets": 500, "include_unlicensed": true, "filters": { "scan_uuid": run, "since": time_start - 86_400, "state": ["OPEN", "REOPENED", "FIXED"] } });
    http.post(format!("{}/vulns/export", sim.base_url()))
        .header(
            "X-ApiKeys",
            format!("accessKey={ACCESS_KEY};secretKey={SECRET_KEY}"),
        )
        .json(&same)
        .send()
        .await
        .unwrap();
    assert_eq!(sim.running_exports(), 2);
    let (_, got) = pull(&api, &record_of(&id), PullMode::Full).await.unwrap();
    assert_eq!(got.len(), sim.finding_ids(&id).len());
    assert_eq!(
        sim.running_exports(),
        1,
        "the running export was adopted, not duplicated"
    );

    // Ten running exports: the container's limit, answered 429 with retry-after.
    for i in 0..9 {
        http.post(format!("{}/vulns/export", sim.base_url()))
            .header(
                "X-ApiKeys",
                format!("accessKey={ACCESS_KEY};secretKey={SECRET_KEY}"),
            )
            .json(&json!({ "filters": { "since": i } }))
            .send()
            .await
            .unwrap();
    }
    let e = pull(&api, &record_of(&id), PullMode::Full)
        .await
        .unwrap_err();
    let CallError::RateLimited {
        until: Some(until), ..
    } = e
    else {
        panic!("{e:?}")
    };
    let secs = (until - Utc::now()).num_seconds();
    assert!((25..=30).contains(&secs), "retry-after 30: {secs}");
}

#[tokio::test]
async fn failures_come_back_as_the_right_errors() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_of(&sim.record_ids()[0]);
    let e = pull(
        &connect(setup(&sim, ACCESS_KEY, "wrong")),
        &r,
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, CallError::Unauthorized(m) if m.contains("Invalid credentials")),
        "{e:?}"
    );

    sim.set_rate_limit(Some(1), std::time::Duration::from_secs(60), 45);
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(e, CallError::RateLimited { until: Some(_), .. }),
        "{e:?}"
    );
    sim.set_rate_limit(None, std::time::Duration::from_secs(60), 0);

    sim.faults().push(Fault {
        path_contains: Some("/chunks/".into()),
        status: 200,
        body: json!({ "not": "an array" }),
        times: 1,
        ..Default::default()
    });
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("chunk 1")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/chunks/".into()),
        status: 200,
        body: json!([{ "finding_id": "x" }]),
        times: 1,
        ..Default::default()
    });
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("plugin")),
        "{e:?}"
    );

    sim.cut_next("/chunks/", 1);
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Transient(m) if m.contains("chunk")),
        "{e:?}"
    );

    sim.fail_next_chunks(&[1]);
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Transient(m) if m.contains("chunks failed")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/status".into()),
        status: 200,
        body: json!({ "status": "ERROR", "reason": "The export request timed out. Try again." }),
        times: 1,
        ..Default::default()
    });
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Transient(m) if m.contains("timed out")),
        "{e:?}"
    );

    let e = pull(&api, &record_of("no-such-scan"), PullMode::Full)
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn a_closed_sink_stops_the_pull_and_frees_the_export() {
    let sim = TenableSim::generate(1, 3_000).await.unwrap();
    let api = api(&sim);
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<NewFinding>>(1);
    drop(rx);
    let pulled = api
        .pull(&record_of(&sim.record_ids()[0]), PullMode::Full, &tx)
        .await
        .unwrap();
    assert!(!pulled.complete);
    assert_eq!(pulled.findings, 0);
    assert_eq!(sim.running_exports(), 0);
}
