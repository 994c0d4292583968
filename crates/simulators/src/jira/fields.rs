//! Reading an issue's `fields` and `update` sections the way Jira's field layer does, for
//! create and edit: every field is checked, and all problems are reported together under the
//! field's id, in Jira's words. Fields the simulator does not know, and fields the caller may
//! not edit, are "not on the appropriate screen, or unknown".

use super::Api;
use super::state::{Issue, Project, State};
use super::text::{self, Rich, TEXT_MAX};
use chrono::NaiveDate;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub type Errors = BTreeMap<String, String>;

/// What a request is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Create,
    /// `editable`: whether the caller has Edit Issues (without it, no field is on the screen).
    Edit {
        editable: bool,
    },
}

/// The fields that may be set, by id, with the name Jira's messages use.
const SETTABLE: &[(&str, &str)] = &[
    ("summary", "Summary"),
    ("description", "Description"),
    ("labels", "Labels"),
    ("priority", "Priority"),
    ("components", "Component/s"),
    ("duedate", "Due Date"),
    ("environment", "Environment"),
];

pub fn field_name(id: &str) -> &str {
    SETTABLE
        .iter()
        .find(|(k, _)| *k == id)
        .map_or(id, |(_, n)| n)
}

fn not_on_screen(id: &str) -> String {
    format!("Field '{id}' cannot be set. It is not on the appropriate screen, or unknown.")
}

/// The top-level keys of an issue body (`IssueUpdateBean`); Jackson refuses any other.
pub fn check_top_level(body: &Map<String, Value>) -> Result<(), String> {
    for k in body.keys() {
        if !matches!(
            k.as_str(),
            "fields" | "update" | "transition" | "properties" | "historyMetadata"
        ) {
            return Err(format!(
                "Unrecognized field \"{k}\" (Class com.atlassian.jira.rest.v2.issue.IssueUpdateBean), not marked as ignorable"
            ));
        }
    }
    Ok(())
}

/// `{"key": …}` / `{"id": …}` / `{"name": …}` references.
fn reference(v: &Value) -> Option<(&'static str, String)> {
    let o = v.as_object()?;
    for k in ["id", "key", "name"] {
        match o.get(k) {
            Some(Value::String(s)) => return Some((k, s.clone())),
            Some(Value::Number(n)) => return Some((k, n.to_string())),
            _ => {}
        }
    }
    None
}

/// The project and issue type a create names, or the errors Jira gives for them.
pub fn project_and_type(
    state: &State,
    fields: &Map<String, Value>,
    errors: &mut Errors,
) -> Option<(String, String)> {
    let project = fields
        .get("project")
        .and_then(reference)
        .and_then(|(_, r)| state.project(&r).map(|p| p.id.clone()));
    if project.is_none() {
        errors.insert("project".into(), "Specify a valid project ID or key".into());
    }
    let issue_type = match fields.get("issuetype") {
        None | Some(Value::Null) => {
            errors.insert("issuetype".into(), "Specify an issue type".into());
            None
        }
        Some(v) => {
            let found = reference(v).and_then(|(kind, r)| {
                let p = project.as_deref().and_then(|id| state.project_by_id(id))?;
                p.issue_types
                    .iter()
                    .filter_map(|t| state.issue_types.get(t))
                    .find(|t| {
                        if kind == "name" {
                            t.name.eq_ignore_ascii_case(&r)
                        } else {
                            t.id == r
                        }
                    })
                    .map(|t| t.id.clone())
            });
            if found.is_none() && project.is_some() {
                errors.insert("issuetype".into(), "Specify a valid issue type".into());
            }
            found
        }
    };
    Some((project?, issue_type?))
}

/// Applies `fields` and `update` to `issue` (a fresh one for a create). Returns the comment an
/// edit's `update.comment` adds. On any problem, nothing is applied and every problem is listed.
pub fn apply(
    state: &State,
    api: Api,
    project: &Project,
    issue: &mut Issue,
    fields: &Map<String, Value>,
    update: &Map<String, Value>,
    mode: Mode,
) -> Result<Option<Rich>, Errors> {
    let mut errors = Errors::new();
    let mut next = issue.clone();
    let editable = !matches!(mode, Mode::Edit { editable: false });
    for (id, value) in fields {
        if mode == Mode::Create && matches!(id.as_str(), "project" | "issuetype") {
            continue;
        }
        if !editable || !SETTABLE.iter().any(|(k, _)| k == id) {
            errors.insert(id.clone(), not_on_screen(id));
            continue;
        }
        if let Err(e) = set(state, api, project, &mut next, id, value) {
            errors.insert(id.clone(), e);
        }
    }
    let mut comment = None;
    for (id, ops) in update {
        if id == "comment" && matches!(mode, Mode::Edit { .. }) {
            match comment_op(api, ops) {
                Ok(c) => comment = c,
                Err(e) => {
                    errors.insert("comment".into(), e);
                }
            }
            continue;
        }
        if !editable || !SETTABLE.iter().any(|(k, _)| k == id) {
            errors.insert(id.clone(), not_on_screen(id));
            continue;
        }
        if fields.contains_key(id) {
            errors.insert(
                id.clone(),
                format!("Field '{id}' cannot be set in both the 'fields' and 'update' sections."),
            );
            continue;
        }
        let Value::Array(ops) = ops else {
            errors.insert(id.clone(), "data was not an array".into());
            continue;
        };
        for op in ops {
            if let Err(e) = operation(state, api, project, &mut next, id, op) {
                errors.insert(id.clone(), e);
                break;
            }
        }
    }
    if mode == Mode::Create {
        if next.summary.trim().is_empty() && !errors.contains_key("summary") {
            errors.insert(
                "summary".into(),
                "You must specify a summary of the issue.".into(),
            );
        }
        if let Some(t) = state.issue_types.get(&next.issue_type) {
            for f in &t.required {
                let missing = match f.as_str() {
                    "components" => next.components.is_empty(),
                    "duedate" => next.duedate.is_none(),
                    "labels" => next.labels.is_empty(),
                    "description" => next.description.is_none(),
                    "priority" => {
                        !fields.contains_key("priority") && !update.contains_key("priority")
                    }
                    other => !next.other.contains_key(other),
                };
                if missing && !errors.contains_key(f) {
                    errors.insert(f.clone(), format!("{} is required.", field_name(f)));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    *issue = next;
    Ok(comment)
}

fn set(
    state: &State,
    api: Api,
    project: &Project,
    issue: &mut Issue,
    id: &str,
    value: &Value,
) -> Result<(), String> {
    match id {
        "summary" => {
            let s = value.as_str().ok_or("Operation value must be a string")?;
            issue.summary = summary(s)?;
        }
        "description" => issue.description = rich(api, value)?,
        // Kept as sent: the simulator shows it back in the form it was written.
        "environment" => match rich(api, value)? {
            Some(_) => {
                issue.other.insert("environment".into(), value.clone());
            }
            None => {
                issue.other.remove("environment");
            }
        },
        "labels" => {
            let Value::Array(items) = value else {
                return Err("data was not an array".into());
            };
            let mut labels = BTreeSet::new();
            for l in items {
                labels.insert(label(l)?);
            }
            issue.labels = labels;
        }
        "priority" => issue.priority = priority(state, value)?,
        "components" => {
            let Value::Array(items) = value else {
                return Err("data was not an array".into());
            };
            let mut ids = Vec::new();
            for c in items {
                let id = component(project, c)?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            issue.components = ids;
        }
        "duedate" => issue.duedate = date(value)?,
        _ => return Err(not_on_screen(id)),
    }
    Ok(())
}

/// One `update` operation: `{"add": …}`, `{"remove": …}`, `{"set": …}`.
fn operation(
    state: &State,
    api: Api,
    project: &Project,
    issue: &mut Issue,
    id: &str,
    op: &Value,
) -> Result<(), String> {
    let Some(o) = op.as_object().filter(|o| o.len() == 1) else {
        return Err(
            "Each operation must name exactly one of 'set', 'add', 'remove' or 'edit'".into(),
        );
    };
    let (verb, value) = o
        .iter()
        .next()
        .map(|(k, v)| (k.as_str(), v))
        .ok_or("no operation")?;
    match (id, verb) {
        (_, "set") => set(state, api, project, issue, id, value),
        ("labels", "add") => {
            issue.labels.insert(label(value)?);
            Ok(())
        }
        ("labels", "remove") => {
            let l = label(value)?;
            issue.labels.remove(&l);
            Ok(())
        }
        ("components", "add") => {
            let c = component(project, value)?;
            if !issue.components.contains(&c) {
                issue.components.push(c);
            }
            Ok(())
        }
        ("components", "remove") => {
            let c = component(project, value)?;
            issue.components.retain(|x| *x != c);
            Ok(())
        }
        (_, other) => Err(format!("Field '{id}' does not support operation '{other}'")),
    }
}

fn comment_op(api: Api, ops: &Value) -> Result<Option<Rich>, String> {
    let Value::Array(ops) = ops else {
        return Err("data was not an array".into());
    };
    let mut out = None;
    for op in ops {
        let body = op
            .pointer("/add/body")
            .ok_or("Field 'comment' does not support this operation")?;
        out = Some(comment_body(api, body)?);
    }
    Ok(out)
}

/// A comment body: ADF on v3, a string on v2, not empty, not over the text limit.
pub fn comment_body(api: Api, body: &Value) -> Result<Rich, String> {
    let r = rich(api, body)?.ok_or("Comment body can not be empty!")?;
    if r.is_empty() {
        return Err("Comment body can not be empty!".into());
    }
    Ok(r)
}

fn summary(s: &str) -> Result<String, String> {
    if s.contains('\n') || s.contains('\r') {
        return Err("The summary is invalid because it contains newline characters.".into());
    }
    if s.chars().count() > 255 {
        return Err("Summary must be less than 255 characters.".into());
    }
    Ok(s.to_owned())
}

/// A rich-text value for the API: ADF on v3, a string on v2; `null` clears.
fn rich(api: Api, value: &Value) -> Result<Option<Rich>, String> {
    let r = match (api, value) {
        (_, Value::Null) => return Ok(None),
        (Api::V3, v) if text::is_adf(v) => Rich::Adf(v.clone()),
        (Api::V3, _) => return Err(text::NOT_ADF.into()),
        (Api::V2, Value::String(s)) => Rich::Plain(s.clone()),
        (Api::V2, _) => return Err("Operation value must be a string".into()),
    };
    if r.len() > TEXT_MAX {
        return Err(
            "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
                .into(),
        );
    }
    Ok(Some(r))
}

fn label(v: &Value) -> Result<String, String> {
    let l = v.as_str().ok_or("Operation value must be a string")?;
    if l.is_empty() || l.chars().any(char::is_whitespace) {
        return Err(format!("The label '{l}' contains spaces which is invalid."));
    }
    if l.chars().count() > 255 {
        return Err(format!(
            "The label '{l}' exceeds the maximum length for a single label of 255 characters."
        ));
    }
    Ok(l.to_owned())
}

fn priority(state: &State, v: &Value) -> Result<String, String> {
    match reference(v) {
        Some(("name", name)) => state
            .priorities
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.id.clone())
            .ok_or(format!("Priority name '{name}' is not valid")),
        Some((_, id)) => state
            .priority(&id)
            .map(|p| p.id.clone())
            .ok_or_else(|| "The priority selected is invalid.".into()),
        None => Err("Could not find valid 'id' or 'name' in priority object.".into()),
    }
}

fn component(project: &Project, v: &Value) -> Result<String, String> {
    match reference(v) {
        Some(("name", name)) => project
            .components
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.id.clone())
            .ok_or(format!("Component name '{name}' is not valid")),
        Some((_, id)) => project
            .components
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.id.clone())
            .ok_or(format!("Component with id '{id}' does not exist.")),
        None => Err("expected Object".into()),
    }
}

fn date(v: &Value) -> Result<Option<NaiveDate>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("Error parsing date string: {s}")),
        other => Err(format!("Error parsing date string: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_in_jiras_words() {
        assert_eq!(
            summary(&"x".repeat(256)).unwrap_err(),
            "Summary must be less than 255 characters."
        );
        assert!(summary(&"x".repeat(255)).is_ok());
        assert_eq!(
            label(&Value::String("a b".into())).unwrap_err(),
            "The label 'a b' contains spaces which is invalid."
        );
        assert_eq!(
            date(&Value::String("2024-13-01".into())).unwrap_err(),
            "Error parsing date string: 2024-13-01"
        );
        assert_eq!(
            rich(Api::V3, &Value::String("text".into())).unwrap_err(),
            text::NOT_ADF
        );
        assert_eq!(
            rich(Api::V2, &serde_json::json!({"type":"doc"})).unwrap_err(),
            "Operation value must be a string"
        );
        let s = State::default();
        assert_eq!(
            priority(&s, &serde_json::json!({"name":"Urgent"})).unwrap_err(),
            "Priority name 'Urgent' is not valid"
        );
        assert_eq!(
            priority(&s, &serde_json::json!({"id":"99"})).unwrap_err(),
            "The priority selected is invalid."
        );
        assert_eq!(
            priority(&s, &serde_json::json!({"name":"High"})).unwrap(),
            "2"
        );
    }
}
