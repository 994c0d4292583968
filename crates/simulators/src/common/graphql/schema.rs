//! The schema a simulator serves, read from schema-language text.

use super::GqlError;
use super::ast::{TypeRef, Value};
use super::parser::Parser;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeKind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

#[derive(Clone, Debug)]
pub struct TypeDef {
    pub name: String,
    pub kind: TypeKind,
    /// Object and interface fields.
    pub fields: Vec<FieldDef>,
    /// Interfaces an object implements.
    pub interfaces: Vec<String>,
    /// Union members.
    pub members: Vec<String>,
    /// Enum values.
    pub values: Vec<String>,
    /// Input object fields.
    pub inputs: Vec<InputValue>,
}

impl TypeDef {
    pub fn new(name: String, kind: TypeKind) -> TypeDef {
        TypeDef {
            name,
            kind,
            fields: Vec::new(),
            interfaces: Vec::new(),
            members: Vec::new(),
            values: Vec::new(),
            inputs: Vec::new(),
        }
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn input(&self, name: &str) -> Option<&InputValue> {
        self.inputs.iter().find(|f| f.name == name)
    }

    /// Object, interface or union: a type whose fields are selected.
    pub fn is_composite(&self) -> bool {
        matches!(
            self.kind,
            TypeKind::Object | TypeKind::Interface | TypeKind::Union
        )
    }

    pub fn is_input(&self) -> bool {
        matches!(
            self.kind,
            TypeKind::Scalar | TypeKind::Enum | TypeKind::InputObject
        )
    }
}

#[derive(Clone, Debug)]
pub struct FieldDef {
    pub name: String,
    pub args: Vec<InputValue>,
    pub ty: TypeRef,
}

impl FieldDef {
    pub fn arg(&self, name: &str) -> Option<&InputValue> {
        self.args.iter().find(|a| a.name == name)
    }
}

/// An argument or input-object field.
#[derive(Clone, Debug)]
pub struct InputValue {
    pub name: String,
    pub ty: TypeRef,
    pub default: Option<Value>,
}

#[derive(Clone, Debug)]
pub struct Schema {
    pub types: BTreeMap<String, TypeDef>,
    pub query: String,
    pub mutation: Option<String>,
}

impl Schema {
    pub(super) fn empty() -> Schema {
        let mut s = Schema {
            types: BTreeMap::new(),
            query: "Query".into(),
            mutation: None,
        };
        for name in ["Int", "Float", "String", "Boolean", "ID"] {
            s.add(TypeDef::new(name.into(), TypeKind::Scalar));
        }
        s
    }

    pub(super) fn add(&mut self, t: TypeDef) {
        self.types.insert(t.name.clone(), t);
    }

    /// Reads schema-language text (built-in scalars are implied).
    pub fn parse(sdl: &str) -> Result<Schema, GqlError> {
        Parser::new(sdl)?.schema()
    }

    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// Whether an object of type `object` is also of type `abstract_or_same` (itself, an
    /// interface it implements, a union it belongs to).
    pub fn is_possible(&self, abstract_or_same: &str, object: &str) -> bool {
        if abstract_or_same == object {
            return true;
        }
        match self.get(abstract_or_same) {
            Some(t) if t.kind == TypeKind::Union => t.members.iter().any(|m| m == object),
            Some(t) if t.kind == TypeKind::Interface => self
                .get(object)
                .is_some_and(|o| o.interfaces.iter().any(|i| i == abstract_or_same)),
            _ => false,
        }
    }

    /// The object types a type can be at run time.
    pub fn possible_types(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(t) if t.kind == TypeKind::Object => vec![t.name.clone()],
            Some(t) if t.kind == TypeKind::Union => t.members.clone(),
            Some(t) if t.kind == TypeKind::Interface => self
                .types
                .values()
                .filter(|o| o.kind == TypeKind::Object && o.interfaces.iter().any(|i| i == name))
                .map(|o| o.name.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether a fragment on `cond` may appear where `parent` is selected: the two types
    /// share a possible object type.
    pub fn can_spread(&self, cond: &str, parent: &str) -> bool {
        let a = self.possible_types(cond);
        let b = self.possible_types(parent);
        a.iter().any(|t| b.contains(t))
    }
}
