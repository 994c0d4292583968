//! Errors on UI pages: an HTML page with the status, a title and what to do, instead of the
//! API's JSON problem. Causes of internal errors are logged (by `ApiError::internal`), never shown.

use crate::error::ApiError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug)]
pub struct UiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    detail: &'a str,
    assets: &'static str,
}

impl UiError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        UiError { status, title, detail: detail.into() }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        UiError { status: e.status, title: e.title, detail: e.detail }
    }
}

impl From<store::StoreError> for UiError {
    fn from(e: store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<askama::Error> for UiError {
    fn from(e: askama::Error) -> Self {
        ApiError::internal(format!("rendering a template: {e}")).into()
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.status.as_u16(),
            title: self.title,
            detail: &self.detail,
            assets: super::assets::version(),
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            // The error page has no dynamic parts that can fail; if it ever does, plain text.
            Err(_) => (self.status, format!("{}: {}", self.title, self.detail)).into_response(),
        }
    }
}

pub type UiResult<T> = Result<T, UiError>;

/// Renders a page template.
pub fn render(t: &impl Template) -> UiResult<Html<String>> {
    Ok(Html(t.render()?))
}
