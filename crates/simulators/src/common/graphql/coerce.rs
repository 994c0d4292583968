//! Input values: whether a literal fits a type (static validation), and turning variables'
//! JSON and arguments' literals into the JSON values resolvers read.

use super::ast::{TypeRef, Value};
use super::schema::{Schema, TypeKind};
use serde_json::{Map, Value as Json};

/// A variable usage found inside an argument literal: the variable, the type its position
/// expects, and whether that position has a default.
pub(super) struct Usage {
    pub name: String,
    pub expected: TypeRef,
}

/// Whether a literal fits `ty`. Variables fit anywhere here; their usages are collected for
/// the variable-type checks.
pub(super) fn literal_fits(
    schema: &Schema,
    v: &Value,
    ty: &TypeRef,
    usages: &mut Vec<Usage>,
) -> bool {
    if let Value::Variable(name) = v {
        usages.push(Usage {
            name: name.clone(),
            expected: ty.clone(),
        });
        return true;
    }
    match ty {
        TypeRef::NonNull(inner) => *v != Value::Null && literal_fits(schema, v, inner, usages),
        TypeRef::List(inner) => match v {
            Value::Null => true,
            Value::List(items) => items.iter().all(|i| literal_fits(schema, i, inner, usages)),
            single => literal_fits(schema, single, inner, usages),
        },
        TypeRef::Named(name) => {
            if *v == Value::Null {
                return true;
            }
            let Some(t) = schema.get(name) else {
                return false;
            };
            match t.kind {
                TypeKind::Scalar => match name.as_str() {
                    "Int" => matches!(v, Value::Int(i) if i32::try_from(*i).is_ok()),
                    "Float" => matches!(v, Value::Int(_) | Value::Float(_)),
                    "Boolean" => matches!(v, Value::Boolean(_)),
                    "ID" => matches!(v, Value::String(_) | Value::Int(_)),
                    _ => matches!(v, Value::String(_)),
                },
                TypeKind::Enum => matches!(v, Value::Enum(e) if t.values.contains(e)),
                TypeKind::InputObject => {
                    let Value::Object(fields) = v else {
                        return false;
                    };
                    let known = fields.iter().all(|(k, _)| t.input(k).is_some());
                    let required = t
                        .inputs
                        .iter()
                        .filter(|i| i.ty.is_non_null() && i.default.is_none())
                        .all(|i| fields.iter().any(|(k, _)| *k == i.name));
                    known
                        && required
                        && fields.iter().all(|(k, fv)| {
                            t.input(k)
                                .is_some_and(|d| literal_fits(schema, fv, &d.ty, usages))
                        })
                }
                _ => false,
            }
        }
    }
}

/// One problem with a variable's value: where inside it, and what (graphql-ruby's words).
pub(super) struct Problem {
    pub path: Vec<Json>,
    pub explanation: String,
}

/// Coerces a variable's JSON value to `ty`.
pub(super) fn coerce_json(
    schema: &Schema,
    v: &Json,
    ty: &TypeRef,
    path: &mut Vec<Json>,
) -> Result<Json, Problem> {
    let problem = |path: &Vec<Json>, explanation: String| Problem {
        path: path.clone(),
        explanation,
    };
    match ty {
        TypeRef::NonNull(inner) => {
            if v.is_null() {
                return Err(problem(path, "Expected value to not be null".into()));
            }
            coerce_json(schema, v, inner, path)
        }
        TypeRef::List(inner) => match v {
            Json::Null => Ok(Json::Null),
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    path.push(Json::from(i));
                    out.push(coerce_json(schema, item, inner, path)?);
                    path.pop();
                }
                Ok(Json::Array(out))
            }
            single => Ok(Json::Array(vec![coerce_json(schema, single, inner, path)?])),
        },
        TypeRef::Named(name) => {
            if v.is_null() {
                return Ok(Json::Null);
            }
            let Some(t) = schema.get(name) else {
                return Err(problem(path, format!("Unknown type {name}")));
            };
            let cannot = || problem(path, format!("Could not coerce value {v} to {name}"));
            match t.kind {
                TypeKind::Scalar => match name.as_str() {
                    "Int" => v
                        .as_i64()
                        .filter(|i| i32::try_from(*i).is_ok())
                        .map(Json::from)
                        .ok_or_else(cannot),
                    "Float" => v.as_f64().map(Json::from).ok_or_else(cannot),
                    "Boolean" => v.as_bool().map(Json::from).ok_or_else(cannot),
                    "ID" => match v {
                        Json::String(s) => Ok(Json::String(s.clone())),
                        Json::Number(n) if n.is_i64() || n.is_u64() => {
                            Ok(Json::String(n.to_string()))
                        }
                        _ => Err(cannot()),
                    },
                    _ => v
                        .as_str()
                        .map(|s| Json::String(s.to_owned()))
                        .ok_or_else(cannot),
                },
                TypeKind::Enum => match v.as_str() {
                    Some(s) if t.values.iter().any(|e| e == s) => Ok(Json::String(s.to_owned())),
                    _ => Err(problem(
                        path,
                        format!("Expected {v} to be one of: {}", t.values.join(", ")),
                    )),
                },
                TypeKind::InputObject => {
                    let Json::Object(fields) = v else {
                        return Err(cannot());
                    };
                    let mut out = Map::new();
                    for k in fields.keys() {
                        if t.input(k).is_none() {
                            path.push(Json::String(k.clone()));
                            let p = problem(path, format!("Field is not defined on {name}"));
                            path.pop();
                            return Err(p);
                        }
                    }
                    for def in &t.inputs {
                        path.push(Json::String(def.name.clone()));
                        match fields.get(&def.name) {
                            Some(fv) => {
                                out.insert(
                                    def.name.clone(),
                                    coerce_json(schema, fv, &def.ty, path)?,
                                );
                            }
                            None => match &def.default {
                                Some(d) => {
                                    out.insert(
                                        def.name.clone(),
                                        literal_json(schema, d, &def.ty, &Map::new()),
                                    );
                                }
                                None if def.ty.is_non_null() => {
                                    let p = problem(path, "Expected value to not be null".into());
                                    path.pop();
                                    return Err(p);
                                }
                                None => {}
                            },
                        }
                        path.pop();
                    }
                    Ok(Json::Object(out))
                }
                _ => Err(cannot()),
            }
        }
    }
}

/// Turns a literal that passed validation into JSON, substituting variables (`vars` holds
/// the coerced ones; an absent variable leaves an absent value, here `Null`).
pub(super) fn literal_json(
    schema: &Schema,
    v: &Value,
    ty: &TypeRef,
    vars: &Map<String, Json>,
) -> Json {
    match v {
        Value::Variable(name) => vars.get(name).cloned().unwrap_or(Json::Null),
        Value::Null => Json::Null,
        // A single value where a list is expected is a one-item list.
        single
            if matches!(ty.nullable(), TypeRef::List(_)) && !matches!(single, Value::List(_)) =>
        {
            let TypeRef::List(inner) = ty.nullable() else {
                return Json::Null;
            };
            Json::Array(vec![literal_json(schema, single, inner, vars)])
        }
        Value::Int(i) if ty.base() == "ID" => Json::String(i.to_string()),
        Value::Int(i) if ty.base() == "Float" => Json::from(*i as f64),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => Json::from(*f),
        Value::String(s) => Json::String(s.clone()),
        Value::Boolean(b) => Json::Bool(*b),
        Value::Enum(e) => Json::String(e.clone()),
        Value::List(items) => {
            let inner = match ty.nullable() {
                TypeRef::List(inner) => inner.as_ref(),
                other => other,
            };
            Json::Array(
                items
                    .iter()
                    .map(|i| literal_json(schema, i, inner, vars))
                    .collect(),
            )
        }
        Value::Object(fields) => {
            let mut out = Map::new();
            let def = schema.get(ty.base());
            for (k, fv) in fields {
                let fty = def
                    .and_then(|d| d.input(k))
                    .map(|d| d.ty.clone())
                    .unwrap_or(TypeRef::Named("String".into()));
                let val = literal_json(schema, fv, &fty, vars);
                // A variable that was not given leaves the input field absent, not null.
                if matches!(fv, Value::Variable(n) if !vars.contains_key(n)) {
                    continue;
                }
                out.insert(k.clone(), val);
            }
            if let Some(d) = def {
                for i in &d.inputs {
                    if let (false, Some(default)) = (out.contains_key(&i.name), &i.default) {
                        out.insert(i.name.clone(), literal_json(schema, default, &i.ty, vars));
                    }
                }
            }
            Json::Object(out)
        }
    }
}
