//! The findings list (filters, sorting, paging, the ticket column, roles) and a finding's page
//! (fields, tickets, Push to Integrators).

use crate::harness::{Browser, Ui};
use domain::Role;
use serde_json::json;
use store::testing::TestDb;

store::both_backends!(
    list_filters_sorts_and_pages,
    ticket_column_shows_icon_key_link,
    product_roles_limit_what_is_seen,
    detail_and_push,
    bulk_push_from_the_list,
    bulk_status_change,
    bulk_group
);

/// The order in which titles appear on a page.
fn order(body: &str, titles: &[&str]) -> Vec<usize> {
    titles.iter().map(|t| body.find(&format!(">{t}</a>")).unwrap_or_else(|| panic!("{t} not on the page"))).collect()
}

async fn list_filters_sorts_and_pages(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let shop = ui.world("Shop").await;
    let other = ui.world("Elsewhere").await;
    ui.findings(
        &shop.test,
        vec![
            json!({"title": "Log4Shell in log4j-core", "severity": "critical", "component_name": "log4j-core", "component_version": "2.14.1", "vulnerability_ids": ["CVE-2021-44228"]}),
            json!({"title": "SQL injection in /cart", "severity": "high", "cwe": 89, "file_path": "src/Cart.java"}),
            json!({"title": "Reflected XSS", "severity": "medium", "cwe": 79, "status": "closed"}),
            json!({"title": "<script>alert(1)</script>", "severity": "low"}),
        ],
    )
    .await;
    ui.findings(&other.test, (0..60).map(|i| json!({"title": format!("Bulk {i:02}"), "severity": "info"})).collect()).await;
    let b = Browser::logged_in(&ui, "admin").await;

    let all = b.get("/findings").await;
    assert!(all.ok().contains("Showing 1–50 of 64 findings"), "{}", all.body);
    // Default order: most severe first.
    let pos = order(&all.body, &["Log4Shell in log4j-core", "SQL injection in /cart", "Reflected XSS"]);
    assert!(pos[0] < pos[1] && pos[1] < pos[2]);
    // User data is escaped.
    assert!(all.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "escaped title");
    assert!(!all.body.contains("<script>alert(1)</script>"));
    // Severity badges carry their colour class.
    assert!(all.body.contains(r#"<span class="sev sev-critical">Critical</span>"#));
    assert!(all.body.contains(r#"<span class="sev sev-info">Info</span>"#));

    let only = |body: &str, want: &[&str], not: &[&str]| {
        for w in want {
            assert!(body.contains(w), "{w} missing");
        }
        for n in not {
            assert!(!body.contains(n), "{n} should be filtered out");
        }
    };
    let r = b.get("/findings?severity=critical&severity=high").await;
    only(r.ok(), &["Log4Shell", "SQL injection"], &["Reflected XSS", "Bulk 59"]);
    assert!(r.body.contains("of 2 findings"));
    only(b.get("/findings?status=closed").await.ok(), &["Reflected XSS"], &["Log4Shell", "Bulk 59"]);
    only(b.get("/findings?cwe=CWE-89").await.ok(), &["SQL injection"], &["Reflected XSS"]);
    only(b.get("/findings?vulnerability_id=cve-2021-44228").await.ok(), &["Log4Shell"], &["SQL injection"]);
    only(b.get("/findings?component=LOG4J").await.ok(), &["Log4Shell", "log4j-core 2.14.1"], &["SQL injection"]);
    only(b.get("/findings?q=cart.java").await.ok(), &["SQL injection"], &["Log4Shell"]);
    only(b.get(&format!("/findings?product={}", other.product.id.0)).await.ok(), &["Bulk 59", "of 60 findings"], &["Log4Shell"]);
    only(b.get("/findings?scan_type=Semgrep+JSON+Report&severity=info&limit=100").await.ok(), &["of 60 findings"], &["Log4Shell"]);
    // Empty form fields are no filter.
    assert!(b.get("/findings?severity=&product=&cwe=&q=").await.ok().contains("of 64 findings"));

    // Sorting: by title, and the header links toggle and keep the filters.
    let r = b.get("/findings?severity=info&ordering=title").await;
    let pos = order(r.ok(), &["Bulk 00", "Bulk 01", "Bulk 02"]);
    assert!(pos[0] < pos[1] && pos[1] < pos[2]);
    assert!(r.body.contains(r#"href="/findings?severity=info&#38;ordering=-severity""#), "{}", r.body);
    let r = b.get("/findings?severity=info&ordering=-id").await;
    let pos = order(r.ok(), &["Bulk 59", "Bulk 58"]);
    assert!(pos[0] < pos[1]);

    // Paging.
    let r = b.get("/findings?severity=info&ordering=title&limit=25&offset=25").await;
    assert!(r.ok().contains("Showing 26–50 of 60 findings"), "{}", r.body);
    only(&r.body, &["Bulk 25", "Bulk 49"], &["Bulk 24<", "Bulk 50<"]);
    assert!(r.body.contains(r#"rel="prev""#) && r.body.contains(r#"rel="next""#));
    let last = b.get("/findings?severity=info&ordering=title&limit=25&offset=50").await;
    assert!(last.ok().contains("Showing 51–60 of 60"));
    assert!(!last.body.contains(r#"rel="next""#));

    // htmx asks for the table alone.
    let frag = b.get_with("/findings?severity=critical", &[("hx-request", "true"), ("hx-target", "results")]).await;
    assert!(frag.ok().trim_start().starts_with(r#"<section id="results""#), "{}", frag.body);
    assert!(!frag.body.contains("<html") && frag.body.contains("Log4Shell"));

    // Bad values are named, not a crash.
    let r = b.get("/findings?severity=urgent&cwe=abc&ordering=colour&limit=7").await;
    assert_eq!(r.status, 400);
    for field in ["severity:", "cwe:", "ordering:", "limit:"] {
        assert!(r.body.contains(field), "{field} in {}", r.body);
    }
    // Also when htmx asks for the table alone (it swaps 400s in, see base.html).
    let r = b.get_with("/findings?cwe=abc", &[("hx-request", "true"), ("hx-target", "results")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.starts_with(r#"<section id="results""#) && r.body.contains("is not a CWE number (79 or CWE-79)"), "{}", r.body);
}

async fn ticket_column_shows_icon_key_link(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let shop = ui.world("Shop").await;
    let f = ui.findings(&shop.test, vec![json!({"title": "SQLi", "severity": "high"}), json!({"title": "Odd link", "severity": "low"})]).await;
    let (i, m) = ui.github(shop.product.id).await;
    ui.ticket(&i, &m, f[0].id, "acme/storefront#12", "https://github.com/acme/storefront/issues/12").await;
    ui.ticket(&i, &m, f[1].id, "acme/storefront#13", "javascript:alert(1)").await;
    let b = Browser::logged_in(&ui, "admin").await;
    let page = b.get("/findings").await;
    let body = page.ok();
    assert!(body.contains("Integrator Tickets"));
    assert!(body.contains(r#"aria-label="GitHub""#), "the vendor's icon");
    assert!(body.contains("acme/storefront#12"));
    assert!(body.contains(r#"href="https://github.com/acme/storefront/issues/12" target="_blank" rel="noopener noreferrer""#), "{body}");
    assert!(body.contains("Linked ") && body.contains("Last changed "), "the changelog on click");
    assert!(body.contains("GitHub ticket · linked "), "and on hover");
    // A ticket URL that is not a web address is shown, never linked.
    assert!(body.contains("acme/storefront#13"));
    assert!(!body.contains("javascript:alert"), "{body}");
    assert!(!body.contains("ghp_secret_never_shown"));
}

async fn product_roles_limit_what_is_seen(t: TestDb) {
    let ui = Ui::start(t).await;
    let bob = ui.user("bob", None).await;
    let shop = ui.world("Shop").await;
    let other = ui.world("Elsewhere").await;
    ui.member(shop.product.id, bob, Role::Reader).await;
    ui.findings(&shop.test, vec![json!({"title": "Shop finding", "severity": "high"})]).await;
    let hidden = ui.findings(&other.test, vec![json!({"title": "Hidden finding", "severity": "critical"})]).await;
    let b = Browser::logged_in(&ui, "bob").await;
    let page = b.get("/findings").await;
    assert!(page.ok().contains("Shop finding"));
    assert!(!page.body.contains("Hidden finding"));
    assert!(!page.body.contains("Elsewhere"), "not even in the product filter");
    assert!(page.body.contains("of 1 findings"));
    // Asking for the other product by id shows nothing either.
    let r = b.get(&format!("/findings?product={}", other.product.id.0)).await;
    assert!(!r.ok().contains("Hidden finding"));
    // Its finding's page is a 404, like a finding that does not exist.
    let r = b.get(&format!("/findings/{}", hidden[0].id.0)).await;
    assert_eq!(r.status, 404);
    assert_eq!(b.get("/findings/99999999").await.status, 404);
    assert_eq!(b.get("/findings/abc").await.status, 400);
}

async fn detail_and_push(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let reader = ui.user("rita", None).await;
    let shop = ui.world("Shop").await;
    let bare = ui.world("Unassigned").await;
    ui.member(shop.product.id, reader, Role::Reader).await;
    let f = ui
        .findings(
            &shop.test,
            vec![json!({
                "title": "SQL injection in /cart", "severity": "high", "cwe": 89, "description": "User input reaches the query.",
                "mitigation": "Use bound parameters.", "file_path": "src/Cart.java", "line": 42, "vulnerability_ids": ["CVE-2024-0001"]
            })],
        )
        .await
        .remove(0);
    let lonely = ui.findings(&bare.test, vec![json!({"title": "Nobody pushes me", "severity": "low"})]).await.remove(0);
    let (i, m) = ui.github(shop.product.id).await;
    ui.ticket(&i, &m, f.id, "acme/storefront#12", "https://github.com/acme/storefront/issues/12").await;

    let b = Browser::logged_in(&ui, "admin").await;
    let page = b.get(&format!("/findings/{}", f.id.0)).await;
    let body = page.ok();
    for want in [
        "SQL injection in /cart",
        r#"<span class="sev sev-high">High</span>"#,
        "CWE-89",
        "CVE-2024-0001",
        "src/Cart.java:42",
        "User input reaches the query.",
        "Use bound parameters.",
        "acme/storefront#12",
        "opened by vulnbridge",
        "Push to Integrators",
        "Semgrep (Semgrep JSON Report)",
    ] {
        assert!(body.contains(want), "{want} missing from {body}");
    }
    let crumbs = format!(
        r#"<a href="/products/{}">Shop</a> › <a href="/findings?engagement={}">CI</a> › <a href="/findings?test={}">Semgrep</a>"#,
        shop.product.id.0, shop.test.engagement.0, shop.test.id.0
    );
    assert!(body.contains(&crumbs), "Products → Engagement → Test: {body}");
    assert!(!body.contains("ghp_secret_never_shown"));

    // Triage: the status changes, with history, and the page shows it.
    let r = b.post(&format!("/findings/{}/status", f.id.0), &[("csrf", page.csrf().as_str()), ("status", "in_progress")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let again = b.get(&format!("/findings/{}", f.id.0)).await;
    assert!(again.ok().contains("· In Progress ·"), "{}", again.body);
    assert!(again.body.contains(r#"<option value="in_progress" selected>"#));
    let r = b.post(&format!("/findings/{}/status", f.id.0), &[("csrf", page.csrf().as_str()), ("status", "done-ish")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("status:"), "{}", r.body);

    // Push: the same queueing as the API's push endpoint.
    let csrf = page.csrf();
    assert_eq!(b.post(&format!("/findings/{}/push", f.id.0), &[]).await.status, 403, "CSRF first");
    let r = b.post(&format!("/findings/{}/push", f.id.0), &[("csrf", &csrf)]).await;
    assert!(r.ok().contains("Queued 1 push to integrators"), "{}", r.body);
    let mut c = ui.t.db.conn().await.unwrap();
    let jobs = store::jobs::list(&mut c, &store::jobs::Filter { queue: Some("push".into()), ..Default::default() }, store::PageRequest::all()).await.unwrap();
    assert_eq!(jobs.count, 1, "one push queued");
    drop(c);
    // Nothing assigned: the page says why nothing was queued.
    let r = b.post(&format!("/findings/{}/push", lonely.id.0), &[("csrf", &csrf)]).await;
    assert!(r.ok().contains("Nothing was queued."), "{}", r.body);

    // A reader sees the finding but no push button, and cannot push.
    let rb = Browser::logged_in(&ui, "rita").await;
    let page = rb.get(&format!("/findings/{}", f.id.0)).await;
    assert!(!page.ok().contains("Push to Integrators</button>"));
    let r = rb.post(&format!("/findings/{}/push", f.id.0), &[("csrf", &page.csrf())]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("writer role"), "{}", r.body);
    assert!(!page.body.contains(&format!(r#"action="/findings/{}/status""#, f.id.0)), "no triage form for readers");
    let r = rb.post(&format!("/findings/{}/status", f.id.0), &[("csrf", &page.csrf()), ("status", "closed")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
}

async fn bulk_push_from_the_list(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let reader = ui.user("rita", None).await;
    let shop = ui.world("Shop").await;
    let bare = ui.world("Unassigned").await;
    let secret = ui.world("Secret").await;
    ui.member(shop.product.id, reader, Role::Reader).await;
    let f = ui.findings(&shop.test, vec![json!({"title": "One", "severity": "high"}), json!({"title": "Two", "severity": "low"})]).await;
    let lonely = ui.findings(&bare.test, vec![json!({"title": "Lonely", "severity": "low"})]).await.remove(0);
    let hidden = ui.findings(&secret.test, vec![json!({"title": "Hidden", "severity": "low"})]).await.remove(0);
    ui.github(shop.product.id).await;

    let b = Browser::logged_in(&ui, "admin").await;
    let list = b.get("/findings?severity=high&severity=low").await;
    assert!(list.ok().contains("Push selected to Integrators"));
    assert!(list.body.contains(&format!(r#"name="finding" value="{}" form="bulk""#, f[0].id.0)));
    let csrf = list.csrf();
    let (a, c, l) = (f[0].id.0.to_string(), f[1].id.0.to_string(), lonely.id.0.to_string());
    let form = [("csrf", csrf.as_str()), ("finding", a.as_str()), ("finding", c.as_str()), ("finding", l.as_str()), ("back", "/findings?severity=high")];
    let r = b.post("/findings/push", &form).await;
    let body = r.ok();
    assert!(body.contains("3 findings selected: queued 2 pushes"), "{body}");
    assert!(body.contains(&format!("finding {l}")), "the one not queued, and why: {body}");
    assert!(body.contains(r#"href="/findings?severity=high""#), "back to the list as it was");
    let mut conn = ui.t.db.conn().await.unwrap();
    let jobs = store::jobs::list(&mut conn, &store::jobs::Filter { queue: Some("push".into()), ..Default::default() }, store::PageRequest::all()).await.unwrap();
    assert_eq!(jobs.count, 2);
    drop(conn);

    // Nothing selected, or a malformed id: a clear message.
    let r = b.post("/findings/push", &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Select at least one finding."));
    let r = b.post("/findings/push", &[("csrf", csrf.as_str()), ("finding", "abc")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("&#39;abc&#39; is not a finding id") || r.body.contains("is not a finding id"), "{}", r.body);

    // A reader is offered no bulk push and cannot do one; nor push what they cannot see.
    let rb = Browser::logged_in(&ui, "rita").await;
    let list = rb.get("/findings").await;
    assert!(!list.ok().contains("Push selected to Integrators"));
    let rcsrf = list.csrf();
    let r = rb.post("/findings/push", &[("csrf", rcsrf.as_str()), ("finding", a.as_str())]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let h = hidden.id.0.to_string();
    let r = rb.post("/findings/push", &[("csrf", rcsrf.as_str()), ("finding", h.as_str())]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains(&format!("finding {h} not found")), "{}", r.body);
}

async fn bulk_status_change(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("admin", Some(Role::Admin)).await;
    let writer = ui.user("wanda", None).await;
    let shop = ui.world("Shop").await;
    let other = ui.world("Other").await;
    ui.member(shop.product.id, writer, Role::Writer).await;
    ui.member(other.product.id, writer, Role::Reader).await;
    let f = ui.findings(&shop.test, vec![json!({"title": "One", "severity": "high"}), json!({"title": "Two", "severity": "low"})]).await;
    let theirs = ui.findings(&other.test, vec![json!({"title": "Read only", "severity": "low"})]).await.remove(0);

    let b = Browser::logged_in(&ui, "wanda").await;
    let list = b.get("/findings").await;
    assert!(list.ok().contains(r#"formaction="/findings/status""#));
    let csrf = list.csrf();
    let (a, c, r) = (f[0].id.0.to_string(), f[1].id.0.to_string(), theirs.id.0.to_string());

    let done = b.post("/findings/status", &[("csrf", csrf.as_str()), ("finding", a.as_str()), ("finding", c.as_str()), ("status", "false_positive"), ("back", "/findings?severity=high")]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/findings?severity=high"));
    let mut conn = ui.t.db.conn().await.unwrap();
    for id in [f[0].id, f[1].id] {
        assert_eq!(store::findings::get(&mut conn, id).await.unwrap().status, domain::Status::FalsePositive);
        let h = store::history::list(&mut conn, id).await.unwrap();
        assert!(h.iter().any(|e| e.actor == "wanda" && e.changes.to_string().contains("false_positive")), "{h:?}");
    }
    drop(conn);

    // All or nothing: one finding the writer may only read stops the whole change.
    let r2 = b.post("/findings/status", &[("csrf", csrf.as_str()), ("finding", a.as_str()), ("finding", r.as_str()), ("status", "active")]).await;
    assert_eq!(r2.status, 403, "{}", r2.body);
    assert!(r2.body.contains("writer role"), "{}", r2.body);
    let mut conn = ui.t.db.conn().await.unwrap();
    assert_eq!(store::findings::get(&mut conn, f[0].id).await.unwrap().status, domain::Status::FalsePositive, "nothing changed");
    drop(conn);

    // No status, or a made-up one: a clear message.
    let r3 = b.post("/findings/status", &[("csrf", csrf.as_str()), ("finding", a.as_str())]).await;
    assert_eq!(r3.status, 400);
    assert!(r3.body.contains("Choose the status to set."));
    let r4 = b.post("/findings/status", &[("csrf", csrf.as_str()), ("finding", a.as_str()), ("status", "fixed-ish")]).await;
    assert_eq!(r4.status, 400);
    assert!(r4.body.contains("status:"), "{}", r4.body);
}

async fn bulk_group(t: TestDb) {
    let ui = Ui::start(t).await;
    let wanda = ui.user("wanda", None).await;
    let shop = ui.world("Shop").await;
    ui.member(shop.product.id, wanda, Role::Writer).await;
    let f = ui.findings(&shop.test, vec![json!({"title": "A", "severity": "high"}), json!({"title": "B", "severity": "low"}), json!({"title": "C", "severity": "low"})]).await;
    let other_test = {
        let mut c = ui.t.db.conn().await.unwrap();
        store::tests::create(&mut c, serde_json::from_value(json!({"engagement": shop.test.engagement, "title": "Snyk", "scan_type": "Snyk Scan"})).unwrap()).await.unwrap()
    };
    let elsewhere = ui.findings(&other_test, vec![json!({"title": "D", "severity": "low"})]).await.remove(0);
    let b = Browser::logged_in(&ui, "wanda").await;
    let list = b.get("/findings").await;
    assert!(list.ok().contains(r#"formaction="/findings/group""#));
    let csrf = list.csrf();
    let (a, c2, d) = (f[0].id.0.to_string(), f[1].id.0.to_string(), elsewhere.id.0.to_string());

    let r = b.post("/findings/group", &[("csrf", csrf.as_str()), ("finding", a.as_str()), ("finding", c2.as_str()), ("group", "lodash")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.location.clone().unwrap();
    assert!(to.starts_with("/findings?finding_group="), "{to}");
    let page = b.get(&to).await;
    assert!(page.ok().contains("Only group lodash") && page.body.contains("of 2 findings"), "{}", page.body);

    // One test per group; a name is needed.
    let r = b.post("/findings/group", &[("csrf", csrf.as_str()), ("finding", a.as_str()), ("finding", d.as_str()), ("group", "mixed")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("not to this group"), "{}", r.body);
    let r = b.post("/findings/group", &[("csrf", csrf.as_str()), ("finding", a.as_str()), ("group", "  ")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Name the group"), "{}", r.body);
}
