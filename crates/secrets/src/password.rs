//! Password hashing with argon2id (PHC strings). Hashing takes tens of milliseconds on
//! purpose: async callers run it on a blocking thread.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_LEN} characters long")]
    TooShort,
    #[error("the stored password hash is not a valid PHC string")]
    BadHash,
}

pub const MIN_LEN: usize = 10;

/// Hashes a password into a PHC string (`$argon2id$v=19$...`).
pub fn hash(password: &SecretString) -> Result<String, PasswordError> {
    if password.expose_secret().chars().count() < MIN_LEN {
        return Err(PasswordError::TooShort);
    }
    let phc = Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map_err(|_| PasswordError::BadHash)?;
    Ok(phc.to_string())
}

/// Checks a password against a stored PHC string. A malformed hash never matches.
pub fn verify(password: &SecretString, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.expose_secret().as_bytes(), &parsed)
        .is_ok()
}

/// A random password for `user create` and the demo: 20 characters from an unambiguous alphabet.
pub fn generate() -> SecretString {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = crate::random_bytes::<20>();
    let s: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    SecretString::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let pw = SecretString::from("correct horse battery".to_owned());
        let phc = hash(&pw).unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify(&pw, &phc));
        assert!(!verify(&SecretString::from("wrong password!".to_owned()), &phc));
        assert!(!verify(&pw, "not a hash"));
        assert!(matches!(hash(&SecretString::from("short".to_owned())), Err(PasswordError::TooShort)));
        assert_eq!(generate().expose_secret().len(), 20);
    }
}
