//! The JSON GitLab's API entities show (`Entities::UserBasic`, `Entities::Issue`,
//! `Entities::Note`, `Entities::ProjectHook`…), with the fields of the documented examples.

use super::state::{Hook, Issue, Label, Milestone, Note, Project, State, Token, User};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// `2016-01-04T15:31:51.081Z`, GitLab's timestamp format.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn time_opt(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(time(t)))
}

/// `Entities::UserBasic`.
pub fn user_basic(base: &str, u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "name": u.name,
        "state": "active",
        "locked": false,
        "avatar_url": format!("https://www.gravatar.com/avatar/{:032x}?s=80&d=identicon", u.id),
        "web_url": format!("{base}/{}", u.username),
    })
}

fn user_ref(base: &str, state: &State, id: u64) -> Value {
    state
        .users
        .get(&id)
        .map_or(Value::Null, |u| user_basic(base, u))
}

/// `GET /user`: `Entities::UserPublic` for the token's own user.
pub fn current_user(base: &str, u: &User) -> Value {
    let mut v = user_basic(base, u);
    if let Value::Object(m) = &mut v {
        let extra = json!({
            "created_at": time(u.created_at),
            "bio": "",
            "location": "",
            "public_email": null,
            "linkedin": "",
            "twitter": "",
            "discord": "",
            "website_url": "",
            "organization": "",
            "job_title": "",
            "pronouns": null,
            "bot": false,
            "work_information": null,
            "local_time": null,
            "last_sign_in_at": time(u.created_at),
            "confirmed_at": time(u.created_at),
            "last_activity_on": Utc::now().date_naive().to_string(),
            "email": u.email,
            "theme_id": 1,
            "color_scheme_id": 1,
            "projects_limit": 100000,
            "current_sign_in_at": time(u.created_at),
            "identities": [],
            "can_create_group": true,
            "can_create_project": true,
            "two_factor_enabled": false,
            "external": false,
            "private_profile": false,
            "commit_email": u.email,
        });
        if let Value::Object(e) = extra {
            m.extend(e);
        }
    }
    v
}

/// `GET /personal_access_tokens/self`: `Entities::PersonalAccessTokenWithLastUsedIps`.
pub fn token(t: &Token, today: chrono::NaiveDate) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "revoked": t.revoked,
        "created_at": time(t.created_at),
        "description": null,
        "scopes": t.scopes,
        "user_id": t.user_id,
        "last_used_at": time_opt(t.last_used_at),
        "active": !t.revoked && !t.expired(today),
        "granular": false,
        "expires_at": t.expires_at.map(|d| d.to_string()),
        "last_used_ips": ["127.0.0.1"],
    })
}

/// `GET /projects/:id`: `Entities::ProjectWithAccess`, with the caller's permissions.
pub fn project(base: &str, state: &State, p: &Project, viewer: u64) -> Value {
    let namespace = state.groups.get(&p.namespace_id);
    let project_access = p.members.get(&viewer).map_or(
        Value::Null,
        |l| json!({"access_level": l, "notification_level": 3}),
    );
    let group_access = state.group_access_level(viewer, p.id).map_or(
        Value::Null,
        |l| json!({"access_level": l, "notification_level": 3}),
    );
    let open_issues = state
        .issues
        .range((p.id, 0)..=(p.id, u64::MAX))
        .filter(|(_, i)| i.state == super::state::IssueState::Opened)
        .count();
    let web_url = format!("{base}/{}", p.path_with_namespace);
    json!({
        "id": p.id,
        "description": null,
        "name": p.name,
        "name_with_namespace": format!("{} / {}", namespace.map_or("", |g| g.name.as_str()), p.name),
        "path": p.path,
        "path_with_namespace": p.path_with_namespace,
        "created_at": time(p.created_at),
        "updated_at": time(p.created_at),
        "default_branch": "main",
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": format!("git@{}:{}.git", host_of(base), p.path_with_namespace),
        "http_url_to_repo": format!("{web_url}.git"),
        "web_url": web_url,
        "readme_url": null,
        "avatar_url": null,
        "forks_count": 0,
        "star_count": 0,
        "last_activity_at": time(p.created_at),
        "namespace": namespace.map_or(Value::Null, |g| json!({
            "id": g.id,
            "name": g.name,
            "path": g.path,
            "kind": "group",
            "full_path": g.full_path,
            "parent_id": g.parent_id,
            "avatar_url": null,
            "web_url": format!("{base}/groups/{}", g.full_path),
        })),
        "visibility": "private",
        "archived": false,
        "issues_enabled": true,
        "merge_requests_enabled": true,
        "wiki_enabled": true,
        "jobs_enabled": true,
        "snippets_enabled": true,
        "open_issues_count": open_issues,
        "issues_access_level": "enabled",
        "creator_id": state.users.keys().next().copied().unwrap_or(1),
        "empty_repo": true,
        "_links": {
            "self": format!("{base}/api/v4/projects/{}", p.id),
            "issues": format!("{base}/api/v4/projects/{}/issues", p.id),
            "merge_requests": format!("{base}/api/v4/projects/{}/merge_requests", p.id),
            "repo_branches": format!("{base}/api/v4/projects/{}/repository/branches", p.id),
            "labels": format!("{base}/api/v4/projects/{}/labels", p.id),
            "events": format!("{base}/api/v4/projects/{}/events", p.id),
            "members": format!("{base}/api/v4/projects/{}/members", p.id),
        },
        "permissions": { "project_access": project_access, "group_access": group_access },
    })
}

fn host_of(base: &str) -> &str {
    base.split("://")
        .nth(1)
        .unwrap_or(base)
        .split('/')
        .next()
        .unwrap_or(base)
}

/// An issue's web address: `{base}/{group}/{project}/-/issues/{iid}`.
pub fn issue_url(base: &str, p: &Project, iid: u64) -> String {
    format!("{base}/{}/-/issues/{iid}", p.path_with_namespace)
}

/// `Entities::Issue`.
pub fn issue(base: &str, state: &State, p: &Project, i: &Issue) -> Value {
    let assignees: Vec<Value> = i
        .assignee_ids
        .iter()
        .map(|id| user_ref(base, state, *id))
        .collect();
    let notes = state.notes_of(i.id).count();
    let api = format!("{base}/api/v4/projects/{}", p.id);
    let mut v = json!({
        "id": i.id,
        "iid": i.iid,
        "project_id": i.project_id,
        "title": i.title,
        "description": i.description,
        "state": i.state.as_str(),
        "created_at": time(i.created_at),
        "updated_at": time(i.updated_at),
        "closed_at": time_opt(i.closed_at),
        "closed_by": i.closed_by_id.map_or(Value::Null, |id| user_ref(base, state, id)),
        "labels": i.labels.iter().collect::<Vec<_>>(),
        "milestone": i.milestone_id.and_then(|m| state.milestones.get(&m)).map_or(Value::Null, |m| milestone(base, p, m)),
        "assignees": assignees,
        "author": user_ref(base, state, i.author_id),
        "type": i.issue_type.to_ascii_uppercase(),
        "assignee": assignees.first().cloned().unwrap_or(Value::Null),
        "user_notes_count": notes,
        "merge_requests_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "due_date": i.due_date.map(|d| d.to_string()),
        "confidential": i.confidential,
        "discussion_locked": i.discussion_locked,
        "issue_type": i.issue_type,
    });
    // Two literals: one would pass serde_json's macro recursion limit.
    let rest = json!({
        "web_url": issue_url(base, p, i.iid),
        "time_stats": {
            "time_estimate": 0,
            "total_time_spent": 0,
            "human_time_estimate": null,
            "human_total_time_spent": null,
        },
        "task_completion_status": { "count": 0, "completed_count": 0 },
        "weight": i.weight,
        "blocking_issues_count": 0,
        "has_tasks": false,
        "_links": {
            "self": format!("{api}/issues/{}", i.iid),
            "notes": format!("{api}/issues/{}/notes", i.iid),
            "award_emoji": format!("{api}/issues/{}/award_emoji", i.iid),
            "project": api,
            "closed_as_duplicate_of": null,
        },
        "references": {
            "short": format!("#{}", i.iid),
            "relative": format!("#{}", i.iid),
            "full": format!("{}#{}", p.path_with_namespace, i.iid),
        },
        "severity": "UNKNOWN",
        "subscribed": true,
        "moved_to_id": null,
        "imported": false,
        "imported_from": "none",
        "service_desk_reply_to": null,
        "epic_iid": null,
        "epic": null,
        "iteration": null,
        "health_status": null,
    });
    if let (Value::Object(m), Value::Object(r)) = (&mut v, rest) {
        m.extend(r);
    }
    v
}

/// An issue's labels with `with_labels_details=true`: objects instead of names.
pub fn label_details(state: &State, i: &Issue) -> Value {
    Value::Array(
        i.labels
            .iter()
            .map(|name| match state.label(i.project_id, name) {
                Some(l) => json!({
                    "id": l.id,
                    "name": l.name,
                    "color": l.color,
                    "description": null,
                    "description_html": "",
                    "text_color": "#FFFFFF",
                }),
                None => json!({ "name": name }),
            })
            .collect(),
    )
}

/// `Entities::Milestone`.
pub fn milestone(base: &str, p: &Project, m: &Milestone) -> Value {
    json!({
        "id": m.id,
        "iid": m.iid,
        "project_id": m.project_id,
        "title": m.title,
        "description": "",
        "state": "active",
        "created_at": time(m.created_at),
        "updated_at": time(m.created_at),
        "due_date": null,
        "start_date": null,
        "expired": false,
        "web_url": format!("{base}/{}/-/milestones/{}", p.path_with_namespace, m.iid),
    })
}

/// `Entities::Note`.
pub fn note(base: &str, state: &State, issue: &Issue, n: &Note) -> Value {
    json!({
        "id": n.id,
        "type": null,
        "body": n.body,
        "attachment": null,
        "author": user_ref(base, state, n.author_id),
        "created_at": time(n.created_at),
        "updated_at": time(n.created_at),
        "system": false,
        "noteable_id": issue.id,
        "noteable_type": "Issue",
        "project_id": n.project_id,
        "commit_id": null,
        "resolvable": false,
        "confidential": n.internal,
        "internal": n.internal,
        "imported": false,
        "imported_from": "none",
        "noteable_iid": issue.iid,
        "commands_changes": {},
    })
}

/// `Entities::ProjectHook`. The token is never shown.
pub fn hook(h: &Hook) -> Value {
    json!({
        "id": h.id,
        "url": h.url,
        "name": h.name,
        "description": h.description,
        "project_id": h.project_id,
        "push_events": h.push_events,
        "push_events_branch_filter": h.push_events_branch_filter,
        "issues_events": h.issues_events,
        "confidential_issues_events": h.confidential_issues_events,
        "merge_requests_events": h.merge_requests_events,
        "tag_push_events": h.tag_push_events,
        "note_events": h.note_events,
        "confidential_note_events": h.confidential_note_events,
        "job_events": h.job_events,
        "pipeline_events": h.pipeline_events,
        "wiki_page_events": h.wiki_page_events,
        "deployment_events": h.deployment_events,
        "releases_events": h.releases_events,
        "feature_flag_events": h.feature_flag_events,
        "enable_ssl_verification": h.enable_ssl_verification,
        "repository_update_events": false,
        "alert_status": "executable",
        "disabled_until": null,
        "url_variables": [],
        "created_at": time(h.created_at),
        "resource_access_token_events": false,
        "custom_webhook_template": null,
        "custom_headers": [],
    })
}

/// `Entities::ProjectLabel`.
pub fn label(state: &State, l: &Label) -> Value {
    let on = |wanted: super::state::IssueState| {
        state
            .issues
            .range((l.project_id, 0)..=(l.project_id, u64::MAX))
            .filter(|(_, i)| i.state == wanted && i.labels.contains(&l.name))
            .count()
    };
    json!({
        "id": l.id,
        "name": l.name,
        "description": null,
        "description_html": "",
        "text_color": "#FFFFFF",
        "color": l.color,
        "subscribed": false,
        "priority": null,
        "is_project_label": true,
        "open_issues_count": on(super::state::IssueState::Opened),
        "closed_issues_count": on(super::state::IssueState::Closed),
        "open_merge_requests_count": 0,
    })
}
