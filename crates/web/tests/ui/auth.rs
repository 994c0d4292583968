//! Login, logout, sessions and CSRF.

use crate::harness::{Browser, PASSWORD, Ui};
use domain::Role;
use store::testing::TestDb;

store::both_backends!(login_redirects_to_next, wrong_password_is_generic, csrf_is_required, logout_ends_the_session, guessing_is_throttled);

async fn login_redirects_to_next(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("alice", Some(Role::Reader)).await;
    let b = ui.browser();

    // Not logged in: every page sends the browser to the login form, remembering where it was.
    let r = b.get("/findings?severity=high").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/login?next=%2Ffindings%3Fseverity%3Dhigh"));
    // htmx requests are told where to go instead of swapping the login page into the table.
    let r = b.get_with("/findings", &[("hx-request", "true")]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers.get("hx-redirect").unwrap(), "/login?next=%2Ffindings");

    let r = b.login("alice", PASSWORD, "/findings?severity=high").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/findings?severity=high"));
    let set: Vec<_> = r.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = set.iter().find(|c| c.starts_with("vb_session=")).expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(!session.contains("Secure"), "http: no Secure flag ({session})");
    // Only the hash of the session id is stored.
    let id = b.cookie("vb_session").unwrap();
    let mut c = ui.t.db.conn().await.unwrap();
    let life = store::sessions::Lifetime::default();
    assert!(store::sessions::authenticate(&mut c, &id, life).await.unwrap().is_none());
    assert!(store::sessions::authenticate(&mut c, &secrets::token::hash(&id), life).await.unwrap().is_some());

    let page = b.get("/findings?severity=high").await;
    assert!(page.ok().contains("alice"), "the user menu names the user");
    // A logged-in user asking for the login page goes on.
    assert_eq!(b.get("/login?next=/findings").await.location.as_deref(), Some("/findings"));

    // A login form opened before logging in elsewhere still works (it has its own token).
    let tab = ui.browser();
    let form = tab.get("/login").await;
    let other_tab = tab.post("/login", &[("username", "alice"), ("password", PASSWORD), ("csrf", &form.csrf()), ("next", "/")]).await;
    assert_eq!(other_tab.status, 303);
    let again = tab.post("/login", &[("username", "alice"), ("password", PASSWORD), ("csrf", &form.csrf()), ("next", "/")]).await;
    assert_eq!(again.status, 403, "but only once: its token cookie was spent");
    assert!(again.body.contains("The login form expired"), "{}", again.body);

    // Only paths on this site are followed after login.
    for evil in ["https://evil.example/", "//evil.example/", "/\\evil.example"] {
        let r = ui.browser().login("alice", PASSWORD, evil).await;
        assert_eq!(r.location.as_deref(), Some("/"), "{evil}");
    }
}

async fn wrong_password_is_generic(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("alice", Some(Role::Reader)).await;
    let b = ui.browser();
    let wrong_pw = b.login("alice", "not the password", "/").await;
    let no_user = b.login("nobody", PASSWORD, "/").await;
    for r in [&wrong_pw, &no_user] {
        assert_eq!(r.status, 401);
        assert!(r.body.contains("Wrong username or password."), "{}", r.body);
        assert!(!r.body.contains("nobody"), "the page does not say which part was wrong");
    }
    assert!(b.cookie("vb_session").is_none());
    // The login form's own token: a post without it (a cross-site login) is refused.
    let r = b.post("/login", &[("username", "alice"), ("password", PASSWORD), ("csrf", "forged"), ("next", "/")]).await;
    assert_eq!(r.status, 403);
    assert!(b.cookie("vb_session").is_none());
    // A body that is not a form is a clear error, not a crash.
    let r = b.post_raw("/login", "application/json", r#"{"username": "alice"}"#).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("the login form could not be read"), "{}", r.body);
}

async fn csrf_is_required(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("alice", Some(Role::Reader)).await;
    let b = Browser::logged_in(&ui, "alice").await;
    let csrf = b.get("/").await.csrf();

    let r = b.post("/logout", &[]).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("security token (CSRF)"), "{}", r.body);
    let r = b.post("/logout", &[("csrf", "0123")]).await;
    assert_eq!(r.status, 403);
    let r = b.post_with("/logout", &[], &[("x-csrf-token", "0123")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(b.get("/").await.status, 200, "still logged in");

    // Another session's token is no good either.
    let other = Browser::logged_in(&ui, "alice").await;
    let theirs = other.get("/").await.csrf();
    assert_ne!(theirs, csrf);
    assert_eq!(b.post("/logout", &[("csrf", &theirs)]).await.status, 403);

    // The header htmx sends (`hx-headers` on the body) works as well as the form field.
    let r = b.post_with("/logout", &[], &[("x-csrf-token", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(other.post("/logout", &[("csrf", &theirs)]).await.status, 303);
}

async fn logout_ends_the_session(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("alice", Some(Role::Reader)).await;
    let b = Browser::logged_in(&ui, "alice").await;
    let id = b.cookie("vb_session").unwrap();
    let page = b.get("/").await;
    let r = b.post("/logout", &[("csrf", &page.csrf())]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/login"));
    assert!(b.cookie("vb_session").is_none(), "the cookie is cleared");
    assert_eq!(b.get("/").await.status, 303);
    // The old id is dead on the server too, not only forgotten by the browser.
    let replay = ui.browser();
    let r = replay.get_with("/", &[("cookie", &format!("vb_session={id}"))]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/login"));
}

store::both_backends!(assets_headers_and_missing_pages, https_sessions_are_secure);

async fn assets_headers_and_missing_pages(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("alice", Some(Role::Reader)).await;
    let anon = ui.browser();
    // Assets are public, compiled in, and cached for long (their URLs change with them).
    let js = anon.get("/assets/htmx.min.js").await;
    assert!(js.ok().starts_with("var htmx="), "htmx itself");
    assert_eq!(js.headers.get("content-type").unwrap(), "text/javascript; charset=utf-8");
    assert_eq!(js.headers.get("cache-control").unwrap(), "public, max-age=31536000, immutable");
    let css = anon.get("/assets/app.css").await;
    assert!(css.ok().contains(".sev-critical"));
    let js = anon.get("/assets/app.js").await;
    assert!(js.ok().contains("htmx:xhr:progress"));
    assert_eq!(js.headers.get("cache-control").unwrap(), "public, max-age=31536000, immutable");
    assert_eq!(css.headers.get("content-type").unwrap(), "text/css; charset=utf-8");

    let b = Browser::logged_in(&ui, "alice").await;
    let page = b.get("/").await;
    let body = page.ok();
    assert!(body.contains(r#"<script src="/assets/htmx.min.js?v="#) && body.contains(r#"href="/assets/app.css?v="#));
    assert!(!body.contains("unpkg") && !body.contains("cdn"), "nothing from a CDN");
    // Pages are private: not cached, not framed, scripts only from us.
    assert_eq!(page.headers.get("cache-control").unwrap(), "no-store");
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    for nav in [r#"href="/" aria-current="page">Dashboard"#, r#"href="/findings">Findings"#, "Log out"] {
        assert!(body.contains(nav), "{nav}");
    }

    // A UI address that does not exist is a page; an API one stays a problem document.
    let r = b.get("/no/such/page").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("There is no page at this address."));
    let r = b.get("/api/v1/no-such-thing").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
}

async fn https_sessions_are_secure(t: TestDb) {
    let ui = Ui::start_with_public_url(t, "https://vulnbridge.example.com").await;
    ui.user("alice", Some(Role::Reader)).await;
    let b = ui.browser();
    let form = b.get("/login").await;
    let login_cookie = form.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(login_cookie.contains("; Secure") && login_cookie.contains("SameSite=Strict"), "{login_cookie}");
    let r = b.login("alice", PASSWORD, "/").await;
    let session = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("vb_session="))
        .unwrap();
    assert!(session.contains("; Secure"), "{session}");
}

/// Ten wrong passwords for one username refuse its logins (even with the right password) for
/// the rest of 15 minutes; other users log in as usual, and a success clears the count.
async fn guessing_is_throttled(t: TestDb) {
    let ui = Ui::start(t).await;
    ui.user("alice", Some(Role::Reader)).await;
    ui.user("bob", Some(Role::Reader)).await;
    let b = ui.browser();
    for i in 0..9 {
        assert_eq!(b.login("bob", "wrong", "/").await.status, 401, "attempt {i}");
    }
    assert_eq!(b.login("bob", PASSWORD, "/").await.status, 303, "nine failures are still allowed");
    let b = ui.browser();
    for i in 0..10 {
        assert_eq!(b.login("Alice", "wrong", "/").await.status, 401, "attempt {i}");
    }
    let r = b.login("alice", PASSWORD, "/").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many failed logins for this username. Try again in 15 minutes."), "{}", r.body);
    assert_eq!(r.headers.get("retry-after").unwrap(), "900");
    // The count follows the username, not the browser.
    assert_eq!(ui.browser().login("alice", PASSWORD, "/").await.status, 429);
    Browser::logged_in(&ui, "bob").await;
}
