//! Answers in GitLab's shapes. GitLab has several error shapes, each from a different layer,
//! and clients see all of them:
//! - `{"message": "404 Project Not Found"}`: the API's own helpers (`not_found!`, `forbidden!`…);
//! - `{"message": {"title": ["is too long (maximum is 255 characters)"]}}`: model validation
//!   (`render_validation_error!`);
//! - `{"error": "title is missing"}`: Grape's parameter validation;
//! - `{"error": "invalid_token", "error_description": …}`: the OAuth2 bearer layer (expired,
//!   revoked tokens, insufficient scope);
//! - `Retry later\n` as text: Rack::Attack throttling.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A refused request.
#[derive(Debug)]
pub enum ApiError {
    /// `{"message": "<text>"}`.
    Message(StatusCode, String),
    /// `{"message": {"<field>": ["<problem>", …]}}`.
    Validation(StatusCode, Vec<(String, Vec<String>)>),
    /// `{"error": "<text>"}`: Grape's parameter errors, unknown routes.
    Error(StatusCode, String),
    /// 401 from the OAuth2 layer, with a `WWW-Authenticate` challenge.
    InvalidToken(&'static str),
    /// 403 `insufficient_scope`, naming the scopes the endpoint accepts.
    InsufficientScope(Vec<&'static str>),
    /// Any other answer, already built (rate limits).
    Raw(Box<Response>),
}

pub const EXPIRED: &str = "Token is expired. You can either do re-authorization or token refresh.";
pub const REVOKED: &str = "Token was revoked. You have to re-authorize from the user.";
const INSUFFICIENT_SCOPE: &str =
    "The request requires higher privileges than provided by the access token.";
/// Grape's message when a JSON body does not parse.
pub const INVALID_BODY: &str = "\nProblem:\n  message body does not match declared format\nResolution:\n  when specifying application/json as content-type, you must pass valid application/json in the request's 'body' ";

impl ApiError {
    pub fn unauthorized() -> ApiError {
        ApiError::Message(StatusCode::UNAUTHORIZED, "401 Unauthorized".into())
    }

    pub fn forbidden() -> ApiError {
        ApiError::Message(StatusCode::FORBIDDEN, "403 Forbidden".into())
    }

    /// `not_found!('Project')` → `404 Project Not Found`.
    pub fn not_found(resource: &str) -> ApiError {
        ApiError::Message(StatusCode::NOT_FOUND, format!("404 {resource} Not Found"))
    }

    /// What `ActiveRecord::RecordNotFound` becomes in the API (`find_by!`, `find`).
    pub fn record_not_found() -> ApiError {
        ApiError::Message(StatusCode::NOT_FOUND, "404 Not found".into())
    }

    /// `bad_request!(reason)`.
    pub fn bad_request(reason: &str) -> ApiError {
        ApiError::Message(
            StatusCode::BAD_REQUEST,
            format!("400 Bad request - {reason}"),
        )
    }

    /// One Grape parameter problem (`title is missing`), 400.
    pub fn param(text: impl Into<String>) -> ApiError {
        ApiError::Error(StatusCode::BAD_REQUEST, text.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Message(status, text) => json_reply(status, json!({ "message": text })),
            ApiError::Validation(status, fields) => {
                let map: serde_json::Map<String, Value> = fields
                    .into_iter()
                    .map(|(f, problems)| (f, json!(problems)))
                    .collect();
                json_reply(status, json!({ "message": map }))
            }
            ApiError::Error(status, text) => json_reply(status, json!({ "error": text })),
            ApiError::InvalidToken(description) => {
                let mut r = json_reply(
                    StatusCode::UNAUTHORIZED,
                    json!({ "error": "invalid_token", "error_description": description }),
                );
                // GitLab builds this error outside the OAuth2 middleware (whose realm is
                // "The API"), so rack-oauth2 fills in its default realm.
                let challenge = format!(
                    "Bearer realm=\"Protected by OAuth 2.0\", error=\"invalid_token\", error_description=\"{description}\""
                );
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                r
            }
            // GitLab's own comment: the Forbidden answer of rack-oauth2 carries no
            // WWW-Authenticate header, so none here either.
            ApiError::InsufficientScope(scopes) => json_reply(
                StatusCode::FORBIDDEN,
                json!({
                    "error": "insufficient_scope",
                    "error_description": INSUFFICIENT_SCOPE,
                    "scope": scopes.join(" "),
                }),
            ),
            ApiError::Raw(response) => *response,
        }
    }
}

/// A JSON answer.
pub fn json_reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Sets a header on a response, skipping values that are not valid header text.
pub fn set_header(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), v);
    }
}

pub type ApiResult = Result<Response, ApiError>;
