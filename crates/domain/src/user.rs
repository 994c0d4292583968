use crate::{ProductId, Role, TokenId, UserId, ValidationError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A person or service account. The password hash never leaves the store.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// The role on every product (and, for `admin`, on the installation).
    pub global_role: Option<Role>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Checks a username: 1–150 characters of letters, digits and `. _ - @ +`.
pub fn parse_username(raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ValidationError::new("username", "must not be empty"));
    }
    if name.chars().count() > 150 {
        return Err(ValidationError::new("username", "at most 150 characters are allowed"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+')))
    {
        return Err(ValidationError::new(
            "username",
            format!("'{bad}' is not allowed; use letters, digits and . _ - @ +"),
        ));
    }
    Ok(name.to_owned())
}

/// A user's role on one product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Membership {
    pub product: ProductId,
    pub user: UserId,
    pub username: String,
    pub role: Role,
}

/// An API token as listed: never the token itself.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: TokenId,
    pub user: UserId,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub display_prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(parse_username(" alice ").unwrap(), "alice");
        assert_eq!(parse_username("ci-bot+sec@example.com").unwrap(), "ci-bot+sec@example.com");
        assert!(parse_username("").is_err());
        assert!(parse_username("a b").unwrap_err().message.contains("' '"));
        assert!(parse_username("x/y").is_err());
    }
}
