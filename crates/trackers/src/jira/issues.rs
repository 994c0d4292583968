//! Creating (one, or fifty a request in bulk), updating, deleting and linking issues.
//!
//! A create is one `POST /issue` carrying every field; when the workflow is known from earlier
//! issues and the mapped status is not where new issues start, the create also carries the
//! first transition there, so a ticket created in its final status usually costs one request.

use super::api::{Api, Status, Transition, segment};
use super::fields::{self, Target};
use super::meta::Cache;
use super::workflow;
use crate::{Progress, RemoteRef, RequestClass, TrackerError};
use domain::tracker::{Changes, MappingConfig, Marker, Part, TicketFields};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// `POST /issue/bulk` takes at most this many issues.
pub const BULK_MAX: usize = 50;

#[derive(Debug, Deserialize)]
pub struct CreatedIssue {
    pub id: String,
    pub key: String,
    #[serde(default)]
    transition: Option<NestedResponse>,
}

#[derive(Debug, Deserialize)]
struct NestedResponse {
    #[serde(default)]
    status: u16,
}

#[derive(Debug, Deserialize)]
struct CreatedIssues {
    #[serde(default)]
    issues: Vec<CreatedIssue>,
    #[serde(default)]
    errors: Vec<BulkError>,
}

#[derive(Debug, Deserialize)]
struct BulkError {
    #[serde(rename = "failedElementNumber")]
    element: usize,
    #[serde(default)]
    status: u16,
    #[serde(rename = "elementErrors", default)]
    errors: ErrorCollection,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorCollection {
    #[serde(rename = "errorMessages", default)]
    messages: Vec<String>,
    #[serde(default)]
    errors: Map<String, Value>,
}

impl ErrorCollection {
    fn text(&self) -> String {
        let mut parts = self.messages.clone();
        parts.extend(self.errors.iter().map(|(k, v)| {
            format!(
                "{k}: {}",
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            )
        }));
        if parts.is_empty() {
            "no reason given".into()
        } else {
            parts.join("; ")
        }
    }
}

/// Our record of an issue: its id (what webhooks name), key, page, and where it lives.
pub fn remote(api: &Api, t: &Target<'_>, id: &str, key: &str) -> RemoteRef {
    RemoteRef {
        id: id.to_owned(),
        key: key.to_owned(),
        url: format!("{}/browse/{key}", api.site()),
        data: json!({ "project": t.project, "issue_type": t.issue_type }),
    }
}

/// The parts a create sets with the issue itself.
fn created_parts(f: &TicketFields, progress: &mut Progress) {
    progress.did_all([Part::Title, Part::Body, Part::Labels, Part::Severity]);
    progress.did_all(f.custom.keys().map(|k| Part::Custom(k.clone())));
}

/// The first transition to send with a create: the cached path from where new issues start
/// to the mapped status, if the workflow is known and the status is elsewhere.
fn first_step(cache: &Cache, t: &Target<'_>, target: &str) -> Option<Transition> {
    let g = cache.graph(t.project, t.issue_type);
    let initial = g.initial.as_ref()?;
    g.path(&initial.name, target.trim())?.into_iter().next()
}

/// After the issue exists: the status it is in (the initial one, or the first step's target
/// when Jira took it), learning the initial status from the first issue created.
async fn settle(
    api: &Api,
    cache: &Cache,
    t: &Target<'_>,
    key: &str,
    step: Option<&Transition>,
    taken: bool,
    target: &str,
) -> Result<(), TrackerError> {
    let wt = workflow::Target {
        project: t.project,
        issue_type: t.issue_type,
        key,
    };
    let at: Option<Status> = match (step, taken) {
        (Some(s), true) => Some(s.to.clone()),
        _ => match cache.graph(t.project, t.issue_type).initial {
            Some(i) => Some(i),
            None => {
                let here = workflow::read(api, cache, &wt).await?;
                cache.learn_initial(t.project, t.issue_type, &here.status);
                Some(here.status)
            }
        },
    };
    if at
        .as_ref()
        .is_some_and(|s| s.name.eq_ignore_ascii_case(target.trim()))
    {
        return Ok(());
    }
    workflow::move_to(api, cache, &wt, at, target).await
}

/// `POST /issue`, then the status.
pub async fn create(
    api: &Api,
    cache: &Cache,
    mapping: &MappingConfig,
    f: &TicketFields,
    marker: &Marker,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    let t = fields::target(mapping)?;
    let target = f.status.value.clone();
    let mut body = json!({ "fields": fields::create_fields(api.flavour(), &t, f, marker)? });
    let step = first_step(cache, &t, &target);
    if let Some(s) = &step {
        body["transition"] = json!({ "id": s.id });
    }
    let url = api.rest("/issue").await?;
    let what = format!("a new {} issue in Jira project {}", t.issue_type, t.project);
    let created: CreatedIssue = api
        .send_json(Method::POST, url, Some(&body), RequestClass::Create, &what)
        .await?;
    progress.remote = Some(remote(api, &t, &created.id, &created.key));
    created_parts(f, progress);
    let taken = created.transition.as_ref().is_some_and(|r| r.status == 200);
    settle(api, cache, &t, &created.key, step.as_ref(), taken, &target).await?;
    progress.did_all([Part::Status, Part::State]);
    Ok(())
}

/// `POST /issue/bulk` in batches of 50: one result and one progress per item, in order. An item
/// Jira refused fails alone; a request refused as a whole fails its batch.
pub async fn create_many(
    api: &Api,
    cache: &Cache,
    mapping: &MappingConfig,
    items: &[(TicketFields, Marker)],
    progress: &mut [Progress],
) -> Vec<Result<(), TrackerError>> {
    let t = match fields::target(mapping) {
        Ok(t) => t,
        Err(e) => return items.iter().map(|_| Err(e.clone())).collect(),
    };
    let mut results: Vec<Result<(), TrackerError>> = Vec::with_capacity(items.len());
    for (batch, slots) in items.chunks(BULK_MAX).zip(progress.chunks_mut(BULK_MAX)) {
        results.extend(create_batch(api, cache, &t, batch, slots).await);
    }
    results
}

async fn create_batch(
    api: &Api,
    cache: &Cache,
    t: &Target<'_>,
    batch: &[(TicketFields, Marker)],
    slots: &mut [Progress],
) -> Vec<Result<(), TrackerError>> {
    let mut out: Vec<Result<(), TrackerError>> = vec![Ok(()); batch.len()];
    let mut updates = Vec::with_capacity(batch.len());
    let mut steps = Vec::with_capacity(batch.len());
    let mut valid = vec![true; batch.len()];
    for (n, (f, marker)) in batch.iter().enumerate() {
        match fields::create_fields(api.flavour(), t, f, marker) {
            Ok(fields) => {
                let mut u = json!({ "fields": fields });
                let step = first_step(cache, t, &f.status.value);
                if let Some(s) = &step {
                    u["transition"] = json!({ "id": s.id });
                }
                updates.push(u);
                steps.push(step);
            }
            Err(e) => {
                out[n] = Err(e);
                valid[n] = false;
            }
        }
    }
    if updates.is_empty() {
        return out;
    }
    let what = format!(
        "{} new {} issues in Jira project {}",
        updates.len(),
        t.issue_type,
        t.project
    );
    let answer = match api.rest("/issue/bulk").await {
        Ok(url) => {
            api.send_json::<CreatedIssues>(
                Method::POST,
                url,
                Some(&json!({ "issueUpdates": updates })),
                RequestClass::Create,
                &what,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            for (n, ok) in valid.iter().enumerate() {
                if *ok {
                    out[n] = Err(e.clone());
                }
            }
            return out;
        }
    };
    // Element numbers count the items sent; map them back to the batch.
    let sent: Vec<usize> = (0..batch.len()).filter(|n| valid[*n]).collect();
    let failed: BTreeSet<usize> = answer.errors.iter().map(|e| e.element).collect();
    for e in &answer.errors {
        if let Some(&n) = sent.get(e.element) {
            let what = format!("issue {} of the batch", n + 1);
            out[n] = Err(match e.status {
                401 => TrackerError::Unauthorized(format!("{what}: {}", e.errors.text())),
                403 => TrackerError::Forbidden(format!("{what}: {}", e.errors.text())),
                _ => TrackerError::Rejected(format!(
                    "{what}: {} (HTTP {})",
                    e.errors.text(),
                    e.status
                )),
            });
        }
    }
    let mut created = answer.issues.into_iter();
    for (element, &n) in sent.iter().enumerate() {
        if failed.contains(&element) {
            continue;
        }
        let Some(issue) = created.next() else {
            out[n] = Err(TrackerError::Protocol(format!(
                "Jira's bulk answer lists fewer issues than it created (item {})",
                n + 1
            )));
            continue;
        };
        let (f, _) = &batch[n];
        slots[n].remote = Some(remote(api, t, &issue.id, &issue.key));
        created_parts(f, &mut slots[n]);
        let taken = issue.transition.as_ref().is_some_and(|r| r.status == 200);
        out[n] = match settle(
            api,
            cache,
            t,
            &issue.key,
            steps[element].as_ref(),
            taken,
            &f.status.value,
        )
        .await
        {
            Ok(()) => {
                slots[n].did_all([Part::Status, Part::State]);
                Ok(())
            }
            Err(e) => Err(e),
        };
    }
    out
}

/// The issue a remote ref names, for paths: its key (or id).
fn issue_ref(remote: &RemoteRef) -> &str {
    if remote.key.trim().is_empty() {
        &remote.id
    } else {
        &remote.key
    }
}

/// One `PUT` for the fields that changed (labels as add/remove, so people's labels stay),
/// then the status through the workflow, then the comment.
pub async fn update(
    api: &Api,
    cache: &Cache,
    mapping: &MappingConfig,
    remote: &RemoteRef,
    changes: &Changes,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    let t = fields::target(mapping)?;
    let key = issue_ref(remote);
    let what = format!("issue {key}");
    let mut set = Map::new();
    let mut parts: Vec<Part> = Vec::new();
    if let Some(title) = &changes.title {
        set.insert(
            "summary".into(),
            json!(title.chars().take(255).collect::<String>()),
        );
        parts.push(Part::Title);
    }
    if let Some(body) = &changes.body {
        set.insert("description".into(), fields::rich(api.flavour(), body));
        parts.push(Part::Body);
    }
    if let Some(sev) = &changes.severity {
        if let Some((field, value)) = fields::severity(&t, sev) {
            set.insert(field, value);
        }
        parts.push(Part::Severity);
    }
    for (k, v) in &changes.custom {
        let (field, value) = fields::custom(k, v)?;
        set.insert(field, value);
        parts.push(Part::Custom(k.clone()));
    }
    let add = fields::labels(&changes.labels_added);
    let remove: BTreeSet<String> = fields::labels(&changes.labels_removed)
        .difference(&add)
        .cloned()
        .collect();
    let mut ops: Vec<Value> = add.iter().map(|l| json!({ "add": l })).collect();
    ops.extend(remove.iter().map(|l| json!({ "remove": l })));
    if !changes.labels_added.is_empty() || !changes.labels_removed.is_empty() {
        parts.push(Part::Labels);
    }
    if !set.is_empty() || !ops.is_empty() {
        let mut body = json!({ "fields": set });
        if !ops.is_empty() {
            body["update"] = json!({ "labels": ops });
        }
        let url = api.rest(&format!("/issue/{}", segment(key))).await?;
        api.send(Method::PUT, url, Some(&body), RequestClass::Write, &what)
            .await?;
    }
    progress.did_all(parts);
    if let Some(status) = &changes.status {
        let (project, issue_type) = (t.project_of(remote), t.type_of(remote));
        let wt = workflow::Target {
            project: &project,
            issue_type: &issue_type,
            key,
        };
        workflow::move_to(api, cache, &wt, None, &status.value).await?;
        progress.did_all([Part::Status, Part::State]);
    } else if changes.state.is_some() {
        // A new close reason with the same status: Jira has nothing to change.
        progress.did(Part::State);
    }
    if let Some(comment) = &changes.comment {
        let url = api
            .rest(&format!("/issue/{}/comment", segment(key)))
            .await?;
        let body = json!({ "body": fields::rich(api.flavour(), comment) });
        api.send(
            Method::POST,
            url,
            Some(&body),
            RequestClass::Create,
            &format!("a comment on {what}"),
        )
        .await?;
        progress.did(Part::Comment);
    }
    Ok(())
}

impl Target<'_> {
    /// The project an existing issue is in: as stored at creation, else the key's prefix.
    fn project_of(&self, remote: &RemoteRef) -> String {
        remote
            .data
            .get("project")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| remote.key.rsplit_once('-').map(|(p, _)| p.to_owned()))
            .unwrap_or_else(|| self.project.to_owned())
    }

    fn type_of(&self, remote: &RemoteRef) -> String {
        remote
            .data
            .get("issue_type")
            .and_then(Value::as_str)
            .unwrap_or(self.issue_type)
            .to_owned()
    }
}

/// `DELETE /issue/{key}`. An issue already gone counts as deleted (a retry after a lost reply).
pub async fn delete(
    api: &Api,
    mapping: &MappingConfig,
    remote: &RemoteRef,
) -> Result<(), TrackerError> {
    let t = fields::target(mapping)?;
    let key = issue_ref(remote);
    let url = api.rest(&format!("/issue/{}", segment(key))).await?;
    match api
        .send(
            Method::DELETE,
            url,
            None,
            RequestClass::Write,
            &format!("issue {key}"),
        )
        .await
    {
        Ok(_) | Err(TrackerError::NotFound(_)) => Ok(()),
        Err(TrackerError::Forbidden(m)) => Err(TrackerError::Forbidden(format!(
            "{m}: deleting issues needs the \"Delete Issues\" permission in project {}, which this Jira user lacks",
            t.project_of(remote)
        ))),
        Err(e) => Err(e),
    }
}

/// An issue link from `from` to `to`: "Relates" (or "Blocks" on sites without it).
pub async fn relate(
    api: &Api,
    cache: &Cache,
    from: &RemoteRef,
    to: &RemoteRef,
) -> Result<(), TrackerError> {
    let types = cache.link_types(api).await?;
    let kind = ["Relates", "Blocks"]
        .iter()
        .find_map(|want| types.iter().find(|t| t.name.eq_ignore_ascii_case(want)))
        .ok_or_else(|| {
            let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
            TrackerError::Misconfigured(format!(
                "the Jira site has no \"Relates\" or \"Blocks\" issue link type (it has {})",
                names.join(", ")
            ))
        })?;
    let body = json!({
        "type": { "name": kind.name },
        "inwardIssue": { "key": issue_ref(from) },
        "outwardIssue": { "key": issue_ref(to) },
    });
    let url = api.rest("/issueLink").await?;
    let what = format!(
        "a \"{}\" link from {} to {}",
        kind.name,
        issue_ref(from),
        issue_ref(to)
    );
    api.send(Method::POST, url, Some(&body), RequestClass::Create, &what)
        .await?;
    Ok(())
}
