//! What happens to an existing issue besides edits: transitions through the workflow,
//! comments, and links to other issues.

use super::fields;
use super::ops;
use super::render;
use super::reply::{ApiError, ApiResult, json_reply};
use super::state::{Link, Permission};
use super::{Call, Sh};
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// `GET /issue/{key}/transitions`: the transitions the caller may take now (none without the
/// Transition Issues permission); `transitionId` picks one.
pub async fn list(AxState(sh): AxState<Sh>, Path(key): Path<String>, call: Call) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let issue = ops::visible(&s, user, &key)?;
    let with_fields = call
        .param_list("expand")
        .iter()
        .any(|e| e == "transitions.fields");
    let only = call.param("transitionId");
    let transitions: Vec<Value> = ops::available(&s, user, &issue)
        .iter()
        .filter(|t| only.as_deref().is_none_or(|id| t.id == id))
        .map(|t| render::transition(sh.base(), call.api, &s, t, with_fields))
        .collect();
    Ok(json_reply(
        StatusCode::OK,
        json!({ "expand": "transitions", "transitions": transitions }),
    ))
}

/// `POST /issue/{key}/transitions`: `{"transition": {"id": …}}`, with an optional
/// `update.comment`; no transition has a screen, so any other field is refused.
pub async fn perform(AxState(sh): AxState<Sh>, Path(key): Path<String>, call: Call) -> ApiResult {
    let out = {
        let mut s = sh.lock();
        let user = call.caller(&sh, &s)?;
        let body = call.json()?;
        let issue = ops::visible(&s, user, &key)?;
        let Some(body) = body.as_object() else {
            return Err(ApiError::bad_request(
                "Can not deserialize instance of com.atlassian.jira.rest.v2.issue.IssueUpdateBean out of the request body",
            ));
        };
        fields::check_top_level(body).map_err(ApiError::bad_request)?;
        let id = match body.get("transition").and_then(|t| t.get("id")) {
            None | Some(Value::Null) => {
                return Err(ApiError::bad_request("Missing 'transition' identifier"));
            }
            Some(Value::String(s)) if s.parse::<u64>().is_ok() => s.clone(),
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "'transition' identifier must be an integer",
                ));
            }
        };
        let mut errors = fields::Errors::new();
        if let Some(Value::Object(f)) = body.get("fields") {
            for k in f.keys() {
                errors.insert(k.clone(), format!("Field '{k}' cannot be set. It is not on the appropriate screen, or unknown."));
            }
        }
        let mut comment = None;
        if let Some(Value::Object(u)) = body.get("update") {
            for (k, ops) in u {
                if k != "comment" {
                    errors.insert(k.clone(), format!("Field '{k}' cannot be set. It is not on the appropriate screen, or unknown."));
                    continue;
                }
                let add = ops
                    .as_array()
                    .and_then(|a| a.iter().find_map(|op| op.pointer("/add/body")));
                match add.map(|b| fields::comment_body(call.api, b)) {
                    Some(Ok(c)) => comment = Some(c),
                    Some(Err(e)) => {
                        errors.insert("comment".into(), e);
                    }
                    None => {
                        errors.insert(
                            "comment".into(),
                            "Field 'comment' does not support this operation".into(),
                        );
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        ops::apply_transition(&mut s, sh.base(), user, &issue.id, &id, comment)
            .map_err(ApiError::bad_request)?
    };
    sh.send(out);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /issue/{key}/comment`: `startAt`, `maxResults` (default 50, at most 100 here).
pub async fn comments(AxState(sh): AxState<Sh>, Path(key): Path<String>, call: Call) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let issue = ops::visible(&s, user, &key)?;
    let start: usize = call
        .param("startAt")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let max: usize = call
        .param("maxResults")
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .min(100);
    let all: Vec<Value> = s
        .comments_of(&issue.id)
        .map(|c| render::comment(sh.base(), call.api, &s, c))
        .collect();
    let page: Vec<Value> = all.iter().skip(start).take(max).cloned().collect();
    Ok(json_reply(
        StatusCode::OK,
        json!({ "startAt": start, "maxResults": max, "total": all.len(), "comments": page }),
    ))
}

/// `POST /issue/{key}/comment`: `{"body": …}` (ADF on v3, a string on v2).
pub async fn comment(AxState(sh): AxState<Sh>, Path(key): Path<String>, call: Call) -> ApiResult {
    let (response, out) = {
        let mut s = sh.lock();
        let user = call.caller(&sh, &s)?;
        let body = call.json()?;
        let issue = ops::visible(&s, user, &key)?;
        let text = body
            .get("body")
            .ok_or_else(|| ApiError::field("comment", "Comment body can not be empty!"))?;
        let rich =
            fields::comment_body(call.api, text).map_err(|e| ApiError::field("comment", e))?;
        let (c, out) = ops::add_comment(&mut s, sh.base(), user, &issue.id, rich)?;
        (
            json_reply(
                StatusCode::CREATED,
                render::comment(sh.base(), call.api, &s, &c),
            ),
            out,
        )
    };
    sh.send(out);
    Ok(response)
}

/// `GET /issueLinkType`.
pub async fn link_types(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let s = sh.lock();
    call.caller(&sh, &s)?;
    let types: Vec<Value> = s
        .link_types
        .iter()
        .map(|t| render::link_type(sh.base(), call.api, t))
        .collect();
    Ok(json_reply(
        StatusCode::OK,
        json!({ "issueLinkTypes": types }),
    ))
}

/// `POST /issueLink`: `{"type": {"name"|"id"}, "inwardIssue": {…}, "outwardIssue": {…}}`,
/// read as "inward issue *outward description* outward issue" (`SEC-1 blocks APP-2`). A link
/// that exists already is not made twice; the answer is 201 either way.
pub async fn link(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let mut s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let body = call.json()?;
    let issue_ref = |side: &str| -> Option<String> {
        let v = body.get(side)?;
        v.get("key").or_else(|| v.get("id")).and_then(|k| {
            k.as_str()
                .map(str::to_owned)
                .or_else(|| k.as_u64().map(|n| n.to_string()))
        })
    };
    let type_ref = body.get("type");
    let link_type = type_ref
        .and_then(|t| {
            let by_id = t.get("id").and_then(Value::as_str);
            let by_name = t.get("name").and_then(Value::as_str);
            s.link_types.iter().find(|lt| {
                by_id.is_some_and(|id| lt.id == id)
                    || by_name.is_some_and(|n| lt.name.eq_ignore_ascii_case(n))
            })
        })
        .cloned();
    let Some(link_type) = link_type else {
        let name = type_ref
            .and_then(|t| t.get("name").or_else(|| t.get("id")))
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            });
        return Err(ApiError::message(
            StatusCode::NOT_FOUND,
            format!(
                "No issue link type with name '{}' found.",
                name.unwrap_or_default()
            ),
        ));
    };
    let (Some(inward), Some(outward)) = (issue_ref("inwardIssue"), issue_ref("outwardIssue"))
    else {
        return Err(ApiError::bad_request(
            "Both an inward and an outward issue are required (inwardIssue, outwardIssue).",
        ));
    };
    let source = ops::visible(&s, user, &inward)?;
    let target = ops::visible(&s, user, &outward)?;
    if !s.can(user, &source.project_id, Permission::LinkIssues) {
        return Err(ApiError::message(
            StatusCode::NOT_FOUND,
            format!("No Link Issue Permission for issue '{}'.", source.key),
        ));
    }
    let exists = s
        .links
        .iter()
        .any(|l| l.type_id == link_type.id && l.source == source.id && l.target == target.id);
    if !exists {
        let id = s.next_id();
        s.links.push(Link {
            id,
            type_id: link_type.id,
            source: source.id,
            target: target.id,
        });
    }
    Ok(StatusCode::CREATED.into_response())
}
