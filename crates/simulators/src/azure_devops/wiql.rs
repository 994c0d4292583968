//! WIQL (`POST /{project}/_apis/wit/wiql`, `vso.work`): a flat query over work items,
//! answered with ids (`workItems: [{id, url}]`), as the service does.
//!
//! The simulator runs the subset integrations use: `SELECT <fields> FROM WorkItems [WHERE
//! <condition> [AND <condition>]…] [ORDER BY <field> [ASC|DESC], …]`, conditions
//! `[Field] <op> <value>` with `=`, `<>`, `<`, `<=`, `>`, `>=`, `CONTAINS`, `NOT CONTAINS`,
//! `IN (…)`, values `'text'`, numbers, `@project`, `@today`, `@me`. `CONTAINS` on `System.Tags`
//! matches a whole tag, as WIQL does. The service's errors: unknown fields (`TF51005`), syntax
//! (`TF51006`), `@project` at organization level, a time on a date without `timePrecision=true`,
//! more than 20,000 results (`VS402337`). Other valid WIQL (`OR`, `EVER`, `UNDER`, link queries)
//! is refused with a message saying the simulator does not run it.

use super::auth::Need;
use super::fields::{self, Kind};
use super::reply::{ApiError, json_ok};
use super::state::{State, WorkItem};
use super::version::Resource;
use super::{Call, Sh, render};
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

/// The most work items a WIQL query may return.
pub const MAX_RESULTS: usize = 20_000;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Field(String),
    Word(String),
    Str(String),
    Num(i64),
    Var(String),
    Op(String),
    Comma,
    Open,
    Close,
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Field(f) => format!("[{f}]"),
            Tok::Word(w) | Tok::Op(w) => w.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Num(n) => n.to_string(),
            Tok::Var(v) => format!("@{v}"),
            Tok::Comma => ",".into(),
            Tok::Open => "(".into(),
            Tok::Close => ")".into(),
        }
    }
}

fn syntax(near: &str) -> ApiError {
    ApiError::wiql(format!(
        "TF51006: Expecting end of string. The error is caused by «{near}»."
    ))
}

fn tokenize(q: &str) -> Result<Vec<Tok>, ApiError> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '[' => {
                let start = i + 1;
                let end = chars[start..]
                    .iter()
                    .position(|c| *c == ']')
                    .map(|p| start + p)
                    .ok_or_else(|| syntax("["))?;
                out.push(Tok::Field(
                    chars[start..end]
                        .iter()
                        .collect::<String>()
                        .trim()
                        .to_owned(),
                ));
                i = end + 1;
            }
            '\'' | '"' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax(&format!("{quote}{s}"))),
                        Some(ch) if *ch == quote => {
                            if chars.get(i + 1) == Some(&quote) {
                                s.push(quote);
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '<' | '>' | '=' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = if ["<>", "<=", ">="].contains(&two.as_str()) {
                    two
                } else {
                    c.to_string()
                };
                i += op.len();
                out.push(Tok::Op(op));
            }
            '@' => {
                let start = i + 1;
                let end = chars[start..]
                    .iter()
                    .position(|c| !(c.is_alphanumeric() || *c == '_'))
                    .map_or(chars.len(), |p| start + p);
                out.push(Tok::Var(chars[start..end].iter().collect()));
                i = end;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Tok::Num(text.parse().map_err(|_| syntax(&text))?));
            }
            c if c.is_alphanumeric() || c == '_' || c == '.' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            '+' | '-' => {
                out.push(Tok::Op(c.to_string()));
                i += 1;
            }
            other => return Err(syntax(&other.to_string())),
        }
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Str(String),
    Num(i64),
    Project,
    Me,
    /// `@today` plus this many days.
    Today(i64),
}

#[derive(Clone, Debug)]
struct Cond {
    field: &'static fields::FieldDef,
    op: String,
    values: Vec<Val>,
    text: String,
}

#[derive(Debug)]
struct Query {
    columns: Vec<&'static fields::FieldDef>,
    conds: Vec<Cond>,
    order: Vec<(&'static fields::FieldDef, bool)>,
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

fn unsupported(what: &str) -> ApiError {
    ApiError::wiql(format!(
        "The Azure DevOps simulator does not run WIQL with {what}; it runs flat queries whose conditions are joined by AND."
    ))
}

fn field_def(name: &str) -> Result<&'static fields::FieldDef, ApiError> {
    fields::field(name).ok_or_else(|| ApiError::wiql(format!("TF51005: The query references a field that does not exist. The error is caused by «{name}».")))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kw: &str) -> Result<(), ApiError> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(syntax(
                &self.peek().map_or_else(|| kw.to_owned(), Tok::text),
            ))
        }
    }

    fn field(&mut self) -> Result<&'static fields::FieldDef, ApiError> {
        match self.next() {
            Some(Tok::Field(f) | Tok::Word(f)) => field_def(&f),
            other => Err(syntax(&other.map_or_else(String::new, |t| t.text()))),
        }
    }

    fn value(&mut self) -> Result<Val, ApiError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Val::Str(s)),
            Some(Tok::Num(n)) => Ok(Val::Num(n)),
            Some(Tok::Var(v)) => match v.to_ascii_lowercase().as_str() {
                "project" => Ok(Val::Project),
                "me" => Ok(Val::Me),
                "today" => {
                    let sign = match self.peek() {
                        Some(Tok::Op(o)) if o == "+" => 1,
                        Some(Tok::Op(o)) if o == "-" => -1,
                        Some(Tok::Num(n)) if *n < 0 => {
                            let n = *n;
                            self.at += 1;
                            return Ok(Val::Today(n));
                        }
                        _ => return Ok(Val::Today(0)),
                    };
                    self.at += 1;
                    match self.next() {
                        Some(Tok::Num(n)) => Ok(Val::Today(sign * n)),
                        other => Err(syntax(&other.map_or_else(String::new, |t| t.text()))),
                    }
                }
                other => Err(unsupported(&format!("the macro @{other}"))),
            },
            other => Err(syntax(&other.map_or_else(String::new, |t| t.text()))),
        }
    }

    fn condition(&mut self) -> Result<Cond, ApiError> {
        if matches!(self.peek(), Some(Tok::Open)) {
            return Err(unsupported("parenthesized conditions"));
        }
        let start = self.at;
        let field = self.field()?;
        let op = match self.next() {
            Some(Tok::Op(o)) if ["=", "<>", "<", "<=", ">", ">="].contains(&o.as_str()) => o,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("contains") => "contains".to_owned(),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => "in".to_owned(),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") => {
                if self.keyword("contains") {
                    "not contains".to_owned()
                } else if self.keyword("in") {
                    "not in".to_owned()
                } else {
                    return Err(unsupported("NOT other than NOT CONTAINS and NOT IN"));
                }
            }
            Some(Tok::Word(w))
                if ["ever", "under", "was"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                return Err(unsupported(&w.to_uppercase()));
            }
            other => return Err(syntax(&other.map_or_else(String::new, |t| t.text()))),
        };
        let values = if op.ends_with("in") {
            if self.next() != Some(Tok::Open) {
                return Err(syntax(&op));
            }
            let mut vs = vec![self.value()?];
            loop {
                match self.next() {
                    Some(Tok::Comma) => vs.push(self.value()?),
                    Some(Tok::Close) => break,
                    other => return Err(syntax(&other.map_or_else(String::new, |t| t.text()))),
                }
            }
            vs
        } else {
            vec![self.value()?]
        };
        let text = self.toks[start..self.at]
            .iter()
            .map(Tok::text)
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Cond {
            field,
            op,
            values,
            text,
        })
    }

    fn query(&mut self) -> Result<Query, ApiError> {
        self.expect("select")?;
        if matches!(self.peek(), Some(Tok::Op(o)) if o == "*") {
            return Err(ApiError::wiql(
                "WIQL queries do not support the Select * operation.  You must specify at least one field in the select statement.",
            ));
        }
        let mut columns = vec![self.field()?];
        while matches!(self.peek(), Some(Tok::Comma)) {
            self.at += 1;
            columns.push(self.field()?);
        }
        self.expect("from")?;
        match self.next() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("workitems") => {}
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("workitemlinks") => {
                return Err(unsupported("FROM WorkItemLinks"));
            }
            other => return Err(syntax(&other.map_or_else(String::new, |t| t.text()))),
        }
        let mut conds = Vec::new();
        if self.keyword("where") {
            conds.push(self.condition()?);
            loop {
                if self.keyword("and") {
                    conds.push(self.condition()?);
                } else if self.keyword("or") {
                    return Err(unsupported("OR"));
                } else {
                    break;
                }
            }
        }
        let mut order = Vec::new();
        if self.keyword("order") {
            self.expect("by")?;
            loop {
                let f = self.field()?;
                let desc = if self.keyword("desc") {
                    true
                } else {
                    self.keyword("asc");
                    false
                };
                order.push((f, desc));
                if matches!(self.peek(), Some(Tok::Comma)) {
                    self.at += 1;
                } else {
                    break;
                }
            }
        }
        if let Some(t) = self.peek() {
            if matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("asof")) {
                return Err(unsupported("ASOF"));
            }
            return Err(syntax(&t.text()));
        }
        Ok(Query {
            columns,
            conds,
            order,
        })
    }
}

/// What a query runs against.
struct Context<'a> {
    state: &'a State,
    project: Option<&'a str>,
    me: &'a str,
    time_precision: bool,
    today: NaiveDate,
}

fn has_time(text: &str) -> bool {
    text.contains('T') || text.trim().contains(' ')
}

/// A date-like value of a condition, checked against the precision in use.
fn date_value(ctx: &Context, c: &Cond, v: &Val) -> Result<DateTime<Utc>, ApiError> {
    match v {
        Val::Str(s) => {
            if !ctx.time_precision && has_time(s) {
                return Err(ApiError::wiql(format!(
                    "You cannot supply a time with the date when running a query using date precision. The error is caused by «{}».",
                    c.text
                )));
            }
            fields::parse_date_time(s).ok_or_else(|| {
                ApiError::wiql(format!(
                    "TF51012: The value is not valid for the field. The error is caused by «{}».",
                    c.text
                ))
            })
        }
        Val::Today(n) => ctx
            .today
            .checked_add_signed(chrono::TimeDelta::days(*n))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .ok_or_else(|| {
                ApiError::wiql(format!(
                    "TF51012: The value is not valid for the field. The error is caused by «{}».",
                    c.text
                ))
            }),
        _ => Err(ApiError::wiql(format!(
            "TF51012: The value is not valid for the field. The error is caused by «{}».",
            c.text
        ))),
    }
}

fn text_value(ctx: &Context, c: &Cond, v: &Val) -> Result<String, ApiError> {
    match v {
        Val::Str(s) => Ok(s.clone()),
        Val::Num(n) => Ok(n.to_string()),
        Val::Project => ctx
            .project
            .map(str::to_owned)
            .ok_or_else(|| ApiError::wiql("Queries with an @project clause can only be executed on the project specific WIQL endpoint.")),
        Val::Me => Ok(ctx.me.to_owned()),
        Val::Today(_) => Err(ApiError::wiql(format!("TF51012: The value is not valid for the field. The error is caused by «{}».", c.text))),
    }
}

/// Checks a condition's values before running (so errors come whatever the data).
fn check(ctx: &Context, c: &Cond) -> Result<(), ApiError> {
    for v in &c.values {
        match c.field.kind {
            Kind::DateTime => {
                date_value(ctx, c, v)?;
            }
            _ => {
                text_value(ctx, c, v)?;
            }
        }
    }
    if c.field.kind == Kind::DateTime && c.op.contains("contains") {
        return Err(ApiError::wiql(format!(
            "TF51011: The specified operator cannot be used with date fields. The error is caused by «{}».",
            c.text
        )));
    }
    Ok(())
}

fn matches(ctx: &Context, w: &WorkItem, c: &Cond) -> bool {
    let reference = c.field.reference;
    if c.field.kind == Kind::DateTime {
        let Some(have) = w.field_str(reference).and_then(fields::parse_date_time) else {
            return false;
        };
        return c
            .values
            .iter()
            .filter_map(|v| date_value(ctx, c, v).ok())
            .any(|want| {
                let (have, want) = if ctx.time_precision {
                    (have, want)
                } else {
                    (day(have), day(want))
                };
                compare(&c.op, have.cmp(&want))
            });
    }
    if reference == "System.Id" || c.field.kind == Kind::Integer {
        let have = if reference == "System.Id" {
            Some(w.id)
        } else {
            w.fields.get(reference).and_then(Value::as_i64)
        };
        let Some(have) = have else {
            return c.op.starts_with("not") || c.op == "<>";
        };
        let hit = c
            .values
            .iter()
            .filter_map(|v| text_value(ctx, c, v).ok()?.trim().parse::<i64>().ok())
            .any(|want| match c.op.as_str() {
                "in" | "not in" => have == want,
                op => compare(op, have.cmp(&want)),
            });
        return if c.op == "not in" { !hit } else { hit };
    }
    let have = if reference == "System.Id" {
        w.id.to_string()
    } else {
        w.field_str(reference).unwrap_or("").to_owned()
    };
    let have = if c.field.kind == Kind::Identity {
        ctx.state
            .user(&have)
            .map_or(have.clone(), |u| u.unique_name.clone())
    } else {
        have
    };
    let wants: Vec<String> = c
        .values
        .iter()
        .filter_map(|v| text_value(ctx, c, v).ok())
        .collect();
    let tag_hit = |want: &str| w.tags().iter().any(|t| t.eq_ignore_ascii_case(want.trim()));
    let eq = |want: &str| {
        if c.field.kind == Kind::Identity {
            ctx.state
                .user(want)
                .is_some_and(|u| u.unique_name.eq_ignore_ascii_case(&have))
                || have.eq_ignore_ascii_case(want)
        } else {
            have.eq_ignore_ascii_case(want)
        }
    };
    match c.op.as_str() {
        "=" => wants.iter().any(|v| eq(v)),
        "<>" => !wants.iter().any(|v| eq(v)),
        "in" => wants.iter().any(|v| eq(v)),
        "not in" => !wants.iter().any(|v| eq(v)),
        "contains" if reference == "System.Tags" => wants.iter().all(|v| tag_hit(v)),
        "not contains" if reference == "System.Tags" => !wants.iter().any(|v| tag_hit(v)),
        "contains" => wants
            .iter()
            .any(|v| have.to_lowercase().contains(&v.to_lowercase())),
        "not contains" => !wants
            .iter()
            .any(|v| have.to_lowercase().contains(&v.to_lowercase())),
        op => wants
            .iter()
            .any(|v| compare(op, have.to_lowercase().cmp(&v.to_lowercase()))),
    }
}

fn day(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(t, |d| d.and_utc())
}

fn compare(op: &str, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        "=" => o == Equal,
        "<>" => o != Equal,
        "<" => o == Less,
        "<=" => o != Greater,
        ">" => o == Greater,
        ">=" => o != Less,
        _ => false,
    }
}

/// Runs a WIQL text; the matching work items' ids in order, and the parsed columns.
fn run(ctx: &Context, text: &str, top: Option<usize>) -> Result<(Vec<i64>, Query), ApiError> {
    let mut p = Parser {
        toks: tokenize(text)?,
        at: 0,
    };
    let q = p.query()?;
    for c in &q.conds {
        check(ctx, c)?;
    }
    let mut hits: Vec<&WorkItem> = ctx
        .state
        .work_items
        .values()
        .filter(|w| q.conds.iter().all(|c| matches(ctx, w, c)))
        .collect();
    for (f, desc) in q.order.iter().rev() {
        hits.sort_by(|a, b| {
            let key = |w: &WorkItem| -> (i64, String) {
                if f.reference == "System.Id" {
                    (w.id, String::new())
                } else {
                    (
                        w.fields
                            .get(f.reference)
                            .and_then(Value::as_i64)
                            .unwrap_or(0),
                        w.field_str(f.reference).unwrap_or("").to_lowercase(),
                    )
                }
            };
            let o = key(a).cmp(&key(b));
            if *desc { o.reverse() } else { o }
        });
    }
    if top.is_none() && hits.len() > MAX_RESULTS {
        return Err(ApiError::wiql(format!(
            "VS402337: The number of work items returned exceeds the size limit of {MAX_RESULTS}. Change the query to return fewer work items."
        )));
    }
    let ids = hits
        .iter()
        .map(|w| w.id)
        .take(top.unwrap_or(MAX_RESULTS))
        .collect();
    Ok((ids, q))
}

/// `/{org}/{project}/_apis/wit/wiql` and `/{org}/_apis/wit/wiql`.
pub async fn project_route(
    AxState(sh): AxState<Sh>,
    Path((org, project)): Path<(String, String)>,
    call: Call,
) -> Response {
    handle(&sh, &org, Some(&project), &call).unwrap_or_else(IntoResponse::into_response)
}

pub async fn org_route(AxState(sh): AxState<Sh>, Path(org): Path<String>, call: Call) -> Response {
    handle(&sh, &org, None, &call).unwrap_or_else(IntoResponse::into_response)
}

fn handle(sh: &Sh, org: &str, project: Option<&str>, call: &Call) -> Result<Response, ApiError> {
    let s = sh.lock();
    let (caller, version) = call.begin(&s, org, Resource::Released, Need::WorkRead)?;
    let project = match project {
        Some(p) => Some(
            s.project(p)
                .ok_or_else(|| ApiError::project_not_found(p))?
                .name
                .clone(),
        ),
        None => None,
    };
    let ct = call.content_type();
    if ct != "application/json" {
        return Err(ApiError::content_type(&ct, "POST", "application/json"));
    }
    let body: Value = serde_json::from_slice(&call.body).map_err(|_| {
        ApiError::property("You must pass a wiql object in the body of the request.")
    })?;
    let text = body
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    if text.is_empty() {
        return Err(ApiError::property(
            "The query object must provide valid WIQL.",
        ));
    }
    let top = match call.param("$top") {
        None => None,
        Some(t) => match t.trim().parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(ApiError::argument(format!(
                    "A query parameter specified in the request URI is outside the permissible range: $top, Acceptable Range: 1 to {MAX_RESULTS}"
                )));
            }
        },
    };
    let me = s
        .users
        .get(&caller.user_id)
        .map(|u| u.unique_name.clone())
        .unwrap_or_default();
    let ctx = Context {
        state: &s,
        project: project.as_deref(),
        me: &me,
        time_precision: call.flag("timePrecision")?,
        today: Utc::now().date_naive(),
    };
    let (ids, q) = run(&ctx, &text, top)?;
    let org_url = render::org_url(sh.base(), &s);
    let column = |f: &fields::FieldDef| json!({ "referenceName": f.reference, "name": f.name, "url": format!("{org_url}/_apis/wit/fields/{}", f.reference) });
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({ "id": id, "url": format!("{org_url}/_apis/wit/workItems/{id}") }))
        .collect();
    let body = json!({
        "queryType": "flat",
        "queryResultType": "workItem",
        "asOf": fields::format_date_time(Utc::now()),
        "columns": q.columns.iter().map(|f| column(f)).collect::<Vec<_>>(),
        "sortColumns": q.order.iter().map(|(f, desc)| json!({ "field": column(f), "descending": desc })).collect::<Vec<_>>(),
        "workItems": items,
    });
    Ok(json_ok(StatusCode::OK, body, &version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<Query, ApiError> {
        Parser {
            toks: tokenize(q)?,
            at: 0,
        }
        .query()
    }

    #[test]
    fn the_subset_parses_and_the_rest_is_refused() {
        let q = parse("SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS 'vulnbridge:k1:m3:f17' AND [System.ChangedDate] >= '2026-01-01T10:00:00Z' ORDER BY [System.Id] DESC").unwrap();
        assert_eq!(q.conds.len(), 3);
        assert_eq!(q.conds[1].values, [Val::Str("vulnbridge:k1:m3:f17".into())]);
        assert_eq!(q.order.len(), 1);
        assert!(parse("select [System.Id] from workitems where [System.Id] in (1, 2,3)").is_ok());
        assert!(parse("SELECT [System.Id] FROM WorkItems WHERE [System.State] = 'It''s'").is_ok());
        let e = parse("SELECT [System.Id] FROM WorkItems WHERE [Custom.Nope] = 'x'").unwrap_err();
        assert_eq!(
            e.body()["message"],
            "TF51005: The query references a field that does not exist. The error is caused by «Custom.Nope»."
        );
        assert!(
            parse("SELECT [System.Id] FROM WorkItems WHERE [System.Id] = 1 OR [System.Id] = 2")
                .unwrap_err()
                .body()["message"]
                .as_str()
                .unwrap()
                .contains("OR")
        );
        assert!(parse("SELECT [System.Id] FROM WorkItems WHERE").is_err());
        assert!(parse("SELECT [System.Id] FROM WorkItems extra").is_err());
        assert!(parse("SELECT * FROM WorkItems").is_err());
    }
}
