//! Answers in Azure DevOps' shapes.
//!
//! Errors are serialized VSS exceptions: `{"$id":"1","innerException":null,"message":…,
//! "typeName":"<type>, <assembly>","typeKey":"<type>","errorCode":0,"eventId":3000}` (work item
//! tracking errors carry `eventId` 3200, rule errors a `customProperties` object too). Errors the
//! Web API layer builds itself (`CreateErrorResponse`) are `{"message": …}`. Every answer carries
//! the service's `X-TFS-ProcessId` and `ActivityId` headers, and successful JSON answers say the
//! version they were served at in `Content-Type` (`application/json; charset=utf-8;
//! api-version=7.1`).

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// The process id the simulated service answers with (`X-TFS-ProcessId`).
pub const PROCESS_ID: &str = "7f4a0c1e-0b8e-4d7a-9c55-1d2e3f4a5b6c";

const WEBAPI: &str = "Microsoft.VisualStudio.Services.WebApi";
const WIT: &str = "Microsoft.TeamFoundation.WorkItemTracking.Server";
const FRAMEWORK: &str = "Microsoft.TeamFoundation.Framework.Server";

/// A refused request.
#[derive(Debug)]
pub enum ApiError {
    /// A serialized VSS exception.
    Vss {
        status: StatusCode,
        type_key: &'static str,
        namespace: &'static str,
        assembly: &'static str,
        message: String,
        event_id: u32,
        custom: Option<Value>,
    },
    /// `{"message": …}` from the Web API layer.
    Plain(StatusCode, String),
    /// Any other answer, already built (authentication challenges, rate limits).
    Raw(Box<Response>),
}

pub type ApiResult = Result<Response, ApiError>;

impl ApiError {
    fn vss(
        status: StatusCode,
        type_key: &'static str,
        namespace: &'static str,
        assembly: &'static str,
        message: String,
    ) -> ApiError {
        ApiError::Vss {
            status,
            type_key,
            namespace,
            assembly,
            message,
            event_id: 3000,
            custom: None,
        }
    }

    fn wit(status: StatusCode, type_key: &'static str, message: String) -> ApiError {
        ApiError::Vss {
            status,
            type_key,
            namespace: WIT,
            assembly: WIT,
            message,
            event_id: 3200,
            custom: None,
        }
    }

    /// `VssVersionNotSpecifiedException`: a non-GET request without `api-version`.
    pub fn version_missing(method: &str) -> ApiError {
        ApiError::vss(
            StatusCode::BAD_REQUEST,
            "VssVersionNotSpecifiedException",
            WEBAPI,
            WEBAPI,
            format!(
                "No api-version was supplied for the \"{method}\" request. The version must be supplied either as part of the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter (e.g. \"?api-version=1.0\")."
            ),
        )
    }

    pub fn version_invalid(text: &str) -> ApiError {
        ApiError::vss(
            StatusCode::BAD_REQUEST,
            "VssInvalidApiVersionException",
            WEBAPI,
            WEBAPI,
            format!(
                "Invalid api version string: \"{text}\". Api version string must be in the format: {{Major}}.{{Minor}}[-preview[.{{ResourceVersion}}]]."
            ),
        )
    }

    pub fn version_out_of_range(requested: &str, latest: &str) -> ApiError {
        ApiError::vss(
            StatusCode::BAD_REQUEST,
            "VssVersionOutOfRangeException",
            WEBAPI,
            WEBAPI,
            format!(
                "The requested REST API version of {requested} is out of range for this server. The latest REST API version this server supports is {latest}."
            ),
        )
    }

    pub fn version_preview_required(version: &str) -> ApiError {
        ApiError::vss(
            StatusCode::BAD_REQUEST,
            "VssInvalidPreviewVersionException",
            WEBAPI,
            WEBAPI,
            format!(
                "The requested version \"{version}\" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: \"{version}-preview\""
            ),
        )
    }

    /// 415 for a body of the wrong media type.
    pub fn content_type(given: &str, method: &str, valid: &str) -> ApiError {
        ApiError::vss(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "VssRequestContentTypeNotSupportedException",
            WEBAPI,
            WEBAPI,
            format!(
                "The request indicated a Content-Type of \"{given}\" for method type \"{method}\" which is not supported. Valid content types for this method are: {valid}."
            ),
        )
    }

    /// A signed-in user whose token lacks the scope (or permission) the endpoint needs.
    pub fn not_authorized(user_id: &str) -> ApiError {
        ApiError::vss(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedRequestException",
            FRAMEWORK,
            FRAMEWORK,
            format!("TF400813: The user '{user_id}' is not authorized to access this resource."),
        )
    }

    pub fn project_not_found(name: &str) -> ApiError {
        ApiError::vss(
            StatusCode::NOT_FOUND,
            "ProjectDoesNotExistWithNameException",
            "Microsoft.TeamFoundation.Core.WebApi",
            "Microsoft.TeamFoundation.Core.WebApi",
            format!(
                "TF200016: The following project does not exist: {name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server."
            ),
        )
    }

    pub fn type_not_found(name: &str, project: &str) -> ApiError {
        ApiError::wit(
            StatusCode::NOT_FOUND,
            "WorkItemTypeNotFoundException",
            format!(
                "VS402323: Work item type {name} does not exist in project {project} or you do not have permission to access it."
            ),
        )
    }

    pub fn work_item_not_found(id: i64) -> ApiError {
        ApiError::wit(
            StatusCode::NOT_FOUND,
            "WorkItemNotFoundException",
            format!(
                "TF401232: Work item {id} does not exist, or you do not have permissions to read it."
            ),
        )
    }

    pub fn field_not_found(name: &str) -> ApiError {
        ApiError::wit(
            StatusCode::BAD_REQUEST,
            "WorkItemTrackingFieldDefinitionNotFoundException",
            format!("TF51535: Cannot find field {name}."),
        )
    }

    /// `TF401326: Invalid field status '<status>' for field '<ref>'.`
    pub fn field_status(status: &str, reference: &str) -> ApiError {
        ApiError::wit(
            StatusCode::BAD_REQUEST,
            "WorkItemFieldInvalidException",
            format!("TF401326: Invalid field status '{status}' for field '{reference}'."),
        )
    }

    pub fn too_long(reference: &str) -> ApiError {
        let mut e = ApiError::wit(
            StatusCode::BAD_REQUEST,
            "WorkItemFieldInvalidException",
            format!("TF401324: Value for field '{reference}' is too long."),
        );
        if let ApiError::Vss { custom, .. } = &mut e {
            *custom = Some(json!({ "ReferenceName": reference }));
        }
        e
    }

    /// `TF401320`: a field's rule refused the value (a state the type does not have, a
    /// priority outside its allowed values, a required field left empty).
    pub fn rule(reference: &str, friendly: &str, codes: &str) -> ApiError {
        let message = format!("TF401320: Rule Error for field {friendly}. Error code: {codes}.");
        ApiError::Vss {
            status: StatusCode::BAD_REQUEST,
            type_key: "RuleValidationException",
            namespace: WIT,
            assembly: WIT,
            message: message.clone(),
            event_id: 3200,
            custom: Some(json!({
                "FieldReferenceName": reference,
                "FieldStatusFlags": codes.to_lowercase(),
                "ErrorMessage": message,
                "RuleValidationErrors": [{
                    "fieldReferenceName": reference,
                    "fieldStatusFlags": codes.to_lowercase(),
                    "errorMessage": message,
                }],
            })),
        }
    }

    /// `TF401347`: an area or iteration path the project does not have.
    pub fn tree_name(id: i64, reference: &str) -> ApiError {
        ApiError::wit(
            StatusCode::BAD_REQUEST,
            "WorkItemFieldInvalidTreeNameException",
            format!("TF401347: Invalid tree name given for work item {id}, field '{reference}'."),
        )
    }

    /// A JSON Patch document Azure DevOps cannot apply (`PatchOperationFailedException`).
    pub fn patch(message: impl Into<String>) -> ApiError {
        ApiError::vss(
            StatusCode::BAD_REQUEST,
            "PatchOperationFailedException",
            "Microsoft.VisualStudio.Services.WebApi.Patch",
            WEBAPI,
            message.into(),
        )
    }

    /// A failed `test` operation: 412 (`TestPatchOperationFailedException`, VS403351).
    pub fn test_failed(path: &str, actual: &Value, expected: &Value) -> ApiError {
        ApiError::vss(
            StatusCode::PRECONDITION_FAILED,
            "TestPatchOperationFailedException",
            "Microsoft.VisualStudio.Services.WebApi.Patch",
            WEBAPI,
            format!(
                "VS403351: Test Operation for path {path} failed, value {} was not equal to test value {}.",
                scalar(actual),
                scalar(expected)
            ),
        )
    }

    /// `VssPropertyValidationException` (400).
    pub fn property(message: impl Into<String>) -> ApiError {
        ApiError::vss(
            StatusCode::BAD_REQUEST,
            "VssPropertyValidationException",
            "Microsoft.VisualStudio.Services.Common",
            "Microsoft.VisualStudio.Services.Common",
            message.into(),
        )
    }

    /// An `ArgumentException` (400), as controllers raise for bad parameters.
    pub fn argument(message: impl Into<String>) -> ApiError {
        ApiError::vss(
            StatusCode::BAD_REQUEST,
            "ArgumentException",
            "System",
            "mscorlib",
            message.into(),
        )
    }

    /// A WIQL the query engine cannot run.
    pub fn wiql(message: impl Into<String>) -> ApiError {
        ApiError::wit(
            StatusCode::BAD_REQUEST,
            "WorkItemTrackingQueryException",
            message.into(),
        )
    }

    /// A service hooks error (`ServiceHookException`, 400).
    pub fn hooks(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::vss(
            status,
            "ServiceHookException",
            "Microsoft.VisualStudio.Services.ServiceHooks.WebApi",
            "Microsoft.VisualStudio.Services.ServiceHooks.WebApi",
            message.into(),
        )
    }

    /// The status, for batch answers.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Vss { status, .. } | ApiError::Plain(status, _) => *status,
            ApiError::Raw(r) => r.status(),
        }
    }

    /// The body, for batch answers (whose sub-responses carry bodies as strings).
    pub fn body(&self) -> Value {
        match self {
            ApiError::Vss {
                type_key,
                namespace,
                assembly,
                message,
                event_id,
                custom,
                ..
            } => {
                let mut m = Map::new();
                m.insert("$id".into(), json!("1"));
                if let Some(c) = custom {
                    m.insert("customProperties".into(), c.clone());
                }
                m.insert("innerException".into(), Value::Null);
                m.insert("message".into(), json!(message));
                m.insert(
                    "typeName".into(),
                    json!(format!("{namespace}.{type_key}, {assembly}")),
                );
                m.insert("typeKey".into(), json!(type_key));
                m.insert("errorCode".into(), json!(0));
                m.insert("eventId".into(), json!(event_id));
                Value::Object(m)
            }
            ApiError::Plain(_, message) => json!({ "message": message }),
            ApiError::Raw(_) => Value::Null,
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Raw(r) => *r,
            other => {
                let status = other.status();
                let mut r = (status, axum::Json(other.body())).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                );
                service_headers(&mut r);
                r
            }
        }
    }
}

/// A JSON answer served at `api_version`.
pub fn json_ok(status: StatusCode, body: Value, api_version: &str) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    let ct = format!("application/json; charset=utf-8; api-version={api_version}");
    if let Ok(v) = HeaderValue::from_str(&ct) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    service_headers(&mut r);
    r
}

/// `{count, value}`: how Azure DevOps wraps lists.
pub fn list(values: Vec<Value>) -> Value {
    json!({ "count": values.len(), "value": values })
}

/// The headers every answer of the service carries.
pub fn service_headers(r: &mut Response) {
    let activity = super::state::guid();
    let h = r.headers_mut();
    h.insert(
        HeaderName::from_static("x-tfs-processid"),
        HeaderValue::from_static(PROCESS_ID),
    );
    if let Ok(v) = HeaderValue::from_str(&activity) {
        h.insert(HeaderName::from_static("activityid"), v.clone());
        h.insert(HeaderName::from_static("x-tfs-session"), v.clone());
        h.insert(HeaderName::from_static("x-vss-e2eid"), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vss_errors_serialize_like_the_service() {
        let b = ApiError::version_missing("POST").body();
        assert_eq!(b["typeKey"], "VssVersionNotSpecifiedException");
        assert_eq!(
            b["typeName"],
            "Microsoft.VisualStudio.Services.WebApi.VssVersionNotSpecifiedException, Microsoft.VisualStudio.Services.WebApi"
        );
        assert_eq!(b["eventId"], 3000);
        assert!(
            b["message"]
                .as_str()
                .unwrap()
                .starts_with("No api-version was supplied for the \"POST\" request.")
        );
        let r = ApiError::rule("System.State", "State", "InvalidListValue").body();
        assert_eq!(
            r["customProperties"]["RuleValidationErrors"][0]["fieldReferenceName"],
            "System.State"
        );
        assert_eq!(r["eventId"], 3200);
        let t = ApiError::test_failed("/rev", &json!(5), &json!(4));
        assert_eq!(t.status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(
            t.body()["message"],
            "VS403351: Test Operation for path /rev failed, value 5 was not equal to test value 4."
        );
    }
}
