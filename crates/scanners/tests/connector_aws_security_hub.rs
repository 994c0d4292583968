//! The AWS Security Hub connector against the Security Hub simulator over HTTP: requests
//! signed by the connector and checked by the simulator's own SigV4 implementation, check,
//! Discover (accounts x Regions, member pages), full and incremental pulls, statuses, the same
//! identity as the `AWS Security Hub Scan` parser, throttling, and failures.

mod support;


use domain::connector::Tool;
use domain::{NewFinding, Severity, Status};
use outbound::{CallError, NoLimits, OutboundPolicy};
use scanners::connectors::{BATCH, PullMode, ScannerApi, Setup, client};
use scanners::formats::awssecurityhub::AwsSecurityHubParser;
use scanners::testing::parse_fixture;
use secrecy::SecretString;
use serde_json::json;
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::aws_security_hub::{
    ACCOUNT, AwsSecurityHubSim, HOME_REGION, LIMITED_ACCESS_KEY_ID, LIMITED_SECRET_ACCESS_KEY,
    LINKED_REGION,
};
use std::collections::HashMap;
use std::sync::Arc;
use support::{connect, pull, record_of};

async fn seeded() -> AwsSecurityHubSim {
    let sim = AwsSecurityHubSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    // Tests call faster than 3 GetFindings a second; throttling has its own test.
    sim.set_throttling(false);
    sim
}

fn setup(sim: &AwsSecurityHubSim, key: &str, secret: &str, options: serde_json::Value) -> Setup {
    let mut opts = sim.options();
    opts.extend(options.as_object().cloned().unwrap_or_default());
    support::setup(Tool::AwsSecurityHub, &sim.location(), &[("access_key_id", key), ("secret_access_key", secret)], serde_json::Value::Object(opts))
}

fn api(sim: &AwsSecurityHubSim) -> Arc<dyn ScannerApi> {
    let s = sim.secrets();
    connect(setup(sim, &s[0].1, &s[1].1, json!({})))
}

fn by_id(findings: &[NewFinding]) -> HashMap<String, &NewFinding> {
    findings
        .iter()
        .map(|f| (f.unique_id_from_tool.clone().unwrap_or_default(), f))
        .collect()
}

#[tokio::test]
async fn check_passes_and_names_what_is_wrong() {
    let sim = seeded().await;
    let report = api(&sim).check().await;
    assert!(report.ok(), "{}", report.failures());
    assert_eq!(report.account.as_deref(), Some(ACCOUNT));
    let regions = report.checks.iter().find(|c| c.name == "regions").unwrap();
    assert!(regions.detail.contains(LINKED_REGION), "{}", regions.detail);

    let bad = connect(setup(&sim, &sim.secrets()[0].1, "wrong-secret", json!({})))
        .check()
        .await;
    assert!(!bad.ok());
    let c = bad.checks.iter().find(|c| c.name == "credentials").unwrap();
    assert!(
        !c.ok && c.detail.contains("signature we calculated does not match"),
        "{}",
        c.detail
    );

    let limited = connect(setup(
        &sim,
        LIMITED_ACCESS_KEY_ID,
        LIMITED_SECRET_ACCESS_KEY,
        json!({}),
    ))
    .check()
    .await;
    let p = limited
        .checks
        .iter()
        .find(|c| c.name == "permissions")
        .unwrap();
    assert!(
        !p.ok && p.detail.contains("securityhub:GetFindings"),
        "{}",
        p.detail
    );
    assert!(
        limited
            .checks
            .iter()
            .find(|c| c.name == "credentials")
            .unwrap()
            .ok
    );

    sim.set_hub_enabled(false);
    let off = api(&sim).check().await;
    let hub = off.checks.iter().find(|c| c.name == "hub").unwrap();
    assert!(
        !hub.ok && hub.detail.contains("not subscribed"),
        "{}",
        hub.detail
    );
}

#[test]
fn the_region_comes_from_the_endpoint_or_an_option() {
    let base = Setup {
        tool: Tool::AwsSecurityHub,
        location: url::Url::parse("https://securityhub.eu-west-1.amazonaws.com").unwrap(),
        secrets: [
            (
                "access_key_id".to_owned(),
                SecretString::from("AKIA".to_owned()),
            ),
            (
                "secret_access_key".to_owned(),
                SecretString::from("s".to_owned()),
            ),
        ]
        .into_iter()
        .collect(),
        options: serde_json::Map::new(),
    };
    assert!(client(base.clone(), Arc::new(NoLimits), &OutboundPolicy::default()).is_ok());
    let proxy = Setup {
        location: url::Url::parse("https://proxy.example.com").unwrap(),
        ..base.clone()
    };
    let Err(e) = client(proxy, Arc::new(NoLimits), &OutboundPolicy::default()) else {
        panic!("a proxy needs a region")
    };
    assert!(e.to_string().contains("option 'region'"), "{e}");
    let mut missing = base;
    missing.secrets.remove("secret_access_key");
    let Err(e) = client(missing, Arc::new(NoLimits), &OutboundPolicy::default()) else {
        panic!("the secret is needed")
    };
    assert!(e.to_string().contains("secret_access_key"), "{e}");
}

#[tokio::test]
async fn discover_finds_every_account_in_every_region() {
    let sim = seeded().await;
    let found = api(&sim).discover().await.unwrap();
    let mut ids: Vec<String> = found.iter().map(|r| r.external_id.clone()).collect();
    ids.sort();
    let mut expected = sim.record_ids();
    expected.sort();
    assert_eq!(ids, expected);
    let admin = found
        .iter()
        .find(|r| r.external_id == format!("{ACCOUNT}:{LINKED_REGION}"))
        .unwrap();
    assert_eq!(admin.metadata["administrator"], true);
    assert_eq!(admin.metadata["region"], LINKED_REGION);
    let member = found
        .iter()
        .find(|r| r.external_id == "111111111111:us-east-1")
        .unwrap();
    assert!(
        member.name.contains("security+111111111111@example.com"),
        "{}",
        member.name
    );

    // Members come 50 a page.
    for i in 0..60 {
        sim.add_record(&format!("team{i}"), 0);
    }
    let found = api(&sim).discover().await.unwrap();
    assert_eq!(found.len(), sim.record_ids().len());
    assert_eq!(found.len(), (4 + 60) * 2);
    assert!(
        sim.requests().counts()["GET /members"] >= 3,
        "{:?}",
        sim.requests().counts()
    );

    // The option `regions` overrides the aggregator's list.
    let s = sim.secrets();
    let one = connect(setup(
        &sim,
        &s[0].1,
        &s[1].1,
        json!({ "regions": [HOME_REGION] }),
    ))
    .discover()
    .await
    .unwrap();
    assert_eq!(one.len(), 64);
}

#[tokio::test]
async fn a_full_pull_maps_findings_as_the_report_parser_does() {
    let sim = seeded().await;
    let api = api(&sim);
    let (pulled, got) = pull(&api, &record_of("XXXXXXXXXXXX:us-east-1"), PullMode::Full)
        .await
        .unwrap();
    assert!(pulled.complete);
    assert!(pulled.cursor.is_some());
    assert_eq!(pulled.findings, 4);
    let parsed = parse_fixture(
        &AwsSecurityHubParser,
        "awssecurityhub/inspector_ec2_cve.json",
    )
    .unwrap();
    let got_by_id = by_id(&got);
    for p in parsed.iter().filter(|p| {
        p.unique_id_from_tool
            .as_deref()
            .is_some_and(|i| i.contains("XXXXXXXXXXXX"))
    }) {
        let id = p.unique_id_from_tool.clone().unwrap();
        let g = got_by_id
            .get(&id)
            .unwrap_or_else(|| panic!("{id} was not pulled"));
        assert_eq!(g.title, p.title);
        assert_eq!(g.severity, p.severity);
        assert_eq!(g.description, p.description);
        assert_eq!(g.vulnerability_ids, p.vulnerability_ids);
        assert_eq!(g.component_name, p.component_name);
        assert_eq!(g.component_version, p.component_version);
        assert_eq!(g.mitigation, p.mitigation);
        assert_eq!(g.endpoints, p.endpoints);
    }
    // One of them was suppressed in Security Hub.
    assert_eq!(
        got.iter()
            .filter(|f| f.status == Status::RiskAccepted)
            .count(),
        1
    );
    assert_eq!(got.iter().filter(|f| f.status == Status::Active).count(), 3);
    assert!(got.iter().all(|f| f.severity == Severity::Critical));

    // Config controls: passed ones are closed, the failed one is open.
    let (_, config) = pull(
        &api,
        &record_of(&format!("{ACCOUNT}:{HOME_REGION}")),
        PullMode::Full,
    )
    .await
    .unwrap();
    assert_eq!(config.len(), 3);
    assert_eq!(
        config.iter().filter(|f| f.status == Status::Active).count(),
        1
    );
    assert_eq!(
        config.iter().filter(|f| f.status == Status::Closed).count(),
        2
    );
    let (_, linked) = pull(
        &api,
        &record_of(&format!("{ACCOUNT}:{LINKED_REGION}")),
        PullMode::Full,
    )
    .await
    .unwrap();
    assert_eq!(linked.len(), 1);
    assert!(
        linked[0]
            .vulnerability_ids
            .iter()
            .any(|v| v.starts_with("GHSA-")),
        "{:?}",
        linked[0].vulnerability_ids
    );
}

#[tokio::test]
async fn pages_incremental_pulls_and_verdicts() {
    let sim = seeded().await;
    let api = api(&sim);
    let id = sim.add_record("payments", 1_234);
    let r = record_of(&id);
    sim.requests().reset();
    let (full, got) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!((full.findings, got.len()), (1_234, 1_234));
    assert_eq!(sim.requests().counts()["POST /findings"], 13, "100 a page");
    assert!(got.iter().all(|f| f.status == Status::Active));

    // Fixed findings arrive archived in the next incremental pull; nothing else changed.
    sim.fix_findings(&id, 3);
    let cursor = full.cursor.clone().unwrap();
    let (inc, changed) = pull(&api, &r, PullMode::Since(cursor)).await.unwrap();
    assert!(!inc.complete);
    assert_eq!(
        changed.len(),
        3,
        "{:?}",
        changed.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
    assert!(changed.iter().all(|f| f.status == Status::Closed));
    let fixed_ids = sim.finding_ids(&id)[..3].to_vec();
    assert!(
        changed
            .iter()
            .all(|f| fixed_ids.contains(f.unique_id_from_tool.as_ref().unwrap()))
    );

    // A false positive does not move UpdatedAt, so incremental pulls miss it (they re-read
    // the last hour's changes, the fixes, again); the next full pull sees it, and no longer
    // reports the archived findings (closed by the import's close-missing).
    sim.mark_false_positive(&id);
    let (_, again) = pull(&api, &r, PullMode::Since(inc.cursor.unwrap()))
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .all(|f| fixed_ids.contains(f.unique_id_from_tool.as_ref().unwrap())),
        "only the fixes"
    );
    let (_, all) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!(all.len(), 1_231);
    assert_eq!(
        all.iter()
            .filter(|f| f.status == Status::FalsePositive)
            .count(),
        1
    );
    assert_eq!(
        sim.open_findings(&id),
        all.iter().filter(|f| f.status == Status::Active).count()
    );

    // A cursor this client did not write reads everything.
    let (p, again) = pull(&api, &r, PullMode::Since("yesterday".into()))
        .await
        .unwrap();
    assert!(p.complete);
    assert_eq!(again.len(), 1_231);
}

#[tokio::test]
async fn throttling_is_retried_then_reported() {
    let sim = seeded().await;
    sim.set_throttling(true);
    let api = api(&sim);
    let id = sim.add_record("big", 1_500);
    let (_, got) = pull(&api, &record_of(&id), PullMode::Full).await.unwrap();
    assert_eq!(
        got.len(),
        1_500,
        "15 pages at Security Hub's rate, throttled calls retried"
    );

    sim.faults().push(Fault {
        path_contains: Some("/findings".into()),
        status: 429,
        body: json!({ "message": "Too Many Requests" }),
        headers: vec![("x-amzn-ErrorType".into(), "TooManyRequestsException".into())],
        times: 10,
        ..Default::default()
    });
    let e = pull(&api, &record_of(&id), PullMode::Full)
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::RateLimited { .. }), "{e:?}");
}

#[tokio::test]
async fn failures_come_back_as_the_right_errors() {
    let sim = seeded().await;
    let api = api(&sim);
    let r = record_of("XXXXXXXXXXXX:us-east-1");
    let s = sim.secrets();
    let e = pull(
        &connect(setup(&sim, &s[0].1, "wrong", json!({}))),
        &r,
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, CallError::Unauthorized(m) if m.contains("signature")),
        "{e:?}"
    );
    let e = pull(
        &connect(setup(&sim, "AKIANOSUCHKEY0000000", "x", json!({}))),
        &r,
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, CallError::Unauthorized(m) if m.contains("security token")),
        "{e:?}"
    );
    let e = pull(
        &connect(setup(
            &sim,
            LIMITED_ACCESS_KEY_ID,
            LIMITED_SECRET_ACCESS_KEY,
            json!({}),
        )),
        &r,
        PullMode::Full,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CallError::Forbidden(_)), "{e:?}");

    sim.faults().push(Fault {
        path_contains: Some("/findings".into()),
        status: 200,
        body: json!({ "Findings": "not a list" }),
        times: 1,
        ..Default::default()
    });
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("GetFindings")),
        "{e:?}"
    );

    sim.faults().push(Fault {
        path_contains: Some("/findings".into()),
        status: 500,
        times: 1,
        ..Default::default()
    });
    assert!(matches!(
        pull(&api, &r, PullMode::Full).await.unwrap_err(),
        CallError::Transient(_)
    ));

    sim.cut_next("/findings", 1);
    let e = pull(&api, &r, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Transient(m) if m.contains("page 1")),
        "{e:?}"
    );

    let e = pull(&api, &record_of("no-region"), PullMode::Full)
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Misconfigured(_)), "{e:?}");
}

#[tokio::test]
async fn a_closed_sink_stops_the_pull() {
    let sim = seeded().await;
    let api = api(&sim);
    let id = sim.add_record("many", 2_000);
    sim.requests().reset();
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<NewFinding>>(1);
    drop(rx);
    let pulled = api
        .pull(&record_of(&id), PullMode::Full, &tx)
        .await
        .unwrap();
    assert!(pulled.findings <= BATCH as u64);
    assert!(
        sim.requests().counts()["POST /findings"] <= 5,
        "{:?}",
        sim.requests().counts()
    );
}
