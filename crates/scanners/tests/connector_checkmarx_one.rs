//! The Checkmarx ONE connector against the Checkmarx ONE simulator over HTTP: check, token
//! exchange and renewal, Discover across pages, full and incremental pulls of the latest
//! completed scan, triage states, the same identity as the `Checkmarx One Scan` parser, and
//! failures (refused keys, 429, malformed and truncated pages, a closed sink).

mod support;


use chrono::Utc;
use domain::connector::Tool;
use domain::{NewFinding, Status};
use outbound::{CallError, NoLimits, OutboundPolicy};
use scanners::connectors::{BATCH, PullMode, ScannerApi, Setup, client};
use scanners::formats::checkmarx_one::CheckmarxOneScan;
use scanners::testing::parse_fixture;
use serde_json::{Value, json};
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::checkmarx_one::{CheckmarxSim, Limits, TENANT};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use support::{connect, pull, record, record_named};

async fn seeded() -> CheckmarxSim {
    CheckmarxSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn setup(location: &str, key: &str, options: Value) -> Setup {
    support::setup(Tool::CheckmarxOne, location, &[("api_key", key)], options)
}

fn api(sim: &CheckmarxSim) -> Arc<dyn ScannerApi> {
    connect(setup(
        &sim.location(),
        &sim.api_key(),
        Value::Object(sim.options()),
    ))
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
    assert_eq!(report.account.as_deref(), Some(TENANT));
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.name == "projects" && c.detail.starts_with("3 projects")),
        "{report:?}"
    );

    let bad = connect(setup(
        &sim.location(),
        "not-a-key",
        json!({ "tenant": TENANT }),
    ))
    .check()
    .await;
    let creds = bad.checks.iter().find(|c| c.name == "credentials").unwrap();
    assert!(
        !creds.ok && creds.detail.contains("refused the API key"),
        "{creds:?}"
    );

    let wrong_tenant = connect(setup(
        &sim.location(),
        &sim.api_key(),
        json!({ "tenant": "globex", "iam_url": sim.base_url() }),
    ))
    .check()
    .await;
    let t = wrong_tenant
        .checks
        .iter()
        .find(|c| c.name == "tenant")
        .unwrap();
    assert!(!t.ok && t.detail.contains("no tenant 'globex'"), "{t:?}");

    let gone = connect(setup("http://127.0.0.1:9/", &sim.api_key(), json!({})))
        .check()
        .await;
    assert!(
        gone.checks.iter().any(|c| c.name == "location" && !c.ok),
        "{gone:?}"
    );

    // A key that names no tenant needs the option.
    let e = match client(
        setup(&sim.location(), "opaque-key", json!({})),
        Arc::new(NoLimits),
        &OutboundPolicy::default(),
    ) {
        Ok(_) => panic!("a client without a tenant"),
        Err(e) => e,
    };
    assert!(
        matches!(&e, CallError::Misconfigured(m) if m.contains("'tenant'")),
        "{e:?}"
    );
}

#[tokio::test]
async fn discover_pages_through_every_project() {
    let sim = CheckmarxSim::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    for n in 0..230 {
        sim.add_record(&format!("svc-{n:03}"), 0);
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
        sim.requests().counts().get("GET /api/projects").copied(),
        Some(3)
    );
    assert_eq!(found[0].metadata["main_branch"], "main");
    assert!(
        found[0].metadata["repo_url"]
            .as_str()
            .unwrap()
            .contains("svc-000")
    );
}

#[tokio::test]
async fn a_full_pull_is_the_latest_completed_scan_with_triage_states() {
    let sim = seeded().await;
    let api = api(&sim);
    let robot = record_named(&api, "robot-automation").await;
    let (pulled, findings) = pull(&api, &robot, PullMode::Full).await.unwrap();
    assert!(pulled.complete);
    assert_eq!(pulled.findings, 8);
    assert_eq!(pulled.cursor, sim.latest_scan_id(&robot.external_id));
    let verified: Vec<&NewFinding> = findings.iter().filter(|f| f.verified).collect();
    assert_eq!(verified.len(), 1, "CONFIRMED is a person's verdict");
    assert!(
        findings.iter().all(|f| f.status == Status::Active),
        "TO_VERIFY, CONFIRMED and PROPOSED_NOT_EXPLOITABLE are open"
    );
    assert!(findings.iter().all(|f| {
        f.unique_id_from_tool
            .as_deref()
            .is_some_and(|u| u.starts_with(&format!("{}/", robot.external_id)))
    }));

    let webgoat = record_named(&api, "webgoat").await;
    let (_, findings) = pull(&api, &webgoat, PullMode::Full).await.unwrap();
    assert_eq!(findings.len(), 8);
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
            .filter(|f| f.status == Status::Active && f.verified)
            .count(),
        1,
        "URGENT"
    );

    // A project never scanned has nothing to say.
    let payments = record_named(&api, "payments-api").await;
    let (pulled, findings) = pull(&api, &payments, PullMode::Full).await.unwrap();
    assert_eq!(
        (pulled.complete, pulled.cursor, findings.len()),
        (false, None, 0)
    );
}

#[tokio::test]
async fn findings_have_the_identity_and_mapping_of_the_report_parser() {
    let sim = seeded().await;
    let api = api(&sim);
    let robot = record_named(&api, "robot-automation").await;
    let (_, findings) = pull(&api, &robot, PullMode::Full).await.unwrap();
    // The simulator serves the results API export as it is; the parser reads the same export.
    let parsed = parse_fixture(&CheckmarxOneScan, "checkmarx_one/api_export.json").unwrap();
    assert_eq!(parsed.len(), findings.len());
    for p in &parsed {
        let uid = format!(
            "{}/{}",
            robot.external_id,
            p.unique_id_from_tool.as_deref().unwrap()
        );
        let f = findings
            .iter()
            .find(|f| f.unique_id_from_tool.as_deref() == Some(uid.as_str()))
            .unwrap_or_else(|| panic!("no {uid}"));
        assert_eq!(
            (f.title.as_str(), f.severity, f.cwe),
            (p.title.as_str(), p.severity, p.cwe)
        );
        assert_eq!(
            (
                &f.file_path,
                f.line,
                &f.component_name,
                &f.component_version
            ),
            (
                &p.file_path,
                p.line,
                &p.component_name,
                &p.component_version
            )
        );
        assert_eq!(
            (&f.vulnerability_ids, &f.fix_version, f.date),
            (&p.vulnerability_ids, &p.fix_version, p.date)
        );
        assert_eq!(f.description, p.description);
    }
}

#[tokio::test]
async fn incremental_pulls_send_a_new_scan_and_nothing_otherwise() {
    let sim = seeded().await;
    let api = api(&sim);
    let robot = record_named(&api, "robot-automation").await;
    let (first, _) = pull(&api, &robot, PullMode::Full).await.unwrap();
    let cursor = first.cursor.unwrap();
    let (same, findings) = pull(&api, &robot, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert_eq!(
        (same.complete, same.findings, same.cursor.as_deref()),
        (false, 0, Some(cursor.as_str()))
    );
    assert!(findings.is_empty());

    sim.fix_findings(&robot.external_id, 2);
    sim.mark_false_positive(&robot.external_id);
    let (next, findings) = pull(&api, &robot, PullMode::Since(cursor.clone()))
        .await
        .unwrap();
    assert!(next.complete);
    assert_eq!(findings.len(), 6);
    assert_eq!(
        findings
            .iter()
            .filter(|f| f.status == Status::FalsePositive)
            .count(),
        1
    );
    assert_eq!(next.cursor, sim.latest_scan_id(&robot.external_id));
    assert_ne!(next.cursor.as_deref(), Some(cursor.as_str()));
    assert_eq!(sim.open_findings(&robot.external_id), 5);
}

#[tokio::test]
async fn the_branch_option_pulls_that_branch_only() {
    let sim = seeded().await;
    let on_dev = connect(setup(
        &sim.location(),
        &sim.api_key(),
        json!({ "tenant": TENANT, "branch": "develop" }),
    ));
    let robot = record_named(&on_dev, "robot-automation").await;
    let (pulled, findings) = pull(&on_dev, &robot, PullMode::Full).await.unwrap();
    assert_eq!((pulled.complete, findings.len()), (false, 0));
    let on_main = connect(setup(
        &sim.location(),
        &sim.api_key(),
        json!({ "tenant": TENANT, "branch": "main" }),
    ));
    assert_eq!(
        pull(&on_main, &robot, PullMode::Full)
            .await
            .unwrap()
            .1
            .len(),
        8
    );
}

#[tokio::test]
async fn large_scans_page_by_page_and_tokens_are_renewed() {
    let sim = CheckmarxSim::generate("127.0.0.1:0".parse().unwrap(), 1, 2345)
        .await
        .unwrap();
    let api = api(&sim);
    let r = record(&api.discover().await.unwrap()[0]);
    let (pulled, findings) = pull(&api, &r, PullMode::Full).await.unwrap();
    assert_eq!(pulled.findings, 2345);
    let ids: HashSet<&str> = findings
        .iter()
        .filter_map(|f| f.unique_id_from_tool.as_deref())
        .collect();
    assert_eq!(ids.len(), 2345);
    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("GET /api/results").copied(),
        Some(3),
        "pages of 1,000"
    );
    let tokens = |c: &std::collections::BTreeMap<String, u64>| {
        c.iter()
            .filter(|(k, _)| k.contains("openid-connect/token"))
            .map(|(_, v)| *v)
            .sum::<u64>()
    };
    assert_eq!(tokens(&counts), 1, "one token for the whole run");

    // The server forgets the token (it expired early): the next call renews it once.
    sim.expire_access_tokens();
    sim.requests().reset();
    assert_eq!(api.discover().await.unwrap().len(), 1);
    let counts = sim.requests().counts();
    assert_eq!(tokens(&counts), 1);
    assert_eq!(
        counts.get("GET /api/projects").copied(),
        Some(2),
        "refused once, then served"
    );

    // Short-lived tokens are renewed before they run out.
    sim.set_limits(Limits {
        token_lifetime_seconds: 31,
        ..sim.limits()
    });
    sim.expire_access_tokens();
    api.discover().await.unwrap();
    sim.requests().reset();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    api.discover().await.unwrap();
    assert_eq!(
        tokens(&sim.requests().counts()),
        1,
        "a token within 30 s of its end is renewed first"
    );
    assert_eq!(
        sim.requests().counts().get("GET /api/projects").copied(),
        Some(1)
    );
}

#[tokio::test]
async fn failures_come_back_as_clear_errors() {
    let sim = seeded().await;
    let good = api(&sim);
    let robot = record_named(&good, "robot-automation").await;

    let bad = connect(setup(
        &sim.location(),
        "forged-key",
        json!({ "tenant": TENANT }),
    ));
    let e = pull(&bad, &robot, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Unauthorized(m) if m.contains("refused the API key for tenant 'acme'")),
        "{e:?}"
    );

    // Revoked while running: the kept token is refused, and so is the key.
    sim.revoke_api_keys();
    let e = pull(&good, &robot, PullMode::Full).await.unwrap_err();
    assert_eq!(e.code(), "unauthorized", "{e:?}");
    let key = sim.add_api_key();
    let good = connect(setup(&sim.location(), &key, json!({ "tenant": TENANT })));

    sim.faults().push(fault(
        "/api/results",
        429,
        json!({ "code": 429, "message": "Too Many Requests" }),
        &[("Retry-After", "20")],
    ));
    match pull(&good, &robot, PullMode::Full).await.unwrap_err() {
        CallError::RateLimited {
            until: Some(u),
            reason,
        } => {
            assert!((15..=21).contains(&(u - Utc::now()).num_seconds()));
            assert!(reason.contains("Checkmarx ONE results"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    sim.set_limits(Limits {
        requests_per_minute: 1,
        ..sim.limits()
    });
    let e = pull(&good, &robot, PullMode::Full).await.unwrap_err();
    assert_eq!(
        e.code(),
        "rate_limited",
        "the simulator's own budget: {e:?}"
    );
    sim.set_limits(Limits {
        requests_per_minute: 0,
        ..sim.limits()
    });

    sim.faults().push(fault(
        "/api/results",
        200,
        json!("{\"results\": [{\"type\""),
        &[],
    ));
    let e = pull(&good, &robot, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("results of scan")),
        "{e:?}"
    );

    sim.faults().push(fault(
        "/api/results",
        200,
        json!({ "results": [{ "type": "sast", "severity": "HIGH" }], "totalCount": 1 }),
        &[],
    ));
    let e = pull(&good, &robot, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("result 0")),
        "{e:?}"
    );

    // A page that stops short of the total: never a silently short pull.
    sim.faults().push(fault(
        "/api/results",
        200,
        json!({ "results": [], "totalCount": 8 }),
        &[],
    ));
    let e = pull(&good, &robot, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, CallError::Protocol(m) if m.contains("ended after 0 of the 8")),
        "{e:?}"
    );

    let c = reqwest::Client::new();
    c.post(format!("{}/_sim/cut", sim.base_url()))
        .json(&json!({ "path_contains": "/api/results" }))
        .send()
        .await
        .unwrap();
    let e = pull(&good, &robot, PullMode::Full).await.unwrap_err();
    assert!(
        matches!(e, CallError::Transient(_) | CallError::Protocol(_)),
        "{e:?}"
    );

    sim.faults().push(fault(
        "/api/scans",
        500,
        json!({ "message": "internal", "type": "ERROR", "code": 500 }),
        &[],
    ));
    assert!(
        pull(&good, &robot, PullMode::Full)
            .await
            .unwrap_err()
            .is_retryable()
    );

    assert_eq!(
        pull(&good, &robot, PullMode::Full)
            .await
            .unwrap()
            .0
            .findings,
        8
    );
}

#[tokio::test]
async fn a_closed_sink_stops_the_pull() {
    let sim = CheckmarxSim::generate("127.0.0.1:0".parse().unwrap(), 1, 3000)
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
    assert!(pulled.findings < 3000);
    assert!(
        sim.requests()
            .counts()
            .get("GET /api/results")
            .copied()
            .unwrap_or(0)
            < 6
    );
}
