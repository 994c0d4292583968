//! `/webhooks/{instance}/` (trailing slash optional): tracker callbacks. No API token: the
//! request is verified against the instance's webhook secret (GitHub's HMAC signature,
//! GitLab's token) before anything in it is read; then its events are applied
//! (`engine::integrations::inbound`). Trackers retry deliveries that fail, so a delivery is
//! answered quickly, and a failure to apply is a 5xx (retried) while a bad request is a 4xx.

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use domain::InstanceId;
use engine::integrations::credentials;
use engine::integrations::inbound::{self, Applied};
use serde::Serialize;
use store::instances;
use trackers::webhook::WebhookError;

/// GitHub caps payloads at 25 MB; others send far less.
const MAX_WEBHOOK_BYTES: usize = 25 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/{instance}", post(receive))
        .route("/webhooks/{instance}/", post(receive))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
}

#[derive(Serialize)]
struct Received {
    events: usize,
    applied: Vec<Applied>,
}

async fn receive(
    State(s): State<AppState>,
    Path(instance): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>, ApiError> {
    let id: i64 = instance.parse().map_err(|_| ApiError::not_found(format!("no integration instance '{instance}'")))?;
    let mut c = s.app.db().conn().await?;
    let inst = instances::get(&mut c, InstanceId(id)).await?;
    let (_, sealed) = instances::secrets(&mut c, inst.id).await?;
    drop(c);
    let secret = credentials::open_webhook_secret(s.app.cipher(), &sealed).map_err(ApiError::internal)?;
    let events = trackers::webhook::parse(inst.vendor, &headers, &body, &secret).map_err(|e| match e {
        WebhookError::Unsigned(_) | WebhookError::BadSignature(_) => {
            tracing::warn!(instance = %inst.id, reason = %e, "Refused a webhook.");
            ApiError::unauthorized(e.to_string())
        }
        WebhookError::Unreadable(_) => ApiError::bad_request(e.to_string()),
    })?;
    let n = events.len();
    let applied = inbound::apply(&s.app, &inst, events).await.map_err(ApiError::internal)?;
    Ok(Json(Received { events: n, applied }))
}
