//! `/api/v1`: the REST API. One module per resource; every handler is registered with
//! `utoipa_axum::routes!`, so the OpenAPI document is generated from the same code that routes.
//!
//! Conventions:
//! - Lists take `limit` (default 50, at most 1000) and `offset`, and answer
//!   `{count, next, previous, results}`.
//! - A resource the caller may not see answers 404, exactly like one that does not exist;
//!   one they may see but not change answers 403.
//! - A body that refers to another object (`"product": 7`) the caller cannot see is a 422
//!   naming that field.

pub mod connectors;
pub mod engagements;
pub mod findings;
pub mod groups;
pub mod imports;
pub mod integrations;
pub mod jobs;
pub mod members;
pub mod product_types;
pub mod products;
pub mod push;
pub mod tests;
pub mod tickets;
pub mod tokens;
pub mod users;

use crate::error::{ApiError, ApiResult};
use axum::extract::{FromRequestParts, Path};
use axum::http::Uri;
use axum::http::request::Parts;
use domain::{Action, Actor, Product, ProductId, Role};
use serde::de::DeserializeOwned;
use store::{AsConn, PageRequest};

/// A path parameter; a malformed one (`/products/abc`) is a 400 naming the parameter.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|r| ApiError::bad_request(format!("bad path parameter: {}", r.body_text())))
    }
}

/// `{count, next, previous, results}` for each listed type (concrete types keep the OpenAPI
/// document simple for client generators).
macro_rules! page_type {
    ($name:ident, $item:ty) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// Items matching the filters, across all pages.
            pub count: i64,
            /// The URL of the next page, if any.
            pub next: Option<String>,
            /// The URL of the previous page, if any.
            pub previous: Option<String>,
            pub results: Vec<$item>,
        }

        impl $name {
            pub fn new(uri: &axum::http::Uri, req: store::PageRequest, page: store::Page<$item>) -> Self {
                let (next, previous) = crate::api::page_links(uri, req, page.count);
                $name { count: page.count, next, previous, results: page.results }
            }
        }
    };
}
pub(crate) use page_type;

/// Links to the neighbouring pages, keeping every other query parameter.
pub fn page_links(uri: &Uri, req: PageRequest, count: i64) -> (Option<String>, Option<String>) {
    let with = |offset: i64| {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(k, _)| k != "offset" && k != "limit")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.push(("limit".into(), req.limit.to_string()));
        pairs.push(("offset".into(), offset.to_string()));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{}?{query}", uri.path())
    };
    let next = (req.offset + req.limit < count).then(|| with(req.offset + req.limit));
    let previous = (req.offset > 0).then(|| with((req.offset - req.limit).max(0)));
    (next, previous)
}

/// A fetched object if the actor may see its product. Not found and not visible look the
/// same: a 404, or a 422 naming `field` when the id came from the request body.
pub fn visible_or_hidden<T>(
    fetched: store::Result<T>,
    product_of: impl Fn(&T) -> ProductId,
    actor: &Actor,
    entity: &str,
    id: impl std::fmt::Display,
    field: Option<&str>,
) -> ApiResult<T> {
    let hidden = || match field {
        Some(f) => ApiError::invalid(f, format!("{entity} {id} not found")),
        None => ApiError::not_found(format!("{entity} {id} not found")),
    };
    match fetched {
        Ok(v) if actor.can_see(product_of(&v)) => Ok(v),
        Ok(_) => Err(hidden()),
        Err(e) if e.is_not_found() => Err(hidden()),
        Err(e) => Err(e.into()),
    }
}

/// The product, if the actor may see it (see [`visible_or_hidden`]).
pub async fn visible_product(
    c: &mut impl AsConn,
    actor: &Actor,
    id: ProductId,
    field: Option<&str>,
) -> ApiResult<Product> {
    // Don't even query a product the actor cannot see.
    let fetched = if actor.can_see(id) {
        store::products::get(c, id).await
    } else {
        Err(store::StoreError::not_found("product", id))
    };
    visible_or_hidden(fetched, |p| p.id, actor, "product", id, field)
}

/// 403 unless the actor may do `action` on `product`; the message says which role is needed.
pub fn require(actor: &Actor, action: Action, product: ProductId, doing: &str) -> ApiResult<()> {
    if actor.can(action, product) {
        return Ok(());
    }
    let role = match action {
        Action::View => Role::Reader,
        Action::Write => Role::Writer,
        Action::Manage => Role::Maintainer,
        Action::Administer => Role::Admin,
    };
    Err(ApiError::forbidden(format!(
        "{doing} needs the {} role on product {product}",
        role.as_str()
    )))
}

/// 403 unless the actor's global role allows `action` (things that belong to no product).
pub fn require_global(actor: &Actor, action: Action, doing: &str) -> ApiResult<()> {
    if actor.can_globally(action) {
        return Ok(());
    }
    let role = match action {
        Action::View => "reader",
        Action::Write => "writer",
        Action::Manage => "maintainer",
        Action::Administer => "admin",
    };
    Err(ApiError::forbidden(format!("{doing} needs the global {role} role")))
}

/// Parses a comma-separated list parameter (`severity=high,critical`).
pub fn parse_list<T, E: std::fmt::Display>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> ApiResult<Vec<T>> {
    raw.map(|r| {
        r.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| parse(s).map_err(|e| ApiError::invalid(field, format!("{field}: {e}"))))
            .collect()
    })
    .unwrap_or_else(|| Ok(Vec::new()))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn links_keep_filters_and_move_the_window() {
        let uri: Uri = "/api/v1/findings?severity=high&limit=10&offset=10".parse().unwrap();
        let (next, prev) = page_links(&uri, PageRequest::new(Some(10), Some(10)), 35);
        assert_eq!(next.as_deref(), Some("/api/v1/findings?severity=high&limit=10&offset=20"));
        assert_eq!(prev.as_deref(), Some("/api/v1/findings?severity=high&limit=10&offset=0"));
        let (next, prev) = page_links(&uri, PageRequest::new(Some(10), Some(30)), 35);
        assert_eq!(next, None);
        assert!(prev.is_some());
        let (next, prev) = page_links(&uri, PageRequest::new(Some(10), None), 5);
        assert_eq!((next, prev), (None, None));
    }
}
