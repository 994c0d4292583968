//! The admin webhook that brings issue changes back (`/rest/webhooks/1.0/webhook`, which needs
//! a Jira administrator): one per receiving URL, its JQL filter naming every project whose
//! mappings use it, signed with the instance's secret. A later registration updates it.

use super::api::Api;
use super::find::quote;
use crate::{RequestClass, TrackerError};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeSet;

const EVENTS: [&str; 4] = [
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
];
const PATH: &str = "/rest/webhooks/1.0/webhook";

#[derive(Deserialize)]
struct Hook {
    #[serde(rename = "self", default)]
    self_url: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    filters: Filters,
}

#[derive(Default, Deserialize)]
struct Filters {
    #[serde(rename = "issue-related-events-section", default)]
    jql: String,
}

/// The project keys of a filter Jira (or vulnbridge) wrote as `project = A` or
/// `project in (A, B)`; `None` for anything else.
fn projects_of(jql: &str) -> Option<BTreeSet<String>> {
    let t = jql.trim();
    if !t.get(..7)?.eq_ignore_ascii_case("project") {
        return None;
    }
    let rest = t.get(7..)?.trim_start();
    let unquote = |s: &str| {
        s.trim()
            .trim_matches('"')
            .trim_matches('\'')
            .trim()
            .to_uppercase()
    };
    let keys: BTreeSet<String> = if let Some(v) = rest.strip_prefix('=') {
        [unquote(v)].into()
    } else if rest.get(..2)?.eq_ignore_ascii_case("in") {
        let inner = rest
            .get(2..)?
            .trim_start()
            .strip_prefix('(')?
            .strip_suffix(')')?;
        inner.split(',').map(unquote).collect()
    } else {
        return None;
    };
    let plain =
        |k: &String| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (!keys.is_empty() && keys.iter().all(plain)).then_some(keys)
}

/// The filter that also covers `project`.
pub fn merged_filter(existing: &str, project: &str) -> String {
    let key = project.trim().to_uppercase();
    if existing.trim().is_empty() {
        return format!("project = {}", quote(&key));
    }
    match projects_of(existing) {
        Some(mut keys) => {
            keys.insert(key);
            if keys.len() == 1 {
                format!(
                    "project = {}",
                    keys.iter().map(|k| quote(k)).collect::<String>()
                )
            } else {
                format!(
                    "project in ({})",
                    keys.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
                )
            }
        }
        // Someone's own filter: kept, with this project added beside it.
        None => format!("({}) OR project = {}", existing.trim(), quote(&key)),
    }
}

pub async fn register(
    api: &Api,
    project: &str,
    url: &url::Url,
    secret: &SecretString,
) -> Result<(), TrackerError> {
    let what = "the Jira admin webhooks";
    let list_url = api.at(PATH).await?;
    let hooks: Vec<Hook> = api
        .send_json(Method::GET, list_url, None, RequestClass::Read, what)
        .await
        .map_err(admin_needed)?;
    let existing = hooks
        .iter()
        .find(|h| url::Url::parse(h.url.trim()).is_ok_and(|u| u == *url));
    let jql = match existing {
        Some(h) => merged_filter(&h.filters.jql, project),
        None => format!("project = {}", quote(&project.trim().to_uppercase())),
    };
    let body = json!({
        "name": "vulnbridge",
        "url": url.as_str(),
        "events": EVENTS,
        "filters": { "issue-related-events-section": jql },
        "excludeBody": false,
        "secret": secret.expose_secret(),
    });
    let (method, target) =
        match existing.and_then(|h| h.self_url.rsplit('/').next().filter(|id| !id.is_empty())) {
            Some(id) => (
                Method::PUT,
                api.at(&format!("{PATH}/{}", super::api::segment(id)))
                    .await?,
            ),
            None => (Method::POST, api.at(PATH).await?),
        };
    api.send(
        method,
        target,
        Some(&body),
        RequestClass::Write,
        "the vulnbridge webhook",
    )
    .await
    .map_err(admin_needed)?;
    Ok(())
}

fn admin_needed(e: TrackerError) -> TrackerError {
    match e {
        TrackerError::Forbidden(m) => TrackerError::Forbidden(format!(
            "{m}: registering Jira webhooks needs a Jira administrator; register it by hand (System › WebHooks) or use an administrator's credentials"
        )),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_grow_to_cover_each_project() {
        assert_eq!(merged_filter("", "sec"), "project = \"SEC\"");
        assert_eq!(
            merged_filter("project = SEC", "APP"),
            "project in (\"APP\", \"SEC\")"
        );
        assert_eq!(
            merged_filter("project in (\"APP\", \"SEC\")", "SEC"),
            "project in (\"APP\", \"SEC\")"
        );
        assert_eq!(merged_filter("PROJECT = 'sec'", "sec"), "project = \"SEC\"");
        assert_eq!(
            merged_filter("labels = x", "SEC"),
            "(labels = x) OR project = \"SEC\""
        );
    }
}
