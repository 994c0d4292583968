//! A target's findings (`GET /targets/{id}/findings/`), most recently changed first, page by
//! page, mapped by the `Probely Scan` report parser and sent to the sink in batches.
//!
//! Probely documents no "changed since" filter, so an incremental pull reads the list by
//! `-changed` and stops at the first finding not newer than the cursor (the newest `changed`
//! the previous pull saw): it brings what changed — new, fixed, accepted, invalidated — and
//! is never complete. A full pull reads every page and is complete; if the list moved under it
//! (fewer distinct findings than Probely counts), it fails rather than close findings it
//! merely did not see.

use super::Probely;
use crate::Context;
use crate::connectors::{Batcher, FindingSink, PullMode, Pulled};
use crate::formats::common::finding::fit_to_domain;
use crate::formats::probely::{Finding, finding};
use chrono::{DateTime, SecondsFormat, Utc};
use domain::connector::Record;
use domain::{NewFinding, TestId};
use outbound::CallError;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Findings asked for per page.
pub const PAGE: u64 = 100;

/// The cursor's text: `changed` as Probely writes it.
pub fn cursor_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_cursor(text: &str) -> Result<DateTime<Utc>, CallError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            CallError::Misconfigured(format!(
                "the Probely cursor '{text}' is not a date-time; run a full sync"
            ))
        })
}

/// One finding of `target` as a finding, with the target named even when the list leaves it
/// out (the identity is `target/id`, as the report parser makes it).
pub fn map(target: &str, mut raw: Value, ctx: &Context) -> Result<NewFinding, String> {
    if !raw.is_object() {
        return Err("not a finding object".into());
    }
    if raw.get("id").is_none_or(Value::is_null) {
        return Err("the finding has no id".into());
    }
    if raw.pointer("/target/id").is_none_or(Value::is_null) {
        match raw.get_mut("target") {
            Some(Value::Object(t)) => {
                t.insert("id".into(), json!(target));
            }
            _ => {
                raw["target"] = json!({ "id": target });
            }
        }
    }
    let p: Finding =
        serde_json::from_value(raw).map_err(|e| format!("not a Probely finding: {e}"))?;
    Ok(fit_to_domain(finding(&p, ctx)))
}

impl Probely {
    pub(super) async fn pull_target(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        let target = record.external_id.as_str();
        let since = match &mode {
            PullMode::Full => None,
            PullMode::Since(c) => Some(parse_cursor(c)?),
        };
        let path = format!("targets/{target}/findings/");
        let ctx = Context::new(TestId(0));
        let mut out = Batcher::new(sink);
        let mut newest = since;
        let mut seen: HashSet<String> = HashSet::new();
        let mut page = 1u64;
        let mut counted = 0u64;
        'pages: loop {
            let what = format!(
                "Probely findings of target '{}' ({target}), page {page}",
                record.name
            );
            let query = [
                ("page", page.to_string()),
                ("length", PAGE.to_string()),
                ("ordering", "-changed".to_owned()),
            ];
            let answer = match self.api.page(&path, &query, &what).await {
                // The list shrank between pages: what was read is no longer one list.
                Err(CallError::NotFound(m)) if page > 1 => {
                    return Err(CallError::Transient(format!(
                        "{what}: the findings changed during the pull ({m}); the next sync retries"
                    )));
                }
                other => other?,
            };
            let results = answer
                .results
                .ok_or_else(|| CallError::Protocol(format!("{what}: the answer has no results")))?;
            counted = answer.count.unwrap_or(counted);
            let pages = answer.page_total.unwrap_or(1);
            let n = results.len() as u64;
            for (i, raw) in results.into_iter().enumerate() {
                let changed = raw
                    .get("changed")
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc));
                if let (Some(s), Some(c)) = (since, changed)
                    && c <= s
                {
                    // Ordered by `-changed`: this and everything after it the last pull saw.
                    break 'pages;
                }
                let id = raw.get("id").map(Value::to_string).unwrap_or_default();
                let f = map(target, raw, &ctx)
                    .map_err(|e| CallError::Protocol(format!("{what}, finding {i}: {e}")))?;
                if let Some(c) = changed {
                    newest = Some(newest.map_or(c, |n| n.max(c)));
                }
                // A finding that changed during the pull moves up a page and may come twice.
                if !seen.insert(id) {
                    continue;
                }
                if !out.push(f).await {
                    return Ok(Pulled {
                        complete: false,
                        cursor: None,
                        findings: out.sent,
                    });
                }
            }
            if page >= pages {
                break;
            }
            if n < PAGE {
                return Err(CallError::Protocol(format!(
                    "{what}: a page of {n} findings before the last of {pages} pages (length {PAGE})"
                )));
            }
            page += 1;
        }
        if !out.flush().await {
            return Ok(Pulled {
                complete: false,
                cursor: None,
                findings: out.sent,
            });
        }
        if since.is_none() && (seen.len() as u64) < counted {
            return Err(CallError::Transient(format!(
                "Probely findings of target '{}' ({target}): read {} of the {counted} Probely counts; the list changed during the pull and the next sync retries",
                record.name,
                seen.len()
            )));
        }
        Ok(Pulled {
            complete: since.is_none(),
            cursor: newest.map(cursor_text),
            findings: out.sent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Status;

    #[test]
    fn findings_get_their_target_and_the_parser_mapping() {
        let ctx = Context::new(TestId(0));
        let f = map("T1", json!({ "id": 7, "definition": { "name": "Clickjacking" }, "state": "accepted", "severity": 10 }), &ctx)
            .expect("a finding");
        assert_eq!(f.unique_id_from_tool.as_deref(), Some("T1/7"));
        assert_eq!(f.status, Status::RiskAccepted);
        let f = map(
            "T1",
            json!({ "id": 8, "target": { "id": "T2" }, "state": "invalid" }),
            &ctx,
        )
        .expect("a finding");
        assert_eq!(f.unique_id_from_tool.as_deref(), Some("T2/8"));
        assert!(map("T1", json!({ "state": "fixed" }), &ctx).is_err());
        assert!(map("T1", json!([1]), &ctx).is_err());
        assert!(parse_cursor("yesterday").is_err());
        let t = parse_cursor("2025-05-23T18:01:54.595838Z").expect("a date");
        assert_eq!(cursor_text(t), "2025-05-23T18:01:54.595838Z");
    }
}
