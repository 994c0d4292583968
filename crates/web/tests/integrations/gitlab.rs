//! GitLab end to end: vulnbridge against the GitLab simulator over HTTP, webhooks back.

use crate::github::assign;
use crate::stack::Stack;
use serde_json::json;
use simulators::gitlab::GitLabSim;
use std::time::Duration;
use store::testing::TestDb;

store::both_backends!(
    gitlab_create_update_close_reopen_both_ways,
    gitlab_errors_and_check_connection,
    gitlab_no_duplicates_after_a_lost_reply_and_a_kill,
);

const BOT: &str = "glpat-simulatorBotToken0000";
const LONG: Duration = Duration::from_secs(60);

struct Gl {
    sim: GitLabSim,
    instance: i64,
    mapping: i64,
}

async fn gitlab(s: &Stack) -> Gl {
    let sim = GitLabSim::start_seeded("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let i = s
        .post(
            "/api/v1/integrations/instances",
            json!({"vendor": "gitlab", "label": "GitLab", "location": sim.location(), "credentials": {"token": BOT}}),
        )
        .await
        .ok(201);
    let m = s
        .post("/api/v1/integrations/mappings", json!({"instance": i["id"], "label": "mobile", "target": {"vendor": "gitlab", "project": "acme/mobile-backend"}}))
        .await
        .ok(201);
    assert!(m["webhook"].as_str().unwrap().starts_with("registered at"), "{m}");
    Gl { sim, instance: i["id"].as_i64().unwrap(), mapping: m["id"].as_i64().unwrap() }
}

fn issues(sim: &GitLabSim) -> Vec<simulators::gitlab::IssueSnapshot> {
    sim.issues("acme/mobile-backend")
}

async fn gitlab_create_update_close_reopen_both_ways(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gl = gitlab(&s).await;
    let (product, _, test) = s.world("Mobile").await;
    assign(&s, gl.mapping, product, "link_new_and_update", json!({})).await;
    s.start_worker();
    let f = s.finding(test, "IDOR in profile", "high").await;
    s.drain(LONG).await;
    let all = issues(&gl.sim);
    assert_eq!(all.len(), 1);
    let issue = &all[0];
    assert_eq!(issue.title, format!("[VULNBRIDGE] {f} - IDOR in profile"));
    assert!(issue.labels.contains(&"Priority::4".to_owned()) && issue.labels.contains(&"vulnbridge".to_owned()), "{:?}", issue.labels);
    assert_eq!(issue.state, "opened");
    let tk = s.finding_json(f).await["tickets"][0].clone();
    assert_eq!(tk["key"], format!("acme/mobile-backend#{}", issue.iid));

    // Severity changes: the scoped label is swapped, people's labels stay.
    gl.sim.requests().reset();
    s.call("PATCH", &format!("/api/v1/findings/{f}"), Some(json!({"severity": "critical"}))).await.ok(200);
    s.drain(LONG).await;
    assert_eq!(gl.sim.requests().total(), 1, "one PUT: {:?}", gl.sim.requests().counts());
    let issue = issues(&gl.sim).remove(0);
    assert!(issue.labels.contains(&"Priority::5".to_owned()) && !issue.labels.contains(&"Priority::4".to_owned()), "{:?}", issue.labels);

    // Closed here → closed there (with a note); the echo changes nothing.
    s.set_status(f, "closed").await;
    s.drain(LONG).await;
    s.settle(gl.sim.webhooks()).await;
    let issue = issues(&gl.sim).remove(0);
    assert_eq!(issue.state, "closed");
    assert!(issue.notes.iter().any(|n| n.contains("Closed by vulnbridge")), "{:?}", issue.notes);
    assert_eq!(s.finding_json(f).await["status"], "closed");

    // Reopened there → active here; closed there → closed here.
    gl.sim.reopen_issue_as("dev-bob", "acme/mobile-backend", issue.iid).unwrap();
    s.settle(gl.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "active");
    gl.sim.close_issue_as("dev-bob", "acme/mobile-backend", issue.iid).unwrap();
    s.settle(gl.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "closed");
    let history = s.get(&format!("/api/v1/findings/{f}/history")).await;
    assert!(history.as_array().unwrap().iter().any(|h| h["actor"] == "gitlab:dev-bob"), "{history}");

    // Unchanged: nothing sent.
    s.drain(LONG).await;
    gl.sim.requests().reset();
    s.post(&format!("/api/v1/findings/{f}/push"), json!({})).await.ok(202);
    s.drain(LONG).await;
    assert_eq!(gl.sim.requests().total(), 0, "{:?}", gl.sim.requests().counts());
    s.stop_worker().await;
}

async fn gitlab_errors_and_check_connection(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gl = gitlab(&s).await;
    let ok = s.post(&format!("/api/v1/integrations/mappings/{}/check", gl.mapping), json!({})).await.ok(200);
    assert!(ok["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true), "{ok}");
    // A project that does not exist: the push fails into the error table, the check says why.
    let bad = s
        .post("/api/v1/integrations/mappings", json!({"instance": gl.instance, "label": "gone", "target": {"vendor": "gitlab", "project": "acme/gone"}, "register_webhook": false}))
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let r = s.post(&format!("/api/v1/integrations/mappings/{bad}/check"), json!({})).await.ok(200);
    assert!(r["checks"].as_array().unwrap().iter().any(|c| c["name"] == "project" && c["ok"] == false), "{r}");
    let (product, _, test) = s.world("Mobile").await;
    assign(&s, bad, product, "link_new", json!({})).await;
    let f = s.finding(test, "Lost", "high").await;
    s.drain(LONG).await;
    let errors = s.get(&format!("/api/v1/integrations/mappings/{bad}/errors")).await;
    assert_eq!(errors["count"], 1, "{errors}");
    assert_eq!(errors["results"][0]["subject"], json!({"finding": f}));
    assert_eq!(errors["results"][0]["code"], "not_found");
    // An expired token: named.
    gl.sim.expire_token(BOT);
    let r = s.post(&format!("/api/v1/integrations/instances/{}/check", gl.instance), json!({})).await.ok(200);
    assert!(r["checks"].as_array().unwrap().iter().any(|c| c["ok"] == false), "{r}");
    assert!(!r.to_string().contains(BOT));
}

async fn gitlab_no_duplicates_after_a_lost_reply_and_a_kill(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gl = gitlab(&s).await;
    let (product, _, test) = s.world("Mobile").await;
    assign(&s, gl.mapping, product, "link_new", json!({})).await;
    // The create is served but its answer lost (502): the retry finds the issue by its marker.
    gl.sim.faults().push(simulators::Fault { method: Some("POST".into()), path_contains: Some("/issues".into()), after_serving: true, status: 502, times: 1, ..Default::default() });
    let a = s.finding(test, "Lost reply", "high").await;
    s.drain(LONG).await;
    assert_eq!(issues(&gl.sim).len(), 1);
    let tk = s.finding_json(a).await["tickets"][0].clone();
    assert!(tk["changelog"].as_array().unwrap().iter().any(|c| c["action"] == "adopted"), "{tk}");
    // A slow tracker and a worker killed over and over.
    gl.sim.faults().push(simulators::Fault { delay_ms: 60, times: 100_000, ..Default::default() });
    for i in 0..10 {
        s.finding(test, &format!("Finding {i}"), "medium").await;
    }
    for round in 0..8u64 {
        s.start_worker();
        tokio::time::sleep(Duration::from_millis(120 + (round * 53) % 150)).await;
        s.kill_worker().await;
    }
    gl.sim.faults().clear();
    s.drain(Duration::from_secs(120)).await;
    assert_eq!(issues(&gl.sim).len(), 11, "exactly one issue per finding");
}
