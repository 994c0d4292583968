//! GitHub's webhooks: `X-Hub-Signature-256` verified before the body is read, then `issues`
//! (closed, reopened, deleted) and `projects_v2_item` (a single-select field edited) read into
//! [`InboundEvent`]s. Everything else verified (pings, comments, edits, labels) changes
//! nothing we track.

use crate::webhook::{InboundEvent, RemoteChange, WebhookError, header, verify_hmac_sha256_hex};
use domain::tracker::CloseReason;
use http::HeaderMap;
use secrecy::SecretString;
use serde_json::Value;

const SIGNATURE: &str = "X-Hub-Signature-256";

pub fn parse(
    headers: &HeaderMap,
    body: &[u8],
    secret: &SecretString,
) -> Result<Vec<InboundEvent>, WebhookError> {
    let sig =
        header(headers, SIGNATURE).ok_or(WebhookError::Unsigned("X-Hub-Signature-256 header"))?;
    if !verify_hmac_sha256_hex(sig, body, secret) {
        return Err(WebhookError::BadSignature("X-Hub-Signature-256 signature"));
    }
    let event = header(headers, "X-GitHub-Event")
        .ok_or_else(|| WebhookError::Unreadable("no X-GitHub-Event header".into()))?;
    let delivery = header(headers, "X-GitHub-Delivery").map(str::to_owned);
    let payload = payload(headers, body)?;
    let actor = payload
        .pointer("/sender/login")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let change = match (event, action) {
        ("issues", "closed") => {
            let reason = match payload
                .pointer("/issue/state_reason")
                .and_then(Value::as_str)
            {
                Some("completed") => Some(CloseReason::Completed),
                Some("not_planned") => Some(CloseReason::NotPlanned),
                Some("duplicate") => Some(CloseReason::Duplicate),
                _ => None,
            };
            Some((issue_node(&payload)?, RemoteChange::Closed { reason }))
        }
        ("issues", "reopened") => Some((issue_node(&payload)?, RemoteChange::Reopened)),
        ("issues", "deleted") => Some((issue_node(&payload)?, RemoteChange::Deleted)),
        ("projects_v2_item", "edited") => project_field(&payload)?,
        _ => None,
    };
    Ok(change
        .map(|(remote_id, change)| InboundEvent {
            delivery,
            remote_id,
            change,
            actor,
        })
        .into_iter()
        .collect())
}

/// The JSON payload: the body itself, or the `payload` form field of a `form` hook.
fn payload(headers: &HeaderMap, body: &[u8]) -> Result<Value, WebhookError> {
    let form = header(headers, "content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let json: Vec<u8> = if form {
        url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "payload")
            .map(|(_, v)| v.into_owned().into_bytes())
            .ok_or_else(|| WebhookError::Unreadable("the form body has no payload field".into()))?
    } else {
        body.to_vec()
    };
    serde_json::from_slice(&json)
        .map_err(|e| WebhookError::Unreadable(format!("the payload is not JSON: {e}")))
}

fn issue_node(p: &Value) -> Result<String, WebhookError> {
    p.pointer("/issue/node_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| WebhookError::Unreadable("the issues event has no issue.node_id".into()))
}

/// A single-select value set on a project item (`changes.field_value`): the field's name and
/// the option's name, on the item's issue. Cleared values and other field types change
/// nothing we track.
fn project_field(p: &Value) -> Result<Option<(String, RemoteChange)>, WebhookError> {
    let Some(fv) = p.pointer("/changes/field_value") else {
        return Ok(None);
    };
    if fv.get("field_type").and_then(Value::as_str) != Some("single_select") {
        return Ok(None);
    }
    let (Some(field), Some(value)) = (
        fv.get("field_name").and_then(Value::as_str),
        fv.pointer("/to/name").and_then(Value::as_str),
    ) else {
        return Ok(None);
    };
    if p.pointer("/projects_v2_item/content_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "Issue")
    {
        return Ok(None);
    }
    let content = p
        .pointer("/projects_v2_item/content_node_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            WebhookError::Unreadable("the projects_v2_item event has no content_node_id".into())
        })?;
    Ok(Some((
        content.to_owned(),
        RemoteChange::Field {
            field: field.to_owned(),
            value: value.to_owned(),
        },
    )))
}
