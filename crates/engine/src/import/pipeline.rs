//! The import run itself (see the module docs of `import` for the order of things).

use super::context::{Resolved, resolve_target};
use super::options::{ImportOptions, Target};
use crate::App;
use domain::dedup::{self, Algorithm, DedupConfig, DedupScope, Identity, MatchKey};
use domain::reimport::{self, Outcome};
use domain::stats::SeverityCounts;
use domain::{
    Actor, Finding, FindingId, GroupBy, IdRanges, NewFinding, Severity, Status, ValidationError,
};
use scanners::{Context, ParseError, ScanType};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use store::findings::IndexRow;
use store::imports::{NewImport, TestImport};
use store::{AsConn, Tx, findings, groups, history, imports};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("{what} not found")]
    NotFound { field: &'static str, what: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    Store(#[from] store::StoreError),
    #[error("the import stopped unexpectedly: {0}")]
    Internal(String),
}

/// What an import did, for the API response, the CLI summary and the import record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub import: TestImport,
    pub test_is_new: bool,
    pub product_type: Option<domain::ProductTypeId>,
    /// Findings of the test by severity and status, before the import (reimports only).
    pub before: Option<SeverityCounts>,
    /// What each outcome touched, by severity and status.
    pub delta: BTreeMap<String, SeverityCounts>,
    /// Findings of the test by severity and status, after the import.
    pub after: SeverityCounts,
}

/// Findings per channel message: big enough to amortise, small enough to keep memory flat.
const BATCH: usize = 1000;

/// Runs one import (see the module docs). `input` is read on a blocking thread;
/// `on_progress` is called with the number of findings read so far.
pub async fn run(
    app: &App,
    actor: &Actor,
    scan_type: &'static ScanType,
    target: &Target,
    opts: &ImportOptions,
    file_name: Option<String>,
    input: Box<dyn BufRead + Send>,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ImportOutcome, ImportError> {
    let started = store::now();
    let config = dedup::config_for(scan_type.name);
    let mut tx = app.db().begin().await?;
    let resolved = resolve_target(&mut tx, actor, scan_type.name, target, opts).await?;
    let before = if resolved.test_is_new {
        None
    } else {
        Some(test_counts(&mut tx, &resolved).await?)
    };

    let mut run = Run::new(&mut tx, &resolved, opts, config, started).await?;

    // The parser runs on a blocking thread and streams batches over a bounded channel.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<NewFinding>>(4);
    let ctx = Context { test: resolved.test.id };
    let parser = scan_type.parser;
    let scan_name = scan_type.name;
    let reader = tokio::task::spawn_blocking(move || {
        let mut input = input;
        let mut batch = Vec::with_capacity(BATCH);
        let result = parser.parse(&mut *input, &ctx, &mut |f| {
            batch.push(f);
            if batch.len() >= BATCH {
                sender
                    .blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .map_err(|_| ParseError::aborted(scan_name, ImportStopped))?;
            }
            Ok(())
        });
        if result.is_ok() && !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
        result
    });

    let mut read = 0u64;
    let mut failure = None;
    while let Some(batch) = receiver.recv().await {
        read += batch.len() as u64;
        on_progress(read);
        if let Err(e) = run.process_batch(&mut tx, batch).await {
            failure = Some(e);
            break;
        }
    }
    // Dropping the receiver stops a parser still running (its next send fails).
    drop(receiver);
    let parsed = reader
        .await
        .map_err(|e| ImportError::Internal(format!("the parser stopped: {e}")))?;
    if let Some(e) = failure {
        return Err(e);
    }
    parsed?;

    run.finish(&mut tx, &resolved).await?;
    let after = test_counts(&mut tx, &resolved).await?;
    let delta = run.delta();
    let record = NewImport {
        test: resolved.test.id,
        engagement: resolved.engagement.id,
        product: resolved.product.id,
        reimport: !resolved.test_is_new,
        scan_type: scan_type.name.to_owned(),
        file_name,
        actor: actor.username.clone(),
        options: serde_json::to_value(opts).unwrap_or_default(),
        started_at: started,
        findings: run.outcomes.iter().map(|(o, ids)| (*o, IdRanges::from_ids(ids.iter().map(|i| i.0)))).collect(),
        statistics: serde_json::json!({ "before": before, "delta": delta, "after": after }),
    };
    let import = imports::create(&mut tx, record).await?;
    tx.commit().await?;
    tracing::info!(
        import = %import.id, test = %resolved.test.id, scan_type = scan_type.name,
        created = import.counts.created, closed = import.counts.closed,
        reactivated = import.counts.reactivated, untouched = import.counts.untouched,
        "Import finished."
    );
    Ok(ImportOutcome {
        import,
        test_is_new: resolved.test_is_new,
        product_type: resolved.product.product_type,
        before,
        delta,
        after,
    })
}

#[derive(Debug)]
struct ImportStopped;
impl std::fmt::Display for ImportStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the import stopped reading")
    }
}
impl std::error::Error for ImportStopped {}

async fn test_counts(c: &mut impl AsConn, r: &Resolved) -> Result<SeverityCounts, ImportError> {
    let mut counts = SeverityCounts::default();
    for (sev, status, verified, n) in findings::counts_for_test(c, r.test.id).await? {
        counts.add(sev, status, verified, n);
    }
    Ok(counts)
}

/// A finding of the test, as far as matching needs it.
struct Existing {
    row: IndexRow,
    taken: bool,
}

/// A finding created by this import whose later repeats in the report add to it.
struct Repeat {
    id: FindingId,
    extra: NewFinding,
    count: i32,
}

/// The state of one import while batches arrive.
struct Run<'a> {
    opts: &'a ImportOptions,
    config: DedupConfig,
    now: chrono::DateTime<chrono::Utc>,
    test: domain::Test,
    /// The test's findings (reimport), and where to find them by tool id and by hash.
    existing: Vec<Existing>,
    by_uid: HashMap<(String, Option<String>), Vec<usize>>,
    by_hash: HashMap<(String, Option<String>), Vec<usize>>,
    /// Report identities seen so far: a repeat within the report merges into the first.
    seen: HashMap<MatchKey, Seen>,
    /// Every identity key the report carried (for closing old findings on import).
    report_keys: HashSet<MatchKey>,
    outcomes: BTreeMap<Outcome, Vec<FindingId>>,
    delta: BTreeMap<Outcome, SeverityCounts>,
    /// New findings per group name (with `group_by`).
    grouped: BTreeMap<String, Vec<FindingId>>,
    repeats: HashMap<FindingId, Repeat>,
    matched: Vec<FindingId>,
}

#[derive(Clone, Copy)]
enum Seen {
    Created(FindingId),
    Matched(FindingId),
}

impl<'a> Run<'a> {
    async fn new(
        tx: &mut Tx,
        r: &Resolved,
        opts: &'a ImportOptions,
        config: DedupConfig,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Run<'a>, ImportError> {
        let mut run = Run {
            opts,
            config,
            now,
            test: r.test.clone(),
            existing: Vec::new(),
            by_uid: HashMap::new(),
            by_hash: HashMap::new(),
            seen: HashMap::new(),
            report_keys: HashSet::new(),
            outcomes: BTreeMap::new(),
            delta: BTreeMap::new(),
            grouped: BTreeMap::new(),
            repeats: HashMap::new(),
            matched: Vec::new(),
        };
        if !r.test_is_new {
            for row in findings::test_index(tx, r.test.id).await? {
                let i = run.existing.len();
                if let Some(uid) = &row.unique_id_from_tool {
                    run.by_uid.entry((uid.clone(), row.service.clone())).or_default().push(i);
                }
                if let Some(h) = &row.hash_code {
                    run.by_hash.entry((h.clone(), row.service.clone())).or_default().push(i);
                }
                run.existing.push(Existing { row, taken: false });
            }
        }
        Ok(run)
    }

    /// Applies the import's options to one report finding; `None` if it is filtered out.
    fn prepare(&self, mut f: NewFinding) -> Result<Option<NewFinding>, ImportError> {
        if f.severity < self.opts.minimum_severity {
            return Ok(None);
        }
        match self.opts.active {
            Some(true) if !f.status.is_open() => f.status = Status::Active,
            Some(false) if f.status.is_open() => f.status = Status::Closed,
            _ => {}
        }
        if let Some(v) = self.opts.verified {
            f.verified = v;
        }
        if self.opts.service.is_some() {
            f.service.clone_from(&self.opts.service);
        }
        if let Some(d) = self.opts.scan_date {
            f.date = Some(d);
        }
        if self.opts.apply_tags_to_findings {
            f.tags.extend(self.opts.tags.iter().cloned());
        }
        f.test = self.test.id;
        Ok(Some(f.normalize()?))
    }

    /// The existing finding a report finding pairs with: by tool id when the algorithm uses
    /// it and the report has one, else by hash. Each existing finding pairs at most once.
    fn take_match(&mut self, id: &Identity) -> Option<usize> {
        let algo = self.config.algorithm;
        let mut lists: Vec<&mut Vec<usize>> = Vec::new();
        let uid_key = id.unique_id.clone().map(|u| (u, id.service.clone()));
        let use_uid = matches!(algo, Algorithm::UniqueIdFromTool | Algorithm::UniqueIdFromToolOrHashCode);
        let hash_key = (id.hash_code.clone(), id.service.clone());
        // Borrow the two maps one after the other.
        let mut found = None;
        if use_uid && let Some(k) = &uid_key && let Some(list) = self.by_uid.get_mut(k) {
            lists.push(list);
        }
        for list in lists {
            while let Some(i) = list.pop() {
                if !self.existing[i].taken {
                    found = Some(i);
                    break;
                }
            }
        }
        let hash_allowed = !(use_uid && uid_key.is_some() && algo == Algorithm::UniqueIdFromTool);
        if found.is_none() && hash_allowed && let Some(list) = self.by_hash.get_mut(&hash_key) {
            while let Some(i) = list.pop() {
                if !self.existing[i].taken {
                    found = Some(i);
                    break;
                }
            }
        }
        if let Some(i) = found {
            self.existing[i].taken = true;
        }
        found
    }

    fn count(&mut self, outcome: Outcome, id: FindingId, severity: Severity, status: Status, verified: bool) {
        self.outcomes.entry(outcome).or_default().push(id);
        self.delta.entry(outcome).or_default().add(severity, status, verified, 1);
    }

    async fn process_batch(&mut self, tx: &mut Tx, batch: Vec<NewFinding>) -> Result<(), ImportError> {
        let mut to_create: Vec<(Identity, NewFinding)> = Vec::new();
        let mut pending: HashMap<MatchKey, usize> = HashMap::new();
        let mut changed: Vec<(FindingId, Status, NewFinding, String)> = Vec::new();
        for raw in batch {
            let Some(f) = self.prepare(raw)? else { continue };
            let id = Identity::of(&f, &self.config);
            let key = id.key(self.config.algorithm);
            self.report_keys.insert(key.clone());
            self.report_keys.insert(MatchKey::Hash(id.hash_code.clone(), id.service.clone()));
            // A repeat within the report: counted once.
            if let Some(&i) = pending.get(&key) {
                reimport::merge_repeat(&mut to_create[i].1, f);
                continue;
            }
            if let Some(seen) = self.seen.get(&key).copied() {
                let target = match seen {
                    Seen::Created(fid) | Seen::Matched(fid) => fid,
                };
                let entry = self.repeats.entry(target).or_insert_with(|| Repeat { id: target, extra: f.clone(), count: 0 });
                entry.count += f.occurrences.unwrap_or(1);
                for e in &f.endpoints {
                    if !entry.extra.endpoints.contains(e) {
                        entry.extra.endpoints.push(e.clone());
                    }
                }
                continue;
            }
            match self.take_match(&id) {
                Some(i) => {
                    let row = self.existing[i].row.clone();
                    self.seen.insert(key, Seen::Matched(row.id));
                    self.matched.push(row.id);
                    let (status, mut outcome) = reimport::on_match(row.status, f.status, self.opts.do_not_reactivate);
                    let fingerprint = scanner_fingerprint(&f);
                    let refresh = row.scanner_fingerprint.as_deref() != Some(fingerprint.as_str());
                    if status != row.status || refresh {
                        if outcome == Outcome::Untouched && refresh {
                            outcome = Outcome::Updated;
                        }
                        changed.push((row.id, status, f, fingerprint));
                    }
                    self.count(outcome, row.id, row.severity, status, row.verified);
                }
                None => {
                    pending.insert(key, to_create.len());
                    to_create.push((id, f));
                }
            }
        }
        self.apply_changes(tx, changed).await?;
        self.create(tx, to_create).await
    }

    /// Matched findings whose status or scanner-owned fields change.
    async fn apply_changes(&mut self, tx: &mut Tx, changed: Vec<(FindingId, Status, NewFinding, String)>) -> Result<(), ImportError> {
        if changed.is_empty() {
            return Ok(());
        }
        let ids: Vec<FindingId> = changed.iter().map(|c| c.0).collect();
        let mut current: HashMap<FindingId, Finding> =
            findings::get_many(tx, &ids).await?.into_iter().map(|f| (f.id, f)).collect();
        for (id, status, report, fingerprint) in changed {
            let Some(before) = current.remove(&id) else { continue };
            let mut after = before.clone();
            reimport::refresh(&mut after, &report);
            after.scanner_fingerprint = Some(fingerprint);
            after.set_status(status, self.now, "import");
            after.last_seen = self.now;
            after.updated_at = self.now;
            findings::update(tx, &after).await?;
            let diff = Finding::diff(&before, &after);
            if before.status != after.status {
                history::record(tx, id, "import", if after.status.is_open() { "reactivated" } else { "closed" }, diff).await?;
            } else if diff.as_object().is_some_and(|m| !m.is_empty()) {
                history::record(tx, id, "import", "updated", diff).await?;
            }
        }
        Ok(())
    }

    /// Inserts new findings, marking those already known elsewhere in the dedup scope as
    /// duplicates of the oldest open copy.
    async fn create(&mut self, tx: &mut Tx, new: Vec<(Identity, NewFinding)>) -> Result<(), ImportError> {
        if new.is_empty() {
            return Ok(());
        }
        let originals = if self.opts.deduplication_scope == DedupScope::Test {
            HashMap::new()
        } else {
            let uids: Vec<String> = new.iter().filter_map(|(i, _)| i.unique_id.clone()).collect();
            let hashes: Vec<String> = new.iter().map(|(i, _)| i.hash_code.clone()).collect();
            let rows = findings::originals(tx, self.opts.deduplication_scope, &self.test, &uids, &hashes).await?;
            let mut map: HashMap<MatchKey, FindingId> = HashMap::new();
            for row in rows {
                // The oldest original wins (rows come in id order).
                if let Some(u) = &row.unique_id_from_tool {
                    map.entry(MatchKey::Uid(u.clone(), row.service.clone())).or_insert(row.id);
                }
                if let Some(h) = &row.hash_code {
                    map.entry(MatchKey::Hash(h.clone(), row.service.clone())).or_insert(row.id);
                }
            }
            map
        };
        let mut rows = Vec::with_capacity(new.len());
        let mut keys = Vec::with_capacity(new.len());
        for (id, f) in new {
            let key = id.key(self.config.algorithm);
            let fingerprint = scanner_fingerprint(&f);
            let group = self.opts.group_by.and_then(|g| group_name(g, &f));
            let mut finding = f.into_finding(&self.test, self.now, Some(id.hash_code.clone()));
            finding.scanner_fingerprint = Some(fingerprint);
            let original = originals.get(&key).or_else(|| originals.get(&MatchKey::Hash(id.hash_code.clone(), id.service.clone())));
            if let Some(orig) = original
                && finding.status.is_open()
            {
                finding.status = Status::Duplicate;
                finding.duplicate_of = Some(*orig);
            }
            rows.push(finding);
            keys.push((key, group));
        }
        let stored = findings::insert_many(tx, rows).await?;
        for (f, (key, group)) in stored.iter().zip(keys) {
            self.seen.insert(key, Seen::Created(f.id));
            let outcome = if f.status == Status::Duplicate { Outcome::Duplicate } else { Outcome::Created };
            self.count(outcome, f.id, f.severity, f.status, f.verified);
            if let Some(g) = group {
                self.grouped.entry(g).or_default().push(f.id);
            }
        }
        Ok(())
    }

    /// After the last batch: repeats, findings no longer reported, groups, last-seen times.
    async fn finish(&mut self, tx: &mut Tx, r: &Resolved) -> Result<(), ImportError> {
        // Repeats of findings already written: add their occurrences and endpoints.
        let repeats: Vec<Repeat> = self.repeats.drain().map(|(_, v)| v).collect();
        if !repeats.is_empty() {
            let ids: Vec<FindingId> = repeats.iter().map(|r| r.id).collect();
            let mut current: HashMap<FindingId, Finding> =
                findings::get_many(tx, &ids).await?.into_iter().map(|f| (f.id, f)).collect();
            for rep in repeats {
                if let Some(mut f) = current.remove(&rep.id) {
                    f.occurrences += rep.count;
                    for e in rep.extra.endpoints {
                        if !f.endpoints.contains(&e) {
                            f.endpoints.push(e);
                        }
                    }
                    findings::update(tx, &f).await?;
                }
            }
        }

        if self.opts.closes_old_findings() {
            let candidates: Vec<IndexRow> = if r.test_is_new {
                // An import closes what earlier tests of this scan type reported and this one
                // does not (DefectDojo's close_old_findings on import).
                findings::open_for_closing(
                    tx,
                    &self.test,
                    self.opts.close_old_findings_product_scope,
                    self.opts.service.as_deref(),
                )
                .await?
                .into_iter()
                .filter(|row| !self.listed(row))
                .collect()
            } else {
                self.existing
                    .iter()
                    .filter(|e| !e.taken && e.row.service == self.opts.service.clone().or(e.row.service.clone()))
                    .filter(|e| self.opts.service.is_none() || e.row.service == self.opts.service)
                    .map(|e| e.row.clone())
                    .collect()
            };
            let mut closing = Vec::new();
            for row in candidates {
                if let Some((status, outcome)) = reimport::on_missing(row.status, true) {
                    self.count(outcome, row.id, row.severity, status, row.verified);
                    closing.push(row.id);
                }
            }
            for chunk in closing.chunks(1000) {
                findings::close_many(tx, chunk, self.now, "import (no longer reported)").await?;
                for id in chunk {
                    history::record(tx, *id, "import", "closed", serde_json::json!({"reason": "no longer reported"})).await?;
                }
            }
        }

        if self.opts.group_by.is_some() {
            for (name, ids) in std::mem::take(&mut self.grouped) {
                if ids.len() < 2 && !self.opts.create_finding_groups_for_all_findings {
                    continue;
                }
                let g = groups::get_or_create(tx, &self.test, &name, self.opts.group_by.unwrap_or(GroupBy::Custom)).await?;
                findings::set_group(tx, &ids, Some(g.id)).await?;
            }
        }

        // Everything matched was seen now. One statement per 5,000 ids.
        findings::touch_last_seen(tx, &self.matched, self.now).await?;
        Ok(())
    }

    /// Whether the report listed a finding (by the keys the report carried).
    fn listed(&self, row: &IndexRow) -> bool {
        let uid = row.unique_id_from_tool.as_ref().map(|u| MatchKey::Uid(u.clone(), row.service.clone()));
        let hash = row.hash_code.as_ref().map(|h| MatchKey::Hash(h.clone(), row.service.clone()));
        uid.is_some_and(|k| self.report_keys.contains(&k)) || hash.is_some_and(|k| self.report_keys.contains(&k))
    }

    fn delta(&self) -> BTreeMap<String, SeverityCounts> {
        let name = |o: Outcome| serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        Outcome::ALL
            .iter()
            .map(|o| (name(*o), self.delta.get(o).copied().unwrap_or_default()))
            .collect()
    }
}

/// The group a new finding joins under `group_by`.
fn group_name(by: GroupBy, f: &NewFinding) -> Option<String> {
    match by {
        GroupBy::ComponentName => f.component_name.clone(),
        GroupBy::ComponentNameVersion => f.component_name.as_ref().map(|n| match &f.component_version {
            Some(v) => format!("{n}:{v}"),
            None => n.clone(),
        }),
        GroupBy::FilePath => f.file_path.clone(),
        GroupBy::VulnerabilityId => f.vulnerability_ids.first().cloned(),
        GroupBy::Rule => f.vuln_id_from_tool.clone(),
        GroupBy::Title => Some(f.title.as_str().to_owned()),
        GroupBy::Custom => None,
    }
}

/// A hash of the fields a reimport may refresh: equal means there is nothing to write.
fn scanner_fingerprint(f: &NewFinding) -> String {
    let mut endpoints: Vec<String> = f.endpoints.iter().map(|e| e.to_string()).collect();
    endpoints.sort();
    let parts = serde_json::json!([
        f.epss_score, f.epss_percentile, f.known_exploited, f.fix_available, f.fix_version,
        f.occurrences.unwrap_or(1), endpoints, f.component_name, f.component_version,
        f.component_purl, f.cvss_v3_vector, f.cvss_v3_score,
    ]);
    dedup::sha256_hex(parts.to_string().as_bytes())
}
