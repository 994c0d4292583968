//! How vulnbridge's ticket fields land on a GitLab issue.
//!
//! GitLab issues have no priority or workflow-status field. So the severity is a scoped label
//! `"{field}::{value}"` (`Priority::3`), unless the severity field is `weight`, which is the
//! issue's weight. The status `opened`/`closed` is the issue's own state; any other status value
//! (`In review`) is a scoped label `"{field}::{value}"` besides the state. Custom fields are the
//! issue attributes GitLab has: `weight`, `confidential`, `issue_type`, `due_date`,
//! `milestone_id`, `assignee_ids`.

use crate::TrackerError;
use domain::tracker::{FieldValue, MappingConfig};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub const CUSTOM_FIELDS: [&str; 6] = [
    "weight",
    "confidential",
    "issue_type",
    "due_date",
    "milestone_id",
    "assignee_ids",
];
const ISSUE_TYPES: [&str; 4] = ["issue", "incident", "test_case", "task"];

/// The severity is the issue's weight rather than a label.
pub fn is_weight(field: &str) -> bool {
    field.trim().eq_ignore_ascii_case("weight")
}

/// Status values that are the issue's state itself.
pub fn is_native_status(value: &str) -> bool {
    matches!(value.trim(), "opened" | "closed")
}

/// `Priority::3`. Labels are comma-separated in GitLab's API, so a comma cannot be in one.
pub fn scoped_label(field: &str, value: &str) -> Result<String, TrackerError> {
    let label = format!("{}::{}", field.trim(), value.trim());
    check_label(&label)?;
    Ok(label)
}

pub fn check_label(label: &str) -> Result<(), TrackerError> {
    if label.contains(',') {
        return Err(TrackerError::Misconfigured(format!(
            "the GitLab label '{label}' contains a comma, which GitLab's API reads as a separator"
        )));
    }
    Ok(())
}

/// The weight a severity value stands for.
pub fn weight_value(v: &FieldValue) -> Result<i64, TrackerError> {
    v.value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|w| *w >= 0)
        .ok_or_else(|| {
            TrackerError::Misconfigured(format!(
                "the severity value '{}' is not a weight (a whole number, 0 or more)",
                v.value
            ))
        })
}

/// The severity's label, or `None` when the severity is the weight.
pub fn severity_label(v: &FieldValue) -> Result<Option<String>, TrackerError> {
    if is_weight(&v.field) {
        Ok(None)
    } else {
        scoped_label(&v.field, &v.value).map(Some)
    }
}

/// The status's label, or `None` when the status is the issue's own state.
pub fn status_label(v: &FieldValue) -> Result<Option<String>, TrackerError> {
    if is_native_status(&v.value) {
        Ok(None)
    } else {
        scoped_label(&v.field, &v.value).map(Some)
    }
}

/// Every label the mapping may have put for a field besides `keep`: what a change of that
/// field removes (GitLab ignores removing labels an issue does not have). Premium instances
/// also drop the old one of a scope on their own; Free ones need this.
pub fn other_labels(field: &str, values: &[&str], keep: Option<&str>) -> BTreeSet<String> {
    values
        .iter()
        .filter(|v| !is_native_status(v))
        .filter_map(|v| scoped_label(field, v).ok())
        .filter(|l| Some(l.as_str()) != keep)
        .collect()
}

pub fn severity_values(m: &MappingConfig) -> Vec<&str> {
    let s = &m.severity_mapping;
    vec![
        s.info.as_str(),
        s.low.as_str(),
        s.medium.as_str(),
        s.high.as_str(),
        s.critical.as_str(),
    ]
}

pub fn status_values(m: &MappingConfig) -> Vec<&str> {
    let s = &m.status_mapping;
    let mut v = vec![
        s.active.as_str(),
        s.closed.as_str(),
        s.false_positive.as_str(),
        s.risk_accepted.as_str(),
    ];
    v.extend(s.in_progress.as_deref());
    v.extend(s.awaiting_validation.as_deref());
    v
}

/// The mapping's custom fields and severity must fit GitLab before anything is sent.
pub fn check_mapping(m: &MappingConfig) -> Result<(), TrackerError> {
    if is_weight(&m.severity_mapping.field) {
        if m.custom_fields.keys().any(|k| k == "weight") {
            return Err(TrackerError::Misconfigured(
                "the severity is written as the issue weight, so 'weight' cannot also be a custom field".into(),
            ));
        }
        for v in severity_values(m) {
            weight_value(&FieldValue::new("weight", v))?;
        }
    }
    custom_params(&m.custom_fields, false).map(|_| ())
}

/// The request parameters for custom fields. With `clearing`, a `null` value asks GitLab to
/// unset the attribute (as each attribute documents its "unset" value).
pub fn custom_params(
    custom: &BTreeMap<String, Value>,
    clearing: bool,
) -> Result<Map<String, Value>, TrackerError> {
    let mut out = Map::new();
    for (name, value) in custom {
        let param = if value.is_null() && clearing {
            match name.as_str() {
                "weight" | "due_date" => Value::Null,
                "confidential" => json!(false),
                "issue_type" => json!("issue"),
                // GitLab: "Set to 0 … to unassign".
                "milestone_id" | "assignee_ids" => json!(0),
                _ => return Err(unknown(name)),
            }
        } else {
            custom_value(name, value)?
        };
        out.insert(name.clone(), param);
    }
    Ok(out)
}

fn unknown(name: &str) -> TrackerError {
    TrackerError::Misconfigured(format!(
        "GitLab issues have no field '{name}'; custom fields may be {}",
        CUSTOM_FIELDS.join(", ")
    ))
}

fn bad(name: &str, what: &str, value: &Value) -> TrackerError {
    TrackerError::Misconfigured(format!(
        "the GitLab field '{name}' must be {what}, not {value}"
    ))
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn custom_value(name: &str, value: &Value) -> Result<Value, TrackerError> {
    match name {
        "weight" => integer(value)
            .filter(|w| *w >= 0)
            .map(|w| json!(w))
            .ok_or_else(|| bad(name, "a whole number, 0 or more", value)),
        "milestone_id" => integer(value)
            .filter(|m| *m > 0)
            .map(|m| json!(m))
            .ok_or_else(|| bad(name, "a milestone id", value)),
        "confidential" => match value {
            Value::Bool(b) => Ok(json!(b)),
            Value::String(s) if s == "true" || s == "false" => Ok(json!(s == "true")),
            _ => Err(bad(name, "true or false", value)),
        },
        "issue_type" => match value.as_str() {
            Some(t) if ISSUE_TYPES.contains(&t) => Ok(json!(t)),
            _ => Err(bad(name, "one of issue, incident, test_case, task", value)),
        },
        "due_date" => match value.as_str() {
            Some(d) if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() => Ok(json!(d)),
            _ => Err(bad(name, "a date like 2026-03-11", value)),
        },
        "assignee_ids" => {
            let ids: Option<Vec<i64>> = match value {
                Value::Array(a) => a.iter().map(integer).collect(),
                one => integer(one).map(|i| vec![i]),
            };
            ids.filter(|ids| ids.iter().all(|i| *i > 0))
                .map(|ids| json!(ids))
                .ok_or_else(|| bad(name, "a list of user ids", value))
        }
        other => Err(unknown(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::tracker::MappingTarget;

    #[test]
    fn severity_and_status_become_scoped_labels_unless_native() {
        assert_eq!(
            severity_label(&FieldValue::new("Priority", "3"))
                .unwrap()
                .as_deref(),
            Some("Priority::3")
        );
        assert_eq!(
            severity_label(&FieldValue::new("Weight", "3")).unwrap(),
            None
        );
        assert_eq!(
            status_label(&FieldValue::new("Status", "closed")).unwrap(),
            None
        );
        assert_eq!(
            status_label(&FieldValue::new("Status", "In review"))
                .unwrap()
                .as_deref(),
            Some("Status::In review")
        );
        assert!(scoped_label("Priority", "1,2").is_err());
        let others = other_labels(
            "Status",
            &["opened", "closed", "In review", "Won't fix"],
            Some("Status::In review"),
        );
        assert_eq!(others, ["Status::Won't fix".to_owned()].into());
    }

    #[test]
    fn custom_fields_are_checked_and_cleared() {
        let mut c = BTreeMap::new();
        c.insert("weight".to_owned(), json!("3"));
        c.insert("assignee_ids".to_owned(), json!([4, "5"]));
        c.insert("confidential".to_owned(), json!(true));
        let p = custom_params(&c, false).unwrap();
        assert_eq!(p["weight"], json!(3));
        assert_eq!(p["assignee_ids"], json!([4, 5]));
        c.insert("Team".to_owned(), json!("a"));
        assert!(
            matches!(custom_params(&c, false), Err(TrackerError::Misconfigured(m)) if m.contains("'Team'"))
        );
        let cleared = custom_params(
            &[
                ("milestone_id".to_owned(), Value::Null),
                ("weight".to_owned(), Value::Null),
            ]
            .into(),
            true,
        )
        .unwrap();
        assert_eq!(
            (cleared["milestone_id"].clone(), cleared["weight"].clone()),
            (json!(0), Value::Null)
        );
        assert!(
            custom_params(&[("due_date".to_owned(), json!("tomorrow"))].into(), false).is_err()
        );
    }

    #[test]
    fn a_weight_severity_needs_numbers() {
        let mut m = MappingConfig::defaults(MappingTarget::GitLab {
            project: "g/p".into(),
        });
        m.severity_mapping.field = "weight".into();
        assert!(check_mapping(&m).is_ok());
        m.severity_mapping.high = "high".into();
        assert!(check_mapping(&m).is_err());
    }
}
