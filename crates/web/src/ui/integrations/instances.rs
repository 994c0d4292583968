//! Integration Instances: the vendor chooser, the add and edit forms (each vendor's fields
//! with the Integrators Tool Reference's help), the instance page with Check connection, the
//! webhook secret shown once after adding (or rotating), and deleting.

use crate::ui::form::{self, Form, Kind, SectionSpec, Spec, Values};
use super::{ReportView, instance_id, is_admin, layout, refused, require_admin};
use crate::api::integrations::{self as api, read_config};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::error::{UiError, UiResult, render};
use crate::ui::layout::Layout;
use crate::ui::session::{CurrentUser, Session};
use crate::ui::view;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use domain::InstanceId;
use domain::tracker::{Instance, Vendor};
use engine::integrations::configure::{self, InstancePatch, NewInstanceInput};
use secrets::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use store::{instances, mappings, push_errors};

fn text(path: &'static str, label: &'static str, help: &'static str) -> Spec {
    Spec::new(path, label, Kind::Text, help)
}

fn secret(path: &'static str, name: &'static str, label: &'static str, help: &'static str) -> Spec {
    Spec::new(path, label, Kind::Secret, help).named(name)
}

fn optional(path: &'static str, name: &'static str, label: &'static str, help: &'static str) -> Spec {
    Spec::new(path, label, Kind::Optional, help).named(name)
}

/// What the location is, per vendor (seeds/000).
fn location_help(v: Vendor) -> &'static str {
    match v {
        Vendor::GitHub => "Your GitHub user or organization URL, depending on where issues are created, e.g. https://github.com/your-organization.",
        Vendor::GitLab => "The link to your GitLab server, e.g. https://gitlab.com/.",
        Vendor::Jira => "Your Jira server URL, e.g. https://your-company.atlassian.net (Jira Cloud) or your Data Center's address.",
        Vendor::AzureDevops => "Your Azure URL, e.g. https://dev.azure.com/your-organization.",
        Vendor::ServiceNow => "The URL of your ServiceNow server, e.g. https://your-organization.service-now.com/.",
    }
}

fn oauth_specs(client: &'static str, refresh: &'static str) -> Vec<Spec> {
    vec![
        optional("credentials.oauth.client_id", "client_id", "Client ID", client),
        secret("credentials.oauth.client_secret", "client_secret", "Client secret", "The Client Secret of that OAuth registration."),
        secret("credentials.oauth.refresh_token", "refresh_token", "Refresh token", refresh),
        optional(
            "credentials.oauth.token_url",
            "token_url",
            "Token URL",
            "Only when not the vendor's usual token endpoint (ServiceNow: <location>/oauth_token.do; Jira Cloud: https://auth.atlassian.com/oauth/token).",
        ),
    ]
}

/// The credentials a vendor takes, with where to get them (seeds/000, seeds/003).
fn credential_specs(v: Vendor) -> (String, Vec<Spec>) {
    match v {
        Vendor::GitHub => (String::new(), vec![secret(
            "credentials.token",
            "token",
            "Token",
            "A personal access token from GitHub, created at https://github.com/settings/tokens. It must have the repo and project scopes (and admin:repo_hook to register webhooks).",
        )]),
        Vendor::GitLab => (String::new(), vec![secret(
            "credentials.token",
            "token",
            "Token",
            "A personal access token from GitLab with the api scope (User settings › Access tokens; see GitLab's guide to creating a personal access token).",
        )]),
        Vendor::AzureDevops => (String::new(), vec![secret(
            "credentials.token",
            "token",
            "Token",
            "A personal access token from Azure DevOps with \"Read, Write and Manage\" permission for Work Items on the project you push to (User settings › Personal access tokens).",
        )]),
        Vendor::Jira => (
            "Give one kind: e-mail and API token (Basic, Jira Cloud), a personal access token (Jira Data Center), or OAuth.".into(),
            [
                vec![
                    optional("credentials.username", "username", "E-mail", "Basic authorization: the Jira account's e-mail address."),
                    secret(
                        "credentials.password",
                        "password",
                        "API token",
                        "Basic authorization: an API token, created in Atlassian account settings › Security › Create and manage API tokens (https://id.atlassian.com/manage-profile/security/api-tokens).",
                    ),
                    secret("credentials.token", "token", "Personal access token", "Jira Data Center: a personal access token instead of e-mail and API token."),
                ],
                oauth_specs(
                    "OAuth: the client id of the application registered for vulnbridge in Jira.",
                    "OAuth: a refresh token that application issued for the account that pushes issues.",
                ),
            ]
            .concat(),
        ),
        Vendor::ServiceNow => (
            "ServiceNow takes an OAuth client and a refresh token (or a user name and password). Register vulnbridge in ServiceNow: Application Registry › New › Create an OAuth API endpoint for external clients, then note its Client ID and Client Secret."
                .into(),
            [
                oauth_specs(
                    "The Client ID set in the OAuth App Registration.",
                    "A refresh token of the user or service account that pushes incidents: POST <location>/oauth_token.do with grant_type=password, client_id, client_secret, username and password; the answer carries refresh_token.",
                ),
                vec![
                    optional("credentials.username", "username", "User name", "Instead of OAuth: the account's user name (basic authentication)."),
                    secret("credentials.password", "password", "Password", "Instead of OAuth: that account's password."),
                ],
            ]
            .concat(),
        ),
    }
}

/// The add and edit form of a vendor's instance.
fn specs(v: Vendor, editing: bool) -> Vec<SectionSpec> {
    let (note, creds) = credential_specs(v);
    let note = if editing { format!("Leave empty to keep the stored credentials; they are never shown. {note}") } else { note };
    let mut settings = vec![Spec::new(
        "settings.rate_limits",
        "Rate limits",
        Kind::Json,
        "Replaces the vendor's documented limits, bucket by bucket, e.g. [{\"name\": \"content-minute\", \"limit\": 60, \"per_seconds\": 60}] (for GitHub Enterprise Server or self-managed GitLab with their own limits). Empty: the vendor's defaults.",
    )];
    if v.bulk_size() > 1 {
        settings.push(Spec::new(
            "settings.no_bulk",
            "Create tickets one at a time",
            Kind::Check,
            "Do not use the tracker's bulk API (for instances where a proxy or an ACL blocks it); bulk creates cost far fewer requests.",
        ));
    }
    vec![
        SectionSpec::new(
            "Instance",
            vec![text("label", "Label", "The label you want to use to identify this integration."), text("location", "Location", location_help(v))],
        ),
        SectionSpec::new("Credentials", creds).note(note),
        SectionSpec::new("Settings", settings).advanced(),
    ]
}

fn vendor_param(raw: &str) -> UiResult<Vendor> {
    Vendor::parse(raw).ok_or_else(|| UiError::bad_request(format!("'{raw}' is not a vendor; use github, gitlab, jira, azure_devops or servicenow")))
}

pub struct VendorChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub current: bool,
}

fn vendor_choices(current: Option<Vendor>) -> Vec<VendorChoice> {
    Vendor::ALL
        .into_iter()
        .map(|v| VendorChoice { value: v.as_str(), label: v.label(), icon: view::vendor_icon(v), current: Some(v) == current })
        .collect()
}

#[derive(Template)]
#[template(path = "instance_form.html")]
struct InstanceFormPage {
    layout: Layout,
    /// The vendor chooser (adding only).
    vendors: Vec<VendorChoice>,
    vendor: Option<Vendor>,
    icon: &'static str,
    action: String,
    heading: String,
    back: String,
    form: Option<Form>,
}

#[derive(Deserialize)]
pub struct NewQuery {
    vendor: Option<String>,
}

/// `/settings/integrations/instances/new`: the vendor chooser; with `?vendor=` that vendor's form.
pub async fn new(CurrentUser(session): CurrentUser, Query(q): Query<NewQuery>) -> UiResult<Html<String>> {
    require_admin(&session, "adding an integration instance")?;
    let vendor = q.vendor.as_deref().filter(|v| !v.is_empty()).map(vendor_param).transpose()?;
    render(&add_page(&session, vendor, vendor.map(|v| Form::new(&specs(v, false), &Values::default()))))
}

fn add_page(session: &Session, vendor: Option<Vendor>, form: Option<Form>) -> InstanceFormPage {
    InstanceFormPage {
        layout: layout(session, "Add instance"),
        vendors: vendor_choices(vendor),
        vendor,
        icon: vendor.map(view::vendor_icon).unwrap_or(""),
        action: "/settings/integrations/instances".into(),
        heading: match vendor {
            Some(v) => format!("Add a {} instance", v.label()),
            None => "Add instance".into(),
        },
        back: "/settings/integrations".into(),
        form,
    }
}

/// Adds the instance, then shows its page with the webhook URL and secret, this once.
pub async fn create(State(s): State<AppState>, CurrentUser(session): CurrentUser, body: Bytes) -> UiResult<Response> {
    require_admin(&session, "adding an integration instance")?;
    let values = Values::parse(&body);
    let vendor = vendor_param(values.get("vendor"))?;
    let specs = specs(vendor, false);
    let parsed = form::to_json(&specs, &values, &[("vendor", json!(vendor)), ("credentials", json!({}))])
        .and_then(|j| form::parse::<NewInstanceInput>(&j));
    let result = match parsed {
        Ok(input) => api::add_instance(&s, &session.actor, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((instance, secret)) => {
            let mut page = instance_page(&s, &session, instance).await?;
            page.created = Some(Secret { url: page.webhook_url.clone(), secret });
            Ok(render(&page)?.into_response())
        }
        Err(e) if form::is_input_error(&e) => {
            let status = e.status;
            refused(status, &add_page(&session, Some(vendor), Some(Form::new(&specs, &values).with_error(&e, &specs))))
        }
        Err(e) => Err(e.into()),
    }
}

/// The webhook secret, shown once after adding or rotating.
pub struct Secret {
    pub url: String,
    pub secret: SecretString,
}

impl Secret {
    pub fn reveal(&self) -> &str {
        self.secret.expose_secret()
    }
}

pub struct MappingLine {
    pub id: i64,
    pub label: String,
    pub target: String,
    pub total_errors: i64,
}

#[derive(Template)]
#[template(path = "instance.html")]
pub struct InstancePage {
    layout: Layout,
    id: i64,
    icon: &'static str,
    label: String,
    vendor: &'static str,
    location: String,
    account: Option<String>,
    webhook_url: String,
    no_bulk: bool,
    rate_limits: Vec<String>,
    created_at: String,
    updated_at: String,
    mappings: Vec<MappingLine>,
    can_admin: bool,
    created: Option<Secret>,
    rotated: Option<Secret>,
    saved: bool,
    report: Option<ReportView>,
}

async fn instance_page(s: &AppState, session: &Session, i: Instance) -> UiResult<InstancePage> {
    let mut c = s.app.db().conn().await?;
    let maps = mappings::list(&mut c, Some(i.id)).await?;
    let errors = push_errors::counts(&mut c).await?;
    Ok(InstancePage {
        layout: layout(session, i.label.clone()),
        id: i.id.0,
        icon: view::vendor_icon(i.vendor),
        vendor: i.vendor.label(),
        webhook_url: configure::webhook_url(s.app.settings(), i.id),
        no_bulk: i.settings.no_bulk,
        rate_limits: i.settings.rate_limits.iter().map(|r| format!("{}: {} per {} s", r.name, r.limit, r.per_seconds)).collect(),
        created_at: view::time(Some(i.created_at)),
        updated_at: view::time(Some(i.updated_at)),
        mappings: maps
            .into_iter()
            .map(|m| MappingLine {
                id: m.id.0,
                target: m.config.target.describe(),
                total_errors: errors.get(&m.id).copied().unwrap_or(0),
                label: m.label,
            })
            .collect(),
        can_admin: is_admin(&session.actor),
        created: None,
        rotated: None,
        saved: false,
        report: None,
        label: i.label,
        location: i.location,
        account: i.account,
    })
}

async fn load(s: &AppState, session: &Session, raw: &str) -> UiResult<Instance> {
    read_config(&session.actor)?;
    let id = instance_id(raw)?;
    let mut c = s.app.db().conn().await?;
    Ok(instances::get(&mut c, id).await?)
}

/// `/settings/integrations/instances/{id}`: the instance, its mappings, and (administrators)
/// Check connection, Edit, Delete, Add mapping.
pub async fn show(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(raw): Path<String>,
    q: Result<Query<super::SavedQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let i = load(&s, &session, &raw).await?;
    let mut page = instance_page(&s, &session, i).await?;
    page.saved = q.ok().and_then(|Query(q)| q.saved).is_some();
    render(&page)
}

/// Check connection: the instance page with each check passed or failed.
pub async fn check(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let id = instance_id(&raw)?;
    let report = api::check_connection(&s, &session.actor, id, None).await?;
    // Reloaded after the check, which may have learnt the account.
    let i = load(&s, &session, &raw).await?;
    let mut page = instance_page(&s, &session, i).await?;
    page.report = Some(report.into());
    render(&page)
}

/// A new webhook secret (the old one stops working), shown this once.
pub async fn rotate_secret(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let id = instance_id(&raw)?;
    let (i, secret) = api::rotate_webhook_secret(&s, &session.actor, id).await?;
    let mut page = instance_page(&s, &session, i).await?;
    page.rotated = Some(Secret { url: page.webhook_url.clone(), secret });
    render(&page)
}

fn edit_page(session: &Session, i: &Instance, form: Form) -> InstanceFormPage {
    InstanceFormPage {
        layout: layout(session, format!("Edit {}", i.label)),
        vendors: Vec::new(),
        vendor: Some(i.vendor),
        icon: view::vendor_icon(i.vendor),
        action: format!("/settings/integrations/instances/{}/edit", i.id.0),
        heading: format!("Edit {}", i.label),
        back: format!("/settings/integrations/instances/{}", i.id.0),
        form: Some(form),
    }
}

/// The edit form, pre-filled with everything but the credentials.
pub async fn edit(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    require_admin(&session, "changing an integration instance")?;
    let i = load(&s, &session, &raw).await?;
    let specs = specs(i.vendor, true);
    let stored = serde_json::to_value(&i).map_err(ApiError::internal)?;
    render(&edit_page(&session, &i, Form::new(&specs, &form::prefill(&specs, &stored))))
}

pub async fn update(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>, body: Bytes) -> UiResult<Response> {
    require_admin(&session, "changing an integration instance")?;
    let i = load(&s, &session, &raw).await?;
    let values = Values::parse(&body);
    let specs = specs(i.vendor, true);
    // An unchanged location is left out of the change: the account learnt for it still holds.
    let unchanged = |mut j: serde_json::Value| {
        if j["location"].as_str().map(|l| l.trim().trim_end_matches('/')) == Some(i.location.as_str()) {
            j.as_object_mut().map(|o| o.remove("location"));
        }
        j
    };
    // Settings are always sent, so that emptying the rate limits clears them.
    let result = match form::to_json(&specs, &values, &[("settings", json!({}))]).map(unchanged).and_then(|j| form::parse::<InstancePatch>(&j)) {
        Ok(patch) => api::change_instance(&s, &session.actor, i.id, patch).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/settings/integrations/instances/{}?saved=1", i.id.0)).into_response()),
        Err(e) if form::is_input_error(&e) => {
            let status = e.status;
            refused(status, &edit_page(&session, &i, Form::new(&specs, &values).with_error(&e, &specs)))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "integration_delete.html")]
pub struct ConfirmDelete {
    pub layout: Layout,
    pub icon: &'static str,
    pub what: String,
    pub consequence: String,
    pub action: String,
    pub back: String,
}

pub async fn confirm_delete(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    require_admin(&session, "deleting an integration instance")?;
    let i = load(&s, &session, &raw).await?;
    let mut c = s.app.db().conn().await?;
    let n = mappings::list(&mut c, Some(i.id)).await?.len();
    render(&ConfirmDelete {
        layout: layout(&session, format!("Delete {}", i.label)),
        icon: view::vendor_icon(i.vendor),
        what: format!("the instance {}", i.label),
        consequence: format!(
            "Its {n} mapping{} and their assignments and ticket links are deleted too. The tickets in {} stay.",
            if n == 1 { "" } else { "s" },
            i.vendor.label()
        ),
        action: format!("/settings/integrations/instances/{}/delete", i.id.0),
        back: format!("/settings/integrations/instances/{}", i.id.0),
    })
}

pub async fn delete(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    let id: InstanceId = instance_id(&raw)?;
    api::remove_instance(&s, &session.actor, id).await?;
    Ok(Redirect::to("/settings/integrations?done=instance-deleted").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendor_form_builds_input_the_api_takes() {
        for v in Vendor::ALL {
            let adding = specs(v, false);
            let mut values = Values::default();
            values.set("label", "x");
            values.set("location", "https://example.com/acme");
            let j = form::to_json(&adding, &values, &[("vendor", json!(v)), ("credentials", json!({}))]).unwrap();
            let input: NewInstanceInput = form::parse(&j).unwrap();
            assert_eq!(input.vendor, v);
            let e = input.credentials.check(v).unwrap_err();
            assert_eq!(e.field, "credentials", "{v:?}");
            let patch: InstancePatch = form::parse(&form::to_json(&specs(v, true), &values, &[]).unwrap()).unwrap();
            assert!(patch.credentials.is_none(), "empty credentials leave the stored ones");
        }
    }
}
