//! Security Hub's answers. Errors come in the two shapes AWS uses for a REST-JSON service:
//! the request layer's (authentication, throttling) with a lowercase `message`, and the
//! service's modeled exceptions (`InvalidInputException`, `InvalidAccessException`…, from
//! botocore's `service-2.json`) with `Message` and `Code`. Both name the error in the
//! `x-amzn-ErrorType` header, and every answer carries an `x-amzn-RequestId`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The suffix AWS's request layer appends to its error types.
const CORAL: &str = ":http://internal.amazon.com/coral/com.amazon.coral.service/";

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AwsError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    /// A modeled Security Hub exception (else a request-layer error).
    pub modeled: bool,
}

impl AwsError {
    fn layer(status: StatusCode, kind: &'static str, message: impl Into<String>) -> AwsError {
        AwsError {
            status,
            kind,
            message: message.into(),
            modeled: false,
        }
    }

    fn modeled(status: StatusCode, kind: &'static str, message: impl Into<String>) -> AwsError {
        AwsError {
            status,
            kind,
            message: message.into(),
            modeled: true,
        }
    }

    pub fn missing_token() -> AwsError {
        AwsError::layer(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
    }

    pub fn incomplete_signature(message: impl Into<String>) -> AwsError {
        AwsError::layer(
            StatusCode::FORBIDDEN,
            "IncompleteSignatureException",
            message,
        )
    }

    pub fn unrecognized_client() -> AwsError {
        AwsError::layer(
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    }

    pub fn invalid_signature(message: impl Into<String>) -> AwsError {
        AwsError::layer(StatusCode::FORBIDDEN, "InvalidSignatureException", message)
    }

    pub fn signature_mismatch() -> AwsError {
        AwsError::invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
    }

    pub fn throttled() -> AwsError {
        AwsError::layer(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            "Too Many Requests",
        )
    }

    pub fn unknown_operation() -> AwsError {
        AwsError::layer(StatusCode::NOT_FOUND, "UnknownOperationException", "")
    }

    pub fn access_denied(message: impl Into<String>) -> AwsError {
        AwsError::modeled(StatusCode::FORBIDDEN, "AccessDeniedException", message)
    }

    pub fn invalid_access(message: impl Into<String>) -> AwsError {
        AwsError::modeled(StatusCode::UNAUTHORIZED, "InvalidAccessException", message)
    }

    pub fn invalid_input(message: impl Into<String>) -> AwsError {
        AwsError::modeled(StatusCode::BAD_REQUEST, "InvalidInputException", message)
    }

    pub fn not_found(message: impl Into<String>) -> AwsError {
        AwsError::modeled(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
    }

    /// A constraint of the API model, worded as AWS's validation layer words it.
    pub fn validation(field: &str, value: impl std::fmt::Display, constraint: &str) -> AwsError {
        AwsError::invalid_input(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let (body, kind) = if self.modeled {
            (
                json!({ "Message": self.message, "Code": self.kind }),
                self.kind.to_owned(),
            )
        } else {
            (
                json!({ "message": self.message }),
                format!("{}{CORAL}", self.kind),
            )
        };
        let mut r = (self.status, Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&kind) {
            r.headers_mut().insert("x-amzn-ErrorType", v);
        }
        with_request_id(r)
    }
}

/// A successful JSON answer.
pub(crate) fn ok(body: Value) -> Response {
    with_request_id((StatusCode::OK, Json(body)).into_response())
}

/// A successful answer whose JSON text was assembled by hand (pages of stored findings).
pub(crate) fn ok_text(body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    with_request_id(r)
}

fn with_request_id(mut r: Response) -> Response {
    let id = format!("{:032x}", rand::random::<u128>());
    let id = format!(
        "{}-{}-{}-{}-{}",
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..]
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        r.headers_mut().insert("x-amzn-RequestId", v);
    }
    r
}
