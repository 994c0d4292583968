use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD, STANDARD_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const KEY_FILE_NAME: &str = "secret.key";

/// The 32-byte key every stored credential is encrypted with. `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(id={})", self.id())
    }
}

/// Where the key came from, for the startup log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File { path: PathBuf, created: bool },
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "VULNBRIDGE_SECRET_KEY must be 32 bytes encoded in base64 (it decodes to {0} bytes); generate one with `openssl rand -base64 32`"
    )]
    WrongLength(usize),
    #[error(
        "VULNBRIDGE_SECRET_KEY is not valid base64; generate one with `openssl rand -base64 32`"
    )]
    NotBase64,
    #[error(
        "the key file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
    )]
    TooOpen { path: String, mode: u32 },
    #[error("the key file {path} is not a 32-byte base64 key: {reason}")]
    BadFile { path: String, reason: String },
    #[error("cannot {action} the key file {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(bytes)
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        MasterKey(crate::random_bytes())
    }

    /// Accepts standard or URL-safe base64, padded or not.
    pub fn from_base64(encoded: &str) -> Result<Self, KeyError> {
        let trimmed = encoded.trim();
        let bytes = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(trimmed).ok())
            .ok_or(KeyError::NotBase64)?;
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength(bytes.len()))?;
        Ok(MasterKey(arr))
    }

    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.0))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A short public fingerprint: lets an error name which key sealed a value.
    pub fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"vulnbridge key id\0")
            .chain_update(self.0)
            .finalize();
        hex::encode(&digest[..4])
    }

    /// The key from `VULNBRIDGE_SECRET_KEY` when set, else from `<data_dir>/secret.key`,
    /// creating that file (mode 0600) on first start.
    pub fn load(
        from_env: Option<&SecretString>,
        data_dir: &Path,
    ) -> Result<(MasterKey, KeySource), KeyError> {
        if let Some(value) = from_env {
            return Ok((
                MasterKey::from_base64(value.expose_secret())?,
                KeySource::Environment,
            ));
        }
        let path = data_dir.join(KEY_FILE_NAME);
        let shown = path.display().to_string();
        match fs::metadata(&path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(KeyError::TooOpen { path: shown, mode });
                }
                let text = fs::read_to_string(&path).map_err(|source| KeyError::Io {
                    action: "read",
                    path: shown.clone(),
                    source,
                })?;
                let key = MasterKey::from_base64(&text).map_err(|e| KeyError::BadFile {
                    path: shown,
                    reason: e.to_string(),
                })?;
                Ok((key, KeySource::File { path, created: false }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let io = |action| {
                    let shown = shown.clone();
                    move |source| KeyError::Io { action, path: shown, source }
                };
                fs::create_dir_all(data_dir).map_err(io("create the directory of"))?;
                let key = MasterKey::generate();
                // Written in full to a private file first, then hard-linked into place: the link
                // fails if another process (a second replica starting at the same moment) got
                // there first, and then its key, already complete on disk, is the one to use.
                let staging = data_dir.join(format!(".{KEY_FILE_NAME}.{}", key.id()));
                let written = (|| {
                    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&staging)?;
                    writeln!(file, "{}", key.to_base64().expose_secret())?;
                    file.sync_all()?;
                    fs::hard_link(&staging, &path)
                })();
                let _ = fs::remove_file(&staging);
                match written {
                    Ok(()) => Ok((key, KeySource::File { path, created: true })),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(None, data_dir),
                    Err(e) => Err(io("create")(e)),
                }
            }
            Err(source) => Err(KeyError::Io {
                action: "read",
                path: shown,
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, src1) = MasterKey::load(None, dir.path()).unwrap();
        assert!(matches!(src1, KeySource::File { created: true, .. }));
        let mode = fs::metadata(dir.path().join(KEY_FILE_NAME)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (k2, src2) = MasterKey::load(None, dir.path()).unwrap();
        assert!(matches!(src2, KeySource::File { created: false, .. }));
        assert_eq!(k1.bytes(), k2.bytes());
    }

    #[test]
    fn processes_starting_together_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<[u8; 32]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| *MasterKey::load(None, dir.path()).unwrap().0.bytes())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [KEY_FILE_NAME], "no staging files are left behind");
    }

    #[test]
    fn open_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        MasterKey::load(None, dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::load(None, dir.path()).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn env_key_wins_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = MasterKey::generate().to_base64();
        let (_, src) = MasterKey::load(Some(&good), dir.path()).unwrap();
        assert_eq!(src, KeySource::Environment);
        assert!(!dir.path().join(KEY_FILE_NAME).exists());

        let short = SecretString::from("c2hvcnQ=".to_owned());
        let err = MasterKey::load(Some(&short), dir.path()).unwrap_err().to_string();
        assert!(err.contains("decodes to 5 bytes"), "{err}");
        let junk = SecretString::from("not base64 !!".to_owned());
        assert!(matches!(MasterKey::load(Some(&junk), dir.path()), Err(KeyError::NotBase64)));
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let k = MasterKey::from_bytes([7; 32]);
        let shown = format!("{k:?}");
        assert!(!shown.contains(k.to_base64().expose_secret()), "{shown}");
        assert!(shown.starts_with("MasterKey(id="));
    }
}
