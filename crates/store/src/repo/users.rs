use crate::error::on_unique;
use crate::query::{PageRequest, QueryBuf, contains_pattern};
use crate::repo::fetch_page;
use crate::{AsConn, Page, Result, StoreError, now, on_conn};
use chrono::{DateTime, Utc};
use domain::{Role, User, UserId};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    username: String,
    display_name: Option<String>,
    email: Option<String>,
    global_role: Option<String>,
    is_active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for User {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<User> {
        let global_role = match r.global_role {
            Some(s) => Some(
                Role::parse(&s)
                    .ok_or_else(|| StoreError::corrupt("users", format!("global_role = '{s}'")))?,
            ),
            None => None,
        };
        Ok(User {
            id: UserId(r.id),
            username: r.username,
            display_name: r.display_name,
            email: r.email,
            global_role,
            is_active: r.is_active,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_login_at: r.last_login_at,
        })
    }
}

const COLUMNS: &str = "id, username, display_name, email, global_role, is_active, created_at, updated_at, last_login_at";

/// What `create` needs; the password is already hashed (hashing is slow and belongs on a
/// blocking thread, outside any transaction).
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Checked with `domain::parse_username`.
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub global_role: Option<Role>,
}

pub async fn create(c: &mut impl AsConn, new: NewUser) -> Result<User> {
    let username = domain::parse_username(&new.username)?;
    let t = now();
    let row: Row = on_conn!(c, |conn| sqlx::query_as(
        "INSERT INTO users (username, display_name, email, password_hash, global_role, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6)
         RETURNING id, username, display_name, email, global_role, is_active, created_at, updated_at, last_login_at"
    )
    .bind(&username)
    .bind(domain::optional_text(new.display_name))
    .bind(domain::optional_text(new.email))
    .bind(new.password_hash)
    .bind(new.global_role.map(Role::as_str))
    .bind(t)
    .fetch_one(conn)
    .await)
    .map_err(on_unique("username", format!("a user named '{username}' already exists")))?;
    row.try_into()
}

pub async fn get(c: &mut impl AsConn, id: UserId) -> Result<User> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM users WHERE id = "));
    q.bind(id.0);
    q.fetch_optional::<Row>(c)
        .await?
        .ok_or_else(|| StoreError::not_found("user", id))?
        .try_into()
}

/// Usernames are matched case-insensitively, as they are unique case-insensitively.
pub async fn get_by_username(c: &mut impl AsConn, username: &str) -> Result<Option<User>> {
    let mut q = QueryBuf::new(&format!("SELECT {COLUMNS} FROM users WHERE lower(username) = "));
    q.bind(username.trim().to_lowercase());
    q.fetch_optional::<Row>(c).await?.map(TryInto::try_into).transpose()
}

/// The user and password hash for a login attempt, if the user exists and is active.
pub async fn credentials(c: &mut impl AsConn, username: &str) -> Result<Option<(User, String)>> {
    #[derive(sqlx::FromRow)]
    struct WithHash {
        #[sqlx(flatten)]
        row: Row,
        password_hash: Option<String>,
    }
    let mut q = QueryBuf::new(&format!(
        "SELECT {COLUMNS}, password_hash FROM users WHERE is_active AND lower(username) = "
    ));
    q.bind(username.trim().to_lowercase());
    match q.fetch_optional::<WithHash>(c).await? {
        Some(WithHash { row, password_hash: Some(h) }) => Ok(Some((row.try_into()?, h))),
        _ => Ok(None),
    }
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub username: Option<String>,
    pub active: Option<bool>,
}

pub async fn list(c: &mut impl AsConn, filter: &Filter, page: PageRequest) -> Result<Page<User>> {
    let (count, rows) = fetch_page::<Row>(
        c,
        COLUMNS,
        |q| {
            q.push(" FROM users WHERE 1 = 1");
            if let Some(u) = &filter.username {
                q.push(" AND LOWER(username) LIKE ")
                    .bind(contains_pattern(u))
                    .push(" ESCAPE '\\'");
            }
            if let Some(a) = filter.active {
                q.push(" AND is_active = ").bind(a);
            }
        },
        "lower(username), id",
        page,
    )
    .await?;
    Ok(Page {
        count,
        results: rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_>>()?,
    })
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub display_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub global_role: Option<Option<Role>>,
    pub is_active: Option<bool>,
    pub password_hash: Option<String>,
}

pub async fn update(c: &mut impl AsConn, id: UserId, ch: UserChanges) -> Result<User> {
    let mut q = QueryBuf::new("UPDATE users SET updated_at = ");
    q.bind(now());
    if let Some(v) = ch.display_name {
        q.push(", display_name = ").bind(domain::optional_text(v));
    }
    if let Some(v) = ch.email {
        q.push(", email = ").bind(domain::optional_text(v));
    }
    if let Some(v) = ch.global_role {
        q.push(", global_role = ").bind(v.map(Role::as_str));
    }
    if let Some(v) = ch.is_active {
        q.push(", is_active = ").bind(v);
    }
    if let Some(v) = ch.password_hash {
        q.push(", password_hash = ").bind(v);
    }
    q.push(" WHERE id = ").bind(id.0);
    if q.execute(c).await? == 0 {
        return Err(StoreError::not_found("user", id));
    }
    get(c, id).await
}

pub async fn record_login(c: &mut impl AsConn, id: UserId) -> Result<()> {
    on_conn!(c, |conn| sqlx::query("UPDATE users SET last_login_at = $2 WHERE id = $1")
        .bind(id.0)
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete(c: &mut impl AsConn, id: UserId) -> Result<()> {
    let n = on_conn!(c, |conn| sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::not_found("user", id));
    }
    Ok(())
}

/// Active administrators, so the last one cannot be demoted or deleted.
pub async fn count_active_admins(c: &mut impl AsConn) -> Result<i64> {
    Ok(QueryBuf::new(
        "SELECT COUNT(*) FROM users WHERE is_active AND global_role = 'admin'",
    )
    .fetch_count(c)
    .await?)
}
