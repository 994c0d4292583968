//! The operations a connector calls, at the paths of botocore's `service-2.json`:
//! `DescribeHub` (`GET /accounts`), `ListFindingAggregators` (`GET /findingAggregator/list`),
//! `GetFindingAggregator` (`GET /findingAggregator/get/{FindingAggregatorArn+}`),
//! `ListMembers` (`GET /members`) and `GetFindings` (`POST /findings`). Each request passes,
//! in AWS's order: Signature Version 4, throttling, the key's IAM policy, the hub being
//! enabled, then the operation's own validation.

use super::Sh;
use super::filters::Query;
use super::reply::{self, AwsError};
use super::sigv4::{self, Received, Scope};
use super::state::{State, format_time};
use axum::extract::{Request, State as AxState};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Instant;

/// Bodies up to this size are read (GetFindings requests are small).
const BODY_LIMIT: usize = 1024 * 1024;
const SERVICE: &str = "securityhub";

enum Op {
    DescribeHub,
    ListFindingAggregators,
    GetFindingAggregator(String),
    ListMembers,
    GetFindings,
}

impl Op {
    fn route(method: &Method, path: &str) -> Option<Op> {
        match (method.as_str(), path) {
            ("GET", "/accounts") => Some(Op::DescribeHub),
            ("GET", "/findingAggregator/list") => Some(Op::ListFindingAggregators),
            ("GET", "/members") => Some(Op::ListMembers),
            ("POST", "/findings") => Some(Op::GetFindings),
            ("GET", p) => p
                .strip_prefix("/findingAggregator/get/")
                .filter(|arn| !arn.is_empty())
                .map(|arn| Op::GetFindingAggregator(percent_decode(arn))),
            _ => None,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Op::DescribeHub => "DescribeHub",
            Op::ListFindingAggregators => "ListFindingAggregators",
            Op::GetFindingAggregator(_) => "GetFindingAggregator",
            Op::ListMembers => "ListMembers",
            Op::GetFindings => "GetFindings",
        }
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Every API request.
pub(crate) async fn serve(AxState(sh): AxState<Sh>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return AwsError::invalid_input("The request body could not be read").into_response();
    };
    let now = Utc::now();
    let mut s = sh.lock();
    let received = Received {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &bytes,
    };
    let region = s.home_region.clone();
    let scope = Scope {
        region: &region,
        service: SERVICE,
    };
    let key_id = match sigv4::verify(
        &received,
        &scope,
        |k| s.keys.get(k).map(|key| key.secret.clone()),
        now,
    ) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let Some(op) = Op::route(&parts.method, parts.uri.path()) else {
        return AwsError::unknown_operation().into_response();
    };
    if !s
        .throttle
        .take(&key_id, matches!(op, Op::GetFindings), Instant::now())
    {
        return AwsError::throttled().into_response();
    }
    let Some(key) = s.keys.get(&key_id).cloned() else {
        return AwsError::unrecognized_client().into_response();
    };
    if !key.allows(op.action()) {
        return AwsError::access_denied(format!(
            "User: arn:aws:iam::{}:user/{} is not authorized to perform: securityhub:{} on resource: {}",
            s.account,
            key.user,
            op.action(),
            s.hub_arn()
        ))
        .into_response();
    }
    if !s.hub_enabled {
        return AwsError::invalid_access(format!(
            "Account {} is not subscribed to AWS Security Hub",
            s.account
        ))
        .into_response();
    }
    let query = Params::parse(parts.uri.query());
    let answer = match op {
        Op::DescribeHub => describe_hub(&s, &query),
        Op::ListFindingAggregators => list_aggregators(&s, &query),
        Op::GetFindingAggregator(arn) => get_aggregator(&s, &arn),
        Op::ListMembers => list_members(&s, &query),
        Op::GetFindings => get_findings(&mut s, &bytes),
    };
    match answer {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Query parameters, decoded.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<&str>) -> Params {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `MaxResults` within `1..=max`, `default` when absent.
    fn max_results(&self, max: i64, default: i64) -> Result<usize, AwsError> {
        let Some(raw) = self.get("MaxResults") else {
            return Ok(default as usize);
        };
        let n: i64 = raw.parse().map_err(|_| {
            AwsError::invalid_input(format!(
                "Invalid value for MaxResults: '{raw}' is not an integer"
            ))
        })?;
        check_range("maxResults", n, max)
    }
}

fn check_range(field: &str, n: i64, max: i64) -> Result<usize, AwsError> {
    if n < 1 {
        return Err(AwsError::validation(
            field,
            n,
            "Member must have value greater than or equal to 1",
        ));
    }
    if n > max {
        return Err(AwsError::validation(
            field,
            n,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(n as usize)
}

/// An opaque `NextToken`: which query (or list) it continues, and where.
fn token(scope: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{scope}:{offset}"))
}

fn offset_of(next: Option<&str>, scope: &str) -> Result<usize, AwsError> {
    let Some(t) = next.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let invalid = || AwsError::invalid_input("The NextToken value is invalid or expired");
    let decoded = URL_SAFE_NO_PAD.decode(t).map_err(|_| invalid())?;
    let text = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (s, o) = text.rsplit_once(':').ok_or_else(invalid)?;
    if s != scope {
        return Err(invalid());
    }
    o.parse().map_err(|_| invalid())
}

fn describe_hub(s: &State, q: &Params) -> Result<Response, AwsError> {
    if let Some(arn) = q.get("HubArn")
        && arn != s.hub_arn()
    {
        return Err(AwsError::not_found(format!("Hub {arn} not found")));
    }
    Ok(reply::ok(json!({
        "HubArn": s.hub_arn(),
        "SubscribedAt": format_time(s.subscribed_at),
        "AutoEnableControls": true,
        "ControlFindingGenerator": "SECURITY_CONTROL",
    })))
}

fn list_aggregators(s: &State, q: &Params) -> Result<Response, AwsError> {
    let max = q.max_results(100, 100)?;
    let all: Vec<&str> = s.aggregator.iter().map(|a| a.arn.as_str()).collect();
    let from = offset_of(q.get("NextToken"), "aggregators")?;
    let page: Vec<Value> = all
        .iter()
        .skip(from)
        .take(max)
        .map(|a| json!({ "FindingAggregatorArn": a }))
        .collect();
    let mut body = json!({ "FindingAggregators": page });
    if from + max < all.len() {
        body["NextToken"] = json!(token("aggregators", from + max));
    }
    Ok(reply::ok(body))
}

fn get_aggregator(s: &State, arn: &str) -> Result<Response, AwsError> {
    match &s.aggregator {
        Some(a) if a.arn == arn => Ok(reply::ok(json!({
            "FindingAggregatorArn": a.arn,
            "FindingAggregationRegion": s.home_region,
            "RegionLinkingMode": a.mode,
            "Regions": a.regions,
        }))),
        _ => Err(AwsError::not_found(format!(
            "Finding aggregator {arn} does not exist"
        ))),
    }
}

fn list_members(s: &State, q: &Params) -> Result<Response, AwsError> {
    let only_associated = match q.get("OnlyAssociated") {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(AwsError::invalid_input(format!(
                "Invalid value for OnlyAssociated: '{v}' is not a boolean"
            )));
        }
    };
    let max = q.max_results(50, 50)?;
    let scope = if only_associated {
        "members-associated"
    } else {
        "members-all"
    };
    let from = offset_of(q.get("NextToken"), scope)?;
    let all: Vec<_> = s
        .members
        .iter()
        .filter(|m| !only_associated || m.status == "Enabled")
        .collect();
    let page: Vec<Value> = all
        .iter()
        .skip(from)
        .take(max)
        .map(|m| {
            json!({
                "AccountId": m.account,
                "Email": m.email,
                "MasterId": s.account,
                "AdministratorId": s.account,
                "MemberStatus": m.status,
                "InvitedAt": format_time(m.invited_at),
                "UpdatedAt": format_time(m.updated_at),
            })
        })
        .collect();
    let mut body = json!({ "Members": page });
    if from + max < all.len() {
        body["NextToken"] = json!(token(scope, from + max));
    }
    Ok(reply::ok(body))
}

fn get_findings(s: &mut State, body: &[u8]) -> Result<Response, AwsError> {
    let input: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        serde_json::from_slice(body).map_err(|e| {
            AwsError::invalid_input(format!("The request body is not a JSON object: {e}"))
        })?
    };
    let filters = match input.get("Filters") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err(AwsError::invalid_input("Filters must be an object")),
    };
    let sort = match input.get("SortCriteria") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(a),
        Some(_) => return Err(AwsError::invalid_input("SortCriteria must be a list")),
    };
    let max = match input.get("MaxResults") {
        None | Some(Value::Null) => 100,
        Some(v) => {
            let n = v
                .as_i64()
                .ok_or_else(|| AwsError::invalid_input("MaxResults must be an integer"))?;
            check_range("maxResults", n, 100)?
        }
    };
    let next = match input.get("NextToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(t.as_str()),
        Some(_) => return Err(AwsError::invalid_input("NextToken must be a string")),
    };
    let query = Query::parse(filters, sort, Utc::now())?;
    let from = offset_of(next, &query.fingerprint)?;
    let hits = match (from, s.queries.get(&query.fingerprint)) {
        (f, Some(hits)) if f > 0 => hits,
        _ => {
            let mut hits: Vec<usize> = (0..s.findings.len())
                .filter(|i| query.matches(&s.findings[*i]))
                .collect();
            hits.sort_by(|a, b| query.order(&s.findings[*a], &s.findings[*b]));
            let hits = Arc::new(hits);
            s.queries.put(query.fingerprint.clone(), hits.clone());
            hits
        }
    };
    let mut out = String::from("{\"Findings\":[");
    for (n, i) in hits.iter().skip(from).take(max).enumerate() {
        if n > 0 {
            out.push(',');
        }
        if let Some(f) = s.findings.get(*i) {
            out.push_str(&f.raw);
        }
    }
    out.push(']');
    if from + max < hits.len() {
        out.push_str(&format!(
            ",\"NextToken\":\"{}\"",
            token(&query.fingerprint, from + max)
        ));
    }
    out.push('}');
    Ok(reply::ok_text(out))
}
