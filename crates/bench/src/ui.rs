//! `ui-list`: how fast the web UI renders the findings list (and the dashboard) over a large
//! database. A generated SARIF report of N findings is imported by the real importer, tickets
//! are linked to the first findings the list shows, and the real server (`web::serve`) answers
//! logged-in GETs on a loopback port; each page is timed from request to last byte.

use anyhow::Context;
use domain::tracker::{
    AssignmentScope, FieldValue, InstanceSettings, MappingConfig, MappingTarget, PushFilters, PushMode, Subject, TicketFields,
    TicketState, Vendor,
};
use domain::{Actor, ProductId, Role, UserId};
use engine::import::{ImportOptions, Target};
use std::time::{Duration, Instant};
use store::sessions::Lifetime;

pub struct Options {
    pub findings: usize,
    pub requests: usize,
    /// Findings (first in the list's default order) given a linked ticket.
    pub tickets: usize,
}

pub async fn run(app: &engine::App, backend: &str, dir: &std::path::Path, o: &Options) -> anyhow::Result<()> {
    let report = dir.join("ui-list.sarif");
    crate::generate::sarif(&report, o.findings)?;
    let st = scanners::find_scan_type("SARIF").context("the SARIF parser")?;
    let actor = Actor { user_id: UserId(0), username: "bench".into(), global_role: Some(Role::Admin), product_roles: Default::default() };
    let target = Target { product_name: Some("Bench".into()), engagement_name: Some("CI".into()), ..Default::default() };
    let opts = ImportOptions { auto_create_context: true, ..Default::default() };
    let started = Instant::now();
    let imported = engine::import::run(app, &actor, st, &target, &opts, engine::import::Report::from_file(&report)?, &|_| {}).await?;
    println!("{backend}: imported {} findings in {:.1} s", imported.import.counts.created, started.elapsed().as_secs_f64());
    let product = imported.import.product;
    link_tickets(app, product, o.tickets).await?;

    let admin = session(app, "admin", Some(Role::Admin), None).await?;
    let reader = session(app, "reader", None, Some(product)).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = web::AppState::new(app.clone());
    let server = tokio::spawn(async move { web::serve(listener, state, std::future::pending()).await });
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;

    println!("{backend}: {} requests per page after 3 warm-up requests; time to the last byte", o.requests);
    println!("| page | who | median | p95 | max | rows |");
    println!("|---|---|---|---|---|---|");
    let pages = [
        ("/findings", "first page, default order (severity)"),
        ("/findings?ordering=-last_seen", "first page, newest seen first"),
        ("/findings?severity=critical&severity=high&status=active", "critical and high, active"),
        ("/findings?q=handler_4242", "text search"),
        ("/findings?offset=50000", "page 1,001"),
        ("/", "dashboard"),
    ];
    for (path, what) in pages {
        for (who, cookie) in [("admin", &admin), ("product reader", &reader)] {
            let mut times = Vec::with_capacity(o.requests);
            let mut rows = 0;
            for i in 0..o.requests + 3 {
                let t = Instant::now();
                let resp = http.get(format!("{base}{path}")).header("cookie", format!("{}={cookie}", web::ui::SESSION_COOKIE)).send().await?;
                anyhow::ensure!(resp.status() == 200, "{path} answered {}", resp.status());
                let body = resp.text().await?;
                if i >= 3 {
                    times.push(t.elapsed());
                }
                rows = body.matches("<tr>").count().saturating_sub(1);
            }
            times.sort();
            let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
            let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
            println!("| {what} | {who} | {} | {} | {} | {rows} |", ms(times[times.len() / 2]), ms(p95), ms(times[times.len() - 1]));
        }
    }
    server.abort();
    Ok(())
}

/// A user with a session; returns the session id for the cookie.
async fn session(app: &engine::App, name: &str, role: Option<Role>, member_of: Option<ProductId>) -> anyhow::Result<String> {
    let mut tx = app.db().begin().await?;
    let user = store::users::create(
        &mut tx,
        store::users::NewUser { username: name.into(), display_name: None, email: None, password_hash: None, global_role: role },
    )
    .await?;
    if let Some(p) = member_of {
        store::members::set(&mut tx, p, user.id, Role::Reader).await?;
    }
    let id = secrets::random_hex::<32>();
    store::sessions::create(&mut tx, &secrets::token::hash(&id), user.id, &secrets::random_hex::<32>(), Lifetime::default()).await?;
    tx.commit().await?;
    Ok(id)
}

/// Links a GitHub ticket with a changelog line to the first `n` findings of the default order,
/// so that the Integrator Tickets column has something to show.
async fn link_tickets(app: &engine::App, product: ProductId, n: usize) -> anyhow::Result<()> {
    let cipher = secrets::Cipher::new(&secrets::MasterKey::generate());
    let mut tx = app.db().begin().await?;
    let instance = store::instances::create(
        &mut tx,
        store::instances::NewInstance {
            vendor: Vendor::GitHub,
            label: "GitHub".into(),
            location: "https://github.com/acme".into(),
            credentials: cipher.seal("instance-credentials", "{}"),
            webhook_secret: cipher.seal("instance-webhook-secret", "bench"),
            settings: InstanceSettings::default(),
        },
    )
    .await?;
    let cfg = MappingConfig::defaults(MappingTarget::GitHub { repository: "bench".into(), project_number: None });
    let mapping = store::mappings::create(&mut tx, instance.id, "bench", &cfg).await?;
    store::assignments::create(&mut tx, mapping.id, AssignmentScope::Product(product), PushMode::Explicit, &PushFilters::default()).await?;
    let first = store::findings::list(
        &mut tx,
        &store::findings::Filter::default(),
        &domain::Visibility::All,
        store::PageRequest::new(Some(store::PageRequest::MAX_LIMIT), None),
    )
    .await?;
    let fields = TicketFields {
        title: "bench".into(),
        body: "bench".into(),
        labels: Default::default(),
        severity: FieldValue::new("Priority", "P1"),
        status: FieldValue::new("Status", "Todo"),
        state: TicketState::Open,
        custom: Default::default(),
    };
    // Each create is held by a job, as in a real push; these sit in a queue nobody runs.
    let job = store::jobs::enqueue(&mut tx, store::jobs::NewJob::new("push_ticket", serde_json::json!({})).queue("bench"))
        .await?
        .context("a job")?;
    let data = serde_json::json!({});
    for (i, f) in first.results.iter().take(n).enumerate() {
        let new = store::tickets::NewTicket { instance: instance.id, mapping: mapping.id, vendor: Vendor::GitHub, subject: Subject::Finding(f.id), sending: &fields, job };
        let Some(t) = store::tickets::start_create(&mut tx, new).await? else { continue };
        let key = format!("acme/bench#{}", i + 1);
        let url = format!("https://github.com/acme/bench/issues/{}", i + 1);
        store::tickets::link(&mut tx, t.id, store::tickets::RemoteLink { remote_id: &key, key: &key, url: &url, data: &data }, &fields, store::now()).await?;
    }
    tx.commit().await?;
    Ok(())
}
