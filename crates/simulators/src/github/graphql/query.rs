//! Field resolution for the query side: owners, repositories, issues, projects, fields,
//! options, items and their values, connections, the rate limit.

use super::super::ops;
use super::super::render::time;
use super::super::state::{ItemValue, Project, repo_key};
use super::Gql;
use super::objects::{Obj, Payload, connection};
use crate::common::graphql::{FieldCall, GqlError, Out};
use serde_json::Value as Json;

fn v(x: impl Into<Json>) -> Out<Obj> {
    Out::Value(x.into())
}

pub fn not_found(message: String) -> GqlError {
    GqlError::new(message).kind("NOT_FOUND")
}

/// The project's node id if the caller may see it.
fn visible_project(g: &Gql<'_, '_>, p: &Project) -> bool {
    g.tx.st.project_role(p, &g.caller.login).is_some()
}

impl Gql<'_, '_> {
    fn owner_obj(&self, login: &str) -> Option<Obj> {
        if self.tx.st.org(login).is_some() {
            Some(Obj::Org(login.to_ascii_lowercase()))
        } else if self.tx.st.user(login).is_some() {
            Some(Obj::User(login.to_ascii_lowercase()))
        } else {
            None
        }
    }

    fn repository(&self, owner: &str, name: &str) -> Result<Out<Obj>, GqlError> {
        let key = repo_key(owner, name);
        if ops::role(self.tx.st, &self.caller, &key).is_some() {
            Ok(Out::Object(Obj::Repo(key)))
        } else {
            Err(not_found(format!(
                "Could not resolve to a Repository with the name '{owner}/{name}'."
            )))
        }
    }

    fn project_of(&self, owner: &str, number: i64) -> Result<Out<Obj>, GqlError> {
        let found = u32::try_from(number)
            .ok()
            .and_then(|n| self.tx.st.project(owner, n))
            .filter(|p| visible_project(self, p));
        match found {
            Some(p) => Ok(Out::Object(Obj::Project(p.node_id.clone()))),
            None => Err(not_found(format!(
                "Could not resolve to a ProjectV2 with the number {number}."
            ))),
        }
    }

    /// The object a global node id names, if the caller may see it.
    pub fn node(&self, id: &str) -> Option<Obj> {
        let st = &*self.tx.st;
        if let Some(u) = st.users.values().find(|u| u.node_id == id) {
            return Some(Obj::User(u.login.to_ascii_lowercase()));
        }
        if let Some(o) = st.orgs.values().find(|o| o.node_id == id) {
            return Some(Obj::Org(o.login.to_ascii_lowercase()));
        }
        if let Some((k, _)) = st.repos.iter().find(|(_, r)| r.node_id == id) {
            return ops::role(st, &self.caller, k).map(|_| Obj::Repo(k.clone()));
        }
        if let Some((k, n)) = st.issue_by_node(id) {
            return ops::role(st, &self.caller, &k).map(|_| Obj::Issue(k, n));
        }
        for p in st.projects.iter().filter(|p| visible_project(self, p)) {
            if p.node_id == id {
                return Some(Obj::Project(p.node_id.clone()));
            }
            if let Some(f) = p.field_by_node(id) {
                return Some(Obj::Field(p.node_id.clone(), f.node_id.clone()));
            }
            if let Some(i) = p.item_by_node(id) {
                return Some(Obj::Item(p.node_id.clone(), i.node_id.clone()));
            }
        }
        None
    }

    fn project(&self, node: &str) -> Option<&Project> {
        self.tx
            .st
            .project_by_node(node)
            .map(|i| &self.tx.st.projects[i])
    }

    pub fn resolve_query(&mut self, obj: &Obj, call: &FieldCall<'_>) -> Result<Out<Obj>, GqlError> {
        let st = &*self.tx.st;
        let base = self.tx.base;
        let arg = |k: &str| call.arg_str(k).unwrap_or_default().to_owned();
        match (obj, call.name) {
            (Obj::Query, "viewer") => Ok(Out::Object(Obj::User(self.caller.key()))),
            (Obj::Query, "organization") => match st.org(&arg("login")) {
                Some(o) => Ok(Out::Object(Obj::Org(o.login.to_ascii_lowercase()))),
                None => Err(not_found(format!(
                    "Could not resolve to an Organization with the login of '{}'.",
                    arg("login")
                ))),
            },
            (Obj::Query, "user") => match st.user(&arg("login")) {
                Some(u) => Ok(Out::Object(Obj::User(u.login.to_ascii_lowercase()))),
                None => Err(not_found(format!(
                    "Could not resolve to a User with the login of '{}'.",
                    arg("login")
                ))),
            },
            (Obj::Query, "repositoryOwner") => Ok(self
                .owner_obj(&arg("login"))
                .map(Out::Object)
                .unwrap_or(Out::Null)),
            (Obj::Query, "repository") => self.repository(&arg("owner"), &arg("name")),
            (Obj::Query, "node") => {
                let id = arg("id");
                self.node(&id).map(Out::Object).ok_or_else(|| {
                    not_found(format!(
                        "Could not resolve to a node with the global id of '{id}'"
                    ))
                })
            }
            (Obj::Query, "nodes") => {
                let ids: Vec<String> = call
                    .args
                    .get("ids")
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Out::List(
                    ids.iter()
                        .map(|id| self.node(id).map(Out::Object).unwrap_or(Out::Null))
                        .collect(),
                ))
            }
            (Obj::Query, "rateLimit") => Ok(Out::Object(Obj::RateLimit {
                cost: self.cost,
                node_count: self.node_count,
            })),
            (Obj::RateLimit { cost, node_count }, f) => {
                let h = &self.rate;
                Ok(match f {
                    "cost" => v(*cost),
                    "limit" => v(h.limit),
                    "nodeCount" => v(*node_count),
                    "remaining" => v(h.remaining),
                    "used" => v(h.used),
                    _ => v(chrono::DateTime::from_timestamp(h.reset, 0)
                        .map(time)
                        .unwrap_or_default()),
                })
            }
            (Obj::Org(l) | Obj::User(l), f) => {
                let is_org = matches!(obj, Obj::Org(_));
                let (id, login, node_id) = match (st.org(l), st.user(l)) {
                    (Some(o), _) if is_org => (o.id, o.login.clone(), o.node_id.clone()),
                    (_, Some(u)) => (u.id, u.login.clone(), u.node_id.clone()),
                    _ => return Ok(Out::Null),
                };
                match f {
                    "id" => Ok(v(node_id)),
                    "databaseId" => Ok(v(id)),
                    "login" => Ok(v(login)),
                    "name" => Ok(Out::Null),
                    "url" => Ok(v(format!("{base}/{login}"))),
                    "projectV2" => self.project_of(l, call.arg_i64("number").unwrap_or_default()),
                    "repository" => self.repository(l, &arg("name")),
                    "viewerCanAdminister" => Ok(v(st.is_org_owner(l, &self.caller.login))),
                    "viewerIsAMember" => Ok(v(st.org_role(l, &self.caller.login).is_some())),
                    _ => Ok(Out::Null),
                }
            }
            (Obj::Repo(k), f) => {
                let Some(r) = st.repo(k) else {
                    return Ok(Out::Null);
                };
                Ok(match f {
                    "id" => v(r.node_id.clone()),
                    "databaseId" => v(r.id),
                    "name" => v(r.name.clone()),
                    "nameWithOwner" => v(r.full_name()),
                    "url" => v(format!("{base}/{}", r.full_name())),
                    "hasIssuesEnabled" => v(r.has_issues),
                    "isPrivate" => v(r.private),
                    "owner" => self
                        .owner_obj(&r.owner)
                        .map(Out::Object)
                        .unwrap_or(Out::Null),
                    "viewerPermission" => st
                        .permission(k, &self.caller.login)
                        .map(|p| v(p.graphql()))
                        .unwrap_or(Out::Null),
                    "issue" => {
                        let n = call.arg_i64("number").unwrap_or_default();
                        match u64::try_from(n).ok().and_then(|n| r.issue(n)) {
                            Some(i) => Out::Object(Obj::Issue(k.clone(), i.number)),
                            None => {
                                return Err(not_found(format!(
                                    "Could not resolve to an Issue with the number of {n}."
                                )));
                            }
                        }
                    }
                    _ => Out::Null,
                })
            }
            (Obj::Issue(k, n), f) => {
                let Some(r) = st.repo(k) else {
                    return Ok(Out::Null);
                };
                let Some(i) = r.issue(*n) else {
                    return Ok(Out::Null);
                };
                Ok(match f {
                    "id" => v(i.node_id.clone()),
                    "databaseId" => v(i.id),
                    "number" => v(i.number),
                    "title" => v(i.title.clone()),
                    "body" => v(i.body.clone().unwrap_or_default()),
                    "closed" => v(!i.open),
                    "state" => v(if i.open { "OPEN" } else { "CLOSED" }),
                    "stateReason" => match i.state_reason.as_deref() {
                        None => Out::Null,
                        Some("duplicate")
                            if !call
                                .args
                                .get("enableDuplicate")
                                .and_then(Json::as_bool)
                                .unwrap_or(false) =>
                        {
                            v("NOT_PLANNED")
                        }
                        Some(s) => v(s.to_ascii_uppercase()),
                    },
                    "url" => v(format!("{base}/{}/issues/{}", r.full_name(), i.number)),
                    "createdAt" => v(time(i.created_at)),
                    "updatedAt" => v(time(i.updated_at)),
                    "repository" => Out::Object(Obj::Repo(k.clone())),
                    "projectItems" => {
                        let items: Vec<Obj> = st
                            .projects
                            .iter()
                            .filter(|p| visible_project(self, p))
                            .filter_map(|p| {
                                p.item_for_content(&i.node_id)
                                    .map(|it| Obj::Item(p.node_id.clone(), it.node_id.clone()))
                            })
                            .collect();
                        Out::Object(connection("ProjectV2ItemConnection", items, call.args)?)
                    }
                    _ => Out::Null,
                })
            }
            (Obj::Project(node), f) => {
                let Some(p) = self.project(node) else {
                    return Ok(Out::Null);
                };
                let kind = if st.org(&p.owner).is_some() {
                    "orgs"
                } else {
                    "users"
                };
                Ok(match f {
                    "id" => v(p.node_id.clone()),
                    "databaseId" => v(p.id),
                    "number" => v(p.number),
                    "title" => v(p.title.clone()),
                    "url" => v(format!(
                        "{base}/{kind}/{}/projects/{}",
                        st.display_login(&p.owner),
                        p.number
                    )),
                    "closed" | "public" => v(false),
                    "shortDescription" => Out::Null,
                    "createdAt" => v(time(p.created_at)),
                    "updatedAt" => v(time(p.updated_at)),
                    "owner" => self
                        .owner_obj(&p.owner)
                        .map(Out::Object)
                        .unwrap_or(Out::Null),
                    "viewerCanUpdate" => v(st
                        .project_role(p, &self.caller.login)
                        .is_some_and(|r| r >= super::super::state::Perm::Write)),
                    "field" => p
                        .field_by_name(&arg("name"))
                        .map(|f| Out::Object(Obj::Field(p.node_id.clone(), f.node_id.clone())))
                        .unwrap_or(Out::Null),
                    "fields" => {
                        let all = p
                            .fields
                            .iter()
                            .map(|f| Obj::Field(p.node_id.clone(), f.node_id.clone()))
                            .collect();
                        Out::Object(connection(
                            "ProjectV2FieldConfigurationConnection",
                            all,
                            call.args,
                        )?)
                    }
                    "items" => {
                        let all = p
                            .items
                            .iter()
                            .map(|i| Obj::Item(p.node_id.clone(), i.node_id.clone()))
                            .collect();
                        Out::Object(connection("ProjectV2ItemConnection", all, call.args)?)
                    }
                    _ => Out::Null,
                })
            }
            (Obj::Field(pn, fnode), f) => {
                let Some(p) = self.project(pn) else {
                    return Ok(Out::Null);
                };
                let Some(fd) = p.field_by_node(fnode) else {
                    return Ok(Out::Null);
                };
                Ok(match f {
                    "id" => v(fd.node_id.clone()),
                    "databaseId" => v(fd.id),
                    "name" => v(fd.name.clone()),
                    "dataType" => v(fd.data_type.clone()),
                    "createdAt" | "updatedAt" => v(time(fd.created_at)),
                    "project" => Out::Object(Obj::Project(pn.clone())),
                    "options" => {
                        let names: Option<Vec<String>> =
                            call.args.get("names").and_then(Json::as_array).map(|a| {
                                a.iter()
                                    .filter_map(|x| x.as_str().map(str::to_owned))
                                    .collect()
                            });
                        Out::List(
                            fd.options
                                .iter()
                                .filter(|o| names.as_ref().is_none_or(|n| n.contains(&o.name)))
                                .map(|o| {
                                    Out::Object(Obj::Opt(pn.clone(), fnode.clone(), o.id.clone()))
                                })
                                .collect(),
                        )
                    }
                    _ => Out::Null,
                })
            }
            (Obj::Opt(pn, fnode, oid), f) => {
                let o = self
                    .project(pn)
                    .and_then(|p| p.field_by_node(fnode))
                    .and_then(|fd| fd.options.iter().find(|o| o.id == *oid));
                let Some(o) = o else { return Ok(Out::Null) };
                Ok(match f {
                    "id" => v(o.id.clone()),
                    "name" | "nameHTML" => v(o.name.clone()),
                    "color" => v(o.color.clone()),
                    _ => v(o.description.clone()),
                })
            }
            (Obj::Item(pn, inode), f) => {
                let Some(p) = self.project(pn) else {
                    return Ok(Out::Null);
                };
                let Some(it) = p.item_by_node(inode) else {
                    return Ok(Out::Null);
                };
                Ok(match f {
                    "id" => v(it.node_id.clone()),
                    "databaseId" => v(it.id),
                    "type" => v("ISSUE"),
                    "isArchived" => v(false),
                    "createdAt" => v(time(it.created_at)),
                    "updatedAt" => v(time(it.updated_at)),
                    "project" => Out::Object(Obj::Project(pn.clone())),
                    "content" => match st.issue_by_node(&it.content) {
                        Some((k, n)) if ops::role(st, &self.caller, &k).is_some() => {
                            Out::Object(Obj::Issue(k, n))
                        }
                        _ => Out::Null,
                    },
                    "fieldValueByName" => p
                        .field_by_name(&arg("name"))
                        .filter(|fd| it.values.contains_key(&fd.node_id))
                        .map(|fd| {
                            Out::Object(Obj::Value(pn.clone(), inode.clone(), fd.node_id.clone()))
                        })
                        .unwrap_or(Out::Null),
                    "fieldValues" => {
                        let all = p
                            .fields
                            .iter()
                            .filter(|fd| it.values.contains_key(&fd.node_id))
                            .map(|fd| Obj::Value(pn.clone(), inode.clone(), fd.node_id.clone()))
                            .collect();
                        Out::Object(connection(
                            "ProjectV2ItemFieldValueConnection",
                            all,
                            call.args,
                        )?)
                    }
                    _ => Out::Null,
                })
            }
            (Obj::Value(pn, inode, fnode), f) => {
                let Some(p) = self.project(pn) else {
                    return Ok(Out::Null);
                };
                let (Some(it), Some(fd)) = (p.item_by_node(inode), p.field_by_node(fnode)) else {
                    return Ok(Out::Null);
                };
                let Some(val) = it.values.get(fnode) else {
                    return Ok(Out::Null);
                };
                let opt = match val {
                    ItemValue::Option(id) => fd.options.iter().find(|o| o.id == *id),
                    _ => None,
                };
                Ok(match f {
                    "id" => v(format!("PVTFSV_lQ{}{}", it.id, fd.id)),
                    "databaseId" => Out::Null,
                    "createdAt" | "updatedAt" => v(time(it.updated_at)),
                    "field" => Out::Object(Obj::Field(pn.clone(), fnode.clone())),
                    "item" => Out::Object(Obj::Item(pn.clone(), inode.clone())),
                    "text" => match val {
                        ItemValue::Text(t) => v(t.clone()),
                        _ => Out::Null,
                    },
                    "number" => match val {
                        ItemValue::Number(n) => v(*n),
                        _ => Out::Null,
                    },
                    "date" => match val {
                        ItemValue::Date(d) => v(d.clone()),
                        _ => Out::Null,
                    },
                    "optionId" => opt.map(|o| v(o.id.clone())).unwrap_or(Out::Null),
                    "name" | "nameHTML" => opt.map(|o| v(o.name.clone())).unwrap_or(Out::Null),
                    "color" => opt.map(|o| v(o.color.clone())).unwrap_or(v("GRAY")),
                    "description" | "descriptionHTML" => {
                        opt.map(|o| v(o.description.clone())).unwrap_or(Out::Null)
                    }
                    _ => Out::Null,
                })
            }
            (Obj::Conn(c), f) => Ok(match f {
                "totalCount" => v(c.total),
                "nodes" => Out::List(c.nodes.iter().cloned().map(Out::Object).collect()),
                "edges" => {
                    let edge_type = c.type_name.replace("Connection", "Edge");
                    Out::List(
                        c.nodes
                            .iter()
                            .zip(&c.cursors)
                            .map(|(n, cur)| {
                                Out::Object(Obj::Edge {
                                    type_name: edge_type.clone(),
                                    node: Box::new(n.clone()),
                                    cursor: cur.clone(),
                                })
                            })
                            .collect(),
                    )
                }
                _ => Out::Object(Obj::PageInfo {
                    has_next: c.has_next,
                    has_prev: c.has_prev,
                    start: c.cursors.first().cloned(),
                    end: c.cursors.last().cloned(),
                }),
            }),
            (
                Obj::Edge {
                    node, cursor: cur, ..
                },
                f,
            ) => Ok(match f {
                "cursor" => v(cur.clone()),
                _ => Out::Object((**node).clone()),
            }),
            (
                Obj::PageInfo {
                    has_next,
                    has_prev,
                    start,
                    end,
                },
                f,
            ) => Ok(match f {
                "hasNextPage" => v(*has_next),
                "hasPreviousPage" => v(*has_prev),
                "startCursor" => start.clone().map(v).unwrap_or(Out::Null),
                _ => end.clone().map(v).unwrap_or(Out::Null),
            }),
            (Obj::Payload(p), f) => Ok(payload_field(p, f)),
            _ => Ok(Out::Null),
        }
    }
}

fn payload_field(p: &Payload, f: &str) -> Out<Obj> {
    match f {
        "clientMutationId" => p.client_mutation_id.clone().map(v).unwrap_or(Out::Null),
        "item" | "projectV2Item" => p.item.clone().map(Out::Object).unwrap_or(Out::Null),
        "deletedItemId" => p.deleted_item_id.clone().map(v).unwrap_or(Out::Null),
        "repository" => p
            .repository
            .clone()
            .map(|k| Out::Object(Obj::Repo(k)))
            .unwrap_or(Out::Null),
        _ => Out::Null,
    }
}
