//! Requests and answers of the REST API as the simulator handles them: independent of axum, so
//! that the Batch API can serve its items through the same code as direct calls. Errors have
//! ServiceNow's one shape, `{"error":{"message":…,"detail":…},"status":"failure"}`.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One REST request.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// The query parameters, decoded, in order.
    pub fn params(&self) -> Vec<(String, String)> {
        self.query.as_deref().map(form_pairs).unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `application/x-www-form-urlencoded` pairs (query strings and token requests).
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// One REST answer.
#[derive(Clone, Debug)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    /// `None`: no body (204).
    pub body: Option<Value>,
}

impl ApiResponse {
    pub fn json(status: StatusCode, body: Value) -> ApiResponse {
        ApiResponse {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn empty(status: StatusCode) -> ApiResponse {
        ApiResponse {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> ApiResponse {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The body as sent.
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body
            .as_ref()
            .map(|b| b.to_string().into_bytes())
            .unwrap_or_default()
    }

    /// Every header the answer carries, as sent (content type and length included).
    pub fn all_headers(&self) -> Vec<(String, String)> {
        let mut h = self.headers.clone();
        if self.body.is_some() {
            h.push((
                "Content-Type".into(),
                "application/json;charset=UTF-8".into(),
            ));
            h.push(("Content-Length".into(), self.body_bytes().len().to_string()));
        }
        h
    }
}

impl IntoResponse for ApiResponse {
    fn into_response(self) -> Response {
        let bytes = self.body_bytes();
        let mut r = Response::new(Body::from(bytes));
        *r.status_mut() = self.status;
        if self.body.is_some() {
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
        }
        for (k, v) in &self.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                r.headers_mut().append(k, v);
            }
        }
        r
    }
}

/// A refused request, in ServiceNow's shape.
pub fn error(status: StatusCode, message: &str, detail: Option<&str>) -> ApiResponse {
    ApiResponse::json(
        status,
        json!({ "error": { "message": message, "detail": detail }, "status": "failure" }),
    )
}

/// No credentials, or credentials the instance does not accept (Basic or Bearer alike).
pub fn not_authenticated() -> ApiResponse {
    error(
        StatusCode::UNAUTHORIZED,
        "User Not Authenticated",
        Some("Required to provide Auth information"),
    )
    .with_header("WWW-Authenticate", "BASIC realm=\"Service-now\"")
}

/// A record that does not exist, or that the caller's ACLs hide: the instance does not say which.
pub fn no_record() -> ApiResponse {
    error(
        StatusCode::NOT_FOUND,
        "No Record found",
        Some("Record doesn't exist or ACL restricts the record retrieval"),
    )
}

pub fn invalid_table(name: &str) -> ApiResponse {
    error(
        StatusCode::BAD_REQUEST,
        &format!("Invalid table {name}"),
        None,
    )
}

/// A path no REST API serves.
pub fn no_resource() -> ApiResponse {
    error(
        StatusCode::BAD_REQUEST,
        "Requested URI does not represent any resource",
        None,
    )
}

/// An ACL refused the operation (`Insert`, `Update`, `Delete`).
pub fn acl(operation: &str) -> ApiResponse {
    error(
        StatusCode::FORBIDDEN,
        "Operation Failed",
        Some(&format!(
            "ACL Exception {operation} Failed due to security constraints"
        )),
    )
}

/// A body the instance cannot read.
pub fn unreadable(detail: &str) -> ApiResponse {
    error(
        StatusCode::BAD_REQUEST,
        "Exception while reading request",
        Some(detail),
    )
}

pub fn method_not_allowed() -> ApiResponse {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not Supported",
        Some("HTTP method not supported by this resource"),
    )
}
