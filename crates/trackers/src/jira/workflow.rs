//! Moving an issue to the status a mapping names, through the project's workflow: Jira sets
//! statuses only by transitions, and transition ids are per workflow. The client reads the
//! issue's status with its available transitions and takes the shortest chain the workflow as
//! learned so far allows. When what it knows has no way, it explores: it takes a transition
//! to a status whose ways out it has not seen (in-progress ones first), reads them, and plans
//! again — and if the target turns out unreachable, it goes back to where the issue was. What
//! it learns is cached per project and issue type (reading another user's workflow needs
//! admin rights, so learning as it goes is the only way), and forgotten when Jira refuses a
//! cached transition.

use super::api::{Api, Status, Transition, segment};
use super::meta::{Cache, MAX_STEPS};
use crate::{RequestClass, TrackerError};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// Where an issue is: its status and the transitions the user may take from it.
#[derive(Clone, Debug)]
pub struct Here {
    pub status: Status,
    pub transitions: Vec<Transition>,
}

#[derive(Deserialize)]
struct IssueWithTransitions {
    fields: StatusField,
    #[serde(default)]
    transitions: Vec<Transition>,
}

#[derive(Deserialize)]
struct StatusField {
    status: Status,
}

/// What a move is about: the issue and its project's workflow.
pub struct Target<'a> {
    pub project: &'a str,
    pub issue_type: &'a str,
    pub key: &'a str,
}

/// `GET /issue/{key}?fields=status&expand=transitions`: the status and the ways out, in one read.
pub async fn read(api: &Api, cache: &Cache, t: &Target<'_>) -> Result<Here, TrackerError> {
    let path = format!("/issue/{}?fields=status&expand=transitions", segment(t.key));
    let i: IssueWithTransitions = api.get(&path, &format!("issue {}", t.key)).await?;
    cache.learn(t.project, t.issue_type, &i.fields.status, &i.transitions);
    Ok(Here {
        status: i.fields.status,
        transitions: i.transitions,
    })
}

/// `POST /issue/{key}/transitions`.
pub async fn take(api: &Api, key: &str, transition: &Transition) -> Result<(), TrackerError> {
    let url = api
        .rest(&format!("/issue/{}/transitions", segment(key)))
        .await?;
    let what = format!("the transition \"{}\" of issue {key}", transition.name);
    api.send(
        Method::POST,
        url,
        Some(&json!({ "transition": { "id": transition.id } })),
        RequestClass::Write,
        &what,
    )
    .await?;
    Ok(())
}

fn stale(e: &TrackerError) -> bool {
    matches!(e, TrackerError::Rejected(m) if m.contains("is not valid for this issue"))
}

fn no_path(project: &str, from: &str, target: &str) -> TrackerError {
    TrackerError::Misconfigured(format!(
        "no transition leads from \"{from}\" to \"{target}\" in project {project}'s workflow (vulnbridge follows at most {MAX_STEPS} transitions)"
    ))
}

/// Checks that the target is a status of the issue type's workflow.
pub async fn check_target(
    api: &Api,
    cache: &Cache,
    t: &Target<'_>,
    target: &str,
) -> Result<(), TrackerError> {
    let statuses = cache.type_statuses(api, t.project, t.issue_type).await?;
    if statuses.is_empty()
        || statuses
            .iter()
            .any(|s| s.name.eq_ignore_ascii_case(target.trim()))
    {
        return Ok(());
    }
    let names: Vec<&str> = statuses.iter().map(|s| s.name.as_str()).collect();
    Err(TrackerError::Misconfigured(format!(
        "\"{target}\" is not a status of {} issues in project {} (the workflow has {})",
        t.issue_type,
        t.project,
        names.join(", ")
    )))
}

/// Moves the issue to `target`. `at` is its status when known (a new issue's initial one);
/// otherwise it is read. A stale cache is forgotten and the move tried once more.
pub async fn move_to(
    api: &Api,
    cache: &Cache,
    t: &Target<'_>,
    at: Option<Status>,
    target: &str,
) -> Result<(), TrackerError> {
    check_target(api, cache, t, target).await?;
    match attempt(api, cache, t, at, target).await {
        Err(e) if stale(&e) => {
            cache.forget(t.project, t.issue_type);
            attempt(api, cache, t, None, target).await
        }
        other => other,
    }
}

async fn attempt(
    api: &Api,
    cache: &Cache,
    t: &Target<'_>,
    at: Option<Status>,
    target: &str,
) -> Result<(), TrackerError> {
    let known = at.and_then(|s| {
        cache
            .graph(t.project, t.issue_type)
            .from(&s.name)
            .map(|tr| Here {
                status: s.clone(),
                transitions: tr.clone(),
            })
    });
    let here = match known {
        Some(h) => h,
        None => read(api, cache, t).await?,
    };
    if here.status.name.eq_ignore_ascii_case(target.trim()) {
        return Ok(());
    }
    if let Some(direct) = here
        .transitions
        .iter()
        .find(|x| x.to.name.eq_ignore_ascii_case(target.trim()))
    {
        return take(api, t.key, direct).await;
    }
    let target = target.trim();
    let origin = here.status.name.clone();
    let mut here = here;
    let mut steps = 0;
    let mut visited: Vec<String> = vec![origin.to_lowercase()];
    loop {
        let graph = cache.graph(t.project, t.issue_type);
        if let Some(path) = graph.path(&here.status.name, target) {
            for step in &path {
                take(api, t.key, step).await?;
            }
            return Ok(());
        }
        // Explore: go to the nearest status whose ways out are unknown and read them.
        let next = graph.path_to_unexplored(&here.status.name, &visited).filter(|p| steps + p.len() <= MAX_STEPS);
        let Some(chain) = next else {
            // Nothing left to learn: put the issue back where it was.
            if let Some(back) = graph.path(&here.status.name, &origin) {
                for step in &back {
                    take(api, t.key, step).await?;
                }
            }
            return Err(no_path(t.project, &origin, target));
        };
        for step in &chain {
            take(api, t.key, step).await?;
            steps += 1;
        }
        here = read(api, cache, t).await?;
        visited.push(here.status.name.to_lowercase());
    }
}

