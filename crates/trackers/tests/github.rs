//! The GitHub client against the GitHub simulator over HTTP: creates (with and without a
//! project, closed at creation), updates of every part, closes and reopens, marker searches
//! across pages, "check connection" on every failure, webhooks, rate limits, and how many
//! calls each push costs.

use async_trait::async_trait;
use domain::tracker::{
    Changes, CloseReason, FieldValue, MARKER_LABEL, MappingConfig, MappingTarget, Marker, Part,
    RemoteChange, Subject, TicketFields, TicketState, Vendor,
};
use domain::{FindingId, MappingId};
use secrecy::SecretString;
use serde_json::{Value, json};
use simulators::Fault;
use simulators::github::{GitHubSim, Limits};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use trackers::outbound::OutboundPolicy;
use trackers::{
    Connection, Credentials, Limiter, NoLimits, Progress, RateInfo, RequestClass, Tracker,
    TrackerError,
};

const BOT: &str = "ghp_simulatorBotToken000000000000000000";
const ALICE: &str = "ghp_simulatorAliceToken00000000000000000";

async fn sim() -> GitHubSim {
    GitHubSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client_with(sim: &GitHubSim, token: &str, limiter: Arc<dyn Limiter>) -> Arc<dyn Tracker> {
    let conn = Connection {
        vendor: Vendor::GitHub,
        location: url::Url::parse(&sim.location("acme")).unwrap(),
        credentials: Credentials::Token(SecretString::from(token.to_owned())),
    };
    trackers::client(conn, limiter, &OutboundPolicy::default()).unwrap()
}

fn client(sim: &GitHubSim, token: &str) -> Arc<dyn Tracker> {
    client_with(sim, token, Arc::new(NoLimits))
}

fn mapping(project: Option<u32>) -> MappingConfig {
    MappingConfig::defaults(MappingTarget::GitHub {
        repository: "storefront".into(),
        project_number: project,
    })
}

fn marker(n: i64) -> Marker {
    Marker {
        installation: "t3st".into(),
        mapping: MappingId(1),
        subject: Subject::Finding(FindingId(n)),
    }
}

fn fields(n: i64, severity: &str, status: &str, state: TicketState) -> TicketFields {
    TicketFields {
        title: format!("[VULNBRIDGE] {n} - SQL injection"),
        body: format!("Details of finding {n}.\n\n{}", marker(n).html_comment()),
        labels: [MARKER_LABEL.to_owned(), "security".to_owned()].into(),
        severity: FieldValue::new("Priority", severity),
        status: FieldValue::new("Status", status),
        state,
        custom: BTreeMap::new(),
    }
}

fn all_parts(f: &TicketFields) -> BTreeSet<Part> {
    let mut p: BTreeSet<Part> = [
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Status,
        Part::State,
    ]
    .into();
    p.extend(f.custom.keys().map(|k| Part::Custom(k.clone())));
    p
}

/// The number of API calls since the last reset, REST and GraphQL.
fn calls(sim: &GitHubSim) -> u64 {
    sim.requests().total()
}

async fn create(gh: &Arc<dyn Tracker>, m: &MappingConfig, f: &TicketFields, n: i64) -> Progress {
    let mut p = Progress::default();
    gh.create(m, f, &marker(n), &mut p).await.unwrap();
    p
}

#[tokio::test]
async fn create_with_a_project_sets_every_field_in_one_request() {
    let sim = sim().await;
    let gh = client(&sim, BOT);
    let m = mapping(Some(1));
    let f = fields(1, "P2", "In Progress", TicketState::Open);
    let p = create(&gh, &m, &f, 1).await;
    let remote = p.remote.clone().unwrap();
    let issue = sim.issues("acme", "storefront")[0].clone();
    assert_eq!(remote.id, issue.node_id);
    assert_eq!(remote.key, "acme/storefront#1");
    assert_eq!(
        remote.url,
        format!("{}/acme/storefront/issues/1", sim.base_url())
    );
    assert_eq!(remote.data["number"], 1);
    assert_eq!(remote.data["repo"], "storefront");
    assert!(
        remote.data["item_id"]
            .as_str()
            .unwrap()
            .starts_with("PVTI_")
    );
    assert_eq!(p.done, all_parts(&f));
    assert_eq!(issue.title, f.title);
    assert_eq!(issue.labels, ["security", "vulnbridge"]);
    assert_eq!(
        issue.body.as_deref(),
        Some(f.body.as_str()),
        "the marker is already in the body: nothing added"
    );
    assert_eq!(
        sim.project_field_value("acme", 1, &issue.node_id, "Priority")
            .as_deref(),
        Some("P2")
    );
    assert_eq!(
        sim.project_field_value("acme", 1, &issue.node_id, "Status")
            .as_deref(),
        Some("In Progress")
    );
    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("POST /api/graphql repositoryOwner"),
        Some(&1),
        "the project lookup, once: {counts:?}"
    );
    assert_eq!(
        calls(&sim),
        4,
        "project lookup, issue, item, fields: {counts:?}"
    );

    // With the project cached, a create is three calls.
    sim.requests().reset();
    create(
        &gh,
        &m,
        &fields(2, "P4", "In Progress", TicketState::Open),
        2,
    )
    .await;
    let counts = sim.requests().counts();
    assert_eq!(calls(&sim), 3, "{counts:?}");
    assert_eq!(
        counts.get("POST /api/v3/repos/{owner}/{repo}/issues"),
        Some(&1)
    );
    assert_eq!(
        counts.get("POST /api/graphql addProjectV2ItemById"),
        Some(&1)
    );
    assert_eq!(
        counts.get("POST /api/graphql updateProjectV2ItemFieldValue"),
        Some(&1)
    );
}

#[tokio::test]
async fn create_without_a_project_writes_priority_and_status_as_labels() {
    let sim = sim().await;
    let gh = client(&sim, BOT);
    let m = mapping(None);
    let f = fields(1, "P2", "In Progress", TicketState::Open);
    let p = create(&gh, &m, &f, 1).await;
    assert_eq!(p.done, all_parts(&f));
    assert_eq!(p.remote.unwrap().data.get("item_id"), None);
    let issue = &sim.issues("acme", "storefront")[0];
    let mut labels = issue.labels.clone();
    labels.sort();
    assert_eq!(
        labels,
        [
            "Priority: P2",
            "Status: In Progress",
            "security",
            "vulnbridge"
        ]
    );
    assert_eq!(calls(&sim), 1);

    let mut f = fields(2, "P2", "In Progress", TicketState::Open);
    f.custom.insert("Team".into(), json!("payments"));
    sim.requests().reset();
    let mut p = Progress::default();
    let e = gh.create(&m, &f, &marker(2), &mut p).await.unwrap_err();
    assert!(
        matches!(&e, TrackerError::Misconfigured(msg) if msg.contains("custom fields (Team) are project fields")),
        "{e}"
    );
    assert!(p.remote.is_none());
    assert_eq!(calls(&sim), 0, "refused before any call");
}

#[tokio::test]
async fn a_ticket_closed_at_creation_is_closed_with_its_reason() {
    let sim = sim().await;
    let gh = client(&sim, BOT);
    let m = mapping(Some(1));
    create(&gh, &m, &fields(0, "P0", "Done", TicketState::Open), 0).await;
    sim.requests().reset();
    let f = fields(
        1,
        "P1",
        "Done",
        TicketState::Closed(CloseReason::NotPlanned),
    );
    let p = create(&gh, &m, &f, 1).await;
    assert_eq!(p.done, all_parts(&f));
    let issue = &sim.issues("acme", "storefront")[1];
    assert_eq!(
        (issue.state.as_str(), issue.state_reason.as_deref()),
        ("closed", Some("not_planned"))
    );
    assert_eq!(
        sim.project_field_value("acme", 1, &issue.node_id, "Status")
            .as_deref(),
        Some("Done")
    );
    assert_eq!(
        calls(&sim),
        4,
        "issue, item, fields, close: {:?}",
        sim.requests().counts()
    );
}

#[tokio::test]
async fn updates_send_only_what_changed_and_keep_peoples_labels() {
    let sim = sim().await;
    sim.add_field("acme", 1, "Team", "TEXT");
    let gh = client(&sim, BOT);
    let m = mapping(Some(1));
    let p = create(
        &gh,
        &m,
        &fields(1, "P2", "In Progress", TicketState::Open),
        1,
    )
    .await;
    let remote = p.remote.unwrap();
    // A person adds a label of their own.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/v3/repos/acme/storefront/issues/1/labels",
            sim.base_url()
        ))
        .bearer_auth(ALICE)
        .json(&json!({ "labels": ["triaged"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    sim.requests().reset();
    let mut p = Progress::default();
    gh.update(&m, &remote, &Changes::default(), &mut p)
        .await
        .unwrap();
    assert_eq!(calls(&sim), 0, "nothing to send, nothing sent");
    assert!(p.done.is_empty());

    let changes = Changes {
        title: Some("[VULNBRIDGE] 1 - SQL injection (critical)".into()),
        body: Some(format!("New details.\n\n{}", marker(1).html_comment())),
        labels_added: ["team-a".to_owned()].into(),
        labels_removed: ["security".to_owned()].into(),
        severity: Some(FieldValue::new("Priority", "P4")),
        status: Some(FieldValue::new("Status", "Done")),
        state: None,
        custom: [("Team".to_owned(), json!("payments"))].into(),
        comment: Some("Severity raised to Critical.".into()),
    };
    let mut p = Progress::default();
    gh.update(&m, &remote, &changes, &mut p).await.unwrap();
    let expected: BTreeSet<Part> = [
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Status,
        Part::Custom("Team".into()),
        Part::Comment,
    ]
    .into();
    assert_eq!(p.done, expected);
    assert!(p.remote.is_none(), "the item id did not change");
    let issue = &sim.issues("acme", "storefront")[0];
    assert_eq!(issue.title, "[VULNBRIDGE] 1 - SQL injection (critical)");
    let mut labels = issue.labels.clone();
    labels.sort();
    assert_eq!(
        labels,
        ["team-a", "triaged", "vulnbridge"],
        "the person's label survives"
    );
    assert_eq!(issue.comments, ["Severity raised to Critical."]);
    assert_eq!(
        sim.project_field_value("acme", 1, &issue.node_id, "Priority")
            .as_deref(),
        Some("P4")
    );
    assert_eq!(
        sim.project_field_value("acme", 1, &issue.node_id, "Team")
            .as_deref(),
        Some("payments")
    );
    let counts = sim.requests().counts();
    assert_eq!(
        calls(&sim),
        5,
        "PATCH, add labels, remove label, fields, comment: {counts:?}"
    );
    assert_eq!(
        counts.get("POST /api/graphql updateProjectV2ItemFieldValue"),
        Some(&1),
        "three fields, one request"
    );

    // A custom field no longer set is cleared.
    let mut p = Progress::default();
    let clear = Changes {
        custom: [("Team".to_owned(), Value::Null)].into(),
        ..Changes::default()
    };
    gh.update(&m, &remote, &clear, &mut p).await.unwrap();
    assert_eq!(p.done, [Part::Custom("Team".into())].into());
    assert_eq!(
        sim.project_field_value(
            "acme",
            1,
            &sim.issues("acme", "storefront")[0].node_id,
            "Team"
        ),
        None
    );
}

#[tokio::test]
async fn without_a_project_a_new_priority_replaces_the_old_label() {
    let sim = sim().await;
    let gh = client(&sim, BOT);
    let m = mapping(None);
    let remote = create(
        &gh,
        &m,
        &fields(1, "P2", "In Progress", TicketState::Open),
        1,
    )
    .await
    .remote
    .unwrap();
    let mut p = Progress::default();
    let changes = Changes {
        severity: Some(FieldValue::new("Priority", "P4")),
        ..Changes::default()
    };
    gh.update(&m, &remote, &changes, &mut p).await.unwrap();
    assert_eq!(p.done, [Part::Severity].into());
    let mut labels = sim.issues("acme", "storefront")[0].labels.clone();
    labels.sort();
    assert_eq!(
        labels,
        [
            "Priority: P4",
            "Status: In Progress",
            "security",
            "vulnbridge"
        ]
    );
}

#[tokio::test]
async fn closes_carry_each_reason_and_reopen() {
    let sim = sim().await;
    let gh = client(&sim, BOT);
    let m = mapping(Some(1));
    let remote = create(
        &gh,
        &m,
        &fields(1, "P2", "In Progress", TicketState::Open),
        1,
    )
    .await
    .remote
    .unwrap();
    for (reason, expected) in [
        (CloseReason::Completed, "completed"),
        (CloseReason::NotPlanned, "not_planned"),
        (CloseReason::Duplicate, "duplicate"),
    ] {
        let mut p = Progress::default();
        let close = Changes {
            state: Some(TicketState::Closed(reason)),
            status: Some(FieldValue::new("Status", "Done")),
            ..Changes::default()
        };
        gh.update(&m, &remote, &close, &mut p).await.unwrap();
        assert_eq!(p.done, [Part::State, Part::Status].into());
        let i = &sim.issues("acme", "storefront")[0];
        assert_eq!(
            (i.state.as_str(), i.state_reason.as_deref()),
            ("closed", Some(expected))
        );
        let mut p = Progress::default();
        gh.update(
            &m,
            &remote,
            &Changes {
                state: Some(TicketState::Open),
                ..Changes::default()
            },
            &mut p,
        )
        .await
        .unwrap();
        let i = &sim.issues("acme", "storefront")[0];
        assert_eq!(
            (i.state.as_str(), i.state_reason.as_deref()),
            ("open", Some("reopened"))
        );
    }
}

#[tokio::test]
async fn find_by_marker_follows_link_pages() {
    let sim = sim().await;
    sim.set_limits(Limits {
        content_per_minute: 1000,
        content_per_hour: 1000,
        ..Limits::default()
    });
    let since = chrono::Utc::now() - chrono::TimeDelta::seconds(5);
    let gh = client(&sim, BOT);
    let m = mapping(Some(1));
    let http = reqwest::Client::new();
    for i in 0..120 {
        let r = http
            .post(format!("{}/api/v3/repos/acme/storefront/issues", sim.base_url()))
            .bearer_auth(BOT)
            .json(&json!({ "title": format!("other {i}"), "body": marker(1000 + i).html_comment(), "labels": [MARKER_LABEL] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let created = create(
        &gh,
        &m,
        &fields(7, "P3", "In Progress", TicketState::Open),
        7,
    )
    .await
    .remote
    .unwrap();
    sim.requests().reset();
    let found = gh
        .find_by_marker(&m, &marker(7), since)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.remote, created,
        "the same identity, the project item included"
    );
    assert!(found.open);
    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("GET /api/v3/repos/{owner}/{repo}/issues"),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("GET /api/v3/repositories/{id}/issues"),
        Some(&1),
        "the second page through the Link header: {counts:?}"
    );
    assert!(
        gh.find_by_marker(&m, &marker(8), since)
            .await
            .unwrap()
            .is_none()
    );
    let later = chrono::Utc::now() + chrono::TimeDelta::seconds(60);
    assert!(
        gh.find_by_marker(&m, &marker(7), later)
            .await
            .unwrap()
            .is_none(),
        "older issues are not searched"
    );
}

fn failures(r: &trackers::CheckReport) -> Vec<(String, String)> {
    r.checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| (c.name.clone(), c.detail.clone()))
        .collect()
}

#[tokio::test]
async fn check_names_every_failure() {
    let sim = sim().await;
    let m = mapping(Some(1));
    let ok = client(&sim, BOT).check(Some(&m)).await;
    assert!(ok.ok(), "{}", ok.failures());
    assert_eq!(ok.account.as_deref(), Some("vulnbridge-bot"));
    let names: Vec<&str> = ok.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "credentials",
            "scopes",
            "repository",
            "project",
            "Priority field",
            "Status field"
        ]
    );

    let bad = client(&sim, "ghp_wrong").check(Some(&m)).await;
    assert_eq!(
        failures(&bad),
        [(
            "credentials".to_owned(),
            format!(
                "GitHub refused the token (401 Bad credentials): create a new one at {}/settings/tokens",
                sim.base_url()
            )
        )]
    );
    assert_eq!(bad.account, None);

    sim.add_user("no-project", "ghp_noproject", &["repo"]);
    sim.grant("no-project", "acme", "storefront", "write");
    let r = client(&sim, "ghp_noproject").check(None).await;
    let f = failures(&r);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, "scopes");
    assert!(
        f[0].1
            .starts_with("the token lacks the project scope (it has: repo)"),
        "{}",
        f[0].1
    );

    sim.add_user("fine", "github_pat_fine", &[]);
    sim.grant("fine", "acme", "storefront", "write");
    let r = client(&sim, "github_pat_fine").check(None).await;
    assert!(r.ok());
    assert!(
        r.checks[1].detail.contains("scope check is skipped"),
        "{}",
        r.checks[1].detail
    );

    let r = client(&sim, BOT)
        .check(Some(&MappingConfig::defaults(MappingTarget::GitHub {
            repository: "nope".into(),
            project_number: None,
        })))
        .await;
    assert_eq!(failures(&r)[0].0, "repository");
    assert!(
        failures(&r)[0]
            .1
            .starts_with("acme/nope does not exist, or the token cannot see it")
    );

    let r = client(&sim, ALICE).check(Some(&mapping(Some(9)))).await;
    assert_eq!(
        failures(&r),
        [(
            "project".to_owned(),
            "project 9 does not exist under acme, or the token cannot see it".to_owned()
        )]
    );

    sim.add_project("acme", 2, "Empty");
    let r = client(&sim, BOT).check(Some(&mapping(Some(2)))).await;
    assert_eq!(
        failures(&r),
        [("Priority field".to_owned(), "project 2 \"Empty\" has no single-select field \"Priority\"; create it with options P0, P1, P2, P3, P4".to_owned())]
    );

    sim.add_project("acme", 3, "Partial");
    sim.add_single_select_field("acme", 3, "Priority", &["P0", "P1", "P2", "P3"]);
    let mut m3 = mapping(Some(3));
    m3.status_mapping.risk_accepted = "Accepted".into();
    m3.custom_fields.insert("Team".into(), json!("payments"));
    let r = client(&sim, BOT).check(Some(&m3)).await;
    assert_eq!(
        failures(&r),
        [
            ("Priority field".to_owned(), "project 3 \"Partial\" field \"Priority\" has no option P4; add it (it has P0, P1, P2, P3)".to_owned()),
            ("Status field".to_owned(), "project 3 \"Partial\" field \"Status\" has no option Accepted; add it (it has Todo, In Progress, Done)".to_owned()),
            ("custom field Team".to_owned(), "project 3 \"Partial\" has no field \"Team\"; create it or remove it from the mapping's custom fields".to_owned()),
        ]
    );

    sim.set_issues_enabled("acme", "payments-api", false);
    let r = client(&sim, BOT)
        .check(Some(&MappingConfig::defaults(MappingTarget::GitHub {
            repository: "payments-api".into(),
            project_number: None,
        })))
        .await;
    assert!(
        failures(&r)[0].1.contains("has issues disabled"),
        "{:?}",
        failures(&r)
    );
    sim.add_user("reader", "ghp_reader", &["repo", "project"]);
    sim.grant("reader", "acme", "storefront", "read");
    let r = client(&sim, "ghp_reader").check(Some(&mapping(None))).await;
    assert!(
        failures(&r)[0]
            .1
            .contains("cannot write to acme/storefront"),
        "{:?}",
        failures(&r)
    );
}

#[tokio::test]
async fn a_misconfigured_project_fails_before_the_issue_exists() {
    let sim = sim().await;
    sim.add_project("acme", 2, "Empty");
    let gh = client(&sim, BOT);
    let mut p = Progress::default();
    let e = gh
        .create(
            &mapping(Some(2)),
            &fields(1, "P2", "In Progress", TicketState::Open),
            &marker(1),
            &mut p,
        )
        .await
        .unwrap_err();
    assert_eq!(
        e,
        TrackerError::Misconfigured("project 2 \"Empty\" has no single-select field \"Priority\"; create it with options P0, P1, P2, P3, P4".into())
    );
    assert!(p.remote.is_none());
    assert!(sim.issues("acme", "storefront").is_empty());

    // Once a person adds the field, the next push finds it (the cached project is re-read).
    sim.add_single_select_field("acme", 2, "Priority", &["P0", "P1", "P2", "P3", "P4"]);
    let p = create(
        &gh,
        &mapping(Some(2)),
        &fields(1, "P2", "In Progress", TicketState::Open),
        1,
    )
    .await;
    assert!(p.remote.is_some());
}

#[tokio::test]
async fn a_project_field_failure_leaves_the_issue_and_reports_what_landed() {
    let sim = sim().await;
    let gh = client(&sim, BOT);
    let m = mapping(Some(1));
    sim.faults().push(Fault {
        body_contains: Some("updateProjectV2ItemFieldValue".into()),
        status: 502,
        times: 1,
        ..Fault::default()
    });
    let mut p = Progress::default();
    let e = gh
        .create(
            &m,
            &fields(1, "P2", "In Progress", TicketState::Open),
            &marker(1),
            &mut p,
        )
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    let remote = p.remote.clone().expect("the issue exists");
    assert!(
        remote.data["item_id"].as_str().is_some(),
        "the item was added: {remote:?}"
    );
    assert_eq!(p.done, [Part::Title, Part::Body, Part::Labels].into());
    assert_eq!(sim.issues("acme", "storefront").len(), 1);

    // What is left (the fields, the state) goes in an update.
    let changes = Changes {
        severity: Some(FieldValue::new("Priority", "P2")),
        status: Some(FieldValue::new("Status", "In Progress")),
        ..Changes::default()
    };
    let mut p2 = Progress::default();
    gh.update(&m, &remote, &changes, &mut p2).await.unwrap();
    assert_eq!(p2.done, [Part::Severity, Part::Status].into());
    assert_eq!(
        sim.project_field_value("acme", 1, &remote.id, "Priority")
            .as_deref(),
        Some("P2")
    );
}

#[tokio::test]
async fn a_removed_item_is_added_again_once() {
    let sim = sim().await;
    let gh = client(&sim, BOT);
    let m = mapping(Some(1));
    let remote = create(
        &gh,
        &m,
        &fields(1, "P2", "In Progress", TicketState::Open),
        1,
    )
    .await
    .remote
    .unwrap();
    // A person removes the issue from the project: the stored item id is stale.
    let item = remote.data["item_id"].as_str().unwrap().to_owned();
    let state: Value = reqwest::get(format!("{}/_sim/state", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project_id = state["projects"][0]["node_id"].as_str().unwrap().to_owned();
    let q = format!(
        r#"mutation {{ deleteProjectV2Item(input: {{projectId: "{project_id}", itemId: "{item}"}}) {{ deletedItemId }} }}"#
    );
    let r = reqwest::Client::new()
        .post(format!("{}/api/graphql", sim.base_url()))
        .bearer_auth(ALICE)
        .json(&json!({ "query": q }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]["deleteProjectV2Item"]["deletedItemId"],
        item.as_str()
    );
    assert_eq!(sim.project_item_count("acme", 1), 0);

    let mut p = Progress::default();
    gh.update(
        &m,
        &remote,
        &Changes {
            severity: Some(FieldValue::new("Priority", "P3")),
            ..Changes::default()
        },
        &mut p,
    )
    .await
    .unwrap();
    assert_eq!(p.done, [Part::Severity].into());
    let new_item = p.remote.expect("the new item id is reported").data["item_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_item, item);
    assert_eq!(
        sim.project_field_value("acme", 1, &remote.id, "Priority")
            .as_deref(),
        Some("P3")
    );
}

/// A limiter recording what the client tells it.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(RequestClass, RateInfo)>>,
}

#[async_trait]
impl Limiter for Recorder {
    async fn acquire(&self, _class: RequestClass) -> Result<(), TrackerError> {
        Ok(())
    }
    async fn observe(&self, class: RequestClass, info: &RateInfo) {
        self.seen.lock().unwrap().push((class, info.clone()));
    }
}

#[tokio::test]
async fn secondary_and_primary_limits_become_rate_limited_with_a_time() {
    let sim = sim().await;
    sim.set_limits(Limits {
        content_per_minute: 1,
        ..Limits::default()
    });
    let recorder = Arc::new(Recorder::default());
    let gh = client_with(&sim, BOT, recorder.clone());
    let m = mapping(None);
    create(
        &gh,
        &m,
        &fields(1, "P2", "In Progress", TicketState::Open),
        1,
    )
    .await;
    let before = chrono::Utc::now();
    let mut p = Progress::default();
    let e = gh
        .create(
            &m,
            &fields(2, "P2", "In Progress", TicketState::Open),
            &marker(2),
            &mut p,
        )
        .await
        .unwrap_err();
    let TrackerError::RateLimited {
        until: Some(until),
        reason,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert!(reason.contains("secondary rate limit"), "{reason}");
    let wait = (*until - before).num_seconds();
    assert!(
        (50..=61).contains(&wait),
        "Retry-After of the one-minute window: {wait}"
    );
    assert!(p.remote.is_none());
    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(
        seen.last().map(|(c, i)| (*c, i.retry_after.is_some())),
        Some((RequestClass::Create, true))
    );
    assert_eq!(seen[0].0, RequestClass::Create);
    assert_eq!(seen[0].1.remaining, Some(4999));

    // GraphQL's own budget, spent: `RATE_LIMITED` in a 200 becomes a wait until the reset.
    sim.set_limits(Limits {
        graphql_points_per_hour: 1,
        ..Limits::default()
    });
    let gh = client(&sim, BOT);
    let ok = gh.check(Some(&mapping(Some(1)))).await;
    assert!(ok.ok(), "{}", ok.failures());
    let mut p = Progress::default();
    let e = gh
        .create(
            &mapping(Some(1)),
            &fields(3, "P2", "In Progress", TicketState::Open),
            &marker(3),
            &mut p,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, TrackerError::RateLimited { until: Some(u), .. } if u > chrono::Utc::now()),
        "{e:?}"
    );
}

/// One delivery's event name and the changes (with their actors) read from it.
type Seen = (String, Vec<(RemoteChange, Option<String>)>);

#[tokio::test]
async fn webhooks_are_registered_once_and_parsed_after_verification() {
    let sim = sim().await;
    let gh = client(&sim, BOT);
    let m = mapping(Some(1));
    let url = url::Url::parse("http://127.0.0.1:9/webhooks/7/").unwrap();
    let secret = SecretString::from("hook-secret".to_owned());
    gh.register_webhook(&m, &url, &secret).await.unwrap();
    gh.register_webhook(&m, &url, &secret).await.unwrap();
    let state: Value = reqwest::get(format!("{}/_sim/state", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hooks = state["hooks"].as_array().unwrap();
    assert_eq!(
        hooks.len(),
        2,
        "one repository hook, one organization hook: {hooks:?}"
    );
    assert_eq!(hooks[0]["events"], json!(["issues", "issue_comment"]));
    assert_eq!(hooks[1]["events"], json!(["projects_v2_item"]));
    assert_eq!(hooks[1]["type"], "Organization");

    // A repository admin who is no organization owner still gets the repository hook.
    sim.add_user(
        "repo-admin",
        "ghp_repoadmin",
        &["repo", "project", "admin:repo_hook"],
    );
    sim.grant("repo-admin", "acme", "payments-api", "admin");
    let other = MappingConfig::defaults(MappingTarget::GitHub {
        repository: "payments-api".into(),
        project_number: Some(1),
    });
    client(&sim, "ghp_repoadmin")
        .register_webhook(&other, &url, &secret)
        .await
        .unwrap();
    // A writer cannot see hooks at all.
    let e = client(&sim, ALICE)
        .register_webhook(&other, &url, &secret)
        .await
        .unwrap_err();
    assert!(matches!(e, TrackerError::NotFound(_)), "{e:?}");

    let remote = create(
        &gh,
        &m,
        &fields(1, "P2", "In Progress", TicketState::Open),
        1,
    )
    .await
    .remote
    .unwrap();
    sim.close_issue_as("dev-alice", "acme", "storefront", 1, "not_planned")
        .unwrap();
    sim.reopen_issue_as("dev-alice", "acme", "storefront", 1)
        .unwrap();
    sim.set_project_field_as("dev-alice", "acme", 1, &remote.id, "Status", "Done")
        .unwrap();
    sim.delete_issue_as("vulnbridge-bot", "acme", "storefront", 1)
        .unwrap();
    sim.webhooks().wait_idle().await;

    let mut seen = Vec::new();
    for d in sim.webhooks().sent() {
        let mut h = http::HeaderMap::new();
        for (k, v) in &d.headers {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let events =
            trackers::webhook::parse(Vendor::GitHub, &h, d.body.as_bytes(), &secret).unwrap();
        let event = h["x-github-event"].to_str().unwrap().to_owned();
        for e in &events {
            assert_eq!(
                e.delivery.as_deref(),
                h.get("x-github-delivery").and_then(|v| v.to_str().ok())
            );
            assert_eq!(e.remote_id, remote.id);
        }
        seen.push((
            event,
            events
                .into_iter()
                .map(|e| (e.change, e.actor))
                .collect::<Vec<_>>(),
        ));

        // Tampered and unsigned deliveries are refused before anything is read.
        let tampered = d.body.replace("acme", "evil");
        assert!(matches!(
            trackers::webhook::parse(Vendor::GitHub, &h, tampered.as_bytes(), &secret),
            Err(trackers::webhook::WebhookError::BadSignature(_))
        ));
        h.remove("x-hub-signature-256");
        assert!(matches!(
            trackers::webhook::parse(Vendor::GitHub, &h, d.body.as_bytes(), &secret),
            Err(trackers::webhook::WebhookError::Unsigned(_))
        ));
    }
    let changes: Vec<Seen> = seen.into_iter().filter(|(_, c)| !c.is_empty()).collect();
    let alice = Some("dev-alice".to_owned());
    let bot = Some("vulnbridge-bot".to_owned());
    let field = |f: &str, v: &str| RemoteChange::Field {
        field: f.into(),
        value: v.into(),
    };
    assert_eq!(
        changes,
        [
            (
                "projects_v2_item".to_owned(),
                vec![(field("Priority", "P2"), bot.clone())]
            ),
            (
                "projects_v2_item".to_owned(),
                vec![(field("Status", "In Progress"), bot.clone())]
            ),
            (
                "issues".to_owned(),
                vec![(
                    RemoteChange::Closed {
                        reason: Some(CloseReason::NotPlanned)
                    },
                    alice.clone()
                )]
            ),
            (
                "issues".to_owned(),
                vec![(RemoteChange::Reopened, alice.clone())]
            ),
            (
                "projects_v2_item".to_owned(),
                vec![(field("Status", "Done"), alice.clone())]
            ),
            (
                "issues".to_owned(),
                vec![(RemoteChange::Deleted, bot.clone())]
            ),
        ],
        "pings, openings, labels and new items change nothing tracked; our own field writes come back too (the engine tells echoes apart)"
    );
}

#[tokio::test]
async fn webhook_parse_reads_each_event_shape() {
    let secret = SecretString::from("s".to_owned());
    let parse = |event: &str, body: &Value| {
        let text = body.to_string();
        let mut h = http::HeaderMap::new();
        h.insert("x-github-event", event.parse().unwrap());
        h.insert("x-github-delivery", "d-1".parse().unwrap());
        h.insert(
            "x-hub-signature-256",
            trackers::webhook::sign_hmac_sha256_hex(text.as_bytes(), "s")
                .parse()
                .unwrap(),
        );
        trackers::webhook::parse(Vendor::GitHub, &h, text.as_bytes(), &secret).unwrap()
    };
    assert!(parse("ping", &json!({ "zen": "z", "hook_id": 1 })).is_empty());
    assert!(
        parse(
            "issue_comment",
            &json!({ "action": "created", "issue": { "node_id": "I_1" } })
        )
        .is_empty()
    );
    assert!(
        parse(
            "issues",
            &json!({ "action": "labeled", "issue": { "node_id": "I_1" } })
        )
        .is_empty()
    );
    let closed = parse(
        "issues",
        &json!({ "action": "closed", "issue": { "node_id": "I_1", "state_reason": "duplicate" }, "sender": { "login": "bob" } }),
    );
    assert_eq!(
        closed[0].change,
        RemoteChange::Closed {
            reason: Some(CloseReason::Duplicate)
        }
    );
    assert_eq!(
        (
            closed[0].remote_id.as_str(),
            closed[0].actor.as_deref(),
            closed[0].delivery.as_deref()
        ),
        ("I_1", Some("bob"), Some("d-1"))
    );
    let old = parse(
        "issues",
        &json!({ "action": "closed", "issue": { "node_id": "I_1", "state_reason": null } }),
    );
    assert_eq!(old[0].change, RemoteChange::Closed { reason: None });
    let cleared = json!({ "action": "edited", "projects_v2_item": { "content_node_id": "I_1", "content_type": "Issue" },
        "changes": { "field_value": { "field_type": "single_select", "field_name": "Status", "to": null } } });
    assert!(parse("projects_v2_item", &cleared).is_empty());
    let text = json!({ "action": "edited", "projects_v2_item": { "content_node_id": "I_1", "content_type": "Issue" },
        "changes": { "field_value": { "field_type": "text", "field_name": "Team", "to": "x" } } });
    assert!(parse("projects_v2_item", &text).is_empty());

    let mut h = http::HeaderMap::new();
    h.insert("x-github-event", "issues".parse().unwrap());
    h.insert(
        "x-hub-signature-256",
        trackers::webhook::sign_hmac_sha256_hex(b"not json", "s")
            .parse()
            .unwrap(),
    );
    assert!(matches!(
        trackers::webhook::parse(Vendor::GitHub, &h, b"not json", &secret),
        Err(trackers::webhook::WebhookError::Unreadable(_))
    ));
}

#[tokio::test]
async fn locations_map_to_github_apis() {
    let conn = |loc: &str| Connection {
        vendor: Vendor::GitHub,
        location: url::Url::parse(loc).unwrap(),
        credentials: Credentials::Token(SecretString::from("t".to_owned())),
    };
    let http = || {
        trackers::HttpClient::new(
            Vendor::GitHub.as_str(),
            Arc::new(NoLimits),
            &OutboundPolicy::default(),
        )
        .unwrap()
    };
    let gh = trackers::github::GitHub::new(conn("https://github.com/acme"), http()).unwrap();
    assert_eq!(
        (gh.owner(), gh.rest_base(), gh.graphql_url().as_str()),
        (
            "acme",
            "https://api.github.com",
            "https://api.github.com/graphql"
        )
    );
    let gh = trackers::github::GitHub::new(conn("https://ghe.example.com:8443/platform"), http())
        .unwrap();
    assert_eq!(gh.rest_base(), "https://ghe.example.com:8443/api/v3");
    assert_eq!(
        gh.graphql_url().as_str(),
        "https://ghe.example.com:8443/api/graphql"
    );
    let e = trackers::github::GitHub::new(conn("https://github.com/"), http()).unwrap_err();
    assert!(matches!(e, TrackerError::Misconfigured(_)));
}
