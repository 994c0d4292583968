//! The import run itself (see the module docs of `import` for the order of things).

use super::context::{Resolved, resolve_target};
use super::options::{ImportOptions, Target};
use crate::App;
use domain::dedup::{self, Algorithm, DedupConfig, Identity, MatchKey};
use domain::reimport::{self, Outcome};
use domain::stats::SeverityCounts;
use domain::{
    Actor, Finding, FindingId, GroupBy, IdRanges, NewFinding, Severity, Status, ValidationError,
};
use scanners::{Context, ParseError, ScanType};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::BufRead;
use store::findings::IndexRow;
use store::imports::{NewImport, TestImport};
use store::{Tx, findings, groups, history, imports, tests};

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

/// The report to import: its bytes, and what is known about them.
pub struct Report {
    pub reader: Box<dyn BufRead + Send>,
    /// Its size, when known: lets parsers read small reports into memory (faster).
    pub size: Option<u64>,
    /// Its file name, kept in the import record.
    pub file_name: Option<String>,
}

impl Report {
    /// A report held in memory (tests, the demo's built-in samples).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>, file_name: Option<&str>) -> Report {
        let bytes = bytes.into();
        Report {
            size: Some(bytes.len() as u64),
            reader: Box::new(std::io::Cursor::new(bytes)),
            file_name: file_name.map(str::to_owned),
        }
    }

    /// A report file, read as a stream.
    pub fn from_file(path: &std::path::Path) -> std::io::Result<Report> {
        let file = std::fs::File::open(path)?;
        let size = file.metadata().ok().map(|m| m.len());
        Ok(Report {
            reader: Box::new(std::io::BufReader::with_capacity(256 * 1024, file)),
            size,
            file_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
        })
    }
}

/// Findings per channel message: big enough to amortise, small enough to keep memory flat.
const BATCH: usize = 1000;

/// New findings are written this many at a time: each bulk write has a fixed cost (on
/// PostgreSQL a COPY round trip), so fewer, larger writes import faster.
const FLUSH: usize = 10_000;

/// Where an import's findings come from.
pub enum Source {
    /// A report file, read by its scan type's parser.
    Report(&'static ScanType, Report),
    /// Findings already parsed, in batches (a connector pulling from a scanner's API). An
    /// `Err` ends the import: nothing is written.
    Findings(tokio::sync::mpsc::Receiver<Result<Vec<NewFinding>, ImportError>>),
}

/// Runs one import of a report (see the module docs). The report is read on a blocking
/// thread; `on_progress` is called with the number of findings read so far.
pub async fn run(
    app: &App,
    actor: &Actor,
    scan_type: &'static ScanType,
    target: &Target,
    opts: &ImportOptions,
    report: Report,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ImportOutcome, ImportError> {
    run_source(app, actor, scan_type.name, target, opts, Source::Report(scan_type, report), on_progress).await
}

/// Runs one import from any source, the findings recorded under `scan_name` (the test's scan
/// type, which also picks the de-duplication rules).
pub async fn run_source(
    app: &App,
    actor: &Actor,
    scan_name: &str,
    target: &Target,
    opts: &ImportOptions,
    source: Source,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ImportOutcome, ImportError> {
    let started = store::now();
    let config = dedup::config_for(scan_name);
    let mut tx = app.db().begin().await?;
    let resolved = resolve_target(&mut tx, actor, scan_name, target, opts).await?;

    // The findings arrive in prepared batches over a bounded channel: from the parser on a
    // blocking thread (which also prepares each finding — options, validation, identity,
    // fingerprint: CPU work that then overlaps with this side's database writes), or from a
    // task preparing what a connector sends.
    // Room for 16 batches: reading starts while the test's findings are still being read.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Prepared>>(16);
    let prep = Preparer { opts: opts.clone(), config, test: resolved.test.id };
    let (reader, file_name) = match source {
        Source::Report(scan_type, report) => {
            let Report { reader: input, size, file_name } = report;
            (read_report(scan_type, input, size, resolved.test.id, prep, sender), file_name)
        }
        Source::Findings(incoming) => (forward_findings(incoming, prep, sender), None),
    };

    let phase = std::time::Instant::now();
    let mut run = Run::new(&mut tx, &resolved, opts, config, started).await?;
    let before = (!resolved.test_is_new).then_some(run.after);
    let indexes_loaded = phase.elapsed();
    let mut parser_wait = std::time::Duration::ZERO;
    let mut read = 0u64;
    let mut failure = None;
    loop {
        let wait = std::time::Instant::now();
        let Some(batch) = receiver.recv().await else { break };
        parser_wait += wait.elapsed();
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

    let batches_done = phase.elapsed();
    run.finish(&mut tx, &resolved).await?;
    // The pushes this import needs commit with it.
    let listed = |o: Outcome| run.outcomes.get(&o).cloned().unwrap_or_default();
    let changed: Vec<FindingId> = [Outcome::Closed, Outcome::Reactivated, Outcome::Updated].into_iter().flat_map(listed).collect();
    crate::integrations::enqueue::after_import(&mut tx, resolved.product.id, &listed(Outcome::Created), &changed).await?;
    let finished = phase.elapsed();
    let after = run.after;
    let delta = run.delta();
    let record = NewImport {
        test: resolved.test.id,
        engagement: resolved.engagement.id,
        product: resolved.product.id,
        reimport: !resolved.test_is_new,
        scan_type: scan_name.to_owned(),
        file_name,
        actor: actor.username.clone(),
        options: serde_json::to_value(opts).unwrap_or_default(),
        started_at: started,
        findings: run.outcomes.iter().map(|(o, ids)| (*o, IdRanges::from_ids(ids.iter().map(|i| i.0)))).collect(),
        statistics: serde_json::json!({ "before": before, "delta": delta, "after": after }),
    };
    let import = imports::create(&mut tx, record).await?;
    tx.commit().await?;
    // Where the time went, for tuning: reading the indexes, processing batches (of which
    // waiting for the parser), finishing (closing, grouping, last-seen), recording+commit.
    tracing::debug!(
        indexes_ms = indexes_loaded.as_millis() as u64,
        batches_ms = (batches_done - indexes_loaded).as_millis() as u64,
        waiting_for_parser_ms = parser_wait.as_millis() as u64,
        finish_ms = (finished - batches_done).as_millis() as u64,
        record_and_commit_ms = (phase.elapsed() - finished).as_millis() as u64,
        "Import phases."
    );
    tracing::info!(
        import = %import.id, test = %resolved.test.id, scan_type = scan_name,
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

/// Reads a report on a blocking thread, sending prepared batches.
fn read_report(
    scan_type: &'static ScanType,
    input: Box<dyn BufRead + Send>,
    size: Option<u64>,
    test: domain::TestId,
    prep: Preparer,
    sender: tokio::sync::mpsc::Sender<Vec<Prepared>>,
) -> tokio::task::JoinHandle<Result<(), ImportError>> {
    let ctx = Context { test, size_hint: size };
    let parser = scan_type.parser;
    let scan_name = scan_type.name;
    tokio::task::spawn_blocking(move || -> Result<(), ImportError> {
        let mut input = input;
        let mut batch = Vec::with_capacity(BATCH);
        let mut invalid: Option<ValidationError> = None;
        let result = parser.parse(&mut *input, &ctx, &mut |f| {
            match prep.prepare(f) {
                Ok(Some(p)) => batch.push(p),
                Ok(None) => {}
                Err(v) => {
                    invalid = Some(v);
                    return Err(ParseError::aborted(scan_name, ImportStopped));
                }
            }
            if batch.len() >= BATCH {
                sender
                    .blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .map_err(|_| ParseError::aborted(scan_name, ImportStopped))?;
            }
            Ok(())
        });
        if let Some(v) = invalid {
            return Err(ImportError::Invalid(v));
        }
        result?;
        if !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
        Ok(())
    })
}

/// Prepares findings a connector sends, forwarding them as prepared batches.
fn forward_findings(
    mut incoming: tokio::sync::mpsc::Receiver<Result<Vec<NewFinding>, ImportError>>,
    prep: Preparer,
    sender: tokio::sync::mpsc::Sender<Vec<Prepared>>,
) -> tokio::task::JoinHandle<Result<(), ImportError>> {
    tokio::spawn(async move {
        while let Some(batch) = incoming.recv().await {
            let mut prepared = Vec::with_capacity(batch.as_ref().map(Vec::len).unwrap_or(0));
            for f in batch? {
                if let Some(p) = prep.prepare(f)? {
                    prepared.push(p);
                }
            }
            if !prepared.is_empty() && sender.send(prepared).await.is_err() {
                // The import stopped reading (it failed): nothing more to do.
                return Ok(());
            }
        }
        Ok(())
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

/// A report finding ready for matching: options applied, validated, identified.
struct Prepared {
    finding: NewFinding,
    identity: Identity,
    key: MatchKey,
    fingerprint: String,
}

/// Applies an import's options to report findings (on the parser's thread).
struct Preparer {
    opts: ImportOptions,
    config: DedupConfig,
    test: domain::TestId,
}

impl Preparer {
    /// `None` if the finding is filtered out (below `minimum_severity`).
    fn prepare(&self, mut f: NewFinding) -> Result<Option<Prepared>, ValidationError> {
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
        f.test = self.test;
        let finding = f.normalize()?;
        let identity = Identity::of(&finding, &self.config);
        let key = identity.key(self.config.algorithm);
        let fingerprint = reimport::scanner_fingerprint(&finding);
        Ok(Some(Prepared { finding, identity, key, fingerprint }))
    }
}

/// `MatchKey`s are uniformly random digests already: hashing them again is wasted work, so
/// maps keyed by them use the key's first eight bytes as the hash.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }
}

type KeyMap<V> = HashMap<MatchKey, V, BuildHasherDefault<DigestHasher>>;
type KeySet = HashSet<MatchKey, BuildHasherDefault<DigestHasher>>;

/// A finding of the test, as far as matching needs it.
struct Existing {
    row: IndexRow,
    taken: bool,
}


/// The state of one import while batches arrive.
struct Run<'a> {
    opts: &'a ImportOptions,
    config: DedupConfig,
    now: chrono::DateTime<chrono::Utc>,
    test: domain::Test,
    /// The test's findings (reimport), and where to find them by tool id and by hash.
    existing: Vec<Existing>,
    by_uid: KeyMap<Vec<usize>>,
    by_hash: KeyMap<Vec<usize>>,
    /// Open findings elsewhere in the dedup scope, by identity (oldest wins): a new finding
    /// with one of these identities is a duplicate.
    originals: KeyMap<FindingId>,
    /// Report identities seen so far: a repeat within the report merges into the first.
    seen: KeyMap<Seen>,
    /// New findings not written yet (see `FLUSH`), and where each identity is among them.
    pending: Vec<PendingNew>,
    pending_keys: KeyMap<usize>,
    /// Every identity key the report carried (for closing old findings on import).
    report_keys: KeySet,
    outcomes: BTreeMap<Outcome, Vec<FindingId>>,
    delta: BTreeMap<Outcome, SeverityCounts>,
    /// New findings per group name (with `group_by`).
    grouped: BTreeMap<String, Vec<FindingId>>,
    /// Repeats within the report of findings already written, merged in at the end.
    repeats: HashMap<FindingId, Vec<NewFinding>>,
    /// Matched findings that an earlier import had stopped listing.
    relisted: Vec<FindingId>,
    /// The test's findings by severity and status, kept current as outcomes are counted
    /// (starts as the counts before the import).
    after: SeverityCounts,
}

/// A new finding waiting to be written, with what the import needs to know about it then.
struct PendingNew {
    finding: Finding,
    key: MatchKey,
    group: Option<String>,
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
            by_uid: KeyMap::default(),
            by_hash: KeyMap::default(),
            originals: KeyMap::default(),
            seen: KeyMap::default(),
            pending: Vec::new(),
            pending_keys: KeyMap::default(),
            report_keys: KeySet::default(),
            outcomes: BTreeMap::new(),
            delta: BTreeMap::new(),
            grouped: BTreeMap::new(),
            repeats: HashMap::new(),
            relisted: Vec::new(),
            after: SeverityCounts::default(),
        };
        for row in findings::scope_index(tx, opts.deduplication_scope, &r.test).await? {
            if let Some(u) = &row.unique_id_from_tool {
                run.originals.entry(MatchKey::uid(u, row.service.as_deref())).or_insert(row.id);
            }
            if let Some(h) = &row.hash_code {
                run.originals.entry(MatchKey::hash(h, row.service.as_deref())).or_insert(row.id);
            }
        }
        if !r.test_is_new {
            for row in findings::test_index(tx, r.test.id).await? {
                run.after.add(row.severity, row.status, row.verified, 1);
                let i = run.existing.len();
                if let Some(uid) = &row.unique_id_from_tool {
                    run.by_uid.entry(MatchKey::uid(uid, row.service.as_deref())).or_default().push(i);
                }
                if let Some(h) = &row.hash_code {
                    run.by_hash.entry(MatchKey::hash(h, row.service.as_deref())).or_default().push(i);
                }
                run.existing.push(Existing { row, taken: false });
            }
        }
        Ok(run)
    }

    /// The existing finding a report finding pairs with: by tool id when the algorithm uses
    /// it and the report has one, else by hash. Each existing finding pairs at most once.
    fn take_match(&mut self, id: &Identity) -> Option<usize> {
        let algo = self.config.algorithm;
        let use_uid = matches!(algo, Algorithm::UniqueIdFromTool | Algorithm::UniqueIdFromToolOrHashCode);
        let uid_key = id.uid_key().filter(|_| use_uid);
        let existing = &mut self.existing;
        let mut pop = |list: Option<&mut Vec<usize>>| {
            let list = list?;
            while let Some(i) = list.pop() {
                if !existing[i].taken {
                    existing[i].taken = true;
                    return Some(i);
                }
            }
            None
        };
        if let Some(k) = uid_key
            && let Some(i) = pop(self.by_uid.get_mut(&k))
        {
            return Some(i);
        }
        // With a pure tool-id algorithm, a report finding that has an id matches only by id.
        if algo == Algorithm::UniqueIdFromTool && uid_key.is_some() {
            return None;
        }
        pop(self.by_hash.get_mut(&id.hash_key()))
    }

    /// Records an outcome; `old` is the status before (None for a new finding).
    fn count(&mut self, outcome: Outcome, id: FindingId, severity: Severity, old: Option<Status>, status: Status, verified: bool) {
        self.outcomes.entry(outcome).or_default().push(id);
        self.delta.entry(outcome).or_default().add(severity, status, verified, 1);
        if old != Some(status) {
            if let Some(o) = old {
                self.after.add(severity, o, verified, -1);
            }
            self.after.add(severity, status, verified, 1);
        }
    }

    async fn process_batch(&mut self, tx: &mut Tx, batch: Vec<Prepared>) -> Result<(), ImportError> {
        let mut changed: Vec<(FindingId, Status, NewFinding, String)> = Vec::new();
        for p in batch {
            let key = p.key;
            self.report_keys.insert(key);
            self.report_keys.insert(p.identity.hash_key());
            // A repeat within the report is counted once: merged into a copy not yet
            // written, or added to one already written (see `finish`).
            if let Some(&i) = self.pending_keys.get(&key) {
                reimport::merge_repeat(&mut self.pending[i].finding, &p.finding);
                continue;
            }
            if let Some(seen) = self.seen.get(&key).copied() {
                let target = match seen {
                    Seen::Created(fid) | Seen::Matched(fid) => fid,
                };
                self.repeats.entry(target).or_default().push(p.finding);
                continue;
            }
            match self.take_match(&p.identity) {
                Some(i) => {
                    let row = &self.existing[i].row;
                    let (id, row_status, severity, verified) = (row.id, row.status, row.severity, row.verified);
                    let refresh = row.scanner_fingerprint.as_deref() != Some(p.fingerprint.as_str());
                    if !row.listed {
                        self.relisted.push(id);
                    }
                    self.seen.insert(key, Seen::Matched(id));
                    let (status, mut outcome) = reimport::on_match(row_status, p.finding.status, self.opts.do_not_reactivate);
                    if status != row_status || refresh {
                        if outcome == Outcome::Untouched && refresh {
                            outcome = Outcome::Updated;
                        }
                        changed.push((id, status, p.finding, p.fingerprint));
                    }
                    self.count(outcome, id, severity, Some(row_status), status, verified);
                }
                None => self.add_new(p),
            }
        }
        self.apply_changes(tx, changed).await?;
        if self.pending.len() >= FLUSH {
            self.flush(tx).await?;
        }
        Ok(())
    }

    /// Queues a new finding; it is a duplicate when an open finding elsewhere in the dedup
    /// scope has its identity.
    fn add_new(&mut self, p: Prepared) {
        let group = self.opts.group_by.and_then(|g| group_name(g, &p.finding));
        let original = self.originals.get(&p.key).or_else(|| self.originals.get(&p.identity.hash_key())).copied();
        let mut finding = p.finding.into_finding(&self.test, self.now, Some(p.identity.hash_code));
        finding.scanner_fingerprint = Some(p.fingerprint);
        if let Some(orig) = original
            && finding.status.is_open()
        {
            finding.status = Status::Duplicate;
            finding.duplicate_of = Some(orig);
        }
        self.pending_keys.insert(p.key, self.pending.len());
        self.pending.push(PendingNew { finding, key: p.key, group });
    }

    /// Writes the queued new findings and records them.
    async fn flush(&mut self, tx: &mut Tx) -> Result<(), ImportError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.pending_keys.clear();
        let pending = std::mem::take(&mut self.pending);
        let mut meta = Vec::with_capacity(pending.len());
        let mut rows = Vec::with_capacity(pending.len());
        for p in pending {
            meta.push((p.key, p.group));
            rows.push(p.finding);
        }
        let stored = findings::insert_many(tx, rows, findings::Seen::ByImport).await?;
        for (f, (key, group)) in stored.iter().zip(meta) {
            self.seen.insert(key, Seen::Created(f.id));
            let outcome = if f.status == Status::Duplicate { Outcome::Duplicate } else { Outcome::Created };
            self.count(outcome, f.id, f.severity, None, f.status, f.verified);
            if let Some(g) = group {
                self.grouped.entry(g).or_default().push(f.id);
            }
        }
        Ok(())
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

    /// After the last batch: repeats, findings no longer reported, groups, last-seen times.
    async fn finish(&mut self, tx: &mut Tx, r: &Resolved) -> Result<(), ImportError> {
        self.flush(tx).await?;
        // Repeats of findings already written: add their occurrences and endpoints.
        let repeats = std::mem::take(&mut self.repeats);
        if !repeats.is_empty() {
            let ids: Vec<FindingId> = repeats.keys().copied().collect();
            for mut f in findings::get_many(tx, &ids).await? {
                for again in &repeats[&f.id] {
                    reimport::merge_repeat(&mut f, again);
                }
                findings::update(tx, &f).await?;
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
                    self.count(outcome, row.id, row.severity, Some(row.status), status, row.verified);
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

        // Last seen: findings this import lists read it from the test, so only those whose
        // listing changed are written (an unchanged reimport writes none). Those it no
        // longer lists keep the time of the import that last did.
        let last_listed = r.test.last_import_at.unwrap_or(r.test.created_at);
        let unlisted: Vec<FindingId> =
            self.existing.iter().filter(|e| !e.taken && e.row.listed).map(|e| e.row.id).collect();
        findings::mark_unlisted(tx, &unlisted, last_listed).await?;
        findings::mark_listed(tx, &self.relisted).await?;
        tests::set_last_import(tx, self.test.id, self.now).await?;
        Ok(())
    }

    /// Whether the report listed a finding (by the keys the report carried).
    fn listed(&self, row: &IndexRow) -> bool {
        let service = row.service.as_deref();
        row.unique_id_from_tool.as_deref().is_some_and(|u| self.report_keys.contains(&MatchKey::uid(u, service)))
            || row.hash_code.as_deref().is_some_and(|h| self.report_keys.contains(&MatchKey::hash(h, service)))
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
