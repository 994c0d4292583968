//! The connector form: Add (from a tool of the Available list), Edit, and Delete.
//!
//! Inputs are named as the API's JSON fields are, dotted where they nest (`label`, `location`,
//! `secrets.token`, `settings.sync_every_minutes`, `settings.options.branch`), which is also
//! how a `ValidationError` names the field at fault: the form is shown again with the error at
//! that field and everything typed kept — except secrets, which are never put in a page
//! (stored ones neither: on Edit, empty secret fields keep them). Saving goes through
//! `api::connectors::{add, change}`, one transaction, so nothing is written unless all is valid.

use super::CurrentUser;
use crate::api::connectors::{add, change, manage, remove};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::error::{UiError, UiResult, render};
use crate::ui::layout::Layout;
use crate::ui::session::Session;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use domain::ValidationError;
use domain::connector::{Connector, ConnectorSettings, Tool};
use engine::connectors::configure::{ConnectorPatch, NewConnectorInput};
use secrets::SecretString;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// How a tool option is entered.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// One line of text (also numbers and comma-separated lists, as the clients read them).
    Text,
    /// A yes/no option with the client's default.
    Flag(bool),
    /// One of these values, or the client's default.
    Choice(&'static [&'static str]),
}

/// A tool option the form offers (`ConnectorSettings::options`, read by the tool's client).
struct OptionSpec {
    name: &'static str,
    label: &'static str,
    kind: Kind,
    help: &'static str,
    placeholder: &'static str,
}

const fn text(name: &'static str, label: &'static str, placeholder: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec { name, label, kind: Kind::Text, help, placeholder }
}

const fn flag(name: &'static str, label: &'static str, default: bool, help: &'static str) -> OptionSpec {
    OptionSpec { name, label, kind: Kind::Flag(default), help, placeholder: "" }
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
                    name: "auth",
                    label: "Authentication",
                    kind: Kind::Choice(&["basic", "bearer"]),
                    help: "basic (the token as user name; every version) or bearer (Server 10.0+, Cloud). Default: basic.",
                    placeholder: "",
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
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(option_text).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A refusal's message without the field name the form already shows it at.
pub fn message(e: &ApiError) -> String {
    match &e.field {
        Some(f) => e.detail.strip_prefix(&format!("{f}: ")).unwrap_or(&e.detail).to_owned(),
        None => e.detail.clone(),
    }
}

/// What the user typed, kept to show the form again — never the secrets.
#[derive(Clone, Debug, Default, PartialEq)]
struct Typed {
    label: String,
    location: String,
    discover_every: String,
    sync_every: String,
    full_sync_every: String,
    auto_map: bool,
    /// The tool's options the form offers, by name (flags `true` when ticked).
    options: BTreeMap<String, String>,
}

impl Typed {
    /// A new connector of `tool`: its usual location, the default schedules.
    fn new(tool: Tool) -> Typed {
        let d = ConnectorSettings::default();
        Typed {
            location: tool_help(tool).location_default.to_owned(),
            discover_every: d.discover_every_minutes.to_string(),
            sync_every: d.sync_every_minutes.to_string(),
            full_sync_every: d.full_sync_every.to_string(),
            options: tool_help(tool).options.iter().filter(|o| o.kind == Kind::Flag(true)).map(|o| (o.name.to_owned(), "true".to_owned())).collect(),
            ..Default::default()
        }
    }

    /// A connector as it is stored.
    fn of(k: &Connector) -> Typed {
        let st = &k.settings;
        let options = tool_help(k.tool)
            .options
            .iter()
            .filter_map(|o| {
                let v = st.options.get(o.name);
                let text = match o.kind {
                    Kind::Flag(default) => {
                        let on = match v {
                            Some(Value::Bool(b)) => *b,
                            Some(Value::String(s)) => matches!(s.as_str(), "true" | "yes"),
                            _ => default,
                        };
                        on.then(|| "true".to_owned())?
                    }
                    _ => v.map(option_text).filter(|t| !t.is_empty())?,
                };
                Some((o.name.to_owned(), text))
            })
            .collect();
        Typed {
            label: k.label.clone(),
            location: k.location.clone(),
            discover_every: st.discover_every_minutes.to_string(),
            sync_every: st.sync_every_minutes.to_string(),
            full_sync_every: st.full_sync_every.to_string(),
            auto_map: st.auto_map,
            options,
        }
    }

    /// The settings typed, over `base` (options the form does not offer are kept as they are).
    fn settings(&self, tool: Tool, base: &ConnectorSettings) -> Result<ConnectorSettings, ValidationError> {
        let number = |field: &str, v: &str, what: &str| {
            v.trim().parse::<u32>().map_err(|_| ValidationError::new(format!("settings.{field}"), format!("'{}' is not a whole number {what}", v.trim())))
        };
        let mut options = base.options.clone();
        for o in tool_help(tool).options {
            let typed = self.options.get(o.name).map(|v| v.trim()).unwrap_or("");
            match o.kind {
                Kind::Flag(default) => {
                    let on = typed == "true";
                    if on == default {
                        options.remove(o.name);
                    } else {
                        options.insert(o.name.to_owned(), Value::Bool(on));
                    }
                }
                Kind::Text | Kind::Choice(_) if typed.is_empty() => {
                    options.remove(o.name);
                }
                Kind::Text | Kind::Choice(_) => {
                    options.insert(o.name.to_owned(), Value::String(typed.to_owned()));
                }
            }
        }
        Ok(ConnectorSettings {
            discover_every_minutes: number("discover_every_minutes", &self.discover_every, "of minutes (0: by hand only)")?,
            sync_every_minutes: number("sync_every_minutes", &self.sync_every, "of minutes (0: by hand only)")?,
            full_sync_every: number("full_sync_every", &self.full_sync_every, "of Syncs")?,
            auto_map: self.auto_map,
            options,
        })
    }
}

/// A sent connector form: what was typed, and the secrets given (empty ones left out).
struct Sent {
    tool: Option<String>,
    typed: Typed,
    secrets: BTreeMap<String, SecretString>,
}

fn parse(body: &[u8]) -> Sent {
    let mut typed = Typed::default();
    let mut secrets = BTreeMap::new();
    let mut tool = None;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "tool" => tool = Some(v.trim().to_owned()),
            "label" => typed.label = v.into_owned(),
            "location" => typed.location = v.into_owned(),
            "settings.discover_every_minutes" => typed.discover_every = v.into_owned(),
            "settings.sync_every_minutes" => typed.sync_every = v.into_owned(),
            "settings.full_sync_every" => typed.full_sync_every = v.into_owned(),
            "settings.auto_map" => typed.auto_map = v == "true",
            key => {
                if let Some(name) = key.strip_prefix("settings.options.") {
                    typed.options.insert(name.to_owned(), v.into_owned());
                } else if let Some(name) = key.strip_prefix("secrets.") {
                    // Pasted keys often carry a line break or spaces at the ends.
                    let v = v.trim();
                    if !v.is_empty() {
                        secrets.insert(name.to_owned(), SecretString::from(v.to_owned()));
                    }
                }
            }
        }
    }
    Sent { tool, typed, secrets }
}

/// One input of the form.
pub struct Field {
    /// The input's `name` and `id`: the API's JSON field, dotted.
    pub name: String,
    pub label: String,
    /// `text`, `url`, `number`, `password`, `checkbox` or `select`.
    pub kind: &'static str,
    /// Always empty for secrets.
    pub value: String,
    pub checked: bool,
    pub choices: Vec<(String, String, bool)>,
    pub placeholder: String,
    pub help: String,
    pub required: bool,
    pub error: Option<String>,
}

impl Field {
    fn new(name: impl Into<String>, label: impl Into<String>, kind: &'static str, value: impl Into<String>, help: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            label: label.into(),
            kind,
            value: value.into(),
            checked: false,
            choices: Vec::new(),
            placeholder: String::new(),
            help: help.into(),
            required: false,
            error: None,
        }
    }
}

pub struct Section {
    pub title: &'static str,
    pub intro: String,
    pub fields: Vec<Field>,
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
    sections: Vec<Section>,
    error: Option<String>,
}

/// The form's sections for `tool`, filled with `typed`, `error` shown at its field.
fn sections(tool: Tool, editing: bool, typed: &Typed, error: Option<&ApiError>) -> Vec<Section> {
    let help = tool_help(tool);
    let specs = scanners::connectors::secret_names(tool);
    let mut out = vec![
        Section {
            title: "Connection",
            intro: String::new(),
            fields: vec![
                Field { required: true, ..Field::new("label", "Label", "text", &typed.label, format!("A name for this connection, unique among connectors (e.g. \"{} production\").", tool.label())) },
                Field { required: true, placeholder: help.location_placeholder.into(), ..Field::new("location", "Location (API URL)", "url", &typed.location, help.location_help) },
            ],
        },
        Section {
            title: "Secrets",
            intro: if editing {
                "Stored encrypted and never shown. Leave these empty to keep the stored ones; to replace them, give all of them.".into()
            } else {
                "Stored encrypted and never shown again.".into()
            },
            fields: specs
                .iter()
                .map(|s| Field {
                    required: !editing,
                    placeholder: if editing { "stored; empty keeps it".into() } else { String::new() },
                    ..Field::new(format!("secrets.{}", s.name), secret_label(s.name), "password", "", format!("{}. {}", capitalise(s.help), secret_where(tool, s.name)))
                })
                .collect(),
        },
        Section {
            title: "Schedule",
            intro: "Minutes between scheduled runs: 0 runs only by hand (the connector page's Discover and Sync buttons), else 5 to 43,200.".into(),
            fields: vec![
                Field::new("settings.discover_every_minutes", "Discover every (minutes)", "number", &typed.discover_every, format!("Finds the tool's {}s (default: 1440, once a day).", tool.record_kind())),
                Field::new("settings.sync_every_minutes", "Sync every (minutes)", "number", &typed.sync_every, "Imports the findings of each mapped record (default: 60, hourly)."),
                Field::new("settings.full_sync_every", "Full pull every (Syncs)", "number", &typed.full_sync_every, "For tools that pull only what changed: every this many Syncs pulls everything, which also closes findings the tool no longer reports (1 to 1000)."),
                Field { checked: typed.auto_map, ..Field::new("settings.auto_map", "Auto-map new records", "checkbox", "", format!("Map each newly discovered {} to a product of its own name (made if missing).", tool.record_kind())) },
            ],
        },
    ];
    if !help.options.is_empty() {
        out.push(Section {
            title: "Options",
            intro: format!("What {} needs besides the address and secrets; empty fields take the default.", tool.label()),
            fields: help
                .options
                .iter()
                .map(|o| {
                    let name = format!("settings.options.{}", o.name);
                    let typed_value = typed.options.get(o.name).cloned().unwrap_or_default();
                    match o.kind {
                        Kind::Flag(_) => Field { checked: typed_value == "true", ..Field::new(name, o.label, "checkbox", "", o.help) },
                        Kind::Choice(values) => {
                            let mut choices = vec![(String::new(), "(default)".to_owned(), typed_value.is_empty())];
                            choices.extend(values.iter().map(|v| (v.to_string(), v.to_string(), typed_value.eq_ignore_ascii_case(v))));
                            // A stored value the form does not list stays selectable (and so kept).
                            if !typed_value.is_empty() && !values.iter().any(|v| typed_value.eq_ignore_ascii_case(v)) {
                                choices.push((typed_value.clone(), typed_value.clone(), true));
                            }
                            Field { choices, ..Field::new(name, o.label, "select", "", o.help) }
                        }
                        Kind::Text => Field { placeholder: o.placeholder.into(), ..Field::new(name, o.label, "text", typed_value, o.help) },
                    }
                })
                .collect(),
        });
    }
    if let Some(e) = error
        && let Some(at) = &e.field
    {
        // `settings.options` names the options as a whole; anything else names one input.
        if let Some(f) = out.iter_mut().flat_map(|s| s.fields.iter_mut()).find(|f| &f.name == at) {
            f.error = Some(message(e));
        }
    }
    out
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

/// The connector being edited: its id and stored label.
type Editing<'a> = Option<(i64, &'a str)>;

fn form_page(session: &Session, tool: Tool, editing: Editing, typed: &Typed, error: Option<&ApiError>) -> UiResult<Html<String>> {
    let id = editing.map(|e| e.0);
    let title = match editing {
        Some((_, label)) => format!("Edit {label}"),
        None => format!("Add a {} connector", tool.label()),
    };
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
        sections: sections(tool, id.is_some(), typed, error),
        error: error.map(|e| match &e.field {
            Some(f) => format!("Not saved: {f}: {}", message(e)),
            None => format!("Not saved: {}", e.detail),
        }),
    })
}

/// A refused save: the form again with what was typed (secrets not) and the error at its
/// field, with the API's status (422 invalid, 409 a label taken); anything else (rights,
/// a connector gone) is the error page.
fn refused(session: &Session, tool: Tool, editing: Editing, typed: &Typed, e: ApiError) -> UiResult<Response> {
    if !matches!(e.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) {
        return Err(e.into());
    }
    let html = form_page(session, tool, editing, typed, Some(&e))?;
    Ok((e.status, html).into_response())
}

fn tool_of(raw: Option<&str>) -> UiResult<Tool> {
    let raw = raw.unwrap_or("").trim();
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
    let tool = tool_of(Some(&raw))?;
    Ok(form_page(&session, tool, None, &Typed::new(tool), None)?.into_response())
}

/// `POST /connectors/new`: adds the connector, or shows the form again with what is wrong.
pub async fn create(State(s): State<AppState>, CurrentUser(session): CurrentUser, body: Bytes) -> UiResult<Response> {
    manage(&session.actor, "adding a connector")?;
    let sent = parse(&body);
    let tool = tool_of(sent.tool.as_deref())?;
    let settings = match sent.typed.settings(tool, &ConnectorSettings::default()) {
        Ok(st) => st,
        Err(e) => return refused(&session, tool, None, &sent.typed, e.into()),
    };
    let input = NewConnectorInput { tool, label: sent.typed.label.clone(), location: sent.typed.location.clone(), secrets: sent.secrets, settings };
    match add(&s, &session.actor, input).await {
        Ok(k) => Ok(Redirect::to(&format!("/connectors/{}?done=added", k.id.0)).into_response()),
        Err(e) => refused(&session, tool, None, &sent.typed, e),
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
    form_page(&session, k.tool, Some((k.id.0, &k.label)), &Typed::of(&k), None)
}

/// `POST /connectors/{id}/edit`: saves the changes (secrets only when given).
pub async fn save(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>, body: Bytes) -> UiResult<Response> {
    manage(&session.actor, "changing a connector")?;
    let k = connector(&s, &raw).await?;
    let sent = parse(&body);
    let settings = match sent.typed.settings(k.tool, &k.settings) {
        Ok(st) => st,
        Err(e) => return refused(&session, k.tool, Some((k.id.0, &k.label)), &sent.typed, e.into()),
    };
    let patch = ConnectorPatch {
        label: Some(sent.typed.label.clone()),
        location: Some(sent.typed.location.clone()),
        secrets: (!sent.secrets.is_empty()).then_some(sent.secrets),
        settings: Some(settings),
    };
    match change(&s, &session.actor, k.id, patch).await {
        Ok(k) => Ok(Redirect::to(&format!("/connectors/{}?done=saved", k.id.0)).into_response()),
        Err(e) => refused(&session, k.tool, Some((k.id.0, &k.label)), &sent.typed, e),
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

    #[test]
    fn forms_read_as_the_apis_fields() {
        let body = b"csrf=x&tool=sonarqube&label=Sonar&location=https%3A%2F%2Fsonar.example.com&secrets.token=+squ_1%0A&\
settings.discover_every_minutes=0&settings.sync_every_minutes=30&settings.full_sync_every=2&settings.auto_map=true&\
settings.options.branch=main&settings.options.auth=&settings.options.rule_details=true";
        let sent = parse(body);
        assert_eq!(sent.tool.as_deref(), Some("sonarqube"));
        assert_eq!(sent.secrets.keys().collect::<Vec<_>>(), ["token"]);
        assert_eq!(secrets::ExposeSecret::expose_secret(&sent.secrets["token"]), "squ_1");
        let st = sent.typed.settings(Tool::SonarQube, &ConnectorSettings::default()).unwrap();
        assert_eq!((st.discover_every_minutes, st.sync_every_minutes, st.full_sync_every, st.auto_map), (0, 30, 2, true));
        // Hotspots (default on) unticked is stored; rule details (default on) ticked is not.
        assert_eq!(Value::Object(st.options), serde_json::json!({"branch": "main", "hotspots": false}));
    }

    #[test]
    fn bad_numbers_name_their_field_and_unknown_options_are_kept() {
        let mut typed = Typed::new(Tool::Semgrep);
        typed.sync_every = "hourly".into();
        let e = typed.settings(Tool::Semgrep, &ConnectorSettings::default()).unwrap_err();
        assert_eq!(e.field, "settings.sync_every_minutes");
        typed.sync_every = "60".into();
        let mut base = ConnectorSettings::default();
        base.options.insert("experimental".into(), Value::Bool(true));
        base.options.insert("page_size".into(), Value::from(500));
        let st = typed.settings(Tool::Semgrep, &base).unwrap();
        assert_eq!(Value::Object(st.options), serde_json::json!({"experimental": true}));
    }

    #[test]
    fn stored_connectors_fill_the_form_without_secrets() {
        let mut settings = ConnectorSettings::default();
        settings.options.insert("regions".into(), serde_json::json!(["eu-west-1", "us-east-1"]));
        let k = Connector {
            id: domain::ConnectorId(1),
            tool: Tool::AwsSecurityHub,
            label: "AWS".into(),
            location: "https://securityhub.eu-west-1.amazonaws.com".into(),
            settings,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let typed = Typed::of(&k);
        assert_eq!(typed.options["regions"], "eu-west-1, us-east-1");
        let mut sonar = Typed::new(Tool::SonarQube);
        for (stored, want) in [("Bearer", "bearer"), ("token", "token")] {
            sonar.options.insert("auth".into(), stored.into());
            let secs = sections(Tool::SonarQube, true, &sonar, None);
            let auth = secs.iter().flat_map(|s| &s.fields).find(|f| f.name == "settings.options.auth").unwrap();
            let selected: Vec<&str> = auth.choices.iter().filter(|c| c.2).map(|c| c.0.as_str()).collect();
            assert_eq!(selected, [if stored == "Bearer" { want } else { stored }], "a stored {stored} stays selected");
        }
        let secs = sections(Tool::AwsSecurityHub, true, &typed, None);
        let secret_fields: Vec<&Field> = secs.iter().flat_map(|s| &s.fields).filter(|f| f.kind == "password").collect();
        assert_eq!(secret_fields.len(), 2);
        assert!(secret_fields.iter().all(|f| f.value.is_empty() && !f.required));
    }

    #[test]
    fn errors_land_at_their_field() {
        let e = ApiError::from(ValidationError::new("secrets.token", "must not be empty"));
        let secs = sections(Tool::Semgrep, false, &Typed::new(Tool::Semgrep), Some(&e));
        let f = secs.iter().flat_map(|s| &s.fields).find(|f| f.name == "secrets.token").unwrap();
        assert_eq!(f.error.as_deref(), Some("must not be empty"));
        assert_eq!((secret_label("api_key"), secret_label("access_key_id")), ("API key".to_owned(), "Access key ID".to_owned()));
        for tool in Tool::ALL {
            assert!(!secret_where(tool, "x").is_empty());
            let names: Vec<String> = sections(tool, false, &Typed::new(tool), None).into_iter().flat_map(|s| s.fields).map(|f| f.name).collect();
            let unique: std::collections::BTreeSet<&String> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{tool}: {names:?}");
        }
    }
}
