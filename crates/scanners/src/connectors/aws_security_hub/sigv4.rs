//! AWS Signature Version 4 for Security Hub requests (AWS General Reference, "Create a signed
//! AWS API request"): a canonical request (method; the URL's path URI-encoded once more, as for
//! every service but S3; the query pairs encoded and sorted; the signed headers, lowercase and
//! trimmed; the hex SHA-256 of the body), the string to sign with the credential scope
//! `date/region/service/aws4_request`, and the signing key derived from the secret by HMAC
//! over date, Region, service and `aws4_request`.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// An access key (and the session token of temporary credentials).
#[derive(Clone)]
pub(crate) struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// What is signed: the request as it will be sent.
pub(crate) struct ToSign<'a> {
    pub method: &'a str,
    /// The URL's path exactly as it will be sent (percent-encoded).
    pub path: &'a str,
    /// Query pairs, not encoded.
    pub query: &'a [(String, String)],
    /// Headers to sign (besides `x-amz-date` and `x-amz-security-token`, which are added).
    pub headers: &'a [(&'a str, String)],
    pub body: &'a [u8],
}

/// The headers to send: `x-amz-date`, the session token if any, and `authorization`.
pub(crate) fn sign(
    creds: &Credentials,
    region: &str,
    service: &str,
    req: &ToSign<'_>,
    now: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), trim_all(v)))
        .collect();
    headers.push(("x-amz-date".into(), amz_date.clone()));
    if let Some(t) = &creds.session_token {
        headers.push(("x-amz-security-token".into(), t.clone()));
    }
    headers.sort();
    let signed = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical = canonical_request(
        req.method,
        &uri_encode(req.path, false),
        &canonical_query(req.query),
        &canonical_headers,
        &signed,
        &hex::encode(Sha256::digest(req.body)),
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let sts = string_to_sign(&amz_date, &scope, &canonical);
    let signature = signature(&creds.secret_access_key, date, region, service, &sts);
    let mut out = vec![("x-amz-date", amz_date)];
    if let Some(t) = &creds.session_token {
        out.push(("x-amz-security-token", t.clone()));
    }
    out.push((
        "authorization",
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    out
}

/// RFC 3986 encoding with AWS's unreserved set `A-Z a-z 0-9 - _ . ~`; `/` is kept in paths.
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
    out
}

/// The query string as sent and as signed: pairs encoded, sorted by name then value.
pub(crate) fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &str,
    signed: &str,
    payload_hash: &str,
) -> String {
    let path = if path.is_empty() { "/" } else { path };
    format!("{method}\n{path}\n{query}\n{headers}\n{signed}\n{payload_hash}")
}

fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

fn signature(secret: &str, date: &str, region: &str, service: &str, sts: &str) -> String {
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

/// Trimmed, with runs of spaces collapsed (SigV4's `Trimall`).
fn trim_all(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    //! AWS's published Signature Version 4 test suite (`aws4_testsuite`, as botocore ships it):
    //! key `AKIDEXAMPLE`, Region `us-east-1`, service `service`, 2015-08-30T12:36:00Z. The
    //! suite's request lines show decoded paths, which are passed here as the path to sign.
    use super::*;

    fn creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_owned),
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2015-08-30T12:36:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn authorization(
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> String {
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let headers: Vec<(&str, String)> =
            headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        let out = sign(
            &creds(None),
            "us-east-1",
            "service",
            &ToSign {
                method,
                path,
                query: &query,
                headers: &headers,
                body,
            },
            at(),
        );
        out.into_iter()
            .find(|(k, _)| *k == "authorization")
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    fn sig(authorization: &str) -> &str {
        authorization.rsplit("Signature=").next().unwrap_or("")
    }

    const HOST: (&str, &str) = ("Host", "example.amazonaws.com");

    #[test]
    fn the_published_test_suite() {
        let a = authorization("GET", "/", &[], &[HOST], b"");
        assert_eq!(
            a,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            "get-vanilla"
        );
        assert_eq!(
            sig(&authorization("POST", "/", &[], &[HOST], b"")),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            "post-vanilla"
        );
        assert_eq!(
            sig(&authorization(
                "GET",
                "/",
                &[("Param2", "value2"), ("Param1", "value1")],
                &[HOST],
                b""
            )),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            "get-vanilla-query-order-key-case"
        );
        assert_eq!(
            sig(&authorization(
                "GET",
                "/",
                &[
                    ("Param-3", "Value3"),
                    ("Param", "Value2"),
                    ("\u{1234}", "Value1")
                ],
                &[HOST],
                b""
            )),
            "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
            "get-vanilla-query-order-encoded"
        );
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        assert_eq!(
            sig(&authorization(
                "GET",
                &format!("/{unreserved}"),
                &[],
                &[HOST],
                b""
            )),
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
            "get-unreserved"
        );
        assert_eq!(
            sig(&authorization(
                "GET",
                "/",
                &[(unreserved, unreserved)],
                &[HOST],
                b""
            )),
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
            "get-vanilla-query-unreserved"
        );
        assert_eq!(
            sig(&authorization("GET", "/\u{1234}", &[], &[HOST], b"")),
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            "get-utf8"
        );
        assert_eq!(
            sig(&authorization(
                "GET",
                "/",
                &[("\u{1234}", "bar")],
                &[HOST],
                b""
            )),
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            "get-vanilla-utf8-query"
        );
        assert_eq!(
            sig(&authorization(
                "POST",
                "/",
                &[],
                &[HOST, ("My-Header1", "value1")],
                b""
            )),
            "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            "post-header-key-sort"
        );
        assert_eq!(
            sig(&authorization(
                "POST",
                "/",
                &[],
                &[("Content-Type", "application/x-www-form-urlencoded"), HOST],
                b"Param1=value1"
            )),
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            "post-x-www-form-urlencoded"
        );
    }

    #[test]
    fn a_session_token_is_sent_and_signed() {
        let query: Vec<(String, String)> = Vec::new();
        let headers = [("host", "example.amazonaws.com".to_owned())];
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
        let out = sign(
            &creds(Some(token)),
            "us-east-1",
            "service",
            &ToSign {
                method: "GET",
                path: "/",
                query: &query,
                headers: &headers,
                body: b"",
            },
            at(),
        );
        let a = out
            .iter()
            .find(|(k, _)| *k == "authorization")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        // get-vanilla-with-session-token (token signed as a header).
        assert!(
            a.contains("SignedHeaders=host;x-amz-date;x-amz-security-token"),
            "{a}"
        );
        assert_eq!(
            sig(&a),
            "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
        );
        assert!(
            out.iter()
                .any(|(k, v)| *k == "x-amz-security-token" && v == token)
        );
    }
}
