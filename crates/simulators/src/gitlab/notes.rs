//! Comments on issues: `GET` and `POST /projects/:id/issues/:noteable_id/notes`.

use super::auth::{self, Scopes};
use super::events;
use super::projects::paginated;
use super::reply::{ApiError, ApiResult, json_reply};
use super::state::{GUEST, Note, PLANNER};
use super::{Call, Sh, issues, render};
use crate::common::pagination::OffsetPage;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::Value;

/// `Note` validates its text to at most this many characters.
const NOTE_MAX: usize = 1_000_000;

/// An issue's comments, newest first unless `sort=asc`. Internal notes show to Planner and up.
pub async fn list(
    State(sh): State<Sh>,
    Path((id, iid)): Path<(String, String)>,
    call: Call,
) -> ApiResult {
    let mut s = sh.lock();
    let caller = auth::require(call.auth(&mut s, Scopes::Api)?)?;
    let mut p = call.params()?;
    let ascending = p
        .choice("sort", &["asc", "desc"])
        .is_some_and(|v| v == "asc");
    // Notes are never edited here, so both orders (`created_at`, `updated_at`) are the same.
    p.choice("order_by", &["created_at", "updated_at"]);
    let page = p.integer("page").flatten();
    let per_page = p.integer("per_page").flatten();
    p.check()?;
    let project_id = auth::visible_project(&s, Some(&caller), &id)?;
    let issue = issues::readable_issue(&s, &caller, project_id, &iid)?;
    let sees_internal = s.access_level(caller.user_id, project_id) >= PLANNER;
    let mut notes: Vec<&Note> = s
        .notes_of(issue.id)
        .filter(|n| sees_internal || !n.internal)
        .collect();
    notes.sort_by(|a, b| {
        let o = a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id));
        if ascending { o } else { o.reverse() }
    });
    let page = OffsetPage::new(page, per_page);
    let base = sh.base();
    let items: Vec<Value> = page
        .slice(&notes)
        .iter()
        .map(|n| render::note(base, &s, &issue, n))
        .collect();
    Ok(paginated(page, notes.len(), &call.url(base), items))
}

/// A new comment (201), and a `Note Hook` to the project's hooks.
pub async fn create(
    State(sh): State<Sh>,
    Path((id, iid)): Path<(String, String)>,
    call: Call,
) -> ApiResult {
    let (response, out) = {
        let mut s = sh.lock();
        let caller = auth::require(call.auth(&mut s, Scopes::Api)?)?;
        let mut p = call.params()?;
        p.require("body");
        let body = p.string("body").flatten().unwrap_or_default();
        let internal = p.boolean("internal").unwrap_or(false);
        p.datetime("created_at");
        p.check()?;
        let project_id = auth::visible_project(&s, Some(&caller), &id)?;
        let issue = issues::readable_issue(&s, &caller, project_id, &iid)?;
        let level = s.access_level(caller.user_id, project_id);
        if level < GUEST {
            return Err(ApiError::forbidden());
        }
        // `bad_request!("Note #{note.errors.messages}")`: the model's errors as Ruby prints a hash.
        if body.trim().is_empty() {
            return Err(ApiError::bad_request("Note {:note=>[\"can't be blank\"]}"));
        }
        if body.chars().count() > NOTE_MAX {
            return Err(ApiError::bad_request(&format!(
                "Note {{:note=>[\"is too long (maximum is {NOTE_MAX} characters)\"]}}"
            )));
        }
        let note = Note {
            id: s.next_id(),
            project_id,
            issue_id: issue.id,
            body,
            author_id: caller.user_id,
            internal: internal && level >= PLANNER,
            created_at: Utc::now(),
        };
        s.notes.push(note.clone());
        let out = events::note_event(sh.base(), &s, &issue, &note);
        (
            json_reply(
                StatusCode::CREATED,
                render::note(sh.base(), &s, &issue, &note),
            ),
            out,
        )
    };
    sh.send(out);
    Ok(response)
}
