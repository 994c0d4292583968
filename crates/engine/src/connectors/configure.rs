//! Creating and changing connectors, and deciding about Records: input checked once, here,
//! for the API and the CLI alike. Secrets are sealed before they reach the store.

use super::clients::SECRETS_PURPOSE;
use crate::App;
use domain::connector::{Connector, ConnectorSettings, Operation, OperationKind, OperationTrigger, Record, RecordState, Tool};
use domain::tracker::parse_location;
use domain::{ConnectorId, ProductId, RecordId, ValidationError};
use secrets::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::BTreeMap;
use store::connectors::{self, ConnectorChanges, NewConnector};
use store::{AsConn, StoreError};

fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid(ValidationError::new(field, message))
}

fn check_label(label: &str) -> Result<String, StoreError> {
    let l = label.trim();
    if l.is_empty() || l.chars().count() > 100 || l.chars().any(char::is_control) {
        return Err(invalid("label", "must be 1–100 characters on one line"));
    }
    Ok(l.to_owned())
}

fn secret_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, SecretString>, D::Error> {
    let m = BTreeMap::<String, String>::deserialize(d)?;
    Ok(m.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect())
}

/// A new connector.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnectorInput {
    pub tool: Tool,
    pub label: String,
    /// Where the tool's API is (`https://semgrep.dev`, `https://cloud.tenable.com`, your
    /// SonarQube or Dependency-Track server; AWS: `https://securityhub.<region>.amazonaws.com`).
    pub location: String,
    /// The tool's secrets by name (`GET /api/v1/connectors/tools` lists them).
    #[schema(value_type = Object)]
    #[serde(deserialize_with = "secret_map")]
    pub secrets: BTreeMap<String, SecretString>,
    #[serde(default)]
    pub settings: ConnectorSettings,
}

impl std::fmt::Debug for NewConnectorInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewConnectorInput")
            .field("tool", &self.tool)
            .field("label", &self.label)
            .field("location", &self.location)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Checks that exactly the tool's secrets are given, each well-formed.
fn check_secrets(tool: Tool, secrets: &BTreeMap<String, SecretString>) -> Result<(), StoreError> {
    let wanted = scanners::connectors::secret_names(tool);
    for spec in wanted {
        let Some(v) = secrets.get(spec.name) else {
            return Err(invalid(&format!("secrets.{}", spec.name), format!("{} needs it: {}", tool.label(), spec.help)));
        };
        let v = v.expose_secret();
        if v.trim().is_empty() || v.trim() != v || v.chars().any(char::is_control) {
            return Err(invalid(&format!("secrets.{}", spec.name), "must not be empty, nor contain spaces or line breaks"));
        }
    }
    if let Some(extra) = secrets.keys().find(|k| !wanted.iter().any(|s| s.name == k.as_str())) {
        let names: Vec<&str> = wanted.iter().map(|s| s.name).collect();
        return Err(invalid(&format!("secrets.{extra}"), format!("{} takes {}", tool.label(), names.join(" and "))));
    }
    Ok(())
}

/// Checks the tool's options as its client will read them (`scanners::connectors::
/// check_options`, the client builder's own parsing): a bad one is named as
/// `settings.options.<name>`.
fn check_options(tool: Tool, location: &url::Url, settings: &ConnectorSettings) -> Result<(), StoreError> {
    scanners::connectors::check_options(tool, location, &settings.options)
        .map_err(|e| invalid(&format!("settings.options.{}", e.option), e.message))
}

fn seal(app: &App, secrets: &BTreeMap<String, SecretString>) -> secrets::Sealed {
    let plain: BTreeMap<&str, &str> = secrets.iter().map(|(k, v)| (k.as_str(), v.expose_secret())).collect();
    app.cipher().seal(SECRETS_PURPOSE, &serde_json::to_string(&plain).unwrap_or_default())
}

pub async fn create(app: &App, c: &mut impl AsConn, input: NewConnectorInput) -> Result<Connector, StoreError> {
    let label = check_label(&input.label)?;
    let location = parse_location(&input.location)?;
    check_secrets(input.tool, &input.secrets)?;
    input.settings.check()?;
    check_options(input.tool, &location, &input.settings)?;
    connectors::create(
        c,
        NewConnector { tool: input.tool, label, location: location.to_string(), secrets: seal(app, &input.secrets), settings: input.settings },
    )
    .await
}

/// Changes to a connector; absent fields keep their value.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorPatch {
    pub label: Option<String>,
    pub location: Option<String>,
    /// New secrets (all of the tool's), replacing the old ones.
    #[schema(value_type = Option<Object>)]
    #[serde(default, deserialize_with = "optional_secret_map")]
    pub secrets: Option<BTreeMap<String, SecretString>>,
    pub settings: Option<ConnectorSettings>,
}

fn optional_secret_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, SecretString>>, D::Error> {
    Option::<BTreeMap<String, String>>::deserialize(d).map(|o| o.map(|m| m.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect()))
}

pub async fn update(app: &App, c: &mut impl AsConn, id: ConnectorId, patch: ConnectorPatch) -> Result<Connector, StoreError> {
    let current = connectors::get(c, id).await?;
    let mut ch = ConnectorChanges::default();
    if let Some(l) = &patch.label {
        ch.label = Some(check_label(l)?);
    }
    let location = match &patch.location {
        Some(l) => Some(parse_location(l)?),
        None => None,
    };
    if let Some(s) = &patch.secrets {
        check_secrets(current.tool, s)?;
        ch.secrets = Some(seal(app, s));
    }
    if let Some(s) = &patch.settings {
        s.check()?;
    }
    // The options as they will be, against the location as it will be (AWS reads its Region
    // from the location), whenever either changes.
    if location.is_some() || patch.settings.is_some() {
        let at = match &location {
            Some(l) => l.clone(),
            None => url::Url::parse(&current.location).map_err(|e| invalid("location", format!("the stored location is not a URL: {e}")))?,
        };
        check_options(current.tool, &at, patch.settings.as_ref().unwrap_or(&current.settings))?;
    }
    ch.location = location.map(|l| l.to_string());
    ch.settings = patch.settings;
    connectors::update(c, id, ch).await
}

/// Queues a Discover or Sync by hand: an operation, and the job that runs it (it waits for one
/// of its kind in flight).
pub async fn run_now(c: &mut impl AsConn, connector: ConnectorId, kind: OperationKind, trigger: OperationTrigger) -> Result<Operation, StoreError> {
    let op = connectors::create_operation(c, connector, kind, trigger).await?;
    crate::enqueue(c, &crate::jobs::RunOperation { operation: op.id }).await?;
    Ok(op)
}

/// What a person decides about a Record.
#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum RecordDecision {
    /// Sync it into this Product (remapping it when it had another).
    Map { product: ProductId },
    /// Stop syncing it; Discover keeps it ignored.
    Ignore,
    /// Undo an ignore: back to `good` if mapped, else `new`.
    Restore,
}

pub async fn decide(c: &mut impl AsConn, id: RecordId, decision: RecordDecision, by: &str) -> Result<Record, StoreError> {
    let r = connectors::get_record(c, id).await?;
    match decision {
        RecordDecision::Map { product } => {
            store::products::get(c, product).await.map_err(|e| match e {
                StoreError::NotFound { .. } => invalid("product", format!("product {product} not found")),
                other => other,
            })?;
            connectors::decide_record(c, id, RecordState::Good, Some(product), by).await
        }
        RecordDecision::Ignore => connectors::decide_record(c, id, RecordState::Ignored, r.product, by).await,
        RecordDecision::Restore => {
            let state = if r.product.is_some() { RecordState::Good } else { RecordState::New };
            connectors::decide_record(c, id, state, r.product, by).await
        }
    }
}
