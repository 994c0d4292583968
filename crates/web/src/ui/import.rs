//! `/import`: upload a report with its scan type into a product (`api::imports::import_from_form`,
//! the same validation and engine as `POST /api/v1/imports`), then a summary of what changed.

use super::error::{UiError, UiResult, render};
use super::layout::Layout;
use super::session::{CurrentUser, Session};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{Action, Severity};
use store::products;

pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportForm {
    layout: Layout,
    products: Vec<Choice>,
    scan_types: Vec<Choice>,
    severities: Vec<Choice>,
    error: Option<String>,
}

pub struct Count {
    pub label: &'static str,
    pub n: i64,
}

#[derive(Template)]
#[template(path = "import_done.html")]
struct ImportDone {
    layout: Layout,
    kind: String,
    scan_type: String,
    file: String,
    product: String,
    test_id: i64,
    counts: Vec<Count>,
}

/// The products the user may import into (writer role).
async fn writable_products(s: &AppState, session: &Session) -> UiResult<Vec<Choice>> {
    let mut c = s.app.db().conn().await?;
    let all = super::lookup::visible_products(&mut c, &session.actor.visibility()).await?;
    Ok(all
        .into_iter()
        .filter(|(id, _)| session.actor.can(Action::Write, *id))
        .map(|(_, name)| Choice { value: name.clone(), label: name })
        .collect())
}

async fn form(s: &AppState, session: &Session, error: Option<String>, status: StatusCode) -> UiResult<Response> {
    let page = ImportForm {
        layout: Layout::new(session, "Import", "import"),
        products: writable_products(s, session).await?,
        scan_types: scanners::scan_types()
            .iter()
            .map(|t| Choice { value: t.name.to_owned(), label: format!("{} ({})", t.name, t.extensions.join(", ")) })
            .collect(),
        severities: Severity::ALL.iter().map(|s| Choice { value: s.as_str().to_owned(), label: s.label().to_owned() }).collect(),
        error,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn show(State(s): State<AppState>, CurrentUser(session): CurrentUser) -> UiResult<Response> {
    form(&s, &session, None, StatusCode::OK).await
}

pub async fn upload(
    State(s): State<AppState>,
    CurrentUser(session): CurrentUser,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> UiResult<Response> {
    let mp = mp.map_err(|e| UiError::bad_request(format!("send the report with the upload form: {}", e.body_text())))?;
    let outcome = match crate::api::imports::import_from_form(&s, &session.actor, mp, &session.csrf).await {
        Ok(o) => o,
        // A wrong token or role is not something the form can fix.
        Err(e) if e.status == StatusCode::FORBIDDEN => return Err(e.into()),
        Err(e) => return form(&s, &session, Some(e.detail), e.status).await,
    };
    let i = outcome.import;
    let mut c = s.app.db().conn().await?;
    let product = products::get(&mut c, i.product).await?.name;
    let page = ImportDone {
        layout: Layout::new(&session, "Import done", "import"),
        kind: i.kind,
        scan_type: i.scan_type,
        file: i.file_name.unwrap_or_default(),
        product,
        test_id: i.test.0,
        counts: vec![
            Count { label: "created", n: i.counts.created },
            Count { label: "updated", n: i.counts.updated },
            Count { label: "closed", n: i.counts.closed },
            Count { label: "reactivated", n: i.counts.reactivated },
            Count { label: "untouched", n: i.counts.untouched },
            Count { label: "duplicates", n: i.counts.duplicate },
        ],
    };
    Ok(render(&page)?.into_response())
}
