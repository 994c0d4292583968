//! The mutations: add an issue to a project (idempotent, as GitHub's is), set or clear an
//! item's field value, delete an item, delete an issue. Each fires the webhook GitHub fires.

use super::super::api::ApiError;
use super::super::state::{ItemValue, Perm, ProjectItem, State};
use super::super::{events, ops};
use super::Gql;
use super::objects::{Obj, Payload};
use super::query::not_found;
use crate::common::graphql::{FieldCall, GqlError, Out};
use chrono::Utc;
use serde_json::{Map, Value as Json, json};

fn node_not_found(id: &str) -> GqlError {
    not_found(format!(
        "Could not resolve to a node with the global id of '{id}'"
    ))
}

/// GitHub's refusal of a mutation the viewer may not run.
fn forbidden(login: &str, mutation: &str) -> GqlError {
    GqlError::new(format!(
        "{login} does not have the correct permissions to execute `{mutation}`"
    ))
    .kind("FORBIDDEN")
}

fn capitalised(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

impl Gql<'_, '_> {
    /// The project's index if the viewer may write to it.
    fn writable_project(&self, id: &str, mutation: &str) -> Result<usize, GqlError> {
        let st = &*self.tx.st;
        let pi = st.project_by_node(id).ok_or_else(|| node_not_found(id))?;
        match st.project_role(&st.projects[pi], &self.caller.login) {
            None => Err(node_not_found(id)),
            Some(r) if r < Perm::Write => {
                Err(forbidden(&self.caller.login, &capitalised(mutation)))
            }
            Some(_) => Ok(pi),
        }
    }

    pub fn resolve_mutation(&mut self, call: &FieldCall<'_>) -> Result<Out<Obj>, GqlError> {
        let empty = Map::new();
        let input = call
            .args
            .get("input")
            .and_then(Json::as_object)
            .unwrap_or(&empty);
        let s = |k: &str| {
            input
                .get(k)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let client_mutation_id = input
            .get("clientMutationId")
            .and_then(Json::as_str)
            .map(str::to_owned);
        let payload = |type_name: &'static str| Payload {
            type_name,
            client_mutation_id: client_mutation_id.clone(),
            item: None,
            deleted_item_id: None,
            repository: None,
        };
        match call.name {
            "addProjectV2ItemById" => {
                let pi = self.writable_project(&s("projectId"), call.name)?;
                let content = s("contentId");
                let (key, _) = self
                    .tx
                    .st
                    .issue_by_node(&content)
                    .ok_or_else(|| node_not_found(&content))?;
                if ops::role(self.tx.st, &self.caller, &key).is_none() {
                    return Err(node_not_found(&content));
                }
                let existing = self.tx.st.projects[pi]
                    .item_for_content(&content)
                    .map(|i| i.node_id.clone());
                let item = match existing {
                    Some(node) => node,
                    None => self.add_item(pi, &content),
                };
                let pn = self.tx.st.projects[pi].node_id.clone();
                Ok(Out::Object(Obj::Payload(Box::new(Payload {
                    item: Some(Obj::Item(pn, item)),
                    ..payload("AddProjectV2ItemByIdPayload")
                }))))
            }
            "updateProjectV2ItemFieldValue" | "clearProjectV2ItemFieldValue" => {
                let pi = self.writable_project(&s("projectId"), call.name)?;
                let (item, field) = (s("itemId"), s("fieldId"));
                let p = &self.tx.st.projects[pi];
                p.item_by_node(&item).ok_or_else(|| node_not_found(&item))?;
                let fd = p
                    .field_by_node(&field)
                    .ok_or_else(|| node_not_found(&field))?
                    .clone();
                let value = if call.name == "clearProjectV2ItemFieldValue" {
                    None
                } else {
                    let empty = Map::new();
                    let given = input
                        .get("value")
                        .and_then(Json::as_object)
                        .unwrap_or(&empty);
                    Some(field_value(&fd, given)?)
                };
                self.set_value(pi, &item, &fd, value);
                let pn = self.tx.st.projects[pi].node_id.clone();
                let type_name = if call.name == "clearProjectV2ItemFieldValue" {
                    "ClearProjectV2ItemFieldValuePayload"
                } else {
                    "UpdateProjectV2ItemFieldValuePayload"
                };
                Ok(Out::Object(Obj::Payload(Box::new(Payload {
                    item: Some(Obj::Item(pn, item)),
                    ..payload(type_name)
                }))))
            }
            "deleteProjectV2Item" => {
                let pi = self.writable_project(&s("projectId"), call.name)?;
                let item = s("itemId");
                self.tx.st.projects[pi]
                    .item_by_node(&item)
                    .ok_or_else(|| node_not_found(&item))?;
                events::project_item(self.tx, pi, &item, "deleted", &self.caller.login, None);
                self.tx.st.projects[pi].items.retain(|i| i.node_id != item);
                Ok(Out::Object(Obj::Payload(Box::new(Payload {
                    deleted_item_id: Some(item),
                    ..payload("DeleteProjectV2ItemPayload")
                }))))
            }
            "deleteIssue" => {
                let id = s("issueId");
                let (key, n) = self
                    .tx
                    .st
                    .issue_by_node(&id)
                    .ok_or_else(|| node_not_found(&id))?;
                let caller = self.caller.clone();
                ops::delete_issue(self.tx, &caller, &key, n).map_err(|e: ApiError| {
                    if e.status == axum::http::StatusCode::NOT_FOUND {
                        node_not_found(&id)
                    } else {
                        forbidden(&caller.login, "DeleteIssue")
                    }
                })?;
                Ok(Out::Object(Obj::Payload(Box::new(Payload {
                    repository: Some(key),
                    ..payload("DeleteIssuePayload")
                }))))
            }
            _ => Ok(Out::Null),
        }
    }

    fn add_item(&mut self, pi: usize, content: &str) -> String {
        let id = self.tx.st.id();
        let node = State::node_id("PVTI", id);
        let now = Utc::now();
        let p = &mut self.tx.st.projects[pi];
        p.items.push(ProjectItem {
            id,
            node_id: node.clone(),
            content: content.to_owned(),
            values: Default::default(),
            creator: self.caller.login.clone(),
            created_at: now,
            updated_at: now,
        });
        p.updated_at = now;
        events::project_item(self.tx, pi, &node, "created", &self.caller.login, None);
        node
    }

    /// Sets (or with `None` clears) a value and fires `projects_v2_item` `edited` with
    /// `changes.field_value` as GitHub sends it.
    pub fn set_value(
        &mut self,
        pi: usize,
        item: &str,
        fd: &super::super::state::ProjectField,
        value: Option<ItemValue>,
    ) {
        let now = Utc::now();
        let p = &mut self.tx.st.projects[pi];
        let number = p.number;
        let Some(it) = p.items.iter_mut().find(|i| i.node_id == item) else {
            return;
        };
        let before = it.values.get(&fd.node_id).cloned();
        if before == value {
            return;
        }
        match &value {
            Some(v) => {
                it.values.insert(fd.node_id.clone(), v.clone());
            }
            None => {
                it.values.remove(&fd.node_id);
            }
        }
        it.updated_at = now;
        let show = |v: &Option<ItemValue>| -> Json {
            match v {
                None => Json::Null,
                Some(ItemValue::Text(t)) => json!(t),
                Some(ItemValue::Number(n)) => json!(n),
                Some(ItemValue::Date(d)) => json!(d),
                Some(ItemValue::Option(id)) => fd
                    .options
                    .iter()
                    .find(|o| o.id == *id)
                    .map(|o| json!({ "id": o.id, "name": o.name, "color": o.color.to_ascii_lowercase(), "description": o.description }))
                    .unwrap_or(Json::Null),
            }
        };
        let changes = json!({
            "field_value": {
                "field_node_id": fd.node_id,
                "field_type": fd.data_type.to_ascii_lowercase(),
                "field_name": fd.name,
                "project_number": number,
                "from": show(&before),
                "to": show(&value),
            }
        });
        let actor = self.caller.login.clone();
        events::project_item(self.tx, pi, item, "edited", &actor, Some(changes));
    }
}

/// The value `ProjectV2FieldValue` gives for the field's type, or GitHub's refusal.
pub fn field_value(
    fd: &super::super::state::ProjectField,
    given: &Map<String, Json>,
) -> Result<ItemValue, GqlError> {
    let wrong = || {
        GqlError::new(format!(
            "Column value must be a valid value for {} column",
            fd.data_type.to_ascii_lowercase()
        ))
    };
    match fd.data_type.as_str() {
        "SINGLE_SELECT" => {
            let id = given
                .get("singleSelectOptionId")
                .and_then(Json::as_str)
                .ok_or_else(wrong)?;
            if fd.options.iter().any(|o| o.id == id) {
                Ok(ItemValue::Option(id.to_owned()))
            } else {
                Err(GqlError::new(
                    "The single select option Id does not belong to the field",
                ))
            }
        }
        "TEXT" => given
            .get("text")
            .and_then(Json::as_str)
            .map(|t| ItemValue::Text(t.to_owned()))
            .ok_or_else(wrong),
        "NUMBER" => given
            .get("number")
            .and_then(Json::as_f64)
            .map(ItemValue::Number)
            .ok_or_else(wrong),
        "DATE" => {
            let d = given.get("date").and_then(Json::as_str).ok_or_else(wrong)?;
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| wrong())?;
            Ok(ItemValue::Date(d.to_owned()))
        }
        _ => Err(wrong()),
    }
}
