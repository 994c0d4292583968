//! Endpoints from the host, URL and port fields of reports.

use domain::Endpoint;

/// An endpoint from its parts, or `None` when the host is empty or has spaces or control
/// characters (a report's "host" is sometimes a free-text label). The protocol is lower-cased;
/// port 0 means none.
pub(crate) fn endpoint_from_parts(
    protocol: Option<&str>,
    host: &str,
    port: Option<u16>,
) -> Option<Endpoint> {
    let host = host.trim();
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let protocol = protocol
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase);
    Some(Endpoint {
        protocol,
        host: host.to_owned(),
        port: port.filter(|p| *p != 0),
        path: None,
        query: None,
        fragment: None,
    })
}

/// An endpoint from a URL such as `https://shop.example.com/cart?id=1`; `None` when the
/// domain would not accept it.
pub(crate) fn endpoint_from_url(url: &str) -> Option<Endpoint> {
    Endpoint::parse(url).ok()
}

/// Appends `endpoint` unless an equal one is already there.
pub(crate) fn push_endpoint(endpoints: &mut Vec<Endpoint>, endpoint: Option<Endpoint>) {
    if let Some(e) = endpoint
        && !endpoints.contains(&e)
    {
        endpoints.push(e);
    }
}
