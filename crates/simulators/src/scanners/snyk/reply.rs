//! Snyk's REST answers: JSON:API documents (`application/vnd.api+json`) with the versioning
//! headers, and JSON:API error documents for refusals.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const CONTENT_TYPE: &str = "application/vnd.api+json";

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
    pub parameter: Option<String>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            title,
            detail: detail.into(),
            parameter: None,
            retry_after: None,
        }
    }

    /// A query parameter the API refuses (`source.parameter` names it).
    pub fn bad_parameter(parameter: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            parameter: Some(parameter.to_owned()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "Bad request", detail)
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Authentication credentials not recognized, or user access is not provisioned.",
        )
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "Not Found", detail)
    }

    pub fn too_many(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                "The service has received too many requests and will be throttled.",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "id": super::state::uuid_of(&format!("error/{}", self.detail)),
            "status": self.status.as_u16().to_string(),
            "title": self.title,
            "detail": self.detail,
        });
        if let (Some(p), Some(obj)) = (&self.parameter, error.as_object_mut()) {
            obj.insert("source".into(), json!({ "parameter": p }));
        }
        let mut r = (
            self.status,
            Json(json!({ "jsonapi": { "version": "1.0" }, "errors": [error] })),
        )
            .into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        r
    }
}

/// A JSON:API document, with the version Snyk resolved the request to.
pub fn document(body: Value, requested: &str, served: &str) -> Response {
    let mut r = Json(body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    for (name, value) in [
        ("snyk-version-requested", requested),
        ("snyk-version-served", served),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
    r
}
