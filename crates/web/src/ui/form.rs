//! The Settings › Integrations forms, generically: each form is a list of [`Spec`]s (input
//! name, JSON path, label, help, kind). The same list pre-fills the inputs from a stored value
//! serialized to JSON ([`Form::prefill`]), turns what was posted back into the JSON the API
//! takes ([`Form::to_json`]), which is then parsed into the API's own input types, and puts
//! the error of a refused save next to the input it names ([`Form::with_error`]).
//!
//! Inputs are named by their JSON path (`target.repository`, `severity_mapping.high`), except
//! credentials, which are named by their last part (`token`, `client_secret`).

use crate::error::ApiError;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One line; always sent, empty or not (the API says what an empty one lacks).
    Text,
    /// One line, left out when empty.
    Optional,
    /// A password input, never pre-filled; left out when empty.
    Secret,
    /// A whole number, left out when empty.
    Number,
    /// A checkbox: `true` or `false`.
    Check,
    /// A choice among `Spec::options`; left out when empty.
    Select,
    /// Comma-separated values: a list.
    List,
    /// Several lines, left out when empty.
    Textarea,
    /// A JSON value, left out when empty.
    Json,
}

/// One input of a form.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The form input's name.
    pub name: &'static str,
    /// Where it goes in the JSON the API takes, dot-separated.
    pub path: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    /// (value, label) of a select.
    pub options: Vec<(String, String)>,
}

impl Spec {
    pub fn new(path: &'static str, label: &'static str, kind: Kind, help: &'static str) -> Spec {
        Spec { name: path, path, label, help, kind, options: Vec::new() }
    }

    /// An input named differently from its JSON path (`token` for `credentials.token`).
    pub fn named(mut self, name: &'static str) -> Spec {
        self.name = name;
        self
    }

    pub fn options(mut self, options: Vec<(String, String)>) -> Spec {
        self.options = options;
        self
    }
}

/// What the template shows of an input.
pub struct Field {
    pub name: &'static str,
    /// The input's `id` (for `<label for>`): `f-` and the name, dots as dashes.
    pub id: String,
    pub label: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub value: String,
    pub checked: bool,
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
}

impl Field {
    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Secret => "password",
            Kind::Number => "number",
            _ => "text",
        }
    }

    pub fn is_check(&self) -> bool {
        self.kind == Kind::Check
    }

    pub fn is_select(&self) -> bool {
        self.kind == Kind::Select
    }

    pub fn is_area(&self) -> bool {
        matches!(self.kind, Kind::Textarea | Kind::Json)
    }

    pub fn required(&self) -> bool {
        self.kind == Kind::Text
    }

    pub fn selected(&self, value: &str) -> bool {
        self.value == value
    }
}

/// A group of inputs (a `<fieldset>`); advanced ones are folded away.
pub struct Section {
    pub title: &'static str,
    pub note: String,
    pub advanced: bool,
    pub fields: Vec<Field>,
}

/// A form's sections, as specified.
pub struct SectionSpec {
    pub title: &'static str,
    pub note: String,
    pub advanced: bool,
    pub specs: Vec<Spec>,
}

impl SectionSpec {
    pub fn new(title: &'static str, specs: Vec<Spec>) -> SectionSpec {
        SectionSpec { title, note: String::new(), advanced: false, specs }
    }

    pub fn note(mut self, note: impl Into<String>) -> SectionSpec {
        self.note = note.into();
        self
    }

    pub fn advanced(mut self) -> SectionSpec {
        self.advanced = true;
        self
    }
}

/// What a form posted: input name → value (the last one wins).
#[derive(Clone, Debug, Default)]
pub struct Values(BTreeMap<String, String>);

impl Values {
    pub fn parse(body: &[u8]) -> Values {
        Values(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_owned(), value.into());
    }

    fn checked(&self, name: &str) -> bool {
        matches!(self.get(name), "true" | "on" | "1")
    }
}

/// A form being shown: its sections with their values, and the error of a refused save.
pub struct Form {
    pub sections: Vec<Section>,
    /// The refused save's reason, shown above the form.
    pub error: Option<String>,
}

impl Form {
    /// The form with the posted (or pre-filled) values.
    pub fn new(specs: &[SectionSpec], values: &Values) -> Form {
        let sections = specs
            .iter()
            .map(|s| Section {
                title: s.title,
                note: s.note.clone(),
                advanced: s.advanced,
                fields: s
                    .specs
                    .iter()
                    .cloned()
                    .map(|spec| Field {
                        name: spec.name,
                        id: format!("f-{}", spec.name.replace(['.', '_'], "-")),
                        label: spec.label,
                        help: spec.help,
                        kind: spec.kind,
                        value: if spec.kind == Kind::Secret { String::new() } else { values.get(spec.name).to_owned() },
                        checked: spec.kind == Kind::Check && values.checked(spec.name),
                        options: spec.options,
                        error: None,
                    })
                    .collect(),
            })
            .collect();
        Form { sections, error: None }
    }

    /// Puts a refused save's reason above the form, and next to the input it names (the
    /// input whose path is the error's field or contains it: `labels` for `labels[1]`).
    pub fn with_error(mut self, e: &ApiError, specs: &[SectionSpec]) -> Form {
        self.error = Some(e.detail.clone());
        if let Some(field) = &e.field {
            let path = specs
                .iter()
                .flat_map(|s| &s.specs)
                .filter(|s| {
                    field == s.path
                        || field.strip_prefix(s.path).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
                })
                .max_by_key(|s| s.path.len())
                .map(|s| s.name);
            for f in self.sections.iter_mut().flat_map(|s| &mut s.fields) {
                if Some(f.name) == path {
                    f.error = Some(e.detail.clone());
                }
            }
        }
        self
    }

    /// An advanced section holding an error is shown unfolded.
    pub fn open(&self, section: &Section) -> bool {
        !section.advanced || section.fields.iter().any(|f| f.error.is_some())
    }
}

/// The values that show `stored` (a value serialized to JSON) in the form's inputs. Secrets are
/// never shown.
pub fn prefill(specs: &[SectionSpec], stored: &Value) -> Values {
    let mut values = Values::default();
    for spec in specs.iter().flat_map(|s| &s.specs) {
        let Some(v) = lookup(stored, spec.path) else { continue };
        let text = match (spec.kind, v) {
            (Kind::Secret, _) | (_, Value::Null) => continue,
            (Kind::Check, Value::Bool(b)) => if *b { "true".into() } else { continue },
            (Kind::List, Value::Array(items)) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
            (Kind::Json, v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            (_, v) => plain(v),
        };
        values.set(spec.name, text);
    }
    values
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

fn insert(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or(path);
    let mut at = root;
    for p in parts {
        let next = at.entry(p.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(m) = next else { return };
        at = m;
    }
    at.insert(last.to_owned(), value);
}

/// The JSON the API takes, built from what was posted (`fixed`: values the form does not show,
/// such as the vendor). A number or JSON input that does not parse is refused naming it.
pub fn to_json(specs: &[SectionSpec], values: &Values, fixed: &[(&str, Value)]) -> Result<Value, ApiError> {
    let mut root = Map::new();
    for (path, v) in fixed {
        insert(&mut root, path, v.clone());
    }
    for spec in specs.iter().flat_map(|s| &s.specs) {
        let raw = values.get(spec.name);
        let trimmed = raw.trim();
        let value = match spec.kind {
            Kind::Text => Some(Value::String(raw.to_owned())),
            Kind::Check => Some(Value::Bool(values.checked(spec.name))),
            _ if trimmed.is_empty() => None,
            Kind::Optional | Kind::Select => Some(Value::String(trimmed.to_owned())),
            Kind::Secret | Kind::Textarea => Some(Value::String(raw.to_owned())),
            Kind::Number => Some(Value::from(
                trimmed.parse::<u64>().map_err(|_| ApiError::invalid(spec.path, format!("{}: '{trimmed}' is not a whole number", spec.path)))?,
            )),
            Kind::List => Some(Value::Array(
                trimmed.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect(),
            )),
            Kind::Json => Some(
                serde_json::from_str(trimmed).map_err(|e| ApiError::invalid(spec.path, format!("{}: not valid JSON ({e})", spec.path)))?,
            ),
        };
        if let Some(v) = value {
            insert(&mut root, spec.path, v);
        }
    }
    Ok(Value::Object(root))
}

/// Parses the built JSON into an API input type, as the API would (errors name the field).
pub fn parse<T: DeserializeOwned>(json: &Value) -> Result<T, ApiError> {
    crate::extract::parse_json(json.to_string().as_bytes())
}

/// True for the errors a form shows next to its inputs (the input was wrong, or clashes with
/// what exists); others are error pages.
pub fn is_input_error(e: &ApiError) -> bool {
    e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY || e.status == axum::http::StatusCode::CONFLICT
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn specs() -> Vec<SectionSpec> {
        vec![SectionSpec::new(
            "x",
            vec![
                Spec::new("label", "Label", Kind::Text, ""),
                Spec::new("credentials.token", "Token", Kind::Secret, "").named("token"),
                Spec::new("target.project_number", "Project", Kind::Number, ""),
                Spec::new("target.priority", "Priority", Kind::Check, ""),
                Spec::new("labels", "Labels", Kind::List, ""),
                Spec::new("custom_fields", "Custom", Kind::Json, ""),
                Spec::new("target.area_path", "Area", Kind::Optional, ""),
            ],
        )]
    }

    #[test]
    fn round_trip_without_secrets() {
        let stored = json!({"label": "L", "credentials": {"token": "s3cret"}, "target": {"project_number": 7, "priority": true},
            "labels": ["a", "b"], "custom_fields": {"k": 1}});
        let v = prefill(&specs(), &stored);
        assert_eq!(v.get("token"), "", "secrets are never pre-filled");
        assert_eq!(v.get("target.project_number"), "7");
        assert_eq!(v.get("labels"), "a, b");
        let back = to_json(&specs(), &v, &[("target.vendor", json!("github"))]).unwrap();
        assert_eq!(back, json!({"label": "L", "target": {"vendor": "github", "project_number": 7, "priority": true}, "labels": ["a", "b"], "custom_fields": {"k": 1}}));
    }

    #[test]
    fn bad_numbers_and_json_name_their_input() {
        let mut v = Values::default();
        v.set("target.project_number", "seven");
        assert_eq!(to_json(&specs(), &v, &[]).unwrap_err().field.as_deref(), Some("target.project_number"));
        let mut v = Values::default();
        v.set("custom_fields", "{oops");
        let e = to_json(&specs(), &v, &[]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("custom_fields"));
        let form = Form::new(&specs(), &v).with_error(&ApiError::invalid("credentials.token", "must not be empty"), &specs());
        let f = form.sections[0].fields.iter().find(|f| f.name == "token").unwrap();
        assert_eq!(f.error.as_deref(), Some("must not be empty"));
        let form = Form::new(&specs(), &v).with_error(&ApiError::invalid("labels[1]", "bad"), &specs());
        assert!(form.sections[0].fields.iter().find(|f| f.name == "labels").unwrap().error.is_some());
    }
}
