//! SonarQube's answers to refused requests: `{"errors":[{"msg":"…"}]}` from the web service
//! engine (400 for an `IllegalArgumentException`, 403, 404, 503), and an empty 401 from the
//! authentication filter for every `/api/` URL.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    /// 401 with no body (`UserSessionInitializer` only sets the status for web services).
    Unauthenticated,
    Error {
        status: StatusCode,
        msg: String,
        retry_after: Option<u64>,
    },
}

impl ApiError {
    pub fn bad_request(msg: impl Into<String>) -> ApiError {
        ApiError::Error {
            status: StatusCode::BAD_REQUEST,
            msg: msg.into(),
            retry_after: None,
        }
    }

    pub fn forbidden() -> ApiError {
        ApiError::Error {
            status: StatusCode::FORBIDDEN,
            msg: "Insufficient privileges".into(),
            retry_after: None,
        }
    }

    pub fn not_found(msg: impl Into<String>) -> ApiError {
        ApiError::Error {
            status: StatusCode::NOT_FOUND,
            msg: msg.into(),
            retry_after: None,
        }
    }

    pub fn indexing() -> ApiError {
        ApiError::Error {
            status: StatusCode::SERVICE_UNAVAILABLE,
            msg: "Results are temporarily unavailable. Indexing of issues is in progress.".into(),
            retry_after: None,
        }
    }

    /// SonarQube Cloud's throttling (Server has none).
    pub fn too_many(retry_after: u64) -> ApiError {
        ApiError::Error {
            status: StatusCode::TOO_MANY_REQUESTS,
            msg: "You've sent too many requests. Please try again later.".into(),
            retry_after: Some(retry_after),
        }
    }

    /// `The 'x' parameter is missing`.
    pub fn missing(param: &str) -> ApiError {
        ApiError::bad_request(format!("The '{param}' parameter is missing"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED.into_response(),
            ApiError::Error {
                status,
                msg,
                retry_after,
            } => {
                let mut r = (status, Json(json!({ "errors": [{ "msg": msg }] }))).into_response();
                if let Some(secs) = retry_after {
                    r.headers_mut()
                        .insert("retry-after", HeaderValue::from(secs));
                }
                r
            }
        }
    }
}
