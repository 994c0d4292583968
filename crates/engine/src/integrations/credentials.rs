//! Instance credentials: what a person gives (a token, a user and password, an OAuth client
//! and refresh token), how it is stored (sealed JSON, the OAuth tokens kept current in it), and
//! what a tracker client receives. The plaintext exists only while a request is built.

use chrono::{DateTime, Utc};
use domain::ValidationError;
use domain::tracker::Vendor;
use secrets::{Cipher, ExposeSecret, Sealed, SecretString};
use serde::{Deserialize, Serialize};

/// The purposes (associated data) sealed values are bound to: a sealed webhook secret cannot
/// be opened as credentials, or the other way round.
pub const CREDENTIALS_PURPOSE: &str = "integration-instance-credentials";
pub const WEBHOOK_SECRET_PURPOSE: &str = "integration-instance-webhook-secret";

/// Reads a secret straight into a `SecretString` (zeroed on drop, never printed).
fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

fn optional_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Option::<String>::deserialize(d).map(|o| o.map(SecretString::from))
}

/// Credentials as the API and the CLI take them: one of a token, a user name and password, or
/// an OAuth client with its refresh token. Which ones a vendor takes:
/// - GitHub, GitLab, Azure DevOps: `token` (a personal access token);
/// - Jira: `username` (the account's e-mail) + `password` (an API token) on Jira Cloud, or
///   `token` (a personal access token) on Data Center, or `oauth`;
/// - ServiceNow: `oauth` (client id, client secret, refresh token), or `username` + `password`.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsInput {
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "optional_secret")]
    pub token: Option<SecretString>,
    #[serde(default)]
    pub username: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "optional_secret")]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub oauth: Option<OAuthInput>,
}

/// An OAuth 2.0 client registered in the tracker, and a refresh token it issued.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthInput {
    pub client_id: String,
    #[schema(value_type = String)]
    #[serde(deserialize_with = "secret")]
    pub client_secret: SecretString,
    #[schema(value_type = String)]
    #[serde(deserialize_with = "secret")]
    pub refresh_token: SecretString,
    /// The token endpoint, when not the vendor's usual one (ServiceNow: `<location>/oauth_token.do`;
    /// Jira Cloud: `https://auth.atlassian.com/oauth/token`; Jira Data Center:
    /// `<location>/rest/oauth2/latest/token`).
    #[serde(default)]
    pub token_url: Option<String>,
}

impl CredentialsInput {
    /// Credentials of a personal access token.
    pub fn token(token: SecretString) -> CredentialsInput {
        CredentialsInput { token: Some(token), ..Default::default() }
    }
}

impl std::fmt::Debug for CredentialsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsInput")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("oauth", &self.oauth.as_ref().map(|o| &o.client_id))
            .finish()
    }
}

/// What is stored (sealed) for an instance.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Stored {
    Token {
        token: String,
    },
    Basic {
        username: String,
        password: String,
    },
    OAuth {
        client_id: String,
        client_secret: String,
        refresh_token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<DateTime<Utc>>,
    },
}

fn check_secret(field: &str, s: &SecretString) -> Result<(), ValidationError> {
    let v = s.expose_secret();
    if v.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if v.trim() != v || v.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain spaces, line breaks or control characters (was it pasted with a newline?)",
        ));
    }
    Ok(())
}

impl CredentialsInput {
    /// Checks that the credentials are of a kind the vendor takes, and well-formed.
    pub fn check(&self, vendor: Vendor) -> Result<(), ValidationError> {
        let basic = self.username.is_some() || self.password.is_some();
        let kinds = usize::from(self.token.is_some()) + usize::from(basic) + usize::from(self.oauth.is_some());
        let takes = match vendor {
            Vendor::GitHub | Vendor::GitLab | Vendor::AzureDevops => "a personal access token (`token`)",
            Vendor::Jira => "`username` (your e-mail) and `password` (an API token), a personal access token (`token`), or `oauth`",
            Vendor::ServiceNow => "`oauth` (client id, client secret and refresh token), or `username` and `password`",
        };
        if kinds != 1 {
            return Err(ValidationError::new("credentials", format!("give exactly one kind of credentials: {} takes {takes}", vendor.label())));
        }
        let allowed = match vendor {
            Vendor::GitHub | Vendor::GitLab | Vendor::AzureDevops => self.token.is_some(),
            Vendor::Jira => true,
            Vendor::ServiceNow => self.token.is_none(),
        };
        if !allowed {
            return Err(ValidationError::new("credentials", format!("{} takes {takes}", vendor.label())));
        }
        if let Some(t) = &self.token {
            check_secret("credentials.token", t)?;
        }
        if basic {
            let user = self.username.as_deref().unwrap_or("");
            if user.trim().is_empty() || user.chars().any(char::is_control) {
                return Err(ValidationError::new("credentials.username", "must be a user name or e-mail"));
            }
            match &self.password {
                Some(p) => check_secret("credentials.password", p)?,
                None => return Err(ValidationError::new("credentials.password", "give the password or API token with the user name")),
            }
        }
        if let Some(o) = &self.oauth {
            if o.client_id.trim().is_empty() {
                return Err(ValidationError::new("credentials.oauth.client_id", "must not be empty"));
            }
            check_secret("credentials.oauth.client_secret", &o.client_secret)?;
            check_secret("credentials.oauth.refresh_token", &o.refresh_token)?;
            if let Some(u) = &o.token_url {
                domain::tracker::parse_location(u).map_err(|e| ValidationError::new("credentials.oauth.token_url", e.message))?;
            }
        }
        Ok(())
    }

    pub fn seal(&self, cipher: &Cipher) -> Sealed {
        let stored = if let Some(t) = &self.token {
            Stored::Token { token: t.expose_secret().to_owned() }
        } else if let Some(o) = &self.oauth {
            Stored::OAuth {
                client_id: o.client_id.trim().to_owned(),
                client_secret: o.client_secret.expose_secret().to_owned(),
                refresh_token: o.refresh_token.expose_secret().to_owned(),
                token_url: o.token_url.clone(),
                access_token: None,
                expires_at: None,
            }
        } else {
            Stored::Basic {
                username: self.username.clone().unwrap_or_default().trim().to_owned(),
                password: self.password.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default(),
            }
        };
        seal_stored(cipher, &stored)
    }
}

pub(crate) fn seal_stored(cipher: &Cipher, stored: &Stored) -> Sealed {
    let json = serde_json::to_string(stored).unwrap_or_default();
    cipher.seal(CREDENTIALS_PURPOSE, &json)
}

/// Opens stored credentials.
pub(crate) fn open_stored(cipher: &Cipher, sealed: &Sealed) -> anyhow::Result<Stored> {
    let json = cipher
        .open(CREDENTIALS_PURPOSE, sealed)
        .map_err(|e| anyhow::anyhow!("the instance's credentials cannot be opened: {e}"))?;
    serde_json::from_str(json.expose_secret())
        .map_err(|_| anyhow::anyhow!("the instance's stored credentials are not readable by this version"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> CredentialsInput {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn each_vendor_takes_its_kinds() {
        assert!(input(r#"{"token":"ghp_x"}"#).check(Vendor::GitHub).is_ok());
        assert_eq!(input(r#"{"username":"a","password":"b"}"#).check(Vendor::GitHub).unwrap_err().field, "credentials");
        assert!(input(r#"{"username":"me@example.com","password":"tok"}"#).check(Vendor::Jira).is_ok());
        assert!(input(r#"{"oauth":{"client_id":"c","client_secret":"s","refresh_token":"r"}}"#).check(Vendor::ServiceNow).is_ok());
        assert_eq!(input(r#"{"token":"t"}"#).check(Vendor::ServiceNow).unwrap_err().field, "credentials");
        assert_eq!(input(r#"{"token":"t","username":"u","password":"p"}"#).check(Vendor::Jira).unwrap_err().field, "credentials");
        assert_eq!(input(r#"{}"#).check(Vendor::Jira).unwrap_err().field, "credentials");
        assert_eq!(input(r#"{"username":"u"}"#).check(Vendor::Jira).unwrap_err().field, "credentials.password");
        assert_eq!(input(r#"{"oauth":{"client_id":"c","client_secret":"s","refresh_token":" r"}}"#).check(Vendor::Jira).unwrap_err().field, "credentials.oauth.refresh_token");
        assert!(serde_json::from_str::<CredentialsInput>(r#"{"tokn":"x"}"#).is_err());
    }

    #[test]
    fn sealed_and_opened_again() {
        let cipher = Cipher::new(&secrets::MasterKey::generate());
        let sealed = input(r#"{"oauth":{"client_id":"c","client_secret":"s","refresh_token":"r"}}"#).seal(&cipher);
        match open_stored(&cipher, &sealed).unwrap() {
            Stored::OAuth { client_id, refresh_token, access_token, .. } => {
                assert_eq!((client_id.as_str(), refresh_token.as_str(), access_token), ("c", "r", None));
            }
            _ => panic!("not OAuth"),
        }
        assert!(!format!("{:?}", input(r#"{"username":"u","password":"hunter2"}"#)).contains("hunter2"));
    }
}
