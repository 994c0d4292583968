//! The Jira client against the Jira simulator, over HTTP: Cloud (v3, ADF) and Data Center
//! (v2, wiki markup) flavours, the workflow, bulk creation, deletion, links, marker search,
//! check connection, OAuth, rate limits and webhooks.

use domain::tracker::{
    Changes, CloseReason, FieldValue, JiraSpace, MappingConfig, MappingTarget, Marker, Part,
    RemoteChange, Subject, TicketFields, TicketState, Vendor,
};
use domain::{FindingId, MappingId};
use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::SecretString;
use serde_json::{Value, json};
use simulators::jira::{self, JiraSim, Limits, Permission};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use trackers::oauth::{MemoryStore, OAuth, OAuthSession, TokenRequest};
use trackers::outbound::OutboundPolicy;
use trackers::webhook::WebhookError;
use trackers::{Connection, Credentials, NoLimits, Progress, RemoteRef, Tracker, TrackerError};

async fn sim() -> JiraSim {
    JiraSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn connect(location: &str, credentials: Credentials) -> Arc<dyn Tracker> {
    let conn = Connection {
        vendor: Vendor::Jira,
        location: url::Url::parse(location).unwrap(),
        credentials,
    };
    trackers::client(conn, Arc::new(NoLimits), &OutboundPolicy::default()).unwrap()
}

fn basic(user: &str, token: &str) -> Credentials {
    Credentials::Basic {
        username: user.into(),
        password: SecretString::from(token.to_owned()),
    }
}

/// Jira Cloud: an e-mail address and an API token.
fn cloud(sim: &JiraSim) -> Arc<dyn Tracker> {
    connect(&sim.location(), basic(jira::BOT_EMAIL, jira::BOT_API_TOKEN))
}

/// Jira Data Center: a personal access token.
fn data_center(sim: &JiraSim) -> Arc<dyn Tracker> {
    connect(
        &sim.location(),
        Credentials::Token(SecretString::from(jira::BOT_PAT.to_owned())),
    )
}

fn oauth(sim: &JiraSim, refresh: &str) -> (Arc<dyn Tracker>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new(SecretString::from(refresh.to_owned())));
    let session = OAuthSession::new(OAuth {
        client_id: jira::OAUTH_CLIENT_ID.into(),
        client_secret: SecretString::from(jira::OAUTH_CLIENT_SECRET.to_owned()),
        token_url: url::Url::parse(&format!("{}/rest/oauth2/latest/token", sim.base_url()))
            .unwrap(),
        request: TokenRequest::Form,
        store: store.clone(),
    });
    (
        connect(&sim.location(), Credentials::OAuth(Arc::new(session))),
        store,
    )
}

fn mapping(project: &str, issue_type: &str) -> MappingConfig {
    let mut m = MappingConfig::defaults(MappingTarget::Jira {
        project: project.into(),
        issue_type: issue_type.into(),
        space: JiraSpace::Product,
        components: Vec::new(),
        priority: true,
        delete_rejected: false,
        close_security_issue_when_done: false,
        sync_comments: false,
    });
    m.labels = vec!["security".into()];
    m
}

fn security_mapping() -> MappingConfig {
    let mut m = mapping("SEC", "Vulnerability");
    if let MappingTarget::Jira {
        components, space, ..
    } = &mut m.target
    {
        *components = vec!["backend".into()];
        *space = JiraSpace::Security;
    }
    m
}

fn marker(finding: i64) -> Marker {
    Marker {
        installation: "k3x9q2".into(),
        mapping: MappingId(3),
        subject: Subject::Finding(FindingId(finding)),
    }
}

fn fields(finding: i64, status: &str) -> TicketFields {
    let state = if matches!(status, "Done" | "Won't Do") {
        TicketState::Closed(CloseReason::Completed)
    } else {
        TicketState::Open
    };
    TicketFields {
        title: format!("[VULNBRIDGE] {finding} - SQL injection"),
        body: format!(
            "**Severity:** High · **Status:** Active\n\n### Description\n\nThe `id` parameter is injectable.\n\n{}\n",
            marker(finding).html_comment()
        ),
        labels: ["vulnbridge".to_owned(), "security".to_owned()].into(),
        severity: FieldValue::new("priority", "High"),
        status: FieldValue::new("status", status),
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
    p.remote.expect("the issue exists")
}

fn all_parts() -> BTreeSet<Part> {
    [
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Status,
        Part::State,
    ]
    .into()
}

fn count(sim: &JiraSim, route: &str) -> u64 {
    sim.requests().counts().get(route).copied().unwrap_or(0)
}

#[tokio::test]
async fn an_open_ticket_costs_one_request_once_the_workflow_is_known() {
    let sim = sim().await;
    let t = cloud(&sim);
    let m = mapping("APP", "Bug");
    let mut p = Progress::default();
    t.create(&m, &fields(1, "To Do"), &marker(1), &mut p)
        .await
        .unwrap();
    assert_eq!(p.done, all_parts());
    let remote = p.remote.clone().unwrap();
    let issue = sim.issue("APP-1").unwrap();
    assert_eq!(remote.id, issue.id, "the id, which webhooks name");
    assert_eq!(remote.key, "APP-1");
    assert_eq!(remote.url, format!("{}/browse/APP-1", sim.base_url()));
    assert_eq!(remote.data, json!({"project": "APP", "issue_type": "Bug"}));
    assert_eq!(issue.summary, "[VULNBRIDGE] 1 - SQL injection");
    assert_eq!(issue.priority, "High");
    assert_eq!(issue.status, "To Do");
    assert_eq!(
        issue.labels,
        ["security", "vulnbridge", "vulnbridge:k3x9q2:m3:f1"],
        "the marker is a label too"
    );
    // Cloud: the description is ADF, with the marker in it.
    let raw = issue.description_raw.clone().unwrap();
    assert_eq!(raw["type"], "doc");
    assert_eq!(
        raw["content"][0]["content"][0],
        json!({"type": "text", "text": "Severity:", "marks": [{"type": "strong"}]})
    );
    assert!(
        issue
            .description
            .as_deref()
            .unwrap_or("")
            .contains(&marker(1).token())
    );
    assert_eq!(
        sim.requests().total(),
        2,
        "the create, and one read of where issues start"
    );
    sim.requests().reset();
    create(&t, &m, &fields(2, "To Do"), 2).await;
    assert_eq!(
        sim.requests().counts(),
        BTreeMap::from([("POST /rest/api/3/issue".to_owned(), 1)])
    );
    // What the engine's queue estimate counts for a Jira create.
    assert_eq!(
        trackers::limit::requests_per_create(Vendor::Jira),
        [(trackers::RequestClass::Create, 1)]
    );
}

#[tokio::test]
async fn statuses_are_reached_through_the_workflow() {
    let sim = sim().await;
    let t = cloud(&sim);
    let m = security_mapping();
    // Done is two transitions from To Do; the first time, the client finds the way.
    let r = create(&t, &m, &fields(1, "Done"), 1).await;
    let issue = sim.issue(&r.key).unwrap();
    assert_eq!(
        (
            issue.status.as_str(),
            issue.resolution.as_deref(),
            issue.components.clone()
        ),
        ("Done", Some("Done"), vec!["backend".to_owned()])
    );
    // The second time, the create carries the first transition and one more follows.
    sim.requests().reset();
    let r = create(&t, &m, &fields(2, "Done"), 2).await;
    assert_eq!(sim.issue(&r.key).unwrap().status, "Done");
    assert_eq!(count(&sim, "POST /rest/api/3/issue"), 1);
    assert_eq!(count(&sim, "POST /rest/api/3/issue/{key}/transitions"), 1);
    assert_eq!(sim.requests().total(), 2);
    // One transition away: the create alone.
    sim.requests().reset();
    let wont = create(&t, &m, &fields(3, "Won't Do"), 3).await;
    assert_eq!(sim.issue(&wont.key).unwrap().status, "Won't Do");
    assert_eq!(sim.requests().total(), 1);

    // Won't Do → Done is three transitions away (Won't Do → To Do → In Progress → Done): the
    // client goes the shortest way through the workflow it learned.
    let change = Changes {
        status: Some(FieldValue::new("status", "Done")),
        state: Some(TicketState::Closed(CloseReason::Completed)),
        ..Changes::default()
    };
    let far = create(&t, &m, &fields(4, "Won't Do"), 4).await;
    sim.requests().reset();
    let mut p = Progress::default();
    t.update(&m, &far, &change, &mut p).await.unwrap();
    assert!(p.done.contains(&Part::Status));
    assert_eq!(sim.issue(&far.key).unwrap().status, "Done");
    assert_eq!(count(&sim, "POST /rest/api/3/issue/{key}/transitions"), 3);
    // A client that never saw the workflow explores its way there too.
    let other = create(&t, &m, &fields(5, "Won't Do"), 5).await;
    cloud(&sim).update(&m, &other, &change, &mut Progress::default()).await.unwrap();
    assert_eq!(sim.issue(&other.key).unwrap().status, "Done");
    // A status the workflow does not have is named with the ones it has.
    let mut bad = security_mapping();
    bad.status_mapping.closed = "Closed".into();
    let e = t
        .update(
            &bad,
            &wont,
            &Changes {
                status: Some(FieldValue::new("status", "Closed")),
                ..Changes::default()
            },
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("\"Closed\" is not a status of Vulnerability issues in project SEC (the workflow has To Do, In Progress, Done, Won't Do)"), "{e}");
    // Reopening: Won't Do → To Do → In Progress.
    let mut p = Progress::default();
    let reopen = Changes {
        status: Some(FieldValue::new("status", "In Progress")),
        state: Some(TicketState::Open),
        ..Changes::default()
    };
    t.update(&m, &wont, &reopen, &mut p).await.unwrap();
    assert!(p.done.contains(&Part::Status) && p.done.contains(&Part::State));
    assert_eq!(sim.issue(&wont.key).unwrap().status, "In Progress");
}

#[tokio::test]
async fn updates_send_only_what_changed_in_one_edit() {
    let sim = sim().await;
    let t = cloud(&sim);
    let m = mapping("APP", "Bug");
    let r = create(&t, &m, &fields(1, "To Do"), 1).await;
    sim.requests().reset();
    let changes = Changes {
        title: Some("[VULNBRIDGE] 1 - SQL injection (confirmed)".into()),
        body: Some("Now **worse**.\n\n<!-- vulnbridge:k3x9q2:m3:f1 -->".into()),
        labels_added: ["team a".to_owned()].into(),
        labels_removed: ["security".to_owned()].into(),
        severity: Some(FieldValue::new("priority", "Highest")),
        custom: BTreeMap::from([(domain::tracker::DUE_DATE.to_owned(), json!("2026-01-08"))]),
        ..Changes::default()
    };
    let mut p = Progress::default();
    t.update(&m, &r, &changes, &mut p).await.unwrap();
    assert_eq!(
        sim.requests().counts(),
        BTreeMap::from([("PUT /rest/api/3/issue/{key}".to_owned(), 1)])
    );
    let expected: BTreeSet<Part> = [
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Custom("due_date".into()),
    ]
    .into();
    assert_eq!(p.done, expected);
    let issue = sim.issue(&r.key).unwrap();
    assert_eq!(issue.summary, "[VULNBRIDGE] 1 - SQL injection (confirmed)");
    assert_eq!(
        issue.labels,
        ["team-a", "vulnbridge", "vulnbridge:k3x9q2:m3:f1"],
        "spaces become dashes; our other labels stay"
    );
    assert_eq!(
        (issue.priority.as_str(), issue.duedate.as_deref()),
        ("Highest", Some("2026-01-08"))
    );
    assert!(
        issue
            .description
            .as_deref()
            .unwrap_or("")
            .starts_with("Now worse.")
    );
    // A close with its comment: the workflow, then the comment.
    sim.requests().reset();
    let close = Changes {
        status: Some(FieldValue::new("status", "Won't Do")),
        state: Some(TicketState::Closed(CloseReason::NotPlanned)),
        comment: Some(format!(
            "Closed by vulnbridge: the finding is now False Positive.\n\n{}",
            domain::tracker::inbound::COMMENT_SIGNATURE
        )),
        custom: BTreeMap::from([(domain::tracker::DUE_DATE.to_owned(), Value::Null)]),
        ..Changes::default()
    };
    let mut p = Progress::default();
    t.update(&m, &r, &close, &mut p).await.unwrap();
    let issue = sim.issue(&r.key).unwrap();
    assert_eq!(
        (issue.status.as_str(), issue.duedate.clone()),
        ("Won't Do", None)
    );
    assert!(issue.comments[0].starts_with("Closed by vulnbridge"));
    assert!(issue.comments[0].ends_with(domain::tracker::inbound::COMMENT_SIGNATURE));
    assert!(p.done.contains(&Part::Comment) && p.done.contains(&Part::State));
    assert_eq!(
        count(&sim, "GET /rest/api/3/issue/{key}"),
        1,
        "one read: status and transitions together"
    );
    // With priority mapping off, the severity is not written.
    let mut off = mapping("APP", "Bug");
    if let MappingTarget::Jira { priority, .. } = &mut off.target {
        *priority = false;
    }
    let mut p = Progress::default();
    t.update(
        &off,
        &r,
        &Changes {
            severity: Some(FieldValue::new("priority", "Lowest")),
            ..Changes::default()
        },
        &mut p,
    )
    .await
    .unwrap();
    assert!(p.done.contains(&Part::Severity));
    assert_eq!(sim.issue(&r.key).unwrap().priority, "Highest");
}

#[tokio::test]
async fn group_bodies_with_tables_lists_and_code_are_accepted() {
    let sim = sim().await;
    let m = mapping("APP", "Bug");
    let body = |n: i64| {
        format!(
            "**Severity:** High · **Status:** Active · **Findings:** 2\n**Product:** Shop · **Engagement:** CI · **Test:** ZAP\n\n\
             [Open this group in vulnbridge](https://vulnbridge.example.com/groups/{n})\n\n\
             | Severity | Finding | Status | Where |\n|---|---|---|---|\n\
             | High | [XSS in \\| search](https://vulnbridge.example.com/findings/1) | Active | `src/search.rs`:12 |\n\
             | Low | Cookie without `Secure` | Active | https://shop.example.com/login |\n\n\
             ### Mitigation\n\n1. Encode output\n   - in templates\n2. Set `Secure`\n\n```html\n<script>alert(1)</script>\n```\n\n> Reported by ZAP\n\n---\n\n{}\n",
            marker(n).html_comment()
        )
    };
    for (n, t) in [(1, cloud(&sim)), (2, data_center(&sim))] {
        let mut f = fields(n, "To Do");
        f.body = body(n);
        let r = create(&t, &m, &f, n).await;
        let issue = sim.issue(&r.key).unwrap();
        let raw = issue.description_raw.unwrap();
        if n == 1 {
            let kinds: Vec<&str> = raw["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|b| b["type"].as_str())
                .collect();
            assert_eq!(
                kinds,
                [
                    "paragraph",
                    "paragraph",
                    "table",
                    "heading",
                    "orderedList",
                    "codeBlock",
                    "blockquote",
                    "rule",
                    "paragraph"
                ]
            );
        } else {
            let text = raw.as_str().unwrap();
            assert!(text.contains("||Severity||Finding||Status||Where||\n|High|[XSS in \\| search|https://vulnbridge.example.com/findings/1]|"), "{text}");
            assert!(
                text.contains("{code:html}\n<script>alert(1)</script>\n{code}"),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn bodies_longer_than_jira_keeps_are_cut_and_stay_findable() {
    let sim = sim().await;
    let m = mapping("APP", "Bug");
    for (n, t) in [(1, cloud(&sim)), (2, data_center(&sim))] {
        let mut f = fields(n, "To Do");
        f.body = format!(
            "{}\n\n{}\n",
            "A finding with a very long description. ".repeat(1200),
            marker(n).html_comment()
        );
        let r = create(&t, &m, &f, n).await;
        let issue = sim.issue(&r.key).unwrap();
        let text = issue.description.unwrap_or_default();
        assert!(
            text.contains("truncated"),
            "{}",
            &text[text.len().saturating_sub(200)..]
        );
        let found = t
            .find_by_marker(&m, &marker(n), chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(found.map(|f| f.remote.key), Some(r.key.clone()));
    }
}

#[tokio::test]
async fn data_center_speaks_v2_and_wiki_markup() {
    let sim = sim().await;
    let t = data_center(&sim);
    let r = create(&t, &mapping("APP", "Bug"), &fields(1, "To Do"), 1).await;
    let issue = sim.issue(&r.key).unwrap();
    let raw = issue.description_raw.unwrap();
    let text = raw.as_str().expect("a wiki string");
    assert!(text.starts_with("*Severity:* High · *Status:* Active\n\nh3. Description\n\nThe {{id}} parameter is injectable."), "{text}");
    assert!(
        text.ends_with("{color:#97a0af}vulnbridge:k3x9q2:m3:f1{color}"),
        "{text}"
    );
    assert!(
        sim.requests()
            .counts()
            .keys()
            .all(|k| k.contains("/rest/api/2/")),
        "{:?}",
        sim.requests().counts()
    );
    let found = t
        .find_by_marker(&mapping("APP", "Bug"), &marker(1), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(found.map(|f| f.remote.key), Some("APP-1".to_owned()));
}

#[tokio::test]
async fn bulk_creates_fifty_a_request_with_a_result_per_item() {
    let sim = sim().await;
    let t = cloud(&sim);
    assert_eq!(t.bulk_size(), 50);
    let m = mapping("APP", "Bug");
    let mut items: Vec<(TicketFields, Marker)> =
        (1..=60).map(|i| (fields(i, "To Do"), marker(i))).collect();
    // One item Jira refuses: an empty summary.
    items[7].0.title = String::new();
    let mut progress = vec![Progress::default(); items.len()];
    let results = t.create_many(&m, &items, &mut progress).await;
    assert_eq!(results.len(), 60);
    let e = results[7].clone().unwrap_err();
    assert_eq!(e.code(), "rejected");
    assert!(
        e.to_string()
            .contains("summary: You must specify a summary of the issue."),
        "{e}"
    );
    assert!(progress[7].remote.is_none());
    for (i, r) in results.iter().enumerate().filter(|(i, _)| *i != 7) {
        assert!(r.is_ok(), "item {i}: {r:?}");
        assert_eq!(progress[i].done, all_parts(), "item {i}");
    }
    // Items keep their own issues, in order.
    assert_eq!(
        progress[8].remote.as_ref().map(|r| r.key.clone()),
        Some("APP-8".to_owned())
    );
    assert_eq!(
        sim.issue("APP-8").unwrap().summary,
        "[VULNBRIDGE] 9 - SQL injection"
    );
    assert_eq!(sim.issues("APP").len(), 59);
    assert_eq!(count(&sim, "POST /rest/api/3/issue/bulk"), 2, "50, then 10");
    assert_eq!(
        sim.requests().total(),
        3,
        "two bulk requests and one read of where issues start"
    );

    // In a closed status: the first transition rides along with the create, the second after.
    sim.requests().reset();
    let done: Vec<(TicketFields, Marker)> =
        (100..105).map(|i| (fields(i, "Done"), marker(i))).collect();
    let mut progress = vec![Progress::default(); done.len()];
    let results = t.create_many(&m, &done, &mut progress).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(
        sim.issues("APP")
            .iter()
            .rev()
            .take(5)
            .all(|i| i.status == "Done")
    );

    // Everything refused: every item fails with the reason.
    let bad: Vec<(TicketFields, Marker)> = (200..202)
        .map(|i| {
            let mut f = fields(i, "To Do");
            f.title = String::new();
            (f, marker(i))
        })
        .collect();
    let mut progress = vec![Progress::default(); 2];
    let results = t.create_many(&m, &bad, &mut progress).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(TrackerError::Rejected(m)) if m.contains("summary"))),
        "{results:?}"
    );
}

#[tokio::test]
async fn deleting_needs_the_delete_issues_permission() {
    let sim = sim().await;
    let m = mapping("APP", "Bug");
    let r = create(&cloud(&sim), &m, &fields(1, "To Do"), 1).await;
    let carol = connect(
        &sim.location(),
        basic(jira::CAROL_EMAIL, jira::CAROL_API_TOKEN),
    );
    let e = carol.delete(&m, &r).await.unwrap_err();
    assert_eq!(e.code(), "forbidden");
    assert!(
        e.to_string()
            .contains("the \"Delete Issues\" permission in project APP"),
        "{e}"
    );
    assert!(sim.issue(&r.key).is_some());
    cloud(&sim).delete(&m, &r).await.unwrap();
    assert!(sim.issue(&r.key).is_none());
    cloud(&sim).delete(&m, &r).await.unwrap();
}

#[tokio::test]
async fn security_and_product_issues_are_related() {
    let sim = sim().await;
    let t = cloud(&sim);
    let sec = create(&t, &security_mapping(), &fields(1, "To Do"), 1).await;
    let app = create(&t, &mapping("APP", "Bug"), &fields(1, "To Do"), 1).await;
    t.relate(&security_mapping(), &sec, &app).await.unwrap();
    assert_eq!(sim.issue(&sec.key).unwrap().links, ["relates to APP-1"]);
    assert_eq!(sim.issue(&app.key).unwrap().links, ["relates to SEC-1"]);
    let gone = RemoteRef {
        id: "1".into(),
        key: "APP-99".into(),
        url: String::new(),
        data: Value::Null,
    };
    assert_eq!(
        t.relate(&security_mapping(), &sec, &gone)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
}

#[tokio::test]
async fn markers_are_found_across_pages() {
    let sim = sim().await;
    let t = cloud(&sim);
    let m = mapping("APP", "Bug");
    let since = chrono::Utc::now();
    let items: Vec<(TicketFields, Marker)> =
        (1..=120).map(|i| (fields(i, "To Do"), marker(i))).collect();
    let mut progress = vec![Progress::default(); items.len()];
    assert!(
        t.create_many(&m, &items, &mut progress)
            .await
            .iter()
            .all(Result::is_ok)
    );
    sim.requests().reset();
    // Newest first: finding 3 is on the second page.
    let found = t
        .find_by_marker(&m, &marker(3), since)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.remote.key, "APP-3");
    assert_eq!(found.remote.id, sim.issue("APP-3").unwrap().id);
    assert!(found.open);
    assert_eq!(count(&sim, "POST /rest/api/3/search/jql"), 2);
    assert_eq!(
        t.find_by_marker(&m, &marker(999), since).await.unwrap(),
        None
    );
    // Data Center searches by offset; an issue people edited since is found all the same.
    sim.edit_summary_as(jira::CAROL_EMAIL, "APP-5", "renamed")
        .unwrap();
    let found = data_center(&sim)
        .find_by_marker(&m, &marker(5), since)
        .await
        .unwrap()
        .expect("found on Data Center");
    assert_eq!(found.remote.key, "APP-5");
    // A closed ticket is found closed.
    sim.transition_as(jira::CAROL_EMAIL, "APP-5", "Won't Do")
        .unwrap();
    assert_eq!(
        t.find_by_marker(&m, &marker(5), since)
            .await
            .unwrap()
            .map(|f| f.open),
        Some(false)
    );
}

fn failed<'a>(r: &'a trackers::CheckReport, name: &str) -> &'a str {
    r.checks
        .iter()
        .find(|c| c.name == name && !c.ok)
        .map(|c| c.detail.as_str())
        .unwrap_or_else(|| panic!("no failed {name} check in {r:?}"))
}

#[tokio::test]
async fn check_names_each_failure() {
    let sim = sim().await;
    // Everything right.
    let r = cloud(&sim).check(Some(&security_mapping())).await;
    assert!(r.ok(), "{}", r.failures());
    assert_eq!(r.account.as_deref(), Some(jira::BOT_EMAIL));
    let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "URL",
            "credentials",
            "permissions",
            "project",
            "issue type",
            "priorities",
            "statuses",
            "components"
        ]
    );
    let r = data_center(&sim).check(None).await;
    assert!(r.ok(), "{}", r.failures());
    assert_eq!(r.account.as_deref(), Some(jira::BOT_EMAIL));

    // The location.
    let r = connect(
        &format!("{}/not-jira/", sim.base_url()),
        basic(jira::BOT_EMAIL, jira::BOT_API_TOKEN),
    )
    .check(None)
    .await;
    assert!(
        failed(&r, "URL").contains("does not answer as Jira"),
        "{r:?}"
    );
    let r = connect(
        "http://127.0.0.1:9/",
        basic(jira::BOT_EMAIL, jira::BOT_API_TOKEN),
    )
    .check(None)
    .await;
    assert!(
        failed(&r, "URL").starts_with("cannot reach http://127.0.0.1:9"),
        "{r:?}"
    );
    assert_eq!(r.checks.len(), 1);

    // Credentials, by method.
    let r = connect(&sim.location(), basic(jira::BOT_EMAIL, "wrong"))
        .check(None)
        .await;
    assert!(
        failed(&r, "credentials")
            .contains("Jira refused the e-mail address and API token (Basic authentication)"),
        "{r:?}"
    );
    let r = connect(
        &sim.location(),
        Credentials::Token(SecretString::from("wrong".to_owned())),
    )
    .check(None)
    .await;
    assert!(
        failed(&r, "credentials").contains("personal access token"),
        "{r:?}"
    );
    let r = connect(&sim.location(), basic("vulnbridge-bot", "wrong"))
        .check(None)
        .await;
    assert!(
        failed(&r, "credentials").contains("user name and password"),
        "{r:?}"
    );
    let (t, _) = oauth(&sim, "not-a-refresh-token");
    let r = t.check(None).await;
    assert!(
        failed(&r, "credentials").contains("the OAuth refresh token was refused"),
        "{r:?}"
    );

    // Permissions.
    let carol = connect(
        &sim.location(),
        basic(jira::CAROL_EMAIL, jira::CAROL_API_TOKEN),
    );
    let mut deleting = security_mapping();
    if let MappingTarget::Jira {
        delete_rejected, ..
    } = &mut deleting.target
    {
        *delete_rejected = true;
    }
    let r = carol.check(Some(&deleting)).await;
    assert!(
        failed(&r, "permissions")
            .contains("\"Delete Issues\" (the mapping deletes the issues of rejected findings)"),
        "{r:?}"
    );
    sim.grant(
        jira::CAROL_EMAIL,
        "SEC",
        &[
            Permission::BrowseProjects,
            Permission::CreateIssues,
            Permission::EditIssues,
            Permission::AddComments,
        ],
    );
    let r = carol.check(Some(&security_mapping())).await;
    assert!(
        failed(&r, "permissions").contains(
            "lacks \"Transition Issues\" (to move them through the workflow) in project SEC"
        ),
        "{r:?}"
    );

    // The mapping's target.
    let r = cloud(&sim).check(Some(&mapping("NOPE", "Bug"))).await;
    assert_eq!(
        failed(&r, "project"),
        "Jira project 'NOPE' does not exist, or vulnbridge-bot@example.com may not browse it"
    );
    let r = cloud(&sim).check(Some(&mapping("SEC", "Story"))).await;
    assert_eq!(
        failed(&r, "issue type"),
        "project SEC has no issue type 'Story' (it has Vulnerability, Bug)"
    );
    let r = cloud(&sim)
        .check(Some(&mapping("SEC", "Vulnerability")))
        .await;
    assert!(failed(&r, "issue type").starts_with("Vulnerability issues in SEC require Component/s (components), which the mapping does not set"), "{r:?}");
    let mut m = security_mapping();
    m.severity_mapping.critical = "Urgent".into();
    m.status_mapping.closed = "Closed".into();
    if let MappingTarget::Jira { components, .. } = &mut m.target {
        *components = vec!["backend".into(), "mobile".into()];
    }
    let r = cloud(&sim).check(Some(&m)).await;
    assert_eq!(
        failed(&r, "priorities"),
        "Jira has no priority 'Urgent' (it has Highest, High, Medium, Low, Lowest)"
    );
    assert!(failed(&r, "statuses").starts_with("the workflow of Vulnerability issues in SEC has no status 'Closed' (it has To Do (new), In Progress (indeterminate), Done (done), Won't Do (done))"), "{r:?}");
    assert_eq!(
        failed(&r, "components"),
        "project SEC has no component 'mobile' (it has backend, frontend)"
    );
}

#[tokio::test]
async fn options_come_from_the_project() {
    let sim = sim().await;
    let o = cloud(&sim).options(&mapping("APP", "Bug")).await.unwrap();
    let statuses: Vec<(&str, Option<bool>)> = o
        .statuses
        .iter()
        .map(|s| (s.value.as_str(), s.closed))
        .collect();
    assert_eq!(
        statuses,
        [
            ("To Do", Some(false)),
            ("In Progress", Some(false)),
            ("Done", Some(true)),
            ("Won't Do", Some(true))
        ]
    );
    assert_eq!(
        o.severities
            .iter()
            .map(|s| s.value.as_str())
            .collect::<Vec<_>>(),
        ["Highest", "High", "Medium", "Low", "Lowest"]
    );
    assert_eq!(
        o.types.iter().map(|s| s.value.as_str()).collect::<Vec<_>>(),
        ["Bug", "Task"]
    );
    assert_eq!(
        o.components
            .iter()
            .map(|s| s.value.as_str())
            .collect::<Vec<_>>(),
        ["backend", "frontend"]
    );
    assert_eq!(
        cloud(&sim)
            .options(&mapping("NOPE", "Bug"))
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
}

#[tokio::test]
async fn oauth_tokens_are_refreshed_on_expiry_and_after_a_401() {
    let sim = sim().await;
    let (t, store) = oauth(&sim, jira::OAUTH_REFRESH_TOKEN);
    let m = mapping("APP", "Bug");
    let r = create(&t, &m, &fields(1, "To Do"), 1).await;
    use secrecy::ExposeSecret;
    let first = store.refresh_token().expose_secret().to_owned();
    assert_ne!(
        first,
        jira::OAUTH_REFRESH_TOKEN,
        "the rotated refresh token is stored"
    );
    assert_eq!(
        count(&sim, "POST /rest/oauth2/latest/token"),
        1,
        "one access token for several requests"
    );
    // Jira stops accepting the access token: the client refreshes and sends the request again.
    sim.expire_access_tokens();
    sim.requests().reset();
    t.update(
        &m,
        &r,
        &Changes {
            title: Some("again".into()),
            ..Changes::default()
        },
        &mut Progress::default(),
    )
    .await
    .unwrap();
    assert_eq!(sim.issue(&r.key).unwrap().summary, "again");
    assert_eq!(
        count(&sim, "PUT /rest/api/2/issue/{key}"),
        2,
        "refused once, then sent again"
    );
    assert_eq!(count(&sim, "POST /rest/oauth2/latest/token"), 1);
    assert_ne!(store.refresh_token().expose_secret(), first);
    assert_eq!(sim.live_refresh_tokens(), 1);
    // Tokens that live less than a minute are refreshed before each use.
    sim.set_token_lifetime(std::time::Duration::from_secs(1));
    sim.expire_access_tokens();
    sim.requests().reset();
    let report = t.check(None).await;
    assert!(report.ok(), "{}", report.failures());
    assert_eq!(
        count(&sim, "POST /rest/oauth2/latest/token"),
        2,
        "one per signed request (myself, mypermissions)"
    );
    // A refused refresh token says so.
    let (stale, _) = oauth(&sim, jira::OAUTH_REFRESH_TOKEN);
    let e = stale
        .update(
            &m,
            &r,
            &Changes {
                title: Some("x".into()),
                ..Changes::default()
            },
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unauthorized");
    assert!(
        e.to_string()
            .contains("the OAuth refresh token was refused")
            && e.to_string().contains("Unknown or invalid refresh token"),
        "{e}"
    );
}

#[tokio::test]
async fn rate_limits_become_rate_limited_errors() {
    let sim = sim().await;
    let t = cloud(&sim);
    let m = mapping("APP", "Bug");
    let r = create(&t, &m, &fields(1, "To Do"), 1).await;
    sim.set_limits(Limits {
        burst: 1,
        per_issue_writes: 0,
        window_ms: 30_000,
    });
    let edit = Changes {
        title: Some("one".into()),
        ..Changes::default()
    };
    t.update(&m, &r, &edit, &mut Progress::default())
        .await
        .unwrap();
    let before = chrono::Utc::now();
    let e = t
        .update(
            &m,
            &r,
            &Changes {
                title: Some("two".into()),
                ..Changes::default()
            },
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
                until > before && until <= before + chrono::TimeDelta::seconds(31),
                "{until}"
            );
            assert!(reason.contains("HTTP 429"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

fn headers(pairs: &[(String, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(k, v);
        }
    }
    h
}

#[tokio::test]
async fn webhooks_are_registered_once_and_read_back() {
    let sim = sim().await;
    let t = cloud(&sim);
    // Deliveries are kept by the simulator whether or not anything listens there.
    let receiver = url::Url::parse("http://127.0.0.1:9/webhooks/1/").unwrap();
    let secret = SecretString::from("s3cret".to_owned());
    t.register_webhook(&security_mapping(), &receiver, &secret)
        .await
        .unwrap();
    t.register_webhook(&mapping("APP", "Bug"), &receiver, &secret)
        .await
        .unwrap();
    t.register_webhook(&mapping("APP", "Bug"), &receiver, &secret)
        .await
        .unwrap();
    let hooks = reqwest::Client::new()
        .get(format!("{}/rest/webhooks/1.0/webhook", sim.base_url()))
        .basic_auth(jira::BOT_EMAIL, Some(jira::BOT_API_TOKEN))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(hooks.as_array().map(Vec::len), Some(1), "{hooks}");
    assert_eq!(
        hooks[0]["filters"]["issue-related-events-section"],
        "project in (\"APP\", \"SEC\")"
    );
    let carol = connect(
        &sim.location(),
        basic(jira::CAROL_EMAIL, jira::CAROL_API_TOKEN),
    );
    let e = carol
        .register_webhook(&mapping("APP", "Bug"), &receiver, &secret)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("needs a Jira administrator"), "{e}");

    let r = create(&t, &security_mapping(), &fields(1, "To Do"), 1).await;
    sim.transition_as(jira::CAROL_EMAIL, &r.key, "Won't Do")
        .unwrap();
    sim.transition_as(jira::CAROL_EMAIL, &r.key, "To Do")
        .unwrap();
    sim.comment_as(jira::CAROL_EMAIL, &r.key, "Not a bug, by design.")
        .unwrap();
    sim.delete_as(jira::BOT_EMAIL, &r.key).unwrap();
    sim.webhooks().wait_idle().await;
    let sent = sim.webhooks().sent();
    let mut events = Vec::new();
    for d in &sent {
        let parsed = trackers::webhook::parse(
            Vendor::Jira,
            &headers(&d.headers),
            d.body.as_bytes(),
            &secret,
        )
        .unwrap();
        events.extend(parsed);
    }
    let changes: Vec<RemoteChange> = events.iter().map(|e| e.change.clone()).collect();
    assert_eq!(
        changes,
        [
            RemoteChange::Status {
                value: "Won't Do".into(),
                state: TicketState::Closed(CloseReason::NotPlanned)
            },
            RemoteChange::Status {
                value: "To Do".into(),
                state: TicketState::Open
            },
            RemoteChange::Comment {
                body: "Not a bug, by design.".into()
            },
            RemoteChange::Deleted,
        ],
        "creations and the comment's issue_commented twin carry nothing"
    );
    assert!(
        events.iter().all(|e| e.remote_id == r.id),
        "the id the client stored"
    );
    assert_eq!(events[0].actor.as_deref(), Some(jira::CAROL_EMAIL));
    assert_eq!(events[3].actor.as_deref(), Some(jira::BOT_EMAIL));
    assert!(events[0].delivery.as_deref().is_some_and(|d| !d.is_empty()));

    // Tampered, unsigned and wrongly signed deliveries are refused before reading.
    let d = &sent[1];
    let tampered = d.body.replace("Won't Do", "Done");
    assert_eq!(
        trackers::webhook::parse(
            Vendor::Jira,
            &headers(&d.headers),
            tampered.as_bytes(),
            &secret
        ),
        Err(WebhookError::BadSignature("X-Hub-Signature header"))
    );
    let unsigned: Vec<(String, String)> = d
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("x-hub-signature"))
        .cloned()
        .collect();
    assert_eq!(
        trackers::webhook::parse(
            Vendor::Jira,
            &headers(&unsigned),
            d.body.as_bytes(),
            &secret
        ),
        Err(WebhookError::Unsigned("X-Hub-Signature header"))
    );
    let other = SecretString::from("other".to_owned());
    assert!(matches!(
        trackers::webhook::parse(
            Vendor::Jira,
            &headers(&d.headers),
            d.body.as_bytes(),
            &other
        ),
        Err(WebhookError::BadSignature(_))
    ));
}
