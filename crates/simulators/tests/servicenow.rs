//! The ServiceNow simulator over real HTTP: OAuth grants and refusals, the Table API's
//! queries, pagination, choices, data policies and ACLs, the Batch API, rate limit rules and
//! the business rule's deliveries, with ServiceNow's status codes, headers and bodies.

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post as route_post;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use simulators::servicenow::{
    ADMIN_PASSWORD, ADMIN_USER, AGENT_PASSWORD, AGENT_USER, BOT_PASSWORD, BOT_REFRESH_TOKEN,
    BOT_USER, CLIENT_ID, CLIENT_SECRET, Limits, RateLimitRule, ServiceNowSim,
};
use std::time::Duration;
use tokio::sync::mpsc;

async fn seeded() -> ServiceNowSim {
    ServiceNowSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

const BOT: Auth<'static> = Auth::Basic(BOT_USER, BOT_PASSWORD);
const ERIN: Auth<'static> = Auth::Basic(AGENT_USER, AGENT_PASSWORD);
const ADMIN: Auth<'static> = Auth::Basic(ADMIN_USER, ADMIN_PASSWORD);

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
    sim: &ServiceNowSim,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> Answer {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", sim.base_url()))
        .header("Accept", "application/json");
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

async fn get(sim: &ServiceNowSim, path: &str, auth: Auth<'_>) -> Answer {
    call(sim, Method::GET, path, auth, None).await
}

async fn create(sim: &ServiceNowSim, table: &str, auth: Auth<'_>, body: Value) -> Value {
    let a = call(
        sim,
        Method::POST,
        &format!("/api/now/table/{table}"),
        auth,
        Some(body),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.json()["result"].clone()
}

async fn token(sim: &ServiceNowSim, form: &[(&str, &str)]) -> Answer {
    let r = reqwest::Client::new()
        .post(format!("{}/oauth_token.do", sim.base_url()))
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

fn denied() -> Value {
    json!({"error_description": "access_denied", "error": "server_error"})
}

fn not_authenticated() -> Value {
    json!({"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"})
}

#[tokio::test]
async fn oauth_grants_tokens_and_refuses_like_servicenow() {
    let sim = seeded().await;
    let password = [
        ("grant_type", "password"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("username", AGENT_USER),
        ("password", AGENT_PASSWORD),
    ];
    let a = token(&sim, &password).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let first = a.json();
    assert_eq!(
        (
            first["scope"].as_str(),
            first["token_type"].as_str(),
            first["expires_in"].as_i64()
        ),
        (Some("useraccount"), Some("Bearer"), Some(1799))
    );
    let (access, refresh) = (
        first["access_token"].as_str().unwrap().to_owned(),
        first["refresh_token"].as_str().unwrap().to_owned(),
    );
    // Within their lifetimes, the password grant answers the current tokens.
    let again = token(&sim, &password).await.json();
    assert_eq!(
        (
            again["access_token"].as_str(),
            again["refresh_token"].as_str()
        ),
        (Some(access.as_str()), Some(refresh.as_str()))
    );
    // The refresh grant answers a new access token and the current refresh token.
    let refreshed = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", &refresh),
        ],
    )
    .await
    .json();
    assert_ne!(refreshed["access_token"].as_str(), Some(access.as_str()));
    assert_eq!(refreshed["refresh_token"].as_str(), Some(refresh.as_str()));
    let a = get(
        &sim,
        "/api/now/table/incident?sysparm_limit=1",
        Auth::Bearer(refreshed["access_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);

    // Every refusal is the same 401.
    for form in [
        vec![
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
            ("username", AGENT_USER),
            ("password", AGENT_PASSWORD),
        ],
        vec![
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("username", AGENT_USER),
            ("password", "wrong"),
        ],
        vec![
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", "nope"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        vec![("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
    ] {
        let a = token(&sim, &form).await;
        assert_eq!(
            (a.status, a.json()),
            (StatusCode::UNAUTHORIZED, denied()),
            "{form:?}"
        );
    }
    let json_body = reqwest::Client::new()
        .post(format!("{}/oauth_token.do", sim.base_url()))
        .json(&json!({"grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": AGENT_USER, "password": AGENT_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_body.status(),
        StatusCode::UNAUTHORIZED,
        "the token endpoint takes form bodies only"
    );

    // The seeded refresh token works until it expires.
    let seeded_refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", BOT_REFRESH_TOKEN),
    ];
    assert_eq!(token(&sim, &seeded_refresh).await.status, StatusCode::OK);
    sim.expire_refresh_token(BOT_REFRESH_TOKEN);
    let a = token(&sim, &seeded_refresh).await;
    assert_eq!((a.status, a.json()), (StatusCode::UNAUTHORIZED, denied()));
    let fresh = sim.issue_refresh_token(BOT_USER);
    assert_eq!(
        token(
            &sim,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("refresh_token", &fresh)
            ]
        )
        .await
        .status,
        StatusCode::OK
    );

    // Refresh tokens issued with a short lifespan expire too.
    sim.set_refresh_token_lifetime(1);
    let admin = token(
        &sim,
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("username", ADMIN_USER),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await
    .json();
    let short_refresh = admin["refresh_token"].as_str().unwrap().to_owned();
    // Access tokens expire.
    sim.set_access_token_lifetime(1);
    let short = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", &fresh),
        ],
    )
    .await
    .json();
    assert_eq!(short["expires_in"], 0);
    let t = short["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&sim, "/api/now/table/incident", Auth::Bearer(&t))
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let a = get(&sim, "/api/now/table/incident", Auth::Bearer(&t)).await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::UNAUTHORIZED, not_authenticated())
    );
    let a = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", &short_refresh),
        ],
    )
    .await;
    assert_eq!((a.status, a.json()), (StatusCode::UNAUTHORIZED, denied()));
    // An inactive user gets no tokens.
    sim.set_user_active(AGENT_USER, false);
    assert_eq!(
        token(&sim, &password).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_table_api_authenticates_and_names_what_it_does_not_know() {
    let sim = seeded().await;
    let a = get(&sim, "/api/now/table/incident", Auth::None).await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::UNAUTHORIZED, not_authenticated())
    );
    assert_eq!(
        a.header("www-authenticate"),
        Some("BASIC realm=\"Service-now\"")
    );
    let a = get(
        &sim,
        "/api/now/table/incident",
        Auth::Basic(BOT_USER, "wrong"),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::UNAUTHORIZED, not_authenticated())
    );
    let a = get(&sim, "/api/now/table/incident", Auth::Bearer("made-up")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = get(&sim, "/api/now/table/u_nothing", BOT).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": {"message": "Invalid table u_nothing", "detail": null}, "status": "failure"})
        )
    );
    let a = get(&sim, "/api/now/nothing/here", BOT).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.json()["error"]["message"],
        "Requested URI does not represent any resource"
    );
    let a = call(
        &sim,
        Method::POST,
        "/api/now/table/incident/0123",
        BOT,
        Some(json!({})),
    )
    .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    let a = get(
        &sim,
        "/api/now/table/incident/0123456789abcdef0123456789abcdef",
        BOT,
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::NOT_FOUND,
            json!({"error": {"message": "No Record found", "detail": "Record doesn't exist or ACL restricts the record retrieval"}, "status": "failure"})
        )
    );
    sim.set_user_active(BOT_USER, false);
    assert_eq!(
        get(&sim, "/api/now/table/incident", BOT).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn records_are_created_numbered_and_prioritised() {
    let sim = seeded().await;
    let a = call(
        &sim,
        Method::POST,
        "/api/now/table/incident",
        BOT,
        Some(json!({"short_description": "x".repeat(200), "impact": "1", "urgency": 2, "priority": "5", "correlation_id": "vulnbridge:k:m1:f1", "no_such_field": "ignored"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let r = a.json()["result"].clone();
    assert_eq!(
        a.header("location"),
        Some(
            format!(
                "{}/api/now/table/incident/{}",
                sim.base_url(),
                r["sys_id"].as_str().unwrap()
            )
            .as_str()
        )
    );
    assert_eq!(r["number"], "INC0010001");
    assert_eq!(r["sys_class_name"], "incident");
    assert_eq!(
        (
            r["impact"].as_str(),
            r["urgency"].as_str(),
            r["priority"].as_str()
        ),
        (Some("1"), Some("2"), Some("2")),
        "priority is computed, never written"
    );
    assert_eq!(
        (r["state"].as_str(), r["active"].as_str()),
        (Some("1"), Some("true"))
    );
    assert_eq!(
        r["short_description"].as_str().map(str::len),
        Some(160),
        "cut to the column's length"
    );
    assert_eq!(
        r["opened_by"]["link"]
            .as_str()
            .map(|l| l.contains("/api/now/table/sys_user/")),
        Some(true)
    );
    assert!(r.get("no_such_field").is_none());
    assert_eq!(r["comments"], "");

    let a = reqwest::Client::new()
        .post(format!("{}/api/now/table/incident", sim.base_url()))
        .basic_auth(BOT_USER, Some(BOT_PASSWORD))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        a.json::<Value>().await.unwrap(),
        json!({"error": {"message": "Exception while reading request", "detail": "The payload is not valid JSON."}, "status": "failure"})
    );
    let a = reqwest::Client::new()
        .post(format!("{}/api/now/table/problem", sim.base_url()))
        .basic_auth(BOT_USER, Some(BOT_PASSWORD))
        .header("X-no-response-body", "true")
        .json(&json!({"short_description": "p"}))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), StatusCode::CREATED);
    assert!(a.headers().get("location").is_some());
    assert_eq!(a.text().await.unwrap(), "");
    let problems = sim.records("problem");
    assert_eq!(
        (
            problems[0].number.as_str(),
            problems[0].state.as_str(),
            problems[0].state_label.as_str()
        ),
        ("PRB0010001", "101", "New")
    );
}

#[tokio::test]
async fn queries_filter_order_and_paginate_with_link_headers() {
    let sim = seeded().await;
    for i in 1..=5 {
        create(&sim, "incident", BOT, json!({"short_description": format!("finding {i}"), "correlation_id": format!("vulnbridge:k:m3:f{i}")})).await;
    }
    create(
        &sim,
        "incident",
        BOT,
        json!({"short_description": "someone else's", "correlation_id": "other:1"}),
    )
    .await;
    create(
        &sim,
        "problem",
        BOT,
        json!({"short_description": "a problem", "correlation_id": "vulnbridge:k:m3:f9"}),
    )
    .await;

    let q = "sysparm_query=correlation_idSTARTSWITHvulnbridge:k:m3:%5EORDERBYDESCnumber&sysparm_fields=number,short_description&sysparm_limit=2";
    let a = get(&sim, &format!("/api/now/table/incident?{q}"), BOT).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("x-total-count"), Some("5"));
    assert_eq!(
        a.json()["result"],
        json!([{"number": "INC0010005", "short_description": "finding 5"}, {"number": "INC0010004", "short_description": "finding 4"}])
    );
    let link = a.header("link").unwrap().to_owned();
    let base = sim.base_url();
    assert!(
        link.starts_with(&format!("<{base}/api/now/table/incident?sysparm_query=")),
        "{link}"
    );
    assert!(
        link.contains("sysparm_offset=0&sysparm_limit=2>;rel=\"first\""),
        "{link}"
    );
    assert!(
        link.contains("sysparm_offset=2&sysparm_limit=2>;rel=\"next\""),
        "{link}"
    );
    assert!(
        link.contains("sysparm_offset=4&sysparm_limit=2>;rel=\"last\""),
        "{link}"
    );
    assert!(!link.contains("rel=\"prev\""));
    let a = get(
        &sim,
        &format!("/api/now/table/incident?{q}&sysparm_offset=4"),
        BOT,
    )
    .await;
    assert_eq!(a.json()["result"].as_array().map(Vec::len), Some(1));
    let link = a.header("link").unwrap();
    assert!(
        link.contains("rel=\"prev\"") && !link.contains("rel=\"next\""),
        "{link}"
    );
    // One page: no Link header; the header can be suppressed too.
    let a = get(
        &sim,
        "/api/now/table/incident?sysparm_query=correlation_id=other:1",
        BOT,
    )
    .await;
    assert_eq!(
        (a.header("x-total-count"), a.header("link")),
        (Some("1"), None)
    );
    let a = get(&sim, &format!("/api/now/table/incident?{q}&sysparm_suppress_pagination_header=true&sysparm_no_count=true"), BOT).await;
    assert_eq!((a.header("x-total-count"), a.header("link")), (None, None));

    // Reading task lists every task table's records.
    let a = get(&sim, "/api/now/table/task?sysparm_query=correlation_idSTARTSWITHvulnbridge:&sysparm_fields=sys_class_name", BOT).await;
    assert_eq!(a.header("x-total-count"), Some("6"));
    // Name-value pairs filter too; OR; IN; display values.
    let a = get(
        &sim,
        "/api/now/table/incident?short_description=finding%202&sysparm_fields=number",
        BOT,
    )
    .await;
    assert_eq!(a.json()["result"], json!([{"number": "INC0010002"}]));
    let a = get(&sim, "/api/now/table/incident?sysparm_query=number=INC0010001%5EORnumber=INC0010003&sysparm_fields=number", BOT).await;
    assert_eq!(a.header("x-total-count"), Some("2"));
    let a = get(&sim, "/api/now/table/incident?sysparm_query=numberININC0010001,INC0010002&sysparm_fields=number,state,impact&sysparm_display_value=all", BOT).await;
    assert_eq!(
        a.json()["result"][0]["state"],
        json!({"display_value": "New", "value": "1"})
    );
    assert_eq!(
        a.json()["result"][0]["impact"],
        json!({"display_value": "3 - Low", "value": "3"})
    );
    let a = get(&sim, "/api/now/table/incident?sysparm_limit=1&sysparm_fields=opened_by&sysparm_display_value=true&sysparm_exclude_reference_link=true", BOT).await;
    assert_eq!(a.json()["result"][0]["opened_by"], "Vulnbridge Bot");
    // Updated since: date-times compare as the instance stores them (UTC).
    let a = get(&sim, "/api/now/table/incident?sysparm_query=sys_updated_on%3E=2000-01-01%2000:00:00&sysparm_fields=number", BOT).await;
    assert_eq!(a.header("x-total-count"), Some("6"));
    let a = get(
        &sim,
        "/api/now/table/incident?sysparm_query=sys_updated_on%3E=2999-01-01%2000:00:00",
        BOT,
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::OK, json!({"result": []}))
    );
    // Version 1 answers an empty result with 404.
    let a = get(
        &sim,
        "/api/now/v1/table/incident?sysparm_query=number=nope",
        BOT,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = get(
        &sim,
        "/api/now/v2/table/incident?sysparm_query=number=INC0010001&sysparm_fields=number",
        BOT,
    )
    .await;
    assert_eq!(a.json()["result"], json!([{"number": "INC0010001"}]));
    // An invalid condition is ignored, as on an instance with default settings.
    let a = get(
        &sim,
        "/api/now/table/incident?sysparm_query=u_nope=1%5Enumber=INC0010001",
        BOT,
    )
    .await;
    assert_eq!(a.header("x-total-count"), Some("1"));
}

#[tokio::test]
async fn choices_tables_and_users_are_readable() {
    let sim = seeded().await;
    let a = get(&sim, "/api/now/table/sys_choice?sysparm_query=name=incident%5Eelement=state%5Einactive=false%5EORDERBYsequence&sysparm_fields=value,label", BOT).await;
    let labels: Vec<String> = a.json()["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        labels,
        [
            "New",
            "In Progress",
            "On Hold",
            "Resolved",
            "Closed",
            "Canceled"
        ]
    );
    let a = get(&sim, "/api/now/table/sys_choice?sysparm_query=name=task%5Eelement=impact&sysparm_fields=value,label", BOT).await;
    assert_eq!(
        a.json()["result"][0],
        json!({"value": "1", "label": "1 - High"})
    );
    let a = get(&sim, "/api/now/table/sys_db_object?sysparm_query=name=sn_si_incident&sysparm_fields=name,label,super_class.name,super_class", BOT).await;
    let t = &a.json()["result"][0];
    assert_eq!(
        (t["label"].as_str(), t["super_class.name"].as_str()),
        (Some("Security Incident"), Some("task"))
    );
    assert!(
        t["super_class"]["link"]
            .as_str()
            .unwrap_or("")
            .contains("/api/now/table/sys_db_object/")
    );
    let a = get(&sim, "/api/now/table/sys_db_object?sysparm_query=super_class.name=task%5EORDERBYname&sysparm_fields=name", BOT).await;
    assert_eq!(
        a.json()["result"],
        json!([{"name": "change_request"}, {"name": "incident"}, {"name": "problem"}, {"name": "sn_si_incident"}])
    );
    let a = get(&sim, "/api/now/table/sys_user?sysparm_query=sys_id=javascript:gs.getUserID()&sysparm_fields=user_name,name", ERIN).await;
    assert_eq!(
        a.json()["result"],
        json!([{"user_name": "itil.erin", "name": "Itil Erin"}])
    );
    let a = get(
        &sim,
        "/api/now/table/sys_user_group?sysparm_query=name=Service%20Desk&sysparm_fields=name",
        BOT,
    )
    .await;
    assert_eq!(a.json()["result"], json!([{"name": "Service Desk"}]));
    sim.add_choice(
        "incident",
        "close_code",
        "Solved (Permanently)",
        "Solved (Permanently)",
    );
    let a = get(&sim, "/api/now/table/sys_choice?sysparm_query=name=incident%5Eelement=close_code%5Evalue=Solved%20(Permanently)", BOT).await;
    assert_eq!(a.header("x-total-count"), Some("1"));
}

#[tokio::test]
async fn resolving_needs_the_closure_fields_and_closing_deactivates() {
    let sim = seeded().await;
    let r = create(
        &sim,
        "incident",
        BOT,
        json!({"short_description": "s", "correlation_id": "vulnbridge:k:m1:f1"}),
    )
    .await;
    let path = format!("/api/now/table/incident/{}", r["sys_id"].as_str().unwrap());
    let a = call(&sim, Method::PATCH, &path, BOT, Some(json!({"state": "6"}))).await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::FORBIDDEN,
            json!({"error": {"message": "Operation Failed", "detail": "Data Policy Exception: \n\tThe following fields are mandatory: Resolution code, Close notes"}, "status": "failure"})
        )
    );
    let a = call(
        &sim,
        Method::PATCH,
        &path,
        ERIN,
        Some(json!({"state": "6", "close_code": "Solution provided", "close_notes": "patched"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let rec = a.json()["result"].clone();
    assert_eq!(
        (
            rec["state"].as_str(),
            rec["active"].as_str(),
            rec["sys_updated_by"].as_str()
        ),
        (Some("6"), Some("true"), Some("itil.erin"))
    );
    assert!(!rec["resolved_at"].as_str().unwrap_or("").is_empty());
    let a = call(&sim, Method::PUT, &path, ERIN, Some(json!({"state": "7"}))).await;
    assert_eq!(
        (
            a.json()["result"]["active"].as_str(),
            a.json()["result"]["closed_by"]["value"].is_string()
        ),
        (Some("false"), true)
    );
    let a = call(&sim, Method::PATCH, &path, BOT, Some(json!({"state": "2"}))).await;
    assert_eq!(
        (
            a.json()["result"]["active"].as_str(),
            a.json()["result"]["closed_at"].as_str()
        ),
        (Some("true"), Some(""))
    );
    // With sysparm_input_display_value=true, choices may be given by their labels.
    let a = call(
        &sim,
        Method::PATCH,
        &format!("{path}?sysparm_input_display_value=true"),
        BOT,
        Some(json!({"state": "In Progress", "impact": "2 - Medium"})),
    )
    .await;
    assert_eq!(
        (
            a.json()["result"]["state"].as_str(),
            a.json()["result"]["impact"].as_str()
        ),
        (Some("2"), Some("2"))
    );
    let a = call(
        &sim,
        Method::PATCH,
        &path,
        BOT,
        Some(json!({"state": "Resolved"})),
    )
    .await;
    assert_eq!(
        a.json()["result"]["state"],
        "2",
        "without it, a label is no number and is not stored"
    );
    // On hold needs a reason.
    let a = call(&sim, Method::PATCH, &path, BOT, Some(json!({"state": "3"}))).await;
    assert!(
        a.json()["error"]["detail"]
            .as_str()
            .unwrap_or("")
            .ends_with("mandatory: On hold reason"),
        "{}",
        a.text
    );
    // Comments are journal entries: the field reads empty, display values and the journal show them.
    let before = sim.records("incident")[0].sys_mod_count;
    call(
        &sim,
        Method::PATCH,
        &path,
        BOT,
        Some(json!({"comments": "first"})),
    )
    .await;
    call(
        &sim,
        Method::PATCH,
        &path,
        BOT,
        Some(json!({"work_notes": "internal"})),
    )
    .await;
    let a = get(
        &sim,
        &format!("{path}?sysparm_fields=comments,work_notes"),
        BOT,
    )
    .await;
    assert_eq!(
        a.json()["result"],
        json!({"comments": "", "work_notes": ""})
    );
    let a = get(
        &sim,
        &format!("{path}?sysparm_fields=comments&sysparm_display_value=true"),
        BOT,
    )
    .await;
    let shown = a.json()["result"]["comments"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        shown.contains(" - Vulnbridge Bot (Additional comments)\nfirst\n"),
        "{shown}"
    );
    let a = get(&sim, &format!("/api/now/table/sys_journal_field?sysparm_query=element_id={}%5EORDERBYsys_created_on&sysparm_fields=element,value", r["sys_id"].as_str().unwrap()), BOT).await;
    assert_eq!(
        a.json()["result"],
        json!([{"element": "comments", "value": "first"}, {"element": "work_notes", "value": "internal"}])
    );
    let snap = &sim.records("incident")[0];
    assert_eq!(
        (
            snap.comments.clone(),
            snap.work_notes.clone(),
            snap.sys_mod_count
        ),
        (
            vec!["first".to_owned()],
            vec!["internal".to_owned()],
            before + 2
        )
    );
    // An update that changes nothing is no update.
    call(
        &sim,
        Method::PATCH,
        &path,
        BOT,
        Some(json!({"state": "2", "short_description": "s"})),
    )
    .await;
    assert_eq!(sim.records("incident")[0].sys_mod_count, before + 2);
    // Problems need their resolution code.
    let p = create(&sim, "problem", BOT, json!({"short_description": "p"})).await;
    let ppath = format!("/api/now/table/problem/{}", p["sys_id"].as_str().unwrap());
    let a = call(
        &sim,
        Method::PATCH,
        &ppath,
        BOT,
        Some(json!({"state": "106"})),
    )
    .await;
    assert!(
        a.json()["error"]["detail"]
            .as_str()
            .unwrap_or("")
            .ends_with("mandatory: Resolution code"),
        "{}",
        a.text
    );
    let a = call(
        &sim,
        Method::PATCH,
        &ppath,
        BOT,
        Some(json!({"state": "107", "resolution_code": "risk_accepted"})),
    )
    .await;
    assert_eq!(a.json()["result"]["active"], "false");
}

#[tokio::test]
async fn acls_keep_readers_from_writing_and_others_from_deleting() {
    let sim = seeded().await;
    sim.add_user("read.only", "pw-reader", &["snc_read_only"]);
    sim.add_user("no.roles", "pw-none", &[]);
    let r = create(&sim, "incident", BOT, json!({"short_description": "s"})).await;
    let path = format!("/api/now/table/incident/{}", r["sys_id"].as_str().unwrap());
    let reader = Auth::Basic("read.only", "pw-reader");
    assert_eq!(get(&sim, &path, reader).await.status, StatusCode::OK);
    let a = call(
        &sim,
        Method::POST,
        "/api/now/table/incident",
        reader,
        Some(json!({"short_description": "x"})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()),
        (
            StatusCode::FORBIDDEN,
            json!({"error": {"message": "Operation Failed", "detail": "ACL Exception Insert Failed due to security constraints"}, "status": "failure"})
        )
    );
    let a = call(
        &sim,
        Method::PATCH,
        &path,
        reader,
        Some(json!({"urgency": "1"})),
    )
    .await;
    assert_eq!(
        (a.status, a.json()["error"]["detail"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("ACL Exception Update Failed due to security constraints")
        )
    );
    // Without a role, rows are filtered after the limit: the count still counts them.
    let none = Auth::Basic("no.roles", "pw-none");
    let a = get(&sim, "/api/now/table/incident?sysparm_limit=1", none).await;
    assert_eq!(
        (
            a.status,
            a.header("x-total-count"),
            a.json()["result"].as_array().map(Vec::len)
        ),
        (StatusCode::OK, Some("1"), Some(0))
    );
    assert_eq!(get(&sim, &path, none).await.status, StatusCode::NOT_FOUND);
    let a = call(&sim, Method::DELETE, &path, BOT, None).await;
    assert_eq!(
        (a.status, a.json()["error"]["detail"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("ACL Exception Delete Failed due to security constraints")
        )
    );
    let a = call(&sim, Method::DELETE, &path, ADMIN, None).await;
    assert_eq!((a.status, a.text.as_str()), (StatusCode::NO_CONTENT, ""));
    assert_eq!(get(&sim, &path, BOT).await.status, StatusCode::NOT_FOUND);
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(v.to_string())
}

fn unb64(v: &Value) -> Value {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap_or(""))
        .unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn item(id: &str, method: &str, url: &str, body: Option<Value>) -> Value {
    let mut i = json!({"id": id, "method": method, "url": url, "headers": [{"name": "Content-Type", "value": "application/json"}, {"name": "Accept", "value": "application/json"}]});
    if let Some(b) = body {
        i["body"] = json!(b64(&b));
    }
    i
}

#[tokio::test]
async fn the_batch_api_serves_each_item_and_reports_each_failure() {
    let sim = seeded().await;
    let existing = create(&sim, "incident", BOT, json!({"short_description": "open"})).await;
    let batch = json!({
        "batch_request_id": "b1",
        "rest_requests": [
            item("1", "POST", "/api/now/table/incident?sysparm_fields=sys_id,number", Some(json!({"short_description": "from batch", "impact": "2"}))),
            item("2", "POST", "/api/now/table/u_nothing", Some(json!({"short_description": "x"}))),
            item("3", "PATCH", &format!("/api/now/table/incident/{}", existing["sys_id"].as_str().unwrap()), Some(json!({"state": "6"}))),
            item("4", "GET", "/api/now/table/incident?sysparm_fields=number&sysparm_limit=1", None),
        ],
    });
    sim.requests().reset();
    let a = call(&sim, Method::POST, "/api/now/v1/batch", BOT, Some(batch)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(sim.requests().total(), 1, "one request whatever it carries");
    let answer = a.json();
    assert_eq!(answer["batch_request_id"], "b1");
    assert_eq!(answer["unserviced_requests"], json!([]));
    let served = answer["serviced_requests"].as_array().unwrap();
    let status: Vec<(String, u64)> = served
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or("").to_owned(),
                s["status_code"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("1".to_owned(), 201),
            ("2".to_owned(), 400),
            ("3".to_owned(), 403),
            ("4".to_owned(), 200)
        ]
    );
    assert_eq!(served[0]["status_text"], "Created");
    assert_eq!(unb64(&served[0]["body"])["result"]["number"], "INC0010002");
    assert_eq!(
        unb64(&served[1]["body"])["error"]["message"],
        "Invalid table u_nothing"
    );
    assert!(
        unb64(&served[2]["body"])["error"]["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("Data Policy Exception")
    );
    assert!(
        served[0]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "Location")
    );
    assert_eq!(sim.records("incident").len(), 2);

    // Past the transaction quota, the rest of the batch is not served.
    sim.set_limits(Limits {
        batch_serviced_max: 1,
        ..Limits::default()
    });
    let batch = json!({"batch_request_id": "b2", "rest_requests": [
        item("a", "POST", "/api/now/table/incident", Some(json!({"short_description": "a"}))),
        item("b", "POST", "/api/now/table/incident", Some(json!({"short_description": "b"}))),
        item("c", "POST", "/api/now/table/incident", Some(json!({"short_description": "c"}))),
    ]});
    let answer = call(&sim, Method::POST, "/api/now/v1/batch", BOT, Some(batch))
        .await
        .json();
    assert_eq!(
        answer["serviced_requests"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(answer["unserviced_requests"], json!(["b", "c"]));
    // An item over the size limit ends the batch too.
    sim.set_limits(Limits {
        batch_item_max_bytes: 64,
        ..Limits::default()
    });
    let batch = json!({"rest_requests": [
        item("small", "POST", "/api/now/table/incident", Some(json!({"short_description": "s"}))),
        item("big", "POST", "/api/now/table/incident", Some(json!({"short_description": "x".repeat(200)}))),
    ]});
    let answer = call(&sim, Method::POST, "/api/now/v1/batch", BOT, Some(batch))
        .await
        .json();
    assert_eq!(answer["unserviced_requests"], json!(["big"]));

    let a = call(
        &sim,
        Method::POST,
        "/api/now/v1/batch",
        BOT,
        Some(json!({"batch_request_id": "x"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = call(
        &sim,
        Method::POST,
        "/api/now/v1/batch",
        Auth::None,
        Some(json!({"rest_requests": []})),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // Items run as the batch's caller, through their own ACLs.
    sim.add_user("read.only", "pw", &["snc_read_only"]);
    let batch = json!({"rest_requests": [item("r", "POST", "/api/now/table/incident", Some(json!({"short_description": "r"})))]});
    let answer = call(
        &sim,
        Method::POST,
        "/api/now/v1/batch",
        Auth::Basic("read.only", "pw"),
        Some(batch),
    )
    .await
    .json();
    assert_eq!(answer["serviced_requests"][0]["status_code"], 403);
}

#[tokio::test]
async fn rate_limit_rules_answer_429_with_retry_after_and_the_documented_body() {
    let sim = seeded().await;
    sim.set_limits(Limits {
        rules: vec![RateLimitRule {
            name: "integration".into(),
            sys_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
            api: "Table API".into(),
            user: Some(BOT_USER.into()),
            requests_per_hour: 2,
            ..RateLimitRule::default()
        }],
        window_scale: 0.0005,
        ..Limits::default()
    });
    for _ in 0..2 {
        let a = get(&sim, "/api/now/table/incident", BOT).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(
            (a.header("x-ratelimit-limit"), a.header("x-ratelimit-rule")),
            (Some("2"), Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0"))
        );
        let reset: i64 = a.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert!(reset >= chrono::Utc::now().timestamp() - 1);
    }
    let a = get(&sim, "/api/now/table/incident", BOT).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        a.json(),
        json!({"error": {"message": "Rate limit exceeded", "detail": "Rate limit of 2 requests per hour for Table API exceeded"}, "status": "failure"})
    );
    assert!(a.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Other users and other APIs are not limited by the rule.
    let a = get(&sim, "/api/now/table/incident", ERIN).await;
    assert_eq!(
        (a.status, a.header("x-ratelimit-limit")),
        (StatusCode::OK, None)
    );
    let a = call(
        &sim,
        Method::POST,
        "/api/now/v1/batch",
        BOT,
        Some(json!({"rest_requests": []})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    // The window passes (an "hour" of 1.8 s here).
    tokio::time::sleep(Duration::from_millis(1900)).await;
    assert_eq!(
        get(&sim, "/api/now/table/incident", BOT).await.status,
        StatusCode::OK
    );
}

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

async fn next(rx: &mut mpsc::UnboundedReceiver<(HeaderMap, Value)>) -> (HeaderMap, Value) {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a delivery in time")
        .expect("the receiver is up")
}

#[tokio::test]
async fn the_business_rule_posts_changes_of_marked_records_with_the_secret() {
    let sim = seeded().await;
    let (url, mut rx) = receiver().await;
    sim.register_business_rule(&url, "rule-secret", "task");
    let r = create(
        &sim,
        "incident",
        BOT,
        json!({"short_description": "s", "correlation_id": "vulnbridge:k:m3:f1"}),
    )
    .await;
    let sys_id = r["sys_id"].as_str().unwrap().to_owned();
    let (h, body) = next(&mut rx).await;
    assert_eq!(
        h.get("x-vulnbridge-secret").and_then(|v| v.to_str().ok()),
        Some("rule-secret")
    );
    assert_eq!(
        (
            body["operation"].as_str(),
            body["table"].as_str(),
            body["sys_id"].as_str(),
            body["state"].as_str(),
            body["state_label"].as_str(),
            body["active"].as_bool()
        ),
        (
            Some("insert"),
            Some("incident"),
            Some(sys_id.as_str()),
            Some("1"),
            Some("New"),
            Some(true)
        )
    );
    assert_eq!(body["updated_by"], BOT_USER);
    assert!(body.get("comment").is_none());

    // Someone else's record is no business of the rule.
    create(&sim, "incident", BOT, json!({"short_description": "other"})).await;
    sim.set_state_as(
        AGENT_USER,
        "incident",
        &sys_id,
        "7",
        Some("Solution provided"),
    )
    .unwrap();
    let (_, body) = next(&mut rx).await;
    assert_eq!(
        (
            body["operation"].as_str(),
            body["state"].as_str(),
            body["state_label"].as_str(),
            body["active"].as_bool(),
            body["updated_by"].as_str()
        ),
        (
            Some("update"),
            Some("7"),
            Some("Closed"),
            Some(false),
            Some(AGENT_USER)
        )
    );
    assert_eq!(body["number"], "INC0010001");
    sim.comment_as(AGENT_USER, "incident", &sys_id, "Fixed upstream")
        .unwrap();
    let (_, body) = next(&mut rx).await;
    assert_eq!(body["comment"], "Fixed upstream");
    // A refused change sends nothing; the next delivery is the delete.
    let refused = sim
        .set_state_as(AGENT_USER, "incident", &sys_id, "3", None)
        .unwrap_err();
    assert!(refused.contains("On hold reason"), "{refused}");
    sim.delete_as(ADMIN_USER, "incident", &sys_id).unwrap();
    let (_, body) = next(&mut rx).await;
    assert_eq!(
        (body["operation"].as_str(), body["updated_by"].as_str()),
        (Some("delete"), Some(ADMIN_USER))
    );
    // A rule on incident does not hear problems; one on task hears every task table.
    let (incident_url, mut incident_rx) = receiver().await;
    sim.register_business_rule(&incident_url, "s2", "incident");
    create(
        &sim,
        "problem",
        BOT,
        json!({"short_description": "p", "correlation_id": "vulnbridge:k:m3:f2"}),
    )
    .await;
    let (_, body) = next(&mut rx).await;
    assert_eq!(body["table"], "problem");
    sim.webhooks().wait_idle().await;
    assert!(incident_rx.try_recv().is_err());
    assert_eq!(sim.webhooks().sent().len(), 5);
}

#[tokio::test]
async fn the_control_api_counts_requests_injects_faults_and_acts_as_people() {
    let sim = seeded().await;
    let client = reqwest::Client::new();
    let base = sim.base_url();
    let created: Value = client
        .post(format!("{base}/_sim/users"))
        .json(&json!({"user_name": "dev.dan", "password": "pw-dan", "roles": ["itil"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["sys_id"].as_str().map(str::len), Some(32));
    let r = create(
        &sim,
        "incident",
        Auth::Basic("dev.dan", "pw-dan"),
        json!({"short_description": "s"}),
    )
    .await;
    let sys_id = r["sys_id"].as_str().unwrap();
    let a = client
        .post(format!(
            "{base}/_sim/tables/incident/records/{sys_id}/state"
        ))
        .json(&json!({"as": AGENT_USER, "state": "6", "close_code": "Solution provided"}))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), StatusCode::OK);
    let a = client
        .post(format!(
            "{base}/_sim/tables/incident/records/{sys_id}/state"
        ))
        .json(&json!({"as": AGENT_USER, "state": "7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        a.status(),
        StatusCode::OK,
        "the resolution fields are set already"
    );
    let list: Value = client
        .get(format!("{base}/_sim/tables/incident/records"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            list[0]["state_label"].as_str(),
            list[0]["close_code"].as_str(),
            list[0]["active"].as_bool()
        ),
        (Some("Closed"), Some("Solution provided"), Some(false))
    );
    let counts: Value = client
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["counts"]["POST /api/now/table/{table}"], 1);
    let fresh: Value = client
        .post(format!("{base}/_sim/oauth/refresh-tokens"))
        .json(&json!({"user_name": BOT_USER}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        fresh["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() > 40)
    );

    client
        .post(format!("{base}/_sim/faults"))
        .json(&json!({"method": "POST", "path_contains": "/api/now/table", "status": 503, "body": {"error": {"message": "busy"}}, "headers": [["Retry-After", "7"]], "times": 1}))
        .send()
        .await
        .unwrap();
    let a = call(
        &sim,
        Method::POST,
        "/api/now/table/incident",
        BOT,
        Some(json!({"short_description": "x"})),
    )
    .await;
    assert_eq!(
        (a.status, a.header("retry-after")),
        (StatusCode::SERVICE_UNAVAILABLE, Some("7"))
    );
    assert_eq!(
        call(
            &sim,
            Method::POST,
            "/api/now/table/incident",
            BOT,
            Some(json!({"short_description": "x"}))
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let state: Value = client
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(state["state"]["accounts"]["dev.dan"]["roles"] == json!(["itil"]));
    assert!(
        state.to_string().find("pw-dan").is_none(),
        "passwords are not shown"
    );
    assert!(sim.summary().contains("vulnbridge.bot / snow-bot-password"));
}
