//! One entry of a GraphQL response's `errors`, shaped as GitHub (graphql-ruby) shapes them.

use super::Pos;
use serde_json::{Map, Value, json};

#[derive(Clone, Debug, PartialEq)]
pub struct GqlError {
    pub message: String,
    pub locations: Vec<Pos>,
    /// Response path (`["organization", "projectV2"]`) or, for static errors, the document
    /// path (`["query", "viewer", "foo"]`).
    pub path: Option<Box<Vec<Value>>>,
    /// GitHub's top-level `type` (`NOT_FOUND`, `INSUFFICIENT_SCOPES`…).
    pub kind: Option<String>,
    /// graphql-ruby's `extensions` (`code`, `typeName`, `fieldName`…).
    pub extensions: Option<Box<Map<String, Value>>>,
}

impl GqlError {
    pub fn new(message: impl Into<String>) -> GqlError {
        GqlError {
            message: message.into(),
            locations: Vec::new(),
            path: None,
            kind: None,
            extensions: None,
        }
    }

    pub fn at(mut self, pos: Pos) -> GqlError {
        self.locations.push(pos);
        self
    }

    pub fn path(mut self, path: Vec<Value>) -> GqlError {
        self.path = Some(Box::new(path));
        self
    }

    pub fn kind(mut self, kind: &str) -> GqlError {
        self.kind = Some(kind.to_owned());
        self
    }

    /// A static-validation error: `extensions.code` plus the fields graphql-ruby adds.
    pub fn code(mut self, code: &str, extra: &[(&str, Value)]) -> GqlError {
        let mut ext = Map::new();
        ext.insert("code".into(), Value::String(code.to_owned()));
        for (k, v) in extra {
            ext.insert((*k).to_owned(), v.clone());
        }
        self.extensions = Some(Box::new(ext));
        self
    }

    pub fn extensions(mut self, ext: Map<String, Value>) -> GqlError {
        self.extensions = Some(Box::new(ext));
        self
    }

    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        if let Some(k) = &self.kind {
            o.insert("type".into(), Value::String(k.clone()));
        }
        if let Some(p) = &self.path {
            o.insert("path".into(), Value::Array(p.to_vec()));
        }
        if let Some(e) = &self.extensions {
            o.insert("extensions".into(), Value::Object((**e).clone()));
        }
        if !self.locations.is_empty() {
            o.insert(
                "locations".into(),
                Value::Array(self.locations.iter().map(|p| p.json()).collect()),
            );
        }
        o.insert("message".into(), Value::String(self.message.clone()));
        Value::Object(o)
    }

    /// `{"errors": [...]}` without `data`: what a document that fails before execution gets.
    pub fn response(errors: &[GqlError]) -> Value {
        json!({ "errors": errors.iter().map(GqlError::to_json).collect::<Vec<_>>() })
    }
}
