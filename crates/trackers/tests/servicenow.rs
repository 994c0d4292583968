//! The ServiceNow client against the ServiceNow simulator, over HTTP.

use chrono::{TimeDelta, Utc};
use domain::tracker::{
    Changes, CloseReason, DUE_DATE, FieldValue, MappingConfig, MappingTarget, Marker, Part,
    RemoteChange, Subject, TicketFields, TicketState, Vendor,
};
use domain::{FindingId, MappingId};
use secrecy::SecretString;
use serde_json::{Value, json};
use simulators::servicenow::{
    AGENT_USER, BOT_PASSWORD, BOT_REFRESH_TOKEN, BOT_USER, CLIENT_ID, CLIENT_SECRET, Limits,
    RateLimitRule, ServiceNowSim,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use trackers::oauth::{MemoryStore, OAuth, OAuthSession, TokenRequest};
use trackers::outbound::OutboundPolicy;
use trackers::webhook::WebhookError;
use trackers::{Connection, Credentials, NoLimits, Progress, RemoteRef, Tracker, TrackerError};

async fn sim() -> ServiceNowSim {
    ServiceNowSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn build(location: &str, credentials: Credentials) -> Arc<dyn Tracker> {
    let conn = Connection {
        vendor: Vendor::ServiceNow,
        location: url::Url::parse(location).unwrap(),
        credentials,
    };
    trackers::client(conn, Arc::new(NoLimits), &OutboundPolicy::default()).unwrap()
}

fn basic(sim: &ServiceNowSim, user: &str, password: &str) -> Arc<dyn Tracker> {
    build(
        &sim.location(),
        Credentials::Basic {
            username: user.into(),
            password: SecretString::from(password.to_owned()),
        },
    )
}

fn bot(sim: &ServiceNowSim) -> Arc<dyn Tracker> {
    basic(sim, BOT_USER, BOT_PASSWORD)
}

/// An OAuth client on the seeded refresh token, and its token store.
fn oauth(sim: &ServiceNowSim, refresh: &str) -> (Arc<dyn Tracker>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new(SecretString::from(refresh.to_owned())));
    let session = OAuthSession::new(OAuth {
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET.to_owned()),
        token_url: url::Url::parse(&format!("{}/oauth_token.do", sim.base_url())).unwrap(),
        request: TokenRequest::Form,
        store: store.clone(),
    });
    (
        build(&sim.location(), Credentials::OAuth(Arc::new(session))),
        store,
    )
}

fn mapping(table: &str) -> MappingConfig {
    MappingConfig::defaults(MappingTarget::ServiceNow {
        table: table.into(),
        assignment_group: None,
    })
}

fn marker(finding: i64) -> Marker {
    marker_of(3, finding)
}

fn marker_of(mapping: i64, finding: i64) -> Marker {
    Marker {
        installation: "k3x9q2".into(),
        mapping: MappingId(mapping),
        subject: Subject::Finding(FindingId(finding)),
    }
}

fn fields(finding: i64, status: &str, state: TicketState) -> TicketFields {
    TicketFields {
        title: format!("[VULNBRIDGE] {finding} - SQL injection"),
        body: format!(
            "**Severity:** High\n\n### Description\n\nUser input reaches `query()`.\n\n{}\n",
            marker(finding).html_comment()
        ),
        labels: ["vulnbridge".to_owned()].into(),
        severity: FieldValue::new("Impact", "2"),
        status: FieldValue::new("State", status),
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
    let mut p = Progress::default();
    t.create(m, f, &marker(finding), &mut p).await.unwrap();
    p.remote.expect("the record exists")
}

fn record(
    sim: &ServiceNowSim,
    table: &str,
    sys_id: &str,
) -> simulators::servicenow::RecordSnapshot {
    sim.records(table)
        .into_iter()
        .find(|r| r.sys_id == sys_id)
        .expect("the record")
}

fn count(sim: &ServiceNowSim, key: &str) -> u64 {
    sim.requests().counts().get(key).copied().unwrap_or(0)
}

#[tokio::test]
async fn create_writes_one_record_with_every_part() {
    let sim = sim().await;
    let t = bot(&sim);
    let group = sim.add_group("AppSec");
    let mut m = MappingConfig::defaults(MappingTarget::ServiceNow {
        table: "incident".into(),
        assignment_group: Some("AppSec".into()),
    });
    m.custom_fields.insert("category".into(), json!("software"));
    let mut f = fields(17, "New", TicketState::Open);
    f.custom = m.custom_fields.clone();
    f.custom.insert(DUE_DATE.into(), json!("2026-01-08"));
    let mut p = Progress::default();
    t.create(&m, &f, &marker(17), &mut p).await.unwrap();
    let remote = p.remote.clone().unwrap();
    let r = record(&sim, "incident", &remote.id);
    assert_eq!(remote.key, "INC0010001");
    assert_eq!(
        remote.url,
        format!("{}/incident.do?sys_id={}", sim.base_url(), r.sys_id)
    );
    assert_eq!(
        remote.data,
        json!({"table": "incident", "number": "INC0010001"})
    );
    assert_eq!(r.short_description, "[VULNBRIDGE] 17 - SQL injection");
    assert_eq!(
        r.description,
        "Severity: High\n\nDescription\n\nUser input reaches query()."
    );
    assert_eq!(
        (r.correlation_id.as_str(), r.correlation_display.as_str()),
        ("vulnbridge:k3x9q2:m3:f17", "vulnbridge")
    );
    assert_eq!(
        (r.impact.as_str(), r.urgency.as_str(), r.priority.as_str()),
        ("2", "3", "4")
    );
    assert_eq!((r.state.as_str(), r.active), ("1", true));
    assert_eq!(r.assignment_group, group, "the group found by its name");
    assert_eq!(r.due_date, "2026-01-08 23:59:59");
    let want: BTreeSet<Part> = [
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Status,
        Part::State,
        Part::Custom("category".into()),
        Part::Custom(DUE_DATE.into()),
    ]
    .into();
    assert_eq!(p.done, want);

    // With the table, its choices and the group known, a create is one POST.
    sim.requests().reset();
    create(&t, &m, &fields(18, "New", TicketState::Open), 18).await;
    assert_eq!(sim.requests().total(), 1, "{:?}", sim.requests().counts());
    assert_eq!(count(&sim, "POST /api/now/table/{table}"), 1);
    assert_eq!(
        trackers::limit::requests_per_create(Vendor::ServiceNow),
        &[(trackers::RequestClass::Create, 1)]
    );
}

#[tokio::test]
async fn a_cold_client_reads_the_table_once_then_creates() {
    let sim = sim().await;
    let t = bot(&sim);
    create(
        &t,
        &mapping("incident"),
        &fields(1, "New", TicketState::Open),
        1,
    )
    .await;
    let counts = sim.requests().counts();
    assert_eq!(sim.requests().total(), 3, "{counts:?}");
    assert_eq!(
        counts.get("GET /api/now/table/{table}"),
        Some(&2),
        "sys_db_object and sys_choice, once"
    );
}

#[tokio::test]
async fn records_are_created_on_other_task_tables_with_their_state_models() {
    let sim = sim().await;
    let t = bot(&sim);
    let m = mapping("problem");
    let open = create(&t, &m, &fields(1, "New", TicketState::Open), 1).await;
    assert_eq!(open.key, "PRB0010001");
    assert_eq!(record(&sim, "problem", &open.id).state, "101");
    // A false positive starts closed: Problem's resolution code, not an incident's close code.
    let mut m = m;
    m.status_mapping.false_positive = "Closed".into();
    let closed = create(
        &t,
        &m,
        &fields(2, "Closed", TicketState::Closed(CloseReason::NotPlanned)),
        2,
    )
    .await;
    let r = record(&sim, "problem", &closed.id);
    assert_eq!(
        (r.state.as_str(), r.close_code.as_str(), r.active),
        ("107", "risk_accepted", false)
    );
    assert!(
        r.close_notes
            .starts_with("Closed by vulnbridge: the finding will not be fixed"),
        "{}",
        r.close_notes
    );
    // A state the table does not have is refused before anything is sent.
    sim.requests().reset();
    let mut p = Progress::default();
    let e = t
        .create(
            &mapping("problem"),
            &fields(3, "In Progress", TicketState::Open),
            &marker(3),
            &mut p,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TrackerError::Misconfigured(m) if m.contains("'In Progress' is not a state of Problem")),
        "{e}"
    );
    assert_eq!(sim.requests().total(), 0);
}

#[tokio::test]
async fn create_many_is_one_batch_with_a_result_per_item() {
    let sim = sim().await;
    let t = bot(&sim);
    let m = mapping("incident");
    assert_eq!(t.bulk_size(), 50);
    create(&t, &m, &fields(1, "New", TicketState::Open), 1).await;
    sim.requests().reset();
    let items: Vec<(TicketFields, Marker)> = vec![
        (fields(10, "New", TicketState::Open), marker(10)),
        // On Hold needs a reason the mapping does not give: the instance refuses this one.
        (fields(11, "On Hold", TicketState::Open), marker(11)),
        (
            fields(12, "Resolved", TicketState::Closed(CloseReason::NotPlanned)),
            marker(12),
        ),
        // Not a state of the table: refused before sending.
        (fields(13, "Done", TicketState::Open), marker(13)),
    ];
    let mut progress = vec![Progress::default(); items.len()];
    let results = t.create_many(&m, &items, &mut progress).await;
    assert_eq!(sim.requests().total(), 1, "{:?}", sim.requests().counts());
    assert_eq!(count(&sim, "POST /api/now/{version}/batch"), 1);
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(
        matches!(&results[1], Err(TrackerError::Forbidden(m)) if m.contains("Operation Failed: Data Policy Exception") && m.contains("mandatory: On hold reason")),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(&results[3], Err(TrackerError::Misconfigured(_))),
        "{:?}",
        results[3]
    );
    assert_eq!(
        progress[0].remote.as_ref().map(|r| r.key.as_str()),
        Some("INC0010002")
    );
    assert!(progress[0].done.contains(&Part::State));
    assert!(progress[1].remote.is_none() && progress[1].done.is_empty());
    let resolved = record(&sim, "incident", &progress[2].remote.as_ref().unwrap().id);
    // Not fixed: the code that says so.
    assert_eq!(
        (resolved.state.as_str(), resolved.close_code.as_str()),
        ("6", "No resolution provided")
    );
    assert_eq!(sim.records("incident").len(), 3);

    // Items the instance did not get to are retryable failures.
    sim.set_limits(Limits {
        batch_serviced_max: 1,
        ..Limits::default()
    });
    let items: Vec<(TicketFields, Marker)> = (20..23)
        .map(|i| (fields(i, "New", TicketState::Open), marker(i)))
        .collect();
    let mut progress = vec![Progress::default(); 3];
    let results = t.create_many(&m, &items, &mut progress).await;
    assert!(results[0].is_ok());
    assert!(
        results[1..]
            .iter()
            .all(|r| matches!(r, Err(e) if e.is_retryable())),
        "{results:?}"
    );

    // More items than a batch holds go in several batches.
    sim.set_limits(Limits::default());
    sim.requests().reset();
    let items: Vec<(TicketFields, Marker)> = (100..160)
        .map(|i| (fields(i, "New", TicketState::Open), marker(i)))
        .collect();
    let mut progress = vec![Progress::default(); items.len()];
    let results = t.create_many(&m, &items, &mut progress).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(count(&sim, "POST /api/now/{version}/batch"), 2);
}

#[tokio::test]
async fn update_sends_one_patch_with_each_changed_part() {
    let sim = sim().await;
    let t = bot(&sim);
    let m = mapping("incident");
    let remote = create(&t, &m, &fields(17, "New", TicketState::Open), 17).await;
    sim.requests().reset();
    let changes = Changes {
        title: Some("[VULNBRIDGE] 17 - SQL injection (login)".into()),
        body: Some("Updated **body**.".into()),
        labels_added: ["sla-7d".to_owned()].into(),
        severity: Some(FieldValue::new("Impact", "1")),
        status: Some(FieldValue::new("State", "In Progress")),
        custom: [(DUE_DATE.to_owned(), json!("2026-02-01"))].into(),
        comment: Some("Work started.\n\n— vulnbridge".into()),
        ..Changes::default()
    };
    let mut p = Progress::default();
    t.update(&m, &remote, &changes, &mut p).await.unwrap();
    assert_eq!(sim.requests().total(), 1, "{:?}", sim.requests().counts());
    assert_eq!(count(&sim, "PATCH /api/now/table/{table}/{sys_id}"), 1);
    let r = record(&sim, "incident", &remote.id);
    assert_eq!(
        r.short_description,
        "[VULNBRIDGE] 17 - SQL injection (login)"
    );
    assert_eq!(r.description, "Updated body.");
    assert_eq!(
        (r.impact.as_str(), r.priority.as_str(), r.state.as_str()),
        ("1", "3", "2")
    );
    assert_eq!(r.due_date, "2026-02-01 23:59:59");
    assert_eq!(r.comments, vec!["Work started.\n\n— vulnbridge".to_owned()]);
    let want: BTreeSet<Part> = [
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Status,
        Part::Custom(DUE_DATE.into()),
        Part::Comment,
    ]
    .into();
    assert_eq!(p.done, want);

    // Labels alone have nowhere to go: nothing is sent.
    sim.requests().reset();
    let mut p = Progress::default();
    t.update(
        &m,
        &remote,
        &Changes {
            labels_removed: ["sla-7d".to_owned()].into(),
            ..Changes::default()
        },
        &mut p,
    )
    .await
    .unwrap();
    assert_eq!(
        (sim.requests().total(), p.done.contains(&Part::Labels)),
        (0, true)
    );

    // Comments go to work notes when the mapping says so; the due date can be taken away.
    let mut m = m;
    m.custom_fields
        .insert("comment_field".into(), json!("work_notes"));
    let changes = Changes {
        comment: Some("Internal.".into()),
        custom: [(DUE_DATE.to_owned(), Value::Null)].into(),
        ..Changes::default()
    };
    t.update(&m, &remote, &changes, &mut Progress::default())
        .await
        .unwrap();
    let r = record(&sim, "incident", &remote.id);
    assert_eq!(
        (r.work_notes.clone(), r.due_date.as_str()),
        (vec!["Internal.".to_owned()], "")
    );

    // A record that is gone.
    let gone = RemoteRef {
        id: "0123456789abcdef0123456789abcdef".into(),
        ..remote.clone()
    };
    let e = t
        .update(
            &m,
            &gone,
            &Changes {
                title: Some("x".into()),
                ..Changes::default()
            },
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TrackerError::NotFound(m) if m.contains("No Record found")),
        "{e}"
    );
}

#[tokio::test]
async fn resolve_close_and_reopen_set_the_closure_fields_and_the_active_state() {
    let sim = sim().await;
    let t = bot(&sim);
    let m = mapping("incident");
    let remote = create(&t, &m, &fields(17, "New", TicketState::Open), 17).await;
    // False positive → Resolved, with a close code the table has and the comment as notes.
    let resolve = Changes {
        status: Some(FieldValue::new("State", "Resolved")),
        state: Some(TicketState::Closed(CloseReason::NotPlanned)),
        comment: Some("False positive: test code.\n\n— vulnbridge".into()),
        ..Changes::default()
    };
    let mut p = Progress::default();
    t.update(&m, &remote, &resolve, &mut p).await.unwrap();
    let r = record(&sim, "incident", &remote.id);
    assert_eq!(
        (r.state.as_str(), r.active, r.close_code.as_str()),
        ("6", true, "No resolution provided")
    );
    assert_eq!(r.close_notes, "False positive: test code.\n\n— vulnbridge");
    assert!(
        p.done.contains(&Part::State)
            && p.done.contains(&Part::Status)
            && p.done.contains(&Part::Comment)
    );
    // Reopen: back to the mapped active state.
    t.update(
        &m,
        &remote,
        &Changes {
            state: Some(TicketState::Open),
            status: Some(FieldValue::new("State", "New")),
            ..Changes::default()
        },
        &mut Progress::default(),
    )
    .await
    .unwrap();
    let r = record(&sim, "incident", &remote.id);
    assert_eq!((r.state.as_str(), r.active), ("1", true));
    // Closed (fixed), on an instance that still has the old codes: Solved (Permanently).
    sim.add_choice(
        "incident",
        "close_code",
        "Solved (Permanently)",
        "Solved (Permanently)",
    );
    let t = bot(&sim);
    let remote = create(&t, &m, &fields(18, "New", TicketState::Open), 18).await;
    t.update(
        &m,
        &remote,
        &Changes {
            state: Some(TicketState::Closed(CloseReason::Completed)),
            status: Some(FieldValue::new("State", "Closed")),
            ..Changes::default()
        },
        &mut Progress::default(),
    )
    .await
    .unwrap();
    let r = record(&sim, "incident", &remote.id);
    assert_eq!(
        (r.state.as_str(), r.active, r.close_code.as_str()),
        ("7", false, "Solved (Permanently)")
    );
    assert_eq!(r.close_notes, "Closed by vulnbridge: the finding is fixed.");
    // The mapping's own close code wins.
    let mut m2 = m.clone();
    m2.custom_fields
        .insert("close_code".into(), json!("Known error"));
    let remote = create(&t, &m2, &fields(19, "New", TicketState::Open), 19).await;
    t.update(
        &m2,
        &remote,
        &Changes {
            state: Some(TicketState::Closed(CloseReason::Completed)),
            ..Changes::default()
        },
        &mut Progress::default(),
    )
    .await
    .unwrap();
    let r = record(&sim, "incident", &remote.id);
    assert_eq!(
        (r.state.as_str(), r.close_code.as_str()),
        ("7", "Known error")
    );
}

#[tokio::test]
async fn find_by_marker_finds_the_record_of_an_interrupted_create() {
    let sim = sim().await;
    let t = bot(&sim);
    let m = mapping("incident");
    let started = Utc::now();
    let remote = create(&t, &m, &fields(17, "New", TicketState::Open), 17).await;
    sim.set_state_as(
        AGENT_USER,
        "incident",
        &remote.id,
        "7",
        Some("Solution provided"),
    )
    .unwrap();
    let found = t
        .find_by_marker(&m, &marker(17), started)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.remote, remote);
    assert!(!found.open);
    assert_eq!(
        t.find_by_marker(&m, &marker(18), started).await.unwrap(),
        None
    );
    assert_eq!(
        t.find_by_marker(&m, &marker(17), started + TimeDelta::hours(1))
            .await
            .unwrap(),
        None,
        "created before the interrupted create"
    );
    assert_eq!(
        t.find_by_marker(&mapping("problem"), &marker(17), started)
            .await
            .unwrap(),
        None,
        "another table"
    );
}

#[tokio::test]
async fn changes_since_reads_every_page_of_the_mappings_records() {
    let sim = sim().await;
    let t = bot(&sim);
    let m = mapping("incident");
    let since = Utc::now() - TimeDelta::seconds(2);
    let items: Vec<(TicketFields, Marker)> = (1..=105)
        .map(|i| (fields(i, "New", TicketState::Open), marker(i)))
        .collect();
    let mut progress = vec![Progress::default(); items.len()];
    assert!(
        t.create_many(&m, &items, &mut progress)
            .await
            .iter()
            .all(Result::is_ok)
    );
    // Another mapping's record is not this mapping's business.
    t.create(
        &m,
        &fields(500, "New", TicketState::Open),
        &marker_of(4, 500),
        &mut Progress::default(),
    )
    .await
    .unwrap();
    let first = progress[0].remote.clone().unwrap();
    // sys_updated_on counts seconds: the close comes a second after the creates.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sim.set_state_as(
        AGENT_USER,
        "incident",
        &first.id,
        "7",
        Some("Solution provided"),
    )
    .unwrap();
    sim.requests().reset();
    let changes = t
        .changes_since(&m, &Marker::mapping_prefix("k3x9q2", MappingId(3)), since)
        .await
        .unwrap()
        .expect("polled");
    assert_eq!(changes.len(), 105);
    assert_eq!(
        count(&sim, "GET /api/now/table/{table}"),
        2,
        "two pages of 100"
    );
    let closed = changes
        .iter()
        .find(|c| c.event.remote_id == first.id)
        .unwrap();
    assert_eq!(
        closed.event.change,
        RemoteChange::Status {
            value: "Closed".into(),
            state: TicketState::Closed(CloseReason::Completed)
        }
    );
    assert_eq!(closed.event.actor.as_deref(), Some(AGENT_USER));
    assert_eq!(
        changes.last().map(|c| &c.event.remote_id),
        Some(&first.id),
        "oldest change first: the close is the latest"
    );
    let open = changes
        .iter()
        .find(|c| c.event.remote_id != first.id)
        .unwrap();
    assert_eq!(
        open.event.change,
        RemoteChange::Status {
            value: "New".into(),
            state: TicketState::Open
        }
    );
    assert!(
        changes
            .iter()
            .all(|c| c.at >= since - TimeDelta::seconds(1))
    );
    let none = t
        .changes_since(
            &m,
            &Marker::mapping_prefix("k3x9q2", MappingId(3)),
            Utc::now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(none, Some(vec![]));
}

#[tokio::test]
async fn check_passes_and_names_each_failure() {
    let sim = sim().await;
    let m = mapping("incident");
    let report = bot(&sim).check(Some(&m)).await;
    assert!(report.ok(), "{}", report.failures());
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "URL",
            "credentials",
            "table",
            "access",
            "states",
            "severity",
            "fields"
        ]
    );
    assert_eq!(report.account.as_deref(), Some(BOT_USER));
    let states = &report.checks[4].detail;
    assert!(
        states.contains("New → 1") && states.contains("Resolved → 6"),
        "{states}"
    );

    let failing = |r: &trackers::CheckReport, name: &str| {
        r.checks
            .iter()
            .find(|c| c.name == name && !c.ok)
            .map(|c| c.detail.clone())
    };
    // Nothing listens there.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let r = build(
        &format!("http://{closed_port}/"),
        Credentials::Basic {
            username: "u".into(),
            password: SecretString::from("p".to_owned()),
        },
    )
    .check(None)
    .await;
    assert!(
        failing(&r, "URL").is_some_and(|d| d.contains("cannot reach")),
        "{}",
        r.failures()
    );
    // Something else listens there.
    let other = simulators::gitlab::GitLabSim::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let r = build(
        &other.location(),
        Credentials::Basic {
            username: "u".into(),
            password: SecretString::from("p".to_owned()),
        },
    )
    .check(None)
    .await;
    assert!(
        failing(&r, "URL")
            .is_some_and(|d| d.contains("does not answer like a ServiceNow instance")),
        "{}",
        r.failures()
    );
    // A wrong password.
    let r = basic(&sim, BOT_USER, "wrong").check(Some(&m)).await;
    assert!(
        failing(&r, "credentials")
            .is_some_and(|d| d.contains("User Not Authenticated") && d.contains(BOT_USER)),
        "{}",
        r.failures()
    );
    assert_eq!(r.checks.len(), 2, "nothing more is checked");
    // OAuth: the refresh works and names the user.
    let (t, _) = oauth(&sim, BOT_REFRESH_TOKEN);
    let r = t.check(None).await;
    assert!(
        r.ok() && r.checks[1].detail == "signed in to ServiceNow as vulnbridge.bot with OAuth",
        "{:?}",
        r.checks
    );
    // An expired refresh token is named.
    sim.expire_refresh_token(BOT_REFRESH_TOKEN);
    let (t, _) = oauth(&sim, BOT_REFRESH_TOKEN);
    let r = t.check(Some(&m)).await;
    assert!(
        failing(&r, "credentials").is_some_and(|d| d.starts_with("the refresh token has expired")),
        "{}",
        r.failures()
    );
    // Tables: unknown, not a task table.
    let t = bot(&sim);
    let r = t.check(Some(&mapping("u_vulns"))).await;
    assert!(
        failing(&r, "table").is_some_and(|d| d.contains("no table 'u_vulns'")),
        "{}",
        r.failures()
    );
    let r = t.check(Some(&mapping("sys_user"))).await;
    assert!(
        failing(&r, "table").is_some_and(|d| d.contains("does not extend task")),
        "{}",
        r.failures()
    );
    // A user whose roles do not reach incidents.
    create(&t, &m, &fields(1, "New", TicketState::Open), 1).await;
    sim.add_user("no.roles", "pw", &[]);
    let r = basic(&sim, "no.roles", "pw").check(Some(&m)).await;
    assert!(
        failing(&r, "access").is_some_and(|d| d.contains("can read none of the 1 records")),
        "{}",
        r.failures()
    );
    // Mapped values the table does not have.
    let mut bad = m.clone();
    bad.status_mapping.closed = "Done".into();
    bad.severity_mapping.critical = "4".into();
    bad.custom_fields
        .insert("comment_field".into(), json!("notes"));
    let bad = MappingConfig {
        target: MappingTarget::ServiceNow {
            table: "incident".into(),
            assignment_group: Some("Nobody".into()),
        },
        ..bad
    };
    let r = t.check(Some(&bad)).await;
    assert!(
        failing(&r, "states").is_some_and(|d| d.contains("Done is not a state of Incident")),
        "{}",
        r.failures()
    );
    assert!(
        failing(&r, "severity").is_some_and(|d| d.contains("'4' is not a choice of impact")),
        "{}",
        r.failures()
    );
    assert!(
        failing(&r, "fields").is_some_and(|d| d.contains("comment_field")),
        "{}",
        r.failures()
    );
    assert!(
        failing(&r, "assignment group").is_some_and(|d| d.contains("no group named 'Nobody'")),
        "{}",
        r.failures()
    );
}

#[tokio::test]
async fn oauth_tokens_are_refreshed_on_expiry_and_on_401() {
    let sim = sim().await;
    let (t, store) = oauth(&sim, BOT_REFRESH_TOKEN);
    let m = mapping("incident");
    create(&t, &m, &fields(1, "New", TicketState::Open), 1).await;
    assert_eq!(count(&sim, "POST /oauth_token.do"), 1);
    create(&t, &m, &fields(2, "New", TicketState::Open), 2).await;
    assert_eq!(
        count(&sim, "POST /oauth_token.do"),
        1,
        "the access token is reused"
    );
    // The instance drops the access token: 401, a refresh, the same request again.
    sim.expire_access_tokens();
    sim.requests().reset();
    create(&t, &m, &fields(3, "New", TicketState::Open), 3).await;
    assert_eq!(count(&sim, "POST /oauth_token.do"), 1);
    assert_eq!(
        count(&sim, "POST /api/now/table/{table}"),
        2,
        "refused once, then sent again"
    );
    assert_eq!(sim.records("incident").len(), 3);
    // An access token about to expire is refreshed before it is used.
    sim.set_access_token_lifetime(61);
    sim.expire_access_tokens();
    create(&t, &m, &fields(4, "New", TicketState::Open), 4).await;
    sim.requests().reset();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    create(&t, &m, &fields(5, "New", TicketState::Open), 5).await;
    assert_eq!(count(&sim, "POST /oauth_token.do"), 1);
    assert_eq!(
        count(&sim, "POST /api/now/table/{table}"),
        1,
        "no 401 on the way"
    );
    // ServiceNow keeps its refresh tokens: the store still holds the seeded one.
    use secrecy::ExposeSecret;
    assert_eq!(store.refresh_token().expose_secret(), BOT_REFRESH_TOKEN);
    // A refused refresh token stops everything with a clear reason.
    sim.expire_refresh_token(BOT_REFRESH_TOKEN);
    sim.expire_access_tokens();
    let (t, _) = oauth(&sim, BOT_REFRESH_TOKEN);
    let e = t
        .create(
            &m,
            &fields(6, "New", TicketState::Open),
            &marker(6),
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TrackerError::Unauthorized(m) if m.contains("refresh token was refused")),
        "{e}"
    );
}

#[tokio::test]
async fn a_rate_limited_request_is_rate_limited_until_retry_after() {
    let sim = sim().await;
    let t = bot(&sim);
    let m = mapping("incident");
    create(&t, &m, &fields(1, "New", TicketState::Open), 1).await;
    sim.set_limits(Limits {
        rules: vec![RateLimitRule {
            name: "bot".into(),
            api: "Table API".into(),
            user: Some(BOT_USER.into()),
            requests_per_hour: 1,
            ..RateLimitRule::default()
        }],
        ..Limits::default()
    });
    create(&t, &m, &fields(2, "New", TicketState::Open), 2).await;
    let before = Utc::now();
    let e = t
        .create(
            &m,
            &fields(3, "New", TicketState::Open),
            &marker(3),
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    match e {
        TrackerError::RateLimited {
            until: Some(until),
            reason,
        } => {
            assert!(
                reason.contains("Rate limit exceeded") && reason.contains("HTTP 429"),
                "{reason}"
            );
            assert!(
                until > before + TimeDelta::minutes(50),
                "Retry-After counts to the end of the hour: {until}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// The business rule's deliveries so far, as the engine's receiver would get them.
async fn deliveries(sim: &ServiceNowSim) -> Vec<(http::HeaderMap, Vec<u8>)> {
    sim.webhooks().wait_idle().await;
    sim.webhooks()
        .sent()
        .into_iter()
        .map(|d| {
            let mut h = http::HeaderMap::new();
            for (k, v) in d.headers {
                if let (Ok(k), Ok(v)) = (
                    http::HeaderName::from_bytes(k.as_bytes()),
                    http::HeaderValue::from_str(&v),
                ) {
                    h.append(k, v);
                }
            }
            (h, d.body.into_bytes())
        })
        .collect()
}

#[tokio::test]
async fn business_rule_deliveries_parse_into_status_comment_and_delete_events() {
    let sim = sim().await;
    let t = bot(&sim);
    let m = mapping("incident");
    // Nobody needs to listen: the simulator keeps what it sent.
    let url = "http://127.0.0.1:9/webhooks/1/".to_owned();
    // ServiceNow has no API for it: registering points at the business rule's doc.
    let e = t
        .register_webhook(
            &m,
            &url::Url::parse(&url).unwrap(),
            &SecretString::from("s".to_owned()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TrackerError::Misconfigured(msg) if msg.contains("docs/servicenow-business-rule.md") && msg.contains("reconcile")),
        "{e}"
    );
    sim.register_business_rule(&url, "instance-secret", "task");
    let secret = SecretString::from("instance-secret".to_owned());
    let remote = create(&t, &m, &fields(17, "New", TicketState::Open), 17).await;
    let (h, body) = deliveries(&sim).await.pop().expect("the insert");
    let events = trackers::webhook::parse(Vendor::ServiceNow, &h, &body, &secret).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].remote_id.as_str(), events[0].actor.as_deref()),
        (remote.id.as_str(), Some(BOT_USER))
    );
    assert_eq!(
        events[0].change,
        RemoteChange::Status {
            value: "New".into(),
            state: TicketState::Open
        }
    );
    sim.set_state_as(
        AGENT_USER,
        "incident",
        &remote.id,
        "7",
        Some("Solution provided"),
    )
    .unwrap();
    let (h, body) = deliveries(&sim).await.pop().expect("the close");
    let events = trackers::webhook::parse(Vendor::ServiceNow, &h, &body, &secret).unwrap();
    assert_eq!(
        events[0].change,
        RemoteChange::Status {
            value: "Closed".into(),
            state: TicketState::Closed(CloseReason::Completed)
        }
    );
    assert_eq!(events[0].actor.as_deref(), Some(AGENT_USER));
    sim.comment_as(AGENT_USER, "incident", &remote.id, "Fixed in 2.1")
        .unwrap();
    let (h, body) = deliveries(&sim).await.pop().expect("the comment");
    let events = trackers::webhook::parse(Vendor::ServiceNow, &h, &body, &secret).unwrap();
    assert_eq!(
        events.last().map(|e| e.change.clone()),
        Some(RemoteChange::Comment {
            body: "Fixed in 2.1".into()
        })
    );
    assert_eq!(
        trackers::webhook::parse(
            Vendor::ServiceNow,
            &h,
            &body,
            &SecretString::from("other".to_owned())
        ),
        Err(WebhookError::BadSignature("X-Vulnbridge-Secret header"))
    );
    sim.delete_as("admin", "incident", &remote.id).unwrap();
    let (h, body) = deliveries(&sim).await.pop().expect("the delete");
    assert_eq!(
        trackers::webhook::parse(Vendor::ServiceNow, &h, &body, &secret).unwrap()[0].change,
        RemoteChange::Deleted
    );
}

#[tokio::test]
async fn options_list_states_severities_and_task_tables() {
    let sim = sim().await;
    let t = bot(&sim);
    let o = t.options(&mapping("incident")).await.unwrap();
    let states: Vec<(&str, Option<bool>)> = o
        .statuses
        .iter()
        .map(|s| (s.value.as_str(), s.closed))
        .collect();
    assert_eq!(
        states,
        [
            ("New", Some(false)),
            ("In Progress", Some(false)),
            ("On Hold", Some(false)),
            ("Resolved", Some(false)),
            ("Closed", Some(true)),
            ("Canceled", Some(true))
        ]
    );
    assert_eq!(
        o.severities
            .iter()
            .map(|s| s.value.as_str())
            .collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    let types: Vec<&str> = o.types.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(
        types,
        ["change_request", "incident", "problem", "sn_si_incident"]
    );
    let mut preset = mapping("incident");
    preset.severity_mapping.field = "impact+urgency".into();
    let o = t.options(&preset).await.unwrap();
    assert_eq!(o.severities.len(), 9);
    assert_eq!(o.severities[1].value, "1/2");
    // The preset writes both fields.
    let mut f = fields(1, "New", TicketState::Open);
    f.severity = FieldValue::new("impact+urgency", "1/2");
    let remote = create(&t, &preset, &f, 1).await;
    let r = record(&sim, "incident", &remote.id);
    assert_eq!(
        (r.impact.as_str(), r.urgency.as_str(), r.priority.as_str()),
        ("1", "2", "2")
    );
}

#[tokio::test]
async fn servicenow_is_a_supported_vendor_needing_fitting_credentials() {
    assert!(trackers::SUPPORTED.contains(&Vendor::ServiceNow));
    let conn = Connection {
        vendor: Vendor::ServiceNow,
        location: url::Url::parse("https://acme.service-now.com/").unwrap(),
        credentials: Credentials::Token(SecretString::from("t".to_owned())),
    };
    let e = trackers::client(conn, Arc::new(NoLimits), &OutboundPolicy::default())
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("OAuth"), "{e}");
}

#[tokio::test]
async fn failures_are_classified_and_a_lost_reply_is_found_by_its_marker() {
    let sim = sim().await;
    let t = bot(&sim);
    let m = mapping("incident");
    create(&t, &m, &fields(1, "New", TicketState::Open), 1).await;
    // The record is created, the answer lost: a retryable failure, and the marker finds it.
    sim.faults().push(simulators::Fault {
        method: Some("POST".into()),
        path_contains: Some("/api/now/table/incident".into()),
        status: 502,
        after_serving: true,
        times: 1,
        ..simulators::Fault::default()
    });
    let started = Utc::now();
    let e = t
        .create(
            &m,
            &fields(2, "New", TicketState::Open),
            &marker(2),
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    let found = t
        .find_by_marker(&m, &marker(2), started)
        .await
        .unwrap()
        .expect("the record exists");
    assert_eq!(found.remote.key, "INC0010002");
    // A user who may read but not write.
    sim.add_user("read.only", "pw", &["snc_read_only"]);
    let reader = basic(&sim, "read.only", "pw");
    let e = reader
        .create(
            &m,
            &fields(3, "New", TicketState::Open),
            &marker(3),
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TrackerError::Forbidden(msg) if msg.contains("Operation Failed")),
        "{e}"
    );
    let e = reader
        .update(
            &m,
            &found.remote,
            &Changes {
                title: Some("x".into()),
                ..Changes::default()
            },
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    assert_eq!(sim.records("incident").len(), 2);
}
