//! What GitHub checks on a whole GraphQL document before running it: the token's scopes for
//! each field, pagination bounds of every connection, and the document's cost in points.

use super::super::api::Caller;
use crate::common::graphql::{Field, GqlError, Prepared, Schema, Selection, Value, visit_fields};
use serde_json::Value as Json;

/// Mutations that need the `project` scope.
const PROJECT_MUTATIONS: &[&str] = &[
    "addProjectV2ItemById",
    "updateProjectV2ItemFieldValue",
    "clearProjectV2ItemFieldValue",
    "deleteProjectV2Item",
];

/// Mutations that create content (GitHub's secondary content-creation limit counts them).
pub const CONTENT_MUTATIONS: &[&str] = &["addProjectV2ItemById"];

/// The scope a field needs, if any.
fn needed_scope(parent: &str, field: &str) -> Option<&'static str> {
    if parent == "Mutation" {
        return match field {
            f if PROJECT_MUTATIONS.contains(&f) => Some("project"),
            "deleteIssue" => Some("repo"),
            _ => None,
        };
    }
    if field == "projectV2" || field == "projectItems" || parent.starts_with("ProjectV2") {
        return Some("read:project");
    }
    None
}

/// `INSUFFICIENT_SCOPES` errors for every field the classic token's scopes do not cover (a
/// fine-grained token has none to check).
pub fn scopes(schema: &Schema, p: &Prepared, caller: &Caller, base: &str) -> Vec<GqlError> {
    let Some(granted) = &caller.scopes else {
        return Vec::new();
    };
    let mut sorted = granted.clone();
    sorted.sort();
    let shown = sorted
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut errors = Vec::new();
    visit_fields(schema, p, &mut |parent, f| {
        if let Some(scope) = needed_scope(parent, &f.name)
            && !caller.has_scope(scope)
        {
            errors.push(
                GqlError::new(format!(
                    "Your token has not been granted the required scopes to execute this query. The '{}' field requires one of the following scopes: ['{scope}'], but your token has only been granted the: [{shown}] scopes. Please modify your token's scopes at: {base}/settings/tokens.",
                    f.name
                ))
                .at(f.pos)
                .kind("INSUFFICIENT_SCOPES"),
            );
        }
    });
    errors
}

/// An integer argument, literal or variable.
fn int_arg(p: &Prepared, f: &Field, name: &str) -> Option<i64> {
    f.arguments
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| match &a.value {
            Value::Int(i) => Some(*i),
            Value::Variable(v) => p.variables.get(v).and_then(Json::as_i64),
            _ => None,
        })
}

fn is_connection(schema: &Schema, parent: &str, field: &str) -> bool {
    schema
        .get(parent)
        .and_then(|t| t.field(field))
        .is_some_and(|d| d.ty.base().ends_with("Connection"))
}

/// `MISSING_PAGINATION_BOUNDARIES` and `EXCESSIVE_PAGINATION` errors, as GitHub reports
/// them for connections without `first`/`last` or asking for more than 100 nodes.
pub fn pagination(schema: &Schema, p: &Prepared) -> Vec<GqlError> {
    let mut errors = Vec::new();
    visit_fields(schema, p, &mut |parent, f| {
        if !is_connection(schema, parent, &f.name) {
            return;
        }
        let first = int_arg(p, f, "first");
        let last = int_arg(p, f, "last");
        if first.is_none() && last.is_none() {
            errors.push(
                GqlError::new(format!("You must provide a `first` or `last` value to properly paginate the `{}` connection.", f.name))
                    .at(f.pos)
                    .kind("MISSING_PAGINATION_BOUNDARIES"),
            );
        }
        for (arg, n) in [("first", first), ("last", last)] {
            if let Some(n) = n.filter(|n| *n > 100) {
                errors.push(
                    GqlError::new(format!("Requesting {n} records on the `{}` connection exceeds the `{arg}` limit of 100 records.", f.name))
                        .at(f.pos)
                        .kind("EXCESSIVE_PAGINATION"),
                );
            }
        }
    });
    errors
}

/// The document's cost as GitHub computes it: for every connection, the requests needed to
/// fill it (the product of the `first`/`last` of the connections around it), summed, divided
/// by 100 and rounded, at least 1. Also the node count (nodes the document may return).
pub fn cost(schema: &Schema, p: &Prepared) -> (u32, u32) {
    let op = p.operation();
    let root = match op.kind {
        crate::common::graphql::OpKind::Mutation => schema.mutation.clone().unwrap_or_default(),
        _ => schema.query.clone(),
    };
    let mut requests = 0u64;
    let mut nodes = 0u64;
    walk(
        schema,
        p,
        &op.selections,
        &root,
        1,
        &mut requests,
        &mut nodes,
        &mut Vec::new(),
    );
    let points = ((requests as f64) / 100.0).round().max(1.0);
    (points as u32, u32::try_from(nodes).unwrap_or(u32::MAX))
}

#[allow(clippy::too_many_arguments)]
fn walk(
    schema: &Schema,
    p: &Prepared,
    sels: &[Selection],
    parent: &str,
    outer: u64,
    requests: &mut u64,
    nodes: &mut u64,
    seen: &mut Vec<String>,
) {
    for s in sels {
        match s {
            Selection::Field(f) => {
                let Some(child) = schema
                    .get(parent)
                    .and_then(|t| t.field(&f.name))
                    .map(|d| d.ty.base().to_owned())
                else {
                    continue;
                };
                let mut inner = outer;
                if child.ends_with("Connection") {
                    let size = int_arg(p, f, "first")
                        .or_else(|| int_arg(p, f, "last"))
                        .unwrap_or(0)
                        .clamp(0, 100) as u64;
                    *requests += outer;
                    inner = outer.saturating_mul(size.max(1));
                    *nodes = nodes.saturating_add(inner);
                }
                walk(
                    schema,
                    p,
                    &f.selections,
                    &child,
                    inner,
                    requests,
                    nodes,
                    seen,
                );
            }
            Selection::Inline(i) => {
                let t = i
                    .type_condition
                    .clone()
                    .unwrap_or_else(|| parent.to_owned());
                walk(schema, p, &i.selections, &t, outer, requests, nodes, seen);
            }
            Selection::Spread(sp) => {
                if seen.contains(&sp.name) {
                    continue;
                }
                if let Some(fr) = p.fragment(&sp.name) {
                    seen.push(sp.name.clone());
                    walk(
                        schema,
                        p,
                        &fr.selections,
                        &fr.type_condition,
                        outer,
                        requests,
                        nodes,
                        seen,
                    );
                    seen.pop();
                }
            }
        }
    }
}

/// How many content-creating mutations the document runs.
pub fn content_creations(p: &Prepared) -> u32 {
    p.root_fields()
        .iter()
        .filter(|f| CONTENT_MUTATIONS.contains(&f.as_str()))
        .count() as u32
}
