//! Web service parameters as SonarQube's web service engine reads and checks them: integers,
//! booleans (`true`, `false`, `yes`, `no`), possible values of comma-separated lists, dates,
//! and paging (`p` from 1, `ps` up to 500, at most the first 10,000 results of a search).
//! Unknown parameters are ignored, as SonarQube ignores them.

use super::reply::ApiError;
use chrono::{DateTime, NaiveDate, Utc};

/// The most results a search (backed by Elasticsearch) can page to.
pub const MAX_RESULTS: u32 = 10_000;
pub const MAX_PAGE_SIZE: u32 = 500;

pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        Params(
            raw.map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// The first value of a parameter (a servlet's `getParameter`); empty counts as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn int(&self, key: &str) -> Result<Option<u32>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(|n| Some(n.clamp(0, i64::from(u32::MAX)) as u32))
                .map_err(|_| {
                    ApiError::bad_request(format!(
                        "'{key}' value '{v}' cannot be parsed as an integer"
                    ))
                }),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("true" | "yes") => Ok(Some(true)),
            Some("false" | "no") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_request(format!(
                "Value of parameter '{key}' ({v}) must be one of: [true, false, yes, no]"
            ))),
        }
    }

    /// One value out of `allowed`.
    pub fn one_of(&self, key: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            Some(v) if !allowed.contains(&v) => Err(not_one_of(key, v, allowed)),
            other => Ok(other.map(str::to_owned)),
        }
    }

    /// A comma-separated list, each value out of `allowed` (any value when `allowed` is empty).
    pub fn list(&self, key: &str, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
        let values: Vec<String> = self
            .get(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if !allowed.is_empty()
            && let Some(bad) = values.iter().find(|v| !allowed.contains(&v.as_str()))
        {
            return Err(not_one_of(key, bad, allowed));
        }
        Ok(values)
    }

    /// A date (`2017-10-19`, midnight UTC: the simulated server's time zone) or a datetime
    /// (`2017-10-19T13:00:00+0200`).
    pub fn date(&self, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        if let Ok(t) = DateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%z") {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d")
            && let Some(t) = d.and_hms_opt(0, 0, 0)
        {
            return Ok(Some(t.and_utc()));
        }
        Err(ApiError::bad_request(format!(
            "'{v}' cannot be parsed as either a date or date+time"
        )))
    }

    /// `p` and `ps` for a paged action: `ps` at most `max_ps` when the action declares one,
    /// then the search engine's own limits when `searched`.
    pub fn paging(
        &self,
        default_ps: u32,
        max_ps: Option<u32>,
        searched: bool,
    ) -> Result<(u32, u32), ApiError> {
        let p = self.int("p")?.unwrap_or(1);
        let ps = self.int("ps")?.unwrap_or(default_ps);
        if let Some(max) = max_ps
            && ps > max
        {
            return Err(ApiError::bad_request(format!(
                "'ps' value ({ps}) must be less than {max}"
            )));
        }
        if p < 1 {
            return Err(ApiError::bad_request(format!(
                "Page must be greater or equal to 1 (got {p})"
            )));
        }
        if searched {
            if !(1..=MAX_PAGE_SIZE).contains(&ps) {
                return Err(ApiError::bad_request(format!(
                    "Page size must be between 1 and {MAX_PAGE_SIZE} (got {ps})"
                )));
            }
            let last = u64::from(p) * u64::from(ps);
            if last > u64::from(MAX_RESULTS) {
                return Err(ApiError::bad_request(format!(
                    "Can return only the first {MAX_RESULTS} results. {last}th result asked."
                )));
            }
        } else if ps < 1 {
            return Err(ApiError::bad_request(format!(
                "Page size must be greater than 0 (got {ps})"
            )));
        }
        Ok((p, ps))
    }
}

fn not_one_of(key: &str, value: &str, allowed: &[&str]) -> ApiError {
    ApiError::bad_request(format!(
        "Value of parameter '{key}' ({value}) must be one of: [{}]",
        allowed.join(", ")
    ))
}

/// SonarQube's date-time format: `2025-04-02T09:12:44+0000`.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}
