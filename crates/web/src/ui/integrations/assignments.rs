//! Issue Tracker Assignments: binding a product or one of its engagements to a mapping with a
//! push mode and filters, changing the mode and filters, removing. Maintainers of the product
//! may (the API's `add_assignment`, `change_assignment`, `remove_assignment`).

use crate::ui::form::{self, Form, Kind, SectionSpec, Spec, Values};
use super::instances::ConfirmDelete;
use super::{can_assign, layout, mapping_name, refused};
use crate::api::integrations as api;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::error::{UiError, UiResult, render};
use crate::ui::layout::Layout;
use crate::ui::session::{CurrentUser, Session};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use domain::tracker::{Assignment, PushMode};
use domain::{Action, AssignmentId, EngagementId, ProductId, Severity};
use engine::integrations::configure::{AssignmentInput, AssignmentPatch};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use store::{AsConn, PageRequest};

/// Push mode and filters: what the add and the edit form share.
fn mode_section() -> SectionSpec {
    let modes = PushMode::ALL.into_iter().map(|m| (m.as_str().to_owned(), m.label().to_owned())).collect();
    let severities = std::iter::once((String::new(), "Any severity".to_owned()))
        .chain(Severity::ALL.into_iter().map(|s| (s.as_str().to_owned(), format!("{} and above", s.label()))))
        .collect();
    SectionSpec::new(
        "Push",
        vec![
            Spec::new(
                "push_mode",
                "Push mode",
                Kind::Select,
                "Explicitly Publish Changes: only pushes people start. Link New: tickets for new findings. Update Existing: existing tickets follow their findings. Both: the two.",
            )
            .options(modes),
            Spec::new("filters.minimum_severity", "Minimum severity", Kind::Select, "Only findings at least this severe are linked automatically.").options(severities),
            Spec::new("filters.active_only", "Open findings only", Kind::Check, "Only open findings are linked automatically."),
        ],
    )
}

/// The scope choices of the add form: mappings, the products the actor maintains, and their
/// engagements.
async fn scope_section(c: &mut impl AsConn, session: &Session) -> UiResult<SectionSpec> {
    let actor = &session.actor;
    let insts: HashMap<_, _> = store::instances::list(c).await?.into_iter().map(|i| (i.id, i.label)).collect();
    let mappings: Vec<(String, String)> =
        store::mappings::list(c, None).await?.iter().map(|m| (m.id.0.to_string(), mapping_name(&insts, m))).collect();
    let products: Vec<(ProductId, String)> = crate::ui::lookup::visible_products(c, &actor.visibility())
        .await?
        .into_iter()
        .filter(|(id, _)| actor.can(Action::Manage, *id))
        .collect();
    let names: HashMap<ProductId, &str> = products.iter().map(|(id, n)| (*id, n.as_str())).collect();
    let engagements = store::engagements::list(c, &Default::default(), &actor.visibility(), PageRequest::new(Some(PageRequest::MAX_LIMIT), None)).await?;
    let mut engagement_options = vec![(String::new(), "— the whole product —".to_owned())];
    engagement_options.extend(
        engagements
            .results
            .iter()
            .filter_map(|e| names.get(&e.product).map(|p| (e.id.0.to_string(), format!("{p} › {}", e.name)))),
    );
    let mut product_options = vec![(String::new(), "— choose a product —".to_owned())];
    product_options.extend(products.iter().map(|(id, n)| (id.0.to_string(), n.clone())));
    Ok(SectionSpec::new(
        "Assignment",
        vec![
            Spec::new("mapping", "Mapping", Kind::Select, "Where the tickets go.").options(mappings),
            Spec::new("scope.product", "Product", Kind::Select, "The product whose findings push through the mapping (you need the maintainer role on it).")
                .named("product")
                .options(product_options),
            Spec::new(
                "scope.engagement",
                "Engagement",
                Kind::Select,
                "Optional: one engagement of the product only; it overrides the product's assignment to the same mapping.",
            )
            .named("engagement")
            .options(engagement_options),
        ],
    ))
}

#[derive(Template)]
#[template(path = "assignment_form.html")]
struct AssignmentFormPage {
    layout: Layout,
    heading: String,
    action: String,
    back: String,
    form: Form,
}

fn require_assign(session: &Session) -> UiResult<()> {
    if can_assign(&session.actor) {
        Ok(())
    } else {
        Err(UiError::forbidden("managing tracker assignments needs the maintainer role on a product"))
    }
}

/// Where to go after a change: the overview for those who may read it, else the product.
fn back_to(session: &Session, product: ProductId, done: &str) -> Response {
    let to = if session.actor.global_role.is_some() {
        format!("/settings/integrations?done={done}#assignments")
    } else {
        format!("/products/{}", product.0)
    };
    Redirect::to(&to).into_response()
}

#[derive(Deserialize)]
pub struct NewQuery {
    mapping: Option<String>,
    product: Option<String>,
}

/// `/settings/integrations/assignments/new`: the add form (`?mapping=`, `?product=` pre-select).
pub async fn new(State(s): State<AppState>, CurrentUser(session): CurrentUser, Query(q): Query<NewQuery>) -> UiResult<Html<String>> {
    require_assign(&session)?;
    let mut c = s.app.db().conn().await?;
    let specs = [scope_section(&mut c, &session).await?, mode_section()];
    let mut values = Values::default();
    values.set("mapping", q.mapping.unwrap_or_default());
    values.set("product", q.product.unwrap_or_default());
    values.set("push_mode", PushMode::Explicit.as_str());
    render(&add_page(&session, Form::new(&specs, &values)))
}

fn add_page(session: &Session, form: Form) -> AssignmentFormPage {
    AssignmentFormPage {
        layout: layout(session, "Add assignment"),
        heading: "Add assignment".into(),
        action: "/settings/integrations/assignments".into(),
        back: "/settings/integrations#assignments".into(),
        form,
    }
}

fn id_of(values: &Values, name: &str, field: &str) -> Result<Option<i64>, ApiError> {
    match values.get(name).trim() {
        "" => Ok(None),
        raw => raw.parse::<i64>().ok().filter(|n| *n > 0).map(Some).ok_or_else(|| ApiError::invalid(field, format!("'{raw}' is not an id"))),
    }
}

/// The scope the form chose: an engagement (which must be of the chosen product, when one is
/// chosen too), else the product.
async fn scope(c: &mut impl AsConn, session: &Session, values: &Values) -> Result<serde_json::Value, ApiError> {
    let product = id_of(values, "product", "scope.product")?;
    match (id_of(values, "engagement", "scope.engagement")?, product) {
        (Some(e), product) => {
            if let (Ok(eng), Some(p)) = (store::engagements::get(c, EngagementId(e)).await, product)
                && session.actor.can_see(eng.product)
                && eng.product.0 != p
            {
                return Err(ApiError::invalid("scope.engagement", format!("the engagement {} is not of the chosen product", eng.name)));
            }
            Ok(json!({"engagement": e}))
        }
        (None, Some(p)) => Ok(json!({"product": p})),
        (None, None) => Err(ApiError::invalid("scope.product", "choose a product (or one of its engagements)")),
    }
}

pub async fn create(State(s): State<AppState>, CurrentUser(session): CurrentUser, body: Bytes) -> UiResult<Response> {
    require_assign(&session)?;
    let values = Values::parse(&body);
    let mut tx = s.app.db().begin().await?;
    let result = async {
        let mapping = id_of(&values, "mapping", "mapping")?.ok_or_else(|| ApiError::invalid("mapping", "choose a mapping"))?;
        let scope = scope(&mut tx, &session, &values).await?;
        let input: AssignmentInput = form::parse(&form::to_json(&[mode_section()], &values, &[("mapping", json!(mapping)), ("scope", scope)])?)?;
        api::add_assignment(&mut tx, &session.actor, input).await
    }
    .await;
    match result {
        Ok(a) => {
            tx.commit().await?;
            Ok(back_to(&session, a.product, "assignment-added"))
        }
        Err(e) if form::is_input_error(&e) => {
            drop(tx);
            let mut c = s.app.db().conn().await?;
            let specs = [scope_section(&mut c, &session).await?, mode_section()];
            let status = e.status;
            refused(status, &add_page(&session, Form::new(&specs, &values).with_error(&e, &specs)))
        }
        Err(e) => Err(e.into()),
    }
}

fn assignment_id(raw: &str) -> UiResult<AssignmentId> {
    crate::ui::lookup::path_id(raw, "assignment").map(AssignmentId)
}

/// The assignment, if the actor sees its product, with a name for it: `Mapping → Product › Engagement`.
async fn load(c: &mut impl AsConn, session: &Session, raw: &str) -> UiResult<(Assignment, String)> {
    let a = api::visible_assignment(c, &session.actor, assignment_id(raw)?.0).await?;
    let m = store::mappings::get(c, a.mapping).await?;
    let product = store::products::get(c, a.product).await?.name;
    let scope = match a.engagement {
        Some(e) => format!("{product} › {}", store::engagements::get(c, e).await?.name),
        None => product,
    };
    Ok((a, format!("{scope} → {}", m.label)))
}

fn edit_page(session: &Session, a: &Assignment, name: &str, form: Form) -> AssignmentFormPage {
    AssignmentFormPage {
        layout: layout(session, format!("Edit assignment {name}")),
        heading: format!("Edit assignment {name}"),
        action: format!("/settings/integrations/assignments/{}/edit", a.id.0),
        back: "/settings/integrations#assignments".into(),
        form,
    }
}

pub async fn edit(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let mut c = s.app.db().conn().await?;
    let (a, name) = load(&mut c, &session, &raw).await?;
    crate::api::require(&session.actor, Action::Manage, a.product, "changing a tracker assignment")?;
    let specs = [mode_section()];
    let values = form::prefill(&specs, &serde_json::to_value(&a).map_err(ApiError::internal)?);
    render(&edit_page(&session, &a, &name, Form::new(&specs, &values)))
}

pub async fn update(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>, body: Bytes) -> UiResult<Response> {
    let values = Values::parse(&body);
    let specs = [mode_section()];
    let mut tx = s.app.db().begin().await?;
    let (a, name) = load(&mut tx, &session, &raw).await?;
    let result = match form::to_json(&specs, &values, &[]).and_then(|j| form::parse::<AssignmentPatch>(&j)) {
        Ok(patch) => api::change_assignment(&mut tx, &session.actor, a.id, patch).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => {
            tx.commit().await?;
            Ok(back_to(&session, a.product, "assignment-saved"))
        }
        Err(e) if form::is_input_error(&e) => {
            let status = e.status;
            refused(status, &edit_page(&session, &a, &name, Form::new(&specs, &values).with_error(&e, &specs)))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn confirm_delete(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Html<String>> {
    let mut c = s.app.db().conn().await?;
    let (a, name) = load(&mut c, &session, &raw).await?;
    crate::api::require(&session.actor, Action::Manage, a.product, "removing a tracker assignment")?;
    render(&ConfirmDelete {
        layout: layout(&session, "Delete assignment"),
        icon: "",
        what: format!("the assignment {name}"),
        consequence: "Its findings are no longer pushed through the mapping; their tickets stay, and stay linked.".into(),
        action: format!("/settings/integrations/assignments/{}/delete", a.id.0),
        back: "/settings/integrations#assignments".into(),
    })
}

pub async fn delete(State(s): State<AppState>, CurrentUser(session): CurrentUser, Path(raw): Path<String>) -> UiResult<Response> {
    let id = assignment_id(&raw)?;
    let mut tx = s.app.db().begin().await?;
    let a = api::visible_assignment(&mut tx, &session.actor, id.0).await?;
    api::remove_assignment(&mut tx, &session.actor, id).await?;
    tx.commit().await?;
    Ok(back_to(&session, a.product, "assignment-deleted"))
}
