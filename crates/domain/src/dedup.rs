//! De-duplication: which findings are "the same vulnerability".
//!
//! Each scan type has a [`DedupConfig`]: an [`Algorithm`] saying whether the tool's own id
//! (`unique_id_from_tool`), a hash of chosen fields (`hash_code`), or both identify a finding,
//! and the fields the hash covers. The table follows DefectDojo's settings
//! (`DEDUPLICATION_ALGORITHM_PER_PARSER`, `HASHCODE_FIELDS_PER_SCANNER`), except where noted.
//!
//! The hash is SHA-256 over the chosen fields, lower-cased, each followed by a separator (so
//! that `ab`+`c` and `a`+`bc` differ), lists sorted; an absent value hashes as empty. It is
//! stable across versions: changing it would turn every reimport into "all new".

use crate::{Endpoint, NewFinding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How findings are identified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// The tool's own id; findings without one fall back to the hash.
    UniqueIdFromTool,
    /// A hash of the configured fields.
    HashCode,
    /// The tool's id when both sides have one, else the hash.
    UniqueIdFromToolOrHashCode,
}

/// A field that can take part in the hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HashField {
    Title,
    Severity,
    Cwe,
    VulnerabilityIds,
    Line,
    FilePath,
    Payload,
    ComponentName,
    ComponentVersion,
    Description,
    Endpoints,
    UniqueIdFromTool,
    VulnIdFromTool,
    Mitigation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DedupConfig {
    pub algorithm: Algorithm,
    pub hash_fields: &'static [HashField],
    /// When false and a finding has no CWE, the legacy fields are hashed instead (DefectDojo's
    /// `HASHCODE_ALLOWS_NULL_CWE`): a hash of "severity + file" alone would merge unrelated
    /// findings.
    pub allows_null_cwe: bool,
}

use HashField::*;

/// DefectDojo's fallback: title, CWE, line, file path and description.
pub const LEGACY_FIELDS: &[HashField] = &[Title, Cwe, Line, FilePath, Description];

const fn cfg(algorithm: Algorithm, hash_fields: &'static [HashField]) -> DedupConfig {
    DedupConfig { algorithm, hash_fields, allows_null_cwe: true }
}

/// The configuration for a scan type (DefectDojo's name). Unknown types hash the legacy
/// fields, preferring the tool's id when it gives one.
pub fn config_for(scan_type: &str) -> DedupConfig {
    use Algorithm::*;
    match scan_type {
        "AWS Security Hub Scan" => cfg(UniqueIdFromTool, LEGACY_FIELDS),
        "Burp Scan" => cfg(HashCode, &[Title, Severity, VulnIdFromTool]),
        "Burp REST API" => cfg(UniqueIdFromTool, LEGACY_FIELDS),
        "Burp Suite DAST Scan" | "Burp Enterprise Scan" => cfg(HashCode, &[Title, Severity, Cwe]),
        // DefectDojo: legacy (title or CWE, then endpoints). Ours: the issue and where it was
        // seen, which is what makes a DAST finding the same one across scans.
        "Burp GraphQL API" | "Burp Dastardly Scan" => cfg(HashCode, &[Title, Severity, Endpoints]),
        "Checkmarx One Scan" => cfg(UniqueIdFromTool, LEGACY_FIELDS),
        "Dependency Track Finding Packaging Format (FPF) Export" => {
            cfg(UniqueIdFromToolOrHashCode, &[ComponentName, ComponentVersion, VulnerabilityIds])
        }
        // No DefectDojo parser: Probely finding ids are stable per target.
        "Probely Scan" => cfg(UniqueIdFromToolOrHashCode, &[Title, Endpoints]),
        "SARIF" | "Semgrep JSON Report" => cfg(UniqueIdFromToolOrHashCode, LEGACY_FIELDS),
        // DefectDojo: legacy. Semgrep's match_based_id is stable, so use it.
        "Semgrep Pro JSON Report" => cfg(UniqueIdFromToolOrHashCode, LEGACY_FIELDS),
        "SonarQube Scan" => DedupConfig {
            algorithm: HashCode,
            hash_fields: &[Cwe, Severity, FilePath],
            allows_null_cwe: false,
        },
        "SonarQube Scan detailed" => cfg(UniqueIdFromTool, LEGACY_FIELDS),
        "Snyk Scan" => cfg(HashCode, &[VulnIdFromTool, FilePath, ComponentName, ComponentVersion]),
        "Snyk Code Scan" | "Snyk Issue API Scan" => cfg(HashCode, &[VulnIdFromTool, FilePath]),
        "Tenable Scan" => cfg(HashCode, &[Title, Severity, VulnerabilityIds, Cwe, Description]),
        "Generic Findings Import" => cfg(UniqueIdFromToolOrHashCode, LEGACY_FIELDS),
        _ => cfg(UniqueIdFromToolOrHashCode, LEGACY_FIELDS),
    }
}

/// The finding's hash under `config` (see the module docs for the encoding).
pub fn hash_code(f: &NewFinding, config: &DedupConfig) -> String {
    let fields = if !config.allows_null_cwe && f.cwe.is_none() {
        LEGACY_FIELDS
    } else {
        config.hash_fields
    };
    let mut h = Sha256::new();
    for field in fields {
        let value = field_text(f, *field);
        h.update(value.to_lowercase().as_bytes());
        h.update([0x1f]);
    }
    hex(&h.finalize())
}

/// The service always separates findings: the same issue in two services is two findings.
fn field_text(f: &NewFinding, field: HashField) -> String {
    fn opt(s: &Option<String>) -> String {
        s.clone().unwrap_or_default()
    }
    match field {
        Title => f.title.as_str().to_owned(),
        Severity => f.severity.as_str().to_owned(),
        Cwe => f.cwe.map(|c| c.to_string()).unwrap_or_default(),
        VulnerabilityIds => {
            let mut ids = f.vulnerability_ids.clone();
            ids.sort();
            ids.join(",")
        }
        Line => f.line.map(|l| l.to_string()).unwrap_or_default(),
        FilePath => opt(&f.file_path),
        Payload => opt(&f.payload),
        ComponentName => opt(&f.component_name),
        ComponentVersion => opt(&f.component_version),
        Description => f.description.clone(),
        Endpoints => {
            let mut e: Vec<String> = f.endpoints.iter().map(Endpoint::to_string).collect();
            e.sort();
            e.join(",")
        }
        UniqueIdFromTool => opt(&f.unique_id_from_tool),
        VulnIdFromTool => opt(&f.vuln_id_from_tool),
        Mitigation => opt(&f.mitigation),
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// What identifies one finding for matching: the tool's id and/or the hash, plus the service
/// (DefectDojo: `HASH_CODE_FIELDS_ALWAYS = ["service"]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    pub unique_id: Option<String>,
    pub hash_code: String,
    pub service: Option<String>,
}

impl Identity {
    pub fn of(f: &NewFinding, config: &DedupConfig) -> Identity {
        Identity {
            unique_id: f.unique_id_from_tool.clone(),
            hash_code: hash_code(f, config),
            service: f.service.clone(),
        }
    }

    /// The key this identity is matched by under `algorithm`: the tool's id when the
    /// algorithm uses it and there is one, else the hash.
    pub fn key(&self, algorithm: Algorithm) -> MatchKey {
        match (algorithm, &self.unique_id) {
            (Algorithm::UniqueIdFromTool | Algorithm::UniqueIdFromToolOrHashCode, Some(uid)) => {
                MatchKey::uid(uid, self.service.as_deref())
            }
            _ => self.hash_key(),
        }
    }

    pub fn hash_key(&self) -> MatchKey {
        MatchKey::hash(&self.hash_code, self.service.as_deref())
    }

    pub fn uid_key(&self) -> Option<MatchKey> {
        self.unique_id.as_deref().map(|u| MatchKey::uid(u, self.service.as_deref()))
    }
}

/// A key two findings share when they are the same vulnerability: a 128-bit digest of what
/// it stands for (the tool's id or the field hash, and the service). Small and `Copy`, so
/// that matching 100,000 findings moves no strings around; collisions are as likely as two
/// random 128-bit numbers meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchKey([u8; 16]);

impl MatchKey {
    fn make(kind: u8, value: &str, service: Option<&str>) -> MatchKey {
        let mut h = Sha256::new();
        h.update([kind]);
        h.update(value.as_bytes());
        h.update([0x1f]);
        if let Some(s) = service {
            h.update([1]);
            h.update(s.as_bytes());
        }
        let d = h.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&d[..16]);
        MatchKey(out)
    }

    /// By the tool's own id.
    pub fn uid(uid: &str, service: Option<&str>) -> MatchKey {
        Self::make(b'u', uid, service)
    }

    /// By the field hash.
    pub fn hash(hash_code: &str, service: Option<&str>) -> MatchKey {
        Self::make(b'h', hash_code, service)
    }
}

/// Where de-duplication looks for an earlier copy of a finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DedupScope {
    /// Only the same test (reimport semantics; imports never mark duplicates).
    Test,
    /// Findings of the same engagement.
    Engagement,
    /// Findings of the same product (DefectDojo's default).
    #[default]
    Product,
}

impl DedupScope {
    pub fn as_str(self) -> &'static str {
        match self {
            DedupScope::Test => "test",
            DedupScope::Engagement => "engagement",
            DedupScope::Product => "product",
        }
    }
    pub fn parse(s: &str) -> Option<DedupScope> {
        [DedupScope::Test, DedupScope::Engagement, DedupScope::Product]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Severity as Sev, TestId, Title as T};

    fn f(title: &str) -> NewFinding {
        NewFinding::new(TestId(1), T::parse("title", title).unwrap(), Sev::High)
    }

    #[test]
    fn hash_is_case_insensitive_and_field_separated() {
        let c = config_for("Tenable Scan");
        assert_eq!(hash_code(&f("OpenSSH"), &c), hash_code(&f("openssh"), &c));
        let mut a = f("ab");
        a.description = "c".into();
        let mut b = f("a");
        b.description = "bc".into();
        assert_ne!(hash_code(&a, &c), hash_code(&b, &c), "separators keep fields apart");
        assert_eq!(hash_code(&a, &c).len(), 64);
    }

    #[test]
    fn hash_ignores_list_order_and_unhashed_fields() {
        let c = config_for("Dependency Track Finding Packaging Format (FPF) Export");
        let mut a = f("x");
        a.vulnerability_ids = vec!["CVE-2".into(), "CVE-1".into()];
        let mut b = f("completely different title");
        b.vulnerability_ids = vec!["CVE-1".into(), "CVE-2".into()];
        assert_eq!(hash_code(&a, &c), hash_code(&b, &c), "title is not a DT hash field");
    }

    #[test]
    fn sonarqube_without_cwe_falls_back_to_legacy_fields() {
        let c = config_for("SonarQube Scan");
        let mut a = f("rule one");
        a.file_path = Some("a.java".into());
        let mut b = f("rule two");
        b.file_path = Some("a.java".into());
        assert_ne!(hash_code(&a, &c), hash_code(&b, &c), "no CWE: title counts");
        a.cwe = Some(79);
        b.cwe = Some(79);
        assert_eq!(hash_code(&a, &c), hash_code(&b, &c), "with a CWE: cwe+severity+file");
    }

    #[test]
    fn keys_follow_the_algorithm() {
        let mut a = f("x");
        a.unique_id_from_tool = Some("uid-1".into());
        let uid = Identity::of(&a, &config_for("Checkmarx One Scan"));
        assert_eq!(uid.key(Algorithm::UniqueIdFromTool), MatchKey::uid("uid-1", None));
        assert_eq!(uid.key(Algorithm::HashCode), uid.hash_key());
        assert_ne!(MatchKey::uid("x", None), MatchKey::hash("x", None), "kinds never collide");
        let none = Identity::of(&f("x"), &config_for("Checkmarx One Scan"));
        assert_eq!(none.key(Algorithm::UniqueIdFromTool), none.hash_key(), "no uid: hash");
        let mut s = f("x");
        s.service = Some("billing".into());
        let svc = Identity::of(&s, &config_for("SARIF"));
        assert_ne!(svc.key(Algorithm::HashCode), none.key(Algorithm::HashCode), "service separates");
    }

    #[test]
    fn every_known_scan_type_has_a_config() {
        for st in ["SARIF", "Semgrep JSON Report", "Tenable Scan", "Snyk Scan", "Burp Scan"] {
            assert!(!config_for(st).hash_fields.is_empty());
        }
    }
}
