//! API tokens: high-entropy random strings, stored only as their SHA-256.
//!
//! A plain hash suffices (no argon2) because the token has ~238 bits of entropy: there is
//! nothing to brute-force, and lookups by hash stay a single indexed query.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "vbt_";
const BODY_LEN: usize = 40;
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly minted token: shown to its owner once, then only `hash` and `display_prefix` are kept.
#[derive(Debug)]
pub struct NewToken {
    pub token: SecretString,
    pub hash: String,
    /// `vbt_` and the first 6 characters, shown in token lists.
    pub display_prefix: String,
}

pub fn generate() -> NewToken {
    let mut body = String::with_capacity(BODY_LEN);
    while body.len() < BODY_LEN {
        // Rejection sampling keeps the 62-letter alphabet uniform.
        for b in crate::random_bytes::<64>() {
            if (b as usize) < ALPHABET.len() * 4 && body.len() < BODY_LEN {
                body.push(ALPHABET[(b as usize) % ALPHABET.len()] as char);
            }
        }
    }
    let token = format!("{PREFIX}{body}");
    NewToken {
        hash: hash(&token),
        display_prefix: token[..PREFIX.len() + 6].to_owned(),
        token: SecretString::from(token),
    }
}

/// The stored form of a token presented by a client.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// True if the string looks like one of our tokens (cheap check before a database lookup).
pub fn looks_like_token(s: &str) -> bool {
    let s = s.trim();
    s.len() == PREFIX.len() + BODY_LEN
        && s.starts_with(PREFIX)
        && s[PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric())
}

impl NewToken {
    pub fn reveal(&self) -> &str {
        self.token.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = generate();
        let b = generate();
        assert_ne!(a.reveal(), b.reveal());
        assert!(looks_like_token(a.reveal()));
        assert_eq!(hash(a.reveal()), a.hash);
        assert!(a.reveal().starts_with(&a.display_prefix));
        assert!(!format!("{a:?}").contains(a.reveal()));
        assert!(!looks_like_token("vbt_short"));
    }
}
