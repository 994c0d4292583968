//! The simulator's worlds: the fixture world (DefectDojo's SonarQube API fixtures as two
//! projects, with vulnerabilities and hotspots in every state added) and generated issues
//! for `add_record` and the benchmarks.

use super::state::{Hotspot, Issue, Project, State, User};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// A user token that may browse every project (not an administrator).
pub const TOKEN: &str = "squ_simulatorUserToken00000000000000000000";
/// An administrator's token (Administer System: `api/projects/search`).
pub const ADMIN_TOKEN: &str = "squ_simulatorAdminToken0000000000000000000";
/// A valid token of a user who may browse no project.
pub const OUTSIDER_TOKEN: &str = "squ_simulatorOutsiderToken00000000000000";

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/scans/",
            $path
        ))
    };
}

const ISSUES: &str = fixture!("api_sonarqube/issues.json");
const PRODUCT: &str = fixture!("api_sonarqube/product.json");
const RULE: &str = fixture!("api_sonarqube/rule.json");
const HOTSPOTS: &str = fixture!("api_sonarqube/hotspots/many_vulns.json");
const HOTSPOT_RULE: &str = fixture!("api_sonarqube/hotspots/rule.json");
const OVER_API: &str = fixture!("sonarqube/findings_over_api.json");

/// Security rules generated vulnerabilities cite: key, name, severity, CWEs, message.
const RULES: &[(&str, &str, &str, &[u32], &str)] = &[
    (
        "javasecurity:S3649",
        "Database queries should not be vulnerable to injection attacks",
        "BLOCKER",
        &[89, 564, 943],
        "Change this code to not construct SQL queries directly from user-controlled data.",
    ),
    (
        "javasecurity:S5131",
        "Endpoints should not be vulnerable to reflected cross-site scripting (XSS) attacks",
        "BLOCKER",
        &[79, 80, 81],
        "Change this code to not reflect user-controlled data.",
    ),
    (
        "javasecurity:S2076",
        "OS commands should not be vulnerable to command injection attacks",
        "BLOCKER",
        &[78, 88],
        "Change this code to not construct the OS command from user-controlled data.",
    ),
    (
        "java:S5542",
        "Encryption algorithms should be used with secure mode and padding scheme",
        "CRITICAL",
        &[327, 780],
        "Use secure mode and padding scheme.",
    ),
    (
        "java:S4423",
        "Weak SSL/TLS protocols should not be used",
        "CRITICAL",
        &[326, 327],
        "Change this code to use a stronger protocol.",
    ),
    (
        "java:S2053",
        "Password hashing functions should use an unpredictable salt",
        "CRITICAL",
        &[759, 760],
        "Add an unpredictable salt value to this hash.",
    ),
];

fn parse_time(v: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = v?.as_str()?;
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn at(y: i32, mo: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, 9, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

pub fn users(s: &mut State) {
    for (login, token, admin, browse) in [
        ("vulnbridge", TOKEN, false, None),
        ("admin", ADMIN_TOKEN, true, None),
        ("outsider", OUTSIDER_TOKEN, false, Some(BTreeSet::new())),
    ] {
        s.users.push(User {
            login: login.into(),
            name: login.into(),
            tokens: vec![token.into()],
            admin,
            browse,
        });
    }
}

pub fn add_project(s: &mut State, key: &str, name: &str, analysed: DateTime<Utc>) {
    s.projects.insert(
        key.to_owned(),
        Project {
            key: key.into(),
            name: name.into(),
            visibility: "private".into(),
            last_analysis: analysed,
            revision: "c6a2b1e0f4d3".into(),
        },
    );
    s.issues.entry(key.to_owned()).or_default();
    s.hotspots.entry(key.to_owned()).or_default();
}

/// The security rules, as `api/rules/show` describes them.
fn rules(s: &mut State) {
    for (key, name, severity, cwes, _) in RULES {
        let (repo, _) = key.split_once(':').unwrap_or((key, ""));
        let mut standards: Vec<String> = cwes.iter().map(|c| format!("cwe:{c}")).collect();
        standards.push("owaspTop10-2021:a3".into());
        let links: String = cwes
            .iter()
            .map(|c| {
                format!(
                    "<li> <a href=\"https://cwe.mitre.org/data/definitions/{c}\">CWE-{c}</a> </li>"
                )
            })
            .collect();
        s.rules.insert(
            (*key).to_owned(),
            json!({
                "key": key, "repo": repo, "name": name, "severity": severity, "status": "READY", "type": "VULNERABILITY",
                "lang": "java", "langName": "Java", "isTemplate": false, "tags": [], "sysTags": ["cwe", "owasp"],
                "securityStandards": standards,
                "htmlDesc": format!("<p>{name}.</p><h2>See</h2><ul>{links}</ul>"),
            }),
        );
    }
    for text in [RULE] {
        if let Ok(rule) = serde_json::from_str::<Value>(text)
            && let Some(key) = rule.get("key").and_then(Value::as_str)
        {
            s.rules.insert(key.to_owned(), rule.clone());
        }
    }
    // The hotspot fixture's rule comes from `api/hotspots/show`; `api/rules/show` describes
    // the same rule with its description and security standards.
    if let Ok(h) = serde_json::from_str::<Value>(HOTSPOT_RULE) {
        let key = h.get("key").and_then(Value::as_str).unwrap_or("ruby:S2068");
        s.rules.insert(
            key.to_owned(),
            json!({
                "key": key, "repo": "ruby", "name": h.get("name"), "severity": "BLOCKER", "status": "READY",
                "type": "SECURITY_HOTSPOT", "lang": "ruby", "langName": "Ruby",
                "htmlDesc": h.get("riskDescription"), "securityStandards": ["cwe:798", "cwe:259", "owaspTop10-2021:a7"],
            }),
        );
    }
}

/// A fixture issue (an `issues/search` entry), its unmodelled fields kept as they are.
fn issue_from(raw: &Value) -> Option<Issue> {
    let o = raw.as_object()?;
    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let project = text("project")?;
    let component = text("component").unwrap_or_else(|| project.clone());
    let path = component
        .strip_prefix(&format!("{project}:"))
        .map(str::to_owned);
    let creation = parse_time(o.get("creationDate")).unwrap_or_else(Utc::now);
    let modelled = [
        "key",
        "rule",
        "severity",
        "component",
        "project",
        "line",
        "type",
        "status",
        "resolution",
        "message",
        "tags",
        "effort",
        "author",
        "creationDate",
        "updateDate",
        "closeDate",
        "issueStatus",
        "impacts",
    ];
    let extra: Map<String, Value> = o
        .iter()
        .filter(|(k, _)| !modelled.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(Issue {
        key: text("key")?,
        rule: text("rule")?,
        severity: text("severity").unwrap_or_else(|| "MAJOR".into()),
        path,
        project,
        line: o
            .get("line")
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok()),
        kind: text("type").unwrap_or_else(|| "CODE_SMELL".into()),
        status: text("status").unwrap_or_else(|| "OPEN".into()),
        resolution: text("resolution"),
        message: text("message").unwrap_or_default(),
        tags: o
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        effort: text("effort"),
        author: text("author").unwrap_or_default(),
        creation,
        update: parse_time(o.get("updateDate")).unwrap_or(creation),
        close: parse_time(o.get("closeDate")),
        extra: Some(Box::new(extra)),
    })
}

fn hotspot_from(raw: &Value, rule: &str) -> Option<Hotspot> {
    let o = raw.as_object()?;
    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let project = text("project")?;
    let component = text("component")?;
    let creation = parse_time(o.get("creationDate")).unwrap_or_else(Utc::now);
    Some(Hotspot {
        key: text("key")?,
        rule_key: text("ruleKey").unwrap_or_else(|| rule.to_owned()),
        path: component
            .strip_prefix(&format!("{project}:"))
            .unwrap_or(&component)
            .to_owned(),
        project,
        security_category: text("securityCategory").unwrap_or_else(|| "others".into()),
        vulnerability_probability: text("vulnerabilityProbability").unwrap_or_else(|| "LOW".into()),
        status: text("status").unwrap_or_else(|| "TO_REVIEW".into()),
        resolution: text("resolution"),
        line: o
            .get("line")
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok()),
        message: text("message").unwrap_or_default(),
        author: text("author").unwrap_or_default(),
        creation,
        update: parse_time(o.get("updateDate")).unwrap_or(creation),
    })
}

/// Adds `n` open vulnerabilities to a project, created a second apart from `since` (or all at
/// `since` when `same_second`).
pub fn vulnerabilities(
    s: &mut State,
    project: &str,
    n: usize,
    since: DateTime<Utc>,
    same_second: bool,
) {
    let base = s.issues.get(project).map_or(0, Vec::len);
    let mut new = Vec::with_capacity(n);
    for i in 0..n {
        let (rule, _, severity, cwes, message) = RULES[(base + i) % RULES.len()];
        let created = if same_second {
            since
        } else {
            since + TimeDelta::seconds(i as i64)
        };
        let path = format!("src/main/java/acme/module{}/Service{}.java", i % 53, i % 17);
        new.push(Issue {
            key: s.next_key(),
            rule: rule.into(),
            severity: severity.into(),
            path: Some(path),
            project: project.to_owned(),
            line: Some(20 + (i % 300) as u32),
            kind: "VULNERABILITY".into(),
            status: "OPEN".into(),
            resolution: None,
            message: message.into(),
            tags: vec!["cwe".into(), format!("cwe-{}", cwes[0])],
            effort: Some("30min".into()),
            author: "dev@acme.example".into(),
            creation: created,
            update: created,
            close: None,
            extra: None,
        });
    }
    s.issues.entry(project.to_owned()).or_default().extend(new);
}

pub fn hotspot(
    s: &mut State,
    project: &str,
    status: &str,
    resolution: Option<&str>,
    when: DateTime<Utc>,
) {
    let key = s.next_key();
    let n = s.hotspots.get(project).map_or(0, Vec::len);
    s.hotspots
        .entry(project.to_owned())
        .or_default()
        .push(Hotspot {
            key,
            rule_key: "java:S4790".into(),
            path: format!("src/main/java/acme/Crypto{n}.java"),
            project: project.to_owned(),
            security_category: "weak-cryptography".into(),
            vulnerability_probability: "MEDIUM".into(),
            status: status.into(),
            resolution: resolution.map(str::to_owned),
            line: Some(18 + n as u32),
            message: "Make sure this weak hash algorithm is not used in a sensitive context here."
                .into(),
            author: "dev@acme.example".into(),
            creation: when,
            update: when,
        });
}

/// Resolves an issue as SonarQube's workflow does (a fix closes it; a person resolves it).
pub fn resolve(i: &mut Issue, resolution: &str, when: DateTime<Utc>) {
    i.status = if resolution == "FIXED" || resolution == "REMOVED" {
        "CLOSED"
    } else {
        "RESOLVED"
    }
    .into();
    i.resolution = Some(resolution.into());
    i.update = when;
    if i.status == "CLOSED" {
        i.close = Some(when);
    }
}

pub fn review(h: &mut Hotspot, resolution: &str, when: DateTime<Utc>) {
    h.status = "REVIEWED".into();
    h.resolution = Some(resolution.into());
    h.update = when;
}

/// The fixture world: `internal.dummy.project` (DefectDojo's `api_sonarqube` issues and
/// hotspots, plus vulnerabilities open, fixed, false positive and accepted, and reviewed
/// hotspots) and `testapplication` (the `findings_over_api.json` export).
pub fn fixture_world(s: &mut State) {
    users(s);
    rules(s);
    let product: Value = serde_json::from_str(PRODUCT).unwrap_or(Value::Null);
    let dummy = product
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or("internal.dummy.project")
        .to_owned();
    let dummy_name = product
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("project")
        .to_owned();
    add_project(
        s,
        &dummy,
        &dummy_name,
        parse_time(product.get("lastAnalysisDate")).unwrap_or_else(|| at(2025, 5, 20)),
    );
    add_project(s, "testapplication", "testapplication", at(2023, 11, 3));

    let mut seen = BTreeSet::new();
    for text in [ISSUES, OVER_API] {
        let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let list = value
            .as_array()
            .cloned()
            .or_else(|| value.get("issues").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        for raw in &list {
            // The export repeats one key (a fabricated duplicate): SonarQube keys are unique.
            if let Some(issue) = issue_from(raw).filter(|i| seen.insert(i.key.clone())) {
                s.issues
                    .entry(issue.project.clone())
                    .or_default()
                    .push(issue);
            }
        }
    }
    let hotspots: Value = serde_json::from_str(HOTSPOTS).unwrap_or(Value::Null);
    for raw in hotspots.as_array().into_iter().flatten() {
        if let Some(h) = hotspot_from(raw, "ruby:S2068") {
            s.hotspots.entry(h.project.clone()).or_default().push(h);
        }
    }
    vulnerabilities(s, &dummy, 6, at(2025, 4, 2), false);
    let later = at(2025, 5, 20);
    let open: Vec<usize> = s.open_refs(&dummy).0;
    if let (Some(issues), [fixed, fp, accepted, ..]) = (s.issues.get_mut(&dummy), open.as_slice()) {
        resolve(&mut issues[*fixed], "FIXED", later);
        resolve(&mut issues[*fp], "FALSE-POSITIVE", later);
        resolve(&mut issues[*accepted], "WONTFIX", later);
    }
    hotspot(s, &dummy, "REVIEWED", Some("SAFE"), later);
    hotspot(s, &dummy, "REVIEWED", Some("ACKNOWLEDGED"), later);
    hotspot(s, &dummy, "REVIEWED", Some("FIXED"), later);
}
