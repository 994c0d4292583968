//! The webhooks Jira sends when issues change — anyone's changes, the caller's own included:
//! `jira:issue_created`, `jira:issue_updated` (with the `changelog` of what changed),
//! `jira:issue_deleted` and `comment_created`, to every enabled admin webhook subscribed to the
//! event whose JQL filter matches the issue. With a secret, the raw body is signed:
//! `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. Every delivery carries
//! `X-Atlassian-Webhook-Identifier` (kept across retries) and `X-Atlassian-Webhook-Retry`.

use super::Api;
use super::jql;
use super::render::{self, FieldFilter};
use super::state::{Comment, Issue, State};
use crate::common::WebhookOutbox;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::BTreeMap;

/// One webhook request to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Jira gives up on a delivery after this many retries.
const MAX_RETRIES: u32 = 5;

/// One changed field, as `changelog.items[]` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub field: String,
    pub field_id: String,
    pub from: Option<String>,
    pub from_string: Option<String>,
    pub to: Option<String>,
    pub to_string: Option<String>,
}

impl Item {
    fn json(&self) -> Value {
        json!({
            "field": self.field,
            "fieldtype": if self.field_id.starts_with("customfield_") { "custom" } else { "jira" },
            "fieldId": self.field_id,
            "from": self.from,
            "fromString": self.from_string,
            "to": self.to,
            "toString": self.to_string,
        })
    }
}

/// What happened to an issue.
#[derive(Clone, Debug)]
pub enum Event<'a> {
    Created,
    /// Fields changed: `kind` is Jira's `issue_event_type_name` (`issue_updated` for edits,
    /// `issue_generic` for transitions).
    Updated {
        kind: &'static str,
        changelog_id: String,
        items: Vec<Item>,
    },
    /// A comment was added: `comment_created`, and `jira:issue_updated` (`issue_commented`).
    Commented(&'a Comment),
    Deleted,
}

fn uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `sha256=<hex>` of the body with the webhook's secret.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The deliveries for an event on `issue` (as it is after the change; before a delete), made
/// by `actor`.
pub fn deliveries(
    base: &str,
    state: &State,
    actor: u64,
    issue: &Issue,
    event: &Event<'_>,
) -> Vec<Outgoing> {
    let timestamp = chrono::Utc::now().timestamp_millis();
    let user = state
        .users
        .get(&actor)
        .map_or(Value::Null, |u| render::hook_user(base, u));
    let full = render::issue(base, Api::V2, state, issue, &FieldFilter::all());
    let bodies: Vec<(&str, Value)> = match event {
        Event::Created => vec![(
            "jira:issue_created",
            json!({ "timestamp": timestamp, "webhookEvent": "jira:issue_created", "issue_event_type_name": "issue_created", "user": user, "issue": full }),
        )],
        Event::Updated {
            kind,
            changelog_id,
            items,
        } => vec![(
            "jira:issue_updated",
            json!({
                "timestamp": timestamp,
                "webhookEvent": "jira:issue_updated",
                "issue_event_type_name": kind,
                "user": user,
                "issue": full,
                "changelog": { "id": changelog_id, "items": items.iter().map(Item::json).collect::<Vec<_>>() },
            }),
        )],
        Event::Commented(c) => {
            let mut comment = render::comment(base, Api::V2, state, c);
            if let Some(author) = state.users.get(&c.author) {
                comment["author"] = render::hook_user(base, author);
                comment["updateAuthor"] = render::hook_user(base, author);
            }
            vec![
                (
                    "comment_created",
                    json!({
                        "timestamp": timestamp,
                        "webhookEvent": "comment_created",
                        "comment": comment.clone(),
                        "issue": render::issue_stub(base, Api::V2, state, issue),
                    }),
                ),
                (
                    "jira:issue_updated",
                    json!({ "timestamp": timestamp, "webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_commented", "user": user, "issue": full, "comment": comment }),
                ),
            ]
        }
        Event::Deleted => vec![(
            "jira:issue_deleted",
            json!({ "timestamp": timestamp, "webhookEvent": "jira:issue_deleted", "issue_event_type_name": "issue_deleted", "user": user, "issue": full }),
        )],
    };
    let mut out = Vec::new();
    for hook in state.webhooks.values().filter(|h| h.enabled) {
        let in_scope = hook.jql.trim().is_empty()
            || jql::parse(&hook.jql, state).is_ok_and(|q| q.matches(state, issue));
        if !in_scope {
            continue;
        }
        for (name, body) in &bodies {
            if !hook.events.iter().any(|e| e == name) {
                continue;
            }
            let body = if hook.exclude_body {
                String::new()
            } else {
                body.to_string()
            };
            let mut headers = vec![
                (
                    "Content-Type".to_owned(),
                    "application/json; charset=UTF-8".to_owned(),
                ),
                (
                    "User-Agent".to_owned(),
                    "Atlassian Webhook HTTP Client".to_owned(),
                ),
                ("X-Atlassian-Webhook-Identifier".to_owned(), uuid()),
                ("X-Atlassian-Webhook-Retry".to_owned(), "0".to_owned()),
            ];
            if let Some(secret) = hook.secret.as_deref().filter(|s| !s.is_empty()) {
                headers.push(("X-Hub-Signature".to_owned(), sign(secret, body.as_bytes())));
            }
            out.push(Outgoing {
                url: hook.url.clone(),
                headers,
                body,
            });
        }
    }
    out
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Sends again each delivery whose latest attempt failed, up to Jira's retry limit.
pub fn retry_failed(outbox: &WebhookOutbox) -> usize {
    let mut latest: BTreeMap<String, crate::common::Delivery> = BTreeMap::new();
    for d in outbox.sent() {
        if let Some(id) = header(&d.headers, "X-Atlassian-Webhook-Identifier") {
            latest.insert(id.to_owned(), d.clone());
        }
    }
    let mut sent = 0;
    for d in latest.into_values() {
        let ok = d.status.is_some_and(|s| (200..300).contains(&s));
        let retry: u32 = header(&d.headers, "X-Atlassian-Webhook-Retry")
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        if ok || retry >= MAX_RETRIES {
            continue;
        }
        let headers = d
            .headers
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("X-Atlassian-Webhook-Retry") {
                    (k.clone(), (retry + 1).to_string())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect();
        outbox.send(&d.url, headers, d.body.clone());
        sent += 1;
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_hex() {
        // GitHub's documented example, which is the same WebSub scheme.
        assert_eq!(
            sign("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
