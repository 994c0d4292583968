//! Results as the simulator keeps them and as `GET /api/results` renders them: the fields the
//! API filters, sorts and triages on, and the rest of the result either from a fixture (the
//! repository's results exports, kept as they are) or generated from its number.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Where the rest of a result comes from.
#[derive(Clone, Debug)]
pub enum Body {
    /// A result object from a fixture export.
    Fixture(Arc<Value>),
    /// A generated SAST or SCA result, the `n`th of its project.
    Generated(u32),
}

#[derive(Clone, Debug, Serialize)]
pub struct CxResult {
    pub id: String,
    #[serde(rename = "similarityId")]
    pub similarity_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// CRITICAL, HIGH, MEDIUM, LOW or INFO.
    pub severity: String,
    /// TO_VERIFY, NOT_EXPLOITABLE, PROPOSED_NOT_EXPLOITABLE, CONFIRMED, URGENT or a custom one.
    pub state: String,
    #[serde(rename = "firstFoundAt")]
    pub first_found_at: DateTime<Utc>,
    #[serde(rename = "firstScanId")]
    pub first_scan_id: String,
    #[serde(skip)]
    pub body: Body,
}

impl CxResult {
    /// Not triaged as not exploitable.
    pub fn is_open(&self) -> bool {
        self.state != "NOT_EXPLOITABLE"
    }

    /// Severity rank for sorting: INFO 0 … CRITICAL 4.
    pub fn severity_rank(&self) -> u8 {
        match self.severity.as_str() {
            "CRITICAL" => 4,
            "HIGH" => 3,
            "MEDIUM" => 2,
            "LOW" => 1,
            _ => 0,
        }
    }

    /// The result as the API returns it in a scan found at `found_at`, with `status` NEW or
    /// RECURRENT.
    pub fn render(&self, status: &str, found_at: DateTime<Utc>) -> Value {
        let mut out = match &self.body {
            Body::Fixture(v) => (**v).clone(),
            Body::Generated(n) => generated(*n, &self.kind),
        };
        let stamp = |t: DateTime<Utc>| json!(t.to_rfc3339_opts(SecondsFormat::Secs, true));
        if let Value::Object(o) = &mut out {
            o.insert("type".into(), json!(self.kind));
            o.insert("id".into(), json!(self.id));
            o.insert("similarityId".into(), json!(self.similarity_id));
            o.insert("status".into(), json!(status));
            o.insert("state".into(), json!(self.state));
            o.insert("severity".into(), json!(self.severity));
            o.insert("created".into(), stamp(found_at));
            o.insert("firstFoundAt".into(), stamp(self.first_found_at));
            o.insert("foundAt".into(), stamp(found_at));
            o.insert("firstScanId".into(), json!(self.first_scan_id));
        }
        out
    }
}

/// SAST queries generated results cycle through: name, group, language, CWE, file.
const QUERIES: &[(&str, &str, &str, u32, &str)] = &[
    (
        "SQL_Injection",
        "Java_High_Risk",
        "Java",
        89,
        "/src/main/java/com/acme/OrderDao.java",
    ),
    (
        "Reflected_XSS_All_Clients",
        "Java_High_Risk",
        "Java",
        79,
        "/src/main/java/com/acme/SearchServlet.java",
    ),
    (
        "Path_Traversal",
        "Java_Medium_Threat",
        "Java",
        22,
        "/src/main/java/com/acme/FileController.java",
    ),
    (
        "SSL_Verification_Bypass",
        "Python_Medium_Threat",
        "Python",
        599,
        "/robot/client.py",
    ),
    (
        "Missing_HSTS_Header",
        "JavaScript_Low_Visibility",
        "JavaScript",
        346,
        "/web/server.js",
    ),
];

/// The severity and id-bearing fields of the `n`th generated result of a project: every fifth
/// is an SCA vulnerability of a package, the rest SAST query results.
pub fn generated_result(
    project_ordinal: u32,
    n: u32,
    scan_id: &str,
    at: DateTime<Utc>,
) -> CxResult {
    let kind = if n % 5 == 4 { "sca" } else { "sast" };
    let severity = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"][(n % 5) as usize];
    let (id, similarity) = if kind == "sca" {
        (
            format!("CVE-2024-{:05}", 10_000 + n),
            format!("CVE-2024-{:05}", 10_000 + n),
        )
    } else {
        let h = mix(u64::from(project_ordinal) << 32 | u64::from(n));
        (short_hash(h), format!("{}", (h >> 33) as i64 - (1 << 30)))
    };
    CxResult {
        id,
        similarity_id: similarity,
        kind: kind.into(),
        severity: severity.into(),
        state: "TO_VERIFY".into(),
        first_found_at: at,
        first_scan_id: scan_id.into(),
        body: Body::Generated(n),
    }
}

fn generated(n: u32, kind: &str) -> Value {
    if kind == "sca" {
        let package = format!("left-pad-{}", n / 5);
        return json!({
            "description": format!("{package} 1.0.{n} is vulnerable to prototype pollution."),
            "data": {
                "packageIdentifier": format!("Npm-{package}-1.0.{n}"),
                "recommendedVersion": format!("1.1.{n}"),
                "packageData": [{ "url": format!("https://nvd.nist.gov/vuln/detail/CVE-2024-{:05}", 10_000 + n) }]
            },
            "vulnerabilityDetails": { "cweId": "CWE-1321", "cvssScore": 6.5, "cveName": format!("CVE-2024-{:05}", 10_000 + n) }
        });
    }
    let (query, group, language, cwe, file) = QUERIES[(n as usize) % QUERIES.len()];
    let line = 10 + n % 400;
    json!({
        "description": format!("{query} at line {line} of {file}."),
        "data": {
            "queryName": query,
            "group": group,
            "languageName": language,
            "resultHash": format!("h{n}"),
            "nodes": [
                { "fileName": file, "line": line, "column": 9, "method": "handle", "name": "input" },
                { "fileName": file, "line": line + 3, "column": 17, "method": "handle", "name": "sink" }
            ]
        },
        "vulnerabilityDetails": { "cweId": cwe }
    })
}

/// A splitmix64 step: stable pseudo-random ids from counters.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A 28-character base64 result hash, like Checkmarx's SAST result ids.
fn short_hash(h: u64) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 20];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let v = mix(h ^ (i as u64)).to_be_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A lower-case UUID from a counter.
pub fn uuid(seed: u64) -> String {
    let a = mix(seed);
    let b = mix(a ^ 0x5DEE_CE66);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_results_are_distinct_and_render() {
        let at = Utc::now();
        let a = generated_result(1, 0, "s", at);
        let b = generated_result(1, 1, "s", at);
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.len(), 28);
        let sca = generated_result(1, 4, "s", at);
        assert_eq!(sca.kind, "sca");
        let v = sca.render("NEW", at);
        assert_eq!(v["status"], "NEW");
        assert_eq!(v["data"]["packageIdentifier"], "Npm-left-pad-0-1.0.4");
        assert_eq!(uuid(1).len(), 36);
        assert_ne!(uuid(1), uuid(2));
    }
}
