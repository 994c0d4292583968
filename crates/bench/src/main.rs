//! `vulnbridge-bench`: generates large reports and times imports against a fresh database.
//!
//! ```sh
//! cargo run --release -p vulnbridge-bench -- gen-sarif --findings 100000 /tmp/100k.sarif
//! cargo run --release -p vulnbridge-bench -- import --scan-type SARIF /tmp/100k.sarif
//! cargo run --release -p vulnbridge-bench -- import --scan-type SARIF --database postgres://… /tmp/100k.sarif
//! cargo run --release -p vulnbridge-bench -- gen-nessus --megabytes 1024 /tmp/1g.nessus
//! cargo run --release -p vulnbridge-bench -- parse --scan-type "Tenable Scan" /tmp/1g.nessus
//! cargo run --release -p vulnbridge-bench -- push --vendor github --findings 10000 --scale 0.001
//! cargo run --release -p vulnbridge-bench -- sync --tool semgrep --findings 100000 --records 100
//! cargo run --release -p vulnbridge-bench -- ui-list --findings 100000
//! ```

mod generate;
mod push;
mod sync;
mod ui;

use anyhow::Context;
use clap::{Parser, Subcommand};
use domain::{Actor, Role, UserId};
use engine::import::{ImportOptions, Target};
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "vulnbridge-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes a SARIF 2.1.0 report with N results (200 rules, realistic locations).
    GenSarif {
        #[arg(long, default_value_t = 100_000)]
        findings: usize,
        out: PathBuf,
    },
    /// Writes a .nessus report of about M megabytes.
    GenNessus {
        #[arg(long, default_value_t = 1024)]
        megabytes: u64,
        out: PathBuf,
    },
    /// Parses a report without a database: findings/s and peak memory of this process.
    Parse {
        #[arg(long)]
        scan_type: String,
        file: PathBuf,
    },
    /// Imports a report into a fresh database, then reimports it unchanged `--reimports`
    /// times; prints findings/s for each run.
    Import {
        #[arg(long)]
        scan_type: String,
        /// A PostgreSQL URL whose database may be used freely (a fresh schema is created);
        /// default: a SQLite file in a temporary directory.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 2)]
        reimports: usize,
        file: PathBuf,
    },
    /// Pushes N findings to a tracker simulator enforcing the vendor's limits (on a clock
    /// sped up by --scale), then again unchanged: API calls per ticket, time against the
    /// limits' own bound.
    Push {
        #[arg(long, default_value = "github")]
        vendor: String,
        #[arg(long, default_value_t = 10_000)]
        findings: usize,
        /// Multiplies every rate-limit window (0.001: an hour lasts 3.6 s).
        #[arg(long, default_value_t = 0.001)]
        scale: f64,
        /// Jobs run at once.
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// Create tickets one request each even where the tracker has a bulk API.
        #[arg(long)]
        no_bulk: bool,
        /// As for `import`.
        #[arg(long)]
        database: Option<String>,
    },
    /// A connector syncs N findings (in --records Records) from a scanner simulator: the first
    /// Sync, an unchanged incremental one and an unchanged full one, timed.
    Sync {
        #[arg(long, default_value = "semgrep")]
        tool: String,
        #[arg(long, default_value_t = 100_000)]
        findings: usize,
        #[arg(long, default_value_t = 100)]
        records: usize,
        /// Without the connector's rate budget (10 requests/s for most tools).
        #[arg(long)]
        no_rate_limit: bool,
        /// As for `import`.
        #[arg(long)]
        database: Option<String>,
    },
    /// Imports N generated findings, then times the web UI's findings list and dashboard over
    /// HTTP (median, p95, max per page, as an administrator and as a product reader).
    UiList {
        #[arg(long, default_value_t = 100_000)]
        findings: usize,
        /// Timed requests per page.
        #[arg(long, default_value_t = 50)]
        requests: usize,
        /// Findings given a linked ticket (the first ones the list shows).
        #[arg(long, default_value_t = 1000)]
        tickets: usize,
        /// As for `import`.
        #[arg(long)]
        database: Option<String>,
    },
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `VULNBRIDGE_LOG=debug` shows the import's phase timings.
    if let Ok(filter) = std::env::var("VULNBRIDGE_LOG") {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    match Cli::parse().command {
        Command::GenSarif { findings, out } => {
            generate::sarif(&out, findings)?;
            println!("wrote {} ({} results, {} bytes)", out.display(), findings, std::fs::metadata(&out)?.len());
        }
        Command::GenNessus { megabytes, out } => {
            let items = generate::nessus(&out, megabytes * 1024 * 1024)?;
            println!("wrote {} ({} report items, {} bytes)", out.display(), items, std::fs::metadata(&out)?.len());
        }
        Command::Parse { scan_type, file } => {
            let st = scanners::find_scan_type(&scan_type).context("unknown scan type")?;
            let size = std::fs::metadata(&file)?.len();
            let mut input = BufReader::with_capacity(256 * 1024, std::fs::File::open(&file)?);
            let started = Instant::now();
            let mut n = 0u64;
            let ctx = scanners::Context { test: domain::TestId(1), size_hint: Some(size) };
            st.parser.parse(&mut input, &ctx, &mut |_| {
                n += 1;
                Ok(())
            })?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "parsed {} findings from {:.0} MiB in {secs:.2} s ({:.0} MiB/s); peak RSS {:.1} MiB",
                n,
                size as f64 / 1048576.0,
                size as f64 / 1048576.0 / secs,
                peak_rss_mib()
            );
        }
        Command::Import { scan_type, database, reimports, file } => {
            import(&scan_type, database, reimports, &file).await?;
        }
        Command::Push { vendor, findings, scale, workers, no_bulk, database } => {
            let vendor = domain::tracker::Vendor::parse(&vendor).context("unknown vendor; use github, gitlab, jira, azure-devops or servicenow")?;
            anyhow::ensure!(scale > 0.0 && scale <= 1.0, "--scale must be in (0, 1]");
            let (db, backend, dir) = fresh_db(&database).await?;
            let app = engine::App::new(db.clone(), secrets::Cipher::new(&secrets::MasterKey::generate()), engine::Settings::new("http://bench"));
            push::run(&app, backend, &push::Options { findings, vendor, scale, workers, no_bulk }).await?;
            drop_db(&database, &db, &dir).await?;
        }
        Command::Sync { tool, findings, records, no_rate_limit, database } => {
            let tool = domain::connector::Tool::parse(&tool).context("unknown tool; use semgrep, sonarqube, snyk, tenable, dependency-track, checkmarx-one, burp-suite, probely or aws-security-hub")?;
            let (db, backend, dir) = fresh_db(&database).await?;
            let app = engine::App::new(db.clone(), secrets::Cipher::new(&secrets::MasterKey::generate()), engine::Settings::new("http://bench"));
            sync::run(&app, backend, &sync::Options { tool, findings, records, no_rate_limit }).await?;
            drop_db(&database, &db, &dir).await?;
        }
        Command::UiList { findings, requests, tickets, database } => {
            anyhow::ensure!(requests > 0, "--requests must be at least 1");
            let (db, backend, dir) = fresh_db(&database).await?;
            let app = engine::App::new(db.clone(), secrets::Cipher::new(&secrets::MasterKey::generate()), engine::Settings::new("http://bench"));
            ui::run(&app, backend, &dir, &ui::Options { findings, requests, tickets }).await?;
            drop_db(&database, &db, &dir).await?;
        }
    }
    Ok(())
}

/// A fresh database: a schema of its own in a PostgreSQL database, or a SQLite file in a
/// temporary directory. Migrated.
async fn fresh_db(database: &Option<String>) -> anyhow::Result<(store::Db, &'static str, PathBuf)> {
    let dir = tempfile_dir()?;
    let (db, backend) = match database {
        Some(url) => {
            let schema = format!("vbbench_{}", std::process::id());
            let admin = store::Db::connect(url, &store::DbOptions::default()).await?;
            if let store::Db::Postgres(p) = &admin {
                sqlx_exec(p, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await?;
                sqlx_exec(p, &format!("CREATE SCHEMA {schema}")).await?;
            }
            admin.close().await;
            let opts = store::DbOptions { pg_schema: Some(schema), ..Default::default() };
            (store::Db::connect(url, &opts).await?, "PostgreSQL")
        }
        None => {
            let url = format!("sqlite://{}/bench.db", dir.display());
            (store::Db::connect(&url, &store::DbOptions::default()).await?, "SQLite")
        }
    };
    db.migrate().await?;
    Ok((db, backend, dir))
}

async fn drop_db(database: &Option<String>, db: &store::Db, dir: &std::path::Path) -> anyhow::Result<()> {
    if let (Some(_), store::Db::Postgres(p)) = (database, db) {
        sqlx_exec(p, &format!("DROP SCHEMA IF EXISTS vbbench_{} CASCADE", std::process::id())).await?;
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

async fn import(scan_type: &str, database: Option<String>, reimports: usize, file: &std::path::Path) -> anyhow::Result<()> {
    let st = scanners::find_scan_type(scan_type).context("unknown scan type")?;
    let (db, backend, dir) = fresh_db(&database).await?;
    let app = engine::App::new(
        db.clone(),
        secrets::Cipher::new(&secrets::MasterKey::generate()),
        engine::Settings::new("http://bench"),
    );
    let actor = Actor { user_id: UserId(0), username: "bench".into(), global_role: Some(Role::Admin), product_roles: Default::default() };
    let target = Target { product_name: Some("Bench".into()), engagement_name: Some("CI".into()), ..Default::default() };
    for run in 0..=reimports {
        let opts = ImportOptions { reimport: run > 0, auto_create_context: true, ..Default::default() };
        let report = engine::import::Report::from_file(file)?;
        let started = Instant::now();
        let o = engine::import::run(&app, &actor, st, &target, &opts, report, &|_| {}).await?;
        let secs = started.elapsed().as_secs_f64();
        let c = o.import.counts;
        let total = c.created + c.duplicate + c.closed + c.reactivated + c.updated + c.untouched;
        println!(
            "{backend}: {} of {total} findings in {secs:.2} s = {:.0} findings/s (created {}, untouched {}, updated {}, closed {})",
            if run == 0 { "import" } else { "unchanged reimport" },
            total as f64 / secs,
            c.created,
            c.untouched,
            c.updated,
            c.closed,
        );
    }
    drop_db(&database, &db, &dir).await
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("vulnbridge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn sqlx_exec(pool: &sqlx::PgPool, sql: &str) -> anyhow::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(pool).await?;
    Ok(())
}
