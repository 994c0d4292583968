//! Jira's JSON for the simulator's records, per REST API: v3 (Cloud) shows users by account id
//! and rich text as ADF; v2 (Data Center) shows users by name and key and rich text as strings.

use super::Api;
use super::state::{
    Comment, Component, Issue, IssueType, LinkType, Priority, Project, Resolution, State, Status,
    TransitionDef, User,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// `2024-01-31T10:00:00.000+0000`, Jira's timestamp format.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn api_base(base: &str, api: Api) -> String {
    format!("{base}{}", api.path())
}

fn avatars(base: &str, kind: &str, id: &str) -> Value {
    let url = |size: &str| format!("{base}/secure/{kind}avatar?size={size}&avatarId={id}");
    json!({ "48x48": url("large"), "24x24": url("small"), "16x16": url("xsmall"), "32x32": url("medium") })
}

pub fn user(base: &str, api: Api, u: &User) -> Value {
    match api {
        Api::V3 => json!({
            "self": format!("{}/user?accountId={}", api_base(base, api), u.account_id),
            "accountId": u.account_id,
            "emailAddress": u.email,
            "avatarUrls": avatars(base, "user", &u.id.to_string()),
            "displayName": u.display_name,
            "active": u.active,
            "timeZone": "Etc/UTC",
            "accountType": "atlassian",
        }),
        Api::V2 => json!({
            "self": format!("{}/user?username={}", api_base(base, api), u.name),
            "name": u.name,
            "key": u.key,
            "emailAddress": u.email,
            "avatarUrls": avatars(base, "user", &u.id.to_string()),
            "displayName": u.display_name,
            "active": u.active,
            "timeZone": "Etc/UTC",
        }),
    }
}

/// A user as webhooks show it: Jira Cloud's fields and Data Center's, so that a receiver
/// written for either finds what it reads.
pub fn hook_user(base: &str, u: &User) -> Value {
    json!({
        "self": format!("{base}/rest/api/2/user?accountId={}", u.account_id),
        "accountId": u.account_id,
        "name": u.name,
        "key": u.key,
        "emailAddress": u.email,
        "avatarUrls": avatars(base, "user", &u.id.to_string()),
        "displayName": u.display_name,
        "active": u.active,
        "timeZone": "Etc/UTC",
        "accountType": "atlassian",
    })
}

pub fn user_by_id(base: &str, api: Api, state: &State, id: Option<u64>) -> Value {
    id.and_then(|id| state.users.get(&id))
        .map_or(Value::Null, |u| user(base, api, u))
}

pub fn status_category(base: &str, api: Api, st: &Status) -> Value {
    let c = st.category;
    json!({
        "self": format!("{}/statuscategory/{}", api_base(base, api), c.id()),
        "id": c.id(),
        "key": c.key(),
        "colorName": c.color(),
        "name": c.name(),
    })
}

pub fn status(base: &str, api: Api, st: &Status) -> Value {
    json!({
        "self": format!("{}/status/{}", api_base(base, api), st.id),
        "description": st.description,
        "iconUrl": format!("{base}/images/icons/statuses/generic.png"),
        "name": st.name,
        "id": st.id,
        "statusCategory": status_category(base, api, st),
    })
}

pub fn issue_type(base: &str, api: Api, t: &IssueType) -> Value {
    json!({
        "self": format!("{}/issuetype/{}", api_base(base, api), t.id),
        "id": t.id,
        "description": t.description,
        "iconUrl": format!("{base}/secure/viewavatar?size=medium&avatarId={}&avatarType=issuetype", t.id),
        "name": t.name,
        "subtask": false,
        "hierarchyLevel": 0,
    })
}

pub fn priority(base: &str, api: Api, p: &Priority) -> Value {
    json!({
        "self": format!("{}/priority/{}", api_base(base, api), p.id),
        "statusColor": p.color,
        "description": p.description,
        "iconUrl": format!("{base}/images/icons/priorities/{}.svg", p.name.to_lowercase()),
        "name": p.name,
        "id": p.id,
        "isDefault": p.default,
    })
}

pub fn resolution(base: &str, api: Api, r: &Resolution) -> Value {
    json!({
        "self": format!("{}/resolution/{}", api_base(base, api), r.id),
        "id": r.id,
        "description": r.description,
        "name": r.name,
    })
}

pub fn component(base: &str, api: Api, project: &Project, c: &Component) -> Value {
    json!({
        "self": format!("{}/component/{}", api_base(base, api), c.id),
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "project": project.key,
        "projectId": project.id.parse::<u64>().unwrap_or(0),
        "assigneeType": "PROJECT_DEFAULT",
        "isAssigneeTypeValid": false,
    })
}

pub fn project_ref(base: &str, api: Api, p: &Project) -> Value {
    json!({
        "self": format!("{}/project/{}", api_base(base, api), p.id),
        "id": p.id,
        "key": p.key,
        "name": p.name,
        "projectTypeKey": "software",
        "simplified": false,
        "avatarUrls": avatars(base, "project", &p.id),
    })
}

/// `GET /project/{key}`.
pub fn project(base: &str, api: Api, state: &State, p: &Project) -> Value {
    let mut v = project_ref(base, api, p);
    if let Value::Object(m) = &mut v {
        m.insert("description".into(), json!(""));
        m.insert("lead".into(), user_by_id(base, api, state, Some(p.lead)));
        m.insert(
            "components".into(),
            Value::Array(
                p.components
                    .iter()
                    .map(|c| component(base, api, p, c))
                    .collect(),
            ),
        );
        m.insert(
            "issueTypes".into(),
            Value::Array(
                p.issue_types
                    .iter()
                    .filter_map(|t| state.issue_types.get(t))
                    .map(|t| issue_type(base, api, t))
                    .collect(),
            ),
        );
        m.insert("assigneeType".into(), json!("UNASSIGNED"));
        m.insert("versions".into(), json!([]));
        m.insert("roles".into(), json!({}));
        m.insert("style".into(), json!("classic"));
        m.insert("isPrivate".into(), json!(false));
    }
    v
}

pub fn link_type(base: &str, api: Api, t: &LinkType) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "inward": t.inward,
        "outward": t.outward,
        "self": format!("{}/issueLinkType/{}", api_base(base, api), t.id),
    })
}

/// A transition as `GET …/transitions` lists it.
pub fn transition(
    base: &str,
    api: Api,
    state: &State,
    t: &TransitionDef,
    with_fields: bool,
) -> Value {
    let to = state
        .status(&t.to)
        .map_or(Value::Null, |st| status(base, api, st));
    let mut v = json!({
        "id": t.id,
        "name": t.name,
        "to": to,
        "hasScreen": false,
        "isGlobal": t.from.is_none(),
        "isInitial": false,
        "isAvailable": true,
        "isConditional": false,
        "isLooped": false,
    });
    if with_fields && let Value::Object(m) = &mut v {
        m.insert("fields".into(), json!({}));
    }
    v
}

/// Rich text as the API shows it.
fn rich(api: Api, r: &super::text::Rich) -> Value {
    match api {
        Api::V3 => r.to_adf(),
        Api::V2 => Value::String(r.to_text()),
    }
}

pub fn comment(base: &str, api: Api, state: &State, c: &Comment) -> Value {
    let author = user_by_id(base, api, state, Some(c.author));
    json!({
        "self": format!("{}/issue/{}/comment/{}", api_base(base, api), c.issue_id, c.id),
        "id": c.id,
        "author": author,
        "body": rich(api, &c.body),
        "updateAuthor": author,
        "created": time(c.created),
        "updated": time(c.created),
        "jsdPublic": true,
    })
}

/// Which fields a request asked for (`fields=summary,status`, `*all`, `*navigable`, `-comment`).
#[derive(Clone, Debug)]
pub struct FieldFilter {
    all: bool,
    include: BTreeSet<String>,
    exclude: BTreeSet<String>,
}

impl FieldFilter {
    pub fn all() -> FieldFilter {
        FieldFilter {
            all: true,
            include: BTreeSet::new(),
            exclude: BTreeSet::new(),
        }
    }

    /// From the requested names; `default_all` when nothing was asked for.
    pub fn parse(requested: &[String], default_all: bool) -> FieldFilter {
        let mut f = FieldFilter {
            all: requested.is_empty() && default_all,
            include: BTreeSet::new(),
            exclude: BTreeSet::new(),
        };
        for r in requested {
            match r.as_str() {
                "*all" | "*navigable" => f.all = true,
                other => match other.strip_prefix('-') {
                    Some(x) => {
                        f.exclude.insert(x.to_owned());
                    }
                    None => {
                        f.include.insert(other.to_owned());
                    }
                },
            }
        }
        f
    }

    pub fn wants(&self, field: &str) -> bool {
        !self.exclude.contains(field) && (self.all || self.include.contains(field))
    }

    /// Only the id was asked for (`search/jql`'s default).
    pub fn id_only(&self) -> bool {
        !self.all && self.include.iter().all(|f| f == "id" || f == "key")
    }
}

/// An issue as `GET /issue/{key}` shows it, with only the fields asked for.
pub fn issue(base: &str, api: Api, state: &State, i: &Issue, filter: &FieldFilter) -> Value {
    let mut fields = Map::new();
    let mut put = |name: &str, value: Value| {
        if filter.wants(name) {
            fields.insert(name.to_owned(), value);
        }
    };
    let project = state.project_by_id(&i.project_id);
    put("summary", json!(i.summary));
    put(
        "description",
        i.description.as_ref().map_or(Value::Null, |d| rich(api, d)),
    );
    put(
        "issuetype",
        state
            .issue_types
            .get(&i.issue_type)
            .map_or(Value::Null, |t| issue_type(base, api, t)),
    );
    put(
        "project",
        project.map_or(Value::Null, |p| project_ref(base, api, p)),
    );
    put(
        "status",
        state
            .status(&i.status)
            .map_or(Value::Null, |st| status(base, api, st)),
    );
    put(
        "priority",
        state
            .priority(&i.priority)
            .map_or(Value::Null, |p| priority(base, api, p)),
    );
    put("labels", json!(i.labels));
    put(
        "components",
        Value::Array(
            i.components
                .iter()
                .filter_map(|c| {
                    let p = project?;
                    let comp = p.components.iter().find(|pc| pc.id == *c)?;
                    Some(json!({ "self": format!("{}/component/{}", api_base(base, api), comp.id), "id": comp.id, "name": comp.name }))
                })
                .collect(),
        ),
    );
    put(
        "duedate",
        i.duedate.map_or(Value::Null, |d| json!(d.to_string())),
    );
    put(
        "resolution",
        i.resolution
            .as_deref()
            .and_then(|r| state.resolution(r))
            .map_or(Value::Null, |r| resolution(base, api, r)),
    );
    put(
        "resolutiondate",
        i.resolution_date.map_or(Value::Null, |t| json!(time(t))),
    );
    put("created", json!(time(i.created)));
    put("updated", json!(time(i.updated)));
    put("reporter", user_by_id(base, api, state, Some(i.reporter)));
    put("creator", user_by_id(base, api, state, Some(i.creator)));
    put("assignee", user_by_id(base, api, state, i.assignee));
    put("issuelinks", Value::Array(links(base, api, state, i)));
    if filter.wants("comment") {
        let comments: Vec<Value> = state
            .comments_of(&i.id)
            .map(|c| comment(base, api, state, c))
            .collect();
        let total = comments.len();
        put(
            "comment",
            json!({ "comments": comments, "self": format!("{}/issue/{}/comment", api_base(base, api), i.id), "maxResults": total, "total": total, "startAt": 0 }),
        );
    }
    for (k, v) in &i.other {
        put(k, v.clone());
    }
    json!({
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": i.id,
        "self": format!("{}/issue/{}", api_base(base, api), i.id),
        "key": i.key,
        "fields": fields,
    })
}

/// An issue in another record (a link, a webhook's comment event): id, key and a few fields.
pub fn issue_stub(base: &str, api: Api, state: &State, i: &Issue) -> Value {
    json!({
        "id": i.id,
        "key": i.key,
        "self": format!("{}/issue/{}", api_base(base, api), i.id),
        "fields": {
            "summary": i.summary,
            "status": state.status(&i.status).map_or(Value::Null, |st| status(base, api, st)),
            "priority": state.priority(&i.priority).map_or(Value::Null, |p| priority(base, api, p)),
            "issuetype": state.issue_types.get(&i.issue_type).map_or(Value::Null, |t| issue_type(base, api, t)),
        },
    })
}

fn links(base: &str, api: Api, state: &State, i: &Issue) -> Vec<Value> {
    state
        .links_of(&i.id)
        .filter_map(|l| {
            let t = state.link_type(&l.type_id)?;
            let (side, other) = if l.source == i.id {
                ("outwardIssue", &l.target)
            } else {
                ("inwardIssue", &l.source)
            };
            let other = state.issues.get(other)?;
            let mut v = json!({
                "id": l.id,
                "self": format!("{}/issueLink/{}", api_base(base, api), l.id),
                "type": link_type(base, api, t),
            });
            if let Value::Object(m) = &mut v {
                m.insert(side.into(), issue_stub(base, api, state, other));
            }
            Some(v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_filters_follow_jira_rules() {
        let f = FieldFilter::parse(&["summary".into(), "status".into()], true);
        assert!(f.wants("summary") && !f.wants("description"));
        let f = FieldFilter::parse(&["*all".into(), "-comment".into()], false);
        assert!(f.wants("summary") && !f.wants("comment"));
        assert!(FieldFilter::parse(&[], true).wants("labels"));
        assert!(FieldFilter::parse(&[], false).id_only());
        assert_eq!(
            time(DateTime::from_timestamp(0, 0).unwrap_or_default()),
            "1970-01-01T00:00:00.000+0000"
        );
    }
}
