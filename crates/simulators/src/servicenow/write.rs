//! Writing records the way the platform does: the ACL first, then each field set by its type
//! (fields the table lacks and system fields ignored, strings cut to their length, integers
//! and booleans only when they read as such, journal fields appended to the journal), then the
//! base system's business rules (number, priority from impact and urgency, active and the
//! closed/resolved stamps from the state) and data policies (closure fields mandatory in the
//! states that need them). An update that changes nothing is not an update: no stamp, no
//! business rule.

use super::auth::Caller;
use super::reply::{self, ApiResponse};
use super::schema::{self, Kind, Table};
use super::state::{Record, State, stamp};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Insert,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// A write that happened: what business rules see.
#[derive(Clone, Debug)]
pub struct Change {
    pub record: Record,
    pub operation: Operation,
    /// Journal entries the write added: (element, text).
    pub journal: Vec<(String, String)>,
    pub user: String,
}

/// A JSON input value as the platform reads it: strings as they are, numbers and booleans as
/// text, `null` as empty, `{"value": …}` as its value; anything else is not a value.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Object(o) => o.get("value").and_then(text),
        Value::Array(_) => None,
    }
}

fn date_time(v: &str) -> Option<String> {
    NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// Sets the caller's fields on `values`; returns the journal entries to add.
fn apply(
    state: &State,
    table: &Table,
    values: &mut BTreeMap<String, String>,
    input: &Map<String, Value>,
) -> Vec<(String, String)> {
    let mut journal = Vec::new();
    for (name, raw) in input {
        let Some(field) = table.field(name) else {
            continue;
        };
        if field.system {
            continue;
        }
        let Some(v) = text(raw) else { continue };
        let stored = match field.kind {
            Kind::SysId => continue,
            Kind::Journal => {
                if !v.trim().is_empty() {
                    journal.push((field.name.to_owned(), v));
                }
                continue;
            }
            Kind::Text(max) => v.chars().take(max).collect(),
            Kind::Integer => match v.trim() {
                "" => String::new(),
                t => match t.parse::<i64>() {
                    Ok(n) => n.to_string(),
                    // A value that is not a number is not stored: the field keeps its value.
                    Err(_) => continue,
                },
            },
            Kind::Boolean => match v.trim() {
                "true" | "1" => "true".into(),
                "false" | "0" => "false".into(),
                _ => continue,
            },
            // A value that is not a date-time leaves the field empty.
            Kind::DateTime => date_time(&v).unwrap_or_default(),
            Kind::Reference(target) => reference(state, target, v.trim()),
        };
        values.insert(field.name.to_owned(), stored);
    }
    journal
}

/// A reference is a sys_id; another value is looked up as the target's display value (unique
/// match), else stored as given, a reference to nothing.
fn reference(state: &State, target: &str, v: &str) -> String {
    let Some(t) = schema::table(target) else {
        return v.to_owned();
    };
    if v.is_empty() || state.get(v).is_some_and(|r| r.schema().is_a(target)) {
        return v.to_owned();
    }
    let hits: Vec<&Record> = state
        .of_table(t)
        .filter(|r| r.get(t.display).eq_ignore_ascii_case(v))
        .collect();
    match hits.as_slice() {
        [one] => one.sys_id().to_owned(),
        _ => v.to_owned(),
    }
}

/// The state model's business rules, after the caller's fields are set.
fn derive(
    table: &Table,
    values: &mut BTreeMap<String, String>,
    before: Option<&BTreeMap<String, String>>,
    caller: &Caller,
    now: DateTime<Utc>,
) {
    if !table.is_task() {
        return;
    }
    let get = |v: &BTreeMap<String, String>, k: &str| v.get(k).cloned().unwrap_or_default();
    if get(values, "state").is_empty() {
        values.insert("state".into(), table.initial_state.into());
    }
    let p = schema::priority(&get(values, "impact"), &get(values, "urgency"));
    values.insert("priority".into(), p.into());
    let state = get(values, "state");
    let active = !table.inactive_states.contains(&state.as_str());
    let was_active = before.is_none_or(|b| get(b, "active") != "false");
    values.insert("active".into(), active.to_string());
    if !active && (was_active || get(values, "closed_at").is_empty()) {
        values.insert("closed_at".into(), stamp(now));
        values.insert("closed_by".into(), caller.sys_id.clone());
    } else if active {
        values.insert("closed_at".into(), String::new());
        values.insert("closed_by".into(), String::new());
    }
    if table.is_a("incident") {
        values.insert("incident_state".into(), state.clone());
        let resolved = matches!(state.as_str(), "6" | "7");
        if resolved && get(values, "resolved_at").is_empty() {
            values.insert("resolved_at".into(), stamp(now));
            values.insert("resolved_by".into(), caller.sys_id.clone());
        } else if !resolved {
            values.insert("resolved_at".into(), String::new());
            values.insert("resolved_by".into(), String::new());
        }
    }
}

/// The data policies: closure fields in closing states, a hold reason on hold.
fn policies(table: &'static Table, values: &BTreeMap<String, String>) -> Result<(), ApiResponse> {
    let state = values.get("state").map_or("", String::as_str);
    let mut mandatory: Vec<&str> = Vec::new();
    for t in std::iter::once(table).chain(table.ancestors()) {
        if let Some(c) = &t.closure
            && c.states.contains(&state)
        {
            mandatory.extend(c.mandatory.iter().copied());
            break;
        }
    }
    if table.is_a("incident") && state == "3" {
        mandatory.push("hold_reason");
    }
    let missing: Vec<&str> = mandatory
        .into_iter()
        .filter(|f| values.get(*f).is_none_or(|v| v.trim().is_empty()))
        .map(|f| table.field(f).map_or(f, |x| x.label))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(reply::error(
        StatusCode::FORBIDDEN,
        "Operation Failed",
        Some(&format!(
            "Data Policy Exception: \n\tThe following fields are mandatory: {}",
            missing.join(", ")
        )),
    ))
}

/// Inserts a record into `table` as `caller`.
pub fn insert(
    state: &mut State,
    caller: &Caller,
    table: &'static Table,
    input: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Change, ApiResponse> {
    if !caller.may_write(table) {
        return Err(reply::acl("Insert"));
    }
    let mut values = state.blank(table.name, now, &caller.user_name);
    if table.is_task() {
        // Each task table's state model starts elsewhere (New is 1, 101, -5 or 10).
        values.insert("state".into(), table.initial_state.into());
    }
    let journal = apply(state, table, &mut values, input);
    values.insert("number".into(), state.next_number(table.prefix));
    values.insert("sys_class_name".into(), table.name.into());
    values.insert("opened_at".into(), stamp(now));
    values.insert("opened_by".into(), caller.sys_id.clone());
    derive(table, &mut values, None, caller, now);
    policies(table, &values)?;
    let record = Record {
        table: table.name,
        values,
    };
    state.put(record.clone());
    for (element, text) in &journal {
        state.add_journal(&record, element, text, &caller.user_name, now);
    }
    Ok(Change {
        record,
        operation: Operation::Insert,
        journal,
        user: caller.user_name.clone(),
    })
}

/// The record `sys_id` of `table` (or a table extending it), if the caller may read it.
pub fn readable<'a>(
    state: &'a State,
    caller: &Caller,
    table: &Table,
    sys_id: &str,
) -> Option<&'a Record> {
    state
        .get(sys_id)
        .filter(|r| r.schema().is_a(table.name) && caller.may_read(r.schema()))
}

/// Updates a record as `caller`. `None` when the update changed nothing.
pub fn update(
    state: &mut State,
    caller: &Caller,
    table: &Table,
    sys_id: &str,
    input: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(Record, Option<Change>), ApiResponse> {
    let Some(current) = readable(state, caller, table, sys_id).cloned() else {
        return Err(reply::no_record());
    };
    let schema = current.schema();
    if !caller.may_write(schema) {
        return Err(reply::acl("Update"));
    }
    let mut values = current.values.clone();
    let journal = apply(state, schema, &mut values, input);
    derive(schema, &mut values, Some(&current.values), caller, now);
    if values == current.values && journal.is_empty() {
        return Ok((current, None));
    }
    policies(schema, &values)?;
    let count: u64 = values
        .get("sys_mod_count")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    values.insert("sys_mod_count".into(), (count + 1).to_string());
    values.insert("sys_updated_on".into(), stamp(now));
    values.insert("sys_updated_by".into(), caller.user_name.clone());
    let record = Record {
        table: current.table,
        values,
    };
    state.put(record.clone());
    for (element, text) in &journal {
        state.add_journal(&record, element, text, &caller.user_name, now);
    }
    let change = Change {
        record: record.clone(),
        operation: Operation::Update,
        journal,
        user: caller.user_name.clone(),
    };
    Ok((record, Some(change)))
}

/// Deletes a record as `caller`.
pub fn delete(
    state: &mut State,
    caller: &Caller,
    table: &Table,
    sys_id: &str,
) -> Result<Change, ApiResponse> {
    let Some(current) = readable(state, caller, table, sys_id).cloned() else {
        return Err(reply::no_record());
    };
    if !caller.may_delete(current.schema()) {
        return Err(reply::acl("Delete"));
    }
    state.remove(sys_id);
    Ok(Change {
        record: current,
        operation: Operation::Delete,
        journal: Vec::new(),
        user: caller.user_name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn itil() -> Caller {
        Caller {
            user_name: "bot".into(),
            sys_id: "u1".into(),
            roles: vec!["itil".into()],
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn inserts_number_prioritise_and_truncate() {
        let mut s = State::new();
        let inc = schema::table("incident").unwrap();
        let long = "x".repeat(200);
        let c = insert(&mut s, &itil(), inc, &obj(json!({"short_description": long, "impact": 1, "urgency": "2", "priority": "5", "bogus": 1})), Utc::now()).unwrap();
        let r = &c.record;
        assert_eq!(r.get("number"), "INC0010001");
        assert_eq!(r.get("short_description").len(), 160);
        assert_eq!(
            (r.get("impact"), r.get("urgency"), r.get("priority")),
            ("1", "2", "2")
        );
        assert_eq!((r.get("state"), r.get("active")), ("1", "true"));
        assert!(!r.values.contains_key("bogus"));
    }

    #[test]
    fn resolving_needs_closure_fields_and_closing_deactivates() {
        let mut s = State::new();
        let inc = schema::table("incident").unwrap();
        let c = insert(
            &mut s,
            &itil(),
            inc,
            &obj(json!({"short_description": "x"})),
            Utc::now(),
        )
        .unwrap();
        let id = c.record.sys_id().to_owned();
        let refused = update(
            &mut s,
            &itil(),
            inc,
            &id,
            &obj(json!({"state": "6"})),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let detail = refused.body.unwrap()["error"]["detail"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            detail.ends_with("The following fields are mandatory: Resolution code, Close notes"),
            "{detail}"
        );
        let (r, _) = update(
            &mut s,
            &itil(),
            inc,
            &id,
            &obj(json!({"state": "7", "close_code": "Solution provided", "close_notes": "done"})),
            Utc::now(),
        )
        .unwrap();
        assert_eq!((r.get("active"), r.get("incident_state")), ("false", "7"));
        assert!(!r.get("closed_at").is_empty() && !r.get("resolved_at").is_empty());
        let (r, _) = update(
            &mut s,
            &itil(),
            inc,
            &id,
            &obj(json!({"state": "2"})),
            Utc::now(),
        )
        .unwrap();
        assert_eq!((r.get("active"), r.get("closed_at")), ("true", ""));
        let (_, none) = update(
            &mut s,
            &itil(),
            inc,
            &id,
            &obj(json!({"state": "2"})),
            Utc::now(),
        )
        .unwrap();
        assert!(none.is_none(), "nothing changed");
    }

    #[test]
    fn readers_may_not_write() {
        let mut s = State::new();
        let inc = schema::table("incident").unwrap();
        let reader = Caller {
            roles: vec!["snc_read_only".into()],
            ..itil()
        };
        assert_eq!(
            insert(&mut s, &reader, inc, &Map::new(), Utc::now())
                .unwrap_err()
                .status,
            StatusCode::FORBIDDEN
        );
    }
}
