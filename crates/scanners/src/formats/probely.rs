//! `Probely Scan`: findings of Probely (now Snyk API & Web), the DAST scanner, as its API
//! returns them — `GET /targets/{target_id}/findings/` or the account-wide `GET /findings/`.
//! A page (`{"count", "page_total", "page", "length", "results": [...]}`) and a bare list of
//! findings (pages concatenated by a script) are both accepted.
//!
//! DefectDojo OSS has no Probely parser (its Pro edition has a connector under the scan type
//! name `Probely Scan`), so the mapping follows Probely's API documentation and official SDK:
//! `severity` is 10 (low), 20 (medium) or 30 (high); `state` is `notfixed`, `fixed`,
//! `accepted` (risk accepted) or `invalid` (false positive); `retesting` flags a finding whose
//! fix is being verified.

use super::common::cvss::set_cvss_vector;
use super::common::endpoint::endpoint_from_url;
use super::common::finding::{fit_to_domain, send_all};
use super::common::json::{json_f64, json_i64, json_text, read_json_list};
use super::common::text::non_empty;
use super::common::title::title_from_candidates;
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, RequestResponse, Severity, Status};
use serde::Deserialize;
use serde_json::Value;
use std::io::BufRead;

pub const SCAN_TYPE: &str = "Probely Scan";

/// The `Probely Scan` parser.
pub struct ProbelyScan;

impl Parser for ProbelyScan {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        let findings: Vec<Finding> = read_json_list(SCAN_TYPE, input, |page: Page| {
            page.results.ok_or_else(|| {
                ParseError::new(
                    SCAN_TYPE,
                    Some(crate::Location::line_column(1, 1).with_path("results")),
                    "expected a `results` array (a page of the findings API) or a list of findings",
                )
            })
        })?;
        send_all(
            findings.iter().map(|f| fit_to_domain(finding(f, ctx))),
            sink,
        )
    }
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a page of Probely findings (`results`) or a list of findings")]
struct Page {
    #[serde(default)]
    results: Option<Vec<Finding>>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a Probely finding object")]
pub(crate) struct Finding {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    definition: Option<Definition>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    insertion_point: Option<String>,
    #[serde(default)]
    parameter: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    fix: Option<String>,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    extra: Option<String>,
    #[serde(default)]
    requests: Option<Vec<HttpPair>>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    severity: Option<Value>,
    #[serde(default)]
    cvss_score: Option<Value>,
    #[serde(default)]
    cvss_vector: Option<String>,
    #[serde(default)]
    retesting: Option<bool>,
    #[serde(default)]
    labels: Option<Vec<Label>>,
}

#[derive(Deserialize, Default)]
struct Target {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    site: Option<Site>,
}

#[derive(Deserialize, Default)]
struct Site {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize, Default)]
struct Definition {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    desc: Option<String>,
}

#[derive(Deserialize, Default)]
struct HttpPair {
    #[serde(default)]
    request: Option<String>,
    #[serde(default)]
    response: Option<String>,
}

#[derive(Deserialize, Default)]
struct Label {
    #[serde(default)]
    name: Option<String>,
}

pub(crate) fn finding(p: &Finding, ctx: &Context) -> NewFinding {
    let id = p.id.as_ref().and_then(json_text);
    let definition = p.definition.as_ref();
    let name = definition.and_then(|d| d.name.as_deref()).unwrap_or("");
    let fallback = format!("Probely finding {}", id.as_deref().unwrap_or(""));
    let mut f = NewFinding::new(
        ctx.test,
        title_from_candidates([Some(name)], &fallback),
        p.severity
            .as_ref()
            .map(severity_of)
            .unwrap_or(Severity::Info),
    );
    f.dynamic_finding = true;

    // A finding id is unique within its target (the API addresses it as
    // `/targets/{target}/findings/{id}/`), so the target is part of the identity.
    let target = p
        .target
        .as_ref()
        .and_then(|t| t.id.as_ref())
        .and_then(json_text);
    f.unique_id_from_tool = match (&target, &id) {
        (Some(t), Some(i)) => Some(format!("{t}/{i}")),
        (None, Some(i)) => Some(i.clone()),
        _ => None,
    };
    f.vuln_id_from_tool = definition.and_then(|d| d.id.as_ref()).and_then(json_text);

    let mut description = definition
        .and_then(|d| d.desc.as_deref())
        .unwrap_or("")
        .trim()
        .to_owned();
    for (label, text) in [("Evidence", &p.evidence), ("Details", &p.extra)] {
        if let Some(t) = non_empty(text.as_deref()) {
            description.push_str(&format!("\n\n**{label}**: {t}"));
        }
    }
    f.description = description.trim().to_owned();
    f.mitigation = non_empty(p.fix.as_deref());

    let url = non_empty(p.url.as_deref())
        .or_else(|| non_empty(p.path.as_deref()))
        .or_else(|| {
            p.target
                .as_ref()
                .and_then(|t| t.site.as_ref())
                .and_then(|s| non_empty(s.url.as_deref()))
        });
    // A URL Probely could not express as one (rare, e.g. raw bytes) is still in the
    // description's evidence; the finding is kept without an endpoint.
    f.endpoints = url
        .and_then(|u| endpoint_from_url(&u))
        .into_iter()
        .collect();
    f.param = non_empty(p.parameter.as_deref()).map(|param| {
        match non_empty(p.insertion_point.as_deref()) {
            Some(point) => format!("{param} ({point})"),
            None => param,
        }
    });
    // Verbatim: trailing spaces are part of payloads (`1' AND 1=1-- `).
    f.payload = p.value.clone().filter(|v| !v.trim().is_empty());
    if let Some(method) = non_empty(p.method.as_deref()) {
        f.steps_to_reproduce = Some(format!(
            "{} {}",
            method.to_ascii_uppercase(),
            p.url.as_deref().unwrap_or("").trim()
        ));
    }
    f.request_response = p
        .requests
        .iter()
        .flatten()
        .map(|r| RequestResponse {
            request: unfence(r.request.as_deref().unwrap_or("")),
            response: unfence(r.response.as_deref().unwrap_or("")),
        })
        .filter(|r| !r.request.is_empty() || !r.response.is_empty())
        .collect();

    if let Some(vector) = &p.cvss_vector {
        set_cvss_vector(&mut f, vector);
    }
    let score = p.cvss_score.as_ref().and_then(json_f64);
    if f.cvss_v4_vector.is_some() {
        f.cvss_v4_score = score;
    } else {
        f.cvss_v3_score = score;
    }

    f.status = match p.state.as_deref().map(str::trim) {
        Some("fixed") => Status::Closed,
        Some("accepted") => Status::RiskAccepted,
        Some("invalid") => Status::FalsePositive,
        // Asked to retest: someone believes it fixed and the rescan will tell.
        _ if p.retesting == Some(true) => Status::AwaitingValidation,
        _ => Status::Active,
    };
    // Accepting or invalidating is a person's call on the finding.
    f.verified = matches!(f.status, Status::RiskAccepted | Status::FalsePositive);
    f.tags = p
        .labels
        .iter()
        .flatten()
        .filter_map(|l| non_empty(l.name.as_deref()))
        .collect();
    // The list gives `last_found` but not when the finding was first seen; the discovery day
    // stays the import's, which later imports keep.
    f
}

/// Probely's numeric severities: 10 low, 20 medium, 30 high. Values between or beyond are read
/// by band (a future 40 would be critical), and the names are accepted too.
fn severity_of(v: &Value) -> Severity {
    if let Some(n) = json_i64(v) {
        return match n {
            ..=0 => Severity::Info,
            1..=19 => Severity::Low,
            20..=29 => Severity::Medium,
            30..=39 => Severity::High,
            _ => Severity::Critical,
        };
    }
    v.as_str()
        .and_then(|s| Severity::parse(s).ok())
        .unwrap_or(Severity::Info)
}

/// Probely wraps requests and responses in Markdown code fences (```` ```\n…\n``` ````); the
/// evidence is what is inside.
fn unfence(s: &str) -> String {
    let t = s.trim();
    match t.strip_prefix("```").and_then(|r| r.strip_suffix("```")) {
        // The opening fence's line may name a language (```http); the body starts after it.
        Some(inner) => {
            let body = inner.split_once('\n').map(|(_, b)| b).unwrap_or(inner);
            body.strip_suffix('\n').unwrap_or(body).to_owned()
        }
        None => t.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn severities() {
        assert_eq!(severity_of(&json!(10)), Severity::Low);
        assert_eq!(severity_of(&json!(20)), Severity::Medium);
        assert_eq!(severity_of(&json!(30)), Severity::High);
        assert_eq!(severity_of(&json!(40)), Severity::Critical);
        assert_eq!(severity_of(&json!(0)), Severity::Info);
        assert_eq!(severity_of(&json!("high")), Severity::High);
        assert_eq!(severity_of(&json!(null)), Severity::Info);
    }

    #[test]
    fn fences_come_off() {
        assert_eq!(
            unfence("```\nGET / HTTP/1.1\r\n\r\n\n```"),
            "GET / HTTP/1.1\r\n\r\n"
        );
        assert_eq!(unfence("plain"), "plain");
        assert_eq!(unfence("```"), "```");
    }
}
