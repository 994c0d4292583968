//! The business rule's deliveries (docs/servicenow-business-rule.md): `X-Vulnbridge-Secret`
//! (the instance's webhook secret, sent in clear) is compared before the body is read; the
//! body `{table, sys_id, number, state, state_label, active, updated_by, updated_on,
//! operation, comment?}` reports the record's state (closed when the record is no longer
//! active), its deletion, and a comment added with the change.

use crate::webhook::{InboundEvent, RemoteChange, WebhookError, header, token_matches};
use domain::tracker::{CloseReason, TicketState};
use http::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

/// The header the business rule sends the secret in.
pub const SECRET_HEADER: &str = "x-vulnbridge-secret";

#[derive(Deserialize)]
struct Payload {
    sys_id: Option<String>,
    state: Option<Value>,
    state_label: Option<String>,
    active: Option<Value>,
    updated_by: Option<String>,
    operation: Option<String>,
    comment: Option<String>,
}

/// `true`/`false` as a JSON boolean or as the text GlideElement gives.
fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn parse(
    headers: &HeaderMap,
    body: &[u8],
    secret: &SecretString,
) -> Result<Vec<InboundEvent>, WebhookError> {
    let Some(sent) = header(headers, SECRET_HEADER) else {
        return Err(WebhookError::Unsigned("X-Vulnbridge-Secret header"));
    };
    if !token_matches(sent.trim(), secret) {
        return Err(WebhookError::BadSignature("X-Vulnbridge-Secret header"));
    }
    let p: Payload =
        serde_json::from_slice(body).map_err(|e| WebhookError::Unreadable(e.to_string()))?;
    let remote_id = p
        .sys_id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| WebhookError::Unreadable("no sys_id".into()))?;
    let actor = p.updated_by.filter(|a| !a.is_empty());
    // The rule sends no delivery id, and does not retry (`executeAsync` posts once): two
    // changes within one second look alike, so none is made up.
    let event = |change: RemoteChange| InboundEvent {
        delivery: None,
        remote_id: remote_id.clone(),
        change,
        actor: actor.clone(),
    };
    let mut out = Vec::new();
    match p.operation.as_deref().unwrap_or("update") {
        "delete" => return Ok(vec![event(RemoteChange::Deleted)]),
        "insert" | "update" => {}
        other => {
            return Err(WebhookError::Unreadable(format!(
                "unknown operation '{other}'"
            )));
        }
    }
    let value = p
        .state_label
        .filter(|l| !l.trim().is_empty())
        .unwrap_or_else(|| p.state.as_ref().map(text).unwrap_or_default());
    if !value.is_empty() {
        let active = p
            .active
            .as_ref()
            .and_then(flag)
            .ok_or_else(|| WebhookError::Unreadable("no active flag".into()))?;
        let state = if active {
            TicketState::Open
        } else {
            TicketState::Closed(CloseReason::Completed)
        };
        out.push(event(RemoteChange::Status { value, state }));
    }
    if let Some(c) = p.comment.filter(|c| !c.trim().is_empty()) {
        out.push(event(RemoteChange::Comment { body: c }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(SECRET_HEADER, HeaderValue::from_str(secret).unwrap());
        h
    }

    #[test]
    fn deliveries_are_verified_then_read() {
        let secret = SecretString::from("s3cret".to_owned());
        let body = br#"{"table":"incident","sys_id":"abc","number":"INC0010001","state":"7","state_label":"Closed","active":false,"updated_by":"itil.erin","updated_on":"2026-01-08 10:00:00","operation":"update","comment":"Fixed in 2.1"}"#;
        assert_eq!(
            parse(&HeaderMap::new(), body, &secret),
            Err(WebhookError::Unsigned("X-Vulnbridge-Secret header"))
        );
        assert_eq!(
            parse(&headers("nope"), body, &secret),
            Err(WebhookError::BadSignature("X-Vulnbridge-Secret header"))
        );
        let events = parse(&headers("s3cret"), body, &secret).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].change,
            RemoteChange::Status {
                value: "Closed".into(),
                state: TicketState::Closed(CloseReason::Completed)
            }
        );
        assert_eq!(events[0].actor.as_deref(), Some("itil.erin"));
        assert_eq!(
            events[1].change,
            RemoteChange::Comment {
                body: "Fixed in 2.1".into()
            }
        );
        let deleted = br#"{"sys_id":"abc","state":"1","active":"true","operation":"delete","updated_by":"admin"}"#;
        assert_eq!(
            parse(&headers("s3cret"), deleted, &secret).unwrap()[0].change,
            RemoteChange::Deleted
        );
        assert!(parse(&headers("s3cret"), b"not json", &secret).is_err());
    }
}
