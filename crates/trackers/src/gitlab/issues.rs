//! Creating, updating and finding issues.

use super::api::{self, Api, Issue, project_ref};
use super::fields;
use crate::{FoundTicket, Progress, RemoteRef, RequestClass, TrackerError};
use domain::tracker::{Changes, MappingConfig, Marker, Part, TicketFields, TicketState};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// At most this many pages of 100 issues are read looking for a marker: a runaway
/// `x-next-page` must not loop forever.
const MAX_PAGES: u64 = 1000;
/// A marker search starts this long before the create began, for clock differences between
/// vulnbridge and GitLab.
const CLOCK_SKEW_MINUTES: i64 = 10;

fn labels_param(labels: &BTreeSet<String>) -> String {
    labels.iter().cloned().collect::<Vec<_>>().join(",")
}

/// The labels we sent that the issue does not show: GitLab drops labels silently when the user
/// may not set them (below Planner/Reporter).
fn dropped_labels(sent: &BTreeSet<String>, issue: &Issue) -> Vec<String> {
    sent.iter()
        .filter(|l| !issue.labels.contains(l))
        .cloned()
        .collect()
}

fn dropped_error(what: &str, dropped: &[String]) -> TrackerError {
    TrackerError::Forbidden(format!(
        "{what}: GitLab did not keep the labels {}: the token's user needs at least the Planner or Reporter role \
         to set labels (and an issue keeps one label per scope `key::`)",
        dropped.join(", ")
    ))
}

/// `POST …/issues`, then `PUT … state_event=close` when the ticket starts closed.
pub async fn create(
    api: &Api,
    mapping: &MappingConfig,
    project: &str,
    f: &TicketFields,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    fields::check_mapping(mapping)?;
    let mut labels: BTreeSet<String> = f
        .labels
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    for l in &labels {
        fields::check_label(l)?;
    }
    let mut body = Map::new();
    body.insert("title".into(), json!(f.title));
    body.insert("description".into(), json!(f.body));
    let mut weight = None;
    match fields::severity_label(&f.severity)? {
        Some(l) => {
            labels.insert(l);
        }
        None => weight = Some(fields::weight_value(&f.severity)?),
    }
    if let Some(l) = fields::status_label(&f.status)? {
        labels.insert(l);
    }
    body.insert("labels".into(), json!(labels_param(&labels)));
    body.extend(fields::custom_params(&f.custom, false)?);
    if let Some(w) = weight {
        body.insert("weight".into(), json!(w));
    }
    let what = format!("a new issue in GitLab project {project}");
    let req = api
        .request(
            Method::POST,
            &format!("/projects/{}/issues", project_ref(project)),
        )?
        .json(&body);
    let (issue, _) = api.json::<Issue>(RequestClass::Create, &what, req).await?;
    let remote = issue.remote(project);
    let key = remote.key.clone();
    progress.remote = Some(remote);
    progress.did_all([Part::Title, Part::Body]);
    progress.did_all(f.custom.keys().map(|k| Part::Custom(k.clone())));
    let dropped = dropped_labels(&labels, &issue);
    if !dropped.is_empty() {
        return Err(dropped_error(&format!("issue {key}"), &dropped));
    }
    if weight.is_some() && issue.weight != weight {
        return Err(TrackerError::Forbidden(format!(
            "issue {key}: GitLab did not keep the weight: weights need GitLab Premium and at least the Planner or Reporter role"
        )));
    }
    progress.did_all([Part::Labels, Part::Severity]);
    let closed = !f.state.is_open();
    // A native status (`opened`/`closed`) is reached with the state; a label status is there now.
    if !fields::is_native_status(&f.status.value) || f.status.value.trim() == "opened" {
        progress.did(Part::Status);
    }
    if !closed {
        progress.did(Part::State);
        return Ok(());
    }
    set_state(api, project, issue.iid, &key, "close").await?;
    progress.did_all([Part::State, Part::Status]);
    Ok(())
}

async fn set_state(
    api: &Api,
    project: &str,
    iid: u64,
    key: &str,
    event: &str,
) -> Result<Issue, TrackerError> {
    let req = api
        .request(
            Method::PUT,
            &format!("/projects/{}/issues/{iid}", project_ref(project)),
        )?
        .json(&json!({ "state_event": event }));
    let (issue, _) = api
        .json::<Issue>(RequestClass::Write, &format!("issue {key}"), req)
        .await?;
    Ok(issue)
}

/// Where a linked issue is: its project id and iid from the data we stored at creation, or
/// else from its key `group/project#iid`.
pub fn locate(remote: &RemoteRef) -> Result<(String, u64), TrackerError> {
    let from_data = remote
        .data
        .get("project_id")
        .and_then(Value::as_u64)
        .zip(remote.data.get("iid").and_then(Value::as_u64));
    if let Some((project, iid)) = from_data {
        return Ok((project.to_string(), iid));
    }
    remote
        .key
        .rsplit_once('#')
        .and_then(|(p, iid)| Some((p.to_owned(), iid.parse().ok()?)))
        .filter(|(p, _)| !p.is_empty())
        .ok_or_else(|| {
            TrackerError::Protocol(format!(
                "cannot tell which GitLab issue '{}' is",
                remote.key
            ))
        })
}

/// One `PUT` with every changed part (labels as `add_labels`/`remove_labels`, so labels a
/// person added survive), then the comment as a note. Nothing is sent for empty parts.
pub async fn update(
    api: &Api,
    mapping: &MappingConfig,
    remote: &RemoteRef,
    changes: &Changes,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    fields::check_mapping(mapping)?;
    let (project, iid) = locate(remote)?;
    let what = format!("issue {}", remote.key);
    let mut body = Map::new();
    let mut parts: Vec<Part> = Vec::new();
    if let Some(t) = &changes.title {
        body.insert("title".into(), json!(t));
        parts.push(Part::Title);
    }
    if let Some(b) = &changes.body {
        body.insert("description".into(), json!(b));
        parts.push(Part::Body);
    }
    let mut add: BTreeSet<String> = changes
        .labels_added
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let mut remove: BTreeSet<String> = changes
        .labels_removed
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if !add.is_empty() || !remove.is_empty() {
        parts.push(Part::Labels);
    }
    let mut weight = None;
    if let Some(sev) = &changes.severity {
        match fields::severity_label(sev)? {
            Some(label) => {
                remove.extend(fields::other_labels(
                    &sev.field,
                    &fields::severity_values(mapping),
                    Some(&label),
                ));
                add.insert(label);
            }
            None => {
                let w = fields::weight_value(sev)?;
                body.insert("weight".into(), json!(w));
                weight = Some(w);
            }
        }
        parts.push(Part::Severity);
    }
    if let Some(st) = &changes.status {
        let label = fields::status_label(st)?;
        remove.extend(fields::other_labels(
            &st.field,
            &fields::status_values(mapping),
            label.as_deref(),
        ));
        if let Some(l) = label {
            add.insert(l);
        }
        parts.push(Part::Status);
    }
    for l in add.iter().chain(remove.iter()) {
        fields::check_label(l)?;
    }
    remove.retain(|l| !add.contains(l));
    if !add.is_empty() {
        body.insert("add_labels".into(), json!(labels_param(&add)));
    }
    if !remove.is_empty() {
        body.insert("remove_labels".into(), json!(labels_param(&remove)));
    }
    if let Some(state) = changes.state {
        let event = if state == TicketState::Open {
            "reopen"
        } else {
            "close"
        };
        body.insert("state_event".into(), json!(event));
        parts.push(Part::State);
    }
    let custom = fields::custom_params(&changes.custom, true)?;
    parts.extend(custom.keys().map(|k| Part::Custom(k.clone())));
    body.extend(custom);

    if body.is_empty() {
        // Nothing to send for these parts (a native status without labels to take off).
        progress.did_all(parts);
    } else {
        let req = api
            .request(
                Method::PUT,
                &format!("/projects/{}/issues/{iid}", project_ref(&project)),
            )?
            .json(&body);
        let (issue, _) = api.json::<Issue>(RequestClass::Write, &what, req).await?;
        let labels_ok = dropped_labels(&add, &issue);
        let weight_ok = weight.is_none() || issue.weight == weight;
        // What GitLab kept is done; dropped labels or weight are not, and say why.
        for part in parts {
            let kept = match part {
                Part::Labels | Part::Status => labels_ok.is_empty(),
                Part::Severity => labels_ok.is_empty() && weight_ok,
                _ => true,
            };
            if kept {
                progress.did(part);
            }
        }
        if !labels_ok.is_empty() {
            return Err(dropped_error(&what, &labels_ok));
        }
        if !weight_ok {
            return Err(TrackerError::Forbidden(format!(
                "{what}: GitLab did not keep the weight"
            )));
        }
    }
    if let Some(comment) = &changes.comment {
        let req = api
            .request(
                Method::POST,
                &format!("/projects/{}/issues/{iid}/notes", project_ref(&project)),
            )?
            .json(&json!({ "body": comment }));
        api.json::<Value>(RequestClass::Create, &format!("a comment on {what}"), req)
            .await?;
        progress.did(Part::Comment);
    }
    Ok(())
}

/// The issue carrying `marker`, created at or after `since`: our label's issues, oldest first,
/// every page, matched on the marker in the description.
pub async fn find_by_marker(
    api: &Api,
    project: &str,
    marker: &Marker,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Option<FoundTicket>, TrackerError> {
    let after = (since - chrono::TimeDelta::minutes(CLOCK_SKEW_MINUTES))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let what = format!("the issues of GitLab project {project}");
    let mut page = 1u64;
    loop {
        let req = api
            .request(
                Method::GET,
                &format!("/projects/{}/issues", project_ref(project)),
            )?
            .query(&[
                ("labels", domain::tracker::MARKER_LABEL.to_owned()),
                ("created_after", after.clone()),
                ("state", "all".to_owned()),
                ("order_by", "created_at".to_owned()),
                ("sort", "asc".to_owned()),
                ("per_page", "100".to_owned()),
                ("page", page.to_string()),
            ]);
        let (issues, headers) = api
            .json::<Vec<Issue>>(RequestClass::Read, &what, req)
            .await?;
        if let Some(issue) = issues.iter().find(|i| {
            i.description
                .as_deref()
                .is_some_and(|d| Marker::find_all(d).contains(marker))
        }) {
            return Ok(Some(FoundTicket {
                remote: issue.remote(project),
                open: issue.state == "opened",
            }));
        }
        match api::next_page(&headers) {
            Some(next) if next > page && next <= MAX_PAGES && !issues.is_empty() => page = next,
            _ => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_are_located_from_data_or_key() {
        let r = RemoteRef {
            id: "9".into(),
            key: "acme/api#4".into(),
            url: String::new(),
            data: json!({"project_id": 7, "iid": 4}),
        };
        assert_eq!(locate(&r).unwrap(), ("7".to_owned(), 4));
        let r = RemoteRef {
            data: Value::Null,
            ..r
        };
        assert_eq!(locate(&r).unwrap(), ("acme/api".to_owned(), 4));
        let r = RemoteRef {
            key: "nonsense".into(),
            ..r
        };
        assert!(locate(&r).is_err());
    }
}
