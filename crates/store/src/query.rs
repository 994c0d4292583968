//! Dynamic SQL that runs on both backends: a SQL string with `$n` placeholders and a list of
//! typed arguments, bound per backend at execution. Used where the shape of a query depends on
//! input (list filters, multi-row inserts). Only placeholders ever carry input; column and
//! table names come from code.

use crate::{AsConn, Conn};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, FromRow};

/// A typed, possibly-NULL argument.
#[derive(Clone, Debug)]
pub enum Arg {
    I64(Option<i64>),
    I32(Option<i32>),
    I16(Option<i16>),
    F64(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    Json(Option<serde_json::Value>),
}

macro_rules! arg_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Arg { fn from(x: $t) -> Arg { Arg::$v(Some(x)) } }
        impl From<Option<$t>> for Arg { fn from(x: Option<$t>) -> Arg { Arg::$v(x) } }
    )*};
}
arg_from!(i64 => I64, i32 => I32, i16 => I16, f64 => F64, bool => Bool, String => Text,
          DateTime<Utc> => Time, NaiveDate => Date, serde_json::Value => Json);

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(Some(s.to_owned()))
    }
}
impl From<Option<&str>> for Arg {
    fn from(s: Option<&str>) -> Arg {
        Arg::Text(s.map(str::to_owned))
    }
}

/// Binds every argument onto a query, with the concrete types of the live backend.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                Arg::I64(v) => q.bind(v),
                Arg::I32(v) => q.bind(v),
                Arg::I16(v) => q.bind(v),
                Arg::F64(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Time(v) => q.bind(v),
                Arg::Date(v) => q.bind(v),
                Arg::Json(v) => q.bind(v.map(sqlx::types::Json)),
            };
        }
        q
    }};
}

/// Stands for a placeholder until the backend is known: `$n` on PostgreSQL, `?` on SQLite.
/// (SQLite resolves `$n` by name with a linear scan per parameter, which makes a 26,000-
/// parameter multi-row insert quadratic; anonymous `?` bind in order at no cost. Every
/// placeholder here is bound exactly once, in order, so the two spellings mean the same.)
const PLACEHOLDER: char = '\u{0}';

#[derive(Clone, Debug, Default)]
pub struct QueryBuf {
    sql: String,
    args: Vec<Arg>,
}

impl QueryBuf {
    pub fn new(sql: &str) -> Self {
        QueryBuf {
            sql: sql.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends SQL text (never input).
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder for `arg`.
    pub fn bind(&mut self, arg: impl Into<Arg>) -> &mut Self {
        self.args.push(arg.into());
        self.sql.push(PLACEHOLDER);
        self
    }

    /// The SQL text for a backend.
    fn render(sql: &str, backend: crate::Backend) -> String {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == PLACEHOLDER {
                n += 1;
                match backend {
                    crate::Backend::Sqlite => out.push('?'),
                    crate::Backend::Postgres => {
                        out.push('$');
                        out.push_str(&n.to_string());
                    }
                }
            } else {
                out.push(ch);
            }
        }
        out
    }

    /// Appends `(…, …)`: one placeholder per item, for `IN` lists.
    pub fn bind_list<T: Into<Arg>>(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        self.sql.push('(');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.bind(item);
        }
        self.sql.push(')');
        self
    }

    #[cfg(test)]
    pub fn sql(&self) -> String {
        Self::render(&self.sql, crate::Backend::Postgres)
    }

    #[cfg(test)]
    pub fn arg_count(&self) -> usize {
        self.args.len()
    }

    pub async fn fetch_all<R>(self, c: &mut impl AsConn) -> Result<Vec<R>, sqlx::Error>
    where
        R: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let QueryBuf { sql, args } = self;
        Ok(match c.as_conn() {
            Conn::Sqlite(conn) => {
                bind_all!(sqlx::query_as::<_, R>(AssertSqlSafe(Self::render(&sql, crate::Backend::Sqlite))), args)
                    .fetch_all(conn)
                    .await?
            }
            Conn::Postgres(conn) => {
                bind_all!(sqlx::query_as::<_, R>(AssertSqlSafe(Self::render(&sql, crate::Backend::Postgres))), args)
                    .fetch_all(conn)
                    .await?
            }
        })
    }

    pub async fn fetch_optional<R>(self, c: &mut impl AsConn) -> Result<Option<R>, sqlx::Error>
    where
        R: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let QueryBuf { sql, args } = self;
        Ok(match c.as_conn() {
            Conn::Sqlite(conn) => {
                bind_all!(sqlx::query_as::<_, R>(AssertSqlSafe(Self::render(&sql, crate::Backend::Sqlite))), args)
                    .fetch_optional(conn)
                    .await?
            }
            Conn::Postgres(conn) => {
                bind_all!(sqlx::query_as::<_, R>(AssertSqlSafe(Self::render(&sql, crate::Backend::Postgres))), args)
                    .fetch_optional(conn)
                    .await?
            }
        })
    }

    /// A single `i64` (e.g. `COUNT(*)`).
    pub async fn fetch_count(self, c: &mut impl AsConn) -> Result<i64, sqlx::Error> {
        let QueryBuf { sql, args } = self;
        Ok(match c.as_conn() {
            Conn::Sqlite(conn) => {
                bind_all!(sqlx::query_scalar::<_, i64>(AssertSqlSafe(Self::render(&sql, crate::Backend::Sqlite))), args)
                    .fetch_one(conn)
                    .await?
            }
            Conn::Postgres(conn) => {
                bind_all!(sqlx::query_scalar::<_, i64>(AssertSqlSafe(Self::render(&sql, crate::Backend::Postgres))), args)
                    .fetch_one(conn)
                    .await?
            }
        })
    }

    /// Executes, returning the number of rows affected.
    pub async fn execute(self, c: &mut impl AsConn) -> Result<u64, sqlx::Error> {
        let QueryBuf { sql, args } = self;
        Ok(match c.as_conn() {
            Conn::Sqlite(conn) => bind_all!(sqlx::query(AssertSqlSafe(Self::render(&sql, crate::Backend::Sqlite))), args)
                .execute(conn)
                .await?
                .rows_affected(),
            Conn::Postgres(conn) => bind_all!(sqlx::query(AssertSqlSafe(Self::render(&sql, crate::Backend::Postgres))), args)
                .execute(conn)
                .await?
                .rows_affected(),
        })
    }
}

/// Appends `arg` in PostgreSQL's `COPY … FROM STDIN` text format: `\N` for NULL, and
/// backslash, tab, newline and carriage return escaped.
pub(crate) fn copy_text(buf: &mut String, arg: &Arg) {
    use std::fmt::Write;
    fn text(buf: &mut String, s: &str) {
        for ch in s.chars() {
            match ch {
                '\\' => buf.push_str("\\\\"),
                '\t' => buf.push_str("\\t"),
                '\n' => buf.push_str("\\n"),
                '\r' => buf.push_str("\\r"),
                c => buf.push(c),
            }
        }
    }
    let _ = match arg {
        Arg::I64(Some(v)) => write!(buf, "{v}"),
        Arg::I32(Some(v)) => write!(buf, "{v}"),
        Arg::I16(Some(v)) => write!(buf, "{v}"),
        Arg::F64(Some(v)) => write!(buf, "{v:?}"),
        Arg::Bool(Some(v)) => write!(buf, "{}", if *v { 't' } else { 'f' }),
        Arg::Text(Some(v)) => {
            text(buf, v);
            Ok(())
        }
        Arg::Time(Some(v)) => write!(buf, "{}", v.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)),
        Arg::Date(Some(v)) => write!(buf, "{}", v.format("%Y-%m-%d")),
        Arg::Json(Some(v)) => {
            text(buf, &v.to_string());
            Ok(())
        }
        _ => write!(buf, "\\N"),
    };
}

/// `LIKE` pattern matching `needle` anywhere, case-insensitively (compare with `LOWER(col)`),
/// with `%`, `_` and `\` in the needle taken literally (use `ESCAPE '\'`).
pub fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for ch in needle.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// Limit/offset paging, bounded so that no request can ask for everything at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub offset: i64,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: i64 = 50;
    pub const MAX_LIMIT: i64 = 1000;

    pub fn new(limit: Option<i64>, offset: Option<i64>) -> Self {
        PageRequest {
            limit: limit.unwrap_or(Self::DEFAULT_LIMIT).clamp(1, Self::MAX_LIMIT),
            offset: offset.unwrap_or(0).max(0),
        }
    }

    pub fn all() -> Self {
        PageRequest {
            limit: i64::MAX,
            offset: 0,
        }
    }

    pub(crate) fn push_to(&self, q: &mut QueryBuf) {
        if self.limit != i64::MAX {
            q.push(" LIMIT ").bind(self.limit);
        }
        if self.offset > 0 {
            if self.limit == i64::MAX {
                q.push(" LIMIT -1");
            }
            q.push(" OFFSET ").bind(self.offset);
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::new(None, None)
    }
}

/// One page of results and the total count matching the filters.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub count: i64,
    pub results: Vec<T>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            count: self.count,
            results: self.results.into_iter().map(f).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered() {
        let mut q = QueryBuf::new("SELECT * FROM t WHERE a = ");
        q.bind(1i64).push(" AND b IN ").bind_list(["x", "y"]);
        assert_eq!(q.sql(), "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(q.arg_count(), 3);
    }

    #[test]
    fn copy_text_escapes() {
        let mut b = String::new();
        copy_text(&mut b, &Arg::Text(Some("a\tb\nc\\d".into())));
        b.push('|');
        copy_text(&mut b, &Arg::Text(None));
        b.push('|');
        copy_text(&mut b, &Arg::Bool(Some(true)));
        b.push('|');
        copy_text(&mut b, &Arg::F64(Some(0.1)));
        assert_eq!(b, "a\\tb\\nc\\\\d|\\N|t|0.1");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_Off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn paging_is_bounded() {
        assert_eq!(PageRequest::new(Some(5000), Some(-1)), PageRequest { limit: 1000, offset: 0 });
        assert_eq!(PageRequest::new(None, None).limit, 50);
    }
}
