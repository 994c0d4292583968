//! A vulnerability export record as a finding, the way the `Tenable Scan` parser maps the
//! same finding in a Vulnerability Management CSV export (`definition.*`, `asset.*`, `id`):
//! the finding's `finding_id` is its identity, the plugin its rule, the plugin's name its
//! title; `FIXED` is closed and an accepted risk (`severity_modification_type` `ACCEPTED`)
//! is risk accepted.

use crate::formats::common::cvss::{cvss3_vector, cvss4_vector};
use crate::formats::common::date::day_of;
use crate::formats::common::endpoint::endpoint_from_parts;
use crate::formats::common::finding::fit_to_domain;
use crate::formats::common::json::{json_f64, json_text};
use crate::formats::common::title::{Overflow, one_line_title, title_from_candidates};
use crate::formats::tenable::{cpe_component, epss, severity_from_level};
use domain::{NewFinding, Severity, Status, TestId};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub(crate) struct Vuln {
    #[serde(default)]
    finding_id: Option<String>,
    #[serde(default)]
    asset: Asset,
    plugin: Plugin,
    #[serde(default)]
    port: Option<Port>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    severity_id: Option<i64>,
    #[serde(default)]
    severity_modification_type: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    first_found: Option<String>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    recast_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Asset {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    fqdn: Option<String>,
    #[serde(default)]
    ipv4: Option<String>,
    #[serde(default)]
    ipv6: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Plugin {
    id: Value,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    synopsis: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    solution: Option<String>,
    #[serde(default)]
    see_also: Option<Vec<String>>,
    #[serde(default)]
    cve: Option<Vec<String>>,
    #[serde(default)]
    cpe: Option<Vec<String>>,
    #[serde(default)]
    xrefs: Option<Vec<Xref>>,
    #[serde(default)]
    cvss3_base_score: Option<Value>,
    #[serde(default)]
    cvss3_vector: Option<Vector>,
    #[serde(default)]
    cvss4_base_score: Option<Value>,
    #[serde(default)]
    cvss4_vector: Option<Vector>,
    #[serde(default)]
    vpr: Option<Vpr>,
    #[serde(default)]
    epss_score: Option<Value>,
    #[serde(default)]
    has_patch: Option<bool>,
    #[serde(default)]
    publication_date: Option<String>,
    #[serde(default)]
    modification_date: Option<String>,
    #[serde(default)]
    risk_factor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Xref {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    id: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Vector {
    #[serde(default)]
    raw: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Vpr {
    #[serde(default)]
    score: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Port {
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    protocol: Option<String>,
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Vuln {
    /// The finding's id: `finding_id`, else what Tenable identifies a finding by (asset,
    /// plugin, port, protocol).
    pub fn id(&self) -> String {
        text(&self.finding_id).unwrap_or_else(|| {
            let port = self.port.as_ref();
            format!(
                "{}|{}|{}|{}",
                self.asset.uuid.as_deref().unwrap_or(""),
                json_text(&self.plugin.id).unwrap_or_default(),
                port.and_then(|p| p.port).unwrap_or(0),
                port.and_then(|p| p.protocol.as_deref()).unwrap_or("")
            )
        })
    }

    pub fn finding(&self) -> NewFinding {
        let p = &self.plugin;
        let plugin_id = json_text(&p.id).unwrap_or_default();
        let severity = match self.severity_id {
            Some(level) => severity_from_level(level),
            None => self
                .severity
                .as_deref()
                .and_then(|s| Severity::parse(s).ok())
                .unwrap_or(Severity::Info),
        };
        let fallback = format!("Tenable plugin {plugin_id}");
        let title = text(&p.name)
            .and_then(|n| one_line_title(&n, Overflow::Cut))
            .unwrap_or_else(|| title_from_candidates(std::iter::empty(), &fallback));
        let mut f = NewFinding::new(TestId(0), title, severity);
        let mut description = text(&p.synopsis).unwrap_or_default();
        if let Some(out) = text(&self.output) {
            description.push_str("\n\n");
            description.push_str(&out);
        }
        f.description = description;
        f.impact = text(&p.description);
        f.mitigation = text(&p.solution);
        let mut references: Vec<String> = p.see_also.clone().unwrap_or_default();
        references.push(format!("Tenable Plugin ID: {plugin_id}"));
        for (label, v) in [
            ("Plugin Publication Date", &p.publication_date),
            ("Plugin Modification Date", &p.modification_date),
        ] {
            if let Some(t) = text(v) {
                references.push(format!("{label}: {t}"));
            }
        }
        f.references = Some(references.join("\n"));
        let mut justification = format!("Severity: {}", severity.label());
        if let Some(r) = text(&p.risk_factor) {
            justification.push_str(&format!("\nRisk Factor: {r}"));
        }
        if let Some(score) = p
            .vpr
            .as_ref()
            .and_then(|v| v.score.as_ref())
            .and_then(json_f64)
        {
            justification.push_str(&format!("\nVPR Score: {score}"));
        }
        if let Some(r) = text(&self.recast_reason) {
            justification.push_str(&format!("\nRecast: {r}"));
        }
        f.severity_justification = Some(justification);
        f.vulnerability_ids = p
            .cve
            .iter()
            .flatten()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        f.vulnerability_ids.dedup();
        let mut cwes = Vec::new();
        for x in p.xrefs.iter().flatten().filter(|x| {
            x.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("CWE"))
        }) {
            for n in
                x.id.as_ref()
                    .and_then(json_text)
                    .map(|t| crate::formats::tenable::cwe_list(&t))
                    .unwrap_or_default()
            {
                if !cwes.contains(&n) {
                    cwes.push(n);
                }
            }
        }
        f.cwe = cwes.first().copied();
        f.cwes = cwes;
        if let Some(v) = p
            .cvss3_vector
            .as_ref()
            .and_then(|v| v.raw.as_deref())
            .and_then(cvss3_vector)
        {
            f.cvss_v3_vector = Some(v);
        }
        f.cvss_v3_score = p
            .cvss3_base_score
            .as_ref()
            .and_then(json_f64)
            .filter(|s| (0.0..=10.0).contains(s));
        if let Some(raw) = p.cvss4_vector.as_ref().and_then(|v| v.raw.as_deref()) {
            let full = if raw.starts_with("CVSS:") {
                raw.to_owned()
            } else {
                format!("CVSS:4.0/{raw}")
            };
            f.cvss_v4_vector = cvss4_vector(&full);
        }
        f.cvss_v4_score = p
            .cvss4_base_score
            .as_ref()
            .and_then(json_f64)
            .filter(|s| (0.0..=10.0).contains(s));
        f.epss_score = p
            .epss_score
            .as_ref()
            .and_then(json_text)
            .and_then(|t| epss(&t));
        if let Some((name, version)) = p.cpe.iter().flatten().find_map(|c| cpe_component(c)) {
            f.component_name = Some(name);
            f.component_version = version;
        }
        let host = [
            &self.asset.hostname,
            &self.asset.fqdn,
            &self.asset.ipv4,
            &self.asset.ipv6,
        ]
        .into_iter()
        .find_map(text);
        if let Some(host) = host {
            let port = self.port.as_ref();
            if let Some(e) = endpoint_from_parts(
                port.and_then(|p| p.protocol.as_deref()),
                &host,
                port.and_then(|p| p.port),
            ) {
                f.endpoints.push(e);
            }
        }
        f.vuln_id_from_tool = Some(plugin_id).filter(|p| !p.is_empty());
        f.unique_id_from_tool = Some(self.id());
        f.fix_available = p.has_patch;
        f.date = self.first_found.as_deref().and_then(day_of);
        f.dynamic_finding = true;
        f.status = if self
            .severity_modification_type
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("ACCEPTED"))
        {
            Status::RiskAccepted
        } else if self
            .state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("FIXED"))
        {
            Status::Closed
        } else {
            Status::Active
        };
        fit_to_domain(f)
    }
}
