//! The Snyk connector against the Snyk simulator over HTTP: check, Discover of one or every
//! organization across pages, full and incremental pulls, statuses, the same identity as the
//! `Snyk Issue API Scan` parser, and failures (401, 429, malformed and truncated pages,
//! links that lead elsewhere, a closed sink).

mod support;


use chrono::Utc;
use domain::connector::Tool;
use domain::{NewFinding, Status, TestId};
use outbound::{CallError, NoLimits, OutboundPolicy};
use scanners::connectors::{BATCH, PullMode, ScannerApi, Setup, client};
use serde_json::json;
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::snyk::{OUTSIDER_TOKEN, SnykSim, TOKEN};
use std::sync::Arc;
use std::time::Duration;
use support::{connect, pull, record, record_named};

async fn seeded() -> SnykSim {
    SnykSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn setup_with(sim: &SnykSim, token: &str, options: serde_json::Value) -> Setup {
    support::setup(Tool::Snyk, &sim.location(), &[("token", token)], options)
}

fn api(sim: &SnykSim) -> Arc<dyn ScannerApi> {
    connect(setup_with(
        sim,
        &sim.secrets()[0].1,
        serde_json::Value::Object(sim.options()),
    ))
}

#[tokio::test]
async fn check_names_what_is_wrong() {
    let sim = seeded().await;
    let report = api(&sim).check().await;
    assert!(report.ok(), "{}", report.failures());
    assert_eq!(report.account.as_deref(), Some("vulnbridge"));
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.name == "organizations" && c.detail == "Acme, Acme Labs"),
        "{report:?}"
    );

    let report = connect(setup_with(&sim, "not-a-token", json!({})))
        .check()
        .await;
    assert!(
        report.failures().starts_with("credentials:"),
        "{}",
        report.failures()
    );
    let report = connect(setup_with(&sim, OUTSIDER_TOKEN, json!({})))
        .check()
        .await;
    assert!(
        report.failures().starts_with("organizations:"),
        "{}",
        report.failures()
    );
    let other = sim.org_id("other-corp").unwrap();
    let report = connect(setup_with(&sim, TOKEN, json!({"org": other})))
        .check()
        .await;
    assert!(
        report
            .failures()
            .contains("does not exist or the token is not in it"),
        "{}",
        report.failures()
    );
    let report = connect(setup_with(
        &sim,
        TOKEN,
        json!({"api_version": "2021-01-01"}),
    ))
    .check()
    .await;
    assert!(
        report.failures().starts_with("api version:"),
        "{}",
        report.failures()
    );
}

#[tokio::test]
async fn the_setup_is_validated() {
    let sim = seeded().await;
    for bad in [json!({"org": "acme"}), json!({"api_version": "latest"})] {
        let e = client(
            setup_with(&sim, TOKEN, bad.clone()),
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
async fn discover_lists_the_projects_of_one_or_every_organization() {
    let sim = seeded().await;
    let all = api(&sim).discover().await.unwrap();
    let mut ids: Vec<String> = all.iter().map(|r| r.external_id.clone()).collect();
    let mut expected = sim.record_ids();
    ids.sort();
    expected.sort();
    assert_eq!(
        ids, expected,
        "every project of both organizations, none of other-corp"
    );
    assert!(all.iter().all(|r| r.metadata["org_id"].is_string()));

    let acme = sim.org_id("acme").unwrap();
    let one = connect(setup_with(&sim, TOKEN, json!({"org": acme})))
        .discover()
        .await
        .unwrap();
    assert_eq!(one.len(), 2);
    assert_eq!(one[0].metadata["org_name"], "Acme");

    let many = SnykSim::generate(250, 0).await.unwrap();
    let found = api(&many).discover().await.unwrap();
    assert_eq!(found.len(), 250);
    assert_eq!(
        many.requests().counts()["GET /rest/orgs/{org_id}/projects"],
        3
    );
}

#[tokio::test]
async fn a_full_pull_maps_statuses_and_skips_what_is_not_a_vulnerability() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_named(&api, "acme/web:requirements.txt").await;
    let (pulled, found) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert!(pulled.complete);
    assert_eq!(found.len(), 5, "the license issue is left out");
    let count = |s: Status| found.iter().filter(|f| f.status == s).count();
    assert_eq!(count(Status::Active), sim.open_findings(&r.external_id));
    assert_eq!(count(Status::Closed), 1);
    assert_eq!(
        count(Status::RiskAccepted),
        2,
        "the ignored fixture issue and one generated"
    );
    let log4j = found
        .iter()
        .find(|f| f.component_name.as_deref() == Some("org.apache.logging.log4j:log4j-core"))
        .unwrap();
    assert_eq!(
        log4j.vulnerability_ids,
        ["SNYK-JAVA-ORGAPACHELOGGINGLOG4J-2314720", "CVE-2021-44228"]
    );
    assert_eq!(log4j.cwe, Some(502));
    assert_eq!(log4j.cvss_v3_score, Some(10.0));
    assert!(pulled.cursor.is_some());

    let code = record_named(&api, "acme/web").await;
    let (_, found) = pull(&api, &code, PullMode::Full).await.unwrap();
    assert_eq!(found.len(), 5);
    assert!(
        found
            .iter()
            .all(|f| f.file_path.is_some() && f.line.is_some())
    );
}

#[tokio::test]
async fn an_issue_has_the_same_identity_as_in_an_export() {
    let sim = seeded().await;
    let api = api(&sim);
    let scan = scanners::find_scan_type("Snyk Issue API Scan").unwrap();
    for (project, fixture) in [
        (
            "acme/web:requirements.txt",
            "snyk_sca_scan_api_single_vuln.json",
        ),
        ("acme/web", "snyk_code_scan_api_many_vuln.json"),
    ] {
        let (_, pulled) = pull(&api, &record_named(&api, project).await, PullMode::Full)
            .await
            .unwrap();
        let path = format!(
            "{}/../../fixtures/scans/snyk_issue_api/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(path).unwrap();
        let parsed = scanners::parse_to_vec(
            scan.parser,
            &mut bytes.as_slice(),
            &scanners::Context::new(TestId(0)),
        )
        .unwrap();
        assert!(!parsed.is_empty());
        for expected in &parsed {
            let got = pulled
                .iter()
                .find(|f| f.unique_id_from_tool == expected.unique_id_from_tool)
                .expect("pulled");
            assert_eq!(got.title, expected.title);
            assert_eq!(got.severity, expected.severity);
            assert_eq!(got.status, expected.status);
            assert_eq!(got.vuln_id_from_tool, expected.vuln_id_from_tool);
            assert_eq!(got.cwes, expected.cwes);
            assert_eq!(got.vulnerability_ids, expected.vulnerability_ids);
            assert_eq!(
                (&got.component_name, &got.component_version),
                (&expected.component_name, &expected.component_version)
            );
            assert_eq!(
                (&got.file_path, got.line),
                (&expected.file_path, expected.line)
            );
            assert_eq!(got.cvss_v3_vector, expected.cvss_v3_vector);
            assert_eq!(got.impact, expected.impact);
            assert_eq!(got.date, expected.date);
        }
    }
}

#[tokio::test]
async fn an_incremental_pull_brings_what_was_updated_since() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_named(&api, "acme-labs/api:package.json").await;
    let (full, before) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!(before.len(), 3);
    let cursor = full.cursor.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sim.fix_findings(&r.external_id, 1);
    sim.mark_false_positive(&r.external_id);
    sim.add_issues(&r.external_id, 2);
    let (inc, found) = pull(&api, &r, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert!(!inc.complete);
    // The fixed, the ignored and the two new issues, and (a second of slack) the one at the
    // watermark when it is not among them.
    assert!((4..=5).contains(&found.len()), "{}", found.len());
    assert_eq!(
        found.iter().filter(|f| f.status == Status::Closed).count(),
        1
    );
    assert_eq!(
        found
            .iter()
            .filter(|f| f.status == Status::RiskAccepted)
            .count(),
        1
    );
    let next = inc.cursor.unwrap();
    assert!(next > cursor);
    let e = pull(&api, &r, PullMode::Since("recently".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Misconfigured(_)), "{e:?}");
}

#[tokio::test]
async fn a_large_project_follows_links_next() {
    let sim = SnykSim::generate(1, 1_050).await.unwrap();
    let api = api(&sim);
    let r = record(&api.discover().await.unwrap()[0]);
    let (pulled, found) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!(found.len(), 1_050);
    assert_eq!(pulled.findings, 1_050);
    assert_eq!(
        sim.requests().counts()["GET /rest/orgs/{org_id}/issues"],
        11
    );
}

#[tokio::test]
async fn failures_come_back_as_call_errors() {
    let sim = seeded().await;
    let good = api(&sim);
    let r = record_named(&good, "acme/web:requirements.txt").await;

    let e = pull(
        &connect(setup_with(&sim, "not-a-token", json!({}))),
        &r,
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CallError::Unauthorized(_)), "{e:?}");

    sim.set_rate_limit(Some(1), Duration::from_secs(50));
    let _ = pull(&good, &r, PullMode::Full).await;
    match pull(&good, &r, PullMode::Full).await.unwrap_err() {
        CallError::RateLimited {
            until: Some(until), ..
        } => assert!((until - Utc::now()).num_seconds() <= 51),
        other => panic!("{other:?}"),
    }
    sim.set_rate_limit(None, Duration::from_secs(1));

    let issues = "/issues";
    sim.faults().push(Fault {
        path_contains: Some(issues.into()),
        status: 200,
        body: json!(["not", "a", "document"]),
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("Snyk issues of project acme/web:requirements.txt (page 1)")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some(issues.into()),
        status: 200,
        body: json!({"jsonapi": {"version": "1.0"}, "data": []}),
        headers: vec![("content-length".into(), "5000".into())],
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(e, CallError::Transient(_) | CallError::Protocol(_)),
        "{e:?}"
    );

    // A next link to another host would take the token there: refused.
    sim.faults().push(Fault {
        path_contains: Some(issues.into()),
        status: 200,
        body: json!({"jsonapi": {"version": "1.0"}, "data": [], "links": {"next": "https://collector.example/orgs/x/issues?starting_after=v1.e30"}}),
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("another host")),
        "{e:?}"
    );

    // A next link back to the same page would loop forever: refused.
    let org = r.metadata["org_id"].as_str().unwrap().to_owned();
    let same = format!(
        "/orgs/{org}/issues?version=2024-10-15&limit=100&scan_item.type=project&scan_item.id={}",
        r.external_id
    );
    sim.faults().push(Fault {
        path_contains: Some(issues.into()),
        status: 200,
        body: json!({"jsonapi": {"version": "1.0"}, "data": [], "links": {"next": same}}),
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("already read")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some(issues.into()),
        status: 500,
        times: 1,
        ..Default::default()
    });
    assert!(
        pull(&good, &r, PullMode::Full)
            .await
            .unwrap_err()
            .is_retryable()
    );

    assert!(pull(&good, &r, PullMode::Full).await.is_ok());
}

#[tokio::test]
async fn a_closed_sink_stops_the_pull() {
    let sim = SnykSim::generate(1, 1_200).await.unwrap();
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
    assert!(pulled.findings < 1_200);
    assert!(sim.requests().counts()["GET /rest/orgs/{org_id}/issues"] < 12);
}
