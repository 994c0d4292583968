//! CWEs from the rules (`api/rules/show`), for findings whose issue names none: a rule's
//! `securityStandards` (`cwe:89`), or else the CWE links of its description (editions without
//! security standards), as DefectDojo's SonarQube importer reads them. Each rule is asked for
//! once per pull.

use super::api::Api;
use crate::formats::common::finding::fit_to_domain;
use crate::formats::common::ids::cwes_in;
use domain::NewFinding;
use outbound::CallError;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Default)]
pub struct Rules {
    cwes: HashMap<String, Vec<i32>>,
}

impl Rules {
    async fn cwes_of(&mut self, api: &Api, rule: &str) -> Result<Vec<i32>, CallError> {
        if let Some(c) = self.cwes.get(rule) {
            return Ok(c.clone());
        }
        let what = format!("the SonarQube rule {rule}");
        let cwes = match api
            .get(&what, "api/rules/show", &[("key", rule.to_owned())])
            .await
        {
            Ok(v) => rule_cwes(v.get("rule").unwrap_or(&Value::Null)),
            // A rule removed since the analysis (or an external engine's) has nothing to add.
            Err(CallError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        self.cwes.insert(rule.to_owned(), cwes.clone());
        Ok(cwes)
    }

    /// Gives `f` its rule's CWEs when it has none.
    pub async fn enrich(&mut self, api: &Api, f: NewFinding) -> Result<NewFinding, CallError> {
        if f.cwe.is_some() || !f.cwes.is_empty() {
            return Ok(f);
        }
        let Some(rule) = f.vuln_id_from_tool.clone() else {
            return Ok(f);
        };
        let cwes = self.cwes_of(api, &rule).await?;
        if cwes.is_empty() {
            return Ok(f);
        }
        let mut f = f;
        f.cwe = cwes.first().copied();
        f.cwes = cwes;
        Ok(fit_to_domain(f))
    }
}

fn rule_cwes(rule: &Value) -> Vec<i32> {
    let mut out: Vec<i32> = rule
        .get("securityStandards")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|s| s.strip_prefix("cwe:"))
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    if out.is_empty() {
        let mut text = String::new();
        for k in ["htmlDesc", "mdDesc"] {
            if let Some(d) = rule.get(k).and_then(Value::as_str) {
                text.push_str(d);
                text.push('\n');
            }
        }
        for section in rule
            .get("descriptionSections")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(c) = section.get("content").and_then(Value::as_str) {
                text.push_str(c);
                text.push('\n');
            }
        }
        out = cwes_in(&text);
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(*c));
    out
}
