//! `user create|list|set-password` and `token create`.

use crate::cli::{TokenCommand, UserCommand};
use crate::config::Config;
use crate::runtime;
use anyhow::{Context, bail};
use domain::Role;
use secrets::{ExposeSecret, SecretString};
use std::io::Read;
use store::users::{NewUser, UserChanges};
use store::{Db, PageRequest};

fn read_password(from_stdin: bool) -> anyhow::Result<(SecretString, bool)> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("cannot read the password from stdin")?;
        Ok((SecretString::from(s.trim_end_matches(['\n', '\r']).to_owned()), false))
    } else {
        Ok((secrets::password::generate(), true))
    }
}

async fn hash(password: SecretString) -> anyhow::Result<String> {
    Ok(tokio::task::spawn_blocking(move || secrets::password::hash(&password)).await??)
}

/// Creates a user and returns the password to show (when generated).
pub async fn create_user(
    db: &Db,
    name: &str,
    role: Option<Role>,
    password: SecretString,
) -> anyhow::Result<domain::User> {
    let password_hash = hash(password).await?;
    let mut tx = db.begin().await?;
    let user = store::users::create(
        &mut tx,
        NewUser {
            username: name.to_owned(),
            display_name: None,
            email: None,
            password_hash: Some(password_hash),
            global_role: role,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn create_token(db: &Db, user: &domain::User, name: &str, days: Option<u32>) -> anyhow::Result<String> {
    let expires_at = days.map(|d| store::now() + chrono::TimeDelta::days(i64::from(d.max(1))));
    let token = secrets::token::generate();
    let mut tx = db.begin().await?;
    store::tokens::create(&mut tx, user.id, name, &token, expires_at).await?;
    tx.commit().await?;
    Ok(token.reveal().to_owned())
}

async fn db(config: &Config) -> anyhow::Result<Db> {
    let db = runtime::connect(config).await?;
    db.migrate().await?;
    Ok(db)
}

pub async fn user(config: Config, cmd: UserCommand) -> anyhow::Result<()> {
    let db = db(&config).await?;
    match cmd {
        UserCommand::Create { name, admin, role, password_stdin } => {
            let role = if admin { Some(Role::Admin) } else { role };
            let (password, generated) = read_password(password_stdin)?;
            let shown = generated.then(|| password.expose_secret().to_owned());
            let user = create_user(&db, &name, role, password).await?;
            out!(
                "Created user {} (id {}, role {}).",
                user.username,
                user.id,
                user.global_role.map(Role::as_str).unwrap_or("none: grant product roles via the API")
            );
            if let Some(p) = shown {
                out!("Password: {p}");
                out!("(shown once; change it with `vulnbridge user set-password {}`)", user.username);
            }
        }
        UserCommand::List => {
            let mut c = db.conn().await?;
            let users = store::users::list(&mut c, &Default::default(), PageRequest::all()).await?;
            out!("{:<6} {:<24} {:<11} {:<7} last login", "id", "username", "role", "active");
            for u in users.results {
                out!(
                    "{:<6} {:<24} {:<11} {:<7} {}",
                    u.id.0,
                    u.username,
                    u.global_role.map(Role::as_str).unwrap_or("-"),
                    if u.is_active { "yes" } else { "no" },
                    u.last_login_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into())
                );
            }
        }
        UserCommand::SetPassword { name, password_stdin } => {
            let mut c = db.conn().await?;
            let Some(user) = store::users::get_by_username(&mut c, &name).await? else {
                bail!("no user named '{name}'");
            };
            let (password, generated) = read_password(password_stdin)?;
            let shown = generated.then(|| password.expose_secret().to_owned());
            let password_hash = hash(password).await?;
            store::users::update(&mut c, user.id, UserChanges { password_hash: Some(password_hash), ..Default::default() }).await?;
            out!("Password of {} changed.", user.username);
            if let Some(p) = shown {
                out!("Password: {p}");
            }
        }
    }
    Ok(())
}

pub async fn token(config: Config, cmd: TokenCommand) -> anyhow::Result<()> {
    let db = db(&config).await?;
    match cmd {
        TokenCommand::Create { user, name, expires_in_days } => {
            let mut c = db.conn().await?;
            let Some(u) = store::users::get_by_username(&mut c, &user).await? else {
                bail!("no user named '{user}'; create one with `vulnbridge user create {user}`");
            };
            if !u.is_active {
                bail!("user '{user}' is deactivated");
            }
            let token = create_token(&db, &u, &name, expires_in_days).await?;
            // The token alone on stdout, so scripts can capture it; the note on stderr.
            out!("{token}");
            eprintln!("API token for {} (shown once). Use it as `Authorization: Token <token>`.", u.username);
        }
    }
    Ok(())
}
