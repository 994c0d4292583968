//! Webhook deliveries: the payloads GitHub documents for `ping`, `issues`, `issue_comment`
//! and `projects_v2_item`, signed and queued for every active hook that subscribed.

use super::Outgoing;
use super::api::Tx;
use super::render;
use super::state::{Hook, HookTarget, RepoKey};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value as Json, json};
use sha2::Sha256;

/// GitHub's delivery agent (the suffix is a build hash).
const USER_AGENT: &str = "GitHub-Hookshot/5a14c71";

/// A random GUID for `X-GitHub-Delivery`.
fn guid() -> String {
    use rand::Rng;
    let b: [u8; 16] = rand::rng().random();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Queues one delivery of `payload` to `hook`.
fn queue(tx: &mut Tx<'_>, hook: &Hook, event: &str, payload: &Json) {
    let json = payload.to_string();
    let (content_type, body) = if hook.content_type == "form" {
        let encoded: String = url::form_urlencoded::byte_serialize(json.as_bytes()).collect();
        (
            "application/x-www-form-urlencoded",
            format!("payload={encoded}"),
        )
    } else {
        ("application/json", json)
    };
    let (target_type, target_id) = match &hook.target {
        HookTarget::Repo(key) => (
            "repository",
            tx.st.repo(key).map(|r| r.id).unwrap_or_default(),
        ),
        HookTarget::Org(org) => (
            "organization",
            tx.st.org(org).map(|o| o.id).unwrap_or_default(),
        ),
    };
    let mut headers = vec![
        ("Content-Type".to_owned(), content_type.to_owned()),
        ("User-Agent".to_owned(), USER_AGENT.to_owned()),
        ("X-GitHub-Event".to_owned(), event.to_owned()),
        ("X-GitHub-Delivery".to_owned(), guid()),
        ("X-GitHub-Hook-ID".to_owned(), hook.id.to_string()),
        (
            "X-GitHub-Hook-Installation-Target-Type".to_owned(),
            target_type.to_owned(),
        ),
        (
            "X-GitHub-Hook-Installation-Target-ID".to_owned(),
            target_id.to_string(),
        ),
    ];
    if let Some(secret) = hook.secret.as_deref().filter(|s| !s.is_empty()) {
        headers.push((
            "X-Hub-Signature".to_owned(),
            format!(
                "sha1={}",
                super::sha1::hmac_sha1_hex(secret.as_bytes(), body.as_bytes())
            ),
        ));
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
            mac.update(body.as_bytes());
            headers.push((
                "X-Hub-Signature-256".to_owned(),
                format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
            ));
        }
    }
    tx.out.push(Outgoing {
        url: hook.url.clone(),
        headers,
        body,
    });
}

/// The hooks that receive a repository's `event`: its own and its organization's.
fn repo_hooks(tx: &Tx<'_>, key: &RepoKey, event: &str) -> Vec<Hook> {
    tx.st
        .hooks
        .iter()
        .filter(|h| h.wants(event))
        .filter(|h| match &h.target {
            HookTarget::Repo(k) => k == key,
            HookTarget::Org(o) => *o == key.0,
        })
        .cloned()
        .collect()
}

/// `repository`, `sender` and (for organization repositories) `organization`.
fn envelope(tx: &Tx<'_>, key: &RepoKey, actor: &str, action: &str) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("action".into(), json!(action));
    if let Some(r) = tx.st.repo(key) {
        m.insert(
            "repository".into(),
            render::repository(tx.st, tx.base, r, None),
        );
        if tx.st.org(&r.owner).is_some() {
            m.insert(
                "organization".into(),
                render::org_simple(tx.st, tx.base, &r.owner),
            );
        }
    }
    m.insert("sender".into(), render::simple_user(tx.st, tx.base, actor));
    m
}

/// An `issues` event (`opened`, `edited`, `closed`, `reopened`, `labeled`, `unlabeled`,
/// `deleted`); `extra` adds `label` or `changes`.
pub fn issue(
    tx: &mut Tx<'_>,
    key: &RepoKey,
    number: u64,
    action: &str,
    actor: &str,
    extra: Map<String, Json>,
) {
    let hooks = repo_hooks(tx, key, "issues");
    if hooks.is_empty() {
        return;
    }
    let Some(r) = tx.st.repo(key) else { return };
    let Some(i) = r.issue(number) else { return };
    let mut payload = envelope(tx, key, actor, action);
    payload.insert("issue".into(), render::issue(tx.st, tx.base, r, i));
    payload.extend(extra);
    let payload = Json::Object(payload);
    for h in &hooks {
        queue(tx, h, "issues", &payload);
    }
}

/// An `issue_comment` `created` event.
pub fn comment_created(tx: &mut Tx<'_>, key: &RepoKey, number: u64, comment_id: u64, actor: &str) {
    let hooks = repo_hooks(tx, key, "issue_comment");
    if hooks.is_empty() {
        return;
    }
    let Some(r) = tx.st.repo(key) else { return };
    let Some(i) = r.issue(number) else { return };
    let Some(c) = i.comments.iter().find(|c| c.id == comment_id) else {
        return;
    };
    let mut payload = envelope(tx, key, actor, "created");
    payload.insert("issue".into(), render::issue(tx.st, tx.base, r, i));
    payload.insert("comment".into(), render::comment(tx.st, tx.base, r, i, c));
    let payload = Json::Object(payload);
    for h in &hooks {
        queue(tx, h, "issue_comment", &payload);
    }
}

/// A `projects_v2_item` event, sent to the owning organization's hooks only (GitHub sends
/// project events to organization hooks and apps, never to repository hooks).
pub fn project_item(
    tx: &mut Tx<'_>,
    project: usize,
    item_node: &str,
    action: &str,
    actor: &str,
    changes: Option<Json>,
) {
    let Some(p) = tx.st.projects.get(project) else {
        return;
    };
    let org = p.owner.clone();
    if tx.st.org(&org).is_none() {
        return;
    }
    let hooks: Vec<Hook> = tx
        .st
        .hooks
        .iter()
        .filter(|h| h.wants("projects_v2_item") && h.target == HookTarget::Org(org.clone()))
        .cloned()
        .collect();
    if hooks.is_empty() {
        return;
    }
    let Some(item) = p.item_by_node(item_node) else {
        return;
    };
    let mut payload = Map::new();
    payload.insert("action".into(), json!(action));
    payload.insert(
        "projects_v2_item".into(),
        json!({
            "id": item.id,
            "node_id": item.node_id,
            "project_node_id": p.node_id,
            "content_node_id": item.content,
            "content_type": "Issue",
            "creator": render::simple_user(tx.st, tx.base, &item.creator),
            "created_at": render::time(item.created_at),
            "updated_at": render::time(item.updated_at),
            "archived_at": null
        }),
    );
    if let Some(c) = changes {
        payload.insert("changes".into(), c);
    }
    payload.insert(
        "organization".into(),
        render::org_simple(tx.st, tx.base, &org),
    );
    payload.insert("sender".into(), render::simple_user(tx.st, tx.base, actor));
    let payload = Json::Object(payload);
    for h in &hooks {
        queue(tx, h, "projects_v2_item", &payload);
    }
}

/// The `ping` GitHub sends to a hook it just created.
pub fn ping(tx: &mut Tx<'_>, hook_id: u64, actor: &str) {
    let Some(hook) = tx.st.hooks.iter().find(|h| h.id == hook_id).cloned() else {
        return;
    };
    let mut payload = Map::new();
    payload.insert(
        "zen".into(),
        json!("Anything added dilutes everything else."),
    );
    payload.insert("hook_id".into(), json!(hook.id));
    payload.insert("hook".into(), render::hook(tx.st, tx.base, &hook));
    match &hook.target {
        HookTarget::Repo(key) => {
            if let Some(r) = tx.st.repo(key) {
                payload.insert(
                    "repository".into(),
                    render::repository(tx.st, tx.base, r, None),
                );
            }
        }
        HookTarget::Org(org) => {
            payload.insert(
                "organization".into(),
                render::org_simple(tx.st, tx.base, org),
            );
        }
    }
    payload.insert("sender".into(), render::simple_user(tx.st, tx.base, actor));
    queue(tx, &hook, "ping", &Json::Object(payload));
}
