//! Burp Suite DAST (formerly Burp Suite Enterprise Edition), through its GraphQL API:
//! `POST <location>/graphql/v1` with the API key of an API user in `Authorization`.
//!
//! - Discover: the sites of the site tree (`site_tree { sites folders }`), with the folder
//!   each sits in.
//! - Pull: the issues of the site's latest succeeded scan (see `pull`), mapped by the
//!   `Burp GraphQL API` report parser; false positives and accepted risks keep Burp's verdict.

mod graphql;
mod map;
mod pull;

use crate::connectors::{FindingSink, PullMode, Pulled, ScannerApi, Setup};
use async_trait::async_trait;
use domain::connector::{DiscoveredRecord, Record, Tool};
use graphql::Gql;
use outbound::{CallError, CheckReport, HttpClient};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

const SITE_TREE: &str =
    "query SiteTree { site_tree { sites { id name parent_id } folders { id name parent_id } } }";

#[derive(Deserialize)]
struct Tree {
    site_tree: Option<SiteTree>,
}

#[derive(Deserialize)]
struct SiteTree {
    #[serde(default)]
    sites: Vec<Node>,
    #[serde(default)]
    folders: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
}

/// The Burp Suite DAST client of one connector.
pub struct BurpSuite {
    gql: Gql,
    endpoint: url::Url,
}

impl std::fmt::Debug for BurpSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BurpSuite")
            .field("endpoint", &self.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

/// `<location>/graphql/v1`, whether or not the location has a path or a trailing slash (or is
/// the endpoint itself).
pub fn endpoint(location: &url::Url) -> Result<url::Url, CallError> {
    let mut base = location.clone();
    base.set_query(None);
    base.set_fragment(None);
    let path = base.path().trim_end_matches('/').to_owned();
    if path.ends_with("/graphql/v1") {
        base.set_path(&path);
        return Ok(base);
    }
    base.set_path(&format!("{path}/graphql/v1"));
    if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
        return Err(CallError::Misconfigured(format!(
            "the BurpSuite location '{location}' is not an http(s) URL"
        )));
    }
    Ok(base)
}

impl BurpSuite {
    pub fn new(setup: Setup, http: HttpClient) -> Result<BurpSuite, CallError> {
        let key = setup.secret("api_key")?.clone();
        let endpoint = endpoint(&setup.location)?;
        Ok(BurpSuite {
            gql: Gql::new(http, endpoint.clone(), key),
            endpoint,
        })
    }

    async fn tree(&self) -> Result<SiteTree, CallError> {
        let tree: Tree = self
            .gql
            .query("Burp Suite DAST site tree", SITE_TREE, json!({}))
            .await?;
        tree.site_tree.ok_or_else(|| {
            CallError::Protocol("Burp Suite DAST site tree: the answer has no site_tree".into())
        })
    }
}

/// The folder path of a node (`Customers / EU`), from the tree's folders.
fn folder_path(parent: Option<&str>, folders: &HashMap<&str, &Node>) -> String {
    let mut names = Vec::new();
    let mut at = parent;
    // The tree is shallow; the bound only guards against a cycle in a broken answer.
    for _ in 0..64 {
        let Some(folder) = at.and_then(|id| folders.get(id)) else {
            break;
        };
        names.push(folder.name.clone().unwrap_or_default());
        at = folder.parent_id.as_deref();
    }
    names.reverse();
    names.join(" / ")
}

#[async_trait]
impl ScannerApi for BurpSuite {
    fn tool(&self) -> Tool {
        Tool::BurpSuite
    }

    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        match self.tree().await {
            Ok(tree) => {
                report.pass(
                    "location",
                    format!("Burp Suite DAST answers at {}", self.endpoint),
                );
                report.pass("credentials", "the API key works");
                report.pass(
                    "sites",
                    format!("{} sites visible to this API user", tree.sites.len()),
                );
            }
            Err(CallError::Unauthorized(m)) => {
                report.pass(
                    "location",
                    format!("Burp Suite DAST answers at {}", self.endpoint),
                );
                report.fail(
                    "credentials",
                    format!("{m}. Use the API key of an API user (Team › Users › API key)"),
                );
            }
            Err(CallError::Forbidden(m)) => {
                report.pass(
                    "location",
                    format!("Burp Suite DAST answers at {}", self.endpoint),
                );
                report.pass("credentials", "the API key works");
                report.fail(
                    "sites",
                    format!("{m}. Give the API user a role that can view sites and scans"),
                );
            }
            Err(
                e @ (CallError::Transient(_)
                | CallError::Blocked(_)
                | CallError::NotFound(_)
                | CallError::RateLimited { .. }),
            ) => {
                report.fail(
                    "location",
                    format!(
                        "{e}. Check the location: it is the server's URL, where /graphql/v1 answers"
                    ),
                );
            }
            Err(e) => report.fail("API", format!("{} (is this a Burp Suite DAST server?)", e)),
        }
        report
    }

    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError> {
        let tree = self.tree().await?;
        let folders: HashMap<&str, &Node> =
            tree.folders.iter().map(|f| (f.id.as_str(), f)).collect();
        Ok(tree
            .sites
            .iter()
            .map(|s| DiscoveredRecord {
                external_id: s.id.clone(),
                name: s
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| format!("site {}", s.id)),
                metadata: json!({
                    "parent_id": s.parent_id,
                    "folder": folder_path(s.parent_id.as_deref(), &folders),
                }),
            })
            .collect())
    }

    async fn pull(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        self.pull_site(record, mode, sink).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_under_the_location() {
        let e = |s: &str| endpoint(&url::Url::parse(s).expect("a URL")).map(|u| u.to_string());
        assert_eq!(
            e("https://burp.example.com").as_deref(),
            Ok("https://burp.example.com/graphql/v1")
        );
        assert_eq!(
            e("https://burp.example.com/").as_deref(),
            Ok("https://burp.example.com/graphql/v1")
        );
        assert_eq!(
            e("https://h/burp/").as_deref(),
            Ok("https://h/burp/graphql/v1")
        );
        assert_eq!(
            e("https://h/graphql/v1/").as_deref(),
            Ok("https://h/graphql/v1")
        );
    }
}
