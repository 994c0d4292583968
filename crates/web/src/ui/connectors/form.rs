//! The connector form: Add (from a tool of the Available list), Edit, and Delete, on the
//! generic forms of [`crate::ui::form`].
//!
//! Inputs are named as the API's JSON fields are, dotted where they nest (`label`, `location`,
//! `secrets.token`, `settings.sync_every_minutes`, `settings.options.branch`), which is also
//! how a `ValidationError` names the field at fault: the form is shown again with the error at
//! that field and everything typed kept — except secrets, which are never put in a page
//! (stored ones neither: on Edit, empty secret fields keep them). What was posted becomes the
//! JSON the API takes, parsed into its `NewConnectorInput` or `ConnectorPatch`; saving goes
//! through `api::connectors::{add, change}`, one transaction, so nothing is written unless
//! all is valid.

use super::CurrentUser;
use crate::api::connectors::{add, change, manage, remove};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::error::{UiError, UiResult, render};
use crate::ui::form::{self, Form, Kind, Markup, SectionSpec, Spec, Values};
use crate::ui::layout::Layout;
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use domain::connector::{Connector, ConnectorSettings, Tool};
use engine::connectors::configure::{ConnectorPatch, NewConnectorInput};
use serde::Deserialize;
use serde_json::{Value, json};

pub use crate::ui::form::message;

/// A tool option the form offers (`ConnectorSettings::options`, read by the tool's client):
/// [`Kind::Optional`] text (also numbers and comma-separated lists, as the clients read them),
/// a [`Kind::Check`] flag with the client's default, or a [`Kind::Select`] of `choices` or the
/// client's default.
struct OptionSpec {
    name: &'static str,
    label: &'static str,
    kind: Kind,
    help: &'static str,
    placeholder: &'static str,
    default_on: bool,
    choices: &'static [&'static str],
}

const fn text(name: &'static str, label: &'static str, placeholder: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec { name, label, kind: Kind::Optional, help, placeholder, default_on: false, choices: &[] }
}

const fn flag(name: &'static str, label: &'static str, default_on: bool, help: &'static str) -> OptionSpec {
    OptionSpec { name, label, kind: Kind::Check, help, placeholder: "", default_on, choices: &[] }
}

const fn choice(name: &'static str, label: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec { name, label, kind: Kind::Select, help, placeholder: "", default_on: false, choices: &[] }
}

/// What the form says about a tool: where its API is, where its secrets come from, its options.
struct ToolHelp {
    /// Filled in on Add where the tool has one public address.
    location_default: &'static str,
    location_placeholder: &'static str,
    location_help: &'static str,
    options: &'static [OptionSpec],
}

/// The options of AwsSecurityHub.
const AWS_OPTIONS: &[OptionSpec] = &[
                text("region", "Region", "us-east-1", "Only when the location does not name the Region (a VPC endpoint or a proxy)."),
                text(
                    "regions",
                    "Regions to discover",
                    "eu-west-1, us-east-1",
                    "Comma-separated. Empty: the home Region and the Regions linked to it by cross-Region aggregation.",
                ),
            ];

/// The options of CheckmarxOne.
const CHECKMARX_OPTIONS: &[OptionSpec] = &[
                text("tenant", "Tenant", "acme", "Your tenant (account) name, as in the login page's address. Needed unless the API key names it."),
                text("iam_url", "IAM address", "https://eu.iam.checkmarx.net", "Only when IAM is not where the API key or the region says."),
                text("branch", "Branch", "main", "Import only scans of this branch. Empty: each project's latest scan, whatever its branch."),
                flag("per_branch", "A record per branch", false, "Each tracked branch of a project becomes a record of its own (excludes Branch)."),
            ];

/// The options of Semgrep.
const SEMGREP_OPTIONS: &[OptionSpec] = &[
                text("issue_types", "Issue types", "sast, sca", "Comma-separated: sast, sca, ai_sast. Empty: sast, sca."),
                text("page_size", "Page size", "1000", "Findings per request, 100 to 3000. Empty: 1000."),
            ];

/// The options of SonarQube.
const SONARQUBE_OPTIONS: &[OptionSpec] = &[
                text("organization", "Organization", "acme", "SonarQube Cloud only: the organization key."),
                text("types", "Issue types", "VULNERABILITY", "Comma-separated: VULNERABILITY, BUG, CODE_SMELL. Empty: VULNERABILITY."),
                flag("hotspots", "Security hotspots", true, "Import security hotspots too."),
                text("branch", "Branch", "main", "Pull this branch. Empty: each project's main branch."),
                OptionSpec {
                    choices: &["basic", "bearer"],
                    ..choice("auth", "Authentication", "basic (the token as user name; every version) or bearer (Server 10.0+, Cloud). Default: basic.")
                },
                flag("rule_details", "CWEs from the rules", true, "Read each rule once for its CWEs."),
            ];

/// The options of Snyk.
const SNYK_OPTIONS: &[OptionSpec] = &[
                text("org", "Organization id", "a UUID", "Discover this organization only (its id, a UUID, is in the organization's settings). Empty: every organization of the token."),
                text("api_version", "API version", "2024-10-15", "The REST API version date. Empty: 2024-10-15."),
            ];

fn tool_help(tool: Tool) -> ToolHelp {
    match tool {
        Tool::AwsSecurityHub => ToolHelp {
            location_default: "",
            location_placeholder: "https://securityhub.us-east-1.amazonaws.com",
            location_help: "The Security Hub endpoint of the home Region: https://securityhub.<region>.amazonaws.com. Another address (a VPC endpoint, a proxy) needs the Region option.",
            options: AWS_OPTIONS,
        },
        Tool::BurpSuite => ToolHelp {
            location_default: "",
            location_placeholder: "https://burp.example.com",
            location_help: "Your Burp Suite DAST (Enterprise) server; its GraphQL API is at /graphql/v1 below it.",
            options: &[],
        },
        Tool::CheckmarxOne => ToolHelp {
            location_default: "https://ast.checkmarx.net",
            location_placeholder: "https://ast.checkmarx.net",
            location_help: "Your region's API: https://ast.checkmarx.net (US), https://us.ast.checkmarx.net, https://eu.ast.checkmarx.net, https://eu-2.ast.checkmarx.net, https://deu.ast.checkmarx.net, https://anz.ast.checkmarx.net, https://ind.ast.checkmarx.net, https://sng.ast.checkmarx.net.",
            options: CHECKMARX_OPTIONS,
        },
        Tool::DependencyTrack => ToolHelp {
            location_default: "",
            location_placeholder: "https://dtrack.example.com",
            location_help: "The Dependency-Track API server (the paths /api/v1/… are below it), which may differ from the frontend's address.",
            options: &[],
        },
        Tool::Probely => ToolHelp {
            location_default: "https://api.probely.com",
            location_placeholder: "https://api.probely.com",
            location_help: "https://api.probely.com, or your region's: https://api.us.probely.com, https://api.eu.probely.com.",
            options: &[],
        },
        Tool::Semgrep => ToolHelp {
            location_default: "https://semgrep.dev",
            location_placeholder: "https://semgrep.dev",
            location_help: "The Semgrep AppSec Platform: https://semgrep.dev.",
            options: SEMGREP_OPTIONS,
        },
        Tool::SonarQube => ToolHelp {
            location_default: "",
            location_placeholder: "https://sonarqube.example.com",
            location_help: "Your SonarQube Server, or SonarQube Cloud: https://sonarcloud.io (EU) or https://sonarqube.us (US), with the Organization option.",
            options: SONARQUBE_OPTIONS,
        },
        Tool::Snyk => ToolHelp {
            location_default: "https://api.snyk.io",
            location_placeholder: "https://api.snyk.io",
            location_help: "The API host of your Snyk region: https://api.snyk.io (US-01), https://api.us.snyk.io (US-02), https://api.eu.snyk.io, https://api.au.snyk.io.",
            options: SNYK_OPTIONS,
        },
        Tool::Tenable => ToolHelp {
            location_default: "https://cloud.tenable.com",
            location_placeholder: "https://cloud.tenable.com",
            location_help: "Tenable Vulnerability Management: https://cloud.tenable.com.",
            options: &[],
        },
    }
}

/// Where a secret comes from, beyond what `scanners::connectors::secret_names` says it is.
fn secret_where(tool: Tool, name: &str) -> &'static str {
    match (tool, name) {
        (Tool::AwsSecurityHub, "access_key_id") => "IAM console › Users › the user › Security credentials › Create access key.",
        (Tool::AwsSecurityHub, _) => "Shown once, when the access key is created.",
        (Tool::BurpSuite, _) => "In Burp Suite DAST: Team › Add a new user, login type API key; the key is shown once.",
        (Tool::CheckmarxOne, _) => "In Checkmarx ONE: Settings › Identity and Access Management › API Keys › Generate.",
        (Tool::DependencyTrack, _) => "In Dependency-Track: Administration › Access Management › Teams › the team › API Keys.",
        (Tool::Probely, _) => "In Probely: Settings › API Keys.",
        (Tool::Semgrep, _) => "In Semgrep: Settings › Tokens › Create new token, with the Web API scope.",
        (Tool::SonarQube, _) => "In SonarQube: My Account › Security › Generate Tokens.",
        (Tool::Snyk, _) => "In Snyk: Account settings › API token, or a service account in the organization's or group's settings.",
        (Tool::Tenable, "access_key") => "In Tenable: Settings › My Account › API Keys › Generate (an API user's: Settings › Access Control › Users).",
        (Tool::Tenable, _) => "Shown once, with the access key.",
    }
}


/// An option's value as text (lists comma-separated).
pub fn option_text(v: &Value) -> String {
    form::plain(v)
}

/// `api_key` → `API key`, `access_key_id` → `Access key ID`.
fn secret_label(name: &str) -> String {
    let words: Vec<String> = name
        .split('_')
        .map(|w| match w {
            "api" => "API".to_owned(),
            "id" => "ID".to_owned(),
            other => other.to_owned(),
        })
        .collect();
    capitalise(&words.join(" "))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The input of a tool option, with `value` (a choice the form does not list, stored or typed,
/// stays selectable, and so kept).
fn option_spec(o: &OptionSpec, value: &str) -> Spec {
    let mut spec = Spec::new(format!("settings.options.{}", o.name), o.label, o.kind, o.help).placeholder(o.placeholder);
    if o.default_on {
        spec = spec.default_on();
    }
    if o.kind == Kind::Select {
        let mut choices = vec![(String::new(), "(default)".to_owned())];
        choices.extend(o.choices.iter().map(|c| (c.to_string(), c.to_string())));
        if !value.is_empty() && !o.choices.iter().any(|c| c.eq_ignore_ascii_case(value)) {
            choices.push((value.to_owned(), value.to_owned()));
        }
        spec = spec.options(choices);
    }
    spec
}

/// The form's sections for `tool` (`values`: what the option choices show).
fn specs(tool: Tool, editing: bool, values: &Values) -> Vec<SectionSpec> {
    let help = tool_help(tool);
    let secret = |s: &scanners::connectors::SecretSpec| {
        Spec::new(format!("secrets.{}", s.name), secret_label(s.name), Kind::Secret, format!("{}. {}", capitalise(s.help), secret_where(tool, s.name)))
            .required(!editing)
            .placeholder(if editing { "stored; empty keeps it" } else { "" })
    };
    let mut out = vec![
        SectionSpec::new(
            "Connection",
            vec![
                Spec::new("label", "Label", Kind::Text, format!("A name for this connection, unique among connectors (e.g. \"{} production\").", tool.label())),
                Spec::new("location", "Location (API URL)", Kind::Url, help.location_help).placeholder(help.location_placeholder),
            ],
        ),
        SectionSpec::new("Secrets", scanners::connectors::secret_names(tool).iter().map(secret).collect()).note(if editing {
            "Stored encrypted and never shown. Leave these empty to keep the stored ones; to replace them, give all of them."
        } else {
            "Stored encrypted and never shown again."
        }),
        SectionSpec::new(
            "Schedule",
            vec![
                Spec::new("settings.discover_every_minutes", "Discover every (minutes)", Kind::Number, format!("Finds the tool's {}s (default: 1440, once a day).", tool.record_kind())).required(true),
                Spec::new("settings.sync_every_minutes", "Sync every (minutes)", Kind::Number, "Imports the findings of each mapped record (default: 60, hourly).").required(true),
                Spec::new(
                    "settings.full_sync_every",
                    "Full pull every (Syncs)",
                    Kind::Number,
                    "For tools that pull only what changed: every this many Syncs pulls everything, which also closes findings the tool no longer reports (1 to 1000).",
                )
                .required(true),
                Spec::new("settings.auto_map", "Auto-map new records", Kind::Check, format!("Map each newly discovered {} to a product of its own name (made if missing).", tool.record_kind())),
            ],
        )
        .note("Minutes between scheduled runs: 0 runs only by hand (the connector page's Discover and Sync buttons), else 5 to 43,200."),
    ];
    if !help.options.is_empty() {
        out.push(
            SectionSpec::new("Options", help.options.iter().map(|o| option_spec(o, values.get(&format!("settings.options.{}", o.name)))).collect())
                .note(format!("What {} needs besides the address and secrets; empty fields take the default.", tool.label())),
        );
    }
    out
}

/// The values of a stored connector (`None`: a new one of `tool`, at the tool's usual
/// location, default schedules and flags), never its secrets. A choice stored in other case
/// (`Bearer`) shows as the form's (`bearer`).
fn stored(tool: Tool, k: Option<&Connector>) -> Values {
    let json = match k {
        Some(k) => json!({"label": k.label, "location": k.location, "settings": k.settings}),
        None => json!({"location": tool_help(tool).location_default, "settings": ConnectorSettings::default()}),
    };
    let mut values = form::prefill(&specs(tool, k.is_some(), &Values::default()), &json);
    for o in tool_help(tool).options.iter().filter(|o| o.kind == Kind::Select) {
        let name = format!("settings.options.{}", o.name);
        if let Some(c) = o.choices.iter().find(|c| c.eq_ignore_ascii_case(values.get(&name))) {
            values.set(&name, *c);
        }
    }
    values
}

/// The JSON the API takes from what was posted: the settings' options over `base`'s (options
/// the form does not offer are kept as they are; empty ones and flags at their default are
/// left out); secrets only those given.
fn to_json(tool: Tool, editing: bool, values: &Values, base: &ConnectorSettings) -> Result<Value, ApiError> {
    let fixed: &[(&str, Value)] = if editing { &[] } else { &[("tool", json!(tool.as_str())), ("secrets", json!({}))] };
    let mut j = form::to_json(&specs(tool, editing, values), values, fixed)?;
    let typed = j.pointer("/settings/options").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut options = base.options.clone();
    for o in tool_help(tool).options {
        match typed.get(o.name) {
            Some(Value::Bool(on)) if *on == o.default_on => options.remove(o.name),
            Some(v) => options.insert(o.name.to_owned(), v.clone()),
            None => options.remove(o.name),
        };
    }
    if let Some(settings) = j.get_mut("settings").and_then(Value::as_object_mut) {
        settings.insert("options".into(), Value::Object(options));
    }
    Ok(j)
}

#[derive(Template)]
#[template(path = "connector_form.html")]
struct FormPage {
    layout: Layout,
    tool: &'static str,
    tool_label: &'static str,
    /// The connector being edited (0: a new one).
    id: i64,
    /// Its stored label (the breadcrumb), when editing.
    connector_label: String,
    action: String,
    form: Form,
}

/// The connector being edited: its id and stored label.
type Editing<'a> = Option<(i64, &'a str)>;

fn form_page(session: &Session, tool: Tool, editing: Editing, values: &Values, error: Option<&ApiError>) -> UiResult<Html<String>> {
    let id = editing.map(|e| e.0);
    let title = match editing {
        Some((_, label)) => format!("Edit {label}"),
        None => format!("Add a {} connector", tool.label()),
    };
    let specs = specs(tool, id.is_some(), values);
    let mut form = Form::new(&specs, values).markup(Markup::Named);
    if let Some(e) = error {
        form = form.with_error(e, &specs);
    }
    render(&FormPage {
        layout: Layout::new(session, title, "connectors"),
        tool: tool.as_str(),
        tool_label: tool.label(),
        id: id.unwrap_or(0),
        connector_label: editing.map(|e| e.1.to_owned()).unwrap_or_default(),
        action: match id {
            Some(id) => format!("/connectors/{id}/edit"),
            None => "/connectors/new".into(),
        },
        form,
    })
}

/// A refused save: the form again with what was typed (secrets not) and the error at its
/// field, with the API's status (422 invalid, 409 a label taken); anything else (rights,
/// a connector gone) is the error page.
fn refused(session: &Session, tool: Tool, editing: Editing, values: &Values, e: ApiError) -> UiResult<Response> {
    if !form::is_input_error(&e) {
        return Err(e.into());
    }
    let html = form_page(session, tool, editing, values, Some(&e))?;
    Ok((e.status, html).into_response())
}

fn tool_of(raw: &str) -> UiResult<Tool> {
    let raw = raw.trim();
    Tool::parse(raw).ok_or_else(|| {
        let names: Vec<&str> = Tool::ALL.iter().map(|t| t.as_str()).collect();
        UiError::bad_request(format!("'{raw}' is not a tool vulnbridge connects to; use one of {}", names.join(", ")))
    })
}

#[derive(Deserialize)]
pub struct NewQuery {
    tool: Option<String>,
}

/// `GET /connectors/new?tool=…`: the empty form of a tool.
pub async fn new(CurrentUser(session): CurrentUser, q: Result<Query<NewQuery>, axum::extract::rejection::QueryRejection>) -> UiResult<Response> {
    let Query(q) = q.map_err(|e| UiError::bad_request(e.body_text()))?;
    manage(&session.actor, "adding a connector")?;
    let Some(raw) = q.tool.filter(|t| !t.trim().is_empty()) else {
        return Ok(Redirect::to("/connectors#available").into_response());
    };
    let tool = tool_of(&raw)?;
    Ok(form_page(&session, tool, None, &stored(tool, None), None)?.into_response())
}

/// `POST /connectors/new`: adds the connector, or shows the form again with what is wrong.
pub async fn create(State(s): State<AppState>, CurrentUser(session): CurrentUser, body: Bytes) -> UiResult<Response> {
    manage(&session.actor, "adding a connector")?;
    let values = Values::parse(&body);
    let tool = tool_of(values.get("tool"))?;
    let input = match to_json(tool, false, &values, &ConnectorSettings::default()).and_then(|j| form::parse::<NewConnectorInput>(&j)) {
        Ok(input) => input,
        Err(e) => return refused(&session, tool, None, &values, e),
    };
    match add(&s, &session.actor, input).await {
        Ok(k) => Ok(Redirect::to(&format!("/connectors/{}?done=added", k.id.0)).into_response()),
        Err(e) => refused(&session, tool, None, &values, e),
    }
}

async fn connector(s: &AppState, raw: &str) -> UiResult<Connector> {
    let id = super::connector_id(raw)?;
    let mut c = s.app.db().conn().await?;
    Ok(store::connectors::get(&mut c, id).await?)
}

/// `GET /connectors/{id}/edit`: the form filled with the connector's settings (secret fields
/// empty).
pub async fn edit(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    manage(&session.actor, "changing a connector")?;
    let k = connector(&s, &raw).await?;
    form_page(&session, k.tool, Some((k.id.0, &k.label)), &stored(k.tool, Some(&k)), None)
}

/// `POST /connectors/{id}/edit`: saves the changes (secrets only when given).
pub async fn save(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>, body: Bytes) -> UiResult<Response> {
    manage(&session.actor, "changing a connector")?;
    let k = connector(&s, &raw).await?;
    let values = Values::parse(&body);
    let editing = Some((k.id.0, k.label.as_str()));
    let patch = match to_json(k.tool, true, &values, &k.settings).and_then(|j| form::parse::<ConnectorPatch>(&j)) {
        Ok(patch) => patch,
        Err(e) => return refused(&session, k.tool, editing, &values, e),
    };
    match change(&s, &session.actor, k.id, patch).await {
        Ok(k) => Ok(Redirect::to(&format!("/connectors/{}?done=saved", k.id.0)).into_response()),
        Err(e) => refused(&session, k.tool, editing, &values, e),
    }
}

/// `POST /connectors/{id}/delete`: deletes it with its Records and log (its findings stay).
pub async fn delete(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    manage(&session.actor, "deleting a connector")?;
    let k = connector(&s, &raw).await?;
    remove(&s, &session.actor, k.id).await?;
    let label: String = form_urlencoded::byte_serialize(k.label.as_bytes()).collect();
    Ok(Redirect::to(&format!("/connectors?deleted={label}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(tool: Tool, editing: bool, values: &Values, error: Option<&ApiError>) -> Vec<form::Field> {
        let specs = specs(tool, editing, values);
        let mut form = Form::new(&specs, values).markup(Markup::Named);
        if let Some(e) = error {
            form = form.with_error(e, &specs);
        }
        form.sections.into_iter().flat_map(|s| s.fields).collect()
    }

    #[test]
    fn forms_read_as_the_apis_fields() {
        let body = b"csrf=x&tool=sonarqube&label=Sonar&location=https%3A%2F%2Fsonar.example.com&secrets.token=+squ_1%0A&\
settings.discover_every_minutes=0&settings.sync_every_minutes=30&settings.full_sync_every=2&settings.auto_map=true&\
settings.options.branch=main&settings.options.auth=&settings.options.rule_details=true";
        let values = Values::parse(body);
        assert_eq!(tool_of(values.get("tool")).unwrap(), Tool::SonarQube);
        let input: NewConnectorInput = form::parse(&to_json(Tool::SonarQube, false, &values, &ConnectorSettings::default()).unwrap()).unwrap();
        assert_eq!(input.secrets.keys().collect::<Vec<_>>(), ["token"]);
        assert_eq!(secrets::ExposeSecret::expose_secret(&input.secrets["token"]), "squ_1");
        let st = input.settings;
        assert_eq!((st.discover_every_minutes, st.sync_every_minutes, st.full_sync_every, st.auto_map), (0, 30, 2, true));
        // Hotspots (default on) unticked is stored; rule details (default on) ticked is not.
        assert_eq!(Value::Object(st.options), serde_json::json!({"branch": "main", "hotspots": false}));
        // On Edit, empty secrets are left out: the stored ones are kept.
        let patch: ConnectorPatch = form::parse(&to_json(Tool::SonarQube, true, &Values::parse(b"label=S&location=x&secrets.token=+"), &ConnectorSettings::default()).unwrap()).unwrap();
        assert!(patch.secrets.is_none());
    }

    #[test]
    fn bad_numbers_name_their_field_and_unknown_options_are_kept() {
        let mut values = stored(Tool::Semgrep, None);
        values.set("settings.sync_every_minutes", "hourly");
        let e = to_json(Tool::Semgrep, true, &values, &ConnectorSettings::default()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("settings.sync_every_minutes"));
        values.set("settings.sync_every_minutes", "60");
        let mut base = ConnectorSettings::default();
        base.options.insert("experimental".into(), Value::Bool(true));
        base.options.insert("page_size".into(), Value::from(500));
        let patch: ConnectorPatch = form::parse(&to_json(Tool::Semgrep, true, &values, &base).unwrap()).unwrap();
        assert_eq!(Value::Object(patch.settings.unwrap().options), serde_json::json!({"experimental": true}));
    }

    #[test]
    fn stored_connectors_fill_the_form_without_secrets() {
        let mut settings = ConnectorSettings::default();
        settings.options.insert("regions".into(), serde_json::json!(["eu-west-1", "us-east-1"]));
        let mut k = Connector {
            id: domain::ConnectorId(1),
            tool: Tool::AwsSecurityHub,
            label: "AWS".into(),
            location: "https://securityhub.eu-west-1.amazonaws.com".into(),
            settings,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let values = stored(k.tool, Some(&k));
        assert_eq!(values.get("settings.options.regions"), "eu-west-1, us-east-1");
        let secret_fields: Vec<form::Field> = fields(k.tool, true, &values, None).into_iter().filter(|f| f.kind == Kind::Secret).collect();
        assert_eq!(secret_fields.len(), 2);
        assert!(secret_fields.iter().all(|f| f.value.is_empty() && !f.required));
        k.tool = Tool::SonarQube;
        for (auth, want) in [("Bearer", "bearer"), ("token", "token")] {
            k.settings.options.insert("auth".into(), auth.into());
            let values = stored(k.tool, Some(&k));
            let f = fields(k.tool, true, &values, None).into_iter().find(|f| f.name == "settings.options.auth").unwrap();
            let selected: Vec<&str> = f.options.iter().filter(|(v, _)| f.selected(v)).map(|(v, _)| v.as_str()).collect();
            assert_eq!(selected, [want], "a stored {auth} stays selected");
        }
        // Default-on flags are ticked on Add.
        let values = stored(Tool::SonarQube, None);
        assert_eq!((values.get("settings.options.hotspots"), values.get("location")), ("true", ""));
        assert_eq!(stored(Tool::Semgrep, None).get("location"), "https://semgrep.dev");
    }

    #[test]
    fn errors_land_at_their_field() {
        let e = ApiError::from(domain::ValidationError::new("secrets.token", "must not be empty"));
        let f = fields(Tool::Semgrep, false, &stored(Tool::Semgrep, None), Some(&e)).into_iter().find(|f| f.name == "secrets.token").unwrap();
        assert_eq!(f.error.as_deref(), Some("must not be empty"));
        assert_eq!((secret_label("api_key"), secret_label("access_key_id")), ("API key".to_owned(), "Access key ID".to_owned()));
        for tool in Tool::ALL {
            assert!(!secret_where(tool, "x").is_empty());
            let names: Vec<String> = fields(tool, false, &stored(tool, None), None).into_iter().map(|f| f.name).collect();
            let unique: std::collections::BTreeSet<&String> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{tool}: {names:?}");
        }
    }
}
