//! A Burp GraphQL issue as a finding: the `Burp GraphQL API` report parser's mapping (title,
//! texts, severity, CWEs, confidence, endpoint), plus what only the API says — the site the
//! issue belongs to (its identity) and the verdicts people gave it.
//!
//! Burp numbers issues per scan (`serial_number`), so the stable id is the site, the issue
//! type and the URL: `site|type_index|origin|path`. Two issues of one type at one URL (two
//! parameters of a page) share it, and the import counts them as one finding seen twice.

use crate::Context;
use crate::formats::burp_graphql::{Issue, first};
use crate::formats::common::finding::fit_to_domain;
use crate::formats::common::title::{Overflow, one_line_title};
use chrono::NaiveDate;
use domain::{NewFinding, Status};
use serde_json::Value;

/// What the query asks of each issue.
pub const ISSUE_FIELDS: &str = "issue_type { type_index name description_html remediation_html \
vulnerability_classifications_html references_html } serial_number severity confidence origin path \
description_html remediation_html novelty accepted_risk";

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// One issue of the latest scan of `site`, seen at `day`.
pub fn finding(
    site: &str,
    day: Option<NaiveDate>,
    raw: Value,
    ctx: &Context,
) -> Result<NewFinding, String> {
    let kind = raw.get("issue_type").cloned().unwrap_or(Value::Null);
    let type_index = text(&kind, "type_index");
    let origin = text(&raw, "origin");
    let path = text(&raw, "path");
    let false_positive = text(&raw, "confidence").eq_ignore_ascii_case("false_positive");
    let accepted = raw
        .get("accepted_risk")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if type_index.is_empty() {
        // Without its type an issue has no identity: the same issue could not be told apart
        // from the next scan's.
        return Err("the issue has no issue_type.type_index".into());
    }
    let name = text(&kind, "name");
    let title = one_line_title(&name, Overflow::Cut)
        .or_else(|| one_line_title(&format!("Burp issue type {type_index}"), Overflow::Cut))
        .ok_or_else(|| format!("the issue type {type_index} has no usable name"))?;
    let issue: Issue = serde_json::from_value(raw).map_err(|e| format!("not a Burp issue: {e}"))?;
    let mut f = first(issue, title, ctx);
    f.unique_id_from_tool = Some(format!("{site}|{type_index}|{origin}|{path}"));
    (f.status, f.verified) = if false_positive {
        (Status::FalsePositive, true)
    } else if accepted {
        (Status::RiskAccepted, true)
    } else {
        (Status::Active, false)
    };
    f.date = day;
    Ok(fit_to_domain(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Severity, TestId};
    use serde_json::json;

    #[test]
    fn an_issue_keeps_the_parser_mapping_and_gets_an_identity_and_verdict() {
        let raw = json!({
            "issue_type": { "type_index": "2097920", "name": "Cross-site scripting (reflected)",
                "vulnerability_classifications_html": "<ul><li><a href=\"https://cwe.mitre.org/data/definitions/79.html\">CWE-79: XSS</a></li></ul>" },
            "serial_number": "5601616512020228096", "severity": "high", "confidence": "false_positive",
            "origin": "https://shop.example.com", "path": "/search", "accepted_risk": false,
            "description_html": "The value of the <b>q</b> parameter is copied into the page."
        });
        let f = finding("7", None, raw, &Context::new(TestId(0))).expect("a finding");
        assert_eq!(f.title.as_str(), "Cross-site scripting (reflected)");
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.cwe, Some(79));
        assert_eq!(f.status, Status::FalsePositive);
        assert_eq!(
            f.unique_id_from_tool.as_deref(),
            Some("7|2097920|https://shop.example.com|/search")
        );
        assert_eq!(f.vuln_id_from_tool.as_deref(), Some("2097920"));
        assert_eq!(f.endpoints.len(), 1);
    }
}
