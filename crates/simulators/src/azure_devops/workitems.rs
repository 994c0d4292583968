//! Work items: create (`POST /{project}/_apis/wit/workitems/${type}`), read, update (`PATCH
//! …/workitems/{id}`, project optional), delete (to the recycle bin, or `destroy=true`).
//! Writes need `vso.work_write` and a JSON Patch body (`application/json-patch+json`, else 415);
//! reads need `vso.work`. The operations here are shared with `$batch` and the Rust API.

use super::auth::Need;
use super::events::Event;
use super::fields::format_date_time;
use super::patch::{self, Draft, Links, Op};
use super::process::TypeDef;
use super::render::{self, Shape};
use super::reply::{ApiError, json_ok};
use super::state::{Comment, Revision, State, WorkItem};
use super::version::Resource;
use super::{Call, Sh};
use axum::extract::{Path, State as AxState};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub const PATCH_MEDIA_TYPE: &str = "application/json-patch+json";

/// The query flags of a write.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    pub validate_only: bool,
    pub bypass_rules: bool,
}

/// What a create or update did.
#[derive(Debug)]
pub struct Outcome {
    pub id: i64,
    /// `validateOnly`: the work item as it would be, not saved.
    pub preview: Option<WorkItem>,
    pub events: Vec<Event>,
    /// A `$batch` creation's temporary id.
    pub temp_id: Option<i64>,
}

/// Relation targets: the organization's work items and this batch's temporary ids.
struct StateLinks<'a> {
    s: &'a State,
    temp: &'a BTreeMap<i64, i64>,
}

impl Links for StateLinks<'_> {
    fn exists(&self, id: i64) -> bool {
        if id < 0 {
            self.temp.contains_key(&id)
        } else {
            self.s.work_items.contains_key(&id)
        }
    }
}

/// Rewrites links to temporary ids into links to the work items they became.
fn resolve_temp_links(relations: &mut [Value], temp: &BTreeMap<i64, i64>) {
    for r in relations {
        let Some(url) = r.get("url").and_then(Value::as_str) else {
            continue;
        };
        let Some(target) = patch::linked_id(url) else {
            continue;
        };
        if let Some(real) = temp.get(&target)
            && let Some(cut) = url.rfind('/')
        {
            r["url"] = json!(format!("{}/{real}", &url[..cut]));
        }
    }
}

/// Adds the other end of each new work item link (the target gets a new revision).
fn add_reverse_links(s: &mut State, base: &str, from: i64, added: &[Value], by: &str) {
    let Some(from_item) = s.work_items.get(&from) else {
        return;
    };
    let from_url = render::work_item_url(base, s, from_item);
    for r in added {
        let (Some(rel), Some(url)) = (
            r.get("rel").and_then(Value::as_str),
            r.get("url").and_then(Value::as_str),
        ) else {
            continue;
        };
        let (Some(reverse), Some(target)) = (patch::reverse_link(rel), patch::linked_id(url))
        else {
            continue;
        };
        let watermark = s.next_watermark();
        let Some(t) = s.work_items.get_mut(&target) else {
            continue;
        };
        t.relations
            .push(json!({ "rel": reverse, "url": from_url, "attributes": { "isLocked": false } }));
        t.rev += 1;
        let now = format_date_time(Utc::now());
        t.fields.insert("System.ChangedDate".into(), json!(now));
        t.fields.insert("System.AuthorizedDate".into(), json!(now));
        t.fields.insert("System.ChangedBy".into(), json!(by));
        t.fields.insert("System.Watermark".into(), json!(watermark));
        let rev = t.rev;
        t.revisions.push(Revision {
            rev,
            by: by.to_owned(),
            at: Utc::now(),
            changes: BTreeMap::new(),
        });
    }
}

fn new_comment(s: &mut State, by: &str, text: &str) -> Comment {
    let id = s.next_comment;
    s.next_comment += 1;
    Comment {
        id,
        text: text.to_owned(),
        created_by: by.to_owned(),
        created_at: Utc::now(),
        version: 1,
    }
}

/// Creates a work item of type `t` in project `project_id`.
#[allow(clippy::too_many_arguments)]
pub fn create(
    s: &mut State,
    base: &str,
    by: &str,
    project_id: &str,
    t: &'static TypeDef,
    ops: &[Op],
    flags: Flags,
    temp: &BTreeMap<i64, i64>,
) -> Result<Outcome, ApiError> {
    let project = s
        .projects
        .get(project_id)
        .cloned()
        .ok_or_else(|| ApiError::project_not_found(project_id))?;
    let now = format_date_time(Utc::now());
    let mut defaults: BTreeMap<String, Value> = BTreeMap::new();
    defaults.insert("System.AreaPath".into(), json!(project.name));
    defaults.insert("System.TeamProject".into(), json!(project.name));
    defaults.insert("System.IterationPath".into(), json!(project.name));
    defaults.insert("System.WorkItemType".into(), json!(t.name));
    defaults.insert("System.State".into(), json!(t.initial_state()));
    defaults.insert("Microsoft.VSTS.Common.Priority".into(), json!(2));
    if t.has_field("Microsoft.VSTS.Common.Severity") {
        defaults.insert("Microsoft.VSTS.Common.Severity".into(), json!("3 - Medium"));
    }
    let mut draft = Draft {
        id: -1,
        rev: 0,
        project: &project,
        work_item_type: t,
        fields: defaults,
        relations: Vec::new(),
        history: None,
        temp_id: None,
        reason_given: false,
        creating: true,
    };
    draft.apply(ops, &StateLinks { s, temp }, flags.bypass_rules)?;
    draft.check_required(flags.bypass_rules)?;
    let mut fields = std::mem::take(&mut draft.fields);
    let mut relations = std::mem::take(&mut draft.relations);
    resolve_temp_links(&mut relations, temp);
    if !draft.reason_given {
        fields.insert("System.Reason".into(), json!("New"));
    }
    for (k, v) in [
        ("System.CreatedDate", json!(now)),
        ("System.ChangedDate", json!(now)),
        ("System.AuthorizedDate", json!(now)),
        ("System.RevisedDate", json!("9999-01-01T00:00:00Z")),
        ("Microsoft.VSTS.Common.StateChangeDate", json!(now)),
        ("System.CreatedBy", json!(by)),
        ("System.ChangedBy", json!(by)),
        (
            "System.CommentCount",
            json!(i64::from(draft.history.is_some())),
        ),
    ] {
        fields.insert(k.into(), v);
    }
    let history = draft.history.take();
    let temp_id = draft.temp_id;
    let mut item = WorkItem {
        id: 0,
        rev: 1,
        project_id: project.id.clone(),
        type_name: t.name,
        fields,
        relations,
        comments: Vec::new(),
        revisions: Vec::new(),
    };
    if flags.validate_only {
        item.rev = 0;
        return Ok(Outcome {
            id: 0,
            preview: Some(item),
            events: Vec::new(),
            temp_id,
        });
    }
    let id = s.next_work_item;
    s.next_work_item += 1;
    item.id = id;
    let watermark = s.next_watermark();
    item.fields
        .insert("System.Watermark".into(), json!(watermark));
    let changes = item
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), (Value::Null, v.clone())))
        .collect();
    item.revisions.push(Revision {
        rev: 1,
        by: by.to_owned(),
        at: Utc::now(),
        changes,
    });
    let mut events = vec![Event::Created { id }];
    if let Some(text) = history {
        let c = new_comment(s, by, &text);
        events.push(Event::Commented {
            id,
            comment_id: c.id,
        });
        item.comments.push(c);
    }
    let added = item.relations.clone();
    s.work_items.insert(id, item);
    add_reverse_links(s, base, id, &added, by);
    Ok(Outcome {
        id,
        preview: None,
        events,
        temp_id,
    })
}

/// The work item `id`, if it is in `project` (a name or id, when the route names one).
fn locate(s: &State, id: i64, project: Option<&str>) -> Result<(), ApiError> {
    let w = s
        .work_items
        .get(&id)
        .ok_or_else(|| ApiError::work_item_not_found(id))?;
    if let Some(p) = project {
        let p = s.project(p).ok_or_else(|| ApiError::project_not_found(p))?;
        if p.id != w.project_id {
            return Err(ApiError::work_item_not_found(id));
        }
    }
    Ok(())
}

/// Changes a work item.
pub fn update(
    s: &mut State,
    base: &str,
    by: &str,
    id: i64,
    project: Option<&str>,
    ops: &[Op],
    flags: Flags,
) -> Result<Outcome, ApiError> {
    locate(s, id, project)?;
    let current = s
        .work_items
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::work_item_not_found(id))?;
    let project = s
        .projects
        .get(&current.project_id)
        .cloned()
        .ok_or_else(|| ApiError::work_item_not_found(id))?;
    let t = project
        .work_item_type(current.type_name)
        .ok_or_else(|| ApiError::type_not_found(current.type_name, &project.name))?;
    let temp = BTreeMap::new();
    let mut draft = Draft {
        id,
        rev: current.rev,
        project: &project,
        work_item_type: t,
        fields: current.fields.clone(),
        relations: current.relations.clone(),
        history: None,
        temp_id: None,
        reason_given: false,
        creating: false,
    };
    draft.apply(ops, &StateLinks { s, temp: &temp }, flags.bypass_rules)?;
    draft.check_required(flags.bypass_rules)?;
    let mut fields = std::mem::take(&mut draft.fields);
    let relations = std::mem::take(&mut draft.relations);
    let history = draft.history.take();
    let state_changed = fields.get("System.State") != current.fields.get("System.State");
    if state_changed && !draft.reason_given {
        let to = fields
            .get("System.State")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        fields.insert(
            "System.Reason".into(),
            json!(format!("Moved to state {to}")),
        );
    }
    let keys: BTreeSet<&String> = fields.keys().chain(current.fields.keys()).collect();
    let mut changes: BTreeMap<String, (Value, Value)> = keys
        .into_iter()
        .filter_map(|k| {
            let old = current.fields.get(k).cloned().unwrap_or(Value::Null);
            let new = fields.get(k).cloned().unwrap_or(Value::Null);
            (old != new).then(|| (k.clone(), (old, new)))
        })
        .collect();
    let relations_changed = relations != current.relations;
    if changes.is_empty() && !relations_changed && history.is_none() {
        return Ok(Outcome {
            id,
            preview: None,
            events: Vec::new(),
            temp_id: None,
        });
    }
    if flags.validate_only {
        let mut preview = current.clone();
        preview.fields = fields;
        preview.relations = relations;
        return Ok(Outcome {
            id,
            preview: Some(preview),
            events: Vec::new(),
            temp_id: None,
        });
    }
    let now = format_date_time(Utc::now());
    let watermark = s.next_watermark();
    let rev = current.rev + 1;
    // Server-set fields; a revision lists those whose value changed (the reviser may be the
    // same user as before).
    let mut stamp = |k: &str, v: Value| {
        let old = current.fields.get(k).cloned().unwrap_or(Value::Null);
        fields.insert(k.to_owned(), v.clone());
        if old != v {
            changes.insert(k.to_owned(), (old, v));
        }
    };
    stamp("System.ChangedDate", json!(now));
    stamp("System.AuthorizedDate", json!(now));
    stamp("System.ChangedBy", json!(by));
    stamp("System.Watermark", json!(watermark));
    if state_changed {
        stamp("Microsoft.VSTS.Common.StateChangeDate", json!(now));
    }
    let mut comment = None;
    if let Some(text) = &history {
        let count = current
            .fields
            .get("System.CommentCount")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + 1;
        stamp("System.CommentCount", json!(count));
        comment = Some(new_comment(s, by, text));
        changes.insert("System.History".into(), (Value::Null, json!(text)));
    }
    changes.insert("System.Rev".into(), (json!(current.rev), json!(rev)));
    // The previous revision ended now; the current one is open-ended.
    changes.insert(
        "System.RevisedDate".into(),
        (json!(now), json!("9999-01-01T00:00:00Z")),
    );
    let added: Vec<Value> = relations
        .iter()
        .filter(|r| !current.relations.contains(r))
        .cloned()
        .collect();
    let mut events = vec![Event::Updated { id, rev }];
    if let Some(w) = s.work_items.get_mut(&id) {
        w.fields = fields;
        w.relations = relations;
        w.rev = rev;
        w.revisions.push(Revision {
            rev,
            by: by.to_owned(),
            at: Utc::now(),
            changes,
        });
        if let Some(c) = comment {
            events.push(Event::Commented {
                id,
                comment_id: c.id,
            });
            w.comments.push(c);
        }
    }
    add_reverse_links(s, base, id, &added, by);
    Ok(Outcome {
        id,
        preview: None,
        events,
        temp_id: None,
    })
}

/// Deletes a work item: to the recycle bin, or for good with `destroy`.
pub fn delete(
    s: &mut State,
    by: &str,
    id: i64,
    project: Option<&str>,
    destroy: bool,
) -> Result<Vec<Event>, ApiError> {
    locate(s, id, project)?;
    let item = s
        .work_items
        .remove(&id)
        .ok_or_else(|| ApiError::work_item_not_found(id))?;
    if !destroy {
        s.recycle_bin.insert(id, item.clone());
    }
    Ok(vec![Event::Deleted {
        item: Box::new(item),
        by: by.to_owned(),
    }])
}

/// `$expand`: `relations` and `links` it asks for. `None` / `Fields` ask for neither.
fn expand(call: &Call) -> Result<(bool, bool), ApiError> {
    match call.param("$expand").map(|v| v.to_ascii_lowercase()) {
        None => Ok((false, true)),
        Some(v) => match v.as_str() {
            "none" | "fields" => Ok((false, false)),
            "relations" => Ok((true, false)),
            "links" => Ok((false, true)),
            "all" => Ok((true, true)),
            _ => Err(ApiError::argument(
                "Invalid value for $expand, Allowed values are None, Relations, Fields, Links, All",
            )),
        },
    }
}

/// The `fields` parameter, checked: `TF51535` for a field that does not exist.
pub fn requested_fields(list: &str) -> Result<Vec<String>, ApiError> {
    list.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| {
            super::fields::field(f)
                .map(|d| d.reference.to_owned())
                .ok_or_else(|| ApiError::field_not_found(f))
        })
        .collect()
}

fn write_flags(call: &Call) -> Result<Flags, ApiError> {
    let flags = Flags {
        validate_only: call.flag("validateOnly")?,
        bypass_rules: call.flag("bypassRules")?,
    };
    call.flag("suppressNotifications")?;
    expand(call)?;
    Ok(flags)
}

fn check_media_type(call: &Call) -> Result<(), ApiError> {
    let ct = call.content_type();
    if ct == PATCH_MEDIA_TYPE {
        Ok(())
    } else {
        Err(ApiError::content_type(
            &ct,
            call.method.as_str(),
            PATCH_MEDIA_TYPE,
        ))
    }
}

/// The answer to a write: the work item (or its preview).
fn written(sh: &Sh, s: &State, outcome: &Outcome, version: &str) -> Response {
    let shape = Shape {
        fields: None,
        relations: true,
        links: true,
    };
    let body = match (&outcome.preview, s.work_items.get(&outcome.id)) {
        (Some(p), _) => render::work_item(sh.base(), s, p, shape),
        (None, Some(w)) => render::work_item(sh.base(), s, w, shape),
        (None, None) => Value::Null,
    };
    json_ok(StatusCode::OK, body, version)
}

fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::Plain(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("The requested resource does not support http method '{method}'."),
    )
}

fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.trim().parse::<i64>().map_err(|_| {
        ApiError::Plain(
            StatusCode::NOT_FOUND,
            "The resource cannot be found.".into(),
        )
    })
}

/// `/{org}/{project}/_apis/wit/workitems/{$type or id}`.
pub async fn project_route(
    AxState(sh): AxState<Sh>,
    Path((org, project, segment)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    if let Some(type_name) = segment.strip_prefix('$') {
        if call.method != Method::POST {
            return method_not_allowed(&call.method).into_response();
        }
        return respond(&sh, create_handler(&sh, &org, &project, type_name, &call));
    }
    respond(&sh, by_id(&sh, &org, Some(&project), &segment, &call))
}

/// `/{org}/_apis/wit/workitems/{id}`.
pub async fn org_route(
    AxState(sh): AxState<Sh>,
    Path((org, segment)): Path<(String, String)>,
    call: Call,
) -> Response {
    respond(&sh, by_id(&sh, &org, None, &segment, &call))
}

/// Sends the events of a write after the lock is released, and answers.
fn respond(sh: &Sh, result: Result<(Response, Vec<Event>), ApiError>) -> Response {
    match result {
        Ok((r, events)) => {
            sh.publish(&events);
            r
        }
        Err(e) => e.into_response(),
    }
}

fn create_handler(
    sh: &Sh,
    org: &str,
    project: &str,
    type_name: &str,
    call: &Call,
) -> Result<(Response, Vec<Event>), ApiError> {
    let mut s = sh.lock();
    let (caller, version) = call.begin(&s, org, Resource::Released, Need::WorkWrite)?;
    check_media_type(call)?;
    let p = s
        .project(project)
        .ok_or_else(|| ApiError::project_not_found(project))?;
    let t = p
        .work_item_type(type_name)
        .ok_or_else(|| ApiError::type_not_found(type_name, &p.name))?;
    let project_id = p.id.clone();
    let ops = patch::parse(&call.body)?;
    let flags = write_flags(call)?;
    let outcome = create(
        &mut s,
        sh.base(),
        &caller.user_id,
        &project_id,
        t,
        &ops,
        flags,
        &BTreeMap::new(),
    )?;
    let r = written(sh, &s, &outcome, &version);
    Ok((r, outcome.events))
}

fn by_id(
    sh: &Sh,
    org: &str,
    project: Option<&str>,
    segment: &str,
    call: &Call,
) -> Result<(Response, Vec<Event>), ApiError> {
    let mut s = sh.lock();
    let need = if call.method == Method::GET {
        Need::WorkRead
    } else {
        Need::WorkWrite
    };
    let (caller, version) = call.begin(&s, org, Resource::Released, need)?;
    let id = parse_id(segment)?;
    match call.method {
        Method::GET => {
            locate(&s, id, project)?;
            let fields = call
                .param("fields")
                .map(|f| requested_fields(&f))
                .transpose()?;
            let (relations, links) = expand(call)?;
            if fields.is_some() && call.param("$expand").is_some() {
                return Err(ApiError::argument(
                    "The expand parameter can not be used with the fields parameter.",
                ));
            }
            let w = s
                .work_items
                .get(&id)
                .ok_or_else(|| ApiError::work_item_not_found(id))?;
            let shape = Shape {
                fields: fields.as_deref(),
                relations,
                links: links && fields.is_none(),
            };
            Ok((
                json_ok(
                    StatusCode::OK,
                    render::work_item(sh.base(), &s, w, shape),
                    &version,
                ),
                Vec::new(),
            ))
        }
        Method::PATCH => {
            check_media_type(call)?;
            let ops = patch::parse(&call.body)?;
            let flags = write_flags(call)?;
            let outcome = update(&mut s, sh.base(), &caller.user_id, id, project, &ops, flags)?;
            let r = written(sh, &s, &outcome, &version);
            Ok((r, outcome.events))
        }
        Method::DELETE => {
            let destroy = call.flag("destroy")?;
            locate(&s, id, project)?;
            let w = s
                .work_items
                .get(&id)
                .cloned()
                .ok_or_else(|| ApiError::work_item_not_found(id))?;
            let url = format!(
                "{}/_apis/wit/recyclebin/{id}",
                render::org_url(sh.base(), &s)
            );
            let project_name = s
                .projects
                .get(&w.project_id)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let deleted_by = s
                .users
                .get(&caller.user_id)
                .map(|u| u.distinct_name())
                .unwrap_or_default();
            let events = delete(&mut s, &caller.user_id, id, project, destroy)?;
            let body = json!({
                "id": id,
                "code": 200,
                "deletedBy": deleted_by,
                "deletedDate": format_date_time(Utc::now()),
                "name": w.field_str("System.Title").unwrap_or(""),
                "project": project_name,
                "type": w.type_name,
                "url": url,
            });
            Ok((json_ok(StatusCode::OK, body, &version), events))
        }
        ref other => Err(method_not_allowed(other)),
    }
}
