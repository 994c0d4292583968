//! `/api/v1/users`: accounts. Administrators manage everyone; anyone may read themselves.

use crate::api::{ApiPath, page_type, require_global};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use domain::{Action, Role, User, UserId};
use secrets::SecretString;
use serde::Deserialize;
use store::users::{self, NewUser, UserChanges};
use store::{AsConn, PageRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(me))
        .routes(routes!(get, update, delete))
}

page_type!(UserPage, User);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Username contains (case-insensitive).
    username: Option<String>,
    active: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// All users. Administrators only.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, body = UserPage), (status = 403, body = Problem)),
    security(("token" = [])))]
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<UserPage>> {
    require_global(&actor, Action::Administer, "listing users")?;
    let page = PageRequest::new(q.limit, q.offset);
    let filter = users::Filter { username: q.username, active: q.active };
    let mut c = s.app.db().conn().await?;
    let found = users::list(&mut c, &filter, page).await?;
    Ok(Json(UserPage::new(&uri, page, found)))
}

/// The user the token belongs to.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users",
    responses((status = 200, body = User), (status = 401, body = Problem)),
    security(("token" = [])))]
async fn me(State(s): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<User>> {
    let mut c = s.app.db().conn().await?;
    Ok(Json(users::get(&mut c, actor.user_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    /// At least 10 characters. Without one the account can only use API tokens (a service
    /// account).
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub global_role: Option<Role>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// Hashes a password on a blocking thread (argon2 is slow on purpose).
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || secrets::password::hash(&SecretString::from(password)))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::invalid("password", e.to_string()))
}

/// Creates a user. Administrators only.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    require_global(&actor, Action::Administer, "creating users")?;
    let username = domain::parse_username(&body.username)?;
    let password_hash = match body.password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let mut tx = s.app.db().begin().await?;
    let u = users::create(
        &mut tx,
        NewUser {
            username,
            display_name: body.display_name,
            email: body.email,
            password_hash,
            global_role: body.global_role,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(u)))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<User>> {
    if actor.user_id != UserId(id) {
        require_global(&actor, Action::Administer, "reading other users")?;
    }
    let mut c = s.app.db().conn().await?;
    Ok(Json(users::get(&mut c, UserId(id)).await?))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default)]
    pub password: Option<String>,
    /// `null` removes the global role.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Role>)]
    pub global_role: Option<Option<Role>>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
}

fn double_option<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Refuses changes that would leave no active administrator.
async fn keep_an_admin(c: &mut impl AsConn, target: &User, losing_admin: bool) -> ApiResult<()> {
    if losing_admin && target.is_active && target.global_role == Some(Role::Admin)
        && users::count_active_admins(c).await? <= 1
    {
        return Err(ApiError::conflict("global_role", "this is the last active administrator; make another user admin first"));
    }
    Ok(())
}

/// Changes a user. Administrators change anyone; users may change their own password, name
/// and e-mail.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    request_body = UpdateUser,
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> ApiResult<Json<User>> {
    let is_self = actor.user_id == UserId(id);
    if !is_self || body.global_role.is_some() || body.is_active.is_some() {
        require_global(&actor, Action::Administer, "changing roles or other users")?;
    }
    let password_hash = match body.password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let mut tx = s.app.db().begin().await?;
    let target = users::get(&mut tx, UserId(id)).await?;
    let losing_admin = matches!(body.global_role, Some(r) if r != Some(Role::Admin)) || body.is_active == Some(false);
    keep_an_admin(&mut tx, &target, losing_admin).await?;
    let u = users::update(
        &mut tx,
        target.id,
        UserChanges {
            display_name: body.display_name,
            email: body.email,
            global_role: body.global_role,
            is_active: body.is_active,
            password_hash,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(u))
}

/// Deletes a user and their tokens. Administrators only; not yourself, not the last admin.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
async fn delete(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    require_global(&actor, Action::Administer, "deleting users")?;
    if actor.user_id == UserId(id) {
        return Err(ApiError::conflict("id", "you cannot delete yourself"));
    }
    let mut tx = s.app.db().begin().await?;
    let target = users::get(&mut tx, UserId(id)).await?;
    keep_an_admin(&mut tx, &target, true).await?;
    users::delete(&mut tx, target.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
