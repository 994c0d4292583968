//! Create and update: the REST calls for the issue, the GraphQL calls for its project item,
//! each part reported as it lands.

use super::fields::{self, Write};
use super::project::{self, ProjectInfo};
use super::{GitHub, issue_number, target};
use crate::{Progress, RemoteRef, RequestClass, TrackerError};
use domain::tracker::{
    Changes, CloseReason, FieldValue, MARKER_LABEL, MappingConfig, Marker, Part, TicketFields,
    TicketState,
};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The parts of GitHub's issue answer the client reads.
#[derive(Debug, Deserialize)]
pub(super) struct IssueAnswer {
    pub number: u64,
    pub node_id: String,
    pub html_url: String,
    pub state: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub pull_request: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct LabelAnswer {
    name: String,
}

fn state_reason(r: CloseReason) -> &'static str {
    match r {
        CloseReason::Completed => "completed",
        CloseReason::NotPlanned => "not_planned",
        CloseReason::Duplicate => "duplicate",
    }
}

/// A label name as one path segment: everything but unreserved characters percent-encoded.
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The label that carries a field when the mapping has no project (`Priority: P2`).
fn field_label(fv: &FieldValue) -> String {
    format!("{}: {}", fv.field, fv.value)
}

/// `RemoteRef` of an issue: node id (what webhooks name), `owner/repo#12`, its page, and the
/// number and project item for later calls.
pub(super) fn remote_ref(
    owner: &str,
    repo: &str,
    i: &IssueAnswer,
    item: Option<&str>,
) -> RemoteRef {
    let mut data = json!({ "repo": repo, "number": i.number });
    if let (Some(item), Some(d)) = (item, data.as_object_mut()) {
        d.insert("item_id".into(), json!(item));
    }
    RemoteRef {
        id: i.node_id.clone(),
        key: format!("{owner}/{repo}#{}", i.number),
        url: i.html_url.clone(),
        data,
    }
}

fn with_item(remote: &RemoteRef, item: &str) -> RemoteRef {
    let mut r = remote.clone();
    if let Some(d) = r.data.as_object_mut() {
        d.insert("item_id".into(), json!(item));
    } else {
        r.data = json!({ "item_id": item });
    }
    r
}

/// What the project fields of a push are to become.
struct FieldTargets<'a> {
    severity: Option<&'a FieldValue>,
    status: Option<&'a FieldValue>,
    custom: &'a BTreeMap<String, Value>,
}

impl FieldTargets<'_> {
    fn is_empty(&self) -> bool {
        self.severity.is_none() && self.status.is_none() && self.custom.is_empty()
    }

    /// Only the targets whose parts are in `parts`.
    fn only(
        &self,
        parts: &BTreeSet<Part>,
    ) -> (
        Option<FieldValue>,
        Option<FieldValue>,
        BTreeMap<String, Value>,
    ) {
        (
            self.severity
                .filter(|_| parts.contains(&Part::Severity))
                .cloned(),
            self.status
                .filter(|_| parts.contains(&Part::Status))
                .cloned(),
            self.custom
                .iter()
                .filter(|(k, _)| parts.contains(&Part::Custom((*k).clone())))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

impl GitHub {
    /// The project and the writes a push needs. A gap found in a cached project is checked
    /// against GitHub once more (a person may just have added the field or option) before it
    /// is reported as misconfigured.
    async fn planned(
        &self,
        m: &MappingConfig,
        number: u32,
        targets: &FieldTargets<'_>,
    ) -> Result<(ProjectInfo, Vec<Write>), TrackerError> {
        let p = project::project(&self.api, &self.cache, number).await?;
        match fields::plan(&p, m, targets.severity, targets.status, targets.custom) {
            Ok(w) => Ok((p, w)),
            Err(TrackerError::Misconfigured(_)) => {
                self.cache.forget(number);
                let p = project::project(&self.api, &self.cache, number).await?;
                let w = fields::plan(&p, m, targets.severity, targets.status, targets.custom)?;
                Ok((p, w))
            }
            Err(e) => Err(e),
        }
    }

    /// The custom fields of a mapping without a project cannot be written anywhere.
    fn no_project_custom(
        &self,
        repo: &str,
        custom: &BTreeMap<String, Value>,
    ) -> Result<(), TrackerError> {
        if custom.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = custom.keys().map(String::as_str).collect();
        Err(TrackerError::Misconfigured(format!(
            "custom fields ({}) are project fields, and the mapping of {}/{repo} has no project: set its project number or remove them",
            names.join(", "),
            self.api.owner
        )))
    }

    pub(super) async fn push_create(
        &self,
        m: &MappingConfig,
        fields: &TicketFields,
        marker: &Marker,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        let (repo, number) = target(m)?;
        let owner = self.api.owner.clone();
        let mut labels: Vec<String> = fields.labels.iter().cloned().collect();
        if !labels.iter().any(|l| l == MARKER_LABEL) {
            labels.push(MARKER_LABEL.to_owned());
        }
        let targets = FieldTargets {
            severity: Some(&fields.severity),
            status: Some(&fields.status),
            custom: &fields.custom,
        };
        // Everything that can be wrong with the project is checked before the issue exists.
        let project = match number {
            Some(n) => Some(self.planned(m, n, &targets).await?.0),
            None => {
                self.no_project_custom(repo, &fields.custom)?;
                labels.push(field_label(&fields.severity));
                labels.push(field_label(&fields.status));
                None
            }
        };
        let mut body = fields.body.clone();
        if !Marker::find_all(&body).contains(marker) {
            body = format!("{body}\n\n{}", marker.html_comment());
        }
        let what = format!("new issue in {owner}/{repo}");
        let (issue, _): (IssueAnswer, _) = self
            .api
            .rest(
                RequestClass::Create,
                &what,
                Method::POST,
                &format!("/repos/{owner}/{repo}/issues"),
                Some(&json!({ "title": fields.title, "body": body, "labels": labels })),
            )
            .await?;
        progress.remote = Some(remote_ref(&owner, repo, &issue, None));
        progress.did_all([Part::Title, Part::Body, Part::Labels]);
        if project.is_none() {
            progress.did_all([Part::Severity, Part::Status]);
        }
        let key = format!("{owner}/{repo}#{}", issue.number);
        if let Some(n) = number {
            let item = self
                .set_fields(m, n, &issue.node_id, None, &key, &targets, progress)
                .await;
            if let Ok(item) | Err((Some(item), _)) = &item
                && let Some(r) = &progress.remote
            {
                progress.remote = Some(with_item(r, item));
            }
            item.map_err(|(_, e)| e)?;
        }
        match fields.state {
            TicketState::Open => progress.did(Part::State),
            TicketState::Closed(reason) => {
                self.patch(
                    repo,
                    issue.number,
                    &json!({ "state": "closed", "state_reason": state_reason(reason) }),
                    &key,
                )
                .await?;
                progress.did(Part::State);
            }
        }
        Ok(())
    }

    async fn patch(
        &self,
        repo: &str,
        number: u64,
        body: &Value,
        key: &str,
    ) -> Result<(), TrackerError> {
        let path = format!("/repos/{}/{repo}/issues/{number}", self.api.owner);
        self.api
            .rest::<Value>(
                RequestClass::Write,
                &format!("issue {key}"),
                Method::PATCH,
                &path,
                Some(body),
            )
            .await
            .map(|_| ())
    }

    /// Writes the project fields of an issue, adding it to the project first when the item is
    /// not known. A stale id (the project, a field, an option or the item changed in GitHub)
    /// makes one fresh lookup and one retry of what did not land. Returns the item id (also
    /// beside the error, when the item exists).
    #[allow(clippy::too_many_arguments)]
    async fn set_fields(
        &self,
        m: &MappingConfig,
        number: u32,
        issue_node: &str,
        item: Option<&str>,
        key: &str,
        targets: &FieldTargets<'_>,
        progress: &mut Progress,
    ) -> Result<String, (Option<String>, TrackerError)> {
        let (p, writes) = self
            .planned(m, number, targets)
            .await
            .map_err(|e| (item.map(str::to_owned), e))?;
        let item = match item {
            Some(i) => i.to_owned(),
            None => fields::add_item(&self.api, &p, issue_node, &format!("issue {key}"))
                .await
                .map_err(|e| (None, e))?,
        };
        let failed = match fields::write(
            &self.api,
            &p,
            &item,
            &writes,
            &format!("issue {key}"),
            progress,
        )
        .await
        {
            Ok(()) => return Ok(item),
            Err(f) if f.stale => f,
            Err(f) => return Err((Some(item), f.error)),
        };
        tracing::info!(issue = key, error = %failed.error, "A cached GitHub project id is stale; looking the project up again.");
        self.cache.forget(number);
        let parts: BTreeSet<Part> = failed.writes.iter().map(|w| w.part.clone()).collect();
        let (sev, status, custom) = targets.only(&parts);
        let retry = async {
            let p: ProjectInfo = project::project(&self.api, &self.cache, number).await?;
            let writes: Vec<Write> = fields::plan(&p, m, sev.as_ref(), status.as_ref(), &custom)?;
            // The item may be what went stale (removed from the project by a person).
            let item = fields::add_item(&self.api, &p, issue_node, &format!("issue {key}")).await?;
            fields::write(
                &self.api,
                &p,
                &item,
                &writes,
                &format!("issue {key}"),
                progress,
            )
            .await
            .map_err(|f| f.error)?;
            Ok::<String, TrackerError>(item)
        };
        retry.await.map_err(|e| (Some(item), e))
    }

    pub(super) async fn push_update(
        &self,
        m: &MappingConfig,
        remote: &RemoteRef,
        changes: &Changes,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        let (repo, project_number) = target(m)?;
        let number = issue_number(remote)?;
        let owner = self.api.owner.clone();
        let key = remote.key.clone();
        if project_number.is_none() {
            self.no_project_custom(repo, &changes.custom)?;
        }
        // Title, body and state in one PATCH.
        let mut patch = serde_json::Map::new();
        if let Some(t) = &changes.title {
            patch.insert("title".into(), json!(t));
        }
        if let Some(b) = &changes.body {
            patch.insert("body".into(), json!(b));
        }
        match changes.state {
            Some(TicketState::Open) => {
                patch.insert("state".into(), json!("open"));
            }
            Some(TicketState::Closed(r)) => {
                patch.insert("state".into(), json!("closed"));
                patch.insert("state_reason".into(), json!(state_reason(r)));
            }
            None => {}
        }
        if !patch.is_empty() {
            self.patch(repo, number, &Value::Object(patch), &key)
                .await?;
            if changes.title.is_some() {
                progress.did(Part::Title);
            }
            if changes.body.is_some() {
                progress.did(Part::Body);
            }
            if changes.state.is_some() {
                progress.did(Part::State);
            }
        }
        self.update_labels(
            repo,
            number,
            &key,
            changes,
            project_number.is_none(),
            progress,
        )
        .await?;
        let targets = FieldTargets {
            severity: changes.severity.as_ref(),
            status: changes.status.as_ref(),
            custom: &changes.custom,
        };
        if let (Some(n), false) = (project_number, targets.is_empty()) {
            let known = remote.data.get("item_id").and_then(Value::as_str);
            let result = self
                .set_fields(m, n, &remote.id, known, &key, &targets, progress)
                .await;
            if let Ok(item) | Err((Some(item), _)) = &result
                && Some(item.as_str()) != known
            {
                progress.remote = Some(with_item(remote, item));
            }
            result.map_err(|(_, e)| e)?;
        }
        if let Some(c) = &changes.comment {
            let path = format!("/repos/{owner}/{repo}/issues/{number}/comments");
            self.api
                .rest::<Value>(
                    RequestClass::Create,
                    &format!("comment on {key}"),
                    Method::POST,
                    &path,
                    Some(&json!({ "body": c })),
                )
                .await?;
            progress.did(Part::Comment);
        }
        Ok(())
    }

    /// Adds and removes labels one change at a time, never replacing the set (labels people
    /// added survive). Without a project, severity and status are labels too: the new one is
    /// added and any other `Field: …` label removed.
    async fn update_labels(
        &self,
        repo: &str,
        number: u64,
        key: &str,
        changes: &Changes,
        as_labels: bool,
        progress: &mut Progress,
    ) -> Result<(), TrackerError> {
        let owner = &self.api.owner;
        let mut add: Vec<String> = changes.labels_added.iter().cloned().collect();
        let mut prefixes = Vec::new();
        if as_labels {
            for fv in [&changes.severity, &changes.status].into_iter().flatten() {
                add.push(field_label(fv));
                prefixes.push((format!("{}: ", fv.field), field_label(fv)));
            }
        }
        let mut remove: Vec<String> = changes.labels_removed.iter().cloned().collect();
        if !add.is_empty() {
            let path = format!("/repos/{owner}/{repo}/issues/{number}/labels");
            let (now, _): (Vec<LabelAnswer>, _) = self
                .api
                .rest(
                    RequestClass::Write,
                    &format!("labels of {key}"),
                    Method::POST,
                    &path,
                    Some(&json!({ "labels": add })),
                )
                .await?;
            for l in now {
                if prefixes
                    .iter()
                    .any(|(prefix, keep)| l.name.starts_with(prefix.as_str()) && l.name != *keep)
                    && !remove.contains(&l.name)
                {
                    remove.push(l.name);
                }
            }
        }
        for name in &remove {
            let path = format!(
                "/repos/{owner}/{repo}/issues/{number}/labels/{}",
                segment(name)
            );
            match self
                .api
                .rest_empty(
                    RequestClass::Write,
                    &format!("label {name:?} of {key}"),
                    Method::DELETE,
                    &path,
                    None,
                )
                .await
            {
                // Already gone (a person removed it): the change holds.
                Ok(()) | Err(TrackerError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if !changes.labels_added.is_empty() || !changes.labels_removed.is_empty() {
            progress.did(Part::Labels);
        }
        if as_labels {
            if changes.severity.is_some() {
                progress.did(Part::Severity);
            }
            if changes.status.is_some() {
                progress.did(Part::Status);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_become_path_segments() {
        assert_eq!(segment("Priority: P2"), "Priority%3A%20P2");
        assert_eq!(segment("a/b+c"), "a%2Fb%2Bc");
        assert_eq!(segment("plain-label_1.0~x"), "plain-label_1.0~x");
    }
}
