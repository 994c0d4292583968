//! Jira's admin webhooks: `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>` is checked
//! before the body is read. `jira:issue_updated` with a status in its changelog is a workflow
//! status change, closed or not by the status's category (the resolution says why: Won't Do,
//! Duplicate…); `jira:issue_deleted` a deletion; `comment_created` a comment (its text). Other
//! events (creations, edits of other fields, the `issue_commented` twin of a comment) verify
//! and carry nothing. The remote id is the issue's id, as the client stores it.

use super::adf;
use crate::webhook::{InboundEvent, RemoteChange, WebhookError, header, verify_hmac_sha256_hex};
use domain::tracker::{CloseReason, TicketState};
use http::HeaderMap;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "webhookEvent", default)]
    event: String,
    user: Option<User>,
    issue: Option<Issue>,
    changelog: Option<Changelog>,
    comment: Option<Comment>,
}

#[derive(Deserialize)]
struct User {
    #[serde(rename = "emailAddress")]
    email: Option<String>,
    #[serde(rename = "accountId")]
    account_id: Option<String>,
    name: Option<String>,
}

impl User {
    fn who(&self) -> Option<String> {
        self.email
            .clone()
            .filter(|e| !e.is_empty())
            .or(self.account_id.clone())
            .or(self.name.clone())
    }
}

#[derive(Deserialize)]
struct Issue {
    id: Value,
    #[serde(default)]
    fields: Option<IssueFields>,
}

#[derive(Deserialize)]
struct IssueFields {
    status: Option<Status>,
    resolution: Option<Named>,
}

#[derive(Deserialize)]
struct Status {
    name: String,
    #[serde(rename = "statusCategory")]
    category: Option<Category>,
}

#[derive(Deserialize)]
struct Category {
    key: String,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Changelog {
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    field: String,
    #[serde(rename = "fieldId")]
    field_id: Option<String>,
    #[serde(rename = "toString")]
    to_string: Option<String>,
}

#[derive(Deserialize)]
struct Comment {
    #[serde(rename = "self", default)]
    self_url: String,
    #[serde(default)]
    body: Value,
    author: Option<User>,
}

/// An id given as a string or a number.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The issue id in a comment's URL (`…/issue/10010/comment/10020`), for comment events whose
/// payload leaves the issue out.
fn issue_of_comment(url: &str) -> Option<String> {
    let mut parts = url.split('/').rev();
    parts.next()?;
    (parts.next()? == "comment").then_some(())?;
    parts.next().filter(|id| !id.is_empty()).map(str::to_owned)
}

/// Why a done status is closed, from the resolution.
fn close_reason(resolution: Option<&str>) -> CloseReason {
    let r = resolution.unwrap_or("").to_ascii_lowercase();
    if r.contains("duplicate") {
        CloseReason::Duplicate
    } else if [
        "won't",
        "wont",
        "not ",
        "cannot",
        "can't",
        "declined",
        "rejected",
        "invalid",
        "incomplete",
    ]
    .iter()
    .any(|w| r.contains(w))
    {
        CloseReason::NotPlanned
    } else {
        CloseReason::Completed
    }
}

pub fn parse(
    headers: &HeaderMap,
    body: &[u8],
    secret: &SecretString,
) -> Result<Vec<InboundEvent>, WebhookError> {
    let Some(signature) = header(headers, "x-hub-signature") else {
        return Err(WebhookError::Unsigned("X-Hub-Signature header"));
    };
    if !verify_hmac_sha256_hex(signature, body, secret) {
        return Err(WebhookError::BadSignature("X-Hub-Signature header"));
    }
    let payload: Payload =
        serde_json::from_slice(body).map_err(|e| WebhookError::Unreadable(e.to_string()))?;
    let delivery = header(headers, "x-atlassian-webhook-identifier").map(str::to_owned);
    let issue_id = payload.issue.as_ref().and_then(|i| id_text(&i.id));
    let event = |remote_id: String, change: RemoteChange, actor: Option<String>| InboundEvent {
        delivery: delivery.clone(),
        remote_id,
        change,
        actor,
    };
    let actor = payload.user.as_ref().and_then(User::who);
    let need_issue =
        || WebhookError::Unreadable(format!("a {} event without the issue's id", payload.event));
    Ok(match payload.event.as_str() {
        "jira:issue_updated" => {
            let Some(status) = payload.changelog.as_ref().and_then(|c| {
                c.items
                    .iter()
                    .find(|i| i.field_id.as_deref().unwrap_or(&i.field) == "status")
            }) else {
                return Ok(Vec::new());
            };
            let id = issue_id.ok_or_else(need_issue)?;
            let fields = payload.issue.as_ref().and_then(|i| i.fields.as_ref());
            let value = status
                .to_string
                .clone()
                .or_else(|| {
                    fields
                        .and_then(|f| f.status.as_ref())
                        .map(|s| s.name.clone())
                })
                .unwrap_or_default();
            // The category of the status the issue is in now (the change's target).
            let done = fields
                .and_then(|f| f.status.as_ref())
                .filter(|s| s.name.eq_ignore_ascii_case(&value))
                .and_then(|s| s.category.as_ref())
                .map(|c| c.key == "done");
            // The issue moved on before this delivery was made: the later change's own
            // webhook reports where it is, with its category.
            let Some(done) = done else {
                return Ok(Vec::new());
            };
            let state = if done {
                TicketState::Closed(close_reason(
                    fields
                        .and_then(|f| f.resolution.as_ref())
                        .map(|r| r.name.as_str()),
                ))
            } else {
                TicketState::Open
            };
            vec![event(id, RemoteChange::Status { value, state }, actor)]
        }
        "jira:issue_deleted" => vec![event(
            issue_id.ok_or_else(need_issue)?,
            RemoteChange::Deleted,
            actor,
        )],
        "comment_created" => {
            let Some(comment) = payload.comment else {
                return Err(WebhookError::Unreadable(
                    "a comment event without the comment".into(),
                ));
            };
            let id = issue_id
                .or_else(|| issue_of_comment(&comment.self_url))
                .ok_or_else(need_issue)?;
            let text = match &comment.body {
                Value::String(s) => s.clone(),
                doc @ Value::Object(_) => adf::to_text(doc),
                _ => String::new(),
            };
            vec![event(
                id,
                RemoteChange::Comment { body: text },
                comment.author.as_ref().and_then(User::who).or(actor),
            )]
        }
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_give_close_reasons() {
        assert_eq!(close_reason(Some("Done")), CloseReason::Completed);
        assert_eq!(close_reason(Some("Won't Do")), CloseReason::NotPlanned);
        assert_eq!(close_reason(Some("Duplicate")), CloseReason::Duplicate);
        assert_eq!(close_reason(None), CloseReason::Completed);
        assert_eq!(
            issue_of_comment("https://x/rest/api/2/issue/10010/comment/10020"),
            Some("10010".into())
        );
        assert_eq!(issue_of_comment("https://x/rest/api/2/issue/10010"), None);
    }
}
