//! Answers in Jira's shapes. Jira's REST layer reports problems as an `ErrorCollection`:
//! `{"errorMessages": [...], "errors": {field: message}}` — messages about the request as a
//! whole in the list, problems with one field under its id. Authentication failures are a bare
//! 401 with a challenge, and rate limits a bare 429 with headers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The message every "not found or not visible" issue answer carries.
pub const NO_ISSUE: &str = "Issue does not exist or you do not have permission to see it.";

/// A refused request.
#[derive(Debug)]
pub enum ApiError {
    /// An `ErrorCollection` with this status.
    Collection {
        status: StatusCode,
        messages: Vec<String>,
        errors: BTreeMap<String, String>,
    },
    /// 401: no or bad credentials. No body, a `WWW-Authenticate` challenge, and for refused
    /// Basic credentials Seraph's `X-Seraph-LoginReason`.
    Unauthorized {
        challenge: String,
        basic_failed: bool,
    },
    /// Any other answer, already built (rate limits, OAuth errors).
    Raw(Box<Response>),
}

impl ApiError {
    /// `{"errorMessages": [message], "errors": {}}`.
    pub fn message(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::Collection {
            status,
            messages: vec![message.into()],
            errors: BTreeMap::new(),
        }
    }

    /// `{"errorMessages": [], "errors": {fields…}}`, 400.
    pub fn fields(errors: BTreeMap<String, String>) -> ApiError {
        ApiError::Collection {
            status: StatusCode::BAD_REQUEST,
            messages: Vec::new(),
            errors,
        }
    }

    pub fn field(name: &str, message: impl Into<String>) -> ApiError {
        ApiError::fields([(name.to_owned(), message.into())].into())
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::message(StatusCode::BAD_REQUEST, message)
    }

    pub fn no_issue() -> ApiError {
        ApiError::message(StatusCode::NOT_FOUND, NO_ISSUE)
    }

    pub fn no_project(key: &str) -> ApiError {
        ApiError::message(
            StatusCode::NOT_FOUND,
            format!("No project could be found with key '{key}'."),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::message(StatusCode::FORBIDDEN, message)
    }

    /// The body of an `ErrorCollection`, for bulk answers that embed them.
    pub fn collection_body(messages: &[String], errors: &BTreeMap<String, String>) -> Value {
        let map: Map<String, Value> = errors
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({ "errorMessages": messages, "errors": map })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Collection {
                status,
                messages,
                errors,
            } => json_reply(status, ApiError::collection_body(&messages, &errors)),
            ApiError::Unauthorized {
                challenge,
                basic_failed,
            } => {
                let mut r = StatusCode::UNAUTHORIZED.into_response();
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                if basic_failed {
                    r.headers_mut().insert(
                        "x-seraph-loginreason",
                        HeaderValue::from_static("AUTHENTICATED_FAILED"),
                    );
                }
                r
            }
            ApiError::Raw(response) => *response,
        }
    }
}

/// A JSON answer.
pub fn json_reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

pub type ApiResult = Result<Response, ApiError>;
