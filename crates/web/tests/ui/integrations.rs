//! Settings › Integrations: instances, mappings with Total Errors, the error table and Retry;
//! the forms that add, change, check and delete instances, mappings and assignments.

use crate::harness::{Browser, Page, Ui};
use domain::Role;
use domain::tracker::Subject;
use serde_json::json;
use simulators::github::{BOT_TOKEN, GitHubSim};
use store::testing::TestDb;

store::both_backends!(
    errors_are_listed_and_retried,
    an_admin_adds_a_github_instance_and_its_secrets_never_show,
    mappings_are_added_with_defaults_changed_checked_and_deleted,
    assignments_are_added_changed_and_removed,
    readers_see_no_forms_and_cannot_post,
    jira_and_servicenow_forms_store_their_own_fields,
);

async fn errors_are_listed_and_retried(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let pat = ui.user("pat", None).await;
    let shop = ui.world("Shop").await;
    ui.member(shop.product.id, pat, Role::Writer).await;
    let f = ui.findings(&shop.test, vec![json!({"title": "Fails", "severity": "high"}), json!({"title": "Fails too", "severity": "low"})]).await;
    let (_, m) = ui.github(shop.product.id).await;
    {
        let mut c = ui.t.db.conn().await.unwrap();
        for x in &f {
            store::push_errors::record(&mut c, m.id, Subject::Finding(x.id), "forbidden", "GitHub answered 403: Resource not accessible by integration", None, store::now())
                .await
                .unwrap();
        }
    }
    let b = Browser::logged_in(&ui, "admin").await;
    let page = b.get("/settings/integrations").await;
    let body = page.ok();
    assert!(body.contains(r#"href="/settings/integrations" aria-current="page">Integrations"#));
    for want in ["GitHub acme", "https://github.com/acme", "storefront", "Shop", "Explicitly Publish Changes"] {
        assert!(body.contains(want), "{want} missing: {body}");
    }
    let errors_url = format!("/settings/integrations/mappings/{}/errors", m.id.0);
    assert!(body.contains(&format!(r#"<a href="{errors_url}" class="bad">2</a>"#)), "Total Errors links to the error table: {body}");
    assert!(!body.contains("ghp_secret_never_shown") && !body.contains("whsec"), "no secrets");

    let page = b.get(&errors_url).await;
    let body = page.ok();
    assert!(body.contains("2 failed pushes"));
    assert!(body.contains("Resource not accessible by integration") && body.contains("forbidden"));
    assert!(body.contains(&format!(r#"<a href="/findings/{}">finding {}</a>"#, f[0].id.0, f[0].id.0)));
    assert!(body.contains("waits for a retry"));

    // Retry one, then all: pushes queued again, and the page says so.
    let csrf = page.csrf();
    let mut c = ui.t.db.conn().await.unwrap();
    let one = store::push_errors::list(&mut c, m.id, store::PageRequest::default()).await.unwrap().results[0].id;
    drop(c);
    assert_eq!(b.post(&format!("/settings/integrations/errors/{one}/retry"), &[]).await.status, 403, "CSRF");
    let r = b.post(&format!("/settings/integrations/errors/{one}/retry"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("{errors_url}?retried=1").as_str()));
    assert!(b.get(r.location.as_deref().unwrap()).await.ok().contains("Queued 1 push again."));
    let r = b.post(&format!("{errors_url}/retry"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.location.as_deref(), Some(format!("{errors_url}?retried=2").as_str()));
    let mut c = ui.t.db.conn().await.unwrap();
    let jobs = store::jobs::list(&mut c, &store::jobs::Filter { queue: Some("push".into()), ..Default::default() }, store::PageRequest::all()).await.unwrap();
    assert!(jobs.count >= 1, "retries are queued pushes");
    drop(c);

    // Product roles only: no Integrations in the menu, and the pages say why.
    let p = Browser::logged_in(&ui, "pat").await;
    assert!(!p.get("/").await.ok().contains("/settings/integrations"));
    let r = p.get("/settings/integrations").await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("needs a global role"), "{}", r.body);
    assert_eq!(p.get(&errors_url).await.status, 403);
    assert_eq!(b.get("/settings/integrations/mappings/abc/errors").await.status, 400);
    assert_eq!(b.get("/settings/integrations/mappings/999999/errors").await.status, 404);
}

/// Posts a form with the page's CSRF token.
async fn send(b: &Browser, csrf: &str, path: &str, fields: &[(&str, &str)]) -> Page {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    b.post(path, &form).await
}

#[track_caller]
fn no_secrets(page: &Page, secrets: &[&str]) {
    for s in secrets {
        assert!(!page.body.contains(s), "a secret ({s}) is on the page: {}", page.body);
    }
}

/// The text between `<code class="secret">` and `</code>`: the webhook secret shown once.
fn shown_secret(body: &str) -> String {
    let at = body.find(r#"<code class="secret">"#).unwrap_or_else(|| panic!("no secret shown: {body}")) + r#"<code class="secret">"#.len();
    body[at..at + body[at..].find('<').unwrap()].to_owned()
}

/// Adds a GitHub instance for the simulator through the form; returns its id and webhook secret.
async fn add_github(ui: &Ui, b: &Browser, sim: &GitHubSim) -> (i64, String) {
    let form = b.get("/settings/integrations/instances/new?vendor=github").await;
    let csrf = form.csrf();
    let location = sim.location("acme");
    let r = send(b, &csrf, "/settings/integrations/instances", &[("vendor", "github"), ("label", "GitHub acme"), ("location", &location), ("token", BOT_TOKEN)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut c = ui.t.db.conn().await.unwrap();
    let id = store::instances::list(&mut c).await.unwrap().iter().find(|i| i.label == "GitHub acme").unwrap().id.0;
    (id, shown_secret(&r.body))
}

async fn an_admin_adds_a_github_instance_and_its_secrets_never_show(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let sim = GitHubSim::start_seeded("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let b = Browser::logged_in(&ui, "admin").await;

    let overview = b.get("/settings/integrations").await;
    assert!(overview.ok().contains(r#"<a class="button" href="/settings/integrations/instances/new?vendor=github">Add instance</a>"#), "{}", overview.body);
    let chooser = b.get("/settings/integrations/instances/new").await;
    for v in ["github", "gitlab", "jira", "azure_devops", "servicenow"] {
        assert!(chooser.ok().contains(&format!("/settings/integrations/instances/new?vendor={v}")), "{v}");
    }
    // Each vendor's form has its fields, labelled, with the tool reference's help.
    for (v, wants) in [
        ("github", &["Repo and Project scopes", "https://github.com/settings/tokens"][..]),
        ("gitlab", &["api scope"][..]),
        ("azure_devops", &["Read, Write and Manage", "Work Items", "https://dev.azure.com/your-organization"][..]),
        ("servicenow", &["Application Registry", "oauth_token.do", r#"name="client_id""#, r#"name="refresh_token""#][..]),
        ("jira", &[r#"name="username""#, "API tokens"][..]),
    ] {
        let page = b.get(&format!("/settings/integrations/instances/new?vendor={v}")).await;
        let body = page.ok();
        for want in wants.iter().chain(&[r#"<label for="f-label">Label</label>"#, r#"name="location""#, r#"<button type="submit">Save</button>"#]) {
            assert!(body.to_lowercase().contains(&want.to_lowercase()), "{v}: {want} missing: {body}");
        }
    }
    let form = b.get("/settings/integrations/instances/new?vendor=github").await;
    assert!(form.ok().contains(r#"<input type="password" id="f-token" name="token""#), "{}", form.body);
    let csrf = form.csrf();

    // A refused save shows the form again as typed (but the token), says why, writes nothing.
    let r = send(&b, &csrf, "/settings/integrations/instances", &[("vendor", "github"), ("label", "GitHub acme"), ("location", "github.com/acme"), ("token", BOT_TOKEN)]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains(r#"value="GitHub acme""#) && r.body.contains(r#"value="github.com/acme""#), "input kept: {}", r.body);
    assert!(r.body.contains(r#"<p class="field-error" role="alert">location: "#) || r.body.contains("is not a URL"), "{}", r.body);
    assert!(r.body.contains("not a URL"));
    no_secrets(&r, &[BOT_TOKEN]);
    let r = send(&b, &csrf, "/settings/integrations/instances", &[("vendor", "github"), ("label", "GitHub acme"), ("location", &sim.location("acme")), ("token", "")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("exactly one kind of credentials"), "{}", r.body);
    let mut c = ui.t.db.conn().await.unwrap();
    assert!(store::instances::list(&mut c).await.unwrap().is_empty(), "nothing written");
    drop(c);

    // Saved: the webhook URL and secret, this once.
    let (id, secret) = add_github(&ui, &b, &sim).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let page_url = format!("/settings/integrations/instances/{id}");
    let page = b.get(&page_url).await;
    let body = page.ok();
    for want in [
        "GitHub acme",
        &format!("{}/webhooks/{id}/", ui.base),
        r#"<button type="submit">Check connection</button>"#,
        &format!(r#"href="{page_url}/edit">Edit</a>"#),
        &format!(r#"href="{page_url}/delete">Delete</a>"#),
        &format!(r#"href="/settings/integrations/mappings/new?instance={id}">Add mapping</a>"#),
    ] {
        assert!(body.contains(want), "{want} missing: {body}");
    }
    assert!(b.get("/settings/integrations").await.ok().contains(&format!(r#"<a href="{page_url}">GitHub acme</a>"#)));

    // Check connection: each check passed, the account learnt.
    let r = send(&b, &csrf, &format!("{page_url}/check"), &[]).await;
    let body = r.ok();
    assert!(body.contains("Connection OK"), "{body}");
    assert!(body.contains("✓ passed</strong> credentials: signed in as vulnbridge-bot"), "{body}");
    assert!(body.contains("✓ passed</strong> scopes"), "{body}");
    assert!(!body.contains("✗ failed"), "{body}");

    // Edit: pre-filled but for the token; empty credentials keep the stored ones.
    let edit = b.get(&format!("{page_url}/edit")).await;
    assert!(edit.ok().contains(r#"value="GitHub acme""#) && edit.body.contains(r#"id="f-token" name="token" value="""#), "{}", edit.body);
    let r = send(&b, &csrf, &format!("{page_url}/edit"), &[("label", "GitHub Acme Corp"), ("location", &sim.location("acme")), ("token", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("{page_url}?saved=1").as_str()));
    assert!(b.get(&format!("{page_url}?saved=1")).await.ok().contains("Instance saved."));
    let r = send(&b, &csrf, &format!("{page_url}/check"), &[]).await;
    assert!(r.ok().contains("Connection OK"), "the stored token still works: {}", r.body);
    // A bad edit: kept, refused, nothing changed.
    let r = send(&b, &csrf, &format!("{page_url}/edit"), &[("label", ""), ("location", &sim.location("acme"))]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("must be 1–100 characters"), "{}", r.body);
    let mut c = ui.t.db.conn().await.unwrap();
    assert_eq!(store::instances::get(&mut c, domain::InstanceId(id)).await.unwrap().label, "GitHub Acme Corp");
    drop(c);
    // Rate limits under Advanced: set, refused naming the bad one, cleared.
    let edit_url = format!("{page_url}/edit");
    let location = sim.location("acme");
    let with_limits = |limits: &'static str| [("label", "GitHub Acme Corp"), ("location", location.as_str()), ("settings.rate_limits", limits)];
    let r = send(&b, &csrf, &edit_url, &with_limits(r#"[{"name": "content-minute", "limit": 60, "per_seconds": 60}]"#)).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(b.get(&page_url).await.ok().contains("content-minute: 60 per 60 s"));
    let edit = b.get(&edit_url).await;
    assert!(edit.ok().contains("content-minute"), "the form shows the stored limits: {}", edit.body);
    let r = send(&b, &csrf, &edit_url, &with_limits(r#"[{"name": "content-minute", "limit": 0, "per_seconds": 60}]"#)).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("settings.rate_limits[0].limit") && r.body.contains(r#"<details open>"#), "{}", r.body);
    let r = send(&b, &csrf, &edit_url, &with_limits("")).await;
    assert_eq!(r.status, 303);
    assert!(!b.get(&page_url).await.ok().contains("content-minute"), "emptied: the vendor's limits again");

    // A new token through the form: a bad one fails the check, saying why.
    let r = send(&b, &csrf, &format!("{page_url}/edit"), &[("label", "GitHub Acme Corp"), ("location", &sim.location("acme")), ("token", "ghp_revokedrevokedrevokedrevoked00000")]).await;
    assert_eq!(r.status, 303);
    let r = send(&b, &csrf, &format!("{page_url}/check"), &[]).await;
    assert!(r.ok().contains("✗ failed</strong> credentials"), "{}", r.body);
    no_secrets(&r, &["ghp_revoked"]);

    // The secret was shown once: no page shows it or the token again.
    for path in ["/settings/integrations", page_url.as_str(), &format!("{page_url}/edit"), &format!("{page_url}/delete")] {
        let p = b.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        no_secrets(&p, &[BOT_TOKEN, &secret, "ghp_revoked"]);
    }

    // Rotate: a new secret, shown once.
    let r = send(&b, &csrf, &format!("{page_url}/webhook-secret"), &[]).await;
    let rotated = shown_secret(r.ok());
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    no_secrets(&b.get(&page_url).await, &[&rotated]);

    // Delete, after a confirmation page.
    let confirm = b.get(&format!("{page_url}/delete")).await;
    assert!(confirm.ok().contains(r#"<button type="submit" class="danger">Delete</button>"#));
    let r = send(&b, &csrf, &format!("{page_url}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/settings/integrations?done=instance-deleted"));
    assert!(b.get("/settings/integrations?done=instance-deleted").await.ok().contains("Instance deleted"));
    assert_eq!(b.get(&page_url).await.status, 404);
}

async fn mappings_are_added_with_defaults_changed_checked_and_deleted(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let sim = GitHubSim::start_seeded("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let b = Browser::logged_in(&ui, "admin").await;
    let (instance, secret) = add_github(&ui, &b, &sim).await;

    // The form holds the vendor's defaults.
    let form = b.get(&format!("/settings/integrations/mappings/new?instance={instance}")).await;
    let body = form.ok();
    for want in [
        r#"<label for="f-target-repository">Repository name</label>"#,
        r#"name="target.project_number""#,
        r#"name="severity_mapping.field" value="Priority""#,
        r#"name="severity_mapping.info" value="P0""#,
        r#"name="severity_mapping.high" value="P3""#,
        r#"name="status_mapping.active" value="In Progress""#,
        r#"name="status_mapping.closed" value="Done""#,
        r#"name="title_template" value="[VULNBRIDGE] {{ id }} - {{ title }}""#,
        r#"name="register_webhook" value="true" checked"#,
        r#"name="custom_fields""#,
        "MUST have a Priority single-select field",
        r#"<button type="submit">Save</button>"#,
    ] {
        assert!(body.contains(want), "{want} missing: {body}");
    }
    assert!(!body.contains("due_days"), "GitHub issues have no due date");
    let csrf = form.csrf();
    let mut fields = vec![
        ("instance", instance.to_string()),
        ("label", "storefront".to_owned()),
        ("target.repository", "acme/storefront".to_owned()),
        ("target.project_number", "1".to_owned()),
        ("severity_mapping.field", "Priority".to_owned()),
        ("severity_mapping.info", "P0".to_owned()),
        ("severity_mapping.low", "P1".to_owned()),
        ("severity_mapping.medium", "P2".to_owned()),
        ("severity_mapping.high", "P4".to_owned()),
        ("severity_mapping.critical", "P4".to_owned()),
        ("status_mapping.field", "Status".to_owned()),
        ("status_mapping.active", "Todo".to_owned()),
        ("status_mapping.closed", "Done".to_owned()),
        ("status_mapping.false_positive", "Done".to_owned()),
        ("status_mapping.risk_accepted", "Done".to_owned()),
        ("status_mapping.in_progress", "In Progress".to_owned()),
        ("status_mapping.awaiting_validation", "".to_owned()),
        ("title_template", "[SEC] {{ title }}".to_owned()),
        ("body_template", "".to_owned()),
        ("labels", "security, appsec".to_owned()),
        ("custom_fields", "{}".to_owned()),
        ("inbound", "".to_owned()),
        ("status_mapping.aliases", r#"{"Won't Fix": "risk_accepted"}"#.to_owned()),
        ("register_webhook", "true".to_owned()),
    ];
    let as_form = |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let post = |path: String, f: Vec<(&'static str, String)>| {
        let b = &b;
        let csrf = csrf.clone();
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send(b, &csrf, &path, &pairs).await
        }
    };

    // A bad repository: refused naming it, everything typed kept, nothing written.
    let r = post("/settings/integrations/mappings".into(), as_form(&fields)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains(r#"<p class="field-error" role="alert">"#) && r.body.contains("without the owner"), "{}", r.body);
    for kept in [r#"value="acme/storefront""#, r#"name="severity_mapping.high" value="P4""#, r#"value="security, appsec""#, "Won&#39;t Fix"] {
        assert!(r.body.contains(kept), "{kept} not kept: {}", r.body);
    }
    let mut c = ui.t.db.conn().await.unwrap();
    assert!(store::mappings::list(&mut c, None).await.unwrap().is_empty());
    drop(c);
    // Bad JSON in the advanced part is named too.
    let mut bad = as_form(&fields);
    bad[2].1 = "storefront".into();
    bad.iter_mut().find(|(k, _)| *k == "custom_fields").unwrap().1 = "{oops".into();
    let r = post("/settings/integrations/mappings".into(), bad).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("custom_fields: not valid JSON"), "{}", r.body);

    // Saved, with the webhook registered in GitHub.
    fields[2].1 = "storefront".into();
    let r = post("/settings/integrations/mappings".into(), as_form(&fields)).await;
    let body = r.ok();
    assert!(body.contains("Mapping added.") && body.contains("registered at"), "{body}");
    no_secrets(&r, &[&secret, BOT_TOKEN]);
    let mut c = ui.t.db.conn().await.unwrap();
    let m = store::mappings::list(&mut c, None).await.unwrap().pop().unwrap();
    drop(c);
    let cfg = &m.config;
    assert_eq!(cfg.target, domain::tracker::MappingTarget::GitHub { repository: "storefront".into(), project_number: Some(1) });
    assert_eq!((cfg.severity_mapping.high.as_str(), cfg.status_mapping.active.as_str()), ("P4", "Todo"));
    assert_eq!(cfg.status_mapping.in_progress.as_deref(), Some("In Progress"));
    assert_eq!(cfg.status_mapping.awaiting_validation, None);
    assert_eq!(cfg.status_mapping.aliases.get("Won't Fix"), Some(&domain::Status::RiskAccepted));
    assert_eq!(cfg.labels, ["security", "appsec"]);
    assert_eq!(cfg.title_template, "[SEC] {{ title }}");
    assert_eq!(cfg.body_template, None);

    // The mapping's page: Check mapping passes against the simulator's project 1.
    let page_url = format!("/settings/integrations/mappings/{}", m.id.0);
    let page = b.get(&page_url).await;
    for want in ["Check mapping", "Register webhook", &format!(r#"href="{page_url}/edit">Edit</a>"#), "storefront (project 1)", "P4"] {
        assert!(page.ok().contains(want), "{want} missing: {}", page.body);
    }
    let r = post(format!("{page_url}/check"), vec![]).await;
    assert!(r.ok().contains("Connection OK"), "{}", r.body);
    assert!(r.body.contains("✓ passed</strong> repository") && r.body.contains("✓ passed</strong> project"), "{}", r.body);
    let r = post(format!("{page_url}/webhook"), vec![]).await;
    assert!(r.ok().contains("Webhook registered at"), "{}", r.body);

    // Edit: the form holds the mapping; what is changed is stored.
    let edit = b.get(&format!("{page_url}/edit")).await;
    for want in [r#"name="label" value="storefront""#, r#"name="target.project_number" value="1""#, r#"name="severity_mapping.high" value="P4""#, r#"value="security, appsec""#] {
        assert!(edit.ok().contains(want), "{want} missing: {}", edit.body);
    }
    assert!(!edit.body.contains("register_webhook"));
    let mut changed: Vec<_> = as_form(&fields).into_iter().filter(|(k, _)| *k != "register_webhook" && *k != "instance").collect();
    changed.iter_mut().find(|(k, _)| *k == "severity_mapping.critical").unwrap().1 = "P3".into();
    changed.iter_mut().find(|(k, _)| *k == "labels").unwrap().1 = "security".into();
    changed.iter_mut().find(|(k, _)| *k == "target.project_number").unwrap().1 = "".into();
    let r = post(format!("{page_url}/edit"), changed.clone()).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("{page_url}?saved=1").as_str()));
    let mut c = ui.t.db.conn().await.unwrap();
    let after = store::mappings::get(&mut c, m.id).await.unwrap();
    drop(c);
    assert_eq!(after.config.severity_mapping.critical, "P3");
    assert_eq!(after.config.labels, ["security"]);
    assert_eq!(after.config.target.describe(), "storefront");
    // An empty severity value is refused naming it; nothing changes.
    changed.iter_mut().find(|(k, _)| *k == "severity_mapping.low").unwrap().1 = " ".into();
    let r = post(format!("{page_url}/edit"), changed).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("severity_mapping.low"), "{}", r.body);
    let mut c = ui.t.db.conn().await.unwrap();
    assert_eq!(store::mappings::get(&mut c, m.id).await.unwrap(), after);
    drop(c);

    // Delete.
    assert!(b.get(&format!("{page_url}/delete")).await.ok().contains("Delete the mapping storefront?"));
    let r = post(format!("{page_url}/delete"), vec![]).await;
    assert_eq!(r.location.as_deref(), Some("/settings/integrations?done=mapping-deleted"));
    let mut c = ui.t.db.conn().await.unwrap();
    assert!(store::mappings::list(&mut c, None).await.unwrap().is_empty());
}

async fn assignments_are_added_changed_and_removed(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let mia = ui.user("mia", None).await;
    let shop = ui.world("Shop").await;
    let docs = ui.world("Docs").await;
    ui.member(shop.product.id, mia, Role::Maintainer).await;
    let (_, m) = ui.github(shop.product.id).await;
    let b = Browser::logged_in(&ui, "admin").await;

    let overview = b.get("/settings/integrations").await;
    assert!(overview.ok().contains(r#"href="/settings/integrations/assignments/new">Add assignment</a>"#), "{}", overview.body);
    let form = b.get("/settings/integrations/assignments/new").await;
    let body = form.ok();
    for want in [
        r#"<select id="f-mapping" name="mapping">"#,
        r#"<select id="f-product" name="product">"#,
        r#"<select id="f-engagement" name="engagement">"#,
        r#"<select id="f-push-mode" name="push_mode">"#,
        "GitHub acme › storefront",
        "Docs › CI",
        "Automatically Link New and Update Existing Link",
    ] {
        assert!(body.contains(want), "{want} missing: {body}");
    }
    let csrf = form.csrf();
    let mapping = m.id.0.to_string();
    let docs_id = docs.product.id.0.to_string();

    // Neither product nor engagement: refused, kept, nothing written.
    let r = send(&b, &csrf, "/settings/integrations/assignments", &[("mapping", &mapping), ("product", ""), ("engagement", ""), ("push_mode", "link_new")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("choose a product"), "{}", r.body);
    assert!(r.body.contains(r#"<option value="link_new" selected>"#), "{}", r.body);
    let count = || async {
        let mut c = ui.t.db.conn().await.unwrap();
        store::assignments::list(&mut c, &Default::default()).await.unwrap()
    };
    assert_eq!(count().await.len(), 1);

    // Docs, linking new High and Critical open findings.
    let r = send(
        &b,
        &csrf,
        "/settings/integrations/assignments",
        &[("mapping", &mapping), ("product", &docs_id), ("engagement", ""), ("push_mode", "link_new"), ("filters.minimum_severity", "high"), ("filters.active_only", "true")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/settings/integrations?done=assignment-added#assignments"));
    let a = count().await.into_iter().find(|a| a.product == docs.product.id).unwrap();
    assert_eq!(a.push_mode, domain::tracker::PushMode::LinkNew);
    assert_eq!(a.filters, domain::tracker::PushFilters { minimum_severity: Some(domain::Severity::High), active_only: true });
    assert!(b.get("/settings/integrations").await.ok().contains("High and above, open findings only"));
    // The same again clashes.
    let r = send(&b, &csrf, "/settings/integrations/assignments", &[("mapping", &mapping), ("product", &docs_id), ("push_mode", "explicit")]).await;
    assert!(r.status == 409 || r.status == 422, "{} {}", r.status, r.body);

    // Edit the mode and filters.
    let edit_url = format!("/settings/integrations/assignments/{}/edit", a.id.0);
    let edit = b.get(&edit_url).await;
    assert!(edit.ok().contains(r#"<option value="link_new" selected>"#) && edit.body.contains(r#"<option value="high" selected>"#), "{}", edit.body);
    let r = send(&b, &csrf, &edit_url, &[("push_mode", "link_new_and_update"), ("filters.minimum_severity", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let after = count().await.into_iter().find(|x| x.id == a.id).unwrap();
    assert_eq!(after.push_mode, domain::tracker::PushMode::LinkNewAndUpdate);
    assert_eq!(after.filters, domain::tracker::PushFilters::default());
    let r = send(&b, &csrf, &edit_url, &[("push_mode", "sometimes")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("push_mode"), "{}", r.body);

    // Delete.
    let del = format!("/settings/integrations/assignments/{}/delete", a.id.0);
    assert!(b.get(&del).await.ok().contains("Delete the assignment Docs → storefront?"));
    let r = send(&b, &csrf, &del, &[]).await;
    assert_eq!(r.status, 303);
    assert!(count().await.iter().all(|x| x.id != a.id));

    // A product maintainer manages their product's assignments, and only theirs.
    let p = Browser::logged_in(&ui, "mia").await;
    let form = p.get("/settings/integrations/assignments/new").await;
    assert!(form.ok().contains("Shop › CI") && !form.body.contains("Docs"), "{}", form.body);
    let csrf = form.csrf();
    let shop_engagement = shop.test.engagement.0.to_string();
    let r = send(&p, &csrf, "/settings/integrations/assignments", &[("mapping", &mapping), ("product", &shop.product.id.0.to_string()), ("engagement", &shop_engagement), ("push_mode", "update_existing")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, Some(format!("/products/{}", shop.product.id.0)));
    let r = send(&p, &csrf, "/settings/integrations/assignments", &[("mapping", &mapping), ("product", &docs_id), ("push_mode", "explicit")]).await;
    assert_eq!(r.status, 422, "Docs is not hers to see: {}", r.body);
    let ours = count().await.into_iter().find(|x| x.engagement.is_some()).unwrap();
    let r = send(&p, &csrf, &format!("/settings/integrations/assignments/{}/edit", ours.id.0), &[("push_mode", "explicit")]).await;
    assert_eq!(r.status, 303);
}

async fn readers_see_no_forms_and_cannot_post(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("rita", Some(Role::Reader)).await;
    let shop = ui.world("Shop").await;
    let (i, m) = ui.github(shop.product.id).await;
    let b = Browser::logged_in(&ui, "rita").await;
    let overview = b.get("/settings/integrations").await;
    let body = overview.ok();
    assert!(body.contains("GitHub acme") && body.contains("storefront"));
    for absent in ["Add instance", "Add assignment", "/edit", "/delete"] {
        assert!(!body.contains(absent), "{absent} shown to a reader: {body}");
    }
    let instance_page = b.get(&format!("/settings/integrations/instances/{}", i.id.0)).await;
    let mapping_page = b.get(&format!("/settings/integrations/mappings/{}", m.id.0)).await;
    for page in [&instance_page, &mapping_page] {
        let body = page.ok();
        for absent in ["Check connection", "Check mapping", "Register webhook", ">Edit<", ">Delete<", "Add mapping", "Add assignment"] {
            assert!(!body.contains(absent), "{absent} shown to a reader: {body}");
        }
    }
    {
        let f = ui.findings(&shop.test, vec![json!({"title": "Fails", "severity": "high"})]).await;
        let mut c = ui.t.db.conn().await.unwrap();
        store::push_errors::record(&mut c, m.id, Subject::Finding(f[0].id), "forbidden", "GitHub answered 403", None, store::now()).await.unwrap();
    }
    let errors = b.get(&format!("/settings/integrations/mappings/{}/errors", m.id.0)).await;
    assert!(errors.ok().contains("GitHub answered 403") && !errors.body.contains("Retry"), "no Retry for a reader: {}", errors.body);
    let csrf = overview.csrf();
    for path in [
        "/settings/integrations/instances/new".to_owned(),
        "/settings/integrations/instances/new?vendor=github".to_owned(),
        format!("/settings/integrations/instances/{}/edit", i.id.0),
        format!("/settings/integrations/mappings/new?instance={}", i.id.0),
        format!("/settings/integrations/mappings/{}/edit", m.id.0),
        "/settings/integrations/assignments/new".to_owned(),
    ] {
        assert_eq!(b.get(&path).await.status, 403, "GET {path}");
    }
    let a = {
        let mut c = ui.t.db.conn().await.unwrap();
        store::assignments::list(&mut c, &Default::default()).await.unwrap()[0].id.0
    };
    for (path, fields) in [
        ("/settings/integrations/instances".to_owned(), vec![("vendor", "github"), ("label", "x"), ("location", "https://github.com/x"), ("token", "ghp_x")]),
        (format!("/settings/integrations/instances/{}/edit", i.id.0), vec![("label", "x"), ("location", "https://github.com/x")]),
        (format!("/settings/integrations/instances/{}/check", i.id.0), vec![]),
        (format!("/settings/integrations/instances/{}/webhook-secret", i.id.0), vec![]),
        (format!("/settings/integrations/instances/{}/delete", i.id.0), vec![]),
        ("/settings/integrations/mappings".to_owned(), vec![]),
        (format!("/settings/integrations/mappings/{}/edit", m.id.0), vec![]),
        (format!("/settings/integrations/mappings/{}/check", m.id.0), vec![]),
        (format!("/settings/integrations/mappings/{}/webhook", m.id.0), vec![]),
        (format!("/settings/integrations/mappings/{}/delete", m.id.0), vec![]),
        ("/settings/integrations/assignments".to_owned(), vec![("mapping", "1"), ("product", "1")]),
        (format!("/settings/integrations/assignments/{a}/edit"), vec![("push_mode", "explicit")]),
        (format!("/settings/integrations/assignments/{a}/delete"), vec![]),
    ] {
        let r = send(&b, &csrf, &path, &fields).await;
        assert_eq!(r.status, 403, "POST {path}: {}", r.body);
    }
    let mut c = ui.t.db.conn().await.unwrap();
    assert_eq!(store::instances::list(&mut c).await.unwrap().len(), 1);
    assert_eq!(store::mappings::list(&mut c, None).await.unwrap().len(), 1);
    assert_eq!(store::assignments::list(&mut c, &Default::default()).await.unwrap().len(), 1);
}

/// The Jira and ServiceNow forms: their credentials, Jira's target fields (space, components,
/// switches) and due days, ServiceNow's Impact + Urgency preset. Nothing is reachable at the
/// locations (port 9 refuses), so only the forms and what they store are tested here.
async fn jira_and_servicenow_forms_store_their_own_fields(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let b = Browser::logged_in(&ui, "admin").await;
    let csrf = b.get("/settings/integrations").await.csrf();
    let instance_id = |label: &'static str| {
        let ui = &ui;
        async move {
            let mut c = ui.t.db.conn().await.unwrap();
            store::instances::list(&mut c).await.unwrap().into_iter().find(|i| i.label == label).unwrap().id.0
        }
    };

    // Jira Cloud: e-mail and API token.
    let r = send(&b, &csrf, "/settings/integrations/instances", &[("vendor", "jira"), ("label", "Jira"), ("location", "http://127.0.0.1:9"), ("username", "me@example.com"), ("password", "jira-api-token-secret")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    no_secrets(&r, &["jira-api-token-secret"]);
    let jira = instance_id("Jira").await;
    let form = b.get(&format!("/settings/integrations/mappings/new?instance={jira}")).await;
    for want in [
        r#"name="target.issue_type" value="Bug""#,
        r#"<option value="product" selected>Product team space</option>"#,
        r#"name="target.priority" value="true" checked"#,
        r#"name="target.delete_rejected" value="true">"#,
        r#"name="severity_mapping.critical" value="Highest""#,
        r#"name="due_days.high""#,
    ] {
        assert!(form.ok().contains(want), "{want} missing: {}", form.body);
    }
    let jira_s = jira.to_string();
    let mut fields: Vec<(&str, &str)> = vec![
        ("instance", &jira_s),
        ("label", "SEC"),
        ("target.project", "SEC"),
        ("target.issue_type", "Vulnerability"),
        ("target.space", "security"),
        ("target.components", "api, web"),
        ("target.delete_rejected", "true"),
        ("target.sync_comments", "true"),
        ("severity_mapping.field", "priority"),
        ("severity_mapping.info", "Lowest"),
        ("severity_mapping.low", "Low"),
        ("severity_mapping.medium", "Medium"),
        ("severity_mapping.high", "High"),
        ("severity_mapping.critical", "Highest"),
        ("status_mapping.field", "status"),
        ("status_mapping.active", "To Do"),
        ("status_mapping.closed", "Done"),
        ("status_mapping.false_positive", "Won't Do"),
        ("status_mapping.risk_accepted", "Won't Do"),
        ("title_template", "[VULNBRIDGE] {{ id }} - {{ title }}"),
        ("due_days.critical", "7"),
        ("due_days.high", "30"),
    ];
    let r = send(&b, &csrf, "/settings/integrations/mappings", &fields).await;
    assert!(r.ok().contains("Webhook: not registered"), "{}", r.body);
    let mut c = ui.t.db.conn().await.unwrap();
    let m = store::mappings::list(&mut c, Some(domain::InstanceId(jira))).await.unwrap().pop().unwrap();
    drop(c);
    assert_eq!(
        m.config.target,
        domain::tracker::MappingTarget::Jira {
            project: "SEC".into(),
            issue_type: "Vulnerability".into(),
            space: domain::tracker::JiraSpace::Security,
            components: vec!["api".into(), "web".into()],
            priority: false,
            delete_rejected: true,
            close_security_issue_when_done: false,
            sync_comments: true,
        }
    );
    assert_eq!(m.config.due_days, [(domain::Severity::High, 30), (domain::Severity::Critical, 7)].into());
    // Zero days is refused naming the severity; the mapping stays as it was.
    fields.retain(|(k, _)| *k != "instance");
    fields.push(("due_days.low", "0"));
    let r = send(&b, &csrf, &format!("/settings/integrations/mappings/{}/edit", m.id.0), &fields).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("due_days.low") && r.body.contains(r#"name="target.components" value="api, web""#), "{}", r.body);

    // ServiceNow: an OAuth client and refresh token; a half-given client names what is missing.
    let sn = [("vendor", "servicenow"), ("label", "ServiceNow"), ("location", "http://127.0.0.1:9")];
    let r = send(&b, &csrf, "/settings/integrations/instances", &[&sn[..], &[("client_id", "vulnbridge")]].concat()).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("client_secret"), "{}", r.body);
    assert!(r.body.contains(r#"name="client_id" value="vulnbridge""#), "{}", r.body);
    let r = send(&b, &csrf, "/settings/integrations/instances", &[&sn[..], &[("client_id", "vulnbridge"), ("client_secret", "sn-client-secret"), ("refresh_token", "sn-refresh-token")]].concat()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    no_secrets(&r, &["sn-client-secret", "sn-refresh-token"]);
    let sn = instance_id("ServiceNow").await;
    let form = b.get(&format!("/settings/integrations/mappings/new?instance={sn}")).await;
    assert!(form.ok().contains(r#"name="severity_mapping.critical" value="3""#) && form.body.contains(r#"name="target.table" value="incident""#), "{}", form.body);
    let preset = format!("/settings/integrations/mappings/new?instance={sn}&#38;preset=impact_urgency");
    assert!(form.body.contains(&preset), "a link to the preset: {}", form.body);
    let form = b.get(&format!("/settings/integrations/mappings/new?instance={sn}&preset=impact_urgency")).await;
    assert!(form.ok().contains(r#"name="severity_mapping.critical" value="1/1""#) && form.body.contains(r#"value="impact+urgency""#), "{}", form.body);
    assert_eq!(b.get(&format!("/settings/integrations/mappings/new?instance={sn}&preset=nope")).await.status, 422);
    for path in ["/settings/integrations".to_owned(), format!("/settings/integrations/instances/{sn}/edit"), format!("/settings/integrations/instances/{jira}/edit")] {
        no_secrets(&b.get(&path).await, &["sn-client-secret", "sn-refresh-token", "jira-api-token-secret"]);
    }
}
