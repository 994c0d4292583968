#![doc = include_str!("../README.md")]

mod cipher;
mod key;
pub mod password;
pub mod token;

pub use cipher::{Cipher, OpenError, Sealed};
pub use key::{KEY_FILE_NAME, KeyError, KeySource, MasterKey};
pub use secrecy::{ExposeSecret, SecretString};

/// Fills a buffer from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS RNG failing is unrecoverable and happens only on a broken system.
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

/// `N` random bytes from the operating system, hex-encoded (webhook secrets, installation ids).
pub fn random_hex<const N: usize>() -> String {
    hex::encode(random_bytes::<N>())
}
