//! Instance credentials: what a person gives (a token…), how it is stored (sealed JSON), and
//! what a tracker client receives. The plaintext exists only while a request is built.

use domain::tracker::Vendor;
use domain::ValidationError;
use secrets::{Cipher, ExposeSecret, Sealed, SecretString};
use serde::{Deserialize, Serialize};

/// The purposes (associated data) sealed values are bound to: a sealed webhook secret cannot
/// be opened as credentials, or the other way round.
pub const CREDENTIALS_PURPOSE: &str = "integration-instance-credentials";
pub const WEBHOOK_SECRET_PURPOSE: &str = "integration-instance-webhook-secret";

/// Credentials as the API and the CLI take them.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsInput {
    /// A personal access token (GitHub: scopes `repo` and `project`; GitLab: scope `api`).
    #[schema(value_type = String)]
    #[serde(deserialize_with = "secret")]
    pub token: SecretString,
}

/// Reads a secret straight into a `SecretString` (zeroed on drop, never printed).
fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

impl std::fmt::Debug for CredentialsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialsInput { token: <redacted> }")
    }
}

/// What is stored (sealed) for an instance.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Stored {
    Token { token: String },
}

impl CredentialsInput {
    pub fn check(&self, vendor: Vendor) -> Result<(), ValidationError> {
        let token = self.token.expose_secret();
        if token.trim().is_empty() {
            return Err(ValidationError::new("credentials.token", "must not be empty"));
        }
        if token.trim() != token || token.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "credentials.token",
                "must not contain spaces, line breaks or control characters (was it pasted with a newline?)",
            ));
        }
        if !matches!(vendor, Vendor::GitHub | Vendor::GitLab) {
            return Err(ValidationError::new(
                "vendor",
                format!("{} instances are not supported by this version", vendor.label()),
            ));
        }
        Ok(())
    }

    pub fn seal(&self, cipher: &Cipher) -> Sealed {
        let stored = Stored::Token { token: self.token.expose_secret().to_owned() };
        let json = serde_json::to_string(&stored).unwrap_or_default();
        cipher.seal(CREDENTIALS_PURPOSE, &json)
    }
}

/// Opens stored credentials for a tracker client.
pub fn open(cipher: &Cipher, sealed: &Sealed) -> anyhow::Result<trackers::Credentials> {
    let json = cipher
        .open(CREDENTIALS_PURPOSE, sealed)
        .map_err(|e| anyhow::anyhow!("the instance's credentials cannot be opened: {e}"))?;
    let stored: Stored = serde_json::from_str(json.expose_secret())
        .map_err(|_| anyhow::anyhow!("the instance's stored credentials are not readable by this version"))?;
    Ok(match stored {
        Stored::Token { token } => trackers::Credentials::Token(SecretString::from(token)),
    })
}

/// A new random webhook secret (shown once, when made).
pub fn new_webhook_secret() -> SecretString {
    SecretString::from(format!("whsec_{}", secrets::random_hex::<24>()))
}

pub fn open_webhook_secret(cipher: &Cipher, sealed: &Sealed) -> anyhow::Result<SecretString> {
    cipher
        .open(WEBHOOK_SECRET_PURPOSE, sealed)
        .map_err(|e| anyhow::anyhow!("the instance's webhook secret cannot be opened: {e}"))
}
