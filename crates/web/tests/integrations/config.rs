//! Configuring integrations through the API: bad input refused naming the field, nothing
//! half-written, secrets never shown, rights enforced; and an import's findings flowing on to
//! the tracker by the assignment's push mode.

use crate::github::{assign, github};
use crate::stack::Stack;
use serde_json::json;
use simulators::github::BOT_TOKEN;
use std::time::Duration;
use store::testing::TestDb;

store::both_backends!(bad_configuration_is_refused_naming_the_field, rights_follow_roles, imports_flow_on_to_the_tracker);

#[track_caller]
fn problem(r: crate::stack::Resp, status: u16, field: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["field"], field, "{}", r.body);
    assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", r.body);
}

async fn bad_configuration_is_refused_naming_the_field(t: TestDb) {
    let s = Stack::start(t).await;
    let inst = |vendor: &str, location: &str, token: &str| {
        json!({"vendor": vendor, "label": format!("x {vendor} {location}"), "location": location, "credentials": {"token": token}})
    };
    problem(s.post("/api/v1/integrations/instances", inst("github", "github.com/acme", "t")).await, 422, "location");
    problem(s.post("/api/v1/integrations/instances", inst("github", "https://u:p@github.com/acme", "t")).await, 422, "location");
    problem(s.post("/api/v1/integrations/instances", inst("github", "https://github.com/acme", "  ")).await, 422, "credentials.token");
    problem(s.post("/api/v1/integrations/instances", inst("github", "https://github.com/acme", "ghp_x\n")).await, 422, "credentials.token");
    problem(s.post("/api/v1/integrations/instances", inst("bitbucket", "https://bitbucket.org/acme", "t")).await, 422, "vendor");
    problem(
        s.post("/api/v1/integrations/instances", json!({"vendor": "github", "label": "x", "location": "https://github.com/a", "credentials": {"token": "t"}, "colour": 1}))
            .await,
        422,
        "colour",
    );
    assert!(s.get("/api/v1/integrations/instances").await.as_array().unwrap().is_empty(), "nothing half-written");

    let gh = github(&s, Some(1)).await;
    // The same label twice (ignoring case).
    let dup = s
        .post("/api/v1/integrations/instances", json!({"vendor": "gitlab", "label": "github ACME", "location": "https://gitlab.com/", "credentials": {"token": "t"}}))
        .await;
    problem(dup, 409, "label");
    let base = |target: serde_json::Value| json!({"instance": gh.instance, "label": "m2", "target": target, "register_webhook": false});
    // A severity left unmapped.
    let mut m = base(json!({"vendor": "github", "repository": "storefront"}));
    m["severity_mapping"] = json!({"field": "Priority", "info": "P0", "low": "P1", "medium": "P2", "high": " ", "critical": "P4"});
    problem(s.post("/api/v1/integrations/mappings", m).await, 422, "severity_mapping.high");
    // A status left out altogether.
    let mut m = base(json!({"vendor": "github", "repository": "storefront"}));
    m["status_mapping"] = json!({"field": "Status", "active": "In Progress", "closed": "Done", "false_positive": "Done"});
    let r = s.post("/api/v1/integrations/mappings", m).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("risk_accepted"), "{}", r.body);
    // A template that cannot render, named with its line.
    let mut m = base(json!({"vendor": "github", "repository": "storefront"}));
    m["title_template"] = json!("{{ titel }}");
    problem(s.post("/api/v1/integrations/mappings", m).await, 422, "title_template");
    // A GitLab target on a GitHub instance; an owner in the repository name.
    problem(s.post("/api/v1/integrations/mappings", base(json!({"vendor": "gitlab", "project": "g/p"}))).await, 422, "target.vendor");
    problem(s.post("/api/v1/integrations/mappings", base(json!({"vendor": "github", "repository": "acme/storefront"}))).await, 422, "target.repository");
    // The inbound rule must make sense.
    let mut m = base(json!({"vendor": "github", "repository": "storefront"}));
    m["inbound"] = json!({"closed": "active"});
    problem(s.post("/api/v1/integrations/mappings", m).await, 422, "inbound.closed");
    assert_eq!(s.get(&format!("/api/v1/integrations/mappings?instance={}", gh.instance)).await.as_array().unwrap().len(), 1);
    // Assignments: unknown mapping, invisible product, a second one for the same pair.
    let (product, _, _) = s.world("Shop").await;
    problem(
        s.post("/api/v1/integrations/assignments", json!({"mapping": 999999, "scope": {"product": product}, "push_mode": "link_new"})).await,
        422,
        "mapping",
    );
    problem(
        s.post("/api/v1/integrations/assignments", json!({"mapping": gh.mapping, "scope": {"product": 999999}, "push_mode": "link_new"})).await,
        422,
        "scope.product",
    );
    assign(&s, gh.mapping, product, "link_new", json!({})).await;
    problem(
        s.post("/api/v1/integrations/assignments", json!({"mapping": gh.mapping, "scope": {"product": product}, "push_mode": "explicit"})).await,
        409,
        "product",
    );
    let r = s.post("/api/v1/integrations/assignments", json!({"mapping": gh.mapping, "scope": {"product": product}, "push_mode": "sometimes"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    // The defaults for a form.
    let d = s.get("/api/v1/integrations/mapping-defaults?vendor=gitlab").await;
    assert_eq!(d["severity_mapping"]["critical"], "5");
    assert_eq!(d["status_mapping"]["active"], "opened");
    // Secrets never come back.
    let all = s.get("/api/v1/integrations/instances").await.to_string() + &s.get(&format!("/api/v1/integrations/instances/{}", gh.instance)).await.to_string();
    assert!(!all.contains(BOT_TOKEN) && !all.contains("whsec_"), "{all}");
}

async fn rights_follow_roles(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    let (product, _, test) = s.world("Shop").await;
    assign(&s, gh.mapping, product, "explicit", json!({})).await;
    let f = s.finding(test, "XSS", "high").await;
    let token = |name: &str, role: Option<domain::Role>| {
        let db = s.t.db.clone();
        let name = name.to_owned();
        async move {
            let mut tx = db.begin().await.unwrap();
            let u = store::users::create(
                &mut tx,
                store::users::NewUser { username: name, display_name: None, email: None, password_hash: None, global_role: role },
            )
            .await
            .unwrap();
            let tok = secrets::token::generate();
            store::tokens::create(&mut tx, u.id, "t", &tok, None).await.unwrap();
            tx.commit().await.unwrap();
            tok.reveal().to_owned()
        }
    };
    let reader = token("reader", Some(domain::Role::Reader)).await;
    let writer = token("writer", Some(domain::Role::Writer)).await;
    let as_user = |tok: String, method: &'static str, path: String, body: serde_json::Value| {
        let base = s.base.clone();
        async move {
            let r = reqwest::Client::new()
                .request(method.parse().unwrap(), format!("{base}{path}"))
                .header("Authorization", format!("Token {tok}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    let new_instance = json!({"vendor": "github", "label": "mine", "location": "https://github.com/me", "credentials": {"token": "t"}});
    assert_eq!(as_user(writer.clone(), "POST", "/api/v1/integrations/instances".into(), new_instance).await, 403);
    assert_eq!(as_user(reader.clone(), "POST", format!("/api/v1/integrations/instances/{}/check", gh.instance), json!({})).await, 403);
    assert_eq!(as_user(reader.clone(), "POST", format!("/api/v1/findings/{f}/push"), json!({})).await, 403, "readers do not push");
    assert_eq!(as_user(writer.clone(), "POST", format!("/api/v1/findings/{f}/push"), json!({})).await, 202, "writers do");
    assert_eq!(as_user(reader.clone(), "GET", "/api/v1/integrations/mappings".into(), json!({})).await, 200, "anyone with a role reads the configuration");
    s.drain(Duration::from_secs(60)).await;
    assert_eq!(gh.sim.issues("acme", "storefront").len(), 1);
}

async fn imports_flow_on_to_the_tracker(t: TestDb) {
    let mut s = Stack::start(t).await;
    let gh = github(&s, Some(1)).await;
    let (product, _, _) = s.world("Shop").await;
    assign(&s, gh.mapping, product, "link_new_and_update", json!({"minimum_severity": "medium"})).await;
    let actor = domain::Actor { user_id: domain::UserId(0), username: "ci".into(), global_role: Some(domain::Role::Admin), product_roles: Default::default() };
    let st = scanners::find_scan_type("Generic Findings Import").unwrap();
    let target = engine::import::Target { product_name: Some("Shop".into()), engagement_name: Some("Nightly".into()), ..Default::default() };
    let report = |titles: &[(&str, &str)]| {
        let findings: Vec<serde_json::Value> = titles.iter().map(|(t, sev)| json!({"title": t, "severity": sev, "unique_id_from_tool": t})).collect();
        engine::import::Report::from_bytes(serde_json::to_vec(&json!({"findings": findings})).unwrap(), Some("r.json"))
    };
    let first = [("SQL injection", "critical"), ("Open redirect", "medium"), ("Banner", "info")];
    let opts = engine::import::ImportOptions { auto_create_context: true, ..Default::default() };
    engine::import::run(&s.app, &actor, st, &target, &opts, report(&first), &|_| {}).await.unwrap();
    s.drain(Duration::from_secs(60)).await;
    let issues = gh.sim.issues("acme", "storefront");
    assert_eq!(issues.len(), 2, "new findings at medium and above are linked: {:?}", issues.iter().map(|i| &i.title).collect::<Vec<_>>());
    // A reimport without the SQL injection closes it here, and so its ticket there.
    let opts = engine::import::ImportOptions { reimport: true, auto_create_context: true, ..Default::default() };
    engine::import::run(&s.app, &actor, st, &target, &opts, report(&first[1..]), &|_| {}).await.unwrap();
    s.drain(Duration::from_secs(60)).await;
    let sqli = gh.sim.issues("acme", "storefront").into_iter().find(|i| i.title.contains("SQL injection")).unwrap();
    assert_eq!((sqli.state.as_str(), sqli.state_reason.as_deref()), ("closed", Some("completed")));
    let other = gh.sim.issues("acme", "storefront").into_iter().find(|i| i.title.contains("Open redirect")).unwrap();
    assert_eq!(other.state, "open");
}
