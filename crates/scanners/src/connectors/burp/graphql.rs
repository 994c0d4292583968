//! One GraphQL call to Burp Suite DAST: `POST <location>/graphql/v1` with the API key in
//! `Authorization`, and the answer's `errors` turned into errors. GraphQL servers answer a
//! refused query with HTTP 200 and an `errors` array; a caller must never mistake that for an
//! empty result.

use outbound::{CallError, HttpClient, RequestClass};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Deserialize)]
struct Answer<T> {
    #[serde(default = "none")]
    data: Option<T>,
    #[serde(default)]
    errors: Option<Vec<GqlError>>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Deserialize)]
struct GqlError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    path: Option<Vec<Value>>,
}

/// The GraphQL endpoint and its key.
#[derive(Clone)]
pub(super) struct Gql {
    http: HttpClient,
    endpoint: url::Url,
    key: SecretString,
}

impl Gql {
    pub fn new(http: HttpClient, endpoint: url::Url, key: SecretString) -> Gql {
        Gql {
            http,
            endpoint,
            key,
        }
    }

    /// Runs `query` with `variables`; `what` names what is asked for in errors.
    pub async fn query<T: DeserializeOwned>(
        &self,
        what: &str,
        query: &str,
        variables: Value,
    ) -> Result<T, CallError> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let req = self
            .http
            .request(reqwest::Method::POST, self.endpoint.clone())
            .header(reqwest::header::AUTHORIZATION, self.key.expose_secret())
            .json(&body);
        let answer: Answer<T> = self
            .http
            .send_json(RequestClass::Read, what, req)
            .await
            .map_err(|e| named(what, e))?;
        if let Some(errors) = answer.errors.filter(|e| !e.is_empty()) {
            return Err(refusal(what, &errors));
        }
        answer.data.ok_or_else(|| {
            CallError::Protocol(format!(
                "{what}: Burp Suite DAST answered with neither data nor errors"
            ))
        })
    }
}

/// Names the tool in a refused key (the HTTP layer does not know which service it called).
fn named(what: &str, e: CallError) -> CallError {
    match e {
        CallError::Unauthorized(m) => {
            CallError::Unauthorized(format!("Burp Suite DAST refused the API key ({what}): {m}"))
        }
        other => other,
    }
}

/// The `errors` of an answer as one error: a missing object is "not found", a permission
/// problem "forbidden", anything else a refused query.
fn refusal(what: &str, errors: &[GqlError]) -> CallError {
    let text = errors
        .iter()
        .map(|e| {
            let m = e.message.as_deref().unwrap_or("no message");
            match e.path.as_deref().filter(|p| !p.is_empty()) {
                Some(p) => {
                    let at: Vec<String> = p
                        .iter()
                        .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
                        .collect();
                    format!("{m} (at {})", at.join("."))
                }
                None => m.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let lower = text.to_ascii_lowercase();
    if lower.contains("not found") || lower.contains("does not exist") {
        CallError::NotFound(format!("{what} ({text})"))
    } else if [
        "permission",
        "not authorized",
        "not authorised",
        "forbidden",
        "access denied",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        CallError::Forbidden(format!("{what}: {text}"))
    } else {
        CallError::Rejected(format!("{what}: Burp Suite DAST refused the query: {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(m: &str) -> GqlError {
        GqlError {
            message: Some(m.into()),
            path: Some(vec![Value::from("scan")]),
        }
    }

    #[test]
    fn errors_are_classified() {
        assert_eq!(
            refusal("scan 9", &[err("Scan with ID 9 not found")]).code(),
            "not_found"
        );
        assert_eq!(
            refusal("sites", &[err("You do not have permission to view sites")]).code(),
            "forbidden"
        );
        let e = refusal("sites", &[err("Field 'x' doesn't exist on type 'Site'")]);
        assert_eq!(e.code(), "rejected");
        assert!(e.to_string().contains("(at scan)"), "{e}");
    }
}
