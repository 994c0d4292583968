//! The GitLab simulator over real HTTP: it refuses what GitLab refuses, with GitLab's status
//! codes and bodies; it paginates and rate-limits with GitLab's headers; its hooks deliver.

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post as route_post;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use simulators::gitlab::{GitLabSim, Limits};
use std::time::Duration;
use tokio::sync::mpsc;

const BOT: &str = "glpat-simulatorBotToken0000";
const BOB: &str = "glpat-simulatorBobToken00000";
const PROJECT: &str = "acme%2Fmobile-backend";

async fn seeded() -> GitLabSim {
    GitLabSim::start_seeded("127.0.0.1:0".parse().unwrap())
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

async fn call(
    sim: &GitLabSim,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", sim.base_url()));
    if let Some(t) = token {
        req = req.header("PRIVATE-TOKEN", t);
    }
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

async fn get(sim: &GitLabSim, path: &str, token: &str) -> Answer {
    call(sim, Method::GET, path, Some(token), None).await
}

async fn post(sim: &GitLabSim, path: &str, token: &str, body: Value) -> Answer {
    call(sim, Method::POST, path, Some(token), Some(body)).await
}

async fn put(sim: &GitLabSim, path: &str, token: &str, body: Value) -> Answer {
    call(sim, Method::PUT, path, Some(token), Some(body)).await
}

async fn new_issue(sim: &GitLabSim, token: &str, body: Value) -> Value {
    let a = post(
        sim,
        &format!("/api/v4/projects/{PROJECT}/issues"),
        token,
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.json()
}

#[tokio::test]
async fn tokens_are_refused_as_gitlab_refuses_them() {
    let sim = seeded().await;
    let a = call(&sim, Method::GET, "/api/v4/user", None, None).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::UNAUTHORIZED,
            json!({"message": "401 Unauthorized"})
        )
    );
    let a = get(&sim, "/api/v4/user", "glpat-nope").await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::UNAUTHORIZED,
            json!({"message": "401 Unauthorized"})
        )
    );

    let a = get(&sim, "/api/v4/user", BOT).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["username"], "vulnbridge-bot");
    // Bearer works too.
    let r = reqwest::Client::new()
        .get(format!("{}/api/v4/user", sim.base_url()))
        .bearer_auth(BOB)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["username"], "dev-bob");

    // A read_user token reads the user but not projects; a read_api token reads but never writes.
    sim.add_user("reader", "glpat-readUser", &["read_user"]);
    sim.add_user("reader", "glpat-readApi", &["read_api"]);
    sim.grant("reader", "acme/mobile-backend", 30);
    assert_eq!(
        get(&sim, "/api/v4/user", "glpat-readUser").await.status,
        StatusCode::OK
    );
    let a = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}"),
        "glpat-readUser",
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.json(),
        json!({
            "error": "insufficient_scope",
            "error_description": "The request requires higher privileges than provided by the access token.",
            "scope": "api read_api"
        })
    );
    assert_eq!(
        get(
            &sim,
            &format!("/api/v4/projects/{PROJECT}/issues"),
            "glpat-readApi"
        )
        .await
        .status,
        StatusCode::OK
    );
    let a = post(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues"),
        "glpat-readApi",
        json!({"title": "x"}),
    )
    .await;
    // GitLab names every scope the endpoint registered, read-only ones included.
    assert_eq!(
        (a.status, a.json()["scope"].clone()),
        (StatusCode::FORBIDDEN, json!("api read_api"))
    );
    let a = get(&sim, "/api/v4/user", "glpat-none").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    sim.add_user("reader", "glpat-repo", &["read_repository"]);
    let a = get(&sim, "/api/v4/user", "glpat-repo").await;
    assert_eq!(a.json()["scope"], "read_user api read_api");
    // Any token reads itself.
    let a = get(
        &sim,
        "/api/v4/personal_access_tokens/self",
        "glpat-readUser",
    )
    .await;
    assert_eq!(a.json()["scopes"], json!(["read_user"]));
    assert_eq!(a.json()["active"], json!(true));

    sim.expire_token(BOB);
    let a = get(&sim, "/api/v4/user", BOB).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.json(),
        json!({"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."})
    );
    assert!(a.header("www-authenticate").is_some_and(|v| {
        v.starts_with("Bearer realm=\"Protected by OAuth 2.0\", error=\"invalid_token\"")
    }));
    sim.revoke_token("glpat-readApi");
    let a = get(&sim, "/api/v4/user", "glpat-readApi").await;
    assert_eq!(
        a.json()["error_description"],
        "Token was revoked. You have to re-authorize from the user."
    );
}

#[tokio::test]
async fn projects_are_found_by_path_or_id_and_hidden_from_non_members() {
    let sim = seeded().await;
    let a = get(&sim, &format!("/api/v4/projects/{PROJECT}"), BOT).await;
    assert_eq!(a.status, StatusCode::OK);
    let p = a.json();
    assert_eq!(p["path_with_namespace"], "acme/mobile-backend");
    assert_eq!(p["permissions"]["project_access"]["access_level"], 40);
    assert_eq!(p["permissions"]["group_access"], Value::Null);
    let by_id = get(&sim, &format!("/api/v4/projects/{}", p["id"]), BOT).await;
    assert_eq!(by_id.json()["id"], p["id"]);

    sim.add_user("outsider", "glpat-outsider", &["api"]);
    for path in [
        format!("/api/v4/projects/{PROJECT}"),
        "/api/v4/projects/acme%2Fnope".to_owned(),
    ] {
        let a = get(&sim, &path, "glpat-outsider").await;
        assert_eq!(
            (a.status, a.json()),
            (
                StatusCode::NOT_FOUND,
                json!({"message": "404 Project Not Found"})
            )
        );
    }
    let a = call(
        &sim,
        Method::GET,
        &format!("/api/v4/projects/{PROJECT}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "a private project does not exist for anonymous callers"
    );

    // Group membership is inherited.
    sim.grant("outsider", "acme", 20);
    let a = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}"),
        "glpat-outsider",
    )
    .await;
    assert_eq!(a.json()["permissions"]["group_access"]["access_level"], 20);

    let a = get(&sim, "/api/v4/nothing/here", BOT).await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::NOT_FOUND, json!({"error": "404 Not Found"}))
    );
    let a = call(&sim, Method::DELETE, "/api/v4/user", Some(BOT), None).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": "405 Not Allowed"})
        )
    );
}

#[tokio::test]
async fn issues_are_validated_like_gitlab() {
    let sim = seeded().await;
    let issues = format!("/api/v4/projects/{PROJECT}/issues");
    let a = post(&sim, &issues, BOT, json!({"description": "no title"})).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "title is missing"})
        )
    );
    let a = post(&sim, &issues, BOT, json!({"title": "t".repeat(256)})).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::BAD_REQUEST,
            json!({"message": {"title": ["is too long (maximum is 255 characters)"]}})
        )
    );
    let a = post(&sim, &issues, BOT, json!({"title": "   "})).await;
    assert_eq!(a.json(), json!({"message": {"title": ["can't be blank"]}}));
    let a = post(
        &sim,
        &issues,
        BOT,
        json!({"title": "x", "weight": "heavy", "issue_type": "epic"}),
    )
    .await;
    assert_eq!(
        a.json(),
        json!({"error": "issue_type does not have a valid value, weight is invalid"})
    );
    let a = post(&sim, &issues, BOT, json!({"title": "x", "weight": -1})).await;
    assert_eq!(
        a.json(),
        json!({"message": {"weight": ["must be greater than or equal to 0"]}})
    );
    let a = post(
        &sim,
        &issues,
        BOT,
        json!({"title": "x", "description": "d".repeat(1024 * 1024 + 1)}),
    )
    .await;
    assert_eq!(
        a.json(),
        json!({"message": {"description": ["is too long (maximum is 1048576 characters)"]}})
    );
    let r = reqwest::Client::new()
        .post(format!("{}{issues}", sim.base_url()))
        .header("PRIVATE-TOKEN", BOT)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let bob = sim.user_id("dev-bob").unwrap();
    let milestone = sim.add_milestone("acme/mobile-backend", "v1");
    let issue = new_issue(
        &sim,
        BOT,
        json!({
            "title": "  SQL injection  ",
            "description": "body",
            "labels": "vulnbridge,Priority::3,Priority::4",
            "weight": 3,
            "confidential": true,
            "issue_type": "incident",
            "due_date": "2030-01-31",
            "assignee_ids": [bob, 999_999],
            "milestone_id": milestone,
        }),
    )
    .await;
    assert_eq!(issue["iid"], 1);
    assert_eq!(issue["title"], "SQL injection", "titles are stripped");
    assert_eq!(
        issue["labels"],
        json!(["Priority::4", "vulnbridge"]),
        "one label per scope, the last wins"
    );
    assert_eq!(
        (issue["weight"].clone(), issue["confidential"].clone()),
        (json!(3), json!(true))
    );
    assert_eq!(
        (issue["issue_type"].clone(), issue["type"].clone()),
        (json!("incident"), json!("INCIDENT"))
    );
    assert_eq!(issue["due_date"], "2030-01-31");
    assert_eq!(
        issue["assignees"].as_array().map(Vec::len),
        Some(1),
        "unknown users are dropped"
    );
    assert_eq!(issue["milestone"]["id"], json!(milestone));
    assert_eq!(issue["state"], "opened");
    assert_eq!(issue["references"]["full"], "acme/mobile-backend#1");
    assert!(
        issue["web_url"]
            .as_str()
            .unwrap()
            .ends_with("/acme/mobile-backend/-/issues/1")
    );

    let one = format!("{issues}/1");
    let a = put(&sim, &one, BOT, json!({})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.json()["error"],
        "assignee_id, assignee_ids, confidential, created_at, description, discussion_locked, due_date, labels, \
         add_labels, remove_labels, milestone_id, state_event, title, issue_type, weight, epic_id, epic_iid are missing, \
         at least one parameter must be provided"
    );
    let a = put(&sim, &one, BOT, json!({"state_event": "shut"})).await;
    assert_eq!(
        a.json(),
        json!({"error": "state_event does not have a valid value"})
    );
    let a = put(&sim, &format!("{issues}/999"), BOT, json!({"title": "x"})).await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::NOT_FOUND, json!({"message": "404 Not found"}))
    );
    let a = put(&sim, &format!("{issues}/abc"), BOT, json!({"title": "x"})).await;
    assert_eq!(a.json(), json!({"error": "issue_iid is invalid"}));

    // Labels a person added survive add_labels/remove_labels; a scoped label replaces its scope.
    let a = put(&sim, &one, BOB, json!({"add_labels": "team-a"})).await;
    assert_eq!(
        a.json()["labels"],
        json!(["Priority::4", "team-a", "vulnbridge"])
    );
    let a = put(
        &sim,
        &one,
        BOT,
        json!({"add_labels": "Priority::2", "remove_labels": "vulnbridge", "state_event": "close"}),
    )
    .await;
    let issue = a.json();
    assert_eq!(issue["labels"], json!(["Priority::2", "team-a"]));
    assert_eq!(issue["state"], "closed");
    assert_eq!(issue["closed_by"]["username"], "vulnbridge-bot");
    let a = put(&sim, &one, BOT, json!({"labels": ""})).await;
    assert_eq!(a.json()["labels"], json!([]));
    let a = put(
        &sim,
        &one,
        BOT,
        json!({"weight": null, "due_date": null, "milestone_id": 0, "assignee_ids": []}),
    )
    .await;
    let cleared = a.json();
    assert_eq!(
        (
            cleared["weight"].clone(),
            cleared["due_date"].clone(),
            cleared["milestone"].clone()
        ),
        (Value::Null, Value::Null, Value::Null)
    );
    assert_eq!(cleared["assignees"], json!([]));
    let snap = &sim.issues("acme/mobile-backend")[0];
    assert_eq!((snap.state.as_str(), snap.weight), ("closed", None));
}

#[tokio::test]
async fn roles_limit_what_a_user_may_do() {
    let sim = seeded().await;
    sim.add_user("guest", "glpat-guest", &["api"]);
    sim.grant("guest", "acme/mobile-backend", 10);
    let issues = format!("/api/v4/projects/{PROJECT}/issues");
    // A Guest may open an issue, but GitLab silently drops the metadata it may not set.
    let issue = new_issue(
        &sim,
        "glpat-guest",
        json!({"title": "from a guest", "labels": "bug", "weight": 2}),
    )
    .await;
    assert_eq!(
        (issue["labels"].clone(), issue["weight"].clone()),
        (json!([]), Value::Null)
    );
    // Its author may edit it; another Guest-authored issue is not theirs to edit.
    let a = put(
        &sim,
        &format!("{issues}/{}", issue["iid"]),
        "glpat-guest",
        json!({"title": "renamed"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let other = new_issue(&sim, BOT, json!({"title": "bot's"})).await;
    let a = put(
        &sim,
        &format!("{issues}/{}", other["iid"]),
        "glpat-guest",
        json!({"state_event": "close"}),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::FORBIDDEN, json!({"message": "403 Forbidden"}))
    );
    // Confidential issues of others are invisible to a Guest.
    let secret = new_issue(&sim, BOT, json!({"title": "secret", "confidential": true})).await;
    let a = get(&sim, &format!("{issues}/{}", secret["iid"]), "glpat-guest").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let listed = get(&sim, &issues, "glpat-guest").await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    // Hooks need Maintainer.
    let a = get(&sim, &format!("/api/v4/projects/{PROJECT}/hooks"), BOB).await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::FORBIDDEN, json!({"message": "403 Forbidden"}))
    );
    // Anonymous writes are a 401, not a 404.
    let a = call(
        &sim,
        Method::POST,
        &issues,
        None,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sim.close_issue_as("guest", "acme/mobile-backend", 2),
        Err("403 Forbidden".to_owned())
    );
    assert_eq!(
        sim.close_issue_as("dev-bob", "acme/nope", 2),
        Err("404 Project Not Found".to_owned())
    );
    assert!(
        sim.close_issue_as("dev-bob", "acme/mobile-backend", 2)
            .is_ok()
    );
    // Deleting an issue is for owners.
    let a = call(
        &sim,
        Method::DELETE,
        &format!("{issues}/2"),
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::FORBIDDEN, json!({"message": "403 Forbidden"}))
    );
    sim.grant("vulnbridge-bot", "acme/mobile-backend", 50);
    let a = call(
        &sim,
        Method::DELETE,
        &format!("{issues}/2"),
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = call(
        &sim,
        Method::DELETE,
        &format!("{issues}/2"),
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::NOT_FOUND,
            json!({"message": "404 Issue Not Found"})
        )
    );
}

#[tokio::test]
async fn lists_paginate_with_gitlab_headers_and_filter() {
    let sim = seeded().await;
    for i in 1..=5 {
        let labels = if i % 2 == 0 {
            "vulnbridge,even"
        } else {
            "vulnbridge"
        };
        new_issue(&sim, BOT, json!({"title": format!("issue {i}"), "labels": labels, "description": format!("marker-{i}")}))
            .await;
    }
    let path = format!(
        "/api/v4/projects/{PROJECT}/issues?labels=vulnbridge&per_page=2&order_by=created_at&sort=asc"
    );
    let a = get(&sim, &path, BOT).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("x-total"), Some("5"));
    assert_eq!(a.header("x-total-pages"), Some("3"));
    assert_eq!(
        (a.header("x-page"), a.header("x-per-page")),
        (Some("1"), Some("2"))
    );
    assert_eq!(
        (a.header("x-next-page"), a.header("x-prev-page")),
        (Some("2"), Some(""))
    );
    let link = a.header("link").unwrap();
    assert!(
        link.contains("rel=\"next\"") && link.contains("page=2") && link.contains("rel=\"last\""),
        "{link}"
    );
    assert!(
        link.contains("labels=vulnbridge"),
        "links keep the filters: {link}"
    );
    let titles: Vec<Value> = a
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].clone())
        .collect();
    assert_eq!(titles, [json!("issue 1"), json!("issue 2")]);
    let last = get(&sim, &format!("{path}&page=3"), BOT).await;
    assert_eq!(
        (last.header("x-next-page"), last.header("x-prev-page")),
        (Some(""), Some("2"))
    );
    assert_eq!(last.json().as_array().map(Vec::len), Some(1));
    let big = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues?per_page=500"),
        BOT,
    )
    .await;
    assert_eq!(big.header("x-per-page"), Some("100"));
    let a = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues?per_page=many"),
        BOT,
    )
    .await;
    assert_eq!(a.json(), json!({"error": "per_page is invalid"}));

    let detailed = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues?labels=even&with_labels_details=true"),
        BOT,
    )
    .await;
    let first = detailed.json()[0]["labels"][0].clone();
    assert_eq!(first["name"], "even");
    assert!(first["color"].as_str().is_some_and(|c| c.starts_with('#')));
    let even = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues?labels=vulnbridge,even"),
        BOT,
    )
    .await;
    assert_eq!(even.header("x-total"), Some("2"));
    let found = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues?search=MARKER-3"),
        BOT,
    )
    .await;
    assert_eq!(found.json()[0]["title"], "issue 3");
    let future = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues?created_after=2999-01-01T00:00:00Z"),
        BOT,
    )
    .await;
    assert_eq!(future.header("x-total"), Some("0"));
    let a = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues?created_after=yesterday"),
        BOT,
    )
    .await;
    assert_eq!(a.json(), json!({"error": "created_after is invalid"}));
    let a = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues?state=done"),
        BOT,
    )
    .await;
    assert_eq!(
        a.json(),
        json!({"error": "state does not have a valid value"})
    );
    put(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues/1"),
        BOT,
        json!({"state_event": "close"}),
    )
    .await;
    let opened = get(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues?state=opened"),
        BOT,
    )
    .await;
    assert_eq!(opened.header("x-total"), Some("4"));
    let labels = get(&sim, &format!("/api/v4/projects/{PROJECT}/labels"), BOT)
        .await
        .json();
    let names: Vec<Value> = labels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].clone())
        .collect();
    assert_eq!(names, [json!("even"), json!("vulnbridge")]);
}

#[tokio::test]
async fn notes_are_created_and_listed() {
    let sim = seeded().await;
    new_issue(&sim, BOT, json!({"title": "t"})).await;
    let notes = format!("/api/v4/projects/{PROJECT}/issues/1/notes");
    let a = post(&sim, &notes, BOT, json!({})).await;
    assert_eq!(a.json(), json!({"error": "body is missing"}));
    let a = post(&sim, &notes, BOT, json!({"body": " "})).await;
    assert_eq!(
        a.json(),
        json!({"message": "400 Bad request - Note {:note=>[\"can't be blank\"]}"})
    );
    let a = post(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues/77/notes"),
        BOT,
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::NOT_FOUND,
            json!({"message": "404 Issue Not Found"})
        )
    );
    let a = post(&sim, &notes, BOT, json!({"body": "first"})).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(
        (
            a.json()["noteable_type"].clone(),
            a.json()["author"]["username"].clone()
        ),
        (json!("Issue"), json!("vulnbridge-bot"))
    );
    post(&sim, &notes, BOB, json!({"body": "second"})).await;
    let listed = get(&sim, &format!("{notes}?sort=asc"), BOT).await;
    let bodies: Vec<Value> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].clone())
        .collect();
    assert_eq!(bodies, [json!("first"), json!("second")]);
    assert_eq!(listed.header("x-total"), Some("2"));
    assert_eq!(
        sim.issues("acme/mobile-backend")[0].notes,
        ["first", "second"]
    );
    let issue = get(&sim, &format!("/api/v4/projects/{PROJECT}/issues/1"), BOT)
        .await
        .json();
    assert_eq!(issue["user_notes_count"], 2);
}

#[tokio::test]
async fn the_api_throttle_answers_429_with_rate_limit_headers() {
    let sim = seeded().await;
    sim.set_limits(Limits {
        requests_per_minute: 3,
        issues_create_per_minute: 300,
        window_scale: 0.05,
    });
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let a = get(&sim, "/api/v4/user", BOT).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("ratelimit-limit"), Some("3"));
        assert!(
            a.header("ratelimit-reset").is_some()
                && a.header("ratelimit-resettime")
                    .is_some_and(|v| v.ends_with("GMT"))
        );
        remaining.push(a.header("ratelimit-remaining").unwrap_or("").to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let a = get(&sim, "/api/v4/user", BOT).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.text, "Retry later\n");
    assert_eq!(a.header("content-type"), Some("text/plain"));
    assert_eq!(
        a.header("ratelimit-name"),
        Some("throttle_authenticated_api")
    );
    assert_eq!(
        (
            a.header("ratelimit-observed"),
            a.header("ratelimit-remaining")
        ),
        (Some("4"), Some("0"))
    );
    let retry: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry), "the window is 3 s: {retry}");
    // Other users have their own budget.
    assert_eq!(get(&sim, "/api/v4/user", BOB).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(get(&sim, "/api/v4/user", BOT).await.status, StatusCode::OK);

    // Issue creation has its own limit, per project and user, with GitLab's JSON answer.
    sim.set_limits(Limits {
        requests_per_minute: 0,
        issues_create_per_minute: 1,
        window_scale: 0.05,
    });
    new_issue(&sim, BOT, json!({"title": "one"})).await;
    let a = post(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues"),
        BOT,
        json!({"title": "two"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        a.json(),
        json!({"message": {"error": "This endpoint has been requested too many times. Try again later."}})
    );
    assert_eq!(a.header("ratelimit-limit"), None, "the API throttle is off");
    assert_eq!(sim.issues("acme/mobile-backend").len(), 1);
}

/// A webhook receiver: every request's headers and body.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(HeaderMap, Value)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/hook",
        route_post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((
                    headers,
                    serde_json::from_slice(&body).unwrap_or(Value::Null),
                ));
                "ok"
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

async fn next_delivery(rx: &mut mpsc::UnboundedReceiver<(HeaderMap, Value)>) -> (HeaderMap, Value) {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a webhook")
        .expect("open channel")
}

fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn hooks_deliver_issue_and_note_events_with_the_token() {
    let sim = seeded().await;
    let (url, mut rx) = receiver().await;
    let hooks = format!("/api/v4/projects/{PROJECT}/hooks");
    let a = post(&sim, &hooks, BOT, json!({"url": "not a url"})).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "Invalid url given"})
        )
    );
    let a = post(&sim, &hooks, BOT, json!({"token": "s3cret"})).await;
    assert_eq!(a.json(), json!({"error": "url is missing"}));
    let a = post(
        &sim,
        &hooks,
        BOT,
        json!({"url": url, "token": "s3cret", "issues_events": true, "note_events": true, "push_events": false}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let hook = a.json();
    assert!(hook.get("token").is_none(), "the token is never shown");
    assert_eq!(
        (
            hook["issues_events"].clone(),
            hook["confidential_issues_events"].clone()
        ),
        (json!(true), json!(false))
    );

    new_issue(&sim, BOT, json!({"title": "leak", "labels": "vulnbridge"})).await;
    let (headers, body) = next_delivery(&mut rx).await;
    assert_eq!(h(&headers, "x-gitlab-event"), "Issue Hook");
    assert_eq!(h(&headers, "x-gitlab-token"), "s3cret");
    assert!(h(&headers, "user-agent").starts_with("GitLab/"));
    assert_eq!(h(&headers, "x-gitlab-instance"), sim.base_url());
    assert_eq!(h(&headers, "x-gitlab-event-uuid").len(), 36);
    assert_eq!(h(&headers, "idempotency-key").len(), 36);
    assert_eq!(h(&headers, "x-gitlab-webhook-uuid").len(), 36);
    assert_eq!(
        (body["object_kind"].clone(), body["event_type"].clone()),
        (json!("issue"), json!("issue"))
    );
    assert_eq!(body["object_attributes"]["action"], "open");
    assert_eq!(body["object_attributes"]["iid"], 1);
    assert_eq!(
        body["project"]["path_with_namespace"],
        "acme/mobile-backend"
    );
    assert_eq!(body["user"]["username"], "vulnbridge-bot");
    let issue_id = body["object_attributes"]["id"].clone();

    // A person closes it in GitLab; the hook names them.
    sim.close_issue_as("dev-bob", "acme/mobile-backend", 1)
        .unwrap();
    let (_, body) = next_delivery(&mut rx).await;
    assert_eq!(
        (
            body["object_attributes"]["action"].clone(),
            body["user"]["username"].clone()
        ),
        (json!("close"), json!("dev-bob"))
    );
    assert_eq!(body["object_attributes"]["id"], issue_id);
    assert_eq!(body["object_attributes"]["state"], "closed");

    // The control API does the same.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/_sim/projects/{PROJECT}/issues/1/reopen",
            sim.base_url()
        ))
        .json(&json!({"as": "dev-bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, body) = next_delivery(&mut rx).await;
    assert_eq!(body["object_attributes"]["action"], "reopen");

    // A label change is an update with `changes.labels`.
    put(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues/1"),
        BOB,
        json!({"add_labels": "Status::In review"}),
    )
    .await;
    let (_, body) = next_delivery(&mut rx).await;
    assert_eq!(body["object_attributes"]["action"], "update");
    let current: Vec<Value> = body["changes"]["labels"]["current"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].clone())
        .collect();
    assert_eq!(current, [json!("Status::In review"), json!("vulnbridge")]);
    assert_eq!(
        body["changes"]["labels"]["previous"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    post(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues/1/notes"),
        BOB,
        json!({"body": "fixed?"}),
    )
    .await;
    let (headers, body) = next_delivery(&mut rx).await;
    assert_eq!(h(&headers, "x-gitlab-event"), "Note Hook");
    assert_eq!(
        (
            body["object_kind"].clone(),
            body["object_attributes"]["note"].clone()
        ),
        (json!("note"), json!("fixed?"))
    );
    assert_eq!(body["issue"]["iid"], 1);

    // Confidential issues go only to hooks that asked for them.
    new_issue(&sim, BOT, json!({"title": "quiet", "confidential": true})).await;
    let hook_path = format!("{hooks}/{}", hook["id"]);
    let a = put(
        &sim,
        &hook_path,
        BOT,
        json!({"url": url, "confidential_issues_events": true, "token": "s3cret"}),
    )
    .await;
    assert_eq!(a.json()["confidential_issues_events"], true);
    put(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues/2"),
        BOT,
        json!({"title": "quieter"}),
    )
    .await;
    let (headers, body) = next_delivery(&mut rx).await;
    assert_eq!(h(&headers, "x-gitlab-event"), "Confidential Issue Hook");
    assert_eq!(
        (
            body["event_type"].clone(),
            body["object_attributes"]["title"].clone()
        ),
        (json!("confidential_issue"), json!("quieter"))
    );

    // Changing the URL forgets the token; deleting is 204, then 404.
    let (other_url, mut other_rx) = receiver().await;
    put(&sim, &hook_path, BOT, json!({"url": other_url})).await;
    put(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues/1"),
        BOT,
        json!({"title": "again"}),
    )
    .await;
    let (headers, _) = next_delivery(&mut other_rx).await;
    assert!(headers.get("x-gitlab-token").is_none());
    let a = call(&sim, Method::DELETE, &hook_path, Some(BOT), None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = get(&sim, &hook_path, BOT).await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::NOT_FOUND, json!({"message": "404 Not found"}))
    );
    sim.webhooks().wait_idle().await;
    assert!(sim.webhooks().sent().iter().all(|d| d.status == Some(200)));
}

#[tokio::test]
async fn the_control_api_counts_requests_and_injects_faults() {
    let sim = seeded().await;
    let base = sim.base_url();
    let http = reqwest::Client::new();
    let fault = json!({"method": "POST", "path_contains": "/issues", "status": 502, "body": {"message": "502 Bad Gateway"}, "times": 1});
    let r = http
        .post(format!("{base}/_sim/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a = post(
        &sim,
        &format!("/api/v4/projects/{PROJECT}/issues"),
        BOT,
        json!({"title": "x"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    new_issue(&sim, BOT, json!({"title": "x"})).await;
    get(&sim, &format!("/api/v4/projects/{PROJECT}/issues/1"), BOT).await;
    let counts = sim.requests().counts();
    assert_eq!(counts.get("POST /api/v4/projects/{id}/issues"), Some(&1));
    assert_eq!(
        counts.get("GET /api/v4/projects/{id}/issues/{iid}"),
        Some(&1)
    );
    let state: Value = http
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["limits"]["requests_per_minute"], 2000);
    let r = http
        .post(format!("{base}/_sim/projects/{PROJECT}/issues/9/close"))
        .json(&json!({"as": "dev-bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sim.summary().contains("glpat-simulatorBotToken0000"));
    assert!(sim.summary().contains("acme/mobile-backend"));
}
