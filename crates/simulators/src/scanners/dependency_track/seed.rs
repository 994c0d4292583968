//! The simulator's worlds: the API keys every world has; the fixture world, built from the
//! repository's Finding Packaging Format exports (fixtures/scans/dependency_track: the same
//! finding objects the findings API returns); generated findings for new projects and
//! benchmarks.

use super::api::{VIEW_PORTFOLIO, VIEW_VULNERABILITY};
use super::state::{Finding, Key, Project, State};
use chrono::{NaiveDateTime, Utc};
use serde_json::{Value, json};

/// A team API key with VIEW_PORTFOLIO and VIEW_VULNERABILITY.
pub const API_KEY: &str = "odt_Vb7Qk2mXc9LpR4tW8yZ1nF6hJ3gS5dA0";
/// A team API key with VIEW_PORTFOLIO only.
pub const PORTFOLIO_ONLY_API_KEY: &str = "odt_Pf3Xr8Lq1Mw6Zt2Ny9Kc4Hv7Bd5Js0Ga";

const FIXTURES: [&str; 4] = [
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/dependency_track/deptrack_php_4.14.1.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/dependency_track/many_findings_with_cvssV3_score.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/dependency_track/one_finding_with_analysis_detail.json"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/dependency_track/many_findings.json"
    )),
];

pub fn keys() -> State {
    State {
        version: "4.14.1".into(),
        keys: vec![
            Key {
                key: API_KEY.into(),
                team: "Automation".into(),
                team_uuid: "3c2e6f0a-5b1d-4e8f-9a7c-1d2b3c4d5e6f".into(),
                permissions: vec![
                    VIEW_PORTFOLIO.into(),
                    VIEW_VULNERABILITY.into(),
                    "BOM_UPLOAD".into(),
                ],
            },
            Key {
                key: PORTFOLIO_ONLY_API_KEY.into(),
                team: "Portfolio viewers".into(),
                team_uuid: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".into(),
                permissions: vec![VIEW_PORTFOLIO.into()],
            },
        ],
        ..State::default()
    }
}

/// A UUID (version 4 layout) from a number, so generated worlds are reproducible.
pub fn uuid_of(kind: u32, n: u64) -> String {
    format!(
        "{kind:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (n >> 32) & 0xffff,
        (n >> 20) & 0xfff,
        (n >> 8) & 0xfff,
        n
    )
}

/// Epoch milliseconds, as the API writes dates (exports write text).
fn millis(v: &Value) -> Option<Value> {
    if v.is_number() {
        return Some(v.clone());
    }
    let text = v.as_str()?;
    let t = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    Some(json!(t.and_utc().timestamp_millis()))
}

pub fn add_project(s: &mut State, uuid: &str, name: &str, version: Option<&str>, at: i64) {
    s.projects.push(Project {
        uuid: uuid.to_owned(),
        name: name.to_owned(),
        version: version.map(str::to_owned),
        active: true,
        parent: None,
        tags: Vec::new(),
        last_bom_import: at,
        last_analysis: at,
        deleted: false,
    });
}

/// The fixture world: four projects from the exports (the PHP application with findings
/// suppressed, not affected, exploitable and resolved; one in triage; one with a false
/// positive), and an inactive project.
pub fn fixture_world() -> State {
    let mut s = keys();
    let now = Utc::now().timestamp_millis();
    for text in FIXTURES {
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let Some(p) = doc.get("project") else {
            continue;
        };
        let (Some(uuid), Some(name)) = (
            p.get("uuid").and_then(Value::as_str),
            p.get("name").and_then(Value::as_str),
        ) else {
            continue;
        };
        add_project(
            &mut s,
            uuid,
            name,
            p.get("version").and_then(Value::as_str),
            now - 86_400_000,
        );
        for mut f in doc
            .get("findings")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            if let Some(c) = f.get_mut("component").and_then(Value::as_object_mut) {
                c.entry("project").or_insert_with(|| json!(uuid));
            }
            for pointer in ["/attribution/attributedOn", "/vulnerability/published"] {
                if let Some(slot) = f.pointer_mut(pointer)
                    && let Some(ms) = millis(slot)
                {
                    *slot = ms;
                }
            }
            s.findings.push(Finding::new(uuid, &f));
        }
    }
    let php = "ca4f2da9-0fad-4a13-92d7-f627f3168a57";
    let verdicts = [
        (1, "NOT_AFFECTED", true, Some("CODE_NOT_REACHABLE")),
        (2, "EXPLOITABLE", false, None),
        (3, "NOT_SET", true, None),
        (4, "RESOLVED", false, None),
    ];
    let ids: Vec<usize> = s.project_findings(php).map(|(i, _)| i).collect();
    for (nth, state, suppressed, justification) in verdicts {
        if let Some(f) = ids.get(nth).and_then(|i| s.findings.get_mut(*i)) {
            f.analyse(state, suppressed, justification);
        }
    }
    add_project(
        &mut s,
        &uuid_of(0x00ff_0001, 1),
        "legacy-portal",
        Some("0.9"),
        now - 400 * 86_400_000,
    );
    if let Some(p) = s.projects.last_mut() {
        p.active = false;
    }
    s
}

const LIBS: [(&str, &str, &str); 5] = [
    ("lodash", "4.17.15", "npm"),
    ("log4j-core", "2.14.1", "maven"),
    ("jackson-databind", "2.9.10", "maven"),
    ("requests", "2.25.0", "pypi"),
    ("guzzlehttp/guzzle", "7.4.1", "composer"),
];
const SEVERITIES: [(&str, f64); 4] = [
    ("CRITICAL", 9.8),
    ("HIGH", 7.5),
    ("MEDIUM", 5.3),
    ("LOW", 3.1),
];

/// `n` open findings in a project, one vulnerable component each.
pub fn generate(s: &mut State, project: &str, n: usize) {
    let base = s.findings.len() as u64;
    let now = Utc::now().timestamp_millis();
    for i in 0..n as u64 {
        let seq = base + i;
        let (lib, version, kind) = LIBS[(seq % LIBS.len() as u64) as usize];
        let (severity, score) = SEVERITIES[(seq % SEVERITIES.len() as u64) as usize];
        let component = uuid_of(0x00c0_0000, seq);
        let vuln = uuid_of(0x00f0_0000, seq);
        let cve = format!("CVE-2024-{:05}", 20_000 + seq % 70_000);
        let f = json!({
            "component": {
                "uuid": component, "name": lib, "version": version, "project": project,
                "purl": format!("pkg:{kind}/{lib}@{version}"),
            },
            "vulnerability": {
                "uuid": vuln, "source": "NVD", "vulnId": cve,
                "title": format!("{lib} {version} vulnerability"),
                "description": format!("{lib} before a later release is vulnerable."),
                "recommendation": format!("Upgrade {lib}."),
                "severity": severity, "severityRank": seq % 4,
                "cvssV3BaseScore": score, "cvssV3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "cweId": 502, "cweName": "Deserialization of Untrusted Data",
                "cwes": [{ "cweId": 502, "name": "Deserialization of Untrusted Data" }],
                "aliases": [], "published": now - 90 * 86_400_000, "epssScore": 0.01, "epssPercentile": 0.5,
            },
            "analysis": { "isSuppressed": false },
            "attribution": { "analyzerIdentity": "INTERNAL_ANALYZER", "attributedOn": now - 86_400_000 },
            "matrix": format!("{project}:{component}:{vuln}"),
        });
        s.findings.push(Finding::new(project, &f));
    }
}
