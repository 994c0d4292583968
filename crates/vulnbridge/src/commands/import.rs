//! `vulnbridge import`: a report file into a product, from a terminal or a CI job.

use crate::cli::ImportArgs;
use crate::config::Config;
use crate::runtime;
use anyhow::{Context, bail};
use domain::{Actor, DedupScope, EngagementId, GroupBy, Role, Severity, TestId, UserId};
use engine::import::{ImportError, ImportOptions, Target};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts bytes as the parser reads them, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub async fn run(config: Config, args: ImportArgs) -> anyhow::Result<()> {
    if args.list_scan_types {
        for s in scanners::scan_types() {
            out!("{:<56} {}", s.name, s.description);
        }
        return Ok(());
    }
    let Some(scan_name) = args.scan_type.as_deref() else {
        bail!("--scan-type is required (see `vulnbridge import --list-scan-types`)");
    };
    let scan_type = scanners::find_scan_type(scan_name).with_context(|| {
        let close: Vec<&str> = scanners::scan_types()
            .iter()
            .map(|s| s.name)
            .filter(|n| n.to_lowercase().contains(&scan_name.to_lowercase().split_whitespace().next().unwrap_or("").to_owned()))
            .collect();
        if close.is_empty() {
            format!("unknown scan type '{scan_name}' (see `vulnbridge import --list-scan-types`)")
        } else {
            format!("unknown scan type '{scan_name}'; did you mean: {}?", close.join(", "))
        }
    })?;
    let Some(path) = args.file.as_ref() else {
        bail!("name the report file to import");
    };
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);

    let target = Target {
        test: args.test_id.map(TestId),
        engagement: args.engagement_id.map(EngagementId),
        product: None,
        product_type_name: args.product_type.clone(),
        product_name: args.product.clone(),
        engagement_name: args.engagement.clone(),
        test_title: args.test.clone(),
    };
    let opts = ImportOptions {
        reimport: args.reimport,
        auto_create_context: !args.no_create,
        close_old_findings: if args.close_old_findings { Some(true) } else if args.keep_old_findings { Some(false) } else { None },
        minimum_severity: args.minimum_severity.unwrap_or(Severity::Info),
        group_by: args.group_by,
        deduplication_scope: args.dedup_scope.unwrap_or_default(),
        service: args.service.clone(),
        tags: args.tags.clone(),
        apply_tags_to_findings: args.tag_findings,
        do_not_reactivate: args.do_not_reactivate,
        ..ImportOptions::default()
    };

    let app = runtime::app(&config).await?;
    let actor = match &args.as_user {
        Some(name) => {
            let mut c = app.db().conn().await?;
            let Some(u) = store::users::get_by_username(&mut c, name).await? else {
                bail!("no user named '{name}'");
            };
            store::tokens::actor_for(&mut c, u.id).await?
        }
        // A local command-line user has the machine, hence the database: an administrator.
        None => Actor {
            user_id: UserId(0),
            username: format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "local".into())),
            global_role: Some(Role::Admin),
            product_roles: Default::default(),
        },
    };

    let read = Arc::new(AtomicU64::new(0));
    let reader = BufReader::with_capacity(256 * 1024, Counting { inner: file, read: read.clone() });
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bar:32.cyan/blue} {bytes}/{total_bytes} · {msg} · {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let findings = Arc::new(AtomicU64::new(0));
    let ticker = {
        let (bar, read, findings) = (bar.clone(), read.clone(), findings.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(read.load(Ordering::Relaxed));
                bar.set_message(format!("{} findings", findings.load(Ordering::Relaxed)));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let started = Instant::now();
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let report = engine::import::Report { reader: Box::new(reader), size: Some(size), file_name: file_name.clone() };
    let result = engine::import::run(&app, &actor, scan_type, &target, &opts, report, &|n| {
        findings.store(n, Ordering::Relaxed)
    })
    .await;
    ticker.abort();
    bar.finish_and_clear();
    let outcome = result.map_err(|e| match e {
        ImportError::Parse(p) => anyhow::anyhow!("{}: {p}", path.display()),
        other => anyhow::anyhow!(other),
    })?;
    let elapsed = started.elapsed();

    let mut c = app.db().conn().await?;
    let product = store::products::get(&mut c, outcome.import.product).await?;
    let engagement = store::engagements::get(&mut c, outcome.import.engagement).await?;
    let test = store::tests::get(&mut c, outcome.import.test).await?;
    let n = outcome.import.counts;
    let total = n.created + n.duplicate + n.closed + n.reactivated + n.updated + n.untouched;
    out!(
        "{} {} into {} › {} › {} (test {}, import {}) in {:.2} s",
        if outcome.test_is_new { "Imported" } else { "Reimported" },
        file_name.as_deref().unwrap_or("report"),
        product.name,
        engagement.name,
        test.title,
        test.id,
        outcome.import.id,
        elapsed.as_secs_f64()
    );
    out!("");
    for (label, value) in [
        ("created", n.created),
        ("duplicate", n.duplicate),
        ("closed", n.closed),
        ("reactivated", n.reactivated),
        ("updated", n.updated),
        ("untouched", n.untouched),
    ] {
        out!("  {label:<12} {value:>8}");
    }
    out!("  {:<12} {:>8}", "findings", total);
    let a = &outcome.after;
    out!("");
    out!(
        "  open in this test: critical {} · high {} · medium {} · low {} · info {}",
        a.critical.active, a.high.active, a.medium.active, a.low.active, a.info.active
    );
    if elapsed.as_secs_f64() > 0.0 && total > 0 {
        tracing::info!(findings_per_second = (total as f64 / elapsed.as_secs_f64()) as u64, "Import rate.");
    }
    Ok(())
}

pub fn parse_group_by(s: &str) -> Result<GroupBy, String> {
    GroupBy::parse_defectdojo(s).ok_or_else(|| {
        "use component_name, component_name+component_version, file_path, finding_title, vuln_id_from_tool or vulnerability_id".to_owned()
    })
}

pub fn parse_scope(s: &str) -> Result<DedupScope, String> {
    DedupScope::parse(s).ok_or_else(|| "use test, engagement or product".to_owned())
}

pub fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s).map_err(|e| e.to_string())
}
