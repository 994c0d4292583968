//! One finding of Semgrep's findings API to a `NewFinding`, through the `Semgrep Pro JSON
//! Report` parser's mapping (the API export that parser reads is this API's answer), so that a
//! finding has the same identity whether it was imported from an export or pulled.
//!
//! Beyond the parser: `rule_name` is deprecated in favour of `rule.name`, so a finding without
//! it takes the rule's name; Supply Chain findings add their advisory id, package, fixed
//! version and EPSS score.

use crate::Context;
use crate::formats::common::finding::fit_to_domain;
use crate::formats::semgrep_pro::{ProFinding, finding};
use chrono::{DateTime, Utc};
use domain::NewFinding;
use serde_json::Value;

/// A mapped finding and the API's `relevant_since` (the incremental watermark).
pub struct Mapped {
    pub finding: NewFinding,
    pub id: Option<u64>,
    pub relevant_since: Option<DateTime<Utc>>,
}

pub fn map(ctx: &Context, mut raw: Value) -> Result<Mapped, String> {
    let obj = raw
        .as_object_mut()
        .ok_or("a finding is not a JSON object")?;
    if obj.get("rule_name").is_none_or(Value::is_null)
        && let Some(name) = obj.get("rule").and_then(|r| r.get("name")).cloned()
    {
        obj.insert("rule_name".into(), name);
    }
    let id = obj.get("id").and_then(Value::as_u64);
    let relevant_since = obj
        .get("relevant_since")
        .and_then(Value::as_str)
        .and_then(parse_time);
    let sca = Sca::read(obj);
    let pro: ProFinding = serde_json::from_value(raw)
        .map_err(|e| format!("a finding does not read as Semgrep's: {e}"))?;
    let mut f = finding(ctx, pro);
    if let Some(sca) = sca {
        sca.apply(&mut f);
    }
    Ok(Mapped {
        finding: fit_to_domain(f),
        id,
        relevant_since,
    })
}

/// Semgrep writes `2020-11-18T23:28:12.391807Z` (and, in its spec's examples,
/// `2020-11-18 23:28:12.391807+00:00`).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A Supply Chain finding's package facts.
struct Sca {
    vulnerability: Option<String>,
    package: Option<String>,
    version: Option<String>,
    fixed: Option<String>,
    epss: Option<(f64, Option<f64>)>,
    reachability: Option<String>,
}

impl Sca {
    fn read(obj: &serde_json::Map<String, Value>) -> Option<Sca> {
        let dep = obj.get("found_dependency").filter(|d| d.is_object());
        let vulnerability = obj
            .get("vulnerability_identifier")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if dep.is_none() && vulnerability.is_none() {
            return None;
        }
        let text = |v: Option<&Value>, k: &str| {
            v.and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let package = text(dep, "package");
        let fixed = obj
            .get("fix_recommendations")
            .and_then(Value::as_array)
            .and_then(|fixes| {
                fixes
                    .iter()
                    .find(|f| {
                        package.is_none()
                            || f.get("package").and_then(Value::as_str) == package.as_deref()
                    })
                    .and_then(|f| f.get("version").and_then(Value::as_str))
            })
            .map(str::to_owned);
        let epss = obj.get("epss_score").and_then(|e| {
            let score = e.get("score").and_then(Value::as_f64)?;
            Some((score, e.get("percentile").and_then(Value::as_f64)))
        });
        Some(Sca {
            vulnerability,
            version: text(dep, "version"),
            package,
            fixed,
            epss,
            reachability: obj
                .get("reachability")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    fn apply(self, f: &mut NewFinding) {
        if let Some(v) = self.vulnerability.filter(|v| !v.trim().is_empty()) {
            f.vulnerability_ids.push(v);
        }
        f.component_name = self.package.or(f.component_name.take());
        f.component_version = self.version.or(f.component_version.take());
        f.fix_available = Some(self.fixed.is_some());
        if let Some(fixed) = &self.fixed {
            let advice = format!("Upgrade to {fixed}.");
            f.mitigation = Some(match f.mitigation.take() {
                Some(m) => format!("{advice}\n\n{m}"),
                None => advice,
            });
        }
        f.fix_version = self.fixed;
        if let Some((score, percentile)) = self.epss {
            f.epss_score = Some(score);
            f.epss_percentile = percentile;
        }
        if let Some(r) = self.reachability {
            let line = format!("Reachability: {r}");
            f.impact = Some(match f.impact.take() {
                Some(i) => format!("{i}\n{line}"),
                None => line,
            });
        }
    }
}
