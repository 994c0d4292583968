//! The Semgrep simulator over real HTTP: it refuses what Semgrep's Web API refuses (no token,
//! an unknown token, a token without the Web API scope, another deployment, out-of-range and
//! malformed parameters), pages as documented and rate-limits with `Retry-After`.

use reqwest::StatusCode;
use serde_json::Value;
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::semgrep::{CI_TOKEN, SemgrepSim, TOKEN};
use std::time::Duration;

async fn seeded() -> SemgrepSim {
    SemgrepSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn get(
    sim: &SemgrepSim,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", sim.base_url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn the_token_must_be_a_web_api_token() {
    let sim = seeded().await;
    let (status, _, body) = get(&sim, "/api/v1/deployments", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("token"), "{body}");
    let (status, _, _) = get(&sim, "/api/v1/deployments", Some("sgp_wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = get(&sim, "/api/v1/deployments", Some(CI_TOKEN)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"].as_str().unwrap().contains("Web API"),
        "{body}"
    );
    // The liveness probe needs no token.
    let (status, _, _) = get(&sim, "/api/v1/ping", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_sees_its_one_deployment_and_its_projects() {
    let sim = seeded().await;
    let (status, _, body) = get(&sim, "/api/v1/deployments", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    let deployments = body["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0]["slug"], "acme");
    assert!(
        deployments[0]["findings"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/api/v1/deployments/acme/findings")
    );

    let (_, _, body) = get(&sim, "/api/v1/deployments/acme/projects", Some(TOKEN)).await;
    let names: Vec<&str> = body["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme/web", "acme/payments-api"]);
    // 0-based pages.
    let (_, _, body) = get(
        &sim,
        "/api/v1/deployments/acme/projects?page=1&page_size=1",
        Some(TOKEN),
    )
    .await;
    assert_eq!(body["projects"][0]["name"], "acme/payments-api");
    let (_, _, body) = get(
        &sim,
        "/api/v1/deployments/acme/projects?page=2&page_size=1",
        Some(TOKEN),
    )
    .await;
    assert_eq!(body["projects"].as_array().unwrap().len(), 0);

    let (status, _, _) = get(&sim, "/api/v1/deployments/other-org/projects", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An archived project is not listed.
    let id = sim.record_ids()[1].clone();
    sim.remove_record(&id);
    let (_, _, body) = get(&sim, "/api/v1/deployments/acme/projects", Some(TOKEN)).await;
    assert_eq!(body["projects"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn findings_are_filtered_paged_and_newest_first() {
    let sim = seeded().await;
    let path = "/api/v1/deployments/acme/findings?repos=acme/payments-api&dedup=true";
    let (status, _, body) = get(&sim, path, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    let findings = body["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5, "Code findings only by default");
    assert!(
        findings
            .iter()
            .all(|f| f["repository"]["name"] == "acme/payments-api")
    );
    let times: Vec<&str> = findings
        .iter()
        .map(|f| f["relevant_since"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    let statuses: Vec<&str> = findings
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    for s in ["open", "fixed", "ignored", "reviewing"] {
        assert!(statuses.contains(&s), "{statuses:?}");
    }
    let fp = findings
        .iter()
        .find(|f| f["triage_reason"] == "false_positive")
        .unwrap();
    assert_eq!(fp["status"], "ignored");

    let (_, _, body) = get(&sim, &format!("{path}&issue_type=sca"), Some(TOKEN)).await;
    let sca = &body["findings"][0];
    assert_eq!(sca["vulnerability_identifier"], "CVE-2023-32681");
    assert_eq!(sca["found_dependency"]["package"], "requests");
    assert_eq!(sca["fix_recommendations"][0]["version"], "2.31.0");

    let (_, _, body) = get(&sim, &format!("{path}&status=open"), Some(TOKEN)).await;
    assert_eq!(body["findings"].as_array().unwrap().len(), 1);

    // since filters relevant_since (epoch seconds).
    let (_, _, body) = get(
        &sim,
        "/api/v1/deployments/acme/findings?since=4102444800",
        Some(TOKEN),
    )
    .await;
    assert_eq!(body["findings"].as_array().unwrap().len(), 0);

    // Pages: page_size 100 at least, 0-based.
    let big = SemgrepSim::generate(1, 250).await.unwrap();
    let mut ids = std::collections::HashSet::new();
    for page in 0..3 {
        let (_, _, body) = get(
            &big,
            &format!("/api/v1/deployments/acme/findings?page={page}&page_size=100"),
            Some(TOKEN),
        )
        .await;
        let n = body["findings"].as_array().unwrap().len();
        assert_eq!(n, if page < 2 { 100 } else { 50 });
        for f in body["findings"].as_array().unwrap() {
            assert!(ids.insert(f["id"].as_u64().unwrap()), "pages overlap");
        }
    }
}

#[tokio::test]
async fn bad_parameters_are_refused() {
    let sim = seeded().await;
    for query in [
        "page_size=50",
        "page_size=3001",
        "page_size=ten",
        "page=-1",
        "issue_type=secrets",
        "status=closed",
        "severities=urgent",
        "since=yesterday",
        "dedup=maybe",
        "repository_ids=abc",
    ] {
        let (status, _, body) = get(
            &sim,
            &format!("/api/v1/deployments/acme/findings?{query}"),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body["error"].is_string(), "{query}: {body}");
    }
    let (status, _, _) = get(
        &sim,
        "/api/v1/deployments/acme/findings?page_size=3000&severities=high,critical",
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_rate_limit_answers_429_with_retry_after() {
    let sim = seeded().await;
    sim.set_rate_limit(Some(2), Duration::from_secs(30));
    for _ in 0..2 {
        assert_eq!(
            get(&sim, "/api/v1/deployments", Some(TOKEN)).await.0,
            StatusCode::OK
        );
    }
    let (status, headers, body) = get(&sim, "/api/v1/deployments", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(body["error"].is_string());
    sim.set_rate_limit(None, Duration::from_secs(1));
    assert_eq!(
        get(&sim, "/api/v1/deployments", Some(TOKEN)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_control_api_and_the_rust_api_agree() {
    let sim = seeded().await;
    let web = sim.record_ids()[0].clone();
    let open = sim.open_findings(&web);
    sim.fix_findings(&web, 2);
    assert_eq!(sim.open_findings(&web), open - 2);
    sim.mark_false_positive(&web);
    assert_eq!(sim.open_findings(&web), open - 3);
    let id = sim.add_record("acme/new-service", 7);
    assert_eq!(sim.open_findings(&id), 7);
    assert!(sim.record_ids().contains(&id));

    sim.faults().push(Fault {
        path_contains: Some("/findings".into()),
        status: 502,
        times: 1,
        ..Default::default()
    });
    assert_eq!(
        get(&sim, "/api/v1/deployments/acme/findings", Some(TOKEN))
            .await
            .0,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        get(&sim, "/api/v1/deployments/acme/findings", Some(TOKEN))
            .await
            .0,
        StatusCode::OK
    );
    let (_, _, state) = get(&sim, "/_sim/state", None).await;
    assert!(state["state"]["projects"].as_object().unwrap().len() >= 3);
    let (_, _, requests) = get(&sim, "/_sim/requests", None).await;
    assert_eq!(
        requests["counts"]["GET /api/v1/deployments/{slug}/findings"], 1,
        "a refused (faulted) request is not served: {requests}"
    );
    assert!(sim.summary().contains("acme/new-service"));
}
