//! Registering webhooks: the repository's hook for `issues` and `issue_comment`, and for a
//! project owned by an organization the organization's hook for `projects_v2_item` (GitHub
//! sends project events to organization hooks only). A hook with the same URL is updated,
//! never duplicated.

use super::project;
use super::{GitHub, target};
use crate::{RequestClass, TrackerError};
use domain::tracker::MappingConfig;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct HookAnswer {
    id: u64,
    #[serde(default)]
    config: Value,
}

impl GitHub {
    /// Creates or updates the hook posting `events` to `url` under `base` (`/repos/o/r` or
    /// `/orgs/o`).
    async fn upsert_hook(
        &self,
        base: &str,
        what: &str,
        url: &url::Url,
        secret: &SecretString,
        events: &[&str],
    ) -> Result<(), TrackerError> {
        let (hooks, _): (Vec<HookAnswer>, _) = self
            .api
            .rest(
                RequestClass::Read,
                what,
                Method::GET,
                &format!("{base}/hooks?per_page=100"),
                None,
            )
            .await?;
        let config = json!({ "url": url.as_str(), "content_type": "json", "secret": secret.expose_secret(), "insecure_ssl": "0" });
        let existing = hooks
            .iter()
            .find(|h| h.config.get("url").and_then(Value::as_str) == Some(url.as_str()));
        match existing {
            Some(h) => {
                let body = json!({ "active": true, "events": events, "config": config });
                self.api
                    .rest::<Value>(
                        RequestClass::Write,
                        what,
                        Method::PATCH,
                        &format!("{base}/hooks/{}", h.id),
                        Some(&body),
                    )
                    .await?;
            }
            None => {
                let body =
                    json!({ "name": "web", "active": true, "events": events, "config": config });
                self.api
                    .rest::<Value>(
                        RequestClass::Write,
                        what,
                        Method::POST,
                        &format!("{base}/hooks"),
                        Some(&body),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    pub(super) async fn register_hooks(
        &self,
        m: &MappingConfig,
        url: &url::Url,
        secret: &SecretString,
    ) -> Result<(), TrackerError> {
        let (repo, number) = target(m)?;
        let owner = self.api.owner.clone();
        self.upsert_hook(
            &format!("/repos/{owner}/{repo}"),
            &format!("webhook of {owner}/{repo}"),
            url,
            secret,
            &["issues", "issue_comment"],
        )
        .await?;
        let Some(n) = number else { return Ok(()) };
        let p = project::project(&self.api, &self.cache, n).await?;
        if !p.org_owned {
            tracing::info!(
                owner,
                project = n,
                "The project belongs to a user: GitHub sends no project webhooks for it; project field changes are not synced back."
            );
            return Ok(());
        }
        let what = format!("organization webhook of {owner}");
        match self
            .upsert_hook(
                &format!("/orgs/{owner}"),
                &what,
                url,
                secret,
                &["projects_v2_item"],
            )
            .await
        {
            Ok(()) => Ok(()),
            // Organization hooks need an owner's token with admin:org_hook; without one, issue
            // events still arrive through the repository hook.
            Err(e @ (TrackerError::Forbidden(_) | TrackerError::NotFound(_))) => {
                tracing::info!(owner, error = %e, "Cannot register the organization webhook for project field changes; continuing without it.");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
