//! Small lookups several pages share: an id from the path, and the names of the products a user
//! may see.

use super::error::{UiError, UiResult};
use domain::{ProductId, Visibility};
use std::collections::HashMap;
use store::{AsConn, PageRequest, products};

/// A positive id from the path (`/findings/{id}`); anything else is a 400 saying what was
/// expected, never a panic.
pub fn path_id(raw: &str, what: &str) -> UiResult<i64> {
    raw.trim().parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| UiError::bad_request(format!("'{raw}' is not a {what} id")))
}

/// The first thousand products the user may see, by name order (filters, columns). Pages that
/// meet a product beyond them fall back to its id.
pub async fn visible_products(c: &mut impl AsConn, vis: &Visibility) -> store::Result<Vec<(ProductId, String)>> {
    let page = products::list(c, &products::Filter::default(), vis, PageRequest::new(Some(PageRequest::MAX_LIMIT), None)).await?;
    Ok(page.results.into_iter().map(|p| (p.id, p.name)).collect())
}

/// [`visible_products`] by id.
pub async fn product_names(c: &mut impl AsConn, vis: &Visibility) -> store::Result<HashMap<ProductId, String>> {
    Ok(visible_products(c, vis).await?.into_iter().collect())
}

/// A product's name from `names`, or its id when it is not among them.
pub fn product_name(names: &HashMap<ProductId, String>, id: ProductId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("product {}", id.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_numbers() {
        assert_eq!(path_id("42", "finding").unwrap(), 42);
        for bad in ["0", "-1", "abc", "", "1.5"] {
            let e = path_id(bad, "finding").unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.detail.ends_with("is not a finding id"), "{}", e.detail);
        }
    }
}
