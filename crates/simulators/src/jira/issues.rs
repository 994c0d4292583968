//! Issues: create (one, or up to 50 in bulk with partial success), get, edit, delete.

use super::ops::{self, Failure};
use super::render::{self, FieldFilter};
use super::reply::{ApiError, ApiResult, json_reply};
use super::{Call, Sh};
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// `POST /issue/bulk` takes at most this many issues.
pub const BULK_MAX: usize = 50;

fn created_json(base: &str, api: super::Api, c: &ops::Created) -> Value {
    let mut v = json!({ "id": c.issue.id, "key": c.issue.key, "self": format!("{base}{}/issue/{}", api.path(), c.issue.id) });
    if let (Value::Object(m), Some(t)) = (&mut v, &c.transition) {
        m.insert("transition".into(), t.clone());
    }
    v
}

/// `POST /issue`.
pub async fn create(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let (response, out) = {
        let mut s = sh.lock();
        let user = call.caller(&sh, &s)?;
        let body = call.json()?;
        let created =
            ops::create(&mut s, sh.base(), call.api, user, &body).map_err(ApiError::from)?;
        (
            json_reply(
                StatusCode::CREATED,
                created_json(sh.base(), call.api, &created),
            ),
            created.out,
        )
    };
    sh.send(out);
    Ok(response)
}

/// `POST /issue/bulk`: each element created or refused on its own; 201 when any was created,
/// 400 when none was, with `errors[{failedElementNumber, status, elementErrors}]`.
pub async fn bulk(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let (response, out) = {
        let mut s = sh.lock();
        let user = call.caller(&sh, &s)?;
        let body = call.json()?;
        let Some(updates) = body.get("issueUpdates").and_then(Value::as_array) else {
            return Err(ApiError::bad_request(
                "Issue updates must be an array of issues to create (issueUpdates).",
            ));
        };
        if updates.len() > BULK_MAX {
            return Err(ApiError::bad_request(format!(
                "The number of issues to create ({}) exceeds the limit of {BULK_MAX} issues per request.",
                updates.len()
            )));
        }
        let mut issues = Vec::new();
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for (n, update) in updates.iter().enumerate() {
            match ops::create(&mut s, sh.base(), call.api, user, update) {
                Ok(c) => {
                    issues.push(created_json(sh.base(), call.api, &c));
                    out.extend(c.out);
                }
                Err(Failure {
                    status,
                    messages,
                    errors: fields,
                }) => errors.push(json!({
                    "status": status.as_u16(),
                    "elementErrors": ApiError::collection_body(&messages, &fields),
                    "failedElementNumber": n,
                })),
            }
        }
        let status = if issues.is_empty() && !errors.is_empty() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::CREATED
        };
        (
            json_reply(status, json!({ "issues": issues, "errors": errors })),
            out,
        )
    };
    sh.send(out);
    Ok(response)
}

/// `GET /issue/{key}`: `fields` narrows the fields; `expand=transitions` adds the transitions
/// the caller may take.
pub async fn get(AxState(sh): AxState<Sh>, Path(key): Path<String>, call: Call) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let issue = ops::visible(&s, user, &key)?;
    let filter = FieldFilter::parse(&call.param_list("fields"), true);
    let mut v = render::issue(sh.base(), call.api, &s, &issue, &filter);
    let expand = call.param_list("expand");
    if expand.iter().any(|e| e == "transitions") {
        let transitions: Vec<Value> = ops::available(&s, user, &issue)
            .iter()
            .map(|t| render::transition(sh.base(), call.api, &s, t, false))
            .collect();
        v["transitions"] = Value::Array(transitions);
    }
    Ok(json_reply(StatusCode::OK, v))
}

/// `PUT /issue/{key}`: 204, or 200 with the issue when `returnIssue=true`.
pub async fn edit(AxState(sh): AxState<Sh>, Path(key): Path<String>, call: Call) -> ApiResult {
    let (response, out) = {
        let mut s = sh.lock();
        let user = call.caller(&sh, &s)?;
        let body = call.json()?;
        let (issue, out) = ops::edit(&mut s, sh.base(), call.api, user, &key, &body)?;
        let response = if call.param("returnIssue").is_some_and(|v| v == "true") {
            json_reply(
                StatusCode::OK,
                render::issue(sh.base(), call.api, &s, &issue, &FieldFilter::all()),
            )
        } else {
            StatusCode::NO_CONTENT.into_response()
        };
        (response, out)
    };
    sh.send(out);
    Ok(response)
}

/// `DELETE /issue/{key}`.
pub async fn delete(AxState(sh): AxState<Sh>, Path(key): Path<String>, call: Call) -> ApiResult {
    let out = {
        let mut s = sh.lock();
        let user = call.caller(&sh, &s)?;
        if let Some(v) = call.param("deleteSubtasks")
            && v != "true"
            && v != "false"
        {
            return Err(ApiError::bad_request(format!(
                "Invalid value '{v}' for deleteSubtasks: use true or false."
            )));
        }
        ops::delete(&mut s, sh.base(), user, &key)?
    };
    sh.send(out);
    Ok(StatusCode::NO_CONTENT.into_response())
}
