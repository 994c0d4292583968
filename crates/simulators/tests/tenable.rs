//! The Tenable Vulnerability Management simulator over real HTTP: `X-ApiKeys` and roles,
//! scans and their history, the vulnerability export's rules (filters, chunking by asset,
//! progress, duplicates, concurrency), rate limiting with `retry-after`, the control API and
//! the Records' life.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::tenable::{
    ACCESS_KEY, BASIC_ACCESS_KEY, BASIC_SECRET_KEY, Pace, SECRET_KEY, TenableSim,
};
use std::time::Duration;

async fn seeded() -> TenableSim {
    TenableSim::start_seeded("127.0.0.1:0".parse().unwrap())
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

const ADMIN: Option<(&str, &str)> = Some((ACCESS_KEY, SECRET_KEY));
const BASIC: Option<(&str, &str)> = Some((BASIC_ACCESS_KEY, BASIC_SECRET_KEY));

async fn call(
    sim: &TenableSim,
    method: Method,
    path: &str,
    keys: Option<(&str, &str)>,
    body: Option<Value>,
) -> Answer {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", sim.base_url()));
    if let Some((a, s)) = keys {
        req = req.header("X-ApiKeys", format!("accessKey={a};secretKey={s}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    Answer {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn get(sim: &TenableSim, path: &str) -> Answer {
    call(sim, Method::GET, path, ADMIN, None).await
}

async fn export(sim: &TenableSim, body: Value) -> Answer {
    call(sim, Method::POST, "/vulns/export", ADMIN, Some(body)).await
}

/// Polls an export to the end and downloads every chunk.
async fn drain(sim: &TenableSim, uuid: &str) -> (Value, Vec<Vec<Value>>) {
    let mut chunks = Vec::new();
    for _ in 0..20 {
        let st = get(sim, &format!("/vulns/export/{uuid}/status"))
            .await
            .json();
        if st["status"] == "FINISHED" {
            for c in st["chunks_available"].as_array().unwrap() {
                let a = get(sim, &format!("/vulns/export/{uuid}/chunks/{c}")).await;
                assert_eq!(a.status, 200, "{}", a.text);
                chunks.push(serde_json::from_str::<Vec<Value>>(&a.text).unwrap());
            }
            return (st, chunks);
        }
    }
    panic!("the export never finished");
}

#[tokio::test]
async fn api_keys_and_roles_are_checked() {
    let sim = seeded().await;
    let a = call(&sim, Method::GET, "/scans", None, None).await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.json(),
        json!({ "statusCode": 401, "error": "Unauthorized", "message": "Invalid credentials." })
    );
    let a = call(
        &sim,
        Method::GET,
        "/scans",
        Some((ACCESS_KEY, "wrong")),
        None,
    )
    .await;
    assert_eq!(a.status, 401);
    let a = reqwest::Client::new()
        .get(format!("{}/scans", sim.base_url()))
        .header("X-ApiKeys", "token=abc")
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 401);

    assert_eq!(
        call(&sim, Method::GET, "/scans", BASIC, None).await.status,
        200
    );
    let scan = sim.record_ids()[0].clone();
    let a = call(
        &sim,
        Method::GET,
        &format!("/scans/{scan}/history"),
        BASIC,
        None,
    )
    .await;
    assert_eq!(a.status, 403, "history needs Scan Operator [24]");
    assert_eq!(a.json()["error"], "Forbidden");
    assert_eq!(
        call(&sim, Method::POST, "/vulns/export", BASIC, Some(json!({})))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn scans_and_their_history() {
    let sim = seeded().await;
    let a = get(&sim, "/scans").await.json();
    let scans = a["scans"].as_array().unwrap();
    assert_eq!(scans.len(), 2);
    assert_eq!(scans[0]["name"], "Azure Linux hosts");
    assert_eq!(scans[0]["status"], "completed");
    assert!(
        a["folders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["type"] == "trash")
    );
    assert!(a["timestamp"].as_i64().is_some());
    let schedule = scans[0]["schedule_uuid"].as_str().unwrap().to_owned();
    let id = scans[0]["id"].as_i64().unwrap();
    assert_eq!(sim.record_ids()[0], schedule);

    sim.fix_findings(&schedule, 1);
    let by_uuid = get(
        &sim,
        &format!("/scans/{schedule}/history?exclude_rollover=true"),
    )
    .await
    .json();
    let by_id = get(&sim, &format!("/scans/{id}/history")).await.json();
    assert_eq!(by_uuid["history"], by_id["history"]);
    assert_eq!(by_uuid["pagination"]["total"], 2);
    let runs = by_uuid["history"].as_array().unwrap();
    assert!(
        runs[0]["time_start"].as_i64() > runs[1]["time_start"].as_i64(),
        "newest first"
    );
    assert_eq!(
        runs[0]["scan_uuid"].as_str(),
        sim.latest_run(&schedule).as_deref()
    );
    let page = get(
        &sim,
        &format!("/scans/{schedule}/history?limit=1&offset=1&sort=start_date:asc"),
    )
    .await
    .json();
    assert_eq!(page["history"].as_array().unwrap().len(), 1);
    assert_eq!(page["history"][0]["scan_uuid"], runs[0]["scan_uuid"]);
    for bad in [
        "limit=x",
        "limit=0",
        "sort=name:asc",
        "exclude_rollover=maybe",
    ] {
        assert_eq!(
            get(&sim, &format!("/scans/{schedule}/history?{bad}"))
                .await
                .status,
            400,
            "{bad}"
        );
    }
    assert_eq!(get(&sim, "/scans/nope/history").await.status, 404);
    assert_eq!(
        get(&sim, "/scans?last_modification_date=4102444800")
            .await
            .json()["scans"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(get(&sim, "/scans?folder_id=abc").await.status, 400);
}

#[tokio::test]
async fn an_export_runs_its_course() {
    let sim = seeded().await;
    let schedule = sim.record_ids()[0].clone();
    let run = sim.latest_run(&schedule).unwrap();
    let a = export(&sim, json!({ "num_assets": 10, "filters": { "scan_uuid": run, "since": 0, "state": ["open", "reopened", "fixed"] } })).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let uuid = a.json()["export_uuid"].as_str().unwrap().to_owned();

    let st = get(&sim, &format!("/vulns/export/{uuid}/status"))
        .await
        .json();
    assert_eq!(st["status"], "QUEUED");
    assert_eq!(st["num_assets_per_chunk"], 50, "raised to the lower bound");
    assert_eq!(
        get(&sim, &format!("/vulns/export/{uuid}/chunks/1"))
            .await
            .status,
        400,
        "not ready yet"
    );
    let dup = export(&sim, json!({ "num_assets": 10, "filters": { "scan_uuid": run, "since": 0, "state": ["open", "reopened", "fixed"] } })).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.json()["active_job_id"], uuid);

    let (st, chunks) = drain(&sim, &uuid).await;
    assert_eq!(st["total_chunks"], 1);
    assert_eq!(st["chunks_failed"], json!([]));
    let records: Vec<&Value> = chunks.iter().flatten().collect();
    assert_eq!(records.len(), sim.finding_ids(&schedule).len());
    assert!(
        records
            .iter()
            .all(|r| r["scan"]["uuid"] == run && r["scan"]["schedule_uuid"] == schedule.as_str())
    );
    for key in [
        "finding_id",
        "asset",
        "plugin",
        "port",
        "severity",
        "severity_id",
        "state",
        "first_found",
        "last_found",
        "indexed",
    ] {
        assert!(records[0].get(key).is_some(), "{key} in {}", records[0]);
    }
    assert_eq!(
        get(&sim, &format!("/vulns/export/{uuid}/chunks/2"))
            .await
            .status,
        404
    );
    assert_eq!(
        get(&sim, &format!("/vulns/export/{uuid}/chunks/x"))
            .await
            .status,
        400
    );
    assert_eq!(
        get(
            &sim,
            "/vulns/export/00000000-0000-4000-a000-000000000000/status"
        )
        .await
        .status,
        404
    );
    let list = get(&sim, "/vulns/export/status").await.json();
    assert_eq!(list["exports"][0]["uuid"], uuid);
    assert_eq!(
        call(
            &sim,
            Method::POST,
            &format!("/vulns/export/{uuid}/cancel"),
            ADMIN,
            None
        )
        .await
        .status,
        400,
        "finished"
    );
}

#[tokio::test]
async fn chunks_hold_whole_assets() {
    let sim = seeded().await;
    let id = sim.add_record("big", 2_400);
    sim.set_pace(Pace {
        queued_polls: 0,
        processing_polls: 0,
    });
    let run = sim.latest_run(&id).unwrap();
    let uuid = export(
        &sim,
        json!({ "num_assets": 50, "filters": { "scan_uuid": run } }),
    )
    .await
    .json()["export_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, chunks) = drain(&sim, &uuid).await;
    assert_eq!(
        st["total_chunks"], 3,
        "120 assets of 20 findings, 50 assets a chunk"
    );
    assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 2_400);
    let assets = |c: &Vec<Value>| {
        c.iter()
            .map(|r| r["asset"]["uuid"].as_str().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(assets(&chunks[0]).is_disjoint(&assets(&chunks[1])));
    assert_eq!(assets(&chunks[2]).len(), 20);
}

#[tokio::test]
async fn filters_follow_the_documented_rules() {
    let sim = seeded().await;
    sim.set_pace(Pace {
        queued_polls: 0,
        processing_polls: 0,
    });
    for (bad, why) in [
        (
            json!({ "filters": { "since": 1, "last_found": 2, "state": ["OPEN"] } }),
            "since with last_found",
        ),
        (
            json!({ "filters": { "last_found": 2 } }),
            "last_found needs state",
        ),
        (
            json!({ "filters": { "state": ["CLOSED"] } }),
            "unknown state",
        ),
        (
            json!({ "filters": { "since": "yesterday" } }),
            "not a timestamp",
        ),
        (
            json!({ "filters": { "colour": ["red"] } }),
            "unknown filter",
        ),
        (json!({ "num_assets": "many" }), "num_assets"),
        (json!({ "filterz": {} }), "unknown property"),
    ] {
        let a = export(&sim, bad).await;
        assert_eq!(a.status, 400, "{why}: {}", a.text);
        assert_eq!(a.json()["statusCode"], 400);
    }
    let fixed_scan = sim.record_ids()[1].clone();
    let run = sim.latest_run(&fixed_scan).unwrap();
    let count = |body: Value| {
        let sim = sim.clone();
        async move {
            let uuid = export(&sim, body).await.json()["export_uuid"]
                .as_str()
                .unwrap()
                .to_owned();
            drain(&sim, &uuid)
                .await
                .1
                .iter()
                .map(Vec::len)
                .sum::<usize>()
        }
    };
    let all = sim.finding_ids(&fixed_scan).len();
    assert_eq!(count(json!({ "filters": { "scan_uuid": run, "since": 0, "state": ["OPEN", "REOPENED", "FIXED"] } })).await, all);
    assert_eq!(
        count(json!({ "filters": { "scan_uuid": run, "since": 0 } })).await,
        all - 3,
        "FIXED only when asked for"
    );
    assert_eq!(
        count(json!({ "filters": { "scan_uuid": run, "since": 0, "state": ["FIXED"] } })).await,
        3
    );
    assert_eq!(count(json!({ "filters": { "scan_uuid": run, "since": 0, "severity_modification_type": ["ACCEPTED"] } })).await, 2);
    assert_eq!(
        count(json!({ "filters": { "scan_uuid": run } })).await,
        all - 3,
        "found in the last 30 days"
    );
    assert_eq!(
        count(json!({ "filters": { "scan_uuid": "nope", "since": 0 } })).await,
        0
    );
}

#[tokio::test]
async fn concurrency_rate_limits_and_failed_chunks() {
    let sim = seeded().await;
    for i in 0..10 {
        assert_eq!(
            export(&sim, json!({ "filters": { "since": i } }))
                .await
                .status,
            200
        );
    }
    let a = export(&sim, json!({ "filters": { "since": 99 } })).await;
    assert_eq!(a.status, 429, "ten exports run at most");
    assert_eq!(a.headers["retry-after"], "30");
    assert!(a.text.contains("429 Too Many Requests"));
    assert_eq!(sim.running_exports(), 10);

    sim.set_rate_limit(Some(2), Duration::from_secs(60), 17);
    assert_eq!(get(&sim, "/scans").await.status, 200);
    assert_eq!(get(&sim, "/scans").await.status, 200);
    let a = get(&sim, "/scans").await;
    assert_eq!(a.status, 429);
    assert_eq!(a.headers["retry-after"], "17");
    sim.set_rate_limit(None, Duration::from_secs(60), 0);

    let sim = seeded().await;
    sim.set_pace(Pace {
        queued_polls: 0,
        processing_polls: 0,
    });
    sim.fail_next_chunks(&[1]);
    let uuid = export(&sim, json!({ "filters": { "since": 0 } }))
        .await
        .json()["export_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let st = get(&sim, &format!("/vulns/export/{uuid}/status"))
        .await
        .json();
    assert_eq!(st["status"], "FINISHED");
    assert_eq!(st["chunks_failed"], json!([1]));
    assert!(
        st["reason"]
            .as_str()
            .unwrap()
            .contains("1 of 2 chunks failed"),
        "{st}"
    );
    assert_eq!(
        get(&sim, &format!("/vulns/export/{uuid}/chunks/1"))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn records_live_and_die_as_the_tool_reports_them() {
    let sim = seeded().await;
    let a = sim.record_ids()[0].clone();
    let b = sim.record_ids()[1].clone();
    assert_eq!(
        sim.finding_ids(&a).len() + sim.finding_ids(&b).len(),
        99,
        "the fixture's findings"
    );
    assert_eq!(
        sim.open_findings(&b),
        sim.finding_ids(&b).len() - 5,
        "three fixed, two accepted"
    );

    let id = sim.add_record("new scan", 30);
    assert!(sim.record_ids().contains(&id));
    assert_eq!(sim.open_findings(&id), 30);
    let before = sim.latest_run(&id).unwrap();
    sim.fix_findings(&id, 4);
    let after = sim.latest_run(&id).unwrap();
    assert_ne!(before, after, "a new run found them fixed");
    assert_eq!(sim.open_findings(&id), 26);
    let first = sim.finding(&sim.finding_ids(&id)[0]).unwrap();
    assert_eq!(first["state"], "FIXED");
    assert_eq!(first["scan"]["uuid"], after.as_str());
    sim.mark_false_positive(&id);
    assert_eq!(sim.open_findings(&id), 25);
    assert_eq!(
        sim.finding(&sim.finding_ids(&id)[4]).unwrap()["severity_modification_type"],
        "ACCEPTED"
    );
    sim.remove_record(&id);
    assert!(!sim.record_ids().contains(&id));
    assert_eq!(get(&sim, &format!("/scans/{id}/history")).await.status, 404);

    // A run still going is in the history but not the latest completed.
    sim.start_run(&a);
    let h = get(&sim, &format!("/scans/{a}/history")).await.json();
    assert_eq!(h["history"][0]["status"], "running");
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
    assert_eq!(state["scans"].as_array().unwrap().len(), 2);
    http.post(format!("{base}/_sim/faults"))
        .json(&Fault {
            path_contains: Some("/scans".into()),
            status: 503,
            times: 1,
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(get(&sim, "/scans").await.status, 503);
    assert_eq!(get(&sim, "/scans").await.status, 200);
    http.post(format!("{base}/_sim/pace"))
        .json(&json!({ "queued_polls": 0, "processing_polls": 0 }))
        .send()
        .await
        .unwrap();
    http.post(format!("{base}/_sim/cut"))
        .json(&json!({ "path_contains": "/chunks/" }))
        .send()
        .await
        .unwrap();
    let uuid = export(&sim, json!({ "filters": { "since": 0 } }))
        .await
        .json()["export_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    get(&sim, &format!("/vulns/export/{uuid}/status")).await;
    let r = http
        .get(format!("{base}/vulns/export/{uuid}/chunks/1"))
        .header(
            "X-ApiKeys",
            format!("accessKey={ACCESS_KEY};secretKey={SECRET_KEY}"),
        )
        .send()
        .await
        .unwrap();
    assert!(r.text().await.is_err(), "cut off");
    http.post(format!("{base}/_sim/rate-limit"))
        .json(&json!({ "limit": 1, "retry_after": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(get(&sim, "/scans").await.status, 200);
    assert_eq!(get(&sim, "/scans").await.status, 429);
    let added: Value = http
        .post(format!("{base}/_sim/records"))
        .json(&json!({ "name": "x", "findings": 2 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = added["external_id"].as_str().unwrap().to_owned();
    http.post(format!("{base}/_sim/records/{id}/fix"))
        .json(&json!({ "n": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(sim.open_findings(&id), 1);
    let counts: Value = http
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        counts["counts"]["GET /scans"].as_u64().unwrap() >= 2,
        "{counts}"
    );
    assert!(sim.summary().contains(ACCESS_KEY));
}

#[tokio::test]
async fn generated_worlds_finish_exports_at_once() {
    let sim = TenableSim::generate(2, 1_000).await.unwrap();
    let id = sim.record_ids()[1].clone();
    let run = sim.latest_run(&id).unwrap();
    let uuid = export(&sim, json!({ "filters": { "scan_uuid": run, "since": 0 } }))
        .await
        .json()["export_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let st = get(&sim, &format!("/vulns/export/{uuid}/status"))
        .await
        .json();
    assert_eq!(st["status"], "FINISHED");
    assert_eq!(sim.open_findings(&id), 1_000);
}
