//! The REST API's front door: which API a path is (`/api/now[/v1|/v2]/table/…`,
//! `/api/now/v1/batch`), who calls (401 otherwise), the rate limit rules, then the endpoint.
//! The Batch API serves its items through [`endpoint`], with the batch's caller and without
//! rate limits of their own.

use super::auth::{self, Caller};
use super::reply::{self, ApiRequest, ApiResponse};
use super::schema;
use super::write::Change;
use super::{Shared, batch, table};
use axum::http::Method;

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Table { table: String, v1: bool },
    Record { table: String, sys_id: String },
    Batch,
}

impl Endpoint {
    /// The REST API's name, as rate limit rules name it.
    pub fn api(&self) -> &'static str {
        match self {
            Endpoint::Batch => "Batch API",
            _ => "Table API",
        }
    }
}

/// Reads a path: `None` when no REST API serves it.
pub fn route(path: &str) -> Option<Endpoint> {
    let rest = path.strip_prefix("/api/now/")?;
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let (version, segments) = match segments.first() {
        Some(v) if matches!(*v, "v1" | "v2") => (Some(*v), &segments[1..]),
        _ => (None, &segments[..]),
    };
    match segments {
        ["table", t] if !t.is_empty() => Some(Endpoint::Table {
            table: (*t).to_owned(),
            v1: version == Some("v1"),
        }),
        ["table", t, id] if !t.is_empty() && !id.is_empty() => Some(Endpoint::Record {
            table: (*t).to_owned(),
            sys_id: (*id).to_owned(),
        }),
        ["batch"] if version.is_some() => Some(Endpoint::Batch),
        _ => None,
    }
}

/// Serves one request from outside: authentication, rate limits, the endpoint, then the
/// business rules' deliveries.
pub fn serve(sh: &Shared, req: &ApiRequest) -> ApiResponse {
    let Some(target) = route(&req.path) else {
        return reply::no_resource();
    };
    let caller = {
        let s = sh.lock();
        auth::authenticate(&s, &req.headers)
    };
    let Some(caller) = caller else {
        return reply::not_authenticated();
    };
    let verdict = sh
        .limits
        .request(&caller, target.api(), req.method.as_str());
    if let Some(v) = &verdict
        && !v.allowed
    {
        return v.refusal();
    }
    let (response, changes) = match target {
        Endpoint::Batch => batch::serve(sh, &caller, req),
        other => endpoint(sh, &caller, &other, req),
    };
    sh.deliver(&changes);
    match verdict {
        Some(v) => v.decorate(response),
        None => response,
    }
}

/// Serves a Table API request as `caller`.
pub fn endpoint(
    sh: &Shared,
    caller: &Caller,
    endpoint: &Endpoint,
    req: &ApiRequest,
) -> (ApiResponse, Vec<Change>) {
    let base = sh.base().to_owned();
    let name = match endpoint {
        Endpoint::Table { table, .. } | Endpoint::Record { table, .. } => table.as_str(),
        Endpoint::Batch => return (reply::no_resource(), Vec::new()),
    };
    let Some(t) = schema::table(name) else {
        return (reply::invalid_table(name), Vec::new());
    };
    let mut s = sh.lock();
    let (response, change) = match (endpoint, &req.method) {
        (Endpoint::Table { v1, .. }, &Method::GET) => {
            (table::list(&s, &base, caller, t, req, *v1), None)
        }
        (Endpoint::Table { .. }, &Method::POST) => table::insert(&mut s, &base, caller, t, req),
        (Endpoint::Record { sys_id, .. }, &Method::GET) => {
            (table::show(&s, &base, caller, t, sys_id, req), None)
        }
        (Endpoint::Record { sys_id, .. }, m) if m == Method::PATCH || m == Method::PUT => {
            table::update(&mut s, &base, caller, t, sys_id, req)
        }
        (Endpoint::Record { sys_id, .. }, &Method::DELETE) => {
            table::delete(&mut s, caller, t, sys_id)
        }
        _ => (reply::method_not_allowed(), None),
    };
    (response, change.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_like_the_instance_reads_them() {
        assert_eq!(
            route("/api/now/table/incident"),
            Some(Endpoint::Table {
                table: "incident".into(),
                v1: false
            })
        );
        assert_eq!(
            route("/api/now/v1/table/incident"),
            Some(Endpoint::Table {
                table: "incident".into(),
                v1: true
            })
        );
        assert_eq!(
            route("/api/now/v2/table/incident/abc"),
            Some(Endpoint::Record {
                table: "incident".into(),
                sys_id: "abc".into()
            })
        );
        assert_eq!(route("/api/now/v1/batch"), Some(Endpoint::Batch));
        assert_eq!(
            route("/api/now/batch"),
            None,
            "the Batch API has only versioned URLs"
        );
        assert_eq!(route("/api/now/v3/table/incident"), None);
        assert_eq!(route("/api/now/table"), None);
    }
}
