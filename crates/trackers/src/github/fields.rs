//! Project items and their field values: adding an issue to the project (idempotent on
//! GitHub's side), and writing several fields in one GraphQL request of aliased mutations,
//! each alias reported as a [`Part`] once GitHub has it.

use super::api::{Api, gql_error, message};
use super::project::{
    ProjectInfo, custom_value, severity_values, single_select_problem, status_values,
};
use crate::{Progress, RequestClass, TrackerError};
use domain::tracker::{FieldValue, MappingConfig, Part};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One field write: the part it stands for, the field, the value (`None` clears it).
#[derive(Clone, Debug)]
pub struct Write {
    pub part: Part,
    pub field_id: String,
    pub value: Option<Value>,
}

/// The writes a push needs on the project: severity and status by option name, custom
/// fields by their type. A field or option the project lacks is `Misconfigured`, naming the
/// project, the field and what to create.
pub fn plan(
    p: &ProjectInfo,
    m: &MappingConfig,
    severity: Option<&FieldValue>,
    status: Option<&FieldValue>,
    custom: &BTreeMap<String, Value>,
) -> Result<Vec<Write>, TrackerError> {
    let mut out = Vec::new();
    for (part, fv, all) in [
        (Part::Severity, severity, severity_values(m)),
        (Part::Status, status, status_values(m)),
    ] {
        let Some(fv) = fv else { continue };
        let mut wanted = all;
        if !wanted.contains(&fv.value) {
            wanted.push(fv.value.clone());
        }
        // Refused on any gap in the mapped options, not only the value at hand: a project
        // that cannot take every mapped value fails a later push anyway (seeds: the field and
        // each option must exist before issues push).
        if let Some(problem) = single_select_problem(p, &fv.field, &wanted) {
            return Err(TrackerError::Misconfigured(problem));
        }
        let f = p.field(&fv.field).ok_or_else(|| {
            TrackerError::Misconfigured(format!("{} has no field \"{}\"", p.describe(), fv.field))
        })?;
        let id = f.option(&fv.value).ok_or_else(|| {
            TrackerError::Misconfigured(format!(
                "{} field \"{}\" has no option \"{}\"",
                p.describe(),
                fv.field,
                fv.value
            ))
        })?;
        out.push(Write {
            part,
            field_id: f.id.clone(),
            value: Some(json!({ "singleSelectOptionId": id })),
        });
    }
    for (name, v) in custom {
        let (field_id, value) = custom_value(p, name, v).map_err(TrackerError::Misconfigured)?;
        out.push(Write {
            part: Part::Custom(name.clone()),
            field_id,
            value,
        });
    }
    Ok(out)
}

/// Adds the issue to the project, or finds the item it already has: the item's id.
pub async fn add_item(
    api: &Api,
    p: &ProjectInfo,
    content_id: &str,
    what: &str,
) -> Result<String, TrackerError> {
    let q = "mutation($project: ID!, $content: ID!) { addProjectV2ItemById(input: {projectId: $project, contentId: $content}) { item { id } } }";
    let what = format!("adding {what} to {}", p.describe());
    let a = api
        .graphql(
            RequestClass::Create,
            &what,
            q,
            json!({ "project": p.id, "content": content_id }),
        )
        .await?;
    if let Some(e) = a.errors.first() {
        return Err(gql_error(e, &what));
    }
    a.data["addProjectV2ItemById"]["item"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| TrackerError::Protocol(format!("{what}: no item in the answer")))
}

/// What a field request left undone: the failed writes and the first error.
pub struct Failed {
    pub writes: Vec<Write>,
    pub error: TrackerError,
    /// The failure says an id is stale (a field, option or item GitHub no longer has).
    pub stale: bool,
}

/// Sends every write in one request of aliased mutations, in order. Each write that lands is
/// recorded in `progress`.
pub async fn write(
    api: &Api,
    p: &ProjectInfo,
    item_id: &str,
    writes: &[Write],
    what: &str,
    progress: &mut Progress,
) -> Result<(), Failed> {
    if writes.is_empty() {
        return Ok(());
    }
    let mut decl = vec!["$project: ID!".to_owned(), "$item: ID!".to_owned()];
    let mut body = Vec::new();
    let mut vars = Map::new();
    vars.insert("project".into(), json!(p.id));
    vars.insert("item".into(), json!(item_id));
    for (i, w) in writes.iter().enumerate() {
        decl.push(format!("$f{i}: ID!"));
        vars.insert(format!("f{i}"), json!(w.field_id));
        match &w.value {
            Some(v) => {
                decl.push(format!("$v{i}: ProjectV2FieldValue!"));
                vars.insert(format!("v{i}"), v.clone());
                body.push(format!(
                    "  w{i}: updateProjectV2ItemFieldValue(input: {{projectId: $project, itemId: $item, fieldId: $f{i}, value: $v{i}}}) {{ projectV2Item {{ id }} }}"
                ));
            }
            None => body.push(format!(
                "  w{i}: clearProjectV2ItemFieldValue(input: {{projectId: $project, itemId: $item, fieldId: $f{i}}}) {{ projectV2Item {{ id }} }}"
            )),
        }
    }
    let query = format!("mutation({}) {{\n{}\n}}", decl.join(", "), body.join("\n"));
    let what = format!("fields of {what} in {}", p.describe());
    let a = match api
        .graphql(RequestClass::Write, &what, &query, Value::Object(vars))
        .await
    {
        Ok(a) => a,
        Err(error) => {
            return Err(Failed {
                writes: writes.to_vec(),
                error,
                stale: false,
            });
        }
    };
    let mut failed = Vec::new();
    let mut first: Option<&Value> = None;
    for (i, w) in writes.iter().enumerate() {
        let alias = format!("w{i}");
        let landed = !a.data.get(&alias).is_none_or(Value::is_null);
        if landed {
            progress.did(w.part.clone());
        } else {
            failed.push(w.clone());
            let err = a
                .errors
                .iter()
                .find(|e| e["path"].get(0).and_then(Value::as_str) == Some(alias.as_str()));
            first = first.or(err);
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    let e = first.or(a.errors.first());
    let stale = e.is_some_and(|e| {
        e["type"] == "NOT_FOUND" || message(e).contains("does not belong to the field")
    });
    let error = e.map(|e| gql_error(e, &what)).unwrap_or_else(|| {
        TrackerError::Protocol(format!(
            "{what}: GitHub answered without setting the fields"
        ))
    });
    Err(Failed {
        writes: failed,
        error,
        stale,
    })
}
