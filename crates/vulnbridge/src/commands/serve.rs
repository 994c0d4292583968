//! `serve`, `worker` and `migrate`.

use crate::cli::{ServeArgs, WorkerArgs};
use crate::config::Config;
use crate::runtime;
use anyhow::Context;
use engine::{Worker, WorkerOptions};
use std::time::Duration;
use tokio::sync::watch;

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = runtime::connect(&config).await?;
    db.migrate().await?;
    out!("Database at {} is up to date.", store::redact_url(&config.database_url()));
    Ok(())
}

pub async fn serve(mut config: Config, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(b) = args.bind {
        config.bind = b;
    }
    if let Some(w) = args.workers {
        config.workers = w;
    }
    let app = runtime::app(&config).await?;
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let shutdown = runtime::shutdown_signal();
    run_server(app, listener, &config, shutdown).await
}

/// Serves HTTP and (unless `workers` is 0) runs background jobs until `shutdown`.
pub async fn run_server(
    app: engine::App,
    listener: tokio::net::TcpListener,
    config: &Config,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let background = spawn_background(app.clone(), config.worker_options(config.workers), shutdown.clone());
    let mut state = web::AppState::new(app);
    state.max_upload_bytes = usize::try_from(config.max_upload_mb * 1024 * 1024).unwrap_or(usize::MAX);
    tracing::info!(url = %format!("http://{addr}"), "Listening.");
    let mut stop = shutdown.clone();
    web::serve(listener, state, async move {
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    })
    .await
    .context("the HTTP server failed")?;
    for task in background {
        let _ = task.await;
    }
    Ok(())
}

/// The worker (when `concurrency` > 0) and the maintenance scheduler.
fn spawn_background(
    app: engine::App,
    options: WorkerOptions,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    if options.concurrency > 0 {
        let worker = Worker::new(app.clone(), engine::jobs::registry(), options);
        tasks.push(tokio::spawn(worker.run(shutdown.clone())));
        tasks.push(tokio::spawn(engine::maintenance::schedule(
            app.clone(),
            Duration::from_secs(3600),
            shutdown.clone(),
        )));
        tasks.push(tokio::spawn(engine::integrations::reconcile::schedule(
            app.clone(),
            engine::integrations::reconcile::EVERY,
            shutdown.clone(),
        )));
        tasks.push(tokio::spawn(engine::connectors::schedule::schedule(app, engine::connectors::schedule::EVERY, shutdown)));
    }
    tasks
}

pub async fn worker(config: Config, args: WorkerArgs) -> anyhow::Result<()> {
    let concurrency = args.concurrency.unwrap_or(config.workers).max(1);
    let app = runtime::app(&config).await?;
    let shutdown = runtime::shutdown_signal();
    for task in spawn_background(app, config.worker_options(concurrency), shutdown) {
        let _ = task.await;
    }
    Ok(())
}
