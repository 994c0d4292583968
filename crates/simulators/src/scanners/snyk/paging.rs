//! Cursor pagination as Snyk's REST API does it: `limit` (10 to 100, a multiple of 10,
//! default 10), opaque `starting_after` / `ending_before` cursors, and `links.self`,
//! `links.first` and `links.next` (present only when there is more) as paths relative to the
//! API's root, without `/rest`, as Snyk writes them.

use super::reply::ApiError;
use base64::Engine;
use serde_json::{Value, json};

pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            raw.map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of an array parameter (repeated, or comma-separated).
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .collect()
    }
}

pub struct Paging {
    pub limit: usize,
    after: Option<u64>,
    before: Option<u64>,
}

fn decode(parameter: &str, token: &str) -> Result<u64, ApiError> {
    let invalid =
        || ApiError::bad_parameter(parameter, format!("invalid pagination cursor \"{token}\""));
    let body = token.strip_prefix("v1.").ok_or_else(invalid)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .map_err(|_| invalid())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    v.get("seq").and_then(Value::as_u64).ok_or_else(invalid)
}

pub fn encode(seq: u64) -> String {
    format!(
        "v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({ "seq": seq }).to_string())
    )
}

impl Paging {
    pub fn parse(q: &Query) -> Result<Paging, ApiError> {
        let limit = match q.get("limit") {
            None => 10,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (10..=100).contains(&n) && n % 10 == 0 => n,
                _ => {
                    return Err(ApiError::bad_parameter(
                        "limit",
                        format!("limit must be a multiple of 10 from 10 to 100, got {v}"),
                    ));
                }
            },
        };
        let after = q
            .get("starting_after")
            .map(|t| decode("starting_after", t))
            .transpose()?;
        let before = q
            .get("ending_before")
            .map(|t| decode("ending_before", t))
            .transpose()?;
        if after.is_some() && before.is_some() {
            return Err(ApiError::bad_parameter(
                "starting_after",
                "starting_after and ending_before cannot be used together",
            ));
        }
        Ok(Paging {
            limit,
            after,
            before,
        })
    }

    /// Where a page starting after the cursor begins (the first sequence number to look at).
    pub fn start(&self) -> u64 {
        self.after.map_or(0, |a| a.saturating_add(1))
    }

    /// This page of `items`, given in sequence order from [`Paging::start`] on, and the cursor
    /// of its last item when more follow. Reads only as far as the page needs.
    pub fn page_in_order<T>(&self, items: impl Iterator<Item = (u64, T)>) -> (Vec<T>, Option<u64>) {
        if self.before.is_some() {
            return self.page(items.collect());
        }
        let mut chosen: Vec<(u64, T)> = items
            .filter(|(s, _)| *s >= self.start())
            .take(self.limit + 1)
            .collect();
        let more = chosen.len() > self.limit;
        chosen.truncate(self.limit);
        let next = if more {
            chosen.last().map(|(s, _)| *s)
        } else {
            None
        };
        (chosen.into_iter().map(|(_, t)| t).collect(), next)
    }

    /// This page of `items` (ordered by their sequence number) and the cursor of the last
    /// item when more follow.
    pub fn page<T>(&self, items: Vec<(u64, T)>) -> (Vec<T>, Option<u64>) {
        let mut items = items;
        items.sort_by_key(|(seq, _)| *seq);
        let chosen: Vec<(u64, T)> = match (self.after, self.before) {
            (_, Some(before)) => {
                let earlier: Vec<(u64, T)> =
                    items.into_iter().filter(|(s, _)| *s < before).collect();
                let skip = earlier.len().saturating_sub(self.limit);
                earlier.into_iter().skip(skip).collect()
            }
            (after, None) => items
                .into_iter()
                .filter(|(s, _)| after.is_none_or(|a| *s > a))
                .take(self.limit + 1)
                .collect(),
        };
        let more = self.before.is_none() && chosen.len() > self.limit;
        let mut chosen = chosen;
        chosen.truncate(self.limit);
        let next = if more {
            chosen.last().map(|(s, _)| *s)
        } else {
            None
        };
        (chosen.into_iter().map(|(_, t)| t).collect(), next)
    }
}

/// `links` for a page served at `path` (relative to `/rest`) with the request's query.
pub fn links(path: &str, q: &Query, next: Option<u64>) -> Value {
    let keep: Vec<(String, String)> =
        q.0.iter()
            .filter(|(k, _)| k != "starting_after" && k != "ending_before")
            .cloned()
            .collect();
    let with = |extra: Option<(&str, String)>| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &keep {
            s.append_pair(k, v);
        }
        if let Some((k, v)) = extra {
            s.append_pair(k, &v);
        }
        format!("{path}?{}", s.finish())
    };
    let mut links = json!({ "self": with(q.get("starting_after").map(|c| ("starting_after", c.to_owned()))), "first": with(None) });
    if let (Some(seq), Some(obj)) = (next, links.as_object_mut()) {
        obj.insert(
            "next".into(),
            json!(with(Some(("starting_after", encode(seq))))),
        );
    }
    links
}
