//! What every long-running command needs: the database, the key, the App; and a shutdown
//! signal.

use crate::config::Config;
use anyhow::Context;
use secrets::{Cipher, KeySource, MasterKey};
use store::{Db, DbOptions};
use tokio::sync::watch;

/// Connects to the configured database (one clear error line when it cannot).
pub async fn connect(config: &Config) -> anyhow::Result<Db> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
    }
    let opts = DbOptions {
        max_connections: config.db_max_connections,
        acquire_timeout: std::time::Duration::from_secs(5),
        pg_schema: config.pg_schema.clone(),
    };
    Ok(Db::connect(&config.database_url(), &opts).await?)
}

/// Loads (or, on first start, creates) the master key and builds the cipher.
pub fn cipher(config: &Config) -> anyhow::Result<Cipher> {
    let (key, source) = MasterKey::load(config.secret_key().as_ref(), &config.data_dir)?;
    match source {
        KeySource::Environment => tracing::info!(key_id = %key.id(), "Using the secret key from the environment."),
        KeySource::File { path, created: true } => tracing::warn!(
            key_id = %key.id(), path = %path.display(),
            "Created a new secret key file. Back it up: stored credentials cannot be read without it."
        ),
        KeySource::File { path, .. } => tracing::info!(key_id = %key.id(), path = %path.display(), "Using the secret key file."),
    }
    Ok(Cipher::new(&key))
}

/// Database (migrated if configured) and App, ready to serve.
pub async fn app(config: &Config) -> anyhow::Result<engine::App> {
    let cipher = cipher(config)?;
    let db = connect(config).await?;
    if config.auto_migrate {
        db.migrate().await?;
    }
    tracing::info!(backend = db.backend().as_str(), "Connected to the database.");
    Ok(engine::App::new(
        db,
        cipher,
        engine::Settings::new(config.public_url()),
    ))
}

/// A flag that turns true on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("Shutting down.");
        let _ = tx.send(true);
    });
    rx
}
