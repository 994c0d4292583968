//! A project's issues and security hotspots, page by page, sent to the sink in batches.
//!
//! SonarQube's searches return at most the first 10,000 results of a query (`p × ps` ≤
//! 10,000, `ps` ≤ 500). A full pull therefore lists issues by creation date, oldest first, and
//! when a query matches more than 10,000 it splits it: into two halves of its creation-date
//! window (`createdAfter` inclusive, `createdBefore` exclusive), down to a single second, and
//! then by rule (the `rules` facet). Hotspots are split by status and resolution.
//!
//! An incremental pull lists issues by update date, newest first, down to the cursor (the
//! newest update date seen before): triage and fixes update an issue, so they are seen
//! without a new analysis. Past 10,000 changed issues it becomes a full pull. Hotspots have no
//! date filter: they are listed whole and those updated since the cursor are sent.

use super::SonarQube;
use super::api::{Api, at_least};
use super::map::{self, Item, Page};
use super::rules::Rules;
use crate::Context;
use crate::connectors::{Batcher, FindingSink, PullMode, Pulled};
use chrono::{DateTime, TimeDelta, Utc};
use domain::connector::Record;
use domain::TestId;
use outbound::CallError;
use serde_json::Value;
use std::collections::HashSet;

const PS: u32 = 500;
const WINDOW: u64 = 10_000;

/// One query of issues: a creation-date window, maybe one rule.
#[derive(Clone, Debug)]
struct Slice {
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    rule: Option<String>,
}

/// Whether the pull goes on (`false`: the sink closed, the import stopped).
type Going = bool;

struct Pull<'a> {
    api: &'a Api,
    client: &'a SonarQube,
    project: String,
    ctx: Context,
    out: Batcher<'a>,
    seen: HashSet<String>,
    newest: Option<DateTime<Utc>>,
    rules: Rules,
}

impl SonarQube {
    pub(super) async fn pull_project(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        let since = match &mode {
            PullMode::Full => None,
            PullMode::Since(c) => Some(
                map::parse_time(c)
                    .or_else(|| {
                        DateTime::parse_from_rfc3339(c)
                            .ok()
                            .map(|t| t.with_timezone(&Utc))
                    })
                    .ok_or_else(|| {
                        CallError::Misconfigured(format!(
                            "the SonarQube cursor '{c}' is not a date; run a full sync"
                        ))
                    })?,
            ),
        };
        let mut pull = Pull {
            api: &self.api,
            client: self,
            project: record.external_id.clone(),
            ctx: Context::new(TestId(0)),
            out: Batcher::new(sink),
            seen: HashSet::new(),
            newest: None,
            rules: Rules::default(),
        };
        // The sink closed: the import stopped, so the pull does too.
        macro_rules! stopped {
            () => {
                return Ok(Pulled {
                    complete: false,
                    cursor: None,
                    findings: pull.out.sent,
                })
            };
        }
        let mut complete = since.is_none();
        if let Some(since) = since {
            match pull.issues_since(since).await? {
                Some(true) => {}
                Some(false) => stopped!(),
                // More changed than one query can list: list them all.
                None => {
                    complete = true;
                    if !pull.issues_full().await? {
                        stopped!();
                    }
                }
            }
        } else if !pull.issues_full().await? {
            stopped!();
        }
        if self.hotspots {
            let only_since = if complete { None } else { since };
            if !pull.hotspots(only_since).await? {
                stopped!();
            }
        }
        if !pull.out.flush().await {
            stopped!();
        }
        let cursor = match (pull.newest, mode) {
            (Some(t), _) => Some(map::format_time(t)),
            (None, PullMode::Since(c)) => Some(c),
            (None, PullMode::Full) => None,
        };
        Ok(Pulled {
            complete,
            cursor,
            findings: pull.out.sent,
        })
    }
}

impl Pull<'_> {
    /// Sends an item (once per key), its rule's CWEs added when it names none.
    async fn emit(&mut self, item: Item) -> Result<Going, CallError> {
        if !self.seen.insert(item.key.clone()) {
            return Ok(true);
        }
        if let Some(t) = item.updated {
            self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        }
        let f = if self.client.rule_details {
            self.rules.enrich(self.api, item.finding).await?
        } else {
            item.finding
        };
        Ok(self.out.push(f).await)
    }

    fn base_query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("componentKeys", self.project.clone()),
            ("types", self.client.types.join(",")),
        ];
        if let Some(b) = &self.client.branch {
            q.push(("branch", b.clone()));
        }
        q
    }

    async fn issues_page(
        &self,
        slice: &Slice,
        p: u32,
        ps: u32,
        sort: (&str, bool),
        extra: &[(&'static str, String)],
    ) -> Result<(Page, Value), CallError> {
        let mut q = self.base_query();
        if let Some(a) = slice.after {
            q.push(("createdAfter", map::format_time(a)));
        }
        if let Some(b) = slice.before {
            q.push(("createdBefore", map::format_time(b)));
        }
        if let Some(r) = &slice.rule {
            q.push(("rules", r.clone()));
        }
        q.push(("s", sort.0.to_owned()));
        q.push(("asc", sort.1.to_string()));
        q.push(("p", p.to_string()));
        q.push(("ps", ps.to_string()));
        q.extend_from_slice(extra);
        let what = format!(
            "SonarQube issues of project {} (page {p}{})",
            self.project,
            describe(slice)
        );
        let raw = self.api.get(&what, "api/issues/search", &q).await?;
        let facets = raw.get("facets").cloned().unwrap_or(Value::Null);
        Ok((map::read(&self.ctx, &what, raw, "issues")?, facets))
    }

    /// Every issue, split into queries of at most 10,000. `Ok(false)`: the sink closed.
    async fn issues_full(&mut self) -> Result<Going, CallError> {
        let mut work = vec![Slice {
            after: None,
            before: None,
            rule: None,
        }];
        while let Some(slice) = work.pop() {
            let (first, _) = self
                .issues_page(&slice, 1, PS, ("CREATION_DATE", true), &[])
                .await?;
            if first.total <= WINDOW {
                if !self.page_through(&slice, first).await? {
                    return Ok(false);
                }
                continue;
            }
            work.extend(self.split(&slice, &first).await?);
        }
        Ok(true)
    }

    /// Sends a slice's first page and the rest of its pages.
    async fn page_through(&mut self, slice: &Slice, first: Page) -> Result<Going, CallError> {
        let total = first.total;
        let pages = total.div_ceil(u64::from(PS)).max(1) as u32;
        let mut page = first;
        let mut p = 1;
        loop {
            let expected = if p < pages {
                u64::from(PS)
            } else {
                total - u64::from(PS) * u64::from(p - 1)
            };
            if (page.listed as u64) < expected && p < pages {
                return Err(CallError::Protocol(format!(
                    "SonarQube issues of project {} (page {p}{}): {} issues where {expected} were announced (total {total})",
                    self.project,
                    describe(slice),
                    page.listed
                )));
            }
            for item in page.items {
                if !self.emit(item).await? {
                    return Ok(false);
                }
            }
            if p >= pages {
                return Ok(true);
            }
            p += 1;
            page = self
                .issues_page(slice, p, PS, ("CREATION_DATE", true), &[])
                .await?
                .0;
        }
    }

    /// A slice too large for one query, as smaller ones.
    async fn split(&self, slice: &Slice, first: &Page) -> Result<Vec<Slice>, CallError> {
        if slice.rule.is_some() {
            return Err(CallError::Protocol(format!(
                "SonarQube project {}: {} issues of one rule created within one second{}; SonarQube lists at most {WINDOW} per query",
                self.project,
                first.total,
                describe(slice)
            )));
        }
        // The window: from the oldest issue (the first of this ascending page) to one second
        // past the newest.
        let lo = match slice
            .after
            .or_else(|| first.items.first().and_then(|i| i.created))
        {
            Some(t) => t,
            None => {
                return Err(CallError::Protocol(format!(
                    "SonarQube issues of project {}: no creation date to split by",
                    self.project
                )));
            }
        };
        let hi = match slice.before {
            Some(t) => t,
            None => {
                let (last, _) = self
                    .issues_page(slice, 1, 1, ("CREATION_DATE", false), &[])
                    .await?;
                last.items
                    .first()
                    .and_then(|i| i.created)
                    .map(|t| t + TimeDelta::seconds(1))
                    .unwrap_or(lo + TimeDelta::seconds(1))
            }
        };
        let span = (hi - lo).num_seconds();
        if span > 1 {
            let mid = lo + TimeDelta::seconds(span / 2);
            return Ok(vec![
                Slice {
                    after: Some(mid),
                    before: Some(hi),
                    rule: None,
                },
                Slice {
                    after: Some(lo),
                    before: Some(mid),
                    rule: None,
                },
            ]);
        }
        let one_second = Slice {
            after: Some(lo),
            before: Some(hi),
            rule: None,
        };
        let (_, facets) = self
            .issues_page(
                &one_second,
                1,
                1,
                ("CREATION_DATE", true),
                &[("facets", "rules".to_owned())],
            )
            .await?;
        let rules: Vec<String> = facets
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f.get("property").and_then(Value::as_str) == Some("rules"))
            .flat_map(|f| {
                f.get("values")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|v| v.get("val").and_then(Value::as_str).map(str::to_owned))
            .collect();
        if rules.is_empty() {
            return Err(CallError::Protocol(format!(
                "SonarQube project {}: no rules facet to split {} issues by",
                self.project, first.total
            )));
        }
        Ok(rules
            .into_iter()
            .map(|r| Slice {
                rule: Some(r),
                ..one_second.clone()
            })
            .collect())
    }

    /// Issues updated since `since`, newest first. `Ok(None)`: more than one query can list.
    async fn issues_since(&mut self, since: DateTime<Utc>) -> Result<Option<Going>, CallError> {
        let all = Slice {
            after: None,
            before: None,
            rule: None,
        };
        let mut p = 1;
        loop {
            if u64::from(p) * u64::from(PS) > WINDOW {
                return Ok(None);
            }
            let (page, _) = self
                .issues_page(&all, p, PS, ("UPDATE_DATE", false), &[])
                .await?;
            let listed = page.listed;
            for item in page.items {
                if item.updated.is_some_and(|u| u < since) {
                    return Ok(Some(true));
                }
                if !self.emit(item).await? {
                    return Ok(Some(false));
                }
            }
            if listed < PS as usize {
                return Ok(Some(true));
            }
            p += 1;
        }
    }

    /// The project's hotspots; with `since`, only those updated since.
    async fn hotspots(&mut self, since: Option<DateTime<Utc>>) -> Result<Going, CallError> {
        let version = self.api.version().await?;
        let param = if at_least(&version, 10, 2) {
            "project"
        } else {
            "projectKey"
        };
        let mut work: Vec<Vec<(&'static str, String)>> = vec![vec![]];
        while let Some(filter) = work.pop() {
            let first = self.hotspot_page(param, &filter, 1).await?;
            if first.total > WINDOW {
                match filter.as_slice() {
                    [] => {
                        work.push(vec![("status", "TO_REVIEW".into())]);
                        work.push(vec![("status", "REVIEWED".into())]);
                        continue;
                    }
                    [(_, status)] if status == "REVIEWED" => {
                        for r in ["FIXED", "SAFE", "ACKNOWLEDGED"] {
                            work.push(vec![
                                ("status", "REVIEWED".into()),
                                ("resolution", r.into()),
                            ]);
                        }
                        continue;
                    }
                    _ => {
                        return Err(CallError::Protocol(format!(
                            "SonarQube project {}: {} hotspots with {filter:?}; SonarQube lists at most {WINDOW} per query",
                            self.project, first.total
                        )));
                    }
                }
            }
            let pages = first.total.div_ceil(u64::from(PS)).max(1) as u32;
            let mut page = first;
            let mut p = 1;
            loop {
                for item in page.items {
                    if since.is_some_and(|s| item.updated.is_some_and(|u| u < s)) {
                        continue;
                    }
                    if !self.emit(item).await? {
                        return Ok(false);
                    }
                }
                if p >= pages {
                    break;
                }
                p += 1;
                page = self.hotspot_page(param, &filter, p).await?;
            }
        }
        Ok(true)
    }

    async fn hotspot_page(
        &self,
        param: &'static str,
        filter: &[(&'static str, String)],
        p: u32,
    ) -> Result<Page, CallError> {
        let mut q = vec![(param, self.project.clone())];
        if let Some(b) = &self.client.branch {
            q.push(("branch", b.clone()));
        }
        q.extend_from_slice(filter);
        q.push(("p", p.to_string()));
        q.push(("ps", PS.to_string()));
        let what = format!("SonarQube hotspots of project {} (page {p})", self.project);
        let raw = self.api.get(&what, "api/hotspots/search", &q).await?;
        map::read(&self.ctx, &what, raw, "hotspots")
    }
}

fn describe(slice: &Slice) -> String {
    let mut parts = Vec::new();
    if let Some(a) = slice.after {
        parts.push(format!("created from {}", map::format_time(a)));
    }
    if let Some(b) = slice.before {
        parts.push(format!("before {}", map::format_time(b)));
    }
    if let Some(r) = &slice.rule {
        parts.push(format!("rule {r}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(", {}", parts.join(", "))
    }
}
