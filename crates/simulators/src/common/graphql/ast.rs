//! The syntax tree of a GraphQL document.

use std::fmt;

/// Where something starts in the document: 1-based line and column, as GraphQL errors report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub fn json(self) -> serde_json::Value {
        serde_json::json!({ "line": self.line, "column": self.column })
    }
}

#[derive(Clone, Debug, Default)]
pub struct Document {
    pub operations: Vec<Operation>,
    pub fragments: Vec<Fragment>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Query,
    Mutation,
    Subscription,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Query => "query",
            OpKind::Mutation => "mutation",
            OpKind::Subscription => "subscription",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Operation {
    pub kind: OpKind,
    pub name: Option<String>,
    pub variables: Vec<VariableDef>,
    pub directives: Vec<Directive>,
    pub selections: Vec<Selection>,
    pub pos: Pos,
}

impl Operation {
    /// How graphql-ruby names the operation in messages: `anonymous query`, `GetProject`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("anonymous {}", self.kind.as_str()),
        }
    }

    /// The first element of error paths: `query`, `query GetProject`, `mutation`.
    pub fn path_root(&self) -> String {
        match &self.name {
            Some(n) => format!("{} {n}", self.kind.as_str()),
            None => self.kind.as_str().to_owned(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct VariableDef {
    pub name: String,
    pub ty: TypeRef,
    pub default: Option<Value>,
    pub pos: Pos,
}

/// A type as written in a variable definition or the schema: `Int`, `[ID!]!`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    /// The named type underneath lists and non-null wrappers.
    pub fn base(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::List(t) | TypeRef::NonNull(t) => t.base(),
        }
    }

    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    /// The type without its outer non-null wrapper.
    pub fn nullable(&self) -> &TypeRef {
        match self {
            TypeRef::NonNull(t) => t,
            other => other,
        }
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Named(n) => f.write_str(n),
            TypeRef::List(t) => write!(f, "[{t}]"),
            TypeRef::NonNull(t) => write!(f, "{t}!"),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Selection {
    Field(Field),
    Spread(Spread),
    Inline(InlineFragment),
}

#[derive(Clone, Debug)]
pub struct Field {
    pub alias: Option<String>,
    pub name: String,
    pub arguments: Vec<Argument>,
    pub directives: Vec<Directive>,
    pub selections: Vec<Selection>,
    pub pos: Pos,
}

impl Field {
    /// The key the field's value has in the response.
    pub fn response_key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Clone, Debug)]
pub struct Argument {
    pub name: String,
    pub value: Value,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Directive {
    pub name: String,
    pub arguments: Vec<Argument>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Spread {
    pub name: String,
    pub directives: Vec<Directive>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct InlineFragment {
    pub type_condition: Option<String>,
    pub directives: Vec<Directive>,
    pub selections: Vec<Selection>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Fragment {
    pub name: String,
    pub type_condition: String,
    pub directives: Vec<Directive>,
    pub selections: Vec<Selection>,
    pub pos: Pos,
}

/// A literal or variable in a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Variable(String),
    Int(i64),
    Float(f64),
    String(String),
    Boolean(bool),
    Null,
    Enum(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Every variable the value mentions.
    pub fn variables(&self, out: &mut Vec<String>) {
        match self {
            Value::Variable(v) => out.push(v.clone()),
            Value::List(items) => items.iter().for_each(|i| i.variables(out)),
            Value::Object(fields) => fields.iter().for_each(|(_, v)| v.variables(out)),
            _ => {}
        }
    }
}

/// The value as GraphQL source text, as graphql-ruby quotes it in messages (`"9"`, `FOO`,
/// `{projectId: "x"}`).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Variable(v) => write!(f, "${v}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Null => f.write_str("null"),
            Value::Enum(e) => f.write_str(e),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Object(fields) => {
                f.write_str("{")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}
