//! The Probely simulator over real HTTP: it refuses missing and unknown keys with DRF's
//! `detail` messages, pages with `page`/`length` (`404 Invalid page.` past the end), orders
//! and filters findings, redirects paths without their trailing slash, throttles with `429`
//! and `Retry-After`, and its Rust and control APIs change what it reports.

use reqwest::StatusCode;
use serde_json::{Value, json};
use simulators::scanners::ScannerSim;
use simulators::scanners::probely::{API_KEY, Limits, ProbelySim};

async fn seeded() -> ProbelySim {
    ProbelySim::start_seeded("127.0.0.1:0".parse().unwrap())
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

async fn get_as(sim: &ProbelySim, auth: Option<&str>, path: &str) -> Answer {
    let mut req = reqwest::Client::new().get(format!("{}{path}", sim.base_url()));
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let r = req.send().await.unwrap();
    Answer {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn get(sim: &ProbelySim, path: &str) -> Answer {
    get_as(sim, Some(&format!("JWT {API_KEY}")), path).await
}

#[tokio::test]
async fn the_api_key_goes_in_a_jwt_authorization_header() {
    let sim = seeded().await;
    let none = get_as(&sim, None, "/targets/").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.json()["detail"],
        "Authentication credentials were not provided."
    );
    assert_eq!(
        none.headers.get("www-authenticate").unwrap(),
        "JWT realm=\"api\""
    );
    let bearer = get_as(&sim, Some(&format!("Bearer {API_KEY}")), "/targets/").await;
    assert_eq!(
        bearer.json()["detail"],
        "Authentication credentials were not provided."
    );
    let wrong = get_as(&sim, Some("JWT nope"), "/targets/").await;
    assert_eq!(
        (wrong.status, wrong.json()["detail"].as_str()),
        (
            StatusCode::UNAUTHORIZED,
            Some("Incorrect authentication credentials.")
        )
    );
    sim.add_api_key("second-key");
    assert_eq!(
        get_as(&sim, Some("JWT second-key"), "/targets/")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn targets_page_with_page_and_length() {
    let sim = seeded().await;
    for n in 0..21 {
        sim.add_record(&format!("app {n}"), 0);
    }
    let first = get(&sim, "/targets/").await.json();
    assert_eq!(
        (
            first["count"].as_u64(),
            first["page_total"].as_u64(),
            first["length"].as_u64()
        ),
        (Some(23), Some(3), Some(10))
    );
    assert_eq!(first["results"][0]["id"], "3r5Sjyg7enXp");
    assert_eq!(
        first["results"][0]["site"]["url"],
        "https://shop.example.com"
    );
    let last = get(&sim, "/targets/?page=3").await.json();
    assert_eq!(last["results"].as_array().unwrap().len(), 3);
    let big = get(&sim, "/targets/?length=500").await.json();
    assert_eq!(
        (big["length"].as_u64(), big["page_total"].as_u64()),
        (Some(100), Some(1))
    );
    for page in ["4", "0", "two"] {
        let a = get(&sim, &format!("/targets/?page={page}")).await;
        assert_eq!(
            (a.status, a.json()["detail"].as_str()),
            (StatusCode::NOT_FOUND, Some("Invalid page.")),
            "page={page}"
        );
    }
    let by_name = get(&sim, "/targets/?ordering=-name&length=100")
        .await
        .json();
    assert_eq!(by_name["results"][0]["site"]["name"], "app 9");
    let ignored = get(&sim, "/targets/?ordering=colour").await;
    assert_eq!(
        ignored.status,
        StatusCode::OK,
        "unknown ordering fields are ignored"
    );
}

#[tokio::test]
async fn findings_are_listed_ordered_and_filtered() {
    let sim = seeded().await;
    let shop = sim.target_id("Acme shop").unwrap();
    let all = get(&sim, &format!("/targets/{shop}/findings/?length=100"))
        .await
        .json();
    assert_eq!(all["count"], 5);
    let states: Vec<&str> = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["state"].as_str().unwrap())
        .collect();
    for s in ["notfixed", "fixed", "accepted", "invalid"] {
        assert!(states.contains(&s), "{states:?}");
    }
    assert!(
        all["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["target"]["id"] == shop.as_str())
    );
    let by_changed = get(
        &sim,
        &format!("/targets/{shop}/findings/?ordering=-changed"),
    )
    .await
    .json();
    let changed: Vec<&str> = by_changed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["changed"].as_str().unwrap())
        .collect();
    let mut sorted = changed.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(changed, sorted);
    let open = get(&sim, &format!("/targets/{shop}/findings/?state=notfixed"))
        .await
        .json();
    assert_eq!(open["count"], 2);
    let high = get(&sim, &format!("/targets/{shop}/findings/?severity=30"))
        .await
        .json();
    assert!(
        high["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == 30)
    );
    assert_eq!(
        get(&sim, "/targets/nope/findings/").await.json()["detail"],
        "Not found."
    );
    assert_eq!(
        get(&sim, &format!("/targets/{shop}/findings/?page=2"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn paths_without_their_slash_are_redirected() {
    let sim = seeded().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/targets?page=1", sim.base_url()))
        .header("Authorization", format!("JWT {API_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.headers().get("location").unwrap(), "/targets/?page=1");
    let r = client
        .post(format!("{}/targets/", sim.base_url()))
        .header("Authorization", format!("JWT {API_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn requests_beyond_the_budget_are_throttled() {
    let sim = seeded().await;
    sim.set_limits(Limits {
        requests_per_minute: 1,
        window_scale: 1.0,
    });
    assert_eq!(get(&sim, "/targets/").await.status, StatusCode::OK);
    let refused = get(&sim, "/targets/").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = refused
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("Expected available in {wait} seconds"))
    );
    sim.set_limits(Limits {
        requests_per_minute: 0,
        window_scale: 1.0,
    });
    assert_eq!(get(&sim, "/targets/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_rust_and_control_apis_change_what_probely_reports() {
    let sim = ProbelySim::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let id = sim.add_record("Shop", 7);
    assert_eq!(sim.open_findings(&id), 7);
    let before = get(
        &sim,
        &format!("/targets/{id}/findings/?ordering=-changed&length=100"),
    )
    .await
    .json();
    let newest_before = before["results"][0]["changed"].as_str().unwrap().to_owned();
    sim.fix_findings(&id, 2);
    sim.mark_false_positive(&id);
    assert_eq!(sim.open_findings(&id), 4);
    let after = get(
        &sim,
        &format!("/targets/{id}/findings/?ordering=-changed&length=100"),
    )
    .await
    .json();
    let top: Vec<&str> = after["results"].as_array().unwrap()[..3]
        .iter()
        .map(|f| f["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        top.iter().filter(|s| **s == "fixed").count()
            + top.iter().filter(|s| **s == "invalid").count(),
        3
    );
    assert!(after["results"][0]["changed"].as_str().unwrap() > newest_before.as_str());
    let generated = &after["results"][6];
    assert!(
        generated["url"]
            .as_str()
            .unwrap()
            .starts_with("https://shop.example.com/")
    );
    assert!(generated["definition"]["name"].is_string());

    let c = reqwest::Client::new();
    let base = sim.base_url();
    let made: Value = c
        .post(format!("{base}/_sim/targets"))
        .json(&json!({ "name": "api", "findings": 3 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = made["id"].as_str().unwrap().to_owned();
    let set = c
        .post(format!("{base}/_sim/targets/{other}/state"))
        .json(&json!({ "state": "accepted", "count": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::NO_CONTENT);
    assert_eq!(sim.open_findings(&other), 1);
    let bad = c
        .post(format!("{base}/_sim/targets/{other}/state"))
        .json(&json!({ "state": "gone" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        c.delete(format!("{base}/_sim/targets/{other}"))
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
    assert_eq!(counts["counts"]["GET /targets/{id}/findings/"], 2);
    assert!(sim.summary().contains("0 targets"));
}

#[tokio::test]
async fn generated_accounts_are_large() {
    let sim = ProbelySim::generate("127.0.0.1:0".parse().unwrap(), 2, 1050)
        .await
        .unwrap();
    let id = &sim.record_ids()[1];
    let last = get(&sim, &format!("/targets/{id}/findings/?length=100&page=11"))
        .await
        .json();
    assert_eq!(
        (last["count"].as_u64(), last["page_total"].as_u64()),
        (Some(1050), Some(11))
    );
    assert_eq!(last["results"].as_array().unwrap().len(), 50);
}
