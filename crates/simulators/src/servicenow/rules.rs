//! The business rule of docs/servicenow-business-rule.md, run by the simulator: after every
//! insert, update and delete of a record of the rule's table (or a table extending it) whose
//! correlation id starts with `vulnbridge:`, whoever made it, POST the record's summary with
//! the `X-Vulnbridge-Secret` header. ServiceNow has no API to register such a rule; the control
//! API does it here.

use super::state::State;
use super::write::Change;
use serde_json::{Map, Value, json};

/// The marker prefix the rule's condition filters on.
pub const MARKER_PREFIX: &str = "vulnbridge:";

/// One POST to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The JSON the script builds from `current` (see the script in the doc).
pub fn payload(state: &State, change: &Change) -> Value {
    let r = &change.record;
    let schema = r.schema();
    let state_value = r.get("state");
    let label = state
        .choice_label(schema, "state", state_value)
        .unwrap_or_else(|| state_value.to_owned());
    let mut body = Map::new();
    body.insert("table".into(), json!(r.table));
    body.insert("sys_id".into(), json!(r.sys_id()));
    body.insert("number".into(), json!(r.get("number")));
    body.insert("state".into(), json!(state_value));
    body.insert("state_label".into(), json!(label));
    body.insert("active".into(), json!(r.get("active") == "true"));
    body.insert("updated_by".into(), json!(change.user));
    // A deleted record still shows its last update, as `current` does in an after-delete rule.
    body.insert("updated_on".into(), json!(r.get("sys_updated_on")));
    body.insert("operation".into(), json!(change.operation.as_str()));
    // The entry this write added: the customer-visible comment first, else the work note.
    let comment = change
        .journal
        .iter()
        .find(|(e, _)| e == "comments")
        .or_else(|| change.journal.iter().find(|(e, _)| e == "work_notes"));
    if let Some((_, text)) = comment {
        body.insert("comment".into(), json!(text));
    }
    Value::Object(body)
}

/// The deliveries a write causes.
pub fn deliveries(state: &State, change: &Change) -> Vec<Outgoing> {
    let r = &change.record;
    if !r.get("correlation_id").starts_with(MARKER_PREFIX) {
        return Vec::new();
    }
    let rules: Vec<_> = state
        .business_rules
        .iter()
        .filter(|rule| r.schema().is_a(&rule.table))
        .collect();
    if rules.is_empty() {
        return Vec::new();
    }
    let body = payload(state, change).to_string();
    rules
        .into_iter()
        .map(|rule| Outgoing {
            url: rule.url.clone(),
            headers: vec![
                // RESTMessageV2's own User-Agent.
                ("User-Agent".into(), "ServiceNow/1.0".into()),
                ("Content-Type".into(), "application/json".into()),
                ("X-Vulnbridge-Secret".into(), rule.secret.clone()),
            ],
            body: body.clone(),
        })
        .collect()
}
