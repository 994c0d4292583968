//! How ticket fields become Jira fields: the title is the summary; the Markdown body becomes
//! ADF (Cloud) or wiki markup (Data Center); labels are labels (Jira refuses spaces in them,
//! so spaces become `-`) plus the marker itself as a label; the severity value is the
//! priority's name (or, for another field id, a select option's value); the due date is
//! `duedate`; other custom fields are sent as given, by field id.

use super::api::Flavour;
use super::{adf, wiki};
use crate::TrackerError;
use domain::tracker::{DUE_DATE, FieldValue, MappingConfig, MappingTarget, Marker};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// The parts of a Jira mapping the client needs.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    pub project: &'a str,
    pub issue_type: &'a str,
    pub components: &'a [String],
    pub priority: bool,
}

pub fn target(mapping: &MappingConfig) -> Result<Target<'_>, TrackerError> {
    match &mapping.target {
        MappingTarget::Jira {
            project,
            issue_type,
            components,
            priority,
            ..
        } => Ok(Target {
            project: project.trim(),
            issue_type: issue_type.trim(),
            components,
            priority: *priority,
        }),
        other => Err(TrackerError::Misconfigured(format!(
            "the mapping targets {}, which is not a Jira project",
            other.describe()
        ))),
    }
}

/// Jira refuses text fields longer than this (32,767 characters; for ADF, of the document).
pub const TEXT_MAX: usize = 32_767;

const TRUNCATED: &str =
    "…(truncated: Jira keeps at most 32,767 characters; the rest is in vulnbridge)";

fn render(flavour: Flavour, markdown: &str) -> Value {
    match flavour {
        Flavour::Cloud => adf::from_markdown(markdown),
        Flavour::DataCenter => Value::String(wiki::from_markdown(markdown)),
    }
}

/// The size Jira counts against [`TEXT_MAX`].
fn size(v: &Value) -> usize {
    match v {
        Value::String(s) => s.chars().count(),
        other => other.to_string().chars().count(),
    }
}

/// Rich text for the flavour: an ADF document or a wiki-markup string. Text too long for
/// Jira is cut (saying so), keeping the marker at its end so that the issue stays findable.
pub fn rich(flavour: Flavour, markdown: &str) -> Value {
    let full = render(flavour, markdown);
    let total = size(&full);
    if total <= TEXT_MAX {
        return full;
    }
    let (content, marker) = match markdown.rfind("<!-- vulnbridge:") {
        Some(at) => markdown.split_at(at),
        None => (markdown, ""),
    };
    let chars = content.chars().count();
    // Rendering adds markup: aim below the limit by the share the markup takes, then closer.
    let mut keep = chars.saturating_mul(TEXT_MAX) / total.max(1) * 9 / 10;
    for _ in 0..8 {
        let cut: String = content.chars().take(keep).collect();
        let v = render(
            flavour,
            &format!("{}\n\n{TRUNCATED}\n\n{marker}", cut.trim_end()),
        );
        if size(&v) <= TEXT_MAX {
            return v;
        }
        keep = keep * 3 / 4;
    }
    render(flavour, &format!("{TRUNCATED}\n\n{marker}"))
}

/// A label as Jira takes it: no whitespace (runs become `-`), at most 255 characters.
pub fn label(l: &str) -> Option<String> {
    let joined = l.split_whitespace().collect::<Vec<_>>().join("-");
    (!joined.is_empty()).then(|| joined.chars().take(255).collect())
}

pub fn labels<'a>(ls: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    ls.into_iter().filter_map(|l| label(l)).collect()
}

/// Whether the severity field is Jira's priority.
fn is_priority(field: &str) -> bool {
    field.trim().eq_ignore_ascii_case("priority")
}

/// The field and value the severity is written as; `None` when priority mapping is off.
pub fn severity(t: &Target<'_>, sev: &FieldValue) -> Option<(String, Value)> {
    if is_priority(&sev.field) {
        return t
            .priority
            .then(|| ("priority".to_owned(), json!({ "name": sev.value })));
    }
    Some((sev.field.trim().to_owned(), json!({ "value": sev.value })))
}

/// A custom field (by Jira field id) and its value; the due date goes to `duedate`.
pub fn custom(key: &str, value: &Value) -> Result<(String, Value), TrackerError> {
    if key == DUE_DATE {
        return match value {
            Value::Null => Ok(("duedate".into(), Value::Null)),
            Value::String(d) if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() => {
                Ok(("duedate".into(), value.clone()))
            }
            other => Err(TrackerError::Misconfigured(format!(
                "the due date must be YYYY-MM-DD, not {other}"
            ))),
        };
    }
    if key.trim().is_empty() || key.chars().any(char::is_whitespace) {
        return Err(TrackerError::Misconfigured(format!(
            "custom field '{key}' is not a Jira field id: use ids like customfield_10010 or environment"
        )));
    }
    Ok((key.to_owned(), value.clone()))
}

/// The fields of a new issue.
pub fn create_fields(
    flavour: Flavour,
    t: &Target<'_>,
    f: &domain::tracker::TicketFields,
    marker: &Marker,
) -> Result<Map<String, Value>, TrackerError> {
    let mut out = Map::new();
    out.insert("project".into(), json!({ "key": t.project }));
    out.insert("issuetype".into(), json!({ "name": t.issue_type }));
    out.insert(
        "summary".into(),
        json!(f.title.chars().take(255).collect::<String>()),
    );
    out.insert("description".into(), rich(flavour, &f.body));
    let mut ls = labels(&f.labels);
    ls.insert(domain::tracker::MARKER_LABEL.to_owned());
    // The marker as a label too: a description someone rewrote still leaves it findable.
    ls.extend(label(&marker.token()));
    out.insert("labels".into(), json!(ls));
    if !t.components.is_empty() {
        let c: Vec<Value> = t
            .components
            .iter()
            .map(|c| json!({ "name": c.trim() }))
            .collect();
        out.insert("components".into(), Value::Array(c));
    }
    if let Some((field, value)) = severity(t, &f.severity) {
        out.insert(field, value);
    }
    for (k, v) in &f.custom {
        if v.is_null() {
            continue;
        }
        let (field, value) = custom(k, v)?;
        out.insert(field, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_fields_are_made_jira_shaped() {
        assert_eq!(label("needs review"), Some("needs-review".into()));
        assert_eq!(label("  "), None);
        let t = Target {
            project: "SEC",
            issue_type: "Bug",
            components: &[],
            priority: true,
        };
        assert_eq!(
            severity(&t, &FieldValue::new("priority", "High")),
            Some(("priority".into(), json!({"name": "High"})))
        );
        let off = Target {
            priority: false,
            ..t.clone()
        };
        assert_eq!(severity(&off, &FieldValue::new("Priority", "High")), None);
        assert_eq!(
            severity(&off, &FieldValue::new("customfield_10042", "S1")),
            Some(("customfield_10042".into(), json!({"value": "S1"})))
        );
        assert_eq!(
            custom(DUE_DATE, &json!("2024-05-01")).unwrap(),
            ("duedate".into(), json!("2024-05-01"))
        );
        assert!(custom(DUE_DATE, &json!("May 1st")).is_err());
        assert!(custom("Story Points", &json!(3)).is_err());
    }

    #[test]
    fn text_too_long_for_jira_is_cut_keeping_the_marker() {
        let body = format!(
            "{}\n\n<!-- vulnbridge:k3x9q2:m3:g1 -->\n",
            "| a | **b** |\n".repeat(6000)
        );
        for flavour in [Flavour::Cloud, Flavour::DataCenter] {
            let v = rich(flavour, &body);
            assert!(size(&v) <= TEXT_MAX, "{flavour:?}: {}", size(&v));
            let text = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| adf::to_text(&v));
            assert!(text.contains("vulnbridge:k3x9q2:m3:g1"), "{flavour:?}");
            assert!(text.contains("truncated"), "{flavour:?}");
        }
        assert_eq!(rich(Flavour::DataCenter, "short"), json!("short"));
    }
}
