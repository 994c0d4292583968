use chrono::{DateTime, Utc};
use crate::entities::normalize_tags;
use crate::{
    Endpoint, EngagementId, FindingGroupId, FindingId, ProductId, Severity, Status, TestId,
    Timestamp, Title, ValidationError,
};
use chrono::NaiveDate;
use crate::entities::some;
use serde::{Deserialize, Serialize};

/// One vulnerability, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub id: FindingId,
    pub test: TestId,
    pub engagement: EngagementId,
    pub product: ProductId,
    pub finding_group: Option<FindingGroupId>,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub status: Status,
    pub verified: bool,
    /// The primary CWE (what filters and tickets show).
    pub cwe: Option<i32>,
    /// Every CWE the tool named, primary first (Semgrep and SonarQube give several).
    pub cwes: Vec<i32>,
    /// CVE, GHSA, … identifiers, sorted and unique.
    pub vulnerability_ids: Vec<String>,
    pub cvss_v3_vector: Option<String>,
    pub cvss_v3_score: Option<f64>,
    pub cvss_v4_vector: Option<String>,
    pub cvss_v4_score: Option<f64>,
    pub epss_score: Option<f64>,
    pub epss_percentile: Option<f64>,
    pub known_exploited: bool,
    /// Why the tool chose this severity (e.g. the vendor's own rating and the CVSS vector).
    pub severity_justification: Option<String>,
    /// When the vulnerability was published by its source (NVD, advisory).
    pub publish_date: Option<NaiveDate>,
    pub component_name: Option<String>,
    pub component_version: Option<String>,
    pub component_purl: Option<String>,
    pub file_path: Option<String>,
    pub line: Option<i32>,
    pub endpoints: Vec<Endpoint>,
    /// The service or deployment the finding belongs to; reimports close only within one service.
    pub service: Option<String>,
    /// The tool's own stable id for this finding, when it has one.
    pub unique_id_from_tool: Option<String>,
    /// The tool's rule or check id (e.g. a Semgrep rule, a Snyk vulnerability id).
    pub vuln_id_from_tool: Option<String>,
    /// Hash of the tool's identifying fields, for de-duplication.
    pub hash_code: Option<String>,
    pub mitigation: Option<String>,
    pub impact: Option<String>,
    pub steps_to_reproduce: Option<String>,
    pub references: Option<String>,
    pub param: Option<String>,
    pub payload: Option<String>,
    /// HTTP evidence from dynamic scanners (Burp).
    pub request_response: Vec<RequestResponse>,
    pub fix_available: Option<bool>,
    pub fix_version: Option<String>,
    pub static_finding: bool,
    pub dynamic_finding: bool,
    pub scanner_confidence: Option<String>,
    pub tags: Vec<String>,
    /// The day the finding was discovered.
    pub date: NaiveDate,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub mitigated_by: Option<String>,
    pub duplicate_of: Option<FindingId>,
    /// How many times the report listed it (a duplicate within one report is counted once).
    pub occurrences: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Hash of the scanner-owned fields as last imported (see `reimport::refresh`): internal
    /// bookkeeping that lets an unchanged reimport skip the finding.
    #[serde(skip_serializing, default)]
    #[schema(ignore)]
    pub scanner_fingerprint: Option<String>,
}

/// What a caller supplies to create a finding (API, import, connector).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFinding {
    pub test: TestId,
    pub title: Title,
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    #[serde(default = "default_status")]
    pub status: Status,
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub cwe: Option<i32>,
    /// Further CWEs; `cwe` is added in front if missing, and becomes the first when absent.
    #[serde(default)]
    pub cwes: Vec<i32>,
    #[serde(default)]
    pub vulnerability_ids: Vec<String>,
    #[serde(default)]
    pub cvss_v3_vector: Option<String>,
    #[serde(default)]
    pub cvss_v3_score: Option<f64>,
    #[serde(default)]
    pub cvss_v4_vector: Option<String>,
    #[serde(default)]
    pub cvss_v4_score: Option<f64>,
    #[serde(default)]
    pub epss_score: Option<f64>,
    #[serde(default)]
    pub epss_percentile: Option<f64>,
    #[serde(default)]
    pub known_exploited: bool,
    #[serde(default)]
    pub severity_justification: Option<String>,
    #[serde(default)]
    pub publish_date: Option<NaiveDate>,
    #[serde(default)]
    pub component_name: Option<String>,
    #[serde(default)]
    pub component_version: Option<String>,
    #[serde(default)]
    pub component_purl: Option<String>,
    #[serde(default)]
    pub file_path: Option<String>,
    #[serde(default)]
    pub line: Option<i32>,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub unique_id_from_tool: Option<String>,
    #[serde(default)]
    pub vuln_id_from_tool: Option<String>,
    #[serde(default)]
    pub mitigation: Option<String>,
    #[serde(default)]
    pub impact: Option<String>,
    #[serde(default)]
    pub steps_to_reproduce: Option<String>,
    #[serde(default)]
    pub references: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub request_response: Vec<RequestResponse>,
    #[serde(default)]
    pub fix_available: Option<bool>,
    #[serde(default)]
    pub fix_version: Option<String>,
    #[serde(default)]
    pub static_finding: bool,
    #[serde(default)]
    pub dynamic_finding: bool,
    #[serde(default)]
    pub scanner_confidence: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Discovery day; today when absent.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// How many times the report listed it; 1 when absent.
    #[serde(default)]
    pub occurrences: Option<i32>,
}

/// One HTTP request and its response, as a dynamic scanner recorded them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestResponse {
    #[serde(default)]
    pub request: String,
    #[serde(default)]
    pub response: String,
}

fn default_status() -> Status {
    Status::Active
}

impl NewFinding {
    /// A finding with a title and severity; everything else empty.
    pub fn new(test: TestId, title: Title, severity: Severity) -> Self {
        NewFinding {
            test,
            title,
            description: String::new(),
            severity,
            status: Status::Active,
            verified: false,
            cwe: None,
            cwes: Vec::new(),
            vulnerability_ids: Vec::new(),
            cvss_v3_vector: None,
            cvss_v3_score: None,
            cvss_v4_vector: None,
            cvss_v4_score: None,
            epss_score: None,
            epss_percentile: None,
            known_exploited: false,
            severity_justification: None,
            publish_date: None,
            component_name: None,
            component_version: None,
            component_purl: None,
            file_path: None,
            line: None,
            endpoints: Vec::new(),
            service: None,
            unique_id_from_tool: None,
            vuln_id_from_tool: None,
            mitigation: None,
            impact: None,
            steps_to_reproduce: None,
            references: None,
            param: None,
            payload: None,
            request_response: Vec::new(),
            fix_available: None,
            fix_version: None,
            static_finding: false,
            dynamic_finding: false,
            scanner_confidence: None,
            tags: Vec::new(),
            date: None,
            occurrences: None,
        }
    }

    /// Checks and normalises the fields serde cannot: ranges, identifiers, tags.
    /// Empty optional strings become `None`, so "" and absent mean the same everywhere.
    pub fn normalize(mut self) -> Result<Self, ValidationError> {
        check_cwe(self.cwe)?;
        for (i, c) in self.cwes.iter().enumerate() {
            check_cwe(Some(*c)).map_err(|e| ValidationError::new(format!("cwes[{i}]"), e.message))?;
        }
        // `cwe` is the primary: first in `cwes`; without one, the first of `cwes` is it.
        match self.cwe {
            Some(c) => {
                self.cwes.retain(|x| *x != c);
                self.cwes.insert(0, c);
            }
            None => self.cwe = self.cwes.first().copied(),
        }
        let mut seen = std::collections::HashSet::new();
        self.cwes.retain(|c| seen.insert(*c));
        check_line(self.line)?;
        check_score("cvss_v3_score", self.cvss_v3_score, 10.0)?;
        check_score("cvss_v4_score", self.cvss_v4_score, 10.0)?;
        check_score("epss_score", self.epss_score, 1.0)?;
        check_score("epss_percentile", self.epss_percentile, 1.0)?;
        if let Some(n) = self.occurrences
            && n < 1
        {
            return Err(ValidationError::new("occurrences", format!("{n} is not a count (at least 1)")));
        }
        self.vulnerability_ids = normalize_vulnerability_ids(std::mem::take(&mut self.vulnerability_ids))?;
        self.tags = normalize_tags("tags", std::mem::take(&mut self.tags))?;
        for opt in [
            &mut self.cvss_v3_vector,
            &mut self.cvss_v4_vector,
            &mut self.severity_justification,
            &mut self.component_name,
            &mut self.component_version,
            &mut self.component_purl,
            &mut self.file_path,
            &mut self.service,
            &mut self.unique_id_from_tool,
            &mut self.vuln_id_from_tool,
            &mut self.mitigation,
            &mut self.impact,
            &mut self.steps_to_reproduce,
            &mut self.references,
            &mut self.param,
            &mut self.payload,
            &mut self.fix_version,
            &mut self.scanner_confidence,
        ] {
            *opt = crate::optional_text(opt.take());
        }
        if self.status == Status::Duplicate {
            return Err(ValidationError::new(
                "status",
                "duplicate is set by de-duplication, not by hand",
            ));
        }
        Ok(self)
    }
}

/// A change to a finding. Absent fields stay as they are; `null` clears a clearable field.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingPatch {
    #[serde(default)]
    pub title: Option<Title>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub verified: Option<bool>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<i32>)]
    pub cwe: Option<Option<i32>>,
    #[serde(default)]
    pub vulnerability_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub component_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub component_version: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub file_path: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<i32>)]
    pub line: Option<Option<i32>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub mitigation: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub impact: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub references: Option<Option<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

impl FindingPatch {
    pub fn check(&mut self) -> Result<(), ValidationError> {
        if let Some(cwe) = self.cwe {
            check_cwe(cwe)?;
        }
        if let Some(line) = self.line {
            check_line(line)?;
        }
        if let Some(ids) = self.vulnerability_ids.take() {
            self.vulnerability_ids = Some(normalize_vulnerability_ids(ids)?);
        }
        if let Some(tags) = self.tags.take() {
            self.tags = Some(normalize_tags("tags", tags)?);
        }
        if self.status == Some(Status::Duplicate) {
            return Err(ValidationError::new(
                "status",
                "duplicate is set by de-duplication, not by hand",
            ));
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.severity.is_none()
            && self.status.is_none()
            && self.verified.is_none()
            && self.cwe.is_none()
            && self.vulnerability_ids.is_none()
            && self.component_name.is_none()
            && self.component_version.is_none()
            && self.file_path.is_none()
            && self.line.is_none()
            && self.mitigation.is_none()
            && self.impact.is_none()
            && self.references.is_none()
            && self.tags.is_none()
    }
}

impl Finding {
    /// Applies a patch. A status change keeps `mitigated_at`/`mitigated_by` consistent:
    /// closing stamps them, reopening clears them.
    pub fn apply(&mut self, patch: FindingPatch, now: Timestamp, actor: &str) {
        if let Some(v) = patch.title {
            self.title = v.into_inner();
        }
        if let Some(v) = patch.description {
            self.description = v;
        }
        if let Some(v) = patch.severity {
            self.severity = v;
        }
        if let Some(v) = patch.verified {
            self.verified = v;
        }
        if let Some(v) = patch.cwe {
            self.cwes.retain(|c| Some(*c) != self.cwe);
            if let Some(c) = v {
                self.cwes.retain(|x| *x != c);
                self.cwes.insert(0, c);
            }
            self.cwe = v;
        }
        if let Some(v) = patch.vulnerability_ids {
            self.vulnerability_ids = v;
        }
        if let Some(v) = patch.component_name {
            self.component_name = crate::optional_text(v);
        }
        if let Some(v) = patch.component_version {
            self.component_version = crate::optional_text(v);
        }
        if let Some(v) = patch.file_path {
            self.file_path = crate::optional_text(v);
        }
        if let Some(v) = patch.line {
            self.line = v;
        }
        if let Some(v) = patch.mitigation {
            self.mitigation = crate::optional_text(v);
        }
        if let Some(v) = patch.impact {
            self.impact = crate::optional_text(v);
        }
        if let Some(v) = patch.references {
            self.references = crate::optional_text(v);
        }
        if let Some(v) = patch.tags {
            self.tags = v;
        }
        if let Some(status) = patch.status {
            self.set_status(status, now, actor);
        }
        self.updated_at = now;
    }

    /// Moves the finding to `status`, stamping or clearing the mitigation fields.
    pub fn set_status(&mut self, status: Status, now: Timestamp, actor: &str) {
        if status == self.status {
            return;
        }
        if status == Status::Closed {
            self.mitigated_at = Some(now);
            self.mitigated_by = Some(actor.to_owned());
        } else if status.is_open() {
            self.mitigated_at = None;
            self.mitigated_by = None;
        }
        self.status = status;
    }
}

fn check_cwe(cwe: Option<i32>) -> Result<(), ValidationError> {
    match cwe {
        Some(c) if !(1..=99_999).contains(&c) => Err(ValidationError::new(
            "cwe",
            format!("{c} is not a CWE number (1–99999)"),
        )),
        _ => Ok(()),
    }
}

fn check_line(line: Option<i32>) -> Result<(), ValidationError> {
    match line {
        Some(l) if l < 1 => Err(ValidationError::new(
            "line",
            format!("{l} is not a line number (lines start at 1)"),
        )),
        _ => Ok(()),
    }
}

fn check_score(field: &str, score: Option<f64>, max: f64) -> Result<(), ValidationError> {
    match score {
        Some(s) if !(0.0..=max).contains(&s) => Err(ValidationError::new(
            field,
            format!("{s} is outside 0–{max}"),
        )),
        _ => Ok(()),
    }
}

/// Upper-cases well-known prefixes (`cve-2021-44228` → `CVE-2021-44228`) and trims.
pub fn normalize_vulnerability_id(raw: &str) -> String {
    let t = raw.trim();
    for prefix in ["CVE-", "GHSA-", "CWE-", "RUSTSEC-", "PYSEC-", "GO-", "OSV-", "SNYK-"] {
        if t.len() > prefix.len() && t[..prefix.len()].eq_ignore_ascii_case(prefix) {
            let rest = &t[prefix.len()..];
            // GHSA ids keep their lower-case body (GHSA-jfh8-c2jp-5v3q).
            return format!("{prefix}{rest}");
        }
    }
    t.to_owned()
}

fn normalize_vulnerability_ids(ids: Vec<String>) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let n = normalize_vulnerability_id(id);
        if n.is_empty() {
            continue;
        }
        if n.len() > 200 || n.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationError::new(
                format!("vulnerability_ids[{i}]"),
                format!("'{id}' is not an identifier (no spaces, at most 200 characters)"),
            ));
        }
        out.push(n);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new() -> NewFinding {
        NewFinding::new(TestId(1), Title::parse("title", "SQL injection").unwrap(), Severity::High)
    }

    #[test]
    fn normalize_cleans_identifiers() {
        let mut f = new();
        f.vulnerability_ids = vec![
            " cve-2021-44228".into(),
            "GHSA-jfh8-c2jp-5v3q".into(),
            "CVE-2021-44228".into(),
            "".into(),
        ];
        f.component_name = Some("  ".into());
        let f = f.normalize().unwrap();
        assert_eq!(f.vulnerability_ids, ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
        assert_eq!(f.component_name, None);
    }

    #[test]
    fn normalize_rejects_bad_ranges_naming_the_field() {
        let mut f = new();
        f.cwe = Some(0);
        assert_eq!(f.normalize().unwrap_err().field, "cwe");
        let mut f = new();
        f.line = Some(-3);
        assert_eq!(f.normalize().unwrap_err().field, "line");
        let mut f = new();
        f.cvss_v3_score = Some(11.0);
        assert_eq!(f.normalize().unwrap_err().field, "cvss_v3_score");
        let mut f = new();
        f.vulnerability_ids = vec!["ok".into(), "not ok".into()];
        assert_eq!(f.normalize().unwrap_err().field, "vulnerability_ids[1]");
        let mut f = new();
        f.status = Status::Duplicate;
        assert_eq!(f.normalize().unwrap_err().field, "status");
    }

    #[test]
    fn primary_cwe_leads_the_list() {
        let mut f = new();
        f.cwe = Some(79);
        f.cwes = vec![89, 79, 89];
        let f = f.normalize().unwrap();
        assert_eq!((f.cwe, f.cwes.as_slice()), (Some(79), &[79, 89][..]));
        let mut f = new();
        f.cwes = vec![563, 570];
        let f = f.normalize().unwrap();
        assert_eq!(f.cwe, Some(563), "without a primary, the first listed is it");
        let mut f = new();
        f.cwes = vec![1, 0];
        assert_eq!(f.normalize().unwrap_err().field, "cwes[1]");
    }

    #[test]
    fn patch_tells_absent_from_null() {
        let p: FindingPatch = serde_json::from_str(r#"{"cwe": null}"#).unwrap();
        assert_eq!(p.cwe, Some(None));
        let p: FindingPatch = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p.cwe, None);
        assert!(p.is_empty());
        let err = serde_json::from_str::<FindingPatch>(r#"{"severity":"urgent"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("urgent"), "{err}");
    }
}

impl NewFinding {
    /// The finding this becomes once stored in `test` (id 0 until the database assigns one).
    /// Call after [`NewFinding::normalize`].
    pub fn into_finding(
        self,
        test: &crate::Test,
        now: DateTime<Utc>,
        hash_code: Option<String>,
    ) -> Finding {
        let closed = self.status == Status::Closed;
        Finding {
            id: FindingId(0),
            test: test.id,
            engagement: test.engagement,
            product: test.product,
            finding_group: None,
            title: self.title.into_inner(),
            description: self.description,
            severity: self.severity,
            status: self.status,
            verified: self.verified,
            cwe: self.cwe,
            cwes: self.cwes,
            vulnerability_ids: self.vulnerability_ids,
            cvss_v3_vector: self.cvss_v3_vector,
            cvss_v3_score: self.cvss_v3_score,
            cvss_v4_vector: self.cvss_v4_vector,
            cvss_v4_score: self.cvss_v4_score,
            epss_score: self.epss_score,
            epss_percentile: self.epss_percentile,
            known_exploited: self.known_exploited,
            severity_justification: self.severity_justification,
            publish_date: self.publish_date,
            component_name: self.component_name,
            component_version: self.component_version,
            component_purl: self.component_purl,
            file_path: self.file_path,
            line: self.line,
            endpoints: self.endpoints,
            service: self.service,
            unique_id_from_tool: self.unique_id_from_tool,
            vuln_id_from_tool: self.vuln_id_from_tool,
            hash_code,
            mitigation: self.mitigation,
            impact: self.impact,
            steps_to_reproduce: self.steps_to_reproduce,
            references: self.references,
            param: self.param,
            payload: self.payload,
            request_response: self.request_response,
            fix_available: self.fix_available,
            fix_version: self.fix_version,
            static_finding: self.static_finding,
            dynamic_finding: self.dynamic_finding,
            scanner_confidence: self.scanner_confidence,
            tags: self.tags,
            date: self.date.unwrap_or_else(|| now.date_naive()),
            first_seen: now,
            last_seen: now,
            mitigated_at: closed.then_some(now),
            mitigated_by: None,
            duplicate_of: None,
            occurrences: self.occurrences.unwrap_or(1),
            created_at: now,
            updated_at: now,
            scanner_fingerprint: None,
        }
    }
}

/// One line of a finding's history.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `created`, `updated`, `imported`, `synced`, …
    pub action: String,
    /// Changed fields: `{"status": {"from": "active", "to": "closed"}}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

impl Finding {
    /// The fields that differ from `before`, as `{field: {from, to}}`, leaving out
    /// bookkeeping timestamps. What a history entry records.
    pub fn diff(before: &Finding, after: &Finding) -> serde_json::Value {
        use serde_json::{Map, Value, json};
        let (Value::Object(a), Value::Object(b)) = (json!(before), json!(after)) else {
            return json!({});
        };
        let mut out = Map::new();
        for (k, new) in &b {
            if matches!(k.as_str(), "updated_at" | "last_seen") {
                continue;
            }
            let old = a.get(k).unwrap_or(&Value::Null);
            if old != new {
                out.insert(k.clone(), json!({ "from": old, "to": new }));
            }
        }
        Value::Object(out)
    }
}
