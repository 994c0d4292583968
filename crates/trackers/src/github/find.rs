//! Finding a ticket by its marker: the repository's issues carrying the marker label,
//! updated since the interrupted create, page by page through GitHub's `Link` headers (the
//! list endpoint is exact; the search index lags).

use super::api::first_error;
use super::project;
use super::push::{IssueAnswer, remote_ref};
use super::{GitHub, target};
use crate::{FoundTicket, RequestClass, TrackerError};
use domain::tracker::{MARKER_LABEL, MappingConfig, Marker};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// Pages followed at most (100 issues each): a marker search reads recent issues only.
const MAX_PAGES: usize = 50;

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

impl GitHub {
    pub(super) async fn find(
        &self,
        m: &MappingConfig,
        marker: &Marker,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<FoundTicket>, TrackerError> {
        let (repo, number) = target(m)?;
        let owner = self.api.owner.clone();
        let since = since.format("%Y-%m-%dT%H:%M:%SZ");
        let mut next = Some(format!(
            "/repos/{owner}/{repo}/issues?labels={MARKER_LABEL}&state=all&since={since}&per_page=100&sort=created&direction=asc"
        ));
        let what = format!("issues of {owner}/{repo} labelled {MARKER_LABEL}");
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let (issues, headers): (Vec<IssueAnswer>, _) = self
                .api
                .rest(RequestClass::Read, &what, Method::GET, &url, None)
                .await?;
            let hit = issues.into_iter().find(|i| {
                i.pull_request.is_none()
                    && Marker::find_all(i.body.as_deref().unwrap_or("")).contains(marker)
            });
            if let Some(issue) = hit {
                let item = match number {
                    Some(n) => {
                        self.item_of(
                            n,
                            &issue.node_id,
                            &format!("{owner}/{repo}#{}", issue.number),
                        )
                        .await?
                    }
                    None => None,
                };
                let open = issue.state == "open";
                return Ok(Some(FoundTicket {
                    remote: remote_ref(&owner, repo, &issue, item.as_deref()),
                    open,
                }));
            }
            if pages < MAX_PAGES {
                next = next_link(&headers);
            }
            // The token goes wherever the link points: only to the API itself.
            if let Some(n) = &next
                && !n.starts_with(&self.api.rest)
            {
                return Err(TrackerError::Protocol(format!(
                    "{what}: the next page's link {n} leaves {}",
                    self.api.rest
                )));
            }
        }
        Ok(None)
    }

    /// The issue's item in the project, if it has one.
    async fn item_of(
        &self,
        number: u32,
        issue_node: &str,
        key: &str,
    ) -> Result<Option<String>, TrackerError> {
        let p = project::project(&self.api, &self.cache, number).await?;
        let q = "query($id: ID!) { node(id: $id) { ... on Issue { projectItems(first: 50) { nodes { id project { id } } } } } }";
        let what = format!("project items of {key}");
        let a = self
            .api
            .graphql(RequestClass::Read, &what, q, json!({ "id": issue_node }))
            .await?;
        first_error(&a, &what)?;
        Ok(a.data["node"]["projectItems"]["nodes"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|i| i["project"]["id"] == Value::String(p.id.clone()))
            })
            .and_then(|i| i["id"].as_str())
            .map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_read_from_githubs_header() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            "<https://api.github.com/repositories/1/issues?page=1>; rel=\"prev\", <https://api.github.com/repositories/1/issues?page=3>; rel=\"next\", <https://api.github.com/repositories/1/issues?page=5>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=3")
        );
        h.insert(
            "link",
            "<https://x/issues?page=1>; rel=\"first\"".parse().unwrap(),
        );
        assert_eq!(next_link(&h), None);
    }
}
