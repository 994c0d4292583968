//! The server-rendered forms, generically: each form is a list of [`Spec`]s (input name, JSON
//! path, label, help, kind). The same list pre-fills the inputs from a stored value serialized
//! to JSON ([`prefill`]), turns what was posted back into the JSON the API takes
//! ([`to_json`]), which is then parsed into the API's own input types ([`parse`]), and puts the
//! error of a refused save next to the input it names ([`Form::with_error`]). The template
//! `form_fields.html` shows a [`Form`]'s fieldsets.
//!
//! Used by the Settings › Integrations forms (inputs named by their JSON path, except
//! credentials, named by their last part: `token`, `client_secret`) and the connector form
//! (inputs named as the API's JSON fields: `label`, `secrets.token`, `settings.options.branch`).

use crate::error::ApiError;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Text of a spec: mostly fixed, sometimes made (a tool's secret names, a label with the tool's).
pub type Text = Cow<'static, str>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One line; always sent, empty or not (the API says what an empty one lacks).
    Text,
    /// An address (`<input type="url">`); always sent, as [`Kind::Text`].
    Url,
    /// One line, left out when empty.
    Optional,
    /// A password input, never pre-filled; trimmed (pasted keys carry line breaks), left out
    /// when empty.
    Secret,
    /// A whole number, left out when empty.
    Number,
    /// A checkbox: `true` or `false` (unset in the stored value: [`Spec::default_on`]).
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
    pub name: Text,
    /// Where it goes in the JSON the API takes, dot-separated.
    pub path: Text,
    pub label: Text,
    pub help: Text,
    pub kind: Kind,
    /// (value, label) of a select.
    pub options: Vec<(String, String)>,
    pub placeholder: Text,
    /// Whether the browser asks for it (default: [`Kind::Text`] and [`Kind::Url`]).
    pub required: bool,
    /// A checkbox ticked when the stored value does not say (the consumer's default is on).
    pub default_on: bool,
}

impl Spec {
    pub fn new(path: impl Into<Text>, label: impl Into<Text>, kind: Kind, help: impl Into<Text>) -> Spec {
        let path = path.into();
        Spec {
            name: path.clone(),
            path,
            label: label.into(),
            help: help.into(),
            kind,
            options: Vec::new(),
            placeholder: Text::Borrowed(""),
            required: matches!(kind, Kind::Text | Kind::Url),
            default_on: false,
        }
    }

    /// An input named differently from its JSON path (`token` for `credentials.token`).
    pub fn named(mut self, name: impl Into<Text>) -> Spec {
        self.name = name.into();
        self
    }

    pub fn options(mut self, options: Vec<(String, String)>) -> Spec {
        self.options = options;
        self
    }

    pub fn placeholder(mut self, placeholder: impl Into<Text>) -> Spec {
        self.placeholder = placeholder.into();
        self
    }

    pub fn required(mut self, required: bool) -> Spec {
        self.required = required;
        self
    }

    /// A checkbox ticked unless the stored value says `false`.
    pub fn default_on(mut self) -> Spec {
        self.default_on = true;
        self
    }
}

/// How a form's inputs are marked up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Markup {
    /// Ids `f-` and the name (`f-target-repository`); a refused input's error is announced
    /// (`role="alert"`).
    #[default]
    Short,
    /// Ids are the names (`settings.options.org`); each input is described by its help
    /// (`aria-describedby`), and a password input has no value at all.
    Named,
}

/// What the template shows of an input.
pub struct Field {
    pub name: String,
    /// The input's `id` (for `<label for>`), as the form's [`Markup`] says.
    pub id: String,
    pub label: String,
    pub help: String,
    pub kind: Kind,
    pub value: String,
    pub checked: bool,
    pub options: Vec<(String, String)>,
    pub placeholder: String,
    pub required: bool,
    pub error: Option<String>,
}

impl Field {
    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Secret => "password",
            Kind::Number => "number",
            Kind::Url => "url",
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

    pub fn is_secret(&self) -> bool {
        self.kind == Kind::Secret
    }

    pub fn is_number(&self) -> bool {
        self.kind == Kind::Number
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

/// A refusal's message without the field name the form already shows it at.
pub fn message(e: &ApiError) -> String {
    match &e.field {
        Some(f) => e.detail.strip_prefix(&format!("{f}: ")).unwrap_or(&e.detail).to_owned(),
        None => e.detail.clone(),
    }
}

/// A form being shown: its sections with their values, and the error of a refused save.
pub struct Form {
    pub sections: Vec<Section>,
    /// The refused save's reason, shown above the form.
    pub error: Option<String>,
    pub markup: Markup,
}

fn id(markup: Markup, name: &str) -> String {
    match markup {
        Markup::Short => format!("f-{}", name.replace(['.', '_'], "-")),
        Markup::Named => name.to_owned(),
    }
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
                        id: id(Markup::Short, &spec.name),
                        value: if spec.kind == Kind::Secret { String::new() } else { values.get(&spec.name).to_owned() },
                        checked: spec.kind == Kind::Check && values.checked(&spec.name),
                        name: spec.name.into_owned(),
                        label: spec.label.into_owned(),
                        help: spec.help.into_owned(),
                        kind: spec.kind,
                        options: spec.options,
                        placeholder: spec.placeholder.into_owned(),
                        required: spec.required,
                        error: None,
                    })
                    .collect(),
            })
            .collect();
        Form { sections, error: None, markup: Markup::Short }
    }

    /// The form marked up as `markup` says.
    pub fn markup(mut self, markup: Markup) -> Form {
        self.markup = markup;
        for f in self.sections.iter_mut().flat_map(|s| &mut s.fields) {
            f.id = id(markup, &f.name);
        }
        self
    }

    /// Puts a refused save's reason above the form, and next to the input it names (the
    /// input whose path is the error's field or contains it: `labels` for `labels[1]`).
    pub fn with_error(mut self, e: &ApiError, specs: &[SectionSpec]) -> Form {
        self.error = Some(match &e.field {
            Some(f) => format!("{f}: {}", message(e)),
            None => e.detail.clone(),
        });
        if let Some(field) = &e.field {
            let name = specs
                .iter()
                .flat_map(|s| &s.specs)
                .filter(|s| {
                    field == &s.path
                        || field.strip_prefix(s.path.as_ref()).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
                })
                .max_by_key(|s| s.path.len())
                .map(|s| s.name.as_ref());
            for f in self.sections.iter_mut().flat_map(|s| &mut s.fields) {
                if Some(f.name.as_str()) == name {
                    f.error = Some(message(e));
                }
            }
        }
        self
    }

    /// An advanced section holding an error is shown unfolded.
    pub fn open(&self, section: &Section) -> bool {
        !section.advanced || section.fields.iter().any(|f| f.error.is_some())
    }

    pub fn named(&self) -> bool {
        self.markup == Markup::Named
    }
}

/// The values that show `stored` (a value serialized to JSON) in the form's inputs. Secrets are
/// never shown.
pub fn prefill(specs: &[SectionSpec], stored: &Value) -> Values {
    let mut values = Values::default();
    for spec in specs.iter().flat_map(|s| &s.specs) {
        let found = lookup(stored, &spec.path);
        let text = match (spec.kind, found) {
            (Kind::Check, None | Some(Value::Null)) if spec.default_on => "true".into(),
            (_, None) => continue,
            (Kind::Secret, _) | (_, Some(Value::Null)) => continue,
            (Kind::Check, Some(Value::Bool(b))) => if *b { "true".into() } else { continue },
            (Kind::Check, Some(Value::String(s))) => if matches!(s.as_str(), "true" | "yes") { "true".into() } else { continue },
            (Kind::Json, Some(v)) => serde_json::to_string_pretty(v).unwrap_or_default(),
            (_, Some(v)) => plain(v),
        };
        values.set(&spec.name, text);
    }
    values
}

/// A value as an input shows it (lists comma-separated).
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
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
        let raw = values.get(&spec.name);
        let trimmed = raw.trim();
        let value = match spec.kind {
            Kind::Text | Kind::Url => Some(Value::String(raw.to_owned())),
            Kind::Check => Some(Value::Bool(values.checked(&spec.name))),
            _ if trimmed.is_empty() => None,
            Kind::Optional | Kind::Select | Kind::Secret => Some(Value::String(trimmed.to_owned())),
            Kind::Textarea => Some(Value::String(raw.to_owned())),
            Kind::Number => Some(Value::from(
                trimmed.parse::<u64>().map_err(|_| ApiError::invalid(spec.path.as_ref(), format!("{}: '{trimmed}' is not a whole number", spec.path)))?,
            )),
            Kind::List => Some(Value::Array(
                trimmed.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect(),
            )),
            Kind::Json => Some(
                serde_json::from_str(trimmed).map_err(|e| ApiError::invalid(spec.path.as_ref(), format!("{}: not valid JSON ({e})", spec.path)))?,
            ),
        };
        if let Some(v) = value {
            insert(&mut root, &spec.path, v);
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
