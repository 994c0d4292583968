//! Snyk's REST API (`/rest`): `GET /self`, `/orgs`, `/orgs/{org_id}`,
//! `/orgs/{org_id}/projects` and `/orgs/{org_id}/issues`, behind `Authorization: token …`,
//! each answer resolved to the endpoint's release for the requested `version`.

use super::paging::{Paging, Query, links};
use super::reply::{ApiError, document};
use super::state::{State, User};
use super::{Sh, render, version};
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// `Authorization: token <API token>` (a service account's token is sent the same way).
fn caller<'s>(s: &'s State, headers: &HeaderMap) -> Result<&'s User, ApiError> {
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::unauthorized)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(ApiError::unauthorized)?;
    if !scheme.eq_ignore_ascii_case("token") {
        return Err(ApiError::unauthorized());
    }
    s.user_by_token(token.trim())
        .ok_or_else(ApiError::unauthorized)
}

fn uuid_param(name: &str, value: &str) -> Result<(), ApiError> {
    let ok = value.len() == 36
        && value.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_parameter(
            name,
            format!("{name} must be a UUID, got \"{value}\""),
        ))
    }
}

/// The org, if the caller belongs to it (else 404: Snyk does not tell others' orgs apart
/// from missing ones).
fn member_org(s: &State, user: &User, org_id: &str) -> Result<(), ApiError> {
    uuid_param("org_id", org_id)?;
    if s.orgs.contains_key(org_id) && user.orgs.iter().any(|o| o == org_id) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("Org {org_id} was not found")))
    }
}

fn answer(result: Result<(Value, (String, String)), ApiError>) -> Response {
    match result {
        Ok((body, (requested, served))) => document(body, &requested, &served),
        Err(e) => e.into_response(),
    }
}

fn doc(data: Value, links: Value) -> Value {
    json!({ "jsonapi": { "version": "1.0" }, "data": data, "links": links })
}

pub async fn me(AxState(sh): AxState<Sh>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let s = sh.lock();
    answer((|| {
        let user = caller(&s, &headers)?;
        let q = Query::parse(raw.as_deref());
        let v = version::resolve(q.get("version"), version::SELF)?;
        Ok((
            json!({ "jsonapi": { "version": "1.0" }, "data": render::user(user), "links": { "self": "/self" } }),
            v,
        ))
    })())
}

pub async fn orgs(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    answer((|| {
        let user = caller(&s, &headers)?;
        let q = Query::parse(raw.as_deref());
        let v = version::resolve(q.get("version"), version::ORGS)?;
        let paging = Paging::parse(&q)?;
        let mine = s
            .orgs
            .values()
            .filter(|o| user.orgs.contains(&o.id))
            .map(|o| (o.seq, o))
            .collect();
        let (page, next) = paging.page(mine);
        Ok((
            doc(
                page.into_iter().map(render::org).collect(),
                links("/orgs", &q, next),
            ),
            v,
        ))
    })())
}

pub async fn org(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    Path(org_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    answer((|| {
        let user = caller(&s, &headers)?;
        let q = Query::parse(raw.as_deref());
        let v = version::resolve(q.get("version"), version::ORG)?;
        member_org(&s, user, &org_id)?;
        let o = s
            .orgs
            .get(&org_id)
            .ok_or_else(|| ApiError::not_found(format!("Org {org_id} was not found")))?;
        Ok((
            json!({ "jsonapi": { "version": "1.0" }, "data": render::org(o), "links": { "self": format!("/orgs/{org_id}") } }),
            v,
        ))
    })())
}

pub async fn projects(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    Path(org_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    answer((|| {
        let user = caller(&s, &headers)?;
        let q = Query::parse(raw.as_deref());
        let v = version::resolve(q.get("version"), version::PROJECTS)?;
        member_org(&s, user, &org_id)?;
        let paging = Paging::parse(&q)?;
        let (types, names, ids) = (q.all("types"), q.all("names"), q.all("ids"));
        let all = s
            .projects
            .values()
            .filter(|p| p.org_id == org_id)
            .filter(|p| types.is_empty() || types.contains(&p.kind))
            .filter(|p| names.is_empty() || names.contains(&p.name))
            .filter(|p| ids.is_empty() || ids.contains(&p.id))
            .map(|p| (p.seq, p))
            .collect();
        let (page, next) = paging.page(all);
        Ok((
            doc(
                page.into_iter().map(render::project).collect(),
                links(&format!("/orgs/{org_id}/projects"), &q, next),
            ),
            v,
        ))
    })())
}

const TYPES: &[&str] = &[
    "package_vulnerability",
    "license",
    "cloud",
    "code",
    "custom",
    "config",
];
const LEVELS: &[&str] = &["info", "low", "medium", "high", "critical"];

fn date(q: &Query, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    q.get(key)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::bad_parameter(
                        key,
                        format!("{key} must be an RFC 3339 date-time, got \"{v}\""),
                    )
                })
        })
        .transpose()
}

fn enum_list(q: &Query, key: &str, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
    let values = q.all(key);
    match values.iter().find(|v| !allowed.contains(&v.as_str())) {
        Some(bad) => Err(ApiError::bad_parameter(
            key,
            format!("{key} must be one of {}, got \"{bad}\"", allowed.join(", ")),
        )),
        None => Ok(values),
    }
}

pub async fn issues(
    AxState(sh): AxState<Sh>,
    headers: HeaderMap,
    Path(org_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = sh.lock();
    answer((|| {
        let user = caller(&s, &headers)?;
        let q = Query::parse(raw.as_deref());
        let v = version::resolve(q.get("version"), version::ISSUES)?;
        member_org(&s, user, &org_id)?;
        let paging = Paging::parse(&q)?;
        let scan_item = match (q.get("scan_item.id"), q.get("scan_item.type")) {
            (None, None) => None,
            (Some(id), Some(kind)) => {
                uuid_param("scan_item.id", id)?;
                if !matches!(kind, "project" | "environment") {
                    return Err(ApiError::bad_parameter(
                        "scan_item.type",
                        format!("scan_item.type must be project or environment, got \"{kind}\""),
                    ));
                }
                Some((id.to_owned(), kind.to_owned()))
            }
            (Some(_), None) => {
                return Err(ApiError::bad_parameter(
                    "scan_item.type",
                    "scan_item.type is required with scan_item.id",
                ));
            }
            (None, Some(_)) => {
                return Err(ApiError::bad_parameter(
                    "scan_item.id",
                    "scan_item.id is required with scan_item.type",
                ));
            }
        };
        let kind = enum_list(&q, "type", TYPES)?;
        let levels = enum_list(&q, "effective_severity_level", LEVELS)?;
        let statuses = enum_list(&q, "status", &["open", "resolved"])?;
        let ignored = match q.get("ignored") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(ApiError::bad_parameter(
                    "ignored",
                    format!("ignored must be true or false, got \"{other}\""),
                ));
            }
        };
        let (updated_after, updated_before) =
            (date(&q, "updated_after")?, date(&q, "updated_before")?);
        let (created_after, created_before) =
            (date(&q, "created_after")?, date(&q, "created_before")?);
        let matching = s
            .issues
            .range(paging.start()..)
            .map(|(_, i)| i)
            .filter(|i| i.org_id == org_id)
            .filter(|i| {
                scan_item
                    .as_ref()
                    .is_none_or(|(id, kind)| kind == "project" && *id == i.project_id)
            })
            .filter(|i| kind.is_empty() || kind.contains(&i.kind))
            .filter(|i| levels.is_empty() || levels.contains(&i.severity))
            .filter(|i| statuses.is_empty() || statuses.contains(&i.status))
            .filter(|i| ignored.is_none_or(|g| g == i.ignored))
            .filter(|i| {
                updated_after.is_none_or(|t| i.updated > t)
                    && updated_before.is_none_or(|t| i.updated < t)
            })
            .filter(|i| {
                created_after.is_none_or(|t| i.created > t)
                    && created_before.is_none_or(|t| i.created < t)
            })
            .map(|i| (i.seq, i));
        let (page, next) = paging.page_in_order(matching);
        Ok((
            doc(
                page.into_iter().map(render::issue).collect(),
                links(&format!("/orgs/{org_id}/issues"), &q, next),
            ),
            v,
        ))
    })())
}
