//! Validated text: parse once at the edge, then carry a type that cannot be invalid.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A field that failed validation, named the way the API calls it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, utoipa::ToSchema)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field with its parent, e.g. `endpoints[2]` + `host` → `endpoints[2].host`.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

fn check_text(field: &str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    let len = value.chars().count();
    if len > max {
        return Err(ValidationError::new(
            field,
            format!("is {len} characters long; at most {max} are allowed"),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(ValidationError::new(
            field,
            "must be a single line without control characters",
        ));
    }
    Ok(value.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(value_type = String)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// Trims, then requires 1..=MAX_CHARS characters on one line.
            pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
                check_text(field, raw, $max).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse("value", &s).map_err(|e| e.message)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A name of a product type, product, engagement or test: 1–255 characters, one line.
    Name,
    255
);

text_type!(
    /// A finding title: 1–1000 characters, one line (scanners write long ones).
    Title,
    1000
);

/// Trims an optional free-text field and turns "" into `None`.
pub fn optional_text(value: Option<String>) -> Option<String> {
    value.and_then(|v| {
        let t = v.trim();
        (!t.is_empty()).then(|| t.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("name", "  Storefront ").unwrap().as_str(), "Storefront");
        let err = Name::parse("name", "   ").unwrap_err();
        assert_eq!(err.field, "name");
        assert_eq!(err.message, "must not be empty");
        let long = "x".repeat(256);
        assert!(Name::parse("name", &long).unwrap_err().message.contains("256"));
        assert!(Name::parse("name", "a\nb").is_err());
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<Name>("\"ok\"").is_ok());
        let err = serde_json::from_str::<Name>("\"\"").unwrap_err().to_string();
        assert!(err.contains("must not be empty"), "{err}");
    }
}
