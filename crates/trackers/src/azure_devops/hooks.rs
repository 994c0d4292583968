//! The service hook subscriptions that bring work item changes back: `workitem.updated`,
//! `workitem.deleted` and `workitem.commented` for the mapping's project and work item type,
//! to the Web Hooks consumer, with basic authentication (user `vulnbridge`, the secret as the
//! password) and the secret again in an `X-Vulnbridge-Secret` header (Azure DevOps does not sign
//! payloads). A subscription with the same event, URL, project and type is replaced (with the
//! current secret) rather than duplicated.

use super::api::{self, Api, Body, segment};
use super::fields::Target;
use super::webhook::SECRET_HEADER;
use crate::{RequestClass, TrackerError};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The events vulnbridge subscribes to.
pub const EVENTS: [&str; 3] = ["workitem.updated", "workitem.deleted", "workitem.commented"];
/// The basic authentication user of the deliveries.
pub const USER: &str = "vulnbridge";

#[derive(Debug, Deserialize)]
struct Project {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Subscription {
    id: String,
    #[serde(rename = "eventType", default)]
    event_type: String,
    #[serde(rename = "publisherInputs", default)]
    publisher_inputs: BTreeMap<String, Value>,
    #[serde(rename = "consumerInputs", default)]
    consumer_inputs: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct Subscriptions {
    #[serde(default)]
    value: Vec<Subscription>,
}

fn same_url(a: &str, b: &url::Url) -> bool {
    url::Url::parse(a.trim()).is_ok_and(|a| a == *b)
}

fn input<'a>(m: &'a BTreeMap<String, Value>, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or("")
}

pub async fn register(
    api: &Api,
    t: &Target,
    url: &url::Url,
    secret: &SecretString,
) -> Result<(), TrackerError> {
    let s = secret.expose_secret();
    if s.is_empty() || s.chars().count() > 256 || s.chars().any(char::is_whitespace) {
        return Err(TrackerError::Misconfigured(
            "the webhook secret must be 1 to 256 characters without spaces: Azure DevOps sends it as a basic authentication password".into(),
        ));
    }
    let project: Project = api
        .json(
            RequestClass::Read,
            &format!("Azure DevOps project {}", t.project),
            Method::GET,
            &format!("/_apis/projects/{}", segment(&t.project)),
            api::API_VERSION,
            &[],
            &Body::None,
        )
        .await?;
    let what = "the service hook subscriptions of the organization";
    let existing: Subscriptions = api
        .json(
            RequestClass::Read,
            what,
            Method::GET,
            "/_apis/hooks/subscriptions",
            api::API_VERSION,
            &[
                ("publisherId", "tfs".to_owned()),
                ("consumerId", "webHooks".to_owned()),
                ("consumerActionId", "httpRequest".to_owned()),
            ],
            &Body::None,
        )
        .await?;
    for event in EVENTS {
        let body = json!({
            "publisherId": "tfs",
            "eventType": event,
            "resourceVersion": "1.0",
            "consumerId": "webHooks",
            "consumerActionId": "httpRequest",
            "publisherInputs": { "projectId": project.id, "workItemType": t.work_item_type },
            "consumerInputs": {
                "url": url.as_str(),
                "basicAuthUsername": USER,
                "basicAuthPassword": s,
                "httpHeaders": format!("{SECRET_HEADER}:{s}"),
            },
        });
        let found = existing.value.iter().find(|sub| {
            sub.event_type == event
                && same_url(input(&sub.consumer_inputs, "url"), url)
                && input(&sub.publisher_inputs, "projectId").eq_ignore_ascii_case(&project.id)
                && input(&sub.publisher_inputs, "workItemType")
                    .eq_ignore_ascii_case(&t.work_item_type)
        });
        let what = format!(
            "the {event} service hook of Azure DevOps project {}",
            t.project
        );
        match found {
            Some(sub) => {
                api.send(
                    RequestClass::Write,
                    &what,
                    Method::PUT,
                    &format!("/_apis/hooks/subscriptions/{}", segment(&sub.id)),
                    api::API_VERSION,
                    &[],
                    &Body::Json(body),
                )
                .await?;
            }
            None => {
                api.send(
                    RequestClass::Write,
                    &what,
                    Method::POST,
                    "/_apis/hooks/subscriptions",
                    api::API_VERSION,
                    &[],
                    &Body::Json(body),
                )
                .await?;
            }
        }
    }
    Ok(())
}
