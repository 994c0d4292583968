//! Instances, mappings, assignments, tickets, the error table, rate budgets and webhook
//! deliveries, on both backends.

use crate::common::{finding, world};
use chrono::TimeDelta;
use domain::tracker::*;
use domain::*;
use serde_json::json;
use store::instances::{InstanceChanges, NewInstance};
use store::rate_limits::Bucket;
use store::testing::TestDb;
use store::tickets::{NewTicket, RemoteLink};
use store::{
    Db, PageRequest, StoreError, assignments, findings, installation, instances, jobs, mappings, now, push_errors,
    rate_limits, tickets, webhook_deliveries,
};

store::both_backends!(
    instances_keep_secrets_apart_and_labels_unique,
    mappings_check_their_vendor_and_labels,
    assignments_per_product_and_engagement,
    one_ticket_per_subject_per_mapping_and_its_life,
    a_ticket_is_pushed_by_one_live_job_at_a_time,
    the_error_table_counts_attempts_until_cleared,
    rate_budgets_are_shared_and_slide,
    deliveries_are_seen_once_and_the_installation_has_one_id,
    deleting_an_instance_takes_its_configuration_along,
    notes_and_reconcile_cursors,
);

async fn notes_and_reconcile_cursors(t: TestDb) {
    let w = world(&t.db, "Shop").await;
    let gh = instance(&t.db, "Jira", Vendor::Jira).await;
    let mut c = t.db.conn().await.unwrap();
    let f = findings::insert_many(&mut c, vec![finding(&w.test, "SQLi", Severity::High)], findings::Seen::At).await.unwrap().remove(0);
    let a = store::notes::add(&mut c, f.id, "alice", "Fixed in 1.2?", "vulnbridge", None).await.unwrap();
    let b = store::notes::add(&mut c, f.id, "carol@example.com", "Yes, deployed.", "tracker", None).await.unwrap();
    let all = store::notes::list(&mut c, f.id).await.unwrap();
    assert_eq!(all, vec![a, b.clone()]);
    assert_eq!(b.source, "tracker");
    let cfg = MappingConfig::defaults(MappingTarget::Jira {
        project: "SEC".into(),
        issue_type: "Bug".into(),
        space: JiraSpace::Security,
        components: vec![],
        priority: true,
        delete_rejected: false,
        close_security_issue_when_done: false,
        sync_comments: true,
    });
    let m = mappings::create(&mut c, gh.id, "sec", &cfg).await.unwrap();
    assert_eq!(store::cursors::get(&mut c, m.id).await.unwrap(), None);
    let t1 = now();
    store::cursors::advance(&mut c, m.id, t1).await.unwrap();
    store::cursors::advance(&mut c, m.id, t1 - TimeDelta::hours(1)).await.unwrap();
    assert_eq!(store::cursors::get(&mut c, m.id).await.unwrap(), Some(t1), "never moves back");
    store::cursors::advance(&mut c, m.id, t1 + TimeDelta::minutes(5)).await.unwrap();
    assert_eq!(store::cursors::get(&mut c, m.id).await.unwrap(), Some(t1 + TimeDelta::minutes(5)));
}

fn cipher() -> secrets::Cipher {
    secrets::Cipher::new(&secrets::MasterKey::generate())
}

async fn instance(db: &Db, label: &str, vendor: Vendor) -> Instance {
    let c = cipher();
    let mut tx = db.begin().await.unwrap();
    let i = instances::create(
        &mut tx,
        NewInstance {
            vendor,
            label: label.into(),
            location: "https://github.com/acme".into(),
            credentials: c.seal("instance-credentials", r#"{"token":"ghp_x"}"#),
            webhook_secret: c.seal("instance-webhook-secret", "whsec"),
            settings: InstanceSettings::default(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    i
}

fn github_config(repo: &str) -> MappingConfig {
    MappingConfig::defaults(MappingTarget::GitHub { repository: repo.into(), project_number: Some(1) })
}

async fn instances_keep_secrets_apart_and_labels_unique(t: TestDb) {
    let key = secrets::MasterKey::generate();
    let c = secrets::Cipher::new(&key);
    let mut tx = t.db.begin().await.unwrap();
    let i = instances::create(
        &mut tx,
        NewInstance {
            vendor: Vendor::GitHub,
            label: "GitHub acme".into(),
            location: "https://github.com/acme".into(),
            credentials: c.seal("instance-credentials", "ghp_secret"),
            webhook_secret: c.seal("instance-webhook-secret", "whsec"),
            settings: InstanceSettings::default(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut conn = t.db.conn().await.unwrap();
    let (creds, secret) = instances::secrets(&mut conn, i.id).await.unwrap();
    use secrets::ExposeSecret;
    assert_eq!(c.open("instance-credentials", &creds).unwrap().expose_secret(), "ghp_secret");
    assert_eq!(c.open("instance-webhook-secret", &secret).unwrap().expose_secret(), "whsec");
    assert!(!serde_json::to_string(&i).unwrap().contains("ghp_secret"));

    let dup = instances::create(
        &mut conn,
        NewInstance {
            vendor: Vendor::GitLab,
            label: "github ACME".into(),
            location: "https://gitlab.com/".into(),
            credentials: c.seal("instance-credentials", "x"),
            webhook_secret: c.seal("instance-webhook-secret", "y"),
            settings: InstanceSettings::default(),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(ref v) if v.field == "label"), "{dup:?}");

    assert_eq!(instances::get_by_label(&mut conn, "GITHUB acme").await.unwrap().unwrap().id, i.id);
    instances::set_account(&mut conn, i.id, Some("vulnbridge-bot")).await.unwrap();
    assert_eq!(instances::get(&mut conn, i.id).await.unwrap().account.as_deref(), Some("vulnbridge-bot"));
    let changed = instances::update(
        &mut conn,
        i.id,
        InstanceChanges { credentials: Some(c.seal("instance-credentials", "ghp_new")), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(changed.account, None, "new credentials may belong to another account");
    instances::set_account(&mut conn, i.id, Some("vulnbridge-bot")).await.unwrap();
    let moved = InstanceChanges {
        location: Some("https://github.com/acme-corp".into()),
        credentials: Some(c.seal("instance-credentials", "ghp_newer")),
        ..Default::default()
    };
    let changed = instances::update(&mut conn, i.id, moved).await.unwrap();
    assert_eq!((changed.location.as_str(), changed.account), ("https://github.com/acme-corp", None), "location and credentials at once");
    let settings = InstanceSettings { rate_limits: vec![RateLimitOverride { name: "content-minute".into(), limit: 8, per_seconds: 0.6 }], ..Default::default() };
    let changed = instances::update(&mut conn, i.id, InstanceChanges { settings: Some(settings.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(changed.settings, settings);
    assert_eq!(instances::list(&mut conn).await.unwrap().len(), 1);
}

async fn mappings_check_their_vendor_and_labels(t: TestDb) {
    let gh = instance(&t.db, "GitHub", Vendor::GitHub).await;
    let mut c = t.db.conn().await.unwrap();
    let m = mappings::create(&mut c, gh.id, "Storefront repo", &github_config("storefront")).await.unwrap();
    assert_eq!(m.vendor, Vendor::GitHub);
    assert_eq!(m.config, github_config("storefront"));
    let e = mappings::create(&mut c, gh.id, "storefront REPO", &github_config("other")).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(ref v) if v.field == "label"), "{e:?}");
    let gl = MappingConfig::defaults(MappingTarget::GitLab { project: "g/p".into() });
    let e = mappings::create(&mut c, gh.id, "wrong", &gl).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(ref v) if v.field == "target.vendor"), "{e:?}");
    let e = mappings::create(&mut c, InstanceId(999_999), "x", &github_config("a")).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(ref v) if v.field == "instance"), "{e:?}");

    let mut cfg = github_config("storefront");
    cfg.severity_mapping.critical = "P0".into();
    let m2 = mappings::update(&mut c, m.id, "Storefront", &cfg).await.unwrap();
    assert_eq!(m2.label, "Storefront");
    assert_eq!(m2.config.severity_mapping.critical, "P0");
    assert_eq!(mappings::get_by_label(&mut c, gh.id, "storefront").await.unwrap().unwrap().id, m.id);
    assert_eq!(mappings::list(&mut c, Some(gh.id)).await.unwrap().len(), 1);
}

async fn assignments_per_product_and_engagement(t: TestDb) {
    let w = world(&t.db, "Shop").await;
    let gh = instance(&t.db, "GitHub", Vendor::GitHub).await;
    let mut c = t.db.conn().await.unwrap();
    let m = mappings::create(&mut c, gh.id, "repo", &github_config("storefront")).await.unwrap();
    let filters = PushFilters { minimum_severity: Some(Severity::High), active_only: true };
    let p = assignments::create(&mut c, m.id, AssignmentScope::Product(w.product.id), PushMode::LinkNew, &filters).await.unwrap();
    assert_eq!((p.product, p.engagement, p.push_mode), (w.product.id, None, PushMode::LinkNew));
    assert_eq!(p.filters, filters);
    let e = assignments::create(&mut c, m.id, AssignmentScope::Engagement(w.engagement.id), PushMode::LinkNewAndUpdate, &PushFilters::default())
        .await
        .unwrap();
    assert_eq!((e.product, e.engagement), (w.product.id, Some(w.engagement.id)), "an engagement's assignment carries its product");
    let dup = assignments::create(&mut c, m.id, AssignmentScope::Product(w.product.id), PushMode::Explicit, &PushFilters::default())
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(ref v) if v.field == "product"), "{dup:?}");
    let all = assignments::for_product(&mut c, w.product.id).await.unwrap();
    assert_eq!(all.len(), 2);
    let eff = effective_assignments(&all, w.engagement.id);
    assert_eq!(eff.iter().map(|a| a.id).collect::<Vec<_>>(), [e.id]);
    let u = assignments::update(&mut c, p.id, PushMode::UpdateExisting, &PushFilters::default()).await.unwrap();
    assert_eq!(u.push_mode, PushMode::UpdateExisting);
    assignments::delete(&mut c, e.id).await.unwrap();
    assert!(assignments::get(&mut c, e.id).await.unwrap_err().is_not_found());
}

fn fields(title: &str) -> TicketFields {
    TicketFields {
        title: title.into(),
        body: "body".into(),
        labels: ["vulnbridge".to_owned()].into(),
        severity: FieldValue::new("Priority", "P3"),
        status: FieldValue::new("Status", "In Progress"),
        state: TicketState::Open,
        custom: Default::default(),
    }
}

async fn job(db: &Db) -> JobId {
    let mut c = db.conn().await.unwrap();
    jobs::enqueue(&mut c, jobs::NewJob::new("push_ticket", json!({}))).await.unwrap().unwrap()
}

async fn one_ticket_per_subject_per_mapping_and_its_life(t: TestDb) {
    let w = world(&t.db, "Shop").await;
    let gh = instance(&t.db, "GitHub", Vendor::GitHub).await;
    let mut c = t.db.conn().await.unwrap();
    let m = mappings::create(&mut c, gh.id, "repo", &github_config("storefront")).await.unwrap();
    let f = findings::insert_many(&mut c, vec![finding(&w.test, "SQLi", Severity::High)], findings::Seen::At).await.unwrap().remove(0);
    let subject = Subject::Finding(f.id);
    let j = job(&t.db).await;
    let want = fields("[VULNBRIDGE] 1 - SQLi");
    let new = || NewTicket { instance: gh.id, mapping: m.id, vendor: Vendor::GitHub, subject, sending: &want, job: j };
    let tk = tickets::start_create(&mut c, new()).await.unwrap().unwrap();
    assert_eq!(tk.link_state, LinkState::Creating);
    assert!(tk.creating_since.is_some());
    assert_eq!(tk.sending.as_ref(), Some(&want));
    assert!(tickets::start_create(&mut c, new()).await.unwrap().is_none(), "exactly one ticket per subject per mapping");

    let data = json!({"number": 12, "item_id": "PVTI_1"});
    tickets::link(&mut c, tk.id, RemoteLink { remote_id: "I_kw12", key: "acme/storefront#12", url: "https://github.com/acme/storefront/issues/12", data: &data }, &want, now())
        .await
        .unwrap();
    let tk = tickets::find(&mut c, m.id, subject).await.unwrap().unwrap();
    assert_eq!(tk.link_state, LinkState::Linked);
    assert_eq!((tk.key.as_deref(), tk.remote_id.as_deref()), (Some("acme/storefront#12"), Some("I_kw12")));
    assert_eq!(tk.last_sent.as_ref(), Some(&want));
    assert_eq!(tk.fingerprint, Some(want.fingerprint()));
    assert_eq!(tk.remote_data, data);
    assert_eq!(tk.sending, None);
    assert!(tk.linked_at.is_some() && tk.remote_state.as_ref().is_some_and(|r| r.changed_by == "vulnbridge"));
    assert_eq!(tickets::by_remote(&mut c, gh.id, "I_kw12").await.unwrap().unwrap().id, tk.id);

    let mut closed = want.clone();
    closed.state = TicketState::Closed(CloseReason::Completed);
    tickets::set_sending(&mut c, tk.id, Some(&closed)).await.unwrap();
    assert_eq!(tickets::get(&mut c, tk.id).await.unwrap().sending, Some(closed.clone()));
    tickets::record_push(&mut c, tk.id, &closed, &data, now()).await.unwrap();
    let tk2 = tickets::get(&mut c, tk.id).await.unwrap();
    assert_eq!(tk2.last_sent, Some(closed.clone()));
    assert_eq!(tk2.sending, None);
    assert_eq!(tk2.linked_at, tk.linked_at, "linked_at stays the first link's time");

    let remote = RemoteState { state: TicketState::Open, status: Some("In Progress".into()), changed_by: "dev-alice".into(), changed_at: now() };
    tickets::record_remote(&mut c, tk.id, &remote, Some(&want)).await.unwrap();
    let tk3 = tickets::get(&mut c, tk.id).await.unwrap();
    assert_eq!(tk3.remote_state, Some(remote));
    assert_eq!(tk3.last_sent, Some(want.clone()));

    for (action, actor) in [("created", "vulnbridge"), ("closed", "vulnbridge"), ("inbound", "dev-alice")] {
        tickets::add_change(&mut c, tk.id, &TicketChange { at: now(), action: action.into(), detail: "d".into(), actor: actor.into() }).await.unwrap();
    }
    let log = tickets::changes(&mut c, &[tk.id]).await.unwrap();
    assert_eq!(log[&tk.id].iter().map(|ch| ch.action.as_str()).collect::<Vec<_>>(), ["created", "closed", "inbound"]);
    assert_eq!(tickets::for_findings(&mut c, &[f.id]).await.unwrap().len(), 1);
    let page = tickets::list(&mut c, &tickets::Filter { mapping: Some(m.id), ..Default::default() }, PageRequest::default()).await.unwrap();
    assert_eq!(page.count, 1);

    // A create that certainly failed leaves nothing; a deleted remote ticket is marked.
    let g = store::groups::create(&mut c, &w.test, "lib", GroupBy::ComponentName).await.unwrap();
    let gt = tickets::start_create(&mut c, NewTicket { subject: Subject::Group(g.id), ..new() }).await.unwrap().unwrap();
    tickets::abandon_create(&mut c, gt.id).await.unwrap();
    assert!(tickets::find(&mut c, m.id, Subject::Group(g.id)).await.unwrap().is_none());
    tickets::mark_deleted(&mut c, tk.id).await.unwrap();
    assert_eq!(tickets::get(&mut c, tk.id).await.unwrap().link_state, LinkState::Deleted);
    // Deleting the finding deletes our record of its ticket.
    findings::delete(&mut c, f.id).await.unwrap();
    assert!(tickets::get(&mut c, tk.id).await.unwrap_err().is_not_found());
}

async fn a_ticket_is_pushed_by_one_live_job_at_a_time(t: TestDb) {
    let w = world(&t.db, "Shop").await;
    let gh = instance(&t.db, "GitHub", Vendor::GitHub).await;
    let mut c = t.db.conn().await.unwrap();
    let m = mappings::create(&mut c, gh.id, "repo", &github_config("storefront")).await.unwrap();
    let f = findings::insert_many(&mut c, vec![finding(&w.test, "SQLi", Severity::High)], findings::Seen::At).await.unwrap().remove(0);
    let (j1, j2) = (job(&t.db).await, job(&t.db).await);
    let claimed = jobs::claim(&t.db, "w1", &["default"], 2, TimeDelta::seconds(30), now()).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let want = fields("t");
    let tk = tickets::start_create(&mut c, NewTicket { instance: gh.id, mapping: m.id, vendor: Vendor::GitHub, subject: Subject::Finding(f.id), sending: &want, job: j1 })
        .await
        .unwrap()
        .unwrap();
    assert!(tickets::lock(&mut c, tk.id, j1, now()).await.unwrap(), "the creating job holds it");
    assert!(!tickets::lock(&mut c, tk.id, j2, now()).await.unwrap(), "a second live job waits");
    // The first job's lease runs out (its worker died): the second may take over.
    assert!(tickets::lock(&mut c, tk.id, j2, now() + TimeDelta::seconds(31)).await.unwrap());
    tickets::unlock(&mut c, tk.id, j2).await.unwrap();
    assert!(tickets::lock(&mut c, tk.id, j1, now()).await.unwrap(), "free once given back");
    // A finished job holds nothing.
    jobs::complete(&t.db, j1, "w1").await.unwrap();
    assert!(tickets::lock(&mut c, tk.id, j2, now()).await.unwrap());
}

async fn the_error_table_counts_attempts_until_cleared(t: TestDb) {
    let w = world(&t.db, "Shop").await;
    let gh = instance(&t.db, "GitHub", Vendor::GitHub).await;
    let mut c = t.db.conn().await.unwrap();
    let m = mappings::create(&mut c, gh.id, "repo", &github_config("storefront")).await.unwrap();
    let f = findings::insert_many(&mut c, vec![finding(&w.test, "SQLi", Severity::High)], findings::Seen::At).await.unwrap().remove(0);
    let s = Subject::Finding(f.id);
    let retry = now() + TimeDelta::minutes(1);
    push_errors::record(&mut c, m.id, s, "transient", "HTTP 502", Some(retry), now()).await.unwrap();
    push_errors::record(&mut c, m.id, s, "misconfigured", "project 1 has no field Priority", None, now()).await.unwrap();
    let page = push_errors::list(&mut c, m.id, PageRequest::default()).await.unwrap();
    assert_eq!(page.count, 1);
    let e = &page.results[0];
    assert_eq!((e.attempts, e.code.as_str(), e.retry_at), (2, "misconfigured", None));
    assert_eq!(e.subject, s);
    assert_eq!(push_errors::get(&mut c, e.id).await.unwrap(), *e);
    assert_eq!(push_errors::counts(&mut c).await.unwrap().get(&m.id), Some(&1));
    push_errors::clear(&mut c, m.id, s).await.unwrap();
    assert_eq!(push_errors::list(&mut c, m.id, PageRequest::default()).await.unwrap().count, 0);
    assert!(push_errors::counts(&mut c).await.unwrap().is_empty());
}

async fn rate_budgets_are_shared_and_slide(t: TestDb) {
    let gh = instance(&t.db, "GitHub", Vendor::GitHub).await;
    let minute = Bucket { name: "content-minute".into(), limit: 3, per: TimeDelta::seconds(60) };
    let t0 = now();
    for i in 0..3 {
        assert_eq!(rate_limits::acquire(&t.db, gh.id, std::slice::from_ref(&minute), t0 + TimeDelta::milliseconds(i)).await.unwrap(), Ok(()));
    }
    let wait = rate_limits::acquire(&t.db, gh.id, std::slice::from_ref(&minute), t0 + TimeDelta::seconds(10)).await.unwrap().unwrap_err();
    assert!(wait > t0 + TimeDelta::seconds(60) && wait <= t0 + TimeDelta::seconds(62), "{wait} vs {t0}");
    assert_eq!(rate_limits::used(&t.db, gh.id, std::slice::from_ref(&minute), t0 + TimeDelta::seconds(10)).await.unwrap(), [3]);
    // A second pool (another replica) sees the same budget.
    let other = store::Db::connect(&t.url, &t.options()).await.unwrap();
    assert!(rate_limits::acquire(&other, gh.id, std::slice::from_ref(&minute), t0 + TimeDelta::seconds(11)).await.unwrap().is_err());
    assert_eq!(rate_limits::acquire(&other, gh.id, std::slice::from_ref(&minute), wait).await.unwrap(), Ok(()));
    // A tracker's block stops everyone until it ends.
    let until = t0 + TimeDelta::hours(1);
    rate_limits::block(&t.db, gh.id, until, "Retry-After: 3600").await.unwrap();
    let hour = Bucket { name: "primary-hour".into(), limit: 5000, per: TimeDelta::hours(1) };
    assert_eq!(rate_limits::acquire(&t.db, gh.id, std::slice::from_ref(&hour), t0 + TimeDelta::seconds(5)).await.unwrap(), Err(until));
    assert_eq!(rate_limits::blocked(&t.db, gh.id, t0).await.unwrap().map(|b| b.1), Some("Retry-After: 3600".to_owned()));
    assert_eq!(rate_limits::acquire(&t.db, gh.id, std::slice::from_ref(&hour), until + TimeDelta::seconds(1)).await.unwrap(), Ok(()));
}

async fn deliveries_are_seen_once_and_the_installation_has_one_id(t: TestDb) {
    let gh = instance(&t.db, "GitHub", Vendor::GitHub).await;
    let mut c = t.db.conn().await.unwrap();
    assert!(webhook_deliveries::first_time(&mut c, gh.id, "guid-1", now()).await.unwrap());
    assert!(!webhook_deliveries::first_time(&mut c, gh.id, "guid-1", now()).await.unwrap());
    assert_eq!(webhook_deliveries::prune(&mut c, now() + TimeDelta::seconds(1)).await.unwrap(), 1);
    let a = installation::id(&mut c).await.unwrap();
    let b = installation::id(&mut c).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 8);
}

async fn deleting_an_instance_takes_its_configuration_along(t: TestDb) {
    let w = world(&t.db, "Shop").await;
    let gh = instance(&t.db, "GitHub", Vendor::GitHub).await;
    let mut c = t.db.conn().await.unwrap();
    let m = mappings::create(&mut c, gh.id, "repo", &github_config("storefront")).await.unwrap();
    let a = assignments::create(&mut c, m.id, AssignmentScope::Product(w.product.id), PushMode::LinkNew, &PushFilters::default()).await.unwrap();
    instances::delete(&mut c, gh.id).await.unwrap();
    assert!(mappings::get(&mut c, m.id).await.unwrap_err().is_not_found());
    assert!(assignments::get(&mut c, a.id).await.unwrap_err().is_not_found());
    assert!(instances::delete(&mut c, gh.id).await.unwrap_err().is_not_found());
}
