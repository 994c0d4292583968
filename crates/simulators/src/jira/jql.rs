//! A subset of JQL: clauses on `project`, `key`/`issuekey`/`id`, `labels`, `status`,
//! `statusCategory`, `issuetype`/`type`, `priority`, `component`, `resolution`,
//! `created`/`updated` (absolute `yyyy-MM-dd[ HH:mm]` or relative `-5d` dates, in the user's
//! time zone, which is UTC here) and `summary`/`description`/`text` (`~` contains), joined with
//! `AND`, `OR`, `NOT` and parentheses, then `ORDER BY`. Errors are Jira's: an unknown field, a
//! value the field does not have, a date in no accepted format, or a syntax error.

use super::state::{Issue, State};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(format!(
                                "Error in the JQL Query: The quoted string '{s}' has not been completed. (line 1, character {})",
                                i
                            ));
                        }
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                s.push(*n);
                            }
                            i += 2;
                        }
                        Some(ch) if *ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Quoted(s));
            }
            '=' => {
                out.push(Token::Op("="));
                i += 1;
            }
            '~' => {
                out.push(Token::Op("~"));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Token::Op("!="));
                i += 2;
            }
            '!' if chars.get(i + 1) == Some(&'~') => {
                out.push(Token::Op("!~"));
                i += 2;
            }
            '>' | '<' => {
                let eq = chars.get(i + 1) == Some(&'=');
                out.push(Token::Op(match (c, eq) {
                    ('>', true) => ">=",
                    ('>', false) => ">",
                    ('<', true) => "<=",
                    _ => "<",
                }));
                i += if eq { 2 } else { 1 };
            }
            '&' if chars.get(i + 1) == Some(&'&') => {
                out.push(Token::Word("AND".into()));
                i += 2;
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                out.push(Token::Word("OR".into()));
                i += 2;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !"()=,!<>~\"'".contains(chars[i])
                {
                    i += 1;
                }
                if i == start {
                    return Err(format!(
                        "Error in the JQL Query: The character '{c}' is a reserved JQL character. (line 1, character {start})"
                    ));
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq)]
enum Value {
    One(String),
    List(Vec<String>),
    Empty,
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Clause {
        field: Field,
        op: &'static str,
        value: Value,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Project,
    Key,
    Labels,
    Status,
    StatusCategory,
    IssueType,
    Priority,
    Component,
    Resolution,
    Created,
    Updated,
    Summary,
    Description,
    Text,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name.to_ascii_lowercase().as_str() {
            "project" => Field::Project,
            "key" | "issuekey" | "issue" | "id" => Field::Key,
            "labels" | "label" => Field::Labels,
            "status" => Field::Status,
            "statuscategory" => Field::StatusCategory,
            "issuetype" | "type" => Field::IssueType,
            "priority" => Field::Priority,
            "component" => Field::Component,
            "resolution" => Field::Resolution,
            "created" | "createddate" => Field::Created,
            "updated" | "updateddate" => Field::Updated,
            "summary" => Field::Summary,
            "description" => Field::Description,
            "text" => Field::Text,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Field::Project => "project",
            Field::Key => "key",
            Field::Labels => "labels",
            Field::Status => "status",
            Field::StatusCategory => "statusCategory",
            Field::IssueType => "issuetype",
            Field::Priority => "priority",
            Field::Component => "component",
            Field::Resolution => "resolution",
            Field::Created => "created",
            Field::Updated => "updated",
            Field::Summary => "summary",
            Field::Description => "description",
            Field::Text => "text",
        }
    }

    fn operators(self) -> &'static [&'static str] {
        match self {
            Field::Created | Field::Updated => &[
                "=", "!=", ">", ">=", "<", "<=", "IS", "IS NOT", "IN", "NOT IN",
            ],
            Field::Summary | Field::Description | Field::Text => &["~", "!~", "IS", "IS NOT"],
            Field::Key => &["=", "!=", "IN", "NOT IN", ">", ">=", "<", "<="],
            _ => &["=", "!=", "IN", "NOT IN", "IS", "IS NOT"],
        }
    }
}

/// A sort key of `ORDER BY`.
#[derive(Clone, Debug, PartialEq)]
struct Order {
    field: Field,
    descending: bool,
}

/// A parsed, checked query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    filter: Option<Expr>,
    order: Vec<Order>,
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
}

fn keyword(t: Option<&Token>, k: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(k))
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn describe(t: Option<&Token>) -> String {
        match t {
            None => "<EOF>".into(),
            Some(Token::Word(w)) | Some(Token::Quoted(w)) => w.clone(),
            Some(Token::Op(o)) => (*o).into(),
            Some(Token::Open) => "(".into(),
            Some(Token::Close) => ")".into(),
            Some(Token::Comma) => ",".into(),
        }
    }

    fn error(&self, expecting: &str) -> String {
        format!(
            "Error in the JQL Query: Expecting {expecting} but got '{}'.",
            Self::describe(self.peek())
        )
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while keyword(self.peek(), "OR") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.not()?;
        while keyword(self.peek(), "AND") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if keyword(self.peek(), "NOT") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let e = self.or()?;
            if self.next() != Some(Token::Close) {
                self.at -= 1;
                return Err(self.error("')'"));
            }
            return Ok(e);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Expr, String> {
        let name = match self.next() {
            Some(Token::Word(w)) | Some(Token::Quoted(w)) => w,
            _ => {
                self.at -= 1;
                return Err(self.error("a field name"));
            }
        };
        let field = Field::parse(&name).ok_or_else(|| {
            format!("Field '{name}' does not exist or you do not have permission to view it.")
        })?;
        let op: &'static str = match self.next() {
            Some(Token::Op(o)) => o,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IN") => "IN",
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IS") => {
                if keyword(self.peek(), "NOT") {
                    self.at += 1;
                    "IS NOT"
                } else {
                    "IS"
                }
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("NOT") && keyword(self.peek(), "IN") => {
                self.at += 1;
                "NOT IN"
            }
            _ => {
                self.at -= 1;
                return Err(self.error("operator"));
            }
        };
        if !field.operators().contains(&op) {
            return Err(format!(
                "The operator '{op}' is not supported by the '{}' field.",
                field.name()
            ));
        }
        let value = if matches!(op, "IN" | "NOT IN") {
            if self.next() != Some(Token::Open) {
                self.at -= 1;
                return Err(self.error("'('"));
            }
            let mut items = Vec::new();
            loop {
                match self.next() {
                    Some(Token::Word(w)) | Some(Token::Quoted(w)) => items.push(w),
                    _ => {
                        self.at -= 1;
                        return Err(self.error("a value"));
                    }
                }
                match self.next() {
                    Some(Token::Comma) => continue,
                    Some(Token::Close) => break,
                    _ => {
                        self.at -= 1;
                        return Err(self.error("',' or ')'"));
                    }
                }
            }
            Value::List(items)
        } else {
            match self.next() {
                Some(Token::Word(w))
                    if w.eq_ignore_ascii_case("EMPTY") || w.eq_ignore_ascii_case("NULL") =>
                {
                    Value::Empty
                }
                Some(Token::Word(w)) | Some(Token::Quoted(w)) => Value::One(w),
                _ => {
                    self.at -= 1;
                    return Err(self.error("either a value, 'EMPTY' or 'NULL'"));
                }
            }
        };
        if matches!(op, "IS" | "IS NOT") && value != Value::Empty {
            return Err(format!(
                "The operator '{op}' can only be used with 'EMPTY' or 'NULL'."
            ));
        }
        Ok(Expr::Clause { field, op, value })
    }
}

/// Parses and checks a query against the site (projects, statuses, types, priorities,
/// components that exist; dates in an accepted format).
pub fn parse(input: &str, state: &State) -> Result<Query, String> {
    let tokens = tokenize(input)?;
    let order_at = tokens
        .windows(2)
        .position(|w| keyword(Some(&w[0]), "ORDER") && keyword(Some(&w[1]), "BY"))
        .unwrap_or(tokens.len());
    let (where_part, order_part) = tokens.split_at(order_at);
    let filter = if where_part.is_empty() {
        None
    } else {
        let mut p = Parser {
            tokens: where_part,
            at: 0,
        };
        let e = p.or()?;
        if p.at < where_part.len() {
            return Err(p.error("AND, OR or ORDER BY"));
        }
        Some(e)
    };
    let mut order = Vec::new();
    if !order_part.is_empty() {
        let items = &order_part[2..];
        for group in items.split(|t| *t == Token::Comma) {
            let (name, dir) =
                match group {
                    [Token::Word(f) | Token::Quoted(f)] => (f, None),
                    [Token::Word(f) | Token::Quoted(f), Token::Word(d)] => (f, Some(d)),
                    _ => return Err(
                        "Error in the JQL Query: Expecting a field name in the ORDER BY clause."
                            .into(),
                    ),
                };
            let field = Field::parse(name).ok_or_else(|| {
                format!("Field '{name}' does not exist or you do not have permission to view it.")
            })?;
            let descending = match dir.map(|d| d.to_ascii_uppercase()) {
                None => matches!(field, Field::Created | Field::Updated),
                Some(d) if d == "DESC" => true,
                Some(d) if d == "ASC" => false,
                Some(d) => {
                    return Err(format!(
                        "Error in the JQL Query: Expecting either 'ASC' or 'DESC' but got '{d}'."
                    ));
                }
            };
            order.push(Order { field, descending });
        }
    }
    let q = Query { filter, order };
    if let Some(e) = &q.filter {
        check(e, state)?;
    }
    Ok(q)
}

fn check(e: &Expr, state: &State) -> Result<(), String> {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            check(a, state)?;
            check(b, state)
        }
        Expr::Not(a) => check(a, state),
        Expr::Clause { field, value, .. } => {
            let values: Vec<&String> = match value {
                Value::One(v) => vec![v],
                Value::List(vs) => vs.iter().collect(),
                Value::Empty => Vec::new(),
            };
            for v in values {
                let exists = match field {
                    Field::Project => state.project(v).is_some(),
                    Field::Status => state.status_by_name(v).is_some() || state.status(v).is_some(),
                    Field::StatusCategory => {
                        ["new", "indeterminate", "done", "to do", "in progress"]
                            .contains(&v.to_ascii_lowercase().as_str())
                    }
                    Field::IssueType => state
                        .issue_types
                        .values()
                        .any(|t| t.name.eq_ignore_ascii_case(v) || t.id == *v),
                    Field::Priority => state
                        .priorities
                        .iter()
                        .any(|p| p.name.eq_ignore_ascii_case(v) || p.id == *v),
                    Field::Resolution => {
                        v.eq_ignore_ascii_case("unresolved")
                            || state
                                .resolutions
                                .iter()
                                .any(|r| r.name.eq_ignore_ascii_case(v) || r.id == *v)
                    }
                    Field::Component => state.projects.values().any(|p| {
                        p.components
                            .iter()
                            .any(|c| c.name.eq_ignore_ascii_case(v) || c.id == *v)
                    }),
                    Field::Created | Field::Updated => {
                        date_value(v).ok_or_else(|| {
                            format!(
                                "Date value '{v}' for field '{}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.",
                                field.name()
                            )
                        })?;
                        true
                    }
                    Field::Key
                    | Field::Labels
                    | Field::Summary
                    | Field::Description
                    | Field::Text => true,
                };
                if !exists {
                    return Err(format!(
                        "The value '{v}' does not exist for the field '{}'.",
                        field.name()
                    ));
                }
            }
            Ok(())
        }
    }
}

/// `yyyy-MM-dd HH:mm`, `yyyy/MM/dd HH:mm`, `yyyy-MM-dd`, `yyyy/MM/dd` (UTC), or a period before
/// now (`-5d`, `-2h`, `-30m`, `-1w`, also combined: `-1d 2h`).
fn date_value(v: &str) -> Option<DateTime<Utc>> {
    let v = v.trim();
    for f in ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            return Some(t.and_utc());
        }
    }
    for f in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(v, f) {
            return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
    }
    let (sign, rest) = match v.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, v.strip_prefix('+').unwrap_or(v)),
    };
    let mut total = TimeDelta::zero();
    let mut any = false;
    for part in rest.split_whitespace() {
        let (n, unit) = part.split_at(part.find(|c: char| !c.is_ascii_digit())?);
        let n: i64 = n.parse().ok()?;
        total += match unit {
            "m" => TimeDelta::minutes(n),
            "h" => TimeDelta::hours(n),
            "d" => TimeDelta::days(n),
            "w" => TimeDelta::weeks(n),
            _ => return None,
        };
        any = true;
    }
    any.then(|| Utc::now() + total * sign)
}

impl Query {
    /// Whether the query restricts what it finds (`search/jql` refuses unbounded queries).
    pub fn bounded(&self) -> bool {
        self.filter.is_some()
    }

    pub fn matches(&self, state: &State, issue: &Issue) -> bool {
        self.filter.as_ref().is_none_or(|e| eval(e, state, issue))
    }

    /// Sorts found issues: the `ORDER BY` keys, then the newest first (Jira's default order).
    pub fn sort(&self, state: &State, issues: &mut [&Issue]) {
        issues.sort_by(|a, b| {
            for o in &self.order {
                let c = compare(o.field, state, a, b);
                let c = if o.descending { c.reverse() } else { c };
                if c != Ordering::Equal {
                    return c;
                }
            }
            number(b).cmp(&number(a))
        });
    }
}

fn number(i: &Issue) -> u64 {
    i.id.parse().unwrap_or(0)
}

fn compare(field: Field, state: &State, a: &Issue, b: &Issue) -> Ordering {
    match field {
        Field::Created => a.created.cmp(&b.created),
        Field::Updated => a.updated.cmp(&b.updated),
        Field::Summary => a.summary.to_lowercase().cmp(&b.summary.to_lowercase()),
        Field::Priority => b.priority.cmp(&a.priority),
        Field::Status => {
            let name = |i: &Issue| {
                state
                    .status(&i.status)
                    .map(|s| s.name.clone())
                    .unwrap_or_default()
            };
            name(a).cmp(&name(b))
        }
        _ => number(a).cmp(&number(b)),
    }
}

fn eval(e: &Expr, state: &State, i: &Issue) -> bool {
    match e {
        Expr::And(a, b) => eval(a, state, i) && eval(b, state, i),
        Expr::Or(a, b) => eval(a, state, i) || eval(b, state, i),
        Expr::Not(a) => !eval(a, state, i),
        Expr::Clause { field, op, value } => clause(*field, op, value, state, i),
    }
}

fn clause(field: Field, op: &str, value: &Value, state: &State, i: &Issue) -> bool {
    // The issue's values for the field (several for labels and components).
    let have: Vec<String> = match field {
        Field::Project => state
            .project_by_id(&i.project_id)
            .map(|p| vec![p.key.to_lowercase(), p.id.clone()])
            .unwrap_or_default(),
        Field::Key => vec![i.key.to_lowercase(), i.id.clone()],
        Field::Labels => i.labels.iter().map(|l| l.to_lowercase()).collect(),
        Field::Status => state
            .status(&i.status)
            .map(|s| vec![s.name.to_lowercase(), s.id.clone()])
            .unwrap_or_default(),
        Field::StatusCategory => state
            .status(&i.status)
            .map(|s| {
                vec![
                    s.category.key().to_owned(),
                    s.category.name().to_lowercase(),
                ]
            })
            .unwrap_or_default(),
        Field::IssueType => state
            .issue_types
            .get(&i.issue_type)
            .map(|t| vec![t.name.to_lowercase(), t.id.clone()])
            .unwrap_or_default(),
        Field::Priority => state
            .priority(&i.priority)
            .map(|p| vec![p.name.to_lowercase(), p.id.clone()])
            .unwrap_or_default(),
        Field::Component => state
            .project_by_id(&i.project_id)
            .map(|p| {
                p.components
                    .iter()
                    .filter(|c| i.components.contains(&c.id))
                    .flat_map(|c| [c.name.to_lowercase(), c.id.clone()])
                    .collect()
            })
            .unwrap_or_default(),
        Field::Resolution => match i.resolution.as_deref().and_then(|r| state.resolution(r)) {
            Some(r) => vec![r.name.to_lowercase(), r.id.clone()],
            None => vec!["unresolved".into()],
        },
        Field::Created | Field::Updated => {
            let t = if field == Field::Created {
                i.created
            } else {
                i.updated
            };
            return match value {
                Value::One(v) => date_value(v).is_some_and(|d| match op {
                    "=" => t == d,
                    "!=" => t != d,
                    ">" => t > d,
                    ">=" => t >= d,
                    "<" => t < d,
                    _ => t <= d,
                }),
                Value::List(vs) => {
                    let hit = vs.iter().filter_map(|v| date_value(v)).any(|d| d == t);
                    if op == "IN" { hit } else { !hit }
                }
                Value::Empty => op == "IS NOT",
            };
        }
        Field::Summary | Field::Description | Field::Text => {
            let text = match field {
                Field::Summary => i.summary.to_lowercase(),
                Field::Description => i
                    .description
                    .as_ref()
                    .map(|d| d.to_text().to_lowercase())
                    .unwrap_or_default(),
                _ => format!(
                    "{} {}",
                    i.summary,
                    i.description
                        .as_ref()
                        .map(|d| d.to_text())
                        .unwrap_or_default()
                )
                .to_lowercase(),
            };
            return match (op, value) {
                ("~", Value::One(v)) => text.contains(&v.to_lowercase()),
                ("!~", Value::One(v)) => !text.contains(&v.to_lowercase()),
                ("IS", _) => text.is_empty(),
                (_, _) => !text.is_empty(),
            };
        }
    };
    let has = |v: &str| {
        let v = v.to_lowercase();
        have.contains(&v)
    };
    let empty = (field == Field::Resolution && i.resolution.is_none()) || have.is_empty();
    match (op, value) {
        ("=", Value::One(v)) => has(v),
        ("!=", Value::One(v)) => !has(v),
        ("IN", Value::List(vs)) => vs.iter().any(|v| has(v)),
        ("NOT IN", Value::List(vs)) => !vs.iter().any(|v| has(v)),
        ("IS", Value::Empty) | ("=", Value::Empty) => empty,
        ("IS NOT", Value::Empty) | ("!=", Value::Empty) => !empty,
        (">" | ">=" | "<" | "<=", Value::One(v)) if field == Field::Key => {
            let Some(other) = state.issue(v) else {
                return false;
            };
            let (a, b) = (number(i), number(other));
            match op {
                ">" => a > b,
                ">=" => a >= b,
                "<" => a < b,
                _ => a <= b,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let mut s = State::default();
        s.projects.insert(
            "SEC".into(),
            super::super::state::Project {
                id: "10001".into(),
                key: "SEC".into(),
                name: "Security".into(),
                lead: 0,
                issue_types: Vec::new(),
                components: Vec::new(),
                next_number: 1,
                grants: Default::default(),
            },
        );
        s
    }

    #[test]
    fn the_marker_query_parses_and_checks() {
        let s = state();
        let q = parse(r#"project = SEC AND labels = "vulnbridge" AND updated >= "2024-01-31 10:15" ORDER BY created ASC"#, &s).unwrap();
        assert!(q.bounded());
        assert_eq!(
            q.order,
            vec![Order {
                field: Field::Created,
                descending: false
            }]
        );
        assert!(!parse("ORDER BY key DESC", &s).unwrap().bounded());
        assert_eq!(
            parse("project = NOPE", &s).unwrap_err(),
            "The value 'NOPE' does not exist for the field 'project'."
        );
        assert_eq!(
            parse("colour = red", &s).unwrap_err(),
            "Field 'colour' does not exist or you do not have permission to view it."
        );
        assert!(
            parse(r#"updated >= "31/01/2024""#, &s)
                .unwrap_err()
                .starts_with("Date value '31/01/2024' for field 'updated' is invalid.")
        );
        assert!(
            parse("project = SEC AND", &s)
                .unwrap_err()
                .starts_with("Error in the JQL Query:")
        );
        assert_eq!(
            parse("labels > x", &s).unwrap_err(),
            "The operator '>' is not supported by the 'labels' field."
        );
        assert!(parse("project in (SEC) AND (labels = a OR labels = b) AND NOT status = Done AND updated >= -5d", &s).is_ok());
    }

    #[test]
    fn dates_are_absolute_or_relative() {
        assert_eq!(
            date_value("2024-01-31 10:15").map(|d| d.to_rfc3339()),
            Some("2024-01-31T10:15:00+00:00".into())
        );
        assert_eq!(
            date_value("2024/01/31").map(|d| d.to_rfc3339()),
            Some("2024-01-31T00:00:00+00:00".into())
        );
        let d = date_value("-1d 2h").unwrap_or_default();
        assert!((Utc::now() - d - TimeDelta::hours(26)).num_seconds().abs() < 5);
        assert!(date_value("yesterday").is_none());
    }
}
