//! The simulator's objects as Snyk's REST resources (JSON:API `data` entries): users,
//! organizations, projects and issues.

use super::state::{Issue, Org, Place, Project, User};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn user(u: &User) -> Value {
    json!({
        "type": "user",
        "id": u.id,
        "attributes": { "name": u.name, "username": u.username, "email": u.email, "default_org_context": u.orgs.first() },
    })
}

pub fn org(o: &Org) -> Value {
    json!({
        "type": "org",
        "id": o.id,
        "attributes": { "name": o.name, "slug": o.slug, "is_personal": false, "group_id": o.group_id },
    })
}

pub fn project(p: &Project) -> Value {
    json!({
        "type": "project",
        "id": p.id,
        "attributes": {
            "name": p.name,
            "type": p.kind,
            "target_file": p.target_file,
            "target_reference": p.target_reference,
            "origin": p.origin,
            "created": time(p.created),
            "status": p.status,
            "read_only": false,
            "settings": { "recurring_tests": { "frequency": "daily" }, "pull_requests": { "fail_only_for_issues_with_fix": false } },
            "tags": [],
        },
        "relationships": {
            "organization": { "data": { "type": "org", "id": p.org_id }, "links": { "related": format!("/orgs/{}", p.org_id) } },
            "target": { "data": { "type": "target", "id": p.target_id } },
        },
    })
}

fn score_level(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        _ => "low",
    }
}

pub fn issue(i: &Issue) -> Value {
    let mut a: Map<String, Value> = i.extra.as_deref().cloned().unwrap_or_default();
    let mut set = |k: &str, v: Value| {
        a.insert(k.to_owned(), v);
    };
    set("key", json!(i.key));
    set("title", json!(i.title));
    set("type", json!(i.kind));
    set("status", json!(i.status));
    set("ignored", json!(i.ignored));
    set("effective_severity_level", json!(i.severity));
    set("created_at", json!(time(i.created)));
    set("updated_at", json!(time(i.updated)));
    if let Some((kind, at)) = &i.resolution {
        set(
            "resolution",
            json!({ "type": kind, "resolved_at": time(*at) }),
        );
    }
    if i.extra.is_none() {
        if let Some(cwe) = &i.cwe {
            set(
                "classes",
                json!([{ "id": cwe, "source": "CWE", "type": "weakness" }]),
            );
        }
        let mut problems = vec![
            json!({ "id": i.key, "source": "SNYK", "type": "vulnerability", "updated_at": time(i.updated) }),
        ];
        if let Some(cve) = &i.cve {
            problems.push(json!({
                "id": cve, "source": "NVD", "type": "vulnerability", "updated_at": time(i.updated),
                "url": format!("https://nvd.nist.gov/vuln/detail/{cve}"),
            }));
        }
        set("problems", Value::Array(problems));
        match &i.place {
            Place::Package { name, version } => set(
                "coordinates",
                json!([{
                    "is_fixable_manually": false, "is_fixable_snyk": true, "is_fixable_upstream": false,
                    "is_patchable": false, "is_pinnable": false, "is_upgradeable": true, "reachability": "not-applicable",
                    "representations": [{ "dependency": { "package_name": name, "package_version": version } }],
                }]),
            ),
            Place::Code { file, line, commit } => set(
                "coordinates",
                json!([{
                    "is_fixable_manually": false, "is_fixable_snyk": false, "is_fixable_upstream": false,
                    "representations": [{ "sourceLocation": {
                        "file": file, "commit_id": commit,
                        "region": { "start": { "line": line, "column": 9 }, "end": { "line": line, "column": 42 } },
                    } }],
                }]),
            ),
            Place::AsIs => {}
        }
        if let Some((score, vector)) = &i.cvss {
            set(
                "severities",
                json!([{ "source": "Snyk", "level": score_level(*score), "score": score, "vector": vector, "version": "3.1", "modification_time": time(i.created) }]),
            );
        }
        set(
            "risk",
            json!({ "factors": [], "score": { "model": "v1", "value": 400 + (i.seq % 500) } }),
        );
    }
    json!({
        "id": i.id,
        "type": "issue",
        "attributes": a,
        "relationships": {
            "organization": { "data": { "id": i.org_id, "type": "organization" }, "links": { "related": format!("/orgs/{}", i.org_id) } },
            "scan_item": {
                "data": { "id": i.project_id, "type": "project" },
                "links": { "related": format!("/orgs/{}/projects/{}", i.org_id, i.project_id) },
            },
        },
    })
}
