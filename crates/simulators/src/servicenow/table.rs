//! The Table API: `GET /api/now/table/{table}` (encoded query, name-value filters, fields,
//! display values, offset pagination with `X-Total-Count` and `Link`), `GET`, `PATCH`, `PUT`
//! and `DELETE /api/now/table/{table}/{sys_id}`, and `POST /api/now/table/{table}` (201 with
//! `Location`). Versioned paths (`/api/now/v1/table/…`) behave the same, except that version 1
//! answers a query with no results with 404.

use super::auth::Caller;
use super::query::Query;
use super::render::{self, View};
use super::reply::{self, ApiRequest, ApiResponse};
use super::schema::Table;
use super::state::{Record, State};
use super::write::{self, Change};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Map, Value, json};

/// `sysparm_limit`'s default.
pub const DEFAULT_LIMIT: usize = 10_000;
/// Largest request body the REST API reads (`glide.rest.max_content_length`, 10 MB).
pub const MAX_BODY: usize = 10 * 1024 * 1024;

fn number(params: &[(String, String)], name: &str) -> Option<usize> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
}

fn flag(params: &[(String, String)], name: &str) -> bool {
    params
        .iter()
        .any(|(k, v)| k == name && v.trim().eq_ignore_ascii_case("true"))
}

/// The request's URL at another offset, its other parameters kept in order.
fn page_link(
    base: &str,
    req: &ApiRequest,
    params: &[(String, String)],
    offset: usize,
    limit: usize,
) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params
        .iter()
        .filter(|(k, _)| k != "sysparm_offset" && k != "sysparm_limit")
    {
        ser.append_pair(k, v);
    }
    ser.append_pair("sysparm_offset", &offset.to_string());
    ser.append_pair("sysparm_limit", &limit.to_string());
    format!("{base}{}?{}", req.path, ser.finish())
}

/// `GET /api/now/table/{table}`.
pub fn list(
    state: &State,
    base: &str,
    caller: &Caller,
    table: &Table,
    req: &ApiRequest,
    v1: bool,
) -> ApiResponse {
    let params = req.params();
    let view = View::from_params(&params);
    let query_text = params
        .iter()
        .find(|(k, _)| k == "sysparm_query")
        .map(|(_, v)| v.clone());
    let mut query = Query::parse(query_text.as_deref().unwrap_or(""));
    if query_text.is_none() {
        // Name-value pairs stand in for sysparm_query (the two are mutually exclusive).
        for (k, v) in params.iter().filter(|(k, _)| !k.starts_with("sysparm_")) {
            if table.field(k).is_some() {
                query.and_equals(k, v);
            }
        }
    }
    let mut matched: Vec<&Record> = state
        .of_table(table)
        .filter(|r| query.matches(state, caller, r))
        .collect();
    query.sort(state, &mut matched);
    let total = matched.len();
    let limit = number(&params, "sysparm_limit").unwrap_or(DEFAULT_LIMIT);
    let offset = number(&params, "sysparm_offset").unwrap_or(0);
    let start = offset.min(total);
    let end = start.saturating_add(limit).min(total);
    // The limit applies before the ACLs: rows the caller may not read drop out of the page.
    let result: Vec<Value> = matched[start..end]
        .iter()
        .filter(|r| caller.may_read(r.schema()))
        .map(|r| render::record(state, base, r, &view))
        .collect();
    if v1 && result.is_empty() {
        return reply::no_record();
    }
    let mut r = ApiResponse::json(StatusCode::OK, json!({ "result": result }));
    if !flag(&params, "sysparm_no_count") {
        r = r.with_header("X-Total-Count", total.to_string());
    }
    let paged = limit > 0 && (offset > 0 || total > limit);
    if paged && !flag(&params, "sysparm_suppress_pagination_header") {
        let mut links = vec![format!(
            "<{}>;rel=\"first\"",
            page_link(base, req, &params, 0, limit)
        )];
        if offset > 0 {
            links.push(format!(
                "<{}>;rel=\"prev\"",
                page_link(base, req, &params, offset.saturating_sub(limit), limit)
            ));
        }
        if offset.saturating_add(limit) < total {
            links.push(format!(
                "<{}>;rel=\"next\"",
                page_link(base, req, &params, offset + limit, limit)
            ));
        }
        let last = if total == 0 {
            0
        } else {
            (total - 1) / limit * limit
        };
        links.push(format!(
            "<{}>;rel=\"last\"",
            page_link(base, req, &params, last, limit)
        ));
        r = r.with_header("Link", links.join(","));
    }
    r
}

/// `GET /api/now/table/{table}/{sys_id}`.
pub fn show(
    state: &State,
    base: &str,
    caller: &Caller,
    table: &Table,
    sys_id: &str,
    req: &ApiRequest,
) -> ApiResponse {
    match write::readable(state, caller, table, sys_id) {
        Some(r) => ApiResponse::json(
            StatusCode::OK,
            json!({ "result": render::record(state, base, r, &View::from_params(&req.params())) }),
        ),
        None => reply::no_record(),
    }
}

/// The JSON object a write carries.
fn body(req: &ApiRequest) -> Result<Map<String, Value>, ApiResponse> {
    if req.body.len() > MAX_BODY {
        return Err(reply::unreadable(&format!(
            "Rejected large REST payload with content-length = {} bytes. Max allowed: {MAX_BODY} bytes.",
            req.body.len()
        )));
    }
    if let Some(ct) = req.header("content-type") {
        let ct = ct.to_ascii_lowercase();
        if !ct.contains("json") {
            return Err(reply::error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type",
                Some(&format!("The content type {ct} is not supported")),
            ));
        }
    }
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(reply::unreadable("The payload is not valid JSON.")),
    }
}

/// `sysparm_input_display_value=true`: choice fields may be given by their labels (`Resolved`
/// for 6). References take display values whatever the parameter says (see `write`), and every
/// simulated user's time zone is UTC, so dates need no conversion.
fn from_display(
    state: &State,
    table: &'static Table,
    req: &ApiRequest,
    mut input: Map<String, Value>,
) -> Map<String, Value> {
    let wanted = req
        .params()
        .iter()
        .any(|(k, v)| k == "sysparm_input_display_value" && v.trim().eq_ignore_ascii_case("true"));
    if !wanted {
        return input;
    }
    for (name, value) in input.iter_mut() {
        let Some(text) = value.as_str() else { continue };
        let choices = state.choices(table, name);
        if let Some((v, _)) = choices
            .iter()
            .find(|(_, label)| label.eq_ignore_ascii_case(text.trim()))
        {
            *value = Value::String(v.clone());
        }
    }
    input
}

fn no_body(req: &ApiRequest) -> bool {
    req.header("x-no-response-body")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// `POST /api/now/table/{table}`.
pub fn insert(
    state: &mut State,
    base: &str,
    caller: &Caller,
    table: &'static Table,
    req: &ApiRequest,
) -> (ApiResponse, Option<Change>) {
    let input = match body(req) {
        Ok(i) => from_display(state, table, req, i),
        Err(e) => return (e, None),
    };
    match write::insert(state, caller, table, &input, Utc::now()) {
        Ok(change) => {
            let location = format!(
                "{base}/api/now/table/{}/{}",
                table.name,
                change.record.sys_id()
            );
            let r = if no_body(req) {
                ApiResponse::empty(StatusCode::CREATED)
            } else {
                let view = View::from_params(&req.params());
                ApiResponse::json(
                    StatusCode::CREATED,
                    json!({ "result": render::record(state, base, &change.record, &view) }),
                )
            };
            (r.with_header("Location", location), Some(change))
        }
        Err(e) => (e, None),
    }
}

/// `PATCH` or `PUT /api/now/table/{table}/{sys_id}`.
pub fn update(
    state: &mut State,
    base: &str,
    caller: &Caller,
    table: &Table,
    sys_id: &str,
    req: &ApiRequest,
) -> (ApiResponse, Option<Change>) {
    // Choices are the record's own table's (an incident updated through `task`).
    let schema = state
        .get(sys_id)
        .map_or_else(|| super::schema::table(table.name), |r| Some(r.schema()));
    let input = match (body(req), schema) {
        (Ok(i), Some(t)) => from_display(state, t, req, i),
        (Ok(i), None) => i,
        (Err(e), _) => return (e, None),
    };
    match write::update(state, caller, table, sys_id, &input, Utc::now()) {
        Ok((record, change)) => {
            let r = if no_body(req) {
                ApiResponse::empty(StatusCode::OK)
            } else {
                let view = View::from_params(&req.params());
                ApiResponse::json(
                    StatusCode::OK,
                    json!({ "result": render::record(state, base, &record, &view) }),
                )
            };
            (r, change)
        }
        Err(e) => (e, None),
    }
}

/// `DELETE /api/now/table/{table}/{sys_id}`.
pub fn delete(
    state: &mut State,
    caller: &Caller,
    table: &Table,
    sys_id: &str,
) -> (ApiResponse, Option<Change>) {
    match write::delete(state, caller, table, sys_id) {
        Ok(change) => (ApiResponse::empty(StatusCode::NO_CONTENT), Some(change)),
        Err(e) => (e, None),
    }
}
