//! Encoded queries (`sysparm_query`): conditions `<field><operator><value>` joined by `^`
//! (AND), `^OR` (OR with the previous condition) and `^NQ` (a new query OR-ed with the
//! previous), `ORDERBY<field>` / `ORDERBYDESC<field>`, `^^` for a literal `^` in a value, and
//! dot-walked fields through references (`super_class.name`). The operators are the documented
//! ones (`=`, `!=`, `LIKE`, `STARTSWITH`, `ENDSWITH`) plus the comparisons, `IN`, `NOT IN`,
//! `NOT LIKE`, `ISEMPTY` and `ISNOTEMPTY` that filters produce.
//!
//! As on an instance with default settings, a condition naming a field the table does not have
//! is ignored (`glide.invalid_query.returns_no_rows` is false), and string comparisons ignore
//! case, as the database's collation does.

use super::auth::Caller;
use super::schema::{Kind, Table};
use super::state::{Record, State};
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
    StartsWith,
    EndsWith,
    Like,
    NotLike,
    In,
    NotIn,
    IsEmpty,
    IsNotEmpty,
}

/// Longest spellings first, so that `>=` is not read as `>`.
const OPERATORS: &[(&str, Op)] = &[
    ("ISNOTEMPTY", Op::IsNotEmpty),
    ("ISEMPTY", Op::IsEmpty),
    ("STARTSWITH", Op::StartsWith),
    ("ENDSWITH", Op::EndsWith),
    ("NOT LIKE", Op::NotLike),
    ("NOT IN", Op::NotIn),
    ("LIKE", Op::Like),
    ("IN", Op::In),
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("=", Op::Eq),
    (">", Op::Gt),
    ("<", Op::Lt),
];

#[derive(Clone, Debug)]
struct Condition {
    field: String,
    op: Op,
    value: String,
}

/// A parsed query: OR of groups (`^NQ`), each an AND of clauses, each an OR of conditions.
#[derive(Clone, Debug, Default)]
pub struct Query {
    groups: Vec<Vec<Vec<Condition>>>,
    order: Vec<(String, bool)>,
}

/// Splits on `^`, reading `^^` as a literal `^`.
fn split(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            if chars.peek() == Some(&'^') {
                chars.next();
                if let Some(last) = parts.last_mut() {
                    last.push('^');
                }
            } else {
                parts.push(String::new());
            }
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

fn condition(text: &str) -> Option<Condition> {
    let end = text
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'))
        .unwrap_or(text.len());
    let (field, rest) = text.split_at(end);
    if field.is_empty() {
        return None;
    }
    let (spelling, op) = OPERATORS.iter().find(|(s, _)| rest.starts_with(s))?;
    Some(Condition {
        field: field.to_owned(),
        op: *op,
        value: rest[spelling.len()..].to_owned(),
    })
}

impl Query {
    pub fn parse(text: &str) -> Query {
        let mut q = Query {
            groups: vec![Vec::new()],
            order: Vec::new(),
        };
        for part in split(text) {
            let part = part.trim();
            if part.is_empty() || part == "EQ" {
                continue;
            }
            if let Some(f) = part.strip_prefix("ORDERBYDESC") {
                q.order.push((f.to_owned(), true));
            } else if let Some(f) = part.strip_prefix("ORDERBY") {
                q.order.push((f.to_owned(), false));
            } else if part == "NQ" {
                q.groups.push(Vec::new());
            } else if let Some(rest) = part.strip_prefix("NQ") {
                q.groups.push(Vec::new());
                q.push_and(rest);
            } else if let Some(rest) = part.strip_prefix("OR") {
                match (
                    condition(rest),
                    q.groups.last_mut().and_then(|g| g.last_mut()),
                ) {
                    (Some(c), Some(clause)) => clause.push(c),
                    (Some(c), None) => q.push_clause(vec![c]),
                    // Not a condition: an unreadable part, ignored.
                    (None, _) => {}
                }
            } else {
                q.push_and(part);
            }
        }
        q
    }

    fn push_and(&mut self, text: &str) {
        if let Some(c) = condition(text) {
            self.push_clause(vec![c]);
        }
    }

    fn push_clause(&mut self, clause: Vec<Condition>) {
        if let Some(g) = self.groups.last_mut() {
            g.push(clause);
        }
    }

    /// Adds `field=value` conditions (the Table API's name-value pair parameters).
    pub fn and_equals(&mut self, field: &str, value: &str) {
        for g in &mut self.groups {
            g.push(vec![Condition {
                field: field.to_owned(),
                op: Op::Eq,
                value: value.to_owned(),
            }]);
        }
    }

    pub fn matches(&self, state: &State, caller: &Caller, r: &Record) -> bool {
        self.groups.iter().any(|g| {
            g.iter()
                .all(|clause| clause.iter().any(|c| holds(state, caller, r, c)))
        })
    }

    /// Sorts records by the `ORDERBY` clauses (stable: insertion order breaks ties).
    pub fn sort(&self, state: &State, records: &mut [&Record]) {
        if self.order.is_empty() {
            return;
        }
        records.sort_by(|a, b| {
            for (field, desc) in &self.order {
                let (ka, kb) = (value_of(state, a, field), value_of(state, b, field));
                let kind = kind_of(a.schema(), field);
                let ord = compare(
                    kind,
                    ka.as_deref().unwrap_or(""),
                    kb.as_deref().unwrap_or(""),
                );
                let ord = if *desc { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
}

/// A field's value on a record, following references for dot-walked names; `None` when the
/// table has no such field.
pub fn value_of(state: &State, r: &Record, path: &str) -> Option<String> {
    let mut record = r;
    let mut parts = path.split('.').peekable();
    while let Some(name) = parts.next() {
        let field = record.schema().field(name)?;
        if parts.peek().is_none() {
            return Some(record.get(name).to_owned());
        }
        let Kind::Reference(target) = field.kind else {
            return None;
        };
        match state
            .get(record.get(name))
            .filter(|t| t.schema().is_a(target))
        {
            Some(next) => record = next,
            // An empty or dangling reference: every field behind it is empty.
            None => {
                return crate::servicenow::schema::table(target)
                    .and_then(|t| walk_exists(t, parts))
                    .map(|()| String::new());
            }
        }
    }
    None
}

/// Whether the rest of a dot-walked path names fields that exist, from `table`.
fn walk_exists<'a>(table: &'static Table, parts: impl Iterator<Item = &'a str>) -> Option<()> {
    let mut t = table;
    let mut parts = parts.peekable();
    while let Some(name) = parts.next() {
        let f = t.field(name)?;
        if parts.peek().is_some() {
            let Kind::Reference(target) = f.kind else {
                return None;
            };
            t = crate::servicenow::schema::table(target)?;
        }
    }
    Some(())
}

/// The type of the field a (dot-walked) path ends at.
fn kind_of(table: &'static Table, path: &str) -> Kind {
    let mut t = table;
    let mut kind = Kind::Text(0);
    for name in path.split('.') {
        let Some(f) = t.field(name) else {
            return Kind::Text(0);
        };
        kind = f.kind;
        if let Kind::Reference(target) = f.kind
            && let Some(next) = crate::servicenow::schema::table(target)
        {
            t = next;
        }
    }
    kind
}

fn compare(kind: Kind, a: &str, b: &str) -> Ordering {
    if kind == Kind::Integer {
        let (x, y) = (a.trim().parse::<i64>(), b.trim().parse::<i64>());
        if let (Ok(x), Ok(y)) = (x, y) {
            return x.cmp(&y);
        }
    }
    a.to_lowercase().cmp(&b.to_lowercase())
}

fn normalize(kind: Kind, v: &str) -> String {
    match (kind, v.trim()) {
        (Kind::Boolean, "1" | "true") => "true".into(),
        (Kind::Boolean, "0" | "false") => "false".into(),
        _ => v.to_lowercase(),
    }
}

fn holds(state: &State, caller: &Caller, r: &Record, c: &Condition) -> bool {
    // A condition on a field the table lacks is ignored: it holds.
    let Some(actual) = value_of(state, r, &c.field) else {
        return true;
    };
    let kind = kind_of(r.schema(), &c.field);
    let wanted = match c.value.trim() {
        "javascript:gs.getUserID()" => caller.sys_id.clone(),
        "javascript:gs.getUserName()" => caller.user_name.clone(),
        _ => c.value.clone(),
    };
    let (a, w) = (normalize(kind, &actual), normalize(kind, &wanted));
    match c.op {
        Op::Eq => a == w,
        Op::Ne => a != w,
        Op::Ge => compare(kind, &actual, &wanted) != Ordering::Less,
        Op::Le => compare(kind, &actual, &wanted) != Ordering::Greater,
        Op::Gt => compare(kind, &actual, &wanted) == Ordering::Greater,
        Op::Lt => compare(kind, &actual, &wanted) == Ordering::Less,
        Op::StartsWith => a.starts_with(&w),
        Op::EndsWith => a.ends_with(&w),
        Op::Like => a.contains(&w),
        Op::NotLike => !a.contains(&w),
        Op::In => wanted.split(',').any(|v| normalize(kind, v) == a),
        Op::NotIn => !wanted.split(',').any(|v| normalize(kind, v) == a),
        Op::IsEmpty => actual.is_empty(),
        Op::IsNotEmpty => !actual.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn incident(pairs: &[(&str, &str)]) -> Record {
        let values: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Record {
            table: "incident",
            values,
        }
    }

    fn caller() -> Caller {
        Caller {
            user_name: "bot".into(),
            sys_id: "u1".into(),
            roles: vec!["itil".into()],
        }
    }

    #[test]
    fn and_or_and_new_queries() {
        let s = State::new();
        let r = incident(&[
            ("state", "2"),
            ("active", "true"),
            ("correlation_id", "vulnbridge:k:m3:f1"),
        ]);
        let m = |q: &str| Query::parse(q).matches(&s, &caller(), &r);
        assert!(m("state=2^active=true"));
        assert!(!m("state=1^active=true"));
        assert!(m("state=1^ORstate=2"));
        assert!(m("state=1^NQactive=1"));
        assert!(m("correlation_idSTARTSWITHvulnbridge:k:m3:"));
        assert!(!m("correlation_idSTARTSWITHvulnbridge:k:m4:"));
        assert!(m("stateIN1,2,3"));
        assert!(m("state>=2^state<3"));
        assert!(m("no_such_field=1"), "an invalid condition is ignored");
        assert!(m(""));
    }

    #[test]
    fn carets_can_be_escaped_and_orders_are_read() {
        let q = Query::parse("short_description=a^^b^ORDERBYDESCsys_updated_on^ORDERBYnumber");
        assert_eq!(
            q.order,
            vec![
                ("sys_updated_on".to_owned(), true),
                ("number".to_owned(), false)
            ]
        );
        let s = State::new();
        assert!(q.matches(&s, &caller(), &incident(&[("short_description", "A^B")])));
    }

    #[test]
    fn integers_compare_as_numbers() {
        assert_eq!(compare(Kind::Integer, "10", "9"), Ordering::Greater);
        assert_eq!(compare(Kind::Text(10), "10", "9"), Ordering::Less);
    }
}
