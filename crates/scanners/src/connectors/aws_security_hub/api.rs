//! Signed calls to one Security Hub endpoint. Every request goes through the connector's
//! `HttpClient`, signed with Signature Version 4 for service `securityhub` in the hub's Region.
//!
//! Two things AWS does differently from the other tools: its request layer refuses bad
//! credentials with 403 (`UnrecognizedClientException`, `InvalidSignatureException`…), which
//! are credential failures, not missing permissions; and throttling (`TooManyRequestsException`,
//! 429) comes without `Retry-After`, so calls are retried here a few times with backoff, as
//! the AWS SDKs do, before the rate limit is reported.

use super::sigv4::{self, Credentials, ToSign};
use outbound::{CallError, HttpClient, RequestClass};
use reqwest::Method;
use serde::de::DeserializeOwned;
use std::time::Duration;

pub(crate) const SERVICE: &str = "securityhub";
/// Retries of a throttled call before the rate limit is reported.
const THROTTLE_RETRIES: u32 = 4;

/// Messages of AWS's request layer that mean the credentials (not the policy) were refused.
const CREDENTIAL_FAILURES: [&str; 6] = [
    "security token included in the request is invalid",
    "security token included in the request is expired",
    "request signature we calculated does not match",
    "signature expired",
    "signature not yet current",
    "missing authentication token",
];

#[derive(Clone, Debug)]
pub(crate) struct Api {
    pub http: HttpClient,
    /// The endpoint (the connector's location).
    pub base: url::Url,
    /// The Region the endpoint serves; requests are signed for it.
    pub region: String,
    pub creds: Credentials,
}

impl Api {
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
        what: &str,
    ) -> Result<T, CallError> {
        self.call(Method::GET, path, query, None, what).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<T, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            CallError::Protocol(format!("cannot encode the request for {what}: {e}"))
        })?;
        self.call(Method::POST, path, &[], Some(bytes), what).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Vec<u8>>,
        what: &str,
    ) -> Result<T, CallError> {
        let mut attempt = 0;
        loop {
            match self
                .once(method.clone(), path, query, body.as_deref(), what)
                .await
            {
                Err(CallError::RateLimited { .. }) if attempt < THROTTLE_RETRIES => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other.map_err(credentials_refused),
            }
        }
    }

    async fn once<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&[u8]>,
        what: &str,
    ) -> Result<T, CallError> {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        let q = sigv4::canonical_query(query);
        url.set_query((!q.is_empty()).then_some(q.as_str()));
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => {
                return Err(CallError::Misconfigured(format!(
                    "the location {} has no host",
                    self.base
                )));
            }
        };
        let mut headers: Vec<(&str, String)> = vec![("host", host)];
        if body.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        let signed = sigv4::sign(
            &self.creds,
            &self.region,
            SERVICE,
            &ToSign {
                method: method.as_str(),
                path: url.path(),
                query,
                headers: &headers,
                body: body.unwrap_or(b""),
            },
            chrono::Utc::now(),
        );
        let mut req = self.http.request(method, url);
        for (k, v) in headers.iter().map(|(k, v)| (*k, v.clone())).chain(signed) {
            req = req.header(k, v);
        }
        if let Some(b) = body {
            req = req.body(b.to_vec());
        }
        self.http.send_json(RequestClass::Read, what, req).await
    }
}

/// 250 ms, 500 ms, 1 s, 2 s… with up to 25 % jitter, so parallel pulls do not retry in step.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250) * 2u32.saturating_pow(attempt);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

/// A 403 from AWS's request layer about the key or signature is a credential failure.
fn credentials_refused(e: CallError) -> CallError {
    match e {
        CallError::Forbidden(msg)
            if CREDENTIAL_FAILURES
                .iter()
                .any(|f| msg.to_ascii_lowercase().contains(f)) =>
        {
            CallError::Unauthorized(format!("{msg} (HTTP 403)"))
        }
        other => other,
    }
}

/// The Region of a standard Security Hub endpoint (`securityhub.us-east-1.amazonaws.com`,
/// `securityhub-fips.us-gov-west-1.amazonaws.com`, `….amazonaws.com.cn`).
pub(crate) fn region_of_host(host: &str) -> Option<String> {
    let mut labels = host.split('.');
    let service = labels.next()?;
    let region = labels.next()?;
    let rest: Vec<&str> = labels.collect();
    let aws = rest.first() == Some(&"amazonaws");
    (aws && (service == SERVICE || service == "securityhub-fips") && !region.is_empty())
        .then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_of_standard_endpoints() {
        assert_eq!(
            region_of_host("securityhub.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of_host("securityhub-fips.us-gov-west-1.amazonaws.com").as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(
            region_of_host("securityhub.cn-north-1.amazonaws.com.cn").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(region_of_host("127.0.0.1"), None);
        assert_eq!(region_of_host("proxy.example.com"), None);
    }

    #[test]
    fn credential_failures_are_told_from_missing_permissions() {
        let e = credentials_refused(CallError::Forbidden(
            "hub: The security token included in the request is invalid.".into(),
        ));
        assert_eq!(e.code(), "unauthorized");
        let e = credentials_refused(CallError::Forbidden(
            "findings: User: arn:aws:iam::1:user/x is not authorized to perform: securityhub:GetFindings".into(),
        ));
        assert_eq!(e.code(), "forbidden");
    }
}
