use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a dynamic finding was seen: a URL or a bare host (with optional port and path).
///
/// Kept as parts because de-duplication compares `host` and `path` only (DefectDojo's
/// `DEDUPE_ALGO_ENDPOINT_FIELDS`), while tickets show the whole URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragment: Option<String>,
}

impl Endpoint {
    /// Parses `https://host:8443/a/b?q#f`, `host:8080/path`, `10.0.0.1` or `host`.
    pub fn parse(input: &str) -> Result<Endpoint, ValidationError> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err(ValidationError::new("endpoint", "must not be empty"));
        }
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("none://{raw}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| {
            ValidationError::new("endpoint", format!("'{raw}' is not a URL or host: {e}"))
        })?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| ValidationError::new("endpoint", format!("'{raw}' has no host")))?
            .to_owned();
        let protocol = (url.scheme() != "none").then(|| url.scheme().to_owned());
        let path = Some(url.path().trim_start_matches('/'))
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        Ok(Endpoint {
            protocol,
            host,
            port: url.port(),
            path,
            query: url.query().map(str::to_owned),
            fragment: url.fragment().map(str::to_owned),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.protocol {
            write!(f, "{p}://")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        if let Some(path) = &self.path {
            write!(f, "/{path}")?;
        }
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        if let Some(fr) = &self.fragment {
            write!(f, "#{fr}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_hosts() {
        let e = Endpoint::parse("https://shop.example.com:8443/cart/checkout?id=1").unwrap();
        assert_eq!(e.protocol.as_deref(), Some("https"));
        assert_eq!(e.host, "shop.example.com");
        assert_eq!(e.port, Some(8443));
        assert_eq!(e.path.as_deref(), Some("cart/checkout"));
        assert_eq!(e.query.as_deref(), Some("id=1"));
        assert_eq!(e.to_string(), "https://shop.example.com:8443/cart/checkout?id=1");

        let bare = Endpoint::parse("10.0.0.7").unwrap();
        assert_eq!(bare.host, "10.0.0.7");
        assert_eq!(bare.protocol, None);
        assert_eq!(bare.to_string(), "10.0.0.7");

        assert!(Endpoint::parse("").is_err());
        assert!(Endpoint::parse("https://").is_err());
    }
}
