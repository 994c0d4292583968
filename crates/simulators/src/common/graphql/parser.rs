//! A recursive-descent parser for executable documents and for the schema language.

use super::GqlError;
use super::ast::*;
use super::lexer::{Kind, Token, tokens};
use super::schema::{FieldDef, InputValue, Schema, TypeDef, TypeKind};

pub(super) struct Parser {
    toks: Vec<Token>,
    at: usize,
    /// How deep the parse is in nested selections, lists and objects.
    depth: usize,
}

/// Nesting beyond this is refused, so a hostile document cannot exhaust the stack.
const MAX_DEPTH: usize = 200;

/// Parses an executable document (operations and fragments).
pub fn parse_document(src: &str) -> Result<Document, GqlError> {
    let mut p = Parser::new(src)?;
    let mut doc = Document::default();
    if p.peek().is_none() {
        return Err(GqlError::new("Unexpected end of document"));
    }
    while let Some(t) = p.peek() {
        if t.is_punct("{") {
            let pos = t.pos;
            let selections = p.selection_set()?;
            doc.operations.push(Operation {
                kind: OpKind::Query,
                name: None,
                variables: Vec::new(),
                directives: Vec::new(),
                selections,
                pos,
            });
        } else if t.is_name("query") || t.is_name("mutation") || t.is_name("subscription") {
            doc.operations.push(p.operation()?);
        } else if t.is_name("fragment") {
            doc.fragments.push(p.fragment()?);
        } else {
            return Err(t.unexpected());
        }
    }
    Ok(doc)
}

impl Parser {
    pub(super) fn new(src: &str) -> Result<Parser, GqlError> {
        Ok(Parser {
            toks: tokens(src)?,
            at: 0,
            depth: 0,
        })
    }

    pub(super) fn peek(&self) -> Option<&Token> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Result<Token, GqlError> {
        let t = self
            .toks
            .get(self.at)
            .cloned()
            .ok_or_else(|| GqlError::new("Unexpected end of document"))?;
        if t.kind == Kind::Bad {
            return Err(t.unexpected());
        }
        self.at += 1;
        Ok(t)
    }

    fn expect(&mut self, p: &str) -> Result<Token, GqlError> {
        let t = self.next()?;
        if t.is_punct(p) {
            Ok(t)
        } else {
            Err(t.unexpected())
        }
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.peek().is_some_and(|t| t.is_punct(p)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Result<Token, GqlError> {
        let t = self.next()?;
        if t.kind == Kind::Name {
            Ok(t)
        } else {
            Err(t.unexpected())
        }
    }

    fn keyword(&mut self, k: &str) -> Result<Token, GqlError> {
        let t = self.next()?;
        if t.is_name(k) {
            Ok(t)
        } else {
            Err(t.unexpected())
        }
    }

    fn operation(&mut self) -> Result<Operation, GqlError> {
        let t = self.name()?;
        let kind = match t.text.as_str() {
            "mutation" => OpKind::Mutation,
            "subscription" => OpKind::Subscription,
            _ => OpKind::Query,
        };
        let name = match self.peek() {
            Some(n) if n.kind == Kind::Name => Some(self.name()?.text),
            _ => None,
        };
        let mut variables = Vec::new();
        if self.eat("(") {
            while !self.eat(")") {
                let dollar = self.expect("$")?;
                let name = self.name()?.text;
                self.expect(":")?;
                let ty = self.type_ref()?;
                let default = if self.eat("=") {
                    Some(self.value(true)?)
                } else {
                    None
                };
                self.directives()?;
                variables.push(VariableDef {
                    name,
                    ty,
                    default,
                    pos: dollar.pos,
                });
            }
        }
        let directives = self.directives()?;
        let selections = self.selection_set()?;
        Ok(Operation {
            kind,
            name,
            variables,
            directives,
            selections,
            pos: t.pos,
        })
    }

    fn fragment(&mut self) -> Result<Fragment, GqlError> {
        let t = self.keyword("fragment")?;
        let name = self.name()?;
        if name.text == "on" {
            return Err(name.unexpected());
        }
        self.keyword("on")?;
        let type_condition = self.name()?.text;
        let directives = self.directives()?;
        let selections = self.selection_set()?;
        Ok(Fragment {
            name: name.text,
            type_condition,
            directives,
            selections,
            pos: t.pos,
        })
    }

    /// Enters one nesting level (`Err` past [`MAX_DEPTH`]); [`Parser::leave`] leaves it.
    fn enter(&mut self) -> Result<(), GqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let pos = self.peek().map(|t| t.pos).unwrap_or_default();
            return Err(GqlError::new(format!(
                "Parse error: the document nests deeper than {MAX_DEPTH} levels"
            ))
            .at(pos));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn selection_set(&mut self) -> Result<Vec<Selection>, GqlError> {
        self.enter()?;
        let r = self.selection_set_inner();
        self.leave();
        r
    }

    fn selection_set_inner(&mut self) -> Result<Vec<Selection>, GqlError> {
        self.expect("{")?;
        let mut out = Vec::new();
        loop {
            if self.eat("}") {
                if out.is_empty() {
                    // `{}` is not a selection set; report the closing brace like graphql-ruby.
                    let t = self.toks[self.at - 1].clone();
                    return Err(t.unexpected());
                }
                return Ok(out);
            }
            out.push(self.selection()?);
        }
    }

    fn selection(&mut self) -> Result<Selection, GqlError> {
        if self.peek().is_some_and(|t| t.is_punct("...")) {
            let dots = self.next()?;
            let on_type = match self.peek() {
                Some(t) if t.is_name("on") => {
                    self.at += 1;
                    Some(self.name()?.text)
                }
                Some(t) if t.kind == Kind::Name => {
                    let name = self.name()?.text;
                    let directives = self.directives()?;
                    return Ok(Selection::Spread(Spread {
                        name,
                        directives,
                        pos: dots.pos,
                    }));
                }
                _ => None,
            };
            let directives = self.directives()?;
            let selections = self.selection_set()?;
            return Ok(Selection::Inline(InlineFragment {
                type_condition: on_type,
                directives,
                selections,
                pos: dots.pos,
            }));
        }
        let first = self.name()?;
        let (alias, name) = if self.eat(":") {
            (Some(first.text.clone()), self.name()?.text)
        } else {
            (None, first.text.clone())
        };
        let arguments = self.arguments(false)?;
        let directives = self.directives()?;
        let selections = if self.peek().is_some_and(|t| t.is_punct("{")) {
            self.selection_set()?
        } else {
            Vec::new()
        };
        Ok(Selection::Field(Field {
            alias,
            name,
            arguments,
            directives,
            selections,
            pos: first.pos,
        }))
    }

    fn arguments(&mut self, constant: bool) -> Result<Vec<Argument>, GqlError> {
        let mut out = Vec::new();
        if self.eat("(") {
            loop {
                if self.eat(")") {
                    break;
                }
                let name = self.name()?;
                self.expect(":")?;
                let value = self.value(constant)?;
                out.push(Argument {
                    name: name.text,
                    value,
                    pos: name.pos,
                });
            }
        }
        Ok(out)
    }

    fn directives(&mut self) -> Result<Vec<Directive>, GqlError> {
        let mut out = Vec::new();
        while self.peek().is_some_and(|t| t.is_punct("@")) {
            let at = self.next()?;
            let name = self.name()?.text;
            let arguments = self.arguments(false)?;
            out.push(Directive {
                name,
                arguments,
                pos: at.pos,
            });
        }
        Ok(out)
    }

    fn value(&mut self, constant: bool) -> Result<Value, GqlError> {
        self.enter()?;
        let r = self.value_inner(constant);
        self.leave();
        r
    }

    fn value_inner(&mut self, constant: bool) -> Result<Value, GqlError> {
        let t = self.next()?;
        Ok(match &t.kind {
            Kind::Punct("$") if !constant => Value::Variable(self.name()?.text),
            Kind::Punct("[") => {
                let mut items = Vec::new();
                while !self.eat("]") {
                    items.push(self.value(constant)?);
                }
                Value::List(items)
            }
            Kind::Punct("{") => {
                let mut fields = Vec::new();
                while !self.eat("}") {
                    let name = self.name()?.text;
                    self.expect(":")?;
                    fields.push((name, self.value(constant)?));
                }
                Value::Object(fields)
            }
            Kind::Int => Value::Int(t.text.parse().map_err(|_| t.unexpected())?),
            Kind::Float => Value::Float(t.text.parse().map_err(|_| t.unexpected())?),
            Kind::Str => Value::String(t.text.clone()),
            Kind::Name => match t.text.as_str() {
                "true" => Value::Boolean(true),
                "false" => Value::Boolean(false),
                "null" => Value::Null,
                _ => Value::Enum(t.text.clone()),
            },
            _ => return Err(t.unexpected()),
        })
    }

    fn type_ref(&mut self) -> Result<TypeRef, GqlError> {
        self.enter()?;
        let r = self.type_ref_inner();
        self.leave();
        r
    }

    fn type_ref_inner(&mut self) -> Result<TypeRef, GqlError> {
        let inner = if self.eat("[") {
            let t = self.type_ref()?;
            self.expect("]")?;
            TypeRef::List(Box::new(t))
        } else {
            TypeRef::Named(self.name()?.text)
        };
        Ok(if self.eat("!") {
            TypeRef::NonNull(Box::new(inner))
        } else {
            inner
        })
    }

    /// Skips an optional description string before a schema definition.
    fn description(&mut self) {
        if self.peek().is_some_and(|t| t.kind == Kind::Str) {
            self.at += 1;
        }
    }

    fn input_values(&mut self, close: &str) -> Result<Vec<InputValue>, GqlError> {
        let mut out = Vec::new();
        while !self.eat(close) {
            self.description();
            let name = self.name()?.text;
            self.expect(":")?;
            let ty = self.type_ref()?;
            let default = if self.eat("=") {
                Some(self.value(true)?)
            } else {
                None
            };
            self.directives()?;
            out.push(InputValue { name, ty, default });
        }
        Ok(out)
    }

    fn implements(&mut self) -> Result<Vec<String>, GqlError> {
        let mut out = Vec::new();
        if self.peek().is_some_and(|t| t.is_name("implements")) {
            self.at += 1;
            self.eat("&");
            out.push(self.name()?.text);
            while self.eat("&") {
                out.push(self.name()?.text);
            }
        }
        Ok(out)
    }

    fn fields(&mut self) -> Result<Vec<FieldDef>, GqlError> {
        self.expect("{")?;
        let mut out = Vec::new();
        while !self.eat("}") {
            self.description();
            let name = self.name()?.text;
            let args = if self.eat("(") {
                self.input_values(")")?
            } else {
                Vec::new()
            };
            self.expect(":")?;
            let ty = self.type_ref()?;
            self.directives()?;
            out.push(FieldDef { name, args, ty });
        }
        Ok(out)
    }

    /// Parses schema-language definitions (`type`, `interface`, `union`, `enum`, `input`,
    /// `scalar`, `schema`) into a [`Schema`].
    pub(super) fn schema(mut self) -> Result<Schema, GqlError> {
        let mut schema = Schema::empty();
        while self.peek().is_some() {
            self.description();
            let kw = self.name()?;
            match kw.text.as_str() {
                "schema" => {
                    self.expect("{")?;
                    while !self.eat("}") {
                        let op = self.name()?.text;
                        self.expect(":")?;
                        let ty = self.name()?.text;
                        match op.as_str() {
                            "query" => schema.query = ty,
                            "mutation" => schema.mutation = Some(ty),
                            _ => {}
                        }
                    }
                }
                "scalar" => {
                    let name = self.name()?.text;
                    self.directives()?;
                    schema.add(TypeDef::new(name, TypeKind::Scalar));
                }
                "type" | "interface" => {
                    let name = self.name()?.text;
                    let interfaces = self.implements()?;
                    self.directives()?;
                    let kind = if kw.text == "type" {
                        TypeKind::Object
                    } else {
                        TypeKind::Interface
                    };
                    let mut t = TypeDef::new(name, kind);
                    t.interfaces = interfaces;
                    t.fields = self.fields()?;
                    schema.add(t);
                }
                "union" => {
                    let name = self.name()?.text;
                    self.directives()?;
                    self.expect("=")?;
                    let mut t = TypeDef::new(name, TypeKind::Union);
                    self.eat("|");
                    t.members.push(self.name()?.text);
                    while self.eat("|") {
                        t.members.push(self.name()?.text);
                    }
                    schema.add(t);
                }
                "enum" => {
                    let name = self.name()?.text;
                    self.directives()?;
                    self.expect("{")?;
                    let mut t = TypeDef::new(name, TypeKind::Enum);
                    while !self.eat("}") {
                        self.description();
                        t.values.push(self.name()?.text);
                        self.directives()?;
                    }
                    schema.add(t);
                }
                "input" => {
                    let name = self.name()?.text;
                    self.directives()?;
                    self.expect("{")?;
                    let mut t = TypeDef::new(name, TypeKind::InputObject);
                    t.inputs = self.input_values("}")?;
                    schema.add(t);
                }
                _ => return Err(kw.unexpected()),
            }
        }
        if schema.mutation.is_none() && schema.types.contains_key("Mutation") {
            schema.mutation = Some("Mutation".into());
        }
        Ok(schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_parse_with_positions() {
        let doc = parse_document(
            "query Q($n: Int! = 3, $ids: [ID!]) {\n  org: organization(login: \"acme\") { ...F ... on Organization @include(if: true) { id } }\n}\nfragment F on Organization { login }",
        )
        .unwrap();
        let op = &doc.operations[0];
        assert_eq!(op.name.as_deref(), Some("Q"));
        assert_eq!(op.variables[0].ty.to_string(), "Int!");
        assert_eq!(op.variables[1].ty.to_string(), "[ID!]");
        let Selection::Field(f) = &op.selections[0] else {
            panic!()
        };
        assert_eq!(
            (f.alias.as_deref(), f.name.as_str()),
            (Some("org"), "organization")
        );
        assert_eq!(f.pos, Pos { line: 2, column: 3 });
        assert_eq!(f.selections.len(), 2);
        assert_eq!(doc.fragments[0].type_condition, "Organization");
    }

    #[test]
    fn parse_errors_name_the_token_like_graphql_ruby() {
        let e = parse_document("{ viewer { login }").unwrap_err();
        assert_eq!(e.message, "Unexpected end of document");
        let e = parse_document("{ viewer { login } } }").unwrap_err();
        assert_eq!(e.message, "Parse error on \"}\" (RCURLY) at [1, 22]");
        let e = parse_document("query { a(x: ) }").unwrap_err();
        assert_eq!(e.message, "Parse error on \")\" (RPAREN) at [1, 14]");
        let e = parse_document("{ a ^ }").unwrap_err();
        assert_eq!(e.message, "Parse error on \"^\" (error) at [1, 5]");
        let deep = format!(
            "{{ a(x: {}1{}) }}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(
            parse_document(&deep)
                .unwrap_err()
                .message
                .contains("nests deeper")
        );
    }
}
