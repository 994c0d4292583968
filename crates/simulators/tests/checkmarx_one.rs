//! The Checkmarx ONE simulator over real HTTP: IAM refuses what Keycloak refuses with OAuth
//! error bodies and hands out access tokens that expire; the API refuses missing, unknown and
//! expired tokens, bad parameters, out-of-range limits and unknown sort keys, pages results by
//! page number, and throttles beyond its budget with `429` and `Retry-After`.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use simulators::scanners::ScannerSim;
use simulators::scanners::checkmarx_one::{CheckmarxSim, Limits, TENANT};
use std::time::Duration;

async fn seeded() -> CheckmarxSim {
    CheckmarxSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

async fn token_call(sim: &CheckmarxSim, tenant: &str, form: &[(&str, &str)]) -> Answer {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/auth/realms/{tenant}/protocol/openid-connect/token",
            sim.base_url()
        ))
        .form(form)
        .send()
        .await
        .unwrap();
    Answer {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn token(sim: &CheckmarxSim) -> String {
    let key = sim.api_key();
    let a = token_call(
        sim,
        TENANT,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "ast-app"),
            ("refresh_token", &key),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.json()["access_token"].as_str().unwrap().to_owned()
}

async fn get(sim: &CheckmarxSim, token: Option<&str>, path_and_query: &str) -> Answer {
    let mut req = reqwest::Client::new().get(format!("{}{path_and_query}", sim.base_url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    Answer {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

#[tokio::test]
async fn iam_refuses_what_keycloak_refuses() {
    let sim = seeded().await;
    let key = sim.api_key();
    let good = [
        ("grant_type", "refresh_token"),
        ("client_id", "ast-app"),
        ("refresh_token", key.as_str()),
    ];
    let a = token_call(&sim, "other-tenant", &good).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json()["error"], "Realm does not exist");
    let a = token_call(
        &sim,
        TENANT,
        &[("client_id", "ast-app"), ("refresh_token", &key)],
    )
    .await;
    assert_eq!(
        (a.status, a.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let a = token_call(
        &sim,
        TENANT,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "other"),
            ("refresh_token", &key),
        ],
    )
    .await;
    assert_eq!(
        (a.status, a.json()["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let a = token_call(
        &sim,
        TENANT,
        &[("grant_type", "password"), ("client_id", "ast-app")],
    )
    .await;
    assert_eq!(
        (a.status, a.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
    let a = token_call(
        &sim,
        TENANT,
        &[("grant_type", "refresh_token"), ("client_id", "ast-app")],
    )
    .await;
    assert_eq!(
        a.json()["error_description"],
        "Missing parameter: refresh_token"
    );
    let a = token_call(
        &sim,
        TENANT,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "ast-app"),
            ("refresh_token", "forged"),
        ],
    )
    .await;
    assert_eq!(
        (a.status, a.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    // Keycloak reads forms only.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/auth/realms/{TENANT}/protocol/openid-connect/token",
            sim.base_url()
        ))
        .json(
            &json!({ "grant_type": "refresh_token", "client_id": "ast-app", "refresh_token": key }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let a = token_call(&sim, TENANT, &good).await;
    assert_eq!(a.status, StatusCode::OK);
    let t = a.json();
    assert_eq!(
        (t["expires_in"].as_u64(), t["token_type"].as_str()),
        (Some(1800), Some("Bearer"))
    );
    assert!(
        a.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // The key names its realm and client, as Checkmarx's keys do.
    let payload = key.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["aud"],
        format!("{}/auth/realms/{TENANT}", sim.base_url())
    );
    assert_eq!(claims["azp"], "ast-app");

    sim.revoke_api_keys();
    assert_eq!(
        token_call(&sim, TENANT, &good).await.json()["error"],
        "invalid_grant"
    );
    let other = sim.add_api_key();
    let fresh = [
        ("grant_type", "refresh_token"),
        ("client_id", "ast-app"),
        ("refresh_token", other.as_str()),
    ];
    assert_eq!(
        token_call(&sim, TENANT, &fresh).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_api_needs_a_live_access_token() {
    let sim = seeded().await;
    let none = get(&sim, None, "/api/projects").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers.get("www-authenticate").unwrap(), "Bearer");
    assert!(none.text.is_empty());
    assert_eq!(
        get(&sim, Some("not-a-token"), "/api/projects").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&sim, Some(&sim.api_key()), "/api/projects")
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the key itself is no access token"
    );

    sim.set_limits(Limits {
        token_lifetime_seconds: 1,
        ..sim.limits()
    });
    let short = token(&sim).await;
    assert_eq!(
        get(&sim, Some(&short), "/api/projects").await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        get(&sim, Some(&short), "/api/projects").await.status,
        StatusCode::UNAUTHORIZED
    );
    let t = token(&sim).await;
    sim.expire_access_tokens();
    assert_eq!(
        get(&sim, Some(&t), "/api/projects").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn projects_page_by_offset_and_limit() {
    let sim = seeded().await;
    let t = token(&sim).await;
    let all = get(&sim, Some(&t), "/api/projects").await.json();
    assert_eq!(
        (
            all["totalCount"].as_u64(),
            all["filteredTotalCount"].as_u64()
        ),
        (Some(3), Some(3))
    );
    let names: Vec<&str> = all["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["robot-automation", "webgoat", "payments-api"]);
    let page = get(&sim, Some(&t), "/api/projects?offset=1&limit=1")
        .await
        .json();
    assert_eq!(page["projects"][0]["name"], "webgoat");
    assert_eq!(page["projects"].as_array().unwrap().len(), 1);
    assert_eq!(page["filteredTotalCount"], 3);
    let bad = get(&sim, Some(&t), "/api/projects?offset=-1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["message"].as_str().unwrap().contains("offset"));
    let named = get(&sim, Some(&t), "/api/projects?name=goat").await.json();
    assert_eq!(named["filteredTotalCount"], 1);
}

#[tokio::test]
async fn scans_filter_sort_and_refuse_unknown_values() {
    let sim = seeded().await;
    let t = token(&sim).await;
    let robot = sim.project_id("robot-automation").unwrap();
    let all = get(&sim, Some(&t), &format!("/api/scans?project-id={robot}"))
        .await
        .json();
    let statuses: Vec<&str> = all["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["Completed", "Completed", "Running"],
        "oldest first by default"
    );
    let latest = get(
        &sim,
        Some(&t),
        &format!("/api/scans?project-id={robot}&statuses=Completed&sort=-created_at&limit=1"),
    )
    .await
    .json();
    assert_eq!(
        latest["scans"][0]["id"].as_str(),
        sim.latest_scan_id(&robot).as_deref()
    );
    assert_eq!(latest["scans"][0]["projectId"], robot.as_str());
    assert_eq!(latest["filteredTotalCount"], 2);
    assert_eq!(latest["totalCount"], 5);
    let lower = get(
        &sim,
        Some(&t),
        &format!("/api/scans?project-id={robot}&statuses=completed"),
    )
    .await
    .json();
    assert_eq!(
        lower["filteredTotalCount"], 2,
        "statuses are case-insensitive"
    );
    let bad = get(&sim, Some(&t), "/api/scans?statuses=Done").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["message"].as_str().unwrap().contains("statuses"));
    assert_eq!(
        get(&sim, Some(&t), "/api/scans?sort=-end_time")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&sim, Some(&t), "/api/scans?from-date=yesterday")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let none = get(
        &sim,
        Some(&t),
        &format!(
            "/api/scans?project-id={}",
            sim.project_id("payments-api").unwrap()
        ),
    )
    .await
    .json();
    assert_eq!(none["scans"], json!([]));
}

#[tokio::test]
async fn results_page_by_page_number_with_states_and_statuses() {
    let sim = seeded().await;
    let t = token(&sim).await;
    let robot = sim.project_id("robot-automation").unwrap();
    let scan = sim.latest_scan_id(&robot).unwrap();
    let all = get(
        &sim,
        Some(&t),
        &format!("/api/results?scan-id={scan}&limit=100"),
    )
    .await
    .json();
    assert_eq!(all["totalCount"], 8);
    let results = all["results"].as_array().unwrap();
    assert!(
        results.iter().all(|r| r["status"] == "RECURRENT"),
        "the older scan found them all"
    );
    let states: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains("CONFIRMED")
            && states.contains("PROPOSED_NOT_EXPLOITABLE")
            && states.contains("TO_VERIFY"),
        "{states:?}"
    );
    let by_severity = get(
        &sim,
        Some(&t),
        &format!("/api/results?scan-id={scan}&limit=100&sort=-severity"),
    )
    .await
    .json();
    assert_eq!(by_severity["results"][0]["severity"], "MEDIUM");
    let page0 = get(
        &sim,
        Some(&t),
        &format!("/api/results?scan-id={scan}&limit=3&offset=0&sort=-severity"),
    )
    .await
    .json();
    let page1 = get(
        &sim,
        Some(&t),
        &format!("/api/results?scan-id={scan}&limit=3&offset=1&sort=-severity"),
    )
    .await
    .json();
    let page2 = get(
        &sim,
        Some(&t),
        &format!("/api/results?scan-id={scan}&limit=3&offset=2&sort=-severity"),
    )
    .await
    .json();
    let ids: Vec<&str> = [&page0, &page1, &page2]
        .iter()
        .flat_map(|p| {
            p["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap())
        })
        .collect();
    let expected: Vec<&str> = by_severity["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, expected, "offset counts pages of `limit` results");
    let low = get(
        &sim,
        Some(&t),
        &format!("/api/results?scan-id={scan}&limit=100&severity=LOW"),
    )
    .await
    .json();
    assert_eq!(low["totalCount"], 3);

    let missing = get(&sim, Some(&t), "/api/results?limit=10").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.json()["message"]
            .as_str()
            .unwrap()
            .contains("scan-id")
    );
    for limit in ["0", "10001", "many"] {
        let a = get(
            &sim,
            Some(&t),
            &format!("/api/results?scan-id={scan}&limit={limit}"),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "limit={limit}");
    }
    assert_eq!(
        get(
            &sim,
            Some(&t),
            &format!("/api/results?scan-id={scan}&sort=-name")
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(
            &sim,
            Some(&t),
            "/api/results?scan-id=00000000-0000-4000-8000-000000000000"
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let default = get(&sim, Some(&t), &format!("/api/results?scan-id={scan}"))
        .await
        .json();
    assert_eq!(
        default["results"].as_array().unwrap().len(),
        8,
        "the default limit is 20"
    );

    let webgoat = sim.project_id("webgoat").unwrap();
    let w = get(
        &sim,
        Some(&t),
        &format!(
            "/api/results?scan-id={}&limit=100",
            sim.latest_scan_id(&webgoat).unwrap()
        ),
    )
    .await
    .json();
    let states: Vec<&str> = w["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"NOT_EXPLOITABLE") && states.contains(&"URGENT"),
        "{states:?}"
    );
    assert!(
        w["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "NEW")
    );
}

#[tokio::test]
async fn requests_beyond_the_budget_are_throttled() {
    let sim = seeded().await;
    let t = token(&sim).await;
    sim.set_limits(Limits {
        requests_per_minute: 2,
        window_scale: 1.0,
        ..sim.limits()
    });
    assert_eq!(
        get(&sim, Some(&t), "/api/projects").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&sim, Some(&t), "/api/projects").await.status,
        StatusCode::OK
    );
    let refused = get(&sim, Some(&t), "/api/projects").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let c = reqwest::Client::new();
    let limits: Value = c
        .get(format!("{}/_sim/limits", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(limits["requests_per_minute"], 2);
    c.post(format!("{}/_sim/limits", sim.base_url()))
        .json(&json!({ "requests_per_minute": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(&sim, Some(&t), "/api/projects").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_rust_and_control_apis_change_what_checkmarx_reports() {
    let sim = CheckmarxSim::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert!(sim.record_ids().is_empty());
    assert_eq!(sim.options()["tenant"], TENANT);
    let id = sim.add_record("Shop", 10);
    assert_eq!(sim.open_findings(&id), 10);
    sim.fix_findings(&id, 4);
    sim.mark_false_positive(&id);
    assert_eq!(sim.open_findings(&id), 5);
    let t = token(&sim).await;
    let scan = sim.latest_scan_id(&id).unwrap();
    let r = get(
        &sim,
        Some(&t),
        &format!("/api/results?scan-id={scan}&limit=100"),
    )
    .await
    .json();
    assert_eq!(r["totalCount"], 6);
    assert_eq!(
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["state"] == "NOT_EXPLOITABLE")
            .count(),
        1
    );
    assert!(
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["type"] == "sca")
    );

    let c = reqwest::Client::new();
    let base = sim.base_url();
    let made: Value = c
        .post(format!("{base}/_sim/projects"))
        .json(&json!({ "name": "api", "findings": 3 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = made["id"].as_str().unwrap().to_owned();
    assert_eq!(
        c.post(format!("{base}/_sim/projects/{other}/rescan"))
            .json(&json!({ "fixed": 1 }))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        c.post(format!("{base}/_sim/projects/{other}/not_exploitable"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(sim.open_findings(&other), 1);
    assert_eq!(
        c.delete(format!("{base}/_sim/projects/{other}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    sim.remove_record(&id);
    assert!(sim.record_ids().is_empty());
    let counts: Value = c
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["counts"]["GET /api/results"], 1);
    assert!(sim.summary().contains("0 projects"));
}

#[tokio::test]
async fn generated_tenants_are_large() {
    let sim = CheckmarxSim::generate("127.0.0.1:0".parse().unwrap(), 2, 25_000)
        .await
        .unwrap();
    let t = token(&sim).await;
    let id = &sim.record_ids()[1];
    let scan = sim.latest_scan_id(id).unwrap();
    let last = get(
        &sim,
        Some(&t),
        &format!("/api/results?scan-id={scan}&limit=10000&offset=2"),
    )
    .await
    .json();
    assert_eq!(last["results"].as_array().unwrap().len(), 5000);
    assert_eq!(last["totalCount"], 25_000);
}
