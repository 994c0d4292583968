//! Who is calling: HTTP Basic (a user and password) or `Authorization: Bearer` with an access
//! token from `/oauth_token.do`; and what the caller's roles allow on a table (the ACLs of a
//! base instance, simplified to roles: `itil` reads and writes task records, `snc_read_only`
//! only reads, `admin` does everything, deleting included; everyone signed in reads the
//! system tables).

use super::schema::Table;
use super::state::State;
use axum::http::{HeaderMap, header};
use base64::Engine;
use chrono::Utc;

/// The authenticated user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_name: String,
    pub sys_id: String,
    pub roles: Vec<String>,
}

impl Caller {
    fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role || r == "admin")
    }

    pub fn may_read(&self, table: &Table) -> bool {
        !table.is_task() || self.has("itil") || self.has("snc_read_only")
    }

    pub fn may_write(&self, table: &Table) -> bool {
        table.is_task() && self.has("itil")
    }

    pub fn may_delete(&self, table: &Table) -> bool {
        table.is_task() && self.has("admin")
    }
}

/// The caller a request's `Authorization` header names, if it is valid now.
pub fn authenticate(state: &State, headers: &HeaderMap) -> Option<Caller> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    let user_name = if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        let account = state.accounts.get(user)?;
        (account.password == password).then(|| user.to_owned())?
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let now = Utc::now();
        let t = state
            .access_tokens
            .iter()
            .find(|t| t.token == rest && t.expires_at > now)?;
        t.user_name.clone()
    } else {
        return None;
    };
    let account = state.accounts.get(&user_name)?;
    // An inactive or locked-out user cannot sign in.
    let active = state
        .get(&account.sys_id)
        .is_some_and(|r| r.get("active") == "true");
    active.then(|| Caller {
        user_name,
        sys_id: account.sys_id.clone(),
        roles: account.roles.clone(),
    })
}
