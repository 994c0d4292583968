//! The Snyk simulator over real HTTP: `Authorization: token …`, the mandatory `version`
//! resolved per endpoint, JSON:API documents and errors, cursor pagination with `links.next`,
//! organization membership, issue filters, and 429 with `Retry-After` per token.

use reqwest::StatusCode;
use serde_json::Value;
use simulators::scanners::ScannerSim;
use simulators::scanners::snyk::{OUTSIDER_TOKEN, SnykSim, TOKEN};
use std::time::Duration;

const V: &str = "version=2024-10-15";

async fn seeded() -> SnykSim {
    SnykSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn call(sim: &SnykSim, path: &str, authorization: Option<&str>) -> Answer {
    let mut req = reqwest::Client::new().get(format!("{}{path}", sim.base_url()));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

async fn get(sim: &SnykSim, path: &str) -> Answer {
    call(sim, path, Some(&format!("token {TOKEN}"))).await
}

fn detail(a: &Answer) -> &str {
    a.body["errors"][0]["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("not a JSON:API error: {}", a.body))
}

#[tokio::test]
async fn only_a_token_header_authenticates() {
    let sim = seeded().await;
    let path = format!("/rest/self?{V}");
    for auth in [
        None,
        Some(format!("Bearer {TOKEN}")),
        Some("token not-a-token".to_owned()),
        Some(TOKEN.to_owned()),
    ] {
        let a = call(&sim, &path, auth.as_deref()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(a.body["errors"][0]["status"], "401");
        assert_eq!(a.headers["content-type"], "application/vnd.api+json");
    }
    let a = get(&sim, &path).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["data"]["attributes"]["username"], "vulnbridge");
    assert_eq!(a.headers["snyk-version-requested"], "2024-10-15");
    assert_eq!(a.headers["snyk-version-served"], "2024-04-22");
}

#[tokio::test]
async fn the_version_parameter_is_mandatory_and_resolved_per_endpoint() {
    let sim = seeded().await;
    let org = sim.org_id("acme").unwrap();
    let a = get(&sim, "/rest/orgs").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&a), "missing required query parameter 'version'");
    assert_eq!(a.body["errors"][0]["source"]["parameter"], "version");
    let a = get(&sim, "/rest/orgs?version=yesterday").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = get(&sim, &format!("/rest/orgs/{org}/issues?version=2023-12-01")).await;
    assert_eq!(
        (a.status, detail(&a)),
        (StatusCode::NOT_FOUND, "no matching version"),
        "issues went GA on 2024-01-23"
    );
    let a = get(
        &sim,
        &format!("/rest/orgs/{org}/issues?version=2023-12-01~beta"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["snyk-version-served"], "2023-09-29~beta");
    let a = get(&sim, &format!("/rest/orgs/{org}/projects?{V}")).await;
    assert_eq!(a.headers["snyk-version-served"], "2024-05-31");
}

#[tokio::test]
async fn organizations_are_those_of_the_token() {
    let sim = seeded().await;
    let a = get(&sim, &format!("/rest/orgs?{V}")).await;
    let slugs: Vec<&str> = a.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["attributes"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["acme", "acme-labs"]);
    assert!(a.body["links"].get("next").is_none());
    let a = call(
        &sim,
        &format!("/rest/orgs?{V}"),
        Some(&format!("token {OUTSIDER_TOKEN}")),
    )
    .await;
    assert_eq!(a.body["data"].as_array().unwrap().len(), 0);

    let other = sim.org_id("other-corp").unwrap();
    let a = get(&sim, &format!("/rest/orgs/{other}/projects?{V}")).await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "another company's org looks missing"
    );
    let a = get(&sim, &format!("/rest/orgs/acme/projects?{V}")).await;
    assert_eq!(
        (
            a.status,
            a.body["errors"][0]["source"]["parameter"].as_str()
        ),
        (StatusCode::BAD_REQUEST, Some("org_id"))
    );
    let acme = sim.org_id("acme").unwrap();
    let a = get(&sim, &format!("/rest/orgs/{acme}?{V}")).await;
    assert_eq!(a.body["data"]["attributes"]["name"], "Acme");
}

#[tokio::test]
async fn pages_follow_links_next_with_a_cursor() {
    let sim = SnykSim::generate(1, 25).await.unwrap();
    let org = sim.org_id("acme").unwrap();
    let project = sim.record_ids()[0].clone();
    let mut path = format!(
        "/rest/orgs/{org}/issues?{V}&limit=10&scan_item.type=project&scan_item.id={project}"
    );
    let mut ids = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let a = get(&sim, &path).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        pages += 1;
        for i in a.body["data"].as_array().unwrap() {
            assert!(ids.insert(i["id"].as_str().unwrap().to_owned()));
            assert_eq!(
                i["relationships"]["scan_item"]["data"]["id"],
                project.as_str()
            );
        }
        match a.body["links"]["next"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&format!("/orgs/{org}/issues?")),
                    "relative to /rest: {next}"
                );
                assert!(next.contains("version=2024-10-15") && next.contains("starting_after=v1."));
                path = format!("/rest{next}");
            }
            None => break,
        }
    }
    assert_eq!((pages, ids.len()), (3, 25));

    for limit in ["5", "15", "110", "ten"] {
        let a = get(&sim, &format!("/rest/orgs/{org}/issues?{V}&limit={limit}")).await;
        assert_eq!(
            (
                a.status,
                a.body["errors"][0]["source"]["parameter"].as_str()
            ),
            (StatusCode::BAD_REQUEST, Some("limit")),
            "{limit}"
        );
    }
    let a = get(
        &sim,
        &format!("/rest/orgs/{org}/issues?{V}&starting_after=garbage"),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn issues_are_filtered_as_asked() {
    let sim = seeded().await;
    let org = sim.org_id("acme").unwrap();
    let pip = sim.record_ids()[0].clone();
    let base =
        format!("/rest/orgs/{org}/issues?{V}&limit=100&scan_item.type=project&scan_item.id={pip}");
    let a = get(&sim, &base).await;
    let all = a.body["data"].as_array().unwrap().clone();
    assert_eq!(
        all.len(),
        6,
        "the fixture issue, four generated, one license issue"
    );
    let fixture = all
        .iter()
        .find(|i| i["attributes"]["key"] == "SNYK-PYTHON-PILLOW-5918878")
        .unwrap();
    assert_eq!(fixture["attributes"]["ignored"], true);
    assert_eq!(fixture["attributes"]["problems"][1]["id"], "CVE-2023-4863");
    let resolved = all
        .iter()
        .find(|i| i["attributes"]["status"] == "resolved")
        .unwrap();
    assert_eq!(resolved["attributes"]["resolution"]["type"], "fixed");

    assert_eq!(
        get(&sim, &format!("{base}&status=open&ignored=false"))
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        get(&sim, &format!("{base}&type=license")).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get(&sim, &format!("{base}&updated_after=2025-06-01T00:00:00Z"))
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "the resolved, the ignored, the fixture issue"
    );

    for bad in [
        "&type=secrets",
        "&status=closed",
        "&ignored=maybe",
        "&updated_after=yesterday",
    ] {
        let a = get(&sim, &format!("{base}{bad}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}: {}", a.body);
    }
    let a = get(
        &sim,
        &format!("/rest/orgs/{org}/issues?{V}&scan_item.id={pip}"),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "scan_item.id needs scan_item.type"
    );
    let a = get(
        &sim,
        &format!("/rest/orgs/{org}/issues?{V}&scan_item.id={pip}&scan_item.type=repository"),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_rate_limit_is_per_token_with_retry_after() {
    let sim = seeded().await;
    sim.set_rate_limit(Some(2), Duration::from_secs(45));
    assert_eq!(
        get(&sim, &format!("/rest/self?{V}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&sim, &format!("/rest/self?{V}")).await.status,
        StatusCode::OK
    );
    let a = get(&sim, &format!("/rest/self?{V}")).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.body["errors"][0]["status"], "429");
    let wait: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=45).contains(&wait));
    let other = call(
        &sim,
        &format!("/rest/self?{V}"),
        Some(&format!("token {OUTSIDER_TOKEN}")),
    )
    .await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another token has its own budget"
    );
}

#[tokio::test]
async fn the_rust_api_changes_what_the_api_reports() {
    let sim = seeded().await;
    let pip = sim.record_ids()[0].clone();
    assert_eq!(
        sim.open_findings(&pip),
        2,
        "the ignored, resolved and license issues are not open findings"
    );
    sim.fix_findings(&pip, 1);
    sim.mark_false_positive(&pip);
    assert_eq!(sim.open_findings(&pip), 0);
    let id = sim.add_record("acme/new:package.json", 4);
    assert_eq!(sim.open_findings(&id), 4);
    sim.add_issues(&id, 2);
    assert_eq!(sim.open_findings(&id), 6);
    sim.remove_record(&id);
    assert!(!sim.record_ids().contains(&id));
    assert!(sim.summary().contains("acme/web"));
}
