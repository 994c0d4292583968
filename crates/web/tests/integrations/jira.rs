//! Jira end to end: vulnbridge against the Jira simulator over HTTP — workflow transitions,
//! both spaces, comments both ways, bulk creates, OAuth refresh, rate limits, kills.

use crate::github::assign;
use crate::stack::Stack;
use serde_json::{Value, json};
use simulators::jira::{BOT_API_TOKEN, BOT_EMAIL, CAROL_EMAIL, JiraSim, Limits, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN};
use std::time::Duration;
use store::testing::TestDb;

store::both_backends!(
    jira_workflow_transitions_both_ways_without_echoes,
    jira_comments_sync_both_ways,
    jira_security_and_product_spaces,
    jira_rejected_findings_delete_their_issues_when_asked,
    jira_bulk_creates_fifty_a_request,
    jira_oauth_refreshes_and_rate_limits_are_waited_out,
    jira_errors_name_the_missing_transition_and_check_says_what_is_wrong,
    jira_no_duplicates_after_a_lost_reply_and_kills,
);

const LONG: Duration = Duration::from_secs(60);

pub struct Jira {
    pub sim: JiraSim,
    pub instance: i64,
}

/// The seeded simulator and an instance signed in with the bot's API token; waits until
/// vulnbridge has learnt whose account that is.
pub async fn jira(s: &Stack) -> Jira {
    let sim = JiraSim::start_seeded("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let i = s
        .post(
            "/api/v1/integrations/instances",
            json!({"vendor": "jira", "label": "Jira", "location": sim.location(),
                   "credentials": {"username": BOT_EMAIL, "password": BOT_API_TOKEN}}),
        )
        .await
        .ok(201);
    assert!(!i.to_string().contains(BOT_API_TOKEN));
    let id = i["id"].as_i64().unwrap();
    wait_for_account(s, id).await;
    Jira { sim, instance: id }
}

pub async fn wait_for_account(s: &Stack, instance: i64) {
    for _ in 0..200 {
        if s.get(&format!("/api/v1/integrations/instances/{instance}")).await["account"].is_string() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the instance's account was never learnt");
}

/// The mapping the tests use: APP's bugs, the project's own statuses chosen for each finding
/// status (false positives to "Won't Do"), priorities, a due date per severity.
fn app_mapping(instance: i64, extra: Value) -> Value {
    let mut m = json!({
        "instance": instance, "label": "app",
        "target": {"vendor": "jira", "project": "APP", "issue_type": "Bug", "components": ["backend"]},
        "status_mapping": {"field": "status", "active": "To Do", "in_progress": "In Progress", "closed": "Done",
                           "false_positive": "Won't Do", "risk_accepted": "Won't Do"},
        "labels": ["security"],
        "due_days": {"critical": 7, "high": 30},
    });
    for (k, v) in extra.as_object().unwrap() {
        if k == "target" {
            for (tk, tv) in v.as_object().unwrap() {
                m["target"][tk] = tv.clone();
            }
        } else {
            m[k] = v.clone();
        }
    }
    m
}

async fn mapping(s: &Stack, body: Value) -> i64 {
    let m = s.post("/api/v1/integrations/mappings", body).await.ok(201);
    assert!(m["webhook"].as_str().unwrap().starts_with("registered at"), "{m}");
    m["id"].as_i64().unwrap()
}

fn changelog(finding: &Value) -> Vec<String> {
    finding["tickets"][0]["changelog"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap().to_owned()).collect()
}

async fn jira_workflow_transitions_both_ways_without_echoes(t: TestDb) {
    let mut s = Stack::start(t).await;
    let j = jira(&s).await;
    let m = mapping(&s, app_mapping(j.instance, json!({}))).await;
    let (product, _, test) = s.world("App").await;
    assign(&s, m, product, "link_new_and_update", json!({})).await;
    s.start_worker();

    let f = s.finding(test, "SQL injection in search", "high").await;
    s.drain(LONG).await;
    let issues = j.sim.issues("APP");
    assert_eq!(issues.len(), 1);
    let issue = issues[0].clone();
    assert_eq!(issue.summary, format!("[VULNBRIDGE] {f} - SQL injection in search"));
    assert_eq!((issue.issue_type.as_str(), issue.status.as_str(), issue.priority.as_str()), ("Bug", "To Do", "High"));
    assert!(issue.labels.contains(&"vulnbridge".to_owned()) && issue.labels.contains(&"security".to_owned()), "{:?}", issue.labels);
    assert_eq!(issue.components, ["backend"]);
    let due = (chrono::Utc::now() + chrono::TimeDelta::days(30)).date_naive().to_string();
    assert_eq!(issue.duedate.as_deref(), Some(due.as_str()));
    let tk = s.finding_json(f).await["tickets"][0].clone();
    assert_eq!(tk["key"], issue.key);

    // False positive here → "Won't Do" there (one transition from To Do).
    s.set_status(f, "false_positive").await;
    s.drain(LONG).await;
    s.settle(j.sim.webhooks()).await;
    assert_eq!(j.sim.issue(&issue.key).unwrap().status, "Won't Do");
    assert_eq!(s.finding_json(f).await["status"], "false_positive");

    // Closed here → Done there: Won't Do → To Do → In Progress → Done, three transitions. The
    // webhooks of the steps on the way are ours and change nothing.
    s.set_status(f, "closed").await;
    s.drain(LONG).await;
    s.settle(j.sim.webhooks()).await;
    let now = j.sim.issue(&issue.key).unwrap();
    assert_eq!((now.status.as_str(), now.status_category.as_str()), ("Done", "done"));
    let finding = s.finding_json(f).await;
    assert_eq!(finding["status"], "closed", "the intermediate To Do / In Progress steps reopened nothing");
    assert!(!changelog(&finding).iter().any(|a| a == "inbound"), "{:?}", changelog(&finding));

    // A developer reopens it (Done → To Do): active again; works on it: in progress; done:
    // closed. "Closed" is judged by the status category.
    j.sim.transition_as(CAROL_EMAIL, &issue.key, "To Do").unwrap();
    s.settle(j.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "active");
    j.sim.transition_as(CAROL_EMAIL, &issue.key, "In Progress").unwrap();
    s.settle(j.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "in_progress");
    j.sim.transition_as(CAROL_EMAIL, &issue.key, "Done").unwrap();
    s.settle(j.sim.webhooks()).await;
    let finding = s.finding_json(f).await;
    assert_eq!(finding["status"], "closed");
    let history = s.get(&format!("/api/v1/findings/{f}/history")).await;
    assert!(history.as_array().unwrap().iter().any(|h| h["actor"] == format!("jira:{CAROL_EMAIL}")), "{history}");

    // Severity change: one edit, the priority follows; nothing else sent. Unchanged: nothing.
    s.drain(LONG).await;
    j.sim.requests().reset();
    s.call("PATCH", &format!("/api/v1/findings/{f}"), Some(json!({"severity": "critical"}))).await.ok(200);
    s.drain(LONG).await;
    assert_eq!(j.sim.issue(&issue.key).unwrap().priority, "Highest");
    assert_eq!(j.sim.requests().total(), 1, "{:?}", j.sim.requests().counts());
    j.sim.requests().reset();
    s.post(&format!("/api/v1/findings/{f}/push"), json!({})).await.ok(202);
    s.drain(LONG).await;
    assert_eq!(j.sim.requests().total(), 0, "{:?}", j.sim.requests().counts());
    s.stop_worker().await;
}

async fn jira_comments_sync_both_ways(t: TestDb) {
    let mut s = Stack::start(t).await;
    let j = jira(&s).await;
    let m = mapping(&s, app_mapping(j.instance, json!({"target": {"sync_comments": true}}))).await;
    let (product, _, test) = s.world("App").await;
    assign(&s, m, product, "link_new_and_update", json!({})).await;
    s.start_worker();
    let f = s.finding(test, "Stored XSS in comments", "medium").await;
    s.drain(LONG).await;
    let key = j.sim.issues("APP")[0].key.clone();

    // A developer's comment becomes a note on the finding.
    j.sim.comment_as(CAROL_EMAIL, &key, "Fixed in PR #42, please verify.").unwrap();
    s.settle(j.sim.webhooks()).await;
    let notes = s.get(&format!("/api/v1/findings/{f}/notes")).await;
    let texts: Vec<&str> = notes.as_array().unwrap().iter().filter_map(|n| n["text"].as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("Fixed in PR #42")), "{notes}");

    // A note here becomes a comment there; its webhook coming back is not a second note.
    s.post(&format!("/api/v1/findings/{f}/notes"), json!({"text": "Verified on staging."})).await.ok(201);
    s.drain(LONG).await;
    s.settle(j.sim.webhooks()).await;
    let comments = j.sim.issue(&key).unwrap().comments;
    assert!(comments.iter().any(|c| c.contains("Verified on staging.")), "{comments:?}");
    let notes = s.get(&format!("/api/v1/findings/{f}/notes")).await;
    let verified = notes.as_array().unwrap().iter().filter(|n| n["text"].as_str().unwrap_or("").contains("Verified on staging.")).count();
    assert_eq!(verified, 1, "{notes}");
    s.stop_worker().await;
}

async fn jira_security_and_product_spaces(t: TestDb) {
    let mut s = Stack::start(t).await;
    let j = jira(&s).await;
    let security = mapping(
        &s,
        json!({"instance": j.instance, "label": "security",
               "target": {"vendor": "jira", "project": "SEC", "issue_type": "Vulnerability", "space": "security", "components": ["backend"]},
               "status_mapping": {"field": "status", "active": "To Do", "closed": "Done", "false_positive": "Won't Do", "risk_accepted": "Won't Do"}}),
    )
    .await;
    let product_space = mapping(&s, app_mapping(j.instance, json!({}))).await;
    let (product, _, test) = s.world("App").await;
    assign(&s, security, product, "link_new_and_update", json!({})).await;
    assign(&s, product_space, product, "link_new_and_update", json!({})).await;
    s.start_worker();
    let f = s.finding(test, "Hard-coded secret", "critical").await;
    s.drain(LONG).await;
    let sec = j.sim.issues("SEC");
    let app = j.sim.issues("APP");
    assert_eq!((sec.len(), app.len()), (1, 1));
    assert_eq!(sec[0].issue_type, "Vulnerability");
    assert!(sec[0].links.iter().any(|l| l.contains(&app[0].key)) || app[0].links.iter().any(|l| l.contains(&sec[0].key)), "the two issues are linked: {:?} {:?}", sec[0].links, app[0].links);
    assert_eq!(s.finding_json(f).await["tickets"].as_array().unwrap().len(), 2);

    // The product issue done: the finding follows its security issue (not closed).
    j.sim.transition_as(CAROL_EMAIL, &app[0].key, "In Progress").unwrap();
    s.settle(j.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "in_progress");
    j.sim.transition_as(CAROL_EMAIL, &app[0].key, "Done").unwrap();
    s.settle(j.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "in_progress");
    // With "close the security issue when the product issue is done": it closes, and the
    // security issue follows.
    j.sim.transition_as(CAROL_EMAIL, &app[0].key, "To Do").unwrap();
    s.settle(j.sim.webhooks()).await;
    let mut input = app_mapping(j.instance, json!({"target": {"close_security_issue_when_done": true}}));
    input.as_object_mut().unwrap().remove("instance");
    s.call("PUT", &format!("/api/v1/integrations/mappings/{product_space}"), Some(input)).await.ok(200);
    s.drain(LONG).await;
    j.sim.transition_as(CAROL_EMAIL, &app[0].key, "In Progress").unwrap();
    j.sim.transition_as(CAROL_EMAIL, &app[0].key, "Done").unwrap();
    s.settle(j.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "closed");
    s.drain(LONG).await;
    assert_eq!(j.sim.issue(&sec[0].key).unwrap().status_category, "done");
    s.stop_worker().await;
}

async fn jira_rejected_findings_delete_their_issues_when_asked(t: TestDb) {
    let mut s = Stack::start(t).await;
    let j = jira(&s).await;
    let m = mapping(&s, app_mapping(j.instance, json!({"target": {"delete_rejected": true}}))).await;
    let (product, _, test) = s.world("App").await;
    assign(&s, m, product, "link_new_and_update", json!({})).await;
    s.start_worker();
    let f = s.finding(test, "Not a real issue", "low").await;
    s.drain(LONG).await;
    assert_eq!(j.sim.issues("APP").len(), 1);
    s.set_status(f, "false_positive").await;
    s.drain(LONG).await;
    s.settle(j.sim.webhooks()).await;
    assert!(j.sim.issues("APP").is_empty(), "the issue was deleted");
    let tk = s.finding_json(f).await["tickets"][0].clone();
    assert_eq!(tk["link_state"], "deleted", "{tk}");
    assert_eq!(s.finding_json(f).await["status"], "false_positive", "the deletion's webhook is our own");
    s.stop_worker().await;
}

async fn jira_bulk_creates_fifty_a_request(t: TestDb) {
    let mut s = Stack::start(t).await;
    let j = jira(&s).await;
    let m = mapping(&s, app_mapping(j.instance, json!({}))).await;
    let (product, _, test) = s.world("App").await;
    assign(&s, m, product, "explicit", json!({})).await;
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(s.finding(test, &format!("Finding {i}"), ["low", "medium", "high", "critical"][i % 4]).await);
    }
    j.sim.requests().reset();
    s.post("/api/v1/push", json!({"findings": ids})).await.ok(202);
    s.drain(LONG).await;
    assert_eq!(j.sim.issues("APP").len(), 60);
    let counts = j.sim.requests().counts();
    let bulk: u64 = counts.iter().filter(|(r, _)| r.contains("/issue/bulk")).map(|(_, n)| *n).sum();
    assert_eq!(bulk, 2, "50 + 10: {counts:?}");
    assert!(j.sim.requests().total() <= 6, "bulk creates, a search or two, the project's statuses once: {counts:?}");
    for f in &ids[..3] {
        assert!(s.finding_json(*f).await["tickets"][0]["key"].as_str().unwrap().starts_with("APP-"));
    }
}

async fn jira_oauth_refreshes_and_rate_limits_are_waited_out(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sim = JiraSim::start_seeded("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let i = s
        .post(
            "/api/v1/integrations/instances",
            json!({"vendor": "jira", "label": "Jira DC", "location": sim.location(),
                   "credentials": {"oauth": {"client_id": OAUTH_CLIENT_ID, "client_secret": OAUTH_CLIENT_SECRET, "refresh_token": OAUTH_REFRESH_TOKEN}}}),
        )
        .await
        .ok(201);
    assert!(!i.to_string().contains(OAUTH_CLIENT_SECRET) && !i.to_string().contains(OAUTH_REFRESH_TOKEN));
    let instance = i["id"].as_i64().unwrap();
    wait_for_account(&s, instance).await;
    let m = mapping(&s, app_mapping(instance, json!({}))).await;
    let (product, _, test) = s.world("App").await;
    assign(&s, m, product, "link_new_and_update", json!({})).await;
    // Access tokens live 200 ms: pushes refresh them (the refresh token rotates each time).
    sim.set_token_lifetime(Duration::from_millis(200));
    s.start_worker();
    let a = s.finding(test, "First", "high").await;
    s.drain(LONG).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.set_status(a, "closed").await;
    s.drain(LONG).await;
    assert_eq!(sim.issues("APP")[0].status, "Done");
    // Burst limits: 3 requests a second. Every push still lands, none fails.
    sim.set_limits(Limits { burst: 3, per_issue_writes: 0, window_ms: 1000 });
    for i in 0..4 {
        let f = s.finding(test, &format!("Limited {i}"), "medium").await;
        s.set_status(f, "closed").await;
    }
    s.drain(Duration::from_secs(90)).await;
    assert_eq!(sim.issues("APP").len(), 5);
    assert!(sim.requests().counts().is_empty() || sim.requests().total() > 0);
    let errors = s.get(&format!("/api/v1/integrations/mappings/{m}/errors")).await;
    assert_eq!(errors["count"], 0, "{errors}");
    s.stop_worker().await;
}

async fn jira_errors_name_the_missing_transition_and_check_says_what_is_wrong(t: TestDb) {
    let mut s = Stack::start(t).await;
    let j = jira(&s).await;
    let ok = mapping(&s, app_mapping(j.instance, json!({}))).await;
    let r = s.post(&format!("/api/v1/integrations/mappings/{ok}/check"), json!({})).await.ok(200);
    assert!(r["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true), "{r}");

    // A status the workflow has no way to reach: the push says so in the error table.
    let mut body = app_mapping(j.instance, json!({"label": "bad", "register_webhook": false}));
    body["status_mapping"]["closed"] = json!("Verified");
    let bad = s.post("/api/v1/integrations/mappings", body).await.ok(201)["id"].as_i64().unwrap();
    let r = s.post(&format!("/api/v1/integrations/mappings/{bad}/check"), json!({})).await.ok(200);
    assert!(r["checks"].as_array().unwrap().iter().any(|c| c["ok"] == false && c["detail"].as_str().unwrap_or("").contains("Verified")), "{r}");
    let (product, _, test) = s.world("App").await;
    assign(&s, bad, product, "link_new_and_update", json!({})).await;
    let f = s.finding(test, "Cannot close", "high").await;
    s.drain(LONG).await;
    s.set_status(f, "closed").await;
    s.drain(LONG).await;
    let errors = s.get(&format!("/api/v1/integrations/mappings/{bad}/errors")).await;
    assert_eq!(errors["count"], 1, "{errors}");
    assert!(errors["results"][0]["reason"].as_str().unwrap().contains("Verified"), "{errors}");

    // Wrong credentials, a wrong URL: each named, the secret never shown.
    let wrong = s
        .post(
            "/api/v1/integrations/instances",
            json!({"vendor": "jira", "label": "Wrong", "location": j.sim.location(), "credentials": {"username": BOT_EMAIL, "password": "not-the-token"}}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let r = s.post(&format!("/api/v1/integrations/instances/{wrong}/check"), json!({})).await.ok(200);
    assert!(r["checks"].as_array().unwrap().iter().any(|c| c["name"] == "credentials" && c["ok"] == false), "{r}");
    assert!(!r.to_string().contains("not-the-token"));
    let nowhere = s
        .post(
            "/api/v1/integrations/instances",
            json!({"vendor": "jira", "label": "Nowhere", "location": format!("{}nothing-here/", j.sim.location()), "credentials": {"username": BOT_EMAIL, "password": BOT_API_TOKEN}}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let r = s.post(&format!("/api/v1/integrations/instances/{nowhere}/check"), json!({})).await.ok(200);
    assert!(r["checks"].as_array().unwrap().iter().any(|c| c["ok"] == false), "{r}");
    s.stop_worker().await;
}

async fn jira_no_duplicates_after_a_lost_reply_and_kills(t: TestDb) {
    let mut s = Stack::start(t).await;
    let j = jira(&s).await;
    let m = mapping(&s, app_mapping(j.instance, json!({}))).await;
    let (product, _, test) = s.world("App").await;
    assign(&s, m, product, "link_new", json!({})).await;
    // The create is served but its answer lost: the retry finds the issue by its label.
    j.sim.faults().push(simulators::Fault { method: Some("POST".into()), path_contains: Some("/issue".into()), after_serving: true, status: 502, times: 1, ..Default::default() });
    let a = s.finding(test, "Lost reply", "high").await;
    s.drain(LONG).await;
    assert_eq!(j.sim.issues("APP").len(), 1);
    let tk = s.finding_json(a).await["tickets"][0].clone();
    assert!(tk["changelog"].as_array().unwrap().iter().any(|c| c["action"] == "adopted"), "{tk}");
    // A slow tracker and a worker killed over and over, bulk creates included.
    j.sim.faults().push(simulators::Fault { delay_ms: 60, times: 100_000, ..Default::default() });
    for i in 0..12 {
        s.finding(test, &format!("Finding {i}"), "medium").await;
    }
    for round in 0..8u64 {
        s.start_worker();
        tokio::time::sleep(Duration::from_millis(120 + (round * 53) % 150)).await;
        s.kill_worker().await;
    }
    j.sim.faults().clear();
    s.drain(Duration::from_secs(120)).await;
    assert_eq!(j.sim.issues("APP").len(), 13, "exactly one issue per finding");
}
