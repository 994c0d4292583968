//! What a client reads before writing: the site (`serverInfo`), the caller (`myself`,
//! `mypermissions`), projects with their statuses and components, priorities, and create
//! metadata (issue types, and each type's fields with what is required and allowed).

use super::render;
use super::reply::{ApiError, ApiResult, json_reply};
use super::state::{Permission, Project, State};
use super::{Api, Call, Sh};
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Map, Value, json};

/// `GET /serverInfo`: open to anyone, as on Jira.
pub async fn server_info(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let (version, numbers, deployment) = match call.api {
        Api::V3 => ("1001.0.0-SNAPSHOT", json!([1001, 0, 0]), "Cloud"),
        Api::V2 => ("9.12.4", json!([9, 12, 4]), "Server"),
    };
    Ok(json_reply(
        StatusCode::OK,
        json!({
            "baseUrl": sh.base(),
            "version": version,
            "versionNumbers": numbers,
            "deploymentType": deployment,
            "buildNumber": 100_242,
            "buildDate": "2024-01-15T00:00:00.000+0000",
            "serverTime": render::time(Utc::now()),
            "scmInfo": "0d4bd9f2f9e3f1a3c5b5e8f3a7b0c1d2e3f4a5b6",
            "serverTitle": "Jira",
        }),
    ))
}

/// `GET /myself`.
pub async fn myself(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let u = s
        .users
        .get(&user)
        .ok_or_else(|| ApiError::message(StatusCode::NOT_FOUND, "User not found"))?;
    let mut v = render::user(sh.base(), call.api, u);
    if let Value::Object(m) = &mut v {
        m.insert("locale".into(), json!("en_US"));
        m.insert("groups".into(), json!({ "size": 1, "items": [] }));
        m.insert("applicationRoles".into(), json!({ "size": 1, "items": [] }));
    }
    Ok(json_reply(StatusCode::OK, v))
}

/// The project a path names, if the caller may browse it.
fn visible_project(s: &State, user: u64, key: &str) -> Result<Project, ApiError> {
    s.project(key)
        .filter(|p| s.can(user, &p.id, Permission::BrowseProjects))
        .cloned()
        .ok_or_else(|| ApiError::no_project(key))
}

/// `GET /mypermissions?permissions=KEY,…[&projectKey=…]`. Cloud requires the list; Data
/// Center lists every permission without it. Without a project, a permission counts if the
/// caller has it in any project.
pub async fn my_permissions(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let asked = call.param_list("permissions");
    if asked.is_empty() && call.api == Api::V3 {
        return Err(ApiError::bad_request(
            "The 'permissions' query parameter is required: a comma-separated list of permission keys.",
        ));
    }
    let project = match call.param("projectKey").or_else(|| call.param("projectId")) {
        Some(k) => Some(visible_project(&s, user, &k)?),
        None => None,
    };
    let mut out = Map::new();
    let keys: Vec<String> = if asked.is_empty() {
        Permission::ALL
            .iter()
            .map(|p| p.key().to_owned())
            .chain(["ADMINISTER".to_owned()])
            .collect()
    } else {
        asked
    };
    for key in keys {
        if key == "ADMINISTER" {
            out.insert(
                key.clone(),
                json!({ "id": "0", "key": key, "name": "Administer Jira", "type": "GLOBAL", "description": "Ability to perform most administration functions (excluding Import & Export, SMTP Configuration, etc.).", "havePermission": s.is_admin(user) }),
            );
            continue;
        }
        let p = Permission::by_key(&key).ok_or_else(|| {
            ApiError::bad_request(format!("Permission key '{key}' is not valid."))
        })?;
        let have = match &project {
            Some(proj) => s.can(user, &proj.id, p),
            None => s.projects.values().any(|proj| s.can(user, &proj.id, p)),
        };
        out.insert(
            key.clone(),
            json!({ "id": p.id().to_string(), "key": key, "name": p.name(), "type": "PROJECT", "description": p.description(), "havePermission": have }),
        );
    }
    Ok(json_reply(StatusCode::OK, json!({ "permissions": out })))
}

/// `GET /project/{key}`.
pub async fn project(AxState(sh): AxState<Sh>, Path(key): Path<String>, call: Call) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let p = visible_project(&s, user, &key)?;
    Ok(json_reply(
        StatusCode::OK,
        render::project(sh.base(), call.api, &s, &p),
    ))
}

/// `GET /project/{key}/statuses`: each issue type with the statuses of its workflow.
pub async fn statuses(AxState(sh): AxState<Sh>, Path(key): Path<String>, call: Call) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let p = visible_project(&s, user, &key)?;
    let statuses: Vec<Value> = s
        .statuses
        .iter()
        .map(|st| render::status(sh.base(), call.api, st))
        .collect();
    let types: Vec<Value> = p
        .issue_types
        .iter()
        .filter_map(|t| s.issue_types.get(t))
        .map(|t| {
            json!({
                "self": format!("{}{}/issuetype/{}", sh.base(), call.api.path(), t.id),
                "id": t.id,
                "name": t.name,
                "subtask": false,
                "statuses": statuses,
            })
        })
        .collect();
    Ok(json_reply(StatusCode::OK, Value::Array(types)))
}

/// `GET /project/{key}/components`.
pub async fn components(
    AxState(sh): AxState<Sh>,
    Path(key): Path<String>,
    call: Call,
) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let p = visible_project(&s, user, &key)?;
    let list: Vec<Value> = p
        .components
        .iter()
        .map(|c| render::component(sh.base(), call.api, &p, c))
        .collect();
    Ok(json_reply(StatusCode::OK, Value::Array(list)))
}

/// `GET /priority`: every priority.
pub async fn priorities(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let s = sh.lock();
    call.caller(&sh, &s)?;
    let list: Vec<Value> = s
        .priorities
        .iter()
        .map(|p| render::priority(sh.base(), call.api, p))
        .collect();
    Ok(json_reply(StatusCode::OK, Value::Array(list)))
}

/// `GET /priority/search` (Cloud): a page of priorities.
pub async fn priority_search(AxState(sh): AxState<Sh>, call: Call) -> ApiResult {
    let s = sh.lock();
    call.caller(&sh, &s)?;
    let start: usize = call
        .param("startAt")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let max: usize = call
        .param("maxResults")
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .clamp(1, 50);
    let name = call.param("priorityName").filter(|n| !n.is_empty());
    let all: Vec<Value> = s
        .priorities
        .iter()
        .filter(|p| {
            name.as_deref()
                .is_none_or(|n| p.name.to_lowercase().contains(&n.to_lowercase()))
        })
        .map(|p| render::priority(sh.base(), call.api, p))
        .collect();
    let page: Vec<Value> = all.iter().skip(start).take(max).cloned().collect();
    Ok(json_reply(
        StatusCode::OK,
        json!({ "startAt": start, "maxResults": max, "total": all.len(), "isLast": start + page.len() >= all.len(), "values": page }),
    ))
}

/// A page of create metadata: Cloud names the list, Data Center calls it `values`.
fn page(api: Api, name: &str, items: Vec<Value>, start: usize, max: usize) -> Value {
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    let mut v = json!({ "startAt": start, "maxResults": max, "total": total });
    if let Value::Object(m) = &mut v {
        match api {
            Api::V3 => {
                m.insert(name.into(), Value::Array(page));
            }
            Api::V2 => {
                m.insert("isLast".into(), json!(start + max >= total));
                m.insert("values".into(), Value::Array(page));
            }
        }
    }
    v
}

fn paging(call: &Call) -> (usize, usize) {
    let start = call
        .param("startAt")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let max = call
        .param("maxResults")
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .clamp(1, 200);
    (start, max)
}

/// `GET /issue/createmeta/{project}/issuetypes`: the types the caller may create.
pub async fn create_types(
    AxState(sh): AxState<Sh>,
    Path(key): Path<String>,
    call: Call,
) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let p = visible_project(&s, user, &key)?;
    let types: Vec<Value> = if s.can(user, &p.id, Permission::CreateIssues) {
        p.issue_types
            .iter()
            .filter_map(|t| s.issue_types.get(t))
            .map(|t| render::issue_type(sh.base(), call.api, t))
            .collect()
    } else {
        Vec::new()
    };
    let (start, max) = paging(&call);
    Ok(json_reply(
        StatusCode::OK,
        page(call.api, "issueTypes", types, start, max),
    ))
}

/// `GET /issue/createmeta/{project}/issuetypes/{id}`: the type's create fields.
pub async fn create_fields(
    AxState(sh): AxState<Sh>,
    Path((key, type_id)): Path<(String, String)>,
    call: Call,
) -> ApiResult {
    let s = sh.lock();
    let user = call.caller(&sh, &s)?;
    let p = visible_project(&s, user, &key)?;
    let t = p
        .issue_types
        .iter()
        .filter_map(|id| s.issue_types.get(id))
        .find(|t| t.id == type_id)
        .filter(|_| s.can(user, &p.id, Permission::CreateIssues))
        .ok_or_else(|| ApiError::message(StatusCode::NOT_FOUND, format!("Issue type with id '{type_id}' does not exist or is not creatable in project '{}'.", p.key)))?;
    let base = sh.base();
    let api = call.api;
    let required = |f: &str| t.required.iter().any(|r| r == f);
    let field = |id: &str,
                 name: &str,
                 req: bool,
                 schema: Value,
                 ops: &[&str],
                 extra: Option<(&str, Value)>| {
        let mut v = json!({
            "required": req,
            "schema": schema,
            "name": name,
            "key": id,
            "fieldId": id,
            "hasDefaultValue": id == "priority",
            "operations": ops,
        });
        if let (Value::Object(m), Some((k, x))) = (&mut v, extra) {
            m.insert(k.into(), x);
        }
        v
    };
    let fields = vec![
        field(
            "summary",
            "Summary",
            true,
            json!({"type":"string","system":"summary"}),
            &["set"],
            None,
        ),
        field(
            "issuetype",
            "Issue Type",
            true,
            json!({"type":"issuetype","system":"issuetype"}),
            &[],
            Some(("allowedValues", json!([render::issue_type(base, api, t)]))),
        ),
        field(
            "project",
            "Project",
            true,
            json!({"type":"project","system":"project"}),
            &["set"],
            Some(("allowedValues", json!([render::project_ref(base, api, &p)]))),
        ),
        field(
            "description",
            "Description",
            required("description"),
            json!({"type":"string","system":"description"}),
            &["set"],
            None,
        ),
        field(
            "priority",
            "Priority",
            required("priority"),
            json!({"type":"priority","system":"priority"}),
            &["set"],
            Some((
                "allowedValues",
                Value::Array(
                    s.priorities
                        .iter()
                        .map(|pr| render::priority(base, api, pr))
                        .collect(),
                ),
            )),
        ),
        field(
            "labels",
            "Labels",
            required("labels"),
            json!({"type":"array","items":"string","system":"labels"}),
            &["add", "set", "remove"],
            None,
        ),
        field(
            "components",
            "Component/s",
            required("components"),
            json!({"type":"array","items":"component","system":"components"}),
            &["add", "set", "remove"],
            Some((
                "allowedValues",
                Value::Array(
                    p.components
                        .iter()
                        .map(|c| render::component(base, api, &p, c))
                        .collect(),
                ),
            )),
        ),
        field(
            "duedate",
            "Due Date",
            required("duedate"),
            json!({"type":"date","system":"duedate"}),
            &["set"],
            None,
        ),
        field(
            "environment",
            "Environment",
            required("environment"),
            json!({"type":"string","system":"environment"}),
            &["set"],
            None,
        ),
    ];
    let (start, max) = paging(&call);
    Ok(json_reply(
        StatusCode::OK,
        page(api, "fields", fields, start, max),
    ))
}
