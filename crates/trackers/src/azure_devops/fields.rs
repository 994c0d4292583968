//! How vulnbridge's ticket fields land on a work item, as JSON Patch operations.
//!
//! - title → `/fields/System.Title`;
//! - body (Markdown) → HTML in `/fields/System.Description`, and for a Bug also in
//!   `/fields/Microsoft.VSTS.TCM.ReproSteps` (what a Bug's form shows);
//! - severity → the mapping's severity field path (default
//!   `/fields/Microsoft.VSTS.Common.Priority`), as an integer when the value is one;
//! - status → the status field path (default `/fields/System.State`): the state's name;
//! - labels → `System.Tags` (`; `-separated), plus the marker token as a tag;
//! - the due date (`custom["due_date"]`) → `/fields/Microsoft.VSTS.Scheduling.DueDate`;
//! - the mapping's area path → `/fields/System.AreaPath`;
//! - other custom fields: the key is a field path (`/fields/Custom.Team`) or reference name
//!   (`Custom.Team`), the value is written as given.

use super::html;
use crate::TrackerError;
use domain::tracker::{DUE_DATE, FieldValue, MappingConfig, MappingTarget, TicketFields};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub const TITLE: &str = "/fields/System.Title";
pub const DESCRIPTION: &str = "/fields/System.Description";
pub const REPRO_STEPS: &str = "/fields/Microsoft.VSTS.TCM.ReproSteps";
pub const TAGS: &str = "/fields/System.Tags";
pub const DUE_DATE_PATH: &str = "/fields/Microsoft.VSTS.Scheduling.DueDate";
pub const AREA_PATH: &str = "/fields/System.AreaPath";
/// The longest title Azure DevOps takes (`TF401324` beyond).
pub const TITLE_MAX: usize = 255;

/// The target of an Azure DevOps mapping.
#[derive(Clone, Debug)]
pub struct Target {
    pub project: String,
    pub work_item_type: String,
    pub area_path: Option<String>,
}

pub fn target(mapping: &MappingConfig) -> Result<Target, TrackerError> {
    match &mapping.target {
        MappingTarget::AzureDevops {
            project,
            work_item_type,
            area_path,
        } => Ok(Target {
            project: project.trim().to_owned(),
            work_item_type: work_item_type.trim().to_owned(),
            area_path: area_path
                .as_ref()
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty()),
        }),
        other => Err(TrackerError::Misconfigured(format!(
            "the mapping targets {}, which is not an Azure DevOps project",
            other.describe()
        ))),
    }
}

/// A mapping's field name as a patch path: `/fields/X` as is, `X` as `/fields/X`.
pub fn path(field: &str) -> Result<String, TrackerError> {
    let f = field.trim();
    let name = f
        .strip_prefix("/fields/")
        .unwrap_or(f)
        .trim_start_matches('/');
    if name.is_empty() || name.contains('/') || name.chars().any(char::is_whitespace) {
        return Err(TrackerError::Misconfigured(format!(
            "'{field}' is not an Azure DevOps field: give a reference name like Microsoft.VSTS.Common.Priority or a path like /fields/Microsoft.VSTS.Common.Priority"
        )));
    }
    Ok(format!("/fields/{name}"))
}

/// The reference name in a field path (`/fields/System.State` → `System.State`).
pub fn reference(path: &str) -> &str {
    path.strip_prefix("/fields/").unwrap_or(path)
}

/// A severity or status value: an integer when it reads as one (Priority is an integer field;
/// Azure DevOps converts a number for a string field), else the text.
pub fn value(v: &str) -> Value {
    let t = v.trim();
    t.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(t))
}

/// `add` of `value` at `path`.
pub fn add(path: &str, value: Value) -> Value {
    json!({ "op": "add", "path": path, "value": value })
}

/// `remove` at `path`.
pub fn remove(path: &str) -> Value {
    json!({ "op": "remove", "path": path })
}

/// The title as Azure DevOps takes it: at most 255 characters.
pub fn title(t: &str) -> String {
    if t.chars().count() <= TITLE_MAX {
        t.to_owned()
    } else {
        let mut s: String = t.chars().take(TITLE_MAX - 1).collect();
        s.push('…');
        s
    }
}

pub fn is_bug(work_item_type: &str) -> bool {
    work_item_type.eq_ignore_ascii_case("Bug")
}

/// The body as the work item's HTML fields.
pub fn body_ops(work_item_type: &str, body: &str, op: &str) -> Vec<Value> {
    let html = html::from_markdown(body);
    let mut ops = vec![json!({ "op": op, "path": DESCRIPTION, "value": html })];
    if is_bug(work_item_type) {
        ops.push(json!({ "op": op, "path": REPRO_STEPS, "value": html }));
    }
    ops
}

/// A tag Azure DevOps can hold: `;` separates tags.
pub fn check_tag(tag: &str) -> Result<(), TrackerError> {
    if tag.contains(';') {
        return Err(TrackerError::Misconfigured(format!(
            "the Azure DevOps tag '{tag}' contains ';', which separates tags"
        )));
    }
    Ok(())
}

/// Tags for `System.Tags`: sorted, without duplicates (ignoring case) or empties.
pub fn tags_value(tags: &BTreeSet<String>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for t in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t);
        }
    }
    out.sort_by_key(|t| t.to_lowercase());
    out.join("; ")
}

/// The tags a `System.Tags` value holds.
pub fn split_tags(value: &str) -> BTreeSet<String> {
    value
        .split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The path and value of one custom field (the due date to its Azure DevOps field).
pub fn custom(name: &str, value: &Value) -> Result<(String, Value), TrackerError> {
    if name == DUE_DATE {
        let d = value
            .as_str()
            .filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
            .ok_or_else(|| {
                TrackerError::Misconfigured(format!(
                    "the due date must be a date like 2026-03-11, not {value}"
                ))
            })?;
        return Ok((DUE_DATE_PATH.to_owned(), json!(d)));
    }
    Ok((path(name)?, value.clone()))
}

/// The area path as Azure DevOps names it: under the project (`Web` → `Platform\Web`).
pub fn area_path(project: &str, area: &str) -> String {
    let a = area.trim().trim_matches('\\');
    if a.eq_ignore_ascii_case(project)
        || a.to_ascii_lowercase()
            .starts_with(&format!("{}\\", project.to_ascii_lowercase()))
    {
        a.to_owned()
    } else {
        format!("{project}\\{a}")
    }
}

/// Every operation of a new work item, the state included (`with_state`).
pub fn create_ops(
    t: &Target,
    f: &TicketFields,
    marker_tag: &str,
    with_state: bool,
) -> Result<Vec<Value>, TrackerError> {
    let mut ops = vec![add(TITLE, json!(title(&f.title)))];
    ops.extend(body_ops(&t.work_item_type, &f.body, "add"));
    let mut tags: BTreeSet<String> = f.labels.clone();
    tags.insert(marker_tag.to_owned());
    for tag in &tags {
        check_tag(tag)?;
    }
    ops.push(add(TAGS, json!(tags_value(&tags))));
    ops.push(add(&path(&f.severity.field)?, value(&f.severity.value)));
    if with_state {
        ops.push(add(&path(&f.status.field)?, value(&f.status.value)));
    }
    if let Some(area) = &t.area_path {
        ops.push(add(AREA_PATH, json!(area_path(&t.project, area))));
    }
    for (k, v) in &f.custom {
        let (p, v) = custom(k, v)?;
        ops.push(add(&p, v));
    }
    Ok(ops)
}

/// The status field's operation.
pub fn status_op(status: &FieldValue) -> Result<Value, TrackerError> {
    Ok(add(&path(&status.field)?, value(&status.value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_become_paths() {
        assert_eq!(
            path("/fields/Microsoft.VSTS.Common.Priority").unwrap(),
            "/fields/Microsoft.VSTS.Common.Priority"
        );
        assert_eq!(path("Custom.Team").unwrap(), "/fields/Custom.Team");
        assert!(path("/relations/-").is_err());
        assert!(path("Custom Team").is_err());
        assert_eq!(value("2"), json!(2));
        assert_eq!(value("1 - Critical"), json!("1 - Critical"));
        assert_eq!(area_path("Platform", "Web"), "Platform\\Web");
        assert_eq!(area_path("Platform", "platform\\Web"), "platform\\Web");
        assert_eq!(
            tags_value(&["b".to_owned(), "a".to_owned(), "A".to_owned()].into()),
            "A; b",
            "one spelling of a tag"
        );
        assert_eq!(
            custom(DUE_DATE, &json!("2026-01-08")).unwrap().0,
            DUE_DATE_PATH
        );
        assert!(custom(DUE_DATE, &json!("soon")).is_err());
        assert_eq!(title(&"x".repeat(300)).chars().count(), 255);
    }
}
