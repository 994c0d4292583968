//! The Probely connector against the Probely simulator over HTTP: check, Discover across
//! pages, full and incremental (by `changed`) pulls, states, the same identity and mapping as
//! the `Probely Scan` parser, and failures (401, 429, malformed and truncated pages, a list
//! that moves under the pull, a closed sink).

mod support;


use chrono::Utc;
use domain::connector::Tool;
use domain::{NewFinding, Status};
use outbound::{CallError, NoLimits, OutboundPolicy};
use scanners::connectors::{BATCH, PullMode, ScannerApi, Setup, client};
use scanners::formats::probely::ProbelyScan;
use scanners::testing::parse_bytes;
use serde_json::{Value, json};
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::probely::{Limits, ProbelySim};
use std::collections::HashSet;
use std::sync::Arc;
use support::{pull, record, record_named};

async fn seeded() -> ProbelySim {
    ProbelySim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn setup(location: &str, key: &str) -> Setup {
    support::setup(Tool::Probely, location, &[("api_key", key)], serde_json::Value::Null)
}

fn api_with(sim: &ProbelySim, key: &str) -> Arc<dyn ScannerApi> {
    client(
        setup(&sim.location(), key),
        Arc::new(NoLimits),
        &OutboundPolicy::default(),
    )
    .unwrap()
}

fn api(sim: &ProbelySim) -> Arc<dyn ScannerApi> {
    api_with(sim, &sim.secrets()[0].1)
}

/// Pulls a record into a vector, checking every batch is at most `BATCH`.
fn fault(path: &str, status: u16, body: Value, headers: &[(&str, &str)]) -> Fault {
    Fault {
        path_contains: Some(path.into()),
        status,
        body,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        times: 1,
        ..Default::default()
    }
}

#[tokio::test]
async fn check_passes_with_a_good_key_and_says_what_is_wrong_otherwise() {
    let sim = seeded().await;
    let report = api(&sim).check().await;
    assert!(report.ok(), "{}", report.failures());
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.name == "targets" && c.detail.starts_with("2 targets")),
        "{report:?}"
    );
    let bad = api_with(&sim, "nope").check().await;
    let creds = bad.checks.iter().find(|c| c.name == "credentials").unwrap();
    assert!(
        !creds.ok && creds.detail.contains("Probely refused the API key"),
        "{creds:?}"
    );
    sim.faults().push(fault(
        "/targets/",
        403,
        json!({ "detail": "You do not have permission to perform this action." }),
        &[],
    ));
    let forbidden = api(&sim).check().await;
    assert!(
        forbidden
            .checks
            .iter()
            .any(|c| c.name == "targets" && !c.ok),
        "{forbidden:?}"
    );
    let gone = client(
        setup("http://127.0.0.1:9/", "k"),
        Arc::new(NoLimits),
        &OutboundPolicy::default(),
    )
    .unwrap()
    .check()
    .await;
    assert!(
        gone.checks.iter().any(|c| c.name == "location" && !c.ok),
        "{gone:?}"
    );
}

#[tokio::test]
async fn discover_pages_through_every_target() {
    let sim = seeded().await;
    for n in 0..205 {
        sim.add_record(&format!("app-{n:03}"), 0);
    }
    let found = api(&sim).discover().await.unwrap();
    assert_eq!(
        found
            .iter()
            .map(|r| r.external_id.clone())
            .collect::<Vec<_>>(),
        sim.record_ids()
    );
    assert_eq!(
        sim.requests().counts().get("GET /targets/").copied(),
        Some(3)
    );
    let shop = found
        .iter()
        .find(|r| r.external_id == "3r5Sjyg7enXp")
        .unwrap();
    assert_eq!(shop.name, "Acme shop");
    assert_eq!(shop.metadata["url"], "https://shop.example.com");
    assert_eq!(shop.metadata["labels"], json!(["pci"]));
    let api_target = found.iter().find(|r| r.name == "Acme partner API").unwrap();
    assert_eq!(api_target.metadata["type"], "api");
}

#[tokio::test]
async fn a_full_pull_maps_states_and_matches_the_report_parser() {
    let sim = seeded().await;
    let api = api(&sim);
    let shop = record_named(&api, "Acme shop").await;
    let (pulled, findings) = pull(&api, &shop, PullMode::Full).await.unwrap();
    assert!(pulled.complete);
    assert_eq!(pulled.findings, 5);
    let statuses: HashSet<Status> = findings.iter().map(|f| f.status).collect();
    for s in [
        Status::Active,
        Status::AwaitingValidation,
        Status::RiskAccepted,
        Status::FalsePositive,
        Status::Closed,
    ] {
        assert!(statuses.contains(&s), "{statuses:?}");
    }
    // The simulator serves the fixture page as it is: the parser reads the same findings.
    let fixture = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/probely/findings.json"),
    )
    .unwrap();
    let parsed = parse_bytes(&ProbelyScan, &fixture).unwrap();
    assert_eq!(parsed.len(), findings.len());
    for p in &parsed {
        let f = findings
            .iter()
            .find(|f| f.unique_id_from_tool == p.unique_id_from_tool)
            .unwrap_or_else(|| panic!("no {:?}", p.unique_id_from_tool));
        assert_eq!(
            (f.title.as_str(), f.severity, f.status, f.verified),
            (p.title.as_str(), p.severity, p.status, p.verified)
        );
        assert_eq!(
            (&f.endpoints, &f.param, &f.payload, &f.mitigation),
            (&p.endpoints, &p.param, &p.payload, &p.mitigation)
        );
        assert_eq!(
            (&f.description, &f.cvss_v3_vector, f.cvss_v3_score, &f.tags),
            (&p.description, &p.cvss_v3_vector, p.cvss_v3_score, &p.tags)
        );
        assert_eq!(f.request_response, p.request_response);
        assert!(
            f.unique_id_from_tool
                .as_deref()
                .is_some_and(|u| u.starts_with("3r5Sjyg7enXp/"))
        );
    }
    // The cursor is the newest `changed`.
    let page: Value = serde_json::from_slice(&fixture).unwrap();
    let newest = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["changed"].as_str())
        .max()
        .unwrap();
    assert_eq!(pulled.cursor.as_deref(), Some(newest));
}

#[tokio::test]
async fn incremental_pulls_bring_what_changed_since_the_cursor() {
    let sim = ProbelySim::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let id = sim.add_record("Shop", 250);
    let api = api(&sim);
    let r = record_named(&api, "Shop").await;
    let (full, findings) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert!(full.complete);
    assert_eq!(findings.len(), 250);
    let cursor = full.cursor.clone().unwrap();

    let (nothing, findings) = pull(&api, &r, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert_eq!(
        (
            nothing.complete,
            nothing.findings,
            nothing.cursor.as_deref()
        ),
        (false, 0, Some(cursor.as_str()))
    );
    assert!(findings.is_empty());

    sim.requests().reset();
    sim.fix_findings(&id, 3);
    sim.mark_false_positive(&id);
    sim.add_findings(&id, 2);
    let (since, findings) = pull(&api, &r, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert!(
        !since.complete,
        "an incremental pull never closes what it did not see"
    );
    assert_eq!(findings.len(), 6);
    assert_eq!(
        findings
            .iter()
            .filter(|f| f.status == Status::Closed)
            .count(),
        3
    );
    assert_eq!(
        findings
            .iter()
            .filter(|f| f.status == Status::FalsePositive)
            .count(),
        1
    );
    assert_eq!(
        findings
            .iter()
            .filter(|f| f.status == Status::Active)
            .count(),
        2
    );
    assert!(since.cursor.as_deref().unwrap() > cursor.as_str());
    assert_eq!(
        sim.requests()
            .counts()
            .get("GET /targets/{id}/findings/")
            .copied(),
        Some(1),
        "it stopped at the cursor"
    );

    let (again, findings) = pull(&api, &r, PullMode::Since(since.cursor.clone().unwrap()))
        .await
        .unwrap();
    assert!(findings.is_empty());
    assert_eq!(again.cursor, since.cursor);

    let e = pull(&api, &r, PullMode::Since("last tuesday".into()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "misconfigured");
}

#[tokio::test]
async fn large_targets_page_in_batches() {
    let sim = ProbelySim::generate("127.0.0.1:0".parse().unwrap(), 1, 1234)
        .await
        .unwrap();
    let api = api(&sim);
    let r = record(&api.discover().await.unwrap()[0]);
    let (pulled, findings) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!(pulled.findings, 1234);
    let ids: HashSet<&str> = findings
        .iter()
        .filter_map(|f| f.unique_id_from_tool.as_deref())
        .collect();
    assert_eq!(ids.len(), 1234);
    assert_eq!(
        sim.requests()
            .counts()
            .get("GET /targets/{id}/findings/")
            .copied(),
        Some(13)
    );
}

#[tokio::test]
async fn failures_come_back_as_clear_errors() {
    let sim = seeded().await;
    let good = api(&sim);
    let shop = record_named(&good, "Acme shop").await;

    let e = pull(&api_with(&sim, "revoked"), &shop, PullMode::Full)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CallError::Unauthorized(m) if m.contains("Probely refused the API key") && m.contains("Incorrect authentication credentials")),
        "{e:?}"
    );

    sim.set_limits(Limits {
        requests_per_minute: 1,
        window_scale: 1.0,
    });
    pull(&good, &shop, PullMode::Full).await.unwrap();
    match pull(&good, &shop, PullMode::Full).await.unwrap_err() {
        CallError::RateLimited {
            until: Some(u),
            reason,
        } => {
            assert!((u - Utc::now()).num_seconds() <= 60);
            assert!(reason.contains("Request was throttled"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    sim.set_limits(Limits {
        requests_per_minute: 0,
        window_scale: 1.0,
    });

    sim.faults().push(fault(
        "/findings/",
        200,
        json!("{\"count\": 5, \"results\": [{\"id\""),
        &[],
    ));
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("Probely findings of target")),
        "{e:?}"
    );

    sim.faults().push(fault(
        "/findings/",
        200,
        json!({ "count": 1, "page_total": 1, "results": [{ "state": "notfixed" }] }),
        &[],
    ));
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("finding 0")),
        "{e:?}"
    );

    // A page cut short before the last page.
    sim.faults().push(fault(
        "/findings/",
        200,
        json!({ "count": 300, "page_total": 3, "page": 1, "length": 100, "results": [] }),
        &[],
    ));
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("before the last of 3 pages")),
        "{e:?}"
    );

    // Fewer findings than Probely counts: the list moved under the pull.
    sim.faults().push(fault(
        "/findings/",
        200,
        json!({ "count": 9, "page_total": 1, "page": 1, "length": 100, "results": [] }),
        &[],
    ));
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Transient(m) if m.contains("read 0 of the 9")),
        "{e:?}"
    );

    let c = reqwest::Client::new();
    c.post(format!("{}/_sim/cut", sim.base_url()))
        .json(&json!({ "path_contains": "/findings/" }))
        .send()
        .await
        .unwrap();
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(e, CallError::Transient(_) | CallError::Protocol(_)),
        "{e:?}"
    );

    sim.faults()
        .push(fault("/findings/", 503, Value::Null, &[]));
    assert!(
        pull(&good, &shop, PullMode::Full)
            .await
            .unwrap_err()
            .is_retryable()
    );

    sim.remove_record(&shop.external_id);
    assert_eq!(
        pull(&good, &shop, PullMode::Full).await.unwrap_err().code(),
        "not_found"
    );
}

#[tokio::test]
async fn a_closed_sink_stops_the_pull() {
    let sim = ProbelySim::generate("127.0.0.1:0".parse().unwrap(), 1, 1600)
        .await
        .unwrap();
    let api = api(&sim);
    let r = record(&api.discover().await.unwrap()[0]);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<NewFinding>>(1);
    let reader = tokio::spawn(async move {
        let first = rx.recv().await.map(|b| b.len());
        drop(rx);
        first
    });
    let pulled = api.pull(&r, PullMode::Full, &tx).await.unwrap();
    assert_eq!(reader.await.unwrap(), Some(BATCH));
    assert!(!pulled.complete);
    assert!(pulled.findings < 1600);
    assert!(
        sim.requests()
            .counts()
            .get("GET /targets/{id}/findings/")
            .copied()
            .unwrap_or(0)
            < 16
    );
}
