use crate::common::*;
use domain::*;
use store::findings::{self, Filter, Ordering};
use store::testing::TestDb;
use store::{PageRequest, StoreError, groups, history};

store::both_backends!(
    insert_many_keeps_order_and_fields,
    list_filters,
    newest_seen_first,
    update_and_history,
    groups_follow_their_findings,
    big_batches_cross_statement_limits,
);

fn rich(test: &Test) -> Finding {
    let mut n = NewFinding::new(test.id, Title::parse("title", "Log4Shell in log4j-core").unwrap(), Severity::Critical);
    n.description = "JNDI lookup → RCE. Ünïcödé ✓".into();
    n.cwe = Some(502);
    n.vulnerability_ids = vec!["cve-2021-44228".into(), "GHSA-jfh8-c2jp-5v3q".into()];
    n.cvss_v3_vector = Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into());
    n.cvss_v3_score = Some(10.0);
    n.epss_score = Some(0.97);
    n.known_exploited = true;
    n.component_name = Some("org.apache.logging.log4j:log4j-core".into());
    n.component_version = Some("2.14.1".into());
    n.component_purl = Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into());
    n.file_path = Some("pom.xml".into());
    n.line = Some(42);
    n.endpoints = vec![Endpoint::parse("https://shop.example.com:8443/api?x=1").unwrap()];
    n.unique_id_from_tool = Some("uid-1".into());
    n.vuln_id_from_tool = Some("SNYK-JAVA-ORGAPACHELOGGINGLOG4J-2314720".into());
    n.fix_available = Some(true);
    n.fix_version = Some("2.17.1".into());
    n.static_finding = true;
    n.tags = vec!["rce".into(), "kev".into()];
    n.cwes = vec![917, 502];
    n.cvss_v4_vector = Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into());
    n.cvss_v4_score = Some(9.3);
    n.epss_percentile = Some(0.99996);
    n.severity_justification = Some("CVSS v3 vector: …; vendor: CRITICAL".into());
    n.publish_date = chrono::NaiveDate::from_ymd_opt(2021, 12, 10);
    n.request_response = vec![RequestResponse { request: "GET / HTTP/1.1".into(), response: "HTTP/1.1 200 OK".into() }];
    n.occurrences = Some(3);
    n.normalize().unwrap().into_finding(test, store::now(), Some("abc123".into()))
}

async fn insert_many_keeps_order_and_fields(t: TestDb) {
    let w = world(&t.db, "Shop").await;
    let mut tx = t.db.begin().await.unwrap();
    let input = vec![
        rich(&w.test),
        finding(&w.test, "B", Severity::Low),
        finding(&w.test, "C", Severity::Info),
    ];
    let stored = findings::insert_many(&mut tx, input.clone(), findings::Seen::At).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored.iter().map(|f| f.title.as_str()).collect::<Vec<_>>(), ["Log4Shell in log4j-core", "B", "C"]);
    assert!(stored[0].id < stored[1].id && stored[1].id < stored[2].id);
    assert!(stored[0].id.0 > 6000, "findings ids are offset in tests: {}", stored[0].id);

    let mut c = t.db.conn().await.unwrap();
    let got = findings::get(&mut c, stored[0].id).await.unwrap();
    let mut expected = input[0].clone();
    expected.id = stored[0].id;
    assert_eq!(got, expected, "every field survives the round trip");
    assert_eq!(got.vulnerability_ids, ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(got.endpoints[0].port, Some(8443));
    assert_eq!(got.cwes, [502, 917], "primary first");
    assert_eq!(got.occurrences, 3);
    assert_eq!(got.request_response.len(), 1);
    assert_eq!(got.product, w.product.id);
    assert_eq!(got.engagement, w.engagement.id);

    let many = findings::get_many(&mut c, &[stored[2].id, FindingId(1), stored[0].id]).await.unwrap();
    assert_eq!(many.iter().map(|f| f.id).collect::<Vec<_>>(), [stored[0].id, stored[2].id]);
}

/// `-last_seen`: stored times and times read through the test's latest import sort together,
/// pages follow that order, and filters still apply.
async fn newest_seen_first(t: TestDb) {
    let w = world(&t.db, "Seen").await;
    let day = |d: i64| chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc() + chrono::Duration::days(d);
    let at = |title: &str, d: i64| {
        let mut f = finding(&w.test, title, Severity::Medium);
        f.last_seen = day(d);
        f
    };
    let mut tx = t.db.begin().await.unwrap();
    findings::insert_many(&mut tx, vec![at("Ten", 10), at("Thirty", 30), at("Twenty", 20)], findings::Seen::At).await.unwrap();
    // Listed by an import on day 25: read as that import's time.
    store::tests::set_last_import(&mut tx, w.test.id, day(25)).await.unwrap();
    let mut listed = at("Listed on 25", 0);
    listed.severity = Severity::Low;
    findings::insert_many(&mut tx, vec![listed], findings::Seen::ByImport).await.unwrap();
    tx.commit().await.unwrap();

    let list = |f: Filter, page: PageRequest| {
        let db = t.db.clone();
        async move {
            let mut c = db.conn().await.unwrap();
            let p = findings::list(&mut c, &f, &Visibility::All, page).await.unwrap();
            (p.count, p.results.into_iter().map(|f| (f.title.to_string(), f.last_seen)).collect::<Vec<_>>())
        }
    };
    let by_seen = Filter { ordering: Ordering::LastSeen, ..Default::default() };
    let (count, all) = list(by_seen.clone(), PageRequest::default()).await;
    assert_eq!(count, 4);
    assert_eq!(
        all,
        [("Thirty".into(), day(30)), ("Listed on 25".into(), day(25)), ("Twenty".into(), day(20)), ("Ten".into(), day(10))]
    );
    let (count, page) = list(by_seen.clone(), PageRequest::new(Some(2), Some(1))).await;
    assert_eq!((count, page.iter().map(|p| p.0.as_str()).collect::<Vec<_>>()), (4, vec!["Listed on 25", "Twenty"]));
    let (count, medium) = list(Filter { severities: vec![Severity::Medium], ..by_seen }, PageRequest::default()).await;
    assert_eq!((count, medium.iter().map(|p| p.0.as_str()).collect::<Vec<_>>()), (3, vec!["Thirty", "Twenty", "Ten"]));
}

async fn list_filters(t: TestDb) {
    let w = world(&t.db, "Filters").await;
    let other = world(&t.db, "Other").await;
    let mut tx = t.db.begin().await.unwrap();
    let mut closed = finding(&w.test, "SQL injection in /cart", Severity::High);
    closed.status = Status::Closed;
    closed.cwe = Some(89);
    closed.file_path = Some("src/Cart.java".into());
    let mut medium = finding(&w.test, "Reflected XSS", Severity::Medium);
    medium.component_name = Some("Lodash".into());
    medium.verified = true;
    let stored = findings::insert_many(
        &mut tx,
        vec![rich(&w.test), closed, medium, finding(&other.test, "Elsewhere", Severity::High)],
        findings::Seen::At,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut c = t.db.conn().await.unwrap();
    let all = Visibility::All;
    let ids = |p: store::Page<Finding>| p.results.into_iter().map(|f| f.title).collect::<Vec<_>>();
    let db = t.db.clone();
    let run = |f: Filter| {
        let db = db.clone();
        async move {
            let mut c = db.conn().await.unwrap();
            findings::list(&mut c, &f, &Visibility::All, PageRequest::default()).await.unwrap()
        }
    };

    let by_product = run(Filter { product: Some(w.product.id), ..Default::default() }).await;
    assert_eq!(by_product.count, 3);
    assert_eq!(
        ids(by_product),
        ["Log4Shell in log4j-core", "SQL injection in /cart", "Reflected XSS"],
        "default order: most severe first"
    );
    assert_eq!(run(Filter { severities: vec![Severity::High, Severity::Medium], ..Default::default() }).await.count, 3);
    assert_eq!(ids(run(Filter { statuses: vec![Status::Closed], ..Default::default() }).await), ["SQL injection in /cart"]);
    assert_eq!(run(Filter { open: Some(true), ..Default::default() }).await.count, 3);
    assert_eq!(run(Filter { open: Some(false), ..Default::default() }).await.count, 1);
    assert_eq!(ids(run(Filter { cwe: Some(89), ..Default::default() }).await), ["SQL injection in /cart"]);
    assert_eq!(ids(run(Filter { vulnerability_id: Some("cve-2021-44228".into()), ..Default::default() }).await), ["Log4Shell in log4j-core"]);
    assert_eq!(ids(run(Filter { component: Some("lodash".into()), ..Default::default() }).await), ["Reflected XSS"]);
    assert_eq!(ids(run(Filter { text: Some("cart.JAVA".into()), ..Default::default() }).await), ["SQL injection in /cart"]);
    assert_eq!(run(Filter { text: Some("100%_".into()), ..Default::default() }).await.count, 0, "wildcards are literal");
    assert_eq!(run(Filter { verified: Some(true), ..Default::default() }).await.count, 1);
    assert_eq!(run(Filter { test: Some(other.test.id), ..Default::default() }).await.count, 1);
    assert_eq!(run(Filter { engagement: Some(w.engagement.id), ..Default::default() }).await.count, 3);
    assert_eq!(run(Filter { scan_type: Some("Semgrep JSON Report".into()), ..Default::default() }).await.count, 4);
    assert_eq!(run(Filter { scan_type: Some("SARIF".into()), ..Default::default() }).await.count, 0);
    let oldest = run(Filter { ordering: Ordering::Oldest, ..Default::default() }).await;
    assert_eq!(oldest.results[0].id, stored[0].id);

    let only_other = Visibility::Only(vec![other.product.id]);
    let seen = findings::list(&mut c, &Filter::default(), &only_other, PageRequest::default()).await.unwrap();
    assert_eq!(ids(seen), ["Elsewhere"]);

    let page = findings::list(&mut c, &Filter::default(), &all, PageRequest::new(Some(2), Some(1))).await.unwrap();
    assert_eq!(page.count, 4);
    assert_eq!(page.results.len(), 2);

    let counts = findings::open_counts_by_severity(&mut c, &all).await.unwrap();
    assert_eq!(counts, [0, 0, 1, 1, 1], "[info, low, medium, high, critical]; the closed one is not open");
    let by_product = findings::open_counts_by_product(&mut c, &all).await.unwrap();
    let mut summed = [0i64; 5];
    for (_, n) in &by_product {
        for (s, x) in summed.iter_mut().zip(n) {
            *s += x;
        }
    }
    assert_eq!(summed, counts, "per product adds up to the totals");
    let theirs = findings::open_counts_by_product(&mut c, &only_other).await.unwrap();
    assert!(theirs.iter().all(|(p, _)| *p == other.product.id), "{theirs:?}");
}

async fn update_and_history(t: TestDb) {
    let w = world(&t.db, "Upd").await;
    let mut tx = t.db.begin().await.unwrap();
    let f = findings::insert_many(&mut tx, vec![rich(&w.test)], findings::Seen::At).await.unwrap().remove(0);
    let before = f.clone();
    let mut after = f.clone();
    let mut patch = FindingPatch {
        status: Some(Status::Closed),
        vulnerability_ids: Some(vec!["CVE-2021-45046".into()]),
        cwe: Some(None),
        ..Default::default()
    };
    patch.check().unwrap();
    after.apply(patch, store::now(), "alice");
    let saved = findings::update(&mut tx, &after).await.unwrap();
    assert_eq!(saved.status, Status::Closed);
    assert_eq!(saved.mitigated_by.as_deref(), Some("alice"));
    assert!(saved.mitigated_at.is_some());
    assert_eq!(saved.cwe, None);
    assert_eq!(saved.vulnerability_ids, ["CVE-2021-45046"]);
    let changes = Finding::diff(&before, &saved);
    history::record(&mut tx, f.id, "alice", "updated", changes).await.unwrap();
    tx.commit().await.unwrap();

    let mut c = t.db.conn().await.unwrap();
    let h = history::list(&mut c, f.id).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].changes["status"]["from"], "active");
    assert_eq!(h[0].changes["status"]["to"], "closed");
    assert!(h[0].changes.get("title").is_none());
    let by_new_id = findings::list(&mut c, &Filter { vulnerability_id: Some("CVE-2021-45046".into()), ..Default::default() }, &Visibility::All, PageRequest::default()).await.unwrap();
    assert_eq!(by_new_id.count, 1);
    let by_old_id = findings::list(&mut c, &Filter { vulnerability_id: Some("CVE-2021-44228".into()), ..Default::default() }, &Visibility::All, PageRequest::default()).await.unwrap();
    assert_eq!(by_old_id.count, 0, "replaced ids no longer match");

    let mut ghost = saved.clone();
    ghost.id = FindingId(123_456_789);
    assert!(findings::update(&mut c, &ghost).await.unwrap_err().is_not_found());
}

async fn groups_follow_their_findings(t: TestDb) {
    let w = world(&t.db, "Grp").await;
    let mut tx = t.db.begin().await.unwrap();
    let g = groups::create(&mut tx, &w.test, "log4j-core", GroupBy::ComponentName).await.unwrap();
    assert_eq!(g.finding_count, 0);
    assert_eq!(g.status, Status::Closed, "an empty group is closed");
    let dup = groups::create(&mut tx, &w.test, "log4j-core", GroupBy::ComponentName).await.unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)));
    tx.rollback().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    let mut closed = finding(&w.test, "old", Severity::Critical);
    closed.status = Status::Closed;
    let fs = findings::insert_many(
        &mut tx,
        vec![finding(&w.test, "a", Severity::Low), finding(&w.test, "b", Severity::High), closed],
        findings::Seen::At,
    )
    .await
    .unwrap();
    let g = groups::get_or_create(&mut tx, &w.test, "log4j-core", GroupBy::ComponentName).await.unwrap();
    let again = groups::get_or_create(&mut tx, &w.test, "log4j-core", GroupBy::ComponentName).await.unwrap();
    assert_eq!(g.id, again.id);
    let ids: Vec<_> = fs.iter().map(|f| f.id).collect();
    assert_eq!(findings::set_group(&mut tx, &ids, Some(g.id)).await.unwrap(), 3);
    let g = groups::get(&mut tx, g.id).await.unwrap();
    assert_eq!(g.finding_count, 3);
    assert_eq!(g.severity, Severity::Critical, "the worst member, even if closed");
    assert_eq!(g.status, Status::Active, "open while any member is open");
    let members = findings::list(&mut tx, &Filter { finding_group: Some(g.id), ..Default::default() }, &Visibility::All, PageRequest::default()).await.unwrap();
    assert_eq!(members.count, 3);

    let listed = groups::list(&mut tx, &groups::Filter { product: Some(w.product.id), ..Default::default() }, &Visibility::All, PageRequest::default()).await.unwrap();
    assert_eq!(listed.results, vec![g.clone()]);
    let hidden = groups::list(&mut tx, &Default::default(), &Visibility::Only(vec![]), PageRequest::default()).await.unwrap();
    assert_eq!(hidden.count, 0);

    let renamed = groups::rename(&mut tx, g.id, "log4j").await.unwrap();
    assert_eq!(renamed.name, "log4j");
    groups::delete(&mut tx, g.id).await.unwrap();
    let f = findings::get(&mut tx, fs[0].id).await.unwrap();
    assert_eq!(f.finding_group, None, "deleting a group keeps its findings");
    tx.commit().await.unwrap();
}

/// 1,234 findings with two ids each: several INSERT statements and id chunks.
async fn big_batches_cross_statement_limits(t: TestDb) {
    let w = world(&t.db, "Big").await;
    let batch: Vec<Finding> = (0..1234)
        .map(|i| {
            let mut f = finding(&w.test, &format!("finding {i:04}"), Severity::ALL[i % 5]);
            f.vulnerability_ids = vec![format!("CVE-2026-{i:05}"), "CWE-79".into()];
            f
        })
        .collect();
    let mut tx = t.db.begin().await.unwrap();
    let stored = findings::insert_many(&mut tx, batch, findings::Seen::At).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored.len(), 1234);
    for (i, f) in stored.iter().enumerate() {
        assert_eq!(f.title, format!("finding {i:04}"), "ids map back to the right input");
    }
    let mut c = t.db.conn().await.unwrap();
    let got = findings::get_many(&mut c, &stored.iter().map(|f| f.id).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(got.len(), 1234);
    assert_eq!(got[1233].vulnerability_ids, ["CVE-2026-01233", "CWE-79"]);
    let p = findings::list(&mut c, &Filter { vulnerability_id: Some("CWE-79".into()), ..Default::default() }, &Visibility::All, PageRequest::new(Some(10), None)).await.unwrap();
    assert_eq!(p.count, 1234);
}
