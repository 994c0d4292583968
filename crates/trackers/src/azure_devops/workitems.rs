//! Creating, updating, deleting and finding work items.
//!
//! - create: one `POST …/workitems/${type}` with every field, the state included. A state the
//!   type does not take on creation (`TF401320` on `System.State`) is set by a `PATCH` after a
//!   create without it.
//! - create_many: one `$batch` of up to 200 create sub-requests; each answer is read from its
//!   `code` and `body` (a failing item fails alone).
//! - update: one `PATCH` with only what changed. Tags are read first (`System.Tags` replaces the
//!   whole list, and people add their own), merged, and written with a `test` on `/rev`; a
//!   change in between (412) is read again and retried. A comment is a call to the comments API.
//! - find_by_marker: WIQL on the marker tag, then `workitemsbatch` for the state.

use super::api::{self, Api, Body, segment};
use super::fields::{self, Target};
use super::html;
use super::states::States;
use crate::{FoundTicket, Progress, RemoteRef, RequestClass, TrackerError};
use domain::tracker::{Changes, Marker, Part, TicketFields};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// A marker search starts this long before the create began, for clock differences.
const CLOCK_SKEW_MINUTES: i64 = 10;
/// How often a tag merge is retried when the work item keeps changing underneath.
const MERGE_ATTEMPTS: usize = 3;

/// A work item as the API answers it.
#[derive(Debug, Deserialize)]
pub struct WorkItem {
    pub id: i64,
    #[serde(default)]
    pub rev: i64,
    #[serde(default)]
    pub fields: Map<String, Value>,
    #[serde(rename = "_links", default)]
    pub links: Option<Value>,
}

impl WorkItem {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    /// Our record of it: the id (what service hooks name), `Project#id`, its page, and what
    /// later calls need.
    pub fn remote(&self, api: &Api, t: &Target) -> RemoteRef {
        let project = self
            .field("System.TeamProject")
            .unwrap_or(&t.project)
            .to_owned();
        let work_item_type = self
            .field("System.WorkItemType")
            .unwrap_or(&t.work_item_type)
            .to_owned();
        let url = self
            .links
            .as_ref()
            .and_then(|l| l.pointer("/html/href"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!(
                    "{}/{}/_workitems/edit/{}",
                    api.base,
                    segment(&project),
                    self.id
                )
            });
        RemoteRef {
            id: self.id.to_string(),
            key: format!("{project}#{}", self.id),
            url,
            data: json!({ "id": self.id, "project": project, "work_item_type": work_item_type }),
        }
    }
}

/// The id of a linked work item, from the data stored at creation or the remote id.
pub fn locate(remote: &RemoteRef) -> Result<i64, TrackerError> {
    remote
        .data
        .get("id")
        .and_then(Value::as_i64)
        .or_else(|| remote.id.trim().parse().ok())
        .ok_or_else(|| {
            TrackerError::Protocol(format!("cannot tell which work item '{}' is", remote.key))
        })
}

fn work_item_type(remote: &RemoteRef, t: &Target) -> String {
    remote
        .data
        .get("work_item_type")
        .and_then(Value::as_str)
        .unwrap_or(&t.work_item_type)
        .to_owned()
}

fn create_path(t: &Target) -> String {
    format!(
        "/{}/_apis/wit/workitems/${}",
        segment(&t.project),
        segment(&t.work_item_type)
    )
}

/// Whether a create was refused for the state it asked for, and that state is one the type has
/// (so it is refused only as a first state): then it is set after the create. A state the type
/// does not have is the mapping's mistake, and the refusal stands.
async fn state_refused_on_create(
    api: &Api,
    states: &States,
    t: &Target,
    f: &TicketFields,
    e: &TrackerError,
) -> bool {
    if !matches!(e, TrackerError::Rejected(m) if m.contains("Rule Error for field State")) {
        return false;
    }
    if !fields::path(&f.status.field)
        .is_ok_and(|p| fields::reference(&p).eq_ignore_ascii_case("System.State"))
    {
        return false;
    }
    match states.of(api, &t.project, &t.work_item_type).await {
        Ok(list) => list
            .iter()
            .any(|s| s.name.eq_ignore_ascii_case(f.status.value.trim())),
        Err(_) => false,
    }
}

fn all_parts(f: &TicketFields) -> Vec<Part> {
    let mut parts = vec![
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Status,
        Part::State,
    ];
    parts.extend(f.custom.keys().map(|k| Part::Custom(k.clone())));
    parts
}

async fn post_create(api: &Api, t: &Target, ops: Vec<Value>) -> Result<WorkItem, TrackerError> {
    let what = format!(
        "a new {} in Azure DevOps project {}",
        t.work_item_type, t.project
    );
    api.json(
        RequestClass::Create,
        &what,
        Method::POST,
        &create_path(t),
        api::API_VERSION,
        &[],
        &Body::Patch(Value::Array(ops)),
    )
    .await
}

async fn patch(api: &Api, id: i64, what: &str, ops: Vec<Value>) -> Result<WorkItem, TrackerError> {
    api.json(
        RequestClass::Write,
        what,
        Method::PATCH,
        &format!("/_apis/wit/workitems/{id}"),
        api::API_VERSION,
        &[],
        &Body::Patch(Value::Array(ops)),
    )
    .await
}

/// Creates one work item.
pub async fn create(
    api: &Api,
    states: &States,
    t: &Target,
    f: &TicketFields,
    marker: &Marker,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    let ops = fields::create_ops(t, f, &marker.token(), true)?;
    match post_create(api, t, ops).await {
        Ok(w) => {
            progress.remote = Some(w.remote(api, t));
            progress.did_all(all_parts(f));
            Ok(())
        }
        Err(e) if state_refused_on_create(api, states, t, f, &e).await => {
            create_then_set_state(api, t, f, marker, progress).await
        }
        Err(e) => Err(e),
    }
}

/// A create without the state, then a `PATCH` of the state.
async fn create_then_set_state(
    api: &Api,
    t: &Target,
    f: &TicketFields,
    marker: &Marker,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    let ops = fields::create_ops(t, f, &marker.token(), false)?;
    let w = post_create(api, t, ops).await?;
    let remote = w.remote(api, t);
    let what = format!("work item {}", remote.key);
    progress.remote = Some(remote);
    progress.did_all(
        all_parts(f)
            .into_iter()
            .filter(|p| !matches!(p, Part::Status | Part::State)),
    );
    patch(api, w.id, &what, vec![fields::status_op(&f.status)?]).await?;
    progress.did_all([Part::Status, Part::State]);
    Ok(())
}

/// One `$batch` answer.
#[derive(Debug, Deserialize)]
struct BatchAnswer {
    code: u16,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BatchAnswers {
    value: Vec<BatchAnswer>,
}

/// Creates several work items with one `$batch` request.
pub async fn create_many(
    api: &Api,
    states: &States,
    t: &Target,
    items: &[(TicketFields, Marker)],
    progress: &mut [Progress],
) -> Vec<Result<(), TrackerError>> {
    let mut requests = Vec::with_capacity(items.len());
    let mut results: Vec<Option<Result<(), TrackerError>>> = Vec::with_capacity(items.len());
    let uri = format!("{}?api-version={}", create_path(t), api::API_VERSION);
    for (f, marker) in items {
        match fields::create_ops(t, f, &marker.token(), true) {
            Ok(ops) => {
                requests.push(json!({
                    "method": "PATCH",
                    "uri": uri,
                    "headers": { "Content-Type": api::PATCH_MEDIA_TYPE },
                    "body": ops,
                }));
                results.push(None);
            }
            Err(e) => results.push(Some(Err(e))),
        }
    }
    if requests.is_empty() {
        return results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect();
    }
    let what = format!(
        "{} new {} work items in Azure DevOps project {}",
        requests.len(),
        t.work_item_type,
        t.project
    );
    let answers = api
        .json::<BatchAnswers>(
            RequestClass::Create,
            &what,
            Method::POST,
            "/_apis/wit/$batch",
            api::API_VERSION,
            &[],
            &Body::Json(Value::Array(requests)),
        )
        .await;
    let mut answers = match answers {
        Ok(a) => a.value.into_iter(),
        Err(e) => {
            return results
                .into_iter()
                .map(|r| r.unwrap_or_else(|| Err(e.clone())))
                .collect();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, r) in results.into_iter().enumerate() {
        if let Some(done) = r {
            out.push(done);
            continue;
        }
        let (f, marker) = &items[i];
        let Some(answer) = answers.next() else {
            out.push(Err(TrackerError::Protocol(format!(
                "{what}: the batch answer has no result for item {}",
                i + 1
            ))));
            continue;
        };
        let body = answer.body.unwrap_or_default();
        if answer.code == 200 {
            match serde_json::from_str::<WorkItem>(&body) {
                Ok(w) => {
                    if let Some(p) = progress.get_mut(i) {
                        p.remote = Some(w.remote(api, t));
                        p.did_all(all_parts(f));
                    }
                    out.push(Ok(()));
                }
                Err(e) => out.push(Err(TrackerError::Protocol(format!(
                    "{what}: item {}: {e}",
                    i + 1
                )))),
            }
            continue;
        }
        let status = reqwest::StatusCode::from_u16(answer.code)
            .unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR);
        let e = crate::http::classify(
            status,
            &reqwest::header::HeaderMap::new(),
            &body,
            &format!("{what}: item {}", i + 1),
            chrono::Utc::now(),
        );
        if state_refused_on_create(api, states, t, f, &e).await {
            let mut fallback = Progress::default();
            let r = create_then_set_state(api, t, f, marker, &mut fallback).await;
            if let Some(p) = progress.get_mut(i) {
                *p = fallback;
            }
            out.push(r);
        } else {
            out.push(Err(e));
        }
    }
    out
}

/// The tags of a work item now, and its revision.
async fn read_tags(
    api: &Api,
    id: i64,
    what: &str,
) -> Result<(BTreeSet<String>, i64), TrackerError> {
    let w: WorkItem = api
        .json(
            RequestClass::Read,
            what,
            Method::GET,
            &format!("/_apis/wit/workitems/{id}"),
            api::API_VERSION,
            &[("fields", "System.Tags".to_owned())],
            &Body::None,
        )
        .await?;
    Ok((
        fields::split_tags(w.field("System.Tags").unwrap_or("")),
        w.rev,
    ))
}

/// Sends the changes to a work item.
pub async fn update(
    api: &Api,
    t: &Target,
    remote: &RemoteRef,
    changes: &Changes,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    let id = locate(remote)?;
    let what = format!("work item {}", remote.key);
    let ty = work_item_type(remote, t);
    let mut ops: Vec<Value> = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    if let Some(title) = &changes.title {
        ops.push(fields::add(fields::TITLE, json!(fields::title(title))));
        parts.push(Part::Title);
    }
    if let Some(body) = &changes.body {
        ops.extend(fields::body_ops(&ty, body, "add"));
        parts.push(Part::Body);
    }
    if let Some(sev) = &changes.severity {
        ops.push(fields::add(
            &fields::path(&sev.field)?,
            fields::value(&sev.value),
        ));
        parts.push(Part::Severity);
    }
    if let Some(st) = &changes.status {
        ops.push(fields::status_op(st)?);
        parts.push(Part::Status);
    }
    if changes.state.is_some() {
        // The state is the status value's; a close reason alone has nothing to send.
        parts.push(Part::State);
    }
    for (k, v) in &changes.custom {
        if v.is_null() {
            let p = if k == domain::tracker::DUE_DATE {
                fields::DUE_DATE_PATH.to_owned()
            } else {
                fields::path(k)?
            };
            ops.push(fields::remove(&p));
        } else {
            let (p, v) = fields::custom(k, v)?;
            ops.push(fields::add(&p, v));
        }
        parts.push(Part::Custom(k.clone()));
    }
    let added: BTreeSet<String> = changes
        .labels_added
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let removed: BTreeSet<String> = changes
        .labels_removed
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    for tag in added.iter().chain(&removed) {
        fields::check_tag(tag)?;
    }
    let tags_change = !added.is_empty() || !removed.is_empty();
    if tags_change {
        parts.push(Part::Labels);
    }
    if tags_change {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (current, rev) = read_tags(api, id, &what).await?;
            let mut next: BTreeSet<String> = current
                .into_iter()
                .filter(|c| !removed.iter().any(|r| r.eq_ignore_ascii_case(c)))
                .collect();
            for a in &added {
                if !next.iter().any(|n| n.eq_ignore_ascii_case(a)) {
                    next.insert(a.clone());
                }
            }
            let mut doc = vec![json!({ "op": "test", "path": "/rev", "value": rev })];
            doc.extend(ops.iter().cloned());
            doc.push(if next.is_empty() {
                fields::remove(fields::TAGS)
            } else {
                json!({ "op": "replace", "path": fields::TAGS, "value": fields::tags_value(&next) })
            });
            match patch(api, id, &what, doc).await {
                Ok(_) => break,
                Err(e) if api::is_conflict(&e) && attempt < MERGE_ATTEMPTS => continue,
                Err(e) => return Err(e),
            }
        }
        progress.did_all(parts);
    } else if !ops.is_empty() {
        patch(api, id, &what, ops).await?;
        progress.did_all(parts);
    } else {
        progress.did_all(parts);
    }
    if let Some(comment) = &changes.comment {
        let project = remote
            .data
            .get("project")
            .and_then(Value::as_str)
            .unwrap_or(&t.project)
            .to_owned();
        api.send(
            RequestClass::Create,
            &format!("a comment on {what}"),
            Method::POST,
            &format!("/{}/_apis/wit/workItems/{id}/comments", segment(&project)),
            api::COMMENTS_VERSION,
            &[],
            &Body::Json(json!({ "text": html::from_markdown(comment) })),
        )
        .await?;
        progress.did(Part::Comment);
    }
    Ok(())
}

/// Deletes a work item to the recycle bin. Already gone is done.
pub async fn delete(api: &Api, t: &Target, remote: &RemoteRef) -> Result<(), TrackerError> {
    let id = locate(remote)?;
    let project = remote
        .data
        .get("project")
        .and_then(Value::as_str)
        .unwrap_or(&t.project)
        .to_owned();
    match api
        .send(
            RequestClass::Write,
            &format!("work item {}", remote.key),
            Method::DELETE,
            &format!("/{}/_apis/wit/workitems/{id}", segment(&project)),
            api::API_VERSION,
            &[],
            &Body::None,
        )
        .await
    {
        Ok(_) | Err(TrackerError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
struct QueryResult {
    #[serde(rename = "workItems", default)]
    work_items: Vec<IdRef>,
}

#[derive(Debug, Deserialize)]
struct IdRef {
    id: i64,
}

#[derive(Debug, Deserialize)]
struct Batch {
    #[serde(default)]
    value: Vec<Option<WorkItem>>,
}

/// WIQL text quoting: a `'` is doubled.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The work item carrying `marker`, created at or after `since`.
pub async fn find_by_marker(
    api: &Api,
    states: &States,
    t: &Target,
    marker: &Marker,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Option<FoundTicket>, TrackerError> {
    let token = marker.token();
    let after = (since - chrono::TimeDelta::minutes(CLOCK_SKEW_MINUTES))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let query = format!(
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS {} AND [System.CreatedDate] >= {} ORDER BY [System.Id]",
        quote(&token),
        quote(&after)
    );
    let what = format!("the work items of Azure DevOps project {}", t.project);
    let found: QueryResult = api
        .json(
            RequestClass::Read,
            &what,
            Method::POST,
            &format!("/{}/_apis/wit/wiql", segment(&t.project)),
            api::API_VERSION,
            &[("timePrecision", "true".to_owned())],
            &Body::Json(json!({ "query": query })),
        )
        .await?;
    if found.work_items.is_empty() {
        return Ok(None);
    }
    let ids: Vec<i64> = found
        .work_items
        .iter()
        .map(|w| w.id)
        .take(super::MAX_BATCH)
        .collect();
    let batch: Batch = api
        .json(
            RequestClass::Read,
            &what,
            Method::POST,
            &format!("/{}/_apis/wit/workitemsbatch", segment(&t.project)),
            api::API_VERSION,
            &[],
            &Body::Json(json!({
                "ids": ids,
                "fields": ["System.Id", "System.State", "System.WorkItemType", "System.TeamProject", "System.Tags"],
                "errorPolicy": "omit",
            })),
        )
        .await?;
    let Some(w) = batch.value.into_iter().flatten().find(|w| {
        fields::split_tags(w.field("System.Tags").unwrap_or(""))
            .iter()
            .any(|tag| tag.eq_ignore_ascii_case(&token))
    }) else {
        return Ok(None);
    };
    let ty = w
        .field("System.WorkItemType")
        .unwrap_or(&t.work_item_type)
        .to_owned();
    let project = w
        .field("System.TeamProject")
        .unwrap_or(&t.project)
        .to_owned();
    let open = match w.field("System.State") {
        Some(state) => !states.is_closed(api, &project, &ty, state).await?,
        None => true,
    };
    Ok(Some(FoundTicket {
        remote: w.remote(api, t),
        open,
    }))
}
