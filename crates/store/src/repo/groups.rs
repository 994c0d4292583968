use crate::error::on_unique;
use crate::query::{PageRequest, QueryBuf, contains_pattern};
use crate::repo::{fetch_page, parse_stored, push_visibility};
use crate::{AsConn, Page, Result, StoreError, now, on_conn};
use chrono::{DateTime, Utc};
use domain::{
    EngagementId, FindingGroup, FindingGroupId, GroupBy, ProductId, Severity, Status, Test,
    TestId, Visibility, group_severity, group_status,
};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    test_id: i64,
    engagement_id: i64,
    product_id: i64,
    name: String,
    group_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, test_id, engagement_id, product_id, name, group_by, created_at, updated_at";

/// Severity, status and size follow the members; computed from them on every read so they
/// can never go stale.
async fn hydrate(c: &mut impl AsConn, rows: Vec<Row>) -> Result<Vec<FindingGroup>> {
    let mut members: HashMap<i64, Vec<(Severity, Status)>> = HashMap::new();
    if !rows.is_empty() {
        let mut q = QueryBuf::new(
            "SELECT finding_group_id, severity, status FROM findings WHERE finding_group_id IN ",
        );
        q.bind_list(rows.iter().map(|r| r.id));
        let found: Vec<(i64, i16, String)> = q.fetch_all(c).await?;
        for (gid, sev, status) in found {
            let sev = Severity::from_rank(sev)
                .ok_or_else(|| StoreError::corrupt("findings", format!("severity = {sev}")))?;
            let status = parse_stored("findings", "status", &status, |s| Status::parse(s).ok())?;
            members.entry(gid).or_default().push((sev, status));
        }
    }
    rows.into_iter()
        .map(|r| {
            let m = members.remove(&r.id).unwrap_or_default();
            Ok(FindingGroup {
                id: FindingGroupId(r.id),
                test: TestId(r.test_id),
                engagement: EngagementId(r.engagement_id),
                product: ProductId(r.product_id),
                group_by: parse_stored("finding_groups", "group_by", &r.group_by, GroupBy::parse)?,
                name: r.name,
                severity: group_severity(m.iter().map(|(s, _)| *s)),
                status: group_status(m.iter().map(|(_, s)| *s)),
                finding_count: m.len() as i64,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        })
        .collect()
}

fn conflict(name: &str) -> String {
    format!("this test already has a group named '{name}'")
}

pub async fn create(
    c: &mut impl AsConn,
    test: &Test,
    name: &str,
    group_by: GroupBy,
) -> Result<FindingGroup> {
    let t = now();
    let row: Row = on_conn!(c, |conn| sqlx::query_as(
        "INSERT INTO finding_groups (test_id, engagement_id, product_id, name, group_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         RETURNING id, test_id, engagement_id, product_id, name, group_by, created_at, updated_at"
    )
    .bind(test.id.0)
    .bind(test.engagement.0)
    .bind(test.product.0)
    .bind(name)
    .bind(group_by.as_str())
    .bind(t)
    .fetch_one(conn)
    .await)
    .map_err(on_unique("name", conflict(name)))?;
    Ok(hydrate(c, vec![row]).await?.remove(0))
}

/// The group of `test` with this `group_by` and `name`, created if missing (imports use this).
pub async fn get_or_create(
    c: &mut impl AsConn,
    test: &Test,
    name: &str,
    group_by: GroupBy,
) -> Result<FindingGroup> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM finding_groups WHERE test_id = "));
    q.bind(test.id.0)
        .push(" AND group_by = ")
        .bind(group_by.as_str())
        .push(" AND name = ")
        .bind(name);
    match q.fetch_optional::<Row>(c).await? {
        Some(row) => Ok(hydrate(c, vec![row]).await?.remove(0)),
        None => create(c, test, name, group_by).await,
    }
}

pub async fn get(c: &mut impl AsConn, id: FindingGroupId) -> Result<FindingGroup> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM finding_groups WHERE id = "));
    q.bind(id.0);
    let row = q
        .fetch_optional::<Row>(c)
        .await?
        .ok_or_else(|| StoreError::not_found("finding group", id))?;
    Ok(hydrate(c, vec![row]).await?.remove(0))
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub product: Option<ProductId>,
    pub engagement: Option<EngagementId>,
    pub test: Option<TestId>,
    pub name: Option<String>,
}

pub async fn list(
    c: &mut impl AsConn,
    filter: &Filter,
    vis: &Visibility,
    page: PageRequest,
) -> Result<Page<FindingGroup>> {
    let (count, rows) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM finding_groups WHERE 1 = 1");
            if let Some(p) = filter.product {
                q.push(" AND product_id = ").bind(p.0);
            }
            if let Some(e) = filter.engagement {
                q.push(" AND engagement_id = ").bind(e.0);
            }
            if let Some(t) = filter.test {
                q.push(" AND test_id = ").bind(t.0);
            }
            if let Some(n) = &filter.name {
                q.push(" AND LOWER(name) LIKE ")
                    .bind(contains_pattern(n))
                    .push(" ESCAPE '\\'");
            }
            push_visibility(q, "product_id", vis);
        },
        "id DESC",
        page,
    )
    .await?;
    Ok(Page {
        count,
        results: hydrate(c, rows).await?,
    })
}

pub async fn rename(c: &mut impl AsConn, id: FindingGroupId, name: &str) -> Result<FindingGroup> {
    let n = on_conn!(c, |conn| sqlx::query(
        "UPDATE finding_groups SET name = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(id.0)
    .bind(name)
    .bind(now())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(on_unique("name", conflict(name)))?;
    if n == 0 {
        return Err(StoreError::not_found("finding group", id));
    }
    get(c, id).await
}

/// Marks a group changed (a member joined or left), for "updated since" queries.
pub async fn touch(c: &mut impl AsConn, id: FindingGroupId) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE finding_groups SET updated_at = $2 WHERE id = $1")
        .bind(id.0)
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes a group; its findings stay, ungrouped.
pub async fn delete(c: &mut impl AsConn, id: FindingGroupId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM finding_groups WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("finding group", id));
    }
    Ok(())
}
