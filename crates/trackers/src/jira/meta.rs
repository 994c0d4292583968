//! What the client reads once and keeps: each project's issue types and components, its
//! statuses per issue type, the site's priorities and link types, and the workflow as learned
//! issue by issue (which transitions leave each status, and where new issues start). A cached
//! transition that Jira refuses makes the client forget that workflow and read it again.

use super::api::{Api, Named, Status, Transition, segment};
use crate::TrackerError;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// `GET /project/{key}`.
#[derive(Clone, Debug, Deserialize)]
pub struct ProjectInfo {
    pub key: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "issueTypes")]
    pub issue_types: Vec<Named>,
    #[serde(default)]
    pub components: Vec<Named>,
}

impl ProjectInfo {
    pub fn issue_type(&self, name: &str) -> Option<&Named> {
        self.issue_types
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
    }
}

/// One issue type's statuses (`GET /project/{key}/statuses`).
#[derive(Clone, Debug, Deserialize)]
pub struct TypeStatuses {
    pub name: String,
    #[serde(default)]
    pub statuses: Vec<Status>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LinkType {
    pub name: String,
}

#[derive(Deserialize)]
struct LinkTypes {
    #[serde(rename = "issueLinkTypes", default)]
    types: Vec<LinkType>,
}

#[derive(Deserialize)]
struct PriorityPage {
    #[serde(default)]
    values: Vec<Named>,
    #[serde(rename = "isLast", default = "yes")]
    is_last: bool,
}

fn yes() -> bool {
    true
}

/// A workflow as learned: transitions leaving each status (by lower-case name), and the status
/// new issues start in.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub initial: Option<Status>,
    pub edges: HashMap<String, Vec<Transition>>,
}

impl Graph {
    pub fn from(&self, status: &str) -> Option<&Vec<Transition>> {
        self.edges.get(&status.to_lowercase())
    }

    /// The shortest chain of known transitions from `from` to `target` (none needed when
    /// already there), at most `MAX_STEPS` long; `None` when what was learned has no way.
    pub fn path(&self, from: &str, target: &str) -> Option<Vec<Transition>> {
        if from.eq_ignore_ascii_case(target) {
            return Some(Vec::new());
        }
        self.search(from, |t| t.to.name.eq_ignore_ascii_case(target))
    }

    /// The shortest known chain from `from` to a status whose ways out are not known yet (and
    /// not in `skip`), preferring in-progress statuses at equal distance: where exploring the
    /// workflow goes next.
    pub fn path_to_unexplored(&self, from: &str, skip: &[String]) -> Option<Vec<Transition>> {
        for rank in 0..3 {
            let found = self.search(from, |t| {
                let name = t.to.name.to_lowercase();
                !self.edges.contains_key(&name) && !skip.contains(&name) && category_rank(&t.to) == rank
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// Breadth first over known transitions by status (lower-case names): the shortest chain,
    /// at most `MAX_STEPS` long, ending with a transition `goal` accepts.
    fn search(&self, from: &str, goal: impl Fn(&Transition) -> bool) -> Option<Vec<Transition>> {
        let start = from.to_lowercase();
        let mut came_from: HashMap<String, (String, Transition)> = HashMap::new();
        let mut frontier = vec![start.clone()];
        for _ in 0..MAX_STEPS {
            let mut next = Vec::new();
            for status in &frontier {
                for t in self.edges.get(status).into_iter().flatten() {
                    let to = t.to.name.to_lowercase();
                    if to == start || came_from.contains_key(&to) {
                        continue;
                    }
                    came_from.insert(to.clone(), (status.clone(), t.clone()));
                    if goal(t) {
                        let mut path = Vec::new();
                        let mut at = to;
                        while let Some((prev, t)) = came_from.get(&at) {
                            path.push(t.clone());
                            at = prev.clone();
                        }
                        path.reverse();
                        return Some(path);
                    }
                    next.push(to);
                }
            }
            frontier = next;
        }
        None
    }
}

/// In-progress statuses first, then new ones, then done ones (which rarely lead on).
fn category_rank(s: &Status) -> u8 {
    match s.category.as_ref().map(|c| c.key.as_str()) {
        Some("indeterminate") => 0,
        Some("new") => 1,
        _ => 2,
    }
}

/// The longest chain of transitions vulnbridge takes to reach a status. Real workflows reach
/// any status in a handful; a longer chain means the mapping names the wrong status.
pub const MAX_STEPS: usize = 6;

/// The client's caches. Each lock is held only to copy in or out.
#[derive(Debug, Default)]
pub struct Cache {
    projects: Mutex<HashMap<String, Arc<ProjectInfo>>>,
    statuses: Mutex<HashMap<String, Arc<Vec<TypeStatuses>>>>,
    priorities: Mutex<Option<Arc<Vec<Named>>>>,
    link_types: Mutex<Option<Arc<Vec<LinkType>>>>,
    graphs: Mutex<HashMap<(String, String), Graph>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn graph_key(project: &str, issue_type: &str) -> (String, String) {
    (
        project.trim().to_uppercase(),
        issue_type.trim().to_lowercase(),
    )
}

impl Cache {
    /// The project, read once. `NotFound` names the project and who cannot see it.
    pub async fn project(&self, api: &Api, key: &str) -> Result<Arc<ProjectInfo>, TrackerError> {
        let k = key.trim().to_uppercase();
        if let Some(p) = lock(&self.projects).get(&k) {
            return Ok(p.clone());
        }
        let p: ProjectInfo = api
            .get(
                &format!("/project/{}", segment(&k)),
                &format!("Jira project {k}"),
            )
            .await?;
        let p = Arc::new(p);
        lock(&self.projects).insert(k, p.clone());
        Ok(p)
    }

    /// The project's statuses per issue type, read once.
    pub async fn statuses(
        &self,
        api: &Api,
        key: &str,
    ) -> Result<Arc<Vec<TypeStatuses>>, TrackerError> {
        let k = key.trim().to_uppercase();
        if let Some(s) = lock(&self.statuses).get(&k) {
            return Ok(s.clone());
        }
        let s: Vec<TypeStatuses> = api
            .get(
                &format!("/project/{}/statuses", segment(&k)),
                &format!("the statuses of Jira project {k}"),
            )
            .await?;
        let s = Arc::new(s);
        lock(&self.statuses).insert(k, s.clone());
        Ok(s)
    }

    /// The statuses an issue type's workflow has.
    pub async fn type_statuses(
        &self,
        api: &Api,
        key: &str,
        issue_type: &str,
    ) -> Result<Vec<Status>, TrackerError> {
        let all = self.statuses(api, key).await?;
        Ok(all
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(issue_type.trim()))
            .map(|t| t.statuses.clone())
            .unwrap_or_default())
    }

    /// The site's priorities: Cloud pages them (`/priority/search`), Data Center lists them.
    pub async fn priorities(&self, api: &Api) -> Result<Arc<Vec<Named>>, TrackerError> {
        if let Some(p) = lock(&self.priorities).clone() {
            return Ok(p);
        }
        let list = match api.flavour() {
            super::api::Flavour::DataCenter => {
                api.get::<Vec<Named>>("/priority", "the priorities").await?
            }
            super::api::Flavour::Cloud => {
                let mut all = Vec::new();
                // A site has a handful of priorities; the page cap guards against a loop.
                for page in 0..20 {
                    let p: PriorityPage = api
                        .get(
                            &format!("/priority/search?startAt={}&maxResults=50", page * 50),
                            "the priorities",
                        )
                        .await?;
                    let n = p.values.len();
                    all.extend(p.values);
                    if p.is_last || n == 0 {
                        break;
                    }
                }
                all
            }
        };
        let list = Arc::new(list);
        *lock(&self.priorities) = Some(list.clone());
        Ok(list)
    }

    pub async fn link_types(&self, api: &Api) -> Result<Arc<Vec<LinkType>>, TrackerError> {
        if let Some(t) = lock(&self.link_types).clone() {
            return Ok(t);
        }
        let t: LinkTypes = api.get("/issueLinkType", "the issue link types").await?;
        let t = Arc::new(t.types);
        *lock(&self.link_types) = Some(t.clone());
        Ok(t)
    }

    pub fn graph(&self, project: &str, issue_type: &str) -> Graph {
        lock(&self.graphs)
            .get(&graph_key(project, issue_type))
            .cloned()
            .unwrap_or_default()
    }

    /// Records the transitions leaving a status.
    pub fn learn(
        &self,
        project: &str,
        issue_type: &str,
        status: &Status,
        transitions: &[Transition],
    ) {
        lock(&self.graphs)
            .entry(graph_key(project, issue_type))
            .or_default()
            .edges
            .insert(status.name.to_lowercase(), transitions.to_vec());
    }

    pub fn learn_initial(&self, project: &str, issue_type: &str, status: &Status) {
        lock(&self.graphs)
            .entry(graph_key(project, issue_type))
            .or_default()
            .initial = Some(status.clone());
    }

    /// Forgets a workflow (Jira refused a transition the cache offered: it changed).
    pub fn forget(&self, project: &str, issue_type: &str) {
        lock(&self.graphs).remove(&graph_key(project, issue_type));
        lock(&self.statuses).remove(&project.trim().to_uppercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(name: &str) -> Status {
        Status {
            id: name.into(),
            name: name.into(),
            category: None,
        }
    }

    fn tr(id: &str, to: &str) -> Transition {
        Transition {
            id: id.into(),
            name: to.into(),
            to: st(to),
        }
    }

    #[test]
    fn the_shortest_path_comes_from_what_was_learned() {
        let c = Cache::default();
        c.learn(
            "SEC",
            "Bug",
            &st("To Do"),
            &[tr("21", "In Progress"), tr("41", "Won't Do")],
        );
        let g = c.graph("sec", "bug");
        assert_eq!(g.path("To Do", "to do"), Some(Vec::new()));
        assert_eq!(g.path("To Do", "Won't Do").map(|p| p.len()), Some(1));
        assert_eq!(
            g.path("To Do", "Done"),
            None,
            "In Progress is not known yet"
        );
        c.learn(
            "SEC",
            "Bug",
            &st("In Progress"),
            &[tr("31", "Done"), tr("11", "To Do")],
        );
        let ids: Option<Vec<String>> = c
            .graph("SEC", "Bug")
            .path("To Do", "Done")
            .map(|p| p.into_iter().map(|t| t.id).collect());
        assert_eq!(ids, Some(vec!["21".to_owned(), "31".to_owned()]));
        // Exploring from Won't Do when only To Do and Won't Do are known: through To Do to
        // In Progress, whose ways out are unknown.
        let explore = Cache::default();
        explore.learn("SEC", "Bug", &st("To Do"), &[tr("21", "In Progress"), tr("41", "Won't Do")]);
        explore.learn("SEC", "Bug", &st("Won't Do"), &[tr("51", "To Do")]);
        let ids: Option<Vec<String>> =
            explore.graph("SEC", "Bug").path_to_unexplored("Won't Do", &[]).map(|p| p.into_iter().map(|t| t.id).collect());
        assert_eq!(ids, Some(vec!["51".to_owned(), "21".to_owned()]));
        assert_eq!(explore.graph("SEC", "Bug").path_to_unexplored("Won't Do", &["in progress".to_owned()]), None);
        // Won't Do → To Do → In Progress → Done: three, once Won't Do's way out is known.
        assert_eq!(c.graph("SEC", "Bug").path("Won't Do", "Done"), None);
        c.learn("SEC", "Bug", &st("Won't Do"), &[tr("51", "To Do")]);
        let ids: Option<Vec<String>> = c
            .graph("SEC", "Bug")
            .path("won't do", "Done")
            .map(|p| p.into_iter().map(|t| t.id).collect());
        assert_eq!(ids, Some(vec!["51".to_owned(), "21".to_owned(), "31".to_owned()]));
        c.forget("SEC", "Bug");
        assert!(c.graph("SEC", "Bug").edges.is_empty());
    }
}
