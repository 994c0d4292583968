//! Finding the issue a create made when its reply was lost: a JQL search for the project's
//! issues carrying vulnbridge's label, updated since the create began, every page — Cloud's
//! `search/jql` by page token, Data Center's `search` by offset — matched on the marker in the
//! labels or the description.

use super::adf;
use super::api::{Api, Flavour, Status};
use super::fields;
use super::issues::remote;
use crate::{FoundTicket, RequestClass, TrackerError};
use domain::tracker::{MARKER_LABEL, MappingConfig, Marker};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

/// Issues read per page, and at most this many pages (a runaway token must not loop forever).
const PAGE: usize = 100;
const MAX_PAGES: usize = 200;
/// JQL dates are read in the Jira user's time zone, which vulnbridge does not know: the search
/// starts a day earlier (no zone is further than 14 hours from UTC), plus clock skew.
const MARGIN_HOURS: i64 = 25;

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    issues: Vec<Found>,
    #[serde(rename = "nextPageToken")]
    next_page_token: Option<String>,
    #[serde(rename = "isLast")]
    is_last: Option<bool>,
    total: Option<usize>,
}

#[derive(Deserialize)]
struct Found {
    id: String,
    key: String,
    #[serde(default)]
    fields: FoundFields,
}

#[derive(Default, Deserialize)]
struct FoundFields {
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    description: Value,
    status: Option<Status>,
}

impl Found {
    fn carries(&self, marker: &Marker) -> bool {
        let token = marker.token();
        if self.fields.labels.contains(&token) {
            return true;
        }
        let text = match &self.fields.description {
            Value::String(s) => s.clone(),
            doc @ Value::Object(_) => adf::to_text(doc),
            _ => String::new(),
        };
        Marker::find_all(&text).contains(marker)
    }
}

/// A JQL string literal.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub async fn find_by_marker(
    api: &Api,
    mapping: &MappingConfig,
    marker: &Marker,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Option<FoundTicket>, TrackerError> {
    let t = fields::target(mapping)?;
    let after = (since - chrono::TimeDelta::hours(MARGIN_HOURS)).format("%Y-%m-%d %H:%M");
    let jql = format!(
        "project = {} AND labels = {} AND updated >= \"{after}\" ORDER BY created DESC",
        quote(t.project),
        quote(MARKER_LABEL)
    );
    let what = format!("the vulnbridge issues of Jira project {}", t.project);
    let wanted = ["summary", "labels", "description", "status"];
    let mut token: Option<String> = None;
    let mut start = 0usize;
    for _ in 0..MAX_PAGES {
        let (path, body) = match api.flavour() {
            Flavour::Cloud => {
                let mut b = json!({ "jql": jql, "maxResults": PAGE, "fields": wanted });
                if let Some(tk) = &token {
                    b["nextPageToken"] = json!(tk);
                }
                ("/search/jql", b)
            }
            Flavour::DataCenter => (
                "/search",
                json!({ "jql": jql, "startAt": start, "maxResults": PAGE, "fields": wanted }),
            ),
        };
        let url = api.rest(path).await?;
        let page: Page = api
            .send_json(Method::POST, url, Some(&body), RequestClass::Read, &what)
            .await?;
        if let Some(issue) = page.issues.iter().find(|i| i.carries(marker)) {
            let open = !issue.fields.status.as_ref().is_some_and(Status::is_done);
            return Ok(Some(FoundTicket {
                remote: remote(api, &t, &issue.id, &issue.key),
                open,
            }));
        }
        let n = page.issues.len();
        match api.flavour() {
            Flavour::Cloud => match page.next_page_token {
                Some(tk) if page.is_last != Some(true) && n > 0 => token = Some(tk),
                _ => return Ok(None),
            },
            Flavour::DataCenter => {
                start += n;
                if n == 0 || page.total.is_none_or(|total| start >= total) {
                    return Ok(None);
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jql_strings_are_quoted_and_escaped() {
        assert_eq!(quote("SEC"), "\"SEC\"");
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
