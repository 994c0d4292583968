//! The fixture: one page of Probely's findings API (`fixtures/probely/findings.json`, written
//! from Probely's API reference and SDK). Its findings seed the first target as they are and
//! serve as templates for generated ones.

use super::state::{Body, Finding, State};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

const FINDINGS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/probely/findings.json"
));

/// The fixture's findings.
pub fn fixture_findings() -> &'static [Value] {
    static LIST: OnceLock<Vec<Value>> = OnceLock::new();
    LIST.get_or_init(|| match serde_json::from_str::<Value>(FINDINGS) {
        Ok(doc) => doc.get("results").and_then(Value::as_array).cloned().unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "The Probely fixture does not parse; the simulator starts without it.");
            Vec::new()
        }
    })
}

/// `(severity, path)` of each fixture finding: what generated findings copy.
pub fn templates() -> Vec<(u8, String)> {
    fixture_findings()
        .iter()
        .map(|f| {
            let severity = f
                .get("severity")
                .and_then(Value::as_u64)
                .and_then(|s| u8::try_from(s).ok())
                .unwrap_or(10);
            let path = f
                .get("url")
                .and_then(Value::as_str)
                .and_then(|u| url::Url::parse(u).ok())
                .map_or_else(|| "/".to_owned(), |u| u.path().to_owned());
            (severity, path)
        })
        .collect()
}

fn time(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// Builds the fixture world:
/// - target `3r5Sjyg7enXp` "Acme shop" (the fixture's target) with the fixture's five
///   findings: open, open and being retested, accepted, invalid and fixed;
/// - target "Acme partner API" (an API target) with six generated findings, one accepted.
pub fn seed(state: &mut State) {
    let list = fixture_findings();
    let first_target = list
        .first()
        .and_then(|f| f.pointer("/target/id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let shop = state.add_target(
        first_target,
        "Acme shop",
        "https://shop.example.com",
        "single",
    );
    if let Some(t) = state.target_mut(&shop) {
        t.labels = vec!["pci".into()];
        for f in list {
            let id = f
                .get("id")
                .and_then(Value::as_u64)
                .unwrap_or(t.next_finding_id);
            t.next_finding_id = t.next_finding_id.max(id + 1);
            let changed = time(f, "changed").unwrap_or_else(Utc::now);
            t.findings.push(Finding {
                id,
                state: f
                    .get("state")
                    .and_then(Value::as_str)
                    .unwrap_or("notfixed")
                    .to_owned(),
                severity: f
                    .get("severity")
                    .and_then(Value::as_u64)
                    .and_then(|s| u8::try_from(s).ok())
                    .unwrap_or(10),
                url: f
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                retesting: f.get("retesting").and_then(Value::as_bool).unwrap_or(false),
                new: f.get("new").and_then(Value::as_bool).unwrap_or(false),
                last_found: time(f, "last_found").unwrap_or(changed),
                changed,
                body: Body::Fixture(Arc::new(f.clone())),
            });
        }
    }
    let api = state.add_target(
        None,
        "Acme partner API",
        "https://api.partner.example.com",
        "api",
    );
    state.add_generated(&api, 6, &templates());
    state.set_state(&api, 1, "accepted");
}
