//! Static validation with graphql-ruby's messages and `extensions.code`s, the choice of the
//! operation to run, and the coercion of its variables.

use super::GqlError;
use super::ast::*;
use super::coerce::{Usage, coerce_json, literal_fits};
use super::parser::parse_document;
use super::schema::{Schema, TypeDef, TypeKind};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeSet;

/// A document ready to run: valid, its operation chosen, its variables coerced.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub document: Document,
    pub operation: usize,
    pub variables: Map<String, Json>,
}

impl Prepared {
    pub fn operation(&self) -> &Operation {
        &self.document.operations[self.operation]
    }

    pub fn fragment(&self, name: &str) -> Option<&Fragment> {
        self.document.fragments.iter().find(|f| f.name == name)
    }

    /// The names of the root fields the operation selects, in order (fragments included).
    pub fn root_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_names(
            self,
            &self.operation().selections,
            &mut out,
            &mut Vec::new(),
        );
        out
    }
}

fn collect_names(p: &Prepared, sels: &[Selection], out: &mut Vec<String>, seen: &mut Vec<String>) {
    for s in sels {
        match s {
            Selection::Field(f) => out.push(f.name.clone()),
            Selection::Inline(i) => collect_names(p, &i.selections, out, seen),
            Selection::Spread(sp) => {
                if let (false, Some(fr)) = (seen.contains(&sp.name), p.fragment(&sp.name)) {
                    seen.push(sp.name.clone());
                    collect_names(p, &fr.selections, out, seen);
                }
            }
        }
    }
}

/// Parses, validates and picks the operation; coerces its variables. Any failure is the
/// list of errors a response carries without `data`.
pub fn prepare(
    schema: &Schema,
    query: &str,
    operation_name: Option<&str>,
    variables: &Json,
) -> Result<Prepared, Vec<GqlError>> {
    let document = parse_document(query).map_err(|e| vec![e])?;
    let mut v = Validator {
        schema,
        doc: &document,
        errors: Vec::new(),
        used_fragments: BTreeSet::new(),
    };
    for op in &document.operations {
        v.operation(op);
    }
    for f in &document.fragments {
        if !v.used_fragments.contains(&f.name) {
            v.errors.push(
                GqlError::new(format!("Fragment {} was defined, but not used", f.name))
                    .at(f.pos)
                    .path(vec![Json::String(format!("fragment {}", f.name))])
                    .code("useAndDefineFragment", &[("fragmentName", json!(f.name))]),
            );
        }
    }
    if !v.errors.is_empty() {
        return Err(v.errors);
    }
    let operation = match operation_name.filter(|n| !n.is_empty()) {
        Some(name) => document
            .operations
            .iter()
            .position(|o| o.name.as_deref() == Some(name))
            .ok_or_else(|| vec![GqlError::new(format!("No operation named \"{name}\""))])?,
        None if document.operations.len() == 1 => 0,
        None if document.operations.is_empty() => {
            return Err(vec![GqlError::new("No operations in this document")]);
        }
        None => return Err(vec![GqlError::new("An operation name is required")]),
    };
    let variables = coerce_variables(schema, &document.operations[operation], variables)?;
    Ok(Prepared {
        document,
        operation,
        variables,
    })
}

fn coerce_variables(
    schema: &Schema,
    op: &Operation,
    given: &Json,
) -> Result<Map<String, Json>, Vec<GqlError>> {
    let empty = Map::new();
    let given = given.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    let mut errors = Vec::new();
    for def in &op.variables {
        let value = match (given.get(&def.name), &def.default) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => {
                out.insert(
                    def.name.clone(),
                    super::coerce::literal_json(schema, d, &def.ty, &Map::new()),
                );
                continue;
            }
            (None, None) => Json::Null,
        };
        if value.is_null() && !def.ty.is_non_null() && !given.contains_key(&def.name) {
            continue;
        }
        match coerce_json(schema, &value, &def.ty, &mut Vec::new()) {
            Ok(c) => {
                out.insert(def.name.clone(), c);
            }
            Err(p) => {
                let mut ext = Map::new();
                ext.insert("value".into(), value.clone());
                ext.insert(
                    "problems".into(),
                    json!([{ "path": p.path, "explanation": p.explanation }]),
                );
                errors.push(
                    GqlError::new(format!(
                        "Variable ${} of type {} was provided invalid value",
                        def.name, def.ty
                    ))
                    .at(def.pos)
                    .extensions(ext),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

struct Validator<'a> {
    schema: &'a Schema,
    doc: &'a Document,
    errors: Vec<GqlError>,
    used_fragments: BTreeSet<String>,
}

/// What one operation's walk collects: variables used (with where and the type expected).
struct OpScope {
    usages: Vec<(Usage, Pos, String)>,
    fragment_stack: Vec<String>,
}

fn path_with(path: &[Json], key: &str) -> Vec<Json> {
    let mut p = path.to_vec();
    p.push(Json::String(key.to_owned()));
    p
}

impl<'a> Validator<'a> {
    fn operation(&mut self, op: &Operation) {
        let schema = self.schema;
        let root_name = match op.kind {
            OpKind::Query => Some(self.schema.query.clone()),
            OpKind::Mutation => self.schema.mutation.clone(),
            OpKind::Subscription => None,
        };
        let Some(root) = root_name.and_then(|n| schema.get(&n)) else {
            self.errors.push(
                GqlError::new(format!(
                    "Schema is not configured for {}s",
                    op.kind.as_str()
                ))
                .at(op.pos)
                .path(vec![Json::String(op.path_root())])
                .code(
                    &format!("missing{}Configuration", capitalise(op.kind.as_str())),
                    &[],
                ),
            );
            return;
        };
        for def in &op.variables {
            if !self
                .schema
                .get(def.ty.base())
                .is_some_and(TypeDef::is_input)
            {
                self.errors.push(
                    GqlError::new(format!(
                        "{} isn't a defined input type (on ${})",
                        def.ty, def.name
                    ))
                    .at(def.pos)
                    .path(vec![Json::String(op.path_root())])
                    .code(
                        "variableRequiresValidType",
                        &[
                            ("typeName", json!(def.ty.to_string())),
                            ("variableName", json!(def.name)),
                        ],
                    ),
                );
            }
        }
        let mut scope = OpScope {
            usages: Vec::new(),
            fragment_stack: Vec::new(),
        };
        self.directives(&op.directives, &[Json::String(op.path_root())], &mut scope);
        self.selections(
            &op.selections,
            root,
            &[Json::String(op.path_root())],
            &mut scope,
        );
        let label = op.label();
        let used: BTreeSet<&str> = scope
            .usages
            .iter()
            .map(|(u, _, _)| u.name.as_str())
            .collect();
        for def in &op.variables {
            if !used.contains(def.name.as_str()) {
                self.errors.push(
                    GqlError::new(format!(
                        "Variable ${} is declared by {label} but not used",
                        def.name
                    ))
                    .at(def.pos)
                    .path(vec![Json::String(op.path_root())])
                    .code("variableNotUsed", &[("variableName", json!(def.name))]),
                );
            }
        }
        let mut reported = BTreeSet::new();
        for (usage, pos, arg) in &scope.usages {
            match op.variables.iter().find(|d| d.name == usage.name) {
                None => {
                    if reported.insert(usage.name.clone()) {
                        self.errors.push(
                            GqlError::new(format!(
                                "Variable ${} is used by {label} but not declared",
                                usage.name
                            ))
                            .at(*pos)
                            .path(vec![Json::String(op.path_root())])
                            .code("variableNotDefined", &[("variableName", json!(usage.name))]),
                        );
                    }
                }
                Some(def) => self.variable_fits(def, usage, *pos, arg, op),
            }
        }
    }

    fn variable_fits(
        &mut self,
        def: &VariableDef,
        usage: &Usage,
        pos: Pos,
        arg: &str,
        op: &Operation,
    ) {
        let declared = &def.ty;
        let expected = &usage.expected;
        let strip = |t: &TypeRef| -> String { strip_non_null(t).to_string() };
        let mismatch = if strip(declared) != strip(expected) && !list_accepts(declared, expected) {
            Some("Type mismatch")
        } else if expected.is_non_null() && !declared.is_non_null() && def.default.is_none() {
            Some("Nullability mismatch")
        } else {
            None
        };
        if let Some(kind) = mismatch {
            self.errors.push(
                GqlError::new(format!(
                    "{kind} on variable ${} and argument {arg} ({declared} / {expected})",
                    def.name
                ))
                .at(pos)
                .path(vec![Json::String(op.path_root())])
                .code(
                    "variableMismatch",
                    &[
                        ("variableName", json!(def.name)),
                        ("typeName", json!(declared.to_string())),
                        ("argumentName", json!(arg)),
                        ("errorMessage", json!(kind)),
                    ],
                ),
            );
        }
    }

    fn directives(&mut self, directives: &[Directive], path: &[Json], scope: &mut OpScope) {
        for d in directives {
            if d.name != "include" && d.name != "skip" {
                self.errors.push(
                    GqlError::new(format!("Directive @{} is not defined", d.name))
                        .at(d.pos)
                        .path(path.to_vec())
                        .code("undefinedDirective", &[("directiveName", json!(d.name))]),
                );
                continue;
            }
            for a in &d.arguments {
                if let Value::Variable(v) = &a.value {
                    let expected = TypeRef::NonNull(Box::new(TypeRef::Named("Boolean".into())));
                    scope.usages.push((
                        Usage {
                            name: v.clone(),
                            expected,
                        },
                        a.pos,
                        a.name.clone(),
                    ));
                }
            }
            let ok = d.arguments.len() == 1
                && d.arguments[0].name == "if"
                && matches!(d.arguments[0].value, Value::Boolean(_) | Value::Variable(_));
            if !ok {
                self.errors.push(
                    GqlError::new(format!(
                        "Directive '{}' is missing required arguments: if",
                        d.name
                    ))
                    .at(d.pos)
                    .path(path.to_vec())
                    .code(
                        "missingRequiredArguments",
                        &[
                            ("className", json!("Directive")),
                            ("name", json!(d.name)),
                            ("arguments", json!("if")),
                        ],
                    ),
                );
            }
        }
    }

    fn selections(
        &mut self,
        sels: &[Selection],
        parent: &TypeDef,
        path: &[Json],
        scope: &mut OpScope,
    ) {
        for sel in sels {
            match sel {
                Selection::Field(f) => self.field(f, parent, path, scope),
                Selection::Inline(i) => {
                    self.directives(&i.directives, path, scope);
                    let target = match &i.type_condition {
                        None => Some(parent),
                        Some(cond) => self.condition(cond, None, parent, i.pos, path),
                    };
                    if let Some(t) = target {
                        let sub = path_with(path, &format!("... on {}", t.name));
                        self.selections(&i.selections, t, &sub, scope);
                    }
                }
                Selection::Spread(s) => {
                    self.directives(&s.directives, path, scope);
                    self.used_fragments.insert(s.name.clone());
                    let Some(fragment) = self.doc.fragments.iter().find(|f| f.name == s.name)
                    else {
                        self.errors.push(
                            GqlError::new(format!("Fragment {} was used, but not defined", s.name))
                                .at(s.pos)
                                .path(path_with(path, &format!("... {}", s.name)))
                                .code("useAndDefineFragment", &[("fragmentName", json!(s.name))]),
                        );
                        continue;
                    };
                    if scope.fragment_stack.contains(&s.name) {
                        self.errors.push(
                            GqlError::new(format!("Fragment {} contains an infinite loop", s.name))
                                .at(s.pos)
                                .path(path.to_vec())
                                .code("infiniteLoop", &[("fragmentName", json!(s.name))]),
                        );
                        continue;
                    }
                    if let Some(t) =
                        self.condition(&fragment.type_condition, Some(&s.name), parent, s.pos, path)
                    {
                        scope.fragment_stack.push(s.name.clone());
                        let sub = path_with(path, &format!("... {}", s.name));
                        self.selections(&fragment.selections, t, &sub, scope);
                        scope.fragment_stack.pop();
                    }
                }
            }
        }
    }

    /// The type a fragment condition names, if it exists and may be spread inside `parent`.
    fn condition(
        &mut self,
        cond: &str,
        fragment: Option<&str>,
        parent: &TypeDef,
        pos: Pos,
        path: &[Json],
    ) -> Option<&'a TypeDef> {
        let schema = self.schema;
        let Some(t) = schema.get(cond).filter(|t| t.is_composite()) else {
            self.errors.push(
                GqlError::new(format!(
                    "No such type {cond}, so it can't be a fragment condition"
                ))
                .at(pos)
                .path(path.to_vec())
                .code("undefinedType", &[("typeName", json!(cond))]),
            );
            return None;
        };
        if !schema.can_spread(cond, &parent.name) {
            let name = fragment.map(|n| format!("{n} ")).unwrap_or_default();
            self.errors.push(
                GqlError::new(format!(
                    "Fragment {name}on {cond} can't be spread inside {}",
                    parent.name
                ))
                .at(pos)
                .path(path.to_vec())
                .code(
                    "cannotSpreadFragment",
                    &[
                        (
                            "fragmentName",
                            json!(
                                fragment
                                    .map(|n| n.to_owned())
                                    .unwrap_or_else(|| format!("on {cond}"))
                            ),
                        ),
                        ("spreadType", json!(cond)),
                        ("parentType", json!(parent.name)),
                    ],
                ),
            );
            return None;
        }
        Some(t)
    }

    fn field(&mut self, f: &Field, parent: &TypeDef, path: &[Json], scope: &mut OpScope) {
        let schema = self.schema;
        let fpath = path_with(path, f.response_key());
        self.directives(&f.directives, &fpath, scope);
        if f.name == "__typename" {
            return;
        }
        if parent.kind == TypeKind::Union {
            self.errors.push(
                GqlError::new(format!(
                    "Selections can't be made directly on unions (see selections on {})",
                    parent.name
                ))
                .at(f.pos)
                .path(fpath)
                .code("selectionMismatch", &[("nodeName", json!(parent.name))]),
            );
            return;
        }
        let Some(def) = parent.field(&f.name) else {
            self.errors.push(
                GqlError::new(format!(
                    "Field '{}' doesn't exist on type '{}'",
                    f.name, parent.name
                ))
                .at(f.pos)
                .path(fpath)
                .code(
                    "undefinedField",
                    &[
                        ("typeName", json!(parent.name)),
                        ("fieldName", json!(f.name)),
                    ],
                ),
            );
            return;
        };
        for a in &f.arguments {
            let apath = path_with(&fpath, &a.name);
            let Some(adef) = def.arg(&a.name) else {
                self.errors.push(
                    GqlError::new(format!(
                        "Field '{}' doesn't accept argument '{}'",
                        f.name, a.name
                    ))
                    .at(a.pos)
                    .path(apath)
                    .code(
                        "argumentNotAccepted",
                        &[
                            ("name", json!(f.name)),
                            ("typeName", json!("Field")),
                            ("argumentName", json!(a.name)),
                        ],
                    ),
                );
                continue;
            };
            let mut usages = Vec::new();
            if !literal_fits(self.schema, &a.value, &adef.ty, &mut usages) {
                self.errors.push(
                    GqlError::new(format!(
                        "Argument '{}' on Field '{}' has an invalid value ({}). Expected type '{}'.",
                        a.name, f.name, a.value, adef.ty
                    ))
                    .at(a.pos)
                    .path(apath)
                    .code("argumentLiteralsIncompatible", &[("typeName", json!("Field")), ("argumentName", json!(a.name))]),
                );
            }
            scope
                .usages
                .extend(usages.into_iter().map(|u| (u, a.pos, a.name.clone())));
        }
        let missing: Vec<&str> = def
            .args
            .iter()
            .filter(|d| {
                d.ty.is_non_null()
                    && d.default.is_none()
                    && !f.arguments.iter().any(|a| a.name == d.name)
            })
            .map(|d| d.name.as_str())
            .collect();
        if !missing.is_empty() {
            let list = missing.join(", ");
            self.errors.push(
                GqlError::new(format!(
                    "Field '{}' is missing required arguments: {list}",
                    f.name
                ))
                .at(f.pos)
                .path(fpath.clone())
                .code(
                    "missingRequiredArguments",
                    &[
                        ("className", json!("Field")),
                        ("name", json!(f.name)),
                        ("arguments", json!(list)),
                    ],
                ),
            );
        }
        let Some(ret) = schema.get(def.ty.base()) else {
            return;
        };
        if ret.is_composite() && f.selections.is_empty() {
            self.errors.push(
                GqlError::new(format!(
                    "Field must have selections (field '{}' returns {} but has no selections. Did you mean '{} {{ ... }}'?)",
                    f.name, ret.name, f.name
                ))
                .at(f.pos)
                .path(fpath)
                .code("selectionMismatch", &[("nodeName", json!(format!("field '{}'", f.name))), ("typeName", json!(ret.name))]),
            );
        } else if !ret.is_composite() && !f.selections.is_empty() {
            let names: Vec<String> = f
                .selections
                .iter()
                .map(|s| match s {
                    Selection::Field(x) => x.name.clone(),
                    Selection::Spread(x) => format!("... {}", x.name),
                    Selection::Inline(_) => "...".into(),
                })
                .collect();
            let what = if ret.kind == TypeKind::Enum {
                "enums"
            } else {
                "scalars"
            };
            self.errors.push(
                GqlError::new(format!(
                    "Selections can't be made on {what} (field '{}' returns {} but has selections [{}])",
                    f.name,
                    ret.name,
                    names.join(", ")
                ))
                .at(f.pos)
                .path(fpath)
                .code("selectionMismatch", &[("nodeName", json!(format!("field '{}'", f.name))), ("typeName", json!(ret.name))]),
            );
        } else if ret.is_composite() {
            self.selections(&f.selections, ret, &fpath, scope);
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn strip_non_null(t: &TypeRef) -> TypeRef {
    match t {
        TypeRef::NonNull(inner) => strip_non_null(inner),
        TypeRef::List(inner) => TypeRef::List(Box::new(strip_non_null(inner))),
        named => named.clone(),
    }
}

/// A variable of item type where a list of that type is expected (coerced to a one-item
/// list) is accepted.
fn list_accepts(declared: &TypeRef, expected: &TypeRef) -> bool {
    match strip_non_null(expected) {
        TypeRef::List(inner) => strip_non_null(declared) == *inner,
        _ => false,
    }
}

/// Calls `visit(parent_type, field)` for every field the prepared operation selects (through
/// fragments), `__typename` excepted: for checks a vendor makes on the whole document before
/// running it (GitHub's token scopes).
pub fn visit_fields(schema: &Schema, p: &Prepared, visit: &mut dyn FnMut(&str, &Field)) {
    let op = p.operation();
    let root = match op.kind {
        OpKind::Mutation => schema.mutation.clone().unwrap_or_default(),
        _ => schema.query.clone(),
    };
    walk(schema, p, &op.selections, &root, visit, &mut Vec::new());
}

fn walk(
    schema: &Schema,
    p: &Prepared,
    sels: &[Selection],
    parent: &str,
    visit: &mut dyn FnMut(&str, &Field),
    seen: &mut Vec<String>,
) {
    for s in sels {
        match s {
            Selection::Field(f) => {
                if f.name == "__typename" {
                    continue;
                }
                visit(parent, f);
                let child = schema
                    .get(parent)
                    .and_then(|t| t.field(&f.name))
                    .map(|d| d.ty.base().to_owned());
                if let Some(child) = child {
                    walk(schema, p, &f.selections, &child, visit, seen);
                }
            }
            Selection::Inline(i) => {
                let t = i
                    .type_condition
                    .clone()
                    .unwrap_or_else(|| parent.to_owned());
                walk(schema, p, &i.selections, &t, visit, seen);
            }
            Selection::Spread(sp) => {
                if seen.contains(&sp.name) {
                    continue;
                }
                if let Some(fr) = p.fragment(&sp.name) {
                    seen.push(sp.name.clone());
                    walk(schema, p, &fr.selections, &fr.type_condition, visit, seen);
                    seen.pop();
                }
            }
        }
    }
}
