//! The REST API's common path: API version, authentication, rate limits, then the handler
//! under the state lock; every answer (errors included) carries GitHub's headers.

use super::limits::{RateHeaders, Refusal, Resource};
use super::state::State;
use super::{Inner, Outgoing};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

/// API versions GitHub's REST API accepts in `X-GitHub-Api-Version`.
const API_VERSIONS: [&str; 2] = ["2022-11-28", "2026-03-10"];
pub const DOCS_ROOT: &str = "https://docs.github.com/rest";
const RATE_DOCS: &str =
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api";

/// An error answer: status, GitHub's error body, extra headers.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Json,
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// `{"message", "documentation_url", "status"}`, GitHub's basic error.
    pub fn new(status: StatusCode, message: &str, doc: &str) -> ApiError {
        ApiError {
            status,
            body: json!({ "message": message, "documentation_url": doc, "status": status.as_u16().to_string() }),
            headers: Vec::new(),
        }
    }

    pub fn not_found(doc: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "Not Found", doc)
    }

    pub fn forbidden(message: &str, doc: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message, doc)
    }

    /// 422 `Validation Failed` with `errors[]` (model validations).
    pub fn validation(errors: Vec<Json>, doc: &str) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "message": "Validation Failed", "errors": errors, "documentation_url": doc, "status": "422" }),
            headers: Vec::new(),
        }
    }

    /// 422 `Invalid request.` from the request-body schema check (types, enums, required).
    pub fn invalid_request(problems: &[String], doc: &str) -> ApiError {
        let message = format!("Invalid request.\n\n{}", problems.join("\n"));
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, &message, doc)
    }

    pub fn bad_credentials() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Bad credentials", DOCS_ROOT)
    }

    fn into_response_with(self, extra: &[(&'static str, String)]) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        set_headers(r.headers_mut(), extra);
        set_headers(r.headers_mut(), &self.headers);
        r
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Json>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn ok(body: Json) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub fn created(body: Json, location: String) -> Reply {
        Reply {
            status: StatusCode::CREATED,
            body: Some(body),
            headers: vec![("location", location)],
        }
    }

    pub fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            headers: Vec::new(),
        }
    }

    fn into_response_with(self, extra: &[(&'static str, String)]) -> Response {
        let mut r = match self.body {
            Some(b) => (self.status, axum::Json(b)).into_response(),
            None => self.status.into_response(),
        };
        set_headers(r.headers_mut(), extra);
        set_headers(r.headers_mut(), &self.headers);
        r
    }
}

pub fn set_headers(h: &mut HeaderMap, pairs: &[(&'static str, String)]) {
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(HeaderName::from_static(k), v);
        }
    }
}

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// As created (display case).
    pub login: String,
    pub id: u64,
    pub scopes: Option<Vec<String>>,
}

impl Caller {
    pub fn key(&self) -> String {
        self.login.to_ascii_lowercase()
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        super::state::has_scope(self.scopes.as_deref(), scope)
    }
}

/// What a handler gets: the caller, the state, and where to queue webhooks.
pub struct Tx<'a> {
    pub st: &'a mut State,
    pub base: &'a str,
    pub out: Vec<Outgoing>,
}

/// How an endpoint treats requests.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// `X-Accepted-OAuth-Scopes`.
    pub accepted: &'static str,
    /// Creating content (an issue, a comment): counted by the secondary limits.
    pub content: bool,
    /// The endpoint's documentation (in error bodies).
    pub doc: &'static str,
    /// Without a token: `true` answers 401 `Requires authentication`, `false` the 404 a
    /// private resource gives the anonymous.
    pub needs_auth: bool,
}

/// A request id like GitHub's `X-GitHub-Request-Id` (`C0DE:1A2B:3C4D5E:6F7A8B:65F0A1B2`).
pub fn request_id() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    format!(
        "{:04X}:{:04X}:{:06X}:{:06X}:{:08X}",
        r.random::<u16>(),
        r.random::<u16>(),
        r.random::<u32>() & 0xFF_FFFF,
        r.random::<u32>() & 0xFF_FFFF,
        chrono::Utc::now().timestamp() as u32
    )
}

/// The token of `Authorization: Bearer <t>` or `token <t>`: `Ok(None)` without the header,
/// `Err` for another scheme (GitHub then treats the request as badly credentialed).
pub fn bearer(headers: &HeaderMap) -> Result<Option<String>, ()> {
    let Some(v) = headers.get("authorization") else {
        return Ok(None);
    };
    let v = v.to_str().map_err(|_| ())?.trim();
    let (scheme, token) = v.split_once(' ').ok_or(())?;
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        Ok(Some(token.trim().to_owned()))
    } else {
        Err(())
    }
}

/// Resolves the token to a caller: `Ok(None)` for no token, `Err` for a bad one.
pub fn authenticate(st: &State, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    let token = bearer(headers).map_err(|()| ApiError::bad_credentials())?;
    let Some(token) = token else { return Ok(None) };
    let login = st
        .tokens
        .get(&token)
        .ok_or_else(ApiError::bad_credentials)?;
    let u = st.users.get(login).ok_or_else(ApiError::bad_credentials)?;
    Ok(Some(Caller {
        login: u.login.clone(),
        id: u.id,
        scopes: u.scopes.clone(),
    }))
}

/// `Err` with GitHub's 400 when the request names an API version GitHub does not serve.
pub fn check_version(headers: &HeaderMap) -> Result<&'static str, ApiError> {
    match headers
        .get("x-github-api-version")
        .map(|v| v.to_str().unwrap_or("").trim().to_owned())
    {
        None => Ok(API_VERSIONS[0]),
        Some(v) => API_VERSIONS
            .iter()
            .find(|s| **s == v)
            .copied()
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    &format!("API version {v} is not supported."),
                    "https://docs.github.com/rest/about-the-rest-api/api-versions",
                )
            }),
    }
}

/// The refusal of a request over a rate limit, GitHub's wording and headers.
pub fn refusal(r: Refusal, user_id: u64, request_id: &str) -> ApiError {
    match r {
        Refusal::Primary(h) => {
            let msg = format!(
                "API rate limit exceeded for user ID {user_id}. If you reach out to GitHub Support for help, please include the request ID {request_id} and timestamp {}.",
                chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
            );
            let mut e = ApiError::new(
                StatusCode::FORBIDDEN,
                &msg,
                &format!("{RATE_DOCS}#about-the-primary-rate-limits"),
            );
            e.headers = h.pairs();
            e
        }
        Refusal::Secondary {
            headers,
            retry_after,
        } => {
            let msg = format!(
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID {request_id}."
            );
            let mut e = ApiError::new(
                StatusCode::FORBIDDEN,
                &msg,
                &format!("{RATE_DOCS}#about-secondary-rate-limits"),
            );
            e.headers = headers.pairs();
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            e.headers.push(("retry-after", secs.max(1).to_string()));
            e
        }
    }
}

/// Headers every answer carries.
pub fn common_headers(request_id: &str, version: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-github-request-id", request_id.to_owned()),
        ("x-github-media-type", "github.v3; format=json".into()),
        ("x-github-api-version-selected", version.to_owned()),
    ]
}

/// The scope headers of a classic token's answers.
pub fn scope_headers(caller: Option<&Caller>, accepted: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(scopes) = caller.and_then(|c| c.scopes.as_ref()) {
        let mut s = scopes.clone();
        s.sort();
        out.push(("x-oauth-scopes", s.join(", ")));
        out.push(("x-accepted-oauth-scopes", accepted.to_owned()));
    }
    out
}

/// Runs one REST request through GitHub's checks, then `handle` under the state lock.
pub fn rest(
    sim: &Inner,
    headers: &HeaderMap,
    spec: Spec,
    handle: impl FnOnce(&Caller, &mut Tx<'_>) -> Result<Reply, ApiError>,
) -> Response {
    let rid = request_id();
    let version = match check_version(headers) {
        Ok(v) => v,
        Err(e) => return e.into_response_with(&common_headers(&rid, API_VERSIONS[0])),
    };
    let mut extra = common_headers(&rid, version);
    let mut st = sim.lock();
    let caller = match authenticate(&st, headers) {
        Ok(Some(c)) => c,
        Ok(None) => {
            let e = if spec.needs_auth {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Requires authentication",
                    spec.doc,
                )
            } else {
                ApiError::not_found(spec.doc)
            };
            extra.extend(anonymous_rate());
            return e.into_response_with(&extra);
        }
        Err(e) => {
            extra.extend(anonymous_rate());
            return e.into_response_with(&extra);
        }
    };
    extra.extend(scope_headers(Some(&caller), spec.accepted));
    let charged = sim
        .limiter()
        .charge(&caller.key(), Resource::Core, 1, u32::from(spec.content));
    let rate: RateHeaders = match charged {
        Ok(h) => h,
        Err(r) => return refusal(r, caller.id, &rid).into_response_with(&extra),
    };
    extra.extend(rate.pairs());
    let mut tx = Tx {
        st: &mut st,
        base: sim.base(),
        out: Vec::new(),
    };
    let result = handle(&caller, &mut tx);
    let out = std::mem::take(&mut tx.out);
    drop(st);
    for o in out {
        sim.outbox.send(&o.url, o.headers, o.body);
    }
    match result {
        Ok(r) => r.into_response_with(&extra),
        Err(e) => e.into_response_with(&extra),
    }
}

/// The headers of the unauthenticated budget (60 an hour), which the simulator does not
/// enforce: every simulated repository is private, so the anonymous get nowhere anyway.
fn anonymous_rate() -> Vec<(&'static str, String)> {
    vec![
        ("x-ratelimit-limit", "60".into()),
        ("x-ratelimit-remaining", "59".into()),
        ("x-ratelimit-used", "1".into()),
        (
            "x-ratelimit-reset",
            (chrono::Utc::now().timestamp() + 3600).to_string(),
        ),
        ("x-ratelimit-resource", "core".into()),
    ]
}

/// A JSON body: GitHub answers 400 `Problems parsing JSON` when it is not JSON.
pub fn parse_body(bytes: &[u8], doc: &str) -> Result<Json, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Json::Null);
    }
    serde_json::from_slice(bytes)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Problems parsing JSON", doc))
}
