//! `api-version`: read from the query string or the `Accept` header
//! (`application/json; api-version=7.1`), checked the way the service checks it.
//!
//! - missing: a GET is served at the resource's latest version (the service picks one and says
//!   which in `Content-Type`); any other method is refused (`VssVersionNotSpecifiedException`);
//! - not `{Major}.{Minor}[-preview[.{ResourceVersion}]]`: `VssInvalidApiVersionException`;
//! - above 7.2, the latest version Azure DevOps Services supports:
//!   `VssVersionOutOfRangeException`;
//! - a released version for a resource that is still in preview (comments, `connectionData`):
//!   `VssInvalidPreviewVersionException`.
//!
//! Older versions are served with the 7.1 shapes (the simulator has no others).

use super::reply::ApiError;
use axum::http::{HeaderMap, Method};

/// The latest REST API version the simulated service supports.
pub const LATEST: (u32, u32) = (7, 2);
/// The version whose shapes the simulator serves.
pub const SERVED: (u32, u32) = (7, 1);

/// Whether a resource is released, or in preview with this latest resource version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Released,
    Preview(u32),
}

#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    major: u32,
    minor: u32,
    preview: Option<Option<u32>>,
}

fn parse(text: &str) -> Option<Parsed> {
    let t = text.trim();
    let (number, stage) = match t.split_once('-') {
        Some((n, s)) => (n, Some(s)),
        None => (t, None),
    };
    let (major, minor) = number.split_once('.')?;
    let major: u32 = major.parse().ok()?;
    let minor: u32 = minor.parse().ok()?;
    let preview = match stage {
        None => None,
        Some(s) => {
            let rest = s.strip_prefix("preview")?;
            if rest.is_empty() {
                Some(None)
            } else {
                Some(Some(rest.strip_prefix('.')?.parse().ok()?))
            }
        }
    };
    Some(Parsed {
        major,
        minor,
        preview,
    })
}

/// The `api-version` a request asks for, if any: the query parameter wins over `Accept`.
pub fn requested(query: Option<&str>, headers: &HeaderMap) -> Option<String> {
    let from_query = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
            .map(|(_, v)| v.into_owned())
    });
    from_query.or_else(|| {
        let accept = headers.get("accept")?.to_str().ok()?;
        accept.split([';', ',']).find_map(|part| {
            let (k, v) = part.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("api-version")
                .then(|| v.trim().to_owned())
        })
    })
}

/// Checks the request's version for `resource`; the version served (for `Content-Type`).
pub fn check(
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    resource: Resource,
) -> Result<String, ApiError> {
    let served = |preview: Option<u32>| match preview {
        None => format!("{}.{}", SERVED.0, SERVED.1),
        Some(rv) => format!("{}.{}-preview.{rv}", SERVED.0, SERVED.1),
    };
    let Some(text) = requested(query, headers) else {
        if method == Method::GET {
            return Ok(match resource {
                Resource::Released => served(None),
                Resource::Preview(max) => served(Some(max)),
            });
        }
        return Err(ApiError::version_missing(method.as_str()));
    };
    let Some(p) = parse(&text) else {
        return Err(ApiError::version_invalid(&text));
    };
    let latest = format!("{}.{}", LATEST.0, LATEST.1);
    if (p.major, p.minor) > LATEST {
        return Err(ApiError::version_out_of_range(
            &format!("{}.{}", p.major, p.minor),
            &latest,
        ));
    }
    match (resource, p.preview) {
        (Resource::Released, _) => Ok(served(None)),
        (Resource::Preview(_), None) => Err(ApiError::version_preview_required(&format!(
            "{}.{}",
            p.major, p.minor
        ))),
        (Resource::Preview(max), Some(rv)) => {
            let rv = rv.unwrap_or(max);
            if rv == 0 || rv > max {
                return Err(ApiError::version_out_of_range(text.trim(), &latest));
            }
            Ok(served(Some(rv)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn q(v: &str) -> String {
        format!("api-version={v}")
    }

    #[test]
    fn versions_are_checked_as_the_service_does() {
        let h = HeaderMap::new();
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(
            check(&post, Some(&q("7.1")), &h, Resource::Released).unwrap(),
            "7.1"
        );
        assert_eq!(
            check(&get, None, &h, Resource::Released).unwrap(),
            "7.1",
            "a GET without a version is served"
        );
        assert_eq!(
            check(&post, None, &h, Resource::Released)
                .unwrap_err()
                .body()["typeKey"],
            "VssVersionNotSpecifiedException"
        );
        assert_eq!(
            check(&post, Some(&q("seven")), &h, Resource::Released)
                .unwrap_err()
                .body()["typeKey"],
            "VssInvalidApiVersionException"
        );
        let e = check(&post, Some(&q("99.0")), &h, Resource::Released)
            .unwrap_err()
            .body();
        assert_eq!(
            e["message"],
            "The requested REST API version of 99.0 is out of range for this server. The latest REST API version this server supports is 7.2."
        );
        let e = check(&post, Some(&q("7.1")), &h, Resource::Preview(4))
            .unwrap_err()
            .body();
        assert_eq!(e["typeKey"], "VssInvalidPreviewVersionException");
        assert_eq!(
            check(&post, Some(&q("7.1-preview.4")), &h, Resource::Preview(4)).unwrap(),
            "7.1-preview.4"
        );
        assert_eq!(
            check(&post, Some(&q("7.1-preview")), &h, Resource::Preview(4)).unwrap(),
            "7.1-preview.4"
        );
        assert!(check(&post, Some(&q("7.1-preview.5")), &h, Resource::Preview(4)).is_err());
        let mut accept = HeaderMap::new();
        accept.insert(
            "accept",
            HeaderValue::from_static("application/json; api-version=7.1"),
        );
        assert_eq!(
            check(&post, None, &accept, Resource::Released).unwrap(),
            "7.1"
        );
    }
}
