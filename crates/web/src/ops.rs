//! Operational endpoints: liveness, readiness and Prometheus metrics. Unauthenticated, as load
//! balancers and scrapers expect; they reveal counts, never content.

use crate::state::AppState;
use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Liveness: the process answers. Does not touch the database.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok", detail: None })
}

/// Readiness: the database is reachable and every migration this binary knows is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "Not ready; `detail` says why", body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.app.db().readiness().await {
        Ok(()) => Json(Health { status: "ok", detail: None }).into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health { status: "unavailable", detail: Some(why) }),
        )
            .into_response(),
    }
}

/// Prometheus text format: HTTP request counts and latencies, job outcomes, and the current
/// queue depth per queue and status.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus exposition format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(mut c) = state.app.db().conn().await
        && let Ok(counts) = store::jobs::counts(&mut c).await
    {
        for (queue, status, n) in counts {
            metrics::gauge!("vulnbridge_jobs", "queue" => queue, "status" => status.as_str())
                .set(n as f64);
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Counts and times every request, labelled by route template (not the raw path, which would
/// make one series per id).
pub async fn track(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("vulnbridge_http_requests_total", &labels).increment(1);
    metrics::histogram!("vulnbridge_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    resp
}
