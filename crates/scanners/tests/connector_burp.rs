//! The Burp Suite DAST connector against the Burp simulator over HTTP: check, Discover, full
//! and incremental pulls of the latest scan, statuses, the same mapping as the
//! `Burp GraphQL API` parser, paging, and failures (401, 429, GraphQL errors, malformed and
//! cut-off answers, a closed sink).

mod support;


use chrono::Utc;
use domain::connector::Tool;
use domain::{NewFinding, Status};
use outbound::{CallError, NoLimits, OutboundPolicy};
use scanners::connectors::{BATCH, PullMode, ScannerApi, Setup, client};
use scanners::formats::burp_graphql::BurpGraphqlParser;
use scanners::testing::parse_bytes;
use serde_json::{Value, json};
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::burp::{API_KEY, BurpSim};
use std::collections::HashSet;
use std::sync::Arc;
use support::{pull, record, record_named};

async fn seeded() -> BurpSim {
    BurpSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn setup(location: &str, key: &str) -> Setup {
    support::setup(Tool::BurpSuite, location, &[("api_key", key)], serde_json::Value::Null)
}

fn api_with(sim: &BurpSim, key: &str) -> Arc<dyn ScannerApi> {
    client(
        setup(&sim.location(), key),
        Arc::new(NoLimits),
        &OutboundPolicy::default(),
    )
    .unwrap()
}

fn api(sim: &BurpSim) -> Arc<dyn ScannerApi> {
    api_with(sim, &sim.secrets()[0].1)
}

/// Pulls a record into a vector, checking every batch is at most `BATCH`.
fn fault(body_contains: &str, status: u16, body: Value, headers: &[(&str, &str)]) -> Fault {
    Fault {
        path_contains: Some("/graphql/v1".into()),
        body_contains: Some(body_contains.into()),
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
            .any(|c| c.name == "sites" && c.detail.starts_with("3 sites")),
        "{report:?}"
    );

    let report = api_with(&sim, "wrong-key").check().await;
    assert!(!report.ok());
    let creds = report
        .checks
        .iter()
        .find(|c| c.name == "credentials")
        .unwrap();
    assert!(
        !creds.ok && creds.detail.contains("refused the API key"),
        "{creds:?}"
    );

    sim.faults().push(fault(
        "SiteTree",
        200,
        json!({ "errors": [{ "message": "You do not have permission to view sites" }] }),
        &[],
    ));
    let report = api(&sim).check().await;
    assert!(
        report.checks.iter().any(|c| c.name == "sites" && !c.ok),
        "{report:?}"
    );

    let gone = client(
        setup("http://127.0.0.1:9/", API_KEY),
        Arc::new(NoLimits),
        &OutboundPolicy::default(),
    )
    .unwrap();
    let report = gone.check().await;
    assert!(
        report.checks.iter().any(|c| c.name == "location" && !c.ok),
        "{report:?}"
    );
}

#[tokio::test]
async fn discover_finds_every_site_with_its_folder() {
    let sim = seeded().await;
    let found = api(&sim).discover().await.unwrap();
    let ids: Vec<String> = found.iter().map(|r| r.external_id.clone()).collect();
    assert_eq!(ids, sim.record_ids());
    let shop = found.iter().find(|r| r.name == "whitespots.io").unwrap();
    assert_eq!(shop.metadata["folder"], "Customer sites");
    let root = found.iter().find(|r| r.name == "test.com").unwrap();
    assert_eq!(root.metadata["folder"], "");
}

#[tokio::test]
async fn a_full_pull_is_the_latest_scan_with_burps_verdicts() {
    let sim = seeded().await;
    let api = api(&sim);
    let shop = record_named(&api, "whitespots.io").await;
    let (pulled, findings) = pull(&api, &shop, PullMode::Full).await.unwrap();
    assert!(pulled.complete);
    assert_eq!(pulled.findings, 5);
    assert_eq!(pulled.cursor, sim.latest_scan_id(&shop.external_id));
    assert_eq!(findings.len(), 5);
    // The SQL injection an older scan found is not in the latest: not pulled.
    assert!(!findings.iter().any(|f| f.title.as_str() == "SQL injection"));
    let accepted: Vec<&NewFinding> = findings
        .iter()
        .filter(|f| f.status == Status::RiskAccepted)
        .collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        accepted[0].title.as_str(),
        "Cookie without HttpOnly flag set"
    );
    assert!(findings.iter().all(|f| {
        f.dynamic_finding
            && f.unique_id_from_tool
                .as_deref()
                .is_some_and(|u| u.starts_with(&format!("{}|", shop.external_id)))
    }));
    let cookie = &accepted[0];
    assert_eq!(
        cookie.unique_id_from_tool.as_deref(),
        Some(
            format!(
                "{}|5244416|https://whitespots.io|/build-ssdlc",
                shop.external_id
            )
            .as_str()
        )
    );
    assert_eq!(cookie.cwe, Some(1004));
    assert!(cookie.date.is_some());

    let juice = record_named(&api, "juice-shop").await;
    let (_, findings) = pull(&api, &juice, PullMode::Full).await.unwrap();
    let statuses: Vec<(String, Status)> = findings
        .iter()
        .map(|f| (f.title.as_str().to_owned(), f.status))
        .collect();
    assert!(
        statuses.contains(&("Robots.txt file".into(), Status::Active)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(
            "Content type incorrectly stated".into(),
            Status::FalsePositive
        )),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn findings_map_as_the_burp_graphql_parser_maps_the_same_issues() {
    let sim = seeded().await;
    let api = api(&sim);
    for name in ["test.com", "whitespots.io"] {
        let r = record_named(&api, name).await;
        let (_, findings) = pull(&api, &r, PullMode::Full).await.unwrap();
        // The same issues as the API returns them, saved the way the report format expects.
        let query = "query I($s: ID!) { scan(id: $s) { issues(start: 0, count: 100) { issue_type { type_index name description_html remediation_html vulnerability_classifications_html references_html } serial_number severity confidence origin path description_html remediation_html } } }";
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/graphql/v1", sim.base_url()))
            .header("Authorization", API_KEY)
            .json(&json!({ "query": query, "variables": { "s": sim.latest_scan_id(&r.external_id) } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let report = json!({ "Issues": answer["data"]["scan"]["issues"] });
        let parsed = parse_bytes(&BurpGraphqlParser, report.to_string().as_bytes()).unwrap();
        for f in &findings {
            let p = parsed
                .iter()
                .find(|p| p.title == f.title)
                .unwrap_or_else(|| panic!("{name}: the parser has no '{}'", f.title.as_str()));
            assert_eq!(p.severity, f.severity, "{}", f.title.as_str());
            assert_eq!(p.cwe, f.cwe);
            assert_eq!(p.cwes, f.cwes);
            assert_eq!(p.mitigation, f.mitigation);
            assert_eq!(p.references, f.references);
            assert_eq!(p.vuln_id_from_tool, f.vuln_id_from_tool);
            assert!(
                f.endpoints.iter().all(|e| p.endpoints.contains(e)),
                "{}",
                f.title.as_str()
            );
        }
        let titles: HashSet<&str> = findings.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(
            titles.len(),
            parsed.len(),
            "{name}: one parser finding per issue type"
        );
    }
}

#[tokio::test]
async fn incremental_pulls_send_a_new_scan_and_nothing_otherwise() {
    let sim = seeded().await;
    let api = api(&sim);
    let shop = record_named(&api, "whitespots.io").await;
    let (first, _) = pull(&api, &shop, PullMode::Full).await.unwrap();
    let cursor = first.cursor.clone().unwrap();

    let (same, findings) = pull(&api, &shop, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert_eq!(
        (same.complete, same.findings, same.cursor.as_deref()),
        (false, 0, Some(cursor.as_str()))
    );
    assert!(findings.is_empty());

    sim.fix_findings(&shop.external_id, 1);
    let (next, findings) = pull(&api, &shop, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert!(next.complete, "a new scan is a whole snapshot");
    assert_eq!(next.findings, 4);
    assert_eq!(findings.len(), 4);
    assert_ne!(next.cursor.as_deref(), Some(cursor.as_str()));
    assert_eq!(next.cursor, sim.latest_scan_id(&shop.external_id));
    assert_eq!(sim.open_findings(&shop.external_id), 3);

    sim.mark_false_positive(&shop.external_id);
    sim.rescan(&shop.external_id);
    let (after, findings) = pull(&api, &shop, PullMode::Since(next.cursor.clone().unwrap()))
        .await
        .unwrap();
    assert!(after.complete);
    assert_eq!(
        findings
            .iter()
            .filter(|f| f.status == Status::FalsePositive)
            .count(),
        1
    );
}

#[tokio::test]
async fn a_site_without_a_succeeded_scan_reports_nothing_and_closes_nothing() {
    let sim = seeded().await;
    let api = api(&sim);
    let shop = record_named(&api, "whitespots.io").await;
    sim.faults().push(fault(
        "LatestScan",
        200,
        json!({ "data": { "scans": [] } }),
        &[],
    ));
    let (pulled, findings) = pull(&api, &shop, PullMode::Full).await.unwrap();
    assert_eq!(
        (pulled.complete, pulled.findings, pulled.cursor),
        (false, 0, None)
    );
    assert!(findings.is_empty());
    // A site Burp no longer has answers the same.
    sim.remove_record(&shop.external_id);
    let (pulled, _) = pull(&api, &shop, PullMode::Since("12".into()))
        .await
        .unwrap();
    assert_eq!(
        (pulled.complete, pulled.cursor.as_deref()),
        (false, Some("12"))
    );
}

#[tokio::test]
async fn large_scans_page_in_batches() {
    let sim = BurpSim::generate("127.0.0.1:0".parse().unwrap(), 1, 1234)
        .await
        .unwrap();
    let api = api(&sim);
    let found = api.discover().await.unwrap();
    let r = record(&found[0]);
    let (pulled, findings) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!(pulled.findings, 1234);
    let ids: HashSet<&str> = findings
        .iter()
        .filter_map(|f| f.unique_id_from_tool.as_deref())
        .collect();
    assert_eq!(ids.len(), 1234);
    let counts = sim.requests().counts();
    // Discover, the latest scan, three pages of 500.
    assert_eq!(counts.get("POST /graphql/v1").copied(), Some(1 + 1 + 3));
}

#[tokio::test]
async fn failures_come_back_as_clear_errors() {
    let sim = seeded().await;
    let good = api(&sim);
    let shop = record_named(&good, "whitespots.io").await;

    let e = pull(&api_with(&sim, "revoked"), &shop, PullMode::Full)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CallError::Unauthorized(m) if m.contains("Burp Suite DAST refused the API key")),
        "{e:?}"
    );

    sim.faults().push(fault(
        "ScanIssues",
        429,
        json!({ "errors": [{ "message": "Too many requests" }] }),
        &[("Retry-After", "30")],
    ));
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    match e {
        CallError::RateLimited { until: Some(u), .. } => {
            let wait = (u - Utc::now()).num_seconds();
            assert!((25..=31).contains(&wait), "{wait}");
        }
        other => panic!("{other:?}"),
    }

    sim.faults().push(fault("ScanIssues", 200, json!({ "data": null, "errors": [{ "message": "Scan with ID 4 not found", "path": ["scan"] }] }), &[]));
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::NotFound(m) if m.contains("not found (at scan)")),
        "{e:?}"
    );

    sim.faults().push(fault(
        "ScanIssues",
        200,
        json!({ "data": { "scan": null }, "errors": [{ "message": "Insufficient permissions" }] }),
        &[],
    ));
    assert_eq!(
        pull(&good, &shop, PullMode::Full).await.unwrap_err().code(),
        "forbidden"
    );

    sim.faults().push(fault(
        "ScanIssues",
        200,
        json!("{\"data\": {\"scan\": {\"issues\": [{\"issue_type\""),
        &[],
    ));
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("issues")),
        "{e:?}"
    );

    sim.faults().push(fault(
        "ScanIssues",
        200,
        json!({ "data": { "scan": { "issues": [{ "severity": "high" }] } } }),
        &[],
    ));
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("issue 0")),
        "{e:?}"
    );

    sim.faults()
        .push(fault("ScanIssues", 502, Value::Null, &[]));
    assert!(
        pull(&good, &shop, PullMode::Full)
            .await
            .unwrap_err()
            .is_retryable()
    );

    // An answer cut off mid-body.
    let c = reqwest::Client::new();
    c.post(format!("{}/_sim/cut", sim.base_url()))
        .json(&json!({ "path_contains": "/graphql/v1" }))
        .send()
        .await
        .unwrap();
    let e = pull(&good, &shop, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(e, CallError::Transient(_) | CallError::Protocol(_)),
        "{e:?}"
    );

    // Still fine afterwards.
    assert_eq!(
        pull(&good, &shop, PullMode::Full).await.unwrap().0.findings,
        5
    );
}

#[tokio::test]
async fn a_closed_sink_stops_the_pull() {
    let sim = BurpSim::generate("127.0.0.1:0".parse().unwrap(), 1, 1600)
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
    // It stopped early: not every page was asked for.
    assert!(sim.requests().total() < 1 + 1 + 4);
}
