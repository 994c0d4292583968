//! Who am I and where: `GET /_apis/connectionData` (a preview resource, any valid token),
//! `GET /_apis/projects/{project}` (`vso.project` or `vso.profile`), and the work item types of a
//! project and their states (`vso.work`).

use super::auth::Need;
use super::reply::{ApiError, ApiResult, json_ok, list};
use super::version::Resource;
use super::{Call, Sh, render};
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

fn respond(r: ApiResult) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /{org}/_apis/connectionData`.
pub async fn connection_data(
    AxState(sh): AxState<Sh>,
    Path(org): Path<String>,
    call: Call,
) -> Response {
    respond((|| {
        let s = sh.lock();
        let (caller, version) = call.begin(&s, &org, Resource::Preview(1), Need::Any)?;
        let user = s
            .users
            .get(&caller.user_id)
            .ok_or_else(|| ApiError::not_authorized(&caller.user_id))?;
        let identity = json!({
            "id": user.id,
            "descriptor": format!("Microsoft.IdentityModel.Claims.ClaimsIdentity;{}", user.unique_name),
            "subjectDescriptor": user.descriptor(),
            "providerDisplayName": user.display_name,
            "isActive": true,
            "properties": { "Account": { "$type": "System.String", "$value": user.unique_name } },
            "resourceVersion": 2,
            "metaTypeId": 0,
        });
        Ok(json_ok(
            StatusCode::OK,
            json!({
                "authenticatedUser": identity,
                "authorizedUser": identity,
                "instanceId": s.collection_id,
                "deploymentId": s.collection_id,
                "deploymentType": "hosted",
                "locationServiceData": {
                    "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
                    "defaultAccessMappingMoniker": "PublicAccessMapping",
                    "lastChangeId": s.watermark,
                    "lastChangeId64": s.watermark,
                },
            }),
            &version,
        ))
    })())
}

/// `GET /{org}/_apis/projects/{project}`.
pub async fn project(
    AxState(sh): AxState<Sh>,
    Path((org, project)): Path<(String, String)>,
    call: Call,
) -> Response {
    respond((|| {
        let s = sh.lock();
        let (_, version) = call.begin(&s, &org, Resource::Released, Need::Profile)?;
        let p = s
            .project(&project)
            .ok_or_else(|| ApiError::project_not_found(&project))?;
        let capabilities = call.flag("includeCapabilities")?;
        Ok(json_ok(
            StatusCode::OK,
            render::project(sh.base(), &s, p, capabilities),
            &version,
        ))
    })())
}

/// `GET /{org}/{project}/_apis/wit/workitemtypes`.
pub async fn types(
    AxState(sh): AxState<Sh>,
    Path((org, project)): Path<(String, String)>,
    call: Call,
) -> Response {
    respond((|| {
        let s = sh.lock();
        let (_, version) = call.begin(&s, &org, Resource::Released, Need::WorkRead)?;
        let p = s
            .project(&project)
            .ok_or_else(|| ApiError::project_not_found(&project))?;
        let all = p
            .process
            .types()
            .iter()
            .map(|t| render::work_item_type(sh.base(), &s, p, t))
            .collect();
        Ok(json_ok(StatusCode::OK, list(all), &version))
    })())
}

/// `GET /{org}/{project}/_apis/wit/workitemtypes/{type}`.
pub async fn work_item_type(
    AxState(sh): AxState<Sh>,
    Path((org, project, name)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    respond((|| {
        let s = sh.lock();
        let (_, version) = call.begin(&s, &org, Resource::Released, Need::WorkRead)?;
        let p = s
            .project(&project)
            .ok_or_else(|| ApiError::project_not_found(&project))?;
        let t = p
            .work_item_type(&name)
            .ok_or_else(|| ApiError::type_not_found(&name, &p.name))?;
        Ok(json_ok(
            StatusCode::OK,
            render::work_item_type(sh.base(), &s, p, t),
            &version,
        ))
    })())
}

/// `GET /{org}/{project}/_apis/wit/workitemtypes/{type}/states`.
pub async fn states(
    AxState(sh): AxState<Sh>,
    Path((org, project, name)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    respond((|| {
        let s = sh.lock();
        let (_, version) = call.begin(&s, &org, Resource::Released, Need::WorkRead)?;
        let p = s
            .project(&project)
            .ok_or_else(|| ApiError::project_not_found(&project))?;
        let t = p
            .work_item_type(&name)
            .ok_or_else(|| ApiError::type_not_found(&name, &p.name))?;
        let states = t
            .states
            .iter()
            .map(|(n, c)| render::state_color(n, *c))
            .collect();
        Ok(json_ok(StatusCode::OK, list(states), &version))
    })())
}
