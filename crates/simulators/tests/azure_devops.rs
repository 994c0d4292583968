//! The Azure DevOps simulator over real HTTP: it refuses what Azure DevOps refuses (tokens,
//! scopes, `api-version`, media types, JSON Patch, rules per process, stale revisions), with the
//! service's status codes and error bodies; it runs WIQL, `workitemsbatch` and `$batch`; its
//! service hooks deliver the documented payloads with basic authentication and extra headers;
//! it delays, then blocks, with the rate-limit headers.

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post as route_post;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use simulators::azure_devops::{AzureDevOpsSim, BOT_PAT, DAVE_PAT, Limits, Process};
use std::time::Duration;
use tokio::sync::mpsc;

const PATCH: &str = "application/json-patch+json";
const JSON: &str = "application/json";

async fn seeded() -> AzureDevOpsSim {
    AzureDevOpsSim::start_seeded("127.0.0.1:0".parse().unwrap())
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
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), HTTP {}: {}", self.status, self.text))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

fn basic(pat: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{pat}"))
    )
}

/// A request to `{location}{path}` (path with its query), as an API client sends it.
async fn call(
    sim: &AzureDevOpsSim,
    method: Method,
    path: &str,
    pat: Option<&str>,
    content_type: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", sim.location()))
        .header("Accept", "application/json")
        .header("X-TFS-FedAuthRedirect", "Suppress");
    if let Some(p) = pat {
        req = req.header("Authorization", basic(p));
    }
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let r = req.send().await.unwrap();
    Answer {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn get(sim: &AzureDevOpsSim, path: &str, pat: &str) -> Answer {
    call(sim, Method::GET, path, Some(pat), None, None).await
}

async fn create(sim: &AzureDevOpsSim, project: &str, ty: &str, pat: &str, ops: Value) -> Answer {
    call(
        sim,
        Method::POST,
        &format!("/{project}/_apis/wit/workitems/${ty}?api-version=7.1"),
        Some(pat),
        Some(PATCH),
        Some(ops),
    )
    .await
}

async fn patch(sim: &AzureDevOpsSim, id: i64, pat: &str, ops: Value) -> Answer {
    call(
        sim,
        Method::PATCH,
        &format!("/_apis/wit/workitems/{id}?api-version=7.1"),
        Some(pat),
        Some(PATCH),
        Some(ops),
    )
    .await
}

fn title(t: &str) -> Value {
    json!([{"op": "add", "path": "/fields/System.Title", "value": t}])
}

async fn new_issue(sim: &AzureDevOpsSim, ops: Value) -> Value {
    let a = create(sim, "Platform", "Issue", BOT_PAT, ops).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.json()
}

#[tokio::test]
async fn tokens_are_refused_as_azure_devops_refuses_them() {
    let sim = seeded().await;
    let path = "/_apis/connectionData?api-version=7.1-preview.1";
    let a = call(&sim, Method::GET, path, None, None, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.text.is_empty());
    assert!(a.header("x-tfs-processid").is_some());
    let challenges: Vec<_> = a
        .headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        challenges.iter().any(|c| c.starts_with("Basic realm=")),
        "{challenges:?}"
    );
    assert!(
        challenges
            .iter()
            .any(|c| c.starts_with("Bearer authorization_uri="))
    );
    assert_eq!(
        call(&sim, Method::GET, path, Some("wrong-pat"), None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // A browser-like client that does not suppress the sign-in redirect gets the page, 203.
    let r = reqwest::Client::new()
        .get(format!("{}{path}", sim.location()))
        .header("Accept", "text/html,application/xhtml+xml")
        .header("Authorization", basic("wrong-pat"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NON_AUTHORITATIVE_INFORMATION);
    assert!(r.text().await.unwrap().contains("Sign In"));

    // The user name of the Basic header is ignored: the PAT is the password.
    let r = reqwest::Client::new()
        .get(format!("{}{path}", sim.location()))
        .basic_auth("anything", Some(DAVE_PAT))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let a = get(&sim, path, BOT_PAT).await;
    assert_eq!(a.status, StatusCode::OK);
    let me = a.json();
    assert_eq!(
        me["authenticatedUser"]["providerDisplayName"],
        "Vulnbridge Bot"
    );
    assert_eq!(
        me["authenticatedUser"]["properties"]["Account"]["$value"],
        "vulnbridge-bot@acme.example"
    );
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8; api-version=7.1-preview.1")
    );

    // connectionData is a preview resource: a released version is refused.
    let a = get(&sim, "/_apis/connectionData?api-version=7.1", BOT_PAT).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["typeKey"], "VssInvalidPreviewVersionException");

    // Another organization does not exist for these tokens.
    let r = reqwest::Client::new()
        .get(format!("{}/other/_apis/connectionData", sim.base_url()))
        .header("Authorization", basic(BOT_PAT))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    sim.revoke_pat(DAVE_PAT);
    assert_eq!(
        get(&sim, path, DAVE_PAT).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn scopes_are_enforced_with_their_inheritance() {
    let sim = seeded().await;
    sim.add_pat("reader", "pat-read", &["vso.work"]);
    sim.add_pat("projects", "pat-project", &["vso.project"]);
    let a = create(&sim, "Platform", "Issue", "pat-read", title("x")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let body = a.json();
    assert_eq!(body["typeKey"], "UnauthorizedRequestException");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("TF400813: The user '")
    );
    // vso.work reads; vso.work includes vso.hooks_write.
    assert_eq!(
        get(
            &sim,
            "/Platform/_apis/wit/workitemtypes/Issue?api-version=7.1",
            "pat-read"
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        get(
            &sim,
            "/_apis/hooks/subscriptions?api-version=7.1",
            "pat-read"
        )
        .await
        .status,
        StatusCode::OK
    );
    // vso.project reads projects but no work items and no hooks.
    assert_eq!(
        get(
            &sim,
            "/_apis/projects/Platform?api-version=7.1",
            "pat-project"
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        get(
            &sim,
            "/Platform/_apis/wit/workitemtypes/Issue?api-version=7.1",
            "pat-project"
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(
            &sim,
            "/_apis/hooks/subscriptions?api-version=7.1",
            "pat-project"
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    // The scope is checked before the resource: a missing project is not revealed.
    assert_eq!(
        create(&sim, "Nope", "Issue", "pat-read", title("x"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // dev-dave writes work items.
    assert_eq!(
        create(&sim, "Platform", "Issue", DAVE_PAT, title("by dave"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn api_versions_are_checked_like_the_service() {
    let sim = seeded().await;
    let a = call(
        &sim,
        Method::POST,
        "/Platform/_apis/wit/workitems/$Issue",
        Some(BOT_PAT),
        Some(PATCH),
        Some(title("x")),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.json(),
        json!({
            "$id": "1",
            "innerException": null,
            "message": "No api-version was supplied for the \"POST\" request. The version must be supplied either as part of the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter (e.g. \"?api-version=1.0\").",
            "typeName": "Microsoft.VisualStudio.Services.WebApi.VssVersionNotSpecifiedException, Microsoft.VisualStudio.Services.WebApi",
            "typeKey": "VssVersionNotSpecifiedException",
            "errorCode": 0,
            "eventId": 3000
        })
    );
    // A GET without a version is served at the latest released one, which the answer names.
    let a = get(&sim, "/_apis/projects/Platform", BOT_PAT).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8; api-version=7.1")
    );
    let a = get(&sim, "/_apis/projects/Platform?api-version=8.0", BOT_PAT).await;
    assert_eq!(
        a.message(),
        "The requested REST API version of 8.0 is out of range for this server. The latest REST API version this server supports is 7.2."
    );
    let a = get(&sim, "/_apis/projects/Platform?api-version=latest", BOT_PAT).await;
    assert_eq!(a.json()["typeKey"], "VssInvalidApiVersionException");
    // The version may come in the Accept header instead.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/Platform/_apis/wit/workitems/$Issue",
            sim.location()
        ))
        .header("Authorization", basic(BOT_PAT))
        .header("Accept", "application/json; api-version=7.1")
        .header("Content-Type", PATCH)
        .body(title("x").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Comments are a preview resource (7.1-preview.4).
    let id = new_issue(&sim, title("commented")).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/Platform/_apis/wit/workItems/{id}/comments?api-version=7.1");
    let a = call(
        &sim,
        Method::POST,
        &path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!({"text": "hi"})),
    )
    .await;
    assert_eq!(a.json()["typeKey"], "VssInvalidPreviewVersionException");
}

#[tokio::test]
async fn creates_follow_the_process_rules() {
    let sim = seeded().await;
    // The media type must be JSON Patch.
    let a = call(
        &sim,
        Method::POST,
        "/Platform/_apis/wit/workitems/$Issue?api-version=7.1",
        Some(BOT_PAT),
        Some(JSON),
        Some(title("x")),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        a.message(),
        "The request indicated a Content-Type of \"application/json\" for method type \"POST\" which is not supported. Valid content types for this method are: application/json-patch+json."
    );
    let a = create(&sim, "Nope", "Issue", BOT_PAT, title("x")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(
        a.message()
            .starts_with("TF200016: The following project does not exist: Nope.")
    );
    let a = create(&sim, "Platform", "Bug", BOT_PAT, title("x")).await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "the Basic process has no Bug"
    );
    assert!(
        a.message()
            .starts_with("VS402323: Work item type Bug does not exist")
    );
    let a = create(&sim, "Platform", "Issue", BOT_PAT, json!({"op": "add"})).await;
    assert_eq!(
        a.message(),
        "You must pass a valid patch document in the body of the request."
    );
    let a = create(
        &sim,
        "Platform",
        "Issue",
        BOT_PAT,
        json!([{"op": "add", "path": "/fields/Custom.Team", "value": "a"}]),
    )
    .await;
    assert_eq!(
        (a.status, a.message()),
        (
            StatusCode::BAD_REQUEST,
            "TF51535: Cannot find field Custom.Team.".to_owned()
        )
    );
    let a = create(
        &sim,
        "Platform",
        "Issue",
        BOT_PAT,
        json!([{"op": "add", "path": "/fields/System.Description", "value": "d"}]),
    )
    .await;
    assert_eq!(
        a.message(),
        "TF401320: Rule Error for field Title. Error code: Required, InvalidEmpty."
    );
    let a = create(
        &sim,
        "Platform",
        "Issue",
        BOT_PAT,
        json!([
            {"op": "add", "path": "/fields/System.Title", "value": "x"},
            {"op": "add", "path": "/fields/System.State", "value": "Active"},
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let e = a.json();
    assert_eq!(e["typeKey"], "RuleValidationException");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("TF401320: Rule Error for field State.")
    );
    assert_eq!(
        e["customProperties"]["RuleValidationErrors"][0]["fieldReferenceName"],
        "System.State"
    );
    let a = create(
        &sim,
        "Platform",
        "Issue",
        BOT_PAT,
        json!([
            {"op": "add", "path": "/fields/System.Title", "value": "x"},
            {"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": 5},
        ]),
    )
    .await;
    assert!(
        a.message()
            .starts_with("TF401320: Rule Error for field Priority.")
    );
    let a = create(
        &sim,
        "Platform",
        "Issue",
        BOT_PAT,
        json!([
            {"op": "add", "path": "/fields/System.Title", "value": "x"},
            {"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": "high"},
        ]),
    )
    .await;
    assert_eq!(
        a.message(),
        "TF401326: Invalid field status 'InvalidType' for field 'Microsoft.VSTS.Common.Priority'."
    );
    let a = create(&sim, "Platform", "Issue", BOT_PAT, title(&"x".repeat(256))).await;
    assert_eq!(
        a.message(),
        "TF401324: Value for field 'System.Title' is too long."
    );
    let a = create(
        &sim,
        "Platform",
        "Issue",
        BOT_PAT,
        json!([
            {"op": "add", "path": "/fields/System.Title", "value": "x"},
            {"op": "add", "path": "/fields/System.AreaPath", "value": "Platform\\Mobile"},
        ]),
    )
    .await;
    assert_eq!(
        a.message(),
        "TF401347: Invalid tree name given for work item -1, field 'System.AreaPath'."
    );
    assert!(
        sim.work_items("Platform").is_empty(),
        "nothing was half-created"
    );

    // A valid one: defaults, the caller as creator, dates.
    let w = new_issue(&sim, json!([
        {"op": "add", "path": "/fields/System.Title", "value": "SQL injection"},
        {"op": "add", "path": "/fields/System.Description", "value": "<p>found</p>"},
        {"op": "add", "path": "/fields/System.Tags", "value": "vulnbridge; security"},
        {"op": "add", "path": "/fields/System.AreaPath", "value": "Platform\\Web"},
        {"op": "add", "path": "/fields/Microsoft.VSTS.Scheduling.DueDate", "value": "2026-03-01"},
        {"op": "add", "path": "/fields/System.State", "value": "Doing"},
    ]))
    .await;
    assert_eq!(w["rev"], 1);
    assert_eq!(w["fields"]["System.State"], "Doing");
    assert_eq!(w["fields"]["System.Reason"], "New");
    assert_eq!(w["fields"]["System.Tags"], "security; vulnbridge");
    assert_eq!(w["fields"]["Microsoft.VSTS.Common.Priority"], 2);
    assert_eq!(
        w["fields"]["Microsoft.VSTS.Scheduling.DueDate"],
        "2026-03-01T00:00:00Z"
    );
    assert_eq!(
        w["fields"]["System.CreatedBy"]["uniqueName"],
        "vulnbridge-bot@acme.example"
    );
    let id = w["id"].as_i64().unwrap();
    assert!(
        w["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/_apis/wit/workItems/{id}"))
    );
    assert!(
        w["_links"]["html"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/Platform/_workitems/edit/{id}"))
    );

    // Each process has its own states: Agile's Bug has Resolved, Basic's Issue does not.
    let a = create(
        &sim,
        "Payments",
        "Bug",
        BOT_PAT,
        json!([
            {"op": "add", "path": "/fields/System.Title", "value": "x"},
            {"op": "add", "path": "/fields/System.State", "value": "Resolved"},
            {"op": "add", "path": "/fields/Microsoft.VSTS.TCM.ReproSteps", "value": "<p>steps</p>"},
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["fields"]["System.State"], "Resolved");
    let states = get(
        &sim,
        "/Payments/_apis/wit/workitemtypes/Bug/states?api-version=7.1",
        BOT_PAT,
    )
    .await
    .json();
    assert_eq!(
        states["value"],
        json!([
            {"name": "New", "color": "b2b2b2", "category": "Proposed"},
            {"name": "Active", "color": "007acc", "category": "InProgress"},
            {"name": "Resolved", "color": "ff9d00", "category": "Resolved"},
            {"name": "Closed", "color": "339933", "category": "Completed"},
        ])
    );
    sim.add_project("Ledger", Process::Scrum);
    let t = get(
        &sim,
        "/Ledger/_apis/wit/workitemtypes/Product%20Backlog%20Item?api-version=7.1",
        BOT_PAT,
    )
    .await
    .json();
    assert_eq!(t["states"].as_array().unwrap().len(), 5);
    // validateOnly checks without saving.
    let before = sim.work_items("Platform").len();
    let a = call(
        &sim,
        Method::POST,
        "/Platform/_apis/wit/workitems/$Issue?api-version=7.1&validateOnly=true",
        Some(BOT_PAT),
        Some(PATCH),
        Some(title("dry")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(sim.work_items("Platform").len(), before);
}

#[tokio::test]
async fn updates_honour_test_on_rev_and_merge_tags_with_add() {
    let sim = seeded().await;
    let id = new_issue(
        &sim,
        json!([
            {"op": "add", "path": "/fields/System.Title", "value": "t"},
            {"op": "add", "path": "/fields/System.Tags", "value": "Tag0"},
        ]),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let a = patch(&sim, id, BOT_PAT, json!([{"op": "test", "path": "/rev", "value": 7}, {"op": "add", "path": "/fields/System.Title", "value": "u"}])).await;
    assert_eq!(a.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(a.json()["typeKey"], "TestPatchOperationFailedException");
    assert_eq!(
        a.message(),
        "VS403351: Test Operation for path /rev failed, value 1 was not equal to test value 7."
    );
    assert_eq!(sim.work_item(id).unwrap().title, "t", "nothing applied");
    // The API's own example: add "Tag1; Tag2" to a work item tagged "Tag0".
    let a = patch(&sim, id, BOT_PAT, json!([{"op": "test", "path": "/rev", "value": 1}, {"op": "add", "path": "/fields/System.Tags", "value": "Tag1; Tag2"}])).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["rev"], 2);
    assert_eq!(a.json()["fields"]["System.Tags"], "Tag0; Tag1; Tag2");
    let a = patch(
        &sim,
        id,
        BOT_PAT,
        json!([{"op": "replace", "path": "/fields/System.Tags", "value": "Tag1"}]),
    )
    .await;
    assert_eq!(a.json()["fields"]["System.Tags"], "Tag1");
    // A state change sets its reason; removing a field clears it; the project in the path filters.
    let a = patch(
        &sim,
        id,
        BOT_PAT,
        json!([
            {"op": "add", "path": "/fields/System.State", "value": "Done"},
            {"op": "remove", "path": "/fields/System.Tags"},
        ]),
    )
    .await;
    let w = a.json();
    assert_eq!(
        (
            w["fields"]["System.State"].clone(),
            w["fields"]["System.Reason"].clone()
        ),
        (json!("Done"), json!("Moved to state Done"))
    );
    assert!(w["fields"].get("System.Tags").is_none());
    let a = call(
        &sim,
        Method::PATCH,
        &format!("/Payments/_apis/wit/workitems/{id}?api-version=7.1"),
        Some(BOT_PAT),
        Some(PATCH),
        Some(title("x")),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(
        a.message()
            .starts_with(&format!("TF401232: Work item {id} does not exist"))
    );
    let a = patch(&sim, id, BOT_PAT, json!([{"op": "move", "from": "/fields/System.Title", "path": "/fields/System.Description"}])).await;
    assert_eq!(
        a.message(),
        "VS403356: move operation is not supported for work items"
    );
    let a = patch(
        &sim,
        id,
        BOT_PAT,
        json!([{"op": "add", "path": "/fields/System.Rev", "value": 9}]),
    )
    .await;
    assert_eq!(
        a.message(),
        "TF401326: Invalid field status 'ReadOnly' for field 'System.Rev'."
    );
    // Reads: fields, expand, both ends of a link.
    let other = new_issue(&sim, title("other")).await["id"]
        .as_i64()
        .unwrap();
    let link = format!("{}/_apis/wit/workItems/{other}", sim.location());
    let a = patch(&sim, id, BOT_PAT, json!([{"op": "add", "path": "/relations/-", "value": {"rel": "System.LinkTypes.Related", "url": link}}])).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let r = get(
        &sim,
        &format!(
            "/Platform/_apis/wit/workitems/{id}?fields=System.Title,System.Rev&api-version=7.1"
        ),
        BOT_PAT,
    )
    .await
    .json();
    assert_eq!(r["fields"], json!({"System.Title": "t", "System.Rev": 5}));
    assert!(r.get("_links").is_none());
    let r = get(
        &sim,
        &format!("/_apis/wit/workitems/{other}?$expand=relations&api-version=7.1"),
        BOT_PAT,
    )
    .await
    .json();
    assert_eq!(
        r["relations"][0]["rel"], "System.LinkTypes.Related",
        "the other end is linked too"
    );
    let a = get(
        &sim,
        &format!("/_apis/wit/workitems/{id}?fields=Custom.X&api-version=7.1"),
        BOT_PAT,
    )
    .await;
    assert_eq!(a.message(), "TF51535: Cannot find field Custom.X.");
}

#[tokio::test]
async fn deletes_go_to_the_recycle_bin_and_comments_are_revisions() {
    let sim = seeded().await;
    let id = new_issue(&sim, title("t")).await["id"].as_i64().unwrap();
    let path = format!("/Platform/_apis/wit/workItems/{id}/comments?api-version=7.1-preview.4");
    let a = call(
        &sim,
        Method::POST,
        &path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!({"text": "Closed by vulnbridge."})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let c = a.json();
    assert_eq!(
        (
            c["workItemId"].clone(),
            c["text"].clone(),
            c["version"].clone()
        ),
        (json!(id), json!("Closed by vulnbridge."), json!(1))
    );
    assert_eq!(c["createdBy"]["uniqueName"], "vulnbridge-bot@acme.example");
    let w = sim.work_item(id).unwrap();
    assert_eq!(
        (w.rev, w.comments.clone()),
        (2, vec!["Closed by vulnbridge.".to_owned()])
    );
    assert_eq!(w.fields["System.CommentCount"], 1);
    let list = get(&sim, &path, BOT_PAT).await.json();
    assert_eq!(list["totalCount"], 1);
    let a = call(
        &sim,
        Method::POST,
        &path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!({"text": ""})),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    let a = call(
        &sim,
        Method::DELETE,
        &format!("/Platform/_apis/wit/workitems/{id}?api-version=7.1"),
        Some(BOT_PAT),
        None,
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        (a.json()["id"].clone(), a.json()["code"].clone()),
        (json!(id), json!(200))
    );
    assert!(sim.in_recycle_bin(id));
    assert_eq!(
        get(
            &sim,
            &format!("/_apis/wit/workitems/{id}?api-version=7.1"),
            BOT_PAT
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let a = call(
        &sim,
        Method::DELETE,
        &format!("/_apis/wit/workitems/{id}?api-version=7.1"),
        Some(BOT_PAT),
        None,
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wiql_finds_tagged_work_items_with_the_services_rules() {
    let sim = seeded().await;
    let tagged = new_issue(&sim, json!([
        {"op": "add", "path": "/fields/System.Title", "value": "a"},
        {"op": "add", "path": "/fields/System.Tags", "value": "vulnbridge; vulnbridge:k1:m3:f17"},
    ]))
    .await["id"]
        .as_i64()
        .unwrap();
    new_issue(
        &sim,
        json!([
            {"op": "add", "path": "/fields/System.Title", "value": "b"},
            {"op": "add", "path": "/fields/System.Tags", "value": "vulnbridge:k1:m3:f170"},
        ]),
    )
    .await;
    let wiql = |q: String| json!({ "query": q });
    let q = "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS 'vulnbridge:k1:m3:f17'";
    let a = call(
        &sim,
        Method::POST,
        "/Platform/_apis/wit/wiql?api-version=7.1",
        Some(BOT_PAT),
        Some(JSON),
        Some(wiql(q.into())),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let r = a.json();
    assert_eq!(r["queryType"], "flat");
    assert_eq!(
        r["workItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [tagged],
        "a whole tag, not a prefix"
    );
    assert_eq!(r["columns"][0]["referenceName"], "System.Id");
    // In another project the same query finds nothing.
    let a = call(
        &sim,
        Method::POST,
        "/Payments/_apis/wit/wiql?api-version=7.1",
        Some(BOT_PAT),
        Some(JSON),
        Some(wiql(q.into())),
    )
    .await;
    assert!(a.json()["workItems"].as_array().unwrap().is_empty());
    // @project needs the project's endpoint.
    let a = call(
        &sim,
        Method::POST,
        "/_apis/wit/wiql?api-version=7.1",
        Some(BOT_PAT),
        Some(JSON),
        Some(wiql(q.into())),
    )
    .await;
    assert_eq!((a.status, a.message()), (StatusCode::BAD_REQUEST, "Queries with an @project clause can only be executed on the project specific WIQL endpoint.".to_owned()));
    // A time needs timePrecision.
    let since = format!("{q} AND [System.ChangedDate] >= '2020-01-01T10:00:00Z'");
    let a = call(
        &sim,
        Method::POST,
        "/Platform/_apis/wit/wiql?api-version=7.1",
        Some(BOT_PAT),
        Some(JSON),
        Some(wiql(since.clone())),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.message().starts_with(
        "You cannot supply a time with the date when running a query using date precision."
    ));
    let a = call(
        &sim,
        Method::POST,
        "/Platform/_apis/wit/wiql?timePrecision=true&api-version=7.1",
        Some(BOT_PAT),
        Some(JSON),
        Some(wiql(since)),
    )
    .await;
    assert_eq!(a.json()["workItems"][0]["id"], tagged);
    let later = format!("{q} AND [System.ChangedDate] >= '2999-01-01'");
    let a = call(
        &sim,
        Method::POST,
        "/Platform/_apis/wit/wiql?api-version=7.1",
        Some(BOT_PAT),
        Some(JSON),
        Some(wiql(later)),
    )
    .await;
    assert!(a.json()["workItems"].as_array().unwrap().is_empty());
    let a = call(
        &sim,
        Method::POST,
        "/Platform/_apis/wit/wiql?api-version=7.1",
        Some(BOT_PAT),
        Some(JSON),
        Some(wiql(
            "SELECT [System.Id] FROM WorkItems WHERE [Custom.Nope] = 1".into(),
        )),
    )
    .await;
    assert_eq!(
        a.message(),
        "TF51005: The query references a field that does not exist. The error is caused by «Custom.Nope»."
    );
    let a = call(
        &sim,
        Method::POST,
        "/Platform/_apis/wit/wiql?api-version=7.1",
        Some(BOT_PAT),
        Some(JSON),
        Some(json!({})),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn workitemsbatch_reads_up_to_200_ids() {
    let sim = seeded().await;
    let a = new_issue(&sim, title("a")).await["id"].as_i64().unwrap();
    let b = new_issue(&sim, title("b")).await["id"].as_i64().unwrap();
    let path = "/Platform/_apis/wit/workitemsbatch?api-version=7.1";
    let r = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!({"ids": [b, a], "fields": ["System.Id", "System.Title", "System.Tags"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["count"], 2);
    assert_eq!(
        v["value"][0]["fields"],
        json!({"System.Id": b, "System.Title": "b"}),
        "only asked-for fields that have values"
    );
    let r = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!({"ids": [a, 999]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!({"ids": [a, 999], "errorPolicy": "omit"})),
    )
    .await;
    assert_eq!(r.json()["value"][1], Value::Null);
    let many: Vec<i64> = (1..=201).collect();
    let r = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!({"ids": many})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!({"ids": []})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

fn create_request(project: &str, ty: &str, ops: Value) -> Value {
    json!({
        "method": "PATCH",
        "uri": format!("/{project}/_apis/wit/workitems/${ty}?api-version=7.1"),
        "headers": {"Content-Type": PATCH},
        "body": ops,
    })
}

#[tokio::test]
async fn batch_runs_each_request_on_its_own() {
    let sim = seeded().await;
    let path = "/_apis/wit/$batch?api-version=7.1";
    let requests = json!([
        create_request("Platform", "Issue", json!([{"op": "add", "path": "/fields/System.Title", "value": "one"}, {"op": "add", "path": "/id", "value": -1}])),
        create_request("Platform", "Issue", json!([{"op": "add", "path": "/fields/System.Title", "value": "bad"}, {"op": "add", "path": "/fields/System.State", "value": "Closed"}])),
        create_request("Platform", "Issue", json!([
            {"op": "add", "path": "/fields/System.Title", "value": "three"},
            {"op": "add", "path": "/relations/-", "value": {"rel": "System.LinkTypes.Hierarchy-Reverse", "url": format!("{}/_apis/wit/workItems/-1", sim.location())}},
        ])),
        {"method": "POST", "uri": "/Platform/_apis/wit/workitems/$Issue?api-version=7.1", "headers": {"Content-Type": PATCH}, "body": title("posted")},
        create_request("Platform", "Issue", title("four")),
    ]);
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(requests),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let v = a.json();
    assert_eq!(v["count"], 5);
    let codes: Vec<u64> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [200, 400, 200, 404, 200]);
    let body = |i: usize| -> Value {
        serde_json::from_str(v["value"][i]["body"].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        v["value"][0]["headers"]["Content-Type"],
        "application/json; charset=utf-8"
    );
    let first = body(0)["id"].as_i64().unwrap();
    assert_eq!(body(1)["typeKey"], "RuleValidationException");
    assert_eq!(body(3)["message"], "Unsupported Batch operation.");
    let third = body(2);
    assert!(
        third["relations"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/workItems/{first}")),
        "the temporary id resolved: {third}"
    );
    let titles: Vec<String> = sim
        .work_items("Platform")
        .into_iter()
        .map(|w| w.title)
        .collect();
    assert_eq!(
        titles,
        ["one", "three", "four"],
        "not transactional: the failing request alone failed"
    );

    // Updates are org-level; one work item once per batch.
    let update = |ops: Value| json!({"method": "PATCH", "uri": format!("/_apis/wit/workitems/{first}?api-version=7.1"), "headers": {"Content-Type": PATCH}, "body": ops});
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!([update(title("x")), update(title("y"))])),
    )
    .await;
    let v = a.json();
    assert_eq!(v["value"][0]["code"], 200);
    assert_eq!(v["value"][1]["code"], 400);
    assert!(v["value"][1]["body"].as_str().unwrap().contains("VS403357"));
    // Limits and shape.
    let many: Vec<Value> = (0..201)
        .map(|i| create_request("Platform", "Issue", title(&format!("n{i}"))))
        .collect();
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(Value::Array(many)),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!([])),
    )
    .await;
    assert_eq!(
        (a.status, a.message()),
        (
            StatusCode::BAD_REQUEST,
            "Batch requires at least one operation.".to_owned()
        )
    );
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(json!([{"method": "PATCH"}])),
    )
    .await;
    assert_eq!(a.message(), "The Uri field is required.");
    sim.add_pat("reader", "pat-read", &["vso.work"]);
    let a = call(
        &sim,
        Method::POST,
        path,
        Some("pat-read"),
        Some(JSON),
        Some(json!([create_request("Platform", "Issue", title("r"))])),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
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
async fn service_hooks_deliver_work_item_events_with_basic_auth_and_headers() {
    let sim = seeded().await;
    let (url, mut rx) = receiver().await;
    let project_id = get(&sim, "/_apis/projects/Platform?api-version=7.1", BOT_PAT)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = "/_apis/hooks/subscriptions?api-version=7.1";
    let subscription = |event: &str, consumer: Value| {
        json!({
            "publisherId": "tfs",
            "eventType": event,
            "resourceVersion": "1.0",
            "consumerId": "webHooks",
            "consumerActionId": "httpRequest",
            "publisherInputs": {"projectId": project_id},
            "consumerInputs": consumer,
        })
    };
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(subscription(
            "workitem.updated",
            json!({"basicAuthUsername": "vulnbridge"}),
        )),
    )
    .await;
    assert_eq!(
        (a.status, a.message()),
        (
            StatusCode::BAD_REQUEST,
            "No value was supplied for consumer input \"url\" (URL) which is a required input for consumer \"webHooks\" action \"httpRequest\"".to_owned()
        )
    );
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(subscription(
            "workitem.updated",
            json!({"url": url, "secret": "x"}),
        )),
    )
    .await;
    assert_eq!(
        a.message(),
        "Unknown subscription input \"secret\" for consumer \"webHooks\" and action \"httpRequest\""
    );
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(subscription(
            "workitem.updated",
            json!({"url": url, "resourceDetailsToSend": "all"}),
        )),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "'all' is not one of the possible values (the default is empty)"
    );
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(subscription("build.complete", json!({"url": url}))),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let mut by_name = subscription("workitem.updated", json!({"url": url}));
    by_name["publisherInputs"] = json!({"projectId": "Platform"});
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(by_name),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "projectId is the project's id"
    );
    let mut no_project = subscription("workitem.updated", json!({"url": url}));
    no_project["publisherInputs"] = json!({});
    let a = call(
        &sim,
        Method::POST,
        path,
        Some(BOT_PAT),
        Some(JSON),
        Some(no_project),
    )
    .await;
    assert_eq!(a.message(), "A project id or subscriber id is required.");
    sim.add_pat("projects", "pat-project", &["vso.project"]);
    let a = call(
        &sim,
        Method::POST,
        path,
        Some("pat-project"),
        Some(JSON),
        Some(subscription("workitem.updated", json!({"url": url}))),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::UNAUTHORIZED,
        "service hooks need vso.hooks_write"
    );

    let consumer = json!({"url": url, "basicAuthUsername": "vulnbridge", "basicAuthPassword": "s3cret", "httpHeaders": "X-Vulnbridge-Secret:s3cret"});
    let mut ids = Vec::new();
    for event in ["workitem.updated", "workitem.commented", "workitem.deleted"] {
        let a = call(
            &sim,
            Method::POST,
            path,
            Some(BOT_PAT),
            Some(JSON),
            Some(subscription(event, consumer.clone())),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let sub = a.json();
        assert_eq!(
            sub["consumerInputs"]["basicAuthPassword"], "********",
            "confidential inputs are masked"
        );
        assert_eq!(sub["publisherInputs"]["projectId"], project_id);
        ids.push(sub["id"].as_str().unwrap().to_owned());
    }
    let listed = get(
        &sim,
        "/_apis/hooks/subscriptions?eventType=workitem.updated&api-version=7.1",
        BOT_PAT,
    )
    .await
    .json();
    assert_eq!(listed["count"], 1);

    let id = new_issue(&sim, title("leak")).await["id"].as_i64().unwrap();
    sim.set_state_as("dev-dave", id, "Done").unwrap();
    let (headers, body) = next_delivery(&mut rx).await;
    assert_eq!(
        h(&headers, "authorization"),
        basic_user("vulnbridge", "s3cret")
    );
    assert_eq!(h(&headers, "x-vulnbridge-secret"), "s3cret");
    assert_eq!(
        h(&headers, "content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(body["eventType"], "workitem.updated");
    assert_eq!(body["publisherId"], "tfs");
    assert_eq!(body["subscriptionId"], ids[0]);
    assert_eq!(body["notificationId"], 1);
    assert_eq!(body["resourceVersion"], "1.0");
    let r = &body["resource"];
    assert_eq!(r["workItemId"], id);
    assert_eq!(r["rev"], 2);
    assert_eq!(
        r["fields"]["System.State"],
        json!({"oldValue": "To Do", "newValue": "Done"})
    );
    assert_eq!(r["revisedBy"]["uniqueName"], "dev-dave@acme.example");
    assert_eq!(r["revisedBy"]["name"], "Dev Dave <dev-dave@acme.example>");
    assert_eq!(
        r["revision"]["fields"]["System.ChangedBy"],
        "Dev Dave <dev-dave@acme.example>"
    );
    assert_eq!(body["resourceContainers"]["project"]["id"], project_id);
    assert!(
        body["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "Issue #{id} (leak) transitioned to Done by Dev Dave."
            ))
    );

    sim.comment_as("dev-dave", id, "fixed in #12").unwrap();
    let (_, updated) = next_delivery(&mut rx).await;
    assert_eq!(
        updated["eventType"], "workitem.updated",
        "a comment is a revision"
    );
    assert_eq!(updated["notificationId"], 2);
    let (_, commented) = next_delivery(&mut rx).await;
    assert_eq!(commented["eventType"], "workitem.commented");
    assert_eq!(commented["resource"]["id"], id);
    assert_eq!(
        commented["resource"]["fields"]["System.History"],
        "fixed in #12"
    );
    assert_eq!(
        commented["resource"]["fields"]["System.ChangedBy"],
        "Dev Dave <dev-dave@acme.example>"
    );

    sim.delete_as("dev-dave", id).unwrap();
    let (_, deleted) = next_delivery(&mut rx).await;
    assert_eq!(deleted["eventType"], "workitem.deleted");
    assert_eq!(deleted["resource"]["id"], id);
    assert!(
        deleted["resource"]["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/_apis/wit/recyclebin/{id}"))
    );

    // Replacing with the masked password keeps it; deleting stops deliveries.
    let item = format!("/_apis/hooks/subscriptions/{}?api-version=7.1", ids[0]);
    let mut replaced = subscription("workitem.updated", consumer.clone());
    replaced["consumerInputs"]["basicAuthPassword"] = json!("********");
    replaced["consumerInputs"]["httpHeaders"] = json!("X-Vulnbridge-Secret:s3cret\nX-Extra:1");
    let a = call(
        &sim,
        Method::PUT,
        &item,
        Some(BOT_PAT),
        Some(JSON),
        Some(replaced),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let id2 = new_issue(&sim, title("second")).await["id"]
        .as_i64()
        .unwrap();
    sim.set_state_as("dev-dave", id2, "Doing").unwrap();
    let (headers, _) = next_delivery(&mut rx).await;
    assert_eq!(
        h(&headers, "authorization"),
        basic_user("vulnbridge", "s3cret")
    );
    assert_eq!(h(&headers, "x-extra"), "1");
    let a = call(&sim, Method::DELETE, &item, Some(BOT_PAT), None, None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = get(&sim, &item, BOT_PAT).await;
    assert_eq!(
        (a.status, a.message()),
        (
            StatusCode::NOT_FOUND,
            format!("The subscription with identifier '{}' was missing.", ids[0])
        )
    );
    sim.set_state_as("dev-dave", id2, "Done").unwrap();
    sim.webhooks().wait_idle().await;
    assert!(
        rx.try_recv().is_err(),
        "no delivery after the subscription is gone"
    );
}

fn basic_user(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn usage_is_delayed_then_blocked_with_the_rate_limit_headers() {
    let sim = seeded().await;
    sim.set_limits(Limits {
        tstu_limit: 4,
        tstu_per_request: 1,
        delayed_requests: 1,
        delay_ms: 50,
        window_secs: 300,
        window_scale: 1.0,
    });
    let path = "/_apis/projects/Platform?api-version=7.1";
    let first = get(&sim, path, BOT_PAT).await;
    assert!(
        first.header("x-ratelimit-limit").is_none(),
        "no headers while usage is low"
    );
    get(&sim, path, BOT_PAT).await;
    let third = get(&sim, path, BOT_PAT).await;
    assert_eq!(third.header("x-ratelimit-limit"), Some("4"));
    assert_eq!(third.header("x-ratelimit-remaining"), Some("1"));
    assert!(
        third
            .header("x-ratelimit-reset")
            .is_some_and(|r| r.parse::<u64>().is_ok())
    );
    assert_eq!(third.header("x-ratelimit-resource"), Some("Core"));
    get(&sim, path, BOT_PAT).await;
    let started = std::time::Instant::now();
    let delayed = get(&sim, path, BOT_PAT).await;
    assert_eq!(delayed.status, StatusCode::OK);
    assert_eq!(delayed.header("x-ratelimit-delay"), Some("0.050"));
    assert!(delayed.header("retry-after").is_some());
    assert!(started.elapsed() >= Duration::from_millis(50));
    let blocked = get(&sim, path, BOT_PAT).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        blocked
            .header("retry-after")
            .is_some_and(|r| r.parse::<u64>().unwrap() >= 1)
    );
    assert_eq!(blocked.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(
        blocked.message(),
        "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'."
    );
    // Another user is not affected; the window passes.
    assert_eq!(get(&sim, path, DAVE_PAT).await.status, StatusCode::OK);
    sim.set_limits(Limits {
        tstu_limit: 1,
        delayed_requests: 0,
        window_scale: 0.002,
        ..Limits::default()
    });
    assert_eq!(get(&sim, path, BOT_PAT).await.status, StatusCode::OK);
    assert_eq!(
        get(&sim, path, BOT_PAT).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(get(&sim, path, BOT_PAT).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_control_api_seeds_and_acts() {
    let sim = AzureDevOpsSim::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let base = sim.base_url();
    let r = client
        .post(format!("{base}/_sim/projects"))
        .json(&json!({"name": "Core", "process": "CMMI"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = client
        .post(format!("{base}/_sim/projects"))
        .json(&json!({"name": "X", "process": "Waterfall"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = client
        .post(format!("{base}/_sim/pats"))
        .json(&json!({"user": "ops", "pat": "pat-ops", "scopes": ["vso.work_write"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a = create(&sim, "Core", "Requirement", "pat-ops", title("req")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["fields"]["System.State"], "Proposed");
    let id = a.json()["id"].as_i64().unwrap();
    let r = client
        .post(format!("{base}/_sim/workitems/{id}/state"))
        .json(&json!({"as": "ops", "state": "Nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = client
        .post(format!("{base}/_sim/workitems/{id}/state"))
        .json(&json!({"as": "ops", "state": "Active"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sim.work_item(id).unwrap().state, "Active");
    let counts: Value = client
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        counts["counts"]["POST /{org}/{project}/_apis/wit/workitems/{segment}"],
        1
    );
    let state: Value = client
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["limits"]["tstu_limit"], 200);
    assert!(sim.summary().contains("pat-ops"));
}
