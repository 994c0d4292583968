//! The webhooks GitLab sends when an issue changes or is commented on: `Issue Hook` and
//! `Note Hook` payloads (`Confidential …` for confidential issues and internal notes), to every
//! project hook subscribed to that kind of event, with GitLab's delivery headers.

use super::render::issue_url;
use super::state::{Hook, Issue, Note, Project, State, User};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The version the simulator claims in `User-Agent: GitLab/<version>`.
pub const GITLAB_VERSION: &str = "18.5.0";

/// One webhook request to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A random (version 4) UUID, for hook and event ids.
pub fn uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `2013-12-03T17:15:43Z`, as hook payloads show record timestamps.
fn hook_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2017-09-15 16:50:55 UTC`, as `changes` and note payloads show timestamps.
pub fn change_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn user_attrs(u: Option<&User>) -> Value {
    match u {
        Some(u) => json!({
            "id": u.id,
            "name": u.name,
            "username": u.username,
            "avatar_url": format!("https://www.gravatar.com/avatar/{:032x}?s=80&d=identicon", u.id),
            // No simulated user has a public e-mail address.
            "email": "[REDACTED]",
        }),
        None => Value::Null,
    }
}

fn project_attrs(base: &str, state: &State, p: &Project) -> Value {
    let web_url = format!("{base}/{}", p.path_with_namespace);
    let host = base.split("://").nth(1).unwrap_or(base);
    json!({
        "id": p.id,
        "name": p.name,
        "description": null,
        "web_url": web_url,
        "avatar_url": null,
        "git_ssh_url": format!("git@{host}:{}.git", p.path_with_namespace),
        "git_http_url": format!("{web_url}.git"),
        "namespace": state.groups.get(&p.namespace_id).map(|g| g.name.clone()),
        "visibility_level": 0,
        "path_with_namespace": p.path_with_namespace,
        "default_branch": "main",
        "ci_config_path": null,
        "homepage": web_url,
        "url": format!("{web_url}.git"),
        "ssh_url": format!("git@{host}:{}.git", p.path_with_namespace),
        "http_url": format!("{web_url}.git"),
    })
}

fn repository_attrs(base: &str, p: &Project) -> Value {
    let web_url = format!("{base}/{}", p.path_with_namespace);
    json!({ "name": p.name, "url": format!("{web_url}.git"), "description": null, "homepage": web_url })
}

/// A label as hooks show it (`Label#hook_attrs`).
pub fn label_attrs(state: &State, project_id: u64, title: &str) -> Value {
    match state.label(project_id, title) {
        Some(l) => json!({
            "id": l.id,
            "title": l.name,
            "color": l.color,
            "project_id": l.project_id,
            "created_at": hook_time(l.created_at),
            "updated_at": hook_time(l.created_at),
            "template": false,
            "description": null,
            "type": "ProjectLabel",
            "group_id": null,
        }),
        None => json!({ "title": title }),
    }
}

fn labels_attrs(state: &State, i: &Issue) -> Vec<Value> {
    i.labels
        .iter()
        .map(|t| label_attrs(state, i.project_id, t))
        .collect()
}

/// `Issue#hook_attrs`: the issue under `object_attributes`, with the action.
fn issue_attrs(base: &str, state: &State, p: &Project, i: &Issue, action: &str) -> Value {
    json!({
        "id": i.id,
        "title": i.title,
        "assignee_ids": i.assignee_ids,
        "assignee_id": i.assignee_ids.first(),
        "author_id": i.author_id,
        "project_id": i.project_id,
        "created_at": hook_time(i.created_at),
        "updated_at": hook_time(i.updated_at),
        "updated_by_id": i.updated_by_id,
        "last_edited_at": null,
        "last_edited_by_id": null,
        "relative_position": 0,
        "description": i.description,
        "milestone_id": i.milestone_id,
        "state_id": i.state.id(),
        "confidential": i.confidential,
        "discussion_locked": i.discussion_locked,
        "due_date": i.due_date.map(|d| d.to_string()),
        "moved_to_id": null,
        "duplicated_to_id": null,
        "time_estimate": 0,
        "total_time_spent": 0,
        "time_change": 0,
        "human_total_time_spent": null,
        "human_time_estimate": null,
        "human_time_change": null,
        "weight": i.weight,
        "health_status": null,
        "type": "Issue",
        "iid": i.iid,
        "url": issue_url(base, p, i.iid),
        "state": i.state.as_str(),
        "action": action,
        "severity": "unknown",
        "closed_at": i.closed_at.map(change_time),
        "customer_relations_contacts": [],
        "labels": labels_attrs(state, i),
    })
}

/// Deliveries of an `Issue Hook` for `issue` (after the change) to every subscribed hook.
/// `action` is `open`, `close`, `reopen` or `update`; `changes` maps each changed attribute to
/// `{previous, current}`.
pub fn issue_event(
    base: &str,
    state: &State,
    actor: u64,
    issue: &Issue,
    action: &str,
    changes: Map<String, Value>,
) -> Vec<Outgoing> {
    let Some(p) = state.projects.get(&issue.project_id) else {
        return Vec::new();
    };
    let confidential = issue.confidential;
    let assignees: Vec<Value> = issue
        .assignee_ids
        .iter()
        .map(|id| user_attrs(state.users.get(id)))
        .collect();
    let mut body = json!({
        "object_kind": "issue",
        "event_type": if confidential { "confidential_issue" } else { "issue" },
        "user": user_attrs(state.users.get(&actor)),
        "project": project_attrs(base, state, p),
        "object_attributes": issue_attrs(base, state, p, issue, action),
        "labels": labels_attrs(state, issue),
        "changes": changes,
        "repository": repository_attrs(base, p),
    });
    if let Value::Object(m) = &mut body
        && !assignees.is_empty()
    {
        m.insert("assignee".into(), assignees[0].clone());
        m.insert("assignees".into(), Value::Array(assignees));
    }
    let event = if confidential {
        "Confidential Issue Hook"
    } else {
        "Issue Hook"
    };
    deliveries(base, state, p.id, event, &body, |h| {
        if confidential {
            h.confidential_issues_events
        } else {
            h.issues_events
        }
    })
}

/// Deliveries of a `Note Hook` for a new comment on an issue.
pub fn note_event(base: &str, state: &State, issue: &Issue, note: &Note) -> Vec<Outgoing> {
    let Some(p) = state.projects.get(&issue.project_id) else {
        return Vec::new();
    };
    let confidential = issue.confidential || note.internal;
    let body = json!({
        "object_kind": "note",
        "event_type": if confidential { "confidential_note" } else { "note" },
        "user": user_attrs(state.users.get(&note.author_id)),
        "project_id": p.id,
        "project": project_attrs(base, state, p),
        "repository": repository_attrs(base, p),
        "object_attributes": {
            "id": note.id,
            "note": note.body,
            "noteable_type": "Issue",
            "author_id": note.author_id,
            "created_at": change_time(note.created_at),
            "updated_at": change_time(note.created_at),
            "project_id": p.id,
            "attachment": null,
            "line_code": null,
            "commit_id": "",
            "noteable_id": issue.id,
            "system": false,
            "st_diff": null,
            "internal": note.internal,
            "action": "create",
            "url": format!("{}#note_{}", issue_url(base, p, issue.iid), note.id),
        },
        "issue": {
            "id": issue.id,
            "title": issue.title,
            "assignee_ids": issue.assignee_ids,
            "assignee_id": issue.assignee_ids.first(),
            "author_id": issue.author_id,
            "project_id": p.id,
            "created_at": change_time(issue.created_at),
            "updated_at": change_time(issue.updated_at),
            "position": 0,
            "branch_name": null,
            "description": issue.description,
            "milestone_id": issue.milestone_id,
            "state": issue.state.as_str(),
            "iid": issue.iid,
            "labels": labels_attrs(state, issue),
        },
    });
    let event = if confidential {
        "Confidential Note Hook"
    } else {
        "Note Hook"
    };
    deliveries(base, state, p.id, event, &body, |h| {
        if confidential {
            h.confidential_note_events
        } else {
            h.note_events
        }
    })
}

fn deliveries(
    base: &str,
    state: &State,
    project_id: u64,
    event: &str,
    body: &Value,
    wants: impl Fn(&Hook) -> bool,
) -> Vec<Outgoing> {
    let body = body.to_string();
    let event_uuid = uuid();
    state
        .hooks
        .values()
        .filter(|h| h.project_id == project_id && wants(h))
        .map(|h| {
            let mut headers = vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("User-Agent".to_owned(), format!("GitLab/{GITLAB_VERSION}")),
                ("Idempotency-Key".to_owned(), uuid()),
                ("X-Gitlab-Event".to_owned(), event.to_owned()),
                ("X-Gitlab-Webhook-UUID".to_owned(), h.uuid.clone()),
                ("X-Gitlab-Instance".to_owned(), base.to_owned()),
                ("X-Gitlab-Event-UUID".to_owned(), event_uuid.clone()),
            ];
            if let Some(t) = &h.token {
                headers.push(("X-Gitlab-Token".to_owned(), t.clone()));
            }
            Outgoing {
                url: h.url.clone(),
                headers,
                body: body.clone(),
            }
        })
        .collect()
}

/// `changes` of an `update`: each attribute that differs between `before` and `after`.
pub fn issue_changes(state: &State, before: &Issue, after: &Issue) -> Map<String, Value> {
    fn put(c: &mut Map<String, Value>, name: &str, previous: Value, current: Value) {
        if previous != current {
            c.insert(
                name.to_owned(),
                json!({ "previous": previous, "current": current }),
            );
        }
    }
    let mut c = Map::new();
    put(&mut c, "title", json!(before.title), json!(after.title));
    put(
        &mut c,
        "description",
        json!(before.description),
        json!(after.description),
    );
    put(
        &mut c,
        "confidential",
        json!(before.confidential),
        json!(after.confidential),
    );
    put(&mut c, "weight", json!(before.weight), json!(after.weight));
    let date = |d: Option<chrono::NaiveDate>| json!(d.map(|d| d.to_string()));
    put(
        &mut c,
        "due_date",
        date(before.due_date),
        date(after.due_date),
    );
    put(
        &mut c,
        "milestone_id",
        json!(before.milestone_id),
        json!(after.milestone_id),
    );
    put(
        &mut c,
        "issue_type",
        json!(before.issue_type),
        json!(after.issue_type),
    );
    put(
        &mut c,
        "discussion_locked",
        json!(before.discussion_locked),
        json!(after.discussion_locked),
    );
    put(
        &mut c,
        "state_id",
        json!(before.state.id()),
        json!(after.state.id()),
    );
    put(
        &mut c,
        "closed_at",
        json!(before.closed_at.map(change_time)),
        json!(after.closed_at.map(change_time)),
    );
    if before.labels != after.labels {
        let show = |i: &Issue| {
            Value::Array(
                i.labels
                    .iter()
                    .map(|t| label_attrs(state, i.project_id, t))
                    .collect(),
            )
        };
        put(&mut c, "labels", show(before), show(after));
    }
    if before.assignee_ids != after.assignee_ids {
        let show = |ids: &[u64]| {
            Value::Array(
                ids.iter()
                    .map(|id| user_attrs(state.users.get(id)))
                    .collect(),
            )
        };
        put(
            &mut c,
            "assignees",
            show(&before.assignee_ids),
            show(&after.assignee_ids),
        );
    }
    if !c.is_empty() {
        put(
            &mut c,
            "updated_by_id",
            json!(before.updated_by_id),
            json!(after.updated_by_id),
        );
        put(
            &mut c,
            "updated_at",
            json!(change_time(before.updated_at)),
            json!(change_time(after.updated_at)),
        );
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_look_like_uuids() {
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_ne!(uuid(), u);
    }
}
