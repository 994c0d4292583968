//! Static assets compiled into the binary: htmx (vendored from npm, see `assets/README.md`), our
//! stylesheet and our few lines of JavaScript. URLs carry a digest of the content (`?v=…`), so they can be cached for a year
//! and still change the moment a new binary serves a new file.

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::OnceLock;

const HTMX: &[u8] = include_bytes!("../../assets/htmx.min.js");
const CSS: &[u8] = include_bytes!("../../assets/app.css");
const JS: &[u8] = include_bytes!("../../assets/app.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/htmx.min.js", get(|| async { asset(HTMX, "text/javascript; charset=utf-8") }))
        .route("/assets/app.css", get(|| async { asset(CSS, "text/css; charset=utf-8") }))
        .route("/assets/app.js", get(|| async { asset(JS, "text/javascript; charset=utf-8") }))
}

fn asset(body: &'static [u8], content_type: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        body,
    )
}

/// A short digest of every asset, appended to asset URLs as `?v=`.
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| format!("{:016x}", fnv1a(&[HTMX, CSS, JS])))
}

/// FNV-1a: not cryptographic, only needs to change when the bytes do.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.iter().flat_map(|p| p.iter()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_follows_content() {
        assert_ne!(super::fnv1a(&[b"a"]), super::fnv1a(&[b"b"]));
        assert_eq!(super::version().len(), 16);
    }
}
