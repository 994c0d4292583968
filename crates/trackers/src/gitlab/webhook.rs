//! GitLab's webhooks: `X-Gitlab-Token` (the hook's secret, sent in clear) is compared before
//! the body is read. `Issue Hook`s with `action` `close` and `reopen` are closes and reopens;
//! an `update` that adds a scoped label (`Status::In review`) reports that field's new value.
//! Everything else (new issues, whose `changes` list every label they start with; comments;
//! other edits) is verified and carries no change.

use crate::webhook::{InboundEvent, RemoteChange, WebhookError, header, token_matches};
use http::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Deserialize)]
struct Payload {
    object_kind: Option<String>,
    user: Option<Named>,
    object_attributes: Option<Attributes>,
    #[serde(default)]
    changes: Option<Changes>,
}

#[derive(Deserialize)]
struct Named {
    username: Option<String>,
}

#[derive(Deserialize)]
struct Attributes {
    id: Option<serde_json::Value>,
    action: Option<String>,
}

#[derive(Deserialize)]
struct Changes {
    labels: Option<LabelChange>,
}

#[derive(Deserialize)]
struct LabelChange {
    #[serde(default)]
    previous: Vec<Label>,
    #[serde(default)]
    current: Vec<Label>,
}

#[derive(Deserialize)]
struct Label {
    title: String,
}

pub fn parse(
    headers: &HeaderMap,
    body: &[u8],
    secret: &SecretString,
) -> Result<Vec<InboundEvent>, WebhookError> {
    let Some(token) = header(headers, "x-gitlab-token") else {
        return Err(WebhookError::Unsigned("X-Gitlab-Token header"));
    };
    if !token_matches(token, secret) {
        return Err(WebhookError::BadSignature("X-Gitlab-Token header"));
    }
    let event = header(headers, "x-gitlab-event").unwrap_or("");
    let payload: Payload =
        serde_json::from_slice(body).map_err(|e| WebhookError::Unreadable(e.to_string()))?;
    let is_issue = matches!(event, "Issue Hook" | "Confidential Issue Hook")
        || (event.is_empty() && payload.object_kind.as_deref() == Some("issue"));
    if !is_issue {
        return Ok(Vec::new());
    }
    let attrs = payload.object_attributes.ok_or_else(|| {
        WebhookError::Unreadable("an issue event without object_attributes".into())
    })?;
    let remote_id = match attrs.id {
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::String(s)) if !s.is_empty() => s,
        _ => {
            return Err(WebhookError::Unreadable(
                "an issue event without object_attributes.id".into(),
            ));
        }
    };
    let delivery = header(headers, "x-gitlab-event-uuid")
        .or_else(|| header(headers, "idempotency-key"))
        .map(str::to_owned);
    let actor = payload.user.and_then(|u| u.username);
    let mut changes = Vec::new();
    match attrs.action.as_deref() {
        Some("close") => changes.push(RemoteChange::Closed { reason: None }),
        Some("reopen") => changes.push(RemoteChange::Reopened),
        _ => {}
    }
    let labels = payload
        .changes
        .and_then(|c| c.labels)
        .filter(|_| attrs.action.as_deref() == Some("update"));
    if let Some(labels) = labels {
        let before: BTreeSet<&str> = labels.previous.iter().map(|l| l.title.as_str()).collect();
        for added in labels
            .current
            .iter()
            .map(|l| l.title.as_str())
            .filter(|t| !before.contains(t))
        {
            // The scope is everything before the last `::`, as GitLab defines scoped labels.
            if let Some(i) = added.rfind("::") {
                let (field, value) = (&added[..i], &added[i + 2..]);
                if !field.is_empty() && !value.is_empty() {
                    changes.push(RemoteChange::Field {
                        field: field.to_owned(),
                        value: value.to_owned(),
                    });
                }
            }
        }
    }
    Ok(changes
        .into_iter()
        .map(|change| InboundEvent {
            delivery: delivery.clone(),
            remote_id: remote_id.clone(),
            change,
            actor: actor.clone(),
        })
        .collect())
}
