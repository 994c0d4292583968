//! The Jira simulator over real HTTP: it refuses what Jira refuses, in Jira's shapes; its
//! workflow allows only its transitions; bulk creates succeed in part; OAuth refresh tokens
//! rotate; rate limits answer with Jira's headers; admin webhooks deliver signed events.

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post as route_post;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use simulators::jira::{self, JiraSim, Limits, Permission};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

const BOT: (&str, &str) = (jira::BOT_EMAIL, jira::BOT_API_TOKEN);
const CAROL: (&str, &str) = (jira::CAROL_EMAIL, jira::CAROL_API_TOKEN);

async fn seeded() -> JiraSim {
    JiraSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

async fn call(
    sim: &JiraSim,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> Answer {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", sim.base_url()));
    req = match auth {
        Auth::None => req,
        Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
        Auth::Bearer(t) => req.bearer_auth(t),
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    Answer {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn get(sim: &JiraSim, path: &str, who: (&str, &str)) -> Answer {
    call(sim, Method::GET, path, Auth::Basic(who.0, who.1), None).await
}

async fn send(sim: &JiraSim, method: Method, path: &str, who: (&str, &str), body: Value) -> Answer {
    call(sim, method, path, Auth::Basic(who.0, who.1), Some(body)).await
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

/// Creates an issue through v3 and returns its key.
async fn new_issue(sim: &JiraSim, project: &str, issue_type: &str, summary: &str) -> String {
    let mut fields = json!({"project": {"key": project}, "issuetype": {"name": issue_type}, "summary": summary, "description": adf("text")});
    if issue_type == "Vulnerability" {
        fields["components"] = json!([{"name": "backend"}]);
    }
    let a = send(
        sim,
        Method::POST,
        "/rest/api/3/issue",
        BOT,
        json!({ "fields": fields }),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.json()["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn credentials_are_checked_like_jira() {
    let sim = seeded().await;
    let a = call(&sim, Method::GET, "/rest/api/3/myself", Auth::None, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.text, "", "no body");
    assert!(
        a.header("www-authenticate")
            .is_some_and(|v| v.starts_with("OAuth realm="))
    );
    let a = call(
        &sim,
        Method::GET,
        "/rest/api/3/myself",
        Auth::Basic(jira::BOT_EMAIL, "wrong"),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.header("x-seraph-loginreason"),
        Some("AUTHENTICATED_FAILED")
    );
    assert_eq!(
        a.header("www-authenticate"),
        Some("Basic realm=\"protected-area\"")
    );

    let me = get(&sim, "/rest/api/3/myself", BOT).await.json();
    assert_eq!(me["emailAddress"], jira::BOT_EMAIL);
    assert!(me["accountId"].as_str().is_some_and(|id| id.len() == 24));
    // Data Center: user names, keys, and a personal access token as Bearer.
    let a = call(
        &sim,
        Method::GET,
        "/rest/api/2/myself",
        Auth::Bearer(jira::BOT_PAT),
        None,
    )
    .await;
    assert_eq!(a.json()["name"], "vulnbridge-bot");
    assert!(
        a.json()["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("JIRAUSER"))
    );
    let a = call(
        &sim,
        Method::GET,
        "/rest/api/2/myself",
        Auth::Basic("dev-carol", jira::CAROL_API_TOKEN),
        None,
    )
    .await;
    assert_eq!(
        a.json()["name"],
        "dev-carol",
        "Basic also takes the user name"
    );
    let a = call(
        &sim,
        Method::GET,
        "/rest/api/2/myself",
        Auth::Bearer("not-a-token"),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    sim.deactivate_user(jira::CAROL_EMAIL);
    assert_eq!(
        get(&sim, "/rest/api/3/myself", CAROL).await.status,
        StatusCode::UNAUTHORIZED
    );

    // serverInfo answers anyone, and says which deployment it is.
    let a = call(
        &sim,
        Method::GET,
        "/rest/api/3/serverInfo",
        Auth::None,
        None,
    )
    .await;
    assert_eq!(a.json()["deploymentType"], "Cloud");
    let a = call(
        &sim,
        Method::GET,
        "/rest/api/2/serverInfo",
        Auth::None,
        None,
    )
    .await;
    assert_eq!(a.json()["deploymentType"], "Server");
    assert_eq!(a.json()["baseUrl"], sim.base_url());
}

#[tokio::test]
async fn creates_are_validated_in_jiras_words() {
    let sim = seeded().await;
    let create = |v: u8, body: Value| {
        let sim = sim.clone();
        async move {
            send(
                &sim,
                Method::POST,
                &format!("/rest/api/{v}/issue"),
                BOT,
                body,
            )
            .await
        }
    };
    // v3 takes descriptions as ADF only.
    let a = create(3, json!({"fields": {"project": {"key": "APP"}, "issuetype": {"name": "Bug"}, "summary": "x", "description": "plain"}})).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::BAD_REQUEST,
            json!({"errorMessages": [], "errors": {"description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}})
        )
    );
    let a = create(2, json!({"fields": {"project": {"key": "APP"}, "issuetype": {"name": "Bug"}, "summary": "x", "description": adf("x")}})).await;
    assert_eq!(
        a.json()["errors"]["description"],
        "Operation value must be a string"
    );
    let a = create(3, json!({"fields": {}})).await;
    assert_eq!(
        a.json()["errors"],
        json!({"project": "Specify a valid project ID or key", "issuetype": "Specify an issue type", "summary": "You must specify a summary of the issue."})
    );
    let a = create(3, json!({"fields": {"project": {"key": "APP"}, "issuetype": {"name": "Epic"}, "summary": "x"}})).await;
    assert_eq!(
        a.json()["errors"],
        json!({"issuetype": "Specify a valid issue type"})
    );
    let long = "x".repeat(256);
    let a = create(
        3,
        json!({"fields": {
            "project": {"key": "APP"}, "issuetype": {"name": "Bug"}, "summary": long,
            "priority": {"name": "Urgent"}, "components": [{"name": "mobile"}], "duedate": "2024-02-30",
            "labels": ["has space"], "colour": "red"
        }}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.json()["errors"],
        json!({
            "summary": "Summary must be less than 255 characters.",
            "priority": "Priority name 'Urgent' is not valid",
            "components": "Component name 'mobile' is not valid",
            "duedate": "Error parsing date string: 2024-02-30",
            "labels": "The label 'has space' contains spaces which is invalid.",
            "colour": "Field 'colour' cannot be set. It is not on the appropriate screen, or unknown."
        })
    );
    let a = create(3, json!({"fields": {"project": {"key": "SEC"}, "issuetype": {"name": "Vulnerability"}, "summary": "x"}})).await;
    assert_eq!(
        a.json()["errors"],
        json!({"components": "Component/s is required."})
    );
    let a = create(3, json!({"fields": {"project": {"key": "APP"}, "issuetype": {"name": "Bug"}, "summary": "x"}, "fieldz": {}})).await;
    assert!(
        a.json()["errorMessages"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("Unrecognized field \"fieldz\"")
    );
    // Not JSON at all.
    let r = reqwest::Client::new()
        .post(format!("{}/rest/api/3/issue", sim.base_url()))
        .basic_auth(BOT.0, Some(BOT.1))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("summary=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(sim.issues("APP").is_empty(), "nothing was created");

    let a = create(
        3,
        json!({"fields": {
            "project": {"key": "APP"}, "issuetype": {"name": "Bug"}, "summary": "SQL injection",
            "description": adf("In the login form."), "priority": {"name": "High"},
            "components": [{"name": "backend"}], "duedate": "2024-03-01", "labels": ["vulnbridge", "security"]
        }}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let created = a.json();
    assert_eq!(created["key"], "APP-1");
    assert_eq!(
        created["self"],
        format!(
            "{}/rest/api/3/issue/{}",
            sim.base_url(),
            created["id"].as_str().unwrap()
        )
    );
    let issue = &sim.issues("APP")[0];
    assert_eq!(issue.status, "To Do");
    assert_eq!(issue.status_category, "new");
    assert_eq!(issue.priority, "High");
    assert_eq!(issue.labels, ["security", "vulnbridge"]);
    assert_eq!(issue.components, ["backend"]);
    assert_eq!(issue.duedate.as_deref(), Some("2024-03-01"));
    assert_eq!(issue.description.as_deref(), Some("In the login form."));
    // Each version reads the description its way.
    let v3 = get(&sim, "/rest/api/3/issue/APP-1", BOT).await.json();
    assert_eq!(v3["fields"]["description"], adf("In the login form."));
    assert_eq!(v3["fields"]["status"]["statusCategory"]["key"], "new");
    let v2 = get(
        &sim,
        "/rest/api/2/issue/APP-1?fields=description,status",
        BOT,
    )
    .await
    .json();
    assert_eq!(v2["fields"]["description"], "In the login form.");
    assert!(
        v2["fields"].get("summary").is_none(),
        "only the fields asked for"
    );
    // Without a priority, Jira's default.
    let key = new_issue(&sim, "APP", "Task", "x").await;
    assert_eq!(sim.issue(&key).map(|i| i.priority), Some("Medium".into()));
    // Carol may create, a viewer may not.
    sim.grant(CAROL.0, "APP", &[Permission::BrowseProjects]);
    let a = send(&sim, Method::POST, "/rest/api/3/issue", CAROL, json!({"fields": {"project": {"key": "APP"}, "issuetype": {"name": "Bug"}, "summary": "x"}})).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::FORBIDDEN,
            json!({"errorMessages": ["You do not have permission to create issues in this project."], "errors": {}})
        )
    );
    let a = get(&sim, "/rest/api/3/issue/APP-99", BOT).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::NOT_FOUND,
            json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})
        )
    );
}

#[tokio::test]
async fn bulk_creates_up_to_fifty_and_reports_each_failure() {
    let sim = seeded().await;
    let ok = |s: &str| json!({"fields": {"project": {"key": "APP"}, "issuetype": {"name": "Bug"}, "summary": s}});
    let bad =
        json!({"fields": {"project": {"key": "APP"}, "issuetype": {"name": "Bug"}, "summary": ""}});
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/issue/bulk",
        BOT,
        json!({"issueUpdates": [ok("one"), bad.clone(), ok("three")]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let v = a.json();
    assert_eq!(v["issues"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["issues"][1]["key"], "APP-2");
    assert_eq!(
        v["errors"],
        json!([{"status": 400, "failedElementNumber": 1, "elementErrors": {"errorMessages": [], "errors": {"summary": "You must specify a summary of the issue."}}}])
    );
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/issue/bulk",
        BOT,
        json!({"issueUpdates": [bad.clone(), bad]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "nothing created");
    assert_eq!(a.json()["errors"].as_array().map(Vec::len), Some(2));
    let many: Vec<Value> = (0..51).map(|i| ok(&format!("n{i}"))).collect();
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/issue/bulk",
        BOT,
        json!({ "issueUpdates": many }),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.json()["errorMessages"][0]
            .as_str()
            .unwrap_or("")
            .contains("exceeds the limit of 50")
    );
    let fifty: Vec<Value> = (0..50).map(|i| ok(&format!("n{i}"))).collect();
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/issue/bulk",
        BOT,
        json!({ "issueUpdates": fifty }),
    )
    .await;
    assert_eq!(a.json()["issues"].as_array().map(Vec::len), Some(50));
    assert_eq!(sim.issues("APP").len(), 52);
}

#[tokio::test]
async fn the_workflow_allows_only_its_transitions() {
    let sim = seeded().await;
    let key = new_issue(&sim, "SEC", "Vulnerability", "XSS").await;
    let path = format!("/rest/api/3/issue/{key}/transitions");
    let t = get(&sim, &path, BOT).await.json();
    let names: Vec<&str> = t["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["In Progress", "Won't Do"]);
    assert_eq!(t["transitions"][1]["to"]["statusCategory"]["key"], "done");
    // Done is two steps away: its transition is refused from To Do.
    let a = send(
        &sim,
        Method::POST,
        &path,
        BOT,
        json!({"transition": {"id": "31"}}),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::BAD_REQUEST,
            json!({"errorMessages": ["Transition id '31' is not valid for this issue."], "errors": {}})
        )
    );
    let a = send(
        &sim,
        Method::POST,
        &path,
        BOT,
        json!({"transition": {"id": "done"}}),
    )
    .await;
    assert_eq!(
        a.json()["errorMessages"][0],
        "'transition' identifier must be an integer"
    );
    let a = send(&sim, Method::POST, &path, BOT, json!({})).await;
    assert_eq!(
        a.json()["errorMessages"][0],
        "Missing 'transition' identifier"
    );
    let a = send(
        &sim,
        Method::POST,
        &path,
        BOT,
        json!({"transition": {"id": "21"}, "fields": {"resolution": {"name": "Done"}}}),
    )
    .await;
    assert_eq!(
        a.json()["errors"]["resolution"],
        "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."
    );
    assert_eq!(
        send(
            &sim,
            Method::POST,
            &path,
            BOT,
            json!({"transition": {"id": "21"}})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let a = send(&sim, Method::POST, &path, BOT, json!({"transition": {"id": 31}, "update": {"comment": [{"add": {"body": adf("Fixed.")}}]}})).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let issue = sim.issue(&key).unwrap();
    assert_eq!(
        (
            issue.status.as_str(),
            issue.status_category.as_str(),
            issue.resolution.as_deref()
        ),
        ("Done", "done", Some("Done"))
    );
    assert_eq!(issue.comments, ["Fixed."]);
    // Reopen clears the resolution; Won't Do sets its own.
    sim.transition_as(CAROL.0, &key, "To Do").unwrap();
    assert_eq!(sim.issue(&key).unwrap().resolution, None);
    sim.transition_as(CAROL.0, &key, "Won't Do").unwrap();
    assert_eq!(
        sim.issue(&key).unwrap().resolution.as_deref(),
        Some("Won't Do")
    );
    assert!(
        sim.transition_as(CAROL.0, &key, "Done").is_err(),
        "Won't Do leads only back to To Do"
    );
    // Without Transition Issues, no transition is listed and none may be taken.
    sim.grant(
        CAROL.0,
        "SEC",
        &[Permission::BrowseProjects, Permission::EditIssues],
    );
    let t = get(&sim, &path, CAROL).await.json();
    assert_eq!(t["transitions"], json!([]));
    let a = send(
        &sim,
        Method::POST,
        &path,
        CAROL,
        json!({"transition": {"id": "61"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // The issue with its transitions in one read.
    let v = get(
        &sim,
        &format!("/rest/api/3/issue/{key}?fields=status&expand=transitions"),
        BOT,
    )
    .await
    .json();
    assert_eq!(v["fields"]["status"]["name"], "Won't Do");
    assert_eq!(v["transitions"][0]["id"], "61");
}

#[tokio::test]
async fn edits_apply_fields_and_label_operations() {
    let sim = seeded().await;
    let key = new_issue(&sim, "APP", "Bug", "first").await;
    let path = format!("/rest/api/3/issue/{key}");
    send(
        &sim,
        Method::PUT,
        &path,
        BOT,
        json!({"fields": {"labels": ["a", "b"]}}),
    )
    .await;
    let a = send(
        &sim,
        Method::PUT,
        &path,
        BOT,
        json!({"fields": {"summary": "second", "priority": {"name": "Low"}, "duedate": "2024-05-01"}, "update": {"labels": [{"add": "c"}, {"remove": "a"}]}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    assert_eq!(a.text, "");
    let issue = sim.issue(&key).unwrap();
    assert_eq!(
        (issue.summary.as_str(), issue.priority.as_str()),
        ("second", "Low")
    );
    assert_eq!(issue.labels, ["b", "c"]);
    assert_eq!(issue.duedate.as_deref(), Some("2024-05-01"));
    let a = send(
        &sim,
        Method::PUT,
        &format!("{path}?returnIssue=true"),
        BOT,
        json!({"fields": {"duedate": null}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["fields"]["duedate"], Value::Null);
    let a = send(
        &sim,
        Method::PUT,
        &path,
        BOT,
        json!({"fields": {"status": {"name": "Done"}}}),
    )
    .await;
    assert_eq!(
        a.json()["errors"]["status"],
        "Field 'status' cannot be set. It is not on the appropriate screen, or unknown."
    );
    let a = send(
        &sim,
        Method::PUT,
        &path,
        BOT,
        json!({"fields": {"labels": ["x"]}, "update": {"labels": [{"add": "y"}]}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // Without Edit Issues no field is on the edit screen.
    sim.grant(CAROL.0, "APP", &[Permission::BrowseProjects]);
    let a = send(
        &sim,
        Method::PUT,
        &path,
        CAROL,
        json!({"fields": {"summary": "mine"}}),
    )
    .await;
    assert_eq!(
        (a.status, a.json()["errors"]["summary"].clone()),
        (
            StatusCode::BAD_REQUEST,
            json!(
                "Field 'summary' cannot be set. It is not on the appropriate screen, or unknown."
            )
        )
    );
    let a = send(
        &sim,
        Method::PUT,
        "/rest/api/3/issue/APP-404",
        BOT,
        json!({"fields": {"summary": "x"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_needs_the_delete_issues_permission() {
    let sim = seeded().await;
    let key = new_issue(&sim, "APP", "Bug", "doomed").await;
    let a = call(
        &sim,
        Method::DELETE,
        &format!("/rest/api/3/issue/{key}"),
        Auth::Basic(CAROL.0, CAROL.1),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::FORBIDDEN,
            json!({"errorMessages": ["You do not have permission to delete issues in this project."], "errors": {}})
        )
    );
    assert!(sim.delete_as(CAROL.0, &key).is_err());
    let a = call(
        &sim,
        Method::DELETE,
        &format!("/rest/api/3/issue/{key}"),
        Auth::Basic(BOT.0, BOT.1),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(sim.issues("APP").is_empty());
    let a = call(
        &sim,
        Method::DELETE,
        &format!("/rest/api/3/issue/{key}"),
        Auth::Basic(BOT.0, BOT.1),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn comments_and_links() {
    let sim = seeded().await;
    let sec = new_issue(&sim, "SEC", "Vulnerability", "XSS").await;
    let app = new_issue(&sim, "APP", "Bug", "Fix XSS").await;
    let a = send(
        &sim,
        Method::POST,
        &format!("/rest/api/3/issue/{app}/comment"),
        BOT,
        json!({"body": "plain"}),
    )
    .await;
    assert_eq!(
        a.json()["errors"]["comment"],
        "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    );
    let a = send(
        &sim,
        Method::POST,
        &format!("/rest/api/2/issue/{app}/comment"),
        BOT,
        json!({"body": "  "}),
    )
    .await;
    assert_eq!(
        a.json()["errors"]["comment"],
        "Comment body can not be empty!"
    );
    let a = send(
        &sim,
        Method::POST,
        &format!("/rest/api/3/issue/{app}/comment"),
        BOT,
        json!({"body": adf("Looking.")}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json()["body"], adf("Looking."));
    assert_eq!(a.json()["author"]["emailAddress"], jira::BOT_EMAIL);
    send(
        &sim,
        Method::POST,
        &format!("/rest/api/2/issue/{app}/comment"),
        BOT,
        json!({"body": "Done soon."}),
    )
    .await;
    let list = get(&sim, &format!("/rest/api/2/issue/{app}/comment"), BOT)
        .await
        .json();
    assert_eq!(list["total"], 2);
    assert_eq!(list["comments"][0]["body"], "Looking.");

    let types = get(&sim, "/rest/api/3/issueLinkType", BOT).await.json();
    assert!(
        types["issueLinkTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "Relates")
    );
    let link = json!({"type": {"name": "Relates"}, "inwardIssue": {"key": sec}, "outwardIssue": {"key": app}});
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/issueLink",
        BOT,
        link.clone(),
    )
    .await;
    assert_eq!((a.status, a.text.as_str()), (StatusCode::CREATED, ""));
    send(&sim, Method::POST, "/rest/api/3/issueLink", BOT, link).await;
    assert_eq!(
        sim.issue(&sec).unwrap().links,
        [format!("relates to {app}")],
        "not linked twice"
    );
    let blocks = json!({"type": {"name": "Blocks"}, "inwardIssue": {"key": sec}, "outwardIssue": {"key": app}});
    send(&sim, Method::POST, "/rest/api/3/issueLink", BOT, blocks).await;
    assert!(
        sim.issue(&app)
            .unwrap()
            .links
            .contains(&format!("is blocked by {sec}"))
    );
    let v = get(
        &sim,
        &format!("/rest/api/3/issue/{sec}?fields=issuelinks"),
        BOT,
    )
    .await
    .json();
    assert_eq!(
        v["fields"]["issuelinks"][0]["outwardIssue"]["key"],
        app.as_str()
    );
    let a = send(&sim, Method::POST, "/rest/api/3/issueLink", BOT, json!({"type": {"name": "Causes"}, "inwardIssue": {"key": sec}, "outwardIssue": {"key": app}})).await;
    assert_eq!(
        (a.status, a.json()["errorMessages"][0].clone()),
        (
            StatusCode::NOT_FOUND,
            json!("No issue link type with name 'Causes' found.")
        )
    );
    sim.grant(CAROL.0, "SEC", &[Permission::BrowseProjects]);
    let a = send(&sim, Method::POST, "/rest/api/3/issueLink", CAROL, json!({"type": {"name": "Relates"}, "inwardIssue": {"key": sec}, "outwardIssue": {"key": app}})).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn search_pages_with_tokens_on_cloud_and_offsets_on_data_center() {
    let sim = seeded().await;
    for i in 0..7 {
        let key = new_issue(&sim, "APP", "Bug", &format!("issue {i}")).await;
        if i % 2 == 0 {
            send(
                &sim,
                Method::PUT,
                &format!("/rest/api/3/issue/{key}"),
                BOT,
                json!({"update": {"labels": [{"add": "vulnbridge"}]}}),
            )
            .await;
        }
    }
    new_issue(&sim, "SEC", "Bug", "elsewhere").await;
    let since = (chrono::Utc::now() - chrono::TimeDelta::hours(1))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let jql = format!(
        "project = APP AND labels = \"vulnbridge\" AND updated >= \"{since}\" ORDER BY created ASC"
    );
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"jql": jql, "maxResults": 3, "fields": ["summary", "labels"]});
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let v = send(&sim, Method::POST, "/rest/api/3/search/jql", BOT, body)
            .await
            .json();
        pages += 1;
        keys.extend(
            v["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["key"].as_str().unwrap().to_owned()),
        );
        match v.get("nextPageToken").and_then(Value::as_str) {
            Some(t) => {
                assert_eq!(v["isLast"], false);
                token = Some(t.to_owned());
            }
            None => {
                assert_eq!(v["isLast"], true);
                break;
            }
        }
    }
    assert_eq!(
        (keys, pages),
        (
            vec![
                "APP-1".to_owned(),
                "APP-3".into(),
                "APP-5".into(),
                "APP-7".into()
            ],
            2
        )
    );
    // Ids only by default.
    let v = send(
        &sim,
        Method::POST,
        "/rest/api/3/search/jql",
        BOT,
        json!({"jql": "project = SEC"}),
    )
    .await
    .json();
    assert_eq!(
        v["issues"][0]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["id".to_owned()])
    );
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/search/jql",
        BOT,
        json!({"jql": "ORDER BY created"}),
    )
    .await;
    assert_eq!(
        a.json()["errorMessages"][0],
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
    );
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/search/jql",
        BOT,
        json!({"jql": "project = NOPE"}),
    )
    .await;
    assert_eq!(
        (a.status, a.json()["errorMessages"][0].clone()),
        (
            StatusCode::BAD_REQUEST,
            json!("The value 'NOPE' does not exist for the field 'project'.")
        )
    );
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/search/jql",
        BOT,
        json!({"jql": "updated >= \"yesterday\""}),
    )
    .await;
    assert!(
        a.json()["errorMessages"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("Date value 'yesterday' for field 'updated' is invalid.")
    );
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/search/jql",
        BOT,
        json!({"jql": "project = APP", "nextPageToken": "bogus"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // The old Cloud search is gone; Data Center's pages by offset.
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/search",
        BOT,
        json!({"jql": "project = APP"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::GONE);
    let v = send(
        &sim,
        Method::POST,
        "/rest/api/2/search",
        BOT,
        json!({"jql": jql, "startAt": 3, "maxResults": 3, "fields": ["summary"]}),
    )
    .await
    .json();
    assert_eq!(
        (
            v["total"].clone(),
            v["startAt"].clone(),
            v["issues"].as_array().map(Vec::len)
        ),
        (json!(4), json!(3), Some(1))
    );
    assert_eq!(v["issues"][0]["key"], "APP-7");
    let v = get(
        &sim,
        "/rest/api/2/search?jql=project%20%3D%20SEC&fields=summary",
        BOT,
    )
    .await
    .json();
    assert_eq!(v["issues"][0]["fields"]["summary"], "elsewhere");
}

#[tokio::test]
async fn metadata_describes_projects_and_permissions() {
    let sim = seeded().await;
    let a = get(&sim, "/rest/api/3/project/NOPE", BOT).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::NOT_FOUND,
            json!({"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {}})
        )
    );
    let p = get(&sim, "/rest/api/3/project/SEC", BOT).await.json();
    let types: Vec<&str> = p["issueTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Vulnerability", "Bug"]);
    let statuses = get(&sim, "/rest/api/3/project/SEC/statuses", BOT)
        .await
        .json();
    let cats: Vec<(String, String)> = statuses[0]["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["statusCategory"]["key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        cats,
        [
            ("To Do".into(), "new".into()),
            ("In Progress".into(), "indeterminate".into()),
            ("Done".into(), "done".into()),
            ("Won't Do".into(), "done".into())
        ]
    );
    let pr = get(&sim, "/rest/api/2/priority", BOT).await.json();
    assert_eq!(
        pr.as_array().map(|a| a
            .iter()
            .map(|p| p["name"].as_str().unwrap_or(""))
            .collect::<Vec<_>>()),
        Some(vec!["Highest", "High", "Medium", "Low", "Lowest"])
    );
    let page = get(&sim, "/rest/api/3/priority/search?maxResults=2", BOT)
        .await
        .json();
    assert_eq!(
        (page["total"].clone(), page["isLast"].clone()),
        (json!(5), json!(false))
    );
    assert_eq!(
        get(&sim, "/rest/api/2/priority/search", BOT).await.status,
        StatusCode::NOT_FOUND,
        "Cloud only"
    );
    let comps = get(&sim, "/rest/api/3/project/APP/components", BOT)
        .await
        .json();
    assert_eq!(comps.as_array().map(Vec::len), Some(2));
    let types = get(&sim, "/rest/api/3/issue/createmeta/SEC/issuetypes", BOT)
        .await
        .json();
    let vuln = types["issueTypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Vulnerability")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fields = get(
        &sim,
        &format!("/rest/api/3/issue/createmeta/SEC/issuetypes/{vuln}"),
        BOT,
    )
    .await
    .json();
    let components = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fieldId"] == "components")
        .unwrap();
    assert_eq!(components["required"], true);
    let dc = get(
        &sim,
        &format!("/rest/api/2/issue/createmeta/SEC/issuetypes/{vuln}"),
        BOT,
    )
    .await
    .json();
    assert!(dc["values"].is_array(), "Data Center pages as values");

    let perms = get(&sim, "/rest/api/3/mypermissions?projectKey=SEC&permissions=CREATE_ISSUES,DELETE_ISSUES,TRANSITION_ISSUES", CAROL).await.json();
    assert_eq!(
        perms["permissions"]["CREATE_ISSUES"]["havePermission"],
        true
    );
    assert_eq!(
        perms["permissions"]["DELETE_ISSUES"]["havePermission"],
        false
    );
    assert_eq!(
        perms["permissions"]["DELETE_ISSUES"]["name"],
        "Delete Issues"
    );
    let a = get(&sim, "/rest/api/3/mypermissions", CAROL).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "Cloud needs the list");
    assert!(
        get(&sim, "/rest/api/2/mypermissions", CAROL).await.json()["permissions"]["BROWSE_PROJECTS"]
            ["havePermission"]
            == true
    );
    let a = get(&sim, "/rest/api/3/mypermissions?permissions=FLY", CAROL).await;
    assert_eq!(
        a.json()["errorMessages"][0],
        "Permission key 'FLY' is not valid."
    );
}

async fn token_request(sim: &JiraSim, form: &[(&str, &str)]) -> Answer {
    let r = reqwest::Client::new()
        .post(format!("{}/rest/oauth2/latest/token", sim.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    Answer {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

#[tokio::test]
async fn oauth_refresh_tokens_rotate_and_access_tokens_expire() {
    let sim = seeded().await;
    let refresh = |token: &'static str| {
        [
            ("grant_type", "refresh_token"),
            ("client_id", jira::OAUTH_CLIENT_ID),
            ("client_secret", jira::OAUTH_CLIENT_SECRET),
            ("refresh_token", token),
        ]
    };
    let a = token_request(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "vulnbridge"),
            ("client_secret", "nope"),
            ("refresh_token", jira::OAUTH_REFRESH_TOKEN),
        ],
    )
    .await;
    assert_eq!(
        (a.status, a.json()["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_client"))
    );
    let a = token_request(
        &sim,
        &[
            ("grant_type", "password"),
            ("client_id", jira::OAUTH_CLIENT_ID),
            ("client_secret", jira::OAUTH_CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(a.json()["error"], "unsupported_grant_type");
    let a = token_request(&sim, &refresh(jira::OAUTH_REFRESH_TOKEN)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.header("cache-control"), Some("no-store"));
    let v = a.json();
    let access = v["access_token"].as_str().unwrap().to_owned();
    let rotated = v["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, jira::OAUTH_REFRESH_TOKEN);
    assert_eq!(
        (v["token_type"].clone(), v["expires_in"].clone()),
        (json!("Bearer"), json!(3600))
    );
    // The old refresh token is spent.
    let a = token_request(&sim, &refresh(jira::OAUTH_REFRESH_TOKEN)).await;
    assert_eq!(
        (a.status, a.json()["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    assert_eq!(sim.live_refresh_tokens(), 1);
    let a = call(
        &sim,
        Method::GET,
        "/rest/api/2/myself",
        Auth::Bearer(&access),
        None,
    )
    .await;
    assert_eq!(a.json()["emailAddress"], jira::BOT_EMAIL);
    sim.expire_access_tokens();
    assert_eq!(
        call(
            &sim,
            Method::GET,
            "/rest/api/2/myself",
            Auth::Bearer(&access),
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    // Short lifetimes expire on their own.
    sim.set_token_lifetime(Duration::from_secs(1));
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", jira::OAUTH_CLIENT_ID),
        ("client_secret", jira::OAUTH_CLIENT_SECRET),
        ("refresh_token", rotated.as_str()),
    ];
    let v = token_request(&sim, &form).await.json();
    assert_eq!(v["expires_in"], 1);
    let access = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &sim,
            Method::GET,
            "/rest/api/2/myself",
            Auth::Bearer(&access),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        call(
            &sim,
            Method::GET,
            "/rest/api/2/myself",
            Auth::Bearer(&access),
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_jiras_headers() {
    let sim = seeded().await;
    sim.set_limits(Limits {
        burst: 2,
        per_issue_writes: 0,
        window_ms: 60_000,
    });
    let a = get(&sim, "/rest/api/3/myself", BOT).await;
    assert_eq!(
        (
            a.header("x-ratelimit-limit"),
            a.header("x-ratelimit-remaining")
        ),
        (Some("2"), Some("1"))
    );
    get(&sim, "/rest/api/3/myself", BOT).await;
    let a = get(&sim, "/rest/api/3/myself", BOT).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = a
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=60).contains(&retry));
    assert_eq!(a.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(a.header("ratelimit-reason"), Some("jira-burst-based"));
    let reset = a.header("x-ratelimit-reset").unwrap_or("");
    assert!(
        chrono::NaiveDateTime::parse_from_str(reset, "%Y-%m-%dT%H:%MZ").is_ok(),
        "{reset}"
    );
    assert_eq!(
        get(&sim, "/rest/api/3/project/SEC", BOT).await.status,
        StatusCode::OK,
        "another endpoint"
    );
    assert_eq!(
        get(&sim, "/rest/api/3/myself", CAROL).await.status,
        StatusCode::OK,
        "another user"
    );
    sim.set_limits(Limits {
        burst: 0,
        per_issue_writes: 1,
        window_ms: 60_000,
    });
    let key = new_issue(&sim, "APP", "Bug", "hot").await;
    assert_eq!(
        send(
            &sim,
            Method::PUT,
            &format!("/rest/api/3/issue/{key}"),
            BOT,
            json!({"fields": {"summary": "a"}})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let a = send(
        &sim,
        Method::PUT,
        &format!("/rest/api/3/issue/{key}"),
        BOT,
        json!({"fields": {"summary": "b"}}),
    )
    .await;
    assert_eq!(
        (a.status, a.header("ratelimit-reason")),
        (
            StatusCode::TOO_MANY_REQUESTS,
            Some("jira-per-issue-on-write")
        )
    );
    assert_eq!(sim.issue(&key).unwrap().summary, "a");
}

/// A webhook receiver: every request's headers and raw body. The first `fail_first` requests
/// are answered 500.
async fn receiver(fail_first: usize) -> (String, mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    let app = Router::new().route(
        "/hook",
        route_post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                let _ = tx.send((headers, body));
                if n < fail_first {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) -> (HeaderMap, Bytes, Value) {
    let (h, b) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a webhook")
        .expect("open channel");
    let v = serde_json::from_slice(&b).unwrap_or(Value::Null);
    (h, b, v)
}

fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn signed(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn admin_webhooks_deliver_signed_events() {
    let sim = seeded().await;
    let (url, mut rx) = receiver(0).await;
    let hook = json!({
        "name": "vulnbridge", "url": url, "secret": "s3cret",
        "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created"],
        "filters": {"issue-related-events-section": "project = SEC"}, "excludeBody": false
    });
    let a = send(
        &sim,
        Method::POST,
        "/rest/webhooks/1.0/webhook",
        CAROL,
        hook.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "administrators only");
    let a = send(
        &sim,
        Method::POST,
        "/rest/webhooks/1.0/webhook",
        BOT,
        json!({"name": "x", "url": url, "events": ["issue_exploded"]}),
    )
    .await;
    assert_eq!(
        a.json()["errors"]["events"],
        "The event 'issue_exploded' is not a valid webhook event."
    );
    let a = send(&sim, Method::POST, "/rest/webhooks/1.0/webhook", BOT, json!({"name": "x", "url": url, "filters": {"issue-related-events-section": "project = NOPE"}})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = send(&sim, Method::POST, "/rest/webhooks/1.0/webhook", BOT, hook).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let created = a.json();
    assert!(created.get("secret").is_none(), "the secret is never shown");
    assert_eq!(
        created["filters"]["issue-related-events-section"],
        "project = SEC"
    );

    new_issue(&sim, "APP", "Bug", "not ours").await;
    let key = new_issue(&sim, "SEC", "Vulnerability", "ours").await;
    let (headers, body, v) = next(&mut rx).await;
    assert_eq!(
        v["webhookEvent"], "jira:issue_created",
        "the APP issue is filtered out"
    );
    assert_eq!(v["issue"]["key"], key.as_str());
    assert_eq!(h(&headers, "x-hub-signature"), signed("s3cret", &body));
    assert!(!h(&headers, "x-atlassian-webhook-identifier").is_empty());
    assert_eq!(h(&headers, "x-atlassian-webhook-retry"), "0");
    assert_eq!(
        v["issue"]["fields"]["description"], "text",
        "webhooks carry v2 text"
    );

    sim.transition_as(CAROL.0, &key, "Won't Do").unwrap();
    let (_, _, v) = next(&mut rx).await;
    assert_eq!(
        (
            v["webhookEvent"].clone(),
            v["issue_event_type_name"].clone()
        ),
        (json!("jira:issue_updated"), json!("issue_generic"))
    );
    let status = v["changelog"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["field"] == "status")
        .unwrap()
        .clone();
    assert_eq!(
        (status["fromString"].clone(), status["toString"].clone()),
        (json!("To Do"), json!("Won't Do"))
    );
    assert_eq!(
        v["issue"]["fields"]["status"]["statusCategory"]["key"],
        "done"
    );
    assert_eq!(v["user"]["emailAddress"], jira::CAROL_EMAIL);
    assert!(
        v["changelog"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["field"] == "resolution" && i["toString"] == "Won't Do")
    );

    sim.comment_as(CAROL.0, &key, "Accepted risk.").unwrap();
    let (_, _, v) = next(&mut rx).await;
    assert_eq!(v["webhookEvent"], "comment_created");
    assert_eq!(v["comment"]["body"], "Accepted risk.");
    assert_eq!(v["issue"]["id"], sim.issue(&key).unwrap().id.as_str());
    let (_, _, v) = next(&mut rx).await;
    assert_eq!(v["issue_event_type_name"], "issue_commented");

    sim.delete_as(BOT.0, &key).unwrap();
    let (_, _, v) = next(&mut rx).await;
    assert_eq!(v["webhookEvent"], "jira:issue_deleted");
    assert_eq!(v["issue"]["key"], key.as_str());

    // Replace and delete.
    let list = get(&sim, "/rest/webhooks/1.0/webhook", BOT).await.json();
    let id = list[0]["self"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let a = send(&sim, Method::PUT, &format!("/rest/webhooks/1.0/webhook/{id}"), BOT, json!({"name": "renamed", "url": url, "events": ["jira:issue_created"], "filters": {"issue-related-events-section": "project in (SEC, APP)"}})).await;
    assert_eq!(a.json()["name"], "renamed");
    new_issue(&sim, "APP", "Bug", "now ours").await;
    let (headers, body, v) = next(&mut rx).await;
    assert_eq!(v["issue"]["fields"]["summary"], "now ours");
    assert_eq!(
        h(&headers, "x-hub-signature"),
        signed("s3cret", &body),
        "the secret was kept"
    );
    let a = call(
        &sim,
        Method::DELETE,
        &format!("/rest/webhooks/1.0/webhook/{id}"),
        Auth::Basic(BOT.0, BOT.1),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&sim, "/rest/webhooks/1.0/webhook", BOT).await.json(),
        json!([])
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_identifier() {
    let sim = seeded().await;
    let (url, mut rx) = receiver(1).await;
    send(
        &sim,
        Method::POST,
        "/rest/webhooks/1.0/webhook",
        BOT,
        json!({"name": "v", "url": url, "events": ["jira:issue_created"]}),
    )
    .await;
    new_issue(&sim, "APP", "Bug", "x").await;
    let (first, _, _) = next(&mut rx).await;
    assert!(
        first.get("x-hub-signature").is_none(),
        "no secret, no signature"
    );
    sim.webhooks().wait_idle().await;
    assert_eq!(sim.retry_failed_webhooks(), 1);
    let (again, _, _) = next(&mut rx).await;
    assert_eq!(
        h(&again, "x-atlassian-webhook-identifier"),
        h(&first, "x-atlassian-webhook-identifier")
    );
    assert_eq!(h(&again, "x-atlassian-webhook-retry"), "1");
    sim.webhooks().wait_idle().await;
    assert_eq!(sim.retry_failed_webhooks(), 0, "delivered");
}

#[tokio::test]
async fn the_control_api_counts_requests_and_injects_faults() {
    let sim = seeded().await;
    let base = sim.base_url();
    let http = reqwest::Client::new();
    let fault = json!({"method": "POST", "path_contains": "/issue", "status": 503, "headers": [["Retry-After", "7"]], "times": 1});
    assert_eq!(
        http.post(format!("{base}/_sim/faults"))
            .json(&fault)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let a = send(
        &sim,
        Method::POST,
        "/rest/api/3/issue",
        BOT,
        json!({"fields": {}}),
    )
    .await;
    assert_eq!(
        (a.status, a.header("retry-after")),
        (StatusCode::SERVICE_UNAVAILABLE, Some("7"))
    );
    let key = new_issue(&sim, "APP", "Bug", "x").await;
    get(&sim, &format!("/rest/api/3/issue/{key}"), BOT).await;
    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("POST /rest/api/3/issue"),
        Some(&1),
        "a faulted request never reaches the API"
    );
    assert_eq!(counts.get("GET /rest/api/3/issue/{key}"), Some(&1));
    let r = http
        .post(format!("{base}/_sim/issues/{key}/transition"))
        .json(&json!({"as": CAROL.0, "status": "In Progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sim.issue(&key).unwrap().status, "In Progress");
    let r = http
        .post(format!("{base}/_sim/issues/{key}/delete"))
        .json(&json!({"as": CAROL.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = http
        .post(format!("{base}/_sim/oauth"))
        .json(&json!({"token_lifetime_secs": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["token_lifetime_secs"], 5);
    let state: Value = http
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["limits"]["burst"], 100);
    assert!(
        state["state"]["users"]
            .to_string()
            .contains(jira::BOT_EMAIL)
    );
    assert!(
        !state.to_string().contains(jira::BOT_API_TOKEN),
        "secrets stay out of the state dump"
    );
    let a = get(&sim, "/rest/api/3/nothing", BOT).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(
        sim.summary().contains(jira::BOT_API_TOKEN) && sim.summary().contains("SEC (Security)")
    );
}
