//! Connectors' API clients: one module per tool behind [`ScannerApi`].
//!
//! A client turns a tool's API into what vulnerability management needs: its Records
//! (Discover) and each Record's findings (pull), as `NewFinding`s with the tool's own verdict
//! (fixed, false positive, accepted) in their status and the tool's stable id in
//! `unique_id_from_tool`. Every request goes through [`outbound::HttpClient`]: the outbound
//! policy, the connector's rate budget, the tool's rate-limit headers, failures classified.
//! The engine stores Records and cursors and imports what the client sends; the client keeps
//! nothing between calls.

mod aws_security_hub;
mod burp;
mod checkmarx_one;
mod dependency_track;
mod probely;
mod semgrep;
mod snyk;
mod sonarqube;
mod tenable;

use async_trait::async_trait;
use std::sync::Arc;
use domain::NewFinding;
use domain::connector::{DiscoveredRecord, Record, Tool};
use outbound::{CallError, CheckReport};
use secrecy::SecretString;
use std::collections::BTreeMap;

/// What a connector gives its client.
#[derive(Clone, Debug)]
pub struct Setup {
    pub tool: Tool,
    /// Where the tool's API is.
    pub location: url::Url,
    /// The tool's secrets by name (see [`secret_names`]).
    pub secrets: BTreeMap<String, SecretString>,
    /// Tool-specific options (`ConnectorSettings::options`).
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl Setup {
    /// A secret the tool needs, or an error naming it.
    pub fn secret(&self, name: &str) -> Result<&SecretString, CallError> {
        self.secrets
            .get(name)
            .ok_or_else(|| CallError::Misconfigured(format!("the {} connector needs the secret '{name}'", self.tool.label())))
    }

    /// Its options, as the tool's client reads them.
    pub fn options(&self) -> Options<'_> {
        Options::new(self.tool, &self.options)
    }
}

/// A tool option its client cannot use: which one, and why. The client builder refuses it
/// (as [`CallError::Misconfigured`]); [`check_options`] finds it when a connector is saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    pub tool: Tool,
    /// The option's name (`org`, `types`).
    pub option: String,
    /// What is wrong, to follow the option's name (`must be …, not 'x'`).
    pub message: String,
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} option '{}' {}", self.tool.label(), self.option, self.message)
    }
}

impl std::error::Error for OptionError {}

impl From<OptionError> for CallError {
    fn from(e: OptionError) -> CallError {
        CallError::Misconfigured(e.to_string())
    }
}

/// A tool's options (`ConnectorSettings::options`) read the way every client reads them: the
/// same shapes accepted, the same errors.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    tool: Tool,
    map: &'a serde_json::Map<String, serde_json::Value>,
}

impl<'a> Options<'a> {
    pub fn new(tool: Tool, map: &'a serde_json::Map<String, serde_json::Value>) -> Options<'a> {
        Options { tool, map }
    }

    /// An error about option `name`.
    pub fn bad(&self, name: &str, message: impl Into<String>) -> OptionError {
        OptionError { tool: self.tool, option: name.to_owned(), message: message.into() }
    }

    /// Option `name`'s value; unset or `null`: `None`.
    pub fn get(&self, name: &str) -> Option<&'a serde_json::Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A text option, if set and not empty.
    pub fn text(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(|v| v.as_str()).filter(|s| !s.is_empty())
    }

    /// A yes/no option (`true`/`false`, or the text `true`/`false`/`yes`/`no`); `default`
    /// when unset.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, OptionError> {
        use serde_json::Value;
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if matches!(s.as_str(), "true" | "yes") => Ok(true),
            Some(Value::String(s)) if matches!(s.as_str(), "false" | "no") => Ok(false),
            Some(other) => Err(self.bad(name, format!("must be true or false, not {other}"))),
        }
    }

    /// A list option: a JSON list of texts or comma-separated text, each word trimmed, empty
    /// ones dropped; `None` when unset. `what` names the words (`Regions`).
    pub fn list(&self, name: &str, what: &str) -> Result<Option<Vec<String>>, OptionError> {
        use serde_json::Value;
        let words: Vec<&str> = match self.get(name) {
            None => return Ok(None),
            Some(Value::String(s)) => s.split(',').collect(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            Some(other) => return Err(self.bad(name, format!("must be a list of {what}, not {other}"))),
        };
        Ok(Some(words.into_iter().map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect()))
    }
}

/// Checks a connector's options as its tool's client will read them (the same parsing the
/// client builder does), so a bad one is refused when the connector is saved rather than at
/// its first Check connection or run. Options a tool does not read are left alone.
pub fn check_options(tool: Tool, location: &url::Url, options: &serde_json::Map<String, serde_json::Value>) -> Result<(), OptionError> {
    let o = Options::new(tool, options);
    match tool {
        Tool::AwsSecurityHub => aws_security_hub::Options::parse(location, o).map(drop),
        Tool::CheckmarxOne => checkmarx_one::Options::parse(o).map(drop),
        Tool::Semgrep => semgrep::Options::parse(o).map(drop),
        Tool::SonarQube => sonarqube::Options::parse(o).map(drop),
        Tool::Snyk => snyk::Options::parse(o).map(drop),
        // These read no options.
        Tool::BurpSuite | Tool::DependencyTrack | Tool::Probely | Tool::Tenable => Ok(()),
    }
}

/// One secret a tool needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SecretSpec {
    pub name: &'static str,
    /// What it is and where to get it.
    pub help: &'static str,
}

/// The secrets each tool needs, and what each is.
pub fn secret_names(tool: Tool) -> &'static [SecretSpec] {
    match tool {
        Tool::AwsSecurityHub => &[
            SecretSpec { name: "access_key_id", help: "an IAM access key id allowed securityhub:GetFindings, DescribeHub, ListFindingAggregators, GetFindingAggregator, ListMembers" },
            SecretSpec { name: "secret_access_key", help: "its secret access key" },
        ],
        Tool::BurpSuite => &[SecretSpec { name: "api_key", help: "the API key of a Burp Suite DAST (Enterprise) API user" }],
        Tool::CheckmarxOne => &[SecretSpec { name: "api_key", help: "a Checkmarx ONE API key (a refresh token of the tenant)" }],
        Tool::DependencyTrack => &[SecretSpec { name: "api_key", help: "a team API key with VIEW_PORTFOLIO and VIEW_VULNERABILITY" }],
        Tool::Probely => &[SecretSpec { name: "api_key", help: "a Probely API key" }],
        Tool::Semgrep => &[SecretSpec { name: "token", help: "a Semgrep API token with the Web API scope" }],
        Tool::SonarQube => &[SecretSpec { name: "token", help: "a SonarQube user token (Browse on the projects)" }],
        Tool::Snyk => &[SecretSpec { name: "token", help: "a Snyk API or service-account token" }],
        Tool::Tenable => &[
            SecretSpec { name: "access_key", help: "a Tenable Vulnerability Management API access key" },
            SecretSpec { name: "secret_key", help: "its secret key" },
        ],
    }
}

/// How much of a Record to pull.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullMode {
    /// Everything the tool reports now: findings not among them are closed afterwards.
    Full,
    /// What changed since the last pull's cursor (the tool's watermark); only upserts.
    Since(String),
}

/// What a pull got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pulled {
    /// The pull saw the Record's whole current set of findings (a full pull, or a tool whose
    /// every pull is complete, like a latest-scan snapshot): missing findings may be closed.
    pub complete: bool,
    /// Where the next incremental pull starts, if the tool has a watermark.
    pub cursor: Option<String>,
    /// Findings sent.
    pub findings: u64,
}

/// Where a client sends the findings it pulls, in batches (the import reads as they come).
pub type FindingSink = tokio::sync::mpsc::Sender<Vec<NewFinding>>;

/// Findings per batch sent to the sink.
pub const BATCH: usize = 500;

/// Findings waiting to be sent to the sink in batches of [`BATCH`], and how many were sent.
pub(crate) struct Batcher<'a> {
    sink: &'a FindingSink,
    buf: Vec<NewFinding>,
    pub sent: u64,
}

impl<'a> Batcher<'a> {
    pub fn new(sink: &'a FindingSink) -> Batcher<'a> {
        Batcher { sink, buf: Vec::new(), sent: 0 }
    }

    /// Adds a finding, sending a full batch; false when the sink is closed (the import stopped).
    pub async fn push(&mut self, f: NewFinding) -> bool {
        self.buf.push(f);
        if self.buf.len() >= BATCH { self.flush().await } else { true }
    }

    /// Sends what is waiting; false when the sink is closed.
    pub async fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let batch = std::mem::take(&mut self.buf);
        let n = batch.len() as u64;
        if self.sink.send(batch).await.is_err() {
            return false;
        }
        self.sent += n;
        true
    }
}

/// One tool's API client, bound to a connector's setup.
#[async_trait]
pub trait ScannerApi: Send + Sync {
    fn tool(&self) -> Tool;

    /// Checks that the location answers, the secrets work and have the rights needed; each
    /// failing check says exactly what is wrong.
    async fn check(&self) -> CheckReport;

    /// The tool's Records (projects, sites, accounts and regions…), all pages.
    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError>;

    /// Pulls a Record's findings into `sink`, in batches of [`BATCH`]. A sink that is closed
    /// (the import failed) ends the pull early with `Ok`.
    async fn pull(&self, record: &Record, mode: PullMode, sink: &FindingSink) -> Result<Pulled, CallError>;
}

/// Each tool's documented request limits (research/connectors.md), kept under without waiting
/// to be refused; tools that publish none get a modest pace.
pub fn budgets(tool: Tool) -> Vec<outbound::Budget> {
    use outbound::Budget;
    use outbound::limit::ALL;
    use std::time::Duration;
    let per_second = |limit| vec![Budget { name: "api-second", classes: ALL, limit, per: Duration::from_secs(1) }];
    match tool {
        // GetFindings: 3 requests a second (burst 6).
        Tool::AwsSecurityHub => per_second(3),
        // REST API: 1,620 requests a minute per key.
        Tool::Snyk => vec![Budget { name: "api-minute", classes: ALL, limit: 1620, per: Duration::from_secs(60) }],
        // Self-hosted, unpublished or dynamic (Tenable answers 429 with Retry-After): a steady
        // pace that a single connector never needs to exceed.
        Tool::BurpSuite | Tool::CheckmarxOne | Tool::DependencyTrack | Tool::Probely | Tool::Semgrep | Tool::SonarQube | Tool::Tenable => {
            per_second(10)
        }
    }
}

/// Builds the client of a connector's tool.
pub fn client(
    setup: Setup,
    limiter: Arc<dyn outbound::Limiter>,
    policy: &outbound::OutboundPolicy,
) -> Result<Arc<dyn ScannerApi>, CallError> {
    let http = outbound::HttpClient::new(setup.tool.as_str(), limiter, policy)?;
    // One arm per tool; each module's `new` validates the setup: secrets, and options by the
    // module's `Options::parse`, which `check_options` runs too.
    Ok(match setup.tool {
        Tool::AwsSecurityHub => Arc::new(aws_security_hub::AwsSecurityHub::new(setup, http)?),
        Tool::BurpSuite => Arc::new(burp::BurpSuite::new(setup, http)?),
        Tool::CheckmarxOne => Arc::new(checkmarx_one::CheckmarxOne::new(setup, http)?),
        Tool::DependencyTrack => Arc::new(dependency_track::DependencyTrack::new(setup, http)?),
        Tool::Probely => Arc::new(probely::Probely::new(setup, http)?),
        Tool::Semgrep => Arc::new(semgrep::Semgrep::new(setup, http)?),
        Tool::SonarQube => Arc::new(sonarqube::SonarQube::new(setup, http)?),
        Tool::Snyk => Arc::new(snyk::Snyk::new(setup, http)?),
        Tool::Tenable => Arc::new(tenable::Tenable::new(setup, http)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn check(tool: Tool, location: &str, options: Value) -> Result<(), OptionError> {
        check_options(tool, &url::Url::parse(location).unwrap(), options.as_object().unwrap())
    }

    #[test]
    fn options_are_checked_as_the_clients_read_them() {
        let uuid = "0f9a2c1e-6a3b-4c55-9d2e-1b2c3d4e5f60";
        let good = [
            (Tool::Snyk, "https://api.snyk.io", json!({"org": uuid, "api_version": "2024-10-15~beta"})),
            (Tool::SonarQube, "https://sonar.example.com", json!({"types": "bug, vulnerability", "hotspots": "no", "auth": "Bearer", "rule_details": true})),
            (Tool::Semgrep, "https://semgrep.dev", json!({"issue_types": ["sast", "ai_sast"], "page_size": "500", "unknown": 1})),
            (Tool::CheckmarxOne, "https://ast.checkmarx.net", json!({"tenant": "acme", "iam_url": "https://iam.example.com", "per_branch": true})),
            (Tool::AwsSecurityHub, "https://securityhub.eu-west-1.amazonaws.com", json!({"regions": "eu-west-1, us-east-1"})),
            (Tool::AwsSecurityHub, "http://127.0.0.1:4566", json!({"region": "us-east-1"})),
            (Tool::Tenable, "https://cloud.tenable.com", json!({"anything": ["goes"]})),
        ];
        for (tool, location, options) in good {
            assert_eq!(check(tool, location, options.clone()), Ok(()), "{tool} {options}");
        }
        let bad = [
            (Tool::Snyk, "https://api.snyk.io", json!({"org": "acme"}), "org", "UUID"),
            (Tool::Snyk, "https://api.snyk.io", json!({"api_version": "latest"}), "api_version", "date"),
            (Tool::SonarQube, "https://sonar.example.com", json!({"types": "VULNERABILITY,SECURITY_HOTSPOT"}), "types", "SECURITY_HOTSPOT"),
            (Tool::SonarQube, "https://sonar.example.com", json!({"types": 3}), "types", "must be a list"),
            (Tool::SonarQube, "https://sonar.example.com", json!({"types": []}), "types", "empty"),
            (Tool::SonarQube, "https://sonar.example.com", json!({"auth": "token"}), "auth", "basic or bearer"),
            (Tool::SonarQube, "https://sonar.example.com", json!({"hotspots": "maybe"}), "hotspots", "true or false"),
            (Tool::Semgrep, "https://semgrep.dev", json!({"page_size": 50}), "page_size", "100 to 3000"),
            (Tool::Semgrep, "https://semgrep.dev", json!({"issue_types": "sast, dast"}), "issue_types", "'dast'"),
            (Tool::CheckmarxOne, "https://ast.checkmarx.net", json!({"tenant": "a/b"}), "tenant", "tenant name"),
            (Tool::CheckmarxOne, "https://ast.checkmarx.net", json!({"iam_url": "iam.example.com"}), "iam_url", "URL"),
            (Tool::CheckmarxOne, "https://ast.checkmarx.net", json!({"branch": "main", "per_branch": true}), "per_branch", "'branch'"),
            (Tool::AwsSecurityHub, "https://proxy.example.com", json!({}), "region", "cannot be told"),
            (Tool::AwsSecurityHub, "https://proxy.example.com", json!({"region": "EU West"}), "region", "Region name"),
            (Tool::AwsSecurityHub, "https://securityhub.eu-west-1.amazonaws.com", json!({"regions": ["eu-west-1", "Mars 1"]}), "regions", "'Mars 1'"),
        ];
        for (tool, location, options, option, says) in bad {
            let e = check(tool, location, options.clone()).expect_err(&options.to_string());
            assert_eq!((e.tool, e.option.as_str()), (tool, option), "{e}");
            assert!(e.message.contains(says), "{e}");
            assert!(e.to_string().starts_with(&format!("the {} option '{option}' ", tool.label())), "{e}");
            assert!(matches!(CallError::from(e), CallError::Misconfigured(_)));
        }
    }
}
