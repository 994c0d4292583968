//! The resources as the 7.1 API shows them: work items (fields, relations, `_links`), identity
//! references, projects, work item types and their states, comments. URLs point at the
//! simulator (`http://127.0.0.1:PORT/{org}/…`), project-scoped as 7.x answers are.

use super::fields::{self, Kind};
use super::process::TypeDef;
use super::state::{Comment, Project, State, User, WorkItem};
use serde_json::{Map, Value, json};

/// `http://127.0.0.1:PORT/{org}`.
pub fn org_url(base: &str, state: &State) -> String {
    format!("{base}/{}", state.org)
}

/// An `IdentityRef`.
pub fn identity(base: &str, state: &State, u: &User) -> Value {
    let org = org_url(base, state);
    json!({
        "displayName": u.display_name,
        "url": format!("{org}/_apis/Identities/{}", u.id),
        "_links": { "avatar": { "href": format!("{org}/_apis/GraphProfile/MemberAvatars/{}", u.descriptor()) } },
        "id": u.id,
        "uniqueName": u.unique_name,
        "imageUrl": format!("{org}/_apis/GraphProfile/MemberAvatars/{}", u.descriptor()),
        "descriptor": u.descriptor(),
    })
}

/// An identity field's value: the user's `IdentityRef`, or the text as a display name.
fn identity_field(base: &str, state: &State, raw: &Value) -> Value {
    match raw.as_str().and_then(|s| state.user(s)) {
        Some(u) => identity(base, state, u),
        None => json!({ "displayName": raw.as_str().unwrap_or_default() }),
    }
}

/// `Display Name <unique name>`, how service hook payloads (resource version 1.0) show
/// identity fields.
pub fn identity_text(state: &State, raw: &Value) -> Value {
    match raw.as_str().and_then(|s| state.user(s)) {
        Some(u) => json!(u.distinct_name()),
        None => raw.clone(),
    }
}

/// Fields never shown unless asked for by name.
const HIDDEN: [&str; 6] = [
    "System.Id",
    "System.Rev",
    "System.Watermark",
    "System.AuthorizedDate",
    "System.RevisedDate",
    "System.History",
];

pub fn work_item_url(base: &str, state: &State, w: &WorkItem) -> String {
    format!(
        "{}/{}/_apis/wit/workItems/{}",
        org_url(base, state),
        w.project_id,
        w.id
    )
}

pub fn html_url(base: &str, state: &State, w: &WorkItem) -> String {
    let project = state
        .projects
        .get(&w.project_id)
        .map_or("", |p| p.name.as_str());
    format!(
        "{}/{}/_workitems/edit/{}",
        org_url(base, state),
        project.replace(' ', "%20"),
        w.id
    )
}

/// What a work item answer includes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shape<'a> {
    /// Only these fields (reference names, already checked), with `System.Id`/`System.Rev`
    /// when asked for.
    pub fields: Option<&'a [String]>,
    pub relations: bool,
    pub links: bool,
}

/// A work item.
pub fn work_item(base: &str, state: &State, w: &WorkItem, shape: Shape<'_>) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(w.id));
    out.insert("rev".into(), json!(w.rev));
    let mut fm = Map::new();
    let wanted = |name: &str| match shape.fields {
        Some(list) => list.iter().any(|f| f.eq_ignore_ascii_case(name)),
        None => !HIDDEN.contains(&name),
    };
    for (name, value) in &w.fields {
        if !wanted(name) || value.is_null() {
            continue;
        }
        let kind = fields::field(name).map(|f| f.kind);
        let shown = if kind == Some(Kind::Identity) {
            identity_field(base, state, value)
        } else {
            value.clone()
        };
        fm.insert(name.clone(), shown);
    }
    if let Some(list) = shape.fields {
        for name in list {
            if name.eq_ignore_ascii_case("System.Id") {
                fm.insert("System.Id".into(), json!(w.id));
            } else if name.eq_ignore_ascii_case("System.Rev") {
                fm.insert("System.Rev".into(), json!(w.rev));
            }
        }
    }
    out.insert("fields".into(), Value::Object(fm));
    if shape.relations && !w.relations.is_empty() {
        out.insert("relations".into(), json!(w.relations));
    }
    let url = work_item_url(base, state, w);
    if shape.links {
        let org = org_url(base, state);
        out.insert(
            "_links".into(),
            json!({
                "self": { "href": url },
                "workItemUpdates": { "href": format!("{url}/updates") },
                "workItemRevisions": { "href": format!("{url}/revisions") },
                "workItemComments": { "href": format!("{url}/comments") },
                "html": { "href": html_url(base, state, w) },
                "workItemType": { "href": format!("{org}/{}/_apis/wit/workItemTypes/{}", w.project_id, w.type_name.replace(' ', "%20")) },
                "fields": { "href": format!("{org}/{}/_apis/wit/fields", w.project_id) },
            }),
        );
    }
    out.insert("url".into(), json!(url));
    Value::Object(out)
}

/// A work item's fields as service hook payloads (resource version 1.0) show them.
pub fn hook_fields(state: &State, w: &WorkItem) -> Map<String, Value> {
    let mut fm = Map::new();
    for (name, value) in &w.fields {
        if value.is_null() || HIDDEN.contains(&name.as_str()) {
            continue;
        }
        let kind = fields::field(name).map(|f| f.kind);
        fm.insert(
            name.clone(),
            if kind == Some(Kind::Identity) {
                identity_text(state, value)
            } else {
                value.clone()
            },
        );
    }
    fm
}

/// A `TeamProject`.
pub fn project(base: &str, state: &State, p: &Project, capabilities: bool) -> Value {
    let org = org_url(base, state);
    let mut v = json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "url": format!("{org}/_apis/projects/{}", p.id),
        "state": "wellFormed",
        "revision": p.revision,
        "_links": {
            "self": { "href": format!("{org}/_apis/projects/{}", p.id) },
            "collection": { "href": format!("{org}/_apis/projectCollections/{}", state.collection_id) },
            "web": { "href": format!("{org}/{}", p.name.replace(' ', "%20")) },
        },
        "visibility": "private",
        "defaultTeam": {
            "id": format!("{}-team", p.id.get(..8).unwrap_or(&p.id)),
            "name": format!("{} Team", p.name),
            "url": format!("{org}/_apis/projects/{}/teams/{}-team", p.id, p.id.get(..8).unwrap_or(&p.id)),
        },
        "lastUpdateTime": fields::format_date_time(p.last_update),
    });
    if capabilities {
        v["capabilities"] = json!({
            "versioncontrol": { "sourceControlType": "Git", "gitEnabled": "True", "tfvcEnabled": "False" },
            "processTemplate": { "templateName": p.process.name(), "templateTypeId": p.process.template_id() },
        });
    }
    v
}

/// A `WorkItemStateColor`.
pub fn state_color(name: &str, category: super::process::Category) -> Value {
    json!({ "name": name, "color": category.color(), "category": category.as_str() })
}

/// A `WorkItemType`.
pub fn work_item_type(base: &str, state: &State, p: &Project, t: &TypeDef) -> Value {
    let org = org_url(base, state);
    let field_refs: Vec<Value> = t
        .fields()
        .filter_map(fields::field)
        .map(|f| {
            json!({
                "referenceName": f.reference,
                "name": f.name,
                "url": format!("{org}/_apis/wit/fields/{}", f.reference),
            })
        })
        .collect();
    let instances: Vec<Value> = t
        .fields()
        .filter_map(fields::field)
        .map(|f| {
            let mut v = json!({
                "alwaysRequired": f.reference == "System.Title" || f.reference == "System.State",
                "referenceName": f.reference,
                "name": f.name,
                "url": format!("{org}/_apis/wit/fields/{}", f.reference),
            });
            if f.reference == "Microsoft.VSTS.Common.Priority" {
                v["allowedValues"] = json!(
                    fields::PRIORITIES
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                );
                v["defaultValue"] = json!("2");
            }
            if f.reference == "System.State" {
                v["allowedValues"] = json!(t.states.iter().map(|(s, _)| *s).collect::<Vec<_>>());
                v["defaultValue"] = json!(t.initial_state());
            }
            v
        })
        .collect();
    let mut transitions = Map::new();
    let names: Vec<&str> = t.states.iter().map(|(s, _)| *s).collect();
    transitions.insert(
        String::new(),
        json!([{ "to": t.initial_state(), "actions": null }]),
    );
    for from in &names {
        let to: Vec<Value> = names
            .iter()
            .filter(|n| *n != from)
            .map(|n| json!({ "to": n, "actions": null }))
            .collect();
        transitions.insert((*from).to_owned(), Value::Array(to));
    }
    json!({
        "name": t.name,
        "referenceName": t.reference_name,
        "description": t.description,
        "color": t.color,
        "icon": { "id": "icon_clipboard", "url": format!("{org}/_apis/wit/workItemIcons/icon_clipboard?color={}&v=2", t.color) },
        "isDisabled": false,
        "xmlForm": "",
        "fields": field_refs,
        "fieldInstances": instances,
        "transitions": transitions,
        "states": t.states.iter().map(|(s, c)| state_color(s, *c)).collect::<Vec<_>>(),
        "_links": { "self": { "href": format!("{org}/{}/_apis/wit/workItemTypes/{}", p.id, t.name.replace(' ', "%20")) } },
        "url": format!("{org}/{}/_apis/wit/workItemTypes/{}", p.id, t.name.replace(' ', "%20")),
    })
}

/// A `Comment` (comments API 7.1-preview.4).
pub fn comment(base: &str, state: &State, w: &WorkItem, c: &Comment) -> Value {
    let by = state
        .users
        .get(&c.created_by)
        .map(|u| identity(base, state, u))
        .unwrap_or(Value::Null);
    let at = fields::format_date_time(c.created_at);
    json!({
        "workItemId": w.id,
        "id": c.id,
        "version": c.version,
        "text": c.text,
        "renderedText": c.text,
        "format": "html",
        "createdBy": by,
        "createdDate": at,
        "modifiedBy": by,
        "modifiedDate": at,
        "isDeleted": false,
        "url": format!("{}/comments/{}", work_item_url(base, state, w), c.id),
    })
}
