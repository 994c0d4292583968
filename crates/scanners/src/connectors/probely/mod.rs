//! Probely (Snyk API & Web), through its REST API (`https://api.probely.com/`, paths ending in
//! `/`) with `Authorization: JWT <api key>`.
//!
//! - Discover: the account's targets (`GET /targets/`, page by page to `page_total`).
//! - Pull: the target's findings (see `pull`). States map as the report parser maps them:
//!   `fixed` is closed, `accepted` risk accepted, `invalid` a false positive, `notfixed` open
//!   (awaiting validation while Probely retests it).

mod api;
mod pull;

use crate::connectors::{FindingSink, PullMode, Pulled, ScannerApi, Setup};
use api::Api;
use async_trait::async_trait;
use domain::connector::{DiscoveredRecord, Record, Tool};
use outbound::{CallError, CheckReport, HttpClient};
use serde_json::{Value, json};

/// Targets asked for per page.
const TARGET_PAGE: u64 = 100;

/// The Probely client of one connector.
pub struct Probely {
    api: Api,
    location: url::Url,
}

impl std::fmt::Debug for Probely {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probely")
            .field("location", &self.location.as_str())
            .finish_non_exhaustive()
    }
}

impl Probely {
    pub fn new(setup: Setup, http: HttpClient) -> Result<Probely, CallError> {
        let key = setup.secret("api_key")?.clone();
        let base = api::base(&setup.location)?;
        Ok(Probely {
            api: Api::new(http, base, key),
            location: setup.location.clone(),
        })
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A target as a Record: named by the target's name, else its site's name or URL.
fn record_of(t: &Value) -> Option<DiscoveredRecord> {
    let id = text(t.get("id"))?;
    let site = t.get("site");
    let url = text(site.and_then(|s| s.get("url")));
    let name = text(t.get("name"))
        .or_else(|| text(site.and_then(|s| s.get("name"))))
        .or_else(|| url.clone())
        .unwrap_or_else(|| id.clone());
    let labels: Vec<String> = t
        .get("labels")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|l| text(l.get("name")).or_else(|| text(Some(l))))
                .collect()
        })
        .unwrap_or_default();
    Some(DiscoveredRecord {
        external_id: id,
        name,
        metadata: json!({
            "url": url,
            "host": text(site.and_then(|s| s.get("host"))),
            "type": text(t.get("type")),
            "labels": labels,
        }),
    })
}

#[async_trait]
impl ScannerApi for Probely {
    fn tool(&self) -> Tool {
        Tool::Probely
    }

    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        let query = [("page", "1".to_owned()), ("length", "1".to_owned())];
        match self.api.page("targets/", &query, "Probely targets").await {
            Ok(page) => {
                report.pass("location", format!("Probely answers at {}", self.location));
                report.pass("credentials", "the API key works");
                report.pass("targets", format!("{} targets visible to this API key", page.count.unwrap_or(0)));
            }
            Err(CallError::Unauthorized(m)) => {
                report.pass("location", format!("Probely answers at {}", self.location));
                report.fail("credentials", format!("{m}. Create an API key in Probely (Settings › Integrations › API keys)"));
            }
            Err(CallError::Forbidden(m)) => {
                report.pass("location", format!("Probely answers at {}", self.location));
                report.pass("credentials", "the API key works");
                report.fail("targets", format!("{m}. The API key needs a role that can view targets and findings"));
            }
            Err(e) => report.fail("location", format!("{e}. Check the location: it is the API's URL (https://api.probely.com/, or api.us./api.eu.)")),
        }
        report
    }

    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError> {
        let mut found = Vec::new();
        let mut page = 1u64;
        loop {
            let what = format!("Probely targets, page {page}");
            let query = [
                ("page", page.to_string()),
                ("length", TARGET_PAGE.to_string()),
            ];
            let answer = self.api.page("targets/", &query, &what).await?;
            let results = answer
                .results
                .ok_or_else(|| CallError::Protocol(format!("{what}: the answer has no results")))?;
            let n = results.len() as u64;
            for (i, t) in results.iter().enumerate() {
                found.push(record_of(t).ok_or_else(|| {
                    CallError::Protocol(format!("{what}, target {i}: a target without an id"))
                })?);
            }
            let pages = answer.page_total.unwrap_or(1);
            if page >= pages {
                let total = answer.count.unwrap_or(found.len() as u64);
                if (found.len() as u64) < total {
                    return Err(CallError::Protocol(format!(
                        "Probely targets: read {} of the {total} Probely counts",
                        found.len()
                    )));
                }
                break;
            }
            if n < TARGET_PAGE {
                return Err(CallError::Protocol(format!(
                    "{what}: a page of {n} targets before the last of {pages} pages"
                )));
            }
            page += 1;
        }
        Ok(found)
    }

    async fn pull(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        self.pull_target(record, mode, sink).await
    }
}
