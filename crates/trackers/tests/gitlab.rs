//! The GitLab client against the GitLab simulator, over HTTP.

use chrono::Utc;
use domain::tracker::{
    Changes, CloseReason, FieldValue, MappingConfig, MappingTarget, Marker, Part, RemoteChange,
    Subject, TicketFields, TicketState, Vendor,
};
use domain::{FindingId, MappingId};
use secrecy::SecretString;
use serde_json::{Value, json};
use simulators::gitlab::{GitLabSim, Limits};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use trackers::outbound::OutboundPolicy;
use trackers::webhook::WebhookError;
use trackers::{Connection, Credentials, NoLimits, Progress, RemoteRef, Tracker, TrackerError};

const BOT: &str = "glpat-simulatorBotToken0000";
const BOB: &str = "glpat-simulatorBobToken00000";
const PROJECT: &str = "acme/mobile-backend";

async fn sim() -> GitLabSim {
    GitLabSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client(sim: &GitLabSim, token: &str) -> Arc<dyn Tracker> {
    let conn = Connection {
        vendor: Vendor::GitLab,
        location: url::Url::parse(&sim.location()).unwrap(),
        credentials: Credentials::Token(SecretString::from(token.to_owned())),
    };
    trackers::client(conn, Arc::new(NoLimits), &OutboundPolicy::default()).unwrap()
}

fn mapping(project: &str) -> MappingConfig {
    let mut m = MappingConfig::defaults(MappingTarget::GitLab {
        project: project.into(),
    });
    m.labels = vec!["security".into()];
    m
}

fn marker(finding: i64) -> Marker {
    Marker {
        installation: "k3x9q2".into(),
        mapping: MappingId(3),
        subject: Subject::Finding(FindingId(finding)),
    }
}

fn fields(finding: i64, state: TicketState) -> TicketFields {
    let m = marker(finding);
    let status = if state.is_open() { "opened" } else { "closed" };
    TicketFields {
        title: format!("[VULNBRIDGE] {finding} - SQL injection"),
        body: format!("A finding.\n\n{}\n", m.html_comment()),
        labels: ["vulnbridge".to_owned(), "security".to_owned()].into(),
        severity: FieldValue::new("Priority", "4"),
        status: FieldValue::new("Status", status),
        state,
        custom: BTreeMap::new(),
    }
}

async fn create(
    t: &Arc<dyn Tracker>,
    m: &MappingConfig,
    f: &TicketFields,
    finding: i64,
) -> RemoteRef {
    let mut progress = Progress::default();
    t.create(m, f, &marker(finding), &mut progress)
        .await
        .unwrap();
    progress.remote.expect("the issue exists")
}

fn labels(sim: &GitLabSim, iid: u64) -> Vec<String> {
    sim.issues(PROJECT)
        .into_iter()
        .find(|i| i.iid == iid)
        .map(|i| i.labels)
        .unwrap_or_default()
}

/// A person's request to the GitLab API, as dev-bob.
async fn as_bob(sim: &GitLabSim, method: reqwest::Method, path: &str, body: Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{}/api/v4{path}", sim.base_url()))
        .header("PRIVATE-TOKEN", BOB)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "{}",
        r.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn create_is_one_call_for_an_open_ticket_and_two_for_a_closed_one() {
    let sim = sim().await;
    let t = client(&sim, BOT);
    let m = mapping(PROJECT);
    let mut progress = Progress::default();
    t.create(
        &m,
        &fields(17, TicketState::Open),
        &marker(17),
        &mut progress,
    )
    .await
    .unwrap();
    assert_eq!(sim.requests().total(), 1);
    let remote = progress.remote.clone().unwrap();
    let issue = &sim.issues(PROJECT)[0];
    assert_eq!(
        remote.id,
        issue.id.to_string(),
        "the global id, which webhooks name"
    );
    assert_eq!(remote.key, "acme/mobile-backend#1");
    assert!(remote.url.ends_with("/acme/mobile-backend/-/issues/1"));
    assert_eq!(remote.data["iid"], 1);
    assert!(remote.data["project_id"].as_u64().is_some());
    assert_eq!(issue.labels, ["Priority::4", "security", "vulnbridge"]);
    assert_eq!(issue.state, "opened");
    assert!(
        issue
            .description
            .as_deref()
            .unwrap_or("")
            .contains(&marker(17).token())
    );
    let all: BTreeSet<Part> = [
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Status,
        Part::State,
    ]
    .into();
    assert_eq!(progress.done, all);

    sim.requests().reset();
    let mut progress = Progress::default();
    t.create(
        &m,
        &fields(18, TicketState::Closed(CloseReason::Completed)),
        &marker(18),
        &mut progress,
    )
    .await
    .unwrap();
    assert_eq!(sim.requests().total(), 2);
    assert_eq!(
        sim.requests()
            .counts()
            .get("PUT /api/v4/projects/{id}/issues/{iid}"),
        Some(&1)
    );
    assert_eq!(sim.issues(PROJECT)[1].state, "closed");
    assert!(progress.done.contains(&Part::State) && progress.done.contains(&Part::Status));
}

#[tokio::test]
async fn update_sends_one_put_and_keeps_labels_people_added() {
    let sim = sim().await;
    let t = client(&sim, BOT);
    let m = mapping(PROJECT);
    let remote = create(&t, &m, &fields(17, TicketState::Open), 17).await;
    as_bob(
        &sim,
        reqwest::Method::PUT,
        "/projects/acme%2Fmobile-backend/issues/1",
        json!({"add_labels": "team-a"}),
    )
    .await;

    sim.requests().reset();
    let changes = Changes {
        title: Some("[VULNBRIDGE] 17 - SQL injection (login)".into()),
        body: Some(format!("Updated.\n\n{}\n", marker(17).html_comment())),
        labels_added: ["sla-7d".to_owned()].into(),
        labels_removed: ["security".to_owned()].into(),
        severity: Some(FieldValue::new("Priority", "5")),
        ..Changes::default()
    };
    let mut progress = Progress::default();
    t.update(&m, &remote, &changes, &mut progress)
        .await
        .unwrap();
    assert_eq!(sim.requests().total(), 1, "{:?}", sim.requests().counts());
    let issue = &sim.issues(PROJECT)[0];
    assert_eq!(issue.title, "[VULNBRIDGE] 17 - SQL injection (login)");
    assert!(
        issue
            .description
            .as_deref()
            .unwrap_or("")
            .starts_with("Updated.")
    );
    assert_eq!(
        issue.labels,
        ["Priority::5", "sla-7d", "team-a", "vulnbridge"],
        "team-a survives; Priority swapped"
    );
    let want: BTreeSet<Part> = [Part::Title, Part::Body, Part::Labels, Part::Severity].into();
    assert_eq!(progress.done, want);

    // A close with its comment: one PUT and one note.
    sim.requests().reset();
    let changes = Changes {
        state: Some(TicketState::Closed(CloseReason::Completed)),
        status: Some(FieldValue::new("Status", "closed")),
        comment: Some("Closed by vulnbridge: the finding is now Mitigated.".into()),
        ..Changes::default()
    };
    let mut progress = Progress::default();
    t.update(&m, &remote, &changes, &mut progress)
        .await
        .unwrap();
    assert_eq!(sim.requests().total(), 2);
    let issue = &sim.issues(PROJECT)[0];
    assert_eq!(issue.state, "closed");
    assert_eq!(
        issue.notes,
        ["Closed by vulnbridge: the finding is now Mitigated."]
    );
    assert_eq!(
        progress.done,
        [Part::Status, Part::State, Part::Comment].into()
    );

    // A reopen; and a comment alone is one call; nothing to change is no call at all.
    let changes = Changes {
        state: Some(TicketState::Open),
        status: Some(FieldValue::new("Status", "opened")),
        ..Changes::default()
    };
    t.update(&m, &remote, &changes, &mut Progress::default())
        .await
        .unwrap();
    assert_eq!(sim.issues(PROJECT)[0].state, "opened");
    sim.requests().reset();
    let changes = Changes {
        comment: Some("note".into()),
        ..Changes::default()
    };
    t.update(&m, &remote, &changes, &mut Progress::default())
        .await
        .unwrap();
    assert_eq!(sim.requests().total(), 1);
    sim.requests().reset();
    t.update(&m, &remote, &Changes::default(), &mut Progress::default())
        .await
        .unwrap();
    assert_eq!(sim.requests().total(), 0);
}

#[tokio::test]
async fn non_native_statuses_are_scoped_labels_beside_the_state() {
    let sim = sim().await;
    let t = client(&sim, BOT);
    let mut m = mapping(PROJECT);
    m.status_mapping.in_progress = Some("In review".into());
    m.status_mapping.false_positive = "Won't fix".into();
    let mut f = fields(5, TicketState::Open);
    f.status = FieldValue::new("Status", "In review");
    let remote = create(&t, &m, &f, 5).await;
    assert!(labels(&sim, 1).contains(&"Status::In review".to_owned()));
    let changes = Changes {
        status: Some(FieldValue::new("Status", "Won't fix")),
        state: Some(TicketState::Closed(CloseReason::NotPlanned)),
        ..Changes::default()
    };
    t.update(&m, &remote, &changes, &mut Progress::default())
        .await
        .unwrap();
    let l = labels(&sim, 1);
    assert!(
        l.contains(&"Status::Won't fix".to_owned()) && !l.contains(&"Status::In review".to_owned()),
        "{l:?}"
    );
    assert_eq!(sim.issues(PROJECT)[0].state, "closed");
    let changes = Changes {
        status: Some(FieldValue::new("Status", "opened")),
        state: Some(TicketState::Open),
        ..Changes::default()
    };
    t.update(&m, &remote, &changes, &mut Progress::default())
        .await
        .unwrap();
    assert!(!labels(&sim, 1).iter().any(|l| l.starts_with("Status::")));
}

#[tokio::test]
async fn weight_severity_and_custom_fields() {
    let sim = sim().await;
    let t = client(&sim, BOT);
    let bob = sim.user_id("dev-bob").unwrap();
    let milestone = sim.add_milestone(PROJECT, "Q3");
    let mut m = mapping(PROJECT);
    m.severity_mapping.field = "weight".into();
    m.custom_fields = [
        ("confidential".to_owned(), json!(true)),
        ("issue_type".to_owned(), json!("incident")),
        ("due_date".to_owned(), json!("2030-06-30")),
        ("milestone_id".to_owned(), json!(milestone)),
        ("assignee_ids".to_owned(), json!([bob])),
    ]
    .into();
    let mut f = fields(9, TicketState::Open);
    f.severity = FieldValue::new("weight", "4");
    f.custom = m.custom_fields.clone();
    let mut progress = Progress::default();
    t.create(&m, &f, &marker(9), &mut progress).await.unwrap();
    let issue = &sim.issues(PROJECT)[0];
    assert_eq!(issue.weight, Some(4));
    assert!(
        !issue.labels.iter().any(|l| l.contains("::")),
        "{:?}",
        issue.labels
    );
    assert!(issue.confidential);
    assert_eq!(
        (issue.issue_type.as_str(), issue.due_date.as_deref()),
        ("incident", Some("2030-06-30"))
    );
    assert_eq!(
        (issue.milestone_id, issue.assignee_ids.clone()),
        (Some(milestone), vec![bob])
    );
    assert!(progress.done.contains(&Part::Custom("milestone_id".into())));
    let remote = progress.remote.unwrap();
    let changes = Changes {
        severity: Some(FieldValue::new("weight", "1")),
        custom: [
            ("milestone_id".to_owned(), Value::Null),
            ("due_date".to_owned(), Value::Null),
        ]
        .into(),
        ..Changes::default()
    };
    t.update(&m, &remote, &changes, &mut Progress::default())
        .await
        .unwrap();
    let issue = &sim.issues(PROJECT)[0];
    assert_eq!(
        (issue.weight, issue.milestone_id, issue.due_date.clone()),
        (Some(1), None, None)
    );

    // Fields GitLab does not have are refused before any call.
    sim.requests().reset();
    let mut bad = mapping(PROJECT);
    bad.custom_fields = [("Team".to_owned(), json!("payments"))].into();
    let mut f = fields(10, TicketState::Open);
    f.custom = bad.custom_fields.clone();
    let err = t
        .create(&bad, &f, &marker(10), &mut Progress::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TrackerError::Misconfigured(m) if m.contains("'Team'")),
        "{err:?}"
    );
    assert_eq!(sim.requests().total(), 0);
}

#[tokio::test]
async fn a_guest_gets_a_clear_error_when_gitlab_drops_the_labels() {
    let sim = sim().await;
    sim.add_user("guest", "glpat-guest", &["api"]);
    sim.grant("guest", PROJECT, 10);
    let t = client(&sim, "glpat-guest");
    let mut progress = Progress::default();
    let err = t
        .create(
            &mapping(PROJECT),
            &fields(1, TicketState::Open),
            &marker(1),
            &mut progress,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TrackerError::Forbidden(m) if m.contains("Planner or Reporter")),
        "{err:?}"
    );
    assert!(progress.remote.is_some(), "the issue exists even so");
    assert!(progress.done.contains(&Part::Title) && !progress.done.contains(&Part::Labels));
}

#[tokio::test]
async fn find_by_marker_reads_every_page() {
    let sim = sim().await;
    let t = client(&sim, BOT);
    let m = mapping(PROJECT);
    let since = Utc::now();
    for finding in 1..=105 {
        create(&t, &m, &fields(finding, TicketState::Open), finding).await;
    }
    sim.requests().reset();
    let found = t
        .find_by_marker(&m, &marker(103), since)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.remote.key, "acme/mobile-backend#103");
    assert!(found.open);
    assert_eq!(
        sim.requests()
            .counts()
            .get("GET /api/v4/projects/{id}/issues"),
        Some(&2),
        "two pages of 100"
    );
    assert!(
        t.find_by_marker(&m, &marker(999), since)
            .await
            .unwrap()
            .is_none()
    );
    sim.close_issue_as("dev-bob", PROJECT, 2).unwrap();
    let found = t
        .find_by_marker(&m, &marker(2), since)
        .await
        .unwrap()
        .expect("found");
    assert!(!found.open);
}

#[tokio::test]
async fn check_names_every_failure() {
    let sim = sim().await;
    let m = mapping(PROJECT);
    let report = client(&sim, BOT).check(Some(&m)).await;
    assert!(report.ok(), "{}", report.failures());
    assert_eq!(report.account.as_deref(), Some("vulnbridge-bot"));
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["credentials", "scopes", "project", "fields"]);
    assert!(
        report.checks[1].detail.contains("expires on"),
        "{}",
        report.checks[1].detail
    );
    assert!(report.checks[2].detail.contains("Maintainer"));

    let report = client(&sim, "glpat-wrong").check(Some(&m)).await;
    assert!(!report.ok());
    assert_eq!(report.account, None);
    assert!(
        report
            .failures()
            .contains("credentials: GitLab refused the token: 401 Unauthorized"),
        "{}",
        report.failures()
    );

    sim.add_user("reader", "glpat-reader", &["read_api"]);
    let report = client(&sim, "glpat-reader").check(None).await;
    let scopes = report.checks.iter().find(|c| c.name == "scopes").unwrap();
    assert!(
        !scopes.ok
            && scopes.detail.contains("needs the api scope")
            && scopes.detail.contains("read_api"),
        "{}",
        scopes.detail
    );

    sim.add_user("old", "glpat-old", &["api"]);
    sim.expire_token("glpat-old");
    let report = client(&sim, "glpat-old").check(None).await;
    assert!(
        report.failures().contains("Token is expired"),
        "{}",
        report.failures()
    );
    assert!(
        report.failures().contains("scopes: the token has expired"),
        "{}",
        report.failures()
    );

    sim.add_user("gone", "glpat-gone", &["api"]);
    sim.revoke_token("glpat-gone");
    let report = client(&sim, "glpat-gone").check(None).await;
    assert!(
        report.failures().contains("revoked"),
        "{}",
        report.failures()
    );

    let report = client(&sim, BOT).check(Some(&mapping("acme/nope"))).await;
    assert!(
        report
            .failures()
            .contains("project: GitLab project 'acme/nope' does not exist"),
        "{}",
        report.failures()
    );

    sim.add_user("guest", "glpat-guest", &["api"]);
    sim.grant("guest", PROJECT, 10);
    let report = client(&sim, "glpat-guest").check(Some(&m)).await;
    let project = report.checks.iter().find(|c| c.name == "project").unwrap();
    assert!(
        !project.ok && project.detail.contains("Guest role (10)"),
        "{}",
        project.detail
    );

    let mut bad = mapping(PROJECT);
    bad.custom_fields = [("Team".to_owned(), json!("a"))].into();
    let report = client(&sim, BOT).check(Some(&bad)).await;
    assert!(
        report
            .failures()
            .contains("fields: GitLab issues have no field 'Team'"),
        "{}",
        report.failures()
    );
}

#[tokio::test]
async fn a_429_with_retry_after_becomes_rate_limited() {
    let sim = sim().await;
    sim.set_limits(Limits {
        requests_per_minute: 1,
        issues_create_per_minute: 300,
        window_scale: 1.0,
    });
    let t = client(&sim, BOT);
    let m = mapping(PROJECT);
    create(&t, &m, &fields(1, TicketState::Open), 1).await;
    let before = Utc::now();
    let err = t
        .create(
            &m,
            &fields(2, TicketState::Open),
            &marker(2),
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    let TrackerError::RateLimited {
        until: Some(until), ..
    } = err
    else {
        panic!("{err:?}")
    };
    let wait = (until - before).num_seconds();
    assert!(
        (50..=61).contains(&wait),
        "Retry-After of about a minute, got {wait} s"
    );
}

fn http_headers(d: &simulators::common::Delivery) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in &d.headers {
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[tokio::test]
async fn webhooks_are_registered_once_and_parsed() {
    let sim = sim().await;
    let t = client(&sim, BOT);
    let m = mapping(PROJECT);
    // Nothing listens there: deliveries are still recorded by the simulator's outbox.
    let url = url::Url::parse("http://127.0.0.1:9/webhooks/7/").unwrap();
    let secret = SecretString::from("hook-secret".to_owned());
    t.register_webhook(&m, &url, &SecretString::from("old".to_owned()))
        .await
        .unwrap();
    t.register_webhook(&m, &url, &secret).await.unwrap();
    let counts = sim.requests().counts();
    assert_eq!(counts.get("POST /api/v4/projects/{id}/hooks"), Some(&1));
    assert_eq!(
        counts.get("PUT /api/v4/projects/{id}/hooks/{hook_id}"),
        Some(&1)
    );

    let remote = create(&t, &m, &fields(17, TicketState::Open), 17).await;
    sim.close_issue_as("dev-bob", PROJECT, 1).unwrap();
    sim.reopen_issue_as("dev-bob", PROJECT, 1).unwrap();
    as_bob(
        &sim,
        reqwest::Method::PUT,
        "/projects/acme%2Fmobile-backend/issues/1",
        json!({"add_labels": "Status::In review"}),
    )
    .await;
    as_bob(
        &sim,
        reqwest::Method::POST,
        "/projects/acme%2Fmobile-backend/issues/1/notes",
        json!({"body": "done?"}),
    )
    .await;
    sim.webhooks().wait_idle().await;
    let sent = sim.webhooks().sent();
    assert_eq!(sent.len(), 5, "open, close, reopen, update, note");
    let parse = |i: usize| {
        trackers::webhook::parse(
            Vendor::GitLab,
            &http_headers(&sent[i]),
            sent[i].body.as_bytes(),
            &secret,
        )
    };

    assert_eq!(parse(0).unwrap(), vec![], "a new issue changes nothing");
    let closed = parse(1).unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].change, RemoteChange::Closed { reason: None });
    assert_eq!(closed[0].remote_id, remote.id);
    assert_eq!(closed[0].actor.as_deref(), Some("dev-bob"));
    let uuid = sent[1]
        .headers
        .iter()
        .find(|(k, _)| k == "X-Gitlab-Event-UUID")
        .map(|(_, v)| v.clone());
    assert_eq!(closed[0].delivery, uuid);
    assert_eq!(parse(2).unwrap()[0].change, RemoteChange::Reopened);
    assert_eq!(
        parse(3)
            .unwrap()
            .into_iter()
            .map(|e| e.change)
            .collect::<Vec<_>>(),
        [RemoteChange::Field {
            field: "Status".into(),
            value: "In review".into()
        }]
    );
    assert_eq!(parse(4).unwrap(), vec![], "comments change nothing");

    let wrong = SecretString::from("not-it".to_owned());
    let h = http_headers(&sent[1]);
    assert_eq!(
        trackers::webhook::parse(Vendor::GitLab, &h, sent[1].body.as_bytes(), &wrong),
        Err(WebhookError::BadSignature("X-Gitlab-Token header"))
    );
    let mut unsigned = h.clone();
    unsigned.remove("x-gitlab-token");
    assert_eq!(
        trackers::webhook::parse(Vendor::GitLab, &unsigned, sent[1].body.as_bytes(), &secret),
        Err(WebhookError::Unsigned("X-Gitlab-Token header"))
    );
    // The token is checked before the body is read.
    assert_eq!(
        trackers::webhook::parse(Vendor::GitLab, &unsigned, b"not json", &secret),
        Err(WebhookError::Unsigned("X-Gitlab-Token header"))
    );
    assert!(matches!(
        trackers::webhook::parse(Vendor::GitLab, &h, b"not json", &secret),
        Err(WebhookError::Unreadable(_))
    ));
}
