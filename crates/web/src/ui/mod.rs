//! The server-rendered web UI at `/`: askama templates (`crates/web/templates/`), htmx and CSS
//! served from the binary (`/assets/…`), sessions in the database with a CSRF token per
//! session. One module per page area; views (`view`) turn domain values into what templates
//! show, so that templates hold no logic worth testing.
//!
//! Every page works without JavaScript (plain links and forms); htmx swaps the findings table
//! in place when filters change, and uploads reports with a progress bar (`assets/app.js`).

mod assets;
mod auth;
mod bulk;
mod connectors;
mod dashboard;
mod error;
mod filters;
mod finding;
mod findings;
mod form;
mod groups;
mod import;
mod integrations;
mod layout;
mod lookup;
mod products;
mod session;
mod view;

pub use error::UiError;
pub use session::{COOKIE as SESSION_COOKIE, CSRF_FIELD, CSRF_HEADER, same_secret};

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};

/// The UI's routes. Session loading and the CSRF check wrap every one of them (see
/// `session::guard`); assets are outside, as they are public and cached.
pub fn routes(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(dashboard::show))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/findings", get(findings::list))
        .route("/findings/push", post(bulk::push))
        .route("/findings/status", post(bulk::set_status))
        .route("/findings/group", post(bulk::group))
        .route("/findings/{id}", get(finding::detail))
        .route("/findings/{id}/push", post(finding::push))
        .route("/findings/{id}/status", post(finding::set_status))
        // Reports are larger than forms: the import endpoints' upload limit applies.
        .route("/import", get(import::show).post(import::upload).layer(DefaultBodyLimit::max(state.max_upload_bytes)))
        .route("/finding-groups", get(groups::list))
        .route("/finding-groups/{id}/push", post(groups::push))
        .merge(connectors::routes())
        .route("/products", get(products::list))
        .route("/products/{id}", get(products::detail))
        .merge(integrations::routes())
        .layer(axum::middleware::from_fn_with_state(state, session::guard))
        .layer(axum::middleware::map_response(security_headers));
    Router::new().merge(pages).merge(assets::routes())
}

/// The page for a UI address that does not exist.
pub fn not_found() -> UiError {
    UiError::new(axum::http::StatusCode::NOT_FOUND, "Not found", "There is no page at this address.")
}

/// Pages show private data: never cached, never framed, scripts and styles only from us.
async fn security_headers(mut resp: axum::response::Response) -> axum::response::Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    resp
}
