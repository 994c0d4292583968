//! Service hook deliveries from Azure DevOps. Azure DevOps does not sign payloads; vulnbridge's
//! subscriptions send the instance's webhook secret twice, as the basic authentication password
//! (user `vulnbridge`) and in an `X-Vulnbridge-Secret` header. Either matching (compared in
//! constant time) lets the body be read; neither present, or neither matching, refuses it.
//!
//! - `workitem.updated` with a `System.State` change: the new state, closed when its category
//!   is Resolved, Completed or Removed. The payload does not carry the category, so the state
//!   is judged by the names the four system processes give those categories' states (Resolved,
//!   Closed, Done, Removed); a custom state with another name counts as open. The mapping's own
//!   status values and aliases still decide what the change means for the finding.
//! - `workitem.deleted`: deleted.
//! - `workitem.commented`: the comment's text (`System.History`, HTML read as text).
//! - Everything else (created, other field changes) carries no change.
//!
//! `remote_id` is the work item id; `actor` is the reviser's unique name (`revisedBy`, or the
//! `System.ChangedBy` of the revision, `Name <unique name>`); `delivery` is
//! `<subscriptionId>/<notificationId>`, which a retried delivery repeats.

use super::html;
use crate::webhook::{InboundEvent, RemoteChange, WebhookError, header, token_matches};
use base64::Engine;
use domain::tracker::{CloseReason, TicketState};
use http::HeaderMap;
use secrecy::SecretString;
use serde_json::Value;

/// The header vulnbridge's subscriptions carry the secret in.
pub const SECRET_HEADER: &str = "X-Vulnbridge-Secret";

/// Whether a state counts as closed, by its name alone (see the module's documentation).
pub fn closed_by_name(state: &str) -> bool {
    ["Resolved", "Closed", "Done", "Removed"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(state.trim()))
}

/// The ticket state a state name stands for.
pub fn ticket_state(state: &str) -> TicketState {
    if state.trim().eq_ignore_ascii_case("Removed") {
        TicketState::Closed(CloseReason::NotPlanned)
    } else if closed_by_name(state) {
        TicketState::Closed(CloseReason::Completed)
    } else {
        TicketState::Open
    }
}

/// The password of a `Basic` authorization header.
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = header(headers, "authorization")?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, p)| p.to_owned())
}

fn verify(headers: &HeaderMap, secret: &SecretString) -> Result<(), WebhookError> {
    const WHAT: &str = "basic authentication password or X-Vulnbridge-Secret header";
    let password = basic_password(headers);
    let sent = header(headers, SECRET_HEADER);
    if password.is_none() && sent.is_none() {
        return Err(WebhookError::Unsigned(WHAT));
    }
    let ok = password
        .as_deref()
        .is_some_and(|p| token_matches(p, secret))
        || sent.is_some_and(|s| token_matches(s.trim(), secret));
    if ok {
        Ok(())
    } else {
        Err(WebhookError::BadSignature(WHAT))
    }
}

/// `Name <unique name>` → `unique name`; an identity object → its `uniqueName`.
fn unique_name(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => o
            .get("uniqueName")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Value::String(s) => match (s.rfind('<'), s.rfind('>')) {
            (Some(a), Some(b)) if b > a => Some(s[a + 1..b].to_owned()),
            _ => Some(s.clone()),
        },
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

pub fn parse(
    headers: &HeaderMap,
    body: &[u8],
    secret: &SecretString,
) -> Result<Vec<InboundEvent>, WebhookError> {
    verify(headers, secret)?;
    let payload: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Unreadable(e.to_string()))?;
    let event_type = payload
        .get("eventType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let resource = payload.get("resource").cloned().unwrap_or(Value::Null);
    let delivery = match (
        payload.get("subscriptionId").and_then(Value::as_str),
        payload.get("notificationId"),
    ) {
        (Some(sub), Some(n)) if !n.is_null() => {
            Some(format!("{sub}/{}", id_text(Some(n)).unwrap_or_default()))
        }
        _ => payload.get("id").and_then(Value::as_str).map(str::to_owned),
    };
    let missing =
        |what: &str| WebhookError::Unreadable(format!("a {event_type} event without {what}"));
    let (remote_id, change, actor) = match event_type {
        "workitem.updated" => {
            let id = id_text(resource.get("workItemId"))
                .or_else(|| id_text(resource.pointer("/revision/id")))
                .ok_or_else(|| missing("resource.workItemId"))?;
            let Some(new_state) = resource
                .pointer("/fields/System.State/newValue")
                .and_then(Value::as_str)
            else {
                return Ok(Vec::new());
            };
            let actor = resource.get("revisedBy").and_then(unique_name).or_else(|| {
                resource
                    .pointer("/revision/fields/System.ChangedBy")
                    .and_then(unique_name)
            });
            (
                id,
                RemoteChange::Status {
                    value: new_state.to_owned(),
                    state: ticket_state(new_state),
                },
                actor,
            )
        }
        "workitem.deleted" => {
            let id = id_text(resource.get("id")).ok_or_else(|| missing("resource.id"))?;
            (id, RemoteChange::Deleted, None)
        }
        "workitem.commented" => {
            let id = id_text(resource.get("id")).ok_or_else(|| missing("resource.id"))?;
            let text = resource
                .pointer("/fields/System.History")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("resource.fields.System.History"))?;
            let actor = resource
                .pointer("/fields/System.ChangedBy")
                .and_then(unique_name);
            (
                id,
                RemoteChange::Comment {
                    body: html::to_text(text),
                },
                actor,
            )
        }
        _ => return Ok(Vec::new()),
    };
    Ok(vec![InboundEvent {
        delivery,
        remote_id,
        change,
        actor,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_judged_by_the_system_names() {
        assert_eq!(
            ticket_state("Done"),
            TicketState::Closed(CloseReason::Completed)
        );
        assert_eq!(
            ticket_state("resolved"),
            TicketState::Closed(CloseReason::Completed)
        );
        assert_eq!(
            ticket_state("Removed"),
            TicketState::Closed(CloseReason::NotPlanned)
        );
        assert_eq!(ticket_state("Doing"), TicketState::Open);
        assert_eq!(ticket_state("Committed"), TicketState::Open);
        assert_eq!(
            unique_name(&Value::from("Dev Dave <dave@acme.example>")).as_deref(),
            Some("dave@acme.example")
        );
    }
}
