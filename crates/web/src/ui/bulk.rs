//! Bulk actions on the findings list: "Push to Integrators" for the selected findings, through
//! the API's push (`api::push::queue`), and setting their status, through the API's change of
//! a finding (`api::findings::change`), and grouping them (`api::groups::create_group`): the
//! same visibility and writer-role checks, history and ticket updates as the API.

use super::error::{UiError, UiResult, render};
use super::layout::Layout;
use super::session::{CurrentUser, safe_next};
use crate::api;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use domain::tracker::Subject;
use domain::{Actor, FindingId, FindingPatch, Role, Status};

/// True if the actor may push anything at all (writer somewhere), so the list offers it.
pub fn can_push_any(actor: &Actor) -> bool {
    actor.global_role.is_some_and(|r| r >= Role::Writer) || actor.product_roles.values().any(|r| *r >= Role::Writer)
}

/// What the selection form sends: `finding` once per ticked row, the list to go back to, and
/// the status to set or the group name (for those actions).
#[derive(Debug, PartialEq)]
pub struct Selection {
    pub findings: Vec<FindingId>,
    pub back: String,
    pub status: String,
    pub group: String,
}

/// Parses the selection form; a malformed id is named, an empty or oversized selection refused.
pub fn selection(body: &[u8]) -> Result<Selection, String> {
    let mut findings = Vec::new();
    let mut back = "/findings".to_owned();
    let mut status = String::new();
    let mut group = String::new();
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "finding" => match v.trim().parse::<i64>() {
                Ok(n) if n > 0 => findings.push(FindingId(n)),
                _ => return Err(format!("'{v}' is not a finding id")),
            },
            "status" => status = v.trim().to_owned(),
            "group" => group = v.trim().to_owned(),
            "back" => {
                if let Some(b) = safe_next(&v).filter(|b| b.starts_with("/findings")) {
                    back = b;
                }
            }
            _ => {}
        }
    }
    findings.sort();
    findings.dedup();
    if findings.is_empty() {
        return Err("Select at least one finding.".into());
    }
    if findings.len() > api::push::MAX_SUBJECTS {
        return Err(format!("Select at most {} findings at once.", api::push::MAX_SUBJECTS));
    }
    Ok(Selection { findings, back, status, group })
}

#[derive(Template)]
#[template(path = "bulk_result.html")]
struct BulkResult {
    layout: Layout,
    selected: usize,
    queued: usize,
    not_queued: Vec<(String, String)>,
    back: String,
}

pub async fn push(State(s): State<AppState>, CurrentUser(session): CurrentUser, body: Bytes) -> UiResult<Html<String>> {
    let sel = selection(&body).map_err(UiError::bad_request)?;
    let selected = sel.findings.len();
    let done = api::push::queue(&s, &session.actor, sel.findings.into_iter().map(Subject::Finding).collect()).await?;
    render(&BulkResult {
        layout: Layout::new(&session, "Push to Integrators", "findings"),
        selected,
        queued: done.queued.len(),
        not_queued: done.not_queued.into_iter().map(|n| (n.subject.to_string(), n.reason)).collect(),
        back: sel.back,
    })
}

/// Sets the status of every selected finding, all or none (one transaction), then shows the list
/// again as it was.
pub async fn set_status(State(s): State<AppState>, CurrentUser(session): CurrentUser, body: Bytes) -> UiResult<Response> {
    let sel = selection(&body).map_err(UiError::bad_request)?;
    let status = match sel.status.as_str() {
        "" => return Err(UiError::bad_request("Choose the status to set.")),
        raw => Status::parse(raw).map_err(|e| UiError::bad_request(format!("status: {e}")))?,
    };
    let mut tx = s.app.db().begin().await?;
    for (i, id) in sel.findings.iter().enumerate() {
        let mut patch = FindingPatch { status: Some(status), ..FindingPatch::default() };
        patch.check().map_err(crate::error::ApiError::from)?;
        api::findings::change(&mut tx, &session.actor, *id, patch, Some(&format!("findings[{i}]"))).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&sel.back).into_response())
}

/// Puts the selected findings into a new group of that name (they must share a test: a group
/// belongs to one), then shows the group's findings.
pub async fn group(State(s): State<AppState>, CurrentUser(session): CurrentUser, body: Bytes) -> UiResult<Response> {
    let sel = selection(&body).map_err(UiError::bad_request)?;
    let name = domain::Name::parse("group", &sel.group).map_err(|e| UiError::bad_request(format!("Name the group: {e}")))?;
    let mut tx = s.app.db().begin().await?;
    // `selection` refuses an empty selection; the group's test is the first finding's.
    let first_id = sel.findings.first().copied().ok_or_else(|| UiError::bad_request("Select at least one finding."))?;
    let first = api::findings::visible(&mut tx, &session.actor, first_id, Some("findings[0]")).await?;
    let new = api::groups::NewGroup { test: first.test, name, group_by: domain::GroupBy::Custom, findings: sel.findings };
    let g = api::groups::create_group(&mut tx, &session.actor, new).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/findings?finding_group={}", g.id.0)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_are_checked() {
        let s = selection(b"csrf=x&finding=7&finding=3&finding=7&back=%2Ffindings%3Fseverity%3Dhigh").unwrap();
        assert_eq!(s, Selection { findings: vec![FindingId(3), FindingId(7)], back: "/findings?severity=high".into(), status: String::new(), group: String::new() });
        assert_eq!(selection(b"finding=1&status=closed").unwrap().status, "closed");
        assert_eq!(selection(b"finding=1&back=https://evil.example/").unwrap().back, "/findings");
        assert_eq!(selection(b"finding=1&back=/logout").unwrap().back, "/findings");
        assert!(selection(b"csrf=x").unwrap_err().contains("at least one"));
        assert!(selection(b"finding=abc").unwrap_err().contains("'abc'"));
        assert!(selection(b"finding=-2").is_err());
    }
}
