//! Semgrep's Web API v1 as `public_v1.openapi.yaml` describes it: deployments, projects and
//! findings, with their parameters checked as the spec declares them (enums, `page_size`
//! 100–3000, 0-based pages). Findings come newest first by `relevant_since`, as documented.

use super::render;
use super::state::{IssueType, State};
use super::{ApiError, Sh};
use axum::Json;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// A query string's pairs, in order (arrays come as repeated keys: `repos=a&repos=b`).
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            raw.map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    pub fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of an array parameter (repeated keys, each possibly comma-separated).
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .collect()
    }

    fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.one(key)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid value for '{key}': {v} is not an integer"
                    ))
                })
            })
            .transpose()
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, ApiError> {
        self.one(key)
            .map(|v| match v {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(ApiError::bad_request(format!(
                    "invalid value for '{key}': {v} is not a boolean"
                ))),
            })
            .transpose()
    }

    fn one_of(&self, key: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.one(key) {
            Some(v) if !allowed.contains(&v) => Err(invalid_enum(key, v, allowed)),
            other => Ok(other.map(str::to_owned)),
        }
    }

    fn all_of(&self, key: &str, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
        let values = self.all(key);
        match values.iter().find(|v| !allowed.contains(&v.as_str())) {
            Some(bad) => Err(invalid_enum(key, bad, allowed)),
            None => Ok(values),
        }
    }
}

fn invalid_enum(key: &str, value: &str, allowed: &[&str]) -> ApiError {
    ApiError::bad_request(format!(
        "invalid value for '{key}': {value}. Valid values: {}",
        allowed.join(", ")
    ))
}

/// `GET /api/v1/ping`: liveness, no authentication.
pub async fn ping() -> Response {
    Json(json!({})).into_response()
}

/// `GET /api/v1/deployments`: the one deployment the token can access.
pub async fn deployments(AxState(sh): AxState<Sh>, headers: HeaderMap) -> Response {
    let s = sh.lock();
    if let Err(e) = sh.authorize(&s, &headers) {
        return e.into_response();
    }
    let list: Vec<Value> = s
        .deployment
        .iter()
        .map(|d| render::deployment(d, sh.base()))
        .collect();
    Json(json!({ "deployments": list })).into_response()
}

/// The deployment named by a path's slug, if it is the token's.
fn deployment_slug_ok(s: &State, slug: &str) -> Result<(), ApiError> {
    match &s.deployment {
        Some(d) if d.slug == slug => Ok(()),
        _ => Err(ApiError::not_found(format!(
            "Deployment '{slug}' not found"
        ))),
    }
}

/// `GET /api/v1/deployments/{slug}/projects`: unarchived projects, 100 a page by default.
pub async fn projects(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    let result: Result<Value, ApiError> = (|| {
        sh.authorize(&s, &headers)?;
        deployment_slug_ok(&s, &slug)?;
        let q = Query::parse(raw.as_deref());
        let page = q.int("page")?.unwrap_or(0);
        let page_size = q.int("page_size")?.unwrap_or(100);
        if page < 0 {
            return Err(ApiError::bad_request(
                "invalid value for 'page': pages are numbered from 0",
            ));
        }
        if page_size < 1 {
            return Err(ApiError::bad_request(
                "invalid value for 'page_size': it must be positive",
            ));
        }
        let (page, size) = (page as usize, page_size as usize);
        let list: Vec<Value> = s
            .projects
            .values()
            .filter(|p| !p.archived)
            .skip(page.saturating_mul(size))
            .take(size)
            .map(render::project)
            .collect();
        Ok(json!({ "projects": list }))
    })();
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

const STATUSES: &[&str] = &[
    "open",
    "fixed",
    "ignored",
    "reviewing",
    "fixing",
    "provisionally_ignored",
];
const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];
const TRIAGE_REASONS: &[&str] = &[
    "acceptable_risk",
    "false_positive",
    "no_time",
    "no_triage_reason",
    "duplicate",
];
const CONFIDENCES: &[&str] = &["low", "medium", "high"];

/// The findings filter of one request.
struct Filter {
    issue_type: IssueType,
    since: Option<DateTime<Utc>>,
    repos: Vec<String>,
    repository_ids: Vec<u64>,
    status: Option<String>,
    severities: Vec<String>,
    triage_reasons: Vec<String>,
    confidence: Option<String>,
    rules: Vec<String>,
    r#ref: Option<String>,
    page: usize,
    page_size: usize,
}

impl Filter {
    fn parse(q: &Query) -> Result<Filter, ApiError> {
        let issue_type = match q
            .one_of("issue_type", &["sast", "sca", "ai_sast"])?
            .as_deref()
        {
            None | Some("sast") => IssueType::Sast,
            Some("sca") => IssueType::Sca,
            // AI-powered detection is not enabled on the simulated deployment.
            Some(_) => {
                return Err(ApiError::forbidden(
                    "AI-powered detection is not enabled for this deployment",
                ));
            }
        };
        let since = match q.one("since") {
            None => None,
            Some(v) => {
                let secs: f64 = v.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid value for 'since': {v} is not a number"))
                })?;
                if !secs.is_finite() || secs < 0.0 {
                    return Err(ApiError::bad_request(format!(
                        "invalid value for 'since': {v}"
                    )));
                }
                let whole = secs.trunc() as i64;
                let nanos = ((secs - secs.trunc()) * 1e9) as u32;
                Some(DateTime::from_timestamp(whole, nanos).ok_or_else(|| {
                    ApiError::bad_request(format!("invalid value for 'since': {v}"))
                })?)
            }
        };
        let page = q.int("page")?.unwrap_or(0);
        if page < 0 {
            return Err(ApiError::bad_request(
                "invalid value for 'page': pages are numbered from 0",
            ));
        }
        let page_size = q.int("page_size")?.unwrap_or(100);
        if !(100..=3000).contains(&page_size) {
            return Err(ApiError::bad_request(format!(
                "invalid value for 'page_size': {page_size}. Minimum: 100, Maximum: 3000"
            )));
        }
        let repository_ids = q
            .all("repository_ids")
            .iter()
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid value for 'repository_ids': {v} is not an integer"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        q.boolean("dedup")?;
        Ok(Filter {
            issue_type,
            since,
            repos: q.all("repos"),
            repository_ids,
            status: q.one_of("status", STATUSES)?,
            severities: q.all_of("severities", SEVERITIES)?,
            triage_reasons: q.all_of("triage_reasons", TRIAGE_REASONS)?,
            confidence: q.one_of("confidence", CONFIDENCES)?,
            rules: q.all("rules"),
            r#ref: q.one("ref").map(str::to_owned),
            page: page as usize,
            page_size: page_size as usize,
        })
    }
}

/// `GET /api/v1/deployments/{slug}/findings`.
pub async fn findings(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    let result: Result<Value, ApiError> = (|| {
        sh.authorize(&s, &headers)?;
        deployment_slug_ok(&s, &slug)?;
        let filter = Filter::parse(&Query::parse(raw.as_deref()))?;
        let mut matching: Vec<_> = s
            .findings
            .values()
            .filter(|f| {
                let Some(project) = s.projects.get(&f.project_id) else {
                    return false;
                };
                f.issue_type == filter.issue_type
                    && filter.since.is_none_or(|t| f.relevant_since >= t)
                    && (filter.repos.is_empty() || filter.repos.contains(&project.name))
                    && (filter.repository_ids.is_empty()
                        || filter.repository_ids.contains(&project.id))
                    && filter.status.as_deref().is_none_or(|st| f.status() == st)
                    && (filter.severities.is_empty() || filter.severities.contains(&f.severity))
                    && (filter.triage_reasons.is_empty()
                        || f.triage_reason
                            .as_ref()
                            .is_some_and(|r| filter.triage_reasons.contains(r)))
                    && filter
                        .confidence
                        .as_deref()
                        .is_none_or(|c| f.confidence == c)
                    && (filter.rules.is_empty() || filter.rules.contains(&f.rule_name))
                    && filter.r#ref.as_deref().is_none_or(|r| f.r#ref == r)
            })
            .collect();
        // Newest first; the id breaks ties so that pages never overlap.
        matching.sort_by(|a, b| {
            b.relevant_since
                .cmp(&a.relevant_since)
                .then(b.id.cmp(&a.id))
        });
        let page: Vec<Value> = matching
            .into_iter()
            .skip(filter.page.saturating_mul(filter.page_size))
            .take(filter.page_size)
            .filter_map(|f| s.projects.get(&f.project_id).map(|p| render::finding(f, p)))
            .collect();
        Ok(json!({ "findings": page }))
    })();
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}
