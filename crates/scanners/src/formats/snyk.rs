//! `Snyk Scan`: the JSON of `snyk test --json` (open source), `snyk container test --json`,
//! a list of projects from `--all-projects`, and — since users upload it under the same scan
//! type — the SARIF of `snyk code test`, which is handed to the Snyk Code mapping.
//!
//! One finding per entry of `vulnerabilities`: Snyk lists a vulnerable package once per
//! dependency path, and each path is fixed separately, so each is its own finding (the path is
//! the `file_path`, which is part of the de-duplication hash).

use super::common::cvss::{set_cvss_vector, severity_from_cvss};
use super::common::finding::fit_to_domain;
use super::common::ids::cwe_in_json;
use super::common::json::{json_date, json_f64, json_text, read_json_list};
use super::common::text::non_empty;
use super::common::title::title_from_candidates;
use super::snyk_code::emit_sarif;
use crate::{Context, ParseError, Parser, Sink};
use domain::{NewFinding, Severity};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::io::BufRead;

pub const SCAN_TYPE: &str = "Snyk Scan";

/// The `Snyk Scan` parser.
pub struct SnykScan;

impl Parser for SnykScan {
    fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &Context,
        sink: &mut Sink<'_>,
    ) -> Result<(), ParseError> {
        // `--all-projects` writes a list of projects, a single project is the object itself.
        let projects: Vec<Project> =
            read_json_list(SCAN_TYPE, input, |project: Project| Ok(vec![project]))?;
        for project in &projects {
            if project.vulnerabilities.is_none()
                && let Some(runs) = &project.runs
            {
                emit_sarif(runs, ctx, sink)?;
                continue;
            }
            emit_project(project, ctx, sink)?;
            // `snyk container test` reports the application dependencies found inside the
            // image under `applications`, each shaped like a project of its own. DefectDojo
            // skips them; they are real vulnerabilities in what the image ships.
            for app in project.applications.iter().flatten() {
                emit_project(app, ctx, sink)?;
            }
        }
        Ok(())
    }
}

#[derive(Deserialize, Default)]
#[serde(
    rename_all = "camelCase",
    expecting = "a Snyk project object (with `vulnerabilities`) or SARIF"
)]
struct Project {
    #[serde(default)]
    vulnerabilities: Option<Vec<Vulnerability>>,
    #[serde(default)]
    display_target_file: Option<String>,
    #[serde(default)]
    remediation: Option<Remediation>,
    #[serde(default)]
    applications: Option<Vec<Project>>,
    /// Present when the document is SARIF (`snyk code test --sarif`).
    #[serde(default)]
    runs: Option<Vec<super::snyk_code::Run>>,
}

#[derive(Deserialize, Default)]
struct Remediation {
    /// `"pkg@current": {"upgradeTo": "pkg@fixed", "upgrades": [...], "vulns": [ids]}`.
    #[serde(default)]
    upgrade: Option<Map<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Vulnerability {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    cvss_score: Option<Value>,
    #[serde(default, rename = "CVSSv3")]
    cvss_v3: Option<String>,
    #[serde(default)]
    semver: Option<Semver>,
    #[serde(default)]
    from: Option<Vec<String>>,
    #[serde(default)]
    package_name: Option<String>,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    identifiers: Option<Identifiers>,
    #[serde(default)]
    references: Option<Vec<Reference>>,
    #[serde(default)]
    epss_details: Option<EpssDetails>,
    #[serde(default)]
    fixed_in: Option<Vec<Value>>,
    #[serde(default)]
    is_upgradable: Option<bool>,
    #[serde(default)]
    is_patchable: Option<bool>,
    #[serde(default)]
    publication_time: Option<Value>,
    #[serde(default)]
    package_manager: Option<String>,
}

#[derive(Deserialize, Default)]
struct Semver {
    /// A string for one range, a list for several, depending on the ecosystem.
    #[serde(default)]
    vulnerable: Option<Value>,
}

#[derive(Deserialize, Default)]
struct Identifiers {
    #[serde(default, rename = "CVE")]
    cve: Option<Vec<Value>>,
    #[serde(default, rename = "CWE")]
    cwe: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
struct Reference {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize, Default)]
struct EpssDetails {
    #[serde(default)]
    probability: Option<Value>,
    #[serde(default)]
    percentile: Option<Value>,
}

fn emit_project(project: &Project, ctx: &Context, sink: &mut Sink<'_>) -> Result<(), ParseError> {
    let target_file = non_empty(project.display_target_file.as_deref());
    let upgrades = project
        .remediation
        .as_ref()
        .and_then(|r| r.upgrade.as_ref());
    for vuln in project.vulnerabilities.iter().flatten() {
        let f = finding(vuln, ctx, target_file.as_deref(), upgrades);
        sink(fit_to_domain(f))?;
    }
    Ok(())
}

fn finding(
    v: &Vulnerability,
    ctx: &Context,
    target_file: Option<&str>,
    upgrades: Option<&Map<String, Value>>,
) -> NewFinding {
    let from: &[String] = v.from.as_deref().unwrap_or(&[]);
    let package = v.package_name.as_deref().unwrap_or("").trim();
    let version = v.version.as_ref().and_then(json_text).unwrap_or_default();
    let vuln_title = v.title.as_deref().unwrap_or("").trim();
    let root = from.first().map(String::as_str).unwrap_or(package);
    let title = title_from_candidates([Some(format!("{root}: {vuln_title}").as_str())], vuln_title);

    // A CVSS score decides the band when Snyk gives one (as in DefectDojo), Snyk's own rating
    // otherwise (license issues and some OS packages have no score).
    let cvss_number = v.cvss_score.as_ref().filter(|s| json_f64(s).is_some());
    let snyk_rating = v.severity.as_deref().and_then(|s| Severity::parse(s).ok());
    let (severity, justification) = match cvss_number {
        Some(raw) => {
            let sev = severity_from_cvss(json_f64(raw).unwrap_or(0.0));
            (
                sev,
                format!(
                    "Issue severity of: **{}** from a base CVSS score of: **{}**",
                    sev.label(),
                    json_text(raw).unwrap_or_default()
                ),
            )
        }
        None => {
            let sev = snyk_rating.unwrap_or(Severity::Info);
            (
                sev,
                format!(
                    "Issue severity of: **{}** from Snyk's rating (no CVSS score)",
                    sev.label()
                ),
            )
        }
    };

    let mut f = NewFinding::new(ctx.test, title, severity);
    f.severity_justification = Some(justification);
    f.static_finding = true;
    f.component_name = non_empty(Some(package));
    f.component_version = non_empty(Some(&version));
    f.component_purl = purl(v.package_manager.as_deref(), package, &version);
    f.vuln_id_from_tool = non_empty(v.id.as_deref());
    f.file_path = non_empty(Some(&dependency_path(from)));

    let vulnerable = match v.semver.as_ref().and_then(|s| s.vulnerable.as_ref()) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(json_text)
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => json_text(other).unwrap_or_default(),
        None => String::new(),
    };
    let description = format!(
        "## Component Details\n- **Vulnerable Package**: {package}\n- **Current Version**: {version}\n\
         - **Vulnerable Version(s)**: {vulnerable}\n- **Vulnerable Path**: {}\n{}",
        from.join(" > "),
        v.description.as_deref().unwrap_or("")
    );
    f.description = description.trim().to_owned();

    if let Some(vector) = non_empty(v.cvss_v3.as_deref()) {
        set_cvss_vector(&mut f, &vector);
    }
    if f.cvss_v3_vector.is_some() {
        f.cvss_v3_score = cvss_number.and_then(json_f64);
    }
    if let Some(epss) = &v.epss_details {
        f.epss_score = epss.probability.as_ref().and_then(json_f64);
        f.epss_percentile = epss.percentile.as_ref().and_then(json_f64);
    }
    f.publish_date = v.publication_time.as_ref().and_then(json_date);

    let mut cwe_note = String::new();
    if let Some(ids) = &v.identifiers {
        f.vulnerability_ids = ids.cve.iter().flatten().filter_map(json_text).collect();
        if let Some(cwes) = &ids.cwe {
            f.cwes = cwes.iter().filter_map(cwe_in_json).collect();
            // An empty CWE list on a dependency vulnerability: DefectDojo files it under
            // CWE-1035, "Using Components with Known Vulnerabilities".
            f.cwe = Some(f.cwes.first().copied().unwrap_or(1035));
            if cwes.len() > 1 {
                cwe_note = cwes
                    .iter()
                    .filter_map(json_text)
                    .collect::<Vec<_>>()
                    .join(", ");
            }
        }
    }

    let mut references = String::new();
    if let Some(id) = non_empty(v.id.as_deref()) {
        references.push_str(&format!("**SNYK ID**: https://app.snyk.io/vuln/{id}\n\n"));
    }
    if !cwe_note.is_empty() {
        references.push_str(&format!("Several CWEs were reported: \n\n{cwe_note}\n"));
    }
    for r in v.references.iter().flatten() {
        references.push_str(&format!(
            "**{}**: {}\n",
            r.title.as_deref().unwrap_or(""),
            r.url.as_deref().unwrap_or("")
        ));
    }
    f.references = (!references.is_empty()).then_some(references);

    let fixed_in: Vec<String> = v.fixed_in.iter().flatten().filter_map(json_text).collect();
    f.fix_available =
        Some(v.is_upgradable == Some(true) || v.is_patchable == Some(true) || !fixed_in.is_empty());
    f.fix_version = (!fixed_in.is_empty()).then(|| fixed_in.join(", "));

    // Snyk's advisory text carries a "## Remediation" section up to "## References"; that is
    // the mitigation. Without one, the fixed versions say the same.
    let mut mitigation = match (
        f.description.find("## Remediation"),
        f.description.find("## References"),
    ) {
        (Some(start), Some(end)) if start < end => {
            f.description.get(start..end).unwrap_or("").to_owned()
        }
        _ if !fixed_in.is_empty() => format!(
            "Upgrade `{package}` to version {} or higher.\n",
            fixed_in.join(", ")
        ),
        _ => String::new(),
    };
    if let Some(file) = target_file {
        f.tags.push(format!("target_file:{file}"));
        if !mitigation.is_empty() {
            mitigation.push_str(&format!("\nUpgrade Location: {file}"));
        }
    }
    for (current, plan) in upgrades.into_iter().flatten() {
        if !upgrade_fixes(v, from, current, plan) {
            continue;
        }
        let Some(to) = plan.get("upgradeTo").and_then(json_text) else {
            continue;
        };
        let also: Vec<String> = plan
            .get("upgrades")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(json_text)
            .collect();
        f.tags.push(format!("upgrade_to:{to}"));
        mitigation.push_str(&format!(
            "\nUpgrade from {current} to {to} to fix this issue, as well as updating the following:\n - {}",
            also.join("\n - ")
        ));
    }
    f.mitigation = (!mitigation.trim().is_empty()).then_some(mitigation);
    f
}

/// Whether an entry of `remediation.upgrade` fixes this vulnerability on this path. Snyk lists
/// the vulnerability ids each upgrade fixes (`vulns`) and the upgrade is keyed by the direct
/// dependency it bumps, which must be on the path. Older reports lack `vulns`; there the
/// upgrade applies when it names this very package version among those it updates.
/// (DefectDojo matches package names as substrings of the mitigation text instead, which also
/// attaches upgrades for a different version of the same package.)
fn upgrade_fixes(v: &Vulnerability, from: &[String], current: &str, plan: &Value) -> bool {
    let on_path = from.iter().any(|p| p == current);
    match plan.get("vulns").and_then(Value::as_array) {
        Some(ids) => {
            on_path
                && v.id
                    .as_deref()
                    .is_some_and(|id| ids.iter().any(|x| x.as_str() == Some(id)))
        }
        None => {
            let this = format!(
                "{}@{}",
                v.package_name.as_deref().unwrap_or(""),
                v.version.as_ref().and_then(json_text).unwrap_or_default()
            );
            on_path
                && plan
                    .get("upgrades")
                    .and_then(Value::as_array)
                    .is_some_and(|u| u.iter().any(|x| x.as_str() == Some(this.as_str())))
        }
    }
}

/// The dependency path without versions: `myproject > @angular/localize > lodash`.
fn dependency_path(from: &[String]) -> String {
    from.iter()
        .map(|item| match item.rsplit_once('@') {
            Some((name, _)) => name,
            None => "",
        })
        .collect::<Vec<_>>()
        .join(" > ")
}

/// A package URL for the ecosystems Snyk names in `packageManager`.
fn purl(manager: Option<&str>, name: &str, version: &str) -> Option<String> {
    if name.is_empty() || version.is_empty() {
        return None;
    }
    let kind = match manager?.to_ascii_lowercase().as_str() {
        "npm" | "yarn" | "pnpm" => "npm",
        "pip" | "poetry" | "pipenv" => "pypi",
        "maven" | "gradle" | "sbt" => "maven",
        "rubygems" => "gem",
        "nuget" | "paket" => "nuget",
        "composer" => "composer",
        "gomodules" | "golangdep" | "govendor" => "golang",
        "cocoapods" => "cocoapods",
        "hex" => "hex",
        "pub" => "pub",
        "cargo" => "cargo",
        _ => return None,
    };
    let path = match kind {
        // Maven coordinates are `group:artifact`; the purl separates them with a slash.
        "maven" => name.replacen(':', "/", 1),
        // A scoped npm name keeps its slash but its `@` is percent-encoded.
        "npm" => name
            .strip_prefix('@')
            .map(|n| format!("%40{n}"))
            .unwrap_or_else(|| name.to_owned()),
        _ => name.to_owned(),
    };
    Some(format!("pkg:{kind}/{path}@{version}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_path_drops_versions_and_keeps_scopes() {
        let from = [
            "myproject@1.0.0".to_owned(),
            "@angular/localize@9.0.0".to_owned(),
            "lodash@4.17.15".to_owned(),
        ];
        assert_eq!(
            dependency_path(&from),
            "myproject > @angular/localize > lodash"
        );
    }

    #[test]
    fn purls() {
        assert_eq!(
            purl(Some("maven"), "org.apache:xmlsec", "2.1.1").as_deref(),
            Some("pkg:maven/org.apache/xmlsec@2.1.1")
        );
        assert_eq!(
            purl(Some("npm"), "@babel/core", "7.0.0").as_deref(),
            Some("pkg:npm/%40babel/core@7.0.0")
        );
        assert_eq!(purl(Some("debian:11"), "gcc-10", "1"), None);
    }
}
