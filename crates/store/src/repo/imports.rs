//! Import history: one row per import or reimport, with what it did to which finding.

use crate::query::{PageRequest, QueryBuf};
use crate::repo::{fetch_page, push_visibility};
use crate::{AsConn, Page, Result, StoreError, now};
use chrono::{DateTime, Utc};
use domain::reimport::Outcome;
use domain::{EngagementId, IdRanges, ProductId, TestId, Visibility};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use std::collections::BTreeMap;

/// How many findings each outcome touched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportCounts {
    pub created: i64,
    pub duplicate: i64,
    pub closed: i64,
    pub reactivated: i64,
    pub updated: i64,
    pub untouched: i64,
}

impl ImportCounts {
    fn from_findings(f: &BTreeMap<Outcome, IdRanges>) -> Self {
        let n = |o| f.get(&o).map(|r: &IdRanges| r.len() as i64).unwrap_or(0);
        ImportCounts {
            created: n(Outcome::Created),
            duplicate: n(Outcome::Duplicate),
            closed: n(Outcome::Closed),
            reactivated: n(Outcome::Reactivated),
            updated: n(Outcome::Updated),
            untouched: n(Outcome::Untouched),
        }
    }
}

/// One import or reimport.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TestImport {
    pub id: i64,
    pub test: TestId,
    pub engagement: EngagementId,
    pub product: ProductId,
    /// `import` (a new test) or `reimport` (into an existing one).
    pub kind: String,
    pub scan_type: String,
    pub file_name: Option<String>,
    pub actor: String,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub counts: ImportCounts,
    /// Finding ids per outcome, as `[first, last]` ranges.
    #[schema(value_type = Object)]
    pub findings: BTreeMap<Outcome, IdRanges>,
    /// DefectDojo-shaped statistics: `before`, `delta`, `after`.
    #[schema(value_type = Object)]
    pub statistics: serde_json::Value,
}

pub struct NewImport {
    pub test: TestId,
    pub engagement: EngagementId,
    pub product: ProductId,
    pub reimport: bool,
    pub scan_type: String,
    pub file_name: Option<String>,
    pub actor: String,
    pub options: serde_json::Value,
    pub started_at: DateTime<Utc>,
    pub findings: BTreeMap<Outcome, IdRanges>,
    pub statistics: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    test_id: i64,
    engagement_id: i64,
    product_id: i64,
    kind: String,
    scan_type: String,
    file_name: Option<String>,
    actor: String,
    options: Json<serde_json::Value>,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    counts: Json<ImportCounts>,
    findings: Json<BTreeMap<Outcome, IdRanges>>,
    statistics: Json<serde_json::Value>,
}

impl From<Row> for TestImport {
    fn from(r: Row) -> Self {
        TestImport {
            id: r.id,
            test: TestId(r.test_id),
            engagement: EngagementId(r.engagement_id),
            product: ProductId(r.product_id),
            kind: r.kind,
            scan_type: r.scan_type,
            file_name: r.file_name,
            actor: r.actor,
            options: r.options.0,
            started_at: r.started_at,
            finished_at: r.finished_at,
            counts: r.counts.0,
            findings: r.findings.0,
            statistics: r.statistics.0,
        }
    }
}

const COLUMNS: &str = "id, test_id, engagement_id, product_id, kind, scan_type, file_name, actor, options, \
    started_at, finished_at, counts, findings, statistics";

pub async fn create(c: &mut impl AsConn, new: NewImport) -> Result<TestImport> {
    let counts = ImportCounts::from_findings(&new.findings);
    let mut q = QueryBuf::new(
        "INSERT INTO test_imports (test_id, engagement_id, product_id, kind, scan_type, file_name, actor, \
         options, started_at, finished_at, counts, findings, statistics) VALUES ",
    );
    q.bind_list([
        new.test.0.into(),
        new.engagement.0.into(),
        new.product.0.into(),
        (if new.reimport { "reimport" } else { "import" }).into(),
        new.scan_type.into(),
        new.file_name.into(),
        new.actor.into(),
        new.options.into(),
        new.started_at.into(),
        now().into(),
        serde_json::json!(counts).into(),
        serde_json::json!(new.findings).into(),
        new.statistics.into(),
    ] as [crate::query::Arg; 13]);
    q.push(" RETURNING ").push(COLUMNS);
    q.fetch_optional::<Row>(c)
        .await?
        .map(Into::into)
        .ok_or_else(|| StoreError::corrupt("test_imports", "INSERT returned no row"))
}

pub async fn get(c: &mut impl AsConn, id: i64) -> Result<TestImport> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM test_imports WHERE id = "));
    q.bind(id);
    q.fetch_optional::<Row>(c)
        .await?
        .map(Into::into)
        .ok_or_else(|| StoreError::not_found("import", id))
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub product: Option<ProductId>,
    pub engagement: Option<EngagementId>,
    pub test: Option<TestId>,
}

/// Newest first.
pub async fn list(c: &mut impl AsConn, filter: &Filter, vis: &Visibility, page: PageRequest) -> Result<Page<TestImport>> {
    let (count, rows) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM test_imports WHERE 1 = 1");
            if let Some(p) = filter.product {
                q.push(" AND product_id = ").bind(p.0);
            }
            if let Some(e) = filter.engagement {
                q.push(" AND engagement_id = ").bind(e.0);
            }
            if let Some(t) = filter.test {
                q.push(" AND test_id = ").bind(t.0);
            }
            push_visibility(q, "product_id", vis);
        },
        "id DESC",
        page,
    )
    .await?;
    Ok(Page { count, results: rows.into_iter().map(Into::into).collect() })
}
