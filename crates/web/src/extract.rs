//! Extractors that turn a request into typed, validated input, or into an `ApiError` that
//! names what is wrong and where.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use domain::Actor;
use serde::de::DeserializeOwned;

/// A JSON body: `Content-Type: application/json`, syntactically valid (else 400 with the
/// line and column), and matching the target type (else 422 naming the field: unknown fields,
/// wrong types, bad enum values, missing fields, failed validation).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let mime = ct.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(status, "Payload too large", "the request body is larger than this endpoint accepts")
            } else {
                ApiError::bad_request(format!("cannot read the request body: {rejection}"))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON the way `ApiJson` does (also used for multipart fields holding JSON).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(format!(
                "the body is not valid JSON: {inner}"
            )),
            Category::Data => {
                let msg = strip_position(&inner.to_string());
                let field = field_from(&path, &msg);
                let detail = match &field {
                    Some(f) if !msg.contains(&format!("`{f}`")) => format!("{f}: {msg}"),
                    _ => msg,
                };
                let mut err = ApiError::invalid(field.clone().unwrap_or_default(), detail);
                err.field = field;
                err
            }
        }
    })
}

/// serde_json appends " at line L column C" to data errors; on a one-line body it is noise.
fn strip_position(msg: &str) -> String {
    msg.rsplit_once(" at line ")
        .map(|(m, _)| m.to_owned())
        .unwrap_or_else(|| msg.to_owned())
}

/// The field an error is about. serde_path_to_error's path already ends in the offending
/// field for unknown fields and bad values; for "missing field `x`" it is the parent, so `x`
/// is appended.
fn field_from(path: &str, msg: &str) -> Option<String> {
    let root = path == "." || path.is_empty();
    if msg.starts_with("missing field") {
        let name = msg.split('`').nth(1)?;
        return Some(if root { name.to_owned() } else { format!("{path}.{name}") });
    }
    if root {
        return msg
            .starts_with("unknown field")
            .then(|| msg.split('`').nth(1).map(str::to_owned))
            .flatten();
    }
    Some(path.to_owned())
}

/// Query parameters, strictly: an unknown parameter (a typo such as `severty`) is an error,
/// and a malformed value names its parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let msg = e.into_inner().to_string();
                let field = field_from(&path, &msg);
                let detail = match &field {
                    Some(f) if !msg.contains(&format!("`{f}`")) => format!("query parameter {f}: {msg}"),
                    _ => format!("query: {msg}"),
                };
                let mut err = ApiError::invalid(field.clone().unwrap_or_default(), detail);
                err.field = field;
                err
            })
    }
}

fn form_urlencoded_parse(q: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(q.as_bytes())
}

/// The authenticated user, from `Authorization: Token <token>` (DefectDojo's scheme, so its
/// clients work unchanged) or `Authorization: Bearer <token>`.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "send an API token: `Authorization: Token <token>` (create one with `vulnbridge token create USER`)",
            ));
        };
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not readable text"))?;
        let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
        if !(scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer")) {
            return Err(ApiError::unauthorized(format!(
                "unsupported Authorization scheme '{scheme}'; use `Token <token>` or `Bearer <token>`"
            )));
        }
        let token = token.trim();
        if !secrets::token::looks_like_token(token) {
            return Err(ApiError::unauthorized("invalid or expired token"));
        }
        let mut c = state.app.db().conn().await?;
        match store::tokens::authenticate(&mut c, &secrets::token::hash(token)).await? {
            Some(actor) => Ok(Auth(actor)),
            None => Err(ApiError::unauthorized("invalid or expired token")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: domain::Name,
        severity: domain::Severity,
        #[serde(default)]
        endpoints: Vec<domain::Endpoint>,
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"name":"x","severity":"urgent"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("severity"));
        assert!(e.detail.contains("urgent"), "{}", e.detail);
        assert_eq!(e.status, 422);

        let e = parse_json::<Body>(br#"{"severity":"high"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("name"));
        assert!(e.detail.contains("missing field `name`"), "{}", e.detail);

        let e = parse_json::<Body>(br#"{"name":"x","severity":"high","colour":1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("colour"));

        let e = parse_json::<Body>(br#"{"name":"","severity":"high"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("name"));
        assert!(e.detail.contains("must not be empty"), "{}", e.detail);

        let e = parse_json::<Body>(br#"{"name":"x","severity":"high","endpoints":[{"host":"a","bogus":1}]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("endpoints[0].bogus"));

        let e = parse_json::<Body>(br#"{"name": "x",,}"#).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.detail.contains("line 1"), "{}", e.detail);
    }
}
