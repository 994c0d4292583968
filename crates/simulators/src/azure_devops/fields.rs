//! The work item fields the simulator knows (reference name, friendly name, type, read-only),
//! and how a JSON value sent for one is checked and stored, with Azure DevOps' answers for the
//! wrong type (`TF401326 … 'InvalidType'`), a read-only field (`TF401326 … 'ReadOnly'`) and a
//! too long string (`TF401324: Value for field '<ref>' is too long.`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;

/// A field's data type, as `WorkItemField.type` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Single line, at most 255 characters.
    String,
    Html,
    PlainText,
    Integer,
    DateTime,
    TreePath,
    Identity,
}

#[derive(Debug)]
pub struct FieldDef {
    pub reference: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    /// Set by the server only: writing one is `TF401326 … 'ReadOnly'`.
    pub read_only: bool,
}

const fn f(reference: &'static str, name: &'static str, kind: Kind, read_only: bool) -> FieldDef {
    FieldDef {
        reference,
        name,
        kind,
        read_only,
    }
}

/// Every field of the simulated organization.
pub const FIELDS: &[FieldDef] = &[
    f("System.Id", "ID", Kind::Integer, true),
    f("System.Rev", "Rev", Kind::Integer, true),
    f("System.AreaPath", "Area Path", Kind::TreePath, false),
    f("System.TeamProject", "Team Project", Kind::String, true),
    f(
        "System.IterationPath",
        "Iteration Path",
        Kind::TreePath,
        false,
    ),
    f("System.WorkItemType", "Work Item Type", Kind::String, true),
    f("System.State", "State", Kind::String, false),
    f("System.Reason", "Reason", Kind::String, false),
    f("System.AssignedTo", "Assigned To", Kind::Identity, false),
    f("System.CreatedDate", "Created Date", Kind::DateTime, true),
    f("System.CreatedBy", "Created By", Kind::Identity, true),
    f("System.ChangedDate", "Changed Date", Kind::DateTime, true),
    f("System.ChangedBy", "Changed By", Kind::Identity, true),
    f(
        "System.AuthorizedDate",
        "Authorized Date",
        Kind::DateTime,
        true,
    ),
    f("System.RevisedDate", "Revised Date", Kind::DateTime, true),
    f("System.Watermark", "Watermark", Kind::Integer, true),
    f("System.CommentCount", "Comment Count", Kind::Integer, true),
    f("System.Title", "Title", Kind::String, false),
    f("System.Description", "Description", Kind::Html, false),
    f("System.History", "History", Kind::Html, false),
    f("System.Tags", "Tags", Kind::PlainText, false),
    f("System.BoardColumn", "Board Column", Kind::String, true),
    f(
        "Microsoft.VSTS.Common.Priority",
        "Priority",
        Kind::Integer,
        false,
    ),
    f(
        "Microsoft.VSTS.Common.Severity",
        "Severity",
        Kind::String,
        false,
    ),
    f(
        "Microsoft.VSTS.Common.StateChangeDate",
        "State Change Date",
        Kind::DateTime,
        true,
    ),
    f(
        "Microsoft.VSTS.Scheduling.DueDate",
        "Due Date",
        Kind::DateTime,
        false,
    ),
    f(
        "Microsoft.VSTS.TCM.ReproSteps",
        "Repro Steps",
        Kind::Html,
        false,
    ),
];

/// The field with this reference name (or friendly name), ignoring case as Azure DevOps does.
pub fn field(name: &str) -> Option<&'static FieldDef> {
    let name = name.trim();
    FIELDS
        .iter()
        .find(|f| f.reference.eq_ignore_ascii_case(name))
        .or_else(|| FIELDS.iter().find(|f| f.name.eq_ignore_ascii_case(name)))
}

/// Values Priority may take (the system processes' `ALLOWEDVALUES`).
pub const PRIORITIES: [i64; 4] = [1, 2, 3, 4];
/// Values Severity (Bug) may take.
pub const SEVERITIES: [&str; 4] = ["1 - Critical", "2 - High", "3 - Medium", "4 - Low"];
/// The longest single-line string (`TF401324` beyond).
pub const STRING_MAX: usize = 255;

/// Why a value does not fit its field.
#[derive(Debug, PartialEq, Eq)]
pub enum Invalid {
    /// `TF401326: Invalid field status 'InvalidType' for field '<ref>'.`
    Type,
    /// `TF401324: Value for field '<ref>' is too long.`
    TooLong,
}

/// The value stored for `value` in a field of `kind`. Azure DevOps converts between JSON
/// scalars where it can (a number for a string field, `"2"` for an integer).
pub fn normalize(kind: Kind, value: &Value) -> Result<Value, Invalid> {
    match kind {
        Kind::String | Kind::Html | Kind::PlainText | Kind::TreePath | Kind::Identity => {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(Invalid::Type),
            };
            if kind == Kind::String && text.chars().count() > STRING_MAX {
                return Err(Invalid::TooLong);
            }
            Ok(Value::String(text))
        }
        Kind::Integer => {
            let n = match value {
                Value::Number(n) => n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            n.filter(|n| i32::try_from(*n).is_ok())
                .map(Value::from)
                .ok_or(Invalid::Type)
        }
        Kind::DateTime => match value {
            Value::String(s) => parse_date_time(s)
                .map(|d| Value::String(format_date_time(d)))
                .ok_or(Invalid::Type),
            _ => Err(Invalid::Type),
        },
    }
}

/// `2026-01-08`, `2026-01-08T10:00:00`, or RFC 3339 with an offset.
pub fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(d.and_utc());
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// `2014-12-29T20:49:28.74Z`: how Azure DevOps writes dates (fraction only when not zero,
/// trailing zeros dropped).
pub fn format_date_time(t: DateTime<Utc>) -> String {
    let s = t.to_rfc3339_opts(SecondsFormat::Millis, true);
    match s.strip_suffix(".000Z") {
        Some(whole) => format!("{whole}Z"),
        None => {
            let body = s.trim_end_matches('Z').trim_end_matches('0');
            format!("{body}Z")
        }
    }
}

/// The tags in a `System.Tags` value (`; `-separated), trimmed, without empties or duplicates
/// (ignoring case; the first spelling wins), sorted as Azure DevOps shows them.
pub fn split_tags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for t in text.split(';').map(str::trim).filter(|t| !t.is_empty()) {
        if !tags.iter().any(|have| have.eq_ignore_ascii_case(t)) {
            tags.push(t.to_owned());
        }
    }
    tags.sort_by_key(|t| t.to_lowercase());
    tags
}

pub fn join_tags(tags: &[String]) -> String {
    tags.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_converted_or_refused_by_type() {
        assert_eq!(normalize(Kind::Integer, &json!("2")), Ok(json!(2)));
        assert_eq!(normalize(Kind::Integer, &json!(3.0)), Ok(json!(3)));
        assert_eq!(normalize(Kind::Integer, &json!("high")), Err(Invalid::Type));
        assert_eq!(normalize(Kind::String, &json!(5)), Ok(json!("5")));
        assert_eq!(
            normalize(Kind::String, &json!("x".repeat(256))),
            Err(Invalid::TooLong)
        );
        assert_eq!(normalize(Kind::Html, &json!(["a"])), Err(Invalid::Type));
        assert_eq!(
            normalize(Kind::DateTime, &json!("2026-01-08")),
            Ok(json!("2026-01-08T00:00:00Z"))
        );
        assert_eq!(
            normalize(Kind::DateTime, &json!("tomorrow")),
            Err(Invalid::Type)
        );
        assert_eq!(
            field("priority").map(|f| f.reference),
            Some("Microsoft.VSTS.Common.Priority")
        );
        assert_eq!(field("system.title").map(|f| f.name), Some("Title"));
    }

    #[test]
    fn dates_print_like_azure_devops() {
        let t = DateTime::parse_from_rfc3339("2014-12-29T20:49:28.740Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_date_time(t), "2014-12-29T20:49:28.74Z");
    }

    #[test]
    fn tags_are_split_deduplicated_and_sorted() {
        assert_eq!(split_tags(" b; a ;; A; c "), ["a", "b", "c"]);
        assert_eq!(join_tags(&split_tags("Tag2; Tag0")), "Tag0; Tag2");
    }
}
