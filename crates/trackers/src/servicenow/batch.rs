//! Creating many records in one request with the Batch API (`POST /api/now/v1/batch`): each
//! ticket is one item, a Table API `POST` with a base64 body; the answer serves each item
//! with its own status and base64 body, so a batch can create some records and refuse
//! others. Items the instance did not get to (`unserviced_requests`: the batch reached a size
//! or time limit) are retryable failures.

use super::records;
use super::tickets::CREATED_FIELDS;
use super::{ServiceNow, api::One};
use crate::{Progress, RequestClass, TrackerError};
use base64::Engine;
use domain::tracker::{MappingConfig, Marker, TicketFields};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Tickets per batch: the Batch API has no count limit, only 5 MB per item and the
/// instance's 30 s transaction quota; 50 creates stay far from both.
pub const BULK_SIZE: usize = 50;

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    serviced_requests: Vec<Served>,
    #[serde(default)]
    unserviced_requests: Vec<Value>,
}

#[derive(Deserialize)]
struct Served {
    id: Value,
    status_code: u16,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
}

#[derive(Deserialize)]
struct NameValue {
    name: String,
    value: String,
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Creates up to [`BULK_SIZE`] records per batch request; one result per item, in order.
pub async fn create_many(
    sn: &ServiceNow,
    mapping: &MappingConfig,
    items: &[(TicketFields, Marker)],
    progress: &mut [Progress],
) -> Vec<Result<(), TrackerError>> {
    let mut out: Vec<Result<(), TrackerError>> = Vec::with_capacity(items.len());
    for (chunk, prog) in items.chunks(BULK_SIZE).zip(progress.chunks_mut(BULK_SIZE)) {
        out.extend(batch(sn, mapping, chunk, prog).await);
    }
    out
}

async fn batch(
    sn: &ServiceNow,
    mapping: &MappingConfig,
    items: &[(TicketFields, Marker)],
    progress: &mut [Progress],
) -> Vec<Result<(), TrackerError>> {
    let prepared = match sn.target(mapping).await {
        Ok((table, group)) => match sn.tables.get(&sn.api, &table).await {
            Ok(meta) => Ok((table, group, meta)),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let (table, group, meta) = match prepared {
        Ok(p) => p,
        Err(e) => return items.iter().map(|_| Err(e.clone())).collect(),
    };
    let mut results: Vec<Option<Result<(), TrackerError>>> = vec![None; items.len()];
    let mut requests = Vec::new();
    let mut parts = HashMap::new();
    for (i, (fields, marker)) in items.iter().enumerate() {
        match records::create(mapping, &meta, group.as_deref(), fields, marker) {
            Ok(body) => {
                let bytes = Value::Object(body.fields).to_string();
                requests.push(json!({
                    "id": i.to_string(),
                    "method": "POST",
                    "url": format!("/api/now/table/{table}?sysparm_fields={CREATED_FIELDS}&sysparm_exclude_reference_link=true"),
                    "headers": [
                        {"name": "Content-Type", "value": "application/json"},
                        {"name": "Accept", "value": "application/json"},
                    ],
                    "body": b64().encode(bytes),
                    "exclude_response_headers": false,
                }));
                parts.insert(i.to_string(), body.parts);
            }
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    if requests.is_empty() {
        return results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect();
    }
    let batch_id = format!("vulnbridge-{}", chrono::Utc::now().timestamp_micros());
    let body = json!({ "batch_request_id": batch_id, "rest_requests": requests });
    let what = format!(
        "a batch of {} new records in ServiceNow table {table}",
        parts.len()
    );
    let answer = sn
        .api
        .json::<Answer>(
            RequestClass::Create,
            &what,
            Method::POST,
            "/api/now/v1/batch",
            &[],
            Some(&body),
        )
        .await;
    let answer = match answer {
        Ok((a, _)) => a,
        Err(e) => {
            return results
                .into_iter()
                .map(|r| r.unwrap_or_else(|| Err(e.clone())))
                .collect();
        }
    };
    let unserviced: Vec<String> = answer.unserviced_requests.iter().map(id_text).collect();
    let served: HashMap<String, &Served> = answer
        .serviced_requests
        .iter()
        .map(|s| (id_text(&s.id), s))
        .collect();
    for (i, slot) in results.iter_mut().enumerate() {
        if slot.is_some() {
            continue;
        }
        let id = i.to_string();
        let item_what = format!("record {} of {what}", i + 1);
        *slot = Some(match served.get(&id) {
            Some(s) => item_result(
                sn,
                &table,
                s,
                &item_what,
                parts.remove(&id).unwrap_or_default(),
                &mut progress[i],
            ),
            None if unserviced.contains(&id) => Err(TrackerError::Transient(format!(
                "{item_what}: the instance ended the batch before creating it (a size or time limit); it is sent again"
            ))),
            None => Err(TrackerError::Protocol(format!(
                "{item_what}: the batch answer does not mention it"
            ))),
        });
    }
    results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect()
}

fn item_result(
    sn: &ServiceNow,
    table: &str,
    s: &Served,
    what: &str,
    parts: Vec<domain::tracker::Part>,
    progress: &mut Progress,
) -> Result<(), TrackerError> {
    let body = s
        .body
        .as_deref()
        .map(|b| b.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .unwrap_or_default();
    let bytes = b64().decode(body.as_bytes()).unwrap_or_default();
    let status = reqwest::StatusCode::from_u16(s.status_code)
        .unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_success() {
        let created: One = serde_json::from_slice(&bytes)
            .map_err(|e| TrackerError::Protocol(format!("{what}: {e}")))?;
        progress.remote = Some(records::remote(sn.api.base(), table, &created.result)?);
        progress.did_all(parts);
        return Ok(());
    }
    let mut headers = HeaderMap::new();
    for h in &s.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_str(&h.value),
        ) {
            headers.append(n, v);
        }
    }
    let text = if bytes.is_empty() {
        s.error_message.clone().unwrap_or_default()
    } else {
        with_detail(&bytes)
    };
    Err(crate::http::classify(
        status,
        &headers,
        &text,
        what,
        chrono::Utc::now(),
    ))
}

/// ServiceNow's error body with its detail folded into the message, so that a refusal says
/// why (`Operation Failed: Data Policy Exception: … mandatory: Resolution code`).
fn with_detail(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body).into_owned();
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return text;
    };
    let message = v
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("");
    let detail = v
        .pointer("/error/detail")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    match (message.is_empty(), detail.is_empty()) {
        (false, false) => json!({ "message": format!("{message}: {}", detail.split_whitespace().collect::<Vec<_>>().join(" ")) }).to_string(),
        _ => text,
    }
}
