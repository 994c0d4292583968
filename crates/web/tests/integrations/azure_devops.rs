//! Azure DevOps Boards end to end: vulnbridge against the Azure DevOps simulator over HTTP —
//! JSON Patch creates and updates, a process's states both ways through service hooks, the
//! `$batch` API, PAT failures, TSTU throttling, kills.

use crate::github::assign;
use crate::jira::wait_for_account;
use crate::stack::Stack;
use serde_json::{Value, json};
use simulators::azure_devops::{AzureDevOpsSim, BOT_PAT, Limits};
use std::time::Duration;
use store::testing::TestDb;

store::both_backends!(
    ado_states_both_ways_through_service_hooks,
    ado_bulk_creates_use_batch,
    ado_pat_failures_throttling_and_the_error_table,
    ado_no_duplicates_after_a_lost_reply_and_kills,
);

const LONG: Duration = Duration::from_secs(60);
/// A developer of the seeded organization.
const DAVE: &str = "dev-dave";

struct Ado {
    sim: AzureDevOpsSim,
    instance: i64,
}

async fn ado(s: &Stack) -> Ado {
    let sim = AzureDevOpsSim::start_seeded("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let i = s
        .post(
            "/api/v1/integrations/instances",
            json!({"vendor": "azure_devops", "label": "Azure DevOps", "location": sim.location(), "credentials": {"token": BOT_PAT}}),
        )
        .await
        .ok(201);
    assert!(!i.to_string().contains(BOT_PAT));
    let id = i["id"].as_i64().unwrap();
    wait_for_account(s, id).await;
    Ado { sim, instance: id }
}

/// Payments' bugs (Agile process: New → Active → Resolved → Closed).
fn payments(instance: i64) -> Value {
    json!({
        "instance": instance, "label": "payments",
        "target": {"vendor": "azure_devops", "project": "Payments", "work_item_type": "Bug"},
        "status_mapping": {"field": "/fields/System.State", "active": "New", "in_progress": "Active", "closed": "Closed",
                           "false_positive": "Resolved", "risk_accepted": "Resolved"},
        "labels": ["security"],
        "due_days": {"critical": 7, "high": 30},
    })
}

/// Platform's issues with the vendor defaults (Basic process: To Do, Doing, Done).
fn platform(instance: i64) -> Value {
    json!({"instance": instance, "label": "platform", "target": {"vendor": "azure_devops", "project": "Platform", "work_item_type": "Issue"}})
}

async fn mapping(s: &Stack, body: Value) -> i64 {
    let m = s.post("/api/v1/integrations/mappings", body).await.ok(201);
    assert!(m["webhook"].as_str().unwrap().starts_with("registered at"), "{m}");
    m["id"].as_i64().unwrap()
}

async fn ado_states_both_ways_through_service_hooks(t: TestDb) {
    let mut s = Stack::start(t).await;
    let a = ado(&s).await;
    let m = mapping(&s, payments(a.instance)).await;
    assert_eq!(a.sim.subscriptions().len(), 3, "updated, deleted and commented hooks");
    let (product, _, test) = s.world("Payments").await;
    assign(&s, m, product, "link_new_and_update", json!({})).await;
    s.start_worker();

    let f = s.finding(test, "Card number in logs", "high").await;
    s.drain(LONG).await;
    let items = a.sim.work_items("Payments");
    assert_eq!(items.len(), 1);
    let wi = items[0].clone();
    assert_eq!(wi.title, format!("[VULNBRIDGE] {f} - Card number in logs"));
    assert_eq!((wi.work_item_type.as_str(), wi.state.as_str(), wi.priority), ("Bug", "New", Some(2)));
    assert!(wi.tags.iter().any(|t| t == "vulnbridge") && wi.tags.iter().any(|t| t == "security"), "{:?}", wi.tags);
    assert!(wi.due_date.is_some());
    let tk = s.finding_json(f).await["tickets"][0].clone();
    assert_eq!(tk["key"], format!("Payments#{}", wi.id));

    // A person's tag survives our updates.
    a.sim.update_as(DAVE, wi.id, &[("System.Tags", json!("vulnbridge; security; team-red"))]).unwrap();
    s.settle(a.sim.webhooks()).await;

    // In progress, then closed here → Active, then Closed there; the hooks are echoes.
    s.set_status(f, "in_progress").await;
    s.drain(LONG).await;
    assert_eq!(a.sim.work_item(wi.id).unwrap().state, "Active");
    s.set_status(f, "closed").await;
    s.drain(LONG).await;
    s.settle(a.sim.webhooks()).await;
    let now = a.sim.work_item(wi.id).unwrap();
    assert_eq!(now.state, "Closed");
    assert!(now.tags.iter().any(|t| t == "team-red"), "people's tags stay: {:?}", now.tags);
    let finding = s.finding_json(f).await;
    assert_eq!(finding["status"], "closed");
    assert!(!finding["tickets"][0]["changelog"].as_array().unwrap().iter().any(|c| c["action"] == "inbound"), "{finding}");

    // A developer reactivates it: active here (as the mapping says Active means); closes it: closed.
    a.sim.set_state_as(DAVE, wi.id, "New").unwrap();
    s.settle(a.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "active");
    a.sim.set_state_as(DAVE, wi.id, "Closed").unwrap();
    s.settle(a.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "closed");
    let history = s.get(&format!("/api/v1/findings/{f}/history")).await;
    assert!(history.as_array().unwrap().iter().any(|h| h["actor"].as_str().unwrap_or("").starts_with("azure_devops:")), "{history}");

    // A severity change: one PATCH. Unchanged: nothing at all.
    s.drain(LONG).await;
    a.sim.requests().reset();
    s.call("PATCH", &format!("/api/v1/findings/{f}"), Some(json!({"severity": "critical"}))).await.ok(200);
    s.drain(LONG).await;
    assert_eq!(a.sim.work_item(wi.id).unwrap().priority, Some(1));
    assert_eq!(a.sim.requests().total(), 1, "{:?}", a.sim.requests().counts());
    a.sim.requests().reset();
    s.post(&format!("/api/v1/findings/{f}/push"), json!({})).await.ok(202);
    s.drain(LONG).await;
    assert_eq!(a.sim.requests().total(), 0, "{:?}", a.sim.requests().counts());

    // Deleted there: the ticket says so; a manual push makes a new one.
    a.sim.delete_as(DAVE, wi.id).unwrap();
    s.settle(a.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["tickets"][0]["link_state"], "deleted");
    s.stop_worker().await;
}

async fn ado_bulk_creates_use_batch(t: TestDb) {
    let mut s = Stack::start(t).await;
    let a = ado(&s).await;
    let m = mapping(&s, platform(a.instance)).await;
    let (product, _, test) = s.world("Platform").await;
    assign(&s, m, product, "explicit", json!({})).await;
    let mut ids = Vec::new();
    for i in 0..205 {
        ids.push(s.finding(test, &format!("Finding {i}"), ["info", "low", "medium", "high", "critical"][i % 5]).await);
    }
    a.sim.requests().reset();
    s.post("/api/v1/push", json!({"findings": ids})).await.ok(202);
    s.drain(LONG).await;
    let items = a.sim.work_items("Platform");
    assert_eq!(items.len(), 205);
    assert!(items.iter().all(|w| w.state == "To Do" && w.work_item_type == "Issue"));
    let priorities: std::collections::BTreeSet<_> = items.iter().filter_map(|w| w.priority).collect();
    assert_eq!(priorities.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4], "the default priorities 4/4/3/2/1");
    let counts = a.sim.requests().counts();
    let batches: u64 = counts.iter().filter(|(r, _)| r.contains("$batch")).map(|(_, n)| *n).sum();
    assert_eq!(batches, 2, "200 + 5: {counts:?}");
    assert!(a.sim.requests().total() <= 6, "{counts:?}");
}

async fn ado_pat_failures_throttling_and_the_error_table(t: TestDb) {
    let mut s = Stack::start(t).await;
    let a = ado(&s).await;
    let m = mapping(&s, payments(a.instance)).await;
    let ok = s.post(&format!("/api/v1/integrations/mappings/{m}/check"), json!({})).await.ok(200);
    assert!(ok["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true), "{ok}");
    // A work item type the project does not have: the check lists those it has.
    let bad = s
        .post(
            "/api/v1/integrations/mappings",
            json!({"instance": a.instance, "label": "wrong type", "register_webhook": false,
                   "target": {"vendor": "azure_devops", "project": "Platform", "work_item_type": "Bug"}}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let r = s.post(&format!("/api/v1/integrations/mappings/{bad}/check"), json!({})).await.ok(200);
    let failed: Vec<&Value> = r["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).collect();
    assert!(failed.iter().any(|c| c["detail"].as_str().unwrap_or("").contains("Issue")), "{r}");

    // Throttled: TSTUs run out, requests are delayed then refused with Retry-After; every push
    // still lands.
    let (product, _, test) = s.world("Payments").await;
    assign(&s, m, product, "link_new_and_update", json!({})).await;
    a.sim.set_limits(Limits { tstu_limit: 3, tstu_per_request: 1, delayed_requests: 1, delay_ms: 50, window_secs: 2, window_scale: 1.0 });
    s.start_worker();
    for i in 0..4 {
        s.finding(test, &format!("Throttled {i}"), "medium").await;
    }
    s.drain(Duration::from_secs(90)).await;
    assert_eq!(a.sim.work_items("Payments").len(), 4);
    assert!(a.sim.requests().counts().keys().count() > 0);
    a.sim.set_limits(Limits { tstu_limit: 0, ..Default::default() });

    // A revoked PAT: pushes fail into the error table, the check names the credentials; the
    // token never shows.
    a.sim.revoke_pat(BOT_PAT);
    let f = s.finding(test, "After revocation", "high").await;
    s.drain(LONG).await;
    let errors = s.get(&format!("/api/v1/integrations/mappings/{m}/errors")).await;
    assert_eq!(errors["count"], 1, "{errors}");
    assert_eq!(errors["results"][0]["subject"], json!({"finding": f}));
    assert!(!errors.to_string().contains(BOT_PAT));
    let r = s.post(&format!("/api/v1/integrations/instances/{}/check", a.instance), json!({})).await.ok(200);
    assert!(r["checks"].as_array().unwrap().iter().any(|c| c["name"] == "credentials" && c["ok"] == false), "{r}");
    s.stop_worker().await;
}

async fn ado_no_duplicates_after_a_lost_reply_and_kills(t: TestDb) {
    let mut s = Stack::start(t).await;
    let a = ado(&s).await;
    let m = mapping(&s, platform(a.instance)).await;
    let (product, _, test) = s.world("Platform").await;
    assign(&s, m, product, "link_new", json!({})).await;
    // The create is served, its answer lost: the retry finds the work item by its tag (WIQL).
    a.sim.faults().push(simulators::Fault { method: Some("POST".into()), path_contains: Some("/workitems/".into()), after_serving: true, status: 502, times: 1, ..Default::default() });
    let f = s.finding(test, "Lost reply", "high").await;
    s.drain(LONG).await;
    assert_eq!(a.sim.work_items("Platform").len(), 1);
    let tk = s.finding_json(f).await["tickets"][0].clone();
    assert!(tk["changelog"].as_array().unwrap().iter().any(|c| c["action"] == "adopted"), "{tk}");
    a.sim.faults().push(simulators::Fault { delay_ms: 60, times: 100_000, ..Default::default() });
    for i in 0..12 {
        s.finding(test, &format!("Finding {i}"), "medium").await;
    }
    for round in 0..8u64 {
        s.start_worker();
        tokio::time::sleep(Duration::from_millis(120 + (round * 53) % 150)).await;
        s.kill_worker().await;
    }
    a.sim.faults().clear();
    s.drain(Duration::from_secs(120)).await;
    assert_eq!(a.sim.work_items("Platform").len(), 13, "exactly one work item per finding");
}
