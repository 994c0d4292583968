//! AWS Signature Version 4, checked the way AWS checks it: the `Authorization` header's parts,
//! the access key, the clock skew (5 minutes), the credential scope (date, Region, service),
//! then the signature over the canonical request. The signing side is the connector's own
//! code; this is a separate implementation, so a bug shared by both cannot hide.
//!
//! The canonical request (AWS's "Create a canonical request" for services other than S3): the
//! method; the path as received, URI-encoded once more (non-S3 paths are encoded twice); the
//! query pairs decoded, re-encoded (RFC 3986 unreserved characters kept) and sorted; the signed
//! headers, lowercase, values trimmed with inner spaces collapsed, repeated values joined by
//! commas; the signed header names; the hex SHA-256 of the body.

use super::reply::AwsError;
use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const AMZ_DATE: &str = "%Y%m%dT%H%M%SZ";
/// How far a request's time may be from the service's clock.
const SKEW: TimeDelta = TimeDelta::minutes(5);

/// A request as the service received it.
pub(crate) struct Received<'a> {
    pub method: &'a str,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Where the service expects signatures to be scoped.
pub(crate) struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
}

/// Checks the request's signature; returns the access key id that signed it.
pub(crate) fn verify(
    req: &Received<'_>,
    scope: &Scope<'_>,
    secret_of: impl Fn(&str) -> Option<String>,
    now: DateTime<Utc>,
) -> Result<String, AwsError> {
    let Some(header) = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    else {
        return Err(AwsError::missing_token());
    };
    let parts = Authorization::parse(header, req.headers)?;
    let Some(secret) = secret_of(&parts.key) else {
        return Err(AwsError::unrecognized_client());
    };
    let signed_at = NaiveDateTime::parse_from_str(&parts.amz_date, AMZ_DATE)
        .map(|d| d.and_utc())
        .map_err(|_| {
            AwsError::incomplete_signature(format!(
                "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                parts.amz_date
            ))
        })?;
    let fmt = |d: DateTime<Utc>| d.format(AMZ_DATE).to_string();
    if signed_at < now - SKEW {
        return Err(AwsError::invalid_signature(format!(
            "Signature expired: {} is now earlier than {} ({} - 5 min.)",
            parts.amz_date,
            fmt(now - SKEW),
            fmt(now)
        )));
    }
    if signed_at > now + SKEW {
        return Err(AwsError::invalid_signature(format!(
            "Signature not yet current: {} is still later than {} ({} + 5 min.)",
            parts.amz_date,
            fmt(now + SKEW),
            fmt(now)
        )));
    }
    let day = &parts.amz_date[..8];
    if parts.date != day {
        return Err(AwsError::invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{day}', from '{}'.",
            parts.date, parts.amz_date
        )));
    }
    if parts.region != scope.region {
        return Err(AwsError::invalid_signature(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            parts.region
        )));
    }
    if parts.service != scope.service {
        return Err(AwsError::invalid_signature(format!(
            "Credential should be scoped to correct service: '{}'. ",
            scope.service
        )));
    }
    if !parts.signed.iter().any(|h| h == "host") {
        return Err(AwsError::invalid_signature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let signed: Vec<&str> = parts.signed.iter().map(String::as_str).collect();
    let canonical = canonical_request(
        req.method,
        &uri_encode(req.path, false),
        &canonical_query(req.query),
        &canonical_headers(req.headers, &signed),
        &signed.join(";"),
        &hex::encode(Sha256::digest(req.body)),
    );
    let credential_scope = format!(
        "{}/{}/{}/aws4_request",
        parts.date, parts.region, parts.service
    );
    let sts = string_to_sign(&parts.amz_date, &credential_scope, &canonical);
    let expected = signature(&secret, &parts.date, &parts.region, &parts.service, &sts);
    if !constant_time_eq(expected.as_bytes(), parts.signature.as_bytes()) {
        return Err(AwsError::signature_mismatch());
    }
    Ok(parts.key)
}

/// Signs a request the way an AWS SDK does (for this simulator's tests and hand-made calls):
/// the headers to add (`host`, `x-amz-date`, `authorization`) to `extra` headers already on
/// the request, all of which are signed.
#[allow(clippy::too_many_arguments)]
pub fn sign_request(
    access_key_id: &str,
    secret: &str,
    region: &str,
    method: &str,
    url: &url::Url,
    extra: &[(&str, &str)],
    body: &[u8],
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let amz_date = now.format(AMZ_DATE).to_string();
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_owned(),
    };
    let mut headers = HeaderMap::new();
    let mut names: Vec<String> = vec!["host".into(), "x-amz-date".into()];
    for (k, v) in [("host", host.as_str()), ("x-amz-date", amz_date.as_str())]
        .into_iter()
        .chain(extra.iter().copied())
    {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()),
            axum::http::HeaderValue::from_str(v),
        ) {
            headers.append(name, value);
        }
        if !names.contains(&k.to_ascii_lowercase()) {
            names.push(k.to_ascii_lowercase());
        }
    }
    names.sort();
    let signed: Vec<&str> = names.iter().map(String::as_str).collect();
    let canonical = canonical_request(
        method,
        &uri_encode(url.path(), false),
        &canonical_query(url.query()),
        &canonical_headers(&headers, &signed),
        &signed.join(";"),
        &hex::encode(Sha256::digest(body)),
    );
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/securityhub/aws4_request");
    let sts = string_to_sign(&amz_date, &scope, &canonical);
    let sig = signature(secret, date, region, "securityhub", &sts);
    vec![
        ("host".into(), host),
        ("x-amz-date".into(), amz_date),
        (
            "authorization".into(),
            format!(
                "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={sig}",
                signed.join(";")
            ),
        ),
    ]
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct Authorization {
    key: String,
    date: String,
    region: String,
    service: String,
    signed: Vec<String>,
    signature: String,
    amz_date: String,
}

impl Authorization {
    fn parse(header: &str, headers: &HeaderMap) -> Result<Authorization, AwsError> {
        let rest = header.strip_prefix(ALGORITHM).map(str::trim_start);
        let mut credential = None;
        let mut signed = None;
        let mut signature = None;
        for pair in rest
            .unwrap_or(header)
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(AwsError::incomplete_signature(format!(
                    "'{pair}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
                )));
            };
            match k {
                "Credential" => credential = Some(v.to_owned()),
                "SignedHeaders" => signed = Some(v.to_owned()),
                "Signature" => signature = Some(v.to_owned()),
                _ => {}
            }
        }
        let amz_date = headers
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut missing = Vec::new();
        if credential.is_none() {
            missing.push("Authorization header requires 'Credential' parameter.");
        }
        if signature.is_none() {
            missing.push("Authorization header requires 'Signature' parameter.");
        }
        if signed.is_none() {
            missing.push("Authorization header requires 'SignedHeaders' parameter.");
        }
        if amz_date.is_none() {
            missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
        }
        if rest.is_none() && missing.is_empty() {
            missing.push("Unsupported AWS 'algorithm'.");
        }
        let (Some(credential), Some(signed), Some(signature), Some(amz_date), true) =
            (credential, signed, signature, amz_date, missing.is_empty())
        else {
            return Err(AwsError::incomplete_signature(format!(
                "{} Authorization={header}",
                missing.join(" ")
            )));
        };
        let scope: Vec<&str> = credential.split('/').collect();
        let [key, date, region, service, terminator] = scope.as_slice() else {
            return Err(AwsError::incomplete_signature(format!(
                "Credential should be scoped to a valid region, not ''. Credential={credential}"
            )));
        };
        if *terminator != "aws4_request" {
            return Err(AwsError::invalid_signature(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
            )));
        }
        Ok(Authorization {
            key: (*key).to_owned(),
            date: (*date).to_owned(),
            region: (*region).to_owned(),
            service: (*service).to_owned(),
            signed: signed
                .split(';')
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            signature: signature.trim().to_owned(),
            amz_date,
        })
    }
}

/// RFC 3986 percent-encoding with AWS's unreserved set (`A-Z a-z 0-9 - _ . ~`); `/` is kept in
/// paths and encoded elsewhere.
pub(crate) fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

/// The query's pairs decoded, re-encoded and sorted by name, then value.
pub(crate) fn canonical_query(raw: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), true),
                uri_encode_value(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// An empty value stays empty (`uri_encode` turns an empty path into `/`).
fn uri_encode_value(v: &str) -> String {
    if v.is_empty() {
        String::new()
    } else {
        uri_encode(v, true)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |j: usize| bytes.get(j).and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `name:value\n` for each signed header, in the order given (sorted by the signer).
pub(crate) fn canonical_headers(headers: &HeaderMap, signed: &[&str]) -> String {
    let mut out = String::new();
    for name in signed {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        out.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    out
}

pub(crate) fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &str,
    signed: &str,
    payload_hash: &str,
) -> String {
    format!("{method}\n{path}\n{query}\n{headers}\n{signed}\n{payload_hash}")
}

pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

pub(crate) fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    sts: &str,
) -> String {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex::encode(hmac(&k_signing, sts.as_bytes()))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    //! AWS's published Signature Version 4 test suite (`aws4_testsuite`, as botocore ships it):
    //! key `AKIDEXAMPLE`, Region `us-east-1`, service `service`, 20150830T123600Z.
    use super::*;
    use axum::http::{HeaderName, HeaderValue};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    /// Signs with the suite's inputs; `path` is the decoded path the suite's request shows.
    fn sign(
        method: &str,
        path: &str,
        query: Option<&str>,
        h: &HeaderMap,
        signed: &[&str],
        body: &[u8],
    ) -> (String, String) {
        let canonical = canonical_request(
            method,
            &uri_encode(path, false),
            &canonical_query(query),
            &canonical_headers(h, signed),
            &signed.join(";"),
            &hex::encode(Sha256::digest(body)),
        );
        let sts = string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/service/aws4_request",
            &canonical,
        );
        (
            canonical,
            signature(SECRET, "20150830", "us-east-1", "service", &sts),
        )
    }

    #[test]
    fn the_published_test_suite() {
        let base = [
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ];
        let vanilla = headers(&base);
        let hs = ["host", "x-amz-date"];
        let (creq, sig) = sign("GET", "/", None, &vanilla, &hs, b"");
        assert_eq!(
            creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            "get-vanilla"
        );
        assert_eq!(
            sign("POST", "/", None, &vanilla, &hs, b"").1,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            "post-vanilla"
        );
        assert_eq!(
            sign(
                "GET",
                "/",
                Some("Param2=value2&Param1=value1"),
                &vanilla,
                &hs,
                b""
            )
            .1,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            "get-vanilla-query-order-key-case"
        );
        assert_eq!(
            sign(
                "GET",
                "/",
                Some("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
                &vanilla,
                &hs,
                b""
            )
            .1,
            "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
            "get-vanilla-query-order-encoded"
        );
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        assert_eq!(
            sign("GET", &format!("/{unreserved}"), None, &vanilla, &hs, b"").1,
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
            "get-unreserved"
        );
        assert_eq!(
            sign(
                "GET",
                "/",
                Some(&format!("{unreserved}={unreserved}")),
                &vanilla,
                &hs,
                b""
            )
            .1,
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
            "get-vanilla-query-unreserved"
        );
        assert_eq!(
            sign("GET", "/\u{1234}", None, &vanilla, &hs, b"").1,
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            "get-utf8"
        );
        assert_eq!(
            sign("GET", "/", Some("\u{1234}=bar"), &vanilla, &hs, b"").1,
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            "get-vanilla-utf8-query"
        );
        let sorted = headers(&[
            ("host", "example.amazonaws.com"),
            ("my-header1", "value1"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        assert_eq!(
            sign(
                "POST",
                "/",
                None,
                &sorted,
                &["host", "my-header1", "x-amz-date"],
                b""
            )
            .1,
            "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            "post-header-key-sort"
        );
        let form = headers(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        assert_eq!(
            sign(
                "POST",
                "/",
                None,
                &form,
                &["content-type", "host", "x-amz-date"],
                b"Param1=value1"
            )
            .1,
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            "post-x-www-form-urlencoded"
        );
    }

    fn authorized(key: &str, sig: &str, date: &str) -> HeaderMap {
        headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", date),
            (
                "authorization",
                &format!(
                    "AWS4-HMAC-SHA256 Credential={key}/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={sig}"
                ),
            ),
        ])
    }

    #[test]
    fn verification_refuses_what_aws_refuses() {
        let at = NaiveDateTime::parse_from_str("20150830T123600Z", AMZ_DATE)
            .unwrap()
            .and_utc();
        let scope = Scope {
            region: "us-east-1",
            service: "service",
        };
        let secret_of = |k: &str| (k == "AKIDEXAMPLE").then(|| SECRET.to_owned());
        let good = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let check = |h: &HeaderMap, now| {
            verify(
                &Received {
                    method: "GET",
                    path: "/",
                    query: None,
                    headers: h,
                    body: b"",
                },
                &scope,
                secret_of,
                now,
            )
        };
        assert_eq!(
            check(&authorized("AKIDEXAMPLE", good, "20150830T123600Z"), at),
            Ok("AKIDEXAMPLE".to_owned())
        );
        let e = check(&authorized("AKIDOTHER", good, "20150830T123600Z"), at).unwrap_err();
        assert_eq!(e.kind, "UnrecognizedClientException");
        let e = check(
            &authorized("AKIDEXAMPLE", &good.replace('5', "6"), "20150830T123600Z"),
            at,
        )
        .unwrap_err();
        assert_eq!(e.kind, "InvalidSignatureException");
        assert!(
            e.message
                .starts_with("The request signature we calculated does not match")
        );
        let e = check(
            &authorized("AKIDEXAMPLE", good, "20150830T123600Z"),
            at + TimeDelta::minutes(10),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z (20150830T124600Z - 5 min.)"
        );
        let e = check(&headers(&[("host", "h")]), at).unwrap_err();
        assert_eq!(
            (e.kind, e.status.as_u16()),
            ("MissingAuthenticationTokenException", 403)
        );
        let e = check(
            &headers(&[("host", "h"), ("authorization", "Bearer abc")]),
            at,
        )
        .unwrap_err();
        assert_eq!(e.kind, "IncompleteSignatureException");
    }
}
