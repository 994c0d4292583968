//! Many work items in one call.
//!
//! `POST /_apis/wit/workitemsbatch` (project optional, `vso.work`): `{ids (≤ 200), fields,
//! $expand, errorPolicy}` → `{count, value: [work item…]}`; with `errorPolicy` `fail` (the
//! default) a missing id refuses the request (404), with `omit` it is `null` in its place.
//!
//! `POST /_apis/wit/$batch` (organization level, `vso.work_write`, `application/json`): an array
//! of `{method, uri, headers, body}` sub-requests, each a JSON Patch `PATCH` of
//! `/{project}/_apis/wit/workitems/${type}` (create) or `/_apis/wit/workitems/{id}` (update), or a
//! `DELETE` of the latter, run in order and not as a transaction: each has its own answer
//! `{code, headers, body: "<JSON as a string>"}` in `{count, value}`. As in the service's batch
//! handler, other methods or routes are `404 Unsupported Batch operation.`, sub-requests may only
//! carry `api-version`, `bypassRules` and `suppressNotifications`, and those flags must agree
//! across the batch; a work item may be updated once per batch (`VS403357`). Negative `/id`
//! values name work items created earlier in the batch, for relations.

use super::auth::Need;
use super::events::Event;
use super::patch;
use super::render::{self, Shape};
use super::reply::{ApiError, json_ok, list};
use super::state::State;
use super::version::Resource;
use super::workitems::{self, Flags, PATCH_MEDIA_TYPE, requested_fields};
use super::{Call, Sh};
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The most ids `workitemsbatch` and the most sub-requests `$batch` takes.
pub const MAX_BATCH: usize = 200;

pub async fn get_project(
    AxState(sh): AxState<Sh>,
    Path((org, project)): Path<(String, String)>,
    call: Call,
) -> Response {
    get_batch(&sh, &org, Some(&project), &call).unwrap_or_else(IntoResponse::into_response)
}

pub async fn get_org(AxState(sh): AxState<Sh>, Path(org): Path<String>, call: Call) -> Response {
    get_batch(&sh, &org, None, &call).unwrap_or_else(IntoResponse::into_response)
}

fn get_batch(sh: &Sh, org: &str, project: Option<&str>, call: &Call) -> Result<Response, ApiError> {
    let s = sh.lock();
    let (_, version) = call.begin(&s, org, Resource::Released, Need::WorkRead)?;
    let project_id = match project {
        Some(p) => Some(
            s.project(p)
                .ok_or_else(|| ApiError::project_not_found(p))?
                .id
                .clone(),
        ),
        None => None,
    };
    let ct = call.content_type();
    if ct != "application/json" {
        return Err(ApiError::content_type(&ct, "POST", "application/json"));
    }
    let body: Value = serde_json::from_slice(&call.body)
        .map_err(|_| ApiError::argument("The ids parameter cannot be null or empty."))?;
    let ids: Vec<i64> = match body.get("ids") {
        Some(Value::Array(a)) if !a.is_empty() => {
            let parsed: Option<Vec<i64>> = a.iter().map(Value::as_i64).collect();
            parsed
                .ok_or_else(|| ApiError::argument("The ids parameter cannot be null or empty."))?
        }
        _ => {
            return Err(ApiError::argument(
                "The ids parameter cannot be null or empty.",
            ));
        }
    };
    let bad: Vec<String> = ids
        .iter()
        .filter(|i| **i <= 0)
        .map(i64::to_string)
        .collect();
    if !bad.is_empty() {
        return Err(ApiError::argument(format!(
            "You must pass in a set of valid work item Ids to the Ids parameter.  The following Ids are not valid: {}.",
            bad.join(", ")
        )));
    }
    if ids.len() > MAX_BATCH {
        return Err(ApiError::argument(format!(
            "The number of work item ids requested ({}) exceeds the limit of {MAX_BATCH}.",
            ids.len()
        )));
    }
    let fields = match body.get("fields") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => {
            let names: Vec<String> = a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            Some(requested_fields(&names.join(","))?)
        }
        Some(_) => {
            return Err(ApiError::argument(
                "The fields parameter must be a list of field reference names.",
            ));
        }
    };
    let expand = body
        .get("$expand")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    if fields.is_some() && expand.is_some() {
        return Err(ApiError::argument(
            "The expand parameter can not be used with the fields parameter.",
        ));
    }
    let (relations, links) = match expand.as_deref() {
        None | Some("none") | Some("fields") => (false, false),
        Some("relations") => (true, false),
        Some("links") => (false, true),
        Some("all") => (true, true),
        Some(_) => {
            return Err(ApiError::argument(
                "Invalid value for $expand, Allowed values are None, Relations, Fields, Links, All",
            ));
        }
    };
    let omit = match body
        .get("errorPolicy")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("fail") => false,
        Some("omit") => true,
        Some(other) => {
            return Err(ApiError::argument(format!(
                "Invalid value '{other}' for errorPolicy, Allowed values are Fail, Omit"
            )));
        }
    };
    let shape = Shape {
        fields: fields.as_deref(),
        relations,
        links,
    };
    let mut values = Vec::with_capacity(ids.len());
    for id in ids {
        let found = s
            .work_items
            .get(&id)
            .filter(|w| project_id.as_ref().is_none_or(|p| *p == w.project_id));
        match found {
            Some(w) => values.push(render::work_item(sh.base(), &s, w, shape)),
            None if omit => values.push(Value::Null),
            None => return Err(ApiError::work_item_not_found(id)),
        }
    }
    Ok(json_ok(StatusCode::OK, list(values), &version))
}

/// One sub-request's answer.
fn answer(code: StatusCode, body: &Value) -> Value {
    json!({
        "code": code.as_u16(),
        "headers": { "Content-Type": "application/json; charset=utf-8" },
        "body": body.to_string(),
    })
}

fn error_answer(e: &ApiError) -> Value {
    let body = e.body();
    // Rule errors come back as the whole exception; others as the Web API's error message.
    let shown = if body["typeKey"] == "RuleValidationException"
        || body["typeKey"] == "WorkItemFieldInvalidException"
    {
        body
    } else {
        json!({ "message": body["message"] })
    };
    answer(e.status(), &shown)
}

fn unsupported() -> ApiError {
    ApiError::Plain(StatusCode::NOT_FOUND, "Unsupported Batch operation.".into())
}

/// What a sub-request asks for.
enum Target {
    Create { project: String, type_name: String },
    Update(i64),
}

/// The route of a sub-request's URI: a create (`/{project}/_apis/wit/workitems/${type}`) or an
/// item (`/_apis/wit/workitems/{id}`); anything else is unsupported.
fn target(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    match segments.as_slice() {
        [project, api, wit, resource, ty]
            if api.eq_ignore_ascii_case("_apis")
                && wit.eq_ignore_ascii_case("wit")
                && resource.eq_ignore_ascii_case("workitems")
                && ty.starts_with('$') =>
        {
            Some(Target::Create {
                project: decode(project)?,
                type_name: decode(&ty[1..])?,
            })
        }
        [api, wit, resource, id]
            if api.eq_ignore_ascii_case("_apis")
                && wit.eq_ignore_ascii_case("wit")
                && resource.eq_ignore_ascii_case("workitems") =>
        {
            id.parse().ok().map(Target::Update)
        }
        _ => None,
    }
}

pub async fn run(AxState(sh): AxState<Sh>, Path(org): Path<String>, call: Call) -> Response {
    let result = (|| -> Result<(Response, Vec<Event>), ApiError> {
        let mut s = sh.lock();
        let (caller, version) = call.begin(&s, &org, Resource::Released, Need::WorkWrite)?;
        let ct = call.content_type();
        if ct != "application/json" {
            return Err(ApiError::content_type(&ct, "POST", "application/json"));
        }
        let body: Value = serde_json::from_slice(&call.body)
            .map_err(|e| ApiError::Plain(StatusCode::BAD_REQUEST, e.to_string()))?;
        let Value::Array(requests) = body else {
            return Err(ApiError::Plain(
                StatusCode::BAD_REQUEST,
                "Batch requires at least one operation.".into(),
            ));
        };
        if requests.is_empty() {
            return Err(ApiError::Plain(
                StatusCode::BAD_REQUEST,
                "Batch requires at least one operation.".into(),
            ));
        }
        if requests.len() > MAX_BATCH {
            return Err(ApiError::Plain(
                StatusCode::BAD_REQUEST,
                format!(
                    "The number of requests in the batch ({}) exceeds the limit of {MAX_BATCH}.",
                    requests.len()
                ),
            ));
        }
        // The batch as a whole is validated first: every request needs a method and a URI.
        for r in &requests {
            let method = r.get("method").and_then(Value::as_str).unwrap_or("");
            if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                .contains(&method.to_ascii_uppercase().as_str())
            {
                return Err(ApiError::Plain(
                    StatusCode::BAD_REQUEST,
                    "The Method field is required.".into(),
                ));
            }
            if r.get("uri")
                .and_then(Value::as_str)
                .is_none_or(|u| u.trim().is_empty())
            {
                return Err(ApiError::Plain(
                    StatusCode::BAD_REQUEST,
                    "The Uri field is required.".into(),
                ));
            }
        }
        let (answers, events) = process(&mut s, sh.base(), &caller.user_id, &requests);
        Ok((json_ok(StatusCode::OK, list(answers), &version), events))
    })();
    match result {
        Ok((r, events)) => {
            sh.publish(&events);
            r
        }
        Err(e) => e.into_response(),
    }
}

/// Parsed query of a sub-request: its flags, or `None` when it carries others.
fn sub_flags(query: Option<&str>) -> Option<(bool, bool)> {
    let mut bypass = false;
    let mut suppress = false;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let k = k.to_ascii_lowercase();
        let on = v.eq_ignore_ascii_case("true");
        match k.as_str() {
            "api-version" => {}
            "bypassrules" => bypass = on,
            "suppressnotifications" => suppress = on,
            _ => return None,
        }
    }
    Some((bypass, suppress))
}

fn process(s: &mut State, base: &str, by: &str, requests: &[Value]) -> (Vec<Value>, Vec<Event>) {
    let parsed: Vec<(String, Option<url::Url>)> = requests
        .iter()
        .map(|r| {
            let method = r
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_uppercase();
            let uri = r.get("uri").and_then(Value::as_str).unwrap_or("");
            (
                method,
                url::Url::parse("http://batch.invalid/")
                    .ok()
                    .and_then(|b| b.join(uri.trim()).ok()),
            )
        })
        .collect();
    // bypassRules / suppressNotifications must be the same on every request.
    let flags: Vec<Option<(bool, bool)>> = parsed
        .iter()
        .map(|(_, u)| u.as_ref().and_then(|u| sub_flags(u.query())))
        .collect();
    let bypass_count = flags.iter().filter(|f| f.is_some_and(|f| f.0)).count();
    let suppress_count = flags.iter().filter(|f| f.is_some_and(|f| f.1)).count();
    let inconsistent = |n: usize| n != 0 && n != requests.len();
    if inconsistent(bypass_count) || inconsistent(suppress_count) {
        let which = if inconsistent(bypass_count) {
            "bypassrules"
        } else {
            "suppressnotifications"
        };
        let e = ApiError::argument(format!(
            "The {which} parameter needs to be consistent on all requests in the batch."
        ));
        return (
            requests.iter().map(|_| error_answer(&e)).collect(),
            Vec::new(),
        );
    }
    let bypass_rules = bypass_count > 0;
    let mut temp: BTreeMap<i64, i64> = BTreeMap::new();
    let mut updated: BTreeSet<i64> = BTreeSet::new();
    let mut answers = Vec::with_capacity(requests.len());
    let mut events = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let (method, url) = &parsed[i];
        let result = (|| -> Result<Value, ApiError> {
            let url = url.as_ref().ok_or_else(unsupported)?;
            flags[i].ok_or_else(unsupported)?;
            let target = target(url.path()).ok_or_else(unsupported)?;
            match (method.as_str(), &target) {
                ("PATCH", _) => {}
                ("DELETE", Target::Update(_)) => {}
                _ => return Err(unsupported()),
            }
            if method == "DELETE" {
                let Target::Update(id) = target else {
                    return Err(unsupported());
                };
                let w = s
                    .work_items
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| ApiError::work_item_not_found(id))?;
                let e = workitems::delete(s, by, id, None, false)?;
                events.extend(e);
                return Ok(json!({
                    "id": id,
                    "code": 200,
                    "name": w.field_str("System.Title").unwrap_or(""),
                    "type": w.type_name,
                    "url": format!("{}/_apis/wit/recyclebin/{id}", render::org_url(base, s)),
                }));
            }
            let content_type = r
                .get("headers")
                .and_then(Value::as_object)
                .and_then(|h| {
                    h.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                })
                .and_then(|(_, v)| v.as_str())
                .map(|v| {
                    v.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .unwrap_or_else(|| "text/plain".to_owned());
            if content_type != PATCH_MEDIA_TYPE {
                return Err(ApiError::content_type(
                    &content_type,
                    "PATCH",
                    PATCH_MEDIA_TYPE,
                ));
            }
            let ops = patch::parse_value(r.get("body").unwrap_or(&Value::Null))?;
            let flags = Flags {
                validate_only: false,
                bypass_rules,
            };
            let outcome = match target {
                Target::Create { project, type_name } => {
                    let p = s
                        .project(&project)
                        .ok_or_else(|| ApiError::project_not_found(&project))?;
                    let t = p
                        .work_item_type(&type_name)
                        .ok_or_else(|| ApiError::type_not_found(&type_name, &p.name))?;
                    let project_id = p.id.clone();
                    let outcome =
                        workitems::create(s, base, by, &project_id, t, &ops, flags, &temp)?;
                    if let Some(t) = outcome.temp_id {
                        temp.insert(t, outcome.id);
                    }
                    outcome
                }
                Target::Update(id) => {
                    if !updated.insert(id) {
                        return Err(ApiError::patch(format!(
                            "VS403357: Work items in the batch are expected to be unique, but found work item with ID {id} in more than one request."
                        )));
                    }
                    workitems::update(s, base, by, id, None, &ops, flags)?
                }
            };
            events.extend(outcome.events);
            let w = s
                .work_items
                .get(&outcome.id)
                .ok_or_else(|| ApiError::work_item_not_found(outcome.id))?;
            Ok(render::work_item(
                base,
                s,
                w,
                Shape {
                    fields: None,
                    relations: true,
                    links: true,
                },
            ))
        })();
        answers.push(match result {
            Ok(body) => answer(StatusCode::OK, &body),
            Err(e) => error_answer(&e),
        });
    }
    (answers, events)
}
