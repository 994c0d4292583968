//! The issue attributes a create or an edit carries, GitLab's model validation of them, and
//! who may set what: callers below Planner silently lose metadata (labels, assignees,
//! milestone, due date, weight, later confidentiality changes), as
//! `IssuableBaseService#filter_params` drops it.

use super::params::Params;
use super::reply::ApiError;
use super::state::{GUEST, Issue, IssueState, PLANNER, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};

/// `Issuable::TITLE_LENGTH_MAX`.
const TITLE_MAX: usize = 255;
/// `Issuable::DESCRIPTION_LENGTH_MAX` (1 MiB, counted in bytes).
const DESCRIPTION_MAX: usize = 1024 * 1024;
pub const ISSUE_TYPES: [&str; 4] = ["issue", "incident", "test_case", "task"];
/// Whether a user may see an issue: confidential issues show only to Planner and above, their
/// author and their assignees.
pub fn can_read(state: &State, user: u64, issue: &Issue) -> bool {
    let level = state.access_level(user, issue.project_id);
    level >= GUEST
        && (!issue.confidential
            || level >= PLANNER
            || issue.author_id == user
            || issue.assignee_ids.contains(&user))
}

/// Whether a user may edit an issue (`update_issue`): Planner and above, or its author or an
/// assignee.
pub fn can_update(state: &State, user: u64, issue: &Issue) -> bool {
    let level = state.access_level(user, issue.project_id);
    level >= PLANNER
        || (level >= GUEST && (issue.author_id == user || issue.assignee_ids.contains(&user)))
}

/// The issue attributes a create or an edit may carry, as read from the request.
#[derive(Debug, Default)]
pub struct Fields {
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub labels: Option<Vec<String>>,
    pub add_labels: Vec<String>,
    pub remove_labels: Vec<String>,
    pub state: Option<IssueState>,
    pub assignee_ids: Option<Vec<i64>>,
    pub milestone_id: Option<Option<i64>>,
    pub due_date: Option<Option<String>>,
    pub confidential: Option<bool>,
    pub discussion_locked: Option<bool>,
    pub issue_type: Option<String>,
    pub weight: Option<Option<i64>>,
}

pub fn read_fields(p: &mut Params) -> Fields {
    let mut f = Fields {
        title: p.string("title"),
        description: p.string("description"),
        labels: p.string_list("labels"),
        add_labels: p.string_list("add_labels").unwrap_or_default(),
        remove_labels: p.string_list("remove_labels").unwrap_or_default(),
        state: p.choice("state_event", &["close", "reopen"]).map(|e| {
            if e == "close" {
                IssueState::Closed
            } else {
                IssueState::Opened
            }
        }),
        assignee_ids: p.integer_list("assignee_ids"),
        milestone_id: p.integer("milestone_id"),
        due_date: p.string("due_date"),
        confidential: p.boolean("confidential"),
        discussion_locked: p.boolean("discussion_locked"),
        issue_type: p.choice("issue_type", &ISSUE_TYPES),
        weight: p.integer("weight"),
    };
    // The deprecated single assignee, used when the list is not given.
    if f.assignee_ids.is_none()
        && let Some(one) = p.integer("assignee_id")
    {
        f.assignee_ids = Some(one.into_iter().collect());
    }
    // Declared, so type-checked, but without effect here.
    p.integer("epic_id");
    p.integer("epic_iid");
    p.datetime("created_at");
    p.datetime("updated_at");
    p.integer("iid");
    f
}

/// Model validation: every failing attribute, in one answer.
pub fn validate(issue: &Issue) -> Result<(), ApiError> {
    let mut problems: Vec<(String, Vec<String>)> = Vec::new();
    if issue.title.trim().is_empty() {
        problems.push(("title".into(), vec!["can't be blank".into()]));
    } else if issue.title.chars().count() > TITLE_MAX {
        problems.push((
            "title".into(),
            vec![format!("is too long (maximum is {TITLE_MAX} characters)")],
        ));
    }
    if issue
        .description
        .as_deref()
        .is_some_and(|d| d.len() > DESCRIPTION_MAX)
    {
        problems.push((
            "description".into(),
            vec![format!(
                "is too long (maximum is {DESCRIPTION_MAX} characters)"
            )],
        ));
    }
    if issue.weight.is_some_and(|w| w < 0) {
        problems.push((
            "weight".into(),
            vec!["must be greater than or equal to 0".into()],
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(StatusCode::BAD_REQUEST, problems))
    }
}

/// The scoped-label key: everything before the last `::` (GitLab Premium keeps one label per
/// key on an issue).
fn scope_key(label: &str) -> Option<&str> {
    label.rfind("::").map(|i| &label[..i])
}

/// Applies `fields` to `issue` as the user's role (`level`) allows; `creating` for a new issue.
pub fn apply(
    state: &mut State,
    level: u8,
    creating: bool,
    issue: &mut Issue,
    fields: Fields,
    now: DateTime<Utc>,
) {
    if let Some(t) = fields.title {
        issue.title = t.unwrap_or_default().trim().to_owned();
    }
    if let Some(d) = fields.description {
        issue.description = d;
    }
    if let Some(t) = fields.issue_type {
        issue.issue_type = t;
    }
    // Metadata needs `set_issue_metadata` (Planner and above); confidentiality too, except that
    // whoever opens an issue may open it confidential.
    let metadata = level >= PLANNER;
    if let Some(c) = fields.confidential
        && (metadata || creating)
    {
        issue.confidential = c;
    }
    if !metadata {
        return;
    }
    if fields.labels.is_some() || !fields.add_labels.is_empty() || !fields.remove_labels.is_empty()
    {
        let mut labels: Vec<String> = match fields.labels {
            Some(l) => l,
            None => issue.labels.iter().cloned().collect(),
        };
        for a in fields.add_labels {
            labels.retain(|l| *l != a);
            labels.push(a);
        }
        labels.retain(|l| !fields.remove_labels.contains(l));
        // One label per scope: the one named last wins.
        let mut kept: Vec<String> = Vec::new();
        for l in labels.into_iter().rev() {
            let clash = scope_key(&l).is_some_and(|k| kept.iter().any(|x| scope_key(x) == Some(k)));
            if !clash && !kept.contains(&l) {
                kept.push(l);
            }
        }
        for l in &kept {
            state.ensure_label(issue.project_id, l, now);
        }
        issue.labels = kept.into_iter().collect();
    }
    if let Some(ids) = fields.assignee_ids {
        // Unknown users and non-members are dropped, as GitLab drops users who cannot be assigned.
        let mut keep = Vec::new();
        for id in ids.into_iter().filter_map(|i| u64::try_from(i).ok()) {
            if id != 0 && state.access_level(id, issue.project_id) >= GUEST && !keep.contains(&id) {
                keep.push(id);
            }
        }
        issue.assignee_ids = keep;
    }
    if let Some(m) = fields.milestone_id {
        // A milestone of another project, or none at all, leaves the issue without one.
        issue.milestone_id = m.and_then(|m| u64::try_from(m).ok()).filter(|m| {
            state
                .milestones
                .get(m)
                .is_some_and(|ms| ms.project_id == issue.project_id)
        });
    }
    if let Some(d) = fields.due_date {
        // A date that does not parse is stored as no date, as Rails casts it.
        issue.due_date = d.and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
    }
    if let Some(l) = fields.discussion_locked {
        issue.discussion_locked = Some(l);
    }
    if let Some(w) = fields.weight {
        issue.weight = w;
    }
}

/// Applies the text fields to a copy only, to validate before anything is stored (labels and
/// other records are created only for a valid issue).
pub fn apply_dry(level: u8, issue: &mut Issue, fields: &Fields) {
    if let Some(t) = &fields.title {
        issue.title = t.clone().unwrap_or_default().trim().to_owned();
    }
    if let Some(d) = &fields.description {
        issue.description = d.clone();
    }
    if level >= PLANNER
        && let Some(w) = fields.weight
    {
        issue.weight = w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_keys_are_before_the_last_double_colon() {
        assert_eq!(scope_key("Priority::3"), Some("Priority"));
        assert_eq!(scope_key("team::a::b"), Some("team::a"));
        assert_eq!(scope_key("bug"), None);
    }
}
