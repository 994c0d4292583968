//! The SonarQube simulator over real HTTP: it authenticates as SonarQube does (Basic token
//! login on every version, Bearer from 10.0, an empty 401 otherwise), checks permissions and
//! parameters with SonarQube's messages, and enforces the search engine's paging limits.

use base64::Engine;
use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use simulators::scanners::ScannerSim;
use simulators::scanners::sonarqube::{ADMIN_TOKEN, OUTSIDER_TOKEN, SonarQubeSim, TOKEN};
use std::time::Duration;

async fn seeded() -> SonarQubeSim {
    SonarQubeSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

enum Auth<'a> {
    None,
    Basic(&'a str),
    Bearer(&'a str),
}

async fn call(
    sim: &SonarQubeSim,
    path: &str,
    auth: Auth<'_>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", sim.base_url()));
    req = match auth {
        Auth::None => req,
        Auth::Basic(t) => req.header(
            "authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{t}:"))
            ),
        ),
        Auth::Bearer(t) => req.bearer_auth(t),
    };
    let r = req.send().await.unwrap();
    (r.status(), r.headers().clone(), r.text().await.unwrap())
}

async fn get(sim: &SonarQubeSim, path: &str, token: &str) -> (StatusCode, Value) {
    let (status, _, text) = call(sim, path, Auth::Basic(token)).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn msg(v: &Value) -> &str {
    v["errors"][0]["msg"]
        .as_str()
        .unwrap_or_else(|| panic!("not a SonarQube error: {v}"))
}

#[tokio::test]
async fn tokens_authenticate_as_each_version_reads_them() {
    let sim = seeded().await;
    let path = "/api/issues/search?componentKeys=testapplication";
    let (status, _, body) = call(&sim, path, Auth::None).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::UNAUTHORIZED, ""),
        "an empty 401"
    );
    assert_eq!(
        call(&sim, path, Auth::Basic("squ_unknown")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(call(&sim, path, Auth::Basic(TOKEN)).await.0, StatusCode::OK);
    assert_eq!(
        call(&sim, path, Auth::Bearer(TOKEN)).await.0,
        StatusCode::OK
    );

    sim.set_version("9.9.0.65466");
    assert_eq!(
        call(&sim, path, Auth::Bearer(TOKEN)).await.0,
        StatusCode::UNAUTHORIZED,
        "9.9 does not read Bearer"
    );
    assert_eq!(call(&sim, path, Auth::Basic(TOKEN)).await.0, StatusCode::OK);

    let (status, _, version) = call(&sim, "/api/server/version", Auth::None).await;
    assert_eq!((status, version.as_str()), (StatusCode::OK, "9.9.0.65466"));
    let (_, _, valid) = call(
        &sim,
        "/api/authentication/validate",
        Auth::Basic("squ_unknown"),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&valid).unwrap()["valid"],
        false
    );
    let (_, _, valid) = call(&sim, "/api/authentication/validate", Auth::Basic(TOKEN)).await;
    assert_eq!(
        serde_json::from_str::<Value>(&valid).unwrap()["valid"],
        true
    );
}

#[tokio::test]
async fn projects_search_needs_administer_and_components_search_shows_what_is_browsable() {
    let sim = seeded().await;
    let (status, body) = get(&sim, "/api/projects/search?qualifiers=TRK", TOKEN).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(msg(&body), "Insufficient privileges");
    let (status, body) = get(
        &sim,
        "/api/projects/search?qualifiers=TRK&ps=1&p=2",
        ADMIN_TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["paging"]["total"], 2);
    assert_eq!(body["components"][0]["key"], "testapplication");
    assert!(
        body["components"][0]["lastAnalysisDate"]
            .as_str()
            .unwrap()
            .ends_with("+0000")
    );
    let (status, body) = get(&sim, "/api/projects/search?ps=501", ADMIN_TOKEN).await;
    assert_eq!(
        (status, msg(&body)),
        (
            StatusCode::BAD_REQUEST,
            "'ps' value (501) must be less than 500"
        )
    );

    let (status, body) = get(&sim, "/api/components/search", TOKEN).await;
    assert_eq!(
        (status, msg(&body)),
        (
            StatusCode::BAD_REQUEST,
            "The 'qualifiers' parameter is missing"
        )
    );
    let (_, body) = get(&sim, "/api/components/search?qualifiers=TRK", TOKEN).await;
    assert_eq!(body["components"].as_array().unwrap().len(), 2);
    let (_, body) = get(
        &sim,
        "/api/components/search?qualifiers=TRK",
        OUTSIDER_TOKEN,
    )
    .await;
    assert_eq!(body["components"].as_array().unwrap().len(), 0);
    let (status, body) = get(&sim, "/api/components/search?qualifiers=FIL", TOKEN).await;
    assert_eq!(
        (status, msg(&body)),
        (
            StatusCode::BAD_REQUEST,
            "Value of parameter 'qualifiers' (FIL) must be one of: [APP, TRK, VW]"
        )
    );
}

#[tokio::test]
async fn issue_search_filters_sorts_and_counts() {
    let sim = seeded().await;
    let (status, body) = get(
        &sim,
        "/api/issues/search?componentKeys=internal.dummy.project&types=VULNERABILITY&ps=500",
        TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["paging"]["total"], 6);
    assert_eq!(body["total"], 6);
    let issue = &body["issues"][0];
    assert!(issue["creationDate"].as_str().unwrap().ends_with("+0000"));
    assert_eq!(issue["impacts"][0]["softwareQuality"], "SECURITY");
    let file = body["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["qualifier"] == "FIL")
        .unwrap();
    assert!(file["path"].as_str().unwrap().starts_with("src/main/java"));

    let (_, body) = get(&sim, "/api/issues/search?componentKeys=internal.dummy.project&types=VULNERABILITY&resolved=false", TOKEN).await;
    assert_eq!(body["paging"]["total"], 3);
    let (_, body) = get(&sim, "/api/issues/search?componentKeys=internal.dummy.project&types=VULNERABILITY&resolutions=FALSE-POSITIVE", TOKEN).await;
    assert_eq!(body["issues"][0]["issueStatus"], "FALSE_POSITIVE");
    assert_eq!(body["issues"][0]["status"], "RESOLVED");

    // createdAfter is inclusive, createdBefore exclusive; datetimes carry `+0000`.
    let (_, body) = get(&sim, "/api/issues/search?componentKeys=internal.dummy.project&types=VULNERABILITY&createdAfter=2025-04-02T09:00:02%2B0000&createdBefore=2025-04-02T09:00:04%2B0000", TOKEN).await;
    assert_eq!(body["paging"]["total"], 2);
    // Sorting, with the rules facet over every match.
    let (_, body) = get(&sim, "/api/issues/search?componentKeys=internal.dummy.project&types=VULNERABILITY&s=CREATION_DATE&asc=false&ps=1&facets=rules", TOKEN).await;
    assert_eq!(
        body["issues"][0]["creationDate"],
        "2025-04-02T09:00:05+0000"
    );
    let rules = body["facets"][0]["values"].as_array().unwrap();
    assert_eq!(
        rules
            .iter()
            .map(|v| v["count"].as_u64().unwrap())
            .sum::<u64>(),
        6
    );

    // Issues of projects the caller may not browse are left out, not refused.
    let (status, body) = get(
        &sim,
        "/api/issues/search?componentKeys=internal.dummy.project",
        OUTSIDER_TOKEN,
    )
    .await;
    assert_eq!(
        (status, body["paging"]["total"].as_u64()),
        (StatusCode::OK, Some(0))
    );
    let (_, body) = get(
        &sim,
        "/api/issues/search?componentKeys=no.such.project",
        TOKEN,
    )
    .await;
    assert_eq!(body["paging"]["total"], 0);

    sim.set_version("10.3.0.82913");
    let (_, body) = get(
        &sim,
        "/api/issues/search?componentKeys=testapplication",
        TOKEN,
    )
    .await;
    assert!(
        body["issues"][0].get("issueStatus").is_none(),
        "issueStatus arrives in 10.4"
    );
}

#[tokio::test]
async fn issue_search_refuses_what_sonarqube_refuses() {
    let sim = seeded().await;
    for (query, expected) in [
        ("ps=501", "'ps' value (501) must be less than 500"),
        (
            "p=21&ps=500",
            "Can return only the first 10000 results. 10500th result asked.",
        ),
        (
            "p=101",
            "Can return only the first 10000 results. 10100th result asked.",
        ),
        ("p=0", "Page must be greater or equal to 1 (got 0)"),
        ("ps=0", "Page size must be between 1 and 500 (got 0)"),
        ("p=x", "'p' value 'x' cannot be parsed as an integer"),
        (
            "types=SECURITY_HOTSPOT",
            "Value of parameter 'types' (SECURITY_HOTSPOT) must be one of: [CODE_SMELL, BUG, VULNERABILITY]",
        ),
        (
            "s=KEY",
            "Value of parameter 's' (KEY) must be one of: [CREATION_DATE, UPDATE_DATE, CLOSE_DATE, ASSIGNEE, SEVERITY, STATUS, FILE_LINE]",
        ),
        (
            "asc=maybe",
            "Value of parameter 'asc' (maybe) must be one of: [true, false, yes, no]",
        ),
        (
            "createdAfter=yesterday",
            "'yesterday' cannot be parsed as either a date or date+time",
        ),
        (
            "createdAfter=2025-04-02T09:00:02 0000",
            "'2025-04-02T09:00:02 0000' cannot be parsed as either a date or date+time",
        ),
        (
            "createdAfter=2025-01-01&createdInLast=1m",
            "Parameters createdAfter and createdInLast cannot be set simultaneously",
        ),
    ] {
        let (status, body) = get(&sim, &format!("/api/issues/search?{query}"), TOKEN).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(msg(&body), expected, "{query}");
    }
    let (status, body) = get(
        &sim,
        "/api/issues/search?componentKeys=testapplication&branch=feature",
        TOKEN,
    )
    .await;
    assert_eq!(
        (status, msg(&body)),
        (
            StatusCode::NOT_FOUND,
            "Component 'testapplication' on branch 'feature' not found"
        )
    );
    // The last page inside the window is fine.
    assert_eq!(
        get(&sim, "/api/issues/search?p=20&ps=500", TOKEN).await.0,
        StatusCode::OK
    );

    sim.set_indexing(true);
    let (status, body) = get(&sim, "/api/issues/search", TOKEN).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(msg(&body).contains("Indexing of issues is in progress"));
}

#[tokio::test]
async fn hotspot_search_needs_a_project_the_caller_may_browse() {
    let sim = seeded().await;
    let (status, body) = get(
        &sim,
        "/api/hotspots/search?project=internal.dummy.project",
        TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["paging"]["total"], 5);
    let statuses: Vec<&str> = body["hotspots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "TO_REVIEW").count(), 2);
    let (_, body) = get(
        &sim,
        "/api/hotspots/search?project=internal.dummy.project&status=REVIEWED&resolution=SAFE",
        TOKEN,
    )
    .await;
    assert_eq!(body["paging"]["total"], 1);

    let (status, body) = get(&sim, "/api/hotspots/search", TOKEN).await;
    assert_eq!(
        (status, msg(&body)),
        (
            StatusCode::BAD_REQUEST,
            "A value must be provided for either parameter 'project' or parameter 'hotspots'"
        )
    );
    let (status, body) = get(&sim, "/api/hotspots/search?project=nope", TOKEN).await;
    assert_eq!(
        (status, msg(&body)),
        (StatusCode::NOT_FOUND, "Project 'nope' not found")
    );
    let (status, body) = get(
        &sim,
        "/api/hotspots/search?project=internal.dummy.project",
        OUTSIDER_TOKEN,
    )
    .await;
    assert_eq!(
        (status, msg(&body)),
        (StatusCode::FORBIDDEN, "Insufficient privileges")
    );
    let (status, body) = get(
        &sim,
        "/api/hotspots/search?project=internal.dummy.project&resolution=SAFE",
        TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        msg(&body).contains("can only be provided if value of parameter 'status' is 'REVIEWED'")
    );
    let (status, body) = get(
        &sim,
        "/api/hotspots/search?project=internal.dummy.project&p=11&ps=1000",
        TOKEN,
    )
    .await;
    assert_eq!(
        (status, msg(&body)),
        (
            StatusCode::BAD_REQUEST,
            "Page size must be between 1 and 500 (got 1000)"
        )
    );
    let (status, body) = get(
        &sim,
        "/api/hotspots/search?project=internal.dummy.project&p=21&ps=500",
        TOKEN,
    )
    .await;
    assert_eq!(
        (status, msg(&body)),
        (
            StatusCode::BAD_REQUEST,
            "Can return only the first 10000 results. 10500th result asked."
        )
    );

    // Before 10.2 the parameter is `projectKey`.
    sim.set_version("10.1.0.73491");
    let (status, _) = get(
        &sim,
        "/api/hotspots/search?project=internal.dummy.project",
        TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(
        &sim,
        "/api/hotspots/search?projectKey=internal.dummy.project",
        TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn rules_are_shown_with_their_security_standards() {
    let sim = seeded().await;
    let (status, body) = get(&sim, "/api/rules/show?key=javasecurity:S3649", TOKEN).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["rule"]["securityStandards"]
            .as_array()
            .unwrap()
            .contains(&Value::from("cwe:89"))
    );
    let (_, body) = get(&sim, "/api/rules/show?key=typescript:S1854", TOKEN).await;
    assert_eq!(body["rule"]["name"], "Dead stores should be removed");
    let (status, body) = get(&sim, "/api/rules/show?key=java:S0000", TOKEN).await;
    assert_eq!(
        (status, msg(&body)),
        (StatusCode::NOT_FOUND, "Rule not found: java:S0000")
    );
    let (status, body) = get(&sim, "/api/rules/show", TOKEN).await;
    assert_eq!(
        (status, msg(&body)),
        (StatusCode::BAD_REQUEST, "The 'key' parameter is missing")
    );
}

#[tokio::test]
async fn a_rate_limit_answers_429_with_retry_after() {
    let sim = seeded().await;
    sim.set_rate_limit(Some(1), Duration::from_secs(20));
    assert_eq!(
        get(&sim, "/api/server/version", TOKEN).await.0,
        StatusCode::OK
    );
    let (status, headers, _) = call(&sim, "/api/issues/search", Auth::Basic(TOKEN)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait));
}

#[tokio::test]
async fn the_rust_api_changes_what_the_api_reports() {
    let sim = seeded().await;
    let project = "internal.dummy.project";
    assert_eq!(
        sim.open_findings(project),
        3 + 2,
        "open vulnerabilities and hotspots to review"
    );
    sim.fix_findings(project, 4);
    assert_eq!(sim.open_findings(project), 1);
    sim.mark_false_positive(project);
    assert_eq!(sim.open_findings(project), 0);
    let (_, body) = get(
        &sim,
        "/api/hotspots/search?project=internal.dummy.project&status=REVIEWED&resolution=SAFE",
        TOKEN,
    )
    .await;
    assert_eq!(body["paging"]["total"], 2);

    let key = sim.add_record("Payments API", 12);
    assert_eq!(key, "payments-api");
    assert_eq!(sim.open_findings(&key), 12);
    sim.add_vulnerabilities(
        &key,
        3,
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        true,
    );
    let (_, body) = get(&sim, "/api/issues/search?componentKeys=payments-api&createdAfter=2025-01-01&createdBefore=2025-01-02", TOKEN).await;
    assert_eq!(body["paging"]["total"], 3);
    sim.remove_record(&key);
    assert!(!sim.record_ids().contains(&key));
    assert!(sim.summary().contains("internal.dummy.project"));
}
