//! Connectors: configured and available, Records, operations, Discover and Sync; the
//! connector form (add, validation, edit, delete, Check connection) against a scanner
//! simulator; Record decisions and filters after a real Discover; what readers may not do.

use crate::harness::{Browser, Page, Ui};
use domain::Role;
use domain::connector::{ConnectorSettings, DiscoveredRecord, OperationKind, OperationStatus, OperationTrigger, Record, RecordState, Tool};
use simulators::scanners::ScannerSim;
use std::time::Duration;
use store::PageRequest;
use store::connectors::{OperationFilter, RecordFilter};
use store::testing::TestDb;
use tokio::sync::watch;

store::both_backends!(
    records_operations_and_runs,
    a_maintainer_adds_checks_edits_and_deletes_a_connector,
    records_are_discovered_then_mapped_ignored_restored_and_deleted,
    readers_see_no_buttons_and_may_not_post,
    records_are_paged_keeping_the_filter,
    tool_options_are_checked_at_their_field,
);

async fn records_operations_and_runs(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    ui.user("reader", Some(Role::Reader)).await;
    let pat = ui.user("pat", None).await;
    let shop = ui.world("Shop").await;
    ui.member(shop.product.id, pat, Role::Maintainer).await;
    let k = {
        let mut c = ui.t.db.conn().await.unwrap();
        let k = semgrep_connector(&mut c, "Semgrep acme", "sgp_never_shown").await;
        let found = DiscoveredRecord { external_id: "proj-42".into(), name: "storefront".into(), metadata: serde_json::json!({}) };
        store::connectors::create_record(&mut c, k.id, &found, Some(shop.product.id), Some("admin")).await.unwrap();
        let lonely = DiscoveredRecord { external_id: "proj-43".into(), name: "sandbox".into(), metadata: serde_json::json!({}) };
        store::connectors::create_record(&mut c, k.id, &lonely, None, None).await.unwrap();
        let op = store::connectors::create_operation(&mut c, k.id, OperationKind::Sync, OperationTrigger::Scheduled).await.unwrap();
        store::connectors::start_operation(&mut c, op.id, store::now()).await.unwrap();
        store::connectors::finish_operation(&mut c, op.id, false, &serde_json::json!({"findings_created": 3, "findings_closed": 0}), Some("Semgrep answered 401: token expired"))
            .await
            .unwrap();
        k
    };

    let b = Browser::logged_in(&ui, "admin").await;
    let page = b.get("/connectors").await;
    let body = page.ok();
    assert!(body.contains(r#"href="/connectors" aria-current="page">Connectors"#));
    assert!(body.contains(&format!(r#"<a href="/connectors/{}">Semgrep acme</a>"#, k.id.0)));
    for tool in ["AWS Security Hub", "Tenable", "SonarQube", "Snyk"] {
        assert!(body.contains(tool), "{tool} among the available tools");
    }
    let url = format!("/connectors/{}", k.id.0);
    let page = b.get(&url).await;
    let body = page.ok();
    for want in ["storefront", "proj-42", &format!(r#"<a href="/products/{}">Shop</a>"#, shop.product.id.0), "not mapped", "findings created 3", "token expired", "scheduled"] {
        assert!(body.contains(want), "{want} missing: {body}");
    }
    assert!(!body.contains("sgp_never_shown"));

    let csrf = page.csrf();
    assert_eq!(b.post(&format!("{url}/discover"), &[]).await.status, 403, "CSRF");
    let r = b.post(&format!("{url}/discover"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("{url}?queued=discover").as_str()));
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert!(page.ok().contains("discover queued"));
    assert!(page.body.contains("<td>discover</td><td>pending</td><td>manual</td>"), "{}", page.body);
    let r = b.post(&format!("{url}/sync"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.location.as_deref(), Some(format!("{url}?queued=sync").as_str()));

    // A global reader sees, but may not run; product roles only: not at all.
    let rb = Browser::logged_in(&ui, "reader").await;
    let page = rb.get(&url).await;
    assert!(!page.ok().contains(">Discover</button>"));
    let r = rb.post(&format!("{url}/sync"), &[("csrf", page.csrf().as_str())]).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("maintainer"), "{}", r.body);
    let pb = Browser::logged_in(&ui, "pat").await;
    assert!(!pb.get("/").await.ok().contains(r#"href="/connectors""#));
    assert_eq!(pb.get("/connectors").await.status, 403);
    assert_eq!(pb.get(&url).await.status, 403);
    assert_eq!(b.get("/connectors/nope").await.status, 400);
    assert_eq!(b.get("/connectors/999999").await.status, 404);
}

async fn start_sim(tool: Tool) -> Box<dyn ScannerSim> {
    simulators::scanners::start_seeded(tool, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// The simulator's one secret (Semgrep: `token`).
fn token(sim: &dyn ScannerSim) -> String {
    sim.secrets()[0].1.clone()
}

/// Asserts no page shows a secret.
#[track_caller]
fn no_secret(page: &Page, secrets: &[&str]) {
    for s in secrets {
        assert!(!page.body.contains(s), "secret {s} shown: {}", page.body);
    }
}

async fn connectors_in_db(ui: &Ui) -> Vec<domain::connector::Connector> {
    let mut c = ui.t.db.conn().await.unwrap();
    store::connectors::list(&mut c).await.unwrap()
}

async fn records_in_db(ui: &Ui, k: i64) -> Vec<Record> {
    let mut c = ui.t.db.conn().await.unwrap();
    let f = RecordFilter { connector: Some(domain::ConnectorId(k)), state: None, mapped: None, product: None };
    store::connectors::list_records(&mut c, &f, PageRequest::new(Some(500), None)).await.unwrap().results
}

/// Adds a Semgrep connector for `sim` through the form (by hand only); returns its id.
async fn add_through_the_form(b: &Browser, sim: &dyn ScannerSim, label: &str) -> i64 {
    let form = b.get("/connectors/new?tool=semgrep").await;
    form.ok();
    let location = sim.location();
    let secret = token(sim);
    let r = b
        .post(
            "/connectors/new",
            &[
                ("csrf", &form.csrf()),
                ("tool", "semgrep"),
                ("label", label),
                ("location", &location),
                ("secrets.token", &secret),
                ("settings.discover_every_minutes", "0"),
                ("settings.sync_every_minutes", "0"),
                ("settings.full_sync_every", "4"),
                ("settings.options.issue_types", "sast, sca"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.location.unwrap();
    let id: i64 = to.trim_start_matches("/connectors/").split('?').next().unwrap().parse().unwrap();
    assert_eq!(to, format!("/connectors/{id}?done=added"));
    id
}

/// A worker beside the UI's server (same engine, so it opens the secrets the form sealed).
struct Worker(watch::Sender<bool>, tokio::task::JoinHandle<()>);

impl Worker {
    fn start(ui: &Ui) -> Worker {
        let (tx, rx) = watch::channel(false);
        let w = engine::Worker::new(
            ui.app.clone(),
            engine::jobs::registry(),
            engine::WorkerOptions { concurrency: 2, poll_interval: Duration::from_millis(50), ..engine::WorkerOptions::default() },
        );
        Worker(tx, tokio::spawn(w.run(rx)))
    }

    async fn stop(self) {
        let _ = self.0.send(true);
        let _ = self.1.await;
    }
}

/// Waits until every operation of connector `k` has ended; asserts they succeeded.
async fn operations_done(ui: &Ui, k: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ops = {
            let mut c = ui.t.db.conn().await.unwrap();
            let f = OperationFilter { connector: Some(domain::ConnectorId(k)), kind: None, status: None };
            store::connectors::list_operations(&mut c, &f, PageRequest::new(Some(50), None)).await.unwrap().results
        };
        if ops.iter().all(|o| matches!(o.status, OperationStatus::Succeeded | OperationStatus::Failed)) {
            for o in &ops {
                assert_eq!(o.status, OperationStatus::Succeeded, "{o:?}");
            }
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "operations still running: {ops:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `<tr>` of a Record on the connector page.
#[track_caller]
fn row<'a>(body: &'a str, record: &Record) -> &'a str {
    let at = body.find(&format!(r#"<tr id="record-{}">"#, record.id.0)).unwrap_or_else(|| panic!("no row for {} in {body}", record.name));
    let rest = &body[at..];
    &rest[..rest.find("</tr>").unwrap()]
}

async fn a_maintainer_adds_checks_edits_and_deletes_a_connector(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("maria", Some(Role::Maintainer)).await;
    let sim = start_sim(Tool::Semgrep).await;
    let secret = token(sim.as_ref());
    let b = Browser::logged_in(&ui, "maria").await;
    let mut pages = Vec::new();

    // Available tools each have an Add link to their form.
    let list = b.get("/connectors").await;
    for tool in Tool::ALL {
        assert!(list.ok().contains(&format!(r#"href="/connectors/new?tool={}""#, tool.as_str())), "{tool}");
    }
    let form = b.get("/connectors/new?tool=semgrep").await;
    let body = form.ok();
    for want in [
        r#"<label for="label">"#,
        r#"<label for="location">"#,
        r#"<label for="secrets.token">"#,
        r#"<label for="settings.discover_every_minutes">"#,
        r#"<label for="settings.sync_every_minutes">"#,
        r#"name="settings.auto_map""#,
        r#"<label for="settings.options.issue_types">"#,
        r#"value="https://semgrep.dev""#,
        "Web API scope",
        r#"<button type="submit">Save</button>"#,
    ] {
        assert!(body.contains(want), "{want} missing: {body}");
    }
    assert_eq!(b.get("/connectors/new?tool=nessus").await.status, 400);
    let csrf = form.csrf();
    let location = sim.location();

    // Invalid input: the form again, 422, the field named, what was typed kept but the
    // secret, and nothing written.
    let bad = b
        .post(
            "/connectors/new",
            &[
                ("csrf", &csrf),
                ("tool", "semgrep"),
                ("label", "Semgrep sim"),
                ("location", &location),
                ("secrets.token", &secret),
                ("settings.discover_every_minutes", "3"),
                ("settings.sync_every_minutes", "45"),
                ("settings.full_sync_every", "4"),
                ("settings.options.page_size", "700"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for want in ["settings.discover_every_minutes", "5 to 43,200", r#"value="Semgrep sim""#, r#"value="45""#, r#"value="700""#, r#"aria-invalid="true""#] {
        assert!(bad.body.contains(want), "{want} missing: {}", bad.body);
    }
    no_secret(&bad, &[&secret]);
    let no_token = b
        .post("/connectors/new", &[("csrf", &csrf), ("tool", "semgrep"), ("label", "Semgrep sim"), ("location", "not a url"), ("settings.discover_every_minutes", "0"), ("settings.sync_every_minutes", "0"), ("settings.full_sync_every", "4")])
        .await;
    assert_eq!(no_token.status, 422, "{}", no_token.body);
    assert!(no_token.body.contains("Not saved: location") && no_token.body.contains(r#"value="not a url""#), "{}", no_token.body);
    assert!(connectors_in_db(&ui).await.is_empty(), "nothing written");

    // Added: the connector page says so; the secret is stored sealed, never shown.
    let k = add_through_the_form(&b, sim.as_ref(), "Semgrep sim").await;
    let stored = connectors_in_db(&ui).await;
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].label.as_str(), stored[0].settings.discover_every_minutes), ("Semgrep sim", 0));
    assert_eq!(stored[0].settings.options.get("issue_types"), Some(&serde_json::json!("sast, sca")));
    let url = format!("/connectors/{k}");
    let page = b.get(&format!("{url}?done=added")).await;
    assert!(page.ok().contains("Connector added"), "{}", page.body);
    assert!(page.body.contains("issue_types = sast, sca"), "{}", page.body);
    pages.push(page);

    // A second one with the same label: 409, the form again.
    let dup = b
        .post("/connectors/new", &[("csrf", &csrf), ("tool", "semgrep"), ("label", "semgrep SIM"), ("location", &location), ("secrets.token", &secret), ("settings.discover_every_minutes", "0"), ("settings.sync_every_minutes", "0"), ("settings.full_sync_every", "4")])
        .await;
    assert_eq!(dup.status, 409, "{}", dup.body);
    assert!(dup.body.contains("already exists"), "{}", dup.body);
    pages.push(dup);

    // Check connection: the tool's checks, each passed.
    let check = b.post(&format!("{url}/check"), &[("csrf", &csrf)]).await;
    assert!(check.ok().contains("Check connection: <span class=\"badge badge-ok\">all passed"), "{}", check.body);
    assert!(!check.body.contains("check-fail"), "{}", check.body);
    pages.push(check);

    // Edit: filled in, secret fields empty; saving with them empty keeps the secret.
    let edit = b.get(&format!("{url}/edit")).await;
    for want in [r#"value="Semgrep sim""#, r#"name="secrets.token""#, "empty keeps it", r#"value="sast, sca""#, "<button type=\"submit\">Save</button>"] {
        assert!(edit.ok().contains(want), "{want} missing: {}", edit.body);
    }
    assert!(!edit.body.contains(r#"name="secrets.token" value"#));
    pages.push(edit);
    let save = |label: &'static str, sync: &'static str, token: String| {
        let b = &b;
        let csrf = csrf.clone();
        let location = location.clone();
        let url = url.clone();
        async move {
            b.post(
                &format!("{url}/edit"),
                &[
                    ("csrf", csrf.as_str()),
                    ("tool", "semgrep"),
                    ("label", label),
                    ("location", location.as_str()),
                    ("secrets.token", token.as_str()),
                    ("settings.discover_every_minutes", "0"),
                    ("settings.sync_every_minutes", sync),
                    ("settings.full_sync_every", "4"),
                    ("settings.auto_map", "true"),
                ],
            )
            .await
        }
    };
    let bad = save("Semgrep renamed", "2", String::new()).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains(r#"value="Semgrep renamed""#) && bad.body.contains("settings.sync_every_minutes"), "{}", bad.body);
    assert_eq!(connectors_in_db(&ui).await[0].label, "Semgrep sim", "nothing written");
    let r = save("Semgrep renamed", "90", String::new()).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some(format!("{url}?done=saved").as_str())), "{}", r.body);
    let k_now = &connectors_in_db(&ui).await[0];
    assert_eq!((k_now.label.as_str(), k_now.settings.sync_every_minutes, k_now.settings.auto_map), ("Semgrep renamed", 90, true));
    assert!(k_now.settings.options.get("issue_types").is_none(), "emptied option removed");
    let check = b.post(&format!("{url}/check"), &[("csrf", &csrf)]).await;
    assert!(check.ok().contains("all passed"), "the stored secret was kept: {}", check.body);
    // A new secret replaces it (this one the tool refuses).
    let r = save("Semgrep renamed", "90", "sgp_wrong_token_0000".into()).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let check = b.post(&format!("{url}/check"), &[("csrf", &csrf)]).await;
    assert!(check.ok().contains("badge-fail"), "{}", check.body);
    pages.push(check);
    for p in ["/connectors", &url, &format!("{url}/edit")] {
        pages.push(b.get(p).await);
    }
    for p in &pages {
        no_secret(p, &[&secret, "sgp_wrong_token_0000"]);
    }

    // Delete: gone, with a notice on the list.
    let r = b.post(&format!("{url}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/connectors?deleted=Semgrep+renamed")), "{}", r.body);
    let list = b.get(r.location.as_deref().unwrap()).await;
    assert!(list.ok().contains("Connector “Semgrep renamed” deleted"), "{}", list.body);
    assert!(connectors_in_db(&ui).await.is_empty());
    assert_eq!(b.get(&url).await.status, 404);
}

async fn records_are_discovered_then_mapped_ignored_restored_and_deleted(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("maria", Some(Role::Maintainer)).await;
    let shop = ui.world("Shop").await;
    let sim = start_sim(Tool::Semgrep).await;
    let b = Browser::logged_in(&ui, "maria").await;
    let k = add_through_the_form(&b, sim.as_ref(), "Semgrep sim").await;
    let url = format!("/connectors/{k}");
    let page = b.get(&url).await;
    assert!(page.ok().contains("None discovered yet"), "{}", page.body);
    let csrf = page.csrf();

    // Discover (by the button, run by a worker): the tool's projects, each `new`.
    sim.add_record("acme/sandbox", 2);
    let worker = Worker::start(&ui);
    let r = b.post(&format!("{url}/discover"), &[("csrf", &csrf)]).await;
    assert_eq!(r.location.as_deref(), Some(format!("{url}?queued=discover").as_str()));
    operations_done(&ui, k).await;
    let mut records = records_in_db(&ui, k).await;
    records.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(records.len(), sim.record_ids().len(), "{records:?}");
    assert!(records.len() >= 3);
    let page = b.get(&url).await;
    let body = page.ok();
    assert!(body.contains(&format!("Records ({})", records.len())), "{body}");
    for r in &records {
        let tr = row(body, r);
        assert!(tr.contains(&r.name) && tr.contains(r#"<span class="badge record-state state-new""#), "{tr}");
        assert!(tr.contains(">Map</button>") && tr.contains(">Ignore</button>") && tr.contains(">Delete</button>"), "{tr}");
        assert!(tr.contains(&format!(r#"<option value="{}">Shop</option>"#, shop.product.id.0)), "{tr}");
    }
    assert!(body.contains("<td>discover</td><td>succeeded</td><td>manual</td>"), "{body}");
    let (mapped, ignored, deleted) = (&records[0], &records[1], &records[2]);
    let decide = |r: &Record, form: Vec<(&'static str, String)>| {
        let path = format!("{url}/records/{}", r.id.0);
        let b = &b;
        let csrf = csrf.clone();
        async move {
            let mut f: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
            f.extend(form.iter().map(|(k, v)| (*k, v.as_str())));
            b.post(&path, &f).await
        }
    };

    // Map without a product: the page again, 422, nothing changed.
    let r = decide(mapped, vec![("action", "map".into()), ("product", String::new()), ("filter", String::new())]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Choose the product"), "{}", r.body);
    let r = decide(mapped, vec![("action", "map".into()), ("product", "999999".into())]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("product 999999 not found"), "{}", r.body);
    assert!(records_in_db(&ui, k).await.iter().all(|r| r.state == RecordState::New));

    // Map one to Shop (back to the filtered page it came from), ignore one, delete one.
    let r = decide(mapped, vec![("action", "map".into()), ("product", shop.product.id.0.to_string()), ("filter", "state=new".into())]).await;
    assert_eq!(r.location.as_deref(), Some(format!("{url}?state=new&done=mapped#records").as_str()), "{}", r.body);
    let r = decide(ignored, vec![("action", "ignore".into()), ("product", String::new())]).await;
    assert_eq!(r.location.as_deref(), Some(format!("{url}?done=ignored#records").as_str()), "{}", r.body);
    let r = b.post(&format!("{url}/records/{}/delete", deleted.id.0), &[("csrf", &csrf), ("product", "")]).await;
    assert_eq!(r.location.as_deref(), Some(format!("{url}?done=deleted#records").as_str()), "{}", r.body);

    let page = b.get(&format!("{url}?done=deleted")).await;
    let body = page.ok();
    assert!(body.contains("Record deleted"), "{body}");
    assert!(body.contains(&format!("Records ({})", records.len() - 1)), "{body}");
    assert!(!body.contains(&format!(r#"<tr id="record-{}">"#, deleted.id.0)), "deleted record gone");
    let tr = row(body, mapped);
    assert!(tr.contains("state-good\"") && tr.contains(&format!(r#"<a href="/products/{}">Shop</a>"#, shop.product.id.0)), "{tr}");
    assert!(tr.contains(">Remap</button>") && tr.contains("maria, "), "{tr}");
    assert!(tr.contains(&format!(r#"<option value="{}" selected>Shop</option>"#, shop.product.id.0)), "{tr}");
    let tr = row(body, ignored);
    assert!(tr.contains("state-ignored\"") && tr.contains(">Restore</button>") && !tr.contains(">Ignore</button>"), "{tr}");
    let after = records_in_db(&ui, k).await;
    assert_eq!(after.iter().find(|r| r.id == mapped.id).unwrap().product, Some(shop.product.id));
    assert_eq!(after.iter().find(|r| r.id == ignored.id).unwrap().state, RecordState::Ignored);

    // Filters: by state, by mapped or not.
    let only = |page: &Page, want: &[&Record]| {
        for r in records.iter().filter(|r| r.id != deleted.id) {
            let shown = page.body.contains(&format!(r#"<tr id="record-{}">"#, r.id.0));
            assert_eq!(shown, want.iter().any(|w| w.id == r.id), "{} in {}", r.name, page.body);
        }
    };
    let p = b.get(&format!("{url}?state=ignored")).await;
    assert!(p.ok().contains(r#"<option value="ignored" selected>"#));
    only(&p, &[ignored]);
    only(&b.get(&format!("{url}?mapped=true")).await, &[mapped]);
    let p = b.get(&format!("{url}?state=good&mapped=false")).await;
    assert!(p.ok().contains("No records match"), "{}", p.body);
    assert_eq!(b.get(&format!("{url}?state=bogus")).await.status, 400);

    // Restore the ignored one: `new` again (it has no product).
    let r = decide(ignored, vec![("action", "restore".into())]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get(&url).await;
    assert!(row(page.ok(), ignored).contains("state-new\""), "{}", page.body);

    // Sync imports the mapped record's findings; Discover brings the deleted one back.
    let r = b.post(&format!("{url}/sync"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    operations_done(&ui, k).await;
    b.post(&format!("{url}/discover"), &[("csrf", &csrf)]).await;
    operations_done(&ui, k).await;
    worker.stop().await;
    let page = b.get(&url).await;
    let body = page.ok();
    assert!(body.contains("<td>sync</td><td>succeeded</td><td>manual</td>"), "{body}");
    assert!(body.contains(&format!("Records ({})", records.len())), "{body}");
    assert!(records_in_db(&ui, k).await.iter().any(|r| r.external_id == deleted.external_id), "rediscovered");

    // A record of another connector is not found under this one.
    let other = add_through_the_form(&b, sim.as_ref(), "Semgrep two").await;
    let r = b.post(&format!("/connectors/{other}/records/{}", mapped.id.0), &[("csrf", &csrf), ("action", "ignore")]).await;
    assert_eq!(r.status, 404, "{}", r.body);
}

async fn readers_see_no_buttons_and_may_not_post(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("maria", Some(Role::Maintainer)).await;
    ui.user("rita", Some(Role::Reader)).await;
    let shop = ui.world("Shop").await;
    let sim = start_sim(Tool::Semgrep).await;
    let mb = Browser::logged_in(&ui, "maria").await;
    let k = add_through_the_form(&mb, sim.as_ref(), "Semgrep sim").await;
    let record = {
        let mut c = ui.t.db.conn().await.unwrap();
        let found = DiscoveredRecord { external_id: "p-1".into(), name: "storefront".into(), metadata: serde_json::json!({}) };
        store::connectors::create_record(&mut c, domain::ConnectorId(k), &found, None, None).await.unwrap()
    };
    let url = format!("/connectors/{k}");

    let rb = Browser::logged_in(&ui, "rita").await;
    let list = rb.get("/connectors").await;
    assert!(!list.ok().contains("/connectors/new"), "{}", list.body);
    let page = rb.get(&url).await;
    let body = page.ok();
    assert!(body.contains("storefront") && body.contains("state-new"), "{body}");
    for never in [">Discover</button>", ">Sync</button>", "Check connection", "/edit\"", "Delete", ">Map</button>", ">Ignore</button>", "— product —"] {
        assert!(!body.contains(never), "{never} shown to a reader: {body}");
    }
    let csrf = page.csrf();
    let pid = shop.product.id.0.to_string();
    assert_eq!(rb.get("/connectors/new?tool=semgrep").await.status, 403);
    assert_eq!(rb.get(&format!("{url}/edit")).await.status, 403);
    let token = token(sim.as_ref());
    for (path, form) in [
        ("/connectors/new".to_owned(), vec![("tool", "semgrep"), ("label", "Mine"), ("location", "https://semgrep.dev"), ("secrets.token", token.as_str())]),
        (format!("{url}/edit"), vec![("label", "Mine")]),
        (format!("{url}/delete"), vec![]),
        (format!("{url}/check"), vec![]),
        (format!("{url}/discover"), vec![]),
        (format!("{url}/records/{}", record.id.0), vec![("action", "map"), ("product", pid.as_str())]),
        (format!("{url}/records/{}", record.id.0), vec![("action", "map"), ("product", "")]),
        (format!("{url}/records/{}/delete", record.id.0), vec![]),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        let r = rb.post(&path, &f).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert!(r.body.contains("maintainer"), "{path}: {}", r.body);
    }
    assert_eq!(connectors_in_db(&ui).await.len(), 1);
    assert_eq!(records_in_db(&ui, k).await, vec![record]);
    // Without the CSRF token even a maintainer's form is refused.
    assert_eq!(mb.post(&format!("{url}/delete"), &[]).await.status, 403);
    assert_eq!(connectors_in_db(&ui).await.len(), 1);
}

/// The `rel` link of a page (`prev` or `next`), unescaped.
fn pager_link(body: &str, rel: &str) -> Option<String> {
    let at = body.find(&format!(r#"<a rel="{rel}" href=""#))? + rel.len() + 16;
    let end = body[at..].find('"')?;
    Some(body[at..at + end].replace("&amp;", "&").replace("&#38;", "&"))
}

/// A Semgrep connector stored directly (its secrets sealed with a throwaway key: these tests
/// never run it).
async fn semgrep_connector(c: &mut store::PooledConn, label: &str, token: &str) -> domain::connector::Connector {
    let cipher = secrets::Cipher::new(&secrets::MasterKey::generate());
    store::connectors::create(
        c,
        store::connectors::NewConnector {
            tool: Tool::Semgrep,
            label: label.into(),
            location: "https://semgrep.dev".into(),
            secrets: cipher.seal("connector-secrets", &format!(r#"{{"token":"{token}"}}"#)),
            settings: ConnectorSettings::default(),
        },
    )
    .await
    .unwrap()
}

fn rows_shown(body: &str) -> usize {
    body.matches(r#"<tr id="record-"#).count()
}

async fn records_are_paged_keeping_the_filter(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let shop = ui.world("Shop").await;
    // 230 records: every fifth ignored (46), one mapped.
    let k = {
        let mut c = ui.t.db.conn().await.unwrap();
        let k = semgrep_connector(&mut c, "Semgrep many", "sgp_x").await;
        for i in 0..230 {
            let found = DiscoveredRecord { external_id: format!("p-{i:03}"), name: format!("project-{i:03}"), metadata: serde_json::json!({}) };
            let r = store::connectors::create_record(&mut c, k.id, &found, (i == 7).then_some(shop.product.id), None).await.unwrap();
            if i % 5 == 0 {
                store::connectors::decide_record(&mut c, r.id, RecordState::Ignored, None, "admin").await.unwrap();
            }
        }
        k
    };
    let b = Browser::logged_in(&ui, "admin").await;
    let url = format!("/connectors/{}", k.id.0);

    // 100 a page by default, Next to the rest, Previous back; names sorted.
    let page = b.get(&url).await;
    let body = page.ok();
    assert!(body.contains("Records (230)") && body.contains("Showing 1–100 of 230"), "{body}");
    assert_eq!(rows_shown(body), 100);
    assert!(body.contains("project-000") && body.contains("project-099") && !body.contains("project-100"));
    assert_eq!(pager_link(body, "prev"), None);
    let next = pager_link(body, "next").expect("a Next link");
    assert_eq!(next, format!("{url}?offset=100#records"));
    let body = b.get(&next).await.ok().to_owned();
    assert!(body.contains("Showing 101–200 of 230") && body.contains("project-100") && !body.contains("project-099"), "{body}");
    assert_eq!(pager_link(&body, "prev").as_deref(), Some(format!("{url}#records").as_str()));
    let last = pager_link(&body, "next").unwrap();
    let body = b.get(&last).await.ok().to_owned();
    assert_eq!(rows_shown(&body), 30);
    assert!(body.contains("Showing 201–230 of 230") && body.contains("project-229"), "{body}");
    assert_eq!(pager_link(&body, "next"), None);

    // Filtered, with a page size: the links keep both, and so does the filter form.
    let page = b.get(&format!("{url}?state=ignored&limit=20")).await;
    let body = page.ok().to_owned();
    assert!(body.contains("Records (46)") && body.contains("Showing 1–20 of 46"), "{body}");
    assert_eq!(rows_shown(&body), 20);
    assert!(body.contains(r#"<input type="hidden" name="limit" value="20">"#), "{body}");
    let next = pager_link(&body, "next").unwrap();
    assert_eq!(next, format!("{url}?state=ignored&offset=20&limit=20#records"));
    let body = b.get(&next).await.ok().to_owned();
    let next = pager_link(&body, "next").unwrap();
    assert_eq!(next, format!("{url}?state=ignored&offset=40&limit=20#records"));
    let body = b.get(&next).await.ok().to_owned();
    assert_eq!(rows_shown(&body), 6);
    assert!(body.matches("state-ignored\"").count() >= 6, "{body}");
    assert_eq!(pager_link(&body, "prev").as_deref(), Some(format!("{url}?state=ignored&offset=20&limit=20#records").as_str()));
    // One page only: no pager.
    let body = b.get(&format!("{url}?mapped=true")).await.ok().to_owned();
    assert_eq!(rows_shown(&body), 1);
    assert!(!body.contains("Showing ") && pager_link(&body, "next").is_none(), "{body}");

    // A decision on the last page comes back to it, with the filter; restoring the last
    // ignored record of that page empties it, so the page shown is the new last one.
    let csrf = b.get(&url).await.csrf();
    let records = records_in_db(&ui, k.id.0).await;
    let on_last: Vec<&Record> = records.iter().filter(|r| r.state == RecordState::Ignored).collect();
    assert_eq!(on_last.len(), 46);
    let mut ignored: Vec<&Record> = on_last;
    ignored.sort_by(|a, b| a.name.cmp(&b.name));
    let filter = "state=ignored&offset=40&limit=20";
    for r in &ignored[40..] {
        let resp = b.post(&format!("{url}/records/{}", r.id.0), &[("csrf", csrf.as_str()), ("action", "restore"), ("filter", filter)]).await;
        assert_eq!(resp.status, 303, "{}", resp.body);
        assert_eq!(resp.location.as_deref(), Some(format!("{url}?{filter}&done=restored#records").as_str()));
    }
    let page = b.get(&format!("{url}?{filter}&done=restored")).await;
    let body = page.ok();
    assert!(body.contains("Record restored") && body.contains("Records (40)") && body.contains("Showing 21–40 of 40"), "{body}");
    assert_eq!(rows_shown(body), 20);
    assert_eq!(pager_link(body, "next"), None);

    // Out of range: brought in range, as the API's lists do; not a number: 400.
    let body = b.get(&format!("{url}?offset=-3&limit=0")).await.ok().to_owned();
    assert_eq!(rows_shown(&body), 1);
    assert!(body.contains("Showing 1–1 of 230"), "{body}");
    assert_eq!(b.get(&format!("{url}?offset=ten")).await.status, 400);
}

/// The form's field `name` (its `<div class="field…">`), to look for its error.
fn field<'a>(body: &'a str, name: &str) -> &'a str {
    let at = body.find(&format!(r#"id="{name}""#)).unwrap_or_else(|| panic!("no field {name}: {body}"));
    let start = body[..at].rfind(r#"<div class="field"#).unwrap();
    let end = body[at..].find(r#"<div class="field"#).map_or(body.len(), |e| at + e);
    &body[start..end]
}

async fn tool_options_are_checked_at_their_field(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("maria", Some(Role::Maintainer)).await;
    let b = Browser::logged_in(&ui, "maria").await;
    let csrf = b.get("/connectors/new?tool=snyk").await.csrf();

    // A Snyk organization that is not a UUID: refused on Add, at the Organization id field.
    let bad = b
        .post(
            "/connectors/new",
            &[
                ("csrf", &csrf),
                ("tool", "snyk"),
                ("label", "Snyk"),
                ("location", "https://api.snyk.io"),
                ("secrets.token", "snyk-t0ken"),
                ("settings.discover_every_minutes", "0"),
                ("settings.sync_every_minutes", "0"),
                ("settings.full_sync_every", "4"),
                ("settings.options.org", "acme"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("Not saved: settings.options.org: must be an organization id"), "{}", bad.body);
    let org = field(&bad.body, "settings.options.org");
    assert!(org.contains(r#"class="field invalid""#) && org.contains(r#"aria-invalid="true""#) && org.contains(r#"value="acme""#), "{org}");
    assert!(org.contains(r#"<p class="field-error">must be an organization id (a UUID"#), "{org}");
    assert!(!field(&bad.body, "settings.options.api_version").contains("field-error"));
    no_secret(&bad, &["snyk-t0ken"]);
    assert!(connectors_in_db(&ui).await.is_empty(), "nothing written");

    // A SonarQube connector edited with an issue type SonarQube does not have: refused at
    // Issue types, the stored settings unchanged.
    let sonar = [
        ("csrf", csrf.as_str()),
        ("tool", "sonarqube"),
        ("label", "Sonar"),
        ("location", "https://sonar.example.com"),
        ("settings.discover_every_minutes", "0"),
        ("settings.sync_every_minutes", "0"),
        ("settings.full_sync_every", "4"),
        ("settings.options.types", "VULNERABILITY, BUG"),
        ("settings.options.auth", "bearer"),
    ];
    let mut add = sonar.to_vec();
    add.push(("secrets.token", "squ_t0ken"));
    let r = b.post("/connectors/new", &add).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let k = connectors_in_db(&ui).await[0].clone();
    let mut edit = sonar.to_vec();
    edit.retain(|(n, _)| *n != "settings.options.types");
    edit.push(("settings.options.types", "VULNERABILITY, HOTSPOT"));
    let bad = b.post(&format!("/connectors/{}/edit", k.id.0), &edit).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let types = field(&bad.body, "settings.options.types");
    assert!(types.contains(r#"<p class="field-error">has &#39;HOTSPOT&#39;; use VULNERABILITY, BUG or CODE_SMELL"#), "{types}");
    assert!(types.contains(r#"value="VULNERABILITY, HOTSPOT""#), "{types}");
    assert_eq!(connectors_in_db(&ui).await[0].settings, k.settings, "unchanged");
}
