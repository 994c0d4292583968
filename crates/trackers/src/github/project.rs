//! A mapping's Projects (v2) project: its ids, fields and options looked up once and cached,
//! checked against what the mapping writes, and mapping values turned into
//! `ProjectV2FieldValue`s.

use super::api::{Api, first_error};
use crate::{RequestClass, TrackerError};
use domain::tracker::MappingConfig;
use domain::{Severity, Status};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

const PROJECT_QUERY: &str = r#"query($owner: String!, $number: Int!) {
  repositoryOwner(login: $owner) {
    __typename
    ... on ProjectV2Owner {
      projectV2(number: $number) {
        id
        title
        number
        fields(first: 100) {
          nodes {
            ... on ProjectV2FieldCommon { id name dataType }
            ... on ProjectV2SingleSelectField { options { id name } }
          }
        }
      }
    }
  }
}"#;

#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub id: String,
    pub name: String,
    /// `SINGLE_SELECT`, `TEXT`, `NUMBER`, `DATE`, `TITLE`…
    pub data_type: String,
    /// Option name → id (single-select fields).
    pub options: Vec<(String, String)>,
}

impl FieldInfo {
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct ProjectInfo {
    pub id: String,
    pub number: u32,
    pub title: String,
    /// Whether the owner is an organization (only those send `projects_v2_item` webhooks).
    pub org_owned: bool,
    pub fields: Vec<FieldInfo>,
}

impl ProjectInfo {
    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// `project 1 "Security"`, as errors name it.
    pub fn describe(&self) -> String {
        format!("project {} \"{}\"", self.number, self.title)
    }
}

/// Project lookups per client, by number.
#[derive(Debug, Default)]
pub struct Cache {
    projects: Mutex<HashMap<u32, ProjectInfo>>,
}

impl Cache {
    fn get(&self, number: u32) -> Option<ProjectInfo> {
        self.projects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&number)
            .cloned()
    }

    fn put(&self, p: ProjectInfo) {
        self.projects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(p.number, p);
    }

    /// Forgets a project whose cached ids GitHub no longer knows.
    pub fn forget(&self, number: u32) {
        self.projects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&number);
    }
}

/// The project, from the cache or looked up (one GraphQL call).
pub async fn project(api: &Api, cache: &Cache, number: u32) -> Result<ProjectInfo, TrackerError> {
    if let Some(p) = cache.get(number) {
        return Ok(p);
    }
    let p = lookup(api, number).await?;
    cache.put(p.clone());
    Ok(p)
}

async fn lookup(api: &Api, number: u32) -> Result<ProjectInfo, TrackerError> {
    let what = format!("project {number} of {}", api.owner);
    let a = api
        .graphql(
            RequestClass::Read,
            &what,
            PROJECT_QUERY,
            json!({ "owner": api.owner, "number": number }),
        )
        .await?;
    first_error(&a, &what)?;
    let owner = &a.data["repositoryOwner"];
    if owner.is_null() {
        return Err(TrackerError::NotFound(format!(
            "{what}: GitHub has no organization or user named {}",
            api.owner
        )));
    }
    let p = &owner["projectV2"];
    if p.is_null() {
        return Err(TrackerError::NotFound(format!("{what}: no such project")));
    }
    let fields = p["fields"]["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|f| {
                    Some(FieldInfo {
                        id: f["id"].as_str()?.to_owned(),
                        name: f["name"].as_str()?.to_owned(),
                        data_type: f["dataType"].as_str().unwrap_or_default().to_owned(),
                        options: f["options"]
                            .as_array()
                            .map(|o| {
                                o.iter()
                                    .filter_map(|o| {
                                        Some((
                                            o["name"].as_str()?.to_owned(),
                                            o["id"].as_str()?.to_owned(),
                                        ))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ProjectInfo {
        id: p["id"]
            .as_str()
            .ok_or_else(|| TrackerError::Protocol(format!("{what}: the project has no id")))?
            .to_owned(),
        number,
        title: p["title"].as_str().unwrap_or_default().to_owned(),
        org_owned: owner["__typename"] == "Organization",
        fields,
    })
}

/// Every value the mapping writes to its severity field, in severity order, once each.
pub fn severity_values(m: &MappingConfig) -> Vec<String> {
    dedup(
        Severity::ALL
            .iter()
            .map(|s| m.severity_mapping.value(*s).to_owned()),
    )
}

/// Every value the mapping writes to its status field.
pub fn status_values(m: &MappingConfig) -> Vec<String> {
    dedup(
        Status::ALL
            .iter()
            .map(|s| m.status_mapping.value(*s).to_owned()),
    )
}

fn dedup(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// What is wrong with a single-select field the mapping writes `values` to, if anything:
/// the exact sentence for the error table and "check connection".
pub fn single_select_problem(p: &ProjectInfo, name: &str, values: &[String]) -> Option<String> {
    let Some(f) = p.field(name).filter(|f| f.data_type == "SINGLE_SELECT") else {
        return Some(format!(
            "{} has no single-select field \"{name}\"; create it with options {}",
            p.describe(),
            values.join(", ")
        ));
    };
    let missing: Vec<&str> = values
        .iter()
        .filter(|v| f.option(v).is_none())
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let have: Vec<&str> = f.options.iter().map(|(n, _)| n.as_str()).collect();
    let (s, them) = if missing.len() == 1 {
        ("", "it")
    } else {
        ("s", "them")
    };
    Some(format!(
        "{} field \"{name}\" has no option{s} {}; add {them} (it has {})",
        p.describe(),
        missing.join(", "),
        if have.is_empty() {
            "none".to_owned()
        } else {
            have.join(", ")
        }
    ))
}

/// The `ProjectV2FieldValue` for a custom field's value, or why it cannot be written.
/// `Ok(None)` means "clear the field".
pub fn custom_value(
    p: &ProjectInfo,
    name: &str,
    value: &Value,
) -> Result<(String, Option<Value>), String> {
    let f = p.field(name).ok_or_else(|| {
        format!(
            "{} has no field \"{name}\"; create it or remove it from the mapping's custom fields",
            p.describe()
        )
    })?;
    if value.is_null() {
        return Ok((f.id.clone(), None));
    }
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    let v = match f.data_type.as_str() {
        "SINGLE_SELECT" => {
            let id = f.option(&text).ok_or_else(|| {
                format!(
                    "{} field \"{name}\" has no option \"{text}\"; add it",
                    p.describe()
                )
            })?;
            json!({ "singleSelectOptionId": id })
        }
        "TEXT" => json!({ "text": text }),
        "NUMBER" => {
            let n: f64 = value
                .as_f64()
                .or_else(|| text.trim().parse().ok())
                .ok_or_else(|| {
                    format!(
                        "{} field \"{name}\" is a number field; {text:?} is not a number",
                        p.describe()
                    )
                })?;
            json!({ "number": n })
        }
        "DATE" => {
            let d = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                format!(
                    "{} field \"{name}\" is a date field; {text:?} is not a YYYY-MM-DD date",
                    p.describe()
                )
            })?;
            json!({ "date": d.format("%Y-%m-%d").to_string() })
        }
        other => {
            return Err(format!(
                "{} field \"{name}\" is a {} field, which vulnbridge cannot set",
                p.describe(),
                other.to_ascii_lowercase()
            ));
        }
    };
    Ok((f.id.clone(), Some(v)))
}
