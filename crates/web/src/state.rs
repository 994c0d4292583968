use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// What every handler receives: the engine's `App` plus HTTP-only concerns.
#[derive(Clone)]
pub struct AppState {
    pub app: engine::App,
    pub metrics: PrometheusHandle,
    /// Largest JSON body the API accepts.
    pub max_body_bytes: usize,
    /// Largest report the import endpoints accept.
    pub max_upload_bytes: usize,
}

impl AppState {
    pub fn new(app: engine::App) -> Self {
        AppState {
            app,
            metrics: metrics_handle(),
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: crate::DEFAULT_MAX_UPLOAD_BYTES,
        }
    }
}

/// The process-wide Prometheus recorder, installed on first use. (A process has one global
/// `metrics` recorder; tests build many `AppState`s, so install it once and share it.)
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed; then our handle renders nothing,
            // which is better than refusing to start.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("A metrics recorder was already installed; /metrics will be empty.");
            }
            handle
        })
        .clone()
}
