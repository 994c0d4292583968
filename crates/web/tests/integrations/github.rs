//! GitHub end to end: vulnbridge's API and worker against the GitHub simulator over HTTP,
//! webhooks coming back to vulnbridge's `/webhooks/{instance}/`.

use crate::stack::Stack;
use serde_json::{Value, json};
use simulators::github::{ALICE_TOKEN, BOT_TOKEN, GitHubSim, Limits};
use std::time::Duration;
use store::testing::TestDb;

store::both_backends!(
    every_push_mode_and_filter,
    groups_are_one_ticket_that_follows_its_findings,
    manual_bulk_push_and_unchanged_pushes_cost_nothing,
    close_and_reopen_both_ways_without_echoes,
    the_error_table_names_the_missing_priority_field_and_retries,
    check_connection_says_what_is_wrong,
    no_duplicate_tickets_after_repeated_worker_kills,
    secondary_rate_limits_are_waited_out,
    webhooks_are_verified,
);

const LONG: Duration = Duration::from_secs(60);

pub struct Gh {
    pub sim: GitHubSim,
    pub instance: i64,
    pub mapping: i64,
}

pub async fn github(s: &Stack, project: Option<u32>) -> Gh {
    let sim = GitHubSim::start_seeded("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let i = s
        .post(
            "/api/v1/integrations/instances",
            json!({"vendor": "github", "label": "GitHub acme", "location": sim.location("acme"), "credentials": {"token": BOT_TOKEN}}),
        )
        .await
        .ok(201);
    assert!(i["webhook_secret"].as_str().unwrap().starts_with("whsec_"));
    assert!(!i.to_string().contains(BOT_TOKEN), "the token never comes back");
    let mut target = json!({"vendor": "github", "repository": "storefront"});
    if let Some(n) = project {
        target["project_number"] = json!(n);
    }
    let m = s
        .post("/api/v1/integrations/mappings", json!({"instance": i["id"], "label": "storefront", "target": target, "labels": ["security"]}))
        .await
        .ok(201);
    assert!(m["webhook"].as_str().unwrap().starts_with("registered at"), "{m}");
    Gh { sim, instance: i["id"].as_i64().unwrap(), mapping: m["id"].as_i64().unwrap() }
}

pub async fn assign(s: &Stack, mapping: i64, product: i64, mode: &str, filters: Value) -> i64 {
    s.post(
        "/api/v1/integrations/assignments",
        json!({"mapping": mapping, "scope": {"product": product}, "push_mode": mode, "filters": filters}),
    )
    .await
    .ok(201)["id"]
        .as_i64()
        .unwrap()
}

fn issues(sim: &GitHubSim) -> Vec<simulators::github::IssueSnapshot> {
    sim.issues("acme", "storefront")
}

/// The ticket of a finding in our API.
async fn ticket(s: &Stack, finding: i64) -> Option<Value> {
    s.finding_json(finding).await["tickets"].as_array().unwrap().first().cloned()
}

async fn every_push_mode_and_filter(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    let (product, _, test) = s.world("Shop").await;
    let a = assign(&s, gh.mapping, product, "link_new", json!({"minimum_severity": "high", "active_only": true})).await;

    // Link New: new findings passing the filters get tickets.
    let critical = s.finding(test, "SQL injection in login", "critical").await;
    let low = s.finding(test, "Verbose header", "low").await;
    s.drain(LONG).await;
    let all = issues(&gh.sim);
    assert_eq!(all.len(), 1, "only the critical finding passes the filters");
    let issue = &all[0];
    assert_eq!(issue.title, format!("[VULNBRIDGE] {critical} - SQL injection in login"));
    assert!(issue.labels.contains(&"vulnbridge".to_owned()) && issue.labels.contains(&"security".to_owned()), "{:?}", issue.labels);
    assert_eq!(gh.sim.project_field_value("acme", 1, &issue.node_id, "Priority").as_deref(), Some("P4"));
    assert_eq!(gh.sim.project_field_value("acme", 1, &issue.node_id, "Status").as_deref(), Some("In Progress"));
    let tk = ticket(&s, critical).await.expect("the finding shows its ticket");
    assert_eq!(tk["vendor"], "github");
    assert_eq!(tk["key"], format!("acme/storefront#{}", issue.number));
    assert!(tk["url"].as_str().unwrap().ends_with(&format!("/acme/storefront/issues/{}", issue.number)));
    assert!(ticket(&s, low).await.is_none());

    // Link New never updates: a change stays local.
    s.set_status(critical, "risk_accepted").await;
    s.drain(LONG).await;
    assert_eq!(issues(&gh.sim)[0].state, "open");

    // Update Existing: changes reach linked tickets, closures included (filters do not apply
    // to updates); new findings are not linked.
    s.call("PATCH", &format!("/api/v1/integrations/assignments/{a}"), Some(json!({"push_mode": "update_existing"}))).await.ok(200);
    s.set_status(critical, "closed").await;
    let new_critical = s.finding(test, "RCE in upload", "critical").await;
    s.drain(LONG).await;
    let all = issues(&gh.sim);
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].state.as_str(), all[0].state_reason.as_deref()), ("closed", Some("completed")));
    assert!(all[0].comments.iter().any(|c| c.contains("Closed by vulnbridge")), "{:?}", all[0].comments);
    assert_eq!(gh.sim.project_field_value("acme", 1, &all[0].node_id, "Status").as_deref(), Some("Done"));
    assert!(ticket(&s, new_critical).await.is_none());

    // Link New and Update Existing: both.
    s.call("PATCH", &format!("/api/v1/integrations/assignments/{a}"), Some(json!({"push_mode": "link_new_and_update", "filters": {}}))).await.ok(200);
    let medium = s.finding(test, "Open redirect", "medium").await;
    s.drain(LONG).await;
    assert_eq!(issues(&gh.sim).len(), 2);
    s.set_status(medium, "false_positive").await;
    s.drain(LONG).await;
    let fp = issues(&gh.sim).into_iter().find(|i| i.title.contains("Open redirect")).unwrap();
    assert_eq!((fp.state.as_str(), fp.state_reason.as_deref()), ("closed", Some("not_planned")));

    // Explicit: nothing automatic; a manual push ignores the filters.
    s.call("PATCH", &format!("/api/v1/integrations/assignments/{a}"), Some(json!({"push_mode": "explicit", "filters": {"minimum_severity": "critical"}}))).await.ok(200);
    let info = s.finding(test, "Server banner", "info").await;
    s.drain(LONG).await;
    assert_eq!(issues(&gh.sim).len(), 2);
    let pushed = s.post(&format!("/api/v1/findings/{low}/push"), json!({})).await.ok(202);
    assert_eq!(pushed["queued"].as_array().unwrap().len(), 1);
    s.drain(LONG).await;
    assert_eq!(issues(&gh.sim).len(), 3);
    let low_issue = issues(&gh.sim).into_iter().find(|i| i.title.contains("Verbose header")).unwrap();
    assert_eq!(gh.sim.project_field_value("acme", 1, &low_issue.node_id, "Priority").as_deref(), Some("P1"));
    assert!(ticket(&s, info).await.is_none());
    // The changelog says who did what.
    let detail = s.finding_json(critical).await;
    let log: Vec<String> = detail["tickets"][0]["changelog"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(log, ["created", "closed"], "{detail}");
}

async fn groups_are_one_ticket_that_follows_its_findings(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    let (product, _, test) = s.world("Shop").await;
    assign(&s, gh.mapping, product, "link_new_and_update", json!({})).await;
    let a = s.finding(test, "log4j RCE", "critical").await;
    let b = s.finding(test, "log4j lookup", "high").await;
    s.drain(LONG).await;
    let before = issues(&gh.sim).len();
    assert_eq!(before, 2);
    let g = s
        .post("/api/v1/finding-groups", json!({"test": test, "name": "log4j-core", "group_by": "component_name", "findings": [a, b]}))
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    s.drain(LONG).await;
    let all = issues(&gh.sim);
    assert_eq!(all.len(), 3, "one more ticket: the group's");
    let group_issue = all.iter().find(|i| i.title == format!("[VULNBRIDGE] {g} - log4j-core")).expect("the group's ticket");
    let body = group_issue.body.clone().unwrap();
    assert!(body.contains("log4j RCE") && body.contains("log4j lookup"), "{body}");
    assert_eq!(gh.sim.project_field_value("acme", 1, &group_issue.node_id, "Priority").as_deref(), Some("P4"), "the group is as severe as its worst finding");
    let gjson = s.get(&format!("/api/v1/finding-groups/{g}")).await;
    assert_eq!(gjson["tickets"].as_array().unwrap().len(), 1, "{gjson}");

    // A new finding in the group goes to the group's ticket (its own findings already had theirs).
    s.set_status(a, "closed").await;
    s.drain(LONG).await;
    let gi = issues(&gh.sim).into_iter().find(|i| i.node_id == group_issue.node_id).unwrap();
    assert_eq!(gi.state, "open", "one finding is still open");
    s.set_status(b, "closed").await;
    s.drain(LONG).await;
    let gi = issues(&gh.sim).into_iter().find(|i| i.node_id == group_issue.node_id).unwrap();
    assert_eq!(gi.state, "closed", "the group's status follows its findings");

    // A grouped finding without a ticket of its own is pushed as its group (new findings are
    // not linked in Update Existing mode, so this one has none).
    let assignment = s.get(&format!("/api/v1/integrations/assignments?mapping={}", gh.mapping)).await[0]["id"].as_i64().unwrap();
    s.call("PATCH", &format!("/api/v1/integrations/assignments/{assignment}"), Some(json!({"push_mode": "update_existing"}))).await.ok(200);
    let c = s.finding(test, "log4j DoS", "medium").await;
    s.call("PATCH", &format!("/api/v1/finding-groups/{g}"), Some(json!({"add": [c]}))).await.ok(200);
    s.drain(LONG).await;
    let gi = issues(&gh.sim).into_iter().find(|i| i.node_id == group_issue.node_id).unwrap();
    assert!(gi.body.unwrap().contains("log4j DoS"), "the group's ticket lists its new finding");
    assert_eq!(gi.state, "open", "reopened: the group has an open finding again");
    assert!(ticket(&s, c).await.is_none());
    let pushed = s.post(&format!("/api/v1/findings/{c}/push"), json!({})).await.ok(202);
    assert_eq!(pushed["queued"][0]["subject"], json!({"group": g}), "{pushed}");
    s.drain(LONG).await;
    assert_eq!(issues(&gh.sim).len(), 3, "no ticket of its own");

    // The group's ticket closed in GitHub closes its open findings.
    gh.sim.close_issue_as("dev-alice", "acme", "storefront", gi.number, "completed").unwrap();
    s.settle(gh.sim.webhooks()).await;
    assert_eq!(s.finding_json(c).await["status"], "closed");
    assert_eq!(s.get(&format!("/api/v1/finding-groups/{g}")).await["status"], "closed");
}

async fn manual_bulk_push_and_unchanged_pushes_cost_nothing(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    let (product, _, test) = s.world("Shop").await;
    assign(&s, gh.mapping, product, "explicit", json!({})).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(s.finding(test, &format!("Finding {i}"), "high").await);
    }
    gh.sim.requests().reset();
    let r = s.post("/api/v1/push", json!({"findings": ids})).await.ok(202);
    assert_eq!(r["queued"].as_array().unwrap().len(), 5);
    s.drain(LONG).await;
    assert_eq!(issues(&gh.sim).len(), 5);
    let per_ticket = gh.sim.requests().total() as f64 / 5.0;
    assert!(per_ticket <= 4.0, "a create takes at most 4 calls here (issue, project item, fields, first-time lookups): {:?}", gh.sim.requests().counts());

    // Pushing again what did not change sends nothing.
    gh.sim.requests().reset();
    s.post("/api/v1/push", json!({"findings": ids})).await.ok(202);
    s.drain(LONG).await;
    assert_eq!(gh.sim.requests().total(), 0, "{:?}", gh.sim.requests().counts());

    // A change sends only that change.
    s.call("PATCH", &format!("/api/v1/findings/{}", ids[0]), Some(json!({"severity": "critical"}))).await.ok(200);
    s.post("/api/v1/push", json!({"findings": [ids[0]]})).await.ok(202);
    s.drain(LONG).await;
    let counts = gh.sim.requests().counts();
    // The body shows the severity (one PATCH), the project's Priority field is set (one
    // GraphQL request); labels, status and state did not change and are not sent.
    assert_eq!(gh.sim.requests().total(), 2, "{counts:?}");
    assert_eq!(counts.get("POST /api/graphql updateProjectV2ItemFieldValue"), Some(&1), "{counts:?}");
    let one = issues(&gh.sim).into_iter().find(|i| i.title.contains("Finding 0")).unwrap();
    assert_eq!(gh.sim.project_field_value("acme", 1, &one.node_id, "Priority").as_deref(), Some("P4"));

    // Nothing assigned: said so.
    let (other, _, other_test) = s.world("Other").await;
    let _ = other;
    let lone = s.finding(other_test, "Lonely", "high").await;
    let r = s.post("/api/v1/push", json!({"findings": [lone]})).await.ok(202);
    assert!(r["not_queued"][0]["reason"].as_str().unwrap().contains("no issue tracker assignment"), "{r}");
}

async fn close_and_reopen_both_ways_without_echoes(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    let (product, _, test) = s.world("Shop").await;
    assign(&s, gh.mapping, product, "link_new_and_update", json!({})).await;
    // Closed in the tracker → awaiting validation here, so an echo would be visible.
    let m = s.get(&format!("/api/v1/integrations/mappings/{}", gh.mapping)).await;
    let mut cfg = json!({"label": m["label"], "target": m["target"], "labels": m["labels"], "inbound": {"closed": "awaiting_validation"}});
    cfg["inbound"]["reopened"] = json!("active");
    s.call("PUT", &format!("/api/v1/integrations/mappings/{}", gh.mapping), Some(cfg)).await.ok(200);
    s.start_worker();
    let f = s.finding(test, "XSS in search", "high").await;
    s.drain(LONG).await;
    let issue = issues(&gh.sim).remove(0);

    // A developer closes the issue: the finding waits for validation.
    gh.sim.close_issue_as("dev-alice", "acme", "storefront", issue.number, "completed").unwrap();
    s.settle(gh.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "awaiting_validation");
    s.drain(LONG).await;
    // The push that follows sends no close (the ticket is closed already) and no comment.
    let after = issues(&gh.sim).remove(0);
    assert_eq!(after.comments.len(), 0, "{:?}", after.comments);

    // Reopened in the tracker: active again.
    gh.sim.reopen_issue_as("dev-alice", "acme", "storefront", issue.number).unwrap();
    s.settle(gh.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "active");

    // Closed here: the ticket closes, and the webhook GitHub sends about our own close is an
    // echo that changes nothing (it would otherwise make the finding "awaiting validation").
    s.set_status(f, "closed").await;
    s.drain(LONG).await;
    s.settle(gh.sim.webhooks()).await;
    assert_eq!(issues(&gh.sim)[0].state, "closed");
    assert_eq!(s.finding_json(f).await["status"], "closed", "our own close came back as an echo and changed nothing");
    // Reopened here: the ticket reopens.
    s.set_status(f, "active").await;
    s.drain(LONG).await;
    s.settle(gh.sim.webhooks()).await;
    assert_eq!(issues(&gh.sim)[0].state, "open");
    assert_eq!(s.finding_json(f).await["status"], "active");

    // A project Status moved to Done by a developer closes the finding.
    gh.sim.set_project_field_as("dev-alice", "acme", 1, &issue.node_id, "Status", "Done").unwrap();
    s.settle(gh.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "awaiting_validation");

    // Closed as not planned: left alone (a developer's "won't fix" is not a security decision).
    s.set_status(f, "active").await;
    s.drain(LONG).await;
    s.settle(gh.sim.webhooks()).await;
    gh.sim.close_issue_as("dev-alice", "acme", "storefront", issue.number, "not_planned").unwrap();
    s.settle(gh.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["status"], "active");
    let history = s.get(&format!("/api/v1/findings/{f}/history")).await;
    assert!(history.as_array().unwrap().iter().any(|h| h["actor"] == "github:dev-alice"), "{history}");
    let detail = s.finding_json(f).await;
    let log = detail["tickets"][0]["changelog"].as_array().unwrap();
    assert!(log.iter().any(|c| c["action"] == "inbound" && c["actor"] == "dev-alice"), "{detail}");

    // Deleted in GitHub: the link says so and nothing more is pushed to it; a person's push
    // makes a new ticket.
    gh.sim.delete_issue_as("vulnbridge-bot", "acme", "storefront", issue.number).unwrap();
    s.settle(gh.sim.webhooks()).await;
    assert_eq!(s.finding_json(f).await["tickets"][0]["link_state"], "deleted");
    s.set_status(f, "in_progress").await;
    s.drain(LONG).await;
    assert!(issues(&gh.sim).is_empty());
    s.post(&format!("/api/v1/findings/{f}/push"), json!({})).await.ok(202);
    s.drain(LONG).await;
    assert_eq!(issues(&gh.sim).len(), 1, "pushed again by hand: a new ticket");
    assert_eq!(s.finding_json(f).await["tickets"][0]["link_state"], "linked");
    s.stop_worker().await;
}

async fn the_error_table_names_the_missing_priority_field_and_retries(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    gh.sim.add_project("acme", 2, "Backlog");
    let m2 = s
        .post(
            "/api/v1/integrations/mappings",
            json!({"instance": gh.instance, "label": "backlog", "target": {"vendor": "github", "repository": "payments-api", "project_number": 2}}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let (product, _, test) = s.world("Shop").await;
    assign(&s, m2, product, "link_new", json!({})).await;
    let f = s.finding(test, "Weak TLS", "medium").await;
    s.drain(LONG).await;
    let m = s.get(&format!("/api/v1/integrations/mappings/{m2}")).await;
    assert_eq!(m["total_errors"], 1, "{m}");
    let errors = s.get(&format!("/api/v1/integrations/mappings/{m2}/errors")).await;
    let e = &errors["results"][0];
    assert_eq!(e["subject"], json!({"finding": f}));
    assert_eq!(e["code"], "misconfigured");
    assert!(e["reason"].as_str().unwrap().contains("Priority"), "{e}");
    assert!(e["retry_at"].is_null(), "waits for a person");
    assert!(!errors.to_string().contains(BOT_TOKEN));
    // The project was checked before the issue was made: no half-made ticket.
    assert_eq!(gh.sim.issues("acme", "payments-api").len(), 0);
    assert!(ticket(&s, f).await.is_none());

    // A person adds the field and retries: the rest is sent, the error goes.
    gh.sim.add_single_select_field("acme", 2, "Priority", &["P0", "P1", "P2", "P3", "P4"]);
    let r = s.post(&format!("/api/v1/integrations/errors/{}/retry", e["id"]), json!({})).await.ok(200);
    assert_eq!(r["queued"], 1);
    s.drain(LONG).await;
    assert_eq!(s.get(&format!("/api/v1/integrations/mappings/{m2}")).await["total_errors"], 0);
    let issue = gh.sim.issues("acme", "payments-api").remove(0);
    assert_eq!(gh.sim.project_field_value("acme", 2, &issue.node_id, "Priority").as_deref(), Some("P2"));
    assert_eq!(gh.sim.issues("acme", "payments-api").len(), 1, "the retry did not create a second issue");

    // Retry all.
    gh.sim.set_issues_enabled("acme", "payments-api", false);
    let g = s.finding(test, "Another", "high").await;
    s.drain(LONG).await;
    assert_eq!(s.get(&format!("/api/v1/integrations/mappings/{m2}")).await["total_errors"], 1);
    gh.sim.set_issues_enabled("acme", "payments-api", true);
    assert_eq!(s.post(&format!("/api/v1/integrations/mappings/{m2}/errors/retry"), json!({})).await.ok(200)["queued"], 1);
    s.drain(LONG).await;
    assert_eq!(s.get(&format!("/api/v1/integrations/mappings/{m2}")).await["total_errors"], 0);
    assert!(ticket(&s, g).await.is_some());
}

async fn check_connection_says_what_is_wrong(t: TestDb) {
    let s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    let ok = s.post(&format!("/api/v1/integrations/instances/{}/check", gh.instance), json!({"mapping": gh.mapping})).await.ok(200);
    assert!(ok["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true), "{ok}");
    assert_eq!(ok["account"], "vulnbridge-bot");
    let failing = |r: &Value, name: &str| -> String {
        r["checks"].as_array().unwrap().iter().find(|c| c["name"] == name && c["ok"] == false).map(|c| c["detail"].as_str().unwrap().to_owned()).unwrap_or_else(|| panic!("no failing {name} check in {r}"))
    };
    // A bad token.
    s.call("PATCH", &format!("/api/v1/integrations/instances/{}", gh.instance), Some(json!({"credentials": {"token": "ghp_revokedrevokedrevokedrevoked00000"}}))).await.ok(200);
    let r = s.post(&format!("/api/v1/integrations/instances/{}/check", gh.instance), json!({})).await.ok(200);
    let why = failing(&r, "credentials");
    assert!(why.contains("401") || why.to_lowercase().contains("bad credentials"), "{why}");
    assert!(!r.to_string().contains("ghp_revoked"), "the token is never echoed");
    // A token without the project scope.
    gh.sim.add_user("narrow", "ghp_narrowScopeToken0000000000000000000", &["repo"]);
    gh.sim.grant("narrow", "acme", "storefront", "write");
    s.call("PATCH", &format!("/api/v1/integrations/instances/{}", gh.instance), Some(json!({"credentials": {"token": "ghp_narrowScopeToken0000000000000000000"}}))).await.ok(200);
    let r = s.post(&format!("/api/v1/integrations/instances/{}/check", gh.instance), json!({"mapping": gh.mapping})).await.ok(200);
    assert!(failing(&r, "scopes").contains("project"), "{r}");
    // Back to the bot; a missing repository, project, and Priority field.
    s.call("PATCH", &format!("/api/v1/integrations/instances/{}", gh.instance), Some(json!({"credentials": {"token": BOT_TOKEN}}))).await.ok(200);
    gh.sim.add_project("acme", 3, "No priority");
    for (target, check) in [
        (json!({"vendor": "github", "repository": "nope", "project_number": 1}), "repository"),
        (json!({"vendor": "github", "repository": "storefront", "project_number": 9}), "project"),
        (json!({"vendor": "github", "repository": "storefront", "project_number": 3}), "Priority field"),
    ] {
        let m = s
            .post("/api/v1/integrations/mappings", json!({"instance": gh.instance, "label": format!("bad {check}"), "target": target, "register_webhook": false}))
            .await
            .ok(201);
        let r = s.post(&format!("/api/v1/integrations/mappings/{}/check", m["id"]), json!({})).await.ok(200);
        failing(&r, check);
    }
    let _ = ALICE_TOKEN;
}

async fn no_duplicate_tickets_after_repeated_worker_kills(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    let (product, _, test) = s.world("Shop").await;
    assign(&s, gh.mapping, product, "link_new_and_update", json!({})).await;

    // First, exactly the dangerous moment: the issue exists at GitHub, the worker dies
    // before recording it (the project-item call after it hangs, and the worker is killed).
    gh.sim.faults().push(simulators::Fault { body_contains: Some("addProjectV2ItemById".into()), delay_ms: 3000, times: 1, ..Default::default() });
    let first = s.finding(test, "Finding killed mid-create", "high").await;
    s.start_worker();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while issues(&gh.sim).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the create never reached GitHub");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.kill_worker().await;
    let tk = ticket(&s, first).await.unwrap();
    assert_eq!(tk["link_state"], "creating", "the worker died before recording the issue");
    s.drain(LONG).await;
    assert_eq!(issues(&gh.sim).len(), 1, "found by its marker, not created again");
    let tk = s.finding_json(first).await["tickets"][0].clone();
    assert_eq!(tk["link_state"], "linked");
    assert!(tk["changelog"].as_array().unwrap().iter().any(|c| c["action"] == "adopted"), "{tk}");
    assert_eq!(gh.sim.project_field_value("acme", 1, &issues(&gh.sim)[0].node_id, "Priority").as_deref(), Some("P3"));

    // Then: many findings, the worker killed again and again at random moments, every call
    // slowed so kills land mid-push.
    // Lost replies too: the issue is made, the answer is a 502 (the first matching rule
    // applies, so this one goes first).
    gh.sim.faults().push(simulators::Fault { method: Some("POST".into()), path_contains: Some("/issues".into()), after_serving: true, status: 502, times: 3, ..Default::default() });
    gh.sim.faults().push(simulators::Fault { delay_ms: 40, times: 100_000, ..Default::default() });
    let mut ids = vec![first];
    for i in 0..24 {
        ids.push(s.finding(test, &format!("Finding {i}"), if i % 2 == 0 { "critical" } else { "medium" }).await);
    }
    for round in 0..12u64 {
        s.start_worker();
        tokio::time::sleep(Duration::from_millis(150 + (round * 37) % 200)).await;
        s.kill_worker().await;
    }
    gh.sim.faults().clear();
    s.drain(Duration::from_secs(120)).await;
    let all = issues(&gh.sim);
    assert_eq!(all.len(), ids.len(), "exactly one issue per finding");
    let mut titles: Vec<&str> = all.iter().map(|i| i.title.as_str()).collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), ids.len(), "no title twice");
    for id in &ids {
        let tk = ticket(&s, *id).await.unwrap();
        assert_eq!(tk["link_state"], "linked", "{tk}");
    }
    assert_eq!(gh.sim.project_item_count("acme", 1), ids.len());
}

async fn secondary_rate_limits_are_waited_out(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    // GitHub enforces 6 content-creating requests per (scaled) minute of 1.2 s; our budget
    // does not know (as with an administrator's custom limit): GitHub's 403 + Retry-After
    // must stop every push until then, and all must get through with no error.
    gh.sim.set_limits(Limits { content_per_minute: 6, window_scale: 0.02, ..Limits::default() });
    let (product, _, test) = s.world("Shop").await;
    assign(&s, gh.mapping, product, "link_new", json!({})).await;
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(s.finding(test, &format!("Finding {i}"), "high").await);
    }
    s.drain(Duration::from_secs(120)).await;
    assert_eq!(issues(&gh.sim).len(), 8);
    assert_eq!(s.get(&format!("/api/v1/integrations/mappings/{}", gh.mapping)).await["total_errors"], 0);
    let q = s.get(&format!("/api/v1/integrations/instances/{}/queue", gh.instance)).await;
    assert_eq!((q["queued"].as_i64(), q["dead"].as_i64()), (Some(0), Some(0)), "{q}");
}

async fn webhooks_are_verified(t: TestDb) {
    let s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    let http = reqwest::Client::new();
    let body = r#"{"action":"closed","issue":{"id":1,"node_id":"I_x","number":1,"title":"t","state":"closed","state_reason":"completed","labels":[],"html_url":"https://github.com/acme/x/issues/1"},"repository":{"id":1,"name":"x","full_name":"acme/x"},"sender":{"login":"mallory","id":9}}"#;
    for (path, sig, expect) in [
        (format!("/webhooks/{}/", gh.instance), None, 401),
        (format!("/webhooks/{}", gh.instance), Some("sha256=00"), 401),
        ("/webhooks/999999/".to_owned(), Some("sha256=00"), 404),
    ] {
        let mut req = http.post(format!("{}{path}", s.base)).header("X-GitHub-Event", "issues").header("Content-Type", "application/json").body(body);
        if let Some(sig) = sig {
            req = req.header("X-Hub-Signature-256", sig);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), expect, "{path}");
    }
    // Signed with the right secret (rotated, so we know it): accepted, and about a ticket we
    // do not own, ignored.
    let secret = s.post(&format!("/api/v1/integrations/instances/{}/webhook-secret", gh.instance), json!({})).await.ok(200)["webhook_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let sig = trackers::webhook::sign_hmac_sha256_hex(body.as_bytes(), &secret);
    for path in [format!("/webhooks/{}", gh.instance), format!("/webhooks/{}/", gh.instance)] {
        let r = http
            .post(format!("{}{path}", s.base))
            .header("X-GitHub-Event", "issues")
            .header("X-GitHub-Delivery", format!("d-{path}"))
            .header("X-Hub-Signature-256", &sig)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["applied"], json!(["not_ours"]), "{v}");
    }
}
