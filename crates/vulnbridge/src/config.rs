//! Configuration: built-in defaults, then `vulnbridge.toml` (if present), then `VULNBRIDGE_*`
//! environment variables, then `VULNBRIDGE_*_FILE` (the named file's content, for secrets
//! mounted as files), then command-line flags. A misspelt `VULNBRIDGE_` variable is reported
//! rather than silently ignored.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrets::SecretString;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

pub const ENV_PREFIX: &str = "VULNBRIDGE_";

/// Keys whose environment values are numbers or booleans.
const NON_TEXT_KEYS: &[&str] = &["workers", "db_max_connections", "auto_migrate", "max_upload_mb", "job_lease_secs"];

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`; default: SQLite in the data directory.
    pub database_url: Option<String>,
    /// Where `serve` listens.
    pub bind: String,
    /// SQLite file and key file live here.
    pub data_dir: PathBuf,
    /// 32 bytes, base64: encrypts stored credentials. Default: a key file in the data dir.
    pub secret_key: Option<String>,
    /// How users reach this server (links in tickets, webhook URLs). Default: `http://<bind>`.
    pub public_url: Option<String>,
    /// Log filter, `RUST_LOG` syntax.
    pub log: String,
    /// `text` or `json`.
    pub log_format: String,
    /// Background jobs run at once by `serve` (0: none; run `vulnbridge worker` instead).
    pub workers: usize,
    /// Database connections per process.
    pub db_max_connections: u32,
    /// Apply migrations when `serve` or `worker` starts.
    pub auto_migrate: bool,
    /// Largest report the import endpoints accept, in MiB.
    pub max_upload_mb: u64,
    /// How long a worker's claim on a job lasts unrenewed: a dead worker's jobs (and the
    /// tickets they were pushing) are taken over after this.
    pub job_lease_secs: u64,
    /// PostgreSQL only: the schema to work in (the demo's own); not a setting users write.
    #[serde(skip)]
    pub pg_schema: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./vulnbridge-data"),
            secret_key: None,
            public_url: None,
            log: "info,sqlx=warn".into(),
            log_format: "text".into(),
            workers: 4,
            db_max_connections: 10,
            auto_migrate: true,
            max_upload_mb: 512,
            job_lease_secs: 60,
            pg_schema: None,
        }
    }
}

/// Every key, with its meaning: the README's configuration table is checked against this list.
pub const KEYS: &[(&str, &str)] = &[
    ("database_url", "`sqlite://PATH` or `postgres://USER:PASS@HOST/DB`; default SQLite in the data dir"),
    ("bind", "address `serve` listens on; default `127.0.0.1:8080`"),
    ("data_dir", "SQLite database and key file; default `./vulnbridge-data`"),
    ("secret_key", "32 bytes, base64, encrypting stored credentials; default a 0600 key file in the data dir"),
    ("public_url", "how users reach the server, for links and webhook URLs; default `http://<bind>`"),
    ("log", "log filter (`RUST_LOG` syntax); default `info,sqlx=warn`"),
    ("log_format", "`text` or `json`; default `text`"),
    ("workers", "background jobs `serve` runs at once; `0` leaves them to `vulnbridge worker`; default 4"),
    ("db_max_connections", "database connections per process; default 10"),
    ("auto_migrate", "apply migrations at start; default `true`"),
    ("max_upload_mb", "largest report the import endpoints accept, in MiB; default 512"),
    ("job_lease_secs", "seconds a worker's claim on a job lasts unrenewed; a dead worker's jobs are taken over after it; default 60"),
];

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url.as_deref().map(store::redact_url))
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[REDACTED]"))
            .field("public_url", &self.public_url)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("workers", &self.workers)
            .field("db_max_connections", &self.db_max_connections)
            .field("auto_migrate", &self.auto_migrate)
            .field("max_upload_mb", &self.max_upload_mb)
            .field("job_lease_secs", &self.job_lease_secs)
            .finish()
    }
}

impl Config {
    /// Loads the layers. `file`: an explicit config file (must exist); without one,
    /// `./vulnbridge.toml` is read when present.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        Self::load_from(file, std::env::vars().collect())
    }

    pub fn load_from(file: Option<&Path>, env: Vec<(String, String)>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    bail!("the configuration file {} does not exist", path.display());
                }
                fig = fig.merge(Toml::file_exact(path));
            }
            None if Path::new("vulnbridge.toml").exists() => {
                fig = fig.merge(Toml::file_exact("vulnbridge.toml"));
            }
            None => {}
        }
        let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        let mut from_env: Vec<(String, String)> = Vec::new();
        let mut from_files: Vec<(String, String)> = Vec::new();
        for (name, value) in &env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
            let key = rest.to_ascii_lowercase();
            if key == "config" || key.starts_with("test_") {
                continue;
            }
            if let Some(base) = key.strip_suffix("_file")
                && known.contains(&base)
            {
                let content = std::fs::read_to_string(value)
                    .with_context(|| format!("cannot read {name}={value}"))?;
                from_files.push((base.to_owned(), content.trim_end_matches(['\n', '\r']).to_owned()));
                continue;
            }
            if known.contains(&key.as_str()) {
                from_env.push((key, value.clone()));
            } else {
                let hint = known
                    .iter()
                    .find(|k| similar(k, &key))
                    .map(|k| format!(" (did you mean {ENV_PREFIX}{}?)", k.to_ascii_uppercase()))
                    .unwrap_or_default();
                eprintln!("warning: ignoring unknown environment variable {name}{hint}");
            }
        }
        for (k, v) in from_env {
            // Numbers and booleans arrive as text; figment's value parser types them, as its
            // own environment provider would. Everything else stays text (a secret key that
            // happens to look like a number must not become one).
            if NON_TEXT_KEYS.contains(&k.as_str()) {
                let typed: figment::value::Value = v.parse().unwrap_or_else(|_| v.clone().into());
                fig = fig.merge(Serialized::default(&k, typed));
            } else {
                fig = fig.merge(Serialized::default(&k, v));
            }
        }
        for (k, v) in from_files {
            fig = fig.merge(Serialized::default(&k, v));
        }
        let config: Config = fig.extract().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!("invalid configuration: log_format must be `text` or `json`, not `{}`", self.log_format);
        }
        if self.db_max_connections == 0 {
            bail!("invalid configuration: db_max_connections must be at least 1");
        }
        if self.max_upload_mb == 0 || self.max_upload_mb > 64 * 1024 {
            bail!("invalid configuration: max_upload_mb must be between 1 and 65536");
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("vulnbridge.db").display())
        })
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The worker options this configuration asks for, running `concurrency` jobs at once.
    pub fn worker_options(&self, concurrency: usize) -> engine::WorkerOptions {
        engine::WorkerOptions {
            concurrency,
            lease: std::time::Duration::from_secs(self.job_lease_secs.clamp(3, 3600)),
            ..engine::WorkerOptions::default()
        }
    }

    pub fn secret_key(&self) -> Option<SecretString> {
        self.secret_key.clone().map(SecretString::from)
    }
}

/// Within two single-character edits (insert, delete, substitute): a likely typo.
fn similar(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("vulnbridge.toml");
        std::fs::write(&toml, "bind = \"0.0.0.0:9000\"\nworkers = 2\n").unwrap();
        let secret = dir.path().join("key");
        std::fs::write(&secret, "c2VjcmV0\n").unwrap();
        let c = Config::load_from(
            Some(&toml),
            env(&[
                ("VULNBRIDGE_WORKERS", "7"),
                ("VULNBRIDGE_SECRET_KEY_FILE", secret.to_str().unwrap()),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.bind, "0.0.0.0:9000", "from the file");
        assert_eq!(c.workers, 7, "env beats the file");
        assert_eq!(c.secret_key.as_deref(), Some("c2VjcmV0"), "_FILE read and trimmed");
        assert_eq!(c.public_url(), "http://0.0.0.0:9000");
        assert!(c.database_url().starts_with("sqlite://"));
        assert!(!format!("{c:?}").contains("c2VjcmV0"), "Debug redacts the key");
    }

    #[test]
    fn bad_values_are_named() {
        let err = Config::load_from(None, env(&[("VULNBRIDGE_WORKERS", "many")])).unwrap_err().to_string();
        assert!(err.contains("workers"), "{err}");
        let err = Config::load_from(None, env(&[("VULNBRIDGE_LOG_FORMAT", "xml")])).unwrap_err().to_string();
        assert!(err.contains("log_format"), "{err}");
        let err = Config::load_from(Some(Path::new("/nonexistent.toml")), vec![]).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn database_url_is_redacted_in_debug() {
        let c = Config::load_from(None, env(&[("VULNBRIDGE_DATABASE_URL", "postgres://u:hunter2@db/x")])).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn the_readme_documents_every_key() {
        let readme = include_str!("../../../README.md");
        for (key, _) in KEYS {
            let row = format!("| `{ENV_PREFIX}{}` | `{key}` |", key.to_ascii_uppercase());
            assert!(readme.contains(&row), "README.md lacks the configuration row for {key}: {row}");
        }
        let rows = readme.lines().filter(|l| l.starts_with("| `VULNBRIDGE_")).count();
        assert_eq!(rows, KEYS.len(), "README.md documents a key the code does not have");
    }

    #[test]
    fn typos_are_recognised() {
        assert!(similar("database_url", "databse_url"));
        assert!(!similar("bind", "workers"));
    }
}
