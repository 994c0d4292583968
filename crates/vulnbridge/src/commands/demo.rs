//! `vulnbridge demo`: a newcomer's first run. A fresh data directory, an administrator with a
//! printed password, products with realistic findings, and the server, on one command.

use crate::cli::DemoArgs;
use crate::commands::{serve, users};
use crate::config::Config;
use crate::runtime;
use anyhow::{Context, bail};
use domain::*;
use secrets::ExposeSecret;
use std::path::Path;
use store::{Db, engagements, findings, groups, history, members, product_types, products, tests};

/// Marks a directory as the demo's own, so a rerun may wipe it and nothing else.
const MARKER: &str = ".vulnbridge-demo";

/// With `--database-url`: the PostgreSQL schema the demo owns, and the mark (its comment)
/// that says so.
const PG_SCHEMA: &str = "vulnbridge_demo";
const PG_MARK: &str = "vulnbridge demo";

pub async fn run(mut config: Config, args: DemoArgs) -> anyhow::Result<()> {
    prepare_dir(&args.data_dir)?;
    // The demo always runs on its own SQLite file (or its own PostgreSQL schema) and key,
    // whatever the environment says.
    config.data_dir = args.data_dir.clone();
    config.database_url = None;
    if let Some(url) = &args.database_url {
        store::Db::recreate_own_schema(url, PG_SCHEMA, PG_MARK).await?;
        config.database_url = Some(url.clone());
        config.pg_schema = Some(PG_SCHEMA.into());
    }
    config.secret_key = None;
    config.public_url = None;
    // The server answers from the start: the trackers' webhooks come back to it. Without
    // --no-serve it keeps serving at the end; with it, it serves on a spare port while the
    // demo sets up, then stops.
    let bind = if args.no_serve { "127.0.0.1:0".to_owned() } else { args.bind.clone() };
    let listener = tokio::net::TcpListener::bind(&bind).await.with_context(|| {
        format!("cannot listen on {bind} (choose another address with `vulnbridge demo --bind 127.0.0.1:8081`)")
    })?;
    let addr = listener.local_addr()?;
    config.bind = addr.to_string();
    let url = format!("http://{addr}");
    let app = runtime::app(&config).await?;
    let people = seed_data(app.db()).await?;
    let imported = import_reports(&app).await?;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = {
        let (app, config) = (app.clone(), config.clone());
        tokio::spawn(async move { serve::run_server(app, listener, &config, stopped).await })
    };
    let trackers = super::demo_trackers::connect(&app).await?;
    let scanners = super::demo_connectors::connect(&app).await?;

    out!();
    match &args.database_url {
        Some(url) => out!("  vulnbridge demo — data in schema {PG_SCHEMA} of {}", store::redact_url(url)),
        None => out!("  vulnbridge demo — data in {}", args.data_dir.display()),
    }
    out!();
    for line in imported.iter().chain(&trackers.lines).chain(&scanners.lines) {
        out!("  {line}");
    }
    out!();
    out!("  URL          {url}   (the web UI: log in below; the dashboard shows findings flowing from scanners to trackers)");
    out!("  API docs     {url}/api/openapi.json");
    for p in &people {
        out!("  login        {:<8} {:<22} {}", p.username, p.password, p.note);
    }
    out!("  API token    {}", people[0].token);
    out!("  GitHub       {} (simulated; state at /_sim/state)", trackers.github.base_url());
    out!(
        "               acme/{} has no mapping yet: add one in Settings › Integrations (location {}, token {})",
        super::demo_trackers::UNMAPPED_REPO,
        trackers.github.location("acme"),
        simulators::github::BOT_TOKEN
    );
    out!("  GitLab       {} (simulated; state at /_sim/state)", trackers.gitlab.base_url());
    out!("  Jira         {} (simulated; state at /_sim/state)", trackers.jira.base_url());
    out!("  Azure DevOps {} (simulated; state at /_sim/state)", trackers.azure_devops.base_url());
    out!("  ServiceNow   {} (simulated; state at /_sim/state)", trackers.servicenow.base_url());
    let scanner_urls: Vec<String> = scanners.sims.iter().map(|s| format!("{} {}", s.tool().label(), s.base_url())).collect();
    out!("  Scanners     {} (simulated)", scanner_urls.join(", "));
    out!();
    out!("  Try:  curl -H 'Authorization: Token {}' '{url}/api/v1/findings?severity=critical,high&open=true'", people[0].token);
    out!("        curl -H 'Authorization: Token {}' '{url}/api/v1/integrations/mappings'", people[0].token);
    out!("        curl -H 'Authorization: Token {}' '{url}/api/v1/connectors'", people[0].token);
    out!();
    if !args.no_serve {
        out!("  Press Ctrl-C to stop.");
        let mut signal = runtime::shutdown_signal();
        while !*signal.borrow() {
            if signal.changed().await.is_err() {
                break;
            }
        }
    }
    let _ = stop.send(true);
    server.await.context("the demo server stopped")??;
    drop(trackers);
    drop(scanners);
    Ok(())
}

fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        if !dir.join(MARKER).exists() {
            let empty = std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(false);
            if !empty {
                bail!(
                    "{} exists and was not made by `vulnbridge demo`; refusing to delete it (choose a new or empty directory with --data-dir)",
                    dir.display()
                );
            }
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), "created by `vulnbridge demo`; deleted on its next run\n")?;
    Ok(())
}

/// One real scanner report (a DefectDojo test file) and where the demo imports it:
/// (scan type, product, engagement, test title, file name, bytes).
type SampleReport = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static [u8]);

/// Built into the binary so that the demo works from any directory.
const REPORTS: &[SampleReport] = &[
    ("Semgrep JSON Report", "Storefront", "CI/CD pipeline", "semgrep (nightly)", "semgrep.json",
        include_bytes!("../../../../fixtures/scans/semgrep/many_findings.json")),
    ("Burp Scan", "Storefront", "Q3 penetration test", "Burp (staging)", "burp.xml",
        include_bytes!("../../../../fixtures/scans/burp/one_finding_with_cwe.xml")),
    ("Snyk Scan", "Payments API", "CI/CD pipeline", "snyk test --all-projects", "snyk.json",
        include_bytes!("../../../../fixtures/scans/snyk/all-projects_many_vulns.json")),
    ("AWS Security Hub Scan", "Payments API", "AWS account 012345678912", "Security Hub (us-east-1)", "securityhub.json",
        include_bytes!("../../../../fixtures/scans/awssecurityhub/config_many_findings.json")),
    ("Dependency Track Finding Packaging Format (FPF) Export", "Mobile Backend", "CI/CD pipeline", "Dependency-Track", "fpf.json",
        include_bytes!("../../../../fixtures/scans/dependency_track/many_findings.json")),
    ("Checkmarx One Scan", "Mobile Backend", "CI/CD pipeline", "Checkmarx One (nightly)", "checkmarx.json",
        include_bytes!("../../../../fixtures/scans/checkmarx_one/many_findings.json")),
    ("Tenable Scan", "Internal Tools", "Infrastructure scan", "Nessus (office network)", "nessus.csv",
        include_bytes!("../../../../fixtures/scans/tenable/nessus/nessus_many_vuln.csv")),
];

/// Imports the sample reports (the Semgrep one twice, to show a reimport) and returns one
/// summary line per import.
async fn import_reports(app: &engine::App) -> anyhow::Result<Vec<String>> {
    use engine::import::{ImportOptions, Target};
    let actor = Actor {
        user_id: UserId(0),
        username: "demo".into(),
        global_role: Some(Role::Admin),
        product_roles: Default::default(),
    };
    let mut lines = Vec::new();
    for (i, (scan_type, product, engagement, test, file, bytes)) in REPORTS.iter().chain(REPORTS.iter().take(1)).enumerate() {
        let st = scanners::find_scan_type(scan_type).with_context(|| format!("the demo's scan type {scan_type}"))?;
        let target = Target {
            product_name: Some((*product).into()),
            engagement_name: Some((*engagement).into()),
            test_title: Some((*test).into()),
            ..Default::default()
        };
        let opts = ImportOptions {
            reimport: i >= REPORTS.len(),
            auto_create_context: true,
            group_by: (*scan_type == "Snyk Scan").then_some(GroupBy::ComponentName),
            create_finding_groups_for_all_findings: false,
            ..Default::default()
        };
        let report = engine::import::Report::from_bytes(*bytes, Some(file));
        let o = engine::import::run(app, &actor, st, &target, &opts, report, &|_| {})
            .await
            .with_context(|| format!("importing the demo's {scan_type} report"))?;
        let c = o.import.counts;
        lines.push(format!(
            "{:<10} {scan_type} → {product} › {engagement}: {} created, {} untouched",
            if opts.reimport { "reimported" } else { "imported" },
            c.created + c.duplicate,
            c.untouched
        ));
    }
    Ok(lines)
}

pub struct Person {
    pub username: String,
    pub password: String,
    pub token: String,
    pub note: String,
}

fn name(s: &str) -> Name {
    Name::parse("name", s).expect("demo names are valid")
}

/// One seeded finding: (title, severity, status, cwe, ids, component@version, file:line, endpoint).
struct Seed {
    title: &'static str,
    severity: Severity,
    status: Status,
    cwe: Option<i32>,
    ids: &'static [&'static str],
    component: Option<(&'static str, &'static str)>,
    file: Option<(&'static str, i32)>,
    endpoint: Option<&'static str>,
    description: &'static str,
    mitigation: &'static str,
}

#[expect(clippy::too_many_arguments, reason = "one row of a seed table, read positionally")]
const fn seed(
    title: &'static str,
    severity: Severity,
    status: Status,
    cwe: Option<i32>,
    ids: &'static [&'static str],
    component: Option<(&'static str, &'static str)>,
    file: Option<(&'static str, i32)>,
    endpoint: Option<&'static str>,
    description: &'static str,
    mitigation: &'static str,
) -> Seed {
    Seed { title, severity, status, cwe, ids, component, file, endpoint, description, mitigation }
}

use Severity::{Critical, High, Info, Low, Medium};
use Status::{Active, Closed, FalsePositive, InProgress, RiskAccepted};

const STOREFRONT_SAST: &[Seed] = &[
    seed("SQL injection in order lookup", High, Active, Some(89), &[], None, Some(("src/main/java/com/shop/OrderController.java", 118)), None,
        "User input from `orderId` reaches a string-concatenated SQL query.", "Use a parameterised query (`PreparedStatement`)."),
    seed("Hard-coded AWS access key", Critical, FalsePositive, Some(798), &[], None, Some(("config/application-test.yml", 12)), None,
        "A string matching an AWS access key id is committed to the repository.", "Move secrets to the vault; rotate the key."),
    seed("Path traversal in invoice download", High, InProgress, Some(22), &[], None, Some(("src/main/java/com/shop/InvoiceController.java", 57)), None,
        "The `file` parameter is joined to the invoice directory without normalisation.", "Resolve the path and check it stays inside the invoice directory."),
];

const STOREFRONT_SCA: &[Seed] = &[
    seed("Log4Shell: remote code execution in log4j-core", Critical, Active, Some(502), &["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"], Some(("org.apache.logging.log4j:log4j-core", "2.14.1")), Some(("pom.xml", 84)), None,
        "JNDI lookups in logged messages let an attacker load and run remote code.", "Upgrade log4j-core to 2.17.1 or later."),
    seed("Incomplete fix for Log4Shell in log4j-core", Critical, Active, Some(917), &["CVE-2021-45046"], Some(("org.apache.logging.log4j:log4j-core", "2.14.1")), Some(("pom.xml", 84)), None,
        "Thread Context lookups still allow remote code execution in some configurations.", "Upgrade log4j-core to 2.17.1 or later."),
    seed("Prototype pollution in lodash", High, Active, Some(1321), &["CVE-2020-8203"], Some(("lodash", "4.17.15")), Some(("package-lock.json", 3120)), None,
        "`zipObjectDeep` lets an attacker add properties to `Object.prototype`.", "Upgrade lodash to 4.17.19 or later."),
    seed("XSS in jQuery htmlPrefilter", Medium, Closed, Some(79), &["CVE-2020-11022"], Some(("jquery", "3.4.1")), Some(("package-lock.json", 2211)), None,
        "HTML passed to jQuery DOM manipulation methods can run untrusted code.", "Upgrade jQuery to 3.5.0 or later."),
];

const STOREFRONT_DAST: &[Seed] = &[
    seed("Reflected cross-site scripting in search", Medium, Active, Some(79), &[], None, None, Some("https://shop.example.com/search?q=test"),
        "The `q` parameter is echoed into the page without encoding.", "HTML-encode user input on output; add a Content-Security-Policy."),
    seed("Session cookie without Secure flag", Medium, Active, Some(614), &[], None, None, Some("https://shop.example.com/login"),
        "The `SESSIONID` cookie is sent over plain HTTP.", "Set `Secure` and `HttpOnly` on the session cookie."),
    seed("Missing Content-Security-Policy header", Low, Active, Some(693), &[], None, None, Some("https://shop.example.com/"),
        "Responses carry no Content-Security-Policy.", "Send a restrictive Content-Security-Policy."),
];

const PAYMENTS_SCA: &[Seed] = &[
    seed("Spring4Shell: remote code execution in spring-beans", Critical, Active, Some(94), &["CVE-2022-22965"], Some(("org.springframework:spring-beans", "5.3.17")), Some(("build.gradle", 31)), None,
        "Data binding lets an attacker write to the class loader on JDK 9+.", "Upgrade Spring Framework to 5.3.18 or later."),
    seed("Denial of service in jackson-databind", High, Active, Some(502), &["CVE-2020-36518"], Some(("com.fasterxml.jackson.core:jackson-databind", "2.12.6")), Some(("build.gradle", 35)), None,
        "Deeply nested JSON exhausts the stack.", "Upgrade jackson-databind to 2.12.6.1 or later."),
    seed("Type confusion in OpenSSL X.400 address processing", Medium, RiskAccepted, Some(843), &["CVE-2023-0286"], Some(("openssl", "1.1.1k")), None, None,
        "A crafted certificate can read memory or crash the process.", "Rebuild the base image on OpenSSL 1.1.1t or later."),
];

const PAYMENTS_CODE: &[Seed] = &[
    seed("JWT signature not verified", High, Active, Some(347), &[], None, Some(("internal/auth/jwt.go", 44)), None,
        "Tokens are parsed with `ParseUnverified`; any signature is accepted.", "Verify the signature and the algorithm."),
    seed("TLS 1.0 accepted", Medium, Active, Some(326), &[], None, None, Some("https://payments.example.com:443"),
        "The server negotiates TLS 1.0.", "Accept TLS 1.2 and later only."),
    seed("Verbose error messages", Low, Active, Some(209), &[], None, None, Some("https://payments.example.com/v1/charges"),
        "Stack traces are returned in 500 responses.", "Return generic errors; log details server-side."),
    seed("Server version disclosed", Info, Active, Some(200), &[], None, None, Some("https://payments.example.com/"),
        "The `Server` header names the exact nginx version.", "Set `server_tokens off`."),
];

const MOBILE: &[Seed] = &[
    seed("Insecure direct object reference in user profile", High, Active, Some(639), &[], None, None, Some("https://api.mobile.example.com/api/users/1042"),
        "Any signed-in user can read any profile by changing the id.", "Check that the profile belongs to the caller."),
    seed("Prototype pollution in qs", Medium, Active, Some(1321), &["CVE-2022-24999"], Some(("qs", "6.5.2")), Some(("package-lock.json", 901)), None,
        "Crafted query strings pollute `Object.prototype` in Express apps.", "Upgrade qs to 6.5.3 or later."),
    seed("No rate limiting on login", Medium, InProgress, Some(307), &[], None, None, Some("https://api.mobile.example.com/api/login"),
        "Password guessing is not slowed down.", "Limit attempts per account and per address."),
];

pub async fn seed_data(db: &Db) -> anyhow::Result<Vec<Person>> {
    let mut tx = db.begin().await?;
    let web = product_types::create(&mut tx, NewProductType { name: name("Web Applications"), description: Some("Customer-facing web properties".into()), critical: true }).await?;
    let platform = product_types::create(&mut tx, NewProductType { name: name("Platform & APIs"), description: Some("Backend services".into()), critical: false }).await?;

    let mut prods = Vec::new();
    for (pname, pt, crit, desc) in [
        ("Storefront", Some(web.id), "very_high", "The online shop: Java/Spring backend, React frontend."),
        ("Payments API", Some(platform.id), "very_high", "Card payments service (Go, Spring)."),
        ("Mobile Backend", Some(platform.id), "high", "REST API behind the iOS and Android apps (Node.js)."),
        ("Internal Tools", None, "low", "Back-office tools."),
    ] {
        prods.push(
            products::create(
                &mut tx,
                NewProduct {
                    name: name(pname),
                    description: Some(desc.into()),
                    product_type: pt,
                    business_criticality: Some(crit.into()),
                    tags: vec![],
                },
            )
            .await?,
        );
    }
    let [storefront, payments, mobile, _internal] = prods.as_slice() else {
        bail!("seeding products failed");
    };

    let add = async |tx: &mut store::Tx, product: &Product, engagement: &str, kind: EngagementType, test_title: &str, scan_type: &str, seeds: &[Seed]| -> anyhow::Result<Vec<Finding>> {
        let eng = match engagements::get_by_name(tx, product.id, engagement).await? {
            Some(e) => e,
            None => {
                let mut ne = NewEngagement::named(product.id, name(engagement));
                ne.engagement_type = kind;
                engagements::create(tx, ne).await?
            }
        };
        let test = tests::create(tx, NewTest::new(eng.id, name(test_title), name(scan_type))).await?;
        let now = store::now();
        let mut batch = Vec::new();
        for s in seeds {
            let mut n = NewFinding::new(test.id, Title::parse("title", s.title)?, s.severity);
            n.status = s.status;
            n.verified = s.status != Active;
            n.cwe = s.cwe;
            n.vulnerability_ids = s.ids.iter().map(|i| i.to_string()).collect();
            if let Some((c, v)) = s.component {
                n.component_name = Some(c.into());
                n.component_version = Some(v.into());
            }
            if let Some((f, l)) = s.file {
                n.file_path = Some(f.into());
                n.line = Some(l);
                n.static_finding = true;
            }
            if let Some(e) = s.endpoint {
                n.endpoints = vec![Endpoint::parse(e)?];
                n.dynamic_finding = true;
            }
            n.description = s.description.into();
            n.mitigation = Some(s.mitigation.into());
            if s.ids.contains(&"CVE-2021-44228") {
                n.known_exploited = true;
                n.epss_score = Some(0.97);
                n.cvss_v3_score = Some(10.0);
                n.cvss_v3_vector = Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into());
            }
            batch.push(n.normalize()?.into_finding(&test, now, None));
        }
        let stored = findings::insert_many(tx, batch, findings::Seen::At).await?;
        for f in &stored {
            history::record(tx, f.id, "demo", "created", serde_json::json!({})).await?;
        }
        Ok(stored)
    };

    use EngagementType::{CiCd, Interactive};
    add(&mut tx, storefront, "CI/CD pipeline", CiCd, "Semgrep (main)", "Semgrep JSON Report", STOREFRONT_SAST).await?;
    let sca = add(&mut tx, storefront, "CI/CD pipeline", CiCd, "Dependency-Track (main)", "Dependency Track Finding Packaging Format (FPF) Export", STOREFRONT_SCA).await?;
    add(&mut tx, storefront, "Q3 penetration test", Interactive, "Burp Suite", "Burp Scan", STOREFRONT_DAST).await?;
    add(&mut tx, payments, "CI/CD pipeline", CiCd, "Snyk (main)", "Snyk Scan", PAYMENTS_SCA).await?;
    add(&mut tx, payments, "Q3 penetration test", Interactive, "Manual review", "Manual Code Review", PAYMENTS_CODE).await?;
    add(&mut tx, mobile, "CI/CD pipeline", CiCd, "Checkmarx One (main)", "Checkmarx One Scan", MOBILE).await?;

    // The two log4j findings travel as one ticket.
    let log4j: Vec<FindingId> = sca
        .iter()
        .filter(|f| f.component_name.as_deref() == Some("org.apache.logging.log4j:log4j-core"))
        .map(|f| f.id)
        .collect();
    let sca_test = tests::get(&mut tx, sca[0].test).await?;
    let group = groups::create(&mut tx, &sca_test, "org.apache.logging.log4j:log4j-core", GroupBy::ComponentName).await?;
    findings::set_group(&mut tx, &log4j, Some(group.id)).await?;
    tx.commit().await?;

    let mut people = Vec::new();
    for (username, role, product_role, note) in [
        ("admin", Some(Role::Admin), None, "administrator".to_owned()),
        ("alice", None, Some((storefront.id, Role::Reader)), "reader of Storefront only".to_owned()),
        ("bob", None, Some((payments.id, Role::Writer)), "writer on Payments API only".to_owned()),
    ] {
        let password = secrets::password::generate();
        let shown = password.expose_secret().to_owned();
        let user = users::create_user(db, username, role, password).await?;
        if let Some((pid, r)) = product_role {
            let mut c = db.conn().await?;
            members::set(&mut c, pid, user.id, r).await?;
        }
        let token = users::create_token(db, &user, "demo", None).await?;
        people.push(Person { username: username.into(), password: shown, token, note });
    }
    Ok(people)
}
