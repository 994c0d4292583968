//! Runs a prepared operation over a [`Resolver`]: fields in document order (root mutation
//! fields one after the other), aliases, fragments by the object's concrete type, arguments
//! coerced with defaults, `__typename`, and nulls propagated as the spec says when a
//! non-null field fails.

use super::GqlError;
use super::ast::{Field, Pos, Selection, TypeRef, Value};
use super::coerce::literal_json;
use super::schema::{Schema, TypeKind};
use super::validate::Prepared;
use serde_json::{Map, Value as Json};

/// What a resolver returns for a field.
#[derive(Clone, Debug)]
pub enum Out<O> {
    Null,
    /// A leaf value (scalar or enum), already as JSON.
    Value(Json),
    /// An object, whose fields are resolved next.
    Object(O),
    List(Vec<Out<O>>),
}

/// One field to resolve.
#[derive(Debug)]
pub struct FieldCall<'a> {
    pub name: &'a str,
    /// The object type the field is selected on.
    pub parent_type: &'a str,
    /// Arguments, coerced, defaults applied (an absent nullable argument is absent).
    pub args: &'a Map<String, Json>,
    /// The field's selections (to know what a client asked for, e.g. for costs).
    pub field: &'a Field,
    pub pos: Pos,
}

impl FieldCall<'_> {
    pub fn arg_str(&self, name: &str) -> Option<&str> {
        self.args.get(name).and_then(Json::as_str)
    }

    pub fn arg_i64(&self, name: &str) -> Option<i64> {
        self.args.get(name).and_then(Json::as_i64)
    }
}

/// A simulator's data behind the schema.
pub trait Resolver {
    /// A handle to one object (a project, an issue, the query root…).
    type Obj: Clone;

    /// The object's concrete type name (for fragments and `__typename`).
    fn type_of(&self, obj: &Self::Obj) -> String;

    /// Resolves one field of `obj`. An error becomes an entry of `errors` (path and location
    /// are added here) and the field's value is null.
    fn resolve(
        &mut self,
        obj: &Self::Obj,
        call: &FieldCall<'_>,
    ) -> Result<Out<Self::Obj>, GqlError>;
}

/// Executes the prepared operation from `root`: returns `data` and the field errors.
pub fn execute<R: Resolver>(
    schema: &Schema,
    p: &Prepared,
    resolver: &mut R,
    root: R::Obj,
) -> (Json, Vec<GqlError>) {
    let mut ex = Executor {
        schema,
        p,
        resolver,
        errors: Vec::new(),
    };
    let selections: Vec<&Selection> = p.operation().selections.iter().collect();
    let data = match ex.object(&root, &selections, &mut Vec::new()) {
        Ok(map) => Json::Object(map),
        Err(()) => Json::Null,
    };
    (data, ex.errors)
}

struct Executor<'s, 'r, R: Resolver> {
    schema: &'s Schema,
    p: &'s Prepared,
    resolver: &'r mut R,
    errors: Vec<GqlError>,
}

impl<'s, R: Resolver> Executor<'s, '_, R> {
    fn included(&self, directives: &[super::ast::Directive]) -> bool {
        directives.iter().all(|d| {
            let cond = d.arguments.first().map(|a| match &a.value {
                Value::Boolean(b) => *b,
                Value::Variable(v) => self
                    .p
                    .variables
                    .get(v)
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
                _ => false,
            });
            match (d.name.as_str(), cond) {
                ("skip", Some(c)) => !c,
                ("include", Some(c)) => c,
                _ => true,
            }
        })
    }

    /// Groups the fields to resolve on an object of `type_name` by response key, in order.
    fn collect(
        &self,
        type_name: &str,
        sels: &[&'s Selection],
        out: &mut Vec<(String, Vec<&'s Field>)>,
        seen: &mut Vec<String>,
    ) {
        for s in sels {
            match s {
                Selection::Field(f) => {
                    if !self.included(&f.directives) {
                        continue;
                    }
                    let key = f.response_key().to_owned();
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, fs)) => fs.push(f),
                        None => out.push((key, vec![f])),
                    }
                }
                Selection::Inline(i) => {
                    let applies = i
                        .type_condition
                        .as_deref()
                        .is_none_or(|c| self.schema.is_possible(c, type_name));
                    if applies && self.included(&i.directives) {
                        let inner: Vec<&Selection> = i.selections.iter().collect();
                        self.collect(type_name, &inner, out, seen);
                    }
                }
                Selection::Spread(sp) => {
                    if seen.contains(&sp.name) || !self.included(&sp.directives) {
                        continue;
                    }
                    if let Some(fr) = self.p.fragment(&sp.name)
                        && self.schema.is_possible(&fr.type_condition, type_name)
                    {
                        seen.push(sp.name.clone());
                        let inner: Vec<&Selection> = fr.selections.iter().collect();
                        self.collect(type_name, &inner, out, seen);
                        seen.pop();
                    }
                }
            }
        }
    }

    /// Resolves an object's selected fields. `Err` when a non-null field ended up null: the
    /// object itself becomes null.
    fn object(
        &mut self,
        obj: &R::Obj,
        sels: &[&'s Selection],
        path: &mut Vec<Json>,
    ) -> Result<Map<String, Json>, ()> {
        let type_name = self.resolver.type_of(obj);
        let mut groups = Vec::new();
        self.collect(&type_name, sels, &mut groups, &mut Vec::new());
        let mut out = Map::new();
        for (key, fields) in groups {
            let f = fields[0];
            if f.name == "__typename" {
                out.insert(key, Json::String(type_name.clone()));
                continue;
            }
            let schema = self.schema;
            let Some(def) = schema.get(&type_name).and_then(|t| t.field(&f.name)) else {
                out.insert(key, Json::Null);
                continue;
            };
            let mut args = Map::new();
            for a in &f.arguments {
                let ty = def
                    .arg(&a.name)
                    .map(|d| d.ty.clone())
                    .unwrap_or(TypeRef::Named("String".into()));
                if let Value::Variable(v) = &a.value
                    && !self.p.variables.contains_key(v)
                {
                    continue;
                }
                args.insert(
                    a.name.clone(),
                    literal_json(schema, &a.value, &ty, &self.p.variables),
                );
            }
            for d in &def.args {
                if let (false, Some(default)) = (args.contains_key(&d.name), &d.default) {
                    args.insert(
                        d.name.clone(),
                        literal_json(schema, default, &d.ty, &self.p.variables),
                    );
                }
            }
            path.push(Json::String(key.clone()));
            let call = FieldCall {
                name: &f.name,
                parent_type: &type_name,
                args: &args,
                field: f,
                pos: f.pos,
            };
            let resolved = self.resolver.resolve(obj, &call);
            let value = match resolved {
                Ok(v) => {
                    let sub: Vec<&Selection> =
                        fields.iter().flat_map(|x| x.selections.iter()).collect();
                    self.complete(v, &def.ty, &sub, path, f)
                }
                Err(mut e) => {
                    if e.path.is_none() {
                        e.path = Some(Box::new(path.clone()));
                    }
                    if e.locations.is_empty() {
                        e.locations.push(f.pos);
                    }
                    self.errors.push(e);
                    if def.ty.is_non_null() {
                        Err(())
                    } else {
                        Ok(Json::Null)
                    }
                }
            };
            path.pop();
            match value {
                Ok(v) => {
                    out.insert(key, v);
                }
                Err(()) => return Err(()),
            }
        }
        Ok(out)
    }

    /// Completes a resolved value against the field's type. `Err`: null where the type
    /// forbids it.
    fn complete(
        &mut self,
        v: Out<R::Obj>,
        ty: &TypeRef,
        sels: &[&'s Selection],
        path: &mut Vec<Json>,
        f: &Field,
    ) -> Result<Json, ()> {
        match ty {
            TypeRef::NonNull(inner) => {
                if matches!(v, Out::Null) {
                    self.errors.push(
                        GqlError::new(format!(
                            "Cannot return null for non-nullable field {}",
                            f.name
                        ))
                        .at(f.pos)
                        .path(path.clone()),
                    );
                    return Err(());
                }
                match self.complete(v, inner, sels, path, f)? {
                    Json::Null => Err(()),
                    x => Ok(x),
                }
            }
            TypeRef::List(inner) => match v {
                Out::Null => Ok(Json::Null),
                Out::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.into_iter().enumerate() {
                        path.push(Json::from(i));
                        let r = self.complete(item, inner, sels, path, f);
                        path.pop();
                        match r {
                            Ok(x) => out.push(x),
                            Err(()) => return Ok(Json::Null),
                        }
                    }
                    Ok(Json::Array(out))
                }
                single => {
                    let x = self.complete(single, inner, sels, path, f);
                    Ok(x.map(|x| Json::Array(vec![x])).unwrap_or(Json::Null))
                }
            },
            TypeRef::Named(name) => match v {
                Out::Null => Ok(Json::Null),
                Out::Value(x) => Ok(x),
                Out::List(_) => Ok(Json::Null),
                Out::Object(o) => {
                    let composite = self
                        .schema
                        .get(name)
                        .is_some_and(|t| t.kind != TypeKind::Scalar && t.kind != TypeKind::Enum);
                    if !composite {
                        return Ok(Json::Null);
                    }
                    match self.object(&o, sels, path) {
                        Ok(map) => Ok(Json::Object(map)),
                        Err(()) => Ok(Json::Null),
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::graphql::{Schema, prepare};
    use serde_json::json;

    const SDL: &str = r#"
        type Query { shelf(id: ID!): Shelf  shelves: [Shelf!]! }
        type Shelf { id: ID! name: String! books(tags: [String!]): [Book!] }
        type Book { title: String! year: Int }
    "#;

    /// Shelves `a` and `b`; shelf `b` has a book without a title (a non-null field that
    /// resolves to null).
    struct Library;

    impl Resolver for Library {
        type Obj = (String, String);

        fn type_of(&self, obj: &Self::Obj) -> String {
            obj.0.clone()
        }

        fn resolve(
            &mut self,
            obj: &Self::Obj,
            call: &FieldCall<'_>,
        ) -> Result<Out<Self::Obj>, GqlError> {
            let shelf = |id: &str| Out::Object(("Shelf".to_owned(), id.to_owned()));
            Ok(match (obj.0.as_str(), call.name) {
                ("Query", "shelf") => match call.arg_str("id") {
                    Some(id @ ("a" | "b")) => shelf(id),
                    _ => return Err(GqlError::new("no such shelf").kind("NOT_FOUND")),
                },
                ("Query", "shelves") => Out::List(vec![shelf("a"), shelf("b")]),
                ("Shelf", "id") => Out::Value(json!(obj.1)),
                ("Shelf", "name") => Out::Value(json!(format!("shelf {}", obj.1))),
                ("Shelf", "books") => {
                    let tags = call.args.get("tags").cloned().unwrap_or(json!(null));
                    Out::List(vec![Out::Object((
                        "Book".to_owned(),
                        format!("{}|{tags}", obj.1),
                    ))])
                }
                ("Book", "title") if obj.1.starts_with('b') => Out::Null,
                ("Book", "title") => Out::Value(json!(obj.1)),
                _ => Out::Null,
            })
        }
    }

    fn run(query: &str, vars: serde_json::Value) -> (serde_json::Value, Vec<GqlError>) {
        let schema = Schema::parse(SDL).unwrap();
        let p = prepare(&schema, query, None, &vars).unwrap();
        execute(
            &schema,
            &p,
            &mut Library,
            ("Query".to_owned(), String::new()),
        )
    }

    #[test]
    fn aliases_fragments_and_directives() {
        let (data, errors) = run(
            "query($skip: Boolean!) { x: shelf(id: \"a\") { ...F name @skip(if: $skip) } y: shelf(id: \"a\") { __typename } } fragment F on Shelf { id }",
            json!({ "skip": true }),
        );
        assert!(errors.is_empty());
        assert_eq!(
            data,
            json!({ "x": { "id": "a" }, "y": { "__typename": "Shelf" } })
        );
    }

    #[test]
    fn a_single_value_fills_a_list_argument() {
        let (data, _) = run(
            "{ shelf(id: \"a\") { books(tags: \"new\") { title } } }",
            json!({}),
        );
        assert_eq!(data["shelf"]["books"][0]["title"], "a|[\"new\"]");
    }

    #[test]
    fn errors_null_their_field_and_nulls_propagate_to_the_nearest_nullable_parent() {
        let (data, errors) = run("{ shelf(id: \"z\") { id } }", json!({}));
        assert_eq!(data, json!({ "shelf": null }));
        assert_eq!(errors[0].kind.as_deref(), Some("NOT_FOUND"));
        assert_eq!(errors[0].path.as_deref(), Some(&vec![json!("shelf")]));
        // Book.title is non-null: the null makes the book null, which `[Book!]` forbids, so the
        // list is null (it is nullable).
        let (data, errors) = run("{ shelves { id books { title } } }", json!({}));
        assert_eq!(
            data,
            json!({ "shelves": [{ "id": "a", "books": [{ "title": "a|null" }] }, { "id": "b", "books": null }] })
        );
        assert_eq!(
            errors[0].message,
            "Cannot return null for non-nullable field title"
        );
        assert_eq!(
            errors[0].path.as_deref(),
            Some(&vec![
                json!("shelves"),
                json!(1),
                json!("books"),
                json!(0),
                json!("title")
            ])
        );
    }
}
