//! The simulator's objects in SonarQube's JSON (`issues/search`, `hotspots/search`,
//! `projects/search`, `components/search` answers, as their `search-example.json` show them).

use super::params::format_time;
use super::state::{Hotspot, Issue, Project, State};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub fn component_key(project: &str, path: Option<&str>) -> String {
    match path {
        Some(p) => format!("{project}:{p}"),
        None => project.to_owned(),
    }
}

pub fn issue(s: &State, i: &Issue) -> Value {
    let mut out: Map<String, Value> = i.extra.as_deref().cloned().unwrap_or_default();
    let mut set = |k: &str, v: Value| {
        out.insert(k.to_owned(), v);
    };
    set("key", json!(i.key));
    set("rule", json!(i.rule));
    set("severity", json!(i.severity));
    set(
        "component",
        json!(component_key(&i.project, i.path.as_deref())),
    );
    set("project", json!(i.project));
    if let Some(line) = i.line {
        set("line", json!(line));
        if !out.contains_key("textRange") {
            out.insert(
                "textRange".into(),
                json!({ "startLine": line, "endLine": line, "startOffset": 0, "endOffset": 40 }),
            );
        }
    }
    let mut set = |k: &str, v: Value| {
        out.insert(k.to_owned(), v);
    };
    set("status", json!(i.status));
    set("message", json!(i.message));
    set("tags", json!(i.tags));
    if let Some(e) = &i.effort {
        set("effort", json!(e));
        set("debt", json!(e));
    }
    set("author", json!(i.author));
    set("creationDate", json!(format_time(i.creation)));
    set("updateDate", json!(format_time(i.update)));
    set("type", json!(i.kind));
    if let Some(c) = i.close {
        set("closeDate", json!(format_time(c)));
    }
    if s.version_at_least(10, 2) {
        let quality = match i.kind.as_str() {
            "VULNERABILITY" => "SECURITY",
            "BUG" => "RELIABILITY",
            _ => "MAINTAINABILITY",
        };
        set(
            "impacts",
            json!([{ "softwareQuality": quality, "severity": i.impact_severity() }]),
        );
    }
    if s.version_at_least(10, 4) {
        set("issueStatus", json!(i.issue_status()));
    }
    match &i.resolution {
        Some(r) => set("resolution", json!(r)),
        None => {
            out.remove("resolution");
        }
    }
    Value::Object(out)
}

pub fn hotspot(h: &Hotspot) -> Value {
    let mut v = json!({
        "key": h.key,
        "component": component_key(&h.project, Some(&h.path)),
        "project": h.project,
        "securityCategory": h.security_category,
        "vulnerabilityProbability": h.vulnerability_probability,
        "status": h.status,
        "message": h.message,
        "author": h.author,
        "creationDate": format_time(h.creation),
        "updateDate": format_time(h.update),
        "ruleKey": h.rule_key,
        "flows": [],
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(line) = h.line {
            obj.insert("line".into(), json!(line));
            obj.insert(
                "textRange".into(),
                json!({ "startLine": line, "endLine": line, "startOffset": 0, "endOffset": 40 }),
            );
        }
        if let Some(r) = &h.resolution {
            obj.insert("resolution".into(), json!(r));
        }
    }
    v
}

/// The `components` of a page: each file once, and the projects.
pub fn components<'a>(
    s: &State,
    files: impl Iterator<Item = (&'a str, Option<&'a str>)>,
) -> Vec<Value> {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for (project, path) in files {
        let name = s.projects.get(project).map_or(project, |p| p.name.as_str());
        out.entry(project.to_owned()).or_insert_with(|| {
            json!({ "key": project, "enabled": true, "qualifier": "TRK", "name": name, "longName": name })
        });
        if let Some(path) = path {
            let key = component_key(project, Some(path));
            let file = path.rsplit('/').next().unwrap_or(path);
            out.entry(key.clone()).or_insert_with(|| {
                json!({ "key": key, "enabled": true, "qualifier": "FIL", "name": file, "longName": path, "path": path })
            });
        }
    }
    out.into_values().collect()
}

pub fn project(p: &Project) -> Value {
    json!({
        "key": p.key,
        "name": p.name,
        "qualifier": "TRK",
        "visibility": p.visibility,
        "lastAnalysisDate": format_time(p.last_analysis),
        "revision": p.revision,
    })
}

pub fn paging(p: u32, ps: u32, total: usize) -> Value {
    json!({ "pageIndex": p, "pageSize": ps, "total": total })
}
