//! Login and logout.
//!
//! A failed login says "wrong username or password" whether the user is unknown, inactive or
//! the password is wrong, and takes as long either way (an unknown user is checked against a
//! dummy hash). Ten failures for one username within 15 minutes refuse its logins until the 15
//! minutes are over (429, counted in the database so every replica agrees). The login form is protected against login CSRF by a double-submit cookie: a
//! random value in a `SameSite=Strict` cookie scoped to `/login` that the form must repeat.

use super::error::{UiError, UiResult, render};
use super::session::{self, COOKIE, CurrentUser, Session, safe_next, same_secret, set_cookie};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrets::SecretString;
use serde::Deserialize;
use std::sync::OnceLock;
use store::sessions::Lifetime;

const LOGIN_COOKIE: &str = "vb_login";

/// Failed logins a username may have before its logins are refused for a while (the rule
/// and its trade-off: `store::sessions::LoginThrottle`).
const THROTTLE: store::sessions::LoginThrottle = store::sessions::LoginThrottle::STANDARD;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    token: String,
    error: Option<String>,
    assets: &'static str,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The login form; a logged-in user goes straight on.
pub async fn login_form(
    State(s): State<AppState>,
    session: Option<axum::Extension<Session>>,
    Query(q): Query<NextQuery>,
) -> UiResult<Response> {
    let next = q.next.as_deref().and_then(safe_next).unwrap_or_else(|| "/".into());
    if session.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    login_page(&s, next, None, StatusCode::OK)
}

fn login_page(s: &AppState, next: String, error: Option<&str>, status: StatusCode) -> UiResult<Response> {
    let error = error.map(str::to_owned);
    let token = secrets::random_hex::<32>();
    let page = render(&LoginPage { next, token: token.clone(), error, assets: super::assets::version() })?;
    let cookie = set_cookie(LOGIN_COOKIE, &token, "/login", "Strict", 3600, session::secure(s));
    Ok((status, [(header::SET_COOKIE, cookie)], page).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> UiResult<Response> {
    let Form(form) = form.map_err(|e| UiError::bad_request(format!("the login form could not be read: {}", e.body_text())))?;
    let next = safe_next(&form.next).unwrap_or_else(|| "/".into());
    let expected = session::cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(expected, &form.csrf) {
        return login_page(
            &s,
            next,
            Some("The login form expired or was sent from another page. Please try again."),
            StatusCode::FORBIDDEN,
        );
    }
    let mut c = s.app.db().conn().await?;
    if let Some(until) = store::sessions::login_refused_until(&mut c, &form.username, THROTTLE).await? {
        let wait = (until - store::now()).num_minutes() + 1;
        let message = format!("Too many failed logins for this username. Try again in {wait} minute{}.", if wait == 1 { "" } else { "s" });
        let mut resp = login_page(&s, next, Some(&message), StatusCode::TOO_MANY_REQUESTS)?;
        resp.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(wait as u64 * 60));
        return Ok(resp);
    }
    let found = store::users::credentials(&mut c, &form.username).await?;
    drop(c);
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, dummy_hash().await?),
    };
    let password = SecretString::from(form.password);
    let ok = tokio::task::spawn_blocking(move || secrets::password::verify(&password, &hash))
        .await
        .map_err(crate::error::ApiError::internal)?;
    let Some(user) = user.filter(|_| ok) else {
        let mut c = s.app.db().conn().await?;
        store::sessions::record_failed_login(&mut c, &form.username, THROTTLE).await?;
        return login_page(&s, next, Some("Wrong username or password."), StatusCode::UNAUTHORIZED);
    };

    let id = secrets::random_hex::<32>();
    let mut tx = s.app.db().begin().await?;
    // A session id the browser held before logging in is never reused (session fixation).
    if let Some(old) = session::cookie(&headers, COOKIE) {
        store::sessions::delete(&mut tx, &secrets::token::hash(old)).await?;
    }
    store::sessions::delete_expired(&mut tx).await?;
    store::sessions::create(&mut tx, &secrets::token::hash(&id), user.id, &secrets::random_hex::<32>(), Lifetime::default()).await?;
    store::users::record_login(&mut tx, user.id).await?;
    store::sessions::clear_failed_logins(&mut tx, &form.username).await?;
    tx.commit().await?;

    let max_age = Lifetime::default().absolute.num_seconds();
    let mut resp = Redirect::to(&next).into_response();
    let h = resp.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(COOKIE, &id, "/", "Lax", max_age, session::secure(&s)));
    h.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", "/login", "Strict", 0, session::secure(&s)));
    Ok(resp)
}

/// A hash to check unknown users' passwords against, so that they take as long as known ones.
async fn dummy_hash() -> UiResult<String> {
    static HASH: OnceLock<String> = OnceLock::new();
    if let Some(h) = HASH.get() {
        return Ok(h.clone());
    }
    let h = tokio::task::spawn_blocking(|| secrets::password::hash(&secrets::password::generate()))
        .await
        .map_err(crate::error::ApiError::internal)?
        .map_err(crate::error::ApiError::internal)?;
    Ok(HASH.get_or_init(|| h).clone())
}

/// Ends the session (the CSRF check in `session::guard` already passed).
pub async fn logout(State(s): State<AppState>, CurrentUser(session): CurrentUser) -> UiResult<Response> {
    let mut c = s.app.db().conn().await?;
    store::sessions::delete(&mut c, &session.id_hash).await?;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(COOKIE, "", "/", "Lax", 0, session::secure(&s)));
    Ok(resp)
}
