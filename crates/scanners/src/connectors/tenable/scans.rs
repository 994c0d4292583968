//! Scans (`GET /scans`, the Records) and their runs (`GET /scans/{schedule_uuid}/history`).

use super::api::Api;
use domain::connector::DiscoveredRecord;
use outbound::CallError;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct ScanList {
    #[serde(default)]
    scans: Option<Vec<Scan>>,
}

#[derive(Deserialize)]
struct Scan {
    id: i64,
    #[serde(default)]
    schedule_uuid: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    last_modification_date: Option<i64>,
}

#[derive(Deserialize)]
struct History {
    #[serde(default)]
    history: Vec<Run>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    total: Option<u64>,
}

/// One run of a scan.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Run {
    pub scan_uuid: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub time_start: Option<i64>,
    #[serde(default)]
    pub time_end: Option<i64>,
}

const HISTORY_PAGE: u64 = 50;

/// Every scan with a schedule UUID (its stable id; the numeric id and run UUIDs change).
pub(crate) async fn records(api: &Api) -> Result<Vec<DiscoveredRecord>, CallError> {
    let list: ScanList = api.get("/scans", &[], "the scans").await?;
    Ok(list
        .scans
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| {
            let schedule = s.schedule_uuid.filter(|u| !u.is_empty())?;
            Some(DiscoveredRecord {
                name: s
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| format!("Scan {}", s.id)),
                metadata: json!({
                    "id": s.id,
                    "schedule_uuid": schedule,
                    "owner": s.owner,
                    "type": s.kind,
                    "status": s.status,
                    "last_modification_date": s.last_modification_date,
                }),
                external_id: schedule,
            })
        })
        .collect())
}

/// The most recent completed run of a scan, reading its history newest first.
pub(crate) async fn latest_completed(
    api: &Api,
    schedule_uuid: &str,
) -> Result<Option<Run>, CallError> {
    let mut offset = 0;
    loop {
        let q = [
            ("limit", HISTORY_PAGE.to_string()),
            ("offset", offset.to_string()),
            ("sort", "start_date:desc".to_owned()),
            ("exclude_rollover", "true".to_owned()),
        ];
        let path = format!("/scans/{schedule_uuid}/history");
        let page: History = api
            .get(&path, &q, &format!("the history of scan {schedule_uuid}"))
            .await?;
        if let Some(run) = page
            .history
            .iter()
            .find(|r| r.status.as_deref() == Some("completed"))
        {
            return Ok(Some(run.clone()));
        }
        offset += page.history.len() as u64;
        let total = page.pagination.and_then(|p| p.total).unwrap_or(0);
        if page.history.is_empty() || offset >= total {
            return Ok(None);
        }
    }
}
