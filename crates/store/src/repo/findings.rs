use crate::query::{Arg, PageRequest, QueryBuf, contains_pattern};
use crate::repo::{fetch_page, parse_stored, push_visibility};
use crate::{AsConn, Page, Result, StoreError, on_conn};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    Endpoint, EngagementId, Finding, FindingGroupId, FindingId, ProductId, RequestResponse,
    Severity, Status, TestId, Visibility,
};
use sqlx::types::Json;
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    test_id: i64,
    engagement_id: i64,
    product_id: i64,
    finding_group_id: Option<i64>,
    title: String,
    description: String,
    severity: i16,
    status: String,
    verified: bool,
    cwe: Option<i32>,
    cwes: Json<Vec<i32>>,
    cvss_v3_vector: Option<String>,
    cvss_v3_score: Option<f64>,
    cvss_v4_vector: Option<String>,
    cvss_v4_score: Option<f64>,
    epss_score: Option<f64>,
    epss_percentile: Option<f64>,
    known_exploited: bool,
    severity_justification: Option<String>,
    publish_date: Option<NaiveDate>,
    component_name: Option<String>,
    component_version: Option<String>,
    component_purl: Option<String>,
    file_path: Option<String>,
    line: Option<i32>,
    endpoints: Json<Vec<Endpoint>>,
    service: Option<String>,
    unique_id_from_tool: Option<String>,
    vuln_id_from_tool: Option<String>,
    hash_code: Option<String>,
    mitigation: Option<String>,
    impact: Option<String>,
    steps_to_reproduce: Option<String>,
    refs: Option<String>,
    param: Option<String>,
    payload: Option<String>,
    request_response: Json<Vec<RequestResponse>>,
    fix_available: Option<bool>,
    fix_version: Option<String>,
    static_finding: bool,
    dynamic_finding: bool,
    scanner_confidence: Option<String>,
    tags: Json<Vec<String>>,
    date: NaiveDate,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    mitigated_at: Option<DateTime<Utc>>,
    mitigated_by: Option<String>,
    duplicate_of: Option<i64>,
    occurrences: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    scanner_fingerprint: Option<String>,
}

/// Every column but `id`, in insert order; `values` below must follow it.
const INSERT_COLUMNS: &str = "test_id, engagement_id, product_id, finding_group_id, title, description, \
    severity, status, verified, cwe, cwes, cvss_v3_vector, cvss_v3_score, cvss_v4_vector, cvss_v4_score, \
    epss_score, epss_percentile, known_exploited, severity_justification, publish_date, \
    component_name, component_version, component_purl, file_path, line, endpoints, service, \
    unique_id_from_tool, vuln_id_from_tool, hash_code, mitigation, impact, steps_to_reproduce, refs, \
    param, payload, request_response, fix_available, fix_version, static_finding, dynamic_finding, \
    scanner_confidence, tags, date, first_seen, last_seen, mitigated_at, mitigated_by, duplicate_of, \
    occurrences, created_at, updated_at, scanner_fingerprint";
const INSERT_COLUMN_COUNT: usize = 53;

/// Every column for reading: `last_seen` resolved (NULL means "listed by the test's latest
/// import", so it reads as that import's time).
fn columns() -> String {
    format!(
        "id, {}",
        INSERT_COLUMNS.replace(
            "last_seen,",
            "COALESCE(last_seen, (SELECT t.last_import_at FROM tests t WHERE t.id = findings.test_id), created_at) AS last_seen,"
        )
    )
}

/// The stored values of `f`, in `INSERT_COLUMNS` order.
fn values(f: &Finding, seen: Seen) -> [Arg; INSERT_COLUMN_COUNT] {
    [
        f.test.0.into(),
        f.engagement.0.into(),
        f.product.0.into(),
        f.finding_group.map(|g| g.0).into(),
        f.title.clone().into(),
        f.description.clone().into(),
        f.severity.rank().into(),
        f.status.as_str().into(),
        f.verified.into(),
        f.cwe.into(),
        serde_json::json!(f.cwes).into(),
        f.cvss_v3_vector.clone().into(),
        f.cvss_v3_score.into(),
        f.cvss_v4_vector.clone().into(),
        f.cvss_v4_score.into(),
        f.epss_score.into(),
        f.epss_percentile.into(),
        f.known_exploited.into(),
        f.severity_justification.clone().into(),
        f.publish_date.into(),
        f.component_name.clone().into(),
        f.component_version.clone().into(),
        f.component_purl.clone().into(),
        f.file_path.clone().into(),
        f.line.into(),
        serde_json::json!(f.endpoints).into(),
        f.service.clone().into(),
        f.unique_id_from_tool.clone().into(),
        f.vuln_id_from_tool.clone().into(),
        f.hash_code.clone().into(),
        f.mitigation.clone().into(),
        f.impact.clone().into(),
        f.steps_to_reproduce.clone().into(),
        f.references.clone().into(),
        f.param.clone().into(),
        f.payload.clone().into(),
        serde_json::json!(f.request_response).into(),
        f.fix_available.into(),
        f.fix_version.clone().into(),
        f.static_finding.into(),
        f.dynamic_finding.into(),
        f.scanner_confidence.clone().into(),
        serde_json::json!(f.tags).into(),
        f.date.into(),
        f.first_seen.into(),
        match seen {
            Seen::At => f.last_seen.into(),
            Seen::ByImport => Arg::Time(None),
        },
        f.mitigated_at.into(),
        f.mitigated_by.clone().into(),
        f.duplicate_of.map(|d| d.0).into(),
        f.occurrences.into(),
        f.created_at.into(),
        f.updated_at.into(),
        f.scanner_fingerprint.clone().into(),
    ]
}

impl Row {
    fn into_finding(self, vulnerability_ids: Vec<String>) -> Result<Finding> {
        Ok(Finding {
            id: FindingId(self.id),
            test: TestId(self.test_id),
            engagement: EngagementId(self.engagement_id),
            product: ProductId(self.product_id),
            finding_group: self.finding_group_id.map(FindingGroupId),
            title: self.title,
            description: self.description,
            severity: Severity::from_rank(self.severity).ok_or_else(|| {
                StoreError::corrupt("findings", format!("severity = {}", self.severity))
            })?,
            status: parse_stored("findings", "status", &self.status, |s| Status::parse(s).ok())?,
            verified: self.verified,
            cwe: self.cwe,
            cwes: self.cwes.0,
            vulnerability_ids,
            cvss_v3_vector: self.cvss_v3_vector,
            cvss_v3_score: self.cvss_v3_score,
            cvss_v4_vector: self.cvss_v4_vector,
            cvss_v4_score: self.cvss_v4_score,
            epss_score: self.epss_score,
            epss_percentile: self.epss_percentile,
            known_exploited: self.known_exploited,
            severity_justification: self.severity_justification,
            publish_date: self.publish_date,
            component_name: self.component_name,
            component_version: self.component_version,
            component_purl: self.component_purl,
            file_path: self.file_path,
            line: self.line,
            endpoints: self.endpoints.0,
            service: self.service,
            unique_id_from_tool: self.unique_id_from_tool,
            vuln_id_from_tool: self.vuln_id_from_tool,
            hash_code: self.hash_code,
            mitigation: self.mitigation,
            impact: self.impact,
            steps_to_reproduce: self.steps_to_reproduce,
            references: self.refs,
            param: self.param,
            payload: self.payload,
            request_response: self.request_response.0,
            fix_available: self.fix_available,
            fix_version: self.fix_version,
            static_finding: self.static_finding,
            dynamic_finding: self.dynamic_finding,
            scanner_confidence: self.scanner_confidence,
            tags: self.tags.0,
            date: self.date,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            mitigated_at: self.mitigated_at,
            mitigated_by: self.mitigated_by,
            duplicate_of: self.duplicate_of.map(FindingId),
            occurrences: self.occurrences,
            created_at: self.created_at,
            updated_at: self.updated_at,
            scanner_fingerprint: self.scanner_fingerprint,
        })
    }
}

/// Rows per multi-row INSERT: 500 × 53 parameters stays under SQLite's 32,766 and
/// PostgreSQL's 65,535 bind limits.
const BATCH: usize = 500;

/// How a new finding's `last_seen` is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// As given (findings recorded by hand).
    At,
    /// Listed by the test's import now running: stored as NULL, read as the import's time.
    ByImport,
}

/// Inserts findings (their `id` is ignored) and returns them with the ids assigned, in the
/// same order. SQLite: multi-row INSERTs, one round trip per 500 findings. PostgreSQL: ids
/// drawn from the sequence in one query, then one `COPY` (see `copy_in`).
pub async fn insert_many(c: &mut impl AsConn, findings: Vec<Finding>, seen: Seen) -> Result<Vec<Finding>> {
    if findings.is_empty() {
        return Ok(findings);
    }
    if c.backend() == crate::Backend::Postgres {
        return copy_in(c, findings, seen).await;
    }
    let mut out = Vec::with_capacity(findings.len());
    let mut rest = findings;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(BATCH));
        let mut batch = std::mem::replace(&mut rest, tail);
        let mut q = QueryBuf::new(&format!("INSERT INTO findings ({INSERT_COLUMNS}) VALUES "));
        for (i, f) in batch.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind_list(values(f, seen));
        }
        q.push(" RETURNING id");
        let mut ids: Vec<IdRow> = q.fetch_all(c).await?;
        // Ids are assigned in VALUES order within one statement; RETURNING's row order is
        // unspecified, so sort rather than trust it.
        ids.sort_by_key(|r| r.id);
        if ids.len() != batch.len() {
            return Err(StoreError::corrupt(
                "findings",
                format!("inserted {} rows, got {} ids", batch.len(), ids.len()),
            ));
        }
        for (f, id) in batch.iter_mut().zip(&ids) {
            f.id = FindingId(id.id);
        }
        insert_vulnerability_ids(c, &batch).await?;
        out.append(&mut batch);
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: i64,
}

/// PostgreSQL: ids from the sequence, then the rows in one `COPY … FROM STDIN` (text format),
/// the cheapest bulk path for the server. Each COPY costs a fixed ~40 ms on TCP (sqlx writes
/// the final CopyDone separately, without TCP_NODELAY, so it waits for a delayed ACK): callers
/// with many rows should hand over thousands at once (the importer writes 10,000 at a time).
async fn copy_in(c: &mut impl AsConn, mut findings: Vec<Finding>, seen: Seen) -> Result<Vec<Finding>> {
    let crate::Conn::Postgres(conn) = c.as_conn() else {
        return Err(StoreError::corrupt("findings", "COPY is PostgreSQL only"));
    };
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('findings', 'id')) FROM generate_series(1, $1)",
    )
    .bind(findings.len() as i64)
    .fetch_all(&mut *conn)
    .await?;
    ids.sort_unstable();
    for (f, id) in findings.iter_mut().zip(&ids) {
        f.id = FindingId(*id);
    }
    let mut copy = conn
        .copy_in_raw(&format!("COPY findings (id, {INSERT_COLUMNS}) FROM STDIN"))
        .await?;
    let mut buf = String::with_capacity(1 << 20);
    for f in &findings {
        buf.push_str(&f.id.0.to_string());
        for v in values(f, seen) {
            buf.push('\t');
            crate::query::copy_text(&mut buf, &v);
        }
        buf.push('\n');
        if buf.len() > (1 << 20) {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf.into_bytes()).await?;
    }
    copy.finish().await?;
    insert_vulnerability_ids(c, &findings).await?;
    Ok(findings)
}

async fn insert_vulnerability_ids(c: &mut impl AsConn, findings: &[Finding]) -> Result<()> {
    let pairs: Vec<(i64, &str)> = findings
        .iter()
        .flat_map(|f| f.vulnerability_ids.iter().map(move |v| (f.id.0, v.as_str())))
        .collect();
    for chunk in pairs.chunks(5000) {
        let mut q = QueryBuf::new(
            "INSERT INTO finding_vulnerability_ids (finding_id, vulnerability_id) VALUES ",
        );
        for (i, (id, v)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(").bind(*id).push(", ").bind(*v).push(")");
        }
        q.push(" ON CONFLICT DO NOTHING");
        q.execute(c).await?;
    }
    Ok(())
}

/// Loads vulnerability ids for rows and builds findings, keeping the rows' order.
async fn hydrate(c: &mut impl AsConn, rows: Vec<Row>) -> Result<Vec<Finding>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_id: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in rows.chunks(5000) {
        let mut q = QueryBuf::new(
            "SELECT finding_id, vulnerability_id FROM finding_vulnerability_ids WHERE finding_id IN ",
        );
        q.bind_list(chunk.iter().map(|r| r.id));
        q.push(" ORDER BY finding_id, vulnerability_id");
        let pairs: Vec<(i64, String)> = q.fetch_all(c).await?;
        for (id, v) in pairs {
            by_id.entry(id).or_default().push(v);
        }
    }
    rows.into_iter()
        .map(|r| {
            let ids = by_id.remove(&r.id).unwrap_or_default();
            r.into_finding(ids)
        })
        .collect()
}

pub async fn get(c: &mut impl AsConn, id: FindingId) -> Result<Finding> {
    let mut q = QueryBuf::new(&format!("SELECT {} FROM findings WHERE id = ", columns()));
    q.bind(id.0);
    let row = q
        .fetch_optional::<Row>(c)
        .await?
        .ok_or_else(|| StoreError::not_found("finding", id))?;
    Ok(hydrate(c, vec![row]).await?.remove(0))
}

/// Several findings by id, in id order; missing ids are skipped.
pub async fn get_many(c: &mut impl AsConn, ids: &[FindingId]) -> Result<Vec<Finding>> {
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(5000) {
        let mut q = QueryBuf::new(&format!("SELECT {} FROM findings WHERE id IN ", columns()));
        q.bind_list(chunk.iter().map(|i| i.0));
        rows.extend(q.fetch_all::<Row>(c).await?);
    }
    rows.sort_by_key(|r| r.id);
    hydrate(c, rows).await
}

/// Sort orders offered to API and UI; each maps to fixed SQL (never input).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ordering {
    #[default]
    SeverityDesc,
    SeverityAsc,
    Newest,
    Oldest,
    Title,
    LastSeen,
}

impl Ordering {
    pub const CHOICES: &'static str = "-severity, severity, -id, id, title, -last_seen";

    pub fn parse(s: &str) -> Option<Ordering> {
        Some(match s {
            "-severity" => Ordering::SeverityDesc,
            "severity" => Ordering::SeverityAsc,
            "-id" | "-created" => Ordering::Newest,
            "id" | "created" => Ordering::Oldest,
            "title" => Ordering::Title,
            "-last_seen" => Ordering::LastSeen,
            _ => return None,
        })
    }

    fn sql(self) -> &'static str {
        match self {
            Ordering::SeverityDesc => "severity DESC, id DESC",
            Ordering::SeverityAsc => "severity ASC, id ASC",
            Ordering::Newest => "id DESC",
            Ordering::Oldest => "id ASC",
            Ordering::Title => "title ASC, id ASC",
            Ordering::LastSeen => "last_seen DESC, id DESC",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub product: Option<ProductId>,
    pub engagement: Option<EngagementId>,
    pub test: Option<TestId>,
    pub finding_group: Option<FindingGroupId>,
    /// Any of these severities (empty: all).
    pub severities: Vec<Severity>,
    /// Any of these statuses (empty: all).
    pub statuses: Vec<Status>,
    /// Only open (`true`) or only not-open (`false`) findings.
    pub open: Option<bool>,
    pub verified: Option<bool>,
    pub cwe: Option<i32>,
    /// Exact identifier (normalised: `cve-…` matches `CVE-…`).
    pub vulnerability_id: Option<String>,
    /// Component name contains (case-insensitive).
    pub component: Option<String>,
    /// Title, component, file path or rule id contains (case-insensitive).
    pub text: Option<String>,
    /// The test's scan type, exactly.
    pub scan_type: Option<String>,
    pub ordering: Ordering,
}

fn push_filter(q: &mut QueryBuf, f: &Filter, vis: &Visibility) {
    q.push(" FROM findings WHERE 1 = 1");
    if let Some(p) = f.product {
        q.push(" AND product_id = ").bind(p.0);
    }
    if let Some(e) = f.engagement {
        // Through the test index (findings.engagement_id has none of its own).
        q.push(" AND test_id IN (SELECT id FROM tests WHERE engagement_id = ").bind(e.0).push(")");
    }
    if let Some(t) = f.test {
        q.push(" AND test_id = ").bind(t.0);
    }
    if let Some(g) = f.finding_group {
        q.push(" AND finding_group_id = ").bind(g.0);
    }
    if !f.severities.is_empty() {
        q.push(" AND severity IN ")
            .bind_list(f.severities.iter().map(|s| s.rank()));
    }
    if !f.statuses.is_empty() {
        q.push(" AND status IN ")
            .bind_list(f.statuses.iter().map(|s| s.as_str()));
    }
    if let Some(open) = f.open {
        let open_statuses = Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str());
        q.push(if open { " AND status IN " } else { " AND status NOT IN " })
            .bind_list(open_statuses);
    }
    if let Some(v) = f.verified {
        q.push(" AND verified = ").bind(v);
    }
    if let Some(cwe) = f.cwe {
        q.push(" AND cwe = ").bind(cwe);
    }
    if let Some(v) = &f.vulnerability_id {
        q.push(" AND id IN (SELECT finding_id FROM finding_vulnerability_ids WHERE vulnerability_id = ")
            .bind(domain::normalize_vulnerability_id(v))
            .push(")");
    }
    if let Some(comp) = &f.component {
        q.push(" AND LOWER(component_name) LIKE ")
            .bind(contains_pattern(comp))
            .push(" ESCAPE '\\'");
    }
    if let Some(text) = &f.text {
        let pat = contains_pattern(text);
        q.push(" AND (");
        for (i, col) in ["title", "component_name", "file_path", "vuln_id_from_tool"]
            .iter()
            .enumerate()
        {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("LOWER(").push(col).push(") LIKE ").bind(pat.clone()).push(" ESCAPE '\\'");
        }
        q.push(")");
    }
    if let Some(st) = &f.scan_type {
        q.push(" AND test_id IN (SELECT id FROM tests WHERE scan_type = ")
            .bind(st.clone())
            .push(")");
    }
    push_visibility(q, "product_id", vis);
}

pub async fn list(
    c: &mut impl AsConn,
    filter: &Filter,
    vis: &Visibility,
    page: PageRequest,
) -> Result<Page<Finding>> {
    if filter.ordering == Ordering::LastSeen {
        return list_by_last_seen(c, filter, vis, page).await;
    }
    let cols = columns();
    let (count, rows) =
        fetch_page::<Row>(c, &cols, |q| push_filter(q, filter, vis), filter.ordering.sql(), page)
            .await?;
    Ok(Page {
        count,
        results: hydrate(c, rows).await?,
    })
}

/// Newest seen first. `last_seen` is resolved through the test's latest import (see
/// `columns`), which no index serves, so every match is sorted: sorting only ids and the key,
/// then reading the page's full rows, keeps that sort narrow.
async fn list_by_last_seen(
    c: &mut impl AsConn,
    filter: &Filter,
    vis: &Visibility,
    page: PageRequest,
) -> Result<Page<Finding>> {
    let mut count = QueryBuf::new("SELECT COUNT(*)");
    push_filter(&mut count, filter, vis);
    let count = count.fetch_count(c).await?;
    // A join rather than `columns()`' per-row subquery: PostgreSQL hashes the few tests once
    // (a third of the time on 100,000 findings).
    let mut q = QueryBuf::new("SELECT f.id FROM (SELECT id, test_id, last_seen, created_at");
    push_filter(&mut q, filter, vis);
    q.push(") f LEFT JOIN tests t ON t.id = f.test_id ORDER BY COALESCE(f.last_seen, t.last_import_at, f.created_at) DESC, f.id DESC");
    page.push_to(&mut q);
    let ids: Vec<FindingId> = q.fetch_all::<(i64,)>(c).await?.into_iter().map(|(id,)| FindingId(id)).collect();
    let mut found = get_many(c, &ids).await?;
    let rank: std::collections::HashMap<FindingId, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    found.sort_by_key(|f| rank.get(&f.id).copied().unwrap_or(usize::MAX));
    Ok(Page { count, results: found })
}

/// Writes every mutable field of `f` back, replacing its vulnerability ids.
pub async fn update(c: &mut impl AsConn, f: &Finding) -> Result<Finding> {
    let mut q = QueryBuf::new("UPDATE findings SET ");
    let cols: Vec<&str> = INSERT_COLUMNS.split(',').map(str::trim).collect();
    let mut first = true;
    for (col, val) in cols.iter().zip(values(f, Seen::At)) {
        // Parents and creation time never change; `last_seen` belongs to imports.
        if matches!(*col, "test_id" | "engagement_id" | "product_id" | "created_at" | "last_seen") {
            continue;
        }
        if !first {
            q.push(", ");
        }
        first = false;
        q.push(col).push(" = ").bind(val);
    }
    q.push(" WHERE id = ").bind(f.id.0);
    if q.execute(c).await? == 0 {
        return Err(StoreError::not_found("finding", f.id));
    }
    on_conn!(c, |conn| sqlx::query(
        "DELETE FROM finding_vulnerability_ids WHERE finding_id = $1"
    )
    .bind(f.id.0)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    insert_vulnerability_ids(c, std::slice::from_ref(f)).await?;
    get(c, f.id).await
}

pub async fn delete(c: &mut impl AsConn, id: FindingId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM findings WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("finding", id));
    }
    Ok(())
}

/// Puts findings into a group (or out of any group with `None`).
pub async fn set_group(
    c: &mut impl AsConn,
    ids: &[FindingId],
    group: Option<FindingGroupId>,
) -> Result<u64> {
    let mut total = 0;
    for chunk in ids.chunks(5000) {
        let mut q = QueryBuf::new("UPDATE findings SET finding_group_id = ");
        q.bind(group.map(|g| g.0))
            .push(", updated_at = ")
            .bind(crate::now())
            .push(" WHERE id IN ")
            .bind_list(chunk.iter().map(|i| i.0));
        total += q.execute(c).await?;
    }
    Ok(total)
}

/// Open findings per severity, for dashboards: `[info, low, medium, high, critical]`.
pub async fn open_counts_by_severity(c: &mut impl AsConn, vis: &Visibility) -> Result<[i64; 5]> {
    let mut q = QueryBuf::new("SELECT severity, COUNT(*) FROM findings WHERE status IN ");
    q.bind_list(Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()));
    push_visibility(&mut q, "product_id", vis);
    q.push(" GROUP BY severity");
    let rows: Vec<(i16, i64)> = q.fetch_all(c).await?;
    let mut out = [0i64; 5];
    for (sev, n) in rows {
        if let Some(slot) = usize::try_from(sev).ok().and_then(|i| out.get_mut(i)) {
            *slot = n;
        }
    }
    Ok(out)
}

/// Open findings per product and severity (`[info, low, medium, high, critical]`), for
/// dashboards; products without open findings are left out. One grouped scan of the open
/// findings, whatever the number of products.
pub async fn open_counts_by_product(c: &mut impl AsConn, vis: &Visibility) -> Result<Vec<(ProductId, [i64; 5])>> {
    let mut q = QueryBuf::new("SELECT product_id, severity, COUNT(*) FROM findings WHERE status IN ");
    q.bind_list(Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()));
    push_visibility(&mut q, "product_id", vis);
    q.push(" GROUP BY product_id, severity ORDER BY product_id");
    let rows: Vec<(i64, i16, i64)> = q.fetch_all(c).await?;
    let mut out: Vec<(ProductId, [i64; 5])> = Vec::new();
    for (product, sev, n) in rows {
        if out.last().is_none_or(|(p, _)| p.0 != product) {
            out.push((ProductId(product), [0; 5]));
        }
        if let Some(slot) = out.last_mut().and_then(|(_, counts)| usize::try_from(sev).ok().and_then(|i| counts.get_mut(i))) {
            *slot = n;
        }
    }
    Ok(out)
}

/// A finding as import matching needs it: identity, status, and the fingerprint of its
/// scanner-owned fields.
#[derive(Clone, Debug, sqlx::FromRow)]
struct IndexRowRaw {
    id: i64,
    unique_id_from_tool: Option<String>,
    hash_code: Option<String>,
    service: Option<String>,
    status: String,
    severity: i16,
    verified: bool,
    scanner_fingerprint: Option<String>,
    listed: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IndexRow {
    pub id: FindingId,
    pub unique_id_from_tool: Option<String>,
    pub hash_code: Option<String>,
    pub service: Option<String>,
    pub status: Status,
    pub severity: Severity,
    pub verified: bool,
    pub scanner_fingerprint: Option<String>,
    /// Listed by the test's latest import (`last_seen` stored as NULL).
    pub listed: bool,
}

impl TryFrom<IndexRowRaw> for IndexRow {
    type Error = StoreError;
    fn try_from(r: IndexRowRaw) -> Result<IndexRow> {
        Ok(IndexRow {
            id: FindingId(r.id),
            status: parse_stored("findings", "status", &r.status, |s| Status::parse(s).ok())?,
            severity: Severity::from_rank(r.severity)
                .ok_or_else(|| StoreError::corrupt("findings", format!("severity = {}", r.severity)))?,
            unique_id_from_tool: r.unique_id_from_tool,
            hash_code: r.hash_code,
            service: r.service,
            verified: r.verified,
            scanner_fingerprint: r.scanner_fingerprint,
            listed: r.listed,
        })
    }
}

const INDEX_COLUMNS: &str = "id, unique_id_from_tool, hash_code, service, status, severity, verified, \
    scanner_fingerprint, (last_seen IS NULL) AS listed";

fn index_rows(raw: Vec<IndexRowRaw>) -> Result<Vec<IndexRow>> {
    raw.into_iter().map(IndexRow::try_from).collect()
}

/// Every finding of a test, for reimport matching (one query, narrow rows).
pub async fn test_index(c: &mut impl AsConn, test: TestId) -> Result<Vec<IndexRow>> {
    let mut q = QueryBuf::new(&format!("SELECT {INDEX_COLUMNS} FROM findings WHERE test_id = "));
    q.bind(test.0).push(" ORDER BY id");
    index_rows(q.fetch_all(c).await?)
}

/// Earlier findings in the dedup scope that new findings of `test` could duplicate: open or
/// triaged (a closed original starts no chain: a fixed vulnerability that comes back is new),
/// not themselves duplicates, in other tests. Oldest first. Read once per import, so that
/// matching a large report costs no further queries.
pub async fn scope_index(c: &mut impl AsConn, scope: domain::DedupScope, test: &domain::Test) -> Result<Vec<IndexRow>> {
    // Through the scope's *other* tests and the test index: the product index would also read
    // every finding of this test, only to discard them.
    let mut q = QueryBuf::new(&format!("SELECT {INDEX_COLUMNS} FROM findings WHERE test_id IN (SELECT id FROM tests WHERE id <> "));
    q.bind(test.id.0);
    match scope {
        domain::DedupScope::Test => return Ok(Vec::new()),
        domain::DedupScope::Engagement => {
            q.push(" AND engagement_id = ").bind(test.engagement.0);
        }
        domain::DedupScope::Product => {
            q.push(" AND product_id = ").bind(test.product.0);
        }
    }
    q.push(") AND status NOT IN ('closed', 'duplicate') ORDER BY id");
    index_rows(q.fetch_all(c).await?)
}

/// Open findings an import may close: same scan type, in the engagement (or the product),
/// not in the new test, and of the import's service (or without one when it has none).
pub async fn open_for_closing(
    c: &mut impl AsConn,
    test: &domain::Test,
    product_scope: bool,
    service: Option<&str>,
) -> Result<Vec<IndexRow>> {
    let open: Vec<&str> = Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect();
    let mut q = QueryBuf::new(&format!("SELECT {INDEX_COLUMNS} FROM findings WHERE test_id <> "));
    q.bind(test.id.0).push(" AND status IN ").bind_list(open);
    if product_scope {
        q.push(" AND product_id = ").bind(test.product.0);
    } else {
        q.push(" AND test_id IN (SELECT id FROM tests WHERE engagement_id = ").bind(test.engagement.0).push(")");
    }
    q.push(" AND test_id IN (SELECT id FROM tests WHERE scan_type = ").bind(test.scan_type.clone()).push(")");
    match service {
        Some(s) => {
            q.push(" AND service = ").bind(s);
        }
        None => {
            q.push(" AND service IS NULL");
        }
    }
    q.push(" ORDER BY id");
    index_rows(q.fetch_all(c).await?)
}

/// Closes findings (status `closed`, mitigation stamped) in one statement.
pub async fn close_many(c: &mut impl AsConn, ids: &[FindingId], at: DateTime<Utc>, by: &str) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut q = QueryBuf::new("UPDATE findings SET status = 'closed', mitigated_at = ");
    q.bind(at).push(", mitigated_by = ").bind(by).push(", updated_at = ").bind(at)
        .push(" WHERE id IN ").bind_list(ids.iter().map(|i| i.0));
    Ok(q.execute(c).await?)
}

/// Findings an import did not list: their `last_seen` becomes `at` (the time they were
/// last listed), unless already set.
pub async fn mark_unlisted(c: &mut impl AsConn, ids: &[FindingId], at: DateTime<Utc>) -> Result<()> {
    for chunk in ids.chunks(5000) {
        let mut q = QueryBuf::new("UPDATE findings SET last_seen = ");
        q.bind(at).push(" WHERE last_seen IS NULL AND id IN ").bind_list(chunk.iter().map(|i| i.0));
        q.execute(c).await?;
    }
    Ok(())
}

/// Findings an import listed again after a gap: `last_seen` follows the test's imports again.
pub async fn mark_listed(c: &mut impl AsConn, ids: &[FindingId]) -> Result<()> {
    for chunk in ids.chunks(5000) {
        let mut q = QueryBuf::new("UPDATE findings SET last_seen = NULL WHERE id IN ");
        q.bind_list(chunk.iter().map(|i| i.0));
        q.execute(c).await?;
    }
    Ok(())
}

/// Findings of a test counted by severity, status and verification.
pub async fn counts_for_test(c: &mut impl AsConn, test: TestId) -> Result<Vec<(Severity, Status, bool, i64)>> {
    let mut q = QueryBuf::new("SELECT severity, status, verified, COUNT(*) FROM findings WHERE test_id = ");
    q.bind(test.0).push(" GROUP BY severity, status, verified");
    let rows: Vec<(i16, String, bool, i64)> = q.fetch_all(c).await?;
    rows.into_iter()
        .map(|(sev, st, v, n)| {
            Ok((
                Severity::from_rank(sev).ok_or_else(|| StoreError::corrupt("findings", format!("severity = {sev}")))?,
                parse_stored("findings", "status", &st, |s| Status::parse(s).ok())?,
                v,
                n,
            ))
        })
        .collect()
}

/// What deciding about a push needs of a finding: where it is, how severe, its status and group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Brief {
    pub id: FindingId,
    pub product: ProductId,
    pub engagement: EngagementId,
    pub severity: Severity,
    pub status: Status,
    pub group: Option<FindingGroupId>,
}

/// The briefs of these findings (those that exist), in id order.
pub async fn briefs(c: &mut impl AsConn, ids: &[FindingId]) -> Result<Vec<Brief>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let mut q = QueryBuf::new(
            "SELECT id, product_id, engagement_id, severity, status, finding_group_id FROM findings WHERE id IN ",
        );
        q.bind_list(chunk.iter().map(|i| i.0));
        let rows: Vec<(i64, i64, i64, i16, String, Option<i64>)> = q.fetch_all(c).await?;
        for (id, product, engagement, severity, status, group) in rows {
            out.push(Brief {
                id: FindingId(id),
                product: ProductId(product),
                engagement: EngagementId(engagement),
                severity: Severity::from_rank(severity)
                    .ok_or_else(|| StoreError::corrupt("findings", format!("severity = {severity}")))?,
                status: parse_stored("findings", "status", &status, |s| Status::parse(s).ok())?,
                group: group.map(FindingGroupId),
            });
        }
    }
    out.sort_by_key(|b| b.id);
    Ok(out)
}
