//! Service hook deliveries: when a work item is created, updated, commented on or deleted (by
//! anyone, through any path), every enabled `tfs` subscription for that event whose filters
//! match (project, work item type, area path, changed fields, comment text) gets the documented
//! payload (`subscriptionId`, `notificationId`, `eventType`, `message`, `detailedMessage`,
//! `resource`, `resourceVersion` 1.0, `resourceContainers`, `createdDate`), posted as
//! `application/json; charset=utf-8` with the subscription's basic authentication and extra
//! HTTP headers. `resourceDetailsToSend`, `messagesToSend` and `detailedMessagesToSend` shape
//! the payload as the Web Hooks consumer documents.

use super::fields::format_date_time;
use super::render::{self, org_url};
use super::state::{State, Subscription, WorkItem, guid};
use base64::Engine;
use chrono::Utc;
use serde_json::{Map, Value, json};

/// Something that happened to a work item.
#[derive(Clone, Debug)]
pub enum Event {
    Created {
        id: i64,
    },
    /// A new revision (`rev`) of a work item.
    Updated {
        id: i64,
        rev: i64,
    },
    Commented {
        id: i64,
        comment_id: i64,
    },
    /// The work item as it was, and who deleted it.
    Deleted {
        item: Box<WorkItem>,
        by: String,
    },
}

impl Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::Created { .. } => "workitem.created",
            Event::Updated { .. } => "workitem.updated",
            Event::Commented { .. } => "workitem.commented",
            Event::Deleted { .. } => "workitem.deleted",
        }
    }
}

/// One webhook request to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The deliveries these events cause, counting each subscription's notifications.
pub fn deliveries(state: &mut State, base: &str, events: &[Event]) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for event in events {
        let Some(item) = item_of(state, event) else {
            continue;
        };
        let event_id = guid();
        let Some(payload) = payload(state, base, event, &item) else {
            continue;
        };
        let matching: Vec<String> = state
            .subscriptions
            .values()
            .filter(|s| matches(s, event, &item))
            .map(|s| s.id.clone())
            .collect();
        for sub_id in matching {
            let Some(sub) = state.subscriptions.get_mut(&sub_id) else {
                continue;
            };
            sub.notifications += 1;
            let sub = sub.clone();
            out.push(delivery(&sub, &event_id, event.event_type(), &payload));
        }
    }
    out
}

fn item_of(state: &State, event: &Event) -> Option<WorkItem> {
    match event {
        Event::Created { id } | Event::Updated { id, .. } | Event::Commented { id, .. } => {
            state.work_items.get(id).cloned()
        }
        Event::Deleted { item, .. } => Some((**item).clone()),
    }
}

/// Whether a subscription's event type and publisher filters match.
fn matches(s: &Subscription, event: &Event, item: &WorkItem) -> bool {
    if s.status != "enabled" || s.publisher_id != "tfs" || s.event_type != event.event_type() {
        return false;
    }
    let input = |k: &str| {
        s.publisher_inputs
            .get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    if let Some(p) = input("projectId")
        && !p.eq_ignore_ascii_case(&item.project_id)
    {
        return false;
    }
    if let Some(t) = input("workItemType")
        && !t.eq_ignore_ascii_case(item.type_name)
    {
        return false;
    }
    if let Some(area) = input("areaPath") {
        let have = item.field_str("System.AreaPath").unwrap_or("");
        let under = have.eq_ignore_ascii_case(area)
            || have
                .to_ascii_lowercase()
                .starts_with(&format!("{}\\", area.to_ascii_lowercase()));
        if !under {
            return false;
        }
    }
    match event {
        Event::Updated { rev, .. } => {
            if let Some(wanted) = input("changedFields") {
                let changed = item
                    .revisions
                    .iter()
                    .find(|r| r.rev == *rev)
                    .map(|r| r.changes.keys().cloned().collect::<Vec<_>>());
                let hit = wanted.split(',').map(str::trim).any(|f| {
                    changed
                        .as_ref()
                        .is_some_and(|c| c.iter().any(|have| have.eq_ignore_ascii_case(f)))
                });
                if !hit {
                    return false;
                }
            }
        }
        Event::Commented { comment_id, .. } => {
            if let Some(pattern) = input("commentPattern") {
                let text = item
                    .comments
                    .iter()
                    .find(|c| c.id == *comment_id)
                    .map_or("", |c| c.text.as_str());
                if !text.to_lowercase().contains(&pattern.to_lowercase()) {
                    return false;
                }
            }
        }
        _ => {}
    }
    true
}

/// The payload every matching subscription gets (before its own shaping).
fn payload(state: &State, base: &str, event: &Event, item: &WorkItem) -> Option<Value> {
    let org = org_url(base, state);
    let wi_url = render::work_item_url(base, state, item);
    let html = render::html_url(base, state, item);
    let title = item.field_str("System.Title").unwrap_or("");
    let label = format!("{} #{}", item.type_name, item.id);
    let actor_id = match event {
        Event::Deleted { by, .. } => by.clone(),
        _ => item.field_str("System.ChangedBy").unwrap_or("").to_owned(),
    };
    let actor = state.users.get(&actor_id);
    let actor_name = actor.map_or("someone", |u| u.display_name.as_str());
    let mut fields = render::hook_fields(state, item);
    let (verb, resource) = match event {
        Event::Created { .. } => (
            format!("created by {actor_name}"),
            json!({
                "id": item.id,
                "rev": item.rev,
                "fields": fields,
                "_links": work_item_links(&org, item, &wi_url, &html),
                "url": wi_url,
            }),
        ),
        Event::Updated { rev, .. } => {
            let revision = item.revisions.iter().find(|r| r.rev == *rev)?;
            let mut changes = Map::new();
            for (name, (old, new)) in &revision.changes {
                let mut c = Map::new();
                if !old.is_null() {
                    c.insert("oldValue".into(), render::identity_text(state, old));
                }
                if !new.is_null() {
                    c.insert("newValue".into(), render::identity_text(state, new));
                }
                changes.insert(name.clone(), Value::Object(c));
            }
            let state_change = revision
                .changes
                .get("System.State")
                .and_then(|(_, new)| new.as_str().map(str::to_owned));
            let mut revised_by = revision_actor(base, state, &revision.by);
            if let Some(u) = state.users.get(&revision.by) {
                revised_by["name"] = json!(u.distinct_name());
            }
            let updates = format!("{wi_url}/updates/{rev}");
            let mut revision_json = json!({
                "id": item.id,
                "rev": rev,
                "fields": fields,
                "_links": {
                    "self": { "href": format!("{wi_url}/revisions/{rev}") },
                    "workItemRevisions": { "href": format!("{wi_url}/revisions") },
                    "parent": { "href": wi_url },
                },
                "url": format!("{wi_url}/revisions/{rev}"),
            });
            if !item.relations.is_empty() {
                revision_json["relations"] = json!(item.relations);
            }
            let verb = match state_change {
                Some(s) => format!("transitioned to {s} by {actor_name}"),
                None => format!("updated by {actor_name}"),
            };
            (
                verb,
                json!({
                    "id": rev,
                    "workItemId": item.id,
                    "rev": rev,
                    "revisedBy": revised_by,
                    "revisedDate": "9999-01-01T00:00:00Z",
                    "fields": changes,
                    "_links": {
                        "self": { "href": updates },
                        "workItemUpdates": { "href": format!("{wi_url}/updates") },
                        "parent": { "href": wi_url },
                        "html": { "href": html },
                    },
                    "url": updates,
                    "revision": revision_json,
                }),
            )
        }
        Event::Commented { comment_id, .. } => {
            let comment = item.comments.iter().find(|c| c.id == *comment_id)?;
            fields.insert("System.History".into(), json!(comment.text));
            (
                format!("commented on by {actor_name}"),
                json!({
                    "id": item.id,
                    "rev": item.rev,
                    "fields": fields,
                    "commentVersionRef": {
                        "commentId": comment.id,
                        "version": comment.version,
                        "url": format!("{wi_url}/comments/{}/versions/{}", comment.id, comment.version),
                    },
                    "_links": work_item_links(&org, item, &wi_url, &html),
                    "url": wi_url,
                }),
            )
        }
        Event::Deleted { .. } => {
            let bin = format!("{org}/_apis/wit/recyclebin/{}", item.id);
            (
                format!("deleted by {actor_name}"),
                json!({
                    "id": item.id,
                    "rev": item.rev,
                    "fields": fields,
                    "_links": {
                        "self": { "href": bin },
                        "workItemType": { "href": format!("{org}/{}/_apis/wit/workItemTypes/{}", item.project_id, item.type_name) },
                        "fields": { "href": format!("{org}/_apis/wit/fields") },
                    },
                    "url": bin,
                }),
            )
        }
    };
    let text = format!("{label} ({title}) {verb}.");
    let message = json!({
        "text": format!("{text}\r\n({html})"),
        "html": format!("<a href=\"{html}\">{label}</a> ({title}) {verb}."),
        "markdown": format!("[{label}]({html}) ({title}) {verb}."),
    });
    let detail_line = format!("\r\n\r\n- State: {}\r\n", item.state());
    let detailed = json!({
        "text": format!("{text}\r\n({html}){detail_line}"),
        "html": format!("<a href=\"{html}\">{label}</a> ({title}) {verb}.<ul>\r\n<li>State: {}</li></ul>", item.state()),
        "markdown": format!("[{label}]({html}) ({title}) {verb}.\r\n\r\n* State: {}\r\n", item.state()),
    });
    let root = format!("{base}/{}/", state.org);
    Some(json!({
        "eventType": event.event_type(),
        "publisherId": "tfs",
        "message": message,
        "detailedMessage": detailed,
        "resource": resource,
        "resourceVersion": "1.0",
        "resourceContainers": {
            "collection": { "id": state.collection_id, "baseUrl": root },
            "account": { "id": state.collection_id, "baseUrl": root },
            "project": { "id": item.project_id, "baseUrl": root },
        },
        "createdDate": format_date_time(Utc::now()),
    }))
}

fn revision_actor(base: &str, state: &State, user_id: &str) -> Value {
    state
        .users
        .get(user_id)
        .map(|u| render::identity(base, state, u))
        .unwrap_or(Value::Null)
}

fn work_item_links(org: &str, item: &WorkItem, wi_url: &str, html: &str) -> Value {
    json!({
        "self": { "href": wi_url },
        "workItemUpdates": { "href": format!("{wi_url}/updates") },
        "workItemRevisions": { "href": format!("{wi_url}/revisions") },
        "workItemType": { "href": format!("{org}/{}/_apis/wit/workItemTypes/{}", item.project_id, item.type_name) },
        "fields": { "href": format!("{org}/_apis/wit/fields") },
        "html": { "href": html },
    })
}

/// The request one subscription receives.
fn delivery(sub: &Subscription, event_id: &str, event_type: &str, payload: &Value) -> Outgoing {
    let mut body = Map::new();
    body.insert("subscriptionId".into(), json!(sub.id));
    body.insert("notificationId".into(), json!(sub.notifications));
    body.insert("id".into(), json!(event_id));
    body.insert("eventType".into(), json!(event_type));
    body.insert("publisherId".into(), json!("tfs"));
    let input = |k: &str| {
        sub.consumer_inputs
            .get(k)
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default()
    };
    for (key, setting) in [
        ("message", "messagesToSend"),
        ("detailedMessage", "detailedMessagesToSend"),
    ] {
        let kind = input(setting);
        match kind.as_str() {
            "" => {
                body.insert(key.into(), payload[key].clone());
            }
            "none" => {}
            one => {
                body.insert(key.into(), json!({ one: payload[key][one].clone() }));
            }
        }
    }
    match input("resourceDetailsToSend").as_str() {
        "none" => {}
        "minimal" => {
            let r = &payload["resource"];
            let mut m = Map::new();
            for k in ["id", "workItemId", "rev", "url"] {
                if let Some(v) = r.get(k) {
                    m.insert(k.into(), v.clone());
                }
            }
            body.insert("resource".into(), Value::Object(m));
        }
        _ => {
            body.insert("resource".into(), payload["resource"].clone());
        }
    }
    for k in ["resourceVersion", "resourceContainers", "createdDate"] {
        body.insert(k.into(), payload[k].clone());
    }
    let mut headers = vec![(
        "Content-Type".to_owned(),
        "application/json; charset=utf-8".to_owned(),
    )];
    let user = sub
        .consumer_inputs
        .get("basicAuthUsername")
        .cloned()
        .unwrap_or_default();
    let password = sub
        .consumer_inputs
        .get("basicAuthPassword")
        .cloned()
        .unwrap_or_default();
    if !user.is_empty() || !password.is_empty() {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.push(("Authorization".to_owned(), format!("Basic {b}")));
    }
    for (k, v) in http_headers(
        sub.consumer_inputs
            .get("httpHeaders")
            .map_or("", String::as_str),
    ) {
        headers.push((k, v));
    }
    Outgoing {
        url: sub.consumer_inputs.get("url").cloned().unwrap_or_default(),
        headers,
        body: Value::Object(body).to_string(),
    }
}

/// `Key1:value1` lines, as the `httpHeaders` input holds them.
pub fn http_headers(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(':')?;
            let (k, v) = (k.trim(), v.trim());
            (!k.is_empty() && !v.is_empty()).then(|| (k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_header_lines_are_read() {
        assert_eq!(
            http_headers("X-One: 1\r\nX-Two:two\n\nbad"),
            [
                ("X-One".to_owned(), "1".to_owned()),
                ("X-Two".to_owned(), "two".to_owned())
            ]
        );
    }
}
