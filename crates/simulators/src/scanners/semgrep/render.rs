//! The simulator's objects in Semgrep's JSON (`public_v1.openapi.yaml`: `Deployment`,
//! `ListProject`, `SastFinding`, `ScaFinding`).

use super::state::{Deployment, Finding, IssueType, Project};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn deployment(d: &Deployment, base: &str) -> Value {
    json!({
        "id": d.id,
        "slug": d.slug,
        "name": d.name,
        "findings": { "url": format!("{base}/api/v1/deployments/{}/findings", d.slug) },
    })
}

pub fn project(p: &Project) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "url": p.url,
        "tags": p.tags,
        "created_at": time(p.created_at),
        "latest_scan_at": time(p.latest_scan_at),
        "default_branch": p.default_branch,
        "primary_branch": p.primary_branch,
    })
}

pub fn finding(f: &Finding, project: &Project) -> Value {
    let mut out = match &f.extra {
        Some(extra) => Value::Object((**extra).clone()),
        None => json!({}),
    };
    let line_url = format!(
        "{}/blob/{}/{}#L{}",
        project.url,
        f.r#ref.trim_start_matches("refs/heads/"),
        f.file_path,
        f.line
    );
    let fields = json!({
        "id": f.id,
        "ref": f.r#ref,
        "syntactic_id": f.syntactic_id,
        "match_based_id": f.match_based_id,
        "repository": { "name": project.name, "url": project.url },
        "line_of_code_url": line_url,
        "triage_state": f.triage_state,
        "state": f.state,
        "status": f.status(),
        "severity": f.severity,
        "confidence": f.confidence,
        "categories": [f.category],
        "created_at": time(f.created_at),
        "relevant_since": time(f.relevant_since),
        "rule_name": f.rule_name,
        "rule_message": f.rule_message,
        "location": {
            "file_path": f.file_path,
            "line": f.line,
            "column": 5,
            "end_line": f.line,
            "end_column": 60,
        },
        "triaged_at": f.triaged_at.map(time),
        "triage_reason": f.triage_reason,
        "state_updated_at": time(f.state_updated_at),
    });
    if let (Value::Object(out), Value::Object(fields)) = (&mut out, fields) {
        out.extend(fields);
        // A fixture finding keeps its own rule object (its rule may differ from `rule_name`,
        // which Semgrep deprecated in favour of `rule.name`).
        out.entry("rule").or_insert_with(|| {
            json!({
                "name": f.rule_name,
                "message": f.rule_message,
                "confidence": f.confidence,
                "category": f.category,
                "subcategories": ["vuln"],
                "vulnerability_classes": [],
                "cwe_names": f.cwe_names,
                "owasp_names": f.owasp_names,
            })
        });
        if let (IssueType::Sca, Some(sca)) = (f.issue_type, &f.sca) {
            out.insert(
                "vulnerability_identifier".into(),
                json!(sca.vulnerability_identifier),
            );
            out.insert("reachability".into(), json!(sca.reachability));
            out.insert(
                "found_dependency".into(),
                json!({
                    "package": sca.package,
                    "version": sca.version,
                    "ecosystem": sca.ecosystem,
                    "transitivity": sca.transitivity,
                }),
            );
            let fixes: Vec<Value> = sca
                .fixed_version
                .iter()
                .map(|v| json!({ "package": sca.package, "version": v }))
                .collect();
            out.insert("fix_recommendations".into(), Value::Array(fixes));
            if let Some(score) = sca.epss_score {
                out.insert(
                    "epss_score".into(),
                    json!({ "score": score, "percentile": 0.9 }),
                );
            }
        }
    }
    out
}
