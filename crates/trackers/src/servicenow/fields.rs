//! How vulnbridge's ticket fields land on a ServiceNow record.
//!
//! - Title → `short_description` (160 characters at most, the column's length); body →
//!   `description` as plain text; the marker → `correlation_id` (with `correlation_display`
//!   `vulnbridge`), the task field meant for an external system's id.
//! - Severity: the mapping's field `Impact` (default) or `Urgency` takes the value (`1`–`3`, or
//!   a choice's label); the preset `impact+urgency` takes `impact/urgency` (`1/2`) and sets
//!   both. Priority is never written: the instance computes it from impact and urgency.
//! - Status: the field `State` takes the mapped state by label (`Resolved`) or value (`6`),
//!   turned into the table's choice value. Closing also sets the closure code (`close_code`, or
//!   Problem's `resolution_code`: the custom field `close_code`, else a choice fitting the
//!   reason, `Solved (Permanently)` first where it exists) and `close_notes` (the comment).
//! - Comments go to `comments` (customer-visible), or `work_notes` when the custom field
//!   `comment_field` says so. The due date (`due_date` custom field) is the end of that day, UTC.
//! - Other custom fields are columns written as they are (`category`, `caller_id`…).

use super::tables::{Choice, TableMeta, find};
use crate::TrackerError;
use domain::tracker::{CloseReason, DUE_DATE, FieldValue, MappingConfig};
use serde_json::{Map, Value, json};

/// `short_description`'s length.
pub const TITLE_MAX: usize = 160;
/// Custom fields that steer the client rather than name columns.
pub const CLOSE_CODE: &str = "close_code";
pub const COMMENT_FIELD: &str = "comment_field";

fn column_like(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn norm(field: &str) -> String {
    field.trim().to_ascii_lowercase().replace(' ', "")
}

/// The title as `short_description` holds it.
pub fn title(t: &str) -> String {
    let t = t.trim();
    if t.chars().count() <= TITLE_MAX {
        return t.to_owned();
    }
    let mut s: String = t.chars().take(TITLE_MAX - 1).collect();
    s.push('…');
    s
}

/// A value of impact or urgency: a choice's value or label (`2 - Medium`), else as given.
fn level(choices: &[Choice], v: &str) -> String {
    find(choices, v).map_or_else(|| v.trim().to_owned(), |c| c.value.clone())
}

/// The columns a severity value sets.
pub fn severity(meta: &TableMeta, v: &FieldValue) -> Result<Vec<(String, String)>, TrackerError> {
    match norm(&v.field).as_str() {
        "impact" => Ok(vec![("impact".into(), level(&meta.impact, &v.value))]),
        "urgency" => Ok(vec![("urgency".into(), level(&meta.urgency, &v.value))]),
        "impact+urgency" | "impact/urgency" => {
            let (i, u) = v.value.split_once('/').ok_or_else(|| {
                TrackerError::Misconfigured(format!(
                    "the severity value '{}' of the Impact + Urgency preset must be impact/urgency, like 1/2",
                    v.value
                ))
            })?;
            Ok(vec![("impact".into(), level(&meta.impact, i)), ("urgency".into(), level(&meta.urgency, u))])
        }
        "priority" => Err(TrackerError::Misconfigured(
            "ServiceNow computes the priority from impact and urgency: map severity to Impact, Urgency or the Impact + Urgency preset".into(),
        )),
        other if column_like(other) => Ok(vec![(other.to_owned(), v.value.trim().to_owned())]),
        _ => Err(TrackerError::Misconfigured(format!(
            "the severity field '{}' is not a ServiceNow column: use Impact, Urgency or impact+urgency",
            v.field
        ))),
    }
}

/// Checks that the status field is the record's state.
pub fn check_status_field(field: &str) -> Result<(), TrackerError> {
    if norm(field) == "state" {
        Ok(())
    } else {
        Err(TrackerError::Misconfigured(format!(
            "the status field '{field}' is not ServiceNow's State: set the status field to State"
        )))
    }
}

/// The choice value of a mapped state.
pub fn state(meta: &TableMeta, v: &FieldValue) -> Result<String, TrackerError> {
    check_status_field(&v.field)?;
    meta.state(&v.value)
        .map(|c| c.value.clone())
        .ok_or_else(|| {
            TrackerError::Misconfigured(format!(
                "'{}' is not a state of {} ({}): the states are {}",
                v.value,
                meta.label,
                meta.name,
                meta.state_list()
            ))
        })
}

/// Closure codes that fit a reason, best first (values or labels of base systems old and new).
fn preferred(reason: CloseReason) -> &'static [&'static str] {
    match reason {
        CloseReason::Completed => &[
            "Solved (Permanently)",
            "Solution provided",
            "fix_applied",
            "successful",
            "resolved",
        ],
        CloseReason::NotPlanned => &[
            "risk_accepted",
            "Not Solved (Too Costly)",
            "No resolution provided",
            "false_positive",
        ],
        CloseReason::Duplicate => &["duplicate", "Duplicate"],
    }
}

/// The closure code to write: the mapping's `close_code` custom field, else a choice fitting
/// the reason, else the list's first choice.
pub fn close_code(
    mapping: &MappingConfig,
    choices: &[Choice],
    reason: CloseReason,
) -> Option<String> {
    if let Some(v) = mapping
        .custom_fields
        .get(CLOSE_CODE)
        .and_then(Value::as_str)
        .filter(|v| !v.trim().is_empty())
    {
        return Some(find(choices, v).map_or_else(|| v.trim().to_owned(), |c| c.value.clone()));
    }
    let fits = |list: &[&str]| {
        list.iter()
            .find_map(|p| find(choices, p))
            .map(|c| c.value.clone())
    };
    fits(preferred(reason))
        .or_else(|| fits(preferred(CloseReason::Completed)))
        .or_else(|| choices.first().map(|c| c.value.clone()))
}

/// The closure fields for closing with `reason`.
pub fn closure(
    mapping: &MappingConfig,
    meta: &TableMeta,
    reason: CloseReason,
    notes: &str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some((field, choices)) = &meta.closure
        && let Some(code) = close_code(mapping, choices, reason)
    {
        out.push((field.clone(), code));
    }
    out.push(("close_notes".into(), notes.to_owned()));
    out
}

/// The notes of a close without a comment.
pub fn default_close_notes(reason: CloseReason) -> String {
    let why = match reason {
        CloseReason::Completed => "the finding is fixed",
        CloseReason::NotPlanned => {
            "the finding will not be fixed (false positive, risk accepted or out of scope)"
        }
        CloseReason::Duplicate => "the finding is a duplicate",
    };
    format!("Closed by vulnbridge: {why}.")
}

/// The journal field comments go to.
pub fn comment_field(mapping: &MappingConfig) -> Result<&'static str, TrackerError> {
    match mapping
        .custom_fields
        .get(COMMENT_FIELD)
        .and_then(Value::as_str)
        .map(str::trim)
    {
        None | Some("comments") => Ok("comments"),
        Some("work_notes") => Ok("work_notes"),
        Some(other) => Err(TrackerError::Misconfigured(format!(
            "the custom field comment_field must be 'comments' or 'work_notes', not '{other}'"
        ))),
    }
}

/// A custom value as a column's text.
fn column_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(column_text)
                .collect::<Vec<_>>()
                .join(","),
        ),
        Value::Object(_) => None,
    }
}

/// The due date's value: the end of that day (UTC), or a full date-time as given.
fn due(v: &str) -> Result<String, TrackerError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    if chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() {
        return Ok(format!("{v} 23:59:59"));
    }
    if chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S").is_ok() {
        return Ok(v.to_owned());
    }
    Err(TrackerError::Misconfigured(format!(
        "the due date '{v}' is not a date (YYYY-MM-DD)"
    )))
}

/// The columns custom fields set (steering fields left out).
pub fn custom(
    fields: &std::collections::BTreeMap<String, Value>,
) -> Result<Map<String, Value>, TrackerError> {
    let mut out = Map::new();
    for (k, v) in fields {
        if k == CLOSE_CODE || k == COMMENT_FIELD {
            continue;
        }
        if k == DUE_DATE {
            out.insert("due_date".into(), json!(due(v.as_str().unwrap_or(""))?));
            continue;
        }
        if !column_like(k) {
            return Err(TrackerError::Misconfigured(format!(
                "the custom field '{k}' is not a ServiceNow column name (lower-case letters, digits and _)"
            )));
        }
        if matches!(
            k.as_str(),
            "priority" | "correlation_id" | "sys_id" | "number"
        ) {
            return Err(TrackerError::Misconfigured(format!(
                "the custom field '{k}' is set by ServiceNow or by vulnbridge itself"
            )));
        }
        let text = column_text(v).ok_or_else(|| {
            TrackerError::Misconfigured(format!(
                "the custom field '{k}' must be a string, number, boolean or list"
            ))
        })?;
        out.insert(k.clone(), json!(text));
    }
    Ok(out)
}

/// Checks what can be checked without the instance.
pub fn check_mapping(mapping: &MappingConfig) -> Result<(), TrackerError> {
    check_status_field(&mapping.status_mapping.field)?;
    comment_field(mapping)?;
    custom(&mapping.custom_fields)?;
    let sev = &mapping.severity_mapping;
    // The shape only: whether the values are choices of the table is the check's job.
    let unknown = TableMeta::default();
    for v in [&sev.info, &sev.low, &sev.medium, &sev.high, &sev.critical] {
        severity(&unknown, &FieldValue::new(&sev.field, v))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::tracker::MappingTarget;

    fn meta() -> TableMeta {
        let c = |v: &str, l: &str| Choice {
            value: v.into(),
            label: l.into(),
        };
        TableMeta {
            name: "incident".into(),
            label: "Incident".into(),
            ancestors: vec!["task".into()],
            states: vec![c("1", "New"), c("6", "Resolved"), c("7", "Closed")],
            closure: Some((
                "close_code".into(),
                vec![
                    c("Duplicate", "Duplicate"),
                    c("Solution provided", "Solution provided"),
                ],
            )),
            impact: vec![c("1", "1 - High"), c("2", "2 - Medium"), c("3", "3 - Low")],
            urgency: vec![c("1", "1 - High"), c("2", "2 - Medium"), c("3", "3 - Low")],
        }
    }

    #[test]
    fn severity_presets_set_their_columns() {
        let m = meta();
        assert_eq!(
            severity(&m, &FieldValue::new("Impact", "2")).unwrap(),
            vec![("impact".to_owned(), "2".to_owned())]
        );
        assert_eq!(
            severity(&m, &FieldValue::new("impact+urgency", "1/2 - Medium")).unwrap(),
            vec![
                ("impact".to_owned(), "1".to_owned()),
                ("urgency".to_owned(), "2".to_owned())
            ]
        );
        assert!(severity(&m, &FieldValue::new("Priority", "1")).is_err());
        assert!(severity(&m, &FieldValue::new("impact+urgency", "1")).is_err());
    }

    #[test]
    fn states_and_closure_codes_come_from_the_choices() {
        let m = meta();
        assert_eq!(
            state(&m, &FieldValue::new("State", "Resolved")).unwrap(),
            "6"
        );
        assert_eq!(state(&m, &FieldValue::new("State", "7")).unwrap(), "7");
        let e = state(&m, &FieldValue::new("State", "Done")).unwrap_err();
        assert!(
            e.to_string().contains("New (1), Resolved (6), Closed (7)"),
            "{e}"
        );
        let mut mapping = MappingConfig::defaults(MappingTarget::ServiceNow {
            table: "incident".into(),
            assignment_group: None,
        });
        let choices = m.closure.clone().unwrap().1;
        assert_eq!(
            close_code(&mapping, &choices, CloseReason::Completed).as_deref(),
            Some("Solution provided")
        );
        assert_eq!(
            close_code(&mapping, &choices, CloseReason::Duplicate).as_deref(),
            Some("Duplicate")
        );
        mapping
            .custom_fields
            .insert(CLOSE_CODE.into(), json!("Known error"));
        assert_eq!(
            close_code(&mapping, &choices, CloseReason::Completed).as_deref(),
            Some("Known error")
        );
    }

    #[test]
    fn custom_fields_become_columns() {
        let mut f = std::collections::BTreeMap::new();
        f.insert(DUE_DATE.to_owned(), json!("2026-01-08"));
        f.insert("category".to_owned(), json!("security"));
        f.insert(COMMENT_FIELD.to_owned(), json!("work_notes"));
        let c = custom(&f).unwrap();
        assert_eq!(c["due_date"], "2026-01-08 23:59:59");
        assert_eq!(c["category"], "security");
        assert!(!c.contains_key(COMMENT_FIELD));
        f.insert("Bad Name".to_owned(), json!("x"));
        assert!(custom(&f).is_err());
        assert_eq!(title(&"x".repeat(200)).chars().count(), TITLE_MAX);
    }
}
