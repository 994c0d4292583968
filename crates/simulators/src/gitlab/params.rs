//! Request parameters as GitLab's Grape layer sees them: the query string, a JSON or form body
//! merged together (body wins), coerced per declared type. Undeclared parameters are ignored,
//! as Grape ignores them. Problems are collected and reported together the way Grape words
//! them: `title is missing, weight is invalid`.

use super::reply::{ApiError, INVALID_BODY};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

#[derive(Debug, Default)]
pub struct Params {
    values: Map<String, Value>,
    problems: Vec<String>,
}

impl Params {
    /// Reads the query string and the body (JSON when the content type says so, else form).
    pub fn parse(
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Params, ApiError> {
        let mut values = Map::new();
        if let Some(q) = query {
            merge_form(&mut values, q.as_bytes());
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let is_blank = body.iter().all(u8::is_ascii_whitespace);
        if !is_blank {
            if content_type.starts_with("application/json") {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(map)) => values.extend(map),
                    // Grape's JSON parser accepts only an object at the top level.
                    _ => {
                        return Err(ApiError::Error(
                            StatusCode::BAD_REQUEST,
                            INVALID_BODY.into(),
                        ));
                    }
                }
            } else {
                merge_form(&mut values, body);
            }
        }
        Ok(Params {
            values,
            problems: Vec::new(),
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    fn raw(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Records `<name> is missing` when a required parameter is absent.
    pub fn require(&mut self, name: &str) {
        if !self.has(name) {
            self.problems.push(format!("{name} is missing"));
        }
    }

    /// A string parameter. Numbers and booleans are taken as their text, as Grape coerces them.
    /// `Some(None)` when present but null.
    pub fn string(&mut self, name: &str) -> Option<Option<String>> {
        match self.raw(name)? {
            Value::Null => Some(None),
            Value::String(s) => Some(Some(s.clone())),
            Value::Number(n) => Some(Some(n.to_string())),
            Value::Bool(b) => Some(Some(b.to_string())),
            _ => {
                self.invalid(name);
                None
            }
        }
    }

    /// A string that must be one of `allowed` (`<name> does not have a valid value`).
    pub fn choice(&mut self, name: &str, allowed: &[&str]) -> Option<String> {
        let v = self.string(name)??;
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            self.problems
                .push(format!("{name} does not have a valid value"));
            None
        }
    }

    /// An integer parameter; `Some(None)` when present but null or empty.
    pub fn integer(&mut self, name: &str) -> Option<Option<i64>> {
        let parsed = match self.raw(name)? {
            Value::Null => return Some(None),
            Value::Number(n) => n.as_i64(),
            Value::String(s) if s.trim().is_empty() => return Some(None),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match parsed {
            Some(i) => Some(Some(i)),
            None => {
                self.invalid(name);
                None
            }
        }
    }

    /// A boolean parameter, accepting the spellings Grape's coercion accepts.
    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        let parsed = match self.raw(name)? {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_i64() {
                Some(1) => Some(true),
                Some(0) => Some(false),
                _ => None,
            },
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" | "y" | "on" => Some(true),
                "false" | "f" | "0" | "no" | "n" | "off" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.invalid(name);
        }
        parsed
    }

    /// A list of strings given as a comma-separated string or a JSON array (GitLab's
    /// `CommaSeparatedToArray` coercion). Blank items are dropped.
    pub fn string_list(&mut self, name: &str) -> Option<Vec<String>> {
        let items: Vec<String> = match self.raw(name)? {
            Value::Null => Vec::new(),
            Value::String(s) => s.split(',').map(str::to_owned).collect(),
            Value::Array(a) => {
                let mut out = Vec::new();
                for item in a {
                    match item {
                        Value::String(s) => out.extend(s.split(',').map(str::to_owned)),
                        Value::Number(n) => out.push(n.to_string()),
                        _ => {
                            self.invalid(name);
                            return None;
                        }
                    }
                }
                out
            }
            _ => {
                self.invalid(name);
                return None;
            }
        };
        Some(
            items
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    }

    /// A list of integers (`assignee_ids`): a JSON array, a comma-separated string or one number.
    pub fn integer_list(&mut self, name: &str) -> Option<Vec<i64>> {
        let texts: Vec<String> = match self.raw(name)? {
            Value::Null => Vec::new(),
            Value::Number(n) => vec![n.to_string()],
            Value::String(s) => s.split(',').map(str::to_owned).collect(),
            Value::Array(a) => a
                .iter()
                .map(|v| match v {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            _ => {
                self.invalid(name);
                return None;
            }
        };
        let mut out = Vec::new();
        for t in texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            match t.parse::<i64>() {
                Ok(i) => out.push(i),
                Err(_) => {
                    self.invalid(name);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// An ISO 8601 date-time (`created_after`); a bare date means its midnight UTC.
    pub fn datetime(&mut self, name: &str) -> Option<DateTime<Utc>> {
        let text = self.string(name)??;
        let t = text.trim();
        let parsed = DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| d.and_utc())
            });
        if parsed.is_none() {
            self.invalid(name);
        }
        parsed
    }

    fn invalid(&mut self, name: &str) {
        self.problems.push(format!("{name} is invalid"));
    }

    /// Fails with every problem found so far, Grape-style.
    pub fn check(&mut self) -> Result<(), ApiError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::param(
                std::mem::take(&mut self.problems).join(", "),
            ))
        }
    }
}

/// Adds `a=1&b[]=2` pairs. Rails-style `name[]` arrays collect into JSON arrays.
fn merge_form(values: &mut Map<String, Value>, text: &[u8]) {
    for (k, v) in url::form_urlencoded::parse(text) {
        if let Some(base) = k.strip_suffix("[]") {
            let entry = values
                .entry(base.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = entry {
                a.push(Value::String(v.into_owned()));
            }
        } else {
            values.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &str) -> Params {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        Params::parse(None, &h, body.as_bytes()).unwrap()
    }

    #[test]
    fn grape_style_problems_are_collected() {
        let mut p = json(r#"{"weight":"heavy","labels":"a, b,,c","state_event":"shut"}"#);
        p.require("title");
        assert_eq!(p.integer("weight"), None);
        assert_eq!(
            p.string_list("labels"),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(p.choice("state_event", &["close", "reopen"]), None);
        let Err(ApiError::Error(_, text)) = p.check() else {
            panic!()
        };
        assert_eq!(
            text,
            "title is missing, weight is invalid, state_event does not have a valid value"
        );
    }

    #[test]
    fn query_and_form_arrays_merge() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let mut p =
            Params::parse(Some("iids[]=1&iids[]=2&confidential=true"), &h, b"title=x").unwrap();
        assert_eq!(p.integer_list("iids"), Some(vec![1, 2]));
        assert_eq!(p.boolean("confidential"), Some(true));
        assert_eq!(p.string("title"), Some(Some("x".into())));
        assert!(p.check().is_ok());
    }

    #[test]
    fn a_body_that_is_not_json_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(Params::parse(None, &h, b"{oops").is_err());
        assert!(Params::parse(None, &h, b"[1]").is_err());
    }
}
