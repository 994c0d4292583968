use crate::common::*;
use domain::*;
use store::testing::TestDb;
use store::users::{NewUser, UserChanges};
use store::{PageRequest, StoreError, members, sessions, tokens, users};

store::both_backends!(users_are_unique_case_insensitively, tokens_authenticate, memberships_shape_the_actor, sessions_live_and_end, failed_logins_are_counted_per_username);

fn new_user(name: &str, role: Option<Role>) -> NewUser {
    NewUser {
        username: name.into(),
        display_name: None,
        email: Some("a@example.com".into()),
        password_hash: Some("$argon2id$fake".into()),
        global_role: role,
    }
}

async fn users_are_unique_case_insensitively(t: TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    let alice = users::create(&mut tx, new_user("Alice", Some(Role::Admin))).await.unwrap();
    assert_eq!(alice.global_role, Some(Role::Admin));
    assert!(alice.is_active);
    let dup = users::create(&mut tx, new_user("alice", None)).await.unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(ref v) if v.field == "username"), "{dup:?}");
    tx.rollback().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    let bad = users::create(&mut tx, new_user("no spaces please", None)).await.unwrap_err();
    assert!(matches!(bad, StoreError::Invalid(ref v) if v.field == "username"));
    let alice = users::create(&mut tx, new_user("Alice", Some(Role::Admin))).await.unwrap();
    let found = users::get_by_username(&mut tx, "ALICE").await.unwrap().unwrap();
    assert_eq!(found.id, alice.id);
    let (u, hash) = users::credentials(&mut tx, "alice").await.unwrap().unwrap();
    assert_eq!(u.id, alice.id);
    assert_eq!(hash, "$argon2id$fake");
    assert_eq!(users::count_active_admins(&mut tx).await.unwrap(), 1);

    let off = users::update(&mut tx, alice.id, UserChanges { is_active: Some(false), ..Default::default() }).await.unwrap();
    assert!(!off.is_active);
    assert!(users::credentials(&mut tx, "alice").await.unwrap().is_none(), "inactive users cannot log in");
    assert_eq!(users::count_active_admins(&mut tx).await.unwrap(), 0);
    let listed = users::list(&mut tx, &users::Filter { active: Some(false), ..Default::default() }, PageRequest::default()).await.unwrap();
    assert_eq!(listed.count, 1);
    users::delete(&mut tx, alice.id).await.unwrap();
    assert!(users::get(&mut tx, alice.id).await.unwrap_err().is_not_found());
    tx.commit().await.unwrap();
}

async fn tokens_authenticate(t: TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    let bob = users::create(&mut tx, new_user("bob", Some(Role::Writer))).await.unwrap();
    let tok = secrets::token::generate();
    let info = tokens::create(&mut tx, bob.id, "ci", &tok, None).await.unwrap();
    let expired = secrets::token::generate();
    tokens::create(&mut tx, bob.id, "old", &expired, Some(store::now() - chrono::TimeDelta::hours(1)))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut c = t.db.conn().await.unwrap();
    let actor = tokens::authenticate(&mut c, &tok.hash).await.unwrap().unwrap();
    assert_eq!(actor.user_id, bob.id);
    assert_eq!(actor.global_role, Some(Role::Writer));
    assert!(tokens::authenticate(&mut c, &expired.hash).await.unwrap().is_none(), "expired");
    assert!(tokens::authenticate(&mut c, "0000").await.unwrap().is_none(), "unknown");
    let listed = tokens::list_for_user(&mut c, bob.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].last_used_at.is_some(), "use is recorded");
    assert_eq!(listed[0].display_prefix, tok.display_prefix);

    users::update(&mut c, bob.id, UserChanges { is_active: Some(false), ..Default::default() }).await.unwrap();
    assert!(tokens::authenticate(&mut c, &tok.hash).await.unwrap().is_none(), "inactive user");
    tokens::delete(&mut c, bob.id, info.id).await.unwrap();
    assert!(tokens::delete(&mut c, bob.id, info.id).await.unwrap_err().is_not_found());
}

async fn memberships_shape_the_actor(t: TestDb) {
    let a = world(&t.db, "A").await;
    let b = world(&t.db, "B").await;
    let mut tx = t.db.begin().await.unwrap();
    let carol = users::create(&mut tx, new_user("carol", None)).await.unwrap();
    members::set(&mut tx, a.product.id, carol.id, Role::Reader).await.unwrap();
    members::set(&mut tx, b.product.id, carol.id, Role::Writer).await.unwrap();
    members::set(&mut tx, b.product.id, carol.id, Role::Maintainer).await.unwrap();
    let err = members::set(&mut tx, ProductId(999_999), carol.id, Role::Reader).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    tx.rollback().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    let carol = users::create(&mut tx, new_user("carol", None)).await.unwrap();
    members::set(&mut tx, a.product.id, carol.id, Role::Reader).await.unwrap();
    members::set(&mut tx, b.product.id, carol.id, Role::Writer).await.unwrap();
    members::set(&mut tx, b.product.id, carol.id, Role::Maintainer).await.unwrap();
    tx.commit().await.unwrap();
    let mut c = t.db.conn().await.unwrap();
    let actor = tokens::actor_for(&mut c, carol.id).await.unwrap();
    assert_eq!(actor.role_on(a.product.id), Some(Role::Reader));
    assert_eq!(actor.role_on(b.product.id), Some(Role::Maintainer), "set replaces the role");
    assert_eq!(actor.visibility(), Visibility::Only(vec![a.product.id, b.product.id]));
    let listed = members::list_for_product(&mut c, b.product.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].username, "carol");
    members::remove(&mut c, a.product.id, carol.id).await.unwrap();
    assert!(members::remove(&mut c, a.product.id, carol.id).await.unwrap_err().is_not_found());
    let actor = tokens::actor_for(&mut c, carol.id).await.unwrap();
    assert!(!actor.can_see(a.product.id));
}

async fn sessions_live_and_end(t: TestDb) {
    let life = sessions::Lifetime::default();
    let mut tx = t.db.begin().await.unwrap();
    let carol = users::create(&mut tx, new_user("carol", Some(Role::Reader))).await.unwrap();
    sessions::create(&mut tx, "hash-1", carol.id, "csrf-1", life).await.unwrap();
    let dead = sessions::Lifetime { idle: chrono::TimeDelta::seconds(-1), absolute: chrono::TimeDelta::days(1) };
    sessions::create(&mut tx, "hash-old", carol.id, "csrf-old", dead).await.unwrap();
    tx.commit().await.unwrap();

    let mut c = t.db.conn().await.unwrap();
    let s = sessions::authenticate(&mut c, "hash-1", life).await.unwrap().expect("a live session");
    assert_eq!(s.actor.user_id, carol.id);
    assert_eq!(s.csrf_token, "csrf-1");
    assert!(s.expires_at > store::now());
    assert!(sessions::authenticate(&mut c, "hash-old", life).await.unwrap().is_none(), "expired");
    assert!(sessions::authenticate(&mut c, "nope", life).await.unwrap().is_none());
    assert_eq!(sessions::delete_expired(&mut c).await.unwrap(), 1);

    users::update(&mut c, carol.id, UserChanges { is_active: Some(false), ..Default::default() }).await.unwrap();
    assert!(sessions::authenticate(&mut c, "hash-1", life).await.unwrap().is_none(), "inactive users have no sessions");
    users::update(&mut c, carol.id, UserChanges { is_active: Some(true), ..Default::default() }).await.unwrap();
    sessions::delete(&mut c, "hash-1").await.unwrap();
    assert!(sessions::authenticate(&mut c, "hash-1", life).await.unwrap().is_none(), "logged out");
    sessions::delete(&mut c, "hash-1").await.unwrap();
}

async fn failed_logins_are_counted_per_username(t: TestDb) {
    let th = sessions::LoginThrottle { max_failures: 3, window: chrono::TimeDelta::minutes(15) };
    let mut c = t.db.conn().await.unwrap();
    for _ in 0..2 {
        sessions::record_failed_login(&mut c, "Mallory", th).await.unwrap();
    }
    assert_eq!(sessions::login_refused_until(&mut c, "mallory", th).await.unwrap(), None, "two of three");
    sessions::record_failed_login(&mut c, " MALLORY", th).await.unwrap();
    let until = sessions::login_refused_until(&mut c, "mallory", th).await.unwrap().expect("refused after three");
    let left = until - store::now();
    assert!(left > chrono::TimeDelta::minutes(14) && left <= chrono::TimeDelta::minutes(15), "{left}");
    assert_eq!(sessions::login_refused_until(&mut c, "trent", th).await.unwrap(), None, "other usernames are not affected");
    // A window already over: the next failure starts a new count.
    let short = sessions::LoginThrottle { max_failures: 3, window: chrono::TimeDelta::milliseconds(-1) };
    sessions::record_failed_login(&mut c, "mallory", short).await.unwrap();
    assert_eq!(sessions::login_refused_until(&mut c, "mallory", th).await.unwrap(), None, "one failure in the new window");
    sessions::clear_failed_logins(&mut c, "Mallory").await.unwrap();
    for _ in 0..3 {
        sessions::record_failed_login(&mut c, "trent", th).await.unwrap();
    }
    sessions::clear_failed_logins(&mut c, "Trent").await.unwrap();
    assert_eq!(sessions::login_refused_until(&mut c, "trent", th).await.unwrap(), None, "a successful login clears the count");
}
