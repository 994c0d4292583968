//! The JSON GitHub sends for users, repositories, issues, labels, comments and hooks (the
//! `simple-user`, `full-repository`, `issue`, `label`, `issue-comment`, `hook` and `org-hook`
//! schemas of GitHub's REST API description), shared by the REST answers and the webhooks.

use super::state::{Hook, HookTarget, Issue, Label, Perm, Repo, State};
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};

pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn api(base: &str) -> String {
    format!("{base}/api/v3")
}

/// A path segment, percent-encoded (label names have spaces and colons).
pub fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `simple-user` for a user or an organization.
pub fn simple_user(st: &State, base: &str, login: &str) -> Json {
    let api = api(base);
    let (login, id, node_id, kind) = match (st.user(login), st.org(login)) {
        (Some(u), _) => (u.login.clone(), u.id, u.node_id.clone(), "User"),
        (None, Some(o)) => (o.login.clone(), o.id, o.node_id.clone(), "Organization"),
        (None, None) => (login.to_owned(), 0, String::new(), "User"),
    };
    json!({
        "login": login,
        "id": id,
        "node_id": node_id,
        "avatar_url": format!("{base}/avatars/u/{id}"),
        "gravatar_id": "",
        "url": format!("{api}/users/{login}"),
        "html_url": format!("{base}/{login}"),
        "followers_url": format!("{api}/users/{login}/followers"),
        "following_url": format!("{api}/users/{login}/following{{/other_user}}"),
        "gists_url": format!("{api}/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/users/{login}/subscriptions"),
        "organizations_url": format!("{api}/users/{login}/orgs"),
        "repos_url": format!("{api}/users/{login}/repos"),
        "events_url": format!("{api}/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("{api}/users/{login}/received_events"),
        "type": kind,
        "user_view_type": "public",
        "site_admin": false
    })
}

/// `private-user`: the authenticated user (`GET /user`).
pub fn private_user(st: &State, base: &str, login: &str) -> Json {
    let mut u = simple_user(st, base, login);
    let owned = st
        .repos
        .values()
        .filter(|r| r.owner.eq_ignore_ascii_case(login))
        .count();
    if let Some(o) = u.as_object_mut() {
        o.insert("user_view_type".into(), json!("private"));
        for (k, v) in [
            ("name", Json::Null),
            ("company", Json::Null),
            ("blog", json!("")),
            ("location", Json::Null),
            ("email", Json::Null),
            ("hireable", Json::Null),
            ("bio", Json::Null),
            ("twitter_username", Json::Null),
            ("notification_email", Json::Null),
            ("public_repos", json!(0)),
            ("public_gists", json!(0)),
            ("followers", json!(0)),
            ("following", json!(0)),
            ("created_at", json!("2020-01-01T00:00:00Z")),
            ("updated_at", json!("2020-01-01T00:00:00Z")),
            ("private_gists", json!(0)),
            ("total_private_repos", json!(owned)),
            ("owned_private_repos", json!(owned)),
            ("disk_usage", json!(0)),
            ("collaborators", json!(0)),
            ("two_factor_authentication", json!(true)),
            (
                "plan",
                json!({ "name": "enterprise", "space": 976_562_499, "private_repos": 9999, "collaborators": 0 }),
            ),
        ] {
            o.insert(k.into(), v);
        }
    }
    u
}

/// The `organization` object webhooks carry.
pub fn org_simple(st: &State, base: &str, login: &str) -> Json {
    let api = api(base);
    let Some(o) = st.org(login) else {
        return Json::Null;
    };
    let l = &o.login;
    json!({
        "login": l,
        "id": o.id,
        "node_id": o.node_id,
        "url": format!("{api}/orgs/{l}"),
        "repos_url": format!("{api}/orgs/{l}/repos"),
        "events_url": format!("{api}/orgs/{l}/events"),
        "hooks_url": format!("{api}/orgs/{l}/hooks"),
        "issues_url": format!("{api}/orgs/{l}/issues"),
        "members_url": format!("{api}/orgs/{l}/members{{/member}}"),
        "public_members_url": format!("{api}/orgs/{l}/public_members{{/member}}"),
        "avatar_url": format!("{base}/avatars/u/{}", o.id),
        "description": ""
    })
}

/// A repository (`full-repository`); with `viewer`, its `permissions` for that user.
pub fn repository(st: &State, base: &str, r: &Repo, viewer: Option<&str>) -> Json {
    let api = api(base);
    let full = r.full_name();
    let rurl = format!("{api}/repos/{full}");
    let open = r.issues.iter().filter(|i| i.open).count();
    let mut j = json!({
        "id": r.id,
        "node_id": r.node_id,
        "name": r.name,
        "full_name": full,
        "private": r.private,
        "owner": simple_user(st, base, &r.owner),
        "html_url": format!("{base}/{full}"),
        "description": null,
        "fork": false,
        "url": rurl,
        "archive_url": format!("{rurl}/{{archive_format}}{{/ref}}"),
        "assignees_url": format!("{rurl}/assignees{{/user}}"),
        "collaborators_url": format!("{rurl}/collaborators{{/collaborator}}"),
        "comments_url": format!("{rurl}/comments{{/number}}"),
        "events_url": format!("{rurl}/events"),
        "hooks_url": format!("{rurl}/hooks"),
        "issue_comment_url": format!("{rurl}/issues/comments{{/number}}"),
        "issue_events_url": format!("{rurl}/issues/events{{/number}}"),
        "issues_url": format!("{rurl}/issues{{/number}}"),
        "labels_url": format!("{rurl}/labels{{/name}}"),
        "pulls_url": format!("{rurl}/pulls{{/number}}"),
    });
    let more = json!({
        "clone_url": format!("{base}/{full}.git"),
        "git_url": format!("git://{}/{full}.git", base.trim_start_matches("http://").trim_start_matches("https://")),
        "ssh_url": format!("git@{}:{full}.git", base.trim_start_matches("http://").trim_start_matches("https://")),
        "svn_url": format!("{base}/{full}"),
        "homepage": null,
        "language": null,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 0,
        "default_branch": "main",
        "open_issues_count": open,
        "is_template": false,
        "topics": [],
        "has_issues": r.has_issues,
        "has_projects": true,
        "has_wiki": false,
        "has_pages": false,
        "has_downloads": true,
        "has_discussions": false,
        "archived": false,
        "disabled": false,
        "visibility": if r.private { "private" } else { "public" },
        "pushed_at": time(r.created_at),
        "created_at": time(r.created_at),
        "updated_at": time(r.created_at),
        "allow_forking": false,
        "web_commit_signoff_required": false,
        "forks": 0,
        "open_issues": open,
        "watchers": 0,
        "license": null,
        "mirror_url": null,
        "subscribers_count": 0,
        "network_count": 0
    });
    if let (Some(o), Json::Object(m)) = (j.as_object_mut(), more) {
        o.extend(m);
    }
    if let Some(o) = j.as_object_mut() {
        if st.org(&r.owner).is_some() {
            o.insert("organization".into(), simple_user(st, base, &r.owner));
        }
        if let Some(v) = viewer {
            let p = st.permission(&super::state::repo_key(&r.owner, &r.name), v);
            let has = |min: Perm| p.is_some_and(|p| p >= min);
            o.insert(
                "permissions".into(),
                json!({
                    "admin": has(Perm::Admin),
                    "maintain": has(Perm::Maintain),
                    "push": has(Perm::Write),
                    "triage": has(Perm::Triage),
                    "pull": has(Perm::Read)
                }),
            );
        }
    }
    j
}

pub fn label(base: &str, r: &Repo, l: &Label) -> Json {
    json!({
        "id": l.id,
        "node_id": l.node_id,
        "url": format!("{}/repos/{}/labels/{}", api(base), r.full_name(), segment(&l.name)),
        "name": l.name,
        "color": l.color,
        "default": l.default,
        "description": l.description
    })
}

/// How the author relates to the repository (`author_association`).
pub fn association(st: &State, r: &Repo, login: &str) -> &'static str {
    if r.owner.eq_ignore_ascii_case(login) {
        "OWNER"
    } else if st.is_org_owner(&r.owner, login) {
        "MEMBER"
    } else if r.perms.contains_key(&login.to_ascii_lowercase()) {
        "COLLABORATOR"
    } else {
        "NONE"
    }
}

fn reactions(url: String) -> Json {
    json!({
        "url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
        "confused": 0, "heart": 0, "rocket": 0, "eyes": 0
    })
}

pub fn issue(st: &State, base: &str, r: &Repo, i: &Issue) -> Json {
    let rurl = format!("{}/repos/{}", api(base), r.full_name());
    let iurl = format!("{rurl}/issues/{}", i.number);
    let labels: Vec<Json> = i
        .labels
        .iter()
        .filter_map(|id| r.labels.iter().find(|l| l.id == *id))
        .map(|l| label(base, r, l))
        .collect();
    json!({
        "url": iurl,
        "repository_url": rurl,
        "labels_url": format!("{iurl}/labels{{/name}}"),
        "comments_url": format!("{iurl}/comments"),
        "events_url": format!("{iurl}/events"),
        "html_url": format!("{base}/{}/issues/{}", r.full_name(), i.number),
        "id": i.id,
        "node_id": i.node_id,
        "number": i.number,
        "title": i.title,
        "user": simple_user(st, base, &i.author),
        "labels": labels,
        "state": if i.open { "open" } else { "closed" },
        "locked": false,
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "comments": i.comments.len(),
        "created_at": time(i.created_at),
        "updated_at": time(i.updated_at),
        "closed_at": i.closed_at.map(time),
        "closed_by": i.closed_by.as_deref().map(|l| simple_user(st, base, l)),
        "author_association": association(st, r, &i.author),
        "active_lock_reason": null,
        "body": i.body,
        "reactions": reactions(format!("{iurl}/reactions")),
        "timeline_url": format!("{iurl}/timeline"),
        "performed_via_github_app": null,
        "state_reason": i.state_reason,
        "type": null
    })
}

pub fn comment(st: &State, base: &str, r: &Repo, i: &Issue, c: &super::state::Comment) -> Json {
    let rurl = format!("{}/repos/{}", api(base), r.full_name());
    json!({
        "url": format!("{rurl}/issues/comments/{}", c.id),
        "html_url": format!("{base}/{}/issues/{}#issuecomment-{}", r.full_name(), i.number, c.id),
        "issue_url": format!("{rurl}/issues/{}", i.number),
        "id": c.id,
        "node_id": c.node_id,
        "user": simple_user(st, base, &c.author),
        "created_at": time(c.created_at),
        "updated_at": time(c.created_at),
        "author_association": association(st, r, &c.author),
        "body": c.body,
        "reactions": reactions(format!("{rurl}/issues/comments/{}/reactions", c.id)),
        "performed_via_github_app": null
    })
}

/// `hook` (repository) or `org-hook` (organization).
pub fn hook(st: &State, base: &str, h: &Hook) -> Json {
    let api = api(base);
    let mut config =
        json!({ "content_type": h.content_type, "insecure_ssl": h.insecure_ssl, "url": h.url });
    if h.secret.is_some()
        && let Some(c) = config.as_object_mut()
    {
        c.insert("secret".into(), json!("********"));
    }
    match &h.target {
        HookTarget::Repo(key) => {
            let full = st.repo(key).map(Repo::full_name).unwrap_or_default();
            let hurl = format!("{api}/repos/{full}/hooks/{}", h.id);
            json!({
                "type": "Repository",
                "id": h.id,
                "name": "web",
                "active": h.active,
                "events": h.events,
                "config": config,
                "updated_at": time(h.updated_at),
                "created_at": time(h.created_at),
                "url": hurl,
                "test_url": format!("{hurl}/test"),
                "ping_url": format!("{hurl}/pings"),
                "deliveries_url": format!("{hurl}/deliveries"),
                "last_response": { "code": null, "status": "unused", "message": null }
            })
        }
        HookTarget::Org(org) => {
            let login = st.display_login(org);
            let hurl = format!("{api}/orgs/{login}/hooks/{}", h.id);
            json!({
                "id": h.id,
                "url": hurl,
                "ping_url": format!("{hurl}/pings"),
                "deliveries_url": format!("{hurl}/deliveries"),
                "name": "web",
                "events": h.events,
                "active": h.active,
                "config": config,
                "updated_at": time(h.updated_at),
                "created_at": time(h.created_at),
                "type": "Organization"
            })
        }
    }
}
