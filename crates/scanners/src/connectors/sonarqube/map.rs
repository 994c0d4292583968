//! A page of `api/issues/search` or `api/hotspots/search` to findings, through the `SonarQube
//! Scan detailed` parser's mapping of API exports (an export is these same pages), so that an
//! issue has the same identity — its key — whether it was imported from an export or pulled.

use crate::Context;
use crate::formats::sonarqube::{JsonReport, api_findings};
use chrono::{DateTime, Utc};
use domain::NewFinding;
use outbound::CallError;
use serde_json::Value;
use std::collections::HashMap;

/// One finding of a page with the dates the pull needs.
pub struct Item {
    pub finding: NewFinding,
    pub key: String,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
}

pub struct Page {
    /// `paging.total`: every match of the query, not only this page.
    pub total: u64,
    /// The page's entries (issues or hotspots) as the API listed them.
    pub listed: usize,
    pub items: Vec<Item>,
}

/// SonarQube's dates: `2025-04-02T09:12:44+0000`.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

/// An entry's creation and update dates.
type Dates = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Reads a page whose entries are under `list` (`issues` or `hotspots`).
pub fn read(ctx: &Context, what: &str, page: Value, list: &str) -> Result<Page, CallError> {
    let total = page
        .pointer("/paging/total")
        .and_then(Value::as_u64)
        .ok_or_else(|| CallError::Protocol(format!("{what}: no paging.total in the answer")))?;
    let entries = page
        .get(list)
        .and_then(Value::as_array)
        .ok_or_else(|| CallError::Protocol(format!("{what}: no `{list}` list in the answer")))?;
    let mut dates: HashMap<String, Dates> = HashMap::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let key = e
            .get("key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| CallError::Protocol(format!("{what}: entry {i} has no key")))?;
        let date = |k: &str| e.get(k).and_then(Value::as_str).and_then(parse_time);
        dates.insert(key.to_owned(), (date("creationDate"), date("updateDate")));
    }
    let listed = entries.len();
    let report: JsonReport =
        serde_json::from_value(page).map_err(|e| outbound::json_error(what, &e))?;
    let items = api_findings(ctx, true, report)
        .into_iter()
        .filter_map(|finding| {
            let key = finding.unique_id_from_tool.clone()?;
            let (created, updated) = dates.get(&key).copied().unwrap_or((None, None));
            Some(Item {
                finding,
                key,
                created,
                updated,
            })
        })
        .collect();
    Ok(Page {
        total,
        listed,
        items,
    })
}
