//! The Dependency-Track connector against the Dependency-Track simulator over HTTP: check,
//! Discover across pages, complete pulls (suppressed findings included), analysis states
//! mapped, the same identity as the FPF parser, and failures (401, 403, 404, 429,
//! malformed, cut-off and short answers, a closed sink).

mod support;


use chrono::Utc;
use domain::connector::Tool;
use domain::{NewFinding, Status};
use outbound::CallError;
use scanners::connectors::{PullMode, ScannerApi, Setup};
use scanners::formats::dependency_track::DependencyTrackFpf;
use scanners::testing::parse_fixture;
use serde_json::json;
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::dependency_track::{API_KEY, DependencyTrackSim, PORTFOLIO_ONLY_API_KEY};
use std::sync::Arc;
use support::{connect, pull, record_of};

const PHP: &str = "ca4f2da9-0fad-4a13-92d7-f627f3168a57";

async fn seeded() -> DependencyTrackSim {
    DependencyTrackSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn setup(sim: &DependencyTrackSim, key: &str, location: &str) -> Setup {
    support::setup(Tool::DependencyTrack, location, &[("api_key", key)], serde_json::Value::Object(sim.options()))
}

fn api(sim: &DependencyTrackSim) -> Arc<dyn ScannerApi> {
    connect(setup(sim, API_KEY, &sim.location()))
}

#[tokio::test]
async fn check_passes_and_names_what_is_wrong() {
    let sim = seeded().await;
    let report = api(&sim).check().await;
    assert!(report.ok(), "{}", report.failures());
    assert_eq!(report.account.as_deref(), Some("Automation"));
    let bad = connect(setup(&sim, "odt_wrong", &sim.location()))
        .check()
        .await;
    assert!(
        !bad.checks
            .iter()
            .find(|c| c.name == "credentials")
            .unwrap()
            .ok
    );
    let viewer = connect(setup(&sim, PORTFOLIO_ONLY_API_KEY, &sim.location()))
        .check()
        .await;
    let p = viewer
        .checks
        .iter()
        .find(|c| c.name == "permissions")
        .unwrap();
    assert!(
        !p.ok && p.detail.contains("VIEW_VULNERABILITY"),
        "{}",
        p.detail
    );
    let elsewhere = connect(setup(
        &sim,
        API_KEY,
        &format!("{}/frontend/", sim.location()),
    ))
    .check()
    .await;
    assert!(
        !elsewhere
            .checks
            .iter()
            .find(|c| c.name == "server")
            .unwrap()
            .ok
    );
}

#[tokio::test]
async fn discover_pages_through_active_projects() {
    let sim = seeded().await;
    for i in 0..230 {
        sim.add_record(&format!("service-{i:03}"), 0);
    }
    sim.requests().reset();
    let found = api(&sim).discover().await.unwrap();
    assert_eq!(
        found
            .iter()
            .map(|r| r.external_id.clone())
            .collect::<Vec<_>>(),
        sim.record_ids()
    );
    assert_eq!(found.len(), 234);
    assert_eq!(
        sim.requests().counts()["GET /api/v1/project"],
        3,
        "100 a page"
    );
    let php = found.iter().find(|r| r.external_id == PHP).unwrap();
    assert_eq!(php.name, "acme/acme-app (php) develop");
    assert_eq!(php.metadata["version"], "develop");
    assert!(php.metadata["last_bom_import"].is_i64());

    // A page shorter than X-Total-Count promises is an error, not a short Discover.
    sim.faults().push(Fault {
        path_contains: Some("/api/v1/project".into()),
        status: 200,
        body: json!([]),
        headers: vec![("X-Total-Count".into(), "234".into())],
        times: 1,
        ..Default::default()
    });
    let e = api(&sim).discover().await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("X-Total-Count says 234")),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_pull_maps_findings_as_the_fpf_parser_does() {
    let sim = seeded().await;
    let api = api(&sim);
    let (pulled, got) = pull(&api, &record_of(PHP), PullMode::Full).await.unwrap();
    assert!(pulled.complete);
    assert_eq!(got.len(), 13, "suppressed findings included");
    let parsed = parse_fixture(
        &DependencyTrackFpf,
        "dependency_track/deptrack_php_4.14.1.json",
    )
    .unwrap();
    assert_eq!(parsed.len(), 13);
    for p in &parsed {
        let id = p.unique_id_from_tool.clone().unwrap();
        let g = got
            .iter()
            .find(|g| g.unique_id_from_tool.as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("{id}"));
        assert_eq!(g.title, p.title, "{id}");
        assert_eq!(g.severity, p.severity, "{id}");
        assert_eq!(g.vuln_id_from_tool, p.vuln_id_from_tool, "{id}");
        assert_eq!(g.vulnerability_ids, p.vulnerability_ids, "{id}");
        assert_eq!(g.cwe, p.cwe, "{id}");
        assert_eq!(g.component_name, p.component_name, "{id}");
        assert_eq!(g.component_version, p.component_version, "{id}");
        assert_eq!(g.component_purl, p.component_purl, "{id}");
        assert_eq!(g.mitigation, p.mitigation, "{id}");
        assert_eq!(g.references, p.references, "{id}");
        assert_eq!(g.cvss_v3_score, p.cvss_v3_score, "{id}");
        assert_eq!(g.date, p.date, "{id}");
        assert_eq!(g.description, p.description, "{id}");
    }
    let count = |s: Status| got.iter().filter(|f| f.status == s).count();
    assert_eq!(count(Status::FalsePositive), 1, "not affected");
    assert_eq!(
        count(Status::RiskAccepted),
        1,
        "suppressed without a verdict"
    );
    assert_eq!(count(Status::Closed), 1, "resolved");
    assert_eq!(count(Status::Active), 10, "exploitable and not set");
    assert_eq!(sim.open_findings(PHP), count(Status::Active));
}

#[tokio::test]
async fn every_pull_is_a_complete_snapshot() {
    let sim = seeded().await;
    let api = api(&sim);
    let id = sim.add_record("storefront", 1_200);
    let r = record_of(&id);
    let (full, got) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!((full.findings, got.len()), (1_200, 1_200));
    sim.fix_findings(&id, 5);
    sim.mark_false_positive(&id);
    sim.analyse_first(&id, "IN_TRIAGE", false);
    let (inc, now) = pull(&api, &r, PullMode::Since(full.cursor.unwrap()))
        .await
        .unwrap();
    assert!(
        inc.complete,
        "Dependency-Track has no changed-since: every pull is whole"
    );
    assert_eq!(
        now.len(),
        1_195,
        "fixed findings are gone (the import closes them)"
    );
    assert_eq!(
        now.iter()
            .filter(|f| f.status == Status::FalsePositive)
            .count(),
        1
    );
    assert_eq!(
        now.iter().filter(|f| f.status == Status::Active).count(),
        1_194,
        "in triage is open"
    );
    assert_eq!(sim.open_findings(&id), 1_194);
}

#[tokio::test]
async fn failures_come_back_as_the_right_errors() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_of(PHP);
    let e = pull(
        &connect(setup(&sim, "odt_wrong", &sim.location())),
        &r,
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CallError::Unauthorized(_)), "{e:?}");
    let e = pull(
        &connect(setup(&sim, PORTFOLIO_ONLY_API_KEY, &sim.location())),
        &r,
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CallError::Forbidden(_)), "{e:?}");
    let e = pull(
        &api,
        &record_of("3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, CallError::NotFound(m) if m.contains("could not be found")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/finding/".into()),
        status: 429,
        headers: vec![("Retry-After".into(), "12".into())],
        times: 1,
        ..Default::default()
    });
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    let CallError::RateLimited {
        until: Some(until), ..
    } = e
    else {
        panic!("{e:?}")
    };
    assert!((until - Utc::now()).num_seconds() <= 12);

    sim.faults().push(Fault {
        path_contains: Some("/finding/".into()),
        status: 200,
        body: json!({ "findings": [] }),
        times: 1,
        ..Default::default()
    });
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("JSON array")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/finding/".into()),
        status: 200,
        body: json!([{ "component": {} }]),
        times: 1,
        ..Default::default()
    });
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("element 1")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/finding/".into()),
        status: 200,
        body: json!([]),
        headers: vec![("X-Total-Count".into(), "13".into())],
        times: 1,
        ..Default::default()
    });
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("X-Total-Count says 13")),
        "{e:?}"
    );

    sim.cut_next("/finding/", 1);
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(e, CallError::Transient(_) | CallError::Protocol(_)),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/finding/".into()),
        status: 503,
        times: 1,
        ..Default::default()
    });
    assert!(matches!(
        pull(&api, &r, PullMode::Full).await.unwrap_err(),
        CallError::Transient(_)
    ));
}

#[tokio::test]
async fn a_closed_sink_stops_the_pull() {
    let sim = DependencyTrackSim::generate(1, 3_000).await.unwrap();
    let api = api(&sim);
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<NewFinding>>(1);
    drop(rx);
    let pulled = api
        .pull(&record_of(&sim.record_ids()[0]), PullMode::Full, &tx)
        .await
        .unwrap();
    assert!(!pulled.complete);
    assert_eq!(pulled.findings, 0);
}
