//! The simulator's worlds: the fixture world (DefectDojo's Snyk issues-API fixtures, in two
//! organizations, with open, resolved, ignored and license issues around them) and generated
//! issues for `add_record` and the benchmarks.

use super::state::{Issue, Org, Place, Project, State, User, uuid_of};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Map, Value};

/// An API token of a user in the organizations `acme` and `acme-labs`.
pub const TOKEN: &str = "5nyk-simulator-user-token-0000000000000";
/// A valid token of a user in no organization.
pub const OUTSIDER_TOKEN: &str = "5nyk-simulator-outsider-token-00000000";

const SCA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/snyk_issue_api/snyk_sca_scan_api_single_vuln.json"
));
const CODE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/snyk_issue_api/snyk_code_scan_api_many_vuln.json"
));

/// A real advisory generated open-source issues cite.
#[derive(Clone, Copy)]
struct Advisory {
    snyk: &'static str,
    title: &'static str,
    package: &'static str,
    version: &'static str,
    cwe: &'static str,
    cve: &'static str,
    score: f64,
    vector: &'static str,
}

const ADVISORIES: &[Advisory] = &[
    Advisory {
        snyk: "SNYK-JS-LODASH-1040724",
        title: "Command Injection",
        package: "lodash",
        version: "4.17.20",
        cwe: "CWE-78",
        cve: "CVE-2021-23337",
        score: 7.2,
        vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
    },
    Advisory {
        snyk: "SNYK-JS-MINIMIST-2429795",
        title: "Prototype Pollution",
        package: "minimist",
        version: "1.2.5",
        cwe: "CWE-1321",
        cve: "CVE-2021-44906",
        score: 9.8,
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    },
    Advisory {
        snyk: "SNYK-PYTHON-REQUESTS-5595532",
        title: "Information Exposure",
        package: "requests",
        version: "2.28.1",
        cwe: "CWE-200",
        cve: "CVE-2023-32681",
        score: 6.1,
        vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
    },
    Advisory {
        snyk: "SNYK-JAVA-ORGAPACHELOGGINGLOG4J-2314720",
        title: "Remote Code Execution (RCE)",
        package: "org.apache.logging.log4j:log4j-core",
        version: "2.14.1",
        cwe: "CWE-502",
        cve: "CVE-2021-44228",
        score: 10.0,
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
    },
    Advisory {
        snyk: "SNYK-JS-AXIOS-6032459",
        title: "Cross-site Request Forgery (CSRF)",
        package: "axios",
        version: "0.21.1",
        cwe: "CWE-352",
        cve: "CVE-2023-45857",
        score: 5.4,
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N",
    },
];

fn at(y: i32, mo: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, 10, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

fn level(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        _ => "low",
    }
}

pub fn add_org(s: &mut State, slug: &str, name: &str) -> String {
    let id = uuid_of(&format!("org/{slug}"));
    let seq = s.next_seq();
    s.orgs.insert(
        id.clone(),
        Org {
            id: id.clone(),
            name: name.into(),
            slug: slug.into(),
            group_id: Some(uuid_of("group/acme")),
            seq,
        },
    );
    id
}

pub fn add_user(s: &mut State, username: &str, token: &str, orgs: Vec<String>) {
    s.users.push(User {
        id: uuid_of(&format!("user/{username}")),
        name: username.into(),
        username: username.into(),
        email: format!("{username}@acme.example"),
        token: token.into(),
        orgs,
    });
}

pub fn add_project(
    s: &mut State,
    org_id: &str,
    name: &str,
    kind: &str,
    target_file: &str,
    created: DateTime<Utc>,
) -> String {
    let id = s.next_uuid(&format!("project/{name}"));
    let seq = s.next_seq();
    s.projects.insert(
        id.clone(),
        Project {
            id: id.clone(),
            org_id: org_id.into(),
            name: name.into(),
            kind: kind.into(),
            target_file: target_file.into(),
            target_reference: "main".into(),
            origin: "github".into(),
            status: "active".into(),
            created,
            target_id: uuid_of(&format!(
                "target/{}",
                name.split(':').next().unwrap_or(name)
            )),
            seq,
        },
    );
    id
}

/// Adds `n` open open-source issues to a project, created a second apart from `since`.
pub fn open_source(s: &mut State, project_id: &str, n: usize, since: DateTime<Utc>) {
    let Some(org_id) = s.projects.get(project_id).map(|p| p.org_id.clone()) else {
        return;
    };
    let base = s
        .issues
        .values()
        .filter(|i| i.project_id == project_id)
        .count();
    for i in 0..n {
        let k = base + i;
        let Advisory {
            snyk,
            title,
            package,
            version,
            cwe,
            cve,
            score,
            vector,
        } = ADVISORIES[k % ADVISORIES.len()];
        // Past the first round, further (fictitious) advisories of the same kind.
        let key = if k < ADVISORIES.len() {
            snyk.to_owned()
        } else {
            format!("{snyk}{}", k / ADVISORIES.len())
        };
        let created = since + TimeDelta::seconds(i as i64);
        let id = s.next_uuid(&format!("issue/{project_id}"));
        let seq = s.next_seq();
        s.issues.insert(
            seq,
            Issue {
                id,
                org_id: org_id.clone(),
                project_id: project_id.into(),
                key,
                title: title.into(),
                kind: "package_vulnerability".into(),
                severity: level(score).into(),
                status: "open".into(),
                ignored: false,
                resolution: None,
                created,
                updated: created,
                cwe: Some(cwe.into()),
                cve: Some(cve.into()),
                cvss: Some((score, vector.into())),
                place: Place::Package {
                    name: package.into(),
                    version: version.into(),
                },
                seq,
                extra: None,
            },
        );
    }
}

/// Snyk Code findings generated issues cite: title, CWE, severity, file.
const CODE_RULES: &[(&str, &str, &str, &str)] = &[
    ("SQL Injection", "CWE-89", "high", "src/routes/users.js"),
    ("Path Traversal", "CWE-23", "high", "src/routes/files.js"),
    (
        "Use of Hardcoded Credentials",
        "CWE-798",
        "medium",
        "src/config/db.js",
    ),
];

/// Adds `n` open Snyk Code issues to a project, created a second apart from `since`.
pub fn code(s: &mut State, project_id: &str, n: usize, since: DateTime<Utc>) {
    let Some(org_id) = s.projects.get(project_id).map(|p| p.org_id.clone()) else {
        return;
    };
    for i in 0..n {
        let (title, cwe, severity, file) = CODE_RULES[i % CODE_RULES.len()];
        let created = since + TimeDelta::seconds(i as i64);
        let id = s.next_uuid(&format!("issue/{project_id}"));
        let seq = s.next_seq();
        s.issues.insert(
            seq,
            Issue {
                key: uuid_of(&format!("key/{id}")),
                id,
                org_id: org_id.clone(),
                project_id: project_id.into(),
                title: title.into(),
                kind: "code".into(),
                severity: severity.into(),
                status: "open".into(),
                ignored: false,
                resolution: None,
                created,
                updated: created,
                cwe: Some(cwe.into()),
                cve: None,
                cvss: None,
                place: Place::Code {
                    file: file.into(),
                    line: 20 + i as u32,
                    commit: "5ab48c7da75182753420725182db92b679c1e4f0".into(),
                },
                seq,
                extra: None,
            },
        );
    }
}

/// The fixture's issues (a REST issues page) moved into `project_id`.
fn from_fixture(s: &mut State, project_id: &str, text: &str) {
    let Some(org_id) = s.projects.get(project_id).map(|p| p.org_id.clone()) else {
        return;
    };
    let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    for raw in doc
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(id), Some(attrs)) = (
            raw.get("id").and_then(Value::as_str),
            raw.get("attributes").and_then(Value::as_object),
        ) else {
            continue;
        };
        let text = |k: &str| attrs.get(k).and_then(Value::as_str).map(str::to_owned);
        let time = |k: &str| {
            attrs
                .get(k)
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let created = time("created_at").unwrap_or_else(Utc::now);
        let modelled = [
            "key",
            "title",
            "type",
            "status",
            "ignored",
            "effective_severity_level",
            "created_at",
            "updated_at",
            "resolution",
        ];
        let extra: Map<String, Value> = attrs
            .iter()
            .filter(|(k, _)| !modelled.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let seq = s.next_seq();
        s.issues.insert(
            seq,
            Issue {
                id: id.to_owned(),
                org_id: org_id.clone(),
                project_id: project_id.into(),
                key: text("key").unwrap_or_else(|| id.to_owned()),
                title: text("title").unwrap_or_default(),
                kind: text("type").unwrap_or_else(|| "package_vulnerability".into()),
                severity: text("effective_severity_level").unwrap_or_else(|| "medium".into()),
                status: text("status").unwrap_or_else(|| "open".into()),
                ignored: attrs
                    .get("ignored")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                resolution: None,
                created,
                updated: time("updated_at").unwrap_or(created),
                cwe: None,
                cve: None,
                cvss: None,
                place: Place::AsIs,
                seq,
                extra: Some(Box::new(extra)),
            },
        );
    }
}

pub fn resolve(i: &mut Issue, when: DateTime<Utc>) {
    i.status = "resolved".into();
    i.resolution = Some(("fixed".into(), when));
    i.updated = when;
}

pub fn ignore(i: &mut Issue, when: DateTime<Utc>) {
    i.ignored = true;
    i.updated = when;
}

/// The fixture world: org `acme` with `acme/web:requirements.txt` (pip: the open-source
/// fixture issue, ignored, and generated ones, one resolved, one ignored, and a license issue)
/// and `acme/web` (Snyk Code: the code fixture issues and generated ones); org `acme-labs` with an npm project;
/// org `other-corp`, which the token's user is not in.
pub fn fixture_world(s: &mut State) {
    let acme = add_org(s, "acme", "Acme");
    let labs = add_org(s, "acme-labs", "Acme Labs");
    let other = add_org(s, "other-corp", "Other Corp");
    add_user(s, "vulnbridge", TOKEN, vec![acme.clone(), labs.clone()]);
    add_user(s, "outsider", OUTSIDER_TOKEN, vec![]);

    let pip = add_project(
        s,
        &acme,
        "acme/web:requirements.txt",
        "pip",
        "requirements.txt",
        at(2025, 1, 10),
    );
    from_fixture(s, &pip, SCA);
    open_source(s, &pip, 4, at(2025, 3, 1));
    let later = at(2025, 6, 2);
    let open: Vec<u64> = s
        .issues
        .values()
        .filter(|i| i.project_id == pip && i.is_open_vulnerability())
        .map(|i| i.seq)
        .collect();
    if let [first, second, ..] = open.as_slice() {
        if let Some(i) = s.issues.get_mut(first) {
            resolve(i, later);
        }
        if let Some(i) = s.issues.get_mut(second) {
            ignore(i, later);
        }
    }
    let license = s.next_uuid("issue/license");
    let seq = s.next_seq();
    s.issues.insert(
        seq,
        Issue {
            id: license,
            org_id: acme.clone(),
            project_id: pip.clone(),
            key: "snyk:lic:pip:chardet:LGPL-2.1".into(),
            title: "LGPL-2.1 license".into(),
            kind: "license".into(),
            severity: "medium".into(),
            status: "open".into(),
            ignored: false,
            resolution: None,
            created: at(2025, 3, 2),
            updated: at(2025, 3, 2),
            cwe: None,
            cve: None,
            cvss: None,
            place: Place::Package {
                name: "chardet".into(),
                version: "4.0.0".into(),
            },
            seq,
            extra: None,
        },
    );

    let sast = add_project(s, &acme, "acme/web", "sast", "", at(2025, 1, 10));
    from_fixture(s, &sast, CODE);
    code(s, &sast, 2, at(2025, 5, 5));

    let npm = add_project(
        s,
        &labs,
        "acme-labs/api:package.json",
        "npm",
        "package.json",
        at(2025, 2, 14),
    );
    open_source(s, &npm, 3, at(2025, 4, 20));
    let theirs = add_project(
        s,
        &other,
        "other-corp/app:pom.xml",
        "maven",
        "pom.xml",
        at(2025, 2, 14),
    );
    open_source(s, &theirs, 1, at(2025, 4, 20));
}
