use crate::MasterKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::SecretString;
use std::fmt;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;

/// Encrypts and decrypts credentials with the master key.
#[derive(Clone)]
pub struct Cipher {
    aead: XChaCha20Poly1305,
    key_id: String,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cipher(key id={})", self.key_id)
    }
}

/// An encrypted value as stored in the database. Opaque; its `Debug` hides the ciphertext too,
/// so that logs carry nothing an attacker could try offline.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(String);

impl Sealed {
    /// Wraps a stored value read back from the database.
    pub fn from_stored(s: String) -> Self {
        Sealed(s)
    }
    pub fn as_stored(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed(..)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("the stored secret is not in a format this version understands")]
    Malformed,
    #[error(
        "the stored secret was encrypted with key {sealed_with}, but the configured key is {configured}; set VULNBRIDGE_SECRET_KEY to the key this data was written with"
    )]
    WrongKey {
        sealed_with: String,
        configured: String,
    },
    #[error("the stored secret failed authentication (tampered with, or moved from another field)")]
    Tampered,
}

impl Cipher {
    pub fn new(key: &MasterKey) -> Self {
        Cipher {
            aead: XChaCha20Poly1305::new(key.bytes().into()),
            key_id: key.id(),
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts `plaintext` for one `purpose` (e.g. `integration_instance.credentials`).
    pub fn seal(&self, purpose: &str, plaintext: &str) -> Sealed {
        let nonce_bytes: [u8; NONCE_LEN] = crate::random_bytes();
        let nonce = XNonce::from(nonce_bytes);
        let ct = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: purpose.as_bytes(),
                },
            )
            // Encryption only fails for messages beyond 256 GiB.
            .expect("XChaCha20-Poly1305 encryption of a credential cannot fail");
        let mut blob = Vec::with_capacity(NONCE_LEN + ct.len());
        blob.extend_from_slice(&nonce_bytes);
        blob.extend_from_slice(&ct);
        Sealed(format!(
            "{VERSION}.{}.{}",
            self.key_id,
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    /// Decrypts a value sealed for the same `purpose`.
    pub fn open(&self, purpose: &str, sealed: &Sealed) -> Result<SecretString, OpenError> {
        let mut parts = sealed.0.splitn(3, '.');
        let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(OpenError::Malformed);
        };
        if key_id != self.key_id {
            return Err(OpenError::WrongKey {
                sealed_with: key_id.to_owned(),
                configured: self.key_id.clone(),
            });
        }
        let blob = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| OpenError::Malformed)?;
        if blob.len() < NONCE_LEN + 16 {
            return Err(OpenError::Malformed);
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError::Malformed)?;
        let plain = self
            .aead
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Tampered)?;
        let text = String::from_utf8(plain).map_err(|_| OpenError::Malformed)?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::ExposeSecret;

    fn cipher() -> Cipher {
        Cipher::new(&MasterKey::from_bytes([42; 32]))
    }

    #[test]
    fn seal_and_open() {
        let c = cipher();
        let sealed = c.seal("instance.token", "ghp_secret");
        assert!(!sealed.as_stored().contains("ghp_secret"));
        assert_eq!(c.open("instance.token", &sealed).unwrap().expose_secret(), "ghp_secret");
        // Random nonces: the same plaintext seals differently each time.
        assert_ne!(c.seal("instance.token", "ghp_secret"), sealed);
    }

    #[test]
    fn purpose_is_bound() {
        let c = cipher();
        let sealed = c.seal("instance.token", "x");
        assert_eq!(c.open("connector.api_key", &sealed).unwrap_err(), OpenError::Tampered);
    }

    #[test]
    fn wrong_key_is_named() {
        let sealed = cipher().seal("p", "x");
        let other = Cipher::new(&MasterKey::from_bytes([1; 32]));
        let err = other.open("p", &sealed).unwrap_err();
        assert!(matches!(err, OpenError::WrongKey { .. }));
        assert!(err.to_string().contains("VULNBRIDGE_SECRET_KEY"));
    }

    #[test]
    fn tampering_is_detected() {
        let c = cipher();
        let sealed = c.seal("p", "hello");
        let mut s = sealed.as_stored().to_owned();
        let last = s.pop().unwrap();
        s.push(if last == 'A' { 'B' } else { 'A' });
        assert!(c.open("p", &Sealed::from_stored(s)).is_err());
        assert_eq!(
            c.open("p", &Sealed::from_stored("garbage".into())).unwrap_err(),
            OpenError::Malformed
        );
    }

    #[test]
    fn debug_hides_everything() {
        let sealed = cipher().seal("p", "hunter2");
        assert_eq!(format!("{sealed:?}"), "Sealed(..)");
        let opened = cipher().open("p", &sealed).unwrap();
        assert!(!format!("{opened:?}").contains("hunter2"));
    }

    proptest! {
        #[test]
        fn round_trips_any_text(text in ".*", purpose in "[a-z_.]{1,30}") {
            let c = cipher();
            let sealed = c.seal(&purpose, &text);
            let opened = c.open(&purpose, &sealed).unwrap();
            prop_assert_eq!(opened.expose_secret(), text.as_str());
        }

        #[test]
        fn open_never_panics_on_junk(junk in ".*") {
            let _ = cipher().open("p", &Sealed::from_stored(junk));
        }
    }
}
