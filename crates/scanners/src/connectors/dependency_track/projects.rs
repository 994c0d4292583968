//! Projects, the Records: `GET /api/v1/project?pageNumber=…&pageSize=100&excludeInactive=true`,
//! every page until `X-Total-Count` is reached.

use super::api::{Api, total_count};
use domain::connector::DiscoveredRecord;
use outbound::CallError;
use serde::Deserialize;
use serde_json::{Value, json};

const PAGE: u64 = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Project {
    uuid: String,
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    classifier: Option<String>,
    #[serde(default)]
    tags: Option<Vec<Value>>,
    #[serde(default)]
    parent: Option<Value>,
    #[serde(default)]
    is_latest: Option<bool>,
    #[serde(default)]
    last_bom_import: Option<Value>,
    #[serde(default)]
    last_vulnerability_analysis: Option<Value>,
}

pub(crate) async fn records(api: &Api) -> Result<Vec<DiscoveredRecord>, CallError> {
    let mut out = Vec::new();
    let mut page = 1u64;
    loop {
        let q = [
            ("pageNumber", page.to_string()),
            ("pageSize", PAGE.to_string()),
            ("excludeInactive", "true".to_owned()),
            ("sortName", "name".to_owned()),
            ("sortOrder", "asc".to_owned()),
        ];
        let what = format!("page {page} of the projects");
        let response = api.get_raw("/api/v1/project", &q, &what).await?;
        let total = total_count(&response);
        let list: Vec<Project> = outbound::client::read_json(response, &what).await?;
        let got = list.len() as u64;
        out.extend(list.into_iter().map(|p| {
            let name = match p.version.as_deref().filter(|v| !v.is_empty()) {
                Some(v) => format!("{} {v}", p.name),
                None => p.name.clone(),
            };
            let tags: Vec<Value> = p
                .tags
                .unwrap_or_default()
                .iter()
                .filter_map(|t| t.get("name").cloned())
                .collect();
            DiscoveredRecord {
                external_id: p.uuid,
                name,
                metadata: json!({
                    "name": p.name,
                    "version": p.version,
                    "classifier": p.classifier,
                    "tags": tags,
                    "parent": p.parent.as_ref().and_then(|x| x.get("uuid")).cloned(),
                    "is_latest": p.is_latest,
                    "last_bom_import": p.last_bom_import,
                    "last_vulnerability_analysis": p.last_vulnerability_analysis,
                }),
            }
        }));
        let read = out.len() as u64;
        match total {
            Some(t) if read >= t => return Ok(out),
            Some(t) if got < PAGE => {
                return Err(CallError::Protocol(format!(
                    "{what}: X-Total-Count says {t} projects, but the pages ended after {read}"
                )));
            }
            None if got < PAGE => return Ok(out),
            _ => page += 1,
        }
    }
}
