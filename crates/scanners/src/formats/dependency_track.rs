//! `Dependency Track Finding Packaging Format (FPF) Export`: OWASP Dependency-Track's export of
//! a project's findings (`{version, meta, project, findings: [...]}`). The findings API
//! (`GET /api/v1/finding/project/{uuid}`) returns the same finding objects as a bare list,
//! which is accepted too.
//!
//! The finding's identity is Dependency-Track's `matrix` (`project:component:vulnerability`
//! UUIDs); the vulnerability's UUID is the tool's vulnerability id.

use super::common::cvss::set_cvss_vector;
use super::common::finding::{fit_to_domain, send_all};
use super::common::ids::cwe_in_json;
use super::common::json::{json_date, json_f64, json_text, read_json_list};
use super::common::text::non_empty;
use super::common::title::title_from_candidates;
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, Severity, Status};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::io::BufRead;

pub const SCAN_TYPE: &str = "Dependency Track Finding Packaging Format (FPF) Export";

/// The Dependency-Track FPF parser.
pub struct DependencyTrackFpf;

impl Parser for DependencyTrackFpf {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        // A missing or null `findings` is an export of a project without findings.
        let findings: Vec<DtFinding> = read_json_list(SCAN_TYPE, input, |export: Export| {
            Ok(export.findings.unwrap_or_default())
        })?;
        send_all(
            findings.iter().map(|f| fit_to_domain(finding(f, ctx))),
            sink,
        )
    }
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a Finding Packaging Format object with a `findings` array")]
struct Export {
    #[serde(default)]
    findings: Option<Vec<DtFinding>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a finding object with `component` and `vulnerability`")]
pub(crate) struct DtFinding {
    component: Component,
    vulnerability: Vulnerability,
    #[serde(default)]
    analysis: Option<Analysis>,
    #[serde(default)]
    attribution: Option<Attribution>,
    #[serde(default)]
    matrix: Option<String>,
}

#[derive(Deserialize)]
struct Component {
    name: String,
    /// Maven group, Composer vendor, npm scope, Go module path…
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vulnerability {
    vuln_id: String,
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    subtitle: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    recommendation: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    cwe_id: Option<Value>,
    #[serde(default)]
    cwes: Option<Vec<Cwe>>,
    #[serde(default, rename = "cvssV3BaseScore")]
    cvss_v3_base_score: Option<Value>,
    #[serde(default, rename = "cvssV3Vector")]
    cvss_v3_vector: Option<String>,
    #[serde(default, rename = "cvssV4Score")]
    cvss_v4_score: Option<Value>,
    #[serde(default, rename = "cvssV4Vector")]
    cvss_v4_vector: Option<String>,
    #[serde(default)]
    epss_score: Option<Value>,
    #[serde(default)]
    epss_percentile: Option<Value>,
    /// Markdown text in exports, a list of URLs in some API versions.
    #[serde(default)]
    references: Option<Value>,
    /// Text (`2025-07-11 03:16:03.563`) in exports, epoch milliseconds in the API.
    #[serde(default)]
    published: Option<Value>,
    #[serde(default)]
    aliases: Option<Vec<Map<String, Value>>>,
    /// Some exports repeat the matrix on the vulnerability; it wins, as in DefectDojo.
    #[serde(default)]
    matrix: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cwe {
    #[serde(default)]
    cwe_id: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Analysis {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    is_suppressed: Option<bool>,
    #[serde(default)]
    detail: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Attribution {
    #[serde(default)]
    attributed_on: Option<Value>,
}

/// The alias fields Dependency-Track fills, one per vulnerability database.
const ALIAS_KEYS: [&str; 7] = [
    "cveId",
    "ghsaId",
    "osvId",
    "snykId",
    "sonatypeId",
    "gsdId",
    "vulnDbId",
];

pub(crate) fn finding(d: &DtFinding, ctx: &Context) -> NewFinding {
    let c = &d.component;
    let v = &d.vulnerability;
    let name = component_name(c);
    let name = name.as_str();
    let version = c.version.as_ref().and_then(json_text);
    let vuln_id = v.vuln_id.trim();
    let source = v.source.as_deref().unwrap_or("").trim();

    let title = format!(
        "{name}:{} affected by: {vuln_id} ({source})",
        version.as_deref().unwrap_or("")
    );
    let severity = match v.severity.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
        Some(s) if s.starts_with("info") => Severity::Info,
        // UNASSIGNED and anything unknown: Dependency-Track has no rating for it yet.
        Some(s) => Severity::parse(&s).unwrap_or(Severity::Info),
        None => Severity::Info,
    };
    let mut f = NewFinding::new(
        ctx.test,
        title_from_candidates([Some(title.as_str())], vuln_id),
        severity,
    );
    f.static_finding = true;
    f.component_name = non_empty(Some(name));
    f.component_version = version.clone();
    f.component_purl = non_empty(c.purl.as_deref());
    // DefectDojo stores the purl (or "unknown") as `file_path` so its de-duplication has a
    // file to compare; this model has `component_purl` for that, and a dependency has no file.
    f.unique_id_from_tool =
        non_empty(v.matrix.as_deref()).or_else(|| non_empty(d.matrix.as_deref()));
    f.vuln_id_from_tool = non_empty(v.uuid.as_deref());

    let mut ids = vec![vuln_id.to_owned()];
    for alias in v.aliases.iter().flatten() {
        for key in ALIAS_KEYS {
            if let Some(id) = alias.get(key).and_then(json_text)
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
    }
    f.vulnerability_ids = ids;

    f.cwes = v
        .cwe_id
        .iter()
        .filter_map(cwe_in_json)
        .chain(
            v.cwes
                .iter()
                .flatten()
                .filter_map(|c| c.cwe_id.as_ref().and_then(cwe_in_json)),
        )
        .collect();
    // No CWE: CWE-1035, "Using Components with Known Vulnerabilities", as DefectDojo files it.
    f.cwe = Some(f.cwes.first().copied().unwrap_or(1035));

    let mut description = match &version {
        Some(ver) => format!(
            "You are using a component with a known vulnerability. Version {ver} of the {name} component is affected by the vulnerability with an id of {vuln_id} as identified by {source}."
        ),
        None => format!(
            "You are using a component with a known vulnerability. The {name} component is affected by the vulnerability with an id of {vuln_id} as identified by {source}."
        ),
    };
    if let Some(purl) = &f.component_purl {
        description.push_str(&format!("\nThe purl of the affected component is: {purl}."));
    }
    for (label, text) in [
        ("Vulnerability Title", &v.title),
        ("Vulnerability Subtitle", &v.subtitle),
        ("Vulnerability Description", &v.description),
    ] {
        if let Some(t) = non_empty(text.as_deref()) {
            description.push_str(&format!("\n{label}: {t}"));
        }
    }
    let analysis = d.analysis.as_ref();
    if let Some(detail) = non_empty(analysis.and_then(|a| a.detail.as_deref())) {
        description.push_str(&format!("\nAudit Detail: {detail}"));
    }
    f.description = description;
    f.mitigation = non_empty(v.recommendation.as_deref());

    f.references = match &v.references {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(json_text)
                .collect::<Vec<_>>()
                .join("\n"),
        )
        .filter(|s| !s.is_empty()),
        Some(other) => json_text(other),
        None => None,
    };

    if let Some(vector) = &v.cvss_v3_vector {
        set_cvss_vector(&mut f, vector);
    }
    if let Some(vector) = &v.cvss_v4_vector {
        set_cvss_vector(&mut f, vector);
    }
    f.cvss_v3_score = v.cvss_v3_base_score.as_ref().and_then(json_f64);
    f.cvss_v4_score = v.cvss_v4_score.as_ref().and_then(json_f64);
    f.epss_score = v.epss_score.as_ref().and_then(json_f64);
    f.epss_percentile = v.epss_percentile.as_ref().and_then(json_f64);
    f.publish_date = v.published.as_ref().and_then(json_date);
    f.date = d
        .attribution
        .as_ref()
        .and_then(|a| a.attributed_on.as_ref())
        .and_then(json_date);

    (f.status, f.verified) = analysis_status(analysis);
    f
}

/// The package's full name: its group belongs to it (`org.apache.logging.log4j:log4j-core`,
/// `psy/psysh`, `@angular/core`); two packages named `core` in different groups are different
/// components. DefectDojo keeps the bare name.
fn component_name(c: &Component) -> String {
    let name = c.name.trim();
    match non_empty(c.group.as_deref()) {
        Some(group)
            if c.purl
                .as_deref()
                .is_some_and(|p| p.starts_with("pkg:maven/")) =>
        {
            format!("{group}:{name}")
        }
        Some(group) => format!("{group}/{name}"),
        None => name.to_owned(),
    }
}

/// Dependency-Track's audit, as our status and whether a person confirmed it.
///
/// FALSE_POSITIVE and NOT_AFFECTED (the component is present but the vulnerability cannot be
/// reached) both say the finding does not apply: false positive. RESOLVED is fixed. IN_TRIAGE
/// is someone investigating. EXPLOITABLE is a confirmed, open finding. A suppression without
/// one of those verdicts is a decision to live with it: accepted risk. DefectDojo reads only
/// FALSE_POSITIVE and leaves the rest active.
fn analysis_status(analysis: Option<&Analysis>) -> (Status, bool) {
    let state = analysis
        .and_then(|a| a.state.as_deref())
        .map(|s| s.trim().to_ascii_uppercase());
    let (status, verified) = match state.as_deref() {
        Some("FALSE_POSITIVE" | "NOT_AFFECTED") => (Status::FalsePositive, true),
        Some("RESOLVED") => (Status::Closed, true),
        Some("EXPLOITABLE") => (Status::Active, true),
        Some("IN_TRIAGE") => (Status::InProgress, false),
        _ => (Status::Active, false),
    };
    let suppressed = analysis.and_then(|a| a.is_suppressed) == Some(true);
    if suppressed && status.is_open() {
        return (Status::RiskAccepted, verified);
    }
    (status, verified)
}
