//! "Check connection" for an instance (and one of its mappings), and registering the tracker's
//! webhook for a mapping.

use super::{configure, credentials};
use crate::App;
use domain::tracker::{Instance, Mapping};
use store::instances;
use trackers::{CheckReport, TrackerError};

/// Checks an instance's credentials, and with a mapping its destination, fields and values.
/// Remembers the account the credentials belong to.
pub async fn check(app: &App, instance: &Instance, mapping: Option<&Mapping>) -> anyhow::Result<CheckReport> {
    let client = match app.trackers().get(app, instance).await {
        Ok(c) => c,
        Err(e) => {
            let mut r = CheckReport::default();
            r.fail("credentials", format!("{e:#}"));
            return Ok(r);
        }
    };
    let report = client.check(mapping.map(|m| &m.config)).await;
    if report.account.is_some() && report.account != instance.account {
        let mut c = app.db().conn().await?;
        instances::set_account(&mut c, instance.id, report.account.as_deref()).await?;
    }
    Ok(report)
}

/// Learns whose account the credentials are, in the background, after an instance is added or
/// its credentials change: inbound sync tells vulnbridge's own workflow steps from people's
/// changes by it. Best effort — a tracker that is down now is checked again by "check
/// connection".
pub fn learn_account(app: &App, instance: Instance) {
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(e) = check(&app, &instance, None).await {
            tracing::debug!(instance = %instance.id, error = %format!("{e:#}"), "could not learn the instance's account");
        }
    });
}

/// Registers (or refreshes) the tracker's webhook for a mapping's project, pointing at this
/// server's `/webhooks/{instance}/` with the instance's secret. Returns the URL.
pub async fn register_webhook(app: &App, mapping: &Mapping) -> Result<String, TrackerError> {
    let internal = |e: anyhow::Error| TrackerError::Misconfigured(format!("{e:#}"));
    let mut c = app.db().conn().await.map_err(|e| internal(e.into()))?;
    let instance = instances::get(&mut c, mapping.instance).await.map_err(|e| internal(e.into()))?;
    let (_, sealed) = instances::secrets(&mut c, instance.id).await.map_err(|e| internal(e.into()))?;
    drop(c);
    let secret = credentials::open_webhook_secret(app.cipher(), &sealed).map_err(internal)?;
    let url = configure::webhook_url(app.settings(), instance.id);
    let parsed = url::Url::parse(&url).map_err(|e| TrackerError::Misconfigured(format!("the webhook URL {url} is not valid ({e}); set public_url")))?;
    let client = app.trackers().get(app, &instance).await.map_err(internal)?;
    client.register_webhook(&mapping.config, &parsed, &secret).await?;
    Ok(url)
}
