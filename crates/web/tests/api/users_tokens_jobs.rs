use crate::app::TestApp;
use domain::Role;
use serde_json::json;
use store::jobs::NewJob;
use store::testing::TestDb;

store::both_backends!(users_admin_rules, tokens_lifecycle, jobs_admin);

async fn users_admin_rules(t: TestDb) {
    let app = TestApp::new(t).await;
    let a = &app.admin;
    let me = app.get("/api/v1/users/me", a).await;
    assert_eq!(me.body["username"], "admin");
    assert!(me.body.get("password_hash").is_none());
    let admin_id = me.body["id"].as_i64().unwrap();

    let u = app.post("/api/v1/users", a, json!({"username": "dana", "password": "long enough password", "global_role": "writer"})).await;
    assert_eq!(u.status, 201, "{}", u.body);
    assert!(!u.body.to_string().contains("long enough"), "no password echo");
    let dana = u.body["id"].as_i64().unwrap();
    app.post("/api/v1/users", a, json!({"username": "Dana"})).await.problem(409, Some("username"));
    app.post("/api/v1/users", a, json!({"username": "eve", "password": "short"})).await.problem(422, Some("password"));
    app.post("/api/v1/users", a, json!({"username": "bad name"})).await.problem(422, Some("username"));

    let (_, w) = app.user("writer", Some(Role::Writer)).await;
    app.get("/api/v1/users", &w).await.problem(403, None);
    app.patch(&format!("/api/v1/users/{dana}"), &w, json!({"global_role": "admin"})).await.problem(403, None);
    let own = app.get("/api/v1/users/me", &w).await;
    let wid = own.body["id"].as_i64().unwrap();
    assert_eq!(app.patch(&format!("/api/v1/users/{wid}"), &w, json!({"display_name": "Wendy"})).await.body["display_name"], "Wendy");
    app.patch(&format!("/api/v1/users/{wid}"), &w, json!({"global_role": "admin"})).await.problem(403, None);

    app.patch(&format!("/api/v1/users/{admin_id}"), a, json!({"global_role": "reader"})).await.problem(409, Some("global_role"));
    app.delete(&format!("/api/v1/users/{admin_id}"), a).await.problem(409, Some("id"));
    assert_eq!(app.delete(&format!("/api/v1/users/{dana}"), a).await.status, 204);
}

async fn tokens_lifecycle(t: TestDb) {
    let app = TestApp::new(t).await;
    let (_, w) = app.user("writer", Some(Role::Writer)).await;
    let created = app.post("/api/v1/tokens", &w, json!({"name": "gitlab-ci", "expires_in_days": 30})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let token = created.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("vbt_"));
    assert!(created.body["expires_at"].is_string());
    assert_eq!(app.get("/api/v1/users/me", &token).await.body["username"], "writer");
    let listed = app.get("/api/v1/tokens", &w).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
    assert!(!listed.body.to_string().contains(&token), "listing never shows a token");
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/tokens/{id}"), &w).await.status, 204);
    app.get("/api/v1/users/me", &token).await.problem(401, None);
    app.post("/api/v1/tokens", &w, json!({"name": "x", "expires_in_days": 0})).await.problem(422, Some("expires_in_days"));
    app.delete(&format!("/api/v1/tokens/{id}"), &app.admin).await.problem(404, None);
}

async fn jobs_admin(t: TestDb) {
    let app = TestApp::new(t).await;
    let mut c = app.t.db.conn().await.unwrap();
    let id = store::jobs::enqueue(&mut c, NewJob::new("push", json!({"finding": 1}))).await.unwrap().unwrap();
    store::jobs::claim(&app.t.db, "w", &["default"], 1, chrono::TimeDelta::seconds(30), store::now()).await.unwrap();
    store::jobs::fail(&app.t.db, id, "w", "boom", None).await.unwrap();
    let dead = app.get("/api/v1/jobs?status=dead", &app.admin).await;
    assert_eq!(dead.body["count"], 1, "{}", dead.body);
    assert_eq!(dead.body["results"][0]["last_error"], "boom");
    let (_, w) = app.user("writer", Some(Role::Writer)).await;
    app.get("/api/v1/jobs", &w).await.problem(403, None);
    let retried = app.post(&format!("/api/v1/jobs/{}/retry", id.0), &app.admin, json!({})).await;
    assert_eq!(retried.body["status"], "queued", "{}", retried.body);
    app.post(&format!("/api/v1/jobs/{}/retry", id.0), &app.admin, json!({})).await.problem(422, Some("status"));
}
