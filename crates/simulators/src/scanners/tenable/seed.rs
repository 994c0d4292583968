//! The simulator's worlds: API users every world has; the fixture world, built from the
//! repository's Tenable Vulnerability Management export (fixtures/scans/tenable/nessus/
//! nessus_new.csv: the same findings a vulnerability export returns, as CSV); and generated
//! findings for new scans and benchmarks.

use super::state::{Finding, Run, Scan, State, User, iso};
use chrono::Utc;
use serde_json::{Map, Value, json};

/// An administrator's API keys.
pub const ACCESS_KEY: &str = "7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub const SECRET_KEY: &str = "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a4938271605f4e3d2c1b0a";
/// A Basic [16] user's keys: may export, may not read scan history.
pub const BASIC_ACCESS_KEY: &str =
    "0b1c2d3e4f5061728394a5b6c7d8e9f00b1c2d3e4f5061728394a5b6c7d8e9f0";
pub const BASIC_SECRET_KEY: &str =
    "e0d9c8b7a6958473625140f3e2d1c0b9e0d9c8b7a6958473625140f3e2d1c0b9";

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/scans/tenable/nessus/nessus_new.csv"
));

pub fn users() -> State {
    State {
        users: vec![
            User {
                name: "vulnbridge@example.com".into(),
                access_key: ACCESS_KEY.into(),
                secret_key: SECRET_KEY.into(),
                role: 64,
            },
            User {
                name: "viewer@example.com".into(),
                access_key: BASIC_ACCESS_KEY.into(),
                secret_key: BASIC_SECRET_KEY.into(),
                role: 16,
            },
        ],
        next_run_id: 10_535_400,
        ..State::default()
    }
}

/// A Tenable-style UUID (the 36-character form; schedule UUIDs are longer).
pub fn uuid() -> String {
    let h = format!("{:032x}", rand::random::<u128>());
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn schedule_uuid() -> String {
    format!(
        "template-{:032x}{:016x}",
        rand::random::<u128>(),
        rand::random::<u64>()
    )
}

/// A scan with one completed run, started at `started`; returns its id.
pub fn add_scan(s: &mut State, name: &str, started: i64) -> u64 {
    let id = s.scans.keys().next_back().map_or(31, |k| k + 1);
    s.next_run_id += 1;
    let run = Run {
        id: s.next_run_id,
        uuid: uuid(),
        status: "completed".into(),
        time_start: started,
        time_end: Some(started + 1_800),
    };
    s.scans.insert(
        id,
        Scan {
            id,
            schedule_uuid: schedule_uuid(),
            name: name.to_owned(),
            owner: "vulnbridge@example.com".into(),
            kind: "remote".into(),
            created: started - 86_400,
            runs: vec![run],
            deleted: false,
        },
    );
    id
}

/// A new completed run of a scan, at `at`; returns its UUID.
pub fn add_run(s: &mut State, scan: u64, at: i64) -> Option<String> {
    s.next_run_id += 1;
    let run = Run {
        id: s.next_run_id,
        uuid: uuid(),
        status: "completed".into(),
        time_start: at - 1_800,
        time_end: Some(at),
    };
    let u = run.uuid.clone();
    s.scans.get_mut(&scan)?.runs.push(run);
    Some(u)
}

fn level(severity: &str) -> i64 {
    match severity.to_ascii_lowercase().as_str() {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

fn list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `BUGTRAQ=[32319], CERT=[958563], CVE=[CVE-2008-5161], CWE=[200]` as export `xrefs`.
fn xrefs(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for part in text.split("], ") {
        if let Some((kind, ids)) = part.split_once("=[") {
            for id in ids
                .trim_end_matches(']')
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
            {
                out.push(json!({ "type": kind.trim(), "id": id }));
            }
        }
    }
    out
}

/// One export record from a row of the fixture's CSV export.
fn from_row(
    row: &csv::StringRecord,
    col: &dyn Fn(&str) -> Option<usize>,
    scan: &Scan,
    run: &Run,
) -> Option<Value> {
    let get = |name: &str| {
        col(name)
            .and_then(|i| row.get(i))
            .map(str::trim)
            .unwrap_or("")
    };
    let num = |name: &str| get(name).parse::<f64>().ok();
    let flag = |name: &str| get(name).eq_ignore_ascii_case("true");
    let severity = get("severity").to_ascii_lowercase();
    let sev = level(&severity);
    let state = match get("state") {
        "RESURFACED" => "REOPENED",
        "FIXED" => "FIXED",
        _ => "OPEN",
    };
    let mut plugin = Map::new();
    plugin.insert(
        "id".into(),
        json!(get("definition.id").parse::<i64>().ok()?),
    );
    plugin.insert("name".into(), json!(get("definition.name")));
    plugin.insert("synopsis".into(), json!(get("definition.synopsis")));
    // The export's CSV header leaves the description's column unnamed.
    plugin.insert("description".into(), json!(get("")));
    plugin.insert("solution".into(), json!(get("definition.solution")));
    plugin.insert("family".into(), json!(get("definition.family")));
    plugin.insert(
        "type".into(),
        json!(get("definition.type").to_ascii_lowercase()),
    );
    plugin.insert("risk_factor".into(), json!(get("definition.severity")));
    plugin.insert("version".into(), json!(get("definition.plugin_version")));
    plugin.insert(
        "publication_date".into(),
        json!(get("definition.plugin_published")),
    );
    plugin.insert(
        "modification_date".into(),
        json!(get("definition.plugin_updated")),
    );
    plugin.insert(
        "has_patch".into(),
        json!(!get("definition.patch_published").is_empty()),
    );
    plugin.insert(
        "exploited_by_malware".into(),
        json!(flag("definition.exploited_by_malware")),
    );
    plugin.insert(
        "exploited_by_nessus".into(),
        json!(flag("definition.exploited_by_nessus")),
    );
    plugin.insert("in_the_news".into(), json!(flag("definition.in_the_news")));
    plugin.insert(
        "unsupported_by_vendor".into(),
        json!(flag("definition.unsupported_by_vendor")),
    );
    for (key, name) in [
        ("see_also", "definition.see_also"),
        ("cve", "definition.cve"),
        ("cpe", "definition.cpe"),
    ] {
        let items = list(get(name));
        if !items.is_empty() {
            plugin.insert(key.into(), json!(items));
        }
    }
    let refs = xrefs(get("definition.references"));
    if !refs.is_empty() {
        plugin.insert("xrefs".into(), json!(refs));
    }
    if let Some(score) = num("definition.cvss3.base_score") {
        plugin.insert("cvss3_base_score".into(), json!(score));
    }
    if !get("definition.cvss3.base_vector").is_empty() {
        plugin.insert(
            "cvss3_vector".into(),
            json!({ "raw": get("definition.cvss3.base_vector") }),
        );
    }
    if let Some(score) = num("definition.cvss2.base_score") {
        plugin.insert("cvss_base_score".into(), json!(score));
    }
    if let Some(score) = num("definition.vpr.score") {
        plugin.insert("vpr".into(), json!({ "score": score }));
    }
    if !get("definition.patch_published").is_empty() {
        plugin.insert(
            "patch_publication_date".into(),
            json!(get("definition.patch_published")),
        );
    }
    let mut asset = Map::new();
    asset.insert("uuid".into(), json!(get("asset.id")));
    for (key, name) in [
        ("hostname", "asset.host_name"),
        ("fqdn", "asset.display_fqdn"),
        ("ipv4", "asset.display_ipv4_address"),
        ("ipv6", "asset.display_ipv6_address"),
        ("mac_address", "asset.display_mac_address"),
        ("netbios_name", "asset.netbios_name"),
        ("network_id", "asset.network.id"),
        ("device_type", "asset.system_type"),
    ] {
        if !get(name).is_empty() {
            asset.insert(key.into(), json!(get(name)));
        }
    }
    if !get("asset.operating_system").is_empty() {
        asset.insert(
            "operating_system".into(),
            json!([get("asset.operating_system")]),
        );
    }
    asset.insert("tracked".into(), json!(true));
    let mut v = json!({
        "asset": asset,
        "output": get("output").trim_start_matches('\''),
        "plugin": plugin,
        "port": { "port": get("port").parse::<i64>().unwrap_or(0), "protocol": get("protocol"), "service": "" },
        "scan": {
            "uuid": run.uuid,
            "schedule_uuid": scan.schedule_uuid,
            "started_at": iso(run.time_start),
            "completed_at": iso(run.time_end.unwrap_or(run.time_start)),
        },
        "severity": severity,
        "severity_id": sev,
        "severity_default_id": sev,
        "severity_modification_type": get("risk_modified"),
        "first_found": get("first_observed"),
        // The run this world attributes the finding to is the one that last found it.
        "last_found": iso(run.time_start + 600),
        "state": state,
        "indexed": run.time_end.unwrap_or(run.time_start),
        "source": "NESSUS",
        "finding_id": get("id"),
    });
    if !get("recast_reason").is_empty() {
        v["recast_reason"] = json!(get("recast_reason"));
    }
    Some(v)
}

/// The fixture world: the export's 99 findings split between two scans, "Azure Linux hosts"
/// and "Azure perimeter", open, resurfaced, fixed and accepted.
pub fn fixture_world() -> State {
    let mut s = users();
    let now = Utc::now().timestamp();
    let ids = [
        add_scan(&mut s, "Azure Linux hosts", now - 3 * 86_400),
        add_scan(&mut s, "Azure perimeter", now - 2 * 86_400),
    ];
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_reader(FIXTURE.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map(|h| h.iter().map(|x| x.trim().to_owned()).collect())
        .unwrap_or_default();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut n = 0usize;
    for row in reader.records().flatten() {
        let Some(scan) = s.scans.get(&ids[n % 2]).cloned() else {
            continue;
        };
        let Some(run) = scan.latest_completed().cloned() else {
            continue;
        };
        if let Some(v) = from_row(&row, &col, &scan, &run)
            && let Some(f) = Finding::index(&v)
        {
            s.findings.push(f);
            n += 1;
        }
    }
    // What people and later scans did: the perimeter scan saw three findings fixed, and two
    // were accepted by a rule.
    let perimeter = s
        .scans
        .get(&ids[1])
        .map(|x| x.schedule_uuid.clone())
        .unwrap_or_default();
    let fixed: Vec<usize> = s
        .scan_findings(&perimeter)
        .map(|(i, _)| i)
        .take(5)
        .collect();
    for (k, i) in fixed.into_iter().enumerate() {
        let Some(f) = s.findings.get_mut(i) else {
            continue;
        };
        f.update(|o| {
            if k < 3 {
                o.insert("state".into(), json!("FIXED"));
                o.insert("last_fixed".into(), json!(iso(now - 2 * 86_400 + 1_800)));
            } else {
                o.insert("severity_modification_type".into(), json!("ACCEPTED"));
            }
        });
    }
    s
}

const PLUGINS: [(i64, &str, &str, &str, &str); 5] = [
    (
        201194,
        "OpenSSH < 9.8 RCE (regreSSHion)",
        "high",
        "CVE-2024-6387",
        "Upgrade to OpenSSH 9.8 or later.",
    ),
    (
        142960,
        "SSL Certificate Expiry",
        "medium",
        "",
        "Purchase or generate a new SSL certificate to replace the existing one.",
    ),
    (
        187315,
        "SSH Terrapin Prefix Truncation Weakness (CVE-2023-48795)",
        "medium",
        "CVE-2023-48795",
        "Contact the vendor for an update.",
    ),
    (
        156032,
        "Apache Log4Shell RCE detection",
        "critical",
        "CVE-2021-44228",
        "Upgrade to Apache Log4j version 2.15.0 or later.",
    ),
    (
        70658,
        "SSH Server CBC Mode Ciphers Enabled",
        "low",
        "CVE-2008-5161",
        "Disable CBC mode cipher encryption.",
    ),
];

const SCORES: [f64; 5] = [8.1, 5.3, 5.9, 10.0, 3.7];
const PORTS: [u16; 5] = [22, 443, 22, 8443, 22];

/// `n` open findings on a scan's latest run, spread over assets of up to 20 findings each.
pub fn generate(s: &mut State, scan: u64, n: usize) {
    let Some(sc) = s.scans.get(&scan).cloned() else {
        return;
    };
    let Some(run) = sc.latest_completed().cloned() else {
        return;
    };
    let base = s.findings.len();
    for i in 0..n {
        let seq = base + i;
        let (pid, name, severity, cve, solution) = PLUGINS[seq % PLUGINS.len()];
        let host = i / 20;
        let found = run.time_start - (seq % 30) as i64 * 86_400;
        let mut plugin = json!({
            "id": pid, "name": name, "synopsis": format!("The remote host is affected by {name}."),
            "description": format!("{name} was detected on the remote host."), "solution": solution,
            "family": "General", "type": "remote", "risk_factor": severity,
            "see_also": [format!("https://www.tenable.com/plugins/nessus/{pid}")],
            "cvss3_base_score": SCORES[seq % SCORES.len()],
        });
        if !cve.is_empty() {
            plugin["cve"] = json!([cve]);
        }
        let v = json!({
            "asset": {
                "uuid": format!("{:08x}-0000-4000-8000-{:012x}", scan, host),
                "hostname": format!("host-{scan}-{host}"),
                "fqdn": format!("host-{scan}-{host}.corp.example.com"),
                "ipv4": format!("10.{}.{}.{}", scan % 250, (host / 250) % 250, host % 250 + 1),
                "operating_system": ["Ubuntu 22.04"],
                "tracked": true,
            },
            "output": "Installed version : 8.9p1",
            "plugin": plugin,
            "port": { "port": PORTS[seq % PORTS.len()], "protocol": "TCP", "service": "" },
            "scan": { "uuid": run.uuid, "schedule_uuid": sc.schedule_uuid, "started_at": iso(run.time_start), "completed_at": iso(run.time_end.unwrap_or(run.time_start)) },
            "severity": severity,
            "severity_id": level(severity),
            "severity_default_id": level(severity),
            "severity_modification_type": "NONE",
            "first_found": iso(found),
            "last_found": iso(run.time_start + 600),
            "state": "OPEN",
            "indexed": run.time_end.unwrap_or(run.time_start),
            "source": "NESSUS",
            "finding_id": format!("{:08x}-{:04x}-5{:03x}-8{:03x}-{:012x}", seq, scan & 0xffff, seq % 0xfff, host % 0xfff, seq as u64 * 7919),
        });
        if let Some(f) = Finding::index(&v) {
            s.findings.push(f);
        }
    }
}
