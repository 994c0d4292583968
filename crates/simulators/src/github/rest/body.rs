//! Request bodies checked against the endpoint's schema the way GitHub's schema validator
//! words it: `Invalid request.\n\nFor 'properties/state', "x" is not a member of
//! ["open", "closed"].`, `"title" wasn't supplied.`, `"foo" is not a permitted key.`

use super::super::api::ApiError;
use serde_json::{Map, Value as Json};

/// Collects schema problems while fields are read.
pub struct Body<'a> {
    obj: Option<&'a Map<String, Json>>,
    pub problems: Vec<String>,
}

impl<'a> Body<'a> {
    /// `null` (no body) reads as an empty object; anything else must be an object.
    pub fn new(v: &'a Json) -> Body<'a> {
        match v {
            Json::Object(o) => Body {
                obj: Some(o),
                problems: Vec::new(),
            },
            Json::Null => Body {
                obj: None,
                problems: Vec::new(),
            },
            other => Body {
                obj: None,
                problems: vec![format!("For 'links/0/schema', {other} is not an object.")],
            },
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.obj.is_some_and(|o| o.contains_key(key))
    }

    fn get(&self, key: &str) -> Option<&'a Json> {
        self.obj.and_then(|o| o.get(key))
    }

    fn wrong(&mut self, key: &str, v: &Json, what: &str) {
        self.problems
            .push(format!("For 'properties/{key}', {v} is not {what}."));
    }

    /// A required field: `"title" wasn't supplied.` when absent.
    pub fn require(&mut self, key: &str) {
        if !self.has(key) {
            self.problems.push(format!("\"{key}\" wasn't supplied."));
        }
    }

    /// Keys the schema does not list (`additionalProperties: false`).
    pub fn only(&mut self, allowed: &[&str]) {
        if let Some(o) = self.obj {
            for k in o.keys() {
                if !allowed.contains(&k.as_str()) {
                    self.problems
                        .push(format!("\"{k}\" is not a permitted key."));
                }
            }
        }
    }

    /// A string field; `nullable` accepts `null` (read as `Some(None)`).
    pub fn string(&mut self, key: &str, nullable: bool) -> Option<Option<String>> {
        match self.get(key)? {
            Json::String(s) => Some(Some(s.clone())),
            Json::Null if nullable => Some(None),
            other => {
                let what = if nullable {
                    "a string or null"
                } else {
                    "a string"
                };
                self.wrong(key, &other.clone(), what);
                None
            }
        }
    }

    /// A string-or-integer field (issue titles may be numbers).
    pub fn string_or_int(&mut self, key: &str, nullable: bool) -> Option<Option<String>> {
        match self.get(key)? {
            Json::String(s) => Some(Some(s.clone())),
            Json::Number(n) if n.is_i64() || n.is_u64() => Some(Some(n.to_string())),
            Json::Null if nullable => Some(None),
            other => {
                self.wrong(key, &other.clone(), "a string or integer");
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Json::Bool(b) => Some(*b),
            other => {
                self.wrong(key, &other.clone(), "a boolean");
                None
            }
        }
    }

    /// One of `allowed` (or `null` when `nullable`).
    pub fn member(
        &mut self,
        key: &str,
        allowed: &[&str],
        nullable: bool,
    ) -> Option<Option<String>> {
        let v = self.get(key)?;
        match v {
            Json::Null if nullable => Some(None),
            Json::String(s) if allowed.contains(&s.as_str()) => Some(Some(s.clone())),
            other => {
                let mut list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
                if nullable {
                    list.push("null".into());
                }
                self.problems.push(format!(
                    "For 'properties/{key}', {other} is not a member of [{}].",
                    list.join(", ")
                ));
                None
            }
        }
    }

    /// An array of strings.
    pub fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        match self.get(key)? {
            Json::Array(items) => {
                let mut out = Vec::new();
                for it in items {
                    match it {
                        Json::String(s) => out.push(s.clone()),
                        other => {
                            self.problems
                                .push(format!("For 'items', {other} is not a string."));
                            return None;
                        }
                    }
                }
                Some(out)
            }
            other => {
                self.wrong(key, &other.clone(), "an array");
                None
            }
        }
    }

    /// Labels: names or `{name}` objects.
    pub fn labels(&mut self, key: &str) -> Option<Vec<String>> {
        match self.get(key)? {
            Json::Array(items) => Some(label_items(items, &mut self.problems)),
            other => {
                self.wrong(key, &other.clone(), "an array");
                None
            }
        }
    }

    pub fn object(&mut self, key: &str) -> Option<&'a Map<String, Json>> {
        match self.get(key)? {
            Json::Object(o) => Some(o),
            other => {
                self.wrong(key, &other.clone(), "an object");
                None
            }
        }
    }

    /// `Err` with the `Invalid request.` answer if anything was wrong.
    pub fn finish(self, doc: &str) -> Result<(), ApiError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_request(&self.problems, doc))
        }
    }
}

/// Label names from `["a", {"name": "b"}]`.
pub fn label_items(items: &[Json], problems: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for it in items {
        match it {
            Json::String(s) => out.push(s.clone()),
            Json::Object(o) => match o.get("name") {
                Some(Json::String(s)) => out.push(s.clone()),
                _ => problems.push("\"name\" wasn't supplied.".into()),
            },
            other => problems.push(format!("For 'items', {other} is not a string or object.")),
        }
    }
    out
}
