//! The API: `GET /targets/` and `GET /targets/{id}/findings/`, as Probely's Django REST
//! Framework service answers them:
//! - `Authorization: JWT <api key>`; without it or with an unknown key, `401` with DRF's
//!   `detail` messages and `WWW-Authenticate`;
//! - pages by `page` (from 1) and `length` (default 10, at most 100); a page past the end
//!   (or not a number) is `404 {"detail": "Invalid page."}`; answers carry `count`,
//!   `page_total`, `page` and `length`;
//! - `ordering` by `id`, `changed`, `last_found`, `severity` or `state` (`-` for descending);
//!   unknown fields are ignored, as DRF's ordering filter does;
//! - `state` and `severity` filters (comma-separated or repeated);
//! - throttled requests get `429`, `Retry-After` and DRF's throttle message.

use super::Sh;
use super::seed::fixture_findings;
use super::state::{Body, Finding, Target};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// A refused request (boxed: a response is large and refusals are the rare path).
pub struct Refusal(Box<Response>);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

fn detail(status: StatusCode, message: &str) -> Refusal {
    Refusal(Box::new(
        (status, axum::Json(json!({ "detail": message }))).into_response(),
    ))
}

/// Page size when `length` is absent, and the most a request may ask for.
pub const DEFAULT_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 100;

fn admit(sh: &Sh, headers: &HeaderMap) -> Result<(), Refusal> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let unauthorized = |message: &str| {
        let mut r = *detail(StatusCode::UNAUTHORIZED, message).0;
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("JWT realm=\"api\""),
        );
        Refusal(Box::new(r))
    };
    let Some(key) = raw
        .strip_prefix("JWT ")
        .map(str::trim)
        .filter(|k| !k.is_empty())
    else {
        return Err(unauthorized(
            "Authentication credentials were not provided.",
        ));
    };
    if !sh.lock().api_keys.iter().any(|k| k == key) {
        return Err(unauthorized("Incorrect authentication credentials."));
    }
    if let Err(wait) = sh.limiter.admit() {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut r = detail(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Request was throttled. Expected available in {secs} seconds."),
        )
        .0;
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(Refusal(r));
    }
    Ok(())
}

struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// DRF's page number pagination: `(page, length)`, or `404 Invalid page.` for a page that
    /// is not a positive number or lies past the last page.
    fn page(&self, total: usize) -> Result<(usize, usize, usize), Refusal> {
        let length = match self.one("length").map(|l| l.trim().parse::<usize>()) {
            Some(Ok(n)) if n > 0 => n.min(MAX_LENGTH),
            // DRF falls back to the default page size for a missing or unusable value.
            _ => DEFAULT_LENGTH,
        };
        let pages = total.div_ceil(length).max(1);
        let page = match self.one("page") {
            None => 1,
            Some("last") => pages,
            Some(p) => match p.trim().parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => return Err(detail(StatusCode::NOT_FOUND, "Invalid page.")),
            },
        };
        if page > pages {
            return Err(detail(StatusCode::NOT_FOUND, "Invalid page."));
        }
        Ok((page, length, pages))
    }
}

/// The `ordering` keys that name one of `fields` (DRF's ordering filter drops the others),
/// as `(descending, field)`.
fn ordering<'f>(q: &Query, fields: &[&'f str]) -> Vec<(bool, &'f str)> {
    q.one("ordering")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter_map(|key| {
            let (desc, name) = key.strip_prefix('-').map_or((false, key), |f| (true, f));
            fields.iter().find(|f| **f == name).map(|f| (desc, *f))
        })
        .collect()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn target_summary(t: &Target) -> Value {
    json!({
        "id": t.id,
        "name": "",
        "site": { "id": t.site_id, "name": t.name, "desc": "", "url": t.url, "host": t.host() },
        "type": t.kind,
        "desc": "",
        "labels": t.labels.iter().map(|l| json!({ "name": l })).collect::<Vec<_>>(),
    })
}

fn target_json(t: &Target) -> Value {
    let count = |sev: u8| {
        t.findings
            .iter()
            .filter(|f| f.is_open() && f.severity == sev)
            .count()
    };
    let risk = [30u8, 20, 10]
        .into_iter()
        .find(|s| count(*s) > 0)
        .map_or(json!(0), |s| json!(s));
    let mut v = target_summary(t);
    if let Value::Object(o) = &mut v {
        o.insert("lows".into(), json!(count(10)));
        o.insert("mediums".into(), json!(count(20)));
        o.insert("highs".into(), json!(count(30)));
        o.insert("risk".into(), risk);
        o.insert("scan_profile".into(), json!("normal"));
        o.insert("enabled".into(), json!(true));
        o.insert("changed".into(), json!(stamp(t.changed)));
    }
    v
}

fn finding_json(t: &Target, f: &Finding) -> Value {
    let mut v = match &f.body {
        Body::Fixture(v) => (**v).clone(),
        Body::Generated { template } => fixture_findings()
            .get(*template)
            .cloned()
            .unwrap_or_else(|| json!({})),
    };
    if let Value::Object(o) = &mut v {
        o.insert("id".into(), json!(f.id));
        o.insert("target".into(), target_summary(t));
        o.insert("state".into(), json!(f.state));
        o.insert("severity".into(), json!(f.severity));
        o.insert("retesting".into(), json!(f.retesting));
        o.insert("new".into(), json!(f.new));
        o.insert("last_found".into(), json!(stamp(f.last_found)));
        o.insert("changed".into(), json!(stamp(f.changed)));
        if matches!(f.body, Body::Generated { .. }) {
            let path = url::Url::parse(&f.url)
                .map(|u| format!("{}{}", u.origin().ascii_serialization(), u.path()))
                .unwrap_or_default();
            o.insert("url".into(), json!(f.url));
            o.insert("path".into(), json!(path));
            o.insert("labels".into(), json!([]));
        }
    }
    v
}

fn page_json(
    count: usize,
    page: usize,
    length: usize,
    pages: usize,
    results: Vec<Value>,
) -> Response {
    axum::Json(json!({ "count": count, "page_total": pages, "page": page, "length": length, "results": results })).into_response()
}

pub async fn targets(
    State(sh): State<Sh>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Refusal> {
    admit(&sh, &headers)?;
    let q = Query::parse(raw.as_deref());
    let s = sh.lock();
    let mut list: Vec<&Target> = s.targets.iter().collect();
    let keys = ordering(&q, &["name", "changed", "id"]);
    list.sort_by(|a, b| {
        keys.iter()
            .map(|(desc, field)| {
                let ord = match *field {
                    "name" => a.name.cmp(&b.name),
                    "changed" => a.changed.cmp(&b.changed),
                    _ => a.id.cmp(&b.id),
                };
                if *desc { ord.reverse() } else { ord }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let (page, length, pages) = q.page(list.len())?;
    let results = list
        .iter()
        .skip((page - 1) * length)
        .take(length)
        .map(|t| target_json(t))
        .collect();
    Ok(page_json(list.len(), page, length, pages, results))
}

pub async fn findings(
    State(sh): State<Sh>,
    Path(target): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Refusal> {
    admit(&sh, &headers)?;
    let q = Query::parse(raw.as_deref());
    let s = sh.lock();
    let Some(t) = s.target(&target) else {
        return Err(detail(StatusCode::NOT_FOUND, "Not found."));
    };
    let states = q.list("state");
    let severities = q.list("severity");
    // Newest found first unless asked otherwise; ties by id keep pages stable.
    let mut keys = ordering(&q, &["id", "changed", "last_found", "severity", "state"]);
    if keys.is_empty() {
        keys.push((true, "last_found"));
    }
    // A client pages through one ordering of an unchanged list: it is sorted once, not for
    // every page.
    let cache_key = format!("{target}|{keys:?}|{states:?}|{severities:?}");
    let order = sh.orders.get(&cache_key, s.version, || {
        let mut list: Vec<u32> = t
            .findings
            .iter()
            .enumerate()
            .filter(|(_, f)| states.is_empty() || states.contains(&f.state))
            .filter(|(_, f)| {
                severities.is_empty()
                    || severities
                        .iter()
                        .any(|s| s.trim() == f.severity.to_string())
            })
            .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        let at = |i: &u32| &t.findings[*i as usize];
        list.sort_by(|a, b| {
            let (a, b) = (at(a), at(b));
            keys.iter()
                .map(|(desc, field)| {
                    let ord = match *field {
                        "id" => a.id.cmp(&b.id),
                        "changed" => a.changed.cmp(&b.changed),
                        "last_found" => a.last_found.cmp(&b.last_found),
                        "severity" => a.severity.cmp(&b.severity),
                        _ => a.state.cmp(&b.state),
                    };
                    if *desc { ord.reverse() } else { ord }
                })
                .find(|o| o.is_ne())
                .unwrap_or_else(|| a.id.cmp(&b.id))
        });
        list
    });
    let total = order.len();
    let (page, length, pages) = q.page(total)?;
    let results = order
        .iter()
        .skip((page - 1) * length)
        .take(length)
        .filter_map(|i| t.findings.get(*i as usize))
        .map(|f| finding_json(t, f))
        .collect();
    Ok(page_json(total, page, length, pages, results))
}

/// Django's `APPEND_SLASH`: a GET without the trailing slash is redirected to it.
pub async fn append_slash(RawQuery(raw): RawQuery, uri: axum::http::Uri) -> Response {
    let location = match raw {
        Some(q) => format!("{}/?{q}", uri.path()),
        None => format!("{}/", uri.path()),
    };
    let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
