//! The Azure DevOps client against the Azure DevOps simulator, over HTTP.

use chrono::{TimeDelta, Utc};
use domain::tracker::{
    Changes, CloseReason, FieldValue, MappingConfig, MappingTarget, Marker, Part, RemoteChange,
    Subject, TicketFields, TicketState, Vendor,
};
use domain::{FindingId, MappingId, Status};
use secrecy::SecretString;
use serde_json::{Value, json};
use simulators::Fault;
use simulators::azure_devops::{AzureDevOpsSim, BOT_PAT, DAVE_PAT, Limits};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use trackers::outbound::OutboundPolicy;
use trackers::webhook::WebhookError;
use trackers::{Connection, Credentials, NoLimits, Progress, RemoteRef, Tracker, TrackerError};

async fn sim() -> AzureDevOpsSim {
    AzureDevOpsSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client(sim: &AzureDevOpsSim, pat: &str) -> Arc<dyn Tracker> {
    let conn = Connection {
        vendor: Vendor::AzureDevops,
        location: url::Url::parse(&sim.location()).unwrap(),
        credentials: Credentials::Token(SecretString::from(pat.to_owned())),
    };
    trackers::client(conn, Arc::new(NoLimits), &OutboundPolicy::default()).unwrap()
}

/// Basic process project `Platform`, Issues under `Platform\Web`: the vendor defaults fit it
/// (states To Do / Done, Priority 1–4).
fn platform() -> MappingConfig {
    let mut m = MappingConfig::defaults(MappingTarget::AzureDevops {
        project: "Platform".into(),
        work_item_type: "Issue".into(),
        area_path: Some("Web".into()),
    });
    m.labels = vec!["security".into()];
    m
}

/// Agile project `Payments`, Bugs: states New / Active / Resolved / Closed.
fn payments() -> MappingConfig {
    let mut m = MappingConfig::defaults(MappingTarget::AzureDevops {
        project: "Payments".into(),
        work_item_type: "Bug".into(),
        area_path: None,
    });
    m.status_mapping.active = "Active".into();
    m.status_mapping.closed = "Closed".into();
    m.status_mapping.false_positive = "Closed".into();
    m.status_mapping.risk_accepted = "Resolved".into();
    m
}

fn marker(finding: i64) -> Marker {
    Marker {
        installation: "k3x9q2".into(),
        mapping: MappingId(3),
        subject: Subject::Finding(FindingId(finding)),
    }
}

fn fields(m: &MappingConfig, finding: i64, status: &str, state: TicketState) -> TicketFields {
    TicketFields {
        title: format!("[VULNBRIDGE] {finding} - SQL injection"),
        body: format!(
            "**Severity:** High\n\n### Description\n\nUser input reaches `query()`.\n\n{}\n",
            marker(finding).html_comment()
        ),
        labels: ["vulnbridge".to_owned(), "security".to_owned()].into(),
        severity: FieldValue::new(&m.severity_mapping.field, "2"),
        status: FieldValue::new(&m.status_mapping.field, status),
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
    progress.remote.expect("the work item exists")
}

fn all_parts(custom: &[&str]) -> BTreeSet<Part> {
    let mut s: BTreeSet<Part> = [
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Status,
        Part::State,
    ]
    .into();
    s.extend(custom.iter().map(|c| Part::Custom((*c).to_owned())));
    s
}

#[tokio::test]
async fn create_is_one_call_with_every_field() {
    let sim = sim().await;
    let t = client(&sim, BOT_PAT);
    let m = platform();
    let mut f = fields(&m, 17, "To Do", TicketState::Open);
    f.custom
        .insert(domain::tracker::DUE_DATE.into(), json!("2026-03-01"));
    let mut progress = Progress::default();
    t.create(&m, &f, &marker(17), &mut progress).await.unwrap();
    assert_eq!(sim.requests().total(), 1, "{:?}", sim.requests().counts());
    assert_eq!(progress.done, all_parts(&["due_date"]));
    let remote = progress.remote.unwrap();
    let w = &sim.work_items("Platform")[0];
    assert_eq!(remote.id, w.id.to_string(), "the id service hooks name");
    assert_eq!(remote.key, format!("Platform#{}", w.id));
    assert!(
        remote
            .url
            .ends_with(&format!("/Platform/_workitems/edit/{}", w.id)),
        "{}",
        remote.url
    );
    assert_eq!(
        remote.data,
        json!({"id": w.id, "project": "Platform", "work_item_type": "Issue"})
    );
    assert_eq!(w.title, "[VULNBRIDGE] 17 - SQL injection");
    let description = w.description.as_deref().unwrap();
    assert!(description.starts_with("<p><strong>Severity:</strong> High</p><h3>Description</h3><p>User input reaches <code>query()</code>.</p>"), "{description}");
    assert_eq!(
        w.tags,
        ["security", "vulnbridge", "vulnbridge:k3x9q2:m3:f17"]
    );
    assert_eq!(w.priority, Some(2));
    assert_eq!(w.state, "To Do");
    assert_eq!(w.area_path, "Platform\\Web");
    assert_eq!(w.due_date.as_deref(), Some("2026-03-01"));
    assert_eq!(w.repro_steps, None, "an Issue has no repro steps");

    // A Bug created closed: still one call, with the state; the body in Repro Steps too.
    sim.requests().reset();
    let m = payments();
    create(
        &t,
        &m,
        &fields(
            &m,
            18,
            "Closed",
            TicketState::Closed(CloseReason::Completed),
        ),
        18,
    )
    .await;
    assert_eq!(sim.requests().total(), 1);
    let bug = &sim.work_items("Payments")[0];
    assert_eq!(
        (bug.state.as_str(), bug.work_item_type.as_str()),
        ("Closed", "Bug")
    );
    assert_eq!(bug.repro_steps, bug.description);
}

#[tokio::test]
async fn a_state_refused_on_creation_is_set_after() {
    let sim = sim().await;
    let t = client(&sim, BOT_PAT);
    let mut m = MappingConfig::defaults(MappingTarget::AzureDevops {
        project: "Payments".into(),
        work_item_type: "User Story".into(),
        area_path: None,
    });
    m.status_mapping.false_positive = "Removed".into();
    let mut progress = Progress::default();
    t.create(
        &m,
        &fields(
            &m,
            5,
            "Removed",
            TicketState::Closed(CloseReason::NotPlanned),
        ),
        &marker(5),
        &mut progress,
    )
    .await
    .unwrap();
    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("POST /{org}/{project}/_apis/wit/workitems/{segment}"),
        Some(&2),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("PATCH /{org}/_apis/wit/workitems/{id}"),
        Some(&1)
    );
    assert_eq!(progress.done, all_parts(&[]));
    let w = &sim.work_items("Payments")[0];
    assert_eq!(w.state, "Removed");
    assert_eq!(
        sim.work_items("Payments").len(),
        1,
        "the refused create made nothing"
    );
}

#[tokio::test]
async fn create_many_is_one_batch_and_each_item_has_its_result() {
    let sim = sim().await;
    let t = client(&sim, BOT_PAT);
    let m = platform();
    let items: Vec<(TicketFields, Marker)> = [(1, "To Do"), (2, "Nope"), (3, "Done")]
        .into_iter()
        .map(|(i, s)| {
            (
                fields(
                    &m,
                    i,
                    s,
                    if s == "Done" {
                        TicketState::Closed(CloseReason::Completed)
                    } else {
                        TicketState::Open
                    },
                ),
                marker(i),
            )
        })
        .collect();
    let mut progress = vec![
        Progress::default(),
        Progress::default(),
        Progress::default(),
    ];
    let results = t.create_many(&m, &items, &mut progress).await;
    let counts = sim.requests().counts();
    assert_eq!(counts.get("POST /{org}/_apis/wit/$batch"), Some(&1));
    // A refused state is looked up once (cached) to tell "not a first state" from "not a state".
    assert_eq!(
        counts.get("GET /{org}/{project}/_apis/wit/workitemtypes/{type}/states"),
        Some(&1)
    );
    assert_eq!(sim.requests().total(), 2, "{counts:?}");
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    let Err(TrackerError::Rejected(why)) = &results[1] else {
        panic!("{:?}", results[1])
    };
    assert!(
        why.contains("TF401320: Rule Error for field State") && why.contains("item 2"),
        "{why}"
    );
    assert!(progress[1].remote.is_none() && progress[1].done.is_empty());
    assert_eq!(progress[0].done, all_parts(&[]));
    let states: Vec<(String, String)> = sim
        .work_items("Platform")
        .into_iter()
        .map(|w| (w.title, w.state))
        .collect();
    assert_eq!(
        states,
        [
            (
                "[VULNBRIDGE] 1 - SQL injection".to_owned(),
                "To Do".to_owned()
            ),
            (
                "[VULNBRIDGE] 3 - SQL injection".to_owned(),
                "Done".to_owned()
            )
        ]
    );
    assert_eq!(
        progress[2].remote.as_ref().unwrap().id,
        sim.work_items("Platform")[1].id.to_string()
    );

    // 200 items are one request; 201 are two.
    assert_eq!(t.bulk_size(), 200);
    sim.requests().reset();
    let many: Vec<(TicketFields, Marker)> = (100..301)
        .map(|i| (fields(&m, i, "To Do", TicketState::Open), marker(i)))
        .collect();
    let mut progress = vec![Progress::default(); many.len()];
    let results = t.create_many(&m, &many[..200], &mut progress[..200]).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(sim.requests().total(), 1);
    sim.requests().reset();
    let results = t.create_many(&m, &many, &mut progress).await;
    assert_eq!((results.len(), sim.requests().total()), (201, 2));
}

#[tokio::test]
async fn update_sends_only_what_changed_and_keeps_peoples_tags() {
    let sim = sim().await;
    let t = client(&sim, BOT_PAT);
    let m = platform();
    let mut f = fields(&m, 17, "To Do", TicketState::Open);
    f.custom
        .insert(domain::tracker::DUE_DATE.into(), json!("2026-03-01"));
    let remote = create(&t, &m, &f, 17).await;
    let id: i64 = remote.id.parse().unwrap();
    sim.update_as("dev-dave", id, &[("System.Tags", json!("team-a"))])
        .unwrap();
    assert_eq!(
        sim.work_item(id).unwrap().tags,
        [
            "security",
            "team-a",
            "vulnbridge",
            "vulnbridge:k3x9q2:m3:f17"
        ]
    );

    sim.requests().reset();
    let changes = Changes {
        title: Some("[VULNBRIDGE] 17 - SQL injection (login)".into()),
        body: Some("Updated *text*.".into()),
        labels_added: ["sla-7d".to_owned()].into(),
        labels_removed: ["security".to_owned()].into(),
        severity: Some(FieldValue::new(&m.severity_mapping.field, "1")),
        custom: [(domain::tracker::DUE_DATE.to_owned(), Value::Null)].into(),
        ..Changes::default()
    };
    let mut progress = Progress::default();
    t.update(&m, &remote, &changes, &mut progress)
        .await
        .unwrap();
    let counts = sim.requests().counts();
    assert_eq!(
        sim.requests().total(),
        2,
        "a read of the tags and one PATCH: {counts:?}"
    );
    assert_eq!(
        counts.get("PATCH /{org}/_apis/wit/workitems/{id}"),
        Some(&1)
    );
    let w = sim.work_item(id).unwrap();
    assert_eq!(w.title, "[VULNBRIDGE] 17 - SQL injection (login)");
    assert_eq!(
        w.description.as_deref(),
        Some("<p>Updated <em>text</em>.</p>")
    );
    assert_eq!(
        w.tags,
        ["sla-7d", "team-a", "vulnbridge", "vulnbridge:k3x9q2:m3:f17"],
        "dev-dave's tag survived"
    );
    assert_eq!(w.priority, Some(1));
    assert_eq!(w.due_date, None);
    let parts: BTreeSet<Part> = [
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Custom("due_date".into()),
    ]
    .into();
    assert_eq!(progress.done, parts);

    // Without tags, one PATCH; without anything to send, nothing.
    sim.requests().reset();
    let mut progress = Progress::default();
    t.update(
        &m,
        &remote,
        &Changes {
            title: Some("again".into()),
            ..Changes::default()
        },
        &mut progress,
    )
    .await
    .unwrap();
    assert_eq!(sim.requests().total(), 1);
    sim.requests().reset();
    t.update(
        &m,
        &remote,
        &Changes {
            state: Some(TicketState::Closed(CloseReason::NotPlanned)),
            ..Changes::default()
        },
        &mut Progress::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        sim.requests().total(),
        0,
        "a close reason alone has nothing to send"
    );

    // Someone changes the work item between the read and the write: read again, write again.
    sim.faults().push(Fault {
        method: Some("PATCH".into()),
        path_contains: Some("/_apis/wit/workitems/".into()),
        status: 412,
        body: json!({"message": "VS403351: Test Operation for path /rev failed, value 9 was not equal to test value 8.", "typeKey": "TestPatchOperationFailedException"}),
        times: 1,
        ..Fault::default()
    });
    sim.requests().reset();
    let changes = Changes {
        labels_added: ["sla-30d".to_owned()].into(),
        ..Changes::default()
    };
    t.update(&m, &remote, &changes, &mut Progress::default())
        .await
        .unwrap();
    assert!(
        sim.work_item(id)
            .unwrap()
            .tags
            .contains(&"sla-30d".to_owned())
    );
    assert_eq!(
        sim.requests()
            .counts()
            .get("GET /{org}/_apis/wit/workitems/{id}"),
        Some(&2),
        "read twice"
    );
}

#[tokio::test]
async fn state_changes_and_comments() {
    let sim = sim().await;
    let t = client(&sim, BOT_PAT);
    let m = payments();
    let remote = create(&t, &m, &fields(&m, 17, "Active", TicketState::Open), 17).await;
    let id: i64 = remote.id.parse().unwrap();
    sim.requests().reset();
    let comment = format!(
        "Closed by vulnbridge: the finding is now {}.\n\n{}",
        Status::Closed.label(),
        domain::tracker::inbound::COMMENT_SIGNATURE
    );
    let changes = Changes {
        status: Some(FieldValue::new(&m.status_mapping.field, "Closed")),
        state: Some(TicketState::Closed(CloseReason::Completed)),
        comment: Some(comment.clone()),
        ..Changes::default()
    };
    let mut progress = Progress::default();
    t.update(&m, &remote, &changes, &mut progress)
        .await
        .unwrap();
    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("PATCH /{org}/_apis/wit/workitems/{id}"),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("POST /{org}/{project}/_apis/wit/workItems/{id}/comments"),
        Some(&1)
    );
    assert_eq!(
        progress.done,
        [Part::Status, Part::State, Part::Comment].into()
    );
    let w = sim.work_item(id).unwrap();
    assert_eq!(
        (w.state.as_str(), w.reason.as_deref()),
        ("Closed", Some("Moved to state Closed"))
    );
    assert_eq!(
        w.comments,
        [format!(
            "<p>Closed by vulnbridge: the finding is now Closed.</p><p>{}</p>",
            domain::tracker::inbound::COMMENT_SIGNATURE
        )]
    );
    // Reopened.
    let changes = Changes {
        status: Some(FieldValue::new(&m.status_mapping.field, "Active")),
        state: Some(TicketState::Open),
        ..Changes::default()
    };
    t.update(&m, &remote, &changes, &mut Progress::default())
        .await
        .unwrap();
    assert_eq!(sim.work_item(id).unwrap().state, "Active");
    // A state the type does not have is refused with Azure DevOps' rule error.
    let changes = Changes {
        status: Some(FieldValue::new(&m.status_mapping.field, "Done")),
        ..Changes::default()
    };
    let e = t
        .update(&m, &remote, &changes, &mut Progress::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TrackerError::Rejected(m) if m.contains("TF401320")),
        "{e:?}"
    );
}

#[tokio::test]
async fn find_by_marker_uses_the_tag() {
    let sim = sim().await;
    let t = client(&sim, BOT_PAT);
    let m = payments();
    let start = Utc::now();
    let a = create(&t, &m, &fields(&m, 17, "Active", TicketState::Open), 17).await;
    create(&t, &m, &fields(&m, 170, "Active", TicketState::Open), 170).await;
    sim.requests().reset();
    let found = t
        .find_by_marker(&m, &marker(17), start)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.remote.id, a.id);
    assert_eq!(found.remote.key, a.key);
    assert!(found.open);
    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("POST /{org}/{project}/_apis/wit/wiql"),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("POST /{org}/{project}/_apis/wit/workitemsbatch"),
        Some(&1)
    );
    sim.set_state_as("dev-dave", a.id.parse().unwrap(), "Resolved")
        .unwrap();
    assert!(
        !t.find_by_marker(&m, &marker(17), start)
            .await
            .unwrap()
            .unwrap()
            .open,
        "Resolved counts as closed"
    );
    assert_eq!(
        t.find_by_marker(&m, &marker(99), start).await.unwrap(),
        None
    );
    assert_eq!(
        t.find_by_marker(&m, &marker(17), Utc::now() + TimeDelta::hours(1))
            .await
            .unwrap(),
        None,
        "created before `since`"
    );
    assert_eq!(
        t.find_by_marker(&platform(), &marker(17), start)
            .await
            .unwrap(),
        None,
        "another project"
    );
}

#[tokio::test]
async fn delete_sends_to_the_recycle_bin() {
    let sim = sim().await;
    let t = client(&sim, BOT_PAT);
    let m = platform();
    let remote = create(&t, &m, &fields(&m, 17, "To Do", TicketState::Open), 17).await;
    t.delete(&m, &remote).await.unwrap();
    assert!(sim.in_recycle_bin(remote.id.parse().unwrap()));
    t.delete(&m, &remote).await.unwrap();
}

#[tokio::test]
async fn check_names_every_failure() {
    let sim = sim().await;
    let report = client(&sim, BOT_PAT).check(Some(&platform())).await;
    assert!(report.ok(), "{}", report.failures());
    assert_eq!(
        report.account.as_deref(),
        Some("vulnbridge-bot@acme.example")
    );
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "credentials",
            "project",
            "work item type",
            "states",
            "priority",
            "fields",
            "scopes"
        ]
    );
    assert!(
        sim.work_items("Platform").is_empty(),
        "the write check saves nothing"
    );
    let report = client(&sim, BOT_PAT).check(None).await;
    assert!(report.ok(), "{}", report.failures());

    let report = client(&sim, "not-a-pat").check(Some(&platform())).await;
    assert!(
        report
            .failures()
            .starts_with("credentials: Azure DevOps refused the personal access token"),
        "{}",
        report.failures()
    );
    sim.add_pat("reader", "pat-read", &["vso.work"]);
    let report = client(&sim, "pat-read").check(Some(&platform())).await;
    assert!(
        report
            .failures()
            .contains("scopes: the token cannot write work items"),
        "{}",
        report.failures()
    );
    sim.add_pat("projects", "pat-project", &["vso.project"]);
    let report = client(&sim, "pat-project").check(None).await;
    assert!(
        report
            .failures()
            .contains("scopes: the token cannot read work items"),
        "{}",
        report.failures()
    );

    let mut m = platform();
    m.target = MappingTarget::AzureDevops {
        project: "Nope".into(),
        work_item_type: "Issue".into(),
        area_path: None,
    };
    let report = client(&sim, BOT_PAT).check(Some(&m)).await;
    assert!(
        report
            .failures()
            .contains("project: project 'Nope' does not exist"),
        "{}",
        report.failures()
    );
    m.target = MappingTarget::AzureDevops {
        project: "Platform".into(),
        work_item_type: "Bug".into(),
        area_path: None,
    };
    let report = client(&sim, BOT_PAT).check(Some(&m)).await;
    assert!(
        report
            .failures()
            .contains("'Bug' is not a work item type of Platform; its types are Epic, Issue, Task"),
        "{}",
        report.failures()
    );

    // The vendor defaults (To Do / Done) on an Agile Bug: the states it has are listed.
    let defaults = MappingConfig::defaults(MappingTarget::AzureDevops {
        project: "Payments".into(),
        work_item_type: "Bug".into(),
        area_path: None,
    });
    let report = client(&sim, BOT_PAT).check(Some(&defaults)).await;
    let failures = report.failures();
    assert!(
        failures.contains("'To Do' (active) is not a state of Bug in Payments"),
        "{failures}"
    );
    assert!(
        failures.contains("the states of Bug are New, Active, Resolved, Closed"),
        "{failures}"
    );
    let mut m = payments();
    m.status_mapping.closed = "Active".into();
    let report = client(&sim, BOT_PAT).check(Some(&m)).await;
    assert!(report.failures().contains("'Active' (closed) is in the InProgress category, which Azure DevOps does not count as closed"), "{}", report.failures());

    let mut m = platform();
    m.severity_mapping.critical = "P0".into();
    let report = client(&sim, BOT_PAT).check(Some(&m)).await;
    assert!(
        report
            .failures()
            .contains("priority: Microsoft.VSTS.Common.Priority takes 1, 2, 3, 4, not P0"),
        "{}",
        report.failures()
    );
    let mut m = platform();
    m.custom_fields.insert("Custom.Team".into(), json!("a"));
    let report = client(&sim, BOT_PAT).check(Some(&m)).await;
    assert!(
        report
            .failures()
            .contains("fields: Issue in Platform has no field Custom.Team"),
        "{}",
        report.failures()
    );
    let mut m = platform();
    m.target = MappingTarget::AzureDevops {
        project: "Platform".into(),
        work_item_type: "Issue".into(),
        area_path: Some("Mobile".into()),
    };
    let report = client(&sim, BOT_PAT).check(Some(&m)).await;
    assert!(
        report
            .failures()
            .contains("fields: the area path is not one of Platform's areas"),
        "{}",
        report.failures()
    );
}

#[tokio::test]
async fn options_list_states_with_their_category() {
    let sim = sim().await;
    let o = client(&sim, BOT_PAT).options(&payments()).await.unwrap();
    let statuses: Vec<(String, Option<bool>)> = o
        .statuses
        .iter()
        .map(|s| (s.value.clone(), s.closed))
        .collect();
    assert_eq!(
        statuses,
        [
            ("New".to_owned(), Some(false)),
            ("Active".to_owned(), Some(false)),
            ("Resolved".to_owned(), Some(true)),
            ("Closed".to_owned(), Some(true))
        ]
    );
    assert_eq!(
        o.severities
            .iter()
            .map(|s| s.value.as_str())
            .collect::<Vec<_>>(),
        ["1", "2", "3", "4"]
    );
    assert!(o.types.iter().any(|t| t.value == "User Story"));
}

#[tokio::test]
async fn refused_credentials_and_limits_become_errors() {
    let sim = sim().await;
    let m = platform();
    let f = fields(&m, 1, "To Do", TicketState::Open);
    let e = client(&sim, "nope")
        .create(&m, &f, &marker(1), &mut Progress::default())
        .await
        .unwrap_err();
    assert!(matches!(e, TrackerError::Unauthorized(_)), "{e:?}");
    sim.add_pat("reader", "pat-read", &["vso.work"]);
    let e = client(&sim, "pat-read")
        .create(&m, &f, &marker(1), &mut Progress::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TrackerError::Forbidden(m) if m.contains("TF400813") && m.contains("vso.work_write")),
        "{e:?}"
    );
    // The sign-in page (203) is a refusal too, not a success.
    sim.faults().push(Fault {
        status: 203,
        body: json!("<html>Sign In</html>"),
        times: 1,
        ..Fault::default()
    });
    let e = client(&sim, BOT_PAT)
        .create(&m, &f, &marker(1), &mut Progress::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TrackerError::Unauthorized(m) if m.contains("HTTP 203")),
        "{e:?}"
    );

    sim.set_limits(Limits {
        tstu_limit: 1,
        delayed_requests: 0,
        ..Limits::default()
    });
    let t = client(&sim, BOT_PAT);
    create(&t, &m, &f, 1).await;
    let before = Utc::now();
    let e = t
        .create(
            &m,
            &fields(&m, 2, "To Do", TicketState::Open),
            &marker(2),
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    let TrackerError::RateLimited {
        until: Some(until),
        reason,
    } = e
    else {
        panic!("{e:?}")
    };
    assert!(reason.contains("TF400733"), "{reason}");
    let wait = (until - before).num_seconds();
    assert!(
        (250..=301).contains(&wait),
        "Retry-After of about the five-minute window, got {wait} s"
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
async fn webhooks_are_registered_once_and_parsed_after_verification() {
    let sim = sim().await;
    let t = client(&sim, BOT_PAT);
    let m = payments();
    // Nothing listens there: the simulator's outbox still records every delivery.
    let url = url::Url::parse("http://127.0.0.1:9/webhooks/7/").unwrap();
    let secret = SecretString::from("hook-secret".to_owned());
    t.register_webhook(&m, &url, &SecretString::from("old-secret".to_owned()))
        .await
        .unwrap();
    assert_eq!(
        sim.requests()
            .counts()
            .get("POST /{org}/_apis/hooks/subscriptions"),
        Some(&3)
    );
    t.register_webhook(&m, &url, &secret).await.unwrap();
    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("POST /{org}/_apis/hooks/subscriptions"),
        Some(&3),
        "reused: {counts:?}"
    );
    assert_eq!(
        counts.get("PUT /{org}/_apis/hooks/subscriptions/{id}"),
        Some(&3)
    );
    let subs = sim.subscriptions();
    assert_eq!(subs.len(), 3);
    let events: BTreeSet<&str> = subs.iter().map(|s| s.event_type.as_str()).collect();
    assert_eq!(
        events,
        ["workitem.commented", "workitem.deleted", "workitem.updated"].into()
    );
    assert!(
        subs.iter()
            .all(|s| s.basic_auth_username.as_deref() == Some("vulnbridge")
                && s.http_headers.as_deref() == Some("X-Vulnbridge-Secret:hook-secret"))
    );
    let e = t
        .register_webhook(&m, &url, &SecretString::from("has space".to_owned()))
        .await
        .unwrap_err();
    assert!(matches!(e, TrackerError::Misconfigured(_)));

    let remote = create(&t, &m, &fields(&m, 17, "Active", TicketState::Open), 17).await;
    let id: i64 = remote.id.parse().unwrap();
    sim.set_state_as("dev-dave", id, "Resolved").unwrap();
    sim.comment_as("dev-dave", id, "Fixed in <b>#12</b> &amp; deployed")
        .unwrap();
    let ours = Changes {
        comment: Some(format!(
            "Reopened.\n\n{}",
            domain::tracker::inbound::COMMENT_SIGNATURE
        )),
        ..Changes::default()
    };
    t.update(&m, &remote, &ours, &mut Progress::default())
        .await
        .unwrap();
    sim.delete_as("dev-dave", id).unwrap();
    sim.webhooks().wait_idle().await;
    let sent = sim.webhooks().sent();
    let kinds: Vec<String> = sent
        .iter()
        .map(|d| {
            serde_json::from_str::<Value>(&d.body).unwrap()["eventType"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "workitem.updated",
            "workitem.updated",
            "workitem.commented",
            "workitem.updated",
            "workitem.commented",
            "workitem.deleted"
        ]
    );
    let parse = |i: usize| {
        trackers::webhook::parse(
            Vendor::AzureDevops,
            &http_headers(&sent[i]),
            sent[i].body.as_bytes(),
            &secret,
        )
    };

    let state = parse(0).unwrap();
    assert_eq!(state.len(), 1);
    assert_eq!(state[0].remote_id, remote.id);
    assert_eq!(
        state[0].change,
        RemoteChange::Status {
            value: "Resolved".into(),
            state: TicketState::Closed(CloseReason::Completed)
        }
    );
    assert_eq!(state[0].actor.as_deref(), Some("dev-dave@acme.example"));
    let sub = serde_json::from_str::<Value>(&sent[0].body).unwrap()["subscriptionId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(state[0].delivery, Some(format!("{sub}/1")));
    assert_eq!(
        parse(1).unwrap(),
        vec![],
        "a comment's revision changes no state"
    );
    let comment = parse(2).unwrap();
    assert_eq!(
        comment[0].change,
        RemoteChange::Comment {
            body: "Fixed in #12 & deployed".into()
        }
    );
    assert_eq!(comment[0].actor.as_deref(), Some("dev-dave@acme.example"));
    let echo = parse(4).unwrap();
    let RemoteChange::Comment { body } = &echo[0].change else {
        panic!("{echo:?}")
    };
    assert!(
        domain::tracker::inbound::is_echo(&echo[0].change, &[]),
        "our own comment comes back signed: {body}"
    );
    assert_eq!(parse(5).unwrap()[0].change, RemoteChange::Deleted);

    // Either secret is enough; a wrong one or none is refused before the body is read.
    let mut only_header = http_headers(&sent[0]);
    only_header.remove("authorization");
    assert_eq!(
        trackers::webhook::parse(
            Vendor::AzureDevops,
            &only_header,
            sent[0].body.as_bytes(),
            &secret
        )
        .unwrap(),
        state
    );
    let mut only_basic = http_headers(&sent[0]);
    only_basic.remove("x-vulnbridge-secret");
    assert_eq!(
        trackers::webhook::parse(
            Vendor::AzureDevops,
            &only_basic,
            sent[0].body.as_bytes(),
            &secret
        )
        .unwrap(),
        state
    );
    let wrong = SecretString::from("not-it".to_owned());
    assert!(matches!(
        trackers::webhook::parse(
            Vendor::AzureDevops,
            &http_headers(&sent[0]),
            sent[0].body.as_bytes(),
            &wrong
        ),
        Err(WebhookError::BadSignature(_))
    ));
    let mut none = only_header.clone();
    none.remove("x-vulnbridge-secret");
    assert!(matches!(
        trackers::webhook::parse(Vendor::AzureDevops, &none, b"not json", &secret),
        Err(WebhookError::Unsigned(_))
    ));
    assert!(matches!(
        trackers::webhook::parse(Vendor::AzureDevops, &only_header, b"not json", &secret),
        Err(WebhookError::Unreadable(_))
    ));
}

#[tokio::test]
async fn calls_per_create_match_the_limits_table() {
    assert_eq!(
        trackers::limit::requests_per_create(Vendor::AzureDevops),
        &[(trackers::RequestClass::Create, 1)]
    );
    let sim = sim().await;
    let t = client(&sim, DAVE_PAT);
    let m = platform();
    for i in 0..5 {
        create(&t, &m, &fields(&m, i, "To Do", TicketState::Open), i).await;
    }
    assert_eq!(sim.requests().total(), 5);
    // A user name and the PAT as password work too (Azure DevOps ignores the user name).
    let conn = Connection {
        vendor: Vendor::AzureDevops,
        location: url::Url::parse(&sim.location()).unwrap(),
        credentials: Credentials::Basic {
            username: "me@acme.example".into(),
            password: SecretString::from(BOT_PAT.to_owned()),
        },
    };
    let basic = trackers::client(conn, Arc::new(NoLimits), &OutboundPolicy::default()).unwrap();
    create(&basic, &m, &fields(&m, 9, "To Do", TicketState::Open), 9).await;
    assert_eq!(sim.work_items("Platform").len(), 6);
}
