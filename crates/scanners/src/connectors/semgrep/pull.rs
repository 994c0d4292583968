//! A project's findings, page by page (0-based, newest `relevant_since` first, a short page is
//! the last), Code and Supply Chain in turn, sent to the sink in batches as they come.
//!
//! Incremental pulls pass `since` (epoch seconds): Semgrep filters it on `relevant_since`, the
//! moment a finding was detected or reintroduced, so they bring new findings only — fixes and
//! triage show up on the next full pull, which is why an incremental pull is never complete.

use super::Semgrep;
use super::map::map;
use crate::Context;
use crate::connectors::{Batcher, FindingSink, PullMode, Pulled};
use chrono::{DateTime, Utc};
use domain::connector::Record;
use domain::TestId;
use outbound::CallError;
use std::collections::HashSet;

/// The cursor's text: epoch seconds with microseconds, as `since` takes them.
pub fn cursor_text(t: DateTime<Utc>) -> String {
    format!("{}.{:06}", t.timestamp(), t.timestamp_subsec_micros())
}

/// Reads a cursor written by [`cursor_text`] (any epoch-seconds number).
pub fn parse_cursor(text: &str) -> Result<f64, CallError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| {
            CallError::Misconfigured(format!(
                "the Semgrep cursor '{text}' is not epoch seconds; run a full sync"
            ))
        })
}

impl Semgrep {
    pub(super) async fn pull_record(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        let slug = self.deployment_of(record).await?;
        let repo = record
            .metadata
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or(&record.name)
            .to_owned();
        let since = match &mode {
            PullMode::Full => None,
            PullMode::Since(c) => Some(parse_cursor(c)?),
        };
        let ctx = Context::new(TestId(0));
        let mut out = Batcher::new(sink);
        let mut newest: Option<DateTime<Utc>> = None;
        let mut seen: HashSet<u64> = HashSet::new();
        for issue_type in &self.issue_types {
            let mut page = 0usize;
            loop {
                let what = format!("Semgrep {issue_type} findings of project {repo} (page {page})");
                let mut filters = vec![
                    ("issue_type", (*issue_type).to_owned()),
                    ("repos", repo.clone()),
                    ("dedup", "true".to_owned()),
                    ("page", page.to_string()),
                    ("page_size", self.page_size.to_string()),
                ];
                if let Some(s) = since {
                    filters.push(("since", format!("{s}")));
                }
                let found = self.api.findings(&slug, &what, &filters).await?;
                let n = found.len();
                let mut new_on_page = 0usize;
                for (i, raw) in found.into_iter().enumerate() {
                    let m = map(&ctx, raw)
                        .map_err(|e| CallError::Protocol(format!("{what}, finding {i}: {e}")))?;
                    // Findings detected during the pull push the older ones a page later:
                    // one seen already is skipped, not sent twice.
                    if let Some(id) = m.id
                        && !seen.insert(id)
                    {
                        continue;
                    }
                    new_on_page += 1;
                    if let Some(t) = m.relevant_since {
                        newest = Some(newest.map_or(t, |n| n.max(t)));
                    }
                    if !out.push(m.finding).await {
                        return Ok(Pulled {
                            complete: false,
                            cursor: None,
                            findings: out.sent,
                        });
                    }
                }
                if n < self.page_size {
                    break;
                }
                if new_on_page == 0 {
                    return Err(CallError::Protocol(format!(
                        "{what}: a full page of findings already seen; Semgrep is not paging as documented"
                    )));
                }
                page += 1;
            }
        }
        if !out.flush().await {
            return Ok(Pulled {
                complete: false,
                cursor: None,
                findings: out.sent,
            });
        }
        let cursor = match (newest, mode) {
            (Some(t), _) => Some(cursor_text(t)),
            (None, PullMode::Since(c)) => Some(c),
            (None, PullMode::Full) => None,
        };
        Ok(Pulled {
            complete: since.is_none(),
            cursor,
            findings: out.sent,
        })
    }

    /// The deployment slug Discover stored with the Record, or (for a Record from before) the
    /// token's deployment.
    async fn deployment_of(&self, record: &Record) -> Result<String, CallError> {
        if let Some(slug) = record
            .metadata
            .get("deployment_slug")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
        {
            return Ok(slug.to_owned());
        }
        self.api
            .deployments()
            .await?
            .into_iter()
            .next()
            .map(|d| d.slug)
            .ok_or_else(|| CallError::NotFound("Semgrep deployments (the token sees none)".into()))
    }
}
