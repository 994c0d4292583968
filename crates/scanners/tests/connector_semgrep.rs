//! The Semgrep connector against the Semgrep simulator over HTTP: check, Discover across
//! pages, full and incremental pulls, statuses, the same identity as the `Semgrep Pro JSON
//! Report` parser, and failures (401, 429, malformed and truncated pages, a closed sink).

mod support;


use chrono::Utc;
use domain::connector::Tool;
use domain::{NewFinding, Status, TestId};
use outbound::{CallError, NoLimits, OutboundPolicy};
use scanners::connectors::{BATCH, PullMode, ScannerApi, Setup, client};
use serde_json::json;
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::semgrep::{CI_TOKEN, SemgrepSim};
use std::sync::Arc;
use std::time::Duration;
use support::{connect, pull, record, record_named};

async fn seeded() -> SemgrepSim {
    SemgrepSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn setup_with(sim: &SemgrepSim, token: &str, options: serde_json::Value) -> Setup {
    support::setup(Tool::Semgrep, &sim.location(), &[("token", token)], options)
}

fn api(sim: &SemgrepSim) -> Arc<dyn ScannerApi> {
    let token = sim.secrets()[0].1.clone();
    connect(setup_with(sim, &token, json!({})))
}

/// Pulls a record into a vector, checking every batch is at most `BATCH`.
#[tokio::test]
async fn check_names_what_is_wrong() {
    let sim = seeded().await;
    let report = api(&sim).check().await;
    assert!(report.ok(), "{}", report.failures());
    assert_eq!(report.account.as_deref(), Some("Acme Corp (acme)"));

    let report = connect(setup_with(&sim, "sgp_revoked", json!({})))
        .check()
        .await;
    assert!(!report.ok());
    assert!(
        report.failures().starts_with("credentials:"),
        "{}",
        report.failures()
    );

    let report = connect(setup_with(&sim, CI_TOKEN, json!({}))).check().await;
    assert!(
        report.failures().starts_with("scopes:"),
        "{}",
        report.failures()
    );
    assert!(
        report.failures().contains("Web API"),
        "{}",
        report.failures()
    );

    let report = connect(Setup {
        location: url::Url::parse("http://127.0.0.1:9/").unwrap(),
        ..setup_with(&sim, "x", json!({}))
    })
    .check()
    .await;
    assert!(
        report.failures().starts_with("connection:"),
        "{}",
        report.failures()
    );
}

#[tokio::test]
async fn the_setup_is_validated() {
    let sim = seeded().await;
    let mut no_token = setup_with(&sim, "x", json!({}));
    no_token.secrets.clear();
    assert!(
        matches!(client(no_token, Arc::new(NoLimits), &OutboundPolicy::default()).err(), Some(CallError::Misconfigured(m)) if m.contains("token"))
    );
    for bad in [
        json!({"issue_types": "sast,secrets"}),
        json!({"page_size": 50}),
        json!({"issue_types": 3}),
    ] {
        let e = client(
            setup_with(&sim, "x", bad.clone()),
            Arc::new(NoLimits),
            &OutboundPolicy::default(),
        )
        .err();
        assert!(
            matches!(e, Some(CallError::Misconfigured(_))),
            "{bad}: {e:?}"
        );
    }
}

#[tokio::test]
async fn discover_reads_every_page_of_projects() {
    let sim = SemgrepSim::generate(230, 0).await.unwrap();
    let found = api(&sim).discover().await.unwrap();
    assert_eq!(found.len(), 230);
    let mut ids: Vec<String> = found.iter().map(|r| r.external_id.clone()).collect();
    ids.sort();
    let mut expected = sim.record_ids();
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(found[0].metadata["deployment_slug"], "acme");
    assert_eq!(found[0].metadata["name"], found[0].name);
    assert_eq!(
        sim.requests().counts()["GET /api/v1/deployments/{slug}/projects"],
        3
    );
}

#[tokio::test]
async fn a_full_pull_maps_every_state() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_named(&api, "acme/payments-api").await;
    let (pulled, found) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert!(pulled.complete);
    assert_eq!(pulled.findings, found.len() as u64);
    assert_eq!(found.len(), 6, "5 Code findings and 1 Supply Chain finding");
    let count = |s: Status| found.iter().filter(|f| f.status == s).count();
    assert_eq!(count(Status::Closed), 1);
    assert_eq!(count(Status::FalsePositive), 1);
    assert_eq!(count(Status::RiskAccepted), 1);
    // open, in review, and the Supply Chain finding.
    assert_eq!(count(Status::Active), 3);
    assert_eq!(
        count(Status::Active),
        sim.open_findings(&r.external_id) + 1,
        "the open findings and the one in review"
    );

    let sca = found
        .iter()
        .find(|f| f.vulnerability_ids.contains(&"CVE-2023-32681".to_owned()))
        .unwrap();
    assert_eq!(sca.component_name.as_deref(), Some("requests"));
    assert_eq!(sca.component_version.as_deref(), Some("2.28.1"));
    assert_eq!(sca.fix_version.as_deref(), Some("2.31.0"));
    assert_eq!(sca.epss_score, Some(0.0213));
    let code = found.iter().find(|f| f.cwe == Some(89)).unwrap();
    assert!(code.file_path.is_some() && code.line.is_some() && code.unique_id_from_tool.is_some());
    assert!(pulled.cursor.is_some());
}

#[tokio::test]
async fn a_finding_has_the_same_identity_as_in_an_export() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_named(&api, "acme/web").await;
    let (_, pulled) = pull(&api, &r, PullMode::Full).await.unwrap();

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/semgrep_pro/one_vuln.json"
    );
    let bytes = std::fs::read(path).unwrap();
    let scan = scanners::find_scan_type("Semgrep Pro JSON Report").unwrap();
    let parsed = scanners::parse_to_vec(
        scan.parser,
        &mut bytes.as_slice(),
        &scanners::Context::new(TestId(0)),
    )
    .unwrap();
    let expected = &parsed[0];
    let got = pulled
        .iter()
        .find(|f| f.unique_id_from_tool == expected.unique_id_from_tool)
        .expect("the fixture finding is pulled");
    assert_eq!(got.title, expected.title);
    assert_eq!(got.vuln_id_from_tool, expected.vuln_id_from_tool);
    assert_eq!(got.severity, expected.severity);
    assert_eq!(got.status, expected.status);
    assert_eq!(got.cwes, expected.cwes);
    assert_eq!(got.file_path, expected.file_path);
    assert_eq!(got.line, expected.line);
    assert_eq!(got.mitigation, expected.mitigation);
}

#[tokio::test]
async fn an_incremental_pull_brings_what_was_detected_since() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_named(&api, "acme/web").await;
    let (full, _) = pull(&api, &r, PullMode::Full).await.unwrap();
    let cursor = full.cursor.clone().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    sim.add_findings(&r.external_id, 3);
    let (inc, found) = pull(&api, &r, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert!(
        !inc.complete,
        "since misses fixes and triage: never complete"
    );
    assert!(
        (3..=4).contains(&found.len()),
        "the new findings (and the one at the watermark): {}",
        found.len()
    );
    let next = inc.cursor.unwrap();
    assert!(next.parse::<f64>().unwrap() > cursor.parse::<f64>().unwrap());
    let (again, found) = pull(&api, &r, PullMode::Since(next.clone())).await.unwrap();
    assert!(found.len() <= 1);
    assert_eq!(again.cursor.as_deref(), Some(next.as_str()));

    let e = pull(&api, &r, PullMode::Since("yesterday".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Misconfigured(_)), "{e:?}");
}

#[tokio::test]
async fn a_large_project_is_paged_and_batched() {
    let sim = SemgrepSim::generate(1, 2_600).await.unwrap();
    let token = sim.secrets()[0].1.clone();
    let api = connect(setup_with(
        &sim,
        &token,
        json!({"issue_types": ["sast"], "page_size": 1000}),
    ));
    let r = record(&api.discover().await.unwrap()[0]);
    let (pulled, found) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!(found.len(), 2_600);
    assert_eq!(pulled.findings, 2_600);
    let ids: std::collections::HashSet<_> = found
        .iter()
        .map(|f| f.unique_id_from_tool.clone().unwrap())
        .collect();
    assert_eq!(ids.len(), 2_600);
    assert_eq!(
        sim.requests().counts()["GET /api/v1/deployments/{slug}/findings"],
        3
    );
}

#[tokio::test]
async fn fixed_and_triaged_findings_come_back_on_the_next_full_pull() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_named(&api, "acme/web").await;
    let (_, before) = pull(&api, &r, PullMode::Full).await.unwrap();
    let active = before.iter().filter(|f| f.status == Status::Active).count();
    sim.fix_findings(&r.external_id, 2);
    sim.mark_false_positive(&r.external_id);
    sim.accept_risk(&r.external_id);
    let (_, after) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(
        after.iter().filter(|f| f.status == Status::Active).count(),
        active - 4
    );
    assert_eq!(
        after.iter().filter(|f| f.status == Status::Closed).count(),
        2
    );
}

#[tokio::test]
async fn failures_come_back_as_call_errors() {
    let sim = seeded().await;
    let good = api(&sim);
    let r = record_named(&good, "acme/web").await;

    let bad = connect(setup_with(&sim, "sgp_revoked", json!({})));
    let e = pull(&bad, &r, PullMode::Full).await.unwrap_err();
    assert!(matches!(e, CallError::Unauthorized(_)), "{e:?}");

    sim.set_rate_limit(Some(1), Duration::from_secs(40));
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    match e {
        CallError::RateLimited {
            until: Some(until), ..
        } => {
            let wait = (until - Utc::now()).num_seconds();
            assert!((1..=41).contains(&wait), "{wait}");
        }
        other => panic!("{other:?}"),
    }
    sim.set_rate_limit(None, Duration::from_secs(1));

    sim.faults().push(Fault {
        path_contains: Some("/findings".into()),
        status: 200,
        body: json!("<html>maintenance</html>"),
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("Semgrep sast findings of project acme/web (page 0)")),
        "{e:?}"
    );

    // A page cut short on the wire: the body ends before its declared length.
    sim.faults().push(Fault {
        path_contains: Some("/findings".into()),
        status: 200,
        body: json!({"findings": []}),
        headers: vec![("content-length".into(), "4096".into())],
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(e, CallError::Transient(_) | CallError::Protocol(_)),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/findings".into()),
        status: 503,
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");

    // A finding of the wrong shape names where it is.
    sim.faults().push(Fault {
        path_contains: Some("/findings".into()),
        status: 200,
        body: json!({"findings": [{"id": 1, "rule_name": 5}]}),
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("finding 0")),
        "{e:?}"
    );

    // Afterwards everything works again.
    assert!(pull(&good, &r, PullMode::Full).await.is_ok());
}

#[tokio::test]
async fn a_closed_sink_stops_the_pull() {
    let sim = SemgrepSim::generate(1, 3_000).await.unwrap();
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
    assert!(pulled.findings < 3_000, "{}", pulled.findings);
    assert!(sim.requests().counts()["GET /api/v1/deployments/{slug}/findings"] <= 2);
}
