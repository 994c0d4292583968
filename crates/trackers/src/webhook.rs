//! Webhooks from trackers: verified, then read into [`InboundEvent`]s the engine applies.
//!
//! Verification happens before anything in the body is looked at. Each vendor module has a
//! `webhook::parse(headers, body, secret)`; [`parse`] picks it by vendor.

pub use domain::tracker::RemoteChange;
use domain::tracker::Vendor;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// One change to one remote ticket, as a webhook reported it.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundEvent {
    /// The delivery's id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`): a delivery seen before
    /// is ignored (trackers retry).
    pub delivery: Option<String>,
    /// The ticket's [`crate::RemoteRef::id`].
    pub remote_id: String,
    pub change: RemoteChange,
    /// Who made the change in the tracker (login / username).
    pub actor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WebhookError {
    /// No signature or token where the vendor sends one.
    #[error("the request carries no {0}")]
    Unsigned(&'static str),
    /// A signature or token that does not match the instance's secret.
    #[error("the {0} does not match this instance's webhook secret")]
    BadSignature(&'static str),
    /// Verified, but the body cannot be read.
    #[error("the webhook body cannot be read: {0}")]
    Unreadable(String),
}

/// Verifies and reads a webhook for an instance of `vendor`. `Ok(vec![])` for verified
/// deliveries that carry no ticket change (pings, comments, edits of other fields).
pub fn parse(vendor: Vendor, headers: &HeaderMap, body: &[u8], secret: &SecretString) -> Result<Vec<InboundEvent>, WebhookError> {
    match vendor {
        Vendor::GitHub => crate::github::webhook::parse(headers, body, secret),
        Vendor::GitLab => crate::gitlab::webhook::parse(headers, body, secret),
        Vendor::AzureDevops => crate::azure_devops::webhook::parse(headers, body, secret),
        Vendor::Jira => crate::jira::webhook::parse(headers, body, secret),
        Vendor::ServiceNow => crate::servicenow::webhook::parse(headers, body, secret),
    }
}

/// Checks `sha256=<hex>` (GitHub's `X-Hub-Signature-256`, Jira's `X-Hub-Signature`) against
/// HMAC-SHA256(secret, body), in constant time.
pub fn verify_hmac_sha256_hex(header_value: &str, body: &[u8], secret: &SecretString) -> bool {
    let Some(hex_sig) = header_value.trim().strip_prefix("sha256=") else { return false };
    let Ok(sig) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// `sha256=<hex>` for a body: what a tracker sends, for simulators and tests.
pub fn sign_hmac_sha256_hex(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Compares a shared token sent in clear (GitLab's `X-Gitlab-Token`) without leaking through
/// timing how much of it matched: both sides are hashed, then compared in full.
pub fn token_matches(sent: &str, secret: &SecretString) -> bool {
    let a = Sha256::digest(sent.as_bytes());
    let b = Sha256::digest(secret.expose_secret().as_bytes());
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A header's value as text, if present.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_signatures_verify_and_tampering_fails() {
        let secret = SecretString::from("It's a Secret to Everybody".to_owned());
        // GitHub's documented example: payload "Hello, World!".
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign_hmac_sha256_hex(b"Hello, World!", "It's a Secret to Everybody"), sig);
        assert!(verify_hmac_sha256_hex(sig, b"Hello, World!", &secret));
        assert!(!verify_hmac_sha256_hex(sig, b"Hello, World?", &secret));
        assert!(!verify_hmac_sha256_hex("sha1=abc", b"Hello, World!", &secret));
        assert!(!verify_hmac_sha256_hex("sha256=zz", b"Hello, World!", &secret));
    }

    #[test]
    fn tokens_compare_whole() {
        let secret = SecretString::from("s3cret".to_owned());
        assert!(token_matches("s3cret", &secret));
        assert!(!token_matches("s3cre", &secret));
        assert!(!token_matches("", &secret));
    }
}
