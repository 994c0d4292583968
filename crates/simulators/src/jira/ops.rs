//! What changes issues — create, edit, transition, comment, delete — shared by the REST
//! endpoints and by the Rust API's "a person does this in Jira" helpers, so both check the same
//! permissions and send the same webhooks.

use super::events::{self, Event, Item, Outgoing};
use super::fields::{self, Errors, Mode};
use super::reply::{ApiError, NO_ISSUE};
use super::state::{Comment, INITIAL_STATUS, Issue, Permission, State};
use super::text::Rich;
use super::{Api, Shared};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Why one create failed: the status and `ErrorCollection` Jira answers (alone, or as one
/// element of a bulk answer).
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub messages: Vec<String>,
    pub errors: Errors,
}

impl Failure {
    fn fields(errors: Errors) -> Failure {
        Failure {
            status: StatusCode::BAD_REQUEST,
            messages: Vec::new(),
            errors,
        }
    }
    fn message(status: StatusCode, m: impl Into<String>) -> Failure {
        Failure {
            status,
            messages: vec![m.into()],
            errors: Errors::new(),
        }
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> ApiError {
        ApiError::Collection {
            status: f.status,
            messages: f.messages,
            errors: f.errors,
        }
    }
}

/// A created issue and the result of the transition its body asked for, if any.
pub struct Created {
    pub issue: Issue,
    pub transition: Option<Value>,
    pub out: Vec<Outgoing>,
}

fn object<'a>(v: Option<&'a Value>, name: &str) -> Result<Option<&'a Map<String, Value>>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(format!(
            "Can not deserialize instance of java.util.Map out of the value of '{name}'"
        )),
    }
}

/// `POST /issue` (and one element of `POST /issue/bulk`).
pub fn create(
    s: &mut State,
    base: &str,
    api: Api,
    user: u64,
    body: &Value,
) -> Result<Created, Failure> {
    let Some(body) = body.as_object() else {
        return Err(Failure::message(
            StatusCode::BAD_REQUEST,
            "Can not deserialize instance of com.atlassian.jira.rest.v2.issue.IssueUpdateBean out of the request body",
        ));
    };
    fields::check_top_level(body).map_err(|m| Failure::message(StatusCode::BAD_REQUEST, m))?;
    let empty = Map::new();
    let f = object(body.get("fields"), "fields")
        .map_err(|m| Failure::message(StatusCode::BAD_REQUEST, m))?
        .unwrap_or(&empty);
    let u = object(body.get("update"), "update")
        .map_err(|m| Failure::message(StatusCode::BAD_REQUEST, m))?
        .unwrap_or(&empty);
    let mut errors = Errors::new();
    // A project the caller cannot browse does not exist for them.
    let found = match fields::project_and_type(s, f, &mut errors) {
        Some((p, _)) if !s.can(user, &p, Permission::BrowseProjects) => {
            errors.insert("project".into(), "Specify a valid project ID or key".into());
            None
        }
        other => other,
    };
    let Some((project_id, type_id)) = found else {
        if f.get("summary")
            .and_then(Value::as_str)
            .is_none_or(|t| t.trim().is_empty())
        {
            errors.insert(
                "summary".into(),
                "You must specify a summary of the issue.".into(),
            );
        }
        return Err(Failure::fields(errors));
    };
    if !s.can(user, &project_id, Permission::CreateIssues) {
        return Err(Failure::message(
            StatusCode::FORBIDDEN,
            "You do not have permission to create issues in this project.",
        ));
    }
    let project = s
        .project_by_id(&project_id)
        .cloned()
        .ok_or_else(|| Failure::fields(errors.clone()))?;
    let now = Utc::now();
    let mut issue = Issue {
        id: String::new(),
        key: String::new(),
        project_id: project_id.clone(),
        issue_type: type_id,
        summary: String::new(),
        description: None,
        status: INITIAL_STATUS.into(),
        resolution: None,
        priority: s
            .default_priority()
            .map(|p| p.id.clone())
            .unwrap_or_default(),
        labels: Default::default(),
        components: Vec::new(),
        duedate: None,
        reporter: user,
        creator: user,
        assignee: None,
        other: BTreeMap::new(),
        created: now,
        updated: now,
        resolution_date: None,
    };
    fields::apply(s, api, &project, &mut issue, f, u, Mode::Create).map_err(Failure::fields)?;
    issue.id = s.next_id();
    let number = match s.projects.get_mut(&project.key) {
        Some(p) => {
            let n = p.next_number;
            p.next_number += 1;
            n
        }
        None => {
            return Err(Failure::message(
                StatusCode::BAD_REQUEST,
                "Specify a valid project ID or key",
            ));
        }
    };
    issue.key = format!("{}-{number}", project.key);
    s.issues.insert(issue.id.clone(), issue.clone());
    let mut out = events::deliveries(base, s, user, &issue, &Event::Created);
    // A create may move the new issue on at once, as a transition from the initial status.
    let transition = match body.get("transition").and_then(|t| t.get("id")) {
        None => None,
        Some(id) => {
            let id = id
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| id.to_string());
            match apply_transition(s, base, user, &issue.id, &id, None) {
                Ok(more) => {
                    out.extend(more);
                    Some(
                        json!({ "status": 200, "errorCollection": { "errorMessages": [], "errors": {} } }),
                    )
                }
                Err(e) => Some(
                    json!({ "status": 400, "errorCollection": { "errorMessages": [e], "errors": {} } }),
                ),
            }
        }
    };
    let issue = s.issues.get(&issue.id).cloned().unwrap_or(issue);
    Ok(Created {
        issue,
        transition,
        out,
    })
}

/// The issue a request names, if the caller may see it.
pub fn visible(s: &State, user: u64, id_or_key: &str) -> Result<Issue, ApiError> {
    s.issue(id_or_key)
        .filter(|i| s.can(user, &i.project_id, Permission::BrowseProjects))
        .cloned()
        .ok_or_else(ApiError::no_issue)
}

/// `PUT /issue/{key}`: fields and update operations; a comment in `update.comment`.
pub fn edit(
    s: &mut State,
    base: &str,
    api: Api,
    user: u64,
    key: &str,
    body: &Value,
) -> Result<(Issue, Vec<Outgoing>), ApiError> {
    let before = visible(s, user, key)?;
    let Some(body) = body.as_object() else {
        return Err(ApiError::bad_request(
            "Can not deserialize instance of com.atlassian.jira.rest.v2.issue.IssueUpdateBean out of the request body",
        ));
    };
    fields::check_top_level(body).map_err(ApiError::bad_request)?;
    let empty = Map::new();
    let f = object(body.get("fields"), "fields")
        .map_err(ApiError::bad_request)?
        .unwrap_or(&empty);
    let u = object(body.get("update"), "update")
        .map_err(ApiError::bad_request)?
        .unwrap_or(&empty);
    let project = s
        .project_by_id(&before.project_id)
        .cloned()
        .ok_or_else(ApiError::no_issue)?;
    let editable = s.can(user, &project.id, Permission::EditIssues);
    let mut after = before.clone();
    let comment = fields::apply(s, api, &project, &mut after, f, u, Mode::Edit { editable })
        .map_err(ApiError::fields)?;
    if comment.is_some() && !s.can(user, &project.id, Permission::AddComments) {
        return Err(ApiError::field(
            "comment",
            "You do not have the permission to comment on this issue.",
        ));
    }
    let items = diff(s, &before, &after);
    let mut out = Vec::new();
    if !items.is_empty() {
        after.updated = Utc::now();
        s.issues.insert(after.id.clone(), after.clone());
        let changelog_id = s.next_changelog_id();
        out.extend(events::deliveries(
            base,
            s,
            user,
            &after,
            &Event::Updated {
                kind: "issue_updated",
                changelog_id,
                items,
            },
        ));
    }
    if let Some(body) = comment {
        let (_, more) = add_comment(s, base, user, &after.id, body)?;
        out.extend(more);
    }
    let now = s.issues.get(&after.id).cloned().unwrap_or(after);
    Ok((now, out))
}

/// What changed between two versions of an issue, as changelog items.
fn diff(s: &State, a: &Issue, b: &Issue) -> Vec<Item> {
    let mut items = Vec::new();
    let mut push = |field: &str,
                    id: &str,
                    from: Option<String>,
                    from_s: Option<String>,
                    to: Option<String>,
                    to_s: Option<String>| {
        items.push(Item {
            field: field.into(),
            field_id: id.into(),
            from,
            from_string: from_s,
            to,
            to_string: to_s,
        });
    };
    if a.summary != b.summary {
        push(
            "summary",
            "summary",
            None,
            Some(a.summary.clone()),
            None,
            Some(b.summary.clone()),
        );
    }
    if a.description != b.description {
        let t = |d: &Option<Rich>| d.as_ref().map(Rich::to_text);
        push(
            "description",
            "description",
            None,
            t(&a.description),
            None,
            t(&b.description),
        );
    }
    if a.labels != b.labels {
        let j = |l: &std::collections::BTreeSet<String>| {
            Some(l.iter().cloned().collect::<Vec<_>>().join(" "))
        };
        push("labels", "labels", None, j(&a.labels), None, j(&b.labels));
    }
    if a.priority != b.priority {
        let name = |id: &str| s.priority(id).map(|p| p.name.clone());
        push(
            "priority",
            "priority",
            Some(a.priority.clone()),
            name(&a.priority),
            Some(b.priority.clone()),
            name(&b.priority),
        );
    }
    if a.components != b.components {
        let names = |ids: &[String]| {
            s.project_by_id(&a.project_id).map(|p| {
                p.components
                    .iter()
                    .filter(|c| ids.contains(&c.id))
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        };
        push(
            "Component",
            "components",
            Some(a.components.join(", ")),
            names(&a.components),
            Some(b.components.join(", ")),
            names(&b.components),
        );
    }
    if a.duedate != b.duedate {
        let d = |x: Option<chrono::NaiveDate>| x.map(|d| d.to_string());
        let ds = |x: Option<chrono::NaiveDate>| x.map(|d| format!("{d} 00:00:00.0"));
        push(
            "duedate",
            "duedate",
            d(a.duedate),
            ds(a.duedate),
            d(b.duedate),
            ds(b.duedate),
        );
    }
    let keys: std::collections::BTreeSet<&String> = a.other.keys().chain(b.other.keys()).collect();
    for k in keys {
        if a.other.get(k) != b.other.get(k) {
            let v = |m: &BTreeMap<String, Value>| {
                m.get(k).map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                })
            };
            push(k, k, None, v(&a.other), None, v(&b.other));
        }
    }
    items
}

/// The transitions the caller may take on the issue (none without Transition Issues).
pub fn available(s: &State, user: u64, issue: &Issue) -> Vec<super::state::TransitionDef> {
    if !s.can(user, &issue.project_id, Permission::TransitionIssues) {
        return Vec::new();
    }
    s.transitions_from(&issue.status)
        .into_iter()
        .cloned()
        .collect()
}

/// Moves an issue through a transition: the status, the resolution (set entering a done
/// status, cleared leaving one), the changelog and the webhooks; then the comment, if any.
pub fn apply_transition(
    s: &mut State,
    base: &str,
    user: u64,
    issue_id: &str,
    transition: &str,
    comment: Option<Rich>,
) -> Result<Vec<Outgoing>, String> {
    let not_valid = || format!("Transition id '{transition}' is not valid for this issue.");
    let before = s
        .issues
        .get(issue_id)
        .cloned()
        .ok_or_else(|| NO_ISSUE.to_owned())?;
    let t = available(s, user, &before)
        .into_iter()
        .find(|t| t.id == transition)
        .ok_or_else(not_valid)?;
    let from = s.status(&before.status).cloned().ok_or_else(not_valid)?;
    let to = s.status(&t.to).cloned().ok_or_else(not_valid)?;
    let now = Utc::now();
    let mut after = before.clone();
    after.status = to.id.clone();
    after.resolution = if to.category == super::state::Category::Done {
        t.resolution.clone().or(before.resolution.clone())
    } else {
        None
    };
    after.resolution_date = after
        .resolution
        .as_ref()
        .map(|_| before.resolution_date.unwrap_or(now));
    after.updated = now;
    let mut items = Vec::new();
    if before.resolution != after.resolution {
        let name = |r: &Option<String>| {
            r.as_deref()
                .and_then(|r| s.resolution(r))
                .map(|r| r.name.clone())
        };
        items.push(Item {
            field: "resolution".into(),
            field_id: "resolution".into(),
            from: before.resolution.clone(),
            from_string: name(&before.resolution),
            to: after.resolution.clone(),
            to_string: name(&after.resolution),
        });
    }
    items.push(Item {
        field: "status".into(),
        field_id: "status".into(),
        from: Some(from.id.clone()),
        from_string: Some(from.name.clone()),
        to: Some(to.id.clone()),
        to_string: Some(to.name.clone()),
    });
    s.issues.insert(after.id.clone(), after.clone());
    let changelog_id = s.next_changelog_id();
    let mut out = events::deliveries(
        base,
        s,
        user,
        &after,
        &Event::Updated {
            kind: "issue_generic",
            changelog_id,
            items,
        },
    );
    if let Some(body) = comment {
        let (_, more) = add_comment(s, base, user, issue_id, body).map_err(|e| match e {
            ApiError::Collection {
                messages, errors, ..
            } => messages
                .into_iter()
                .chain(errors.into_values())
                .collect::<Vec<_>>()
                .join(" "),
            _ => "the comment was refused".to_owned(),
        })?;
        out.extend(more);
    }
    Ok(out)
}

/// `POST /issue/{key}/comment` (and comments added by edits and transitions).
pub fn add_comment(
    s: &mut State,
    base: &str,
    user: u64,
    issue_id: &str,
    body: Rich,
) -> Result<(Comment, Vec<Outgoing>), ApiError> {
    let issue = s
        .issues
        .get(issue_id)
        .cloned()
        .ok_or_else(ApiError::no_issue)?;
    if !s.can(user, &issue.project_id, Permission::AddComments) {
        return Err(ApiError::forbidden(
            "You do not have the permission to comment on this issue.",
        ));
    }
    let now = Utc::now();
    let comment = Comment {
        id: s.next_id(),
        issue_id: issue.id.clone(),
        author: user,
        body,
        created: now,
    };
    s.comments.push(comment.clone());
    let mut issue = issue;
    issue.updated = now;
    s.issues.insert(issue.id.clone(), issue.clone());
    let out = events::deliveries(base, s, user, &issue, &Event::Commented(&comment));
    Ok((comment, out))
}

/// `DELETE /issue/{key}`: needs Delete Issues; takes the issue's comments and links with it.
pub fn delete(s: &mut State, base: &str, user: u64, key: &str) -> Result<Vec<Outgoing>, ApiError> {
    let issue = visible(s, user, key)?;
    if !s.can(user, &issue.project_id, Permission::DeleteIssues) {
        return Err(ApiError::forbidden(
            "You do not have permission to delete issues in this project.",
        ));
    }
    // The webhook is built while the issue still exists (its filter is evaluated on it).
    let out = events::deliveries(base, s, user, &issue, &Event::Deleted);
    s.issues.remove(&issue.id);
    s.comments.retain(|c| c.issue_id != issue.id);
    s.links
        .retain(|l| l.source != issue.id && l.target != issue.id);
    Ok(out)
}

fn person(s: &State, email: &str) -> Result<u64, String> {
    s.user_by_email(email)
        .filter(|u| u.active)
        .map(|u| u.id)
        .ok_or_else(|| format!("no active simulated user '{email}'"))
}

fn message(e: ApiError) -> String {
    match e {
        ApiError::Collection {
            messages, errors, ..
        } => messages
            .into_iter()
            .chain(errors.into_iter().map(|(k, v)| format!("{k}: {v}")))
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::Unauthorized { .. } => "not authenticated".into(),
        ApiError::Raw(r) => format!("HTTP {}", r.status()),
    }
}

pub fn transition_as(sh: &Shared, email: &str, key: &str, to_status: &str) -> Result<(), String> {
    let out = {
        let mut s = sh.lock();
        let user = person(&s, email)?;
        let issue = visible(&s, user, key).map_err(message)?;
        let target = s
            .status_by_name(to_status)
            .map(|st| st.id.clone())
            .ok_or_else(|| format!("no status '{to_status}'"))?;
        let t = available(&s, user, &issue)
            .into_iter()
            .find(|t| t.to == target)
            .ok_or_else(|| format!("no transition available to {email} leads from the issue's status to '{to_status}'"))?;
        apply_transition(&mut s, sh.base(), user, &issue.id, &t.id, None)?
    };
    sh.send(out);
    Ok(())
}

pub fn comment_as(sh: &Shared, email: &str, key: &str, text: &str) -> Result<(), String> {
    let out = {
        let mut s = sh.lock();
        let user = person(&s, email)?;
        let issue = visible(&s, user, key).map_err(message)?;
        add_comment(
            &mut s,
            sh.base(),
            user,
            &issue.id,
            Rich::Plain(text.to_owned()),
        )
        .map_err(message)?
        .1
    };
    sh.send(out);
    Ok(())
}

pub fn delete_as(sh: &Shared, email: &str, key: &str) -> Result<(), String> {
    let out = {
        let mut s = sh.lock();
        let user = person(&s, email)?;
        delete(&mut s, sh.base(), user, key).map_err(message)?
    };
    sh.send(out);
    Ok(())
}

pub fn edit_summary_as(sh: &Shared, email: &str, key: &str, summary: &str) -> Result<(), String> {
    let out = {
        let mut s = sh.lock();
        let user = person(&s, email)?;
        edit(
            &mut s,
            sh.base(),
            Api::V2,
            user,
            key,
            &json!({ "fields": { "summary": summary } }),
        )
        .map_err(message)?
        .1
    };
    sh.send(out);
    Ok(())
}
