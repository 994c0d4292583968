//! The GitHub simulator over real HTTP: it answers what GitHub answers, refuses what GitHub
//! refuses (with GitHub's status codes, headers and bodies), paginates, rate-limits, runs
//! GraphQL with GitHub's errors, and delivers signed webhooks.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use simulators::github::{GitHubSim, Limits};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BOT: &str = "ghp_simulatorBotToken000000000000000000";
const ALICE: &str = "ghp_simulatorAliceToken00000000000000000";

async fn seeded() -> GitHubSim {
    GitHubSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}

async fn call(
    sim: &GitHubSim,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}/api/v3{path}", sim.base_url())
    };
    let mut req = reqwest::Client::new()
        .request(method.parse().unwrap(), url)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28");
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn gql(sim: &GitHubSim, token: &str, query: &str, variables: Value) -> Answer {
    let r = reqwest::Client::new()
        .post(format!("{}/api/graphql", sim.base_url()))
        .header("Authorization", format!("bearer {token}"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Answer {
        status,
        headers,
        body: r.json().await.unwrap_or(Value::Null),
    }
}

async fn new_issue(
    sim: &GitHubSim,
    token: &str,
    repo: &str,
    title: &str,
    labels: &[&str],
) -> Value {
    let a = call(
        sim,
        "POST",
        &format!("/repos/acme/{repo}/issues"),
        Some(token),
        Some(json!({ "title": title, "body": "b", "labels": labels })),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body
}

#[tokio::test]
async fn authentication_and_github_headers() {
    let sim = seeded().await;
    let a = call(&sim, "GET", "/user", Some(BOT), None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["login"], "vulnbridge-bot");
    assert_eq!(
        a.header("x-oauth-scopes"),
        "admin:org_hook, admin:repo_hook, project, repo"
    );
    assert_eq!(a.header("x-ratelimit-limit"), "5000");
    assert_eq!(a.header("x-ratelimit-remaining"), "4999");
    assert_eq!(a.header("x-ratelimit-used"), "1");
    assert_eq!(a.header("x-ratelimit-resource"), "core");
    assert!(a.header("x-ratelimit-reset").parse::<i64>().unwrap() > chrono::Utc::now().timestamp());
    assert!(!a.header("x-github-request-id").is_empty());

    let a = call(&sim, "GET", "/user", Some("ghp_nope"), None).await;
    assert_eq!((a.status, a.message()), (401, "Bad credentials"));
    assert_eq!(a.body["documentation_url"], "https://docs.github.com/rest");
    assert_eq!(a.body["status"], "401");
    let a = call(&sim, "GET", "/user", None, None).await;
    assert_eq!((a.status, a.message()), (401, "Requires authentication"));
    let a = call(&sim, "GET", "/nowhere", Some(BOT), None).await;
    assert_eq!((a.status, a.message()), (404, "Not Found"));

    let r = reqwest::Client::new()
        .get(format!("{}/api/v3/user", sim.base_url()))
        .header("Authorization", format!("token {BOT}"))
        .header("X-GitHub-Api-Version", "2021-01-01")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "API version 2021-01-01 is not supported."
    );
}

#[tokio::test]
async fn repositories_show_permissions_and_hide_what_a_token_may_not_see() {
    let sim = seeded().await;
    let a = call(&sim, "GET", "/repos/acme/storefront", Some(BOT), None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["full_name"], "acme/storefront");
    assert_eq!(a.body["private"], true);
    assert_eq!(a.body["has_issues"], true);
    assert!(a.body["node_id"].as_str().unwrap().starts_with("R_"));
    assert_eq!(a.body["permissions"]["admin"], true);
    assert_eq!(a.header("x-accepted-oauth-scopes"), "repo");
    let a = call(&sim, "GET", "/repos/ACME/Storefront", Some(ALICE), None).await;
    assert_eq!(
        (
            a.body["permissions"]["push"].clone(),
            a.body["permissions"]["admin"].clone()
        ),
        (json!(true), json!(false))
    );

    sim.add_user("eve", "ghp_eve", &["repo"]);
    let a = call(&sim, "GET", "/repos/acme/storefront", Some("ghp_eve"), None).await;
    assert_eq!((a.status, a.message()), (404, "Not Found"));
    // A classic token without `repo` sees no private repository, whatever the user's role.
    sim.add_user("scopeless", "ghp_scopeless", &["read:org"]);
    sim.grant("scopeless", "acme", "storefront", "admin");
    let a = call(
        &sim,
        "GET",
        "/repos/acme/storefront",
        Some("ghp_scopeless"),
        None,
    )
    .await;
    assert_eq!(a.status, 404);
    let a = call(
        &sim,
        "POST",
        "/repos/acme/storefront/issues",
        Some("ghp_scopeless"),
        Some(json!({ "title": "x" })),
    )
    .await;
    assert_eq!(a.status, 404);
    // A fine-grained token carries no scopes: its user's role decides.
    sim.add_user("fine", "github_pat_fine", &[]);
    sim.grant("fine", "acme", "storefront", "read");
    let a = call(
        &sim,
        "GET",
        "/repos/acme/storefront",
        Some("github_pat_fine"),
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("x-oauth-scopes"), "");
}

#[tokio::test]
async fn issue_creation_is_validated_like_github() {
    let sim = seeded().await;
    let post = |body: Value| {
        let sim = sim.clone();
        async move {
            call(
                &sim,
                "POST",
                "/repos/acme/storefront/issues",
                Some(BOT),
                Some(body),
            )
            .await
        }
    };
    let a = post(json!({ "body": "no title" })).await;
    assert_eq!(
        (a.status, a.message()),
        (422, "Invalid request.\n\n\"title\" wasn't supplied.")
    );
    let a = post(json!({ "title": "t", "labels": "security" })).await;
    assert_eq!(
        a.message(),
        "Invalid request.\n\nFor 'properties/labels', \"security\" is not an array."
    );
    let a = post(json!({ "title": "" })).await;
    assert_eq!((a.status, a.message()), (422, "Validation Failed"));
    assert_eq!(
        a.body["errors"],
        json!([{ "resource": "Issue", "code": "missing_field", "field": "title" }])
    );
    let a = post(json!({ "title": "x".repeat(257) })).await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "title is too long (maximum is 256 characters)"
    );
    assert!(post(json!({ "title": "x".repeat(256) })).await.status == 201);
    let a = post(json!({ "title": "t", "body": "b".repeat(65_537) })).await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "body is too long (maximum is 65536 characters)"
    );
    let long = "l".repeat(51);
    let a = post(json!({ "title": "t", "labels": [long.clone()] })).await;
    assert_eq!(
        a.body["errors"],
        json!([{ "value": long, "resource": "Label", "field": "name", "code": "invalid" }])
    );
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/v3/repos/acme/storefront/issues",
            sim.base_url()
        ))
        .header("Authorization", format!("Bearer {BOT}"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "Problems parsing JSON"
    );

    let a = post(json!({ "title": 42, "body": "body", "labels": ["vulnbridge", { "name": "Priority: P2" }] })).await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body["title"], "42");
    assert!(a.header("location").ends_with(&format!(
        "/api/v3/repos/acme/storefront/issues/{}",
        a.body["number"]
    )));
    assert!(a.body["node_id"].as_str().unwrap().starts_with("I_"));
    assert!(
        a.body["html_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/acme/storefront/issues/{}", a.body["number"]))
    );
    let names: Vec<&str> = a.body["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["vulnbridge", "Priority: P2"]);
    assert_eq!(a.body["labels"][0]["color"], "ededed");

    // Pull access may open issues; labels from someone without push access are dropped.
    sim.add_user("reader", "ghp_reader", &["repo"]);
    sim.grant("reader", "acme", "storefront", "read");
    let a = call(
        &sim,
        "POST",
        "/repos/acme/storefront/issues",
        Some("ghp_reader"),
        Some(json!({ "title": "t", "labels": ["x"] })),
    )
    .await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body["labels"], json!([]));
    let a = call(
        &sim,
        "POST",
        "/repos/acme/storefront/issues",
        None,
        Some(json!({ "title": "t" })),
    )
    .await;
    assert_eq!((a.status, a.message()), (401, "Requires authentication"));

    sim.set_issues_enabled("acme", "payments-api", false);
    let a = call(
        &sim,
        "POST",
        "/repos/acme/payments-api/issues",
        Some(BOT),
        Some(json!({ "title": "t" })),
    )
    .await;
    assert_eq!(
        (a.status, a.message()),
        (410, "Issues are disabled for this repo")
    );
    let a = call(
        &sim,
        "GET",
        "/repos/acme/payments-api/issues",
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(a.status, 410);
}

#[tokio::test]
async fn issues_are_updated_closed_and_reopened_as_github_does() {
    let sim = seeded().await;
    let n = new_issue(&sim, BOT, "storefront", "SQLi", &["vulnbridge", "team-a"]).await["number"]
        .as_u64()
        .unwrap();
    let path = format!("/repos/acme/storefront/issues/{n}");
    let a = call(
        &sim,
        "PATCH",
        &path,
        Some(BOT),
        Some(json!({ "state": "done" })),
    )
    .await;
    assert_eq!(
        (a.status, a.message()),
        (
            422,
            "Invalid request.\n\nFor 'properties/state', \"done\" is not a member of [\"open\", \"closed\"]."
        )
    );
    let a = call(
        &sim,
        "PATCH",
        &path,
        Some(BOT),
        Some(json!({ "state": "closed", "state_reason": "wontfix" })),
    )
    .await;
    assert!(
        a.message()
            .contains("'properties/state_reason', \"wontfix\" is not a member of"),
        "{}",
        a.message()
    );
    let a = call(
        &sim,
        "PATCH",
        &path,
        Some(BOT),
        Some(json!({ "title": "SQLi (edited)", "state": "closed", "state_reason": "not_planned" })),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        (a.body["state"].as_str(), a.body["state_reason"].as_str()),
        (Some("closed"), Some("not_planned"))
    );
    assert_eq!(a.body["title"], "SQLi (edited)");
    assert_eq!(a.body["closed_by"]["login"], "vulnbridge-bot");
    let a = call(
        &sim,
        "PATCH",
        &path,
        Some(BOT),
        Some(json!({ "state": "open" })),
    )
    .await;
    assert_eq!(
        (a.body["state"].as_str(), a.body["state_reason"].as_str()),
        (Some("open"), Some("reopened"))
    );
    // `labels` replaces the whole set, creating unknown labels on the fly.
    let a = call(
        &sim,
        "PATCH",
        &path,
        Some(BOT),
        Some(json!({ "labels": ["vulnbridge", "new-one"] })),
    )
    .await;
    let names: Vec<&str> = a.body["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["vulnbridge", "new-one"]);
    let a = call(
        &sim,
        "PATCH",
        "/repos/acme/storefront/issues/999",
        Some(BOT),
        Some(json!({ "title": "x" })),
    )
    .await;
    assert_eq!(a.status, 404);
    let a = call(
        &sim,
        "GET",
        "/repos/acme/storefront/issues/abc",
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(a.status, 404);
    // A reader may not edit someone else's issue.
    sim.add_user("reader", "ghp_reader", &["repo"]);
    sim.grant("reader", "acme", "storefront", "read");
    let a = call(
        &sim,
        "PATCH",
        &path,
        Some("ghp_reader"),
        Some(json!({ "title": "mine now" })),
    )
    .await;
    assert_eq!(
        (a.status, a.message()),
        (403, "Must have push access to repository")
    );
}

#[tokio::test]
async fn listing_filters_and_paginates_with_link_headers() {
    let sim = seeded().await;
    for i in 1..=7 {
        let labels: &[&str] = if i % 2 == 1 { &["vulnbridge"] } else { &[] };
        new_issue(&sim, BOT, "storefront", &format!("issue {i}"), labels).await;
    }
    sim.close_issue_as("dev-alice", "acme", "storefront", 2, "completed")
        .unwrap();
    let a = call(
        &sim,
        "GET",
        "/repos/acme/storefront/issues?per_page=2&state=all&labels=VulnBridge&direction=asc",
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    let numbers = |b: &Value| -> Vec<u64> {
        b.as_array()
            .unwrap()
            .iter()
            .map(|i| i["number"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(numbers(&a.body), [1, 3]);
    let link = a.header("link").to_owned();
    assert!(
        link.contains("rel=\"next\"")
            && link.contains("rel=\"last\"")
            && !link.contains("rel=\"prev\""),
        "{link}"
    );
    assert!(
        link.contains("/api/v3/repositories/"),
        "GitHub links the listing by repository id: {link}"
    );
    let next = link
        .split(", ")
        .find(|p| p.ends_with("rel=\"next\""))
        .unwrap();
    let next_url = &next[1..next.find('>').unwrap()];
    let b = call(&sim, "GET", next_url, Some(BOT), None).await;
    assert_eq!(numbers(&b.body), [5, 7]);
    assert!(
        b.header("link").contains("rel=\"prev\"") && b.header("link").contains("rel=\"first\"")
    );
    assert!(
        !b.header("link").contains("rel=\"next\""),
        "page 2 of 2 is the last"
    );

    let a = call(
        &sim,
        "GET",
        "/repos/acme/storefront/issues",
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(
        numbers(&a.body),
        [7, 6, 5, 4, 3, 1],
        "open only, newest first by default"
    );
    let a = call(
        &sim,
        "GET",
        "/repos/acme/storefront/issues?state=closed",
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(numbers(&a.body), [2]);
    let a = call(
        &sim,
        "GET",
        "/repos/acme/storefront/issues?state=all&per_page=500",
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(
        a.body.as_array().unwrap().len(),
        7,
        "per_page is capped at 100, not refused"
    );
    let future = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let a = call(
        &sim,
        "GET",
        &format!("/repos/acme/storefront/issues?state=all&since={future}"),
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(numbers(&a.body), Vec::<u64>::new());
    let a = call(
        &sim,
        "GET",
        "/repos/acme/storefront/issues?state=bogus",
        Some(BOT),
        None,
    )
    .await;
    assert_eq!((a.status, a.message()), (422, "Validation Failed"));
    assert_eq!(
        a.body["errors"][0],
        json!({ "value": "bogus", "resource": "Issue", "field": "state", "code": "invalid" })
    );
}

#[tokio::test]
async fn labels_and_comments() {
    let sim = seeded().await;
    let n = new_issue(&sim, BOT, "storefront", "t", &["vulnbridge"]).await["number"]
        .as_u64()
        .unwrap();
    let base = format!("/repos/acme/storefront/issues/{n}");
    let a = call(
        &sim,
        "POST",
        &format!("{base}/labels"),
        Some(BOT),
        Some(json!({ "labels": ["Priority: P1", "vulnbridge"] })),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body.as_array().unwrap().len(), 2);
    let a = call(
        &sim,
        "POST",
        &format!("{base}/labels"),
        Some(BOT),
        Some(json!({ "labels": [] })),
    )
    .await;
    assert_eq!(a.status, 422);
    let a = call(
        &sim,
        "DELETE",
        &format!("{base}/labels/Priority%3A%20P1"),
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body.as_array().unwrap().len(), 1);
    let a = call(
        &sim,
        "DELETE",
        &format!("{base}/labels/absent"),
        Some(BOT),
        None,
    )
    .await;
    assert_eq!((a.status, a.message()), (404, "Label does not exist"));

    let a = call(
        &sim,
        "POST",
        &format!("{base}/comments"),
        Some(ALICE),
        Some(json!({ "body": "fixed in #12" })),
    )
    .await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body["user"]["login"], "dev-alice");
    let a = call(
        &sim,
        "POST",
        &format!("{base}/comments"),
        Some(ALICE),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (a.status, a.message()),
        (422, "Invalid request.\n\n\"body\" wasn't supplied.")
    );
    let a = call(&sim, "GET", &format!("{base}/comments"), Some(BOT), None).await;
    assert_eq!(a.body[0]["body"], "fixed in #12");
    assert_eq!(
        sim.issues("acme", "storefront")[0].comments,
        ["fixed in #12"]
    );
}

/// A small receiver recording what the simulator posts.
async fn receiver() -> (
    String,
    Arc<Mutex<Vec<(reqwest::header::HeaderMap, String)>>>,
) {
    let got: Arc<Mutex<Vec<(reqwest::header::HeaderMap, String)>>> = Arc::default();
    let store = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let mut h = reqwest::header::HeaderMap::new();
                for (k, v) in &headers {
                    h.insert(k.clone(), v.clone());
                }
                store.lock().unwrap().push((h, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn events_of(got: &Arc<Mutex<Vec<(reqwest::header::HeaderMap, String)>>>) -> Vec<(String, Value)> {
    got.lock()
        .unwrap()
        .iter()
        .map(|(h, b)| {
            (
                h["x-github-event"].to_str().unwrap().to_owned(),
                serde_json::from_str(b).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn hooks_need_admin_and_deliver_signed_events() {
    let sim = seeded().await;
    let (url, got) = receiver().await;
    let hook = json!({ "name": "web", "active": true, "events": ["issues", "issue_comment"], "config": { "url": url, "content_type": "json", "secret": "s3cret", "insecure_ssl": "0" } });
    let a = call(
        &sim,
        "POST",
        "/repos/acme/storefront/hooks",
        Some(ALICE),
        Some(hook.clone()),
    )
    .await;
    assert_eq!(a.status, 404, "a writer cannot see hooks");
    let a = call(
        &sim,
        "POST",
        "/repos/acme/storefront/hooks",
        Some(BOT),
        Some(hook.clone()),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["config"]["secret"], "********");
    assert_eq!(
        a.header("x-accepted-oauth-scopes"),
        "admin:repo_hook, repo, write:repo_hook"
    );
    let hook_id = a.body["id"].as_u64().unwrap();
    let a = call(
        &sim,
        "POST",
        "/repos/acme/storefront/hooks",
        Some(BOT),
        Some(hook.clone()),
    )
    .await;
    assert_eq!(a.status, 422);
    assert_eq!(
        a.body["errors"][0]["message"],
        "Hook already exists on this repository"
    );
    let bad = json!({ "config": { "url": url }, "events": ["projects_v2_item"] });
    let a = call(
        &sim,
        "POST",
        "/repos/acme/payments-api/hooks",
        Some(BOT),
        Some(bad),
    )
    .await;
    assert_eq!(
        a.status, 422,
        "project item events exist only on organization hooks"
    );

    sim.webhooks().wait_idle().await;
    let (h, body) = got.lock().unwrap()[0].clone();
    assert_eq!(h["x-github-event"], "ping");
    assert_eq!(h["x-github-hook-id"], hook_id.to_string().as_str());
    assert!(
        h["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("GitHub-Hookshot/")
    );
    assert_eq!(
        h["x-hub-signature-256"].to_str().unwrap(),
        sign("s3cret", &body)
    );
    assert!(h["x-hub-signature"].to_str().unwrap().starts_with("sha1="));
    assert_eq!(h["x-github-delivery"].to_str().unwrap().len(), 36);

    let n = new_issue(&sim, BOT, "storefront", "XSS", &["vulnbridge"]).await["number"]
        .as_u64()
        .unwrap();
    sim.close_issue_as("dev-alice", "acme", "storefront", n, "not_planned")
        .unwrap();
    sim.reopen_issue_as("dev-alice", "acme", "storefront", n)
        .unwrap();
    call(
        &sim,
        "POST",
        &format!("/repos/acme/storefront/issues/{n}/comments"),
        Some(ALICE),
        Some(json!({ "body": "hi" })),
    )
    .await;
    call(
        &sim,
        "PATCH",
        &format!("/repos/acme/storefront/issues/{n}"),
        Some(BOT),
        Some(json!({ "body": "new body" })),
    )
    .await;
    sim.delete_issue_as("vulnbridge-bot", "acme", "storefront", n)
        .unwrap();
    sim.webhooks().wait_idle().await;
    let ev = events_of(&got);
    let kinds: Vec<String> = ev
        .iter()
        .map(|(e, p)| format!("{e}/{}", p["action"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        kinds,
        [
            "ping/-",
            "issues/opened",
            "issues/labeled",
            "issues/closed",
            "issues/reopened",
            "issue_comment/created",
            "issues/edited",
            "issues/deleted"
        ]
    );
    let closed = &ev[3].1;
    assert_eq!(closed["issue"]["state_reason"], "not_planned");
    assert_eq!(closed["sender"]["login"], "dev-alice");
    assert_eq!(closed["repository"]["full_name"], "acme/storefront");
    assert_eq!(closed["organization"]["login"], "acme");
    assert_eq!(ev[2].1["label"]["name"], "vulnbridge");
    assert_eq!(ev[6].1["changes"]["body"]["from"], "b");
    for d in sim.webhooks().sent() {
        assert_eq!(d.status, Some(200));
    }

    let a = call(&sim, "PATCH", &format!("/repos/acme/storefront/hooks/{hook_id}"), Some(BOT), Some(json!({ "add_events": ["label"], "config": { "url": url, "content_type": "json", "secret": "s3cret" } }))).await;
    assert_eq!(
        a.body["events"],
        json!(["issues", "issue_comment", "label"])
    );
    let a = call(&sim, "GET", "/repos/acme/storefront/hooks", Some(BOT), None).await;
    assert_eq!(a.body.as_array().unwrap().len(), 1);
    let a = call(
        &sim,
        "DELETE",
        &format!("/repos/acme/storefront/hooks/{hook_id}"),
        Some(BOT),
        None,
    )
    .await;
    assert_eq!(a.status, 204);

    // Organization hooks: owners with `admin:org_hook` only.
    let org_hook = json!({ "name": "web", "events": ["projects_v2_item"], "config": { "url": url, "content_type": "json", "secret": "s3cret" } });
    let a = call(
        &sim,
        "POST",
        "/orgs/acme/hooks",
        Some(ALICE),
        Some(org_hook.clone()),
    )
    .await;
    assert_eq!(a.status, 404);
    sim.add_user("owner-no-scope", "ghp_owner", &["repo"]);
    sim.add_org_owner("acme", "owner-no-scope");
    let a = call(
        &sim,
        "POST",
        "/orgs/acme/hooks",
        Some("ghp_owner"),
        Some(org_hook.clone()),
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.header("x-accepted-oauth-scopes"), "admin:org_hook");
    let a = call(&sim, "POST", "/orgs/acme/hooks", Some(BOT), Some(org_hook)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["type"], "Organization");
}

#[tokio::test]
async fn primary_rate_limit_refuses_with_github_headers_then_resets() {
    let sim = seeded().await;
    sim.set_limits(Limits {
        primary_per_hour: 3,
        window_scale: 0.0005,
        ..Limits::default()
    });
    for left in ["2", "1", "0"] {
        let a = call(&sim, "GET", "/user", Some(BOT), None).await;
        assert_eq!((a.status, a.header("x-ratelimit-remaining")), (200, left));
    }
    let a = call(&sim, "GET", "/user", Some(BOT), None).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.header("x-ratelimit-remaining"), "0");
    assert!(
        a.message()
            .starts_with("API rate limit exceeded for user ID "),
        "{}",
        a.message()
    );
    // Other users have their own budget.
    assert_eq!(
        call(&sim, "GET", "/user", Some(ALICE), None).await.status,
        200
    );
    let reset: i64 = a.header("x-ratelimit-reset").parse().unwrap();
    let wait = (reset - chrono::Utc::now().timestamp()).max(0) as u64;
    assert!(wait <= 3, "an hour scaled by 0.0005 is 1.8 s");
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    assert_eq!(
        call(&sim, "GET", "/user", Some(BOT), None).await.status,
        200
    );
}

#[tokio::test]
async fn secondary_limits_count_content_creation_with_retry_after() {
    let sim = seeded().await;
    sim.set_limits(Limits {
        content_per_minute: 2,
        content_per_hour: 100,
        window_scale: 0.01,
        ..Limits::default()
    });
    new_issue(&sim, BOT, "storefront", "1", &[]).await;
    new_issue(&sim, BOT, "storefront", "2", &[]).await;
    // Reads are not content creation.
    assert_eq!(
        call(
            &sim,
            "GET",
            "/repos/acme/storefront/issues",
            Some(BOT),
            None
        )
        .await
        .status,
        200
    );
    let a = call(
        &sim,
        "POST",
        "/repos/acme/storefront/issues",
        Some(BOT),
        Some(json!({ "title": "3" })),
    )
    .await;
    assert_eq!(a.status, 403);
    assert!(
        a.message()
            .starts_with("You have exceeded a secondary rate limit"),
        "{}",
        a.message()
    );
    assert_eq!(a.header("retry-after"), "1");
    assert_ne!(
        a.header("x-ratelimit-remaining"),
        "0",
        "a secondary limit is not the primary one"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    new_issue(&sim, BOT, "storefront", "3", &[]).await;
    assert_eq!(sim.issues("acme", "storefront").len(), 3);
}

const PROJECT_QUERY: &str = r#"
query Project($org: String!, $number: Int!) {
  organization(login: $org) {
    projectV2(number: $number) {
      id title number
      priority: field(name: "Priority") { ...Select }
      missing: field(name: "Severity") { ...Select }
      fields(first: 20) { totalCount nodes { __typename ... on ProjectV2FieldCommon { id name dataType } ...Select } }
    }
  }
}
fragment Select on ProjectV2SingleSelectField { id name options { id name } }
"#;

#[tokio::test]
async fn graphql_reads_projects_with_fragments_aliases_and_variables() {
    let sim = seeded().await;
    let a = gql(
        &sim,
        BOT,
        PROJECT_QUERY,
        json!({ "org": "acme", "number": 1 }),
    )
    .await;
    assert_eq!(a.status, 200);
    assert!(a.body.get("errors").is_none(), "{}", a.body);
    let p = &a.body["data"]["organization"]["projectV2"];
    assert_eq!(p["title"], "Security");
    assert!(p["id"].as_str().unwrap().starts_with("PVT_"));
    let options: Vec<&str> = p["priority"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(options, ["P0", "P1", "P2", "P3", "P4"]);
    assert!(p["priority"]["id"].as_str().unwrap().starts_with("PVTSSF_"));
    assert_eq!(p["missing"], Value::Null);
    let status = p["fields"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Status")
        .unwrap();
    assert_eq!(status["__typename"], "ProjectV2SingleSelectField");
    assert_eq!(status["dataType"], "SINGLE_SELECT");
    let names: Vec<&str> = status["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Todo", "In Progress", "Done"]);
    let title = p["fields"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Title")
        .unwrap();
    assert_eq!(
        (title["__typename"].as_str(), title.get("options")),
        (Some("ProjectV2Field"), None)
    );
    assert_eq!(a.header("x-ratelimit-resource"), "graphql");

    let a = gql(
        &sim,
        BOT,
        "{ viewer { login } rateLimit { cost limit remaining } }",
        json!({}),
    )
    .await;
    assert_eq!(a.body["data"]["viewer"]["login"], "vulnbridge-bot");
    assert_eq!(a.body["data"]["rateLimit"]["cost"], 1);
    assert_eq!(a.body["data"]["rateLimit"]["limit"], 5000);
    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("POST /api/graphql organization"),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("POST /api/graphql viewer"),
        Some(&1),
        "{counts:?}"
    );
}

#[tokio::test]
async fn graphql_errors_are_shaped_as_github_shapes_them() {
    let sim = seeded().await;
    let a = gql(&sim, BOT, "{ viewer { login }", json!({})).await;
    assert_eq!(
        (a.status, a.body["errors"][0]["message"].as_str()),
        (200, Some("Unexpected end of document"))
    );
    let a = gql(&sim, BOT, "{ viewer { login } } }", json!({})).await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "Parse error on \"}\" (RCURLY) at [1, 22]"
    );
    assert_eq!(
        a.body["errors"][0]["locations"],
        json!([{ "line": 1, "column": 22 }])
    );
    assert!(a.body.get("data").is_none());

    let a = gql(&sim, BOT, "{ viewer { login nickname } }", json!({})).await;
    let e = &a.body["errors"][0];
    assert_eq!(
        e["message"],
        "Field 'nickname' doesn't exist on type 'User'"
    );
    assert_eq!(
        e["extensions"],
        json!({ "code": "undefinedField", "typeName": "User", "fieldName": "nickname" })
    );
    assert_eq!(e["path"], json!(["query", "viewer", "nickname"]));

    let a = gql(
        &sim,
        BOT,
        "{ organization(login: \"acme\") { projectV2(number: 9) { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a.body["data"],
        json!({ "organization": { "projectV2": null } })
    );
    assert_eq!(a.body["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(
        a.body["errors"][0]["message"],
        "Could not resolve to a ProjectV2 with the number 9."
    );
    assert_eq!(
        a.body["errors"][0]["path"],
        json!(["organization", "projectV2"])
    );
    let a = gql(
        &sim,
        BOT,
        "{ organization(login: \"nope\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "Could not resolve to an Organization with the login of 'nope'."
    );

    sim.add_user("repo-only", "ghp_repo_only", &["repo"]);
    sim.grant("repo-only", "acme", "storefront", "write");
    let a = gql(
        &sim,
        "ghp_repo_only",
        "{ organization(login: \"acme\") { projectV2(number: 1) { id } } }",
        json!({}),
    )
    .await;
    assert!(a.body.get("data").is_none());
    let e = &a.body["errors"][0];
    assert_eq!(e["type"], "INSUFFICIENT_SCOPES");
    assert!(e["message"].as_str().unwrap().starts_with("Your token has not been granted the required scopes to execute this query. The 'projectV2' field requires one of the following scopes: ['read:project'], but your token has only been granted the: ['repo'] scopes."));

    let a = gql(
        &sim,
        BOT,
        "query { organization(login: $org) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "Variable $org is used by anonymous query but not declared"
    );
    assert_eq!(
        a.body["errors"][0]["extensions"]["code"],
        "variableNotDefined"
    );
    let a = gql(
        &sim,
        BOT,
        "query Q($org: String!) { organization(login: $org) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "Variable $org of type String! was provided invalid value"
    );
    assert_eq!(
        a.body["errors"][0]["extensions"]["problems"][0]["explanation"],
        "Expected value to not be null"
    );
    let a = gql(
        &sim,
        BOT,
        "query Q($n: Int!) { viewer { login } }",
        json!({ "n": 1 }),
    )
    .await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "Variable $n is declared by Q but not used"
    );
    let a = gql(
        &sim,
        BOT,
        "{ organization(login: \"acme\") { projectV2(number: \"1\") { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "Argument 'number' on Field 'projectV2' has an invalid value (\"1\"). Expected type 'Int!'."
    );
    let a = gql(
        &sim,
        BOT,
        "{ organization(login: \"acme\") { projectV2 { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "Field 'projectV2' is missing required arguments: number"
    );
    let a = gql(
        &sim,
        BOT,
        "{ organization(login: \"acme\") { projectV2(number: 1) { fields { totalCount } } } }",
        json!({}),
    )
    .await;
    assert_eq!(a.body["errors"][0]["type"], "MISSING_PAGINATION_BOUNDARIES");
    let a = gql(&sim, BOT, "{ organization(login: \"acme\") { projectV2(number: 1) { items(first: 101) { totalCount } } } }", json!({})).await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "Requesting 101 records on the `items` connection exceeds the `first` limit of 100 records."
    );
    let a = gql(
        &sim,
        BOT,
        "{ organization(login: \"acme\") { ... on User { login } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a.body["errors"][0]["message"],
        "Fragment on User can't be spread inside Organization"
    );
}

async fn project_ids(sim: &GitHubSim) -> (String, String, Vec<(String, String)>, String) {
    let a = gql(
        sim,
        BOT,
        PROJECT_QUERY,
        json!({ "org": "acme", "number": 1 }),
    )
    .await;
    let p = &a.body["data"]["organization"]["projectV2"];
    let options = p["priority"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_owned(),
                o["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let status = p["fields"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Status")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (
        p["id"].as_str().unwrap().to_owned(),
        p["priority"]["id"].as_str().unwrap().to_owned(),
        options,
        status,
    )
}

#[tokio::test]
async fn project_items_are_idempotent_and_field_changes_reach_org_hooks() {
    let sim = seeded().await;
    let (url, got) = receiver().await;
    let org_hook = json!({ "name": "web", "events": ["projects_v2_item"], "config": { "url": url, "content_type": "json", "secret": "s" } });
    assert_eq!(
        call(&sim, "POST", "/orgs/acme/hooks", Some(BOT), Some(org_hook))
            .await
            .status,
        201
    );
    let (project, priority, options, status_field) = project_ids(&sim).await;
    let issue = new_issue(&sim, BOT, "storefront", "t", &[]).await;
    let node = issue["node_id"].as_str().unwrap().to_owned();
    let add = "mutation Add($p: ID!, $c: ID!) { addProjectV2ItemById(input: {projectId: $p, contentId: $c}) { item { id } } }";
    let first = gql(&sim, BOT, add, json!({ "p": project, "c": node })).await;
    let item = first.body["data"]["addProjectV2ItemById"]["item"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(item.starts_with("PVTI_"));
    let again = gql(&sim, BOT, add, json!({ "p": project, "c": node })).await;
    assert_eq!(
        again.body["data"]["addProjectV2ItemById"]["item"]["id"],
        item.as_str()
    );
    assert_eq!(sim.project_item_count("acme", 1), 1);

    let p2 = &options.iter().find(|(n, _)| n == "P2").unwrap().1;
    let set = format!(
        r#"mutation {{
  sev: updateProjectV2ItemFieldValue(input: {{projectId: "{project}", itemId: "{item}", fieldId: "{priority}", value: {{singleSelectOptionId: "{p2}"}}}}) {{ projectV2Item {{ id }} }}
  bad: updateProjectV2ItemFieldValue(input: {{projectId: "{project}", itemId: "{item}", fieldId: "{status_field}", value: {{singleSelectOptionId: "{p2}"}}}}) {{ projectV2Item {{ id }} }}
}}"#
    );
    let a = gql(&sim, BOT, &set, json!({})).await;
    assert_eq!(a.body["data"]["sev"]["projectV2Item"]["id"], item.as_str());
    assert_eq!(a.body["data"]["bad"], Value::Null);
    assert_eq!(
        a.body["errors"][0]["message"],
        "The single select option Id does not belong to the field"
    );
    assert_eq!(a.body["errors"][0]["path"], json!(["bad"]));
    assert_eq!(
        sim.project_field_value("acme", 1, &node, "Priority")
            .as_deref(),
        Some("P2")
    );
    sim.set_project_field_as("dev-alice", "acme", 1, &node, "Status", "Done")
        .unwrap();
    assert_eq!(
        sim.project_field_value("acme", 1, &node, "Status")
            .as_deref(),
        Some("Done")
    );
    assert!(
        sim.set_project_field_as("dev-alice", "acme", 1, &node, "Status", "Nope")
            .is_err()
    );

    let a = gql(&sim, ALICE, &format!("{{ node(id: \"{node}\") {{ ... on Issue {{ number projectItems(first: 5) {{ nodes {{ id project {{ number }} status: fieldValueByName(name: \"Status\") {{ ... on ProjectV2ItemFieldSingleSelectValue {{ name optionId }} }} }} }} }} }} }}"), json!({})).await;
    let items = &a.body["data"]["node"]["projectItems"]["nodes"];
    assert_eq!(items[0]["id"], item.as_str());
    assert_eq!(items[0]["status"]["name"], "Done");

    let clear = format!(
        r#"mutation {{ clearProjectV2ItemFieldValue(input: {{projectId: "{project}", itemId: "{item}", fieldId: "{priority}"}}) {{ projectV2Item {{ id }} }} }}"#
    );
    assert!(
        gql(&sim, BOT, &clear, json!({}))
            .await
            .body
            .get("errors")
            .is_none()
    );
    assert_eq!(sim.project_field_value("acme", 1, &node, "Priority"), None);

    sim.webhooks().wait_idle().await;
    let ev = events_of(&got);
    let kinds: Vec<String> = ev
        .iter()
        .map(|(e, p)| format!("{e}/{}", p["action"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        kinds,
        [
            "ping/-",
            "projects_v2_item/created",
            "projects_v2_item/edited",
            "projects_v2_item/edited",
            "projects_v2_item/edited"
        ]
    );
    let edited = &ev[3].1;
    assert_eq!(edited["sender"]["login"], "dev-alice");
    assert_eq!(edited["projects_v2_item"]["content_node_id"], node.as_str());
    assert_eq!(edited["projects_v2_item"]["content_type"], "Issue");
    let fv = &edited["changes"]["field_value"];
    assert_eq!(
        (fv["field_name"].as_str(), fv["field_type"].as_str()),
        (Some("Status"), Some("single_select"))
    );
    assert_eq!(fv["to"]["name"], "Done");
    assert_eq!(fv["from"], Value::Null);
    assert_eq!(
        ev[4].1["changes"]["field_value"]["to"],
        Value::Null,
        "a cleared value"
    );

    let counts = sim.requests().counts();
    assert_eq!(
        counts.get("POST /api/graphql addProjectV2ItemById"),
        Some(&2),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("POST /api/graphql updateProjectV2ItemFieldValue"),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("POST /api/v3/repos/{owner}/{repo}/issues"),
        Some(&1),
        "{counts:?}"
    );
}

#[tokio::test]
async fn graphql_points_and_content_creation_are_limited() {
    let sim = seeded().await;
    let (project, _, _, _) = project_ids(&sim).await;
    let node = new_issue(&sim, BOT, "storefront", "t", &[]).await["node_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let node2 = new_issue(&sim, BOT, "storefront", "u", &[]).await["node_id"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.set_limits(Limits {
        graphql_points_per_hour: 100,
        content_per_minute: 1,
        window_scale: 1.0,
        ..Limits::default()
    });
    let add = "mutation Add($p: ID!, $c: ID!) { addProjectV2ItemById(input: {projectId: $p, contentId: $c}) { item { id } } }";
    assert!(
        gql(&sim, BOT, add, json!({ "p": project, "c": node }))
            .await
            .body
            .get("errors")
            .is_none()
    );
    let a = gql(&sim, BOT, add, json!({ "p": project, "c": node2 })).await;
    assert_eq!(a.status, 403);
    assert!(a.message().contains("secondary rate limit"));
    assert!(!a.header("retry-after").is_empty());

    sim.set_limits(Limits {
        graphql_points_per_hour: 2,
        ..Limits::default()
    });
    assert_eq!(
        gql(&sim, BOT, "{ viewer { login } }", json!({}))
            .await
            .header("x-ratelimit-remaining"),
        "1"
    );
    assert_eq!(
        gql(&sim, BOT, "{ viewer { login } }", json!({}))
            .await
            .header("x-ratelimit-remaining"),
        "0"
    );
    let a = gql(&sim, BOT, "{ viewer { login } }", json!({})).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["errors"][0]["type"], "RATE_LIMITED");
    assert_eq!(a.header("x-ratelimit-remaining"), "0");
    // The REST budget is separate.
    assert_eq!(
        call(&sim, "GET", "/user", Some(BOT), None).await.status,
        200
    );
}

#[tokio::test]
async fn control_api_drives_the_simulator() {
    let sim = seeded().await;
    new_issue(&sim, BOT, "storefront", "t", &[]).await;
    let c = reqwest::Client::new();
    let base = sim.base_url();
    let r = c
        .post(format!("{base}/_sim/repos/acme/storefront/issues/1/close"))
        .json(&json!({ "as": "dev-alice", "state_reason": "not_planned" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let i = &sim.issues("acme", "storefront")[0];
    assert_eq!(
        (i.state.as_str(), i.state_reason.as_deref()),
        ("closed", Some("not_planned"))
    );
    let r = c
        .post(format!("{base}/_sim/repos/acme/storefront/issues/1/reopen"))
        .json(&json!({ "as": "nobody" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .post(format!("{base}/_sim/repos/acme/storefront/issues/1/reopen"))
        .json(&json!({ "as": "dev-alice" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let state: Value = c
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["repos"][1]["full_name"], "acme/storefront");
    assert_eq!(state["projects"][0]["title"], "Security");

    let fault = json!({ "method": "POST", "path_contains": "/issues", "status": 502, "body": { "message": "Server Error" }, "times": 1 });
    assert_eq!(
        c.post(format!("{base}/_sim/faults"))
            .json(&fault)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let a = call(
        &sim,
        "POST",
        "/repos/acme/storefront/issues",
        Some(BOT),
        Some(json!({ "title": "x" })),
    )
    .await;
    assert_eq!(a.status, 502);
    assert_eq!(
        call(
            &sim,
            "POST",
            "/repos/acme/storefront/issues",
            Some(BOT),
            Some(json!({ "title": "x" }))
        )
        .await
        .status,
        201
    );
    let counts: Value = c
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(counts["total"].as_u64().unwrap() >= 2);
    assert!(
        sim.summary()
            .contains("ghp_simulatorBotToken000000000000000000")
    );
    assert!(sim.summary().contains("project acme/1 \"Security\""));
}
