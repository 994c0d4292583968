//! Import and reimport semantics, end to end through the real parser and both databases.

use domain::reimport::Outcome;
use domain::{Actor, DedupScope, GroupBy, ProductId, Role, Severity, Status, UserId};
use engine::import::{ImportError, ImportOptions, ImportOutcome, Report, Target, run};
use engine::{App, Settings};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use store::testing::TestDb;
use store::{PageRequest, findings, groups, imports, products, tests};

store::both_backends!(
    import_creates_context_and_findings,
    missing_context_is_named,
    repeats_in_a_report_count_once,
    reimport_matches_closes_and_reactivates,
    unchanged_reimport_writes_nothing_but_last_seen,
    triage_survives_reimport,
    duplicates_across_tests_in_scope,
    close_old_findings_on_import,
    options_filter_and_override,
    groups_by_component,
    a_bad_file_leaves_nothing_behind,
    rights_are_checked,
);

fn app(db: store::Db) -> App {
    App::new(db, secrets::Cipher::new(&secrets::MasterKey::generate()), Settings::new("http://x"))
}

fn admin() -> Actor {
    Actor { user_id: UserId(1), username: "ci".into(), global_role: Some(Role::Admin), product_roles: BTreeMap::new() }
}

fn scan() -> &'static scanners::ScanType {
    scanners::find_scan_type("Generic Findings Import").unwrap()
}

fn report(findings: &[Value]) -> Report {
    Report::from_bytes(serde_json::to_vec(&json!({ "findings": findings })).unwrap(), Some("report.json"))
}

fn f(uid: &str, title: &str, severity: &str) -> Value {
    json!({"unique_id_from_tool": uid, "title": title, "severity": severity})
}

fn target() -> Target {
    Target {
        product_type_name: Some("Retail".into()),
        product_name: Some("Shop".into()),
        engagement_name: Some("CI".into()),
        ..Default::default()
    }
}

fn create() -> ImportOptions {
    ImportOptions { auto_create_context: true, ..Default::default() }
}

fn reimport() -> ImportOptions {
    ImportOptions { reimport: true, ..Default::default() }
}

async fn import(app: &App, opts: &ImportOptions, t: &Target, findings: &[Value]) -> Result<ImportOutcome, ImportError> {
    run(app, &admin(), scan(), t, opts, report(findings), &|_| {}).await
}

fn count(o: &ImportOutcome, outcome: Outcome) -> usize {
    o.import.findings.get(&outcome).map(|r| r.len()).unwrap_or(0)
}

async fn statuses(db: &store::Db, test: domain::TestId) -> BTreeMap<String, Status> {
    let mut c = db.conn().await.unwrap();
    findings::list(&mut c, &findings::Filter { test: Some(test), ..Default::default() }, &domain::Visibility::All, PageRequest::all())
        .await
        .unwrap()
        .results
        .into_iter()
        .map(|f| (f.title, f.status))
        .collect()
}

async fn import_creates_context_and_findings(t: TestDb) {
    let app = app(t.db.clone());
    let o = import(&app, &create(), &target(), &[f("1", "SQLi", "high"), f("2", "XSS", "medium"), f("3", "Banner", "info")]).await.unwrap();
    assert!(o.test_is_new);
    assert_eq!(count(&o, Outcome::Created), 3);
    assert_eq!(o.import.counts.created, 3);
    assert_eq!(o.import.kind, "import");
    assert_eq!(o.import.file_name.as_deref(), Some("report.json"));
    assert!(o.before.is_none());
    assert_eq!(o.after.total.total, 3);
    assert_eq!(o.after.high.active, 1);
    assert_eq!(o.delta["created"].total.total, 3);
    let mut c = t.db.conn().await.unwrap();
    let test = tests::get(&mut c, o.import.test).await.unwrap();
    assert_eq!(test.title, "Generic Findings Import", "test titled after the scan type by default");
    let p = products::get(&mut c, o.import.product).await.unwrap();
    assert_eq!(p.name, "Shop");
    assert!(p.product_type.is_some(), "product type created by name");
    let listed = imports::list(&mut c, &imports::Filter { test: Some(test.id), ..Default::default() }, &domain::Visibility::All, PageRequest::default()).await.unwrap();
    assert_eq!(listed.count, 1);
    let got = findings::list(&mut c, &findings::Filter { test: Some(test.id), ..Default::default() }, &domain::Visibility::All, PageRequest::all()).await.unwrap();
    assert!(got.results.iter().all(|f| f.hash_code.as_ref().is_some_and(|h| h.len() == 64)));
}

async fn missing_context_is_named(t: TestDb) {
    let app = app(t.db.clone());
    let err = import(&app, &ImportOptions::default(), &target(), &[f("1", "x", "low")]).await.unwrap_err();
    assert!(matches!(err, ImportError::NotFound { field: "product_name", .. }), "{err:?}");
    assert!(err.to_string().contains("auto_create_context"), "{err}");
    import(&app, &create(), &target(), &[f("1", "x", "low")]).await.unwrap();
    let err = import(&app, &reimport(), &Target { test_title: Some("nope".into()), ..target() }, &[]).await.unwrap_err();
    assert!(matches!(err, ImportError::NotFound { field: "test", .. }), "{err:?}");
    let err = import(&app, &create(), &Target { product_name: None, ..target() }, &[]).await.unwrap_err();
    assert!(matches!(err, ImportError::Invalid(ref v) if v.field == "product_name"), "{err:?}");
}

async fn repeats_in_a_report_count_once(t: TestDb) {
    let app = app(t.db.clone());
    let mut a = f("1", "SQLi", "high");
    a["endpoints"] = json!(["https://a.example/x"]);
    let mut b = f("1", "SQLi", "high");
    b["endpoints"] = json!(["https://b.example/x"]);
    // 1,500 copies of one more finding span two batches.
    let mut items = vec![a, b];
    items.extend((0..1500).map(|_| f("2", "Noise", "low")));
    let o = import(&app, &create(), &target(), &items).await.unwrap();
    assert_eq!(count(&o, Outcome::Created), 2);
    let mut c = t.db.conn().await.unwrap();
    let all = findings::list(&mut c, &findings::Filter { test: Some(o.import.test), ..Default::default() }, &domain::Visibility::All, PageRequest::all()).await.unwrap();
    let sqli = all.results.iter().find(|f| f.title == "SQLi").unwrap();
    assert_eq!(sqli.occurrences, 2);
    assert_eq!(sqli.endpoints.len(), 2, "endpoints of both copies");
    let noise = all.results.iter().find(|f| f.title == "Noise").unwrap();
    assert_eq!(noise.occurrences, 1500, "a repeat in a later batch adds to the first copy");
}

async fn reimport_matches_closes_and_reactivates(t: TestDb) {
    let app = app(t.db.clone());
    let first = import(&app, &create(), &target(), &[f("a", "A", "high"), f("b", "B", "medium"), f("c", "C", "low")]).await.unwrap();
    let test = first.import.test;

    let mut b_fixed = f("b", "B", "medium");
    b_fixed["status"] = json!("fixed");
    let o = import(&app, &reimport(), &target(), &[f("a", "A", "high"), b_fixed, f("d", "D", "critical")]).await.unwrap();
    assert_eq!(o.import.test, test, "reimport lands in the same test");
    assert_eq!(o.import.kind, "reimport");
    assert_eq!(count(&o, Outcome::Untouched), 1, "A");
    assert_eq!(count(&o, Outcome::Closed), 2, "B (scanner says fixed) and C (no longer reported)");
    assert_eq!(count(&o, Outcome::Created), 1, "D");
    assert_eq!(o.before.unwrap().total.active, 3);
    assert_eq!(o.after.total.active, 2);
    assert_eq!(o.after.total.is_mitigated, 2);
    let s = statuses(&t.db, test).await;
    assert_eq!(s["A"], Status::Active);
    assert_eq!(s["B"], Status::Closed);
    assert_eq!(s["C"], Status::Closed);
    assert_eq!(s["D"], Status::Active);

    // C comes back: reactivated. B stays fixed. A and D are still there.
    let o = import(&app, &reimport(), &target(), &[f("a", "A", "high"), f("c", "C", "low"), f("d", "D", "critical")]).await.unwrap();
    assert_eq!(count(&o, Outcome::Reactivated), 1);
    assert_eq!(statuses(&t.db, test).await["C"], Status::Active);
    let mut c = t.db.conn().await.unwrap();
    let hist = store::history::list(&mut c, domain::FindingId(o.import.findings[&Outcome::Reactivated].iter().next().unwrap())).await.unwrap();
    assert!(hist.iter().any(|h| h.action == "reactivated"), "{hist:?}");

    // Triage-less scanners: do_not_reactivate keeps B closed.
    let o = import(&app, &ImportOptions { do_not_reactivate: true, ..reimport() }, &target(), &[f("a", "A", "high"), f("b", "B", "medium"), f("c", "C", "low"), f("d", "D", "critical")]).await.unwrap();
    assert_eq!(count(&o, Outcome::Reactivated), 0);
    assert_eq!(statuses(&t.db, test).await["B"], Status::Closed);

    // Without close_old_findings, a missing finding stays open.
    let o = import(&app, &ImportOptions { close_old_findings: Some(false), ..reimport() }, &target(), &[f("a", "A", "high")]).await.unwrap();
    assert_eq!(count(&o, Outcome::Closed), 0);
    assert_eq!(statuses(&t.db, test).await["D"], Status::Active);
}

async fn unchanged_reimport_writes_nothing_but_last_seen(t: TestDb) {
    let app = app(t.db.clone());
    let items: Vec<Value> = (0..2500).map(|i| {
        let mut v = f(&i.to_string(), &format!("F{i}"), "medium");
        v["epss_score"] = json!(0.1);
        v
    }).collect();
    let first = import(&app, &create(), &target(), &items).await.unwrap();
    let mut c = t.db.conn().await.unwrap();
    let before = findings::list(&mut c, &findings::Filter { test: Some(first.import.test), ordering: findings::Ordering::Oldest, ..Default::default() }, &domain::Visibility::All, PageRequest::all()).await.unwrap();
    drop(c);
    let o = import(&app, &reimport(), &target(), &items).await.unwrap();
    assert_eq!(count(&o, Outcome::Untouched), 2500);
    assert_eq!(o.import.counts.updated + o.import.counts.created + o.import.counts.closed, 0);
    assert_eq!(o.import.findings[&Outcome::Untouched].len(), 2500);
    let mut c = t.db.conn().await.unwrap();
    let after = findings::list(&mut c, &findings::Filter { test: Some(first.import.test), ordering: findings::Ordering::Oldest, ..Default::default() }, &domain::Visibility::All, PageRequest::all()).await.unwrap();
    for (b, a) in before.results.iter().zip(&after.results) {
        assert_eq!(b.updated_at, a.updated_at, "untouched rows are not rewritten");
        assert!(a.last_seen > b.last_seen, "but they were seen again");
    }
    // A scanner-owned field changes: that finding is updated, its title stays.
    let mut changed = items.clone();
    changed[7]["epss_score"] = json!(0.9);
    changed[7]["title"] = json!("Renamed by the scanner");
    let o = import(&app, &reimport(), &target(), &changed).await.unwrap();
    assert_eq!(count(&o, Outcome::Updated), 1);
    let f7 = after.results.iter().find(|f| f.title == "F7").unwrap();
    let now = findings::get(&mut c, f7.id).await.unwrap();
    assert_eq!(now.epss_score, Some(0.9));
    assert_eq!(now.title, "F7", "matched by the tool's id; a person's view of the title is kept");
}

async fn triage_survives_reimport(t: TestDb) {
    let app = app(t.db.clone());
    let first = import(&app, &create(), &target(), &[f("a", "A", "high"), f("b", "B", "low")]).await.unwrap();
    let mut c = t.db.conn().await.unwrap();
    let all = findings::list(&mut c, &findings::Filter { test: Some(first.import.test), ..Default::default() }, &domain::Visibility::All, PageRequest::all()).await.unwrap();
    for mut fi in all.results {
        let st = if fi.title == "A" { Status::FalsePositive } else { Status::InProgress };
        fi.set_status(st, store::now(), "alice");
        findings::update(&mut c, &fi).await.unwrap();
    }
    drop(c);
    let o = import(&app, &reimport(), &target(), &[f("a", "A", "high"), f("b", "B", "low")]).await.unwrap();
    assert_eq!(count(&o, Outcome::Untouched), 2);
    let s = statuses(&t.db, first.import.test).await;
    assert_eq!(s["A"], Status::FalsePositive, "the scanner does not override a person");
    assert_eq!(s["B"], Status::InProgress);
    // The scanner's own verdict applies to open findings.
    let mut b = f("b", "B", "low");
    b["status"] = json!("risk_accepted");
    let o = import(&app, &reimport(), &target(), &[f("a", "A", "high"), b]).await.unwrap();
    assert_eq!(count(&o, Outcome::Updated), 1);
    assert_eq!(statuses(&t.db, first.import.test).await["B"], Status::RiskAccepted);
}

async fn duplicates_across_tests_in_scope(t: TestDb) {
    let app = app(t.db.clone());
    let first = import(&app, &create(), &target(), &[f("a", "A", "high"), f("b", "B", "low")]).await.unwrap();
    // A second, separate import (new test) of overlapping findings.
    let second = import(&app, &ImportOptions::default(), &Target { test_title: Some("second".into()), ..target() }, &[f("a", "A", "high"), f("z", "Z", "low")]).await.unwrap();
    assert_ne!(second.import.test, first.import.test);
    assert_eq!(count(&second, Outcome::Duplicate), 1);
    assert_eq!(count(&second, Outcome::Created), 1);
    let mut c = t.db.conn().await.unwrap();
    let dup = findings::get(&mut c, domain::FindingId(second.import.findings[&Outcome::Duplicate].iter().next().unwrap())).await.unwrap();
    assert_eq!(dup.status, Status::Duplicate);
    let orig = findings::get(&mut c, dup.duplicate_of.unwrap()).await.unwrap();
    assert_eq!((orig.test, orig.title.as_str()), (first.import.test, "A"));

    // With the test as scope, nothing is a duplicate.
    drop(c);
    let third = import(&app, &ImportOptions { deduplication_scope: DedupScope::Test, ..Default::default() }, &Target { test_title: Some("third".into()), ..target() }, &[f("a", "A", "high")]).await.unwrap();
    assert_eq!(count(&third, Outcome::Created), 1);

    // A fixed original starts no chain: the vulnerability that comes back is new.
    let mut c = t.db.conn().await.unwrap();
    let mut o = orig.clone();
    o.set_status(Status::Closed, store::now(), "alice");
    findings::update(&mut c, &o).await.unwrap();
    let third_copy = findings::list(&mut c, &findings::Filter { test: Some(third.import.test), ..Default::default() }, &domain::Visibility::All, PageRequest::all()).await.unwrap().results.remove(0);
    let mut tc = third_copy.clone();
    tc.set_status(Status::Closed, store::now(), "alice");
    findings::update(&mut c, &tc).await.unwrap();
    drop(c);
    let fourth = import(&app, &ImportOptions::default(), &Target { test_title: Some("fourth".into()), ..target() }, &[f("a", "A", "high")]).await.unwrap();
    assert_eq!(count(&fourth, Outcome::Created), 1, "{:?}", fourth.import.counts);
}

async fn close_old_findings_on_import(t: TestDb) {
    let app = app(t.db.clone());
    let first = import(&app, &create(), &target(), &[f("a", "A", "high"), f("b", "B", "low")]).await.unwrap();
    let second = import(
        &app,
        &ImportOptions { close_old_findings: Some(true), ..Default::default() },
        &Target { test_title: Some("nightly".into()), ..target() },
        &[f("a", "A", "high")],
    )
    .await
    .unwrap();
    assert_eq!(count(&second, Outcome::Closed), 1, "B of the earlier test of this scan type");
    let s = statuses(&t.db, first.import.test).await;
    assert_eq!((s["A"], s["B"]), (Status::Active, Status::Closed));
}

async fn options_filter_and_override(t: TestDb) {
    let app = app(t.db.clone());
    let opts = ImportOptions {
        minimum_severity: Severity::Medium,
        verified: Some(true),
        active: Some(false),
        tags: vec!["nightly".into()],
        apply_tags_to_findings: true,
        service: Some("billing".into()),
        scan_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 2),
        ..create()
    };
    let o = import(&app, &opts, &target(), &[f("1", "High one", "high"), f("2", "Low one", "low"), f("3", "Medium one", "medium")]).await.unwrap();
    assert_eq!(count(&o, Outcome::Created), 2, "below minimum_severity is skipped");
    let mut c = t.db.conn().await.unwrap();
    let all = findings::list(&mut c, &findings::Filter { test: Some(o.import.test), ..Default::default() }, &domain::Visibility::All, PageRequest::all()).await.unwrap();
    for f in all.results {
        assert!(f.verified);
        assert_eq!(f.status, Status::Closed, "active=false");
        assert_eq!(f.tags, ["nightly"]);
        assert_eq!(f.service.as_deref(), Some("billing"));
        assert_eq!(f.date, chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap());
    }
    let test = tests::get(&mut c, o.import.test).await.unwrap();
    assert_eq!(test.tags, ["nightly"]);
}

async fn groups_by_component(t: TestDb) {
    let app = app(t.db.clone());
    let comp = |uid: &str, c: &str| {
        let mut v = f(uid, &format!("vuln {uid}"), "high");
        v["component_name"] = json!(c);
        v
    };
    let opts = ImportOptions { group_by: Some(GroupBy::ComponentName), create_finding_groups_for_all_findings: false, ..create() };
    let o = import(&app, &opts, &target(), &[comp("1", "log4j"), comp("2", "log4j"), comp("3", "lodash")]).await.unwrap();
    let mut c = t.db.conn().await.unwrap();
    let gs = groups::list(&mut c, &groups::Filter { test: Some(o.import.test), ..Default::default() }, &domain::Visibility::All, PageRequest::all()).await.unwrap();
    assert_eq!(gs.results.len(), 1, "no group of one");
    assert_eq!((gs.results[0].name.as_str(), gs.results[0].finding_count), ("log4j", 2));
    assert_eq!(gs.results[0].group_by, GroupBy::ComponentName);
}

async fn a_bad_file_leaves_nothing_behind(t: TestDb) {
    let app = app(t.db.clone());
    // 2,500 good findings (written in batches) and then a broken one.
    let mut bytes = serde_json::to_vec(&json!({"findings": (0..2500).map(|i| f(&i.to_string(), "ok", "low")).collect::<Vec<_>>()})).unwrap();
    bytes.truncate(bytes.len() - 2);
    bytes.extend_from_slice(br#",{"title": "x", "severity": "urgent"}]}"#);
    let err = run(&app, &admin(), scan(), &target(), &create(), Report::from_bytes(bytes, None), &|_| {}).await.unwrap_err();
    assert!(matches!(err, ImportError::Parse(_) | ImportError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("urgent"), "{err}");
    let mut c = t.db.conn().await.unwrap();
    assert_eq!(products::list(&mut c, &Default::default(), &domain::Visibility::All, PageRequest::default()).await.unwrap().count, 0, "not even the auto-created product");
    assert_eq!(findings::list(&mut c, &Default::default(), &domain::Visibility::All, PageRequest::default()).await.unwrap().count, 0);
    // Truncated JSON: a positioned parse error.
    let err = run(&app, &admin(), scan(), &target(), &create(), Report::from_bytes(b"{\"findings\": [{\"title\": ".to_vec(), None), &|_| {}).await.unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
}

async fn rights_are_checked(t: TestDb) {
    let app = app(t.db.clone());
    let o = import(&app, &create(), &target(), &[f("1", "x", "low")]).await.unwrap();
    let pid = o.import.product;
    let as_role = |role: Role, p: ProductId| Actor {
        user_id: UserId(9),
        username: "u".into(),
        global_role: None,
        product_roles: [(p, role)].into_iter().collect(),
    };
    let reader = as_role(Role::Reader, pid);
    let err = run(&app, &reader, scan(), &target(), &reimport(), report(&[]), &|_| {}).await.unwrap_err();
    assert!(matches!(err, ImportError::Forbidden(ref m) if m.contains("writer")), "{err:?}");
    let writer = as_role(Role::Writer, pid);
    run(&app, &writer, scan(), &target(), &reimport(), report(&[f("1", "x", "low")]), &|_| {}).await.unwrap();
    let other = Target { product_name: Some("Brand new".into()), ..target() };
    let err = run(&app, &writer, scan(), &other, &create(), report(&[]), &|_| {}).await.unwrap_err();
    assert!(matches!(err, ImportError::Forbidden(ref m) if m.contains("global maintainer")), "{err:?}");
    let stranger = as_role(Role::Admin, ProductId(424242));
    let err = run(&app, &stranger, scan(), &target(), &reimport(), report(&[]), &|_| {}).await.unwrap_err();
    assert!(matches!(err, ImportError::NotFound { .. }), "another product's admin sees nothing: {err:?}");
}
