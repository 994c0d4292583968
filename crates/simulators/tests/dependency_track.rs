//! The Dependency-Track simulator over real HTTP: `X-Api-Key` and team permissions, Alpine's
//! pagination and `X-Total-Count`, findings with and without suppressed ones, validation and
//! not-found answers, the control API and the Records' life.

use reqwest::StatusCode;
use serde_json::{Value, json};
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::dependency_track::{API_KEY, DependencyTrackSim, PORTFOLIO_ONLY_API_KEY};

async fn seeded() -> DependencyTrackSim {
    DependencyTrackSim::start_seeded("127.0.0.1:0".parse().unwrap())
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
    fn total(&self) -> Option<u64> {
        self.headers
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }
}

async fn get_as(sim: &DependencyTrackSim, path: &str, key: Option<&str>) -> Answer {
    let mut req = reqwest::Client::new().get(format!("{}{path}", sim.base_url()));
    if let Some(k) = key {
        req = req.header("X-Api-Key", k);
    }
    let r = req.send().await.unwrap();
    Answer {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn get(sim: &DependencyTrackSim, path: &str) -> Answer {
    get_as(sim, path, Some(API_KEY)).await
}

const PHP: &str = "ca4f2da9-0fad-4a13-92d7-f627f3168a57";

#[tokio::test]
async fn keys_and_permissions() {
    let sim = seeded().await;
    let v = get_as(&sim, "/api/version", None).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["application"], "Dependency-Track");
    let a = get_as(&sim, "/api/v1/project", None).await;
    assert_eq!((a.status.as_u16(), a.text.as_str()), (401, ""));
    assert_eq!(
        get_as(&sim, "/api/v1/project", Some("odt_wrong"))
            .await
            .status,
        401
    );
    let team = get(&sim, "/api/v1/team/self").await.json();
    assert_eq!(team["name"], "Automation");
    let names: Vec<&str> = team["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"VIEW_VULNERABILITY"));
    assert_eq!(
        get_as(&sim, "/api/v1/project", Some(PORTFOLIO_ONLY_API_KEY))
            .await
            .status,
        200
    );
    let a = get_as(
        &sim,
        &format!("/api/v1/finding/project/{PHP}"),
        Some(PORTFOLIO_ONLY_API_KEY),
    )
    .await;
    assert_eq!((a.status.as_u16(), a.text.as_str()), (403, ""));
}

#[tokio::test]
async fn projects_page_as_alpine_pages() {
    let sim = seeded().await;
    let all = get(&sim, "/api/v1/project").await;
    assert_eq!(all.total(), Some(5));
    assert_eq!(all.json().as_array().unwrap().len(), 5);
    let active = get(&sim, "/api/v1/project?excludeInactive=true").await;
    assert_eq!(active.total(), Some(4), "the inactive project is left out");
    let p2 = get(
        &sim,
        "/api/v1/project?excludeInactive=true&pageNumber=2&pageSize=3",
    )
    .await;
    assert_eq!(p2.json().as_array().unwrap().len(), 1);
    assert_eq!(p2.total(), Some(4));
    let off = get(
        &sim,
        "/api/v1/project?offset=1&limit=2&excludeInactive=true",
    )
    .await;
    assert_eq!(off.json().as_array().unwrap().len(), 2);
    assert_eq!(
        off.json()[0],
        get(&sim, "/api/v1/project?excludeInactive=true")
            .await
            .json()[1]
    );
    // Alpine ignores pageNumber without pageSize and reads unreadable numbers as defaults.
    assert_eq!(
        get(&sim, "/api/v1/project?pageNumber=2")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        get(&sim, "/api/v1/project?pageNumber=x&pageSize=y")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let desc = get(&sim, "/api/v1/project?sortName=name&sortOrder=desc")
        .await
        .json();
    assert!(desc[0]["name"].as_str() >= desc[1]["name"].as_str());
    let p = &get(&sim, "/api/v1/project?name=test-app").await.json()[0];
    for key in [
        "uuid",
        "name",
        "version",
        "classifier",
        "active",
        "tags",
        "lastBomImport",
    ] {
        assert!(p.get(key).is_some(), "{key}: {p}");
    }
}

#[tokio::test]
async fn findings_with_and_without_suppressed_ones() {
    let sim = seeded().await;
    let visible = get(&sim, &format!("/api/v1/finding/project/{PHP}")).await;
    let all = get(
        &sim,
        &format!("/api/v1/finding/project/{PHP}?suppressed=true"),
    )
    .await;
    assert_eq!(all.total(), Some(13));
    assert_eq!(visible.total(), Some(11), "two are suppressed");
    assert_eq!(visible.json().as_array().unwrap().len(), 11);
    let f = &all.json()[0];
    for key in [
        "component",
        "vulnerability",
        "analysis",
        "attribution",
        "matrix",
    ] {
        assert!(f.get(key).is_some(), "{key}: {f}");
    }
    assert!(
        f["attribution"]["attributedOn"].is_i64(),
        "epoch milliseconds, as the API writes dates"
    );
    let list = all.json();
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["analysis"]["state"].as_str())
        .collect();
    for s in ["NOT_AFFECTED", "EXPLOITABLE", "RESOLVED"] {
        assert!(states.contains(&s), "{states:?}");
    }
    let github = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["vulnerability"]["source"] == "GITHUB")
        .count() as u64;
    assert!(github > 0 && github < 13);
    assert_eq!(
        get(
            &sim,
            &format!("/api/v1/finding/project/{PHP}?source=GITHUB&suppressed=true")
        )
        .await
        .total(),
        Some(github)
    );
    assert_eq!(
        get(&sim, &format!("/api/v1/finding/project/{PHP}?source=SNYK"))
            .await
            .total(),
        Some(0)
    );
    assert_eq!(
        get(&sim, &format!("/api/v1/finding/project/{PHP}?source=MARS"))
            .await
            .status,
        404
    );

    let bad = get(&sim, "/api/v1/finding/project/not-a-uuid").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()[0]["message"], "Invalid UUID");
    let gone = get(
        &sim,
        "/api/v1/finding/project/3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    )
    .await;
    assert_eq!(
        (gone.status.as_u16(), gone.text.as_str()),
        (404, "The project could not be found.")
    );
}

#[tokio::test]
async fn records_live_and_die_as_the_tool_reports_them() {
    let sim = seeded().await;
    assert_eq!(sim.record_ids().len(), 4);
    assert_eq!(
        sim.open_findings(PHP),
        13 - 3,
        "not affected, suppressed and resolved are not open; exploitable is"
    );
    let id = sim.add_record("storefront", 10);
    assert!(sim.record_ids().contains(&id));
    assert_eq!(sim.open_findings(&id), 10);
    sim.fix_findings(&id, 3);
    assert_eq!(sim.open_findings(&id), 7);
    assert_eq!(
        get(&sim, &format!("/api/v1/finding/project/{id}"))
            .await
            .total(),
        Some(7),
        "fixed findings disappear"
    );
    sim.mark_false_positive(&id);
    assert_eq!(sim.open_findings(&id), 6);
    assert_eq!(
        get(&sim, &format!("/api/v1/finding/project/{id}"))
            .await
            .total(),
        Some(6),
        "suppressed"
    );
    assert_eq!(
        get(
            &sim,
            &format!("/api/v1/finding/project/{id}?suppressed=true")
        )
        .await
        .total(),
        Some(7)
    );
    sim.analyse_first(&id, "IN_TRIAGE", false);
    assert_eq!(sim.open_findings(&id), 6, "in triage is open");
    sim.deactivate(&id);
    assert!(!sim.record_ids().contains(&id));
    sim.remove_record(PHP);
    assert!(!sim.record_ids().contains(&PHP.to_owned()));
    assert_eq!(
        get(&sim, &format!("/api/v1/finding/project/{PHP}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn the_control_api_faults_and_cut_off_answers() {
    let sim = seeded().await;
    let http = reqwest::Client::new();
    let base = sim.base_url();
    let state: Value = http
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["projects"].as_array().unwrap().len(), 5);
    http.post(format!("{base}/_sim/faults"))
        .json(&Fault {
            path_contains: Some("/api/v1/project".into()),
            status: 502,
            times: 1,
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(get(&sim, "/api/v1/project").await.status, 502);
    http.post(format!("{base}/_sim/cut"))
        .json(&json!({ "path_contains": "/finding/" }))
        .send()
        .await
        .unwrap();
    let r = http
        .get(format!("{base}/api/v1/finding/project/{PHP}"))
        .header("X-Api-Key", API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.is_err(), "cut off");
    let added: Value = http
        .post(format!("{base}/_sim/records"))
        .json(&json!({ "name": "x", "findings": 4 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = added["external_id"].as_str().unwrap().to_owned();
    http.post(format!("{base}/_sim/records/{id}/analysis"))
        .json(&json!({ "state": "RESOLVED" }))
        .send()
        .await
        .unwrap();
    http.post(format!("{base}/_sim/records/{id}/fix"))
        .json(&json!({ "n": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(sim.open_findings(&id), 2);
    let counts: Value = http
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        counts["counts"]["GET /api/v1/finding/project/{uuid}"]
            .as_u64()
            .unwrap()
            >= 1,
        "{counts}"
    );
    assert!(sim.summary().contains(API_KEY));
}

#[tokio::test]
async fn generated_worlds() {
    let sim = DependencyTrackSim::generate(3, 500).await.unwrap();
    let id = sim.record_ids()[2].clone();
    let a = get(&sim, &format!("/api/v1/finding/project/{id}")).await;
    assert_eq!(a.total(), Some(500));
    let matrices: std::collections::HashSet<String> = a
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["matrix"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(matrices.len(), 500);
}
