//! The simulator's worlds: the fixture world (the repository's Semgrep Pro export fixtures,
//! re-homed into two projects, plus Supply Chain findings in every state) and generated
//! findings for `add_record` and the benchmarks.

use super::state::{Deployment, Finding, IssueType, Project, Sca, State, Token, hex_id};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Map, Value};

/// The token the fixture world accepts (Web API scope).
pub const TOKEN: &str = "sgp_simulatorWebApiToken000000000000000";
/// A CI token of the same deployment: valid, but without the Web API scope.
pub const CI_TOKEN: &str = "sgp_simulatorCiAgentToken00000000000000";

const ONE_VULN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/semgrep_pro/one_vuln.json"
));
const MULTIPLE_CWES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/semgrep_pro/multiple_cwes_fabricated.json"
));

/// Real Semgrep rules with their CWE and OWASP names: what generated findings cite.
const RULES: &[(&str, &str, &str, &str)] = &[
    (
        "python.lang.security.audit.formatted-sql-query.formatted-sql-query",
        "Detected possible formatted SQL query. Use parameterized queries instead.",
        "CWE-89: Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
        "A03:2021 - Injection",
    ),
    (
        "javascript.express.security.audit.xss.direct-response-write.direct-response-write",
        "Detected directly writing to a Response object from user-defined input. This bypasses any HTML escaping and may expose your application to a Cross-Site-scripting (XSS) vulnerability.",
        "CWE-79: Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
        "A03:2021 - Injection",
    ),
    (
        "java.lang.security.audit.crypto.use-of-md5.use-of-md5",
        "Detected MD5 hash algorithm which is considered insecure. MD5 is not collision resistant and is therefore not suitable as a cryptographic signature.",
        "CWE-328: Use of Weak Hash",
        "A02:2021 - Cryptographic Failures",
    ),
    (
        "python.lang.security.audit.subprocess-shell-true.subprocess-shell-true",
        "Found 'subprocess' function with 'shell=True'. This is dangerous because this call will spawn the command using a shell process.",
        "CWE-78: Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
        "A03:2021 - Injection",
    ),
    (
        "generic.secrets.security.detected-aws-access-key-id-value.detected-aws-access-key-id-value",
        "AWS Access Key ID Value detected. This is a sensitive credential and should not be hardcoded here.",
        "CWE-798: Use of Hard-coded Credentials",
        "A07:2021 - Identification and Authentication Failures",
    ),
];

const SEVERITIES: &[&str] = &["high", "medium", "low", "critical", "medium"];

fn at(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

pub fn deployment(s: &mut State) {
    s.deployment = Some(Deployment {
        id: 120,
        slug: "acme".into(),
        name: "Acme Corp".into(),
    });
    s.tokens.push(Token {
        token: TOKEN.into(),
        web_api: true,
    });
    s.tokens.push(Token {
        token: CI_TOKEN.into(),
        web_api: false,
    });
}

pub fn add_project(s: &mut State, name: &str, created_at: DateTime<Utc>) -> u64 {
    let id = s.next_id();
    s.projects.insert(
        id,
        Project {
            id,
            name: name.to_owned(),
            url: format!("https://github.com/{name}"),
            tags: vec!["team:appsec".into()],
            created_at,
            latest_scan_at: created_at,
            default_branch: "refs/heads/main".into(),
            primary_branch: "refs/heads/main".into(),
            archived: false,
        },
    );
    id
}

/// Adds `n` open Code findings to a project, detected from `since` on, a minute apart.
pub fn generate(s: &mut State, project_id: u64, n: usize, since: DateTime<Utc>) {
    let base = s.findings.len();
    for i in 0..n {
        let (rule, message, cwe, owasp) = RULES[(base + i) % RULES.len()];
        let detected = since + TimeDelta::seconds(i as i64);
        let id = s.next_id();
        let file = format!("src/module_{}/handler_{}.py", i % 97, i % 13);
        let line = 10 + (i % 400) as u32;
        let key = id.to_string();
        s.findings.insert(
            id,
            Finding {
                id,
                project_id,
                issue_type: IssueType::Sast,
                rule_name: rule.into(),
                rule_message: message.into(),
                severity: SEVERITIES[(base + i) % SEVERITIES.len()].into(),
                confidence: "high".into(),
                category: "security".into(),
                cwe_names: vec![cwe.into()],
                owasp_names: vec![owasp.into()],
                file_path: file.clone(),
                line,
                match_based_id: format!("{}_0", hex_id(&[rule, &file, &key], 128)),
                syntactic_id: hex_id(&[rule, &file, &key, "syntactic"], 32),
                r#ref: "refs/heads/main".into(),
                created_at: detected,
                relevant_since: detected,
                state: "unresolved".into(),
                state_updated_at: detected,
                triage_state: "untriaged".into(),
                triage_reason: None,
                triaged_at: None,
                sca: None,
                extra: None,
            },
        );
    }
}

/// A fixture finding (an API export's `findings[]` entry) re-homed into `project_id`.
fn from_fixture(s: &mut State, project_id: u64, raw: &Value) -> Option<u64> {
    let obj = raw.as_object()?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
    let time = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let rule = obj.get("rule").and_then(Value::as_object);
    let names = |k: &str| -> Vec<String> {
        rule.and_then(|r| r.get(k))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let location = obj.get("location").and_then(Value::as_object);
    let created = time("created_at").unwrap_or_else(Utc::now);
    let mut extra = Map::new();
    for key in [
        "assistant",
        "external_ticket",
        "review_comments",
        "sourcing_policy",
        "first_seen_scan_id",
        "triage_comment",
        "rule",
    ] {
        if let Some(v) = obj.get(key) {
            extra.insert(key.to_owned(), v.clone());
        }
    }
    let id = s.next_id();
    let finding = Finding {
        id,
        project_id,
        issue_type: IssueType::Sast,
        rule_name: text("rule_name")?,
        rule_message: text("rule_message").unwrap_or_default(),
        severity: text("severity").unwrap_or_else(|| "medium".into()),
        confidence: text("confidence").unwrap_or_else(|| "medium".into()),
        category: "security".into(),
        cwe_names: names("cwe_names"),
        owasp_names: names("owasp_names"),
        file_path: location
            .and_then(|l| l.get("file_path"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        line: location
            .and_then(|l| l.get("line"))
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok())
            .unwrap_or(1),
        match_based_id: text("match_based_id")?,
        syntactic_id: text("syntactic_id").unwrap_or_else(|| hex_id(&[&id.to_string()], 32)),
        r#ref: text("ref").unwrap_or_else(|| "refs/heads/main".into()),
        created_at: created,
        relevant_since: time("relevant_since").unwrap_or(created),
        state: text("state").unwrap_or_else(|| "unresolved".into()),
        state_updated_at: time("state_updated_at").unwrap_or(created),
        triage_state: text("triage_state").unwrap_or_else(|| "untriaged".into()),
        triage_reason: text("triage_reason"),
        triaged_at: time("triaged_at"),
        sca: None,
        extra: Some(Box::new(extra)),
    };
    s.findings.insert(id, finding);
    Some(id)
}

fn fixture_findings(text: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("findings").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

/// A Supply Chain finding on `package@version`.
fn sca(
    s: &mut State,
    project_id: u64,
    vuln: &str,
    package: (&str, &str, &str),
    fixed: Option<&str>,
    severity: &str,
    detected: DateTime<Utc>,
) -> u64 {
    let id = s.next_id();
    let rule = format!("ssc-{}", hex_id(&[vuln, package.0], 8));
    let (name, version, ecosystem) = package;
    let file = match ecosystem {
        "npm" => "package-lock.json",
        "pypi" => "requirements.txt",
        "nuget" => "packages.lock.json",
        _ => "go.sum",
    };
    s.findings.insert(
        id,
        Finding {
            id,
            project_id,
            issue_type: IssueType::Sca,
            rule_name: rule.clone(),
            rule_message: format!(
                "{name} {version} is affected by {vuln}. Upgrade to a fixed version."
            ),
            severity: severity.into(),
            confidence: "high".into(),
            category: "security".into(),
            cwe_names: vec![],
            owasp_names: vec!["A06:2021 - Vulnerable and Outdated Components".into()],
            file_path: file.into(),
            line: 40 + (id % 200) as u32,
            match_based_id: format!("{}_0", hex_id(&[&rule, file, name], 128)),
            syntactic_id: hex_id(&[&rule, file, name, "syntactic"], 32),
            r#ref: "refs/heads/main".into(),
            created_at: detected,
            relevant_since: detected,
            state: "unresolved".into(),
            state_updated_at: detected,
            triage_state: "untriaged".into(),
            triage_reason: None,
            triaged_at: None,
            sca: Some(Box::new(Sca {
                vulnerability_identifier: vuln.into(),
                package: name.into(),
                version: version.into(),
                ecosystem: ecosystem.into(),
                transitivity: "direct".into(),
                fixed_version: fixed.map(str::to_owned),
                reachability: "reachable".into(),
                epss_score: Some(0.0213),
            })),
            extra: None,
        },
    );
    id
}

/// The fixture world: deployment `acme` with `acme/web` (the Semgrep Pro export fixtures,
/// generated Code findings and Supply Chain findings) and `acme/payments-api`, findings in
/// every state (open, fixed, ignored as false positive, ignored as acceptable risk, reviewing).
pub fn fixture_world(s: &mut State) {
    deployment(s);
    let web = add_project(s, "acme/web", at(2024, 9, 2, 8));
    let payments = add_project(s, "acme/payments-api", at(2024, 11, 18, 14));
    for raw in fixture_findings(ONE_VULN)
        .iter()
        .chain(fixture_findings(MULTIPLE_CWES).iter())
    {
        // Both fixtures describe the same finding (same match-based id): keep the first.
        let mbid = raw
            .get("match_based_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        if s.findings.values().any(|f| f.match_based_id == mbid) {
            continue;
        }
        from_fixture(s, web, raw);
    }
    generate(s, web, 6, at(2025, 3, 4, 9));
    sca(
        s,
        web,
        "CVE-2021-24112",
        ("System.Drawing.Common", "5.0.0", "nuget"),
        Some("5.0.3"),
        "critical",
        at(2025, 4, 1, 10),
    );
    sca(
        s,
        web,
        "CVE-2022-25883",
        ("semver", "7.3.5", "npm"),
        Some("7.5.2"),
        "medium",
        at(2025, 4, 2, 10),
    );
    generate(s, payments, 5, at(2025, 5, 12, 16));
    sca(
        s,
        payments,
        "CVE-2023-32681",
        ("requests", "2.28.1", "pypi"),
        Some("2.31.0"),
        "medium",
        at(2025, 5, 20, 7),
    );
    // Every state the API reports, on acme/payments-api.
    let ids = s.open_ids(payments, 4);
    let triaged = at(2025, 6, 1, 12);
    if let [fixed, fp, accepted, reviewing, ..] = ids.as_slice() {
        for (id, change) in [(*fixed, 0), (*fp, 1), (*accepted, 2), (*reviewing, 3)] {
            if let Some(f) = s.findings.get_mut(&id) {
                match change {
                    0 => {
                        f.state = "fixed".into();
                        f.state_updated_at = triaged;
                    }
                    1 => triage(f, "ignored", Some("false_positive"), triaged),
                    2 => triage(f, "ignored", Some("acceptable_risk"), triaged),
                    _ => triage(f, "reviewing", None, triaged),
                }
            }
        }
    }
}

pub fn triage(f: &mut Finding, state: &str, reason: Option<&str>, when: DateTime<Utc>) {
    f.triage_state = state.into();
    f.triage_reason = reason.map(str::to_owned);
    f.triaged_at = Some(when);
}
