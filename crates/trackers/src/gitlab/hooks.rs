//! The project hook that brings issue changes back: one per URL, created once and updated
//! (with the current secret) on every later registration.

use super::api::{self, Api, Hook, project_ref};
use crate::{RequestClass, TrackerError};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// At most this many pages of hooks are read (GitLab projects have a handful).
const MAX_PAGES: u64 = 50;

pub async fn register(
    api: &Api,
    project: &str,
    url: &url::Url,
    secret: &SecretString,
) -> Result<(), TrackerError> {
    let pref = project_ref(project);
    let what = format!("the webhooks of GitLab project {project}");
    let mut existing: Option<u64> = None;
    let mut page = 1u64;
    loop {
        let req = api
            .request(Method::GET, &format!("/projects/{pref}/hooks"))?
            .query(&[("per_page", "100".to_owned()), ("page", page.to_string())]);
        let (hooks, headers) = api
            .json::<Vec<Hook>>(RequestClass::Read, &what, req)
            .await?;
        if let Some(h) = hooks.iter().find(|h| same_url(&h.url, url)) {
            existing = Some(h.id);
            break;
        }
        match api::next_page(&headers) {
            Some(next) if next > page && next <= MAX_PAGES && !hooks.is_empty() => page = next,
            _ => break,
        }
    }
    let body = json!({
        "url": url.as_str(),
        "token": secret.expose_secret(),
        "name": "vulnbridge",
        "description": "Issue and comment changes for vulnbridge's two-way sync",
        "issues_events": true,
        "confidential_issues_events": true,
        "note_events": true,
        "confidential_note_events": true,
        "push_events": false,
        "enable_ssl_verification": true,
    });
    let req = match existing {
        Some(id) => api.request(Method::PUT, &format!("/projects/{pref}/hooks/{id}"))?,
        None => api.request(Method::POST, &format!("/projects/{pref}/hooks"))?,
    };
    api.json::<Hook>(
        RequestClass::Write,
        &format!("the webhook of GitLab project {project}"),
        req.json(&body),
    )
    .await?;
    Ok(())
}

fn same_url(a: &str, b: &url::Url) -> bool {
    url::Url::parse(a.trim()).is_ok_and(|a| a == *b)
}
