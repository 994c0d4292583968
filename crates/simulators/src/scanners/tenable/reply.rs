//! Tenable's answers: errors as `{"statusCode":…,"error":…,"message":…}` (the Vulnerability
//! Management OpenAPI's `ErrorResponse`), and 429 as the nginx HTML page with `retry-after`,
//! as the rate and concurrency limiting documentation shows.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TenableError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds to wait (429 only).
    pub retry_after: Option<u64>,
}

impl TenableError {
    fn new(status: StatusCode, message: impl Into<String>) -> TenableError {
        TenableError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn unauthorized() -> TenableError {
        TenableError::new(StatusCode::UNAUTHORIZED, "Invalid credentials.")
    }

    pub fn forbidden(message: impl Into<String>) -> TenableError {
        TenableError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn bad_request(message: impl Into<String>) -> TenableError {
        TenableError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> TenableError {
        TenableError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn too_many(retry_after: u64) -> TenableError {
        TenableError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: String::new(),
            retry_after: Some(retry_after),
        }
    }
}

const TOO_MANY: &str = "<html>\n\n<head>\n    <title>429 Too Many Requests</title>\n</head>\n\n<body bgcolor=\"white\">\n    <center>\n        <h1>429 Too Many Requests</h1>\n    </center>\n    <hr>\n    <center>nginx</center>\n</body>\n\n</html>";

impl IntoResponse for TenableError {
    fn into_response(self) -> Response {
        if let Some(after) = self.retry_after {
            let mut r = (self.status, TOO_MANY).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            if let Ok(v) = HeaderValue::from_str(&after.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        let reason = self.status.canonical_reason().unwrap_or("Error");
        (self.status, Json(json!({ "statusCode": self.status.as_u16(), "error": reason, "message": self.message }))).into_response()
    }
}
