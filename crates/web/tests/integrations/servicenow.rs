//! ServiceNow end to end: vulnbridge against the ServiceNow simulator over HTTP — OAuth with
//! cached and refreshed access tokens, incidents and other task tables, states both ways
//! through the business rule and the reconcile poll, the Batch API, rate limit rules, kills.

use crate::github::assign;
use crate::jira::wait_for_account;
use crate::stack::Stack;
use serde_json::{Value, json};
use simulators::servicenow::{AGENT_USER, BOT_REFRESH_TOKEN, CLIENT_ID, CLIENT_SECRET, Limits, RateLimitRule, ServiceNowSim};
use std::time::Duration;
use store::testing::TestDb;

store::both_backends!(
    snow_incidents_both_ways_through_the_business_rule,
    snow_reconcile_poll_catches_what_no_rule_reported,
    snow_bulk_creates_use_the_batch_api,
    snow_token_refresh_rate_limits_and_an_expired_refresh_token,
    snow_no_duplicates_after_a_lost_reply_and_kills,
);

const LONG: Duration = Duration::from_secs(60);

struct Snow {
    sim: ServiceNowSim,
    instance: i64,
    webhook_secret: String,
}

async fn snow(s: &Stack) -> Snow {
    let sim = ServiceNowSim::start_seeded("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let i = s
        .post(
            "/api/v1/integrations/instances",
            json!({"vendor": "servicenow", "label": "ServiceNow", "location": sim.location(),
                   "credentials": {"oauth": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": BOT_REFRESH_TOKEN}}}),
        )
        .await
        .ok(201);
    let text = i.to_string();
    assert!(!text.contains(CLIENT_SECRET) && !text.contains(BOT_REFRESH_TOKEN), "{i}");
    let id = i["id"].as_i64().unwrap();
    wait_for_account(s, id).await;
    Snow { sim, instance: id, webhook_secret: i["webhook_secret"].as_str().unwrap().to_owned() }
}

/// Incidents for the security team, with the optional In progress state.
fn incidents(instance: i64) -> Value {
    json!({
        "instance": instance, "label": "incidents",
        "target": {"vendor": "servicenow", "table": "incident", "assignment_group": "Security Operations"},
        "status_mapping": {"field": "State", "active": "New", "in_progress": "In Progress", "closed": "Closed",
                           "false_positive": "Resolved", "risk_accepted": "Resolved"},
        "title_template": "[SECOPS] {{ id }} - {{ title }}",
        "due_days": {"critical": 7, "high": 30},
    })
}

async fn mapping(s: &Stack, body: Value) -> i64 {
    s.post("/api/v1/integrations/mappings", body).await.ok(201)["id"].as_i64().unwrap()
}

/// Installs the business rule of docs/servicenow-business-rule.md, pointed at this vulnbridge.
fn install_rule(s: &Stack, sn: &Snow) {
    sn.sim.register_business_rule(&format!("{}/webhooks/{}/", s.base, sn.instance), &sn.webhook_secret, "task");
}

async fn snow_incidents_both_ways_through_the_business_rule(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sn = snow(&s).await;
    install_rule(&s, &sn);
    let m = mapping(&s, incidents(sn.instance)).await;
    let (product, _, test) = s.world("Billing").await;
    assign(&s, m, product, "link_new_and_update", json!({})).await;
    s.start_worker();

    let f = s.finding(test, "Outdated TLS on billing API", "high").await;
    s.drain(LONG).await;
    let records = sn.sim.records("incident");
    assert_eq!(records.len(), 1);
    let inc = records[0].clone();
    assert_eq!(inc.short_description, format!("[SECOPS] {f} - Outdated TLS on billing API"));
    assert_eq!((inc.state_label.as_str(), inc.impact.as_str()), ("New", "3"), "the seed's Impact default: High → 3");
    assert_eq!(inc.assignment_group.len(), 32, "the group's name resolved to its sys_id: {}", inc.assignment_group);
    assert!(!inc.correlation_id.is_empty(), "the marker is the correlation id");
    assert!(!inc.due_date.is_empty());
    let tk = s.finding_json(f).await["tickets"][0].clone();
    assert_eq!(tk["key"], inc.number);

    // In progress, then closed here → In Progress, then Closed there (close code and notes
    // set, as ServiceNow's data policy requires); the rule's callbacks are echoes.
    s.set_status(f, "in_progress").await;
    s.drain(LONG).await;
    assert_eq!(sn.sim.records("incident")[0].state_label, "In Progress");
    s.set_status(f, "closed").await;
    s.drain(LONG).await;
    s.settle(sn.sim.webhooks()).await;
    let now = sn.sim.records("incident").remove(0);
    assert_eq!(now.state_label, "Closed");
    assert!(!now.active && !now.close_code.is_empty() && !now.close_notes.is_empty(), "{now:?}");
    let finding = s.finding_json(f).await;
    assert_eq!(finding["status"], "closed");
    assert!(!finding["tickets"][0]["changelog"].as_array().unwrap().iter().any(|c| c["action"] == "inbound"), "{finding}");

    // An agent reopens it (back to In Progress): in progress here. Resolves it: closed.
    sn.sim.set_state_as(AGENT_USER, "incident", &inc.sys_id, "2", None).unwrap();
    s.settle(sn.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "in_progress");
    sn.sim.set_state_as(AGENT_USER, "incident", &inc.sys_id, "7", Some("Resolved by change")).unwrap();
    s.settle(sn.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "closed");
    let history = s.get(&format!("/api/v1/findings/{f}/history")).await;
    assert!(history.as_array().unwrap().iter().any(|h| h["actor"] == format!("servicenow:{AGENT_USER}")), "{history}");

    // Severity change: one PATCH, the impact follows. Unchanged: nothing.
    s.drain(LONG).await;
    sn.sim.requests().reset();
    s.call("PATCH", &format!("/api/v1/findings/{f}"), Some(json!({"severity": "medium"}))).await.ok(200);
    s.drain(LONG).await;
    assert_eq!(sn.sim.records("incident")[0].impact, "2");
    assert_eq!(sn.sim.requests().total(), 1, "{:?}", sn.sim.requests().counts());
    sn.sim.requests().reset();
    s.post(&format!("/api/v1/findings/{f}/push"), json!({})).await.ok(202);
    s.drain(LONG).await;
    assert_eq!(sn.sim.requests().total(), 0, "{:?}", sn.sim.requests().counts());

    // Another task table, problems, with the Impact + Urgency preset from the defaults.
    let preset = s.get("/api/v1/integrations/mapping-defaults?vendor=servicenow&preset=impact_urgency").await;
    assert_eq!(preset["severity_mapping"]["critical"], "1/1", "{preset}");
    let p = mapping(
        &s,
        json!({"instance": sn.instance, "label": "problems", "target": {"vendor": "servicenow", "table": "problem"},
               "severity_mapping": preset["severity_mapping"]}),
    )
    .await;
    let (other, _, test2) = s.world("Ledger").await;
    assign(&s, p, other, "link_new", json!({})).await;
    s.finding(test2, "Weak hashing of ledger exports", "critical").await;
    s.drain(LONG).await;
    let problems = sn.sim.records("problem");
    assert_eq!(problems.len(), 1);
    assert_eq!((problems[0].impact.as_str(), problems[0].urgency.as_str()), ("1", "1"));
    s.stop_worker().await;
}

async fn snow_reconcile_poll_catches_what_no_rule_reported(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sn = snow(&s).await;
    // No business rule installed: only the poll sees people's changes.
    let m = mapping(&s, incidents(sn.instance)).await;
    let (product, _, test) = s.world("Billing").await;
    assign(&s, m, product, "link_new_and_update", json!({})).await;
    let f = s.finding(test, "Session fixation", "medium").await;
    let g = s.finding(test, "Clickjacking", "low").await;
    s.drain(LONG).await;
    let records = sn.sim.records("incident");
    assert_eq!(records.len(), 2);
    // Our own creates come back in the poll as echoes.
    engine::integrations::reconcile::queue_due(&s.app).await.unwrap();
    s.drain(LONG).await;
    assert_eq!(s.finding_json(f).await["status"], "active");
    // An agent resolves one; the next poll applies it, once.
    let inc = records.iter().find(|r| r.short_description.contains("Session fixation")).unwrap();
    sn.sim.set_state_as(AGENT_USER, "incident", &inc.sys_id, "7", Some("Solved (Permanently)")).unwrap();
    engine::integrations::reconcile::queue_due(&s.app).await.unwrap();
    s.drain(LONG).await;
    assert_eq!(s.finding_json(f).await["status"], "closed");
    assert_eq!(s.finding_json(g).await["status"], "active");
    engine::integrations::reconcile::queue_due(&s.app).await.unwrap();
    s.drain(LONG).await;
    let log = s.finding_json(f).await["tickets"][0]["changelog"].clone();
    let inbound = log.as_array().unwrap().iter().filter(|c| c["action"] == "inbound").count();
    assert_eq!(inbound, 1, "{log}");
}

async fn snow_bulk_creates_use_the_batch_api(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sn = snow(&s).await;
    let m = mapping(&s, incidents(sn.instance)).await;
    let (product, _, test) = s.world("Billing").await;
    assign(&s, m, product, "explicit", json!({})).await;
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(s.finding(test, &format!("Finding {i}"), ["low", "medium", "high", "critical"][i % 4]).await);
    }
    sn.sim.requests().reset();
    s.post("/api/v1/push", json!({"findings": ids})).await.ok(202);
    s.drain(LONG).await;
    assert_eq!(sn.sim.records("incident").len(), 60);
    let counts = sn.sim.requests().counts();
    let batches: u64 = counts.iter().filter(|(r, _)| r.contains("/batch")).map(|(_, n)| *n).sum();
    assert_eq!(batches, 2, "50 + 10: {counts:?}");
    assert!(sn.sim.requests().total() <= 8, "{counts:?}");
}

async fn snow_token_refresh_rate_limits_and_an_expired_refresh_token(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sn = snow(&s).await;
    let m = mapping(&s, incidents(sn.instance)).await;
    let (product, _, test) = s.world("Billing").await;
    assign(&s, m, product, "link_new_and_update", json!({})).await;
    s.start_worker();
    // Access tokens expire: the next push gets a new one from /oauth_token.do and carries on.
    s.finding(test, "Before expiry", "high").await;
    s.drain(LONG).await;
    sn.sim.expire_access_tokens();
    s.finding(test, "After expiry", "high").await;
    s.drain(LONG).await;
    assert_eq!(sn.sim.records("incident").len(), 2);
    assert!(sn.sim.requests().counts().keys().any(|r| r.contains("oauth_token.do")));

    // A rate limit rule on the Table API: 429 with Retry-After, waited out.
    sn.sim.set_limits(Limits {
        rules: vec![RateLimitRule { name: "vulnbridge".into(), api: "Table API".into(), requests_per_hour: 2, ..Default::default() }],
        window_scale: 0.001,
        ..Default::default()
    });
    for i in 0..3 {
        let f = s.finding(test, &format!("Limited {i}"), "low").await;
        s.set_status(f, "closed").await;
    }
    s.drain(Duration::from_secs(90)).await;
    assert_eq!(sn.sim.records("incident").len(), 5);
    let errors = s.get(&format!("/api/v1/integrations/mappings/{m}/errors")).await;
    assert_eq!(errors["count"], 0, "{errors}");
    sn.sim.set_limits(Limits::default());

    // The refresh token expires: pushes fail into the error table and the check says the
    // refresh token must be renewed — never showing it.
    sn.sim.expire_refresh_token(BOT_REFRESH_TOKEN);
    sn.sim.expire_access_tokens();
    let f = s.finding(test, "After the refresh token expired", "high").await;
    s.drain(LONG).await;
    let errors = s.get(&format!("/api/v1/integrations/mappings/{m}/errors")).await;
    assert_eq!(errors["count"], 1, "{errors}");
    assert_eq!(errors["results"][0]["subject"], json!({"finding": f}));
    let r = s.post(&format!("/api/v1/integrations/instances/{}/check", sn.instance), json!({})).await.ok(200);
    let text = r.to_string();
    assert!(r["checks"].as_array().unwrap().iter().any(|c| c["ok"] == false && c["detail"].as_str().unwrap_or("").to_lowercase().contains("refresh token")), "{r}");
    assert!(!text.contains(BOT_REFRESH_TOKEN) && !text.contains(CLIENT_SECRET));
    s.stop_worker().await;
}

async fn snow_no_duplicates_after_a_lost_reply_and_kills(t: TestDb) {
    let mut s = Stack::start(t).await;
    let sn = snow(&s).await;
    let m = mapping(&s, incidents(sn.instance)).await;
    let (product, _, test) = s.world("Billing").await;
    assign(&s, m, product, "link_new", json!({})).await;
    // The create is served, its answer lost: the retry finds the incident by correlation id.
    sn.sim.faults().push(simulators::Fault { method: Some("POST".into()), path_contains: Some("/table/incident".into()), after_serving: true, status: 502, times: 1, ..Default::default() });
    let f = s.finding(test, "Lost reply", "high").await;
    s.drain(LONG).await;
    assert_eq!(sn.sim.records("incident").len(), 1);
    let tk = s.finding_json(f).await["tickets"][0].clone();
    assert!(tk["changelog"].as_array().unwrap().iter().any(|c| c["action"] == "adopted"), "{tk}");
    sn.sim.faults().push(simulators::Fault { delay_ms: 60, times: 100_000, ..Default::default() });
    for i in 0..12 {
        s.finding(test, &format!("Finding {i}"), "medium").await;
    }
    for round in 0..8u64 {
        s.start_worker();
        tokio::time::sleep(Duration::from_millis(120 + (round * 53) % 150)).await;
        s.kill_worker().await;
    }
    sn.sim.faults().clear();
    s.drain(Duration::from_secs(120)).await;
    assert_eq!(sn.sim.records("incident").len(), 13, "exactly one incident per finding");
}
