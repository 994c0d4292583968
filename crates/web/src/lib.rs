//! vulnbridge's HTTP face: the REST API under `/api/v1` with its OpenAPI 3.1 document at
//! `/api/openapi.json`, DefectDojo-compatible import endpoints, tracker webhooks, the
//! operational endpoints `/healthz`, `/readyz`, `/metrics`, and the server-rendered web UI at
//! `/` (see [`ui`]).

pub mod api;
pub mod error;
pub mod extract;
mod ops;
mod state;
pub mod ui;
pub mod webhooks;

pub use state::{AppState, metrics_handle};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use error::ApiError;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "vulnbridge",
        description = "Self-hosted vulnerability management: findings from scanners, de-duplicated, in two-way sync with issue trackers.\n\nAuthenticate with `Authorization: Token <token>` (or `Bearer <token>`). Errors are RFC 9457 problems naming the offending field.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&TokenAuth),
    tags(
        (name = "products", description = "Applications and assets, and who works on them"),
        (name = "product types", description = "Organisations grouping products"),
        (name = "engagements", description = "Periods or pipelines of testing within a product"),
        (name = "tests", description = "One stream of results from one tool within an engagement"),
        (name = "findings", description = "Vulnerabilities"),
        (name = "finding groups", description = "Findings pushed together as one ticket"),
        (name = "users", description = "Accounts and roles"),
        (name = "tokens", description = "Your API tokens"),
        (name = "jobs", description = "The background queue"),
        (name = "imports", description = "Report imports and their history"),
        (name = "integrations", description = "Issue trackers: instances, mappings, assignments, pushes, error tables"),
        (name = "tickets", description = "Links to tickets in the trackers, with their changelogs"),
        (name = "connectors", description = "Scanners pulled through their APIs: connectors, Records, Discover and Sync, the operations log"),
        (name = "defectdojo compatibility", description = "DefectDojo's import endpoints, for pipelines written for DefectDojo"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <token>` or `Bearer <token>`; create one with `vulnbridge token create USER`",
            ))),
        );
    }
}

/// The default largest report accepted by the import endpoints.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 512 * 1024 * 1024;

fn api_routes(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .merge(api::product_types::routes())
        .merge(api::products::routes())
        .merge(api::members::routes())
        .merge(api::engagements::routes())
        .merge(api::tests::routes())
        .merge(api::findings::routes())
        .merge(api::groups::routes())
        .merge(api::users::routes())
        .merge(api::tokens::routes())
        .merge(api::jobs::routes())
        .merge(api::imports::routes(max_upload_bytes))
        .merge(api::integrations::routes())
        .merge(api::connectors::routes())
        .merge(api::push::routes())
        .merge(api::tickets::routes())
}

/// The OpenAPI document, generated from the routes (what `vulnbridge openapi` prints).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes(DEFAULT_MAX_UPLOAD_BYTES).into_openapi()
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api_routes(state.max_upload_bytes).split_for_parts();
    let doc = Arc::new(doc.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    let max_body = state.max_body_bytes;
    Router::new()
        .merge(api)
        .merge(webhooks::routes())
        .merge(ui::routes(state.clone()))
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], doc.as_str().to_owned()) }
            }),
        )
        .fallback(|uri: axum::http::Uri| async move {
            // Machines get a problem document; people browsing the UI get a page.
            let path = uri.path();
            if path.starts_with("/api/") || path.starts_with("/webhooks/") || path == "/api" {
                ApiError::not_found("no such endpoint; see /api/openapi.json").into_response()
            } else {
                ui::not_found().into_response()
            }
        })
        .layer(axum::middleware::from_fn(ops::track))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("a request handler panicked").into_response()
        }))
        .layer(TraceLayer::new_for_http())
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
