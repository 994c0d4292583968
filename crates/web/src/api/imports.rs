//! Report imports over HTTP.
//!
//! - `POST /api/v2/import-scan/` and `/api/v2/reimport-scan/` take DefectDojo's multipart
//!   fields and answer in DefectDojo's shape, so a CI pipeline written for DefectDojo works
//!   unchanged (same URL path, `Authorization: Token`, same field names and response keys).
//! - `POST /api/v1/imports` takes the same fields (plus `reimport`) and answers with our full
//!   import record; `GET /api/v1/imports[/{id}]` is the import history.
//! - `GET /api/v1/scan-types` lists the formats.
//!
//! The uploaded file is streamed to a temporary file (never held in memory), then parsed as a
//! stream by the import engine inside one transaction.

use crate::api::{ApiPath, page_type, visible_or_hidden};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Multipart, OriginalUri, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use domain::{Actor, DedupScope, EngagementId, GroupBy, ProductId, Severity, TestId};
use engine::import::{self, ImportError, ImportOptions, ImportOutcome, Target};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use store::PageRequest;
use store::imports::{self as history, TestImport};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_scan))
        .routes(routes!(reimport_scan))
        .routes(routes!(create_import))
        .layer(axum::extract::DefaultBodyLimit::max(max_upload_bytes))
        .routes(routes!(list_imports))
        .routes(routes!(get_import))
        .routes(routes!(scan_types))
}

/// One supported report format.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScanTypeInfo {
    /// The `scan_type` to send, as DefectDojo names it.
    pub name: &'static str,
    pub description: &'static str,
    pub extensions: &'static [&'static str],
}

/// The report formats this server imports.
#[utoipa::path(get, path = "/api/v1/scan-types", tag = "imports",
    responses((status = 200, body = Vec<ScanTypeInfo>)),
    security(("token" = [])))]
async fn scan_types(Auth(_actor): Auth) -> Json<Vec<ScanTypeInfo>> {
    Json(
        scanners::scan_types()
            .iter()
            .map(|s| ScanTypeInfo { name: s.name, description: s.description, extensions: s.extensions })
            .collect(),
    )
}

/// The multipart fields of an import request. DefectDojo documents every one of these; the
/// ones that concern features vulnbridge handles elsewhere (`lead`, `endpoint_to_add`,
/// `api_scan_configuration`, `deduplication_execution_mode`, `apply_tags_to_endpoints`,
/// `engagement_end_date`, `source_code_management_uri`, `push_to_jira`) are accepted so that
/// existing pipelines keep working, and change nothing. Any other field is refused, naming it.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// The report format (see `/api/v1/scan-types`), e.g. `Semgrep JSON Report`.
    scan_type: String,
    /// The report.
    #[schema(value_type = String, format = Binary)]
    file: String,
    engagement: Option<i64>,
    /// Reimport only: the test to reimport into.
    test: Option<i64>,
    product_type_name: Option<String>,
    product_name: Option<String>,
    engagement_name: Option<String>,
    test_title: Option<String>,
    auto_create_context: Option<bool>,
    close_old_findings: Option<bool>,
    close_old_findings_product_scope: Option<bool>,
    /// `Info`, `Low`, `Medium`, `High` or `Critical`.
    minimum_severity: Option<String>,
    active: Option<bool>,
    verified: Option<bool>,
    /// Repeat the field, or separate with commas.
    tags: Option<Vec<String>>,
    apply_tags_to_findings: Option<bool>,
    /// `component_name`, `component_name+component_version`, `file_path`, `finding_title`,
    /// `vuln_id_from_tool`, `vulnerability_id`.
    group_by: Option<String>,
    create_finding_groups_for_all_findings: Option<bool>,
    deduplication_on_engagement: Option<bool>,
    /// vulnbridge: `test`, `engagement` or `product` (default).
    deduplication_scope: Option<String>,
    service: Option<String>,
    scan_date: Option<NaiveDate>,
    do_not_reactivate: Option<bool>,
    version: Option<String>,
    build_id: Option<String>,
    branch_tag: Option<String>,
    commit_hash: Option<String>,
    environment: Option<String>,
    /// vulnbridge `/api/v1/imports` only: reimport instead of import.
    reimport: Option<bool>,
}

/// Fields DefectDojo documents that vulnbridge accepts and ignores (see `ImportForm`).
const ACCEPTED_NO_OPS: &[&str] = &[
    "lead",
    "endpoint_to_add",
    "api_scan_configuration",
    "deduplication_execution_mode",
    "apply_tags_to_endpoints",
    "engagement_end_date",
    "source_code_management_uri",
    "push_to_jira",
];

const TEXT_FIELDS: &[&str] = &[
    "scan_type", "engagement", "test", "product_type_name", "product_name", "engagement_name",
    "test_title", "auto_create_context", "close_old_findings", "close_old_findings_product_scope",
    "minimum_severity", "active", "verified", "tags", "apply_tags_to_findings", "group_by",
    "create_finding_groups_for_all_findings", "deduplication_on_engagement", "deduplication_scope",
    "service", "scan_date", "do_not_reactivate", "version", "build_id", "branch_tag", "commit_hash",
    "environment", "reimport",
];

/// A parsed upload: the text fields and the report, spooled to a temporary file.
struct Upload {
    fields: BTreeMap<String, Vec<String>>,
    file: Option<(tempfile::NamedTempFile, Option<String>)>,
}

/// Validation errors are 400 on the DefectDojo endpoints (as DRF answers) and 422 on ours.
#[derive(Clone, Copy)]
enum Dialect {
    DefectDojo,
    Vulnbridge,
}

fn invalid(dialect: Dialect, field: &str, detail: impl Into<String>) -> ApiError {
    let e = ApiError::invalid(field, detail);
    match dialect {
        Dialect::DefectDojo => ApiError { status: StatusCode::BAD_REQUEST, ..e },
        Dialect::Vulnbridge => e,
    }
}

async fn read_upload(mp: Multipart, dialect: Dialect) -> ApiResult<Upload> {
    read_upload_checked(mp, dialect, None).await
}

/// Reads an upload; with `csrf`, the form's first field must be `csrf` holding that token
/// (the UI's upload form, which cannot send a header), checked before anything is read further.
async fn read_upload_checked(mut mp: Multipart, dialect: Dialect, csrf: Option<&str>) -> ApiResult<Upload> {
    let mut up = Upload { fields: BTreeMap::new(), file: None };
    if let Some(expected) = csrf {
        let presented = match mp.next_field().await {
            Ok(Some(f)) if f.name() == Some("csrf") => short_text(f).await,
            _ => None,
        };
        if !presented.is_some_and(|p| crate::ui::same_secret(p.trim(), expected)) {
            return Err(ApiError::forbidden(
                "This form was sent without its security token (CSRF), or with one from another session. Reload the page and try again.",
            ));
        }
    }
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let status = e.status();
                return Err(if status == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(status, "Payload too large", "the report is larger than this server accepts (VULNBRIDGE_MAX_UPLOAD_MB)")
                } else {
                    ApiError::bad_request(format!("the multipart body is not readable: {e}"))
                });
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            let file_name = field.file_name().map(str::to_owned);
            let tmp = spool(field).await?;
            up.file = Some((tmp, file_name));
        } else if TEXT_FIELDS.contains(&name.as_str()) || ACCEPTED_NO_OPS.contains(&name.as_str()) {
            let text = field
                .text()
                .await
                .map_err(|e| invalid(dialect, &name, format!("{name}: not readable text: {e}")))?;
            up.fields.entry(name).or_default().push(text);
        } else {
            return Err(invalid(dialect, &name, format!("unknown field `{name}`")));
        }
    }
    Ok(up)
}

/// A small text field (a token), or `None` when it is longer than any token: read piecewise,
/// so an oversized field is refused without being held in memory.
async fn short_text(mut field: axum::extract::multipart::Field<'_>) -> Option<String> {
    const MAX: usize = 256;
    let mut buf = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) if buf.len() + chunk.len() <= MAX => buf.extend_from_slice(&chunk),
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) => return String::from_utf8(buf).ok(),
        }
    }
}

/// Streams a multipart field to a temporary file.
async fn spool(mut field: axum::extract::multipart::Field<'_>) -> ApiResult<tempfile::NamedTempFile> {
    let mut tmp = tempfile::NamedTempFile::new().map_err(ApiError::internal)?;
    loop {
        match field.chunk().await {
            Ok(Some(bytes)) => tmp.write_all(&bytes).map_err(ApiError::internal)?,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Payload too large",
                    "the report is larger than this server accepts (VULNBRIDGE_MAX_UPLOAD_MB)",
                ));
            }
            Err(e) => return Err(ApiError::bad_request(format!("the upload was interrupted: {e}"))),
        }
    }
    tmp.flush().map_err(ApiError::internal)?;
    Ok(tmp)
}

impl Upload {
    fn one(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(|v| v.last()).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// DRF's boolean spellings.
    fn flag(&self, d: Dialect, name: &str) -> ApiResult<Option<bool>> {
        match self.one(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("true" | "1" | "yes" | "on" | "t" | "y") => Ok(Some(true)),
            Some("false" | "0" | "no" | "off" | "f" | "n") => Ok(Some(false)),
            Some(other) => Err(invalid(d, name, format!("{name}: '{other}' is not a boolean (true or false)"))),
        }
    }

    fn id(&self, d: Dialect, name: &str) -> ApiResult<Option<i64>> {
        self.one(name)
            .map(|v| v.parse::<i64>().map_err(|_| invalid(d, name, format!("{name}: '{v}' is not an id"))))
            .transpose()
    }

    fn text(&self, name: &str) -> Option<String> {
        self.one(name).map(str::to_owned)
    }

    /// Tags: the field repeated, or comma-separated (DefectDojo accepts both).
    fn tags(&self) -> Vec<String> {
        self.fields
            .get("tags")
            .map(|vs| vs.iter().flat_map(|v| v.split(',')).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect())
            .unwrap_or_default()
    }

    fn to_request(&self, d: Dialect, reimport: bool) -> ApiResult<(&'static scanners::ScanType, Target, ImportOptions)> {
        let scan_name = self.one("scan_type").ok_or_else(|| invalid(d, "scan_type", "scan_type is required"))?;
        let scan_type = scanners::find_scan_type(scan_name).ok_or_else(|| {
            invalid(d, "scan_type", format!("unknown scan_type '{scan_name}'; GET /api/v1/scan-types lists the supported ones"))
        })?;
        let target = Target {
            test: self.id(d, "test")?.map(TestId),
            engagement: self.id(d, "engagement")?.map(EngagementId),
            product: None,
            product_type_name: self.text("product_type_name"),
            product_name: self.text("product_name"),
            engagement_name: self.text("engagement_name"),
            test_title: self.text("test_title"),
        };
        let minimum_severity = match self.one("minimum_severity") {
            Some(s) => Severity::parse(s).map_err(|e| invalid(d, "minimum_severity", format!("minimum_severity: {e}")))?,
            None => Severity::Info,
        };
        let group_by = self
            .one("group_by")
            .map(|g| {
                GroupBy::parse_defectdojo(g).ok_or_else(|| {
                    invalid(d, "group_by", format!("group_by: unknown value '{g}'; use component_name, component_name+component_version, file_path, finding_title, vuln_id_from_tool or vulnerability_id"))
                })
            })
            .transpose()?;
        let deduplication_scope = match (self.one("deduplication_scope"), self.flag(d, "deduplication_on_engagement")?) {
            (Some(s), _) => DedupScope::parse(s)
                .ok_or_else(|| invalid(d, "deduplication_scope", format!("deduplication_scope: '{s}' is not test, engagement or product")))?,
            (None, Some(true)) => DedupScope::Engagement,
            (None, _) => DedupScope::Product,
        };
        let scan_date = self
            .one("scan_date")
            .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| invalid(d, "scan_date", format!("scan_date: '{s}' is not a date (YYYY-MM-DD)"))))
            .transpose()?;
        if let Some(date) = scan_date
            && date > store::now().date_naive()
        {
            return Err(invalid(d, "scan_date", "scan_date: the scan_date cannot be in the future"));
        }
        let opts = ImportOptions {
            reimport,
            auto_create_context: self.flag(d, "auto_create_context")?.unwrap_or(false),
            close_old_findings: self.flag(d, "close_old_findings")?,
            close_old_findings_product_scope: self.flag(d, "close_old_findings_product_scope")?.unwrap_or(false),
            minimum_severity,
            active: self.flag(d, "active")?,
            verified: self.flag(d, "verified")?,
            tags: self.tags(),
            apply_tags_to_findings: self.flag(d, "apply_tags_to_findings")?.unwrap_or(false),
            group_by,
            create_finding_groups_for_all_findings: self.flag(d, "create_finding_groups_for_all_findings")?.unwrap_or(true),
            deduplication_scope,
            service: self.text("service"),
            scan_date,
            do_not_reactivate: self.flag(d, "do_not_reactivate")?.unwrap_or(false),
            version: self.text("version"),
            build_id: self.text("build_id"),
            commit_hash: self.text("commit_hash"),
            branch_tag: self.text("branch_tag"),
            environment: self.text("environment"),
        };
        Ok((scan_type, target, opts))
    }
}

fn import_error(d: Dialect, e: ImportError) -> ApiError {
    match e {
        ImportError::Parse(p) => invalid(d, "file", p.to_string()),
        ImportError::NotFound { field, what } => {
            let e = ApiError::not_found(format!("{what} not found"));
            ApiError { field: Some(field.to_owned()), ..e }
        }
        ImportError::Forbidden(m) => ApiError::forbidden(m),
        ImportError::Invalid(v) => invalid(d, &v.field.clone(), v.to_string()),
        ImportError::Store(s) => s.into(),
        ImportError::Internal(m) => ApiError::internal(m),
    }
}

async fn run_import(s: &AppState, actor: &Actor, up: Upload, d: Dialect, reimport: bool) -> ApiResult<(ImportOutcome, Upload)> {
    let (scan_type, target, opts) = up.to_request(d, reimport)?;
    let Some((tmp, file_name)) = up.file.as_ref() else {
        return Err(invalid(d, "file", format!("file: uploading a report file is required for {}", scan_type.name)));
    };
    let file = tmp.reopen().map_err(ApiError::internal)?;
    let report = import::Report {
        size: file.metadata().ok().map(|m| m.len()),
        reader: Box::new(std::io::BufReader::with_capacity(256 * 1024, file)),
        file_name: file_name.clone(),
    };
    let outcome = import::run(&s.app, actor, scan_type, &target, &opts, report, &|_| {})
        .await
        .map_err(|e| import_error(d, e))?;
    Ok((outcome, up))
}

/// Runs an import uploaded through the UI's form: its first field is the session's CSRF token,
/// the rest are the API's fields (`POST /api/v1/imports`), validated the same way.
pub async fn import_from_form(s: &AppState, actor: &Actor, mp: Multipart, csrf: &str) -> ApiResult<ImportOutcome> {
    let up = read_upload_checked(mp, Dialect::Vulnbridge, Some(csrf)).await?;
    let reimport = up.flag(Dialect::Vulnbridge, "reimport")?.unwrap_or(false);
    Ok(run_import(s, actor, up, Dialect::Vulnbridge, reimport).await?.0)
}

/// DefectDojo's response body: the request echoed, the ids, and the statistics.
fn defectdojo_response(up: &Upload, o: &ImportOutcome) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    for (k, vs) in &up.fields {
        if k == "tags" {
            body.insert(k.clone(), serde_json::json!(up.tags()));
        } else if let Some(v) = vs.last() {
            body.insert(k.clone(), serde_json::json!(v));
        }
    }
    let test = o.import.test.0;
    body.insert("test".into(), test.into());
    body.insert("test_id".into(), test.into());
    body.insert("engagement_id".into(), o.import.engagement.0.into());
    body.insert("product_id".into(), o.import.product.0.into());
    body.insert("product_type_id".into(), serde_json::json!(o.product_type.map(|p| p.0)));
    let mut stats = serde_json::Map::new();
    if let Some(before) = &o.before {
        stats.insert("before".into(), serde_json::json!(before));
        // DefectDojo's four actions: its "created" includes new duplicates, its "untouched"
        // every matched finding.
        let add = |a: &str, b: &str| {
            let mut x = serde_json::to_value(o.delta.get(a).copied().unwrap_or_default()).unwrap_or_default();
            let y = serde_json::to_value(o.delta.get(b).copied().unwrap_or_default()).unwrap_or_default();
            sum_into(&mut x, &y);
            x
        };
        stats.insert(
            "delta".into(),
            serde_json::json!({
                "created": add("created", "duplicate"),
                "closed": o.delta.get("closed"),
                "reactivated": o.delta.get("reactivated"),
                "untouched": add("untouched", "updated"),
            }),
        );
    }
    stats.insert("after".into(), serde_json::json!(o.after));
    body.insert("statistics".into(), serde_json::Value::Object(stats));
    body.insert("deduplication_complete".into(), true.into());
    serde_json::Value::Object(body)
}

fn sum_into(a: &mut serde_json::Value, b: &serde_json::Value) {
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                sum_into(a.entry(k.clone()).or_insert(serde_json::json!(0)), v);
            }
        }
        (a @ serde_json::Value::Number(_), serde_json::Value::Number(b)) => {
            *a = serde_json::json!(a.as_i64().unwrap_or(0) + b.as_i64().unwrap_or(0));
        }
        _ => {}
    }
}

/// DefectDojo-compatible import: a new test in the engagement. Multipart form with
/// DefectDojo's fields (see `ImportForm`). Answers 201 with DefectDojo's response shape.
#[utoipa::path(post, path = "/api/v2/import-scan/", tag = "defectdojo compatibility",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "DefectDojo's response: the request fields, test, test_id, engagement_id, product_id, product_type_id, statistics", body = Object),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 413, body = Problem)),
    security(("token" = [])))]
async fn import_scan(State(s): State<AppState>, Auth(actor): Auth, mp: Multipart) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let up = read_upload(mp, Dialect::DefectDojo).await?;
    let (o, up) = run_import(&s, &actor, up, Dialect::DefectDojo, false).await?;
    Ok((StatusCode::CREATED, Json(defectdojo_response(&up, &o))))
}

/// DefectDojo-compatible reimport: into the test given by `test`, or found by engagement,
/// `scan_type` and `test_title` (created with `auto_create_context`). Closes findings no
/// longer reported unless `close_old_findings=false`.
#[utoipa::path(post, path = "/api/v2/reimport-scan/", tag = "defectdojo compatibility",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "DefectDojo's response, with statistics.before, .delta and .after", body = Object),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 413, body = Problem)),
    security(("token" = [])))]
async fn reimport_scan(State(s): State<AppState>, Auth(actor): Auth, mp: Multipart) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let up = read_upload(mp, Dialect::DefectDojo).await?;
    let (o, up) = run_import(&s, &actor, up, Dialect::DefectDojo, true).await?;
    Ok((StatusCode::CREATED, Json(defectdojo_response(&up, &o))))
}

/// Imports (or, with `reimport=true`, reimports) a report: the fields of `ImportForm`.
/// Answers with the import record and statistics.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn create_import(State(s): State<AppState>, Auth(actor): Auth, mp: Multipart) -> ApiResult<(StatusCode, Json<ImportOutcome>)> {
    let up = read_upload(mp, Dialect::Vulnbridge).await?;
    let reimport = up.flag(Dialect::Vulnbridge, "reimport")?.unwrap_or(false);
    let (o, _) = run_import(&s, &actor, up, Dialect::Vulnbridge, reimport).await?;
    Ok((StatusCode::CREATED, Json(o)))
}

page_type!(ImportPage, TestImport);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    product: Option<i64>,
    engagement: Option<i64>,
    test: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Import history, newest first.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(ListQuery),
    responses((status = 200, body = ImportPage), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn list_imports(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<ImportPage>> {
    let page = PageRequest::new(q.limit, q.offset);
    let filter = history::Filter {
        product: q.product.map(ProductId),
        engagement: q.engagement.map(EngagementId),
        test: q.test.map(TestId),
    };
    let mut c = s.app.db().conn().await?;
    let found = history::list(&mut c, &filter, &actor.visibility(), page).await?;
    Ok(Json(ImportPage::new(&uri, page, found)))
}

/// One import: options, counts, statistics, and the ids of the findings per outcome.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", params(("id" = i64, Path)),
    responses((status = 200, body = TestImport), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get_import(State(s): State<AppState>, Auth(actor): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<TestImport>> {
    let mut c = s.app.db().conn().await?;
    Ok(Json(visible_or_hidden(history::get(&mut c, id).await, |i| i.product, &actor, "import", id, None)?))
}
