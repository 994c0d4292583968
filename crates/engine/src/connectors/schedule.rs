//! The connectors' schedules: every half minute each replica looks for due Discovers and
//! Syncs and takes each due one by moving its next time forward in one guarded statement
//! (`store::connectors::take_due`), queuing its operation in the same transaction: however
//! many replicas look, each scheduled run happens once.

use crate::App;
use domain::connector::{OperationKind, OperationTrigger, next_run};
use std::time::Duration;
use store::connectors;
use tokio::sync::watch;

/// How often replicas look for due operations.
pub const EVERY: Duration = Duration::from_secs(30);

/// Queues the operations due now; returns how many this process took.
pub async fn queue_due(app: &App) -> anyhow::Result<usize> {
    let now = store::now();
    let mut c = app.db().conn().await?;
    let due = connectors::due(&mut c, now).await?;
    drop(c);
    let mut taken = 0;
    for (connector, kind) in due {
        let every = match kind {
            OperationKind::Discover => connector.settings.discover_every_minutes,
            OperationKind::Sync => connector.settings.sync_every_minutes,
        };
        let mut tx = app.db().begin().await?;
        if connectors::take_due(&mut tx, connector.id, kind, now, next_run(now, every)).await? {
            super::configure::run_now(&mut tx, connector.id, kind, OperationTrigger::Scheduled).await?;
            taken += 1;
        }
        tx.commit().await?;
    }
    Ok(taken)
}

/// Looks for due operations every `every` until shutdown.
pub async fn schedule(app: App, every: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = queue_due(&app).await {
            tracing::warn!(error = %e, "Cannot queue the connectors' scheduled operations.");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => if *shutdown.borrow() { return },
        }
    }
}
