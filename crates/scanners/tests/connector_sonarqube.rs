//! The SonarQube connector against the SonarQube simulator over HTTP: check, Discover with and
//! without Administer System, full pulls past the 10,000-result limit (by date, then by rule),
//! incremental pulls, statuses of issues and hotspots, the same identity as the `SonarQube Scan
//! detailed` parser, older versions, and failures.

mod support;


use chrono::{TimeZone, Utc};
use domain::connector::Tool;
use domain::{NewFinding, Status, TestId};
use outbound::{CallError, NoLimits, OutboundPolicy};
use scanners::connectors::{BATCH, PullMode, ScannerApi, Setup, client};
use serde_json::json;
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::sonarqube::{ADMIN_TOKEN, OUTSIDER_TOKEN, SonarQubeSim, TOKEN};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use support::{connect, pull, record_of};

async fn seeded() -> SonarQubeSim {
    SonarQubeSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn setup_with(sim: &SonarQubeSim, token: &str, options: serde_json::Value) -> Setup {
    support::setup(Tool::SonarQube, &sim.location(), &[("token", token)], options)
}

fn api(sim: &SonarQubeSim) -> Arc<dyn ScannerApi> {
    connect(setup_with(sim, &sim.secrets()[0].1, json!({})))
}

fn keys(found: &[NewFinding]) -> HashSet<String> {
    found
        .iter()
        .map(|f| f.unique_id_from_tool.clone().unwrap())
        .collect()
}

#[tokio::test]
async fn check_names_what_is_wrong() {
    let sim = seeded().await;
    let report = api(&sim).check().await;
    assert!(report.ok(), "{}", report.failures());
    assert_eq!(report.account.as_deref(), Some("vulnbridge"));

    let report = connect(setup_with(&sim, "squ_expired", json!({})))
        .check()
        .await;
    assert!(
        report.failures().starts_with("credentials:"),
        "{}",
        report.failures()
    );

    sim.set_version("9.9.0.65466");
    let report = connect(setup_with(&sim, TOKEN, json!({"auth": "bearer"})))
        .check()
        .await;
    assert!(
        report.failures().contains("set the option auth to basic"),
        "{}",
        report.failures()
    );
    assert!(api(&sim).check().await.ok(), "a Basic token works on 9.9");

    let report = connect(setup_with(&sim, OUTSIDER_TOKEN, json!({})))
        .check()
        .await;
    assert!(
        report.failures().starts_with("projects:"),
        "{}",
        report.failures()
    );

    let report = connect(Setup {
        location: url::Url::parse("http://127.0.0.1:9/").unwrap(),
        ..setup_with(&sim, TOKEN, json!({}))
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
    for bad in [
        json!({"types": "VULNERABILITY,SECURITY_HOTSPOT"}),
        json!({"auth": "token"}),
        json!({"hotspots": "maybe"}),
        json!({"types": []}),
    ] {
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
async fn discover_falls_back_to_the_projects_a_user_may_browse() {
    let sim = seeded().await;
    let found = api(&sim).discover().await.unwrap();
    let names: Vec<&str> = found.iter().map(|r| r.external_id.as_str()).collect();
    assert_eq!(names, ["internal.dummy.project", "testapplication"]);
    assert_eq!(
        sim.requests().counts()["GET /api/projects/search"],
        1,
        "tried first"
    );
    assert_eq!(sim.requests().counts()["GET /api/components/search"], 1);

    let admin = connect(setup_with(&sim, ADMIN_TOKEN, json!({})))
        .discover()
        .await
        .unwrap();
    assert_eq!(admin.len(), 2);
    assert!(
        admin[0].metadata["last_analysis_date"]
            .as_str()
            .unwrap()
            .ends_with("+0000")
    );

    let many = SonarQubeSim::generate(1_203, 0).await.unwrap();
    let found = connect(setup_with(&many, ADMIN_TOKEN, json!({})))
        .discover()
        .await
        .unwrap();
    assert_eq!(found.len(), 1_203);
    assert_eq!(many.requests().counts()["GET /api/projects/search"], 3);
}

#[tokio::test]
async fn a_full_pull_maps_issues_and_hotspots() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_of("internal.dummy.project");
    let (pulled, found) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert!(pulled.complete);
    assert_eq!(
        found.len(),
        6 + 5,
        "vulnerabilities and hotspots; bugs and code smells are not asked for"
    );
    let count = |s: Status| found.iter().filter(|f| f.status == s).count();
    assert_eq!(count(Status::Active), sim.open_findings(&r.external_id));
    assert_eq!(
        count(Status::Closed),
        2,
        "a fixed issue and a fixed hotspot"
    );
    assert_eq!(
        count(Status::FalsePositive),
        2,
        "a false-positive issue and a safe hotspot"
    );
    assert_eq!(
        count(Status::RiskAccepted),
        2,
        "a won't-fix issue and an acknowledged hotspot"
    );
    let sql = found
        .iter()
        .find(|f| f.vuln_id_from_tool.as_deref() == Some("javasecurity:S3649"))
        .unwrap();
    assert_eq!(sql.cwe, Some(89), "from the rule's security standards");
    assert_eq!(sql.cwes, [89, 564, 943]);
    assert!(
        sql.file_path
            .as_deref()
            .unwrap()
            .starts_with("src/main/java/"),
        "the file's path, not its component key"
    );
    let hotspot = found
        .iter()
        .find(|f| {
            f.tags.contains(&"hotspot".to_owned())
                && f.vuln_id_from_tool.as_deref() == Some("ruby:S2068")
        })
        .unwrap();
    assert_eq!(hotspot.cwes, [798, 259]);
    assert_eq!(pulled.cursor.as_deref(), Some("2025-05-20T09:00:00+0000"));
    assert_eq!(
        sim.requests().counts()["GET /api/rules/show"],
        8,
        "each of the 6 + 2 rules asked for once"
    );

    let types = connect(setup_with(
        &sim,
        TOKEN,
        json!({"types": ["VULNERABILITY", "BUG", "CODE_SMELL"], "hotspots": false, "rule_details": false}),
    ));
    let (_, all) = pull(&types, &r, PullMode::Full).await.unwrap();
    assert_eq!(all.len(), 9);
}

#[tokio::test]
async fn an_issue_has_the_same_identity_as_in_an_export() {
    let sim = seeded().await;
    let api = connect(setup_with(
        &sim,
        TOKEN,
        json!({"types": "VULNERABILITY,BUG,CODE_SMELL"}),
    ));
    let (_, pulled) = pull(&api, &record_of("testapplication"), PullMode::Full)
        .await
        .unwrap();

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/sonarqube/findings_over_api.json"
    );
    let bytes = std::fs::read(path).unwrap();
    let scan = scanners::find_scan_type("SonarQube Scan detailed").unwrap();
    let parsed = scanners::parse_to_vec(
        scan.parser,
        &mut bytes.as_slice(),
        &scanners::Context::new(TestId(0)),
    )
    .unwrap();
    let expected = parsed
        .iter()
        .find(|f| f.unique_id_from_tool.as_deref() == Some("fjioefjwoefijo"))
        .unwrap();
    let got = pulled
        .iter()
        .find(|f| f.unique_id_from_tool == expected.unique_id_from_tool)
        .unwrap();
    assert_eq!(got.title, expected.title);
    assert_eq!(got.severity, expected.severity);
    assert_eq!(got.status, expected.status);
    assert_eq!(got.cwes, expected.cwes);
    assert_eq!(got.vulnerability_ids, expected.vulnerability_ids);
    assert_eq!(got.component_name, expected.component_name);
    assert_eq!(got.cvss_v3_score, expected.cvss_v3_score);
    assert_eq!(got.file_path, expected.file_path);
    assert_eq!(got.description, expected.description);
    let bug = parsed
        .iter()
        .find(|f| f.unique_id_from_tool.as_deref() == Some("asdfwfewfwefewf"))
        .unwrap();
    let got = pulled
        .iter()
        .find(|f| f.unique_id_from_tool == bug.unique_id_from_tool)
        .unwrap();
    assert_eq!(
        (got.file_path.as_deref(), got.line),
        (bug.file_path.as_deref(), bug.line)
    );
}

#[tokio::test]
async fn more_than_ten_thousand_issues_are_split_by_creation_date() {
    let sim = SonarQubeSim::generate(1, 12_345).await.unwrap();
    let api = connect(setup_with(
        &sim,
        TOKEN,
        json!({"hotspots": false, "rule_details": false}),
    ));
    let (pulled, found) = pull(&api, &record_of("acme:service-0000"), PullMode::Full)
        .await
        .unwrap();
    assert_eq!(found.len(), 12_345);
    assert_eq!(keys(&found).len(), 12_345, "no issue twice");
    assert_eq!(pulled.findings, 12_345);
    assert!(pulled.complete);
}

#[tokio::test]
async fn issues_created_in_one_second_are_split_by_rule() {
    let sim = SonarQubeSim::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let key = sim.add_record("Monolith", 0);
    sim.add_vulnerabilities(
        &key,
        10_200,
        Utc.with_ymd_and_hms(2025, 2, 3, 4, 5, 6).unwrap(),
        true,
    );
    sim.add_vulnerabilities(
        &key,
        300,
        Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
        false,
    );
    let api = connect(setup_with(
        &sim,
        TOKEN,
        json!({"hotspots": false, "rule_details": false}),
    ));
    let (_, found) = pull(&api, &record_of(&key), PullMode::Full).await.unwrap();
    assert_eq!(keys(&found).len(), 10_500);
    assert_eq!(found.len(), 10_500);
}

#[tokio::test]
async fn an_incremental_pull_brings_what_changed_since() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_of("internal.dummy.project");
    let (full, _) = pull(&api, &r, PullMode::Full).await.unwrap();
    let cursor = full.cursor.unwrap();
    sim.fix_findings(&r.external_id, 1);
    sim.mark_false_positive(&r.external_id);
    sim.accept_first(&r.external_id);
    sim.add_vulnerabilities(&r.external_id, 2, Utc::now(), false);
    sim.add_hotspot(&r.external_id);
    let (inc, found) = pull(&api, &r, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert!(!inc.complete);
    let statuses: Vec<Status> = found.iter().map(|f| f.status).collect();
    assert!(
        found.len() >= 6,
        "three triaged or fixed, two new issues and a new hotspot: {statuses:?}"
    );
    for s in [Status::Closed, Status::FalsePositive, Status::RiskAccepted] {
        assert!(statuses.contains(&s), "{statuses:?}");
    }
    let next = inc.cursor.unwrap();
    assert!(next > cursor, "{next} after {cursor}");
    let (_, again) = pull(&api, &r, PullMode::Since(next)).await.unwrap();
    assert!(again.len() <= found.len());

    let e = pull(&api, &r, PullMode::Since("last tuesday".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Misconfigured(_)), "{e:?}");
}

#[tokio::test]
async fn an_incremental_pull_of_too_many_changes_is_a_full_one() {
    let sim = SonarQubeSim::generate(1, 10_100).await.unwrap();
    let api = connect(setup_with(&sim, TOKEN, json!({"rule_details": false})));
    let (pulled, found) = pull(
        &api,
        &record_of("acme:service-0000"),
        PullMode::Since("2000-01-01T00:00:00+0000".into()),
    )
    .await
    .unwrap();
    assert!(pulled.complete, "everything was listed");
    assert_eq!(keys(&found).len(), 10_100);
}

#[tokio::test]
async fn older_servers_work_with_basic_tokens_and_project_key() {
    let sim = seeded().await;
    sim.set_version("9.9.0.65466");
    let (pulled, found) = pull(
        &api(&sim),
        &record_of("internal.dummy.project"),
        PullMode::Full,
    )
    .await
    .unwrap();
    assert!(pulled.complete);
    assert_eq!(found.len(), 11);
    let bearer = connect(setup_with(&sim, TOKEN, json!({"auth": "bearer"})));
    let e = pull(
        &bearer,
        &record_of("internal.dummy.project"),
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CallError::Unauthorized(_)), "{e:?}");
}

#[tokio::test]
async fn failures_come_back_as_call_errors() {
    let sim = seeded().await;
    let good = api(&sim);
    let r = record_of("internal.dummy.project");

    let e = pull(
        &connect(setup_with(&sim, "squ_revoked", json!({}))),
        &r,
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CallError::Unauthorized(_)), "{e:?}");

    sim.set_rate_limit(Some(1), Duration::from_secs(30));
    let _ = pull(&good, &r, PullMode::Full).await;
    match pull(&good, &r, PullMode::Full).await.unwrap_err() {
        CallError::RateLimited {
            until: Some(until), ..
        } => assert!((until - Utc::now()).num_seconds() <= 31),
        other => panic!("{other:?}"),
    }
    sim.set_rate_limit(None, Duration::from_secs(1));

    sim.set_indexing(true);
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        e.is_retryable() && e.to_string().contains("Indexing"),
        "{e:?}"
    );
    sim.set_indexing(false);

    sim.faults().push(Fault {
        path_contains: Some("/api/issues/search".into()),
        status: 200,
        body: json!("<html>proxy login</html>"),
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("SonarQube issues of project internal.dummy.project (page 1)")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/api/issues/search".into()),
        status: 200,
        body: json!({"paging": {"pageIndex": 1, "pageSize": 500, "total": 0}, "issues": []}),
        headers: vec![("content-length".into(), "9000".into())],
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(e, CallError::Transient(_) | CallError::Protocol(_)),
        "{e:?}"
    );

    // A page holding fewer issues than its total announces is a truncated answer.
    sim.faults().push(Fault {
        path_contains: Some("/api/issues/search".into()),
        status: 200,
        body: json!({"paging": {"pageIndex": 1, "pageSize": 500, "total": 1200}, "issues": [], "components": []}),
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("were announced")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/api/hotspots/search".into()),
        status: 502,
        times: 1,
        ..Default::default()
    });
    let e = pull(&good, &r, PullMode::Full).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");

    assert!(pull(&good, &r, PullMode::Full).await.is_ok());
}

#[tokio::test]
async fn a_closed_sink_stops_the_pull() {
    let sim = SonarQubeSim::generate(1, 3_000).await.unwrap();
    let api = connect(setup_with(&sim, TOKEN, json!({"rule_details": false})));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<NewFinding>>(1);
    let reader = tokio::spawn(async move {
        let first = rx.recv().await.map(|b| b.len());
        drop(rx);
        first
    });
    let pulled = api
        .pull(&record_of("acme:service-0000"), PullMode::Full, &tx)
        .await
        .unwrap();
    assert_eq!(reader.await.unwrap(), Some(BATCH));
    assert!(!pulled.complete);
    assert!(pulled.findings < 3_000);
    assert!(sim.requests().counts()["GET /api/issues/search"] <= 3);
}
