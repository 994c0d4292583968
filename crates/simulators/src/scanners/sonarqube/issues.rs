//! `GET api/issues/search`, as `issue/ws/SearchAction.java` defines it: the filters a
//! connector uses (`componentKeys`, `types`, `impactSoftwareQualities`, `resolved`, `statuses`,
//! `resolutions`, `severities`, `rules`, `issues`, `createdAfter` inclusive, `createdBefore`
//! exclusive, `branch`), sorting (`s`, `asc`), the `rules`, `types`, `severities` and
//! `statuses` facets, and the search engine's paging limits (`ps` ≤ 500, the first 10,000
//! results). Issues of projects the caller may not browse are left out, not refused.

use super::params::Params;
use super::reply::ApiError;
use super::state::{Issue, State, User};
use super::{Sh, auth, render};
use axum::Json;
use axum::extract::{RawQuery, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const TYPES: &[&str] = &["CODE_SMELL", "BUG", "VULNERABILITY"];
const QUALITIES: &[&str] = &["MAINTAINABILITY", "RELIABILITY", "SECURITY"];
const STATUSES: &[&str] = &["OPEN", "CONFIRMED", "REOPENED", "RESOLVED", "CLOSED"];
const RESOLUTIONS: &[&str] = &["FALSE-POSITIVE", "WONTFIX", "FIXED", "REMOVED"];
const SEVERITIES: &[&str] = &["INFO", "MINOR", "MAJOR", "CRITICAL", "BLOCKER"];
const SORTS: &[&str] = &[
    "CREATION_DATE",
    "UPDATE_DATE",
    "CLOSE_DATE",
    "ASSIGNEE",
    "SEVERITY",
    "STATUS",
    "FILE_LINE",
];
const FACETS: &[&str] = &[
    "projects",
    "files",
    "assigned_to_me",
    "severities",
    "statuses",
    "resolutions",
    "rules",
    "assignees",
    "author",
    "directories",
    "scopes",
    "languages",
    "tags",
    "types",
    "pciDss-3.2",
    "pciDss-4.0",
    "owaspAsvs-4.0",
    "owaspTop10",
    "owaspTop10-2021",
    "sansTop25",
    "cwe",
    "createdAt",
    "sonarsourceSecurity",
];

struct Query {
    components: Vec<String>,
    types: Vec<String>,
    qualities: Vec<String>,
    resolved: Option<bool>,
    statuses: Vec<String>,
    resolutions: Vec<String>,
    severities: Vec<String>,
    rules: Vec<String>,
    keys: Vec<String>,
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    sort: Option<String>,
    asc: bool,
    facets: Vec<String>,
    p: u32,
    ps: u32,
}

impl Query {
    fn parse(s: &State, q: &Params) -> Result<Query, ApiError> {
        let (p, ps) = q.paging(100, Some(super::params::MAX_PAGE_SIZE), true)?;
        if q.get("createdAfter").is_some() && q.get("createdInLast").is_some() {
            return Err(ApiError::bad_request(
                "Parameters createdAfter and createdInLast cannot be set simultaneously",
            ));
        }
        let components = q.list("componentKeys", &[])?;
        if let Some(branch) = q.get("branch")
            && branch != "main"
        {
            let key = components.first().cloned().unwrap_or_default();
            return Err(ApiError::not_found(format!(
                "Component '{key}' on branch '{branch}' not found"
            )));
        }
        // Before 10.2 the parameter does not exist, so it is ignored like any unknown one.
        let qualities = if s.version_at_least(10, 2) {
            q.list("impactSoftwareQualities", QUALITIES)?
        } else {
            Vec::new()
        };
        Query::parse_rest(q, components, qualities, p, ps)
    }

    fn parse_rest(
        q: &Params,
        components: Vec<String>,
        qualities: Vec<String>,
        p: u32,
        ps: u32,
    ) -> Result<Query, ApiError> {
        Ok(Query {
            components,
            types: q.list("types", TYPES)?,
            qualities,
            resolved: q.boolean("resolved")?,
            statuses: q.list("statuses", STATUSES)?,
            resolutions: q.list("resolutions", RESOLUTIONS)?,
            severities: q.list("severities", SEVERITIES)?,
            rules: q.list("rules", &[])?,
            keys: q.list("issues", &[])?,
            after: q.date("createdAfter")?,
            before: q.date("createdBefore")?,
            sort: q.one_of("s", SORTS)?,
            asc: q.boolean("asc")?.unwrap_or(true),
            facets: q.list("facets", FACETS)?,
            p,
            ps,
        })
    }

    fn matches(&self, i: &Issue) -> bool {
        let quality = match i.kind.as_str() {
            "VULNERABILITY" => "SECURITY",
            "BUG" => "RELIABILITY",
            _ => "MAINTAINABILITY",
        };
        (self.types.is_empty() || self.types.contains(&i.kind))
            && (self.qualities.is_empty() || self.qualities.iter().any(|q| q == quality))
            && self.resolved.is_none_or(|r| r == i.resolved())
            && (self.statuses.is_empty() || self.statuses.contains(&i.status))
            && (self.resolutions.is_empty()
                || i.resolution
                    .as_ref()
                    .is_some_and(|r| self.resolutions.contains(r)))
            && (self.severities.is_empty() || self.severities.contains(&i.severity))
            && (self.rules.is_empty() || self.rules.contains(&i.rule))
            && (self.keys.is_empty() || self.keys.contains(&i.key))
            && self.after.is_none_or(|t| i.creation >= t)
            && self.before.is_none_or(|t| i.creation < t)
    }

    /// Whether a component key selects this issue: its project, or its file.
    fn selects(&self, i: &Issue) -> bool {
        self.components.is_empty()
            || self.components.iter().any(|c| {
                c == &i.project
                    || i.path
                        .as_deref()
                        .is_some_and(|p| *c == render::component_key(&i.project, Some(p)))
            })
    }
}

fn severity_rank(s: &str) -> usize {
    SEVERITIES.iter().position(|x| *x == s).unwrap_or(0)
}

pub async fn search(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    match answer(&s, &headers, &Params::parse(raw.as_deref())) {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn answer(s: &State, headers: &HeaderMap, params: &Params) -> Result<Value, ApiError> {
    let user: &User = auth::user(s, headers)?;
    if s.indexing {
        return Err(ApiError::indexing());
    }
    let q = Query::parse(s, params)?;
    let mut found: Vec<&Issue> = s
        .issues
        .iter()
        .filter(|(project, _)| user.can_browse(project))
        .flat_map(|(_, issues)| issues.iter())
        .filter(|i| q.selects(i) && q.matches(i))
        .collect();
    match q.sort.as_deref() {
        Some("CREATION_DATE") => {
            found.sort_by(|a, b| a.creation.cmp(&b.creation).then_with(|| a.key.cmp(&b.key)))
        }
        Some("CLOSE_DATE") => {
            found.sort_by(|a, b| a.close.cmp(&b.close).then_with(|| a.key.cmp(&b.key)))
        }
        Some("SEVERITY") => found.sort_by(|a, b| {
            severity_rank(&a.severity)
                .cmp(&severity_rank(&b.severity))
                .then_with(|| a.key.cmp(&b.key))
        }),
        Some("STATUS") => {
            found.sort_by(|a, b| a.status.cmp(&b.status).then_with(|| a.key.cmp(&b.key)))
        }
        Some("FILE_LINE") => found.sort_by(|a, b| {
            (&a.project, &a.path, a.line)
                .cmp(&(&b.project, &b.path, b.line))
                .then_with(|| a.key.cmp(&b.key))
        }),
        // UPDATE_DATE, ASSIGNEE (deprecated: no effect) and no sort at all: by update date.
        _ => found.sort_by(|a, b| a.update.cmp(&b.update).then_with(|| a.key.cmp(&b.key))),
    }
    if !q.asc || q.sort.is_none() {
        found.reverse();
    }
    let total = found.len();
    let start = ((q.p - 1) as usize)
        .saturating_mul(q.ps as usize)
        .min(total);
    let end = start.saturating_add(q.ps as usize).min(total);
    let page = &found[start..end];
    let facets: Vec<Value> = q.facets.iter().map(|f| facet(f, &found)).collect();
    let effort_total: u64 = found
        .iter()
        .filter_map(|i| i.effort.as_deref())
        .filter_map(minutes)
        .sum();
    Ok(json!({
        "total": total,
        "p": q.p,
        "ps": q.ps,
        "paging": render::paging(q.p, q.ps, total),
        "effortTotal": effort_total,
        "issues": page.iter().map(|i| render::issue(s, i)).collect::<Vec<_>>(),
        "components": render::components(s, page.iter().map(|i| (i.project.as_str(), i.path.as_deref()))),
        "facets": facets,
    }))
}

/// A facet's buckets over every matching issue (not only the page), largest first.
fn facet(name: &str, found: &[&Issue]) -> Value {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for i in found {
        let key = match name {
            "rules" => Some(i.rule.clone()),
            "types" => Some(i.kind.clone()),
            "severities" => Some(i.severity.clone()),
            "statuses" => Some(i.status.clone()),
            "projects" => Some(i.project.clone()),
            _ => None,
        };
        if let Some(k) = key {
            *counts.entry(k).or_default() += 1;
        }
    }
    let mut values: Vec<(String, u64)> = counts.into_iter().collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    json!({
        "property": name,
        "values": values.into_iter().map(|(val, count)| json!({ "val": val, "count": count })).collect::<Vec<_>>(),
    })
}

/// `15min`, `1h30min`, `2d` as minutes (a day is 8 hours, as SonarQube counts effort).
fn minutes(effort: &str) -> Option<u64> {
    let mut total = 0;
    let mut number = String::new();
    let mut rest = effort;
    while !rest.is_empty() {
        let c = rest.chars().next()?;
        if c.is_ascii_digit() {
            number.push(c);
            rest = &rest[1..];
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        let (unit, len) = if rest.starts_with("min") {
            (1, 3)
        } else if rest.starts_with('h') {
            (60, 1)
        } else if rest.starts_with('d') {
            (480, 1)
        } else {
            return None;
        };
        total += n * unit;
        rest = &rest[len..];
    }
    Some(total)
}
